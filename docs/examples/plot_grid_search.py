"""
================================================================
Tuning the loss and k with GridSearchCV and unsupervised scorers
================================================================

Clustering has no labels to score against, but its hyper-parameters can still
be searched the scikit-learn way: a :class:`~sklearn.pipeline.Pipeline`, a
parameter grid, and *internal* validity indices as scorers. This example
searches ``n_clusters``, the loss and its scale together, with

* the scorers of :mod:`robustkmeans.metrics` (silhouette and
  Calinski-Harabasz; greater is better; computed on the features that reach the
  clusterer, i.e. after the scaler; a degenerate candidate gets the worst score
  instead of an error);
* :class:`~robustkmeans.WholeSetSplit`, a "cross-validation" that fits and scores
  each candidate once on the whole set, since there is nothing to hold out.

The data has labels, which the search does not see; we use them at the end to
check the choice with :func:`~robustkmeans.evaluate_labels`.
"""

# %%
# Heavy-tailed clusters in 6 dimensions
# -------------------------------------
# Four clusters whose noise follows a Student t distribution with 2 degrees of
# freedom (infinite variance: many moderate outliers), on features of very
# different scales.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import RobustScaler

from robustkmeans import LossKMeans, WholeSetSplit, evaluate_labels
from robustkmeans.metrics import calinski_harabasz_scorer, silhouette_scorer

rng = np.random.default_rng(0)
n_per_cluster, n_features = 150, 6
means = rng.normal(scale=6.0, size=(4, n_features))
y = np.repeat(np.arange(4), n_per_cluster)
X = means[y] + rng.standard_t(df=2, size=(len(y), n_features))
X *= np.array([1, 10, 100, 1, 0.1, 5])  # features in unrelated units

# %%
# The pipeline and the grid
# -------------------------
# ``delta``, ``sigma`` and ``epsilon`` are flat parameters, and a loss ignores the
# ones it does not use, so one list of grids covers every loss. The scales are
# in units of the scaled features (a :class:`~sklearn.preprocessing.RobustScaler`
# divides each feature by its interquartile range).
pipe = Pipeline(
    [
        ("scale", RobustScaler()),
        ("cluster", LossKMeans(n_init=3, random_state=0)),
    ]
)
grid = [
    {"cluster__loss": ["square", "absolute"], "cluster__n_clusters": [2, 3, 4, 5, 6]},
    {
        "cluster__loss": ["huber"],
        "cluster__delta": [0.1, 0.3, "auto"],
        "cluster__n_clusters": [2, 3, 4, 5, 6],
    },
    {
        "cluster__loss": ["correntropy"],
        "cluster__sigma": [0.5, 1.0, "auto"],
        "cluster__n_clusters": [2, 3, 4, 5, 6],
    },
]
search = GridSearchCV(
    pipe,
    grid,
    scoring={"silhouette": silhouette_scorer, "calinski_harabasz": calinski_harabasz_scorer},
    refit="silhouette",
    cv=WholeSetSplit(),
)
search.fit(X)
print("best parameters (silhouette):", search.best_params_)
print(f"best silhouette: {search.best_score_:.3f}")

# %%
# The scores of every candidate
# -----------------------------
# ``cv_results_`` holds both scores for every candidate. The silhouette is
# computed with the metric matching the loss (Manhattan for ``absolute``,
# Euclidean otherwise), so the losses are compared each in its own geometry.
results = search.cv_results_
rows = sorted(
    zip(
        results["rank_test_silhouette"],
        results["params"],
        results["mean_test_silhouette"],
        results["mean_test_calinski_harabasz"],
        strict=True,
    ),
    key=lambda row: row[0],
)
for rank, params, sil, ch in rows[:8]:
    short = {key.split("__")[1]: value for key, value in params.items()}
    print(f"{rank:2d}  silhouette={sil:.3f}  CH={ch:8.1f}  {short}")

# %%
# Silhouette against k for each loss (best scale per loss):
fig, ax = plt.subplots(figsize=(6.4, 4))
for loss in ["square", "absolute", "huber", "correntropy"]:
    best = {}
    for params, score in zip(results["params"], results["mean_test_silhouette"], strict=True):
        if params["cluster__loss"] == loss:
            k = params["cluster__n_clusters"]
            best[k] = max(best.get(k, -1.0), score)
    ks = sorted(best)
    ax.plot(ks, [best[k] for k in ks], "o-", label=loss)
ax.set(xlabel="n_clusters", ylabel="mean silhouette", title="Grid search scores")
ax.set_xticks(ks)
ax.legend()
plt.show()

# %%
# Checking the choice against the hidden labels
# ---------------------------------------------
# The refitted best pipeline is ``search.best_estimator_``. With labels, the
# indices of :ref:`evaluation` say how well the search did without them.
labels = search.best_estimator_.predict(X)
for name, value in evaluate_labels(y, labels).items():
    print(f"{name:24s} {value:.3f}")

# %%
# Notes
# -----
# * Internal indices favour what they measure: the silhouette prefers well
#   separated clusters, Calinski-Harabasz compact ones (see :ref:`choosing_k`).
#   ``refit`` picks which one decides.
# * A silhouette under the Manhattan metric (``absolute``) and one under the
#   Euclidean metric are not on exactly the same scale; to rank losses on one
#   common footing, use ``make_silhouette_scorer(metric="euclidean")``, or check
#   the winner with a few labelled samples as above.
# * Each candidate is fitted once with :class:`~robustkmeans.WholeSetSplit`. With
#   a k-fold splitter the scorers score held-out samples through ``predict``,
#   which also works but costs k times more.
# * With an image pipeline (:class:`~robustkmeans.VGG16Featurizer` first), give
#   the featurizer a ``cache`` so that the network runs once per image for the
#   whole search (see :ref:`image_features`).
