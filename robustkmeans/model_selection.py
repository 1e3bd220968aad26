"""Choosing the number of clusters, and cross-validation for clustering.

:func:`select_k` fits one clone of a clusterer per candidate ``n_clusters`` (in
parallel with joblib) and returns a :class:`SelectKResult` holding the objective
curve, internal validity indices and the best k per criterion.
:class:`WholeSetSplit` is the splitter to give ``GridSearchCV`` when tuning a
clusterer: clustering has no labels to hold out, so every candidate is fitted and
scored on the whole set.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import validate_parameter_constraints
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import has_fit_parameter

from ._utils import metric_name
from .metrics import (
    _SILHOUETTE_CONSTRAINTS,
    _as_features,
    _check_distance_matrix,
    _check_sample_size,
    _n_samples,
    _validity_index,
    loss_metric,
)

__all__ = ["SelectKResult", "WholeSetSplit", "elbow_index", "select_k"]


class WholeSetSplit:
    """Cross-validation "splitter" that yields the whole set once, as train and test.

    Clustering has no labels, so there is nothing to hold out: internal validity
    indices (silhouette, Calinski-Harabasz) judge a clustering of the data it was
    fitted on. Give this splitter to :class:`~sklearn.model_selection.GridSearchCV`
    to tune ``n_clusters``, ``loss``, ``delta``... with the clustering scorers of
    :mod:`robustkmeans.metrics`: each candidate is fitted once on all samples and
    scored on the same samples. (Scoring on held-out samples also works with the
    default k-fold splitters, since the scorers use ``predict``; it costs more
    fits and rarely changes the choice.) When the grid holds several losses,
    score the silhouette with one metric for all,
    ``make_silhouette_scorer(metric="euclidean")``: the default ``"auto"``
    measures the ``absolute`` loss with the Manhattan distance.

    See Also
    --------
    robustkmeans.metrics.silhouette_scorer : A scorer to use with this splitter.
    select_k : Search over ``n_clusters`` alone, with an elbow rule.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.model_selection import GridSearchCV
    >>> from robustkmeans.metrics import silhouette_scorer
    >>> from robustkmeans.model_selection import WholeSetSplit
    >>> X = np.r_[np.zeros((20, 2)), np.full((20, 2), 5.0), np.full((20, 2), 10.0)]
    >>> X += np.random.RandomState(0).normal(scale=0.3, size=X.shape)
    >>> search = GridSearchCV(
    ...     KMeans(n_init=1, random_state=0),
    ...     {"n_clusters": [2, 3, 4]},
    ...     scoring=silhouette_scorer,
    ...     cv=WholeSetSplit(),
    ... ).fit(X)
    >>> search.best_params_
    {'n_clusters': 3}
    >>> [(len(train), len(test)) for train, test in WholeSetSplit().split(X)]
    [(60, 60)]
    """

    def split(self, X, y=None, groups=None):
        """Yield the indices of all samples, as both train and test, once.

        Parameters
        ----------
        X : array-like or sequence of length n_samples
            The data (only its length is used).
        y : object, default=None
            Ignored.
        groups : object, default=None
            Ignored.

        Yields
        ------
        train : ndarray of shape (n_samples,)
            ``np.arange(n_samples)``.
        test : ndarray of shape (n_samples,)
            ``np.arange(n_samples)``.

        See Also
        --------
        get_n_splits : Always 1.

        Examples
        --------
        >>> from robustkmeans import WholeSetSplit
        >>> [(train.tolist(), test.tolist()) for train, test in WholeSetSplit().split([7, 8, 9])]
        [([0, 1, 2], [0, 1, 2])]
        """
        indices = np.arange(_n_samples(X))
        yield indices, indices.copy()

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits, 1.

        Parameters
        ----------
        X, y, groups : object, default=None
            Ignored.

        Returns
        -------
        n_splits : int
            Always 1.

        See Also
        --------
        split : Yields the single split.

        Examples
        --------
        >>> from robustkmeans import WholeSetSplit
        >>> WholeSetSplit().get_n_splits()
        1
        """
        return 1

    def __repr__(self):
        return "WholeSetSplit()"


def elbow_index(k_values, objective) -> int | None:
    """Index of the elbow of a decreasing objective curve (maximum distance to chord).

    Both axes are rescaled to [0, 1]; the elbow is the point farthest below the
    straight line (chord) joining the first and last points of the curve. This is
    the "kneedle" rule of Satopaa et al. (2011) without smoothing: for a convex
    decreasing curve it is the k after which adding clusters stops paying. The
    first and last k lie on the chord and are never the elbow: give a range that
    starts below the smallest k you expect (k = 1 for two clusters) and ends
    above the largest.

    Parameters
    ----------
    k_values : array-like of shape (n_points,)
        Strictly increasing candidate numbers of clusters.
    objective : array-like of shape (n_points,)
        Objective (e.g. ``inertia_``) at each k; lower is better.

    Returns
    -------
    index : int or None
        Position of the elbow in ``k_values``; ``None`` when there are fewer than
        three points, an objective is not finite (NaN for a clusterer without
        ``inertia_``), or no point lies below the chord (a straight or concave
        curve has no elbow).

    Raises
    ------
    ValueError
        When ``k_values`` and ``objective`` are not 1-D arrays of the same length,
        or ``k_values`` is not strictly increasing.

    See Also
    --------
    select_k : Reports ``k_values[index]`` as ``best_k["elbow"]``.

    Examples
    --------
    >>> from robustkmeans.model_selection import elbow_index
    >>> elbow_index([1, 2, 3, 4, 5, 6], [100.0, 40.0, 10.0, 8.0, 7.0, 6.5])
    2
    """
    k = np.asarray(k_values, dtype=float)
    y = np.asarray(objective, dtype=float)
    if k.ndim != 1 or y.ndim != 1:
        raise ValueError(f"k_values and objective must be 1-D, got shapes {k.shape} and {y.shape}.")
    if k.size != y.size:
        raise ValueError(
            f"k_values and objective must have the same length, got {k.size} and {y.size}."
        )
    if np.any(np.diff(k) <= 0):
        raise ValueError(
            f"k_values must be strictly increasing, got {k_values!r}; sort the "
            "points by k and drop repeated k first."
        )
    if k.size < 3 or not np.all(np.isfinite(y)):
        return None
    x = (k - k[0]) / (k[-1] - k[0])
    span = y.max() - y.min()
    if span <= 0:
        return None
    y = (y - y.min()) / span
    chord = y[0] + (y[-1] - y[0]) * x
    # Vertical distance is proportional to perpendicular distance for a fixed chord.
    below = chord - y
    index = int(np.argmax(below))
    return index if below[index] > 1e-12 else None


@dataclass
class SelectKResult:
    """Outcome of :func:`select_k`: curves and the best k per criterion.

    Parameters
    ----------
    k_values : ndarray of shape (n_k,)
        Candidate numbers of clusters, increasing.
    objective : ndarray of shape (n_k,)
        Objective of each fit (``inertia_``: total cost under the loss); lower is
        better. NaN for a clusterer without ``inertia_`` (e.g. GaussianMixture,
        AgglomerativeClustering).
    silhouette : ndarray of shape (n_k,)
        Mean silhouette (NaN where undefined: one cluster, or n clusters, in
        all samples or in the random subsample of ``sample_size``).
    calinski_harabasz : ndarray of shape (n_k,)
        Calinski-Harabasz index (NaN where undefined); greater is better.
    davies_bouldin : ndarray of shape (n_k,)
        Davies-Bouldin index (NaN where undefined); lower is better.
    best_k : dict
        ``{"elbow", "silhouette", "calinski_harabasz", "davies_bouldin"}`` mapped
        to the chosen k, or ``None`` when the criterion chooses nothing.
    metric : str or callable
        Distance used for the silhouette.
    estimators : list of estimators or None
        The fitted clone for each k (Pipelines share one fitted preprocessing),
        or ``None`` with ``return_estimators=False``.
    params : dict
        Parameters fixed for every k by :func:`select_k`: the ``"auto"`` scales
        (``delta``, ``sigma``, ``epsilon``) of the clusterer, resolved once, so
        that every objective is of the same loss. Empty when there were none.
    sample_size : int or None, default=None
        Size of the random subsample the silhouettes were computed on; None when
        they are of every sample (also for a ``sample_size`` of n_samples or
        more given to :func:`select_k`).
    n_samples : int or None, default=None
        Number of samples searched (None when unknown).

    See Also
    --------
    select_k : Builds this result.
    robustkmeans.plotting.KSelectionDisplay : Plots it.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans.model_selection import SelectKResult
    >>> result = SelectKResult(
    ...     k_values=np.array([2, 3]), objective=np.array([4.0, 1.0]),
    ...     silhouette=np.array([0.5, 0.7]), calinski_harabasz=np.array([9.0, 12.0]),
    ...     davies_bouldin=np.array([0.6, 0.4]),
    ...     best_k={"elbow": None, "silhouette": 3, "calinski_harabasz": 3,
    ...             "davies_bouldin": 3},
    ...     metric="euclidean")
    >>> result.best_k["silhouette"]
    3
    """

    k_values: np.ndarray
    objective: np.ndarray
    silhouette: np.ndarray
    calinski_harabasz: np.ndarray
    davies_bouldin: np.ndarray
    best_k: dict
    metric: str | Callable
    estimators: list | None = field(default=None, repr=False)
    params: dict = field(default_factory=dict)
    sample_size: int | None = None
    n_samples: int | None = None

    @property
    def elbow_k(self) -> int | None:
        """The k at the elbow of the objective curve, or None (same as ``best_k["elbow"]``).

        See Also
        --------
        elbow_index : The rule.
        """
        return self.best_k["elbow"]

    def to_dict(self) -> dict:
        """Return the curves as a dict of lists (JSON-serialisable).

        Returns
        -------
        result : dict
            Keys ``k``, ``objective``, ``silhouette``, ``calinski_harabasz``,
            ``davies_bouldin`` (lists, NaN as None), ``best_k``, ``metric`` (a
            callable by its name), ``params``, ``sample_size`` (None when the
            silhouettes are of every sample) and ``n_samples``.

        See Also
        --------
        select_k : Builds the result.

        Examples
        --------
        >>> from sklearn.cluster import KMeans
        >>> from sklearn.datasets import make_blobs
        >>> from robustkmeans import select_k
        >>> X, _ = make_blobs(n_samples=40, centers=2, random_state=0)
        >>> select_k(KMeans(n_init=1), X, [1, 2], random_state=0).to_dict()["silhouette"][0] is None
        True
        """

        def as_list(values):
            return [None if not np.isfinite(v) else float(v) for v in values]

        return {
            "k": [int(k) for k in self.k_values],
            "objective": as_list(self.objective),
            "silhouette": as_list(self.silhouette),
            "calinski_harabasz": as_list(self.calinski_harabasz),
            "davies_bouldin": as_list(self.davies_bouldin),
            "best_k": dict(self.best_k),
            "metric": metric_name(self.metric),  # (a callable by its name, as plots title it)
            "params": {k: float(v) for k, v in self.params.items()},
            "sample_size": None if self.sample_size is None else int(self.sample_size),
            "n_samples": None if self.n_samples is None else int(self.n_samples),
        }


#: scale parameters that LossKMeans estimates from the data with "auto"
_AUTO_SCALES = ("delta", "sigma", "epsilon")


def _fixed_scales(clusterer, features, k, n_clusters_param, sample_weight):
    """The clusterer's ``"auto"`` scales resolved once, by a fit at ``k`` (one
    initialisation, one iteration: the scales come from the pilot fit that precedes
    it), as numbers; ``{}`` when it has none. Resolved per k, the scales would
    shrink as k grows, and the objectives of different k would be of different
    losses: the elbow would compare numbers that cannot be compared."""
    params = clusterer.get_params(deep=False)
    auto = [p for p in _AUTO_SCALES if isinstance(params.get(p), str) and params[p] == "auto"]
    if not auto:
        return {}
    probe = {n_clusters_param: int(k)}
    probe.update({p: 1 for p in ("max_iter", "n_init") if p in params})
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    fitted = clone(clusterer).set_params(**probe).fit(features, **fit_params)
    # (an "auto" its loss ignores is not estimated, NaN: left as it is)
    resolved = {p: float(getattr(fitted, f"{p}_")) for p in auto}
    return {p: v for p, v in resolved.items() if not math.isnan(v)}


def _fit_takes_sample_weight(clusterer):
    """Whether ``clusterer.fit`` accepts ``sample_weight``: by name, or through
    ``**kwargs`` (a wrapper passing it on)."""
    if has_fit_parameter(clusterer, "sample_weight"):
        return True
    try:
        parameters = inspect.signature(clusterer.fit).parameters.values()
    except (TypeError, ValueError):  # no signature to read: let fit decide
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _check_clusterer(clusterer, n_clusters_param, sample_weight):
    """Raise a ValueError, before any fit, when ``select_k`` cannot work with ``clusterer``."""
    name = type(clusterer).__name__
    if not (hasattr(clusterer, "fit") and hasattr(clusterer, "get_params")):
        raise ValueError(
            f"select_k needs a scikit-learn clusterer (with get_params, set_params and fit), "
            f"got {name}."
        )
    params = clusterer.get_params(deep=False)
    if n_clusters_param not in params:
        hint = (
            f" ({name} has 'n_components': pass n_clusters_param='n_components')"
            if "n_components" in params
            else ""
        )
        raise ValueError(
            f"{name} has no parameter {n_clusters_param!r}. select_k needs a clusterer "
            "whose number of clusters is a parameter, and sets it through the one named by "
            f"n_clusters_param: pass that name{hint}. {name}'s parameters are "
            f"{sorted(params)}."
        )
    if sample_weight is not None and not _fit_takes_sample_weight(clusterer):
        raise ValueError(
            f"sample_weight was given but {name}.fit takes no sample_weight; "
            "leave it out or use a clusterer that accepts it (e.g. LossKMeans, KMeans)."
        )


#: constraints of the arguments select_k checks with scikit-learn's own validation
#: (and wording); k_range and sample_size have their own checks. The metric is any
#: of silhouette_score's, or "auto".
_SELECT_K_CONSTRAINTS = {
    "sample_weight": ["array-like", None],
    "n_jobs": [numbers.Integral, None],
    **_SILHOUETTE_CONSTRAINTS,
    "n_clusters_param": [str],
    "return_estimators": ["boolean"],
    "progress": ["boolean"],
}


def _check_sample_weight_length(sample_weight, n_samples):
    """Raise a ValueError, before any fit, when ``sample_weight`` is not one weight per sample."""
    if sample_weight is None:
        return
    shape = np.shape(sample_weight)
    if len(shape) != 1 or shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {shape[0] if len(shape) == 1 else shape} values but X has "
            f"{n_samples} samples; give one weight per sample, as a 1-D array."
        )


def _labels(clusterer, features, fit_params):
    """Cluster labels of the fitted ``clusterer`` on ``features``: ``labels_``, else
    ``predict(features)`` (e.g. GaussianMixture), else ``fit_predict`` (which refits)."""
    labels = getattr(clusterer, "labels_", None)
    if labels is None and hasattr(clusterer, "predict"):
        labels = clusterer.predict(features)
    if labels is None and hasattr(clusterer, "fit_predict"):
        labels = clusterer.fit_predict(features, **fit_params)
    if labels is None:
        raise ValueError(
            f"{type(clusterer).__name__} gives no cluster labels: select_k needs a "
            "clusterer that sets labels_ in fit, or has predict or fit_predict."
        )
    return np.asarray(labels)


def _fit_one(clusterer, features, k, n_clusters_param, sample_weight, metric, sample_size, seed):
    # a plain int: an np.int64 would show in the estimator's repr and break
    # json.dumps(get_params())
    clusterer = clone(clusterer).set_params(**{n_clusters_param: int(k)})
    fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
    clusterer.fit(features, **fit_params)
    labels = _labels(clusterer, features, fit_params)
    # The objective is inertia_, a total cost to be minimised (the k-means family:
    # LossKMeans, KMeans, MiniBatchKMeans, BisectingKMeans). Other clusterers get
    # NaN, hence no elbow: their score, when they have one, is no such cost (for
    # GaussianMixture, the mean log-likelihood per sample).
    inertia = getattr(clusterer, "inertia_", None)
    objective = np.nan if inertia is None else float(inertia)
    # NaN where an index is undefined: one cluster, n clusters, or (silhouette) a
    # random subsample of sample_size samples that holds a single cluster.
    silhouette = _validity_index(
        silhouette_score,
        features,
        labels,
        metric=metric,
        sample_size=sample_size,
        random_state=seed,
    )
    if isinstance(metric, str) and metric == "precomputed":
        # (distances, not features: see select_k)
        return clusterer, objective, silhouette, np.nan, np.nan
    return (
        clusterer,
        objective,
        silhouette,
        _validity_index(calinski_harabasz_score, features, labels),
        _validity_index(davies_bouldin_score, features, labels),
    )


def _argbest(k_values, values, greater=True):
    values = np.asarray(values, dtype=float)
    if not np.any(np.isfinite(values)):
        return None
    filled = np.where(np.isfinite(values), values, -np.inf if greater else np.inf)
    return int(k_values[np.argmax(filled) if greater else np.argmin(filled)])


def select_k(
    estimator,
    X,
    k_range,
    *,
    sample_weight=None,
    n_jobs: int | None = None,
    sample_size: int | None = None,
    metric: str | Callable = "auto",
    random_state=None,
    n_clusters_param: str = "n_clusters",
    return_estimators: bool = True,
    progress: bool = False,
) -> SelectKResult:
    """Fit a clusterer for each number of clusters and compare the fits.

    One clone of ``estimator`` is fitted per k, in parallel with joblib. For each
    fit the objective (``inertia_``), the mean silhouette, the Calinski-Harabasz
    index and the Davies-Bouldin index are computed on the features the
    clusterer sees. The best k is then reported per criterion:

    * ``"elbow"``: the elbow of the objective curve by the maximum distance to
      the chord (see :func:`elbow_index`); needs at least three k values, and an
      objective at every k; never the first or last k of the range (they end
      the chord), so start the range at 1 where two clusters are possible;
    * ``"silhouette"`` and ``"calinski_harabasz"``: the k of the largest value;
    * ``"davies_bouldin"``: the k of the smallest value.

    Any scikit-learn clusterer with a parameter for the number of clusters
    works (``n_clusters_param``). Its labels are its ``labels_`` after ``fit``,
    else ``predict`` on the features (e.g.
    :class:`~sklearn.mixture.GaussianMixture`), else ``fit_predict``. The
    objective is its ``inertia_``, the total cost that the k-means family
    (:class:`~robustkmeans.LossKMeans`, :class:`~sklearn.cluster.KMeans`,
    :class:`~sklearn.cluster.MiniBatchKMeans`,
    :class:`~sklearn.cluster.BisectingKMeans`) minimises. A clusterer without
    ``inertia_`` (GaussianMixture, AgglomerativeClustering...) gets a NaN
    objective, hence no elbow (``best_k["elbow"]`` is ``None``); the three
    indices are computed as for any clusterer. Its ``score``, if any, is not
    used: it is no total cost (GaussianMixture's is the mean log-likelihood per
    sample, greater is better), and an elbow found on it would not mean what
    the elbow of ``inertia_`` means. For a GaussianMixture, compare
    ``est.bic(features)`` over ``result.estimators`` instead.

    A clusterer's ``"auto"`` scales (``delta``, ``sigma``, ``epsilon`` of
    :class:`~robustkmeans.LossKMeans`) are resolved once, at the middle k of
    ``k_range``, and used for every k (``result.params``): estimated per k they
    would shrink as k grows, and the objectives, the elbow's curve, would be of
    different losses.

    Parameters
    ----------
    estimator : estimator or Pipeline
        Unfitted clusterer (e.g. :class:`~robustkmeans.LossKMeans`), or a
        Pipeline ending in one. The steps before the last are fitted once and
        their output is shared by all k, so image features are computed once.
    X : array-like or sequence
        Input of ``estimator`` (a feature matrix, or e.g. image paths for a
        Pipeline starting with :class:`~robustkmeans.VGG16Featurizer`).
    k_range : iterable of int
        Candidate numbers of clusters, e.g. ``range(2, 11)``; each must be at
        least 1 and at most the number of samples.
    sample_weight : array-like of shape (n_samples,), default=None
        Passed to the clusterer's ``fit`` (and to the fit that resolves
        ``"auto"`` scales), so the objective is the weighted total cost. The
        silhouette, Calinski-Harabasz and Davies-Bouldin indices take no
        weights (scikit-learn's do not): each sample counts once in them, one of
        weight 0 too.
    n_jobs : int, default=None
        Number of k fitted at the same time (joblib; ``-1`` uses all cores).
    sample_size : int >= 3, default=None
        Compute the silhouette on a random subsample of this size (it costs
        O(n^2) otherwise); ``None`` uses all samples. A subsample that holds a
        single cluster (a small cluster can be missed) gives a NaN silhouette
        for that k, as a one-cluster fit does.
    metric : str or callable, default="auto"
        Distance for the silhouette, any metric of
        :func:`sklearn.metrics.silhouette_score`; ``"auto"`` matches the loss
        (Manhattan for ``"absolute"``, Euclidean otherwise, see
        :func:`~robustkmeans.metrics.loss_metric`). ``"precomputed"``: ``X`` (or
        the Pipeline's features) is a square matrix of distances, for a
        clusterer that takes one (``AgglomerativeClustering(metric=
        "precomputed")``); the Calinski-Harabasz and Davies-Bouldin indices,
        which need features, are then NaN, with a warning.
    random_state : int, RandomState instance or None, default=None
        Seeds the silhouette subsample, and is set as the clusterer's
        ``random_state`` when that parameter exists and is ``None``, and as that
        of each step before it in a Pipeline (a random projection, say) whose
        ``random_state`` is ``None``, so the whole search is reproducible.
    n_clusters_param : str, default="n_clusters"
        Name of the clusterer's parameter for the number of clusters, e.g.
        ``"n_components"`` for GaussianMixture. It is set to a plain ``int``.
    return_estimators : bool, default=True
        Keep the fitted estimator for each k in the result.
    progress : bool, default=False
        Show a progress bar over k (needs ``tqdm``: ``pip install
        robustkmeans[progress]``).

    Returns
    -------
    result : SelectKResult
        Curves per k, the best k per criterion, the silhouette's subsample
        (``sample_size``, ``n_samples``) and optionally the fitted estimators.

    Raises
    ------
    TypeError
        Before any fit, when ``k_range`` is not an iterable (None, a string).
    ValueError
        Before any fit, when an argument is invalid: an unknown ``metric``, a
        non-integer ``n_jobs``, ``random_state`` or flag of the wrong type
        (scikit-learn's ``InvalidParameterError``, naming the valid values),
        ``sample_weight`` not of length n_samples, ``sample_size`` not None or an
        integer >= 3, ``n_jobs`` 0, ``k_range`` empty, holding anything but whole numbers
        (strings, None) or outside [1, n_samples],
        a clusterer with no parameter ``n_clusters_param``, or
        ``sample_weight`` given to a clusterer whose ``fit`` takes none;
        after a fit, when the clusterer gives no labels (no ``labels_``,
        ``predict`` or ``fit_predict``).
    ImportError
        With ``progress=True`` where tqdm is not installed.

    See Also
    --------
    WholeSetSplit : Tune more than k with GridSearchCV.
    robustkmeans.plotting.KSelectionDisplay : Plot the result.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from sklearn.datasets import make_blobs
    >>> from robustkmeans.model_selection import select_k
    >>> X, _ = make_blobs(n_samples=150, centers=3, cluster_std=0.5, random_state=0)
    >>> result = select_k(KMeans(n_init=3), X, range(1, 8), random_state=0)
    >>> result.best_k["elbow"], result.best_k["silhouette"]
    (3, 3)

    A Gaussian mixture has no ``inertia_``, so no objective and no elbow:

    >>> from sklearn.mixture import GaussianMixture
    >>> result = select_k(GaussianMixture(), X, range(2, 6), random_state=0,
    ...                   n_clusters_param="n_components")
    >>> result.best_k["elbow"], result.best_k["silhouette"]
    (None, 3)
    """
    validate_parameter_constraints(
        _SELECT_K_CONSTRAINTS,
        {
            "sample_weight": sample_weight,
            "n_jobs": n_jobs,
            "metric": metric,
            "random_state": random_state,
            "n_clusters_param": n_clusters_param,
            "return_estimators": return_estimators,
            "progress": progress,
        },
        caller_name="select_k",
    )
    if n_jobs == 0:
        # (joblib's own error came after the preprocessing and the pilot fit)
        raise ValueError(
            "select_k: n_jobs=0 runs no worker; pass None or 1 (one k at a time), a "
            "positive number of workers, or -1 for all cores."
        )
    if isinstance(k_range, str) or not np.iterable(k_range):
        raise TypeError(
            f"k_range must be an iterable of integers such as range(2, 11), got {k_range!r}."
        )
    k_range = list(k_range)
    bad = [
        k
        for k in k_range
        if isinstance(k, bool) or not isinstance(k, numbers.Real) or not float(k).is_integer()
    ]
    if bad:
        raise ValueError(f"k_range must hold whole numbers of clusters, got {bad}.")
    k_values = np.array(sorted({int(k) for k in k_range}), dtype=int)
    if k_values.size == 0:
        raise ValueError("k_range is empty; give at least one number of clusters.")
    n_samples = _n_samples(X)
    if k_values[0] < 1:
        raise ValueError(
            f"k_range must lie within [1, n_samples={n_samples}], got "
            f"{k_values[0]}..{k_values[-1]}; every number of clusters must be at least 1."
        )
    if k_values[-1] > n_samples:
        raise ValueError(
            f"k_range must lie within [1, n_samples={n_samples}], got "
            f"{k_values[0]}..{k_values[-1]}; lower the largest k or add samples."
        )
    _check_sample_size(sample_size)
    _check_sample_weight_length(sample_weight, n_samples)
    if progress:
        try:
            from tqdm.auto import tqdm
        except ImportError as exc:
            raise ImportError(
                "progress=True needs tqdm: pip install 'robustkmeans[progress]'."
            ) from exc

    rng = check_random_state(random_state)
    if isinstance(estimator, Pipeline):
        prefix = clone(estimator)[:-1] if len(estimator) > 1 else None
        name, clusterer = estimator.steps[-1]
    else:
        prefix, name, clusterer = None, None, estimator
    _check_clusterer(clusterer, n_clusters_param, sample_weight)  # before any features
    if prefix is not None and random_state is not None:
        # the steps before the clusterer are seeded too (each random_state left at
        # None, in the order of their names): a random projection in front of the
        # clusterer drew other features at each call, and the objective curves of
        # two calls with random_state=0 differed (a user's review)
        unset = sorted(
            key
            for key, value in prefix.get_params(deep=True).items()
            if (key == "random_state" or key.endswith("__random_state")) and value is None
        )
        prefix.set_params(**{key: rng.randint(np.iinfo(np.int32).max) for key in unset})
    features = prefix.fit_transform(X) if prefix is not None else X
    features = _as_features(features)
    if isinstance(metric, str) and metric == "precomputed":
        # the "features" are distances: a square matrix, before any fit (scikit-
        # learn's diagonal error came after fitting every k); the Calinski-Harabasz
        # and Davies-Bouldin indices need features, and took the rows of the
        # distances for them, silently (a user review): NaN, and said so
        _check_distance_matrix(features, "select_k: ")
        warnings.warn(
            "select_k: with metric='precomputed' X holds distances, not features: the "
            "Calinski-Harabasz and Davies-Bouldin indices, which need features, are NaN "
            "(the silhouette and the objective are computed).",
            UserWarning,
            stacklevel=2,
        )
    if random_state is not None and clusterer.get_params().get("random_state", 0) is None:
        clusterer = clone(clusterer).set_params(random_state=rng.randint(np.iinfo(np.int32).max))
    if metric == "auto":
        metric = loss_metric(clusterer)
    seed = rng.randint(np.iinfo(np.int32).max)
    params = _fixed_scales(
        clusterer, features, k_values[k_values.size // 2], n_clusters_param, sample_weight
    )
    if params:
        clusterer = clone(clusterer).set_params(**params)

    tasks = (
        delayed(_fit_one)(
            clusterer, features, k, n_clusters_param, sample_weight, metric, sample_size, seed
        )
        for k in k_values
    )
    outputs = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    if progress:
        outputs = tqdm(outputs, total=k_values.size, desc="select k", unit="k")
    outputs = list(outputs)

    fitted = [out[0] for out in outputs]
    objective, silhouette, calinski_harabasz, davies_bouldin = (
        np.array([out[i] for out in outputs], dtype=float) for i in range(1, 5)
    )
    elbow = elbow_index(k_values, objective)
    best_k = {
        "elbow": None if elbow is None else int(k_values[elbow]),
        "silhouette": _argbest(k_values, silhouette),
        "calinski_harabasz": _argbest(k_values, calinski_harabasz),
        "davies_bouldin": _argbest(k_values, davies_bouldin, greater=False),
    }
    estimators = None
    if return_estimators:
        if name is None:
            estimators = fitted
        else:
            steps = prefix.steps if prefix is not None else []
            estimators = [Pipeline([*steps, (name, est)]) for est in fitted]
    return SelectKResult(
        k_values=k_values,
        objective=objective,
        silhouette=silhouette,
        calinski_harabasz=calinski_harabasz,
        davies_bouldin=davies_bouldin,
        best_k=best_k,
        metric=metric,
        estimators=estimators,
        params=params,
        # (a subsample of n_samples or more is every sample, and said to be none)
        sample_size=int(sample_size)
        if sample_size is not None and sample_size < n_samples
        else None,
        n_samples=int(n_samples),
    )
