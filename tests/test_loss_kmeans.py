"""Behaviour of LossKMeans that users rely on."""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _formulas import formula_cost
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from robustkmeans import LossKMeans, _loss_kmeans
from robustkmeans._losses import LOSS_NAMES, LOSSES, get_loss

ROBUST = [loss for loss in LOSS_NAMES if loss != "square"]


def _data(seed=0, n=300, d=6, heavy=False, dtype=np.float64):
    X, y = make_blobs(n, centers=4, n_features=d, random_state=seed)
    if heavy:
        rng = np.random.default_rng(seed)
        X = X + rng.standard_t(df=1.5, size=X.shape)
    return X.astype(dtype), y


# ---------------------------------------------------------------------------------
# the objective
# ---------------------------------------------------------------------------------
# (that the objective never increases, pass after pass, is checked on the centers
# each pass receives in test_loss_kmeans_properties.py)
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_centers_are_exact_for_final_labels(loss):
    # each final center minimises its cluster's *weighted* cost, checked against
    # references independent of the package's solvers (as in test_losses.py)
    from scipy.optimize import minimize, minimize_scalar

    X, _ = _data(seed=2, n=200, d=3, heavy=True)
    w = np.random.default_rng(2).uniform(0.1, 5.0, X.shape[0])
    scales = dict(delta=1.0, sigma=2.0, epsilon=0.5)
    km = LossKMeans(4, loss=loss, n_init=1, tol=0, random_state=0, **scales)
    km.fit(X, sample_weight=w)
    assert km.n_iter_ < km.max_iter  # (converged: the labels are the centers')
    rho = {  # per-coordinate costs of the separable losses (delta = 1)
        "absolute": np.abs,
        "huber": lambda r: np.where(np.abs(r) <= 1.0, r**2 / 2, np.abs(r) - 0.5),
        "pseudo_huber": lambda r: np.sqrt(1 + r**2) - 1,
    }
    for c in range(4):
        members = km.labels_ == c
        Xc, wc, center = X[members], w[members], km.cluster_centers_[c]
        mean = wc @ Xc / wc.sum()
        if loss == "square":
            np.testing.assert_allclose(center, mean, rtol=1e-10, atol=1e-12)
        elif loss in rho:
            # per coordinate: bounded Brent on the data range, refined by the best data
            # point (a weighted median is one)
            for j in range(X.shape[1]):

                def f(m, x=Xc[:, j], wc=wc):
                    return float(wc @ rho[loss](x - m))

                bounds = (Xc[:, j].min(), Xc[:, j].max())
                options = {"xatol": 1e-13, "maxiter": 10_000}
                ref = minimize_scalar(f, bounds=bounds, method="bounded", options=options).fun
                best = min(ref, min(f(v) for v in Xc[:, j]))
                assert f(center[j]) <= best * (1 + 1e-6) + 1e-12, (c, j)
        elif loss == "epsilon_insensitive":

            def f(m, Xc=Xc, wc=wc):
                return float(wc @ _formula_cost(loss, Xc, m, **scales))

            # Nelder-Mead from the fit's center and from the weighted mean
            options = {"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000}
            ref = min(minimize(f, s, method="Nelder-Mead", options=options).fun
                      for s in (center, mean))  # fmt: skip
            assert f(center) <= ref * (1 + 1e-6) + 1e-12, c
        else:
            # correntropy (non-convex): a stationary point of the weighted cost
            k = wc * np.exp(-((Xc - center) ** 2).sum(1) / (2 * 2.0**2))
            grad = (k[:, None] * (center - Xc)).sum(0) / 2.0**2
            scale = (k[:, None] * np.abs(center - Xc)).sum(0).max() / 2.0**2
            assert np.abs(grad).max() <= 1e-6 * scale, c


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_callable_init_sees_the_data_as_given(loss):
    # fit centers X for the Euclidean losses; a callable init still gets X as the
    # caller gave it and returns centers in those coordinates (before: centered X for
    # three losses and not for the other three, so constant centers were shifted)
    X, _ = _data(seed=5)
    X = X + 100.0
    seen = []

    def init(data, n_clusters, random_state):
        seen.append(np.array(data))
        return X[[0, 1, 2]]

    kw = dict(loss=loss, delta=1.0, sigma=2.0, epsilon=0.5, n_init=1, random_state=0)
    km = LossKMeans(3, init=init, **kw).fit(X)
    np.testing.assert_allclose(seen[0], X)
    ref = LossKMeans(3, init=X[[0, 1, 2]], **kw).fit(X)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_)


@pytest.mark.parametrize("container", ["array", "fortran", "frame", "read-only"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_callable_init_sees_the_data_bit_for_bit(container, dtype):
    # the callable got the centered data plus its mean, which is X only up to
    # rounding (off by 4.8e-7 in float32 near the origin): rows it picked were not
    # the caller's samples, nor the centers an array of those rows starts from
    X = _data(seed=5, d=3, dtype=dtype)[0] - 1.0
    if container == "frame":
        given = pytest.importorskip("pandas").DataFrame(X)
    else:
        given = np.asfortranarray(X) if container == "fortran" else X.copy()
        given.flags.writeable = container != "read-only"
    seen = []

    def init(data, n_clusters, random_state):
        seen.append(np.array(data))
        return data[[0, 1, 2, 3]]

    kw = dict(loss="square", n_init=1)
    km = LossKMeans(4, init=init, **kw).fit(given)
    np.testing.assert_array_equal(seen[0], X)
    ref = LossKMeans(4, init=X[[0, 1, 2, 3]], **kw).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_a_callable_init_that_writes_into_its_data_leaves_the_callers_x(loss):
    # with copy_x=True the caller's X is never written, as KMeans hands a callable
    # its own copy: ours handed the caller's array itself (the separable losses,
    # and since 1019e56 the Euclidean ones), so a callable shuffling its argument
    # shuffled the caller's data
    X = _data(seed=6, d=3)[0]
    given = X.copy()

    def init(data, n_clusters, random_state):
        random_state.shuffle(data)
        return data[:n_clusters].copy()

    km = LossKMeans(3, loss=loss, init=init, n_init=2, random_state=0).fit(given)
    np.testing.assert_array_equal(given, X)
    assert np.isfinite(km.inertia_)


@pytest.mark.parametrize("container", ["int", "list", "fortran"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_a_callable_init_that_writes_into_converted_data_changes_no_fit(loss, container):
    # data that fit converts (int, list, Fortran order) was handed to the callable
    # as the conversion itself, which the separable losses fit as it is: a callable
    # shuffling its argument left labels_ out of line with X (and the Euclidean
    # losses' next init saw the shuffled rows). The fit is now that of the same
    # values given as a float64 array
    X = np.round(10 * _data(seed=6, d=3)[0]).astype(np.int64)
    given = {"int": X, "list": X.tolist(), "fortran": np.asfortranarray(X.astype(float))}

    def init(data, n_clusters, random_state):
        random_state.shuffle(data)
        return data[:n_clusters].copy()

    kw = dict(loss=loss, init=init, n_init=3, random_state=0, delta=5.0, sigma=10.0, epsilon=5.0)
    ref = LossKMeans(3, **kw).fit(X.astype(float))
    km = LossKMeans(3, **kw).fit(given[container])
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_array_equal(km.labels_, km.predict(X.astype(float)))
    np.testing.assert_array_equal(km.cluster_centers_, ref.cluster_centers_)
    assert km.inertia_ == ref.inertia_


# ---------------------------------------------------------------------------------
# parity with scikit-learn
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_square_matches_sklearn_kmeans_from_same_init(dtype, weighted):
    X, _ = _data(seed=3, n=500, dtype=dtype)
    w = np.random.default_rng(1).uniform(0.5, 2, X.shape[0]).astype(dtype) if weighted else None
    init = X[[0, 10, 20, 30, 40]]
    ref = KMeans(5, init=init, n_init=1, tol=1e-4).fit(X, sample_weight=w)
    ours = LossKMeans(5, init=init, n_init=1, tol=1e-4).fit(X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, atol=1e-5)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-5)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.cluster_centers_.dtype == dtype


def test_square_kmeans_plusplus_draws_sklearn_seeds():
    X, _ = _data(seed=4, n=400)
    ref = KMeans(4, random_state=7).fit(X)
    ours = LossKMeans(4, random_state=7).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-10)


def _kmeans_plusplus_reference(X, n_clusters, cost, w, random_state):
    """Greedy k-means++ written out: the first seed drawn with probability
    proportional to ``w``, then for each next one ``2 + int(log k)`` candidates drawn
    with probability proportional to ``w`` times the cost to the nearest seed
    (inverse CDF of uniform draws), keeping the candidate that leaves the least
    total weighted cost. Returns the indices of the seeds."""
    n = X.shape[0]
    trials = 2 + int(np.log(n_clusters))
    seeds = [random_state.choice(n, p=w / w.sum())]
    closest = cost(X, X[seeds[0]])
    for _ in range(1, n_clusters):
        potential = float(w @ closest)
        targets = random_state.uniform(size=trials) * potential
        candidates = np.minimum(np.searchsorted(np.cumsum(w * closest), targets), n - 1)
        after = [np.minimum(closest, cost(X, X[i])) for i in candidates]
        best = int(np.argmin([w @ a for a in after]))
        seeds.append(candidates[best])
        closest = after[best]
    return np.array(seeds)


_SEEDING = {  # the cost k-means++ draws by, and the loss's scale
    "absolute": (lambda X, c: np.abs(X - c).sum(1), {}),
    "correntropy": (lambda X, c: 1 - np.exp(-((X - c) ** 2).sum(1) / (2 * 1.5**2)), {"sigma": 1.5}),
    # (epsilon_insensitive seeds by the Euclidean distance: its dead zone would give
    # the samples near a seed no chance)
    "epsilon_insensitive": (lambda X, c: np.sqrt(((X - c) ** 2).sum(1)), {"epsilon": 2.0}),
}


@pytest.mark.parametrize("loss", list(_SEEDING))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_plusplus_seeds_in_the_geometry_of_the_loss(loss, seed):
    # k-means++ draws with probability proportional to sample_weight times the cost
    # under the loss (not the squared distance), and keeps the best of its candidates
    from robustkmeans._initialization import kmeans_plusplus
    from robustkmeans._kernels import row_sq_norms

    X, _ = _data(seed=seed, n=200, d=3, heavy=True)
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.1, 5.0, X.shape[0]) * (rng.random(X.shape[0]) < 0.8)
    cost, scale = _SEEDING[loss]
    expected = _kmeans_plusplus_reference(X, 6, cost, w, np.random.RandomState(seed))
    assert np.all(w[expected] > 0)
    loss_obj = get_loss(loss, next(iter(scale.values()), None))
    rs = np.random.RandomState(seed)
    seeds = kmeans_plusplus(X, 6, loss_obj, row_sq_norms(X), rs, w, 1)
    np.testing.assert_array_equal(seeds, X[expected])
    # fit seeds so: its result is the fit started from these seeds
    kw = dict(loss=loss, n_init=1, **scale)
    km = LossKMeans(6, random_state=seed, **kw).fit(X, sample_weight=w)
    ref = LossKMeans(6, init=X[expected], **kw).fit(X, sample_weight=w)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "init,expected",
    [("k-means++", 1), ("random", 10), ("callable", 10), ("array", 1)],
)
def test_n_init_auto_counts_as_kmeans(init, expected, monkeypatch):
    # n_init="auto": 10 initialisations for "random" and a callable, 1 for
    # "k-means++" and explicit centers (as scikit-learn's KMeans)
    X, _ = _data(seed=3, n=60)
    calls = []
    init_centers = LossKMeans._init_centers

    def counted(self, *args, **kwargs):
        calls.append(1)
        return init_centers(self, *args, **kwargs)

    monkeypatch.setattr(LossKMeans, "_init_centers", counted)
    given = {
        "callable": lambda data, k, random_state: data[random_state.choice(len(data), k, False)],
        "array": X[:3],
    }.get(init, init)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no warning for explicit centers with "auto")
        LossKMeans(3, init=given, random_state=0).fit(X)
    assert len(calls) == expected


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
def test_sparse_fit_stopped_by_tol_matches_dense(loss):
    # overlapping data, where tol (not settled labels) ends the fit: the tolerance
    # of sparse data is the mean feature variance as the dense one's (its sum, 50
    # times larger, stopped after 4 iterations against 31: a mutation audit no test
    # caught, as the sparse tests' blobs settle first), and KMeans's for square
    rng = np.random.default_rng(0)
    X = rng.random((2000, 50))
    X[X < 0.7] = 0
    kw = dict(loss=loss, sigma=1.0, epsilon=0.3, n_init=1, random_state=0, tol=1e-2)
    dense = LossKMeans(8, **kw).fit(X)
    sparse = LossKMeans(8, **kw).fit(sp.csr_matrix(X))
    assert sparse.n_iter_ == dense.n_iter_ > 5
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    assert sparse.inertia_ == pytest.approx(dense.inertia_, rel=1e-10)
    if loss == "square":
        kmeans = KMeans(8, init=X[:8], n_init=1, tol=1e-2).fit(sp.csr_matrix(X))
        ours = LossKMeans(8, init=X[:8], n_init=1, tol=1e-2).fit(sp.csr_matrix(X))
        assert ours.n_iter_ == kmeans.n_iter_ > 5


def test_square_sparse_matches_dense():
    X, _ = _data(seed=5)
    X[X < 0] = 0
    init = X[:4]
    dense = LossKMeans(4, init=init).fit(X)
    sparse = LossKMeans(4, init=init).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dense.labels_, sparse.labels_)
    np.testing.assert_allclose(dense.cluster_centers_, sparse.cluster_centers_, atol=1e-8)


# ---------------------------------------------------------------------------------
# what robust losses are for
# ---------------------------------------------------------------------------------
def test_robust_losses_resist_gross_outliers():
    scores = {loss: [] for loss in LOSS_NAMES}
    for seed in range(3):
        X, y = make_blobs(270, centers=3, n_features=5, center_box=(-6, 6), random_state=seed)
        outliers = np.random.default_rng(seed).uniform(-60, 60, size=(30, 5))  # 10%
        Xo = np.vstack([X, outliers])
        for loss in LOSS_NAMES:
            km = LossKMeans(
                3,
                loss=loss,
                delta="auto",
                sigma="auto",
                epsilon="auto",
                n_init=5,
                random_state=seed,
            ).fit(Xo)
            scores[loss].append(adjusted_rand_score(y, km.labels_[: len(y)]))
    square = np.mean(scores["square"])
    for loss in ROBUST:
        assert np.mean(scores[loss]) > square + 0.3, (loss, scores)


# ---------------------------------------------------------------------------------
# algorithms
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_hartigan_never_worse_than_lloyd(seed):
    X, _ = _data(seed=seed, n=300, heavy=True)
    init = X[np.random.default_rng(seed).choice(len(X), 6, replace=False)]
    lloyd = LossKMeans(6, init=init, algorithm="lloyd").fit(X)
    hartigan = LossKMeans(6, init=init, algorithm="hartigan").fit(X)
    assert hartigan.inertia_ <= lloyd.inertia_ * (1 + 1e-12)
    path = np.array(hartigan.objective_path_)
    assert np.all(np.diff(path) <= 1e-9 * path[0])
    # the centers are the means of the final clusters
    for c in range(6):
        np.testing.assert_allclose(
            hartigan.cluster_centers_[c], X[hartigan.labels_ == c].mean(0), atol=1e-10
        )


@pytest.mark.parametrize(
    "loss, scale, seed",
    [("huber", {"delta": 1.0}, 8), ("correntropy", {"sigma": 2.0}, 12),
     ("epsilon_insensitive", {"epsilon": 0.5}, 138)],
)  # fmt: skip
def test_hartigan_robust_losses_verify_several_transfers_per_round(loss, scale, seed, capsys):
    # each candidate is verified against the clusters the transfers before it left,
    # so two clusters can take several transfers in one round (only pairs sharing
    # no cluster, one each, took 1,014 rounds of an n x k screen on 100,000 x 16
    # blobs, k = 20, correntropy: 98 s, now 23 s)
    rng = np.random.default_rng(seed)
    X = rng.standard_t(2, size=(40, 2))
    kw = dict(loss=loss, init=X[:2], n_init=1, **scale)
    lloyd = LossKMeans(2, tol=0, **kw).fit(X)
    km = LossKMeans(2, algorithm="hartigan", verbose=1, **kw).fit(X)
    rounds = [line for line in capsys.readouterr().out.splitlines() if "Hartigan round" in line]
    assert int(rounds[0].split()[2]) >= 2, rounds
    assert km.inertia_ < lloyd.inertia_
    path = np.array(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-12 * path[0])
    loss_obj = get_loss(loss, next(iter(scale.values())))
    for c in range(2):
        members = X[km.labels_ == c]
        exact = loss_obj.center(members, init=km.cluster_centers_[c])
        assert loss_obj.objective(members, km.cluster_centers_[c]) <= loss_obj.objective(
            members, exact
        ) * (1 + 1e-9)


def test_hartigan_square_moves_many_samples_per_round(capsys):
    # a round moves every screened sample whose exact gain holds at the centers the
    # moves before it left; one move per pair of disjoint clusters per round (so one
    # per round for two clusters) took 1,800 rounds, 72 s, after Lloyd's tol stop
    # on 100,000 x 16, k = 20. Here Lloyd's fixed point leaves four moves at once
    rng = np.random.default_rng(126)
    X = rng.standard_t(2, size=(40, 2))
    lloyd = LossKMeans(2, init=X[:2], n_init=1, tol=0).fit(X)
    km = LossKMeans(2, init=X[:2], n_init=1, algorithm="hartigan", verbose=1).fit(X)
    rounds = [line for line in capsys.readouterr().out.splitlines() if "Hartigan round" in line]
    assert int(rounds[0].split()[2]) >= 2, rounds
    assert km.inertia_ < lloyd.inertia_
    path = np.array(km.objective_path_)
    assert np.all(np.diff(path) <= 0)
    for c in range(2):
        np.testing.assert_allclose(km.cluster_centers_[c], X[km.labels_ == c].mean(0), atol=1e-12)
    # Hartigan's optimum: no single transfer lowers the objective
    W = np.bincount(km.labels_, minlength=2).astype(float)
    d2 = ((X[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    rows = np.arange(len(X))
    own, other = d2[rows, km.labels_], d2[rows, 1 - km.labels_]
    Wa, Wb = W[km.labels_], W[1 - km.labels_]
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(Wa > 1, Wa / (Wa - 1) * own, 0) - Wb / (Wb + 1) * other
    assert gain.max() <= 1e-9 * km.inertia_


def test_hartigan_float32_objective_path_never_rises():
    # Hartigan's path was Lloyd's, its last entry included: Lloyd's objective at its
    # own centers, means of float32 products (rounded for these duplicates), where
    # the transfers start from float64 means (exact). The same clustering evaluated
    # at two roundings of its means, one entry after the other: the path went 0,
    # 4e-14, 0 (in 2% of small float32 fits; the last entry alone is the stored
    # centers' rounding, as for Lloyd)
    X = np.array([[0], [4], [4], [0], [0], [1], [2]], np.float32)
    init = np.array([[0], [1], [2], [4]], np.float32)
    km = LossKMeans(4, init=init, n_init=1, algorithm="hartigan").fit(X)
    assert np.all(np.diff(km.objective_path_) <= 0)
    assert km.inertia_ == 0


def _macqueen_reference(X, w, init, seed, max_iter, batch):
    """MacQueen's online k-means as documented, written out plainly: a first
    assignment to ``init``; then passes over the samples in the order of
    ``RandomState(seed).permutation`` (one per pass), each batch of ``batch``
    samples assigned to the means of the clusters as they are before it, every
    sample that changes cluster moving its weight from one mean to the other; a
    pass that moves nothing ends the run; then a last assignment. Returns labels,
    centers, number of passes and the objective after each pass and at the end."""
    rs = np.random.RandomState(seed)
    k = init.shape[0]

    def nearest(rows, C):
        return ((rows[:, None, :] - C[None, :, :]) ** 2).sum(-1).argmin(1)

    def objective(C, labels):
        return float(w @ ((X - C[labels]) ** 2).sum(1))

    C = init.astype(np.float64).copy()
    labels = nearest(X, C)
    W = np.array([w[labels == c].sum() for c in range(k)])
    S = np.array([w[labels == c] @ X[labels == c] for c in range(k)])
    path = []
    n_passes = 0
    while n_passes < max_iter:
        n_passes += 1
        assert np.all(W > 0)  # (no cluster to re-seed on this data)
        moved = 0
        order = rs.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch):
            idx = order[start : start + batch]
            C[W > 0] = S[W > 0] / W[W > 0, None]
            for i, b in zip(idx, nearest(X[idx], C), strict=True):
                a = labels[i]
                if a != b:
                    S[a] -= w[i] * X[i]
                    W[a] -= w[i]
                    S[b] += w[i] * X[i]
                    W[b] += w[i]
                    labels[i] = b
                    moved += 1
        C[W > 0] = S[W > 0] / W[W > 0, None]
        path.append(objective(C, labels))
        if moved == 0:
            break
    labels = nearest(X, C)
    path.append(objective(C, labels))
    return labels, C, n_passes, path


@pytest.mark.parametrize("batch", [1, None])
@pytest.mark.parametrize("seed", [0, 1])
def test_macqueen_follows_the_online_updates(seed, batch, monkeypatch):
    # the online algorithm itself, not only an outcome batch Lloyd reaches too:
    # same labels, centers, passes and objective path as the plain reference above,
    # from a poor start (three samples of one blob), with sample weights; batch 1 is
    # MacQueen's one sample at a time, None the package's batches
    if batch is None:
        batch = _loss_kmeans._MACQUEEN_BATCH
    else:
        monkeypatch.setattr(_loss_kmeans, "_MACQUEEN_BATCH", batch)
    X, y = make_blobs(200, centers=3, n_features=2, cluster_std=1.5, random_state=seed)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, X.shape[0])
    init = X[np.flatnonzero(y == 0)[:3]]
    km = LossKMeans(3, init=init, n_init=1, tol=0, algorithm="macqueen", random_state=seed)
    km.fit(X, sample_weight=w)
    labels, centers, n_iter, path = _macqueen_reference(X, w, init, seed, 300, batch)
    assert n_iter > 2
    np.testing.assert_array_equal(km.labels_, labels)
    np.testing.assert_allclose(km.cluster_centers_, centers, rtol=0, atol=1e-10)
    assert km.n_iter_ == n_iter
    np.testing.assert_allclose(km.objective_path_, path, rtol=1e-10)


def test_macqueen_reaches_a_good_clustering():
    X, y = _data(seed=6, n=400)
    km = LossKMeans(4, algorithm="macqueen", random_state=0).fit(X)
    ref = KMeans(4, random_state=0).fit(X)
    assert adjusted_rand_score(y, km.labels_) > 0.95
    assert km.inertia_ <= ref.inertia_ * 1.05


def test_unsupported_algorithm_loss_pair_is_named():
    X, _ = _data()
    with pytest.raises(ValueError, match="algorithm='macqueen' supports loss in"):
        LossKMeans(3, loss="huber", algorithm="macqueen").fit(X)


def _small_clusters(seed):
    # heavy tails and unequal, small clusters: where Lloyd's fixed points leave
    # improving single-sample transfers
    rng = np.random.default_rng(seed)
    sizes = (40, 8, 4)
    X = np.vstack([rng.standard_t(df=3, size=(s, 12)) + 3 * rng.normal(size=12) for s in sizes])
    w = rng.uniform(0.5, 2.0, size=X.shape[0])
    return X, w


_SCALES = {
    "absolute": {},
    "huber": {"delta": 1.0},
    "pseudo_huber": {"delta": 1.0},
    "correntropy": {"sigma": 8.0},
    "epsilon_insensitive": {"epsilon": 2.0},
}


@pytest.mark.parametrize("loss", ROBUST)
@pytest.mark.parametrize("seed", range(3))
def test_hartigan_robust_losses_never_worse_than_lloyd(loss, seed):
    X, w = _small_clusters(seed)
    init = X[np.random.default_rng(seed).choice(len(X), 3, replace=False)]
    kw = dict(init=init, n_init=1, **_SCALES[loss])
    lloyd = LossKMeans(3, loss=loss, **kw).fit(X, sample_weight=w)
    hartigan = LossKMeans(3, loss=loss, algorithm="hartigan", **kw).fit(X, sample_weight=w)
    assert hartigan.inertia_ <= lloyd.inertia_ * (1 + 1e-9)
    path = np.array(hartigan.objective_path_)
    assert np.all(np.diff(path) <= 1e-9 * path[0])
    # a fixed point: least-cost labels, and each center its cluster's exact one
    np.testing.assert_array_equal(hartigan.predict(X), hartigan.labels_)
    solver = get_loss(loss, next(iter(_SCALES[loss].values()), None))
    for c in np.unique(hartigan.labels_):
        members = hartigan.labels_ == c
        center = hartigan.cluster_centers_[c]
        exact = solver.center(X[members], w[members], init=center)
        at_fit = solver.objective(X[members], center, w[members])
        assert at_fit <= solver.objective(X[members], exact, w[members]) * (1 + 1e-7) + 1e-12


@pytest.mark.parametrize("loss", ROBUST)
def test_hartigan_robust_losses_improve_on_lloyd_fixed_points(loss):
    # the transfers must actually find something: over a few inits, a clearly lower
    # objective than Lloyd's in most of them (absolute included: its transfers are
    # screened by the square loss's formula, and a Hartigan run that did none passed
    # every other test; here it gains 0.05% to 0.3%, 3 inits of 4 above 0.1%)
    X, w = _small_clusters(7)
    better = 0
    for seed in range(4):
        init = X[np.random.default_rng(seed).choice(len(X), 3, replace=False)]
        kw = dict(init=init, n_init=1, **_SCALES[loss])
        lloyd = LossKMeans(3, loss=loss, **kw).fit(X, sample_weight=w)
        hartigan = LossKMeans(3, loss=loss, algorithm="hartigan", **kw).fit(X, sample_weight=w)
        better += hartigan.inertia_ < lloyd.inertia_ * (1 - 1e-3)
    assert better >= 2


@pytest.mark.parametrize("loss", ["huber", "correntropy"])
def test_hartigan_robust_losses_improve_on_lloyd_at_scale_in_float32(loss):
    # 5000 float32 samples: a transfer's gain is tiny against the whole objective
    # (the rounding margin is taken on the two clusters it changes), and for
    # correntropy the square loss's formula ranks the wrong candidates first (the
    # screen is Newton's estimate of the exact gain)
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=0.3, size=(8, 64))
    X = centers[rng.integers(8, size=5000)] + rng.standard_t(3, size=(5000, 64))
    X = X.astype(np.float32)
    # (how much Hartigan finds depends on the start: 1.4e-4 to 2e-3 on this one,
    # 2e-5 to 1.5e-4 over random_state 0-3)
    kw = dict(loss=loss, n_init=1, random_state=1, delta="auto", sigma="auto")
    lloyd = LossKMeans(8, **kw).fit(X)
    hartigan = LossKMeans(8, algorithm="hartigan", **kw).fit(X)
    assert hartigan.inertia_ < lloyd.inertia_ * (1 - 5e-5)
    np.testing.assert_array_equal(hartigan.predict(X), hartigan.labels_)


def test_absolute_on_integer_data_centers_and_ties_are_those_of_the_data():
    # separable losses work on x - m, uncentered: medians of integer data are
    # integers, and tied costs are exact ties, broken in fit as predict breaks them
    rng = np.random.default_rng(36)
    rng.integers(20, 150, size=3)  # (the draws of the random case that found it)
    X = rng.standard_t(2, size=(69, 2)) + 3 * rng.normal(size=(3, 2))[rng.integers(3, size=69)]
    X = np.round(X)
    w = rng.uniform(0.2, 3, 69)
    km = LossKMeans(3, loss="absolute", n_init=1, random_state=36).fit(X, sample_weight=w)
    costs = km.transform(X)
    tied = np.sum(costs == costs.min(axis=1, keepdims=True), axis=1) > 1
    assert tied.any()
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    np.testing.assert_array_equal(km.cluster_centers_ * 2, np.round(km.cluster_centers_ * 2))


@pytest.mark.parametrize("loss", ["huber", "pseudo_huber", "absolute"])
def test_separable_fit_far_from_the_origin_in_float32(loss):
    # the separable losses see X uncentered: the same points shifted by 1e4 must
    # give the same centers to the spacing of float32 there, the same labels, the
    # same tolerance, and inertia_ at the final centers
    rng = np.random.default_rng(0)
    X = np.vstack([rng.standard_t(3, size=(300, 8)) + 6 * rng.normal(size=8) for _ in range(3)])
    X = X.astype(np.float32)
    init = X[[0, 300, 600]]
    kw = dict(loss=loss, n_init=1, delta=1.0, tol=0)
    near = LossKMeans(3, init=init, **kw).fit(X)
    far = LossKMeans(3, init=init + np.float32(1e4), **kw).fit(X + np.float32(1e4))
    np.testing.assert_array_equal(far.labels_, near.labels_)
    spacing = np.spacing(np.float32(1e4))
    np.testing.assert_allclose(far.cluster_centers_ - 1e4, near.cluster_centers_, atol=2 * spacing)
    for km, data in ((near, X), (far, X + np.float32(1e4))):
        assert km.inertia_ == pytest.approx(-km.score(data), rel=1e-6)
    from robustkmeans._loss_kmeans import _tolerance

    # (float32 sums of 100,000 values near 1e4 lose the unit spread entirely)
    Y = (rng.normal(size=(100_000, 4)) + 1e4).astype(np.float32)
    exact = np.mean(np.var(Y.astype(np.float64), axis=0))
    assert _tolerance(Y, 1.0).value == pytest.approx(exact, rel=1e-5)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_fit_never_writes_to_the_callers_array(loss):
    X, _ = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    X.setflags(write=False)
    LossKMeans(3, loss=loss, n_init=1, random_state=0).fit(X)
    if loss in ("absolute", "huber", "pseudo_huber"):
        # these never center X: no copy needed, even with copy_x=False
        LossKMeans(3, loss=loss, n_init=1, random_state=0, copy_x=False).fit(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
def test_copy_x_leaves_a_writeable_array_bit_for_bit(loss, dtype):
    # the centering works on a copy (made while centering): the caller's array is
    # not centered and restored, which could change its last bits
    X, _ = make_blobs(n_samples=120, centers=3, n_features=4, random_state=0)
    X = (X * 1e3 + 0.1).astype(dtype)
    X_before = X.copy()
    km = LossKMeans(3, loss=loss, n_init=1, random_state=0, sigma="auto", epsilon="auto")
    km.fit(X)
    np.testing.assert_array_equal(X, X_before)
    assert not np.shares_memory(X, km.cluster_centers_)


@pytest.mark.parametrize("seed", [9, 25, 33])
def test_hartigan_square_tries_the_next_mover_when_the_best_fails_the_exact_check(
    seed, monkeypatch
):
    # the screen's gains are rounding noise for tight clusters far from the mean;
    # when the best mover of a pair of clusters fails the exact check, the search
    # goes on with that pair's next movers instead of ending (simulated here by
    # failing the first check)
    rng = np.random.default_rng(seed)
    X = np.r_[rng.normal(size=(30, 2)), rng.normal(size=(8, 2)) + [2.5, 0]]
    lloyd = LossKMeans(2, n_init=1, random_state=seed).fit(X)
    exact_gain = _loss_kmeans._exact_transfer_gain
    calls = []

    def failing_first(*args):
        calls.append(args[1])
        return -np.inf if len(calls) == 1 else exact_gain(*args)

    monkeypatch.setattr(_loss_kmeans, "_exact_transfer_gain", failing_first)
    hartigan = LossKMeans(2, algorithm="hartigan", n_init=1, random_state=seed).fit(X)
    assert len(calls) > 1
    assert hartigan.inertia_ < lloyd.inertia_ * (1 - 1e-6)


def test_hartigan_epsilon_insensitive_improves_in_two_dimensions():
    # in few dimensions the screen's curvature must be right (the radial curvature
    # of a distance is 0): with it wrong, no candidate ever verified
    better = 0
    for seed in range(4):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(5, 2))[rng.integers(5, size=400)] + rng.standard_t(3, (400, 2))
        kw = dict(loss="epsilon_insensitive", epsilon="auto", n_init=1, random_state=seed)
        lloyd = LossKMeans(5, **kw).fit(X)
        hartigan = LossKMeans(5, algorithm="hartigan", **kw).fit(X)
        assert hartigan.inertia_ <= lloyd.inertia_ * (1 + 1e-12)
        better += hartigan.inertia_ < lloyd.inertia_ * (1 - 1e-6)
    assert better >= 3


def test_hartigan_at_extreme_scales_warns_nothing():
    # float32 data scaled by 1e15: the screen's terms overflow to inf, which the
    # caps handle; no RuntimeWarning escapes
    rng = np.random.default_rng(0)
    X = np.vstack([rng.standard_t(2, size=(80, 6)) + 4 * rng.normal(size=6) for _ in range(3)])
    X = (X * 1e15).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = LossKMeans(3, loss="pseudo_huber", algorithm="hartigan", n_init=1, random_state=0)
        km.fit(X)
    assert np.isfinite(km.inertia_)


@pytest.mark.parametrize("loss", ["correntropy", "epsilon_insensitive"])
def test_hartigan_sparse_matches_dense(loss):
    X, _ = _small_clusters(1)
    init = X[[0, 41, 50]]
    kw = dict(init=init, n_init=1, algorithm="hartigan", **_SCALES[loss])
    dense = LossKMeans(3, loss=loss, **kw).fit(X)
    sparse = LossKMeans(3, loss=loss, **kw).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dense.labels_, sparse.labels_)
    np.testing.assert_allclose(dense.inertia_, sparse.inertia_, rtol=1e-6)


@pytest.mark.parametrize("loss", ["correntropy", "epsilon_insensitive"])
@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan"])
def test_wide_sparse_clusters_are_not_densified(loss, algorithm):
    # 200 x 100,000 sparse (TF-IDF-like): one cluster's rows densified would be about
    # 80 MB, twice over with the solver's copy relative to its start (330 MB peak
    # measured when they were); the exact center solvers work on the CSR rows
    # instead, a few dense rows at a time (``test_hartigan_sparse_matches_dense``
    # and the losses' tests check that the results are those of the dense rows)
    import tracemalloc

    X = sp.random(200, 100_000, density=5e-4, format="csr", random_state=0)
    X.data += 1.0
    km = LossKMeans(2, loss=loss, algorithm=algorithm, n_init=1, random_state=0,
                    **_SCALES[loss])  # fmt: skip
    tracemalloc.start()
    try:
        km.fit(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60e6, f"peak {peak / 1e6:.0f} MB"
    assert len(np.unique(km.labels_)) == 2
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-9)


# ---------------------------------------------------------------------------------
# parameters, assignment rules, edge cases
# ---------------------------------------------------------------------------------
def test_auto_scales_are_resolved_and_stored():
    X, _ = _data(seed=7)
    km = LossKMeans(4, loss="huber", delta="auto", random_state=0).fit(X)
    assert km.delta_ > 0
    # sigma and epsilon from the same pilot (same data and random_state)
    sigma = LossKMeans(4, loss="correntropy", sigma="auto", random_state=0).fit(X).sigma_
    epsilon = LossKMeans(4, loss="epsilon_insensitive", epsilon="auto", random_state=0)
    epsilon = epsilon.fit(X).epsilon_
    assert sigma > 0 and epsilon == pytest.approx(sigma / 2)
    fixed = LossKMeans(4, loss="huber", delta=0.3, random_state=0).fit(X)
    assert (fixed.delta_, fixed.sigma_, fixed.epsilon_) == (0.3, 1.0, 1.0)
    # scaling the data scales the automatic scales
    scaled = LossKMeans(4, loss="huber", delta="auto", random_state=0).fit(10 * X)
    assert scaled.delta_ == pytest.approx(10 * km.delta_, rel=1e-6)


@pytest.mark.parametrize(
    "loss, param",
    [("huber", "delta"), ("pseudo_huber", "delta"), ("correntropy", "sigma"),
     ("epsilon_insensitive", "epsilon")],
)  # fmt: skip
def test_auto_scales_scale_with_the_data_where_the_pilot_leaves_no_residuals(loss, param):
    # n_clusters at least the distinct samples: the pilot puts a center on each and
    # leaves no residuals. "auto" then gave 1.0 whatever the data's units, and
    # transform of new data gave costs all 0 (data at 1e-10) or, for correntropy,
    # all 1 (at 1e10). It takes the spread about the samples' weighted median (the
    # pilot's residuals with one cluster), and scales with the data
    X = np.random.default_rng(0).normal(size=(6, 2))
    new = X[:2] * 1.1
    w = np.arange(1.0, 7.0)
    kw = dict(loss=loss, **{param: "auto"}, random_state=0)
    one = LossKMeans(1, **kw).fit(X, sample_weight=w)
    ref = LossKMeans(6, **kw).fit(X, sample_weight=w)
    assert getattr(ref, param + "_") == getattr(one, param + "_")
    for scale in (2.0**-40, 2.0**40):
        km = LossKMeans(6, **kw).fit(X * scale, sample_weight=w)
        assert getattr(km, param + "_") == getattr(ref, param + "_") * scale
        # (huber's costs are in squared units, correntropy's unitless)
        power = {"correntropy": 0, "epsilon_insensitive": 1}.get(loss, 2)
        np.testing.assert_allclose(
            km.transform(new * scale), ref.transform(new) * scale**power, rtol=1e-12
        )
    # identical samples have no spread at all: 1.0 (epsilon 0.5), as before
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        same = LossKMeans(2, **kw).fit(np.ones((4, 2)))
    assert getattr(same, param + "_") == (0.5 if param == "epsilon" else 1.0) * (
        1.345 * 1.4826 if param == "delta" else 1.0
    )


def test_epsilon_insensitive_ties_go_to_nearest_center():
    km = LossKMeans(2, loss="epsilon_insensitive", epsilon=10.0, init=np.array([[0.0], [3.0]]))
    km.fit(np.array([[0.0], [1.0], [2.0], [3.0]]))
    # all costs are 0 (every sample is within epsilon of both centers)
    assert np.all(km.transform([[1.0], [2.5]]) == 0)
    np.testing.assert_array_equal(km.predict([[1.0], [2.5], [1.5]]), [0, 1, 0])


def test_separable_ties_break_by_euclidean_distance():
    # absolute cost: (2, 0) is at L1 distance 2 from both centers; Euclidean sqrt(2) vs 2
    km = LossKMeans(2, loss="absolute", init=np.array([[1.0, 1.0], [0.0, 0.0]]), max_iter=1)
    km.fit(np.array([[1.0, 1.0], [0.0, 0.0], [5.0, 5.0], [-5.0, -5.0]]))
    km.cluster_centers_ = np.array([[0.0, 0.0], [1.0, 1.0]])
    assert km.predict([[2.0, 0.0]])[0] == 1


def _formula_cost(loss, X, center, **scales):
    """Cost of each sample to one center, from the documented formulas."""
    return formula_cost(loss, X - center, **scales)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_empty_clusters_are_reseeded(loss):
    # every initial center far from every sample: the first assignment gives all the
    # samples to the nearest one and leaves two clusters empty, which no Lloyd step
    # can fill; they are re-seeded (before the next pass) on the samples of positive
    # weight of largest cost
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    w = rng.uniform(0.5, 2.0, 60)
    init = np.array([[20.0, 20.0], [100.0, 100.0], [-100.0, 100.0]])
    scales = dict(delta=1.0, sigma=20.0, epsilon=0.5)
    costs = _formula_cost(loss, X, init[0], **scales)  # (init[0] is every sample's nearest)
    order = np.argsort(-costs)
    assert np.all(np.diff(costs[order[:4]]) < 0)  # no ties among the largest
    w[order[0]] = 0  # the sample of largest cost weighs nothing: not a seed
    # one iteration: the centers of the re-seeded clusters are those samples, by
    # decreasing cost, in the order of the empty clusters
    km = LossKMeans(3, loss=loss, init=init, n_init=1, max_iter=1, **scales)
    km.fit(X, sample_weight=w)
    np.testing.assert_allclose(km.cluster_centers_[1:], X[order[1:3]], rtol=0, atol=1e-12)
    # to convergence: three clusters, each of positive weight, and no warning
    for algorithm in ("lloyd", "hartigan"):
        km = LossKMeans(3, loss=loss, init=init, n_init=1, algorithm=algorithm, **scales)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            km.fit(X, sample_weight=w)
        assert np.all(np.bincount(km.labels_, weights=w, minlength=3) > 0), algorithm


@pytest.mark.parametrize("max_iter", [1, 2, 300])
def test_square_relocation_takes_the_sample_out_of_its_cluster_as_kmeans(max_iter):
    # a repeated initial center leaves a cluster empty; it moves onto the sample of
    # largest cost (30), which leaves its cluster: that cluster's mean is taken
    # without it in the same update (10.5, not 17), as KMeans does
    X = np.array([[0.0], [1], [2], [10], [11], [30]])
    init = np.array([[0.0], [0], [11]])
    ref = KMeans(3, init=init, n_init=1, max_iter=max_iter).fit(X)
    km = LossKMeans(3, init=init, n_init=1, max_iter=max_iter).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert km.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(km.cluster_centers_.ravel(), [1, 30, 10.5])
    # weighted, two empty clusters, two donors
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(20, 2), rng.randn(20, 2) + 8]
    w = rng.uniform(0.5, 3, 40)
    init = np.r_[X[[0, 0, 0]], X[[20]]]
    ref = KMeans(4, init=init, n_init=1, max_iter=max_iter).fit(X, sample_weight=w)
    km = LossKMeans(4, init=init, n_init=1, max_iter=max_iter).fit(X, sample_weight=w)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    assert km.n_iter_ == ref.n_iter_


def test_relocation_never_takes_the_last_member_of_a_cluster():
    # sample 0 is the farthest from its center, but the only member of cluster 0:
    # moving it would empty cluster 0 (whose next center is that sample anyway), so
    # the empty cluster 2 takes the next farthest, sample 2 (cluster 1 keeps sample 1)
    from robustkmeans._loss_kmeans import _relocate_empty

    X = np.array([[5.0, 0.0], [0.0, 1.0], [0.0, 3.0]])
    costs = np.array([9.0, 1.0, 4.0])
    labels = np.array([0, 1, 1], dtype=np.int32)
    centers = np.zeros((3, 2))
    picked = _relocate_empty(X, costs, labels, np.r_[1.0, 2, 0], centers, np.ones(3))
    np.testing.assert_array_equal(picked, [2])
    np.testing.assert_array_equal(centers[2], X[2])
    # two empty clusters, one donor with two members: only one of them is taken
    centers = np.zeros((4, 2))
    picked = _relocate_empty(X, costs, labels, np.r_[1.0, 2, 0, 0], centers, np.ones(3))
    np.testing.assert_array_equal(picked, [2])


@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan"])
def test_samples_of_weight_zero_do_not_keep_a_converged_fit_going(algorithm):
    # epsilon_insensitive's cluster [0, 1.27] has a flat minimum: the Weiszfeld
    # step alternates between two centers of equal cost, and the sample of weight 0
    # at 50.5 changed cluster with them every iteration, so the labels never
    # repeated and the fit ran to max_iter (5000 iterations)
    X = np.array([[0.0], [1.27], [100.0], [101.0], [50.5]])
    params = dict(loss="epsilon_insensitive", epsilon=0.5, init=[[0.0], [100.5]], n_init=1)
    params.update(algorithm=algorithm, max_iter=5000)
    km = LossKMeans(2, **params).fit(X, sample_weight=[1, 1, 1, 1, 0])
    dropped = LossKMeans(2, **params).fit(X[:4])
    assert km.n_iter_ == dropped.n_iter_ <= 5
    np.testing.assert_allclose(km.cluster_centers_, dropped.cluster_centers_)
    assert km.inertia_ == pytest.approx(dropped.inertia_, abs=1e-9)
    np.testing.assert_array_equal(km.labels_, km.predict(X))


def test_n_init_replaces_a_run_only_by_another_clustering_as_kmeans():
    # the 10 random starts find the same two clusters; a later run's objective
    # lower by rounding (...457 against ...463) replaced the first, with its
    # n_iter_ and its centers (which differ within tol)
    X = np.random.RandomState(0).rand(40, 1)
    params = dict(init="random", n_init=10, tol=0.01, random_state=0)
    ref = KMeans(2, **params).fit(X)
    km = LossKMeans(2, **params).fit(X)
    assert km.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(km.labels_, ref.labels_)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-12)
    from robustkmeans._loss_kmeans import _same_clustering

    a = np.array([0, 0, 1, 2, 2])
    assert _same_clustering(a, np.array([2, 2, 0, 1, 1]), 3)
    assert not _same_clustering(a, np.array([2, 2, 0, 1, 0]), 3)
    assert not _same_clustering(a, np.array([0, 1, 1, 2, 2]), 3)


def test_n_init_keeps_the_lower_objective_of_the_same_clustering_for_other_losses():
    # the same partition {0, 0, 0, 10, 10} | {100, 100} ends at the center 10 from
    # one start and 0 from the other (correntropy's local optima, objectives 3 and
    # 2): the lower one is kept whatever the order of the runs (KMeans's rule,
    # for the square loss only, kept the first)
    X = np.array([0, 0, 0, 10, 10, 100, 100.0])[:, None]
    starts = [np.array([[10.0], [100.0]]), np.array([[0.0], [100.0]])]
    for order in (starts, starts[::-1]):
        runs = iter(order)
        km = LossKMeans(2, loss="correntropy", sigma=1.0, n_init=2)
        km.set_params(init=lambda X, k, random_state, runs=runs: next(runs)).fit(X)
        assert km.inertia_ == pytest.approx(2.0)
        np.testing.assert_allclose(km.cluster_centers_.ravel(), [0, 100], atol=1e-9)


@pytest.mark.parametrize("fitted,later", [("huber", "square"), ("square", "huber")])
def test_sparse_inference_follows_the_fitted_loss_not_set_params(fitted, later):
    # predict on CSR data is refused or accepted by the loss the model was fitted
    # with: after set_params(loss="square") a huber model gave a raw numpy
    # UFuncTypeError, and a square model set to huber refused sparse data it handles
    X, _ = _data()
    km = LossKMeans(3, loss=fitted, random_state=0).fit(X)
    km.set_params(loss=later)
    if fitted == "huber":
        with pytest.raises(TypeError, match="Sparse input is not supported with loss='huber'"):
            km.predict(sp.csr_matrix(X))
    else:
        np.testing.assert_array_equal(km.predict(sp.csr_matrix(X)), km.labels_)


def test_sparse_output_of_a_pipeline_step_says_how_to_ask_it_for_dense_output():
    # a ColumnTransformer one-hot encoding a DataFrame's categories hands the
    # clusterer a sparse matrix the user never made: the error said only "convert
    # X with X.toarray()", which the user's DataFrame does not have
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "kind": rng.choice(list("abcdefgh"), 60)})

    def pipe(sparse_threshold=0.3):
        front = ColumnTransformer(
            [("num", StandardScaler(), ["x"]), ("cat", OneHotEncoder(), ["kind"])],
            sparse_threshold=sparse_threshold,
        )
        return make_pipeline(front, LossKMeans(3, loss="huber", random_state=0))

    with pytest.raises(TypeError, match=r"convert X with X.toarray\(\)") as caught:
        pipe().fit(frame)
    assert "ColumnTransformer(sparse_threshold=0)" in str(caught.value)
    assert "OneHotEncoder(sparse_output=False)" in str(caught.value)
    # what the message says to do works
    assert pipe(sparse_threshold=0).fit(frame).predict(frame).shape == (60,)


@pytest.mark.parametrize("loss", ["absolute", "huber", "pseudo_huber"])
def test_sparse_dataframe_is_refused_as_a_sparse_matrix_is(loss):
    # a DataFrame of pd.SparseDtype columns (which scikit-learn turns into a sparse
    # matrix) got scikit-learn's generic "Sparse data was passed", whose
    # ".toarray()" a DataFrame does not have, and not the supported losses
    pd = pytest.importorskip("pandas")
    X, _ = _data()
    frame = pd.DataFrame(X).astype(pd.SparseDtype(float, 0.0))
    message = (
        f"Sparse input is not supported with loss='{loss}' .* Use one of "
        r"\('square', 'correntropy', 'epsilon_insensitive'\) or convert X with "
        r"X.sparse.to_dense\(\)"
    )
    with pytest.raises(TypeError, match=message):
        LossKMeans(3, loss=loss, random_state=0).fit(frame)
    km = LossKMeans(3, loss=loss, random_state=0).fit(X)
    for method in (km.predict, km.transform, km.score):
        with pytest.raises(TypeError, match=message):
            method(frame)
    # what the message says to do works, and gives the dense fit
    np.testing.assert_array_equal(km.predict(frame.sparse.to_dense()), km.labels_)
    # a frame with some sparse columns only is densified by scikit-learn (warning)
    mixed = frame.copy()  # (astype({0: float}) keeps it sparse in pandas 1.5)
    mixed[0] = frame[0].sparse.to_dense()
    with pytest.warns(UserWarning, match="sparse columns"):
        np.testing.assert_array_equal(km.predict(mixed), km.labels_)
    # and the sparse losses take the sparse frame, as a CSR matrix
    square = LossKMeans(3, random_state=0).fit(X)
    np.testing.assert_array_equal(square.predict(frame), square.labels_)


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("weight", [1e300, 1e307])
def test_weights_that_overflow_float64_are_refused_by_name(loss, weight):
    # correntropy and epsilon_insensitive were fitted: NaN centers after overflow
    # warnings (their weighted sums of rows overflow), or numpy's "probabilities do
    # not sum to 1" where the weights' own sum is infinite
    X = np.random.default_rng(0).normal(size=(200, 5)) * 1e10
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the error, with no overflow warning ahead
        with pytest.raises(ValueError, match="sample_weight is too large .* Divide"):
            LossKMeans(3, loss=loss, random_state=0).fit(X, sample_weight=np.full(200, weight))
    # weights a little smaller fit, with finite centers
    km = LossKMeans(3, loss=loss, random_state=0, max_iter=5)
    km.fit(X, sample_weight=np.full(200, 1e280))
    assert np.isfinite(km.cluster_centers_).all() and np.isfinite(km.inertia_)


@pytest.mark.parametrize("loss", ["square", "absolute", "huber", "pseudo_huber"])
def test_overflowing_weighted_objective_names_sample_weight(loss):
    # the data is small, the weights make the objective overflow float32: the error
    # names sample_weight and says to divide it (it blamed X, and for square said
    # to use absolute or huber, which fail the same way)
    X = np.random.RandomState(0).randn(100, 2).astype(np.float32)
    with pytest.raises(ValueError, match=r"sample_weight is too large .* Divide sample_weight"):
        LossKMeans(2, loss=loss).fit(X, sample_weight=np.full(100, 1e36, np.float32))
    # divided by a constant, the same fit goes through
    LossKMeans(2, loss=loss).fit(X, sample_weight=np.full(100, 1.0, np.float32))
    # unit weights on data too large for the dtype still blame X
    with pytest.raises(ValueError, match="X is too large"):
        LossKMeans(2, loss=loss).fit(X * np.float32(1e36), sample_weight=np.ones(100))


def test_fewer_distinct_points_than_clusters_warns():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with pytest.warns(ConvergenceWarning, match="Number of distinct clusters") as record:
        LossKMeans(3, random_state=0).fit(X)
    # at the user's call, not inside scikit-learn's fit wrapper
    assert [w.filename for w in record] == [__file__]


@pytest.mark.parametrize("method", ["fit", "fit_predict", "fit_transform"])
def test_warnings_point_at_the_users_call(method):
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    km = LossKMeans(3, init=X[:3], n_init=4)
    with pytest.warns(Warning) as record:
        getattr(km, method)(X)
    assert {type(w.message) for w in record} == {ConvergenceWarning, RuntimeWarning}
    assert [w.filename for w in record] == [__file__] * 2


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_dtype_is_preserved(loss):
    X, _ = _data(dtype=np.float32)
    km = LossKMeans(3, loss=loss, random_state=0).fit(X)
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X).dtype == np.float32
    # and says so, as scikit-learn's tag (ClusterMixin empties it), so that
    # test_common's check_transformer_preserve_dtypes checks it
    assert km.__sklearn_tags__().transformer_tags.preserves_dtype == ["float64", "float32"]


@pytest.mark.parametrize("loss", ROBUST)
def test_sparse_input(loss):
    # the Euclidean robust losses give on CSR input the fit of the same data dense
    # (same init, weights): same labels, centers and inertia to rounding, as
    # test_square_sparse_matches_dense; the separable ones refuse sparse input
    X = sp.random(50, 8, density=0.3, format="csr", random_state=0)
    if loss not in ("correntropy", "epsilon_insensitive"):
        with pytest.raises(TypeError, match="Sparse input is not supported"):
            LossKMeans(3, loss=loss, random_state=0).fit(X)
        return
    w = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    kw = dict(loss=loss, init=X[[0, 1, 2]].toarray(), n_init=1, sigma=0.5, epsilon=0.3)
    sparse = LossKMeans(3, **kw).fit(X, sample_weight=w)
    dense = LossKMeans(3, **kw).fit(X.toarray(), sample_weight=w)
    assert len(np.unique(dense.labels_)) == 3 and dense.inertia_ > 0
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    scale = np.abs(X.data).max()
    np.testing.assert_allclose(
        sparse.cluster_centers_, dense.cluster_centers_, rtol=0, atol=1e-6 * scale
    )
    assert sparse.inertia_ == pytest.approx(dense.inertia_, rel=1e-7)


def test_transform_score_predict_agree():
    # transform and score against the documented formulas (not the package's own
    # cost), on the training data and on new data with weights
    X, _ = _data(seed=9)
    rng = np.random.default_rng(9)
    new = X[:50] + rng.normal(scale=2.0, size=(50, X.shape[1]))
    w = rng.uniform(0.1, 3.0, size=50)
    for loss in LOSS_NAMES:
        km = LossKMeans(4, loss=loss, delta=0.7, sigma=1.6, epsilon=0.4, random_state=0).fit(X)
        scales = dict(delta=km.delta_, sigma=km.sigma_, epsilon=km.epsilon_)
        C = km.cluster_centers_
        T = km.transform(X)
        assert T.shape == (X.shape[0], 4)
        expected = formula_cost(loss, X[:, None, :] - C[None, :, :], **scales)
        np.testing.assert_allclose(T, expected, rtol=1e-6, atol=1e-8)
        np.testing.assert_array_equal(km.predict(X), km.labels_)
        assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-7)
        assert km.inertia_ == pytest.approx(expected.min(axis=1).sum(), rel=1e-7)
        expected = formula_cost(loss, new[:, None, :] - C[None, :, :], **scales)
        np.testing.assert_allclose(km.transform(new), expected, rtol=1e-6, atol=1e-8)
        assert km.score(new, sample_weight=w) == pytest.approx(-w @ expected.min(axis=1), rel=1e-7)


def test_feature_names_out_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X, _ = _data()
    km = LossKMeans(3, random_state=0).set_output(transform="pandas")
    out = km.fit_transform(pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])]))
    assert list(out.columns) == ["losskmeans0", "losskmeans1", "losskmeans2"]
    assert list(km.feature_names_in_) == [f"f{i}" for i in range(X.shape[1])]


def test_a_refit_that_raises_keeps_the_fitted_model_whole():
    # validate_data set n_features_in_ and feature_names_in_ from the new X before
    # the fit raised: the old centers were then refused their own data ("X has 3
    # features, but LossKMeans is expecting 5") and data of the new width failed
    # with numpy's broadcast error
    pd = pytest.importorskip("pandas")
    X, _ = _data()
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    km = LossKMeans(3, random_state=0).fit(df)
    labels = km.predict(df)
    bad = pd.DataFrame(np.ones((2, 5)), columns=list("abcde"))
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        km.fit(bad)
    assert km.n_features_in_ == X.shape[1]
    assert list(km.feature_names_in_) == list(df.columns)
    np.testing.assert_array_equal(km.predict(df), labels)
    with pytest.raises(ValueError, match="Feature names unseen at fit time"):
        km.predict(bad)
    # an estimator whose first fit raised is not fitted, as it was
    fresh = LossKMeans(3)
    with pytest.raises(ValueError, match="n_samples=2"):
        fresh.fit(bad)
    assert not hasattr(fresh, "n_features_in_")
    assert not hasattr(fresh, "feature_names_in_")


# ---------------------------------------------------------------------------------
# reproducibility
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_same_random_state_same_result_and_pickle_round_trip(loss):
    X, _ = _data(seed=10)
    a = LossKMeans(4, loss=loss, init="random", random_state=3, delta="auto").fit(X)
    b = LossKMeans(4, loss=loss, init="random", random_state=3, delta="auto").fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(c.predict(X), a.predict(X))
    np.testing.assert_array_equal(c.transform(X), a.transform(X))


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_same_fit_whatever_the_threads_and_the_input_container(loss, tmp_path):
    # two chunks (just above CHUNK_SIZE rows, which the chunking depends on, not
    # the threads): bit for bit under one BLAS / OpenMP thread, in worker threads
    # fitting at the same time, and from every kind of input
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from robustkmeans._kernels import CHUNK_SIZE

    rng = np.random.default_rng(0)
    n = CHUNK_SIZE + 77
    X = (rng.normal(size=(n, 2)) + rng.integers(0, 3, size=(n, 1)) * 3).astype(np.float32)
    kw = dict(loss=loss, delta="auto", sigma="auto", epsilon="auto", n_init=2, max_iter=20)

    def fit(data):
        km = LossKMeans(3, random_state=0, **kw).fit(data)
        return km, (km.labels_, km.cluster_centers_, km.inertia_, km.n_iter_)

    km, ref = fit(X)
    with threadpool_limits(limits=1):
        results = [fit(X)[1]]
    with ThreadPoolExecutor(2) as pool:
        results += [r[1] for r in pool.map(fit, [X, X])]
    read_only = X.copy()
    read_only.flags.writeable = False
    np.save(tmp_path / "X.npy", X)
    containers = [np.asfortranarray(X), read_only, np.load(tmp_path / "X.npy", mmap_mode="r")]
    try:
        import pandas as pd
    except ImportError:  # (an optional dependency)
        pass
    else:
        containers.append(pd.DataFrame(X))
    results += [fit(data)[1] for data in containers]
    for result in results:
        np.testing.assert_array_equal(result[0], ref[0])
        np.testing.assert_array_equal(result[1], ref[1])
        assert result[2:] == ref[2:]
    for model in (km, pickle.loads(pickle.dumps(km))):
        for data in [X, *containers]:
            np.testing.assert_array_equal(model.predict(data), km.labels_)
            assert model.score(data) == -km.inertia_
            costs = model.transform(data)
            np.testing.assert_array_equal(costs[np.arange(n), km.labels_], costs.min(axis=1))


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_lloyd_from_a_fixed_init_is_invariant_to_weights_shifts_and_order(loss):
    # from the same centers, Lloyd's iterations see only the costs x - m and the
    # weights: integer weights are the samples repeated, zero weights the samples
    # removed, weights times a constant the objective times it, and a translation
    # (rotation, for the Euclidean losses), or another order of the samples,
    # change the clustering only by rounding
    rng = np.random.default_rng(1)
    X = rng.normal(size=(150, 3)) + rng.integers(0, 3, size=(150, 1)) * 2.5
    init = X[[0, 50, 100]] + 0.1
    w = rng.integers(0, 4, size=150)
    kw = dict(loss=loss, n_init=1)
    # (epsilon_insensitive's exact centers are solved to 1e-8 of the mean cost, and
    # correntropy's stationary points to 1e-7 of the samples' spread: two fits that
    # differ by rounding can stop a step apart; they agreed to 1e-10 only while
    # both stopped at the same step, 4e-8 short of the stationary point)
    rtol = 1e-7 if loss in ("epsilon_insensitive", "correntropy") else 1e-10

    def fit(data, start, weights=None):
        return LossKMeans(3, init=start, **kw).fit(data, sample_weight=weights)

    def same(a, b, labels_a=None, centers_a=None, inertia_a=None):
        labels_a = a.labels_ if labels_a is None else labels_a
        np.testing.assert_array_equal(labels_a, b.labels_)
        centers_a = a.cluster_centers_ if centers_a is None else centers_a
        np.testing.assert_allclose(centers_a, b.cluster_centers_, rtol=rtol, atol=10 * rtol)
        inertia_a = a.inertia_ if inertia_a is None else inertia_a
        assert inertia_a == pytest.approx(b.inertia_, rel=rtol)

    ref = fit(X, init, w)
    kept = w > 0
    repeated = fit(np.repeat(X, w, axis=0), init)
    same(ref, repeated, labels_a=np.repeat(ref.labels_, w))
    same(ref, fit(X[kept], init, w[kept]), labels_a=ref.labels_[kept])
    same(ref, fit(X, init, 0.3 * w), inertia_a=0.3 * ref.inertia_)
    shift = np.array([40.0, -7.0, 1000.0])
    same(ref, fit(X + shift, init + shift, w), centers_a=ref.cluster_centers_ + shift)
    order = rng.permutation(150)
    same(ref, fit(X[order], init, w[order]), labels_a=ref.labels_[order])
    if get_loss(loss, 1.0).euclidean:
        rotation = np.linalg.qr(rng.normal(size=(3, 3)))[0]
        rotated = fit(X @ rotation, init @ rotation, w)
        same(ref, rotated, centers_a=ref.cluster_centers_ @ rotation)


@pytest.mark.parametrize(
    "algorithm,loss", [*[("lloyd", loss) for loss in LOSS_NAMES], ("hartigan", "huber")]
)
def test_n_init_keeps_the_best_of_the_runs_it_makes(algorithm, loss):
    # each run, fitted on its own from the start it drew, gives the same result,
    # and n_init keeps the one of least objective (the first of equal ones)
    X = _data(seed=2, n=120, d=2)[0]
    starts = []

    def init(data, n_clusters, random_state):
        starts.append(data[random_state.choice(len(data), n_clusters, replace=False)])
        return starts[-1]

    kw = dict(loss=loss, algorithm=algorithm, delta="auto", sigma="auto", epsilon="auto")
    km = LossKMeans(5, init=init, n_init=5, random_state=0, **kw).fit(X)
    runs = [LossKMeans(5, init=start, n_init=1, random_state=0, **kw).fit(X) for start in starts]
    best = min(runs, key=lambda run: run.inertia_)
    np.testing.assert_array_equal(km.labels_, best.labels_)
    np.testing.assert_array_equal(km.cluster_centers_, best.cluster_centers_)
    assert (km.inertia_, km.n_iter_) == (best.inertia_, best.n_iter_)


def test_correntropy_weights_times_squared_distances_beyond_float64():
    # weights of about 1e6 and squared distances of 1e300: the center solver's
    # weighted spread overflowed (a RuntimeWarning), its tolerance was inf and it
    # stopped at its start, a center 9e146 from the one of the same weights
    # scaled by 2**-25 (random-seed fuzzing)
    X = np.array([[1.0], [-3], [-1], [3], [0], [-3], [2], [2], [2], [-2], [-3]]) * 1e150
    w = np.array([16.7, 9.69, 13.26, 1.82, 4.6, 20.45, 19.77, 18.85, 12.13, 29.92, 29.44]) * 1e5
    kw = dict(loss="correntropy", sigma="auto", random_state=0, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = LossKMeans(1, **kw).fit(X, sample_weight=w)
        b = LossKMeans(1, **kw).fit(X, sample_weight=w * 2.0**-25)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ * 2.0**25


@pytest.mark.parametrize("loss", ["absolute", "huber", "epsilon_insensitive"])
def test_float32_weights_scaled_by_a_constant_give_the_same_fit(loss):
    # weights divided by 3 (normalised weights, say) are proportional to the counts
    # only up to float32's rounding once cast to the data's dtype: the weighted
    # medians missed their ties there, and moved the absolute centers and the pilot's
    # auto scales (delta_ 1.1885 against 1.1942) away from those of the counts
    X, _ = _data(seed=3, n=200, d=3, dtype=np.float32)
    counts = np.random.default_rng(0).integers(1, 5, size=len(X)).astype(float)
    kw = dict(loss=loss, delta="auto", epsilon="auto", init=X[[0, 60, 120, 180]], n_init=1)
    a = LossKMeans(4, **kw).fit(X, sample_weight=counts)
    b = LossKMeans(4, **kw).fit(X, sample_weight=counts / 3)
    assert (b.delta_, b.epsilon_) == pytest.approx((a.delta_, a.epsilon_), rel=1e-6, nan_ok=True)
    np.testing.assert_array_equal(b.labels_, a.labels_)
    np.testing.assert_allclose(b.cluster_centers_, a.cluster_centers_, rtol=1e-5, atol=1e-6)
    assert 3 * b.inertia_ == pytest.approx(a.inertia_, rel=1e-5)


def test_float32_integer_weights_of_a_large_total_give_the_median_of_float64():
    # counts (integers: exact in float32, summed exactly) totalling millions: the
    # weighted median's tie test allowed float32's rounding for them, and a split
    # one count off half gave the midpoint 0.5, where float64 data (and the rows
    # repeated) give 1
    X = np.array([[0.0, 5.0], [1.0, 6.0]])
    counts = np.array([1e6, 1e6 + 1])
    kw = dict(loss="absolute", init=X[:1], n_init=1)
    a = LossKMeans(1, **kw).fit(X, sample_weight=counts)
    b = LossKMeans(1, **kw).fit(X.astype(np.float32), sample_weight=counts)
    np.testing.assert_array_equal(a.cluster_centers_, [[1.0, 6.0]])
    np.testing.assert_array_equal(b.cluster_centers_, a.cluster_centers_)


# ---------------------------------------------------------------------------------
# errors that say what to do
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params,match",
    [
        ({"loss": "hubber"}, r"'loss' parameter of LossKMeans must be a str among"),
        ({"delta": 0.0}, "'delta' parameter"),
        ({"sigma": -1.0}, "'sigma' parameter"),
        ({"epsilon": -0.1}, "'epsilon' parameter"),
        ({"n_clusters": 0}, "'n_clusters' parameter"),
        ({"algorithm": "elkan"}, "'algorithm' parameter"),
    ],
)
def test_bad_parameters(params, match):
    X, _ = _data()
    with pytest.raises(ValueError, match=match):
        LossKMeans(**params).fit(X)


def test_unknown_loss_message_lists_every_loss():
    X, _ = _data()
    with pytest.raises(ValueError) as err:
        LossKMeans(loss="hubber").fit(X)
    for name in LOSS_NAMES:
        assert name in str(err.value)


def test_bad_input():
    X, _ = _data()
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LossKMeans(3).fit(X_nan)
    with pytest.raises(ValueError, match="n_samples=5 should be >= n_clusters=8"):
        LossKMeans(8).fit(X[:5])
    with pytest.raises(ValueError, match="Negative values in data passed to .sample_weight"):
        LossKMeans(3).fit(X, sample_weight=-np.ones(len(X)))
    km = LossKMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        km.predict(X[:, :3])
    # score weighs the costs as fit does: a negative weight is refused there too,
    # rather than scored as a gain
    weights = np.ones(len(X))
    weights[4] = -1
    with pytest.raises(ValueError, match="Negative values in data passed to .sample_weight"):
        km.score(X, sample_weight=weights)
    with pytest.raises(ValueError, match="does not match"):
        LossKMeans(3, init=X[:2]).fit(X)


# ---------------------------------------------------------------------------------
# in a pipeline and a grid search
# ---------------------------------------------------------------------------------
def test_grid_search_over_loss_and_scales():
    X, _ = _data(seed=11, n=120)
    pipe = Pipeline([("scale", StandardScaler()), ("cluster", LossKMeans(random_state=0))])
    grid = {
        "cluster__loss": list(LOSS_NAMES),
        "cluster__delta": [0.5, "auto"],
        "cluster__sigma": [1.0],
        "cluster__epsilon": [0.2],
        "cluster__n_clusters": [3, 4],
    }
    search = GridSearchCV(pipe, grid, cv=2).fit(X)
    assert len(search.cv_results_["params"]) == 24
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


def test_default_score_of_a_grid_over_losses_compares_objectives_as_documented():
    # GridSearchCV without scoring ranks by score, minus each candidate's own
    # objective: over losses it compares numbers in different units (correntropy's
    # costs are at most 1 each), and picked correntropy on three clean blobs,
    # which square clusters as well. KMeans has one loss; score and the guide now
    # say to pass a scorer of robustkmeans.metrics
    from robustkmeans.metrics import make_silhouette_scorer
    from robustkmeans.model_selection import WholeSetSplit

    X, _ = make_blobs(300, centers=3, random_state=0)
    grid = [{"loss": ["square", "absolute"]}, {"loss": ["correntropy"], "sigma": [0.5, "auto"]}]
    search = GridSearchCV(LossKMeans(3, random_state=0), grid, cv=WholeSetSplit()).fit(X)
    assert search.best_params_["loss"] == "correntropy"
    scoring = make_silhouette_scorer(metric="euclidean")
    search = GridSearchCV(LossKMeans(3, random_state=0), grid, cv=WholeSetSplit(), scoring=scoring)
    assert search.fit(X).best_params_ == {"loss": "square"}
    assert "scoring=make_silhouette_scorer" in " ".join(LossKMeans.score.__doc__.split())


def _fit_inertia(seed):
    X, _ = _data(seed=seed, n=3000)
    return LossKMeans(4, loss="huber", random_state=seed).fit(X).inertia_


def test_fits_in_a_forked_child_after_the_parent_used_threads():
    # the worker threads of the parent do not exist in a forked child: the pool must
    # be recreated there rather than waited on forever
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    X, _ = _data(seed=0, n=3000)
    LossKMeans(4, random_state=0).fit(X)  # starts the parent's worker threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        result = pool.apply_async(_fit_inertia, (1,)).get(timeout=60)
    assert result == pytest.approx(_fit_inertia(1))


def test_fits_in_a_child_forked_while_another_thread_is_inside_a_fit():
    # a forked child has only the thread that forked: a lock held, or a BLAS limit
    # entered, by another thread of the parent (a fit running there) is never
    # released in the child. The child's fits deadlocked on the lock, and its BLAS
    # stayed single-threaded for good. Simulated deterministically: the forking
    # thread holds the lock and is inside the limit itself
    import os
    import signal

    import threadpoolctl  # (a core dependency)

    from robustkmeans import _kernels

    if not hasattr(os, "fork"):
        pytest.skip("no os.fork on this platform")
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas")

    def blas_threads():
        return [lib.num_threads for lib in blas.lib_controllers]

    X, _ = _data(seed=0, n=3000)
    expected = LossKMeans(4, random_state=0).fit(X).inertia_
    before = blas_threads()
    with _kernels.single_threaded_blas(), _kernels._lock, _kernels._blas_lock:
        pid = os.fork()
        if pid == 0:  # the child: exit codes say what went wrong
            code = 1
            try:
                signal.alarm(60)  # a deadlock ends the child, not the test run
                inertia = LossKMeans(4, random_state=0).fit(X).inertia_
                code = 2 if inertia != expected else 3 if blas_threads() != before else 0
            finally:
                os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert blas_threads() == before
    # 0: fitted, same inertia, BLAS as before the parent's limit (3: left limited,
    # a signal: deadlocked)
    assert os.waitstatus_to_exitcode(status) == 0


def test_macqueen_reseeds_empty_clusters():
    X = np.random.RandomState(0).randn(50, 2)
    init = np.array([[0.0, 0.0], [100.0, 100.0], [-100.0, -100.0]])  # two far centers
    km = LossKMeans(3, init=init, algorithm="macqueen").fit(X)
    assert np.bincount(km.labels_, minlength=3).min() > 0
    assert km.inertia_ <= LossKMeans(3, init=init).fit(X).inertia_ * 1.05


def test_epsilon_zero_is_the_geometric_median_without_warnings():
    X, _ = _data(seed=12, n=60, d=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = LossKMeans(1, loss="epsilon_insensitive", epsilon=0.0).fit(X)
    # the geometric median: a stationary point of the sum of distances
    u = (km.cluster_centers_[0] - X) / np.linalg.norm(km.cluster_centers_[0] - X, axis=1)[:, None]
    assert np.linalg.norm(u.sum(0)) < 1e-5 * len(X)


@pytest.mark.parametrize("loss", ["square", "huber", "correntropy"])
def test_verbose_reports_each_iteration_and_why_it_stopped(loss, capsys):
    X, _ = _data(seed=4)
    km = LossKMeans(3, loss=loss, sigma=2.0, n_init=1, random_state=0, tol=1e3, verbose=1)
    km.fit(X)
    lines = capsys.readouterr().out.splitlines()
    iterations = [line for line in lines if line.startswith("Iteration ")]
    # one line per assignment, with the objective recorded in objective_path_
    reported = [float(line.rsplit(" ", 1)[1].rstrip(".")) for line in iterations]
    np.testing.assert_allclose(reported, km.objective_path_[: len(reported)], rtol=1e-12)
    stop = [line for line in lines if "within tolerance" in line]
    if loss == "square":
        # KMeans's rule: the first shift is within this tolerance
        assert len(stop) == 1 and stop[0].startswith("Converged at iteration 0:")
        return
    # the robust losses stop by the shift only once the objective has settled
    # too: not at iteration 0, with no objective before it to compare
    assert not [line for line in lines if "iteration 0" in line and "Iteration" not in line]
    if loss == "huber":
        # (its labels are then the same as the first iteration's: that stop)
        assert "Converged at iteration 1: strict convergence." in lines
        return
    # the iterative losses' centers are finished by the exact solver after the
    # tolerance stops the iterations: not "converged" yet
    assert len(stop) == 1 and stop[0].endswith("at iteration 1: exact centers next.")


@pytest.mark.parametrize("tol, reason", [(0.0, "no sample moved."), (1e3, "within tolerance")])
def test_verbose_macqueen_says_why_it_stopped(tol, reason, capsys):
    # it printed "1 samples moved." and no reason for its stop (an algorithms review)
    X, _ = _data(seed=4)
    km = LossKMeans(3, algorithm="macqueen", n_init=1, random_state=0, tol=tol, verbose=1)
    km.fit(X)
    lines = capsys.readouterr().out.splitlines()
    moved = [line for line in lines if line.startswith("Iteration ")]
    assert len(moved) == km.n_iter_
    assert all(re.search(r", (1 sample|(0|[2-9]|\d\d+) samples) moved\.$", m) for m in moved)
    stop = [line for line in lines if line.startswith("Converged at iteration")]
    assert len(stop) == 1 and stop[0].startswith(f"Converged at iteration {km.n_iter_ - 1}:")
    assert reason in stop[0]
    from robustkmeans._loss_kmeans import _count

    assert _count(1, "sample") == "1 sample"


@pytest.mark.parametrize(
    "loss,algorithm", [("square", "lloyd"), ("huber", "lloyd"), ("square", "macqueen")]
)
def test_verbose_objectives_of_tiny_weights_are_in_inertia_units(loss, algorithm, capsys):
    # weights summing below 0.5 are fitted times a power of two (exact); the
    # iterations printed the objective of the scaled weights, 2**40 times
    # objective_path_ and inertia_ here
    X, _ = _data(seed=4)
    weights = np.full(X.shape[0], 2.0**-40)
    km = LossKMeans(3, loss=loss, algorithm=algorithm, n_init=1, random_state=0, verbose=1)
    km.fit(X, sample_weight=weights)
    lines = capsys.readouterr().out.splitlines()
    iterations = [line for line in lines if line.startswith("Iteration ")]
    assert iterations
    reported = [float(line.split("inertia ")[1].split(",")[0].rstrip(".")) for line in iterations]
    np.testing.assert_allclose(reported, km.objective_path_[: len(reported)], rtol=1e-12)
    final = [line for line in lines if line.startswith("Inertia for init")]
    assert float(final[0].rsplit(" ", 1)[1]) == pytest.approx(km.inertia_, rel=1e-12)


def _count_passes(monkeypatch):
    from robustkmeans import _kernels

    passes = []
    euclidean_pass = _kernels.euclidean_pass

    def counted(*args, **kwargs):
        passes.append(1)
        return euclidean_pass(*args, **kwargs)

    monkeypatch.setattr(_kernels, "euclidean_pass", counted)
    return passes


def test_epsilon_insensitive_step_checked_by_the_next_pass(monkeypatch):
    # Weiszfeld's step is checked by the next pass against the objective before it;
    # where the members' total cost rose, the clusters whose cost rose take the
    # majorise-minimise step and the pass is redone: the objective path never rises
    rng = np.random.default_rng(42)
    X, _ = make_blobs(300, 2, centers=5, random_state=42)
    X = X + rng.standard_t(1.5, size=X.shape)
    passes = _count_passes(monkeypatch)
    km = LossKMeans(6, loss="epsilon_insensitive", epsilon=3.0, n_init=1, random_state=42)
    km.fit(X)
    # some steps were redone (one pass per iteration, plus the last assignment)
    assert len(passes) > km.n_iter_ + 1
    path = np.asarray(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-12 * path[0])
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def test_epsilon_insensitive_step_kept_where_the_total_cost_falls(monkeypatch):
    # the Weiszfeld step takes the left cluster's center from 0 to its one sample
    # outside the ball, 5, and raises that cluster's cost from 4 to 31; the right
    # cluster's falls from 180 to 0. The objective cannot rise (the next assignment
    # only lowers the members' total, 31 < 184), so the step is kept and no pass is
    # redone (before, any cluster's rise redid the pass: at 100,000 x 512 float32,
    # 4 of 15 iterations, for rises of 1e-9 of a cluster's cost, its rounding)
    X = np.r_[np.full(10, 0.9), [5.0], np.full(20, 110.0)][:, None]
    passes = _count_passes(monkeypatch)
    km = LossKMeans(
        2, loss="epsilon_insensitive", epsilon=1.0, init=np.array([[0.0], [100.0]]), n_init=1
    )
    km.fit(X)
    # one pass per iteration plus the last assignment
    assert len(passes) == km.n_iter_ + 1
    np.testing.assert_allclose(km.objective_path_[:2], [184.0, 31.0], rtol=1e-12)
    assert np.all(np.diff(km.objective_path_) <= 0)
    # the result is the fixed point the redone pass led to as well
    np.testing.assert_allclose(km.cluster_centers_.ravel(), [1.9, 110.0], rtol=1e-9)
    assert km.inertia_ == pytest.approx(2.1, rel=1e-9)


@pytest.mark.parametrize("heavy", [1e6, 1e8, 1e10])
def test_epsilon_insensitive_last_step_is_checked_too(heavy):
    # the fit stops (labels unchanged) right after a Weiszfeld step, which the next
    # pass would have checked: the exact solver starts from its checked fallback.
    # Here the start is optimal already (each heavy sample is its cluster's weighted
    # geometric median), the unchecked step moved the centers off it by up to 2.7,
    # and the solver, warm-started there, ended 4e-8 away: inertia_ rose above the
    # path (+118% with weights of 1e10)
    rng = np.random.RandomState(1)
    X = np.r_[rng.randn(60, 3), rng.randn(60, 3) + 6, rng.randn(60, 3) * 2 - 5]
    w = np.ones(180)
    w[[10, 70, 130]] = heavy
    km = LossKMeans(3, loss="epsilon_insensitive", epsilon=0.0, init=X[[10, 70, 130]])
    km.fit(X, sample_weight=w)
    path = np.asarray(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-12 * path[0])
    np.testing.assert_allclose(km.cluster_centers_, X[[10, 70, 130]], rtol=0, atol=1e-12)


@pytest.mark.parametrize("tol", [1e-2, 0.0])
@pytest.mark.parametrize("seed", [0, 2, 11, 35])
@pytest.mark.parametrize(
    "loss,scale", [("epsilon_insensitive", {"epsilon": 1.0}), ("correntropy", {"sigma": 2.0})]
)
def test_converged_fit_is_a_fixed_point_of_exact_centers(loss, scale, seed, tol):
    # the iterations take majorise-minimise steps; a fit converged with tol=0 must
    # still end with every center the exact solver's for its cluster, and every
    # sample with its least-cost center (the exact solve may move samples:
    # iterations go on). It stops once the labels settle (the exact solver then
    # finishes the centers) instead of running majorise-minimise passes to max_iter.
    # With tol > 0 the iterations with exact centers stop by the tolerance too, as
    # KMeans's do: never later than with tol=0, labels_ from the last assignment
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.standard_t(df=2, size=(40, 6)) + 4 * rng.normal(size=6) for _ in range(3)])
    km = LossKMeans(3, loss=loss, n_init=1, random_state=seed, tol=tol, **scale).fit(X)
    assert km.n_iter_ < 30
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    # the objective path (after each assignment) never increases
    assert np.all(np.diff(km.objective_path_) <= 1e-9 * np.abs(km.objective_path_[:-1]))
    if tol > 0:
        strict = LossKMeans(3, loss=loss, n_init=1, random_state=seed, tol=0, **scale).fit(X)
        assert km.n_iter_ <= strict.n_iter_
        return
    solver = get_loss(loss, next(iter(scale.values())))
    for c in np.unique(km.labels_):
        members = X[km.labels_ == c]
        at_fit = solver.objective(members, km.cluster_centers_[c])
        best = solver.objective(members, solver.center(members, init=km.cluster_centers_[c]))
        assert at_fit <= best * (1 + 1e-7) + 1e-12


def test_epsilon_insensitive_rejected_steps_take_the_exact_center():
    # 1-D blobs with epsilon about their spread: many samples sit just inside their
    # balls, every Weiszfeld step raised its cluster's cost, and the damped
    # majorise-minimise fallback moved the centers so little that the fit crawled
    # (82 iterations to 5.92 here; 300, max_iter, at 50,000 samples, 56x KMeans).
    # A rejected step's cluster now takes the exact center of the members the step
    # was for, which is never above the fallback: 30 iterations to 5.32 (exact
    # Lloyd from this start: 4.56 in 35)
    X = make_blobs(2000, n_features=1, centers=5, cluster_std=1.0, random_state=0)[0]
    init = X[np.random.default_rng(0).choice(2000, 5, replace=False)]
    km = LossKMeans(5, loss="epsilon_insensitive", epsilon=1.0, init=init, n_init=1).fit(X)
    assert km.n_iter_ <= 40
    assert km.inertia_ < 5.6
    path = np.asarray(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-9 * path[:-1])
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.parametrize("data_seed,seed", [(0, 1), (2, 0)])
def test_epsilon_insensitive_1d_fit_ends_at_exact_centers(data_seed, seed):
    # in 1-D the exact center is a weighted median of the kinks x -+ epsilon: the
    # centers of a fit run to its fixed point (tol=0) are the minimisers of their
    # clusters' costs to rounding (the smoothed Newton solver left them up to 7e-13
    # above; the rejected-step fallback was 5e-5 off)
    X = make_blobs(5000, n_features=1, centers=5, cluster_std=1.0, random_state=data_seed)[0]
    w = np.random.default_rng(0).uniform(0.5, 2, 5000)
    km = LossKMeans(5, loss="epsilon_insensitive", epsilon=1.0, tol=0, random_state=seed)
    km.set_params(n_init=1).fit(X, sample_weight=w)
    for c in range(5):
        x, wc = X[km.labels_ == c, 0], w[km.labels_ == c]

        def f(m, x=x, wc=wc):
            return float(wc @ np.maximum(np.abs(x - m) - 1.0, 0))

        best = min(f(v) for v in np.concatenate([x - 1.0, x + 1.0]))
        assert f(km.cluster_centers_[c, 0]) <= best * (1 + 1e-14)
    path = np.asarray(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-12 * path[:-1])
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def test_tolerance_bounds_the_iterations_with_exact_centers(capsys):
    # blobs that k = 10 splits unevenly: after the tolerance stops the
    # majorise-minimise iterations, the exact centers go on moving samples across a
    # split blob for 12 more iterations (a hundred, 2 s against 0.3 s, at
    # 50,000 x 32), each a full exact solve, for 3e-4 of the objective. The
    # tolerance stops them as it stops the others, after the first round of exact
    # centers here (they moved 5e-5, against a bound of 3e-3)
    X, _ = make_blobs(2000, centers=10, n_features=8, random_state=2)
    kw = dict(loss="correntropy", sigma="auto", random_state=0, n_init=1)
    km = LossKMeans(10, verbose=1, **kw).fit(X)
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if "(exact centers)" in line]
    (stop,) = [line for line in lines if line.startswith("Exact centers moved")]
    shift, bound = (float(v) for v in re.findall(r"moved (\S+), within tolerance (\S+),", stop)[0])
    assert shift <= bound
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert np.all(np.diff(km.objective_path_) <= 1e-9 * np.abs(km.objective_path_[:-1]))
    # tol=0: on to the fixed point, as before
    strict = LossKMeans(10, tol=0, **kw).fit(X)
    assert strict.n_iter_ > km.n_iter_ + 5
    assert strict.inertia_ <= km.inertia_ <= strict.inertia_ * (1 + 1e-3)


@pytest.mark.parametrize("seed", range(4))
def test_far_outliers_do_not_stop_a_robust_fit_early(seed):
    # 10% of outliers a thousand times the blobs' spread away inflate the variance
    # behind tol (tol * variance was 120 here, the blobs' std 1): the shift alone
    # stopped correntropy after its first iteration, 0.5-0.8 off the blobs'
    # centers and its objective 2-7% above a converged fit's (a user review). The
    # robust losses also wait for the objective to settle
    X, y = make_blobs(300, centers=3, random_state=0)
    X = np.vstack([X, np.random.default_rng(0).uniform(-6000, 6000, (30, 2))])
    kw = dict(loss="correntropy", sigma="auto", random_state=seed)
    km = LossKMeans(3, **kw).fit(X)
    strict = LossKMeans(3, tol=0, **kw).fit(X)
    assert km.n_iter_ >= strict.n_iter_ - 1
    assert km.inertia_ <= strict.inertia_ * (1 + 1e-4)
    blobs = np.array([X[:300][y == c].mean(axis=0) for c in range(3)])
    errors = np.linalg.norm(km.cluster_centers_[:, None] - blobs[None], axis=2).min(axis=1)
    assert errors.max() < 0.3
    # the square loss keeps KMeans's rule (the shift alone): the same iterations
    kmeans = KMeans(3, init=X[:3], n_init=1).fit(X)
    ours = LossKMeans(3, init=X[:3], n_init=1).fit(X)
    assert ours.n_iter_ == kmeans.n_iter_


@pytest.mark.parametrize("seed", [1, 12, 13])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_hartigan_labels_follow_the_assignment_rule(loss, seed):
    # duplicates (ties) and samples of zero weight (which no transfer moves): the
    # labels still agree with predict, and the objective is no worse than Lloyd's
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(10, 40)), int(rng.integers(2, 8))
    X = rng.standard_t(df=2, size=(n, 3))
    X[: n // 2] = X[0]
    w = rng.uniform(0, 2, n)
    w[rng.random(n) < 0.2] = 0
    w[0] = 1
    kw = dict(n_init=1, random_state=seed, **_SCALES.get(loss, {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # duplicates
        lloyd = LossKMeans(k, loss=loss, **kw).fit(X, sample_weight=w)
        hartigan = LossKMeans(k, loss=loss, algorithm="hartigan", **kw).fit(X, sample_weight=w)
    np.testing.assert_array_equal(hartigan.predict(X), hartigan.labels_)
    assert hartigan.inertia_ <= lloyd.inertia_ * (1 + 1e-9) + 1e-12


def test_epsilon_zero_with_a_zero_weight_duplicate_at_the_center():
    # the majoriser's weight of a sample at the center is infinite; with zero sample
    # weight it must add nothing (was: 0 * inf = NaN centers)
    p, q = np.array([1.0, 2.0]), np.array([4.0, -1.0])
    X = np.vstack([p, p, q, q + 0.5])
    w = np.array([1.0, 0.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        km = LossKMeans(1, loss="epsilon_insensitive", epsilon=0, init=p[None], n_init=1)
        km.fit(X, sample_weight=w)
    assert np.all(np.isfinite(km.cluster_centers_)) and np.isfinite(km.inertia_)


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
def test_predict_accurate_far_from_the_origin_in_float32(loss):
    # expanded distances around the origin cancel when ||x||^2 >> the distances
    # (here by 1e6 in float32): predict, transform and score expand them around the
    # centers instead, as fit does around the data
    rng = np.random.default_rng(0)
    blobs = 3 * rng.normal(size=(3, 64))[rng.integers(0, 3, 3000)]
    X = (1e4 + rng.normal(size=(3000, 64)) + blobs).astype(np.float32)
    km = LossKMeans(3, loss=loss, random_state=0, n_init=1).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    exact = get_loss(loss, {"square": None}.get(loss, 1.0)).cost(
        X.astype(np.float64) - 1e4, km.cluster_centers_.astype(np.float64) - 1e4
    )
    np.testing.assert_allclose(km.transform(X), exact, rtol=1e-3, atol=1e-3 * exact.max())
    assert km.score(X) == pytest.approx(-km.inertia_, rel=1e-5)


def test_pseudo_huber_predict_far_from_the_origin():
    # ranking from the exact residuals: scaling before the difference rounded x away
    X = np.array([[999996.75]] * 2 + [[999997.1875]] * 2, np.float32)
    km = LossKMeans(2, loss="pseudo_huber", delta=0.7, n_init=1, random_state=0).fit(X)
    q = np.array([[999997.0]], np.float32)
    costs = km.transform(q)
    assert km.predict(q)[0] == costs.argmin()
    assert km.score(q) == pytest.approx(-costs.min(), rel=1e-6)


def test_score_exact_for_a_cluster_far_from_the_others():
    # the chosen center's cost comes from the exact difference, not the expansion
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(900, 8)), 1e4 + rng.normal(size=(100, 8))]).astype(np.float32)
    km = LossKMeans(2, random_state=0, n_init=1).fit(X)
    C = km.cluster_centers_.astype(np.float64)
    exact = ((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1).min(axis=1)
    assert -km.score(X) == pytest.approx(exact.sum(), rel=1e-5)


def test_separable_ties_break_by_exact_distance_far_from_the_origin():
    from robustkmeans._kernels import separable_assign

    offset = np.float32(1e4)
    x = np.array([[0.0, 0.0]], np.float32) + offset
    # both at L1 distance 2; the second is nearer in Euclidean distance
    centers = np.array([[2.0, 0.0], [1.0, 1.0]], np.float32) + offset
    labels, _ = separable_assign(x, centers, get_loss("absolute"), 1)
    assert labels[0] == 1


@pytest.mark.parametrize("loss,param", [("pseudo_huber", "delta"), ("correntropy", "sigma")])
def test_scales_whose_square_overflows_are_rejected(loss, param):
    X = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    with pytest.raises(ValueError, match=f"{param}=1e-30 is out of range for float32"):
        LossKMeans(2, loss=loss, **{param: 1e-30}).fit(X)
    LossKMeans(2, loss=loss, **{param: 1e-30}).fit(X.astype(np.float64))  # fine in float64


def _tight_far_clusters(n_per=100, spread=0.01, offsets=(1000.0, 1050.0), seed=0):
    """Tight clusters far from the data's mean: the expanded distances of ``fit``
    (around that mean) cannot resolve the distances within a cluster."""
    rng = np.random.default_rng(seed)
    parts = [o + spread * rng.normal(size=(n_per, 2)) for o in offsets]
    return np.concatenate(parts).astype(np.float32)


def _exact_objective(loss, X, centers, labels, scale=None):
    R = X.astype(np.float64) - centers.astype(np.float64)[labels]
    d = np.sqrt(np.einsum("ij,ij->i", R, R))
    if loss == "square":
        return float(np.sum(d**2))
    if loss == "correntropy":
        return float(np.sum(-np.expm1(-(d**2) / (2 * scale**2))))
    return float(np.sum(np.maximum(d - scale, 0)))


@pytest.mark.parametrize(
    "loss,scale", [("square", None), ("epsilon_insensitive", 0.005), ("correntropy", 0.02)]
)
def test_inertia_exact_for_tight_clusters_far_from_the_mean(loss, scale):
    # the chosen center's distance is recomputed exactly where the expansion is
    # rounding noise (before: square inertia_ 0.0527 for a true 0.0393, correntropy ran
    # 94 iterations with a rising objective path)
    X = _tight_far_clusters()
    params = {} if scale is None else {{"epsilon_insensitive": "epsilon"}.get(loss, "sigma"): scale}
    km = LossKMeans(2, loss=loss, random_state=0, n_init=1, **params).fit(X)
    exact = _exact_objective(loss, X, km.cluster_centers_, km.labels_, scale)
    assert km.inertia_ == pytest.approx(exact, rel=1e-4)
    assert km.score(X) == pytest.approx(-exact, rel=1e-4)
    path = np.asarray(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-5 * path[0])
    assert km.n_iter_ < 20
    np.testing.assert_array_equal(km.predict(X), km.labels_)


def test_square_objective_path_exact_with_three_tight_far_clusters():
    X = _tight_far_clusters(offsets=(1000.0, 1050.0, 1050.05))
    km = LossKMeans(3, init=X[[0, 100, 200]], n_init=1).fit(X)
    exact = _exact_objective("square", X, km.cluster_centers_, km.labels_)
    assert km.inertia_ == pytest.approx(exact, rel=1e-4)
    assert np.all(np.diff(km.objective_path_) <= 0)


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
def test_exact_tie_goes_to_the_lower_index_in_fit_and_predict(loss):
    # sample 4 is at distance exactly 1 from centers 0 and 1: the expansion around the
    # data's mean, so the tie is decided by the rounding unless ranked exactly
    X = np.array([[-1, 0], [-1, 0], [0, 1], [0, 1], [0, 0], [10.1, 17.17], [10.1, 17.17]])
    w = np.array([1, 1, 1, 1, 0, 1, 1.0])
    km = LossKMeans(3, loss=loss, init=X[[0, 2, 5]], n_init=1).fit(X, sample_weight=w)
    assert km.labels_[4] == 0
    assert km.predict(X)[4] == 0


@pytest.mark.parametrize("seed", range(3))
def test_macqueen_sparse_tight_clusters_far_from_the_origin(seed):
    # sparse data is not centered: within MacQueen's batches the expanded distances
    # of tight clusters far from the origin are rounding noise, and are recomputed
    # exactly (before: 300 iterations of samples moving on noise, 20-60x the
    # objective of the same fit on the dense, centered data)
    rng = np.random.default_rng(seed)
    offsets = rng.normal(size=(3, 5)) * 0.01 + 1e3
    X = (offsets[rng.integers(3, size=300)] + rng.normal(size=(300, 5)) * 1e-3).astype(np.float32)
    kw = dict(n_init=1, init=X[:3].copy(), algorithm="macqueen", random_state=seed)
    dense = LossKMeans(3, **kw).fit(X)
    sparse = LossKMeans(3, **kw).fit(sp.csr_matrix(X))
    assert sparse.n_iter_ < 20
    assert sparse.inertia_ < 2 * dense.inertia_


def test_macqueen_duplicates_labels_follow_predict():
    # centers one ulp apart over duplicated points: the near tie is decided by exact
    # distances in both fit and predict
    X = np.repeat(np.random.default_rng(0).normal(size=(5, 2)), 10, axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = LossKMeans(8, algorithm="macqueen", random_state=0).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.parametrize("scale", [1e10, 1e-10])
def test_hartigan_correntropy_float32_is_scale_invariant(scale):
    # the screen's derivatives in float64: sigma^4 overflowed float32 at 1e10 (and
    # underflowed at 1e-10), so Hartigan found nothing and warned
    X, _ = make_blobs(150, centers=5, n_features=2, random_state=3, cluster_std=2.0)
    X = X.astype(np.float32)

    def fit(s):
        km = LossKMeans(5, loss="correntropy", sigma=1.5 * s, algorithm="hartigan", random_state=3)
        return km.fit(X * np.float32(s)).inertia_

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert fit(scale) == pytest.approx(fit(1.0), rel=1e-5)


@pytest.mark.parametrize("loss", ["correntropy", "epsilon_insensitive"])
@pytest.mark.parametrize("scale", [1e120, 1e-120])
def test_hartigan_euclidean_losses_float64_are_scale_invariant(loss, scale):
    # the screen's second derivatives alone leave float64 at scales fit accepts:
    # correntropy's sigma^4 raised a bare OverflowError ("Numerical result out of
    # range") from 1e77 and was 0 below 1e-77, epsilon_insensitive's 1 / d^3 was inf
    # (RuntimeWarnings, NaN curvatures) below 1e-103 and 0 above 1e103
    X, _ = make_blobs(150, centers=5, n_features=2, random_state=3, cluster_std=2.0)

    def fit(s):
        km = LossKMeans(
            5, loss=loss, sigma=1.5 * s, epsilon=0.5 * s, algorithm="hartigan", random_state=3
        )
        return km.fit(X * s)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scaled = fit(scale)
    plain = fit(1.0)
    np.testing.assert_array_equal(scaled.labels_, plain.labels_)
    unit = scale if loss == "epsilon_insensitive" else 1.0
    assert scaled.inertia_ / unit == pytest.approx(plain.inertia_, rel=1e-6)


@pytest.mark.parametrize(
    "dtype,exponent", [(np.float64, -600), (np.float64, 600), (np.float32, -80), (np.float32, -100)]
)
@pytest.mark.parametrize("tol", [1e-4, 0.0])
@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan"])
def test_absolute_fit_is_the_same_at_every_scale(dtype, exponent, tol, algorithm):
    # absolute never squares the data (the errors of the losses that do recommend
    # it for data at extreme scales), but the squared center shift and the
    # tolerance underflowed there: on float64 data below about 1e-160 (float32
    # below about 1e-20) every shift was 0, within any tolerance, tol=0 included,
    # and fits stopped after one iteration. Scaling by a power of two is exact
    X, _ = make_blobs(300, n_features=2, centers=3, random_state=0)
    X = X.astype(dtype)
    scale = 2.0**exponent
    kw = dict(loss="absolute", random_state=0, tol=tol, algorithm=algorithm)
    plain = LossKMeans(3, **kw).fit(X)
    scaled = LossKMeans(3, **kw).fit(X * dtype(scale))
    assert scaled.n_iter_ == plain.n_iter_ > 1
    np.testing.assert_array_equal(scaled.labels_, plain.labels_)
    assert scaled.inertia_ / scale == pytest.approx(plain.inertia_, rel=1e-5)


def test_out_of_range_auto_scale_does_not_suggest_auto():
    X = (np.random.default_rng(0).random((20, 3)) * 1e-30).astype(np.float32)
    with pytest.raises(ValueError, match="delta='auto' estimated delta=.* Rescale X") as err:
        LossKMeans(3, loss="huber", delta="auto").fit(X)
    assert "use delta='auto'" not in str(err.value)


def test_out_of_range_auto_scale_of_float64_data_does_not_suggest_float64():
    # the advice to convert X to float64 was given for float64 data too
    X = np.random.default_rng(0).random((20, 3)) * 1e-300
    with pytest.raises(ValueError, match="delta='auto' estimated delta=.* Rescale X") as err:
        LossKMeans(3, loss="huber", delta="auto").fit(X)
    assert "convert it to float64" not in str(err.value)
    # (float32 data keeps the advice)
    with pytest.raises(ValueError, match="or convert it to float64"):
        LossKMeans(3, loss="huber", delta="auto").fit((X * 1e270).astype(np.float32))


@pytest.mark.parametrize("loss", ["absolute", "huber", "pseudo_huber"])
def test_auto_scales_of_overflowing_data_warn_nothing_before_the_error(loss):
    # the pilot behind "auto" overflowed on such data, and its RuntimeWarnings came
    # ahead of the range check's ValueError, which says what to do
    X = (np.random.default_rng(0).normal(size=(300, 8)) * 1e36).astype(np.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="Rescale X"):
            LossKMeans(3, loss=loss, delta="auto", sigma="auto", random_state=0).fit(X)
    assert not [w for w in caught if "robustkmeans" in w.filename], [str(w) for w in caught]


def _split_tight_blobs(seed):
    """A broad blob at the origin and two tight blobs at +-1000 (float32), which
    k = 5 splits: centers of one tight cluster are within the expansion's rounding
    of each other."""
    rng = np.random.default_rng(seed)
    parts = [
        rng.normal(size=(200, 2)),
        1000 + 0.01 * rng.normal(size=(300, 2)),
        -1000 + 0.01 * rng.normal(size=(300, 2)),
    ]
    return np.concatenate(parts).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 4, 9])
@pytest.mark.parametrize(
    "loss,params,algorithm",
    [
        ("square", {}, "lloyd"),
        ("square", {}, "hartigan"),
        ("square", {}, "macqueen"),
        ("correntropy", {"sigma": 0.02}, "lloyd"),
        ("correntropy", {"sigma": 0.02}, "hartigan"),
        ("epsilon_insensitive", {"epsilon": 0.002}, "lloyd"),
        ("epsilon_insensitive", {"epsilon": 0.002}, "hartigan"),
    ],
)
def test_split_tight_clusters_far_from_the_mean(seed, loss, params, algorithm):
    # samples whose own distance the expansion cannot resolve are ranked by exact
    # distances in every pass (before: paths rose by up to 36%, Hartigan hit its
    # round cap on noise and ended worse than Lloyd, labels_ != predict)
    X = _split_tight_blobs(seed)
    kw = dict(loss=loss, random_state=seed, n_init=1, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = LossKMeans(5, algorithm=algorithm, **kw).fit(X)
        lloyd = LossKMeans(5, **kw).fit(X)
    path = np.asarray(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-6 * path[0])
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    scale = params.get("sigma", params.get("epsilon"))
    exact = _exact_objective(loss, X, km.cluster_centers_, km.labels_, scale)
    assert km.inertia_ == pytest.approx(exact, rel=1e-4)
    if algorithm == "hartigan":
        assert km.inertia_ <= lloyd.inertia_ * (1 + 1e-6)
        assert km.n_iter_ < 100


@pytest.mark.parametrize("rows", [slice(0, 800), slice(200, 800), slice(0, 230)])
def test_partial_ranking_rescues_the_rows_exact_rank_does(rows):
    # the Lloyd passes rank by ||m||^2 - 2 x.m (KMeans's ranking) and add ||x||^2
    # to the own distances only; where one is unresolved (the tight blobs at +-1000)
    # the rows are ranked by exact distances, as exact_rank does on the full
    # distances, and their exact distances to every center are handed back for the
    # lookups at other labels (epsilon_insensitive's check). Chunks with few risky
    # rows, most of them (all rows recomputed), and only some
    from robustkmeans import _kernels

    X = _split_tight_blobs(3)
    X = X - X.mean(axis=0)
    Xc = np.ascontiguousarray(X[rows])
    rng = np.random.default_rng(0)
    centers = np.concatenate([X[[0, 1]], X[200:202] + 1e-3, X[500:501]]).astype(np.float32)
    centers += (1e-3 * rng.normal(size=centers.shape)).astype(np.float32)
    xsq = np.einsum("ij,ij->i", Xc, Xc)
    csq = np.einsum("ij,ij->i", centers, centers)
    partial = Xc @ (-2 * centers).T + csq
    labels = np.argmin(partial, axis=1).astype(np.int32)
    own, fixed = _kernels.exact_rank_partial(Xc, xsq, centers, csq, partial, labels)
    d2 = _kernels._sq_dist_chunk(Xc, xsq, centers, csq)
    expected_labels = np.argmin(d2, axis=1).astype(np.int32)
    expected_own = _kernels.exact_rank(Xc, xsq, centers, csq, d2, expected_labels)
    exact = _kernels.exact_sq_distances(Xc, None, centers)
    # the own distances of the rescued rows are the exact ones, at their exact
    # nearest center, as exact_rank's
    assert fixed is not None
    risky, rows_d2 = fixed
    # their distances: exact where the expansion could not resolve them (the own
    # one always), the expanded ones elsewhere
    expanded = np.maximum(partial[risky] + xsq[risky, None], 0)
    rtol = float(np.finfo(np.float32).eps) ** (1 / 3)
    unresolved = expanded < rtol * (xsq[risky, None] + csq[None, :])
    assert unresolved[np.arange(risky.size), labels[risky]].all()
    assert unresolved.sum() < unresolved.size  # (entry by entry, not row by row)
    np.testing.assert_array_equal(rows_d2[unresolved], exact[risky][unresolved])
    np.testing.assert_array_equal(rows_d2[~unresolved], expanded[~unresolved])
    np.testing.assert_array_equal(labels[risky], np.argmin(exact[risky], axis=1))
    np.testing.assert_array_equal(own[risky], expected_own[risky])
    np.testing.assert_array_equal(labels[risky], expected_labels[risky])
    # every row is at a center no farther than its exact nearest, up to the
    # expansion's rounding of resolved distances
    best = exact.min(axis=1)
    picked = exact[np.arange(len(Xc)), labels]
    np.testing.assert_allclose(picked, best, rtol=1e-4, atol=0)


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
def test_unresolved_rows_recompute_only_their_unresolved_distances(loss, monkeypatch):
    # tight float32 blobs far from the mean: every sample's distance to its own
    # center is unresolved in every pass, its distances to the other blobs' centers
    # are not. Only the unresolved ones are recomputed from the differences (a row
    # against every center took a Python loop over the centers: 16x KMeans at
    # 50,000 x 32, k = 50), and the fit ends where the float64 one does
    from robustkmeans import _kernels

    X, _, centers = make_blobs(
        2000, n_features=8, centers=20, cluster_std=0.05, center_box=(-100, 100),
        random_state=0, return_centers=True,
    )  # fmt: skip
    X = X.astype(np.float32)
    computed = []
    exact_sq_distances = _kernels.exact_sq_distances

    def counted(X_, rows, centers_, which=None):
        out = exact_sq_distances(X_, rows, centers_, which)
        computed.append(out.size)
        return out

    monkeypatch.setattr(_kernels, "exact_sq_distances", counted)
    kw = dict(loss=loss, init=centers.astype(np.float32), n_init=1, sigma=1.0, epsilon=0.01)
    km = LossKMeans(20, **kw).fit(X)
    passes = km.n_iter_ + 2
    assert 0 < sum(computed) <= 2 * passes * len(X)  # (every center: 20 per row)
    monkeypatch.undo()
    reference = LossKMeans(20, **kw).fit(X.astype(np.float64))
    np.testing.assert_array_equal(km.labels_, reference.labels_)
    np.testing.assert_allclose(km.cluster_centers_, reference.cluster_centers_, atol=1e-4)


def test_exact_distances_skip_empty_sparse_rows_on_a_zero_center(monkeypatch):
    # an all-zero row on a zero center has an exact zero expansion: it must not be
    # densified (before: half the rows of a 200,000-feature CSR matrix were)
    from robustkmeans import _kernels

    calls = []
    real = _kernels.dense_rows

    def counting(X, idx):
        calls.append(len(idx))
        return real(X, idx)

    monkeypatch.setattr(_kernels, "dense_rows", counting)
    rng = np.random.default_rng(0)
    X = sp.random(400, 5000, density=0.01, format="csr", random_state=0, dtype=np.float32)
    X = sp.vstack([X, sp.csr_matrix((400, 5000), dtype=np.float32)]).tocsr()
    init = np.zeros((4, 5000), np.float32)
    init[:3] = X[rng.choice(400, 3, replace=False)].toarray()
    km = LossKMeans(4, init=init, n_init=1, max_iter=5).fit(X)
    assert sum(calls) < 40
    np.testing.assert_array_equal(km.predict(X), km.labels_)


@pytest.mark.parametrize("copy_x", [True, False])
@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan"])
def test_last_assignment_is_predicts_with_or_without_a_copy(copy_x, algorithm):
    # the fit's last assignment follows predict's rule whether it runs on the
    # centered copy (inside Lloyd) or on X restored in place (copy_x=False)
    X = _split_tight_blobs(4)
    X_before = X.copy()
    km = LossKMeans(5, algorithm=algorithm, copy_x=copy_x, random_state=4, n_init=2).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert km.score(X) == -km.inertia_
    np.testing.assert_allclose(X, X_before, rtol=1e-6)


@pytest.mark.parametrize("container", ["dataframe", "list", "fortran", "int"])
def test_converted_input_with_copy_x_false_labels_follow_predict(container):
    # validate_data converts these: fit centers its own conversion, and the last
    # assignment ranks the values predict computes from the caller's untouched data
    # (before: the conversion was restored inexactly and ranked instead)
    pd = pytest.importorskip("pandas")
    X = np.array(
        [
            [0.9808353387762301, 0.3898407787192646],
            [0.9808353387762301, -0.3898407787192646],
            [2.3710839689613894, 0.3898407787192646],
            [2.3710839689613894, -0.3898407787192646],
            [1.6759596538688097, 0.9027556576068978],
            [997212.7258534218] * 2,
            [997212.7258534218] * 2,
        ]
    )
    w = np.array([1, 1, 1, 1, 0, 1, 1.0])
    if container == "int":
        X = np.round(X * 1000).astype(np.int64)
    data = {
        "dataframe": lambda: pd.DataFrame(X),
        "list": lambda: X.tolist(),
        "fortran": lambda: np.asfortranarray(X),
        "int": lambda: X,
    }[container]()
    km = LossKMeans(3, init=np.asarray(X[[0, 2, 5]], float), n_init=1, copy_x=False)
    km.fit(data, sample_weight=w)
    np.testing.assert_array_equal(km.predict(data), km.labels_)
    assert km.score(data, sample_weight=w) == -km.inertia_
    np.testing.assert_array_equal(np.asarray(data), X)


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
def test_transform_own_costs_exact_for_tight_clusters_far_from_the_mean(loss):
    X = _split_tight_blobs(4)
    params = {"correntropy": {"sigma": 0.02}, "epsilon_insensitive": {"epsilon": 0.002}}
    km = LossKMeans(5, loss=loss, random_state=4, n_init=1, **params.get(loss, {})).fit(X)
    own = km.transform(X)[np.arange(X.shape[0]), km.labels_]
    assert own.sum(dtype=np.float64) == pytest.approx(km.inertia_, rel=1e-5)


def test_copy_x_false_restores_x_when_fit_fails_after_centering():
    # the scale check runs on the centered X: a failure there must not leave the
    # caller's array centered
    X = np.array([[100, 100], [101, 100], [200, 200], [201, 200]], np.float32)
    X_before = X.copy()
    with pytest.raises(ValueError, match="sigma=1e-30 is out of range"):
        LossKMeans(2, loss="correntropy", sigma=1e-30, copy_x=False).fit(X)
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("sigma", [1e-30, 1e30])
def test_copy_x_false_scale_out_of_range_leaves_x_bit_for_bit(sigma):
    # a scale out of the dtype's range is a parameter error, refused before X is
    # centered in place: restoring it (X - mean + mean) had changed the last bit
    # of a third of these values
    X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    mean = X.mean(axis=0)
    assert np.any((X - mean) + mean != X)  # (a round trip would show)
    X_before = X.copy()
    with pytest.raises(ValueError, match=re.escape(f"sigma={sigma!r} is out of range")):
        LossKMeans(2, loss="correntropy", sigma=sigma, copy_x=False).fit(X)
    np.testing.assert_array_equal(X, X_before)


def test_copy_x_false_on_read_only_input_works_on_a_copy():
    pd = pytest.importorskip("pandas")
    X = _split_tight_blobs(0)
    X.setflags(write=False)
    km = LossKMeans(5, copy_x=False, random_state=0, n_init=1).fit(X)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    assert km.score(X) == -km.inertia_
    one_column = pd.DataFrame([[0.0], [1.0], [10.0], [11.0]])
    assert LossKMeans(2, copy_x=False, random_state=0).fit(one_column).inertia_ == 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_centers", [1, 2, 3, 4, 6])
def test_products_with_few_centers_match_the_matrix_product(n_centers, dtype):
    # few centers take one matrix-vector product each (faster than OpenBLAS's packed
    # matrix product there): same values, same shapes, for both products of a pass
    from robustkmeans import _kernels

    rng = np.random.default_rng(n_centers)
    X = rng.normal(size=(150, 64)).astype(dtype)
    C = rng.normal(size=(n_centers, 64)).astype(dtype)
    labels = rng.integers(n_centers, size=150)
    coef = rng.uniform(size=150).astype(dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    got = _kernels._dot_centers(X, C)
    assert got.shape == (150, n_centers) and got.dtype == dtype
    np.testing.assert_allclose(
        got, X.astype(np.float64) @ C.T.astype(np.float64), rtol=rtol, atol=rtol
    )
    indicator = np.zeros((n_centers, 150))
    indicator[labels, np.arange(150)] = coef
    sums = _kernels._cluster_sums(X, labels, coef, n_centers)
    assert sums.shape == (n_centers, 64)
    np.testing.assert_allclose(sums, indicator @ X.astype(np.float64), rtol=rtol, atol=10 * rtol)
    # with labels_old: the change of the sums
    old = rng.integers(n_centers, size=150)
    change = _kernels._cluster_sums(X, labels, coef, n_centers, old)
    indicator[old, np.arange(150)] = -coef
    np.testing.assert_allclose(change, indicator @ X.astype(np.float64), rtol=rtol, atol=10 * rtol)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_an_auto_scale_does_not_change_the_initialisation(loss):
    # the pilot fit behind "auto" draws from its own generator: a scale the loss
    # ignores changes nothing (a flat grid over loss and scales compares like with
    # like), and a used "auto" gives the fit of its resolved number
    X, _ = make_blobs(n_samples=300, centers=4, cluster_std=2.0, random_state=1)
    auto = LossKMeans(4, loss=loss, delta="auto", sigma="auto", epsilon="auto", random_state=0)
    auto.fit(X)
    # (only the loss's own scale is estimated: the others are NaN, and stay "auto")
    used = LOSSES[loss]
    numbers = {p: getattr(auto, f"{p}_") for p in ("delta", "sigma", "epsilon") if p == used}
    plain = LossKMeans(4, loss=loss, random_state=0, **numbers).fit(X)
    np.testing.assert_array_equal(auto.labels_, plain.labels_)
    assert auto.inertia_ == plain.inertia_
    # a RandomState instance is consumed exactly as without "auto"
    rs_auto, rs_plain = np.random.RandomState(5), np.random.RandomState(5)
    LossKMeans(4, loss=loss, sigma="auto", random_state=rs_auto).fit(X)
    LossKMeans(4, loss=loss, random_state=rs_plain, sigma=2.5).fit(X)
    assert rs_auto.randint(1 << 30) == rs_plain.randint(1 << 30)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_only_the_scale_the_loss_uses_is_estimated(loss, monkeypatch):
    # the pilot fit behind "auto" runs for the loss's own scale only: in a grid over
    # every loss with every scale "auto", the square and absolute fits do not pay for
    # one (on small data it costs more than the fit), and an ignored "auto" is NaN
    calls = []
    pilot = _loss_kmeans._pilot_scales
    monkeypatch.setattr(
        _loss_kmeans, "_pilot_scales", lambda *a, **k: calls.append(1) or pilot(*a, **k)
    )
    X, _ = make_blobs(n_samples=120, centers=3, random_state=2)
    km = LossKMeans(3, loss=loss, delta="auto", sigma="auto", epsilon=0.3, random_state=0)
    km.fit(X)
    used = LOSSES[loss]
    assert len(calls) == (1 if used in ("delta", "sigma") else 0)
    for p in ("delta", "sigma"):
        value = getattr(km, f"{p}_")
        assert np.isnan(value) == (p != used)
        assert p != used or value > 0
    assert km.epsilon_ == 0.3  # a number is stored as given, used or not


@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan", "macqueen"])
def test_samples_of_weight_zero_make_no_cluster(algorithm, init):
    # two samples carry all the weight: at most two clusters are determined by the
    # data, and a third made of zero-weight samples only is no cluster (its center
    # would be arbitrary, yet predict would use it): KMeans' ConvergenceWarning.
    # The run stops once nothing moves (MacQueen went on for max_iter passes, and
    # init="random" could not draw 3 samples of positive weight)
    X, _ = make_blobs(n_samples=100, centers=3, random_state=0)
    w = np.zeros(100)
    w[:2] = 1
    km = LossKMeans(3, algorithm=algorithm, init=init, random_state=0, n_init=1)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        km.fit(X, sample_weight=w)
    weights = np.bincount(km.labels_, weights=w, minlength=3)
    assert np.count_nonzero(weights) == 2
    assert km.n_iter_ <= 5
    # relocation re-seeds an empty cluster on a sample that weighs something
    from robustkmeans._loss_kmeans import _relocate_empty

    centers = np.zeros((2, 2))
    costs = np.array([5.0, 9.0, 1.0])
    labels = np.zeros(3, dtype=np.int32)
    picked = _relocate_empty(
        np.eye(3)[:, :2] * [1, 2], costs, labels, np.r_[2.0, 0], centers, np.r_[1.0, 0, 1]
    )
    np.testing.assert_array_equal(picked, [0])
    np.testing.assert_array_equal(centers[1], [1, 0])  # sample 0: cost 5 (sample 1 weighs 0)
    # nor on a sample of cost 0: it is at a center already
    centers = np.zeros((2, 2))
    costs, w = np.array([0.0, 9.0, 0.0]), np.r_[1, 0, 1.0]
    picked = _relocate_empty(np.eye(3)[:, :2], costs, labels, np.r_[2.0, 0], centers, w)
    assert picked.size == 0
    np.testing.assert_array_equal(centers, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize(
    "loss,algorithm",
    [("square", "lloyd"), ("correntropy", "lloyd"), ("square", "hartigan"), ("square", "macqueen")],
)
def test_more_clusters_than_distinct_points_converge(loss, algorithm, init, dtype):
    # an image of 6 colours quantised to 16: the means of duplicates are rounded, so
    # the samples of largest cost are at their centers but for rounding. Re-seeding an
    # empty cluster on one took its duplicates from their rounded mean and emptied
    # another cluster, every iteration, up to max_iter (KMeans stops at once); it is
    # given up once a re-seeding does not lower the objective. Hartigan moved such
    # duplicates one by one into an empty cluster, each move "gaining" rounding noise
    rng = np.random.RandomState(0 if dtype == np.float32 else 2)
    palette = rng.randint(0, 256, size=(6, 3))
    X = (palette[rng.randint(6, size=20000)] / 255).astype(dtype) + dtype(0.3)
    km = LossKMeans(16, loss=loss, algorithm=algorithm, init=init, random_state=0, n_init=1)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        km.fit(X)
    assert km.n_iter_ <= 10
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    assert len(np.unique(km.labels_)) == 6
    # every sample is at its center, but for rounding
    assert km.inertia_ <= 1e-6 * len(X)


@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan"])
@pytest.mark.parametrize("loss", ["square", "correntropy"])
@pytest.mark.parametrize(
    "base,weight,dtype",
    [(1e9, 2e-8, np.float32), (1e15, 2e-8, np.float32), (3.3, 0.1, np.float64)],
)
def test_one_row_repeated_with_more_clusters_stops_at_once(loss, algorithm, base, weight, dtype):
    # 20 copies of one row, k = 3 (random-seed fuzzing; float64 copies of 3.3 with
    # weights 0.1 too): the cluster's computed mean rounded a spacing off the row, so
    # a center still on it took the copies, its mean rounded off too, and the
    # centers traded the copies every iteration, the objective going 0, rounding,
    # 0... up to max_iter (KMeans stops after 1). A cluster of copies of one row now
    # keeps that row as its center
    X = np.full((20, 2), base, dtype=dtype)
    km = LossKMeans(3, loss=loss, algorithm=algorithm, random_state=0, n_init=1)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        km.fit(X, sample_weight=np.full(20, weight))
    assert km.n_iter_ <= 3
    assert km.inertia_ == 0
    assert np.all(np.diff(km.objective_path_) <= 0)
    np.testing.assert_array_equal(km.labels_, km.predict(X))


@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan", "macqueen"])
@pytest.mark.parametrize("n_clusters, tol", [(5, 1e-4), (6, 0), (50, 1e-4)])
def test_copies_of_a_few_rows_have_those_rows_as_centers(algorithm, n_clusters, tol):
    # 5 rows repeated 200 times (a user's review): Hartigan's and MacQueen's centers
    # are means of running sums, which rounded off the rows (inertia_ 1e-29, not 0),
    # and MacQueen's centers a rounding apart traded the copies for 52 passes with
    # tol=0 and k = 6 (Lloyd stops after 1, KMeans after 2), as the docstring says
    # a cluster of copies of one row is on it
    rng = np.random.RandomState(0)
    rows = rng.rand(5, 3)
    X = np.repeat(rows, 200, axis=0)[rng.permutation(1000)]
    km = LossKMeans(n_clusters, algorithm=algorithm, tol=tol, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km.fit(X)
    assert km.n_iter_ == 1
    assert km.inertia_ == 0
    used = km.cluster_centers_[np.unique(km.labels_)]
    assert all((center == rows).all(axis=1).any() for center in used)
    np.testing.assert_array_equal(km.labels_, km.predict(X))


@pytest.mark.parametrize("sparse", [False, True])
def test_hartigan_float32_transfers_within_a_tight_far_cluster(sparse):
    # three points 160 float32 spacings apart, far from the rest: moving the middle
    # one to the third's cluster is a real gain (as in float64), which a rule against
    # the rounding of float32 centers must not block
    rng = np.random.RandomState(0)
    tight = 1000 + 0.01 * np.array([[0, 0], [2, 0], [3.9, 0]])
    X = np.r_[rng.randn(200, 2), tight].astype(np.float32)
    init = np.r_[[[0, 0]], tight[[0]] + [[0.01, 0]], tight[[2]]].astype(np.float32)
    km = LossKMeans(3, init=init, n_init=1, algorithm="hartigan")
    km.fit(sp.csr_matrix(X) if sparse else X)
    np.testing.assert_array_equal(km.labels_[-3:], [1, 2, 2])


def test_reseeded_cluster_of_tiny_weight_gets_its_sample_as_center():
    # the square loss's sums are updated from the samples that move: a cluster that
    # emptied kept its members' rounding in its sums, and re-seeded on a sample of
    # weight 1e-12 its mean was that rounding over 1e-12 (a center at -1.9e6 for data
    # within +-15, with a cluster left empty)
    x = [12.096469, 11.33079, 3.0418942, -11.800432, 13.546775, -13.443909, 11.759797,
         -11.652121, -13.663684, -12.7196, 2.5102823, 7.1476083, 13.301255, 14.575391,
         11.9086, -12.353122, 2.612479]  # fmt: skip
    X = np.array(x, np.float32)[:, None]
    w = np.where(np.isin(np.arange(17), [1, 3, 4, 7, 9, 12, 16]), 1e-12, 1.0)
    init = np.array(
        [13.5525, -11.716014, -11.716014, 3.4749022, 11.759797, 12.847235, 3.4749022,
         6.713677, 14.575391, 11.759797], np.float32
    )[:, None]  # fmt: skip
    km = LossKMeans(10, init=init, n_init=1).fit(X, sample_weight=w)
    assert np.abs(km.cluster_centers_).max() <= np.abs(X).max()
    assert len(np.unique(km.labels_)) == 10


def _assert_centers_are_member_means(km, X, w, atol):
    for c in np.unique(km.labels_):
        members = km.labels_ == c
        mean = w[members] @ X[members].astype(np.float64) / w[members].sum()
        np.testing.assert_allclose(km.cluster_centers_[c], mean, rtol=0, atol=atol)


def test_lloyd_cluster_left_with_tiny_weights_is_their_mean():
    # the square loss's sums are updated from the samples that move: a cluster left
    # with a sample of weight 1e-12 once samples of weight 1 moved out kept their
    # rounding (1e-6 in float32), and its mean was that over 1e-12: a center at
    # -1.9e6 for data within +-14, an objective that rose (7.1e-12 to 7.8e-12), and
    # 7 clusters for 8 distinct points. A cluster's sums are now recomputed from its
    # members once the weight that moved in or out exceeds its weight
    x = [-13.050547, -10.74382, -10.74382, 3.3588014, -13.73464, 5.8569984, 10.658163,
         -13.050547, -8.871355, 3.3588014, -3.4922328]  # fmt: skip
    X = np.array(x, np.float32)[:, None]
    w = np.where(np.isin(np.arange(11), [3, 6, 9]), 1.0, 1e-12)
    init = X[[0, 5, 0, 5, 5, 5, 5, 0, 1]]
    km = LossKMeans(9, init=init, n_init=1)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):  # (8 distinct points)
        km.fit(X, sample_weight=w)
    assert np.abs(km.cluster_centers_).max() <= np.abs(X).max()
    assert len(np.unique(km.labels_)) == 8
    assert np.all(np.diff(km.objective_path_) <= 0)
    _assert_centers_are_member_means(km, X, w, atol=1e-5)


def test_lloyd_does_not_stop_at_a_reseeding():
    # labels unchanged from one pass to the next while an empty cluster was re-seeded
    # in the same iteration: Lloyd stopped ("strict convergence") with the re-seeded
    # center, which the last assignment then gave samples whose mean it was not
    # (-2.25, 3.4 for members of mean -4.8, 3.7). It now goes on after a re-seeding
    X = np.array(
        [[-11.2, 9.8], [10.5, -4.5], [0.3, 3.1], [-4.8, 3.7], [7.0, 10.8], [-4.9, -2.1],
         [2.8, 14.3]]
    )  # fmt: skip
    w = np.where(np.isin(np.arange(7), [1, 4, 5]), 1.0, 1e-12)
    init = X[[5, 0, 6, 3, 2, 0, 5]]
    km = LossKMeans(7, init=init, n_init=1).fit(X, sample_weight=w)
    _assert_centers_are_member_means(km, X, w, atol=1e-9)
    np.testing.assert_array_equal(km.labels_, km.predict(X))


def test_macqueen_cluster_left_with_tiny_weights_is_their_mean():
    # as for Lloyd, MacQueen's sums (and weights) updated by the samples that move:
    # three samples from one start, and a center at 4.8e5 (the others' rounding over
    # a weight of 1e-12) with two samples in one cluster; now each is its own
    X = np.array([[-14.898931], [6.723709], [2.2246318]], np.float32)
    w = np.array([1e-12, 1.0, 1.0])
    km = LossKMeans(3, init=X[[0, 0, 0]], n_init=1, algorithm="macqueen", random_state=0)
    km.fit(X, sample_weight=w)
    np.testing.assert_array_equal(km.labels_, [0, 1, 2])
    _assert_centers_are_member_means(km, X, w, atol=1e-5)


def test_macqueen_recomputes_a_drained_clusters_weight_too():
    # MacQueen updates each cluster's weight by the samples that move, as its sums:
    # a cluster drained of its sample of weight 1 kept that weight's rounding, and
    # the center of the sample of weight 1e-12 left in it came out 1.3e-3 off it
    # (7.6134 for 7.6147). Both are recomputed from the members
    x = [4.206453956042176, 5.307862601939957, -13.790609039706478, -1.9243423232136276,
         7.614704530394484]  # fmt: skip
    X = np.array(x)[:, None]
    w = np.array([1.0, 1e-12, 1e-12, 1e-12, 1e-12])
    km = LossKMeans(4, init=X[[3, 4, 4, 4]], n_init=1, algorithm="macqueen", tol=0)
    km.set_params(random_state=422).fit(X, sample_weight=w)
    _assert_centers_are_member_means(km, X, w, atol=1e-9)


def test_hartigan_cluster_left_with_tiny_weights_is_their_mean():
    # as for Lloyd, in float64: a transfer of the sample of weight 1 out of a
    # cluster left one of weight 1e-12 whose center was 6e-4 from it (the rounding of
    # the sums and the weight, 1e-16, over 1e-12)
    X = np.array([[-6.971198494280008], [-13.431915428759961], [0.7762045517190366]])
    w = np.array([1.0, 1e-12, 1e-12])
    km = LossKMeans(2, init=X[[2, 2]], n_init=1, algorithm="hartigan").fit(X, sample_weight=w)
    np.testing.assert_array_equal(km.labels_, [1, 1, 0])
    _assert_centers_are_member_means(km, X, w, atol=1e-12)


def _hartigan_rounds(km, X, w, capsys):
    km.set_params(verbose=1).fit(X, sample_weight=w)
    out = capsys.readouterr().out.splitlines()
    return [int(line.split()[2]) for line in out if "Hartigan round" in line]


def test_hartigan_square_many_moves_in_a_round_with_tiny_weights(capsys):
    # one-at-a-time moves in a round: half the samples weigh 1e-12, so a cluster's
    # weight and sums, updated move by move, are mostly those of its heavy samples;
    # the round still ends at the exact means of its clusters, with every sample at
    # its nearest center and an objective never above Lloyd's
    rng = np.random.default_rng(8)
    X = rng.standard_t(2, size=(40, 2))
    w = np.where(np.arange(40) % 2, 1e-12, 1.0)
    kw = dict(init=X[:2], n_init=1)
    lloyd = LossKMeans(2, tol=0, **kw).fit(X, sample_weight=w)
    km = LossKMeans(2, algorithm="hartigan", **kw)
    rounds = _hartigan_rounds(km, X, w, capsys)
    assert rounds[0] >= 3, rounds
    assert km.inertia_ < lloyd.inertia_
    assert np.all(np.diff(km.objective_path_) <= 0)
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    _assert_centers_are_member_means(km, X, w, atol=1e-12)


def test_hartigan_square_float32_far_from_the_origin_moves_several_per_round(capsys):
    # float32 at 1e6 (a spacing of 0.06 against clusters of spread 1): several moves
    # per round, each checked at the float64 means the moves before it left
    rng = np.random.default_rng(91)
    X = (rng.standard_t(2, size=(40, 2)) + 1e6).astype(np.float32)
    kw = dict(init=X[:2], n_init=1)
    lloyd = LossKMeans(2, tol=0, **kw).fit(X)
    km = LossKMeans(2, algorithm="hartigan", **kw)
    rounds = _hartigan_rounds(km, X, None, capsys)
    assert max(rounds) >= 3, rounds
    assert km.inertia_ <= lloyd.inertia_
    path = np.array(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-9 * path[0])
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    # (the stored centers are float32: within a rounding of the float64 means)
    _assert_centers_are_member_means(km, X, np.ones(40), atol=0.07)
    refit = LossKMeans(2, algorithm="hartigan", **kw).fit(X)
    np.testing.assert_array_equal(refit.labels_, km.labels_)
    np.testing.assert_array_equal(refit.cluster_centers_, km.cluster_centers_)


def test_hartigan_correntropy_sparse_tiny_weights_verifies_several_per_round(capsys):
    # the robust search verifies a round's candidates one after the other on sparse
    # rows with weights 1 and 1e-12: the same clustering as dense, each center its
    # cluster's exact one, an objective below Lloyd's
    rng = np.random.default_rng(31)
    X = rng.standard_t(2, size=(40, 2))
    w = np.where(np.arange(40) % 2, 1e-12, 1.0)
    kw = dict(loss="correntropy", sigma=2.0, init=X[:2], n_init=1)
    lloyd = LossKMeans(2, **kw).fit(X, sample_weight=w)
    km = LossKMeans(2, algorithm="hartigan", **kw)
    rounds = _hartigan_rounds(km, sp.csr_matrix(X), w, capsys)
    assert rounds[0] >= 3, rounds
    assert km.inertia_ < lloyd.inertia_
    path = np.array(km.objective_path_)
    assert np.all(np.diff(path) <= 1e-9 * path[0])
    np.testing.assert_array_equal(km.predict(sp.csr_matrix(X)), km.labels_)
    dense = LossKMeans(2, algorithm="hartigan", **kw).fit(X, sample_weight=w)
    np.testing.assert_array_equal(dense.labels_, km.labels_)
    loss = get_loss("correntropy", 2.0)
    for c in range(2):
        members = km.labels_ == c
        center = km.cluster_centers_[c]
        exact = loss.center(X[members], w[members], init=center)
        at_fit = loss.objective(X[members], center, w[members])
        assert at_fit <= loss.objective(X[members], exact, w[members]) * (1 + 1e-9)


@pytest.mark.parametrize("loss", ["huber", "correntropy", "epsilon_insensitive"])
def test_auto_scales_weigh_samples_as_the_fit_does(loss):
    # the pilot behind "auto" weighs samples as the fit does: a zero weight is the
    # sample removed, an integer weight the sample repeated
    p = LOSSES[loss] + "_"
    X, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    kw = dict(loss=loss, delta="auto", sigma="auto", epsilon="auto", random_state=0)
    far = np.full((300, 2), 40.0)
    removed = LossKMeans(3, **kw).fit(
        np.r_[X, far], sample_weight=np.r_[np.ones(200), np.zeros(300)]
    )
    plain = LossKMeans(3, **kw).fit(X)
    w = np.r_[np.full(100, 5), np.ones(100)].astype(int)
    weighted = LossKMeans(3, **kw).fit(X, sample_weight=w)
    repeated = LossKMeans(3, **kw).fit(np.repeat(X, w, axis=0))
    assert getattr(removed, p) == pytest.approx(getattr(plain, p), rel=1e-12)
    assert getattr(weighted, p) == pytest.approx(getattr(repeated, p), rel=1e-12)
    # where the pilot's k-means++ lands in another local optimum from other draws:
    # the subsample was drawn (a permutation of every row), consuming the random
    # state by the number of rows, so repeated rows seeded the pilot differently
    rng = np.random.RandomState(0)
    X = rng.randn(4, 4)[rng.randint(4, size=500)] * 5 + rng.randn(500, 4)
    X[:10] += rng.randn(10, 4) * 30
    w = np.random.RandomState(0).randint(0, 3, size=500)
    kw.update(init=X[np.flatnonzero(w > 0)[:4]])
    weighted = LossKMeans(4, **kw).fit(X, sample_weight=w)
    repeated = LossKMeans(4, **kw).fit(np.repeat(X, w, axis=0))
    assert getattr(weighted, p) == pytest.approx(getattr(repeated, p), rel=1e-12)
    assert weighted.inertia_ == pytest.approx(repeated.inertia_, rel=1e-12)


def test_auto_delta_ignores_coordinates_constant_within_clusters():
    # constant or one-hot columns (a ColumnTransformer's output) have zero residual
    # spread: pooled with the informative ones they dragged the MAD towards 0
    rng = np.random.RandomState(0)
    base = rng.randn(300, 2)
    base[:100] += 6
    base[100:200] -= 6
    one_hot = (rng.rand(300, 2) < 0.1).astype(float)
    kw = dict(loss="huber", delta="auto", random_state=0)
    expected = LossKMeans(3, **kw).fit(base).delta_
    assert 1.0 < expected < 1.6  # Huber's 1.345 for unit Gaussian noise
    for extra in (np.zeros((300, 1)), np.zeros((300, 2)), np.zeros((300, 10)), one_hot):
        assert LossKMeans(3, **kw).fit(np.c_[base, extra]).delta_ == pytest.approx(expected)


def test_auto_scale_with_a_random_state_on_another_bit_generator():
    # the pilot's seed comes from a copy of the generator: no legacy get_state (which
    # warns for a RandomState on PCG64), and the generator itself is only read
    X, _ = make_blobs(n_samples=200, centers=3, random_state=0)
    rs = np.random.RandomState(np.random.PCG64(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        km = LossKMeans(3, loss="huber", delta="auto", n_init=1, random_state=rs).fit(X)
    assert km.delta_ > 0


def test_auto_pilot_densifies_a_bounded_subsample_of_wide_sparse_data(monkeypatch):
    # a TF-IDF-like matrix of 100,000 terms: 2000 dense rows would be 1.6 GB; the
    # pilot takes at most 2**24 values (and at least 10 samples per cluster)
    from robustkmeans import _kernels
    from robustkmeans._loss_kmeans import _pilot_rows

    assert _pilot_rows(5000, 512, 8) == 2000
    assert _pilot_rows(5000, 100_000, 3) == (1 << 24) // 100_000
    assert _pilot_rows(5000, 10_000_000, 3) == 30
    assert _pilot_rows(12, 100_000, 3) == 12
    X = sp.random(600, 100_000, density=1e-4, format="csr", random_state=0, dtype=np.float64)
    X.data += 1.0
    shapes = []
    dense_rows = _kernels.dense_rows

    def recorded(X, idx):
        rows = dense_rows(X, idx)
        shapes.append(rows.shape)
        return rows

    monkeypatch.setattr(_kernels, "dense_rows", recorded)
    km = LossKMeans(3, loss="correntropy", sigma="auto", n_init=1, max_iter=5, random_state=0)
    km.fit(X)
    assert km.sigma_ > 0
    rows, cols = shapes[0]  # the pilot's subsample, densified before anything else
    assert cols == 100_000 and rows == (1 << 24) // 100_000


def _spans(n_rows, n_features, span):
    # n_rows alternating rows of 0 and span: each feature spans `span`
    return np.tile([[0.0] * n_features, [span] * n_features], (n_rows // 2, 1))


@pytest.mark.parametrize(
    "loss, scale, X, init",
    [
        # a sum of absolute differences beyond float32's range, from features that
        # are each far within it
        ("absolute", None, _spans(2, 100, 1e36), None),
        # one sample's cost within range, the objective (20 of them) beyond it
        ("absolute", None, _spans(20, 4, 2e37), None),
        ("huber", 1e3, _spans(20, 4, 1e36), None),
        # pseudo_huber's costs (delta |r| per feature), though its squares fit
        ("pseudo_huber", 2e18, _spans(2, 64, 8e18), None),
        # a start far from data near zero: (r / delta)^2 overflows float32
        ("pseudo_huber", 1e-3, _spans(20, 1, 1.0), [[0.0], [2e16]]),
        # the same start from a callable init (checked after it is called)
        (
            "pseudo_huber",
            1e-3,
            _spans(20, 1, 1.0),
            lambda X, k, random_state: np.array([[0.0], [2e16]], X.dtype),
        ),
    ],
)
def test_separable_losses_refuse_data_whose_costs_overflow(loss, scale, X, init):
    kw = {} if scale is None else {"delta": scale}
    if init is None:
        init = "k-means++"
    elif not callable(init):
        init = np.array(init, np.float32)
    model = LossKMeans(2, loss=loss, n_init=1, random_state=0, init=init, **kw)
    with pytest.raises(ValueError, match=r"X is too large for loss=.*Rescale X"):
        model.fit(np.asarray(X, dtype=np.float32))
    # float64 holds them: the same fit goes through, with finite costs
    if not callable(init):
        model.set_params(init=init if isinstance(init, str) else init.astype(np.float64))
    model.fit(np.asarray(X, dtype=np.float64))
    assert np.isfinite(model.inertia_)


@pytest.mark.parametrize("init", ["k-means++", "array"])
def test_pseudo_huber_refuses_float64_data_whose_squares_overflow_python_floats(init):
    # features spanning beyond sqrt(float64 max) ~ 1.3e154: the check squared the
    # span as a Python float, which raises a bare "OverflowError: (34, 'Numerical
    # result out of range')" where numpy would give inf, instead of the error below
    X = _spans(20, 3, 1e160)
    init = X[:2].copy() if init == "array" else init
    model = LossKMeans(2, loss="pseudo_huber", n_init=1, random_state=0, init=init)
    with pytest.raises(ValueError, match=r"X is too large for loss='pseudo_huber' in float64"):
        model.fit(X)


def test_separable_losses_accept_large_data_within_range():
    # float32 features of scale 1e15 (far beyond any image feature): accepted, with
    # finite costs, labels equal to predict's
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(200, 64)) * 1e15).astype(np.float32)
    for loss in ("absolute", "huber", "pseudo_huber"):
        model = LossKMeans(3, loss=loss, n_init=1, random_state=0).fit(X)
        assert np.isfinite(model.inertia_)
        np.testing.assert_array_equal(model.labels_, model.predict(X))


# new data whose costs overflow float32 (fit refuses such data; predict, transform
# and score gave labels of the first center and inf or NaN costs, with warnings):
# 1e20 squares beyond float32 (pseudo_huber's squared residuals too), 3e38 is within
# rounding of float32's largest number (absolute's and huber's costs overflow)
_OVERFLOWING = {loss: 1e20 for loss in LOSS_NAMES} | {"absolute": 3e38, "huber": 3e38}


@pytest.mark.parametrize(
    "loss, sparse",
    [(loss, False) for loss in LOSS_NAMES]
    + [(loss, True) for loss in LOSS_NAMES if get_loss(loss, 1.0).euclidean],
)
def test_inference_refuses_new_data_whose_costs_overflow(loss, sparse):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    X[:30] += 5
    convert = sp.csr_matrix if sparse else np.asarray
    model = LossKMeans(2, loss=loss, n_init=1, random_state=0).fit(convert(X))
    far = np.array([[_OVERFLOWING[loss]] * 4, [5.0] * 4], dtype=np.float32)
    for method in (model.predict, model.transform, model.score):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the error, and no RuntimeWarning first
            with pytest.raises(ValueError, match=r"X is too large .*Rescale X.*float64"):
                method(convert(far))
    # in float64, as the message says, the same samples are fine
    assert np.isfinite(model.transform(far.astype(np.float64))).all()
    # and data large but within range is accepted, with finite costs
    near = far / np.float32(1e4 if loss in ("absolute", "huber") else 1e3)
    assert np.isfinite(model.transform(convert(near))).all()
    assert np.isfinite(model.score(convert(near)))


@pytest.mark.parametrize("loss", LOSS_NAMES)
@pytest.mark.parametrize("scale", [1e-25, 1e25])
def test_float32_data_for_a_float64_model_out_of_float32s_range_is_refused(loss, scale):
    # the model is fitted in float64 on data whose squares float32 cannot hold; new
    # data in float32 was ranked in float32: at 1e-25 the squared distances
    # underflowed to 0, 70% of the training samples got another label than labels_,
    # every cost was 0 (NaN for correntropy) and nothing was raised; pseudo_huber
    # said "too large" (a user's review). Refused as fit refuses such float32 data
    X, _ = make_blobs(300, centers=3, n_features=2, random_state=0)
    X *= scale
    model = LossKMeans(
        3, loss=loss, delta="auto", sigma="auto", epsilon="auto", random_state=0
    ).fit(X)
    narrow = X.astype(np.float32)
    if loss == "absolute":  # (no squares: float32 holds its costs)
        assert (model.predict(narrow) == model.labels_).all()
        return
    for method in (model.predict, model.transform, model.score):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the error, and no RuntimeWarning first
            with pytest.raises(ValueError, match=r"X is float32, but this model was fitted in "
                               r"float64 .*Convert X to float64"):  # fmt: skip
                method(narrow)
    # in float64, as the message says
    assert (model.predict(X) == model.labels_).all()
    # at a scale float32 holds, float32 data is taken as it is
    model = LossKMeans(
        3, loss=loss, delta="auto", sigma="auto", epsilon="auto", random_state=0
    ).fit(X / scale)
    assert (model.predict(narrow / np.float32(scale)) == model.labels_).all()
    # and so is float32 data at 1e-5 for one cluster, whose center is the mean
    # but for rounding (the centers' spread was taken for the data's, and refused
    # it: the review of these changes)
    small = np.random.default_rng(0).normal(size=(1000, 4)) * 1e-5
    one = LossKMeans(1, loss=loss, delta="auto", sigma="auto", epsilon="auto", random_state=0)
    assert (one.fit(small).predict(small.astype(np.float32)) == 0).all()


@pytest.mark.parametrize("loss", ["correntropy", "pseudo_huber"])
def test_inference_refuses_overflow_in_worker_threads_without_warnings(loss):
    # several chunks, assigned in worker threads: the far sample in the last one
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4)).astype(np.float32)
    model = LossKMeans(2, loss=loss, n_init=1, random_state=0).fit(X)
    X[2500] = 1e20
    for method in (model.predict, model.transform, model.score):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ValueError, match=r"X is too large"):
                method(X)


def test_dense_inference_after_a_sparse_fit_at_the_edge_of_the_range():
    # a sparse fit checks the rows' norms from the origin; dense inference expands
    # around the centers' mean instead, where these rows lie 1.2e19 away. A check of
    # those norms (4 ||x - shift||^2 against float32's largest) refused the training
    # data itself; the distances to each sample's nearest center are finite
    a = np.float32(8.9e18)
    X = np.array([[a, 0], [a, 0], [-a, 0], [-a, 0], [-a, a / 64], [-a, a / 64]], np.float32)
    model = LossKMeans(3, loss="correntropy", init=X[[0, 2, 4]], n_init=1)
    model.fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(model.predict(X), [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(model.predict(sp.csr_matrix(X)), model.labels_)


def test_score_refuses_an_objective_that_overflows_naming_the_weights():
    # each cost is finite, their weighted sum is not: the message names sample_weight
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    model = LossKMeans(2, n_init=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"objective .* overflows float32.*sample_weight"):
        model.score(X, sample_weight=np.full(50, 1e37))
    with pytest.raises(ValueError, match=r"objective .* overflows float32"):
        model.score(np.tile(np.array([4e18, -4e18], np.float32), (1000, 1)))


def test_separable_tie_break_distances_do_not_overflow():
    # absolute, float32 data spanning 8e19 (accepted: no square is needed for the
    # costs): the sample at 2e19 costs the same to the centers at 0 and 4e19, and the
    # tie goes to the lower index among those two, whatever the squares of
    # distances that float32 cannot hold
    X = np.array([[-4e19], [0.0], [4e19], [2e19]], dtype=np.float32)
    model = LossKMeans(3, loss="absolute", init=X[:3], n_init=1, max_iter=1).fit(X)
    assert model.labels_[3] == 1
    assert model.predict(X[3:])[0] == 1


@pytest.mark.parametrize("loss", ["square", "huber"])
def test_verbose_hartigan_rounds_count_their_transfers(loss, capsys):
    X, _ = _data(seed=4)
    LossKMeans(3, loss=loss, algorithm="hartigan", n_init=1, random_state=0, verbose=1).fit(X)
    rounds = [line for line in capsys.readouterr().out.splitlines() if "Hartigan round" in line]
    pattern = r"Hartigan round: (1 (verified )?transfer|([02-9]|\d\d+) (verified )?transfers)\."
    assert all(re.fullmatch(pattern, line) for line in rounds), rounds
    from robustkmeans._loss_kmeans import _count

    assert (_count(1, "transfer"), _count(0, "transfer")) == ("1 transfer", "0 transfers")


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
@pytest.mark.parametrize(
    "dtype, scale, accepted",
    [(np.float64, 1e-160, 1e-150), (np.float64, 1e-200, 1e-150), (np.float32, 1e-21, 1e-17)],
)
def test_data_too_small_for_its_squares_is_refused(loss, dtype, scale, accepted):
    # the squared distances underflow (subnormal, or 0): the clusters were lost to
    # rounding (one cluster, with a ConvergenceWarning blaming duplicate points)
    X, _ = make_blobs(300, random_state=0)
    tiny = (X * scale).astype(dtype)
    with pytest.raises(ValueError, match=r"X is too small for loss=.*Rescale X"):
        LossKMeans(3, loss=loss, random_state=0).fit(tiny)
    # the same data, rescaled as the message says, clusters as at scale 1
    km = LossKMeans(3, loss=loss, random_state=0).fit((tiny / scale).astype(dtype))
    assert len(np.unique(km.labels_)) == 3
    # near the limit, and with absolute (no squares), the data is accepted
    km = LossKMeans(3, loss=loss, random_state=0).fit((X * accepted).astype(dtype))
    assert len(np.unique(km.labels_)) == 3
    LossKMeans(3, loss="absolute", random_state=0).fit(tiny)
    # constant data is no such case: the usual warning
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        LossKMeans(2, loss=loss).fit(np.full((5, 2), scale, dtype))


@pytest.mark.parametrize("loss", ["square", "correntropy", "epsilon_insensitive"])
@pytest.mark.parametrize(
    "dtype, scale, row, accepted",
    [(np.float64, 1e-160, 1e-153, 1e-150), (np.float32, 1e-23, 1e-18, 1e-18)],
)
def test_data_mostly_too_small_for_its_squares_is_refused_despite_one_large_row(
    loss, dtype, scale, row, accepted
):
    # one row of a larger norm got data whose other rows' squares underflow past
    # the refusal: the two blobs were merged, or their objective was 0 (an
    # algorithms review)
    X, _ = make_blobs(100, centers=[[4, 0], [-4, 0]], random_state=0)
    far = np.array([[row, row], [-row, -row]])  # (the mean stays the blobs')
    with pytest.raises(ValueError, match=r"X is too small .*most of its rows lie within"):
        LossKMeans(3, loss=loss, random_state=0).fit(np.vstack([X * scale, far]).astype(dtype))
    # the blobs at a larger scale are fitted, the row with them
    km = LossKMeans(3, loss=loss, random_state=0).fit(np.vstack([X * accepted, far]).astype(dtype))
    assert len(np.unique(km.labels_)) == 3
    # and a few rows at the mean (which centering leaves within rounding of 0) do
    # not make data at a usual scale "too small"
    X[:3] = X.mean(axis=0)
    LossKMeans(2, loss=loss, random_state=0).fit(X.astype(dtype))
    # nor do many copies of one point, the mean, at a small scale (centering
    # leaves them a few units of rounding off 0, all alike: their distances are 0;
    # the review of these changes)
    rng = np.random.default_rng(1)
    c, B = np.array([0.3, 0.7]), rng.normal(0, 0.05, (20, 2)) + [1, 0]
    small = 1e-13 if dtype == np.float32 else 1e-150
    copies = np.vstack([np.tile(c, (60, 1)), c + B, c - B]) * small
    km = LossKMeans(3, loss=loss, random_state=0).fit(copies.astype(dtype))
    assert sorted(np.bincount(km.labels_)) == [20, 20, 60]


def test_blas_limit_holds_and_is_restored_across_threads():
    # threadpoolctl >= 3.8 lets one thread at a time change a pthreads OpenBLAS's
    # thread count (the first to change it, until it gives that up) and ignores the
    # others. The fits' shared limit is set by the first fit to enter and restored by
    # the last to leave, in whatever threads they run: a fit in a thread after one in
    # the main thread must still run single-threaded, and the limit set in one thread
    # must be restored from another (it stayed at 1 for good)
    import threading

    import threadpoolctl  # (a core dependency)

    from robustkmeans._kernels import single_threaded_blas

    controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not controller.lib_controllers:
        pytest.skip("no BLAS library found by threadpoolctl")

    def blas_threads():
        return [lib.num_threads for lib in controller.lib_controllers]

    release = getattr(
        getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None
    )
    with controller.limit(limits=2):  # a known start: 2 threads, no thread in control
        if release is not None:
            release(force=True)
        start = blas_threads()
        assert start == [2] * len(start)

        seen = {}
        entered, leave, left, finish = (threading.Event() for _ in range(4))

        def in_thread(name):
            with single_threaded_blas():
                seen[name] = blas_threads()
                entered.set()
                leave.wait(30)
            left.set()
            finish.wait(30)  # alive while the main thread restores the limit

        with single_threaded_blas():  # a fit in the main thread first
            pass
        assert blas_threads() == start
        worker = threading.Thread(target=in_thread, args=("after main",))
        worker.start()
        entered.wait(30)
        leave.set()
        left.wait(30)
        finish.set()
        worker.join()
        assert seen["after main"] == [1] * len(start)
        assert blas_threads() == start

        # set in a worker thread, restored by the main thread while the worker lives
        for event in (entered, leave, left, finish):
            event.clear()
        worker = threading.Thread(target=in_thread, args=("first in",))
        worker.start()
        try:
            entered.wait(30)
            with single_threaded_blas():
                assert blas_threads() == [1] * len(start)
                leave.set()
                left.wait(30)
            assert blas_threads() == start
        finally:
            leave.set()
            finish.set()
            worker.join()
        # and a later limit from another thread takes effect
        for event in (entered, leave, left, finish):
            event.clear()
        worker = threading.Thread(target=in_thread, args=("later",))
        worker.start()
        entered.wait(30)
        leave.set()
        finish.set()
        worker.join()
        assert seen["later"] == [1] * len(start)
        assert blas_threads() == start


@pytest.mark.parametrize("loss,seed", [("huber", 0), ("square", 1)])
def test_score_is_minus_inertia_whatever_the_blas_threads(loss, seed):
    # score summed the costs with a BLAS dot outside the fits' single-threaded BLAS:
    # above 10,000 samples OpenBLAS splits such a sum between its threads, so score
    # depended on their number and missed -inertia_ by a last bit (huber, 40,000
    # samples); so did inertia_ itself where it is summed after the runs (square,
    # copy_x=False)
    import threadpoolctl  # (a core dependency)

    controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
    if not controller.lib_controllers:
        pytest.skip("no BLAS library found by threadpoolctl")
    # (seeds where the sums in two halves round otherwise than in one)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40000, 8)) + rng.integers(0, 4, size=(40000, 1)) * 3
    km = LossKMeans(4, loss=loss, random_state=0, max_iter=20, n_init=2, copy_x=False)
    scores, inertias = [], []
    for n_threads in (2, 1):
        with controller.limit(limits=n_threads):
            km.fit(X)
            inertias.append(km.inertia_)
            scores.append(km.score(X))
    assert inertias[0] == inertias[1]
    assert scores == [-inertias[0], -inertias[0]]


@pytest.mark.parametrize("loss", ["absolute", "huber", "pseudo_huber"])
def test_small_separable_fits_solve_centers_inline(monkeypatch, loss):
    # the exact centers of small data are solved in the calling thread (two threads
    # were slower there), those of larger data one cluster per worker thread
    import threading

    import robustkmeans._kernels as kernels
    import robustkmeans._loss_kmeans as loss_kmeans

    cls = type(get_loss(loss, 1.0))
    name = "solve_columns" if loss == "absolute" else "solve_rows"
    original = getattr(cls, name)
    threads = []

    def spy(self, *args):
        threads.append(threading.current_thread().name)
        return original(self, *args)

    monkeypatch.setattr(cls, name, spy)
    monkeypatch.setattr(loss_kmeans, "_n_threads", lambda: 2)
    rng = np.random.RandomState(0)
    for n_samples, inline in ((150, True), (kernels._SOLVE_INLINE_MAX // 64 + 200, False)):
        X = rng.standard_t(3, size=(n_samples, 64))
        threads.clear()
        LossKMeans(3, loss=loss, n_init=1, max_iter=2, random_state=0).fit(X)
        assert threads
        if inline:
            assert set(threads) == {threading.current_thread().name}
        else:
            assert all(t.startswith("robustkmeans") for t in threads)


@pytest.mark.parametrize("dtype, epsilon", [(np.float32, 1e300), (np.float32, 1e39)])
def test_epsilon_beyond_the_dtype_is_refused(dtype, epsilon):
    # it was cast to inf with numpy's overflow warnings, every cost 0
    X = np.random.RandomState(0).randn(60, 3).astype(dtype)
    before = X.copy()
    km = LossKMeans(3, loss="epsilon_insensitive", epsilon=epsilon, copy_x=False)
    with pytest.raises(ValueError, match=r"epsilon=.* is out of range for float32 data: it must "
                       r"be at most 3.4e\+38.*epsilon='auto'"):  # fmt: skip
        km.fit(X)
    np.testing.assert_array_equal(X, before)  # (refused before X is centered)
    # float64 data holds it, and an epsilon above the diameter gives costs of 0
    fitted = LossKMeans(3, loss="epsilon_insensitive", epsilon=1e300, random_state=0)
    assert fitted.fit(X.astype(np.float64)).inertia_ == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exact_distances_of_few_rows_are_those_of_the_loop(dtype, monkeypatch):
    # a few rows (near ties, unresolved rows of a chunk) take every difference in
    # one array: the same sums, bit for bit, as the loop over the centers, which
    # labels_ == predict(X) and thread-independent results rest on
    from robustkmeans import _kernels

    rng = np.random.default_rng(0)
    cases = []
    for n_features in (5, 33, 512):
        for n_rows, n_centers in ((1, 1), (3, 8), (7, 20)):
            X = (rng.normal(size=(10, n_features)) * 100 + 1e3).astype(dtype)
            centers = (X[rng.integers(10, size=n_centers)] + rng.normal(size=n_features)).astype(
                dtype
            )
            rows = rng.choice(10, n_rows, replace=False)
            cases.append((X, rows, centers, _kernels.exact_sq_distances(X, rows, centers)))
    monkeypatch.setattr(_kernels, "_EXACT_FEW", 0)  # (the loop over the centers)
    for X, rows, centers, few in cases:
        loop = _kernels.exact_sq_distances(X, rows, centers)
        assert few.dtype == loop.dtype and few.shape == loop.shape
        np.testing.assert_array_equal(few.view(np.uint8), loop.view(np.uint8))


def test_clip_negative_is_maximum_with_zero():
    from robustkmeans import _kernels

    for dtype in (np.float32, np.float64):
        a = np.array([[-1.0, 0.0, 2.5], [np.nan, -np.inf, np.inf], [-1e-30, 1e-30, 3.0]], dtype)
        expected = np.maximum(a, 0)
        _kernels._clip_negative(a)
        np.testing.assert_array_equal(a.view(np.uint8), expected.view(np.uint8))


@pytest.mark.parametrize("n_centers", [2, 3, 8])
def test_near_tie_screen_takes_the_rows_with_two_near_distances(n_centers):
    # resolve_near_ties re-ranks the rows with more than one expanded distance
    # within rounding of their least (then per pair of centers): on a grid with
    # centers on it, many samples are exactly halfway. Checked against the rule
    # written out, per row (with a NaN row, which has no near entry); k <= 3 also
    # takes the transposed product (one matrix-vector product per center)
    from robustkmeans import _kernels

    rng = np.random.default_rng(0)
    X = rng.integers(-3, 4, size=(600, 40)).astype(np.float32)
    X[:, 0] = rng.integers(-1, 2, size=600)
    centers = X[rng.choice(600, n_centers, replace=False)]
    centers[:2] = 0
    centers[:2, 0] = [1, -1]  # (the samples at 0 in the first feature: halfway)
    X, centers = X + 500, centers + 500
    X -= 500.25  # (an origin of the expansion off the data, as fit's mean is)
    centers -= 500.25
    xsq = _kernels.row_sq_norms(X)
    csq = _kernels.row_sq_norms(centers)
    d2 = _kernels._sq_dist_chunk(X, xsq, centers, csq)
    d2[5] = np.nan
    labels = np.argmin(d2, axis=1).astype(np.int32)
    # the rule, row by row
    tol = _kernels._TIE_EPS * float(np.finfo(np.float32).eps)
    expected_d2, expected_labels = d2.copy(), labels.copy()
    exact = _kernels.exact_sq_distances(X, None, centers)
    tied = 0
    for i in range(len(X)):
        best = d2[i, labels[i]]
        if np.count_nonzero(d2[i] <= best + tol * (xsq[i] + csq.max())) <= 1:
            continue
        scale = xsq[i] + np.maximum(csq[labels[i]], csq)
        if np.count_nonzero(d2[i] <= best + tol * scale) > 1:
            expected_d2[i] = exact[i]
            expected_labels[i] = np.argmin(exact[i])
            tied += 1
    assert tied > 0
    _kernels.resolve_near_ties(X, xsq, centers, csq, d2, labels)
    np.testing.assert_array_equal(labels, expected_labels)
    np.testing.assert_array_equal(d2, expected_d2)
