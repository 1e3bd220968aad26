"""The six losses: the only place where a cost formula or a center rule lives.

Every loss is a small object with

* ``cost(X, centers)``: the ``(n_samples, n_clusters)`` cost of each sample to each
  center (dense ``X``; the chunking happens in :mod:`robustkmeans._kernels`);
* ``center(X, sample_weight, init=None)``: the exact minimiser of the weighted cost of
  one cluster (a stationary point for the non-convex correntropy loss).

Two families share machinery:

* *Euclidean* losses (``square``, ``correntropy``, ``epsilon_insensitive``) are a
  non-decreasing function of the Euclidean distance, ``cost = f(||x - m||^2)``, so a
  sample is assigned to the center with the smallest Euclidean distance, computed with
  one matrix product. Their centers are weighted means with per-sample coefficients
  (``mm_weight``): the mean itself for ``square``, a majorise-minimise (half-quadratic)
  step for ``correntropy`` and a Weiszfeld step for ``epsilon_insensitive``.
* *Separable* losses (``absolute``, ``huber``, ``pseudo_huber``) are sums over
  coordinates, ``cost = sum_j rho(x_j - m_j)``; their center is found coordinate by
  coordinate, vectorised over coordinates (``solve_columns``).

Prior validation is assumed: the scale is positive (non-negative for ``epsilon``) and
arrays are finite floating point.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._kernels import _slices, _sq_dist_chunk, exact_sq_distances

LOSS_NAMES = (
    "square",
    "absolute",
    "huber",
    "pseudo_huber",
    "correntropy",
    "epsilon_insensitive",
)

#: Maximum iterations of the inner solvers (Newton, half-quadratic, Weiszfeld).
_MAX_INNER = 500

#: ``pseudo_huber`` walks its center to the float of least cost (``_best_float``) in
#: the coordinates whose range is below this many spacings of its floats: solved in
#: units of delta, each sample there is rounded by about a spacing, a center off by a
#: few spacings, (2 / 1024)^2 = 4e-6 of the cost of a spread of 1024 spacings and
#: 77% of one of 2 (float32 data at 1e18, delta 1e4 spacings: the objective rose)
_NARROW_SPACINGS = 1 << 10

#: float32 clusters of at most this many values get ``epsilon_insensitive``'s exact
#: center in float64 (``EpsilonInsensitiveLoss.center``)
_FLOAT64_SOLVE_VALUES = 1 << 16

#: ``epsilon_insensitive``'s smoothed Newton tries steps of the exact Hessian up to
#: this many features (a d x d matrix per step, O(n d^2)); above it, Weiszfeld's
#: bound of the curvature only
_EXACT_HESSIAN_FEATURES = 16
#: ... once a stage has taken this many of the bound's steps (it crawls)
_CRAWL = 20
#: ... and keeps such a step if its line search ends above this fraction of it (the
#: bound's step is taken otherwise)
_EXACT_MIN_STEP = 2.0**-10


def _at_least_tiny(r):
    """``r`` raised to the smallest normal number of its dtype (a divisor)."""
    tiny = np.finfo(r.dtype).tiny if r.dtype.kind == "f" else 1e-300
    return np.maximum(r, tiny)


class _Relative:
    """The samples of one cluster relative to a start ``m``, for solvers whose center
    moves little from it: ``y_i = x_i - m0`` with ``m0 = m`` (float64).

    ``sq_distances(v)`` gives the squared distances of the samples to ``m0 + v`` from
    ``||y||^2 - 2 y.v + ||v||^2``, one matrix-vector product, and accurate because
    ``v`` is small; ``weighted_sum(a)`` is ``sum_i a_i y_i``; ``rows(idx)`` some of
    the ``y_i``, dense.

    Dense ``X``: ``Y = X - m0`` is formed (``X``'s dtype), in place with
    ``overwrite=True`` (``X`` is then the caller's scratch copy of the rows: one
    copy of a cluster fewer). Sparse ``X`` (CSR) is
    never densified: the products are taken with its rows, in float64, and corrected
    by ``m0``, and ``||y||^2`` comes from the exact differences, densified in
    bounded batches (``exact_sq_distances``). The extra memory is then a few vectors
    of ``n_features``, where a dense copy of a wide sparse cluster would be
    rows x features.
    """

    def __init__(self, X, m, overwrite=False):
        self.m0 = np.asarray(m, dtype=np.float64)
        self.dtype = X.dtype
        self.n_features = X.shape[1]
        start = self.m0.astype(X.dtype)
        if sp.issparse(X):
            self._X = X.tocsr()
            self._Y = None
            self.y_sq = exact_sq_distances(self._X, None, start[None, :])[:, 0].astype(np.float64)
        else:
            self._X = None
            self._Y = np.subtract(X, start, out=X if overwrite else None)
            self.y_sq = np.einsum("ij,ij->i", self._Y, self._Y).astype(np.float64)

    def sq_distances(self, v):
        if self._Y is not None:
            dots = self._Y @ v.astype(self.dtype)
        else:
            dots = self._X @ v - float(self.m0 @ v)
        return np.maximum(self.y_sq - 2 * dots + v @ v, 0)

    def weighted_sum(self, a):
        if self._Y is not None:
            return (a.astype(self.dtype, copy=False) @ self._Y).astype(np.float64)
        a = np.asarray(a, dtype=np.float64)
        return np.asarray(self._X.T @ a).ravel() - float(a.sum()) * self.m0

    def exact_sq_distances(self, v):
        """Exact squared distances of the samples to ``m0 + v``, from the
        differences ``y - v`` (dense) or ``x - (m0 + v)`` (sparse)."""
        if self._Y is not None:
            return exact_sq_distances(self._Y, None, v.astype(self.dtype)[None, :])[:, 0]
        center = (self.m0 + v).astype(self.dtype)[None, :]
        return exact_sq_distances(self._X, None, center)[:, 0]

    def rows(self, idx):
        if self._Y is not None:
            return self._Y[idx]
        return self._X[idx].toarray() - self.m0.astype(self.dtype)


def _one_sample(X):
    """The one row of ``X`` (dense or sparse) as a new dense vector."""
    return (X.toarray() if sp.issparse(X) else X)[0].copy()


def _weighted_mean(X, w):
    """``sum_i w_i x_i / sum_i w_i`` for dense or sparse ``X`` (a dense vector)."""
    return np.asarray(X.T @ w).ravel() / w.sum()


#: bytes of one block of rows in the separable losses' cost passes (the block, its
#: residuals and a scratch array are reused by the several elementwise passes per
#: center): at 100,000 x 512, k = 8, two threads, 1 MB blocks took huber's
#: assignment from 140-170 to 105-111 ms, absolute's from 85-105 to 87 ms and left
#: pseudo_huber's as it was (measured; 2 MB slowed pseudo_huber down 1.7x)
_CACHE_BLOCK_BYTES = 1 << 20


def _cache_rows(n_features, itemsize):
    """Rows per block of ``_CACHE_BLOCK_BYTES``, at least 8."""
    return max(8, _CACHE_BLOCK_BYTES // max(1, n_features * itemsize))


class _Loss:
    """Base class. Subclasses set ``name`` and implement the formulas."""

    name = ""
    #: name of the estimator parameter holding the scale, or None
    scale_param: str | None = None
    #: cost is a non-decreasing function of the Euclidean distance
    euclidean = False
    #: the mm/Weiszfeld step needs a check (and a fallback) to never increase the cost
    needs_line_search = False
    #: the center has a closed form (no inner iterations)
    closed_form = False
    #: a single sample's own position is its cluster's one minimiser (cost 0 there
    #: and only there); not so for ``epsilon_insensitive``, zero on a whole ball
    point_is_center = True

    @property
    def exact_update(self):
        """Whether the Lloyd update already returns the exact center for the labels
        (closed forms, and the separable losses' coordinatewise solvers), so that no
        final polish is needed and unchanged labels mean convergence."""
        return self.closed_form or not self.euclidean

    #: how a separable loss's center solver wants a cluster: ``"columns"``
    #: (``solve_columns``, coordinate-major) or ``"rows"`` (``solve_rows``, as stored)
    layout = "columns"
    #: bytes of one block handed to the solver: small enough that its repeated
    #: passes stay in the CPU cache
    block_bytes = 1 << 20

    def __init__(self, scale=None):
        self.scale = scale

    @property
    def seeding_loss(self):
        """The loss whose cost is the k-means++ potential (the loss itself by default)."""
        return self

    def __repr__(self):
        if self.scale_param is None:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}({self.scale_param}={self.scale!r})"

    # -- costs ------------------------------------------------------------------
    def cost(self, X, centers):
        """Cost of each sample in ``X`` to each row of ``centers``, ``(n, k)``."""
        centers = np.atleast_2d(centers)
        if self.euclidean:
            return self.cost_from_sq_distances(_sq_dist_chunk(X, None, centers))
        out = np.empty((X.shape[0], centers.shape[0]), dtype=np.result_type(X, centers))
        step = _cache_rows(X.shape[1], out.itemsize)
        buf = np.empty((min(step, X.shape[0]), X.shape[1]), dtype=out.dtype)
        scratch = np.empty_like(buf)
        for sl in _slices(X.shape[0], step):
            Xb = X[sl]
            b, s = buf[: Xb.shape[0]], scratch[: Xb.shape[0]]
            for j, center in enumerate(centers):
                np.subtract(Xb, center, out=b)
                out[sl, j] = self._separable_row_cost(b, s)
        return out

    def own_cost(self, X, centers, labels, rows=None):
        """Cost of each row of ``X`` to ``centers[labels]`` (separable loss), in
        blocks of rows that stay in cache; with ``rows``, of the rows ``X[rows]`` to
        ``centers[labels]`` (pairs, gathered block by block)."""
        n = X.shape[0] if rows is None else rows.shape[0]
        out = np.empty(n, dtype=np.result_type(X, centers))
        step = _cache_rows(X.shape[1], out.itemsize)
        scratch = np.empty((min(step, n), X.shape[1]), dtype=out.dtype)
        for sl in _slices(n, step):
            Xb = X[sl] if rows is None else X[rows[sl]]
            R = np.subtract(Xb, centers[labels[sl]], out=Xb if rows is not None else None)
            out[sl] = self._separable_row_cost(R, scratch[: R.shape[0]])
        return out

    # -- bounds on the cost, for a pruned assignment -----------------------------
    #: ``p`` such that ``cost(x, y) ** p`` is a metric (None: no such power is used).
    #: Elkan's bounds (``_kernels.SeparableBounds``) prune the assignment with it
    bound_power: float | None = None

    def cost_rtol(self, n_features, dtype):
        """A bound on the relative rounding error of a computed cost (a sum of
        ``n_features`` terms of a few operations each); generous, since it only
        widens the margins of the bounds."""
        return 4 * (n_features + 4) * float(np.finfo(dtype).eps)

    def cost_atol(self, n_features, dtype):
        """A bound on the absolute rounding error of a computed cost where its terms
        are subnormal (data near zero against the scale: their relative error is
        then unbounded)."""
        return 4 * (n_features + 4) * float(np.finfo(dtype).smallest_subnormal)

    def metric_lower(self, cost, n_features, dtype):
        """A lower bound (float64) on the metric ``cost ** bound_power`` of pairs whose
        computed cost is ``cost`` (0 where it is not finite)."""
        cost = np.asarray(cost, dtype=np.float64)
        low = cost * (1 - self.cost_rtol(n_features, dtype)) - self.cost_atol(n_features, dtype)
        low[~np.isfinite(cost)] = 0
        np.maximum(low, 0, out=low)
        return np.power(low, self.bound_power, out=low)

    def metric_upper(self, cost, n_features, dtype):
        """An upper bound (float64) on the metric ``cost ** bound_power`` of pairs
        whose computed cost is ``cost`` (inf where it is not finite)."""
        cost = np.asarray(cost, dtype=np.float64)
        high = cost * (1 + self.cost_rtol(n_features, dtype)) + self.cost_atol(n_features, dtype)
        high[~np.isfinite(cost)] = np.inf
        return np.power(high, self.bound_power, out=high)

    #: ``ranking_cost`` is ``cost`` (else the assignment recomputes the chosen cost)
    ranking_is_cost = True

    def ranking_cost(self, X, centers, lower=None):
        """An increasing function of ``cost(X, centers)`` (the cost itself by default),
        cheaper to compute, for the assignment. ``lower`` (float64, ``(n, k)``), when
        given, receives a lower bound on the metric ``cost ** bound_power`` of every
        pair."""
        out = self.cost(X, centers)
        if lower is not None:
            lower[...] = self.metric_lower(out, X.shape[1], out.dtype)
        return out

    def objective(self, X, center, sample_weight=None):
        """Weighted cost of the cluster ``X`` at ``center`` (a float); for the
        Euclidean losses from the exact differences (the expansion of ``cost`` rounds
        away the distances of a tight cluster far from the origin)."""
        center = np.asarray(center)[None, :]
        if self.euclidean:
            c = self.cost_from_sq_distances(exact_sq_distances(X, None, center)[:, 0])
        else:
            c = self.cost(X, center)[:, 0]
        if sample_weight is None:
            return float(c.sum(dtype=np.float64))
        return float(np.dot(sample_weight.astype(np.float64), c))

    def cost_from_sq_distances(self, d2):  # pragma: no cover - abstract
        raise NotImplementedError

    def _separable_row_cost(self, R, scratch):  # pragma: no cover - abstract
        # row sums of rho(R); R and scratch (same shape) may be overwritten
        raise NotImplementedError

    # -- centers ----------------------------------------------------------------
    def center(self, X, sample_weight=None, init=None, overwrite_x=False):
        """Exact minimiser of ``sum_i w_i cost(x_i, m)`` over ``m``.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The samples of one cluster (at least one); sparse (CSR) for the
            Euclidean losses only, which then work on it without densifying it.
        sample_weight : ndarray of shape (n_samples,), default=None
            Non-negative weights with a positive sum.
        init : ndarray of shape (n_features,), default=None
            Starting point of iterative solvers (the weighted mean when None).
        overwrite_x : bool, default=False
            Whether a dense ``X`` may be overwritten (a scratch copy of the rows):
            the Euclidean solvers then work in it instead of a copy of their own.

        Returns
        -------
        center : ndarray of shape (n_features,)
        """
        if not sp.issparse(X):
            X = np.asarray(X)
        if X.shape[0] == 1 and self.point_is_center:
            # (no solver: its iterations would cost as much as a large cluster's, and
            # end at the sample up to the rounding of init + (x - init))
            return _one_sample(X)
        w = np.ones(X.shape[0], dtype=X.dtype) if sample_weight is None else sample_weight
        w = np.asarray(w, dtype=X.dtype)
        if init is None:
            init = _weighted_mean(X, w)
        init = np.asarray(init, dtype=X.dtype)
        if self.euclidean:
            return self._euclidean_center(X, w, init, overwrite_x)
        if self.layout == "rows":
            return self.solve_rows(np.array(X, order="C"), w, init)
        return self.solve_columns(np.array(X.T, order="C"), w, init)

    def _euclidean_center(self, X, w, m, overwrite_x=False):
        """Iterate the weighted-mean step (``mm_weight``) until it stops moving (the
        majorise-minimise fixed point; ``epsilon_insensitive`` has its own solver),
        accelerated by squared extrapolation (SQUAREM, Varadhan & Roland 2008).

        Each cycle takes two majorise-minimise steps from ``v``, to ``v1`` and
        ``v2``, then jumps along their path to ``v - 2 a r + a^2 s`` (``r = v1 - v``,
        ``s = v2 - 2 v1 + v``, ``a = -||r|| / ||s||``, at most -1; ``a = -1`` is
        ``v2``): exact in one cycle where the steps shrink by a constant ratio, as
        they do near the fixed point, where plain steps crawl (a ratio of 0.44 per
        step for a two-sample cluster at the benchmark's scale). The jump is kept
        only where it does not raise the cost (else ``v2``), so the cost never
        increases, and the solver stops when the path left (the last plain step
        times ``rho / (1 - rho)``, ``rho`` the ratio of the cycle's two steps) is
        within a quarter of the tolerance, ``1e-7`` of the samples' spread: a
        stationary point.

        Distances come from one matrix-vector product per point on the samples
        relative to the start (``_Relative``: accurate, since the center moves little
        from it; a sparse ``X`` stays sparse).
        """
        dtype = X.dtype
        rel = _Relative(X, m, overwrite=overwrite_x)
        y_sq, sq_distances = rel.y_sq, rel.sq_distances
        # root-mean-square coordinate distance to the start: the scale of a step
        # (weighted, as the cost is: the rows repeated have the same spread as their
        # integer weights, where the unweighted one gave the two fits thresholds 5%
        # apart and one stopped a step before the other; random-seed fuzzing)
        # (the weights' fractions first: weights of 1e6 times squared distances of
        # 1e300 overflowed, with a RuntimeWarning, and an infinite tolerance ended
        # the solve at its start; random-seed fuzzing)
        w64 = w.astype(np.float64)
        total = float(w64.sum())
        mean_sq = float((w64 / total) @ y_sq) if total > 0 else float(y_sq.mean())
        spread = float(np.sqrt(max(mean_sq / X.shape[1], np.finfo(dtype).tiny)))
        stop = (1e-7 if dtype == np.float64 else 1e-4) * spread

        def at(v, d2=None):
            # a point: (v, its cluster cost, the coefficients of the step from it)
            value, a = self.mm_terms(sq_distances(v) if d2 is None else d2, w)
            return v, value, a.astype(dtype, copy=False)

        def mm_step(a):
            # the majorise-minimise step from the point with coefficients a
            total = float(a.sum())
            return rel.weighted_sum(a) / total if total > 0 else None

        point = at(np.zeros(X.shape[1]), y_sq)
        steps = 0
        while steps < _MAX_INNER:
            # two plain steps, each kept only if it does not raise the cost (in exact
            # arithmetic it never does: a rise is rounding, and the end)
            path = [point]
            for _ in range(2):
                last = path[-1]
                proposal = mm_step(last[2])
                steps += 1
                if proposal is None:
                    break
                new = at(proposal)
                if new[1] > last[1]:
                    break
                path.append(new)
            point = path[-1]
            if len(path) < 3:
                break  # a step failed: rounding
            v0, v1, v2 = path[0][0], path[1][0], path[2][0]
            r = v1 - v0
            # stationary once what is left of the path is within the tolerance: the
            # steps shrink by a ratio rho, so about rho / (1 - rho) times the last
            # one is left (a quarter of the tolerance, as rho measured just after
            # an extrapolation understates the rate). The last step alone stopped a
            # slow path (rho 0.79) short: a center 1.9e-6 off the stationary point
            # with integer weights and 3e-11 with the rows repeated (random-seed
            # fuzzing; the tolerance is 6e-7 there)
            latest = v2 - v1
            last_step = float(np.abs(latest).max())
            first, second = float(np.sqrt(r @ r)), float(np.sqrt(latest @ latest))
            if not second > 0 or last_step <= 1e-3 * stop:
                break
            rho = second / first
            if rho < 1 and last_step <= 0.25 * (1 - rho) * stop:
                break
            s = v2 - 2 * v1 + v0
            s_norm = float(np.sqrt(s @ s))
            if not s_norm > 0:
                continue
            alpha = min(-float(np.sqrt(r @ r)) / s_norm, -1.0)
            if alpha == -1.0:
                continue
            jump = at(v0 - 2 * alpha * r + alpha**2 * s)
            if jump[1] <= point[1]:
                point = jump
        return (rel.m0 + point[0]).astype(dtype)

    def mm_terms(self, d2, w):
        """The weighted cost ``sum_i w_i cost_i`` (a float) and the majorise-minimise
        coefficients ``w_i mm_weight_i`` at squared distances ``d2``."""
        return float(w @ self.cost_from_sq_distances(d2)), w * self.mm_weight(d2)

    def mm_weight(self, d2):  # pragma: no cover - abstract
        raise NotImplementedError

    def pass_terms(self, d2):
        """What a Lloyd pass takes of each chunk at the squared distances ``d2`` of
        the samples to their centers: the costs and the ``mm_weight``; one call, so
        that a loss can share their work (``epsilon_insensitive``'s square root).
        (The ``mm_rest`` of a loss whose step needs a check is taken once per pass.)"""
        return self.cost_from_sq_distances(d2), self.mm_weight(d2)

    # -- second-order terms of Hartigan's transfer screen ---------------------------
    #: the loss has the derivatives of ``curvature`` and ``reopt_gain`` (the median's
    #: ``absolute`` has none: Hartigan then screens with the square loss's formula)
    has_curvature = True

    def _derivatives(self, X, center, d2=None):
        """Per row of ``X`` at ``center``: the gradient of the cost in ``m``, its
        curvature along that gradient, and its mean curvature (trace of the Hessian
        over ``d``). For a separable loss, rho' and rho'' at each residual, ``(n, d)``
        (the last two coincide, per coordinate). For a Euclidean loss
        ``cost = g(r) = f(r^2)``, ``r = ||x - m||``: the gradient's norm
        ``g'(r) = 2 f' r``, the radial curvature ``g''(r) = 2 f' + 4 f'' r^2`` and the
        mean curvature ``(g'' + (d - 1) g'/r) / d``, ``(n,)`` each; from the squared
        distances ``d2`` when given (``X``, dense or sparse, then only gives ``d``)."""
        if self.euclidean:
            if d2 is None:
                # a screen's precision: the data's dtype (float32 halves the traffic)
                R = np.subtract(X, np.asarray(center, dtype=X.dtype))
                d2 = np.einsum("ij,ij->i", R, R)
            # the derivatives in float64: in float32, sigma^4 and 1/r^3 leave its
            # range at scales the loss itself handles
            d2 = np.asarray(d2, dtype=np.float64)
            n_features = X.shape[1]
            slope = 2 * self.d_cost_d_sq(d2)  # g'(r) / r
            radial = slope + 4 * self.d2_cost_d_sq2_times_d2(d2)
            mean = (radial + (n_features - 1) * slope) / n_features
            return slope * np.sqrt(d2), radial, mean
        psi, dpsi = self.psi_dpsi(np.subtract(X, np.asarray(center, dtype=X.dtype)))
        return psi, dpsi, dpsi

    def curvature(self, X, center, w, d2=None):
        """Mean curvature of a cluster's weighted cost at its center,
        ``sum_i w_i`` times each sample's: per coordinate for a separable loss, a
        scalar (the Hessian's trace over ``d``) for a Euclidean one."""
        return np.asarray(w, dtype=np.float64) @ self._derivatives(X, center, d2)[2]

    def reopt_gain(self, X, center, w, curvature, sign, d2=None):
        """Second-order estimate of what re-optimising ``center`` gains once row ``i``
        of ``X`` is removed from its cluster (``sign=-1``) or added (``sign=+1``):
        ``w_i^2 / 2 sum_j psi_ij^2 / (curvature_j + sign w_i psi'_ij)``, Newton's
        decrease from the current center along the sample's gradient ``psi``, with
        ``psi'`` the sample's own curvature along it (exact for the square loss, where
        it gives Hartigan's ``W / (W -+ w)`` factors). Infinite where the curvature
        left is not positive and the gradient is not zero (the caller caps it by what
        the cluster's cost allows). ``d2``: as for ``_derivatives``."""
        psi, dpsi, _ = self._derivatives(X, center, d2)
        return self._gain(psi, dpsi, w, curvature, sign)

    def cluster_terms(self, X, center, w, d2=None):
        """The curvature of a cluster (``curvature``) and the gains of its own samples
        leaving it, from one evaluation of the derivatives.

        A leaving sample takes out the share it contributed to the (mean) curvature:
        along its own gradient the rest of the cluster curves like the cluster's
        mean less that share (for the separable losses and ``square`` the same as
        ``reopt_gain(..., -1)``; for a Euclidean loss in many dimensions a much better
        estimate than removing its radial curvature, which is 0 for a distance)."""
        psi, _, mean = self._derivatives(X, center, d2)
        curvature = np.asarray(w, dtype=np.float64) @ mean
        return curvature, self._gain(psi, mean.copy(), w, curvature, -1)

    @staticmethod
    def _gain(psi, dpsi, w, curvature, sign):
        # psi and dpsi are scratch (overwritten)
        w = np.asarray(w, dtype=psi.dtype)
        den = np.multiply(dpsi, w[:, None] if psi.ndim == 2 else w, out=dpsi)
        den *= sign
        den += np.asarray(curvature, dtype=psi.dtype)
        flat = ~(den > 0)
        zero = psi == 0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            psi *= psi
            terms = np.divide(psi, den, out=psi)
        # no curvature left: infinite, unless the gradient is zero too
        terms[flat] = np.where(zero[flat], 0, np.inf)
        if terms.ndim == 2:
            with np.errstate(over="ignore"):
                terms = np.einsum("ij->i", terms, dtype=np.float64)
        w = w.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            # (a sample of zero weight gains nothing, even where a term is infinite)
            return np.where(w > 0, 0.5 * w**2 * terms, 0.0)

    def d_cost_d_sq(self, d2):  # pragma: no cover - abstract
        # f'(d^2) of a Euclidean loss cost = f(d^2)
        raise NotImplementedError

    def d2_cost_d_sq2_times_d2(self, d2):  # pragma: no cover - abstract
        # f''(d^2) d^2 of a Euclidean loss cost = f(d^2): the product, whose factors
        # alone can leave float64 at scales the loss handles (correntropy's 1 /
        # sigma^4, epsilon_insensitive's 1 / d^3)
        raise NotImplementedError

    def psi_dpsi(self, R):  # pragma: no cover - abstract
        # rho'(r) and rho''(r) of a separable loss, elementwise (R may be overwritten)
        raise NotImplementedError

    def solve_columns(self, T, w, init):  # pragma: no cover - abstract
        # exact centers of the rows of the coordinate-major block T (n_coords,
        # n_samples), which is scratch: solvers may overwrite it
        raise NotImplementedError


# ---------------------------------------------------------------------------------
# Euclidean losses
# ---------------------------------------------------------------------------------
class SquareLoss(_Loss):
    """``||x - m||^2``; the center is the weighted mean."""

    name = "square"
    euclidean = True
    closed_form = True

    def cost_from_sq_distances(self, d2):
        return d2

    def mm_weight(self, d2):
        return np.ones_like(d2)

    def d_cost_d_sq(self, d2):
        return np.ones_like(d2)

    def d2_cost_d_sq2_times_d2(self, d2):
        return np.zeros_like(d2)

    def center(self, X, sample_weight=None, init=None, overwrite_x=False):
        if not sp.issparse(X):
            X = np.asarray(X)
        if X.shape[0] == 1:
            return _one_sample(X)  # (w x / w can be 1 ulp off x)
        w = np.ones(X.shape[0], X.dtype) if sample_weight is None else sample_weight
        return _weighted_mean(X, np.asarray(w, dtype=X.dtype))


class CorrentropyLoss(_Loss):
    """``1 - exp(-||x - m||^2 / (2 sigma^2))``, bounded by 1 (non-convex).

    The center is a fixed point of the half-quadratic (majorise-minimise) step
    ``m <- sum_i a_i x_i / sum_i a_i`` with ``a_i = w_i exp(-||x_i - m||^2 / 2 sigma^2)``;
    since ``exp`` is convex, each step never increases the cluster's cost.
    """

    name = "correntropy"
    scale_param = "sigma"
    euclidean = True

    def cost_from_sq_distances(self, d2):
        return -np.expm1(-d2 / (2 * self.scale**2))

    def mm_weight(self, d2):
        return np.exp(-d2 / (2 * self.scale**2))

    def mm_terms(self, d2, w):
        # one exponential for both where it can: cost = -expm1(-t) (accurate for
        # small t), weight = exp(-t) = 1 + expm1(-t), which is accurate only while
        # the weight is not small (1 + expm1(-t) is exactly 0 beyond t = 37, where
        # exp(-t) is still 1e-16; a cluster whose samples all lie that far from the
        # start would get no step at all): exp(-t) itself there
        t = d2 * (0.5 / self.scale**2)
        em1 = np.expm1(-t)
        weight = em1 + 1
        small = weight < 0.5
        if small.any():
            weight[small] = np.exp(-t[small])
        return -float(w @ em1), w * weight

    def d_cost_d_sq(self, d2):
        return self.mm_weight(d2) / (2 * self.scale**2)

    def d2_cost_d_sq2_times_d2(self, d2):
        # -exp(-t / 2) / (4 sigma^4) d^2 with t = d^2 / sigma^2: exp(-t / 2) t <= 2 / e
        t = d2 / self.scale**2
        return -(self.mm_weight(d2) * t) / (4 * self.scale**2)


class EpsilonInsensitiveLoss(_Loss):
    """``max(0, ||x - m|| - epsilon)`` (convex in ``m``).

    During Lloyd iterations the center step is Weiszfeld's on the samples farther
    than ``epsilon`` (coefficients ``w_i / ||x_i - m||``), kept where the objective
    cannot rise and otherwise replaced, for the clusters whose cost rose, by
    ``descent_center`` (the exact solver to ``1e-4`` of the mean cost) started from
    the majorise-minimise step of ``mm_rest`` (same direction, shorter), which
    never raises the cost. ``center`` is the exact
    solver; in 1-D it is a weighted median (``_line_center``, one sort per
    cluster), for the rejected steps' fallback and the final centers alike. (The
    Lloyd iterations keep their Weiszfeld steps in 1-D: exact centers at every
    iteration stopped by ``tol`` earlier, at a higher objective, in 23 of 24 fits
    measured: 146.1 against 119.5 on 50,000 blobs.)
    """

    name = "epsilon_insensitive"
    scale_param = "epsilon"
    euclidean = True
    needs_line_search = True
    point_is_center = False

    @property
    def seeding_loss(self):
        # the dead zone would give every sample near a seed zero probability
        return EpsilonInsensitiveLoss(0.0)

    def cost_from_sq_distances(self, d2):
        return np.maximum(np.sqrt(d2) - self.scale, 0)

    def _line_center(self, X, w, init):
        """Exact minimiser in 1-D, where the cost is convex and piecewise linear.

        ``f(m) = sum_i w_i max(0, |x_i - m| - eps)`` has the right derivative
        ``sum_{x_i + eps <= m} w_i + sum_{x_i - eps <= m} w_i - W``: the weight of the
        ``2n`` points ``x_i -+ eps`` (each of weight ``w_i``, ``2W`` in all) at or
        below ``m``, less ``W``. ``f`` decreases until that weight reaches half of
        theirs: its minimisers are the weighted medians of the points (where the weight
        is split exactly in half, every point between two of them: the midpoint is
        taken, as ``weighted_median`` takes it; ``eps = 0`` gives the samples'
        weighted median). The points and the costs compared are float64; ``init``,
        when given, is kept only if its cost is lower by more than the costs'
        rounding (``cost_rtol``): on a flat stretch of minimisers a start tied the
        median's cost but for the rounding of the sum, which the order and the
        repetition of the samples change, and was kept or not by it.
        """
        out_dtype = X.dtype
        x = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)[:, 0]
        given = np.float64 if w is None else np.asarray(w).dtype
        w = np.ones(x.size) if w is None else np.asarray(w, dtype=np.float64)
        points = np.concatenate([x - self.scale, x + self.scale])[None, :]
        m = _weighted_median_rows(points, np.concatenate([w, w]), given).astype(out_dtype)

        def objective(center):
            gap = np.abs(x - float(center[0])) - self.scale
            return float(w @ np.maximum(gap, 0))

        if init is not None:
            init = np.asarray(init, dtype=out_dtype).reshape(1)
            rtol = self.cost_rtol(1, out_dtype)
            if objective(init) < objective(m) * (1 - rtol):
                return init.copy()
        return m

    def descent_center(self, X, sample_weight=None, init=None, overwrite_x=False):
        """``center`` solved to ``1e-4`` of the mean cost only (the smoothing's last
        stage): a center never worse than ``init``, within ``5e-5`` of the minimum,
        for the Lloyd iterations whose Weiszfeld step was rejected (the exact one
        comes at the end of the run). In few dimensions the last stages took most of
        the solve, at each such iteration: 20,000 2-D blobs, ``epsilon`` about their
        radius, called it for every cluster at every iteration."""
        return self.center(X, sample_weight, init, overwrite_x, last=1e-4)

    def center(self, X, sample_weight=None, init=None, overwrite_x=False, last=1e-8):
        """Exact minimiser: Newton's method on the Huber-smoothed cost (in 1-D the
        closed form of ``_line_center``, a weighted median, whatever ``last``; a
        sparse column is densified there).

        The smoothing width ``mu`` shrinks tenfold per stage, from the mean cost (or
        ``1e-3`` of it when ``init`` is given, typically a center that Weiszfeld steps
        already brought close) down to ``last`` of it (at least ``1e-5`` for float32
        data); the smoothed and exact optima differ by at most ``sum(w) mu / 2``
        (5e-9 of the cost at the start for the default ``last``). Each stage but the
        last stops once what is left of it is within the smoothing's own error. The result
        is never worse than ``init`` under the exact cost. A sparse ``X`` (CSR) is
        not densified, except for the samples at the kink of the smoothed cost
        (``r - epsilon`` in ``(0, mu]``), whose rows the Newton step needs.
        """
        if not sp.issparse(X):
            X = np.asarray(X)
        if X.dtype.kind != "f":
            X = X.astype(np.float64)
        if X.shape[1] == 1:
            return self._line_center(X, sample_weight, init)
        out_dtype = X.dtype
        if X.dtype == np.float32 and X.shape[0] * X.shape[1] <= _FLOAT64_SOLVE_VALUES:
            # a small cluster is solved in float64 (cheap there): the Newton matrix
            # overstates the curvature, so the decrement understates the gain left
            # (16x on 4 samples), and float32's stop tests ended up to 7e-4 above the
            # minimum; on large clusters, whose costs average many samples, the float32
            # result is within about 1e-6 and a float64 copy would cost the memory
            X, overwrite_x = X.astype(np.float64), True
        w = np.ones(X.shape[0], X.dtype) if sample_weight is None else sample_weight
        w = np.asarray(w, dtype=X.dtype)
        warm = init is not None
        m0 = _weighted_mean(X, w) if init is None else np.asarray(init, dtype=X.dtype)
        # the samples relative to the start: the solver's, and the costs compared
        rel = _Relative(X, m0, overwrite=overwrite_x)

        def objective(v):
            costs = self.cost_from_sq_distances(rel.exact_sq_distances(v))
            return float(w.astype(np.float64) @ costs)

        v = self._smoothed_newton(rel, w, objective, start=1e-3 if warm else 1.0, last=last)
        if objective(v) > objective(np.zeros_like(v)):
            return m0.astype(out_dtype)
        return (rel.m0 + v).astype(out_dtype)

    def _smoothed_cost_r(self, r, w, mu):
        # huber_mu(max(0, r - eps)): the Moreau envelope of the distance to the ball
        t = r - self.scale
        return float(w @ np.where(t > mu, t - mu / 2, np.maximum(t, 0) ** 2 / (2 * mu)))

    def _smoothed_newton(self, rel, w, objective, start=1.0, last=1e-8):
        # Newton-type steps on the smoothed cost. Its Hessian is
        #   sum_i a_i (I - u_i u_i^T) + sum_{i near the kink} (w_i / mu) u_i u_i^T;
        # the first sum's low-rank part is dropped (as Weiszfeld does, which makes the
        # matrix an upper bound of the curvature there) and the kink part kept exactly
        # (Woodbury), so a step costs two passes over the data plus O(n_kink d^2).
        # Works on the samples relative to the start (``rel``, a ``_Relative``) and
        # returns the displacement ``v`` from it; ``objective(v)``: the exact cost.
        dtype = rel.dtype
        n_features = rel.n_features
        v = np.zeros(n_features)
        mean_cost = objective(v) / float(w.sum())
        if not mean_cost > 0:
            return v
        sq_distances = rel.sq_distances
        tiny = np.finfo(np.float64).tiny
        rtol = 100 * np.finfo(dtype).eps

        def distances(v):
            return np.sqrt(sq_distances(v))

        def line_search(v, step, gain, current, mu, min_step):
            # Armijo backtracking from the full step, halving down to min_step:
            # (v + s step, its distances), or None
            s = 1.0
            while s >= min_step:
                r_new = distances(v + s * step)
                if self._smoothed_cost_r(r_new, w, mu) <= current - 1e-4 * s * gain:
                    return v + s * step, r_new
                s *= 0.5
            return None

        mu = start * mean_cost
        # a stage before the last stops once Newton's decrement (about twice the
        # smoothed cost left) is within 1e-3 of the smoothing's own error bound,
        # sum(w) mu / 2: the next stage, ten times narrower, redoes that much anyway.
        # Not where no sample is at the kink: the next stage's cost is then the same
        # near v, and a stationary v is the exact minimiser (returned below)
        loose = 1e-3 * float(w.sum())
        last = (last if dtype == np.float64 else max(last, 1e-5)) * mean_cost
        r = distances(v)
        while True:
            stationary = False
            for n_steps in range(_MAX_INNER):
                rs = np.maximum(r, tiny)
                t = r - self.scale
                mid = (t > 0) & (t <= mu)
                a = w * np.where(t > mu, 1.0, np.where(mid, t / mu, 0.0)) / rs
                alpha = a.sum()
                grad = v * alpha - rel.weighted_sum(a.astype(dtype))
                # extra curvature along u_i: w_i / mu - a_i = (w_i / mu) eps / r_i, zero
                # when eps = 0 (the smoothed norm is then isotropic)
                beta_all = np.where(mid, w / mu - a, 0.0)
                kink = np.flatnonzero(beta_all > 0)
                if kink.size == 0:
                    step = -grad / alpha if alpha > 0 else np.zeros_like(v)
                else:
                    V = (v - rel.rows(kink)) / rs[kink, None]
                    beta = beta_all[kink]
                    if kink.size <= n_features:  # Woodbury: (alpha I + V^T B V)^-1
                        inner = np.diag(alpha / beta) + V @ V.T
                        step = -(grad - V.T @ np.linalg.solve(inner, V @ grad)) / alpha
                    else:
                        H = (V * beta[:, None]).T @ V
                        H[np.diag_indices(n_features)] += alpha
                        step = -np.linalg.solve(H, grad)
                decrement = -grad @ step
                current = self._smoothed_cost_r(r, w, mu)
                stationary = not decrement > rtol * current
                if stationary or (mu > last and kink.size and not decrement > loose * mu):
                    break
                if n_steps >= _CRAWL and n_features <= _EXACT_HESSIAN_FEATURES:
                    # a stage that crawls, in few dimensions: first the step of the
                    # smoothed cost's own Hessian (with a line search of its own). The
                    # bound's steps converge linearly, slowly where it overstates the
                    # curvature most: the minimiser on a sample's sphere with the
                    # pulls of the others nearly balanced took 500 steps a stage and
                    # ended 1.8e-5 above the minimum (weights 2, 3, 1 in 2-D,
                    # random-seed fuzzing). Not from the start of a stage: where the
                    # bound's steps converge in a few, these cost more than they save
                    # (a step along a direction of almost no curvature can be huge:
                    # its squares overflow to a cost of inf, refused, and the search
                    # goes on, without a RuntimeWarning)
                    with np.errstate(over="ignore", invalid="ignore"):
                        exact = self._exact_newton_step(
                            rel, v, rs, a, beta_all, t > mu, alpha, grad
                        )
                        gain = -grad @ exact if exact is not None else 0.0
                        found = None
                        if gain > 0:
                            found = line_search(v, exact, gain, current, mu, _EXACT_MIN_STEP)
                    if found is not None:
                        v, r = found
                        continue
                found = line_search(v, step, decrement, current, mu, 1e-12)
                if found is None:
                    break
                v, r = found
            # no sample within mu outside its ball: the smoothed and the exact cost
            # differ by a constant near v, so v (stationary) is the exact minimiser
            t = r - self.scale
            if mu <= last or (stationary and not np.any((t > 0) & (t <= mu))):
                return v
            mu *= 0.1

    @staticmethod
    def _exact_newton_step(rel, v, rs, a, beta_all, outside, alpha, grad):
        # the smoothed cost's own Hessian, alpha I + sum_i c_i u_i u_i^T with
        # c_i = -a_i outside the kink zone (a distance's curvature is across its
        # direction only) and beta_i at the kink; None where it is not positive
        # definite (samples in a line through v: the cost is linear along it).
        # Factored over alpha, as is the gradient: the weights' scale cancels bit for
        # bit, where Cholesky's square roots of the matrix itself rounded the step
        # differently for the weights times a power of two (a center one float
        # apart: 6 of 200 clusters with the weights halved)
        if not alpha > 0:
            return None
        c = np.where(outside, -a, beta_all) / alpha
        used = np.flatnonzero(c != 0)
        H = np.eye(v.size)
        if used.size:
            U = (v - rel.rows(used)) / rs[used, None]
            H += (U * c[used, None]).T @ U
        try:
            L = np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            return None
        step = -np.linalg.solve(L.T, np.linalg.solve(L, grad / alpha))
        return step if np.isfinite(step).all() else None

    def mm_rest(self, d2):
        """Per-sample weight (times ``w``) of the current center in the majoriser.

        ``max(0, ||x - m|| - eps)`` is the distance from ``m`` to the ball
        ``B(x, eps)``. At the current center ``m0``, a sample outside the ball
        (``r > eps``) is majorised by ``||m - P(m0)||^2 / (2 (r - eps)) + const``
        with ``P`` the projection onto the ball; one inside (``r < eps``) by
        ``||m - m0||^2 / (4 (eps - r))``, which vanishes at ``m0`` and stays above the
        cost because ``||x - m|| <= r + ||m - m0||``. Expanding ``P`` shows that the
        minimiser of the sum is ``m0 + tau (T - m0)``, with ``T`` the Weiszfeld point
        (``mm_weight``), ``tau = S / (S + 2 sum_i w_i mm_rest_i)`` and
        ``S = sum_i w_i mm_weight_i``: a damped Weiszfeld step that never increases
        the cost.
        """
        r = np.sqrt(d2)
        return self._rest(_at_least_tiny(r), r - self.scale)

    def _rest(self, rs, gap):
        # mm_rest from the distances rs (at least the smallest normal number) and
        # gap = r - eps
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            # a sample on the sphere (gap = 0) pins the center: infinite weight
            outside = self.scale / (2 * rs * np.maximum(gap, 0))
            inside = 1 / (4 * np.maximum(-gap, 0))
        # 0/0 for a sample exactly at the center when eps = 0: it pins the center
        rest = np.where(gap > 0, outside, inside)
        rest[np.isnan(rest)] = np.inf
        return rest.astype(rs.dtype, copy=False)

    def mm_weight(self, d2):
        r = np.sqrt(d2)
        return self._weight(_at_least_tiny(r), r > self.scale)

    @staticmethod
    def _weight(rs, active):
        # mm_weight from the distances rs (as for _rest) and where r > eps
        return np.where(active, 1 / rs, 0).astype(rs.dtype, copy=False)

    def pass_terms(self, d2):
        # cost_from_sq_distances and mm_weight from one square root (r > eps exactly
        # where r - eps > 0)
        r = np.sqrt(d2)
        gap = r - self.scale
        return np.maximum(gap, 0), self._weight(_at_least_tiny(r), gap > 0)

    def d_cost_d_sq(self, d2):
        # d/d(d^2) of max(0, d - eps): 1 / (2 d) outside the ball, 0 inside
        return 0.5 * self.mm_weight(d2)

    def d2_cost_d_sq2_times_d2(self, d2):
        # -1 / (4 d^3) d^2 = -1 / (4 d) outside the ball: the cost is linear along the
        # radius (its radial curvature 2 f' + 4 f'' d^2 is 0)
        return -0.25 * self.mm_weight(d2)


# ---------------------------------------------------------------------------------
# Separable losses
# ---------------------------------------------------------------------------------
class AbsoluteLoss(_Loss):
    """``sum_j |x_j - m_j|``; the center is the coordinatewise weighted median."""

    name = "absolute"
    closed_form = True
    has_curvature = False
    #: the cost is the l1 distance itself
    bound_power = 1.0

    def _separable_row_cost(self, R, scratch):
        np.abs(R, out=R)
        return np.einsum("ij->i", R)  # (3x faster than R.sum(axis=1) on float32 rows)

    def solve_columns(self, T, w, init=None):
        return _weighted_median_rows(T, w)


def weighted_median(X, w):
    """Coordinatewise weighted median of the rows of ``X`` (exact).

    Where the weight is split exactly in half between two order statistics, every
    point between them is a minimiser; the midpoint is returned, as ``np.median`` does.
    Equal weights use a selection (``np.partition``, linear time); unequal weights a
    sort with cumulative weights.
    """
    return _weighted_median_rows(np.array(X.T, order="C"), w)


def _midpoint(a, b):
    """``(a + b) / 2``, elementwise; where the sum overflows (two values beyond half
    of the dtype's largest number, which the absolute loss fits: a median of 1.5e308
    and its neighbour was inf), ``a / 2 + b / 2``, the same number but there."""
    with np.errstate(over="ignore"):
        mid = (a + b) / 2
    over = np.isinf(mid) & np.isfinite(a) & np.isfinite(b)
    if np.any(over):
        mid = np.where(over, a / 2 + b / 2, mid)
    return mid


def _weighted_median_rows(cols, w, weight_dtype=None):
    """Weighted median of each row of the coordinate-major ``cols`` (``(n_coords,
    n_samples)``, contiguous rows), which is partitioned in place. ``weight_dtype``:
    the precision the weights were given in (``w``'s own by default), whose rounding
    a split of the weight in half is judged within."""
    n = cols.shape[1]
    w = np.asarray(w)
    if np.all(w == w[0]):
        lo = (n - 1) // 2
        # one selection (partitioning at two positions at once is ~10x slower)
        cols.partition(lo, axis=1)
        low = cols[:, lo]
        high = low if n % 2 else cols[:, lo + 1 :].min(axis=1)
        return _midpoint(low, high).astype(cols.dtype, copy=False)
    order = np.argsort(cols, axis=1)
    sorted_x = np.take_along_axis(cols, order, axis=1)
    cum = np.cumsum(w[order], axis=1, dtype=np.float64)
    half = cum[:, -1:] / 2
    # within a few units of the weights' rounding: float32 weights (the data's dtype)
    # proportional to counts, as counts / 3, split the weight in half only within
    # float32's, and the lower point was returned where the counts give the midpoint
    given = np.dtype(w.dtype if weight_dtype is None else weight_dtype)
    eps = np.finfo(given).eps if given.kind == "f" else 0.0
    if eps > np.finfo(np.float64).eps and np.all(w == np.rint(w)):
        # integer weights (counts) were not rounded, and sum exactly in float64: a
        # split one unit off half is no tie, however large the total (float32's
        # tolerance took one for totals past about a million)
        eps = 0.0
    tol = 8 * max(eps, np.finfo(np.float64).eps)
    lo = np.argmax(cum >= half * (1 - tol), axis=1)
    rows = np.arange(cols.shape[0])
    # exactly half the weight at or below sorted_x[lo]: the interval up to the next
    # sample is flat, and its midpoint is returned
    tie = np.isclose(cum[rows, lo], half[:, 0], rtol=tol, atol=0)
    value = sorted_x[rows, lo]
    tied = np.flatnonzero(tie)
    if tied.size:
        # the interval ends at the next sample of positive weight: one of weight 0
        # weighs nothing, and the median is that of the data without it
        after = np.arange(n)[None, :] > lo[tied, None]
        nxt = np.where(after & (w[order[tied]] > 0), np.arange(n)[None, :], n).min(axis=1)
        nxt = np.minimum(nxt, n - 1)
        value[tied] = _midpoint(value[tied], sorted_x[tied, nxt])
    return value.astype(cols.dtype, copy=False)


def _positive_range(A, w):
    """Columnwise minimum and maximum of the rows of ``A`` of positive weight ``w``
    (fmin/fmax reduce with SIMD, min/max do not; the data has no NaN)."""
    weighted = A if np.all(w > 0) else A[w > 0]
    return np.fmin.reduce(weighted, axis=0), np.fmax.reduce(weighted, axis=0)


class _NewtonSeparableLoss(_Loss):
    """A smooth convex separable loss solved by safeguarded Newton.

    Subclasses implement ``g_h(R, w)``: ``sum_i w_i psi(r_i)`` and
    ``sum_i w_i psi'(r_i)`` per column of the residuals ``R`` (rows are samples; ``R``
    may be overwritten), with ``psi`` the derivative of rho.
    Per coordinate the root of ``g(m) = sum_i w_i psi(x_i - m)`` (non-increasing) is
    bracketed by the data's minimum and maximum. As in Numerical Recipes' ``rtsafe``,
    a Newton step that leaves the bracket, or that is not at least twice as short as
    the step before last, is replaced by bisection: the iteration always converges
    (a piecewise-linear ``g``, as Huber's, can otherwise make Newton cycle between
    two pieces).

    The solver works on the cluster's rows as they are laid out (no transposition):
    each Newton pass streams them in blocks of ``block_bytes``, small enough for the
    pass's temporaries to stay in the CPU cache, and sums ``g`` and ``g'`` over the
    blocks. Only the columns not yet converged are computed, as contiguous runs.
    """

    layout = "rows"
    block_bytes = 1 << 18
    #: ``sqrt(sum_j rho(r_j))`` is a metric: ``f = sqrt(rho)`` is concave on
    #: ``[0, inf)`` with ``f(0) = 0`` for Huber's and the pseudo-Huber rho, hence
    #: subadditive, so each ``f(|x_j - y_j|)`` is a metric on a coordinate, and the
    #: l2 norm of a vector of metrics is one (Minkowski)
    bound_power = 0.5

    #: ``K`` with ``|g''(m)| <= K g'(m) / scale`` near the root, which bounds the error
    #: after a Newton step of length ``e`` by about ``K e^2 / (2 scale)``; None when
    #: no such bound holds (then a step must itself be at rounding level to stop)
    newton_error_constant = None

    def solve_rows(self, A, w, init=None):
        """Exact center of the rows of ``A`` (``(n_samples, n_coords)``, scratch) with
        weights ``w``, starting from ``init`` (the weighted mean when None)."""
        m, constant = self._newton_rows(A, w, init)
        return self._best_float(A, w, m, ~constant & self._coarse(m, A.dtype))

    def _coarse(self, m, dtype):
        """Where the floats at ``m`` are too far apart for the solver's stop (within
        two spacings, ``_converged``) to leave the cost at its minimum: where a
        spacing exceeds half of ``sqrt(eps)`` times the scale."""
        eps = float(np.finfo(dtype).eps)
        return np.spacing(np.abs(m).astype(dtype)) > 0.5 * np.sqrt(eps) * self.scale

    def _best_float(self, A, w, m, walk):
        """``m`` moved, in the coordinates ``walk``, to the float of least cost. Where
        the floats are coarse (``_coarse``) one float to the next changes the cost by
        up to the scale times a spacing per sample (delta below the spacing of
        float32 data far from the origin: 12-20% of a cluster's cost), and the
        solver stops within two spacings of the root, on either side of it.
        The cost is convex: ``m`` walks to the neighbour of lower cost (computed in
        float64 from the exact differences) until neither is lower, within the range
        of the samples of positive weight. Elsewhere ``m`` is returned as it is."""
        cols = np.flatnonzero(walk)
        if cols.size == 0:
            return m
        m = m.copy()
        B = A[:, cols] if np.all(w > 0) else A[w > 0][:, cols]
        wb = w[w > 0].astype(np.float64)
        lo, hi = _positive_range(B, np.ones(B.shape[0]))
        at = m[cols]
        cost = self._column_costs(B, wb, at)
        active = np.arange(cols.size)
        for _ in range(_MAX_INNER):
            a = at[active]
            best, there = a.copy(), cost[active]
            for toward in (np.inf, -np.inf):
                step = np.nextafter(a, np.asarray(toward, dtype=a.dtype))
                inside = (step >= lo[active]) & (step <= hi[active])
                if inside.any():
                    value = np.full(active.size, np.inf)
                    value[inside] = self._column_costs(B[:, active[inside]], wb, step[inside])
                    lower = value < there
                    best[lower], there[lower] = step[lower], value[lower]
            moved = best != a
            at[active], cost[active] = best, there
            active = active[moved]
            if active.size == 0:
                break
        m[cols] = at
        return m

    def _column_costs(self, B, w, m):
        """``sum_i w_i rho(b_ij - m_j)`` per column of ``B``, in float64 (``w``
        float64), in blocks of rows."""
        out = np.zeros(B.shape[1])
        rows = max(64, (1 << 18) // (8 * B.shape[1]))
        m = m.astype(np.float64)
        for start in range(0, B.shape[0], rows):
            R = B[start : start + rows].astype(np.float64) - m
            flat = R.reshape(-1, 1)
            rho = self._separable_row_cost(flat, np.empty_like(flat))
            out += w[start : start + rows] @ rho.reshape(R.shape)
        return out

    def _newton_rows(self, A, w, init, bounds=None):
        # the center, and which columns are constant (their center is their value)
        # the data has no NaN (validated): fmin/fmax reduce with SIMD, min/max do not.
        # The root lies within the range of the samples of positive weight
        # (``bounds``: that range, if the caller has it)
        lo, hi = _positive_range(A, w) if bounds is None else bounds
        constant = lo == hi
        m = (w @ A) / w.sum() if init is None else np.clip(init, lo, hi)
        m = m.astype(A.dtype, copy=True)
        eps = np.finfo(A.dtype).eps
        step = (hi - lo).astype(np.float64)
        step_before = step.copy()
        active = np.arange(A.shape[1])  # coordinates not yet converged
        for _ in range(_MAX_INNER):
            ma, la, ha = m[active], lo[active], hi[active]
            g, h = self._column_sums(A, w, m, active)
            la = np.where(g > 0, ma, la)
            ha = np.where(g < 0, ma, ha)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = ma + g / h
            bisect = (
                ~(h > 0)
                | ~(newton >= la)
                | ~(newton <= ha)
                | (np.abs(newton - ma) > 0.5 * step_before[active])
            )
            # (the midpoint without overflow: bounds beyond half of float64's top)
            new = np.where(bisect, _midpoint(la, ha), newton).astype(A.dtype)
            new = np.where(g == 0, ma, new)
            # a Newton step that rounds to no move where g is not 0: its root is
            # within rounding of m only if the linear model holds that far, which it
            # need not (huber's slope counts the samples within delta of m: one
            # sample at m, as at a seed, and delta below the spacing of the data,
            # predicts a root at m while g is that of the median's far side). The
            # next float towards the root is tried instead, and is not taken as
            # convergence: there g changes sign (a root within one spacing) or the
            # bracket moves on
            # (only a step of at least a tenth of the scale is suspect: over shorter
            # ones the model holds, and a step below rounding there is convergence)
            with np.errstate(divide="ignore", invalid="ignore"):
                far = np.abs(g / h) > 0.1 * self.scale
            stuck = (new == ma) & (g != 0) & ~bisect & far
            if stuck.any():
                toward = np.nextafter(ma, np.where(g > 0, np.inf, -np.inf).astype(A.dtype))
                # (strictly inside the bracket: at its end, the root lies between
                # two adjacent floats, which is convergence)
                stuck &= (toward > la) & (toward < ha)
                new = np.where(stuck, toward, new)
            moved = np.abs(new - ma)
            step_before[active] = step[active]
            step[active] = moved
            m[active], lo[active], hi[active] = new, la, ha
            done = self._converged(new, moved, bisect | (g == 0), eps) & ~stuck
            active = active[~done]
            if active.size == 0:
                break
        return m, constant

    def _column_sums(self, A, w, m, active):
        """``g`` and ``g'`` at ``m`` for the columns ``active`` (sorted), one pass."""
        # runs of adjacent active columns; gaps under 16 columns are computed too
        # (cheaper than one more slice per block)
        cut = np.flatnonzero(np.diff(active) > 16) + 1
        runs = [(r[0], r[-1] + 1) for r in np.split(active, cut)]
        g = np.zeros(A.shape[1])
        h = np.zeros(A.shape[1])
        for a, b in runs:
            rows = max(64, self.block_bytes // ((b - a) * A.itemsize))
            for start in range(0, A.shape[0], rows):
                blk = slice(start, start + rows)
                gi, hi = self.g_h(np.subtract(A[blk, a:b], m[a:b]), w[blk])
                g[a:b] += gi
                h[a:b] += hi
        return g[active], h[active]

    def _converged(self, m, moved, bisected, eps):
        """Which coordinates are solved after a step of length ``moved`` to ``m``.

        The center is wanted to ``sqrt(eps)`` of the loss's scale, where the cost is
        flat to rounding (its excess over the minimum is of order ``eps`` relative),
        or to two spacings of the floating-point numbers at ``m`` far from the origin,
        where the differences ``x - m`` resolve no finer (not to ``sqrt(eps) |m|``: the
        data is not centered for these losses, and ``|m|`` may be large against the
        scale; ``_best_float`` then picks the float of least cost next to it). After
        a bisection the error is at most the step itself. After
        a Newton step of length ``e`` it is at most ``K e^2 / (2 scale)``: with a bound
        ``K`` the iteration stops as soon as that is below the target, one pass earlier
        than waiting for a step that is itself at the target.
        """
        target = np.maximum(np.sqrt(eps) * self.scale, 2 * np.spacing(np.abs(m)))
        done = moved <= target
        K = self.newton_error_constant
        if K is not None:
            # 1.1: K is a bound at the root; along a step this short (at most a tenth
            # of the scale) it grows by less than 10%
            short = K * moved <= 0.1 * self.scale
            done |= ~bisected & short & (1.1 * K * moved * moved <= 2 * self.scale * target)
        return done


class HuberLoss(_NewtonSeparableLoss):
    """``sum_j h(x_j - m_j)``, ``h(r) = r^2/2`` if ``|r| <= delta`` else
    ``delta (|r| - delta/2)``; the center is the coordinatewise Huber M-estimate.

    ``g(m) = sum_i w_i clip(x_i - m, -delta, delta)`` is piecewise linear: once the
    samples within ``delta`` of the root are identified, the Newton step is the exact
    root, so the safeguarded Newton iteration ends after finitely many steps.
    """

    name = "huber"
    scale_param = "delta"
    #: (its pass is cheap, two operations per element: larger blocks, fewer calls
    #: holding the interpreter between them; 1 MB is 20% faster than 256 KB with two
    #: threads at 100,000 x 512, k = 8, measured; pseudo_huber's is the same at both)
    block_bytes = 1 << 20

    def _separable_row_cost(self, R, scratch):
        t = np.clip(R, -self.scale, self.scale, out=scratch)
        # h(r) = t (r - t/2) with t = clip(r, -delta, delta)
        return np.einsum("ij,ij->i", t, R) - 0.5 * np.einsum("ij,ij->i", t, t)

    def psi_dpsi(self, R):
        inside = np.asarray(np.abs(R) <= self.scale, dtype=R.dtype)
        return np.clip(R, -self.scale, self.scale, out=R), inside

    def g_h(self, R, w):
        psi = np.clip(R, -self.scale, self.scale)
        # inside the quadratic zone exactly where clipping changed nothing
        inside = np.equal(psi, R, out=np.empty(R.shape, bool))
        return w @ psi, w @ np.asarray(inside, dtype=R.dtype)


class PseudoHuberLoss(_NewtonSeparableLoss):
    """``sum_j delta^2 (sqrt(1 + (r_j/delta)^2) - 1)`` (smooth, strictly convex).

    The center's Newton solver stops early (see ``_converged``): with
    ``s = (1 + u^2)^(-1/2)``, ``u = r / delta``, ``psi' = s^3`` and
    ``|d psi' / dr| = 3 |u| s^2 psi' / delta <= 1.5 psi' / delta``, so ``K = 1.5``.
    """

    name = "pseudo_huber"
    scale_param = "delta"
    newton_error_constant = 1.5
    ranking_is_cost = False

    def _separable_row_cost(self, R, scratch):
        # delta^2 (sqrt(1 + u^2) - 1) = r^2 / (sqrt(1 + u^2) + 1), u = r / delta:
        # the second form has no cancellation for small residuals
        s = np.multiply(R, R, out=R)
        t = np.multiply(s, 1 / self.scale**2, out=scratch)
        t += 1
        np.sqrt(t, out=t)
        t += 1
        np.divide(s, t, out=s)
        return np.einsum("ij->i", s)

    def ranking_cost(self, X, centers, lower=None):
        # sum_j sqrt(delta^2 + r_j^2) = (cost + n_features delta^2) / delta: the same
        # order, at five operations per element rather than eight (no division), and
        # from the exact residuals x - m (scaling first would round x before the
        # difference, which matters far from the origin). Its rounding error is about
        # eps times its value, which swamps the cost's differences when the
        # residuals are small against delta: rows whose best centers are not clearly
        # apart are ranked by the accurate cost, for those centers only
        dtype = np.result_type(X, centers)
        d2 = np.asarray(self.scale, dtype=dtype) ** 2
        if not (np.isfinite(d2) and d2 > 0):
            return super().ranking_cost(X, centers, lower)
        out = np.empty((X.shape[0], centers.shape[0]), dtype=dtype)
        step = _cache_rows(X.shape[1], out.itemsize)
        buf = np.empty((min(step, X.shape[0]), X.shape[1]), dtype=dtype)
        centers = np.asarray(centers, dtype=dtype)
        for sl in _slices(X.shape[0], step):
            Xb = X[sl]
            b = buf[: Xb.shape[0]]
            for j, center in enumerate(centers):
                np.subtract(Xb, center, out=b)
                np.multiply(b, b, out=b)
                b += d2
                np.sqrt(b, out=b)
                out[sl, j] = np.einsum("ij->i", b)
        if lower is not None:
            # cost = delta rank - n_features delta^2, from a rank within rtol of its value
            rtol = self.cost_rtol(X.shape[1], dtype)
            cost = out.astype(np.float64) * (self.scale * (1 - rtol))
            cost -= X.shape[1] * self.scale**2 + self.cost_atol(X.shape[1], dtype)
            cost[~np.isfinite(cost)] = 0
            lower[...] = np.sqrt(np.maximum(cost, 0))
        if out.shape[1] > 1:
            # each term is within about 1.5 eps of its value and the sum adds at most
            # (n_features - 1) eps / 2: two rows' difference is off by less than
            # (n_features + 2) eps times their value; twice that is the margin
            best = out.min(axis=1)
            margin = 2 * (X.shape[1] + 2) * np.finfo(dtype).eps * best
            near = out <= (best + margin)[:, None]
            unclear = np.flatnonzero(near.sum(axis=1) > 1)
            if unclear.size:
                # (one call for all of them: few rows, and a call per center would
                # cost more in overhead than the arithmetic)
                rows = self.cost(X[unclear], centers).astype(dtype, copy=False)
                rows[~near[unclear]] = np.inf
                out[unclear] = rows
        return out

    def solve_rows(self, A, w, init=None):
        # solved in units of delta (A is scratch): one multiplication fewer per pass;
        # a constant column (one sample, duplicates) gives back its value exactly,
        # not after a round trip through the units
        first = A[np.argmax(w > 0)].copy()  # a sample of positive weight
        # where the floats of the data are coarse (``_best_float``), the rows as
        # given, for the float of least cost after the solve: the solve's in units
        # of delta, rounded back, need not be it (nor are two samples a spacing apart
        # always apart in those units)
        lo, hi = _positive_range(A, w)
        extreme = np.maximum(np.abs(lo), np.abs(hi))
        walk = self._coarse(extreme, A.dtype) | (hi - lo < _NARROW_SPACINGS * np.spacing(extreme))
        walk &= lo < hi
        raw = A.copy() if walk.any() else None
        inv = 1 / self.scale
        np.multiply(A, inv, out=A)
        # (the range in units of delta is the range times inv: rounding is monotone)
        m, constant = _UNIT_PSEUDO_HUBER._newton_rows(
            A, w, None if init is None else np.asarray(init) * inv, bounds=(lo * inv, hi * inv)
        )
        m = (m * self.scale).astype(A.dtype, copy=False)
        m = np.where(constant, first, m)
        # (constant columns in units of delta included: they need not be in the data's)
        return m if raw is None else self._best_float(raw, w, m, walk)

    def psi_dpsi(self, R):
        # psi = r s, psi' = s^3 with s = (1 + u^2)^(-1/2); R is overwritten
        s = np.multiply(R, R)
        s *= 1 / self.scale**2
        s += 1
        np.sqrt(s, out=s)
        np.divide(1, s, out=s)
        R *= s
        cube = np.multiply(s, s)
        cube *= s
        return R, cube

    def g_h(self, R, w):
        # psi = r / sqrt(1 + u^2), psi' = (1 + u^2)^(-3/2); R is a scratch copy
        q = np.multiply(R, R)
        if self.scale != 1:
            q *= 1 / self.scale**2
        q += 1
        np.sqrt(q, out=q)
        np.divide(1, q, out=q)  # s = (1 + u^2)^(-1/2) (faster than np.reciprocal)
        g = w @ np.multiply(R, q, out=R)
        cube = np.multiply(q, q, out=R)
        cube *= q
        return g, w @ cube


_UNIT_PSEUDO_HUBER = PseudoHuberLoss(1.0)

_LOSSES = {
    cls.name: cls
    for cls in (
        SquareLoss,
        AbsoluteLoss,
        HuberLoss,
        PseudoHuberLoss,
        CorrentropyLoss,
        EpsilonInsensitiveLoss,
    )
}

#: Mapping from loss name to the name of its scale parameter (or None).
LOSSES = {name: cls.scale_param for name, cls in _LOSSES.items()}


def get_loss(name, scale=None):
    """Return the loss object for ``name`` with the given (resolved) scale."""
    try:
        cls = _LOSSES[name]
    except KeyError:
        raise ValueError(
            f"Unknown loss {name!r}. Valid losses are: {', '.join(map(repr, LOSS_NAMES))}."
        ) from None
    return cls(None if cls.scale_param is None else float(scale))
