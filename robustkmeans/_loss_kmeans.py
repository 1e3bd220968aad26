"""LossKMeans: k-means whose cost of a sample to its center is a robust loss."""

from __future__ import annotations

import copy
import math
import os
import sys
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    _is_arraylike_not_scalar,
    check_is_fitted,
    validate_data,
)

from . import _kernels
from ._initialization import kmeans_plusplus, random_init
from ._losses import LOSS_NAMES, LOSSES, SquareLoss, get_loss, weighted_median
from ._utils import outside_stacklevel

_ALGORITHM_LOSSES = {
    "lloyd": set(LOSS_NAMES),
    "hartigan": set(LOSS_NAMES),
    "macqueen": {"square"},
}
_SPARSE_LOSSES = ("square", "correntropy", "epsilon_insensitive")
#: transfers verified per round of the robust losses' Hartigan search (best first)
_HARTIGAN_TRIES = 32
#: samples between two center updates of MacQueen's online algorithm
_MACQUEEN_BATCH = 64
#: a cluster's sums kept up to date by the samples that move are recomputed from its
#: members once the weight moved in or out since exceeds this many times its weight,
#: which bounds their rounding (see _Churn). Not 1: a recompute gathers the cluster's
#: rows, and early passes over overlapping clusters move more than each cluster's
#: weight (1.1-1.9 times at the second pass of the benchmark's 100,000 x 512 float32,
#: k=8: all the data gathered again, 10% of a 15-iteration fit; at 4, a cluster of 14%
#: of the data later on, 1%); at 8, one drained cluster of 3-5 samples (three seeds)
_CHURN_LIMIT = 8
#: the fitted attributes that validate_data sets at the start of fit
_SET_BY_VALIDATION = ("n_features_in_", "feature_names_in_")
#: size of the subsample used to estimate "auto" scales
_PILOT_SIZE = 2000
#: ... and at most this many values (rows x features) densified, for wide sparse
#: data (a TF-IDF matrix of 100,000 terms would need 1.6 GB for 2000 rows), but
#: never fewer than 10 samples per cluster
_PILOT_VALUES = 1 << 24


def _n_threads():
    try:
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        return _openmp_effective_n_threads()
    except ImportError:  # pragma: no cover - private helper moved
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1


def _shares_memory(X, X_arg):
    """Whether validated ``X`` may share memory with the caller's ``X_arg``."""
    try:
        return bool(np.may_share_memory(X, X_arg))
    except (TypeError, ValueError):  # e.g. a sparse matrix or an odd container
        return True


def _is_sparse_frame(X):
    """Whether ``X`` is a pandas DataFrame whose columns are all sparse
    (``pd.SparseDtype``): ``validate_data`` turns it into a sparse matrix (and
    densifies a frame with some dense columns, with a warning)."""
    pandas = sys.modules.get("pandas")  # (not imported: X is no DataFrame)
    if pandas is None or not isinstance(X, pandas.DataFrame) or X.shape[1] == 0:
        return False
    return all(isinstance(dtype, pandas.SparseDtype) for dtype in X.dtypes)


def _stored_centers(run_centers, X_mean, dtype):
    """The centers as stored (``cluster_centers_``) from a run's, on ``X`` centered on
    ``X_mean`` (None: not centered); the one formula fit and its last assignment use."""
    stored = run_centers if X_mean is None else run_centers + X_mean
    return np.ascontiguousarray(stored, dtype=dtype)


def _scale_range(dtype):
    """``(low, high)``: the range of a scale that a loss squares (``delta``,
    ``sigma``) for data of ``dtype``, where its square and the square's reciprocal
    are finite, normal numbers (with a factor 4 of margin)."""
    info = np.finfo(dtype)
    return float(np.sqrt(info.tiny)) * 4, float(np.sqrt(info.max)) / 4


def _scale_bounds(param, dtype):
    """``(low, high)`` for the scale ``param`` of data of ``dtype``: ``_scale_range``
    for a squared scale (``delta``, ``sigma``); for ``epsilon``, compared with the
    data's distances, at most the dtype's largest number."""
    if param == "epsilon":
        return 0.0, float(np.finfo(dtype).max)
    return _scale_range(dtype)


def _check_scale_range(loss, scales, dtype, auto=False):
    """The losses that square their scale (delta, sigma) need the square and its
    reciprocal to be finite, normal numbers in the data's precision. ``auto``: the
    scale was estimated from the data (``'auto'``), not given."""
    param = LOSSES[loss]
    if param == "epsilon" and not scales[param] <= _scale_bounds(param, dtype)[1]:
        # (not squared, but compared with the data's distances in its dtype, where
        # it would be inf: every cost 0, after numpy's overflow warnings)
        name = np.dtype(dtype).name
        raise ValueError(
            f"epsilon={scales[param]!r} is out of range for {name} data: it must be at "
            f"most {float(np.finfo(dtype).max):.3g}, the largest {name} number. An "
            "epsilon above the data's diameter already puts every sample at cost 0; "
            "use a smaller one or epsilon='auto'."
        )
    if param not in ("delta", "sigma"):
        return
    value = scales[param]
    low, high = _scale_bounds(param, dtype)
    if not low <= value <= high:
        rule = f"the loss squares it, and it must lie in [{low:.3g}, {high:.3g}]"
        if auto:
            name = np.dtype(dtype).name
            hint = ", or convert it to float64" if name == "float32" else ""
            raise ValueError(
                f"{param}='auto' estimated {param}={value!r} from X, which is out of "
                f"range for {name} data: {rule}. Rescale X (for example with "
                f"StandardScaler){hint}."
            )
        raise ValueError(
            f"{param}={value!r} is out of range for {np.dtype(dtype).name} data: "
            f"{rule}. Rescale X (for example with StandardScaler) or use {param}='auto'."
        )


#: what to do with data too small for its squares (``_check_squares_fit``)
_RESCALE_SMALL = (
    "Rescale X (for example with StandardScaler, or multiply it by a constant); "
    "absolute does not square the data."
)


def _check_squares_fit(X, x_sq, dtype, loss, total_weight, centered):
    """The Euclidean losses rank by squared distances, up to four times the largest
    squared norm ``x_sq`` of the rows (centered on the mean for dense data): they
    must be finite in the data's dtype, or costs and labels are NaN (float32 data
    above about 1e18). For ``square`` the objective and the k-means++ potentials
    sum them over the samples (in the data's dtype, as scikit-learn's KMeans
    does): that sum, up to ``total_weight`` (the weights' sum) times as large, must
    be finite too. The other two sum the rows weighted by their weights (the
    centers' steps) and ``epsilon_insensitive`` the distances (its objective): up
    to twice the total weight times the largest norm, finite too (the weights alone
    can make it overflow: 1e300 each, on data of norm 1e10). At the other end, rows
    whose squared norms all underflow to subnormal numbers or 0 (data within about
    1e-154 of its mean in float64, 1e-19 in float32) lose their squared distances
    to rounding: such data is refused too, where it is not constant. Returns the
    largest squared norm of the rows, which ``predict`` checks narrower data by."""
    far = float(np.max(x_sq, initial=0.0))
    top = float(np.finfo(dtype).max)
    name = np.dtype(dtype).name
    hint = ", or convert it to float64" if name == "float32" else ""
    origin = "the mean" if centered else "the origin"
    tiny = float(np.finfo(dtype).tiny)

    if far < tiny and (far > 0 or (X.data if sp.issparse(X) else X).any()):
        raise ValueError(
            f"X is too small for loss={loss!r} in {name}: its rows lie within "
            f"{math.sqrt(far) if far > 0 else math.sqrt(tiny):.3g} of {origin}, so their "
            f"squared distances fall below the smallest normal {name} number "
            f"({tiny:.3g}) and are lost to rounding. {_RESCALE_SMALL}"
        )
    # most rows' squares that deep among the subnormal numbers (half their digits
    # or more lost: below tiny * sqrt(eps)), and one larger row let them through:
    # the clusters of the others were merged, their objective 0 (an algorithms
    # review: two blobs at 1e-23 and one row at 1e-18, in float32). Not at tiny
    # itself: blobs at 1e-20 in float32, squares about 1e-39, fit as at scale 1
    lost = tiny * math.sqrt(float(np.finfo(dtype).eps))
    if x_sq.size and float(x_sq.min()) < lost:
        small = np.flatnonzero(x_sq < lost)
        rows = X[small]
        # (copies of one row are harmless, their distances 0: copies of the mean,
        # which centering leaves a few units of rounding off 0, were refused; the
        # review of these changes. And so are rows at the origin, whose squares
        # are 0, exactly)
        if sp.issparse(X):
            one_point = (rows.max(axis=0) - rows.min(axis=0)).count_nonzero() == 0
            off = abs(rows).max(axis=1).toarray().ravel() > 0
        else:
            one_point = bool(np.all(rows == rows[0]))
            off = abs(rows).max(axis=1) > 0
        n_small = int(np.count_nonzero(off))
        if not one_point and 2 * n_small > n_small + x_sq.size - small.size:
            raise ValueError(
                f"X is too small for loss={loss!r} in {name}: most of its rows lie "
                f"within {math.sqrt(lost):.3g} of {origin} (the farthest at "
                f"{math.sqrt(far):.3g}), so their squared distances fall below "
                f"{lost:.3g}, where {name} keeps less than half their digits. "
                f"{_RESCALE_SMALL}"
            )
    rows = f"rows as far as {math.sqrt(far):.3g} from {origin}"
    largest = 4 * far
    what = "squared distances"
    if loss == "square":
        largest *= max(total_weight, 1.0)
        what = "objective, a sum of squared distances over the samples,"
    sums = 2 * math.sqrt(far) * max(total_weight, 1.0)
    if loss != "square" and largest <= top and not sums <= top:
        # (with unit weights the sums are finite wherever the squares are)
        raise _weights_overflow(
            loss,
            total_weight,
            rows,
            f"the weighted sums of the rows could reach {sums:.3g}, beyond the largest "
            f"{name} number ({top:.3g})",
            hint,
        )
    if not largest <= top:
        if loss == "square" and 4 * far * max(x_sq.size, 1) <= top:
            # with unit weights the sum would be finite: the weights make it overflow
            raise _weights_overflow(
                loss,
                total_weight,
                rows,
                f"the {what} could reach {largest:.3g}, beyond the largest {name} number "
                f"({top:.3g})",
                hint,
            )
        reach = (
            f"with {rows}, its {what} could reach {largest:.3g}"
            if np.isfinite(far)
            else f"the squared distances of its rows from {origin} already overflow"
        )
        raise ValueError(
            f"X is too large for loss={loss!r} in {name}: {reach}, beyond the largest "
            f"{name} number ({top:.3g}). Rescale X "
            f"(for example with StandardScaler){hint}; absolute and huber do not square "
            "the data."
        )
    return far


#: weights summing to at least this (beyond any count: a count of anything fits in 64
#: bits) are brought to a sum in [0.5, 1) too (``_weight_exponent``)
_LARGE_WEIGHT_SUM = 2.0**64


def _weight_exponent(total_weight):
    """The power of two ``e`` by which ``fit`` and ``score`` divide ``sample_weight``
    of sum ``total_weight``, bringing the sum into [0.5, 1) where it is below 0.5 or
    at least ``_LARGE_WEIGHT_SUM``: 0 (weights used as given) in between, and for an
    infinite sum (refused by the data's range checks). Tiny weights times the
    data's values underflow float64 (1e-201 on data at 1e-150, 1e-300 on data at
    1e-20): the weighted sums of the rows, the objective and Hartigan's gains were
    lost (square fell to one cluster). Huge ones overflow in products with the
    data's reciprocals: epsilon_insensitive's Weiszfeld coefficients ``w / ||x - m||``
    (weights of 1e168 on data at 1e-150, of 1e301 at unit scale) were inf, the
    centers NaN, the objective NaN. A power of two changes no center or label: the
    fit is that of the scaled weights, bit for bit, its objective times ``2**e``.
    ``fit``'s range checks (``_check_squares_fit``, ``_check_costs_fit``) take the
    weights' sum as given (a sum below 1 as 1), so the scaled weights are refused
    for exactly the data the given ones are."""
    if 0 < total_weight < 0.5 or _LARGE_WEIGHT_SUM <= total_weight < math.inf:
        return math.frexp(total_weight)[1]
    return 0


class _Verbose(int):
    """``verbose`` for the runs of a fit whose weights were divided by
    ``2**weight_exponent`` (``_weight_exponent``): the objectives they print are
    multiplied back (:func:`_shown`), so that they are in the units of ``inertia_``."""

    def __new__(cls, verbose, weight_exponent):
        self = super().__new__(cls, verbose)
        self.weight_exponent = weight_exponent
        return self


def _shown(verbose, objective):
    """``objective`` of a run as ``verbose`` prints it: in the units of the weights
    as given (:class:`_Verbose`)."""
    return math.ldexp(objective, getattr(verbose, "weight_exponent", 0))


def _weights_overflow(loss, total_weight, data, overflow, hint):
    """The ValueError of ``_check_squares_fit`` and ``_check_costs_fit`` where each
    sample's cost is finite but their sum weighted by ``sample_weight`` (of total
    ``total_weight``) could overflow: the weights, not X, are what to scale."""
    return ValueError(
        f"sample_weight is too large for loss={loss!r}: it sums to {total_weight:.3g}, "
        f"so with {data}, {overflow}. Divide sample_weight by a constant (which "
        f"changes no center or label, only the objective's scale){hint}."
    )


def _check_costs_fit(low, high, centers, loss, total_weight, n_samples):
    """The separable losses' costs, their intermediate squares, and the objective and
    k-means++ potentials (sums of costs over the samples, in the data's dtype, up to
    ``total_weight``, the sum of the ``n_samples`` weights, times a cost) must be
    finite in the data's dtype, or fits
    return inf/NaN objectives, seeds that are all the last sample, and (pruned)
    labels that disagree with ``predict``. The residuals ``x - m`` are bounded per
    feature by the range of the data and the centers (``low``, ``high``: the data's
    per-feature extremes; ``centers``: initial centers not drawn from the data; the
    solvers and the re-seeding stay within the range), which bounds every cost:
    at most ``sum_j span_j`` (absolute), ``sum_j min(span_j^2, delta span_j)``
    (huber's terms ``t r`` and ``t^2`` with ``t = clip(r, -delta, delta)``, and
    pseudo_huber's cost), plus pseudo_huber's squares ``r^2`` and ``(r / delta)^2``
    and its ranking, ``sum_j sqrt(delta^2 + r_j^2) <= sum_j (delta + span_j)``."""
    dtype = low.dtype
    if centers is not None:
        low = np.minimum(low, centers.min(axis=0))
        high = np.maximum(high, centers.max(axis=0))
    top = float(np.finfo(dtype).max)
    with np.errstate(over="ignore", invalid="ignore"):
        span = high.astype(np.float64) - low.astype(np.float64)
        largest = float(span.max(initial=0.0))
        total = float(span.sum())
        scale = loss.scale
        if loss.name == "absolute":
            cost = total
        else:
            cost = float(np.minimum(span**2, scale * span).sum())
        # (the sums over the samples: a cost times the total weight)
        reaches = {"the objective, a sum of costs over the samples,": cost * max(total_weight, 1.0)}
        if loss.name == "pseudo_huber":
            # (products, not ``**``: a Python float's power raises OverflowError
            # where its product gives inf, which the check below refuses)
            reaches["the squared differences"] = largest * largest
            reaches["the squared differences in units of delta"] = (largest / scale) * (
                largest / scale
            )
            reaches["its ranking"] = span.size * scale + total
    what, reach = max(reaches.items(), key=lambda item: item[1])
    if not 4 * reach <= top:
        name = np.dtype(dtype).name
        hint = ", or convert it to float64" if name == "float32" else ""
        others = [v for key, v in reaches.items() if key != what]
        unit = cost * max(n_samples, 1)
        if what.startswith("the objective") and all(4 * v <= top for v in [unit, *others]):
            # with unit weights every sum would be finite: the weights make it overflow
            raise _weights_overflow(
                loss.name,
                total_weight,
                f"features spanning up to {largest:.3g}",
                f"{what} could reach {reach:.3g}, within a factor 4 of the largest {name} "
                f"number ({top:.3g}) or beyond",
                hint,
            )
        if what.endswith("units of delta"):
            hint += ", or use a larger delta"
        where = " (with the initial centers)" if centers is not None else ""
        raise ValueError(
            f"X is too large for loss={loss.name!r} in {name}: its features span up to "
            f"{largest:.3g}{where}, so {what} could reach {reach:.3g}, within a factor 4 "
            f"of the largest {name} number ({top:.3g}) or beyond. Rescale X (for "
            f"example with StandardScaler){hint}."
        )


def _count(n, noun):
    """``"1 transfer"``, ``"2 transfers"`` (the verbose output)."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


class _Tolerance:
    """The bound on a run's squared center shift: ``value``, ``tol`` times the mean
    feature variance as in scikit-learn's KMeans, and the shifts, both in units of
    ``unit ** 2``. ``unit`` is 1 but for data whose squares underflow or overflow
    its dtype (float64 beyond about 1e-77 or 1e77, float32 beyond 1e-10 or 1e10 in
    spread): there it is a power of two near the data's magnitude, which the
    separable losses (they never square the data) handle. Dividing by a power of
    two is exact, so the comparisons are those of the same data at scale 1: where
    the squares underflowed, every shift of a fit of ``absolute`` on float64 data
    below about 1e-160 was 0, within any tolerance (0 included), and the fit
    stopped after one iteration."""

    def __init__(self, value, unit=1.0, relative=0.0):
        self.value = value
        self.unit = unit
        self.relative = relative

    def settled(self, loss, before, after, shift):
        """Whether the objective, ``before`` (None: no iteration before) then
        ``after`` an iteration, has settled for a stop by the shift: always for the
        square loss (KMeans's rule) and where the centers did not move at all; for
        the robust losses, once it falls by at most ``tol`` (``relative``) of its
        value.
        Outliers inflate the variance behind ``value``, while the robust objective
        hardly sees them: on blobs with 10% of outliers a thousand times their
        spread away, the shift alone stopped correntropy after the first
        iteration, its objective up to 16% above a converged fit's (a user
        review)."""
        if loss.name == "square" or shift == 0:
            return True
        return before is not None and before - after <= self.relative * abs(after)

    def shift(self, old, new):
        """The squared shift from centers ``old`` to ``new``, in units of ``unit**2``
        (in their dtype, as KMeans's; inf where it overflows: not within any
        tolerance)."""
        with np.errstate(over="ignore", under="ignore"):
            diff = new - old if self.unit == 1.0 else new / self.unit - old / self.unit
            shift = float((diff**2).sum())
        if shift == 0 and diff.any():
            # (a shift whose squares underflow all the same: positive, so not
            # within a tolerance of 0)
            shift = float(np.finfo(np.float64).smallest_subnormal)
        return shift

    def __str__(self):
        # (as the verbose output prints it: in the data's units)
        return str(self.in_data_units(self.value))

    def in_data_units(self, shift):
        # (Python floats: a product that overflows is inf, where unit**2 of a unit
        # near 1e300 raised OverflowError, even with verbose=0)
        return shift * self.unit * self.unit


def _mean_variance(X, unit=1.0):
    """The mean feature variance of dense ``X / unit`` (float64)."""
    # chunk by chunk (np.var would hold a centered copy of all the data, and is
    # slower than these chunks, which stay in cache): each chunk's mean and sum
    # of squared deviations, combined in float64 (Chan et al.); the data is
    # shifted by one sample so that float32 chunk sums stay accurate far from
    # the origin (the separable losses see X uncentered). ``unit``, a power of
    # two, divides each chunk exactly, in the data's dtype (a Python float)
    ref = X[0] / unit
    count, mean, m2 = 0, np.zeros(X.shape[1]), np.zeros(X.shape[1])

    def chunk_stats(R):
        chunk_mean = R.mean(axis=0)
        R -= chunk_mean
        chunk_m2 = np.einsum("ij,ij->j", R, R).astype(np.float64)
        # the deviations are taken from a rounded mean: correct for it
        residual = R.mean(axis=0).astype(np.float64)
        return chunk_mean + residual, chunk_m2 - R.shape[0] * residual**2

    # (overflows are handled below: no warning)
    with np.errstate(over="ignore", invalid="ignore"):
        for sl in _kernels._slices(X.shape[0], 4096):
            size = sl.stop - sl.start
            chunk = X[sl] if unit == 1.0 else X[sl] / unit
            chunk_mean, chunk_m2 = chunk_stats(chunk - ref)
            if not np.isfinite(chunk_m2).all():
                # squares beyond the data's dtype (float32 above about 1e18, which
                # the separable losses handle): in float64, else a tolerance of
                # inf would end every fit after one iteration
                chunk_mean, chunk_m2 = chunk_stats(chunk.astype(np.float64) - ref)
            delta = chunk_mean - mean
            total = count + size
            mean += delta * size / total
            m2 += chunk_m2 + delta**2 * count * size / total
            count = total
        return float(np.mean(m2 / count))


def _tolerance(X, tol):
    """``tol`` times the mean feature variance, as scikit-learn's KMeans (a
    ``_Tolerance``)."""
    if tol == 0:
        return _Tolerance(0.0)
    unit = 1.0
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        variance = float(np.mean(mean_variance_axis(X, axis=0)[1]))
    else:
        variance = _mean_variance(X)
        info = np.finfo(X.dtype)
        if not math.sqrt(float(info.tiny)) <= variance <= math.sqrt(float(info.max)):
            # squares of shifts that underflow or overflow the data's dtype: in
            # units of a power of two near the data's magnitude (one more pass,
            # for such data only; constant data stays at 0)
            low, high = _kernels.column_extremes(X, 1)
            top = max(-float(low.min()), float(high.max()))
            if top > 0:
                unit = math.ldexp(1.0, math.frexp(top)[1] - 1)
                variance = _mean_variance(X, unit)
    with np.errstate(over="ignore", invalid="ignore"):
        value = variance * tol
    # (variances beyond float64, sparse data above about 1e154: the largest finite
    # tolerance, which a center shift that is still finite is well within)
    value = value if np.isfinite(value) else float(np.finfo(np.float64).max)
    return _Tolerance(value, unit, relative=tol)


# -------------------------------------------------------------------------------------
# Algorithms on validated, centered arrays
# -------------------------------------------------------------------------------------
def _relocate_empty(X, costs, labels, weight_sums, centers, sample_weight):
    """Move, in place, the centers of empty clusters (no positive weight) onto the
    samples of largest cost among those of positive weight and cost (a sample of
    weight 0 would leave it empty, one of cost 0 is at a center already) that are not
    the last such member of their cluster (that one is where its cluster's next
    center goes anyway: moving it would empty its cluster instead). Returns the
    samples the centers moved onto, in the order of the empty clusters."""
    empty = np.flatnonzero(~(weight_sums > 0))
    if empty.size == 0:
        return empty
    far = np.argsort(costs, kind="stable")[::-1]
    far = far[(sample_weight[far] > 0) & (costs[far] > 0)]
    members = np.bincount(labels[sample_weight > 0], minlength=centers.shape[0])
    picked = []
    for i in far:  # (at most one rejection per cluster before empty.size are found)
        if len(picked) == empty.size:
            break
        if members[labels[i]] > 1:
            members[labels[i]] -= 1
            picked.append(i)
    picked = np.array(picked, dtype=np.intp)
    centers[empty[: picked.size]] = _kernels.dense_rows(X, picked)
    return picked


def _same_clustering(labels1, labels2, n_clusters):
    """Whether each cluster of ``labels1`` lies within one cluster of ``labels2``
    (scikit-learn's ``_is_same_clustering``: the same partition when both have the
    same number of clusters)."""
    pairs = np.unique(labels1.astype(np.int64) * n_clusters + labels2)
    return np.unique(pairs // n_clusters).size == pairs.size


def _without_picked(X, sample_weight, labels, picked, sums, weight_sums, centers):
    """Set, in place, the ``centers`` of the clusters the ``picked`` samples are in
    to the means of their other members, from the clusters' ``sums`` (float64) and
    ``weight_sums`` (unchanged); a cluster left without weight keeps its center."""
    n_clusters = centers.shape[0]
    w = sample_weight[picked].astype(np.float64)
    donors = labels[picked]
    out = np.bincount(donors, weights=w, minlength=n_clusters)
    left = weight_sums - out
    fix = np.flatnonzero((out > 0) & (left > 0))
    if fix.size == 0:
        return
    rows = _kernels.dense_rows(X, picked).astype(np.float64)
    taken = np.zeros_like(sums)
    np.add.at(taken, donors, w[:, None] * rows)
    centers[fix] = ((sums[fix] - taken[fix]) / left[fix, None]).astype(centers.dtype)


def _pin_duplicates(X, sample_weight, labels, costs, centers):
    """Put, in place, each cluster whose members of positive weight all have cost 0
    and are one and the same row on that row (for losses whose one minimiser for a
    point is the point itself). Their mean is that row, but a computed mean can
    round off it: the center then left samples it sat on, and with more clusters
    than distinct points two centers a rounding apart took the duplicates in turn,
    each taking them off the row again, until ``max_iter`` (20 equal float32 rows,
    k = 2: 300 iterations, where KMeans stops after 1). A filter first: only
    clusters of cost 0 have their rows compared."""
    zero = costs == 0
    if not zero.any():  # (the common case: one comparison)
        return
    live = sample_weight > 0
    n_clusters = centers.shape[0]
    members = np.bincount(labels[live], minlength=n_clusters)
    costly = np.bincount(labels[live & ~zero], minlength=n_clusters)
    _pin_clusters(X, live, labels, np.flatnonzero((members > 0) & (costly == 0)), centers)


def _pin_clusters(X, live, labels, clusters, centers):
    """The pinning of ``_pin_duplicates`` and ``_pin_copies``: each of ``clusters``
    whose members of positive weight (``live``, a mask) are one and the same row
    gets that row as its center, in place."""
    for c in clusters:
        rows = _kernels.dense_rows(X, np.flatnonzero(live & (labels == c)))
        if (rows == rows[0]).all():
            centers[c] = rows[0]


def _pin_copies(X, sample_weight, labels, centers):
    """``_pin_duplicates`` for runs whose centers are means of running sums (MacQueen,
    Hartigan's transfers), whose costs at those means are rounding, not 0: each
    cluster whose members of positive weight are one and the same row gets that row
    as its center, in place. A filter first: only a cluster whose center is within
    rounding of its first member (``1e-9`` of it, far above the sums' rounding) has
    its rows compared."""
    live = sample_weight > 0
    if not live.any():
        return
    positive = np.flatnonzero(live)
    clusters, first = np.unique(labels[positive], return_index=True)
    first_rows = _kernels.dense_rows(X, positive[first]).astype(np.float64)
    with np.errstate(invalid="ignore"):
        near = np.all(np.abs(centers[clusters] - first_rows) <= 1e-9 * np.abs(first_rows), axis=1)
    _pin_clusters(X, live, labels, clusters[near], centers)


class _Reseeding:
    """``_relocate_empty`` for one run, given up once a re-seeding fails to lower the
    objective: with more clusters than distinct points, the samples of largest cost
    are at their centers but for rounding (their means are rounded), and a center
    moved onto one takes its duplicates from their rounded mean by rounding noise and
    empties another, over and over; empty clusters then stay empty."""

    def __init__(self):
        self.active = True
        self.before = None  # the objective when the last re-seeding was made

    def __call__(self, X, costs, labels, weight_sums, centers, sample_weight, objective):
        """Judge the last re-seeding by ``objective`` (the one at ``costs``, after
        it), then re-seed, in place; returns the samples the centers moved onto."""
        if self.before is not None and not objective < self.before:
            self.active = False
        self.before = None
        if not self.active:
            return np.empty(0, dtype=np.intp)
        moved = _relocate_empty(X, costs, labels, weight_sums, centers, sample_weight)
        if moved.size:
            self.before = objective
        return moved


class _Churn:
    """The weight moved into or out of each cluster since its sums ``sum_i w_i x_i``
    were last computed from its members, for the runs that update the sums by the
    samples that move (the square loss's Lloyd, MacQueen and Hartigan).

    Those updates round. Sums computed from a cluster's members are exact but for a
    few units of rounding times ``W0 R`` (``W0`` its weight then, ``R`` the largest
    norm of a row), and each sample that moves adds a few units times ``w_i R``;
    after a churn ``C`` the error is within a few units times
    ``(W0 + C) R <= (W + 2C) R``, since the weight ``W`` now is at least ``W0 - C``.
    The center, the sums over ``W``, is then within a few units times
    ``(1 + 2C/W) R``: unbounded as ``W`` shrinks (a cluster left with a sample of
    weight 1e-12 once samples of weight 1 moved out divided their rounding, 1e-7 R
    in float32, by 1e-12: a center at 1e6 for data within +-15). Recomputing a
    cluster's sums once ``C > _CHURN_LIMIT W`` keeps its center within
    ``1 + 2 _CHURN_LIMIT`` (17) times a mean's own rounding, whatever the weights.

    (Two approximations in that count. Adding an update to a running sum also
    rounds it, relative to the sum: negligible for float32 data, whose sums are
    float64, but for float64 data each of the ``m`` updates since the recompute
    can add a unit of ``(W0 + C) R``, so the bound there is ``m`` times larger --
    Lloyd adds one update per chunk and pass, MacQueen one per batch. And ``R`` is
    the largest norm of a row, so for a cluster near the origin the error is a
    larger multiple of its own mean's rounding. A fuzz with weights of 1 and 1e-12
    measured at most 1.6 units for Lloyd and MacQueen and 7.4 for Hartigan.)"""

    def __init__(self, n_clusters):
        self.moved = np.zeros(n_clusters)

    def add(self, weight_moved):
        """Each cluster's weight that moved out of it or into it (their sum)."""
        self.moved += weight_moved

    def add_moves(self, origins, targets, weights):
        """Samples of ``weights`` moved from clusters ``origins`` to ``targets``."""
        n_clusters = self.moved.size
        self.add(
            np.bincount(origins, weights, n_clusters) + np.bincount(targets, weights, n_clusters)
        )

    def refresh(
        self, X, sample_weight, labels, sums, weight_sums, n_threads, dtype=None, weights=False
    ):
        """Recompute, in place, the sums of the clusters whose churn exceeds
        ``_CHURN_LIMIT`` times their weight ``weight_sums`` (an emptied cluster's:
        0) from their members only, one gather of their rows (``dtype``: the
        precision of the products, as for ``_kernels.cluster_sums``); with
        ``weights``, their ``weight_sums`` too, for the runs that update those by the
        samples that move as well (same bound)."""
        stale = self.moved > _CHURN_LIMIT * weight_sums
        if not stale.any():
            return
        rows = np.flatnonzero(stale[labels])
        # (the rows labelled by their rank among the stale clusters: a product with
        # their indicator rows only, not every cluster's)
        which = np.flatnonzero(stale)
        rank = (np.cumsum(stale) - 1)[labels]
        sums[which] = _kernels.cluster_sums(
            X, sample_weight, rank, which.size, n_threads, rows=rows, dtype=dtype
        )
        if weights:
            weight_sums[which] = np.bincount(
                rank[rows], weights=sample_weight[rows], minlength=which.size
            )
        self.moved[stale] = 0


def _lloyd(
    X,
    sample_weight,
    x_sq,
    centers_init,
    loss,
    max_iter,
    tol,
    n_threads,
    verbose,
    assign=None,
    to_fixed_point=False,
):
    """Batch assign/update iterations; the objective never increases.

    ``assign``: ``centers -> (labels, costs)``, the assignment of the result (by
    default ``_kernels.assign``); when given, the run always ends with it.
    ``to_fixed_point`` (losses without an exact update): the iterations with exact
    centers go on until no sample moves (or ``max_iter``), whatever ``tol``: a fixed
    point of the assignment and the exact centers, where Hartigan's transfers start.

    Returns labels, inertia, centers, n_iter and the objective after each assignment.
    """

    def last_assign(centers):
        if assign is not None:
            return assign(centers)
        if bounds is not None:
            return bounds.assign(centers)
        return _kernels.assign(X, x_sq, centers, loss, n_threads)

    # separable losses: the assignment pruned by the triangle inequality of their
    # metric, as Elkan's k-means (same labels and costs), where the data spans more
    # than one chunk (on less, the bookkeeping costs more than the passes it saves)
    # and the bounds take no more memory than the data (or 256 MiB)
    bounds = None
    if loss.bound_power is not None and _kernels.SeparableBounds.fits(X, centers_init.shape[0]):
        bounds = _kernels.SeparableBounds(X, loss, n_threads)

    centers = np.array(centers_init, dtype=X.dtype, copy=True)
    n_clusters = centers.shape[0]
    labels_old = None
    path = []
    strict = False
    sums = churn = None
    pending = None  # an unchecked step: each cluster's cost before it, and its fallback
    reseed = _Reseeding()
    # a sample of weight 0 moves no center: the labels compared for convergence are
    # those of positive weight, or an iterative solver's center that alternates
    # between two optima of equal cost (epsilon_insensitive's flat minima) moved such
    # a sample back and forth until max_iter (all labels for the square loss, as
    # KMeans compares: its means do not move with such a sample)
    live = None
    if not (loss.closed_form and loss.euclidean) and not (sample_weight > 0).all():
        live = sample_weight > 0

    def same(a, b):
        return np.array_equal(a, b) if live is None else np.array_equal(a[live], b[live])

    for i in range(max_iter):
        if loss.closed_form and loss.euclidean:
            # square loss: one pass assigns and gathers the per-cluster sums, from
            # the samples that changed cluster only (all of them on the first
            # iteration), each chunk while it is in cache
            labels, costs, change, _, wsum = _kernels.euclidean_pass(
                X,
                sample_weight,
                x_sq,
                centers,
                loss,
                n_threads,
                stats="sums",
                labels_old=labels_old,
            )
            if labels_old is None:
                sums, churn = change, _Churn(n_clusters)
            else:
                sums = sums + change
                moved = np.flatnonzero(labels != labels_old)
                churn.add_moves(labels_old[moved], labels[moved], sample_weight[moved])
                # (the clusters whose sums carry more rounding than their weight
                # allows, an emptied one's included, recomputed: see _Churn)
                churn.refresh(X, sample_weight, labels, sums, wsum, n_threads)
            new = centers.copy()
            ok = wsum > 0
            new[ok] = (sums[ok] / wsum[ok, None]).astype(X.dtype)
        elif loss.euclidean:
            check = loss.needs_line_search
            labels, costs, sums, coef, wsum = _kernels.euclidean_pass(
                X, sample_weight, x_sq, centers, loss, n_threads, labels_old=labels_old
            )
            if check and pending is not None:
                # the previous (Weiszfeld) step, checked by this pass. The members'
                # total cost at the new centers bounds this pass's objective (the
                # assignment only lowers it): where that total is no more than the
                # objective before the step, the objective cannot rise, even if some
                # cluster's own cost did (near convergence such rises are mostly the
                # rounding of float32 costs, 1e-9 of a cluster's). Otherwise the
                # clusters whose cost rose take the center of the members the step
                # was taken for by ``descent_center`` (the exact solver to 1e-4 of
                # their mean cost), solved from the majorise-minimise step (which
                # never raises the cost, and the solver never returns above its
                # start), and the pass is redone. The damped step alone crawled
                # where Weiszfeld's kept failing (1-D blobs, epsilon about their
                # spread: max_iter reached, 56x KMeans)
                # (a rise within the costs' rounding is none: the same step was
                # kept for weights and refused for the same rows repeated, whose
                # sums round differently, and the two fits parted)
                allowed = pending[0] * (1 + loss.cost_rtol(X.shape[1], X.dtype))
                raised = coef[2] > allowed
                if raised.any() and coef[2].sum() > allowed.sum():
                    centers[raised] = pending[1][raised]
                    centers = _exact_centers(
                        X, sample_weight, labels_old, centers, loss, n_threads, only=raised,
                        solve=loss.descent_center,
                    )  # fmt: skip
                    labels, costs, sums, coef, wsum = _kernels.euclidean_pass(
                        X, sample_weight, x_sq, centers, loss, n_threads
                    )
            new = centers.copy()
            if check:
                coef, rest = coef[0], coef[1]
            ok = coef > 0
            new[ok] = (sums[ok] / coef[ok, None]).astype(X.dtype)
            if check:
                # the full (Weiszfeld) step now, checked by the next pass against each
                # cluster's cost here; its fallback, the majorise-minimise step
                current = np.bincount(labels, weights=sample_weight * costs, minlength=n_clusters)
                with np.errstate(divide="ignore", invalid="ignore"):
                    fraction = np.where(ok, 0.5 * coef / (0.5 * coef + rest), 0.0)
                safe = (centers + fraction[:, None] * (new - centers)).astype(X.dtype)
                pending = (current, safe)
        else:
            if bounds is not None:
                labels, costs = bounds.assign(centers)
            else:
                labels, costs = _kernels.separable_assign(X, centers, loss, n_threads)
            wsum = np.bincount(labels, weights=sample_weight, minlength=n_clusters)
            new = _kernels.coordinatewise_update(X, sample_weight, labels, centers, loss, n_threads)
        if loss.euclidean and loss.point_is_center:
            _pin_duplicates(X, sample_weight, labels, costs, new)
        objective = float(np.dot(sample_weight, costs))
        path.append(objective)
        if verbose:
            print(f"Iteration {i}, inertia {_shown(verbose, objective)}.")
        picked = reseed(X, costs, labels, wsum, new, sample_weight, objective)
        reseeded = picked.size > 0
        if reseeded and sums is not None and loss.closed_form and loss.euclidean:
            # the samples a center moved onto leave their clusters, whose means are
            # taken without them (scikit-learn's relocation: a lower objective, and
            # KMeans's centers)
            _without_picked(X, sample_weight, labels, picked, sums, wsum, new)
        if reseeded and pending is not None:
            # (a re-seeded center has no cost to check)
            empty = ~(wsum > 0)
            pending[1][empty] = new[empty]
        shift = tol.shift(centers, new)
        if bounds is not None:
            bounds.moved(centers, new)
        centers = new
        # (not after a re-seeding, even with the same labels: the re-seeded center
        # is no center of the samples the next assignment gives it)
        if not reseeded and labels_old is not None and same(labels, labels_old):
            # unchanged labels: converged when the update is exact; otherwise the
            # remaining center movement is the exact solver's job (below), which gets
            # there in fewer, cheaper steps than further Lloyd passes
            # (a warm-started iterative solver's centers move by rounding even with
            # the same labels: inertia_ is then taken at them, by a last assignment)
            strict = loss.closed_form
            if verbose and loss.exact_update:
                print(f"Converged at iteration {i}: strict convergence.")
            elif verbose:
                print(f"Labels unchanged at iteration {i}: exact centers next.")
            break
        if shift <= tol.value and tol.settled(loss, path[-2] if i else None, objective, shift):
            shown = tol.in_data_units(shift)
            if verbose and loss.exact_update:
                print(f"Converged at iteration {i}: center shift {shown} within tolerance {tol}.")
            elif verbose:
                print(
                    f"Center shift {shown} within tolerance {tol} at iteration {i}: "
                    "exact centers next."
                )
            break
        labels_old = labels

    n_iter = i + 1
    if not loss.exact_update:
        if pending is not None:
            # the last (Weiszfeld) step was never checked, and may have raised a
            # cluster's cost: the exact solver starts from its fallback, which cannot
            # (it never returns worse than its start, so the objective stays down)
            centers = pending[1]
        # finish each cluster's center with the loss's exact solver; while that moves
        # samples to other clusters (and iterations remain, and the centers moved by
        # more than the tolerance), go on with Lloyd iterations whose update is the
        # exact solver: with tol=0 the result is a fixed point of exact assignment
        # and exact centers. The tolerance bounds these iterations as it bounds the
        # others (a split cluster's boundary can otherwise creep for a hundred
        # iterations, each a full exact solve, for 1e-5 of the objective); labels_
        # then come from the last assignment, as KMeans's do after its tol stop
        while True:
            start = centers
            centers = _exact_centers(X, sample_weight, labels, centers, loss, n_threads)
            new_labels, costs = last_assign(centers)
            if same(new_labels, labels) or n_iter >= max_iter:
                break
            shift = tol.shift(start, centers)
            objective = float(np.dot(sample_weight, costs))
            if (
                shift <= tol.value
                and tol.settled(loss, path[-1], objective, shift)
                and not to_fixed_point
            ):
                if verbose:
                    print(
                        f"Exact centers moved {tol.in_data_units(shift)}, within tolerance "
                        f"{tol}, at iteration {n_iter - 1}: converged."
                    )
                break
            labels = new_labels
            path.append(objective)
            if verbose:
                print(f"Iteration {n_iter} (exact centers), inertia {_shown(verbose, path[-1])}.")
            n_iter += 1
        labels = new_labels
    elif not strict or assign is not None:
        labels, costs = last_assign(centers)
    inertia = float(np.dot(sample_weight, costs))
    path.append(inertia)
    return labels, inertia, centers, n_iter, path


def _exact_centers(X, sample_weight, labels, centers, loss, n_threads, only=None, solve=None):
    """Each cluster's center by the loss's exact solver (or ``solve``, with the same
    signature as ``loss.center``), started at ``centers`` (sparse rows, of a
    Euclidean loss, are handed over as CSR rows: its solvers work on them without
    densifying the cluster). Empty clusters keep theirs; so do those outside
    ``only`` (a boolean mask of the clusters to solve), if given."""
    solve = loss.center if solve is None else solve
    centers = centers.copy()
    clusters = _kernels.cluster_members(labels, sample_weight, centers.shape[0])
    if only is not None:
        clusters = [(c, idx) for c, idx in clusters if only[c]]

    def polish(task):
        c, idx = task
        # (the gathered rows are this call's: the solver may work in them)
        return solve(X[idx], sample_weight[idx], init=centers[c], overwrite_x=True)

    # one cluster per worker thread, BLAS single-threaded inside (inline for small
    # data, where waking a thread costs more than the work)
    workers = n_threads if X.shape[0] * X.shape[1] > 1 << 20 else 1
    sizes = [idx.size for _, idx in clusters]
    for (c, _), center in zip(
        clusters, _kernels._map(polish, clusters, workers, sizes), strict=True
    ):
        centers[c] = center
    return centers


def _hartigan(X, sample_weight, x_sq, centers_init, loss, max_iter, tol, n_threads, verbose):
    """Lloyd to convergence, then Hartigan's single-sample transfers (square loss).

    A transfer of sample ``i`` (weight ``w``) from cluster ``a`` (weight ``W_a``) to
    ``b`` changes the objective by ``w W_b/(W_b+w) d(i,b) - w W_a/(W_a-w) d(i,a)``; every
    round screens every sample with that formula, then moves the improving ones,
    best first, one at a time, each checked with its exact gain at the centers left
    by the moves before it; rounds go on until none improves. The result is never
    worse than Lloyd's from the same init.
    """
    # Lloyd to 1e-6 of tol (its fixed point but for the rounding of float32 means,
    # which can raise the objective by 1e-14 of it; or max_iter): its batch moves
    # are far cheaper than the transfers' rounds, which then start where only
    # Hartigan's own moves are left. From Lloyd's tol stop (100,000 x 16, k = 20)
    # the transfers took 98 rounds, each a full n x k screen: 4.2 s against 1.5 s
    near_fixed_point = _Tolerance(tol.value * 1e-6, tol.unit)
    labels, inertia, centers, n_iter, path = _lloyd(
        X, sample_weight, x_sq, centers_init, loss, max_iter, near_fixed_point, n_threads,
        verbose,
    )  # fmt: skip
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    w = sample_weight.astype(np.float64)
    W = np.bincount(labels, weights=w, minlength=n_clusters)
    # (in float64: the means of float32 duplicates are then exact, and a transfer's
    # gain is not their rounding)
    sums = _kernels.cluster_sums(X, w, labels, n_clusters, n_threads, dtype=np.float64)
    churn = _Churn(n_clusters)
    centers = np.where(W[:, None] > 0, sums / np.maximum(W, 1e-300)[:, None], centers)
    # (Lloyd's copies of one row back on it: see _pin_copies)
    _pin_copies(X, sample_weight, labels, centers)
    d2 = _kernels.cost_matrix(X, x_sq, centers.astype(X.dtype), SquareLoss(), n_threads)
    d2 = d2.astype(np.float64)
    rows = np.arange(n_samples)
    # the path: Lloyd's assignments, then the objective after the transfers, not
    # Lloyd's last entry, its objective at its own centers (means of float32
    # products, as KMeans's), which the search does not start from: two roundings of
    # the same means evaluated one after the other made the path rise (from 0 to
    # 4e-14 for duplicates at their means, in 2% of small float32 fits)
    path = path[:-1]
    for _ in range(max_iter * 10):
        Wa = W[labels]
        with np.errstate(divide="ignore", invalid="ignore"):
            # (the weights' ratios first: their products overflow for weights of
            # 1e160 and more, where the objective is still finite)
            removal = np.where(Wa > w, w * (Wa / (Wa - w)), np.nan) * d2[rows, labels]
            insertion = w[:, None] * (W[None, :] / (W[None, :] + w[:, None])) * d2
        insertion[rows, labels] = np.inf
        best_b = np.argmin(insertion, axis=1)
        gain = removal - insertion[rows, best_b]
        threshold = 1e-12 * max(inertia, np.finfo(np.float64).tiny)
        movers = np.flatnonzero(gain > threshold)
        if movers.size == 0:
            break
        # every screened mover, best gain first, moved one at a time as Hartigan's
        # sequential algorithm moves them: each move's gain is recomputed exactly at
        # the centers and weights the moves before it left (it may have fallen with
        # them, or its cluster may be down to it), so each kept move lowers the
        # objective; the screen, stale for the clusters moved, is redone next round
        # (one move per pair of disjoint clusters per round took 1,800 rounds, each
        # a full n x k screen, after Lloyd's tol stop on 100,000 x 16, k = 20). A
        # cluster whose sums carry more rounding than its weight allows after a move
        # (one left with samples of tiny weight) gets them from its members before
        # any further move (see _Churn)
        cand = movers[np.argsort(-gain[movers], kind="stable")]
        n_moves = 0
        touched = np.zeros(n_clusters, bool)
        for i in cand:
            a, b = labels[i], best_b[i]
            if not W[a] > w[i] or not _exact_transfer_gain(X, i, a, b, centers, W, w) > threshold:
                continue
            xi = X[i].toarray().ravel() if sp.issparse(X) else X[i]
            sums[a] -= w[i] * xi
            sums[b] += w[i] * xi
            W[a] -= w[i]
            W[b] += w[i]
            labels[i] = b
            churn.add_moves([a], [b], w[[i]])
            churn.refresh(X, w, labels, sums, W, n_threads, dtype=np.float64, weights=True)
            centers[[a, b]] = sums[[a, b]] / W[[a, b], None]
            touched[a] = touched[b] = True
            n_moves += 1
        if not n_moves:
            break
        touched = np.flatnonzero(touched)
        d2[:, touched] = _kernels.cost_matrix(
            X, x_sq, centers[touched].astype(X.dtype), SquareLoss(), n_threads
        )
        n_iter += 1
        if verbose:
            print(f"Hartigan round: {_count(n_moves, 'transfer')}.")
    _pin_copies(X, sample_weight, labels, centers)
    return _settled(
        X, sample_weight, x_sq, labels, centers.astype(X.dtype), loss, max_iter, tol,
        n_threads, verbose, n_iter, path,
    )  # fmt: skip


def _exact_transfer_gain(X, i, a, b, centers, W, w):
    """Hartigan's gain of moving sample ``i`` from ``a`` to ``b`` (square loss), from
    exact distances: the screen's expanded ones are rounding noise for tight clusters
    far from the data's mean, where a "gain" could raise the objective. Only for
    screened movers, whose cluster keeps a positive weight (``W[a] > w[i]``).

    A sample at its center but for the center's rounding gains nothing (0): within
    ``_TIE_EPS`` float64 ``eps`` of the norms (duplicates of float64 data whose mean
    is rounded; transfers of them one by one into an empty cluster "gained" rounding
    noise for thousands of rounds, as many as ``max_iter`` allows). The centers are
    float64 means of sums taken in float64, exact for float32 duplicates, so that
    float32 data's own spacing is far above this."""
    d2 = _kernels.exact_sq_distances(X, np.array([i]), centers[[a, b]])[0]
    xi = _kernels.dense_rows(X, np.array([i]))[0].astype(np.float64)
    noise = (_kernels._TIE_EPS * np.finfo(np.float64).eps) ** 2 * (
        xi @ xi + centers[a] @ centers[a]
    )
    if not d2[0] > noise:
        return 0.0
    return w[i] * (W[a] / (W[a] - w[i])) * d2[0] - w[i] * (W[b] / (W[b] + w[i])) * d2[1]


def _settled(
    X, sample_weight, x_sq, labels, centers, loss, max_iter, tol, n_threads, verbose, n_iter, path
):
    """The end of a transfer search: if the assignment rule (least cost, ties to the
    nearer center, then the lower index) moves any sample -- a tie, or a sample of
    zero weight, which no transfer moves -- Lloyd from the current centers, which
    never raises the objective, so that ``labels_`` agree with ``predict``."""
    assigned, least = _kernels.assign(X, x_sq, centers, loss, n_threads)
    if np.array_equal(assigned, labels):
        inertia = float(np.dot(sample_weight, least))
        path.append(inertia)
        return labels, inertia, centers, n_iter, path
    labels, inertia, centers, settle, settle_path = _lloyd(
        X, sample_weight, x_sq, centers, loss, max_iter, tol, n_threads, verbose
    )
    return labels, inertia, centers, n_iter + settle, path + settle_path


def _hartigan_exact(X, sample_weight, x_sq, centers_init, loss, max_iter, tol, n_threads, verbose):
    """Lloyd, then single-sample transfers verified with exact centers (robust losses).

    Moving sample ``i`` from cluster ``a`` to ``b`` changes the objective by
    ``[C(a - i) + C(b + i)] - [C(a) + C(b)]``, with ``C`` a cluster's cost at its exact
    center: removing a sample lets ``a``'s center move away from it, adding one pulls
    ``b``'s, so a transfer can pay even when ``i`` is nearer its own center (Lloyd's
    fixed points miss it). Candidates are ranked by a second-order screen,
    ``w cost(i,b) - G_b(i) - w cost(i,a) - G_a(i)``, with ``G`` Newton's estimate of
    what re-optimising a center gains once ``i`` joins or leaves its cluster
    (``loss.reopt_gain``, capped by what the cluster's cost allows; for the square
    loss it is Hartigan's exact formula; ``absolute``, which has no curvature, uses
    that formula on its costs), and each is verified by solving both centers
    exactly (warm started), one after the other against the clusters the
    transfers before it left; rounds go on (at most ``10 max_iter``, as for ``square``) until
    none of the best ``_HARTIGAN_TRIES`` candidates verifies. Every transfer lowers the exact
    objective, so the result is never worse than Lloyd's; a final assignment (and, if
    it moves samples, Lloyd from there) leaves every sample with its least-cost center.
    """
    # (from a fixed point: its centers are the exact ones of its clusters, whose
    # costs the transfers are measured against)
    run = (X, sample_weight, x_sq, centers_init, loss, max_iter, tol, n_threads, verbose)
    labels, inertia, centers, n_iter, path = _lloyd(*run, to_fixed_point=True)
    n_samples, n_clusters = X.shape[0], centers.shape[0]
    w = sample_weight.astype(np.float64)
    rows = np.arange(n_samples)
    costs = np.empty((n_samples, n_clusters))
    # (Euclidean losses) the squared distances behind the costs, kept for the
    # screen's terms: one chunked pass gives both, and sparse X stays sparse
    d2 = np.empty((n_samples, n_clusters), X.dtype) if loss.euclidean else None

    def refresh_costs(clusters):
        if loss.euclidean:
            d2[:, clusters] = _kernels.cost_matrix(
                X, x_sq, centers[clusters], SquareLoss(), n_threads
            )
            costs[:, clusters] = loss.cost_from_sq_distances(d2[:, clusters])
        else:
            costs[:, clusters] = _kernels.cost_matrix(X, x_sq, centers[clusters], loss, n_threads)

    refresh_costs(np.arange(n_clusters))
    W = np.bincount(labels, weights=w, minlength=n_clusters)

    def solve(members, start):
        Xm = X[members]  # (CSR rows of a sparse X: the Euclidean solvers take them)
        center = loss.center(Xm, sample_weight[members], init=start)
        return center, loss.objective(Xm, center, sample_weight[members])

    # cluster costs by the same formula as the verified ones (the cost matrix's
    # expanded distances round differently), and a margin above rounding: a transfer
    # must gain more than what the working precision can resolve
    current = np.zeros(n_clusters)
    for c, members in _kernels.cluster_members(labels, sample_weight, n_clusters):
        current[c] = loss.objective(X[members], centers[c], sample_weight[members])
    margin = max(1e-9, 8 * np.finfo(X.dtype).eps)

    # second-order terms of the screen: re-optimisation gains of each sample leaving
    # its cluster (``removal``, its members only: recomputed whenever the cluster
    # changes) and joining each other one (``insertion``, a pass over all the data:
    # recomputed once the cluster's weight has changed by 5% since, and for every
    # cluster before the search is allowed to stop -- a stale term only reorders
    # the candidates, every transfer is verified exactly)
    second_order = loss.has_curvature
    # (the terms of the weights times a power of two that brings their sum to at
    # most 1, scaled back: exact, and a cluster's curvature, its weight over
    # sigma^2 for correntropy, and Newton's w^2 overflowed for large weights, 1e200
    # with sigma 1e-150, giving screens of inf and NaN and another partition)
    term_exponent = max(math.frexp(float(w.sum()))[1], 0)
    term_weight = np.ldexp(sample_weight, -term_exponent)

    def scaled_back(gains):
        with np.errstate(over="ignore"):  # (beyond float64: inf, as an estimate can be)
            return np.ldexp(gains, term_exponent)

    removal = np.zeros(n_samples)
    insertion = np.zeros((n_samples, n_clusters))
    curvatures = [0.0] * n_clusters  # (an empty cluster has none)
    drift = np.zeros(n_clusters)  # weight moved in or out since ``insertion[:, c]``
    stale = False

    def update_removal(clusters):
        for c in clusters:
            members = np.flatnonzero(labels == c)
            if not members.size:
                continue
            if loss.euclidean:
                curvatures[c], gains = loss.cluster_terms(
                    X, centers[c], term_weight[members], d2=d2[members, c]
                )
            else:
                curvatures[c], gains = loss.cluster_terms(
                    _kernels.dense_rows(X, members), centers[c], term_weight[members]
                )
            removal[members] = scaled_back(gains)

    def update_insertion(clusters):
        for c in clusters:
            drift[c] = 0
            if loss.euclidean:
                insertion[:, c] = scaled_back(
                    loss.reopt_gain(X, centers[c], term_weight, curvatures[c], 1, d2=d2[:, c])
                )
                continue
            for sl in _kernels._slices(n_samples):
                insertion[sl, c] = scaled_back(loss.reopt_gain(
                    _kernels.dense_rows(X, rows[sl]), centers[c], term_weight[sl],
                    curvatures[c], 1,
                ))  # fmt: skip

    if second_order:
        update_removal(range(n_clusters))
        update_insertion(range(n_clusters))

    for _ in range(10 * max_iter):
        Wa = W[labels]
        own = w * costs[rows, labels]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            # the square loss's formula: the re-optimisation gains of a mean (the
            # weights' ratio first, as in _hartigan: the product of two weights
            # overflowed from 1e154 on, and every screen was inf: no transfer)
            gain = Wa / (Wa - w) * own
            screen = w[:, None] * (W[None, :] / (W[None, :] + w[:, None])) * costs
            if second_order:
                # Newton's estimates, capped by what is possible: removing i cannot
                # lower the rest of its cluster's cost below 0, nor adding it lower
                # the cluster's cost below what it was. An infinite estimate (no
                # curvature left) of a separable loss comes from a few coordinates
                # and takes the cap; for a Euclidean loss the quadratic model then
                # says nothing at all (an epsilon_insensitive cluster whose samples
                # all lie in their balls) and the square loss's formula stands
                rest = np.maximum(current[labels] - own, 0)
                added = w[:, None] * costs
                capped_gain = own + np.minimum(removal, rest)
                capped_screen = added - np.minimum(insertion, added)
                if loss.euclidean:
                    gain = np.where(np.isfinite(removal), capped_gain, gain)
                    screen = np.where(np.isfinite(insertion), capped_screen, screen)
                else:
                    gain, screen = capped_gain, capped_screen
            # a cluster's last sample of positive weight never leaves
            removal_gain = np.where(Wa > w, gain, np.nan)
        screen -= removal_gain[:, None]
        screen[rows, labels] = np.inf
        # the best candidates (NaN and inf sort last), without sorting all n k
        values = screen.ravel()
        tries = min(_HARTIGAN_TRIES, values.size)
        flat = np.argpartition(values, tries - 1)[:tries]
        flat = flat[np.argsort(values[flat], kind="stable")]
        flat = flat[values[flat] < 0]
        # verified one at a time against the clusters the transfers before it left
        # (a later candidate of a changed cluster is measured at its new center and
        # cost: its screen value is stale, the verification is not). Only pairs
        # sharing no cluster, one transfer each, took 1,014 rounds, each a screen of
        # n x k, on 100,000 x 16 blobs, k = 20
        used = np.zeros(n_clusters, bool)
        moved = set()
        for i, b in zip(*np.unravel_index(flat, screen.shape), strict=True):
            a = labels[i]
            if i in moved:
                continue
            keep = np.flatnonzero(labels == a)
            keep = keep[keep != i]
            if not sample_weight[keep].sum() > 0:
                continue  # (W drifts by rounding: never empty a cluster)
            join = np.append(np.flatnonzero(labels == b), i)
            center_a, cost_a = solve(keep, centers[a])
            center_b, cost_b = solve(join, centers[b])
            # the gain must exceed the rounding of the two clusters' costs
            before = current[a] + current[b]
            if cost_a + cost_b < before - margin * max(before, np.finfo(np.float64).tiny):
                labels[i] = b
                W[a] -= w[i]
                W[b] += w[i]
                centers[a], centers[b] = center_a, center_b
                current[a], current[b] = cost_a, cost_b
                drift[a] += w[i]
                drift[b] += w[i]
                used[a] = used[b] = True
                moved.add(i)
        touched = np.flatnonzero(used)
        if verbose:
            print(f"Hartigan round: {_count(len(moved), 'verified transfer')}.")
        if touched.size == 0:
            if not stale:
                break
            update_insertion(range(n_clusters))  # a last look with fresh terms
            stale = False
            continue
        n_iter += 1
        path.append(float(current.sum()))
        refresh_costs(touched)
        if second_order:
            update_removal(touched)
            update_insertion(touched[drift[touched] > 0.05 * W[touched]])
            stale = bool(np.any(drift > 0))

    return _settled(
        X, sample_weight, x_sq, labels, centers, loss, max_iter, tol, n_threads, verbose,
        n_iter, path,
    )  # fmt: skip


def _macqueen(
    X, sample_weight, x_sq, centers_init, loss, max_iter, tol, n_threads, verbose, random_state
):
    """MacQueen's online k-means (square loss): samples are visited in a random order
    and each cluster mean is updated as soon as a batch of ``_MACQUEEN_BATCH`` samples
    has been (re)assigned; one pass over the data is one iteration."""
    n_samples, n_clusters = X.shape[0], centers_init.shape[0]
    w = sample_weight.astype(np.float64)
    centers = np.array(centers_init, dtype=np.float64)
    labels, costs = _kernels.assign(X, x_sq, centers.astype(X.dtype), loss, n_threads)
    W = np.bincount(labels, weights=w, minlength=n_clusters)
    sums = _kernels.cluster_sums(X, w, labels, n_clusters, n_threads)
    churn = _Churn(n_clusters)
    path = []
    reseed = _Reseeding()
    nonempty = W > 0
    centers[nonempty] = sums[nonempty] / W[nonempty, None]
    # a cluster of copies of one row on that row, where its mean can round off it:
    # centers a rounding apart traded the copies pass after pass (52 passes with
    # tol=0 for 5 rows repeated, k = 6, where Lloyd stops after 1; a user's review),
    # and kept there: a batch updates the centers of the clusters it changed only
    _pin_copies(X, sample_weight, labels, centers)
    for it in range(max_iter):
        # a center with no sample moves onto the samples of largest cost, where the
        # next visits can give it members (as Lloyd re-seeds empty clusters, and
        # given up as there once a pass after it does not lower the objective)
        reseed(X, costs, labels, W, centers, sample_weight, float(np.dot(sample_weight, costs)))
        old = centers.copy()
        n_moved = 0
        perm = random_state.permutation(n_samples)
        for start in range(0, n_samples, _MACQUEEN_BATCH):
            idx = np.sort(perm[start : start + _MACQUEEN_BATCH])
            Xb = X[idx]
            C = centers.astype(X.dtype)
            csq = np.einsum("ij,ij->i", C, C)
            d2 = _kernels._sq_dist_chunk(Xb, x_sq[idx], C, csq)
            new = np.argmin(d2, axis=1).astype(np.int32)
            # exact distances where the expansion is noise (sparse data is not
            # centered: tight clusters far from the origin)
            _kernels.exact_rank(Xb, x_sq[idx], C, csq, d2, new)
            moved = np.flatnonzero(new != labels[idx])
            if moved.size:
                n_moved += moved.size
                rows = Xb[moved]
                wm = w[idx[moved]]
                origin, target = labels[idx[moved]], new[moved]
                sums += _kernels._cluster_sums(rows, target, wm, n_clusters, labels_old=origin)
                weight_out = np.bincount(origin, weights=wm, minlength=n_clusters)
                weight_in = np.bincount(target, weights=wm, minlength=n_clusters)
                W -= weight_out
                W += weight_in
                churn.add(weight_out + weight_in)
                labels[idx[moved]] = target
                # (the sums and weights are both updated by the samples that move:
                # a cluster's recomputed once their rounding exceeds what its weight
                # allows, see _Churn; an emptied one's are then 0, not W's rounding)
                churn.refresh(X, w, labels, sums, W, n_threads, weights=True)
                # (a cluster refreshed there is one of them: its churn came from
                # this batch's moves, the refresh of the last batch having reset it)
                changed = np.zeros(n_clusters, dtype=bool)
                changed[origin] = changed[target] = True
                changed &= W > 0
                centers[changed] = sums[changed] / W[changed, None]
        _pin_copies(X, sample_weight, labels, centers)
        costs = _kernels.own_costs(X, x_sq, labels, centers.astype(X.dtype), loss, n_threads)
        path.append(float(np.dot(sample_weight, costs)))
        if verbose:
            moved = _count(n_moved, "sample")
            print(f"Iteration {it}, inertia {_shown(verbose, path[-1])}, {moved} moved.")
        # no sample moved: a fixed point, even with a cluster left empty (too few
        # distinct samples of positive weight: the next pass would re-seed it on the
        # same sample, in vain); a small shift stops only once none is empty
        if n_moved == 0:
            if verbose:
                print(f"Converged at iteration {it}: no sample moved.")
            break
        shift = tol.shift(old, centers)
        if shift <= tol.value and np.all(W > 0):
            if verbose:
                shown = tol.in_data_units(shift)
                print(f"Converged at iteration {it}: center shift {shown} within tolerance {tol}.")
            break
    centers = centers.astype(X.dtype)
    labels, costs = _kernels.assign(X, x_sq, centers, loss, n_threads)
    inertia = float(np.dot(sample_weight, costs))
    path.append(inertia)
    return labels, inertia, centers, it + 1, path


def _pilot_rows(n_positive, n_features, n_clusters):
    """Rows of the pilot's subsample: ``_PILOT_SIZE``, fewer where they would hold
    more than ``_PILOT_VALUES`` values, at least 10 per cluster, at most all."""
    wide = max(_PILOT_VALUES // max(n_features, 1), 10 * n_clusters)
    return int(min(n_positive, _PILOT_SIZE, wide))


def _pilot_scales(X, sample_weight, x_sq, n_clusters, random_state, n_threads):
    """Residual scales for ``"auto"``: a k-medians fit (``absolute`` loss, k-means++
    seeding, 10 Lloyd iterations) on a subsample of at most ``_PILOT_SIZE`` samples
    of positive weight (``_pilot_rows``: fewer for very wide data), robust to the
    outliers the robust losses are meant for.

    Returns the median, over the coordinates whose residuals vary, of each
    coordinate's median absolute residual (coordinates that are constant within the
    clusters, such as constant or one-hot columns, would otherwise drag it to 0),
    and the median distance of a sample to its center; medians weighted by
    ``sample_weight``, so that an integer weight is the sample repeated and a zero
    weight the sample removed."""
    positive = np.flatnonzero(sample_weight > 0)
    size = _pilot_rows(positive.size, X.shape[1], n_clusters)
    # every sample when the pilot takes them all: no draw, whose use of the random
    # state would depend on their number (repeated rows would then seed the pilot
    # differently from the same rows weighted)
    idx = positive if size == positive.size else np.sort(random_state.choice(positive, size, False))
    Xs = _kernels.dense_rows(X, idx)
    ws, xs = sample_weight[idx], x_sq[idx]
    k = min(n_clusters, len(idx))
    pilot = get_loss("absolute")
    init = kmeans_plusplus(Xs, k, pilot, xs, random_state, ws, n_threads)
    labels, _, centers, _, _ = _lloyd(Xs, ws, xs, init, pilot, 10, _Tolerance(0.0), n_threads, 0)
    mad, median_dist = _residual_scales(np.abs(Xs - centers[labels]), ws)
    if not median_dist > 0:
        # no residuals (n_clusters at least the distinct samples: a center on each):
        # those about the samples' weighted median, the pilot's with one cluster, so
        # that the scale is in the data's units; 1.0 where the samples are all one
        mad, median_dist = _residual_scales(np.abs(Xs - weighted_median(Xs, ws)), ws)
    return mad or 1.0, median_dist or 1.0


def _residual_scales(R, ws):
    """``_pilot_scales``'s MAD and median distance of the absolute residuals ``R``
    (weighted by ``ws``), or their weighted means where the medians are 0: both 0
    only where every residual is."""
    dist = np.sqrt(np.einsum("ij,ij->i", R, R, dtype=np.float64))
    per_coordinate = weighted_median(R, ws).astype(np.float64)
    varying = per_coordinate[per_coordinate > 0]
    mad = float(np.median(varying)) if varying.size else 0.0
    median_dist = float(weighted_median(dist[:, None], ws)[0])
    if not mad > 0:
        mad = float(np.average(R, weights=np.broadcast_to(ws[:, None], R.shape)))
    if not median_dist > 0:
        median_dist = float(np.average(dist, weights=ws))
    return mad, median_dist


class LossKMeans(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """K-means clustering under a robust loss.

    The cost of a sample ``x`` to a center ``m`` is one of six losses; each center is
    the exact minimiser of its cluster's weighted cost (a stationary point for the
    non-convex ``correntropy``), so the objective ``inertia_`` never increases from one
    iteration to the next. With ``loss="square"`` this is :class:`sklearn.cluster.KMeans`
    (same labels, centers and inertia from the same init), except where KMeans decides
    by rounding (a sample at equal distance from two centers goes to the lower index
    here) and where its re-seeding of an empty cluster would empty another (here the
    last member of a cluster is never taken) or pick a sample of weight 0 (which
    would leave the cluster empty: here only samples of positive weight are taken).

    ======================= =========================================== =========================
    loss                    cost of ``x`` to ``m``                      center of a cluster
    ======================= =========================================== =========================
    ``square``              ``sum_j (x_j - m_j)^2``                     weighted mean
    ``absolute``            ``sum_j |x_j - m_j|``                       coordinatewise weighted
                                                                        median
    ``huber``               ``sum_j h(x_j - m_j)``, ``h(r) = r^2/2`` if coordinatewise Huber
                            ``|r| <= delta`` else                       estimate (safeguarded
                            ``delta (|r| - delta/2)``                   Newton, exact)
    ``pseudo_huber``        ``sum_j delta^2 (sqrt(1 + (r_j/delta)^2)    coordinatewise
                            - 1)``                                      (safeguarded Newton)
    ``correntropy``         ``1 - exp(-||x - m||^2 / (2 sigma^2))``     half-quadratic fixed
                                                                        point (extrapolated)
    ``epsilon_insensitive`` ``max(0, ||x - m|| - epsilon)``             Newton on a smoothed
                                                                        cost (exact); checked
                                                                        Weiszfeld steps in
                                                                        Lloyd iterations
    ======================= =========================================== =========================

    Parameters
    ----------
    n_clusters : int, default=8
        The number of clusters.
    loss : {"square", "absolute", "huber", "pseudo_huber", "correntropy", \
            "epsilon_insensitive"}, default="square"
        The cost of a sample to its center.
    delta : float > 0 or "auto", default=1.0
        Scale of ``huber`` and ``pseudo_huber``: residuals (per coordinate) smaller than
        ``delta`` cost quadratically, larger ones linearly. ``"auto"`` uses
        ``1.345 * 1.4826 * MAD``, with MAD the median over the coordinates of each
        coordinate's median absolute residual (leaving out those whose median is 0,
        such as constant or one-hot columns) in a pilot k-medians fit (``absolute``
        loss, so outliers do not inflate it) on at most 2000 samples of positive
        weight (fewer for very wide data: at most 2**24 values, at least 10 samples
        per cluster), medians weighted by ``sample_weight`` (where the pilot leaves no
        residuals, ``n_clusters`` being at least the number of distinct samples, the
        residuals about the samples' weighted median; MAD 1.0 where those are 0 too,
        all samples equal: ``delta`` about 1.99); 1.4826 MAD estimates the
        noise's standard deviation and 1.345 is Huber's constant for 95% efficiency
        under Gaussian noise. Ignored by other losses (but validated, as every
        parameter is: a grid may pair any loss with any valid scale). The pilot
        draws from its own generator, seeded from ``random_state`` without
        consuming it: a fit with ``"auto"`` is the fit with the resolved number, and
        an ``"auto"`` the loss ignores changes nothing and costs nothing (no pilot:
        its ``delta_`` is NaN).
    sigma : float > 0 or "auto", default=1.0
        Kernel width of ``correntropy``; samples farther than a few ``sigma`` from a
        center barely pull it. ``"auto"`` uses the median distance of a sample to its
        center in the pilot k-medians fit. Ignored by other losses (but validated).
    epsilon : float >= 0 or "auto", default=1.0
        Radius of the zero-cost ball of ``epsilon_insensitive``. ``"auto"`` uses half
        the median pilot distance. Ignored by other losses (but validated).
    init : {"k-means++", "random"}, callable or array-like of shape \
            (n_clusters, n_features), default="k-means++"
        ``"k-means++"`` seeds greedily with probability proportional to
        ``sample_weight`` times the cost under the loss (the Euclidean distance for
        ``epsilon_insensitive``); for ``square`` it draws the same seeds as
        :class:`~sklearn.cluster.KMeans`. ``"random"`` draws ``n_clusters`` samples. A
        callable is called as ``init(X, n_clusters, random_state=random_state)``
        with ``X`` as given to ``fit`` (validated; ``fit`` works on ``X`` centered
        on its mean for the Euclidean losses, where :class:`~sklearn.cluster.KMeans`
        passes the centered data, but the callable gets ``X`` bit for bit, except
        where ``copy_x=False`` centers the caller's ``X`` in place: it then gets
        ``X`` restored from its centered values, up to rounding) and returns
        centers in the same coordinates. With ``copy_x=True`` it gets a copy, never
        the caller's array itself, so that it may write into it.
    n_init : "auto" or int, default="auto"
        Number of initialisations; the run of least objective is kept (for
        ``"square"``, as in KMeans, a later run replaces an earlier one only if it
        is a different clustering). ``"auto"`` is 10 for ``"random"`` and
        callables, 1 otherwise.
    max_iter : int, default=300
        Maximum number of iterations of one run.
    tol : float, default=1e-4
        Relative tolerance on the squared center shift (times the mean feature
        variance), as in :class:`~sklearn.cluster.KMeans`. The variance is that of
        ``X`` unweighted, as KMeans's, so a fit stopped by ``tol`` can stop an
        iteration apart with integer ``sample_weight`` and with the same rows
        repeated; ``tol=0`` runs to a fixed point. The robust losses stop by the
        shift only once the objective, too, has fallen by at most ``tol`` of its
        value in the last iteration: outliers inflate the variance (not the robust
        objective), and the shift alone would end such fits after an iteration.
    algorithm : {"lloyd", "hartigan", "macqueen"}, default="lloyd"
        ``"lloyd"``: batch assignment then exact center update, every loss.
        ``"hartigan"``: Lloyd followed by Hartigan's single-sample transfers (every
        loss; for the robust losses each transfer is verified by solving the two
        centers exactly); never worse than Lloyd from the same init. ``"macqueen"``: online
        updates of the means while samples are visited (``square`` only).
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the ``"auto"`` pilot and MacQueen's visiting order.
    copy_x : bool, default=True
        If False, dense ``X`` is centered in place during ``fit`` and restored after,
        up to rounding as in :class:`~sklearn.cluster.KMeans` (Euclidean losses:
        ``square``, ``correntropy``, ``epsilon_insensitive``; the separable losses
        work on ``X`` as given and never copy it). A ``fit`` that raises restores it
        too (KMeans leaves it centered): up to rounding where the data's range is
        refused, bit for bit where a parameter is. Input that has to be converted
        (another dtype or order, a list, a DataFrame), or is read-only, is copied
        anyway, and the caller's data is left as it was. While ``fit`` runs, ``X``
        holds other values: no other thread may read it meanwhile (another fit on
        the same array, ``copy_x=False`` or not, or ``predict``) -- it would get
        wrong results, without an error, as with :class:`~sklearn.cluster.KMeans`.
        With ``copy_x=True`` fits in several threads share ``X`` safely.
    verbose : int, default=0
        Print the objective at each iteration.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centers, in the dtype of ``X`` (float32 or float64).
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training sample.
    inertia_ : float
        Objective: the sum over samples of ``sample_weight`` times the cost to the
        assigned center.
    n_iter_ : int
        Iterations of the best run: Lloyd (or MacQueen) iterations, plus, for
        ``"hartigan"``, its transfer rounds (at most ``10 * max_iter``) and the Lloyd
        iterations that settle them, so it can exceed ``max_iter``.
    delta_, sigma_, epsilon_ : float
        The scales, with ``"auto"`` resolved from the data for the scale the loss
        uses; NaN for an ``"auto"`` the loss ignores (``delta="auto"`` with
        ``loss="square"``), which is not estimated.
    objective_path_ : list of float
        Objective after each assignment step of the best run, then the final one
        (non-increasing for ``"lloyd"`` and ``"hartigan"``, up to the rounding of
        the centers to the dtype of ``X`` in the entries taken at the centers as
        stored: the last one and, for ``correntropy`` and ``epsilon_insensitive``,
        those of the iterations with exact centers that end a Lloyd run. That
        rounding shows only where the data's spread is a few float32 steps at its
        offset: 1e-4 of the objective on float32 data at 1e4 with a spread of 1e-2).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    sklearn.cluster.KMeans : the square loss, with Elkan's algorithm too.
    robustkmeans.select_k : choose ``n_clusters`` with the elbow or silhouette.

    Notes
    -----
    A Lloyd iteration costs O(n_samples * n_clusters * n_features). The Euclidean
    losses (``square``, ``correntropy``, ``epsilon_insensitive``) assign by one matrix
    product per chunk of samples, since their cost is non-decreasing in the Euclidean
    distance; ties in cost go to the smaller Euclidean distance, then the lower index.
    The expanded distances ``||x||^2 - 2 x.m + ||m||^2`` (of dense ``X`` centered on
    its mean, in ``fit`` and in ``predict``) are replaced by the exact
    ``||x - m||^2`` where they cannot be resolved: for the samples whose distance to
    their center is tiny next to the norms (tight clusters far from the mean), in
    every pass, so that ``inertia_`` and ``transform`` stay exact and the objective
    does not rise on rounding noise; and, in the final assignment and ``predict``,
    for the samples within rounding of two centers, so that exact ties go to the
    lower index. ``labels_`` agree with ``predict`` and ``inertia_`` with ``-score``
    on the training data.
    ``correntropy`` and ``epsilon_insensitive`` take one majorise-minimise step per
    iteration (for the latter Weiszfeld's, or, where Weiszfeld's raised the cost,
    the exact solver's center of the cluster the step was for, to 1e-4 of its mean
    cost), and finish with the exact solver on the
    final clusters; if that moves samples, the iterations go on with the exact
    solver as their update until no sample moves, the centers move within ``tol``
    (as the other iterations stop; with ``tol=0`` the result is a fixed point of
    the assignment and the exact centers) or ``max_iter``. Empty clusters
    are moved onto the samples of largest cost, until a move fails to lower the
    objective (more clusters than distinct points: those samples are at their
    centers but for rounding); they then stay empty, with a ``ConvergenceWarning``.
    A sample moves with all its weight, as in KMeans, so there a sample of integer
    weight ``c`` and ``c`` copies of it part (one copy moves). A cluster whose
    members are copies of one row has that row as its center (for dense data of
    a Euclidean loss, up to the rounding of adding back the mean ``fit`` centers
    ``X`` on, as KMeans's: its cost, in ``inertia_`` and ``transform``, is 0).
    Sparse input is accepted by the Euclidean losses.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans import LossKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0], [10, 9.]])
    >>> km = LossKMeans(n_clusters=2, loss="absolute", random_state=1).fit(X)
    >>> km.labels_
    array([0, 0, 0, 1, 1, 1, 1], dtype=int32)

    The centers are coordinatewise medians: the sample at ``y = 9`` moves the second
    center's ``y`` to 3 (the mean would be 3.75).

    >>> km.cluster_centers_
    array([[ 1.,  2.],
           [10.,  3.]])
    >>> km.inertia_
    15.0
    >>> km.predict([[0, 0], [12, 3]])
    array([0, 1], dtype=int32)
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "loss": [StrOptions(set(LOSS_NAMES))],
        "delta": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "sigma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "epsilon": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "algorithm": [StrOptions(set(_ALGORITHM_LOSSES))],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        loss="square",
        delta=1.0,
        sigma=1.0,
        epsilon=1.0,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        algorithm="lloyd",
        random_state=None,
        copy_x=True,
        verbose=0,
    ):
        self.n_clusters = n_clusters
        self.loss = loss
        self.delta = delta
        self.sigma = sigma
        self.epsilon = epsilon
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state
        self.copy_x = copy_x
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.loss in _SPARSE_LOSSES
        # (ClusterMixin empties the list: transform keeps float32 as float32)
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- validation helpers -------------------------------------------------------
    def _check_test_data(self, X):
        X = validate_data(
            self,
            X,
            accept_sparse=self._accept_sparse(self._loss.name),
            reset=False,
            dtype=[np.float64, np.float32],
            order="C",
            accept_large_sparse=False,
        )
        return X

    # (``loss``: the ``loss`` parameter in ``fit``, the fitted loss's name after it,
    # which a later ``set_params`` does not change)
    @staticmethod
    def _accept_sparse(loss):
        return "csr" if loss in _SPARSE_LOSSES else False

    @staticmethod
    def _check_sparse(X, loss):
        if loss in _SPARSE_LOSSES:
            return
        if sp.issparse(X):
            # in a Pipeline the sparse matrix is often a step's output, not the user's X
            convert = (
                "X.toarray(); where a step before this one in a Pipeline made X "
                "sparse, ask it for dense output: OneHotEncoder(sparse_output=False), "
                "ColumnTransformer(sparse_threshold=0)"
            )
        elif _is_sparse_frame(X):  # validate_data makes it a sparse matrix
            convert = "X.sparse.to_dense()"
        else:
            return
        raise TypeError(
            f"Sparse input is not supported with loss={loss!r} (its centers are "
            f"coordinatewise medians/M-estimates). Use one of {_SPARSE_LOSSES} or "
            f"convert X with {convert}."
        )

    def _resolve_n_init(self):
        if self.n_init != "auto":
            n_init = self.n_init
        elif isinstance(self.init, str) and self.init == "k-means++":
            n_init = 1
        elif isinstance(self.init, str) or callable(self.init):
            n_init = 10
        else:
            n_init = 1
        if _is_arraylike_not_scalar(self.init) and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=outside_stacklevel(),
            )
            n_init = 1
        return n_init

    def _init_centers(
        self, X, x_sq, init, loss, random_state, sample_weight, n_threads, X_mean=None,
        X_given=None, shared=False,
    ):  # fmt: skip
        if isinstance(init, str) and init == "k-means++":
            return kmeans_plusplus(
                X, self.n_clusters, loss, x_sq, random_state, sample_weight, n_threads
            )
        if isinstance(init, str) and init == "random":
            return random_init(X, self.n_clusters, random_state, sample_weight)
        if callable(init):
            # the callable sees the data as the caller gave it, not centered
            if X_mean is not None and X_given is None:
                # X centered in place (copy_x=False): restored, up to rounding (a
                # temporary of its own)
                given = X + X_mean
            else:
                # bit for bit: X not centered, or the uncentered X kept (X_given); a
                # copy with copy_x=True (``shared``), so that a callable writing into
                # its argument changes neither the caller's X nor the next init's, nor
                # the array the fit runs on: a conversion of the caller's (int, list,
                # Fortran order) was handed over itself, and a callable shuffling it
                # left labels_ out of line with X (the separable losses, which fit it
                # as it is; a user's review)
                given = X if X_mean is None else X_given
                if shared:
                    given = given.copy()
            centers = init(given, self.n_clusters, random_state=random_state)
            centers = check_array(centers, dtype=X.dtype, copy=True, order="C")
            self._validate_center_shape(X, centers)
            if X_mean is not None:
                centers -= X_mean.astype(X.dtype)
            return centers
        return np.array(init, dtype=X.dtype, copy=True)

    def _validate_center_shape(self, X, centers):
        if centers.shape != (self.n_clusters, X.shape[1]):
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"(n_clusters, n_features) = ({self.n_clusters}, {X.shape[1]})."
            )

    def _resolved_scales(self, X, sample_weight, x_sq, random_state, n_threads):
        """``delta``, ``sigma``, ``epsilon`` as numbers, the one the loss uses checked
        against the data's precision. ``"auto"`` is estimated from the centered ``X``
        where the loss uses that scale; an ``"auto"`` the loss ignores is NaN (not
        estimated: the pilot fit behind it would cost more than a small fit)."""
        scales = {"delta": self.delta, "sigma": self.sigma, "epsilon": self.epsilon}
        param = LOSSES[self.loss]
        estimated = param is not None and isinstance(scales[param], str)
        if estimated:
            # the pilot draws from its own generator, seeded from the fit's without
            # consuming it: the fit's initialisation is then the same whether the
            # scale is "auto" or a number, so that a grid over loss and scales
            # compares like with like (an "auto" the loss ignores runs no pilot)
            # (the seed is drawn from a copy of the state: the fit's generator, maybe
            # numpy's global one, is only read, never rewound)
            seeder = copy.deepcopy(random_state)
            pilot_state = np.random.RandomState(seeder.randint(np.iinfo(np.int32).max))
            # (data whose costs overflow the pilot's float32 gives infinite scales,
            # which the range checks below refuse with their own message: no
            # overflow warnings from the pilot ahead of it)
            with np.errstate(over="ignore", invalid="ignore"):
                mad, dist = _pilot_scales(
                    X, sample_weight, x_sq, self.n_clusters, pilot_state, n_threads
                )
            auto = {"delta": 1.345 * 1.4826 * mad, "sigma": dist, "epsilon": 0.5 * dist}
            scales[param] = auto[param]
        scales = {k: float("nan") if isinstance(v, str) else float(v) for k, v in scales.items()}
        _check_scale_range(self.loss, scales, X.dtype, auto=estimated)
        return scales

    # -- fit ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples. Sparse input (CSR) for the Euclidean losses only.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights multiplying each sample's cost.

        Returns
        -------
        self : LossKMeans
            Fitted estimator.
        """
        # validate_data sets n_features_in_ (and feature_names_in_) from X before
        # anything can fail: a fit that raises puts back those of the last fit, which
        # go with its centers (none if there was none), so that it stays whole
        seen = {k: v for k, v in vars(self).items() if k in _SET_BY_VALIDATION}
        try:
            return self._fit(X, sample_weight)
        except BaseException:
            for name in _SET_BY_VALIDATION:
                vars(self).pop(name, None)
            vars(self).update(seen)
            raise

    def _fit(self, X, sample_weight):
        if self.loss not in _ALGORITHM_LOSSES[self.algorithm]:
            supported = sorted(_ALGORITHM_LOSSES[self.algorithm])
            raise ValueError(
                f"algorithm={self.algorithm!r} supports loss in {supported}; got "
                f"loss={self.loss!r}. Use algorithm='lloyd', which supports every loss."
            )
        self._check_sparse(X, self.loss)
        # only the Euclidean losses center X (below): the copy protects the caller's
        centers_x = get_loss(self.loss, 1.0).euclidean
        X_arg = X
        X = validate_data(
            self,
            X,
            accept_sparse=self._accept_sparse(self.loss),
            dtype=[np.float64, np.float32],
            order="C",
            # (a dense X is copied while it is centered, below: one pass fewer)
            copy=self.copy_x and centers_x and sp.issparse(X_arg),
            accept_large_sparse=False,
        )
        # the centered X is ours (a conversion of the caller's input, or a centered
        # copy with copy_x), or the caller's array itself, centered in place and
        # restored after (sparse X is never centered)
        owned = sp.issparse(X) or not _shares_memory(X, X_arg)
        private = owned or self.copy_x
        n_samples = X.shape[0]
        if n_samples < self.n_clusters:
            raise ValueError(
                f"n_samples={n_samples} should be >= n_clusters={self.n_clusters}. "
                "Lower n_clusters or pass more samples."
            )
        random_state = check_random_state(self.random_state)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        with np.errstate(over="ignore"):  # (an infinite sum: refused with the data's range)
            weight_sum = float(sample_weight.sum())
        if not weight_sum > 0:
            raise ValueError("sample_weight sums to zero: at least one weight must be positive.")
        # tiny or huge weights: the fit of the weights times a power of two, the
        # objective scaled back (exactly) at the end; the range checks below take
        # ``weight_sum``, the sum as given
        weight_exponent = _weight_exponent(weight_sum)
        if weight_exponent:
            sample_weight = np.ldexp(sample_weight, -weight_exponent)
        n_threads = _n_threads()
        n_init = self._resolve_n_init()

        init = self.init
        init_is_array = _is_arraylike_not_scalar(init)
        if init_is_array:
            init = check_array(init, dtype=X.dtype, copy=True, order="C")
            self._validate_center_shape(X, init)
        # a scale given as a number is checked against the dtype before X is centered
        # in place: a parameter error leaves the caller's X bit for bit (restoring it
        # can change last bits)
        scale_param = LOSSES[self.loss]
        if scale_param is not None and not isinstance(getattr(self, scale_param), str):
            given = {scale_param: float(getattr(self, scale_param))}
            _check_scale_range(self.loss, given, X.dtype)

        # every loss depends on x - m only: centering X costs nothing and makes the
        # expanded Euclidean distances accurate, as in scikit-learn's KMeans. The
        # separable losses work on the exact differences x - m and gain nothing from
        # it; uncentered, their centers (medians: sample values) and their ties are
        # exactly those of the data, as predict sees them
        X_mean = None
        # X as validated, for a callable init, where it is not centered in place
        # (with copy_x=False a callable sees X restored from its centered values)
        X_given = None
        if not sp.issparse(X) and centers_x:
            X_mean = X.mean(axis=0)
            in_place = owned or (not self.copy_x and X.flags.writeable)
            if in_place and not (owned and callable(init)):
                X -= X_mean
            else:
                # copy_x, a read-only array (which cannot be centered in place), or
                # our conversion that a callable init is to see as it is (X_mean
                # added back to the centered values is X only up to rounding): a
                # centered copy
                X_given, (X, private) = X, (X - X_mean, True)
            if init_is_array:
                init -= X_mean
        x_sq_max = None
        try:
            x_sq = _kernels.row_sq_norms(X)
            if centers_x:
                # (kept for predict's check of narrower data: fit's own bound)
                x_sq_max = _check_squares_fit(
                    X, x_sq, X.dtype, self.loss, weight_sum, X_mean is not None
                )
            tol = _tolerance(X, self.tol)
            scales = self._resolved_scales(X, sample_weight, x_sq, random_state, n_threads)
        except BaseException:
            if X_mean is not None and not private:
                X += X_mean  # the caller's array, as it was
            raise
        param = LOSSES[self.loss]
        loss_obj = get_loss(self.loss, scales.get(param))
        extremes = None
        if not loss_obj.euclidean:
            # (before any seeding: k-means++ sums these costs too)
            extremes = _kernels.column_extremes(X, n_threads)
            initial = init if init_is_array else None
            _check_costs_fit(*extremes, initial, loss_obj, weight_sum, n_samples)

        if self.algorithm == "hartigan":
            run = _hartigan if self.loss == "square" else _hartigan_exact
        elif self.algorithm == "macqueen":

            def run(*args):
                return _macqueen(*args, random_state=random_state)
        else:
            run = _lloyd

        # the last assignment by predict's rule: the centered X holds X - X_mean as
        # predict computes it chunk by chunk, and the centers are shifted as predict
        # shifts the stored ones, so that labels_ == predict(X) and
        # inertia_ == -score(X). Lloyd ends with it; other runs are followed by it
        def predict_rule(run_centers):
            stored = _stored_centers(run_centers, X_mean, X.dtype)
            shifted = _kernels._shifted(stored, X_mean)
            return _kernels.assign(X, x_sq, shifted, loss_obj, n_threads)

        in_run = loss_obj.euclidean and run is _lloyd and private
        if in_run:

            def run(*args):
                return _lloyd(*args, assign=predict_rule)

        best = None
        # (the runs print objectives in the units of the weights as given)
        verbose = _Verbose(self.verbose, weight_exponent)
        # BLAS limited once for the whole fit, not once per pass
        with _kernels.single_threaded_blas():
            try:
                for i in range(n_init):
                    centers_init = self._init_centers(
                        X, x_sq, init, loss_obj, random_state, sample_weight, n_threads,
                        X_mean, X_given, self.copy_x,
                    )  # fmt: skip
                    if extremes is not None and callable(init):
                        _check_costs_fit(*extremes, centers_init, loss_obj, weight_sum, n_samples)
                    if verbose:
                        print("Initialization complete")
                    result = run(
                        X,
                        sample_weight,
                        x_sq,
                        centers_init,
                        loss_obj,
                        self.max_iter,
                        tol,
                        n_threads,
                        verbose,
                    )
                    if verbose:
                        print(f"Inertia for init {i + 1}/{n_init}: {_shown(verbose, result[1])}")
                    # a lower objective replaces the best run; for the square loss
                    # not if it is the same clustering, as in KMeans: its centers,
                    # the means, are then the same but for rounding (an iterative
                    # solver's centers of the same partition can differ by more,
                    # and a non-convex loss's by a local optimum)
                    if best is None or (
                        result[1] < best[1]
                        and not (
                            loss_obj.name == "square"
                            and _same_clustering(result[0], best[0], self.n_clusters)
                        )
                    ):
                        best = result
            finally:
                if X_mean is not None and not private:
                    X += X_mean
        labels, inertia, run_centers, n_iter, path = best
        centers = _stored_centers(run_centers, X_mean, X.dtype)
        if loss_obj.euclidean and not in_run:
            if private:
                labels, costs = predict_rule(run_centers)
            else:  # the caller's X, restored: predict's own path
                labels, costs = _kernels.assign(X, None, centers, loss_obj, n_threads, shift=X_mean)
            with _kernels.single_threaded_blas():  # (as the runs sum it: see score)
                inertia = float(np.dot(sample_weight, costs))
            path = path[:-1] + [inertia]
        if weight_exponent:  # (the objective of the weights as given)
            inertia = math.ldexp(inertia, weight_exponent)
            path = [math.ldexp(value, weight_exponent) for value in path]

        # (a cluster of samples of weight 0 only is no cluster: nothing determined
        # its center)
        distinct = len(np.unique(labels[sample_weight > 0]))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
                f"({self.n_clusters}). Possibly due to duplicate points in X, or to "
                "samples of weight 0.",
                ConvergenceWarning,
                stacklevel=outside_stacklevel(),
            )

        self.cluster_centers_ = centers
        self.labels_ = labels
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.objective_path_ = path
        self.delta_ = scales["delta"]
        self.sigma_ = scales["sigma"]
        self.epsilon_ = scales["epsilon"]
        self._loss = loss_obj
        self._x_mean = X_mean
        self._x_sq_max = x_sq_max
        self._n_features_out = self.n_clusters
        return self

    # -- inference ----------------------------------------------------------------
    def _prepared(self, X):
        check_is_fitted(self)
        self._check_sparse(X, self._loss.name)
        X = self._check_test_data(X)
        self._check_narrower_dtype(X.dtype)
        centers = self.cluster_centers_.astype(X.dtype, copy=False)
        if not self._loss.euclidean:
            return X, centers, None, None  # residuals x - m: no cancellation
        if sp.issparse(X):
            with np.errstate(over="ignore"):  # (refused by the pass: check=True)
                return X, centers, _kernels.row_sq_norms(X), None
        # distances expanded around the training data's mean, fit's origin (accurate
        # when the data sits far from the origin, float32 especially), or the
        # centers' mean after a sparse fit
        shift = getattr(self, "_x_mean", None)
        if shift is None:
            shift = centers.mean(axis=0)
        return X, centers, None, shift.astype(X.dtype, copy=False)

    def _check_narrower_dtype(self, dtype):
        """New data in a narrower dtype than the fit's (float32 for a model fitted in
        float64) is ranked in that dtype: refuse it, as ``fit`` would refuse data of
        that dtype, where the model's scale (``delta_``, ``sigma_``, squared; or
        ``epsilon_``) or, for the Euclidean losses, the training rows' squared
        distances from their mean (``_x_sq_max``, fit's own bound) are out of the
        dtype's normal range. Squared distances of float32
        data at 1e-25 underflowed to 0: 70% of the training samples got another
        label than ``labels_``, every cost was 0 (NaN for ``correntropy``), and no
        error was raised (a user's review)."""
        fitted = self.cluster_centers_.dtype
        if np.dtype(dtype).itemsize >= fitted.itemsize:
            return
        name, fitted_name = np.dtype(dtype).name, fitted.name
        convert = f"Convert X to {fitted_name} (X.astype(np.{fitted_name})), the fit's precision."
        param = LOSSES[self._loss.name]
        if param is not None:
            # (fit's bounds: _check_scale_range)
            value = float(getattr(self, param + "_"))
            low, high = _scale_bounds(param, dtype)
            rule = f"the loss squares it, and it must lie in [{low:.3g}, {high:.3g}]"
            if param == "epsilon":
                rule = f"at most {high:.3g}, the largest {name} number"
            if not low <= value <= high:
                raise ValueError(
                    f"X is {name}, but this model was fitted in {fitted_name} with "
                    f"{param}_={value:.3g}, which is out of range for {name} data: "
                    f"{rule}. {convert}"
                )
        # the Euclidean losses: fit's bound on the training rows' squared norms
        # (about their mean, for dense data), which fit in this dtype would have
        # checked (the centers' spread was 0 but for rounding with one cluster,
        # which refused ordinary data at 1e-5: the review of these changes)
        far = getattr(self, "_x_sq_max", None)
        if far is None:
            return  # (residuals of each feature, never squared as a whole)
        tiny, top = float(np.finfo(dtype).tiny), float(np.finfo(dtype).max)
        if 0 < far < tiny or not 4 * far <= top:
            size = "small" if far < tiny else "large"
            bound = f"below the smallest normal {name} number ({tiny:.3g})"
            if size == "large":
                bound = f"beyond the largest {name} number ({top:.3g})"
            origin = "their mean" if getattr(self, "_x_mean", None) is not None else "the origin"
            raise ValueError(
                f"X is {name}, but this model was fitted in {fitted_name} on data too "
                f"{size} for {name}: its rows lay as far as {math.sqrt(far):.3g} from "
                f"{origin}, so the squared distances that rank the samples fall {bound}. "
                f"{convert}"
            )

    def predict(self, X):
        """Index of the center of least cost for each sample.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            New data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample.
        """
        X, centers, x_sq, shift = self._prepared(X)
        return _kernels.assign(X, x_sq, centers, self._loss, _n_threads(), shift, check=True)[0]

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster index of each sample.
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def transform(self, X):
        """Cost of each sample to each center under the fitted loss.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            New data.

        Returns
        -------
        costs : ndarray of shape (n_samples, n_clusters)
            ``costs[i, c]`` is the loss of sample ``i`` to center ``c`` (the squared
            Euclidean distance for ``square``). Its row minimum is the cost of the
            sample's cluster, but ``costs.argmin(axis=1)`` can differ from
            ``predict`` where costs tie: ``predict`` breaks ties by the Euclidean
            distance, then the lower index. Ties are common for
            ``epsilon_insensitive`` (cost 0 within ``epsilon`` of several centers)
            and ``correntropy`` (cost 1 in float precision far from every center).
        """
        X, centers, x_sq, shift = self._prepared(X)
        return _kernels.cost_matrix(
            X, x_sq, centers, self._loss, _n_threads(), shift, check=True, ties=True
        )

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the cost of each sample to each center.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training samples.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights.

        Returns
        -------
        costs : ndarray of shape (n_samples, n_clusters)
            Cost of each training sample to each center.
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the objective of ``X`` under the fitted centers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            New data.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights multiplying each sample's cost, as in ``fit``
            (negative ones are refused); None weighs every sample 1.

        Returns
        -------
        score : float
            Minus the weighted sum of each sample's least cost (greater is better).

        Notes
        -----
        This is what :class:`~sklearn.model_selection.GridSearchCV` ranks by when
        given no ``scoring``. Objectives of different losses or scales are in
        different units (a ``correntropy`` cost is at most 1), and every
        objective falls as ``n_clusters`` grows, so a search over those needs a
        scorer of :mod:`robustkmeans.metrics`, e.g.
        ``scoring=make_silhouette_scorer(metric="euclidean")``, with
        ``cv=WholeSetSplit()``.
        """
        X, centers, x_sq, shift = self._prepared(X)
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        costs = _kernels.assign(X, x_sq, centers, self._loss, _n_threads(), shift, check=True)[1]
        # tiny or huge weights times a power of two, as fit scales them: their
        # products with the costs would underflow (or overflow)
        with np.errstate(over="ignore"):  # (an infinite sum: refused below)
            weight_exponent = _weight_exponent(float(sample_weight.sum()))
        # summed by one BLAS thread, as fit sums inertia_: OpenBLAS splits a long dot
        # product between its threads, whose number would change the last bits
        with np.errstate(over="ignore"), _kernels.single_threaded_blas():  # (refused below)
            objective = np.dot(np.ldexp(sample_weight, -weight_exponent), costs)
        objective = math.ldexp(float(objective), weight_exponent)
        if not np.isfinite(objective):
            name = X.dtype.name
            raise ValueError(
                f"The objective of X, the sum of its samples' costs times their "
                f"sample_weight, overflows {name} (each cost is finite). Rescale X or "
                f"sample_weight" + (", or convert X to float64." if name == "float32" else ".")
            )
        return -float(objective)
