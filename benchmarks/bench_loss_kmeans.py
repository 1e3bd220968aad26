"""Speed and memory of ``LossKMeans`` against baselines timed in the same run.

Four sections (issue 3, "Speed"), each a ratio against a baseline measured side by side
on the same data, init and threads:

1. ``square`` against ``sklearn.cluster.KMeans(algorithm="lloyd")``: time per
   iteration (``tol=0``, fixed ``max_iter``, time / ``n_iter_``) and the whole fit
   (default ``tol``) from the same array init, float32, k = 8; labels, inertia and
   centers must agree.
2. Time per iteration of every other loss relative to a ``square`` iteration.
3. Against the straightforward reference method on 150 x 512, k = 3: a Python double
   loop for the assignment and ``scipy.optimize.minimize(method="BFGS")`` with
   finite-difference gradients for each non-closed-form center, 3 iterations from the
   same k random samples. The loss formulas are written out below, independently of
   the package; both objectives are evaluated with them. Ours runs 3 iterations with
   ``algorithm="lloyd"`` (timed against the reference) and ``"hartigan"``; objectives
   are compared over several starts, and every center update of the reference runs is
   compared with our exact solver from the same cluster and start.
4. Peak extra memory of a fit on a large float32 array (square and huber), relative
   to the data size and to ``sklearn.cluster.KMeans`` on the same array, each fit in
   a fresh subprocess.

Two more have no target: 1b, ``square`` fits against ``KMeans`` on narrow data, and
1c, ``predict`` and ``transform`` against ``KMeans``'s on the same fitted centers,
100,000 samples, wide (512 features, k = 8) and narrow (``PREDICT_SHAPES``).

Run ``python benchmarks/bench_loss_kmeans.py --quick`` (about 12 minutes on 2 cores at
2.5 GHz, most of it the reference's BFGS: ``elapsed_s`` in the JSON) or without
``--quick`` for the issue's sizes (about 15 minutes on a faster machine; sections 1-2
alone take 10 minutes on the 2.5 GHz one). The table is printed
and the JSON written to ``benchmarks/results/bench_loss_kmeans[_quick].json``.
Thread settings (``OPENBLAS_*``, ``OMP_NUM_THREADS``) are taken from the environment,
not changed, and recorded in the JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings

import numpy as np
from _common import (
    RESULTS_DIR,
    environment,
    interleaved,
    marginal,
    package_state,
    paired_median_ratio,
    parser,
    record_end,
    table,
    timed,
    verdict,
    write_json,
)
from scipy.optimize import minimize
from sklearn.cluster import KMeans

from robustkmeans import LossKMeans

CLOSED_FORM = ("square", "absolute")
OTHER_LOSSES = ("correntropy", "epsilon_insensitive", "absolute", "huber", "pseudo_huber")
#: target of (loss iteration / square iteration), from the issue
ITERATION_TARGETS = {
    "correntropy": 2.0,
    "epsilon_insensitive": 2.0,
    "absolute": 10.0,
    "huber": 10.0,
    "pseudo_huber": 10.0,
}
SQUARE_ITERATION_TARGET = 1.3
SQUARE_FIT_TARGET = 1.5
REFERENCE_SPEEDUP_TARGET = 1000.0
#: 1,000,000 x 512 float32 (1.9 GiB) must fit "well under 8 GiB": the data plus the
#: peak extra memory of a fit, measured or projected to that size, at most 6 GiB
MEMORY_TARGET_GIB = 6.0

SIZES = {
    # n of sections 1-2 and of section 4, timed repeats per measurement (per iteration,
    # whole fit) and the seconds after which a slow candidate is not repeated
    "quick": {
        "n": 20_000,
        "n_memory": 200_000,
        "repeat": 15,
        "repeat_fit": 9,
        "budget_s": 10,
        "reference_starts": 4,
        "objective_starts": 3,
    },
    "full": {
        "n": 100_000,
        "n_memory": 1_000_000,
        # (15: on this machine a light fit can take 2-4x its time now and then,
        # whatever ran before it; the heavy candidates are capped by budget_s)
        "repeat": 15,
        "repeat_fit": 5,
        "budget_s": 40,
        "reference_starts": 16,
        "objective_starts": 8,
    },
}
N_FEATURES = 512
N_CLUSTERS = 8
#: per iteration = (fit at max_iter=high - fit at low) / (high - low): the fixed costs
#: of a fit (validation, copies, the last assignment, the exact final solve of the
#: iterative losses) cancel out
SQUARE_MAX_ITER = (5, 15)
LOSS_MAX_ITER = (3, 15)
#: iterations 2-3, (fit at 3 - fit at 1) / 2: the separable losses' assignment is
#: pruned by Elkan's bounds once the centers settle, which it cannot be this early
#: (their worst case, reported next to the figure the targets are judged on)
EARLY_MAX_ITER = (1, 3)
EARLY_LOSSES = ("square", "absolute", "huber", "pseudo_huber")
MEMORY_MAX_ITER = 3


# -------------------------------------------------------------------------------------
# Data
# -------------------------------------------------------------------------------------
def make_data(n_samples, n_features, n_clusters, seed=0, dtype=np.float32, tail_df=3.0):
    """Overlapping blobs with Student-t noise (heavy tails, like image features).

    The centers are close relative to the noise, so ``square``'s Lloyd does not
    converge within a few iterations and its ``tol=0`` runs use every one of
    ``max_iter`` (15) at 20,000 and 100,000 samples. Other losses can settle sooner
    (at 20,000 samples ``absolute``, ``huber`` and ``pseudo_huber`` stopped after 6
    iterations): the rows record ``n_iter_`` of both fits.
    """
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=0.3, size=(n_clusters, n_features))
    labels = rng.integers(n_clusters, size=n_samples)
    X = centers[labels] + rng.standard_t(tail_df, size=(n_samples, n_features))
    return X.astype(dtype), rng


def make_large_data(n_samples, n_features, n_clusters, seed=0):
    """Float32 blobs written block by block (no float64 copy of the whole array)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=0.3, size=(n_clusters, n_features)).astype(np.float32)
    X = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, 8192):
        stop = min(start + 8192, n_samples)
        block = rng.standard_normal(size=(stop - start, n_features), dtype=np.float32)
        block += centers[rng.integers(n_clusters, size=stop - start)]
        X[start:stop] = block
    return X


def resolved_scales(X, init):
    """The package's ``"auto"`` scales for ``X``, fixed once and then passed as
    numbers, so that every timed fit does the same work (each estimated by a fit of
    a loss that uses it: an ``"auto"`` the loss ignores is not estimated)."""
    scales = {}
    for loss, param in (
        ("huber", "delta"),
        ("correntropy", "sigma"),
        ("epsilon_insensitive", "epsilon"),
    ):
        model = LossKMeans(
            init.shape[0], loss=loss, init=init, max_iter=1, random_state=0, **{param: "auto"}
        ).fit(X)
        scales[param] = getattr(model, f"{param}_")
    return scales


# -------------------------------------------------------------------------------------
# 1. square against scikit-learn
# -------------------------------------------------------------------------------------
def _agreement(ours, theirs):
    labels = float(np.mean(ours.labels_ == theirs.labels_))
    inertia = abs(ours.inertia_ - theirs.inertia_) / abs(theirs.inertia_)
    centers = float(np.max(np.abs(ours.cluster_centers_ - theirs.cluster_centers_)))
    return {
        "labels_agree": labels,
        "inertia_rel_diff": inertia,
        "centers_max_abs_diff": centers,
        "n_iter_ours": int(ours.n_iter_),
        "n_iter_sklearn": int(theirs.n_iter_),
        "ok": labels == 1.0 and inertia <= 1e-5 and ours.n_iter_ == theirs.n_iter_,
    }


def _agreement_columns(ours, theirs):
    """The agreement of two fits as the result rows of sections 1 and 1b show it."""
    agree = _agreement(ours, theirs)
    return {
        "n_iter": f"{agree['n_iter_ours']}/{agree['n_iter_sklearn']}",
        "labels_agree": agree["labels_agree"],
        "inertia_rel_diff": agree["inertia_rel_diff"],
        "centers_max_diff": agree["centers_max_abs_diff"],
        "same_result": "yes" if agree["ok"] else "NO",
    }


def bench_square(X, init, repeat, repeat_fit):
    k = init.shape[0]
    low, high = SQUARE_MAX_ITER

    def sklearn(max_iter, tol=0):
        return lambda: KMeans(
            k, init=init, n_init=1, max_iter=max_iter, tol=tol, algorithm="lloyd"
        ).fit(X)

    def ours(max_iter, tol=0):
        return lambda: LossKMeans(
            k, loss="square", init=init, n_init=1, max_iter=max_iter, tol=tol
        ).fit(X)

    per_iteration = marginal({"sklearn": sklearn, "ours": ours}, low, high, repeat)
    whole = interleaved(
        {"sklearn": sklearn(300, 1e-4), "ours": ours(300, 1e-4)}, repeat_fit, seed=1
    )
    rows = []
    for name, res, target in (
        (
            f"per iteration (tol=0, max_iter {high} - {low})",
            per_iteration,
            SQUARE_ITERATION_TARGET,
        ),
        ("whole fit (default tol)", whole, SQUARE_FIT_TARGET),
    ):
        agree = _agreement_columns(res["ours"]["result"], res["sklearn"]["result"])
        ratio = res["ours"]["best"] / res["sklearn"]["best"]
        if "runs" in res["ours"]:
            median = paired_median_ratio(res["ours"]["runs"], res["sklearn"]["runs"])
        else:
            median = res["ours"]["median"] / res["sklearn"]["median"]
        rows.append(
            {
                "measure": name,
                "sklearn_s": res["sklearn"]["best"],
                "ours_s": res["ours"]["best"],
                "ratio": ratio,
                "median_ratio": median,
                "per_fit_ratio": (
                    res["ours"]["per_fit"] / res["sklearn"]["per_fit"]
                    if "per_fit" in res["ours"]
                    else None
                ),
                "target": f"<= {target}",
                "status": verdict(ratio, target, positive=True),
                # (the iterations of the fits at max_iter low and high, ours and
                # sklearn's: the per-iteration figure is over their difference)
                "n_iter_low_high": (
                    "{}-{}/{}-{}".format(*res["ours"]["n_iter"], *res["sklearn"]["n_iter"])
                    if "n_iter" in res["ours"]
                    else None
                ),
                **agree,
                "sklearn_runs_s": res["sklearn"].get("runs", res["sklearn"].get("runs_high")),
                "ours_runs_s": res["ours"].get("runs", res["ours"].get("runs_high")),
            }
        )
    return rows


#: section 1b: narrower data than the issue's, as after a PCA (n, features, k)
NARROW_SHAPES = ((50_000, 16, 5), (20_000, 32, 8), (8_192, 64, 8), (4_096, 128, 8))


def bench_narrow(repeat):
    """``square`` against ``KMeans`` on narrow float32 data: whole fits (default
    ``tol``) from the same array init, best of interleaved runs. No target: the
    issue's is at 512 features; on narrow data a pass is mostly numpy calls on the
    n x k distances, which scikit-learn's Cython does in one loop."""
    rows = []
    for n, d, k in NARROW_SHAPES:
        X, rng = make_data(n, d, k, seed=2)
        init = X[rng.choice(n, k, replace=False)].copy()
        res = interleaved(
            {
                "sklearn": lambda k=k, init=init, X=X: KMeans(
                    k, init=init, n_init=1, algorithm="lloyd"
                ).fit(X),
                "ours": lambda k=k, init=init, X=X: LossKMeans(k, init=init, n_init=1).fit(X),
            },
            repeat,
            seed=2,
        )
        rows.append(
            {
                "shape": f"{n} x {d}, k={k}",
                "sklearn_s": res["sklearn"]["best"],
                "ours_s": res["ours"]["best"],
                "ratio": res["ours"]["best"] / res["sklearn"]["best"],
                "median_ratio": res["ours"]["median"] / res["sklearn"]["median"],
                **_agreement_columns(res["ours"]["result"], res["sklearn"]["result"]),
            }
        )
    return rows


#: section 1c: predict and transform of fitted centers, wide (the issue's shape) and
#: narrow (n, features, k), float32
PREDICT_SHAPES = (
    (100_000, 512, 8),
    (100_000, 2, 8),
    (100_000, 16, 8),
    (100_000, 16, 50),
    (100_000, 64, 20),
)


def bench_predict(repeat, shapes=PREDICT_SHAPES):
    """``LossKMeans(loss="square").predict`` and ``transform`` against ``KMeans``'s on
    the same centers (a short ``square`` fit's, given to both), best of interleaved
    runs. ``transform`` is not the same output (ours: squared distances, KMeans's:
    distances), but the same work but for a square root. ``labels_agree``: the share
    of equal labels (ours breaks near ties by exact distances, KMeans by its
    expansion)."""
    rows = []
    for n, d, k in shapes:
        X, rng = make_data(n, d, k, seed=3)
        init = X[rng.choice(n, k, replace=False)].copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (a fit of 3 iterations has not converged)
            ours = LossKMeans(k, init=init, n_init=1, max_iter=3).fit(X)
            theirs = KMeans(k, init=init, n_init=1, max_iter=1).fit(X[:1000])
        theirs.cluster_centers_ = ours.cluster_centers_.copy()
        res = interleaved(
            {
                "sklearn_predict": lambda m=theirs, X=X: m.predict(X),
                "ours_predict": lambda m=ours, X=X: m.predict(X),
                "sklearn_transform": lambda m=theirs, X=X: m.transform(X),
                "ours_transform": lambda m=ours, X=X: m.transform(X),
            },
            repeat,
            seed=3,
        )
        row = {"shape": f"{n} x {d}, k={k}"}
        for what in ("predict", "transform"):
            base, cand = res[f"sklearn_{what}"], res[f"ours_{what}"]
            row[f"sklearn_{what}_s"] = base["best"]
            row[f"ours_{what}_s"] = cand["best"]
            row[f"{what}_ratio"] = cand["best"] / base["best"]
            row[f"{what}_median_ratio"] = paired_median_ratio(cand["runs"], base["runs"])
        row["labels_agree"] = float(
            np.mean(res["ours_predict"]["result"] == res["sklearn_predict"]["result"])
        )
        rows.append(row)
    return rows


# -------------------------------------------------------------------------------------
# 2. every loss against a square iteration
# -------------------------------------------------------------------------------------
def bench_losses(X, init, scales, repeat, budget_s):
    k = init.shape[0]
    low, high = LOSS_MAX_ITER

    def fit(loss):
        def make(max_iter):
            return lambda: LossKMeans(
                k, loss=loss, init=init, n_init=1, max_iter=max_iter, tol=0, **scales
            ).fit(X)

        return make

    candidates = {loss: fit(loss) for loss in ("square",) + OTHER_LOSSES}
    res = marginal(candidates, low, high, repeat, budget_s=budget_s)
    early = marginal(candidates, *EARLY_MAX_ITER, repeat, budget_s=budget_s)
    base = res["square"]
    rows = []
    for loss in ("square",) + OTHER_LOSSES:
        ratio = res[loss]["best"] / base["best"]
        target = ITERATION_TARGETS.get(loss)
        rows.append(
            {
                "loss": loss,
                "s_per_iter": res[loss]["best"],
                "n_iter": "{}/{}".format(*res[loss]["n_iter"]),
                "ratio_to_square": ratio,
                "median_ratio": res[loss]["median"] / base["median"],
                "per_fit_ratio": res[loss]["per_fit"] / base["per_fit"],
                # (not for correntropy and epsilon_insensitive: their fits at max_iter 1
                # and 3 end with exact solves of different lengths, which this short
                # difference does not cancel; it can even be negative)
                "early_s_per_iter": early[loss]["best"] if loss in EARLY_LOSSES else None,
                "early_ratio": (
                    early[loss]["best"] / early["square"]["best"] if loss in EARLY_LOSSES else None
                ),
                "early_n_iter": "{}/{}".format(*early[loss]["n_iter"]),
                "target": "baseline" if target is None else f"<= {target:g}",
                # (a difference of two fits that is not positive measures nothing:
                # the shorter fit's fixed costs exceeded the longer one's)
                "status": "" if target is None else verdict(ratio, target, positive=True),
                "runs_low_s": res[loss]["runs_low"],
                "runs_high_s": res[loss]["runs_high"],
            }
        )
    return rows


# -------------------------------------------------------------------------------------
# 3. against the straightforward reference method
# -------------------------------------------------------------------------------------
def reference_cost(loss, scales, r):
    """Cost of residual(s) ``r = x - m`` (last axis = features), from the issue table."""
    if loss == "square":
        return np.sum(r**2, axis=-1)
    if loss == "absolute":
        return np.sum(np.abs(r), axis=-1)
    if loss == "huber":
        d = scales["delta"]
        a = np.abs(r)
        return np.sum(np.where(a <= d, r**2 / 2, d * (a - d / 2)), axis=-1)
    if loss == "pseudo_huber":
        d = scales["delta"]
        return np.sum(d**2 * (np.sqrt(1 + (r / d) ** 2) - 1), axis=-1)
    if loss == "correntropy":
        s = scales["sigma"]
        return 1 - np.exp(-np.sum(r**2, axis=-1) / (2 * s**2))
    if loss == "epsilon_insensitive":
        return np.maximum(0, np.sqrt(np.sum(r**2, axis=-1)) - scales["epsilon"])
    raise ValueError(loss)


def reference_assign(X, centers, loss, scales):
    """Python double loop; least cost, ties to the smaller distance, then lower index."""
    labels = np.empty(X.shape[0], dtype=np.intp)
    for i in range(X.shape[0]):
        best = None
        for j in range(centers.shape[0]):
            r = X[i] - centers[j]
            key = (reference_cost(loss, scales, r), float(r @ r))
            if best is None or key < best:
                best, labels[i] = key, j
    return labels


def reference_center(members, start, loss, scales):
    """One cluster's center: mean, median, or BFGS (maxiter 20, finite differences)."""
    if loss == "square":
        return members.mean(axis=0)
    if loss == "absolute":
        return np.median(members, axis=0)
    result = minimize(
        lambda m: reference_cost(loss, scales, members - m).sum(),
        start,
        method="BFGS",
        options={"maxiter": 20},
    )
    return result.x


def reference_objective(X, centers, loss, scales):
    """Total cost with each sample at its least-cost center (what ``inertia_`` is)."""
    costs = reference_cost(loss, scales, X[:, None, :] - centers[None, :, :])
    return float(costs.min(axis=1).sum())


def _exact_center(members, start, loss, scales):
    """One cluster's center by our exact solver, from the same start."""
    from robustkmeans._losses import LOSSES, get_loss

    param = LOSSES[loss]
    return get_loss(loss, scales[param] if param else None).center(members, init=start)


def reference_fit(X, init, loss, scales, n_iter=3, center=reference_center):
    """The reference method; also returns each update's clusters and start centers,
    for the per-update comparison of the center solvers. With ``center=_exact_center``
    the control "exact Lloyd": the reference's own iterations, every update solved
    exactly by our solver."""
    centers = init.copy()
    updates = []
    for _ in range(n_iter):
        labels = reference_assign(X, centers, loss, scales)
        new = centers.copy()
        for j in range(centers.shape[0]):
            members = X[labels == j]
            if members.shape[0]:
                new[j] = center(members, centers[j], loss, scales)
                updates.append((members, centers[j], new[j]))
        centers = new
    return centers, updates


def _update_ratio(loss, scales, updates):
    """Largest (our exact center's cluster cost / the reference's), over every update
    of a reference run: from the same cluster and the same start."""
    worst = 0.0
    for members, start, theirs in updates:
        ours = _exact_center(members, start, loss, scales)
        a = reference_cost(loss, scales, members - ours).sum()
        b = reference_cost(loss, scales, members - theirs).sum()
        worst = max(worst, a / b if b > 0 else (1.0 if a <= 0 else np.inf))
    return worst


def _ours(X, init, loss, scales, algorithm, n_iter):
    """Ours from the same start: the reference's 3 iterations (``max_iter=3, tol=0``),
    or, for ``"converged"``, Lloyd with the default ``max_iter`` and ``tol``."""
    if algorithm == "converged":
        return LossKMeans(init.shape[0], loss=loss, init=init, n_init=1, **scales)
    return LossKMeans(
        init.shape[0],
        loss=loss,
        init=init,
        n_init=1,
        max_iter=n_iter,
        tol=0,
        algorithm=algorithm,
        **scales,
    )


def bare_correntropy(X, init, sigma, n_iter=3, inner=5):
    """A floor for ``correntropy``, not a competitor: our algorithm written as bare
    numpy with nothing else, in as few numpy calls as we could. ``n_iter`` Lloyd
    iterations, each an assignment by the expanded squared distances (ranked by
    ``||m||^2 - 2 x.m``, as ours and scikit-learn's) and one majorise-minimise step
    (the means weighted by ``exp(-d^2 / 2 sigma^2)``, as one product with a weighted
    indicator matrix), then ``inner`` such steps per cluster on its samples relative
    to its center (one matrix-vector product each, as ours; a fixed count where
    ours runs to a stationary point) and the final assignment. No validation, no
    exact distances where the expansion cannot resolve them, no reseeding, no
    tolerance, no weights: what is left of a fit is numpy's per-call cost, the bound
    on any numpy implementation of 150 x 512 fits."""
    n = X.shape[0]
    rows = np.arange(n)
    g = -0.5 / sigma**2
    x_sq = np.einsum("ij,ij->i", X, X)
    centers = init.copy()
    k = centers.shape[0]
    for _ in range(n_iter):
        partial = X @ (-2 * centers).T
        partial += np.einsum("ij,ij->i", centers, centers)
        labels = partial.argmin(axis=1)
        indicator = np.zeros((k, n))
        indicator[labels, rows] = np.exp(g * (partial[rows, labels] + x_sq))
        centers = indicator @ X / indicator.sum(axis=1)[:, None]
    for c in range(k):
        Y = X[labels == c]
        Y -= centers[c]
        y_sq = np.einsum("ij,ij->i", Y, Y)
        v = np.zeros(X.shape[1])
        for _ in range(inner):
            a = np.exp(g * (y_sq - 2 * (Y @ v) + v @ v))
            v = a @ Y / a.sum()
        centers[c] += v
    partial = X @ (-2 * centers).T
    partial += np.einsum("ij,ij->i", centers, centers)
    return centers, partial.argmin(axis=1)


#: timed runs of the reference on the first start (each 0.5-3 s), interleaved with
#: blocks of ours: both sides are then the best of several runs
REFERENCE_REPEAT = 3


def bench_reference(repeat, n_starts, n_samples=150, n_features=512, n_clusters=3, n_iter=3):
    """Speed (first start) and objectives (every start) of ``lloyd`` and ``hartigan``
    against the reference, plus the per-update comparison of the center solvers.

    On the first start the reference runs ``REFERENCE_REPEAT`` times, each run
    followed by a block of runs of ours (``repeat`` in all per algorithm): the
    speedups are best / best and median / median, both sides under the same load."""
    X, rng = make_data(n_samples, n_features, n_clusters, seed=1, dtype=np.float64)
    starts = [X[rng.choice(n_samples, n_clusters, replace=False)].copy()]
    for s in range(1, n_starts):
        pick = np.random.default_rng(100 + s).choice(n_samples, n_clusters, replace=False)
        starts.append(X[pick].copy())
    scales = resolved_scales(X, starts[0])
    rows = []
    for loss in ("square",) + OTHER_LOSSES:
        row = {"loss": loss}
        ratios = {"lloyd": [], "hartigan": [], "converged": []}
        worst_update = 0.0
        exact_ratios = []
        for s, init in enumerate(starts):
            rounds = REFERENCE_REPEAT if s == 0 else 1
            block = max(1, -(-repeat // rounds)) if s == 0 else 1
            ref_runs, runs, fitted = [], {a: [] for a in ratios}, {}
            estimators = {a: _ours(X, init, loss, scales, a, n_iter) for a in ratios}
            # context, not a target: scikit-learn's KMeans on the same data from the
            # same start, the same iterations, timed under the same load as ours
            kmeans = KMeans(n_clusters, init=init, n_init=1, max_iter=n_iter, tol=0)
            kmeans_runs, bare_runs = [], []
            for _ in range(rounds):
                ref_s, (ref_centers, updates) = timed(
                    lambda loss=loss, init=init: reference_fit(X, init, loss, scales, n_iter)
                )
                ref_runs.append(ref_s)
                # each algorithm timed in a block of its own after the reference run
                # (Hartigan's allocations would slow Lloyd's next run)
                for algorithm, estimator in estimators.items():
                    for _ in range(block):
                        seconds, fitted[algorithm] = timed(lambda e=estimator: e.fit(X))
                        runs[algorithm].append(seconds)
                if s == 0:
                    for _ in range(block):
                        kmeans_runs.append(timed(lambda k=kmeans: k.fit(X))[0])
                    if loss == "correntropy":
                        for _ in range(block):
                            bare_runs.append(
                                timed(lambda i=init: bare_correntropy(X, i, scales["sigma"]))[0]
                            )
            ref_obj = reference_objective(X, ref_centers, loss, scales)
            worst_update = max(worst_update, _update_ratio(loss, scales, updates))
            for algorithm in ratios:
                ours = fitted[algorithm].cluster_centers_
                ratios[algorithm].append(reference_objective(X, ours, loss, scales) / ref_obj)
            # the control: the reference's iterations with exact updates (untimed)
            exact, _ = reference_fit(X, init, loss, scales, n_iter, center=_exact_center)
            exact_ratios.append(reference_objective(X, exact, loss, scales) / ref_obj)
            if s == 0:
                ref_best, ref_median = min(ref_runs), float(np.median(ref_runs))
                best = {a: min(r) for a, r in runs.items()}
                row.update(
                    reference_s=ref_best,
                    reference_runs_s=ref_runs,
                    lloyd_s=best["lloyd"],
                    lloyd_runs_s=runs["lloyd"],
                    hartigan_s=best["hartigan"],
                    speedup=ref_best / best["lloyd"],
                    median_speedup=ref_median / float(np.median(runs["lloyd"])),
                    hartigan_speedup=ref_best / best["hartigan"],
                    converged_speedup=ref_best / best["converged"],
                    reference_objective=ref_obj,
                    lloyd_n_iter=int(fitted["lloyd"].n_iter_),
                    kmeans_s=min(kmeans_runs),
                    lloyd_over_kmeans=best["lloyd"] / min(kmeans_runs),
                    # the time the 1000x target leaves a fit, in KMeans fits
                    budget_over_kmeans=ref_best / REFERENCE_SPEEDUP_TARGET / min(kmeans_runs),
                )
                if bare_runs:
                    row.update(bare_s=min(bare_runs), bare_speedup=ref_best / min(bare_runs))
        # the reference needs no optimiser for square (mean) and absolute (median):
        # the 1000x target is about replacing BFGS, so those two are shown, not gated
        gated = loss not in CLOSED_FORM
        row.update(
            target=f">= {REFERENCE_SPEEDUP_TARGET:g}x" if gated else "n/a (no BFGS)",
            speed_status=(
                verdict(row["speedup"], REFERENCE_SPEEDUP_TARGET, higher_is_better=True)
                if gated
                else ""
            ),
            lloyd_objective_ratio=ratios["lloyd"][0],
            lloyd_objective_ratios=ratios["lloyd"],
            lloyd_no_worse=f"{sum(r <= 1 + 1e-9 for r in ratios['lloyd'])}/{n_starts}",
            lloyd_median_ratio=float(np.median(ratios["lloyd"])),
            converged_objective_ratios=ratios["converged"],
            converged_no_worse=f"{sum(r <= 1 + 1e-9 for r in ratios['converged'])}/{n_starts}",
            converged_median_ratio=float(np.median(ratios["converged"])),
            exact_objective_ratio=exact_ratios[0],
            exact_objective_ratios=exact_ratios,
            exact_no_worse=f"{sum(r <= 1 + 1e-9 for r in exact_ratios)}/{n_starts}",
            hartigan_objective_ratio=ratios["hartigan"][0],
            hartigan_objective_ratios=ratios["hartigan"],
            hartigan_no_worse=f"{sum(r <= 1 + 1e-9 for r in ratios['hartigan'])}/{n_starts}",
            objective_status="PASS" if ratios["lloyd"][0] <= 1 + 1e-9 else "MISS",
            # the target is both at once: 1000x faster *with* an objective no
            # worse (from the timed start)
            combined_status=(
                "PASS"
                if gated
                and row["speedup"] >= REFERENCE_SPEEDUP_TARGET
                and ratios["lloyd"][0] <= 1 + 1e-9
                else ("MISS" if gated else "")
            ),
            hartigan_objective_status=(
                "PASS" if all(r <= 1 + 1e-9 for r in ratios["hartigan"]) else "MISS"
            ),
            worst_update_ratio=worst_update,
            update_status="PASS" if worst_update <= 1 + 1e-9 else "MISS",
        )
        rows.append(row)
    return rows, scales


#: the objective comparison over many starts: features (the reference's finite
#: differences cost one evaluation per feature, so at 512 only a few starts fit in a
#: run), data sets and starts per data set
OBJECTIVE_FEATURES = 20
OBJECTIVE_DATASETS = 4


def bench_objectives(starts_per_dataset, n_samples=150, n_clusters=3, n_iter=3):
    """Objectives of ours against the reference's ``n_iter`` iterations from many
    starts, at ``OBJECTIVE_FEATURES`` features (the data of section 3, narrower, where
    the reference is fast enough to run dozens of times): ours with ``max_iter`` =
    ``n_iter`` (the timed setting of section 3) and with the defaults (run to
    convergence, what a user gets). Counts of starts where ours is no worse, and
    the geometric mean and worst of ours / reference."""
    rows = []
    for loss in OTHER_LOSSES:
        ratios = {"three": [], "defaults": []}
        for d in range(OBJECTIVE_DATASETS):
            X, _ = make_data(
                n_samples, OBJECTIVE_FEATURES, n_clusters, seed=d + 1, dtype=np.float64
            )
            pick = np.random.default_rng(d)
            scales = resolved_scales(X, X[:n_clusters].copy())
            for _ in range(starts_per_dataset):
                init = X[pick.choice(n_samples, n_clusters, replace=False)].copy()
                ref, _ = reference_fit(X, init, loss, scales, n_iter)
                ref_obj = reference_objective(X, ref, loss, scales)
                fits = {
                    "three": _ours(X, init, loss, scales, "lloyd", n_iter),
                    "defaults": _ours(X, init, loss, scales, "converged", n_iter),
                }
                for name, estimator in fits.items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        centers = estimator.fit(X).cluster_centers_
                    ratios[name].append(reference_objective(X, centers, loss, scales) / ref_obj)
        row = {"loss": loss, "n_starts": len(ratios["defaults"])}
        for key, values in ratios.items():
            values = np.array(values)
            row[f"{key}_no_worse"] = int(np.sum(values <= 1 + 1e-9))
            row[f"{key}_better"] = int(np.sum(values < 1 - 1e-9))
            row[f"{key}_geomean"] = float(np.exp(np.mean(np.log(values))))
            row[f"{key}_worst"] = float(values.max())
            row[f"{key}_ratios"] = values.tolist()
        rows.append(row)
    return rows


# -------------------------------------------------------------------------------------
# 4. memory, each fit in a fresh process
# -------------------------------------------------------------------------------------
#: the fits of section 4: (name, estimator, loss, variant); variant "no-copy" is
#: ``copy_x=False``, "one-cluster" starts with 7 centers far from every sample, so
#: that the first update solves one cluster holding all the data (the worst case of
#: the solvers that gather a cluster's rows: one such copy per thread)
MEMORY_FITS = (
    ("sklearn KMeans", "sklearn", "square", ""),
    ("ours square", "ours", "square", ""),
    ("ours square, copy_x=False", "ours", "square", "no-copy"),
    ("ours absolute", "ours", "absolute", ""),
    ("ours huber", "ours", "huber", ""),
    ("ours huber, one cluster", "ours", "huber", "one-cluster"),
    ("ours pseudo_huber", "ours", "pseudo_huber", ""),
    ("ours correntropy", "ours", "correntropy", ""),
    ("ours correntropy, one cluster", "ours", "correntropy", "one-cluster"),
    ("ours epsilon_insensitive", "ours", "epsilon_insensitive", ""),
)


def _proc_status_bytes(field):
    """``field`` (``"VmRSS"``, ``"VmHWM"``) of ``/proc/self/status`` in bytes, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak_rss():
    """Reset the process's peak resident size to its current one (Linux: writing 5 to
    ``/proc/self/clear_refs``); whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return _proc_status_bytes("VmHWM") is not None


def memory_child(estimator, loss, variant, n_samples):
    """Run in a subprocess: build the data, then measure one fit's peak extra memory.

    The resident-size figure is the peak during the fit less the resident size before
    it: the peak is reset first where Linux allows, since building the data leaves a
    peak above the resident size (its freed temporaries) that a growth of
    ``ru_maxrss`` would not count; elsewhere it is that growth, a lower bound.
    """
    import gc
    import resource
    import tracemalloc

    X = make_large_data(n_samples, N_FEATURES, N_CLUSTERS)
    init = X[:N_CLUSTERS].copy()
    if variant == "one-cluster":
        init[1:] += 1000.0
    if estimator == "sklearn":
        model = KMeans(N_CLUSTERS, init=init, n_init=1, max_iter=MEMORY_MAX_ITER)
    else:
        scales = {"delta": 1.0, "sigma": 1.0, "epsilon": 1.0}
        model = LossKMeans(
            N_CLUSTERS,
            loss=loss,
            init=init,
            n_init=1,
            max_iter=MEMORY_MAX_ITER,
            copy_x=variant != "no-copy",
            **scales,
        )
    gc.collect()
    peak_reset = _reset_peak_rss()
    rss_before = _proc_status_bytes("VmRSS") if peak_reset else None
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    seconds = time.perf_counter() - start
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    if peak_reset:
        rss_delta = _proc_status_bytes("VmHWM") - rss_before
    else:
        rss_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - maxrss_before
    return {
        "data_bytes": X.nbytes,
        "traced_peak_bytes": traced_peak,
        # (the name of the earlier results: with peak_reset it is VmHWM - VmRSS)
        "maxrss_delta_bytes": max(0, rss_delta),
        "rss_method": "VmHWM after reset - VmRSS" if peak_reset else "ru_maxrss growth",
        "fit_s": seconds,
        "n_iter": int(model.n_iter_),
    }


def bench_memory(n_samples):
    runs = {}
    for name, estimator, loss, variant in MEMORY_FITS:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory-child",
                estimator,
                loss,
                variant or "-",
                str(n_samples),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
    base = runs["sklearn KMeans"]
    rows = []
    for name, r in runs.items():
        extra = max(r["traced_peak_bytes"], r["maxrss_delta_bytes"])
        ratio = extra / r["data_bytes"]
        # extra memory scales with n (the X copy, per-sample arrays, per-cluster blocks)
        projected = (1 + ratio) * 1_000_000 * N_FEATURES * 4 / 2**30
        rows.append(
            {
                "fit": name,
                "n_samples": n_samples,
                "data_MB": r["data_bytes"] / 1e6,
                "traced_peak_MB": r["traced_peak_bytes"] / 1e6,
                "maxrss_delta_MB": r["maxrss_delta_bytes"] / 1e6,
                "extra_over_data": ratio,
                "vs_sklearn": extra / max(base["traced_peak_bytes"], base["maxrss_delta_bytes"]),
                "projected_1M_GiB": projected,
                "target": f"<= {MEMORY_TARGET_GIB:g} GiB at 1M",
                "status": verdict(projected, MEMORY_TARGET_GIB),
                "fit_s": r["fit_s"],
                "n_iter": r["n_iter"],
                "rss_method": r.get("rss_method"),
            }
        )
    return rows


# -------------------------------------------------------------------------------------
def _print_section(title, rows, columns, floatfmt=".3g"):
    print(f"\n{title}")
    print(table(rows, columns, floatfmt=floatfmt))


def _note_short_fits(rows, column, expected):
    """Say which per-iteration figures come from fits that stopped before their
    ``max_iter`` (with ``tol=0``, when the labels settle): they are over fewer,
    later iterations than the baseline's, which for the losses Elkan's bounds
    prune are the cheaper ones."""
    short = [
        f"{row.get('loss', row.get('measure'))} ({row[column]})"
        for row in rows
        if row[column] is not None and row[column] != expected
    ]
    if short:
        print(
            f"note: fits that did not run every iteration (n_iter_ {expected} expected): "
            + ", ".join(short)
            + "; their per-iteration figure is over the iterations they ran"
        )


def main(argv=None):
    p = parser(__doc__.splitlines()[0])
    p.add_argument(
        "--sections",
        default="square,narrow,predict,losses,reference,objectives,memory",
        help=(
            "comma-separated subset of: square, narrow, predict, losses, reference, "
            "objectives, memory"
        ),
    )
    p.add_argument("--n-samples", type=int, default=None, help="override n of sections 1-2")
    p.add_argument("--n-memory", type=int, default=None, help="override n of section 4")
    p.add_argument("--memory-child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.memory_child:
        estimator, loss, variant, n = args.memory_child
        print(json.dumps(memory_child(estimator, loss, variant.strip("-"), int(n))))
        return 0

    mode = "quick" if args.quick else "full"
    size = dict(SIZES[mode])
    if args.repeat:
        size["repeat"] = size["repeat_fit"] = args.repeat
    n = args.n_samples or size["n"]
    n_memory = args.n_memory or size["n_memory"]
    sections = args.sections.split(",")
    known = {"square", "narrow", "predict", "losses", "reference", "objectives", "memory"}
    unknown = set(sections) - known
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}")
    output = args.output or RESULTS_DIR / (
        "bench_loss_kmeans_quick.json" if args.quick else "bench_loss_kmeans.json"
    )
    env = environment()
    env["robustkmeans"] = package_state()
    pools = ", ".join(f"{i['internal_api']}={i['num_threads']}" for i in env["threadpoolctl"])
    package = env["robustkmeans"]
    print(
        f"bench_loss_kmeans ({mode}): threads {pools}; "
        f"OPENBLAS_CORETYPE={env['env'].get('OPENBLAS_CORETYPE', '(unset)')}; "
        f"load average {env.get('load_average_1_5_15')}\nrobustkmeans from {package['path']} "
        f"(sources {package['source_sha256']}"
        + (f", commit {package['commit'][:10]}" if package.get("commit") else "")
        + (
            ""
            if package.get("sources_match_commit")
            else f", sources of {package['sources_commit'][:10]}"
            if package.get("sources_commit")
            else " + changes"
        )
        + ("" if package.get("benchmarks_match_commit", True) else "; benchmark scripts changed")
        + ")"
    )
    load = env.get("load_average_1_5_15")
    if load and load[0] > 0.5 * (env["cpu_count"] or 1):
        print(
            f"WARNING: the machine is busy (load {load[0]:.1f} on {env['cpu_count']} CPUs): "
            "ratios against OpenMP code (scikit-learn) are flattered by other processes."
        )
    results, summary = {}, []

    def check(name, value, target, status):
        summary.append({"check": name, "value": value, "target": target, "status": status})

    start = time.perf_counter()
    shape = {"n_features": N_FEATURES, "n_clusters": N_CLUSTERS, "dtype": "float32"}
    if "square" in sections or "losses" in sections:
        X, rng = make_data(n, N_FEATURES, N_CLUSTERS)
        init = X[rng.choice(n, N_CLUSTERS, replace=False)].copy()
        # warm up imports, thread pools and caches on both sides
        KMeans(N_CLUSTERS, init=init, n_init=1, max_iter=2).fit(X[:2000])
        LossKMeans(N_CLUSTERS, init=init, n_init=1, max_iter=2).fit(X[:2000])

    if "square" in sections:
        rows = bench_square(X, init, size["repeat"], size["repeat_fit"])
        results["square_vs_sklearn"] = {"n_samples": n, **shape, "rows": rows}
        _print_section(
            f"1. square vs sklearn.cluster.KMeans(algorithm='lloyd'), float32 {n} x "
            f"{N_FEATURES}, k={N_CLUSTERS}, same array init; seconds per iteration (the "
            "difference of two fits, tol=0, over their difference in iterations: fixed "
            "costs cancel) and per fit, from the best of the interleaved repeats "
            "(median_ratio: from the medians; per_fit_ratio: fit / n_iter_ at the higher "
            "max_iter, which counts the fixed costs as iterations)",
            rows,
            [
                "measure",
                "sklearn_s",
                "ours_s",
                "ratio",
                "median_ratio",
                "per_fit_ratio",
                "target",
                "status",
                "n_iter",
                "n_iter_low_high",
                "labels_agree",
                "inertia_rel_diff",
                "centers_max_diff",
                "same_result",
            ],
        )
        _note_short_fits(rows[:1], "n_iter_low_high", "{0}-{1}/{0}-{1}".format(*SQUARE_MAX_ITER))
        for r in rows:
            check(f"square/sklearn time, {r['measure']}", r["ratio"], r["target"], r["status"])
            check(
                f"square == sklearn, {r['measure']}",
                r["labels_agree"],
                "same labels, n_iter; inertia 1e-5",
                "PASS" if r["same_result"] == "yes" else "MISS",
            )

    if "narrow" in sections:
        rows = bench_narrow(size["repeat_fit"])
        results["square_narrow"] = {"dtype": "float32", "rows": rows}
        _print_section(
            "1b. square vs sklearn.cluster.KMeans on narrow float32 data (no target: the "
            "issue's is at 512 features), whole fits with the default tol from the same "
            "array init, best of interleaved runs",
            rows,
            [
                "shape",
                "sklearn_s",
                "ours_s",
                "ratio",
                "median_ratio",
                "n_iter",
                "labels_agree",
                "same_result",
            ],
        )
        for r in rows:
            check(
                f"square == sklearn, {r['shape']}",
                r["n_iter"],
                "same labels, n_iter; inertia 1e-5",
                "PASS" if r["same_result"] == "yes" else "MISS",
            )

    if "predict" in sections:
        rows = bench_predict(size["repeat"])
        results["predict_vs_sklearn"] = {"dtype": "float32", "rows": rows}
        _print_section(
            "1c. LossKMeans(loss='square').predict / transform vs KMeans's on the same "
            "fitted centers, float32, best of interleaved runs (median_ratio: median of "
            "the run-by-run ratios); no target",
            rows,
            [
                "shape",
                "sklearn_predict_s",
                "ours_predict_s",
                "predict_ratio",
                "predict_median_ratio",
                "sklearn_transform_s",
                "ours_transform_s",
                "transform_ratio",
                "labels_agree",
            ],
        )

    if "losses" in sections:
        scales = resolved_scales(X, init)
        rows = bench_losses(X, init, scales, size["repeat"], size["budget_s"])
        results["loss_iteration_vs_square"] = {
            "n_samples": n,
            **shape,
            "max_iter": LOSS_MAX_ITER,
            "scales": scales,
            "rows": rows,
        }
        _print_section(
            "2. time per iteration relative to square: (fit at max_iter="
            f"{LOSS_MAX_ITER[1]} - fit at {LOSS_MAX_ITER[0]}) / their difference in n_iter_ "
            "(tol=0, array init), best of the interleaved repeats (the JSON's median_ratio "
            "is not shown: light fits' runs are bimodal here, and a difference of medians "
            "can land anywhere; per_fit_ratio: fit / n_iter_, fixed costs included; "
            f"early_ratio: the same over max_iter {EARLY_MAX_ITER[0]} to "
            f"{EARLY_MAX_ITER[1]}, iterations 2-3, before Elkan's bounds prune any pass of "
            "absolute/huber/pseudo_huber: their worst case), float32 "
            f"{n} x {N_FEATURES}, k={N_CLUSTERS}; "
            + ", ".join(f"{k}={v:.4g}" for k, v in scales.items()),
            rows,
            [
                "loss",
                "s_per_iter",
                "n_iter",
                "ratio_to_square",
                "per_fit_ratio",
                "early_ratio",
                "target",
                "status",
            ],
        )
        _note_short_fits(rows, "n_iter", "{}/{}".format(*LOSS_MAX_ITER))
        for r in rows[1:]:
            check(
                f"{r['loss']} iteration / square iteration",
                r["ratio_to_square"],
                r["target"],
                r["status"],
            )

    if "reference" in sections:
        rows, scales = bench_reference(size["repeat"], size["reference_starts"])
        results["reference"] = {
            "n_samples": 150,
            "n_features": 512,
            "n_clusters": 3,
            "dtype": "float64",
            "n_iter": 3,
            "n_starts": size["reference_starts"],
            "scales": scales,
            "rows": rows,
        }
        _print_section(
            "3. against the straightforward reference (Python double loop + BFGS maxiter=20 "
            "with finite differences), 150 x 512 float64, k=3, 3 iterations from the same "
            "3 samples; ours: max_iter=3, tol=0, algorithm lloyd or hartigan; times from "
            f"the first start, best of {REFERENCE_REPEAT} reference runs and of ours, "
            "interleaved (median_speedup: from the medians); objective = sum of least costs "
            "by the reference formulas, ours / reference, first start and no-worse count "
            f"over {size['reference_starts']} starts; combined: the issue's target, 1000x "
            "*with* an objective no worse on the timed start; worst_update_ratio = worst "
            "(the exact center solver's cluster cost / BFGS's) over every update of the "
            "reference runs, same cluster and start (the solver, run to convergence: "
            "lloyd's iterations take one majorise-minimise / Weiszfeld step for "
            "correntropy and epsilon_insensitive, and the exact solve at the end); "
            "converged: ours with the default max_iter and tol (lloyd), objective over "
            "the same starts; exact: the control, the reference's own 3 iterations with "
            "every update solved exactly by our solver (untimed); kmeans_s: "
            "sklearn.cluster.KMeans from the same start, same 3 iterations (context, timed "
            "beside ours); budget_over_kmeans: reference_s / 1000 / kmeans_s, the time "
            "the 1000x target leaves a fit, in KMeans fits of this data; "
            + ", ".join(f"{k}={v:.4g}" for k, v in scales.items()),
            rows,
            [
                "loss",
                "reference_s",
                "lloyd_s",
                "speedup",
                "median_speedup",
                "target",
                "speed_status",
                "lloyd_objective_ratio",
                "combined_status",
                "lloyd_no_worse",
                "lloyd_median_ratio",
                "converged_speedup",
                "converged_median_ratio",
                "converged_no_worse",
                "exact_objective_ratio",
                "exact_no_worse",
                "hartigan_s",
                "hartigan_speedup",
                "hartigan_objective_ratio",
                "hartigan_no_worse",
                "worst_update_ratio",
                "kmeans_s",
                "lloyd_over_kmeans",
                "budget_over_kmeans",
            ],
            floatfmt=".5g",
        )
        for r in rows:
            if r["speed_status"]:
                check(
                    f"reference time / ours (lloyd), {r['loss']}",
                    r["speedup"],
                    r["target"],
                    r["speed_status"],
                )
            check(
                f"objective ours (lloyd) / reference, {r['loss']}",
                r["lloyd_objective_ratio"],
                "<= 1",
                r["objective_status"],
            )
            if r["combined_status"]:
                check(
                    f"1000x with an objective no worse (lloyd), {r['loss']}",
                    r["speedup"],
                    ">= 1000x and objective <= 1",
                    r["combined_status"],
                )
            check(
                f"objective ours (hartigan) / reference, {r['loss']}, all starts",
                max(r["hartigan_objective_ratios"]),
                "<= 1",
                r["hartigan_objective_status"],
            )
            check(
                f"exact center solver / BFGS update, {r['loss']}, worst",
                r["worst_update_ratio"],
                "<= 1",
                r["update_status"],
            )

    if "objectives" in sections:
        rows = bench_objectives(size["objective_starts"])
        results["objectives"] = {
            "n_samples": 150,
            "n_features": OBJECTIVE_FEATURES,
            "n_clusters": 3,
            "dtype": "float64",
            "n_iter": 3,
            "n_datasets": OBJECTIVE_DATASETS,
            "starts_per_dataset": size["objective_starts"],
            "rows": rows,
        }
        _print_section(
            f"3b. objectives over many starts: ours / the reference's 3 iterations, 150 x "
            f"{OBJECTIVE_FEATURES} float64 (section 3's data, narrower: the reference's "
            f"finite differences are then cheap), k=3, {OBJECTIVE_DATASETS} data sets x "
            f"{size['objective_starts']} starts; three: ours with max_iter=3, tol=0 (section "
            "3's timed setting); defaults: ours with the default max_iter and tol; "
            "no_worse / better: starts where ours is no worse / strictly better; geomean, "
            "worst: of ours / reference",
            rows,
            [
                "loss",
                "n_starts",
                "three_no_worse",
                "three_better",
                "three_geomean",
                "three_worst",
                "defaults_no_worse",
                "defaults_better",
                "defaults_geomean",
                "defaults_worst",
            ],
            floatfmt=".5g",
        )
        for r in rows:
            check(
                f"objective ours (defaults) / reference, {r['loss']}, 150 x "
                f"{OBJECTIVE_FEATURES}, starts no worse",
                f"{r['defaults_no_worse']}/{r['n_starts']}",
                "all",
                "PASS" if r["defaults_no_worse"] == r["n_starts"] else "MISS",
            )

    if "memory" in sections:
        rows = bench_memory(n_memory)
        results["memory"] = {
            "n_samples": n_memory,
            **shape,
            "max_iter": MEMORY_MAX_ITER,
            "rows": rows,
            "note": "extra = max(tracemalloc peak, resident-size peak during the fit less "
            "the resident size before it (rss_method)) during one fit, fresh process per fit; "
            "fit_s is under tracemalloc; copy_x=True copies X once (as KMeans does); one cluster: "
            "7 of the 8 initial centers far from every sample, so that the first update "
            "solves one cluster of all the data",
        }
        _print_section(
            f"4. peak extra memory of one fit (max_iter={MEMORY_MAX_ITER}, default tol, "
            f"copy_x=True unless stated), float32 {n_memory} x {N_FEATURES}, "
            f"k={N_CLUSTERS}; one cluster: 7 of the 8 initial centers far from every sample",
            rows,
            [
                "fit",
                "data_MB",
                "traced_peak_MB",
                "maxrss_delta_MB",
                "extra_over_data",
                "vs_sklearn",
                "projected_1M_GiB",
                "target",
                "status",
                "fit_s",
            ],
        )
        for r in rows[1:]:
            check(
                f"memory {r['fit']}, GiB data + extra at 1M x 512",
                r["projected_1M_GiB"],
                r["target"],
                r["status"],
            )

    elapsed = time.perf_counter() - start
    _print_section(
        f"Summary ({mode}, {elapsed:.0f} s)",
        summary,
        ["check", "value", "target", "status"],
        floatfmt=".6g",
    )
    record_end(env)
    write_json(
        output,
        {
            "benchmark": "bench_loss_kmeans",
            "mode": mode,
            "argv": sys.argv[1:],
            "elapsed_s": elapsed,
            "config": {**size, "n": n, "n_memory": n_memory, "sections": sections},
            "environment": env,
            "results": results,
            "summary": summary,
        },
    )
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
