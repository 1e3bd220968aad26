"""
===============================================
Choosing k: the elbow and the silhouette plots
===============================================

Five Gaussian blobs, four of which come in two close pairs. Is that 3
clusters or 5? Both answers are defensible, and the usual criteria do not
agree. :func:`~robustkmeans.select_k` fits one
:class:`~robustkmeans.LossKMeans` per candidate k and reports the objective
curve with its elbow, the mean silhouette, the Calinski-Harabasz and the
Davies-Bouldin index; the displays of :mod:`robustkmeans.plotting` draw them.
See :ref:`choosing_k` for the definitions.
"""

# %%
# Data with two scales of structure
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs

from robustkmeans import LossKMeans, select_k
from robustkmeans.plotting import KSelectionDisplay, SilhouetteDisplay

centers = np.array([[-8.0, 0.0], [-4.0, 0.0], [4.0, 0.0], [8.0, 0.0], [0.0, 9.0]])
X, y = make_blobs(n_samples=600, centers=centers, cluster_std=1.0, random_state=0)

# %%
# One fit per k
# -------------
# ``select_k`` clones the estimator for each k (in parallel with ``n_jobs``) and
# scores each fit on the data it was fitted on.
result = select_k(LossKMeans(loss="huber", delta="auto", n_init=3), X, range(1, 10), random_state=0)
print("best k per criterion:", result.best_k)
for k, obj, sil, ch in zip(
    result.k_values, result.objective, result.silhouette, result.calinski_harabasz, strict=True
):
    print(f"k={k}  objective={obj:8.1f}  silhouette={sil:6.3f}  calinski_harabasz={ch:7.1f}")

# %%
# The elbow and the silhouette curve
# ----------------------------------
# The objective always decreases with k; its *elbow* (the point farthest below
# the chord joining the ends of the curve) marks where more clusters stop
# paying. The mean silhouette peaks at the k whose clusters are best separated
# relative to their width.
KSelectionDisplay.from_result(result)
plt.show()

# %%
# Elbow, silhouette and Davies-Bouldin choose 3: the two close pairs are each
# merged, which gives wide gaps between clusters. Calinski-Harabasz, which
# rewards between-cluster dispersion relative to within-cluster dispersion and
# grows with compact clusters, chooses the 5 blobs that generated the data.
# Neither is wrong: they answer different questions (coarsest well separated
# partition versus most compact one).

# %%
# Silhouette plots for k = 3 and k = 5
# ------------------------------------
# The silhouette plot shows, for every sample, how much closer it is to its own
# cluster than to the next one (1: well inside; 0: on a border; negative:
# probably in the wrong cluster). With k = 5 the members of each close pair sit
# near the border with their twin, which lowers the mean; no sample has a
# negative silhouette (though a few sit in their twin's cluster).
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
for ax, k in zip(axes[:2], [3, 5], strict=True):
    estimator = result.estimators[list(result.k_values).index(k)]
    SilhouetteDisplay.from_estimator(estimator, X, ax=ax)
    ax.set_title(f"k = {k}")
labels5 = result.estimators[list(result.k_values).index(5)].labels_
axes[2].scatter(X[:, 0], X[:, 1], c=labels5, s=8, cmap="tab10", vmin=0, vmax=9)
axes[2].set_title("clusters for k = 5")
fig.tight_layout()
plt.show()

# %%
# In practice, look at several criteria and at the clusters themselves; where
# they disagree, the data usually has structure at more than one scale, and the
# right k depends on what the clusters are for.
