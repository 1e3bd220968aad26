"""Properties of LossKMeans checked on generated data (hypothesis, deterministic)."""

import numpy as np
import pytest
from _formulas import formula_cost
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robustkmeans import LossKMeans, _kernels
from robustkmeans._losses import LOSS_NAMES

_SCALES = {"delta": 0.8, "sigma": 2.0, "epsilon": 0.5}


def _cost(loss, X, centers):
    """``(n_samples, n_clusters)`` cost of each sample to each center, from the
    formulas of the documentation, written independently of the package."""
    return formula_cost(loss, X[:, None, :] - centers[None, :, :], **_SCALES)


def _recorded_passes(monkeypatch):
    """Record ``(X, centers)`` of every assignment pass of a fit: the passes that
    ``_loss_kmeans`` calls through the module ``_kernels`` (``euclidean_pass``,
    ``separable_assign``; ``assign`` calls one of them). A pass called without
    keywords redoes the one before it at once (the checked Weiszfeld step of
    ``epsilon_insensitive`` fell back for some clusters): it replaces it, since
    the rejected centers were never the result of an update."""
    passes = []
    euclidean_pass = _kernels.euclidean_pass
    separable_assign = _kernels.separable_assign

    def euclidean(X, sample_weight, x_sq, centers, loss, n_threads, **kwargs):
        # (X and the centers in the same coordinates, maybe both shifted: the costs
        # depend on x - m only)
        record = (X, np.array(centers, dtype=np.float64))
        if not kwargs and passes:
            passes[-1] = record
        else:
            passes.append(record)
        return euclidean_pass(X, sample_weight, x_sq, centers, loss, n_threads, **kwargs)

    def separable(X, centers, loss, n_threads, **kwargs):
        passes.append((X, np.array(centers, dtype=np.float64)))
        return separable_assign(X, centers, loss, n_threads, **kwargs)

    monkeypatch.setattr(_kernels, "euclidean_pass", euclidean)
    monkeypatch.setattr(_kernels, "separable_assign", separable)
    return passes


def _data(seed, n, d, k, heavy):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4.0, size=(k, d))
    noise = rng.standard_t(df=1.5, size=(n, d)) if heavy else rng.normal(size=(n, d))
    X = centers[rng.integers(k, size=n)] + noise
    w = rng.uniform(0.1, 5.0, size=n)
    return X, w


@pytest.mark.parametrize("loss", LOSS_NAMES)
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(60, 160),
    d=st.integers(1, 5),
    k=st.integers(2, 5),
    heavy=st.booleans(),
)
def test_objective_of_the_centers_each_pass_receives_never_increases(loss, seed, n, d, k, heavy):
    # the objective sum_i w_i min_c cost(x_i, c) of the centers that each assignment
    # pass actually receives (not the fit's own report of it) never rises from one
    # pass to the next, and the iterations make real progress from a poor start: the
    # k samples nearest the coordinatewise median, bunched in the middle of the data
    # (a start among outliers can be a fixed point: correntropy's, far from the rest)
    X, w = _data(seed, n, d, k, heavy)
    init = X[np.argsort(np.abs(X - np.median(X, axis=0)).sum(1), kind="stable")[:k]]
    km = LossKMeans(k, loss=loss, init=init, n_init=1, tol=0, max_iter=50, **_SCALES)
    with pytest.MonkeyPatch.context() as mp:
        passes = _recorded_passes(mp)
        km.fit(X, sample_weight=w)
    assert len(passes) >= 2
    objective = []
    for Xp, C in passes:
        objective.append(float(w @ _cost(loss, np.asarray(Xp, np.float64), C).min(axis=1)))
    objective = np.array(objective)
    assert np.all(np.diff(objective) <= 1e-10 * objective[0]), objective
    assert objective[-1] < objective[0] * (1 - 1e-3), objective
    # the fit reports the objective of the centers it returns ...
    final = float(w @ _cost(loss, X, km.cluster_centers_.astype(np.float64)).min(axis=1))
    assert km.inertia_ == pytest.approx(final, rel=1e-9)
    assert objective[-1] == pytest.approx(final, rel=1e-9)
    # ... and objective_path_ the objective of each pass, then the final one (which
    # is the last pass's where the fit ended with an assignment)
    expected = list(objective) + [final] * (len(km.objective_path_) == len(objective) + 1)
    np.testing.assert_allclose(km.objective_path_, expected, rtol=1e-9)
