import warnings

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClusterMixin, TransformerMixin
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from robustkmeans import LossKMeans, SelectKResult, WholeSetSplit, select_k
from robustkmeans.metrics import silhouette_scorer
from robustkmeans.model_selection import elbow_index


@pytest.fixture(scope="module")
def blobs4():
    X, y = make_blobs(
        n_samples=160,
        centers=4,
        n_features=3,
        cluster_std=0.5,
        center_box=(-10, 10),
        random_state=3,
    )
    return X, y


@pytest.mark.parametrize("loss", ["square", "absolute", "huber", "pseudo_huber"])
def test_select_k_finds_true_k_on_separated_blobs(blobs4, loss):
    X, _ = blobs4
    result = select_k(LossKMeans(loss=loss, n_init=3), X, range(1, 9), random_state=0)
    assert isinstance(result, SelectKResult)
    assert result.best_k == {
        "elbow": 4,
        "silhouette": 4,
        "calinski_harabasz": 4,
        "davies_bouldin": 4,
    }
    assert result.elbow_k == 4
    np.testing.assert_array_equal(result.k_values, np.arange(1, 9))
    # k = 1 has no silhouette; the objective falls steeply up to the true k.
    assert np.isnan(result.silhouette[0]) and np.all(np.isfinite(result.silhouette[1:]))
    assert np.all(np.diff(result.objective[:4]) < 0)
    assert result.objective[3] < 0.2 * result.objective[0]


def test_select_k_curves_match_the_fitted_estimators(blobs4):
    X, _ = blobs4
    result = select_k(LossKMeans(loss="absolute", n_init=2), X, [2, 3, 4, 5], random_state=1)
    assert result.metric == "manhattan"
    for k, estimator, objective, silhouette in zip(
        result.k_values, result.estimators, result.objective, result.silhouette, strict=True
    ):
        assert estimator.n_clusters == k
        assert estimator.random_state is not None  # seeded from random_state
        assert objective == pytest.approx(estimator.inertia_)
        assert silhouette == pytest.approx(
            silhouette_score(X, estimator.labels_, metric="manhattan")
        )


def test_select_k_is_reproducible_and_parallel_gives_same_result(blobs4):
    X, _ = blobs4
    estimator = LossKMeans(loss="huber", n_init=1)
    serial = select_k(estimator, X, range(2, 7), random_state=5, sample_size=60)
    parallel = select_k(estimator, X, range(2, 7), random_state=5, sample_size=60, n_jobs=2)
    for name in ("objective", "silhouette", "calinski_harabasz", "davies_bouldin"):
        np.testing.assert_allclose(getattr(serial, name), getattr(parallel, name))
    assert serial.best_k == parallel.best_k


class _CountingScaler(TransformerMixin, BaseEstimator):
    n_fits = 0

    def fit(self, X, y=None):
        type(self).n_fits += 1
        self.mean_ = np.asarray(X).mean(axis=0)
        return self

    def transform(self, X):
        return np.asarray(X) - self.mean_


def test_select_k_fits_pipeline_preprocessing_once(blobs4):
    X, _ = blobs4
    _CountingScaler.n_fits = 0
    pipe = Pipeline([("center", _CountingScaler()), ("cluster", LossKMeans(n_init=2))])
    result = select_k(pipe, X, range(2, 7), random_state=0, progress=True)
    assert _CountingScaler.n_fits == 1
    assert result.best_k["silhouette"] == 4
    best = result.estimators[2]
    assert isinstance(best, Pipeline) and best[-1].n_clusters == 4
    np.testing.assert_array_equal(best.predict(X), best[-1].labels_)
    assert pipe[-1].get_params()["n_clusters"] == 8  # the input is not modified


def test_select_k_without_estimators_and_to_dict(blobs4):
    X, _ = blobs4
    result = select_k(LossKMeans(n_init=1), X, [1, 2], return_estimators=False)
    assert result.estimators is None
    assert result.best_k["elbow"] is None  # two points have no elbow
    as_dict = result.to_dict()
    assert as_dict["k"] == [1, 2] and as_dict["silhouette"][0] is None


@pytest.mark.parametrize(
    "k_range, match",
    [
        ([], "empty"),
        ([0, 2], r"\[1, n_samples.*at least 1"),
        ([2, 500], r"\[1, n_samples=160\].*lower the largest k"),
        (["2", "3"], r"whole numbers of clusters, got \['2', '3'\]"),
        ([2, None], r"whole numbers of clusters, got \[None\]"),
        ([2.5], "whole numbers"),
    ],
)
def test_select_k_rejects_bad_k_range(blobs4, k_range, match):
    X, _ = blobs4
    with pytest.raises(ValueError, match=match):
        select_k(LossKMeans(), X, k_range)


@pytest.mark.parametrize("k_range", [None, "2:10", 5])
def test_select_k_rejects_a_k_range_that_is_no_iterable_of_numbers(blobs4, k_range):
    X, _ = blobs4
    with pytest.raises(TypeError, match=r"iterable of integers such as range\(2, 11\)"):
        select_k(LossKMeans(), X, k_range)


def test_elbow_index_rule():
    assert elbow_index([1, 2, 3, 4, 5, 6], [100, 40, 10, 8, 7, 6.5]) == 2
    assert elbow_index([1, 2, 3, 4, 5, 6], [100, 60, 45, 8, 7, 6.5]) == 3
    assert elbow_index([1, 2, 3, 4], [4.0, 3.0, 2.0, 1.0]) is None  # straight line
    assert elbow_index([1, 2, 3], [3.0, 2.9, 0.0]) is None  # concave
    assert elbow_index([1, 2], [3.0, 1.0]) is None
    # Unequally spaced k: distances are measured on the rescaled axes.
    assert elbow_index([2, 3, 4, 8, 16], [50, 20, 10, 8, 6]) == 2


def test_whole_set_split_in_grid_search(blobs4):
    X, _ = blobs4
    splitter = WholeSetSplit()
    splits = list(splitter.split(X))
    assert splitter.get_n_splits(X) == 1 and len(splits) == 1
    np.testing.assert_array_equal(splits[0][0], np.arange(len(X)))
    np.testing.assert_array_equal(splits[0][1], np.arange(len(X)))
    assert len(list(splitter.split(["a.jpg", "b.jpg"]))[0][0]) == 2

    search = GridSearchCV(
        LossKMeans(n_init=2, random_state=0),
        {"n_clusters": [2, 3, 4, 5, 6], "loss": ["square", "huber"]},
        scoring=silhouette_scorer,
        cv=splitter,
    ).fit(X)
    assert search.best_params_["n_clusters"] == 4
    # Fitted on all samples: the refit model is the candidate that was scored.
    assert search.best_score_ == pytest.approx(silhouette_scorer(search.best_estimator_, X))


def test_select_k_rejects_fractional_k():
    from robustkmeans import LossKMeans, select_k

    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="whole numbers"):
        select_k(LossKMeans(), X, [2.9, 3.7])


def test_select_k_silhouette_subsample_with_a_single_cluster_is_nan():
    # 995 inliers and 5 far outliers: at k=2 the outliers are a cluster of their own,
    # which a 50-sample silhouette subsample usually misses. silhouette_score then
    # raises "Number of labels is 1"; select_k gives NaN for that k instead, as it
    # does for k=1, and the other criteria are unaffected.
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(995, 2)), rng.normal(size=(5, 2)) + 50]
    estimator = LossKMeans(loss="square", n_init=1)
    seen_nan = False
    for seed in range(3):
        result = select_k(estimator, X, [1, 2, 3, 4], sample_size=50, random_state=seed)
        assert np.isnan(result.silhouette[0])  # k=1: undefined on all samples
        assert np.all(np.isfinite(result.calinski_harabasz[1:]))
        assert np.all(np.isfinite(result.davies_bouldin[1:]))
        seen_nan |= bool(np.isnan(result.silhouette[1]))
        finite = np.isfinite(result.silhouette)
        if finite.any():
            best = result.k_values[finite][np.argmax(result.silhouette[finite])]
            assert result.best_k["silhouette"] == best
        else:
            assert result.best_k["silhouette"] is None
    assert seen_nan


def test_select_k_on_sparse_features():
    import scipy.sparse as sp
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    rng = np.random.default_rng(0)
    dense = rng.random((90, 15)) * (rng.random((90, 15)) < 0.3)
    dense[:30, :4] += 2.0
    result = select_k(LossKMeans(random_state=0), sp.csr_matrix(dense), [2, 3, 4])
    for k, estimator, ch, db in zip(
        result.k_values,
        result.estimators,
        result.calinski_harabasz,
        result.davies_bouldin,
        strict=True,
    ):
        assert estimator.n_clusters == k
        assert ch == pytest.approx(calinski_harabasz_score(dense, estimator.labels_))
        assert db == pytest.approx(davies_bouldin_score(dense, estimator.labels_))
    assert np.all(np.isfinite(result.silhouette))


def test_select_k_keeps_dataframe_feature_names():
    pd = pytest.importorskip("pandas")
    X, _ = make_blobs(60, n_features=3, centers=3, random_state=0)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    result = select_k(LossKMeans(random_state=0), df, [2, 3])
    for estimator in result.estimators:
        assert list(estimator.feature_names_in_) == ["a", "b", "c"]


def test_select_k_resolves_auto_scales_once(blobs4):
    # estimated per k, delta would shrink as k grows and the objectives (the elbow's
    # curve) would be of different losses; one value serves every k, recorded
    X, _ = blobs4
    result = select_k(LossKMeans(loss="huber", delta="auto", random_state=0), X, range(2, 7))
    assert set(result.params) == {"delta"}
    deltas = {est.delta_ for est in result.estimators}
    assert deltas == {result.params["delta"]}
    # the value is the package's "auto" rule at the middle k
    middle = LossKMeans(4, loss="huber", delta="auto", random_state=0, max_iter=1).fit(X)
    assert result.params["delta"] == pytest.approx(middle.delta_)
    assert result.to_dict()["params"] == {"delta": result.params["delta"]}
    # numbers given stay as they are
    fixed = select_k(LossKMeans(loss="huber", delta=0.5, random_state=0), X, [2, 3])
    assert fixed.params == {} and {est.delta_ for est in fixed.estimators} == {0.5}
    # an "auto" the loss ignores is not estimated, for the probe fit or any k
    ignored = select_k(LossKMeans(delta="auto", random_state=0), X, [2, 3])
    assert ignored.params == {}
    assert all(np.isnan(est.delta_) for est in ignored.estimators)
    plain = [LossKMeans(k, random_state=0).fit(X).inertia_ for k in (2, 3)]
    np.testing.assert_array_equal(ignored.objective, plain)


# ------------------------------------------------------------ clusterers outside k-means


def test_select_k_with_gaussian_mixture_uses_predict_and_has_no_objective(blobs4):
    # GaussianMixture has no labels_ (labels come from predict) and no inertia_; its
    # score is a mean log-likelihood, not a total cost, so there is no objective
    # and no elbow, while the three indices are computed as for any clusterer
    from sklearn.mixture import GaussianMixture

    X, _ = blobs4
    result = select_k(
        GaussianMixture(), X, range(2, 7), n_clusters_param="n_components", random_state=0
    )
    assert np.all(np.isnan(result.objective))
    assert result.best_k["elbow"] is None and result.elbow_k is None
    assert result.to_dict()["objective"] == [None] * 5
    assert result.best_k["silhouette"] == 4 and result.best_k["calinski_harabasz"] == 4
    for k, estimator, silhouette in zip(
        result.k_values, result.estimators, result.silhouette, strict=True
    ):
        assert estimator.n_components == k
        assert silhouette == pytest.approx(silhouette_score(X, estimator.predict(X)))


def test_select_k_with_agglomerative_clustering_uses_labels_without_objective(blobs4):
    from sklearn.cluster import AgglomerativeClustering

    X, _ = blobs4
    result = select_k(AgglomerativeClustering(), X, range(2, 7))
    assert np.all(np.isnan(result.objective)) and result.best_k["elbow"] is None
    assert result.best_k["silhouette"] == 4
    for estimator, silhouette in zip(result.estimators, result.silhouette, strict=True):
        assert silhouette == pytest.approx(silhouette_score(X, estimator.labels_))


class _FitPredictOnly(BaseEstimator):
    """Labels only through fit_predict; a score that is no cost (must not be used)."""

    def __init__(self, n_clusters=2):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        self.order_ = np.argsort(np.asarray(X)[:, 0])
        return self

    def fit_predict(self, X, y=None):
        self.fit(X)
        labels = np.empty(len(X), dtype=int)
        labels[self.order_] = np.arange(len(X)) * self.n_clusters // len(X)
        return labels

    def score(self, X, y=None):
        return 123.0


class _NoLabels(BaseEstimator):
    """Fits, but gives labels neither as labels_ nor through predict or fit_predict."""

    def __init__(self, n_clusters=2):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        return self


def test_select_k_takes_labels_from_fit_predict_and_ignores_score(blobs4):
    X, _ = blobs4
    result = select_k(_FitPredictOnly(), X, [2, 3, 4])
    assert np.all(np.isnan(result.objective)) and result.best_k["elbow"] is None
    labels = _FitPredictOnly(3).fit_predict(X)
    assert result.silhouette[1] == pytest.approx(silhouette_score(X, labels))


def test_select_k_says_what_a_clusterer_without_labels_lacks(blobs4):
    X, _ = blobs4
    with pytest.raises(ValueError, match="_NoLabels gives no cluster labels.*labels_"):
        select_k(_NoLabels(), X, [2, 3])


def test_select_k_rejects_clusterers_it_cannot_use_before_any_fit(blobs4):
    from sklearn.cluster import DBSCAN, AgglomerativeClustering
    from sklearn.mixture import GaussianMixture

    X, _ = blobs4
    _CountingScaler.n_fits = 0
    with pytest.raises(ValueError, match=r"no parameter 'n_clusters'.*n_clusters_param"):
        select_k(Pipeline([("center", _CountingScaler()), ("c", DBSCAN())]), X, [2, 3])
    assert _CountingScaler.n_fits == 0  # nothing was computed before the error
    with pytest.raises(ValueError, match=r"n_clusters_param='n_components'"):
        select_k(GaussianMixture(), X, [2, 3])
    with pytest.raises(ValueError, match="takes no sample_weight"):
        select_k(AgglomerativeClustering(), X, [2, 3], sample_weight=np.ones(len(X)))
    with pytest.raises(ValueError, match="needs a scikit-learn clusterer"):
        select_k(object(), X, [2, 3])


def test_select_k_sets_n_clusters_as_a_plain_int(blobs4):
    import json

    X, _ = blobs4
    for estimator in (LossKMeans(n_init=1), Pipeline([("c", LossKMeans(n_init=1))])):
        result = select_k(estimator, X, np.array([2, 3]), random_state=0)
        for fitted in result.estimators:
            clusterer = fitted[-1] if isinstance(fitted, Pipeline) else fitted
            assert type(clusterer.n_clusters) is int
            assert "np.int64" not in repr(fitted)
            json.dumps(clusterer.get_params())


def test_select_k_passes_weights_to_a_fit_taking_keyword_arguments():
    # a wrapper whose fit takes **kwargs and passes them on accepts sample_weight
    from sklearn.base import BaseEstimator, ClusterMixin

    class Wrapper(ClusterMixin, BaseEstimator):
        def __init__(self, n_clusters=2):
            self.n_clusters = n_clusters

        def fit(self, X, y=None, **fit_params):
            model = LossKMeans(self.n_clusters, n_init=1, random_state=0)
            model.fit(X, **fit_params)
            self.labels_, self.inertia_ = model.labels_, model.inertia_
            return self

    X, _ = make_blobs(n_samples=90, centers=3, random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 2, 90)
    result = select_k(Wrapper(), X, [2, 3, 4], sample_weight=w, random_state=0)
    expected = LossKMeans(3, n_init=1, random_state=0).fit(X, sample_weight=w).inertia_
    assert result.objective[1] == pytest.approx(expected)


# ---------------------------------------------------------------------------------
# behaviour a mutation sweep of model_selection.py found no test pinning down
# ---------------------------------------------------------------------------------
def test_elbow_index_of_three_points_and_of_degenerate_curves():
    # three points are enough: rescaled, y = [1, 0.1, 0] lies 0.4 below the chord
    # [1, 0.5, 0] at the middle point
    assert elbow_index([1, 2, 3], [10.0, 1.0, 0.0]) == 1
    # a flat curve, or one with a non-finite objective, has no elbow, and no 0/0 or
    # inf/inf on the way
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert elbow_index([1, 2, 3, 4], [5.0, 5.0, 5.0, 5.0]) is None
        assert elbow_index([1, 2, 3, 4], [np.inf, 3.0, 1.0, 0.0]) is None


def test_select_k_without_any_defined_index_chooses_no_k(blobs4):
    # k = 1 has no silhouette, Calinski-Harabasz or Davies-Bouldin: no best k,
    # rather than the only k on offer
    X, _ = blobs4
    result = select_k(LossKMeans(n_init=1, random_state=0), X, [1])
    assert result.best_k == {
        "elbow": None,
        "silhouette": None,
        "calinski_harabasz": None,
        "davies_bouldin": None,
    }


def test_select_k_accepts_k_equal_to_n_samples(blobs4):
    # the documented range is [1, n_samples], both ends included
    X = blobs4[0][:6]
    result = select_k(LossKMeans(n_init=1, random_state=0), X, [5, 6])
    np.testing.assert_array_equal(result.k_values, [5, 6])
    assert result.objective[1] == 0.0  # one sample per cluster
    assert np.isnan(result.silhouette[1]) and result.best_k["silhouette"] == 5


def test_select_k_checks_sample_size_before_any_fit(blobs4):
    # a 1-sample subsample has no silhouette: silently NaN for every k otherwise
    X, _ = blobs4
    _CountingScaler.n_fits = 0
    pipe = Pipeline([("center", _CountingScaler()), ("cluster", LossKMeans())])
    with pytest.raises(ValueError, match="sample_size must be None or an integer >= 3"):
        select_k(pipe, X, [2, 3], sample_size=1)
    assert _CountingScaler.n_fits == 0


def test_select_k_refuses_n_jobs_0_before_any_fit(blobs4):
    # joblib's own error ("n_jobs == 0 in Parallel has no meaning") came after the
    # preprocessing and the pilot fit of an "auto" scale (a user's review)
    X, _ = blobs4
    _CountingScaler.n_fits = 0
    pipe = Pipeline([("center", _CountingScaler()), ("cluster", LossKMeans(sigma="auto"))])
    with pytest.raises(ValueError, match="n_jobs=0 runs no worker"):
        select_k(pipe, X, [2, 3], n_jobs=0)
    assert _CountingScaler.n_fits == 0


def test_select_k_seeds_the_random_steps_before_the_clusterer(blobs4):
    # a random projection in front of the clusterer kept random_state=None, so two
    # calls with random_state=0 clustered other features: other objective curves
    # (a user's review), where the docstring says the whole search is reproducible
    from sklearn.random_projection import GaussianRandomProjection

    X, _ = blobs4
    pipe = Pipeline([("project", GaussianRandomProjection(3)), ("cluster", LossKMeans())])
    first = select_k(pipe, X, [2, 3, 4], random_state=0)
    second = select_k(pipe, X, [2, 3, 4], random_state=0)
    np.testing.assert_array_equal(first.objective, second.objective)
    np.testing.assert_array_equal(first.silhouette, second.silhouette)
    assert first.estimators[0]["project"].random_state is not None
    # a seed the user set is kept
    pipe.set_params(project__random_state=7)
    assert select_k(pipe, X, [2], random_state=0).estimators[0]["project"].random_state == 7


def test_select_k_resolves_auto_scales_with_the_sample_weights(blobs4):
    X, _ = blobs4
    w = np.where(X[:, 0] > 0, 10.0, 0.1)
    estimator = LossKMeans(loss="huber", delta="auto", random_state=0)
    weighted = select_k(estimator, X, [2, 3, 4], sample_weight=w)
    unweighted = select_k(estimator, X, [2, 3, 4])
    # the "auto" rule at the middle k, on the weighted data
    middle = LossKMeans(3, loss="huber", delta="auto", random_state=0, max_iter=1)
    expected = middle.fit(X, sample_weight=w).delta_
    assert weighted.params["delta"] == pytest.approx(expected)
    assert weighted.params["delta"] != pytest.approx(unweighted.params["delta"])


def test_select_k_resolves_an_auto_epsilon_once(blobs4):
    X, _ = blobs4
    estimator = LossKMeans(loss="epsilon_insensitive", epsilon="auto", random_state=0)
    result = select_k(estimator, X, [2, 3, 4])
    assert set(result.params) == {"epsilon"}
    assert {est.epsilon_ for est in result.estimators} == {result.params["epsilon"]}


def test_whole_set_split_of_sparse_and_ragged_inputs():
    import scipy.sparse as sp

    ragged = [np.zeros((4, 4, 3)), np.zeros((6, 5, 3)), np.zeros((2, 2, 3))]  # images
    for X, n_samples in ((sp.csr_matrix(np.eye(5)), 5), (ragged, 3)):
        ((train, test),) = WholeSetSplit().split(X)
        np.testing.assert_array_equal(train, np.arange(n_samples))
        np.testing.assert_array_equal(test, np.arange(n_samples))


class _CountingKMeans(ClusterMixin, BaseEstimator):
    """LossKMeans behind a face that counts its fits (fit_predict from ClusterMixin)."""

    n_fits = 0

    def __init__(self, n_clusters=2):
        self.n_clusters = n_clusters

    def fit(self, X, y=None):
        type(self).n_fits += 1
        model = LossKMeans(self.n_clusters, n_init=1, random_state=0).fit(X)
        self.labels_, self.inertia_ = model.labels_, model.inertia_
        return self


def test_select_k_fits_each_k_once(blobs4):
    # labels_ set by fit are used as they are: no second fit through fit_predict
    X, _ = blobs4
    _CountingKMeans.n_fits = 0
    select_k(_CountingKMeans(), X, [2, 3, 4])
    assert _CountingKMeans.n_fits == 3


def test_elbow_index_refuses_inputs_outside_its_contract():
    # k_values and objective must be 1-D, of one length, k strictly increasing (as
    # documented): a length mismatch raised numpy's broadcast error, repeated or
    # equal k gave a 0/0 RuntimeWarning and None, unsorted k an index on a chord
    # between arbitrary points
    with pytest.raises(ValueError, match="same length"):
        elbow_index([1, 2, 3], [3.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        elbow_index([[1, 2, 3]], [[3.0, 2.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in ([2, 2, 2], [1, 2, 2, 3], [1, 3, 2, 4]):
            with pytest.raises(ValueError, match="strictly increasing"):
                elbow_index(k, [10.0, 3.0, 2.0, 1.0][: len(k)])
    # fewer than three points still have no elbow, whatever their k
    assert elbow_index([], []) is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"metric": "eucliden"},
            r"(?=.*'auto')(?=.*'euclidean')'metric' parameter of select_k must be a str "
            r"among .* Got 'eucliden' instead",
        ),
        ({"metric": 3}, r"'metric' parameter of select_k .* Got 3 instead"),
        ({"n_jobs": "2"}, r"'n_jobs' parameter of select_k must be .* Got '2' instead"),
        ({"n_clusters_param": 3}, r"'n_clusters_param' parameter of select_k .* Got 3"),
        ({"return_estimators": "yes"}, r"'return_estimators' parameter of select_k"),
        ({"progress": 1}, r"'progress' parameter of select_k"),
        ({"random_state": "a"}, r"'random_state' parameter of select_k"),
        ({"sample_weight": np.ones(3)}, r"sample_weight has 3 values but X has 160 samples"),
    ],
)
def test_select_k_checks_its_arguments_before_any_fit(blobs4, kwargs, match):
    # a typo in metric used to surface only in the silhouette, after the
    # preprocessing and the first clusterer had been fitted (minutes on images)
    X, _ = blobs4
    _CountingScaler.n_fits = 0
    pipe = Pipeline([("center", _CountingScaler()), ("cluster", LossKMeans(delta="auto"))])
    with pytest.raises(ValueError, match=match):
        select_k(pipe, X, [2, 3], **kwargs)
    assert _CountingScaler.n_fits == 0


def test_select_k_accepts_any_silhouette_metric_and_a_callable(blobs4):
    X, _ = blobs4
    for metric in ("cosine", "l1", lambda a, b: np.abs(a - b).sum()):
        result = select_k(LossKMeans(n_init=1, random_state=0), X[:40], [2, 3], metric=metric)
        assert np.all(np.isfinite(result.silhouette))


def test_select_k_result_with_a_callable_metric_is_json_serialisable(blobs4):
    # to_dict promised JSON but kept a callable metric as it was: json.dumps raised
    import json

    def manhattan(a, b):
        return np.abs(a - b).sum()

    result = select_k(
        LossKMeans(n_init=1, random_state=0), blobs4[0][:30], [2, 3], metric=manhattan
    )
    assert result.metric is manhattan
    assert json.loads(json.dumps(result.to_dict()))["metric"] == "manhattan"


def test_select_k_result_records_the_silhouette_subsample(blobs4):
    # the result did not say that its silhouettes were of a random subsample, so
    # neither could its plot or a report written from it
    import json

    X, _ = blobs4
    estimator = LossKMeans(n_init=1, random_state=0)
    result = select_k(estimator, X, [2, 3], sample_size=40, random_state=0)
    assert (result.sample_size, result.n_samples) == (40, 160)
    as_dict = json.loads(json.dumps(result.to_dict()))
    assert (as_dict["sample_size"], as_dict["n_samples"]) == (40, 160)
    # every sample: no subsample, also for a sample_size of n_samples or more
    for sample_size in (None, 160, 500):
        result = select_k(estimator, X, [2, 3], sample_size=sample_size, random_state=0)
        assert (result.sample_size, result.n_samples) == (None, 160)
        assert result.to_dict()["sample_size"] is None


def test_select_k_on_precomputed_distances_leaves_the_feature_indices_out():
    # metric="precomputed": X is distances, and the Calinski-Harabasz and
    # Davies-Bouldin indices took its rows for features (numbers that mean nothing,
    # and a best k from them, silently: a user review); they are NaN, with a
    # warning. A matrix that is not square is refused before any fit
    from scipy.spatial.distance import cdist
    from sklearn.cluster import AgglomerativeClustering

    X, _ = make_blobs(120, centers=4, random_state=0)
    D = cdist(X, X)
    clusterer = AgglomerativeClustering(metric="precomputed", linkage="average")
    with pytest.warns(UserWarning, match="distances, not features: the Calinski-Harabasz"):
        result = select_k(clusterer, D, range(2, 7), metric="precomputed")
    assert np.isnan(result.calinski_harabasz).all() and np.isnan(result.davies_bouldin).all()
    assert result.best_k["calinski_harabasz"] is None and result.best_k["davies_bouldin"] is None
    for k, labels, value in zip(
        result.k_values, (e.labels_ for e in result.estimators), result.silhouette, strict=True
    ):
        assert value == pytest.approx(silhouette_score(D, labels, metric="precomputed")), k
    with pytest.raises(ValueError, match=r"square matrix of distances .* shape \(120, 2\)"):
        select_k(LossKMeans(), X, range(2, 4), metric="precomputed")


class _ConfigRecordingKMeans(LossKMeans):
    """LossKMeans that records scikit-learn's configuration in fit."""

    def fit(self, X, y=None, sample_weight=None):
        super().fit(X, y, sample_weight)
        self.config_ = sklearn.get_config()
        return self


@pytest.mark.parametrize("where", ["select_k", "loss_comparison"])
def test_parallel_fits_keep_the_callers_sklearn_config(where, blobs4):
    # joblib's own Parallel left scikit-learn's configuration behind: with n_jobs=2
    # every fit ran with working_memory 1024 and assume_finite False whatever the
    # caller had set (a user review); threads show it without pickling (the
    # configuration is per thread)
    X, _ = blobs4
    estimator = _ConfigRecordingKMeans(3, n_init=1)
    with (
        joblib.parallel_config(backend="threading"),
        sklearn.config_context(working_memory=8, assume_finite=True),
    ):
        if where == "select_k":
            fitted = select_k(estimator, X, range(2, 5), n_jobs=2, random_state=0).estimators
        else:
            pytest.importorskip("matplotlib")
            from robustkmeans.plotting import LossComparisonDisplay

            display = LossComparisonDisplay.from_estimator(
                estimator, X, losses=["square", "huber"], n_jobs=2, plot=False
            )
            fitted = list(display.estimators_.values())
    assert [(e.config_["working_memory"], e.config_["assume_finite"]) for e in fitted] == [
        (8, True)
    ] * len(fitted)


def test_select_k_fits_each_k_once_when_k_range_repeats_it():
    # (2 and 2.0 are one k: fitted twice, the elbow then refused the curve)
    from sklearn.cluster import KMeans

    X, _ = make_blobs(60, centers=3, random_state=0)
    result = select_k(KMeans(n_init=1), X, [1, 2, 2.0, 3, 4], random_state=0)
    np.testing.assert_array_equal(result.k_values, [1, 2, 3, 4])
    assert len(result.estimators) == 4


def test_select_k_gives_sample_weight_to_fit_predict():
    # a clusterer with neither labels_ nor predict is labelled by fit_predict,
    # with the weights its objective was fitted with
    class FitPredictOnly(ClusterMixin, BaseEstimator):
        def __init__(self, n_clusters=2):
            self.n_clusters = n_clusters

        def fit(self, X, y=None, sample_weight=None):
            return self

        def fit_predict(self, X, y=None, sample_weight=None):
            assert sample_weight is not None, "fit_predict called without the weights"
            return np.arange(len(X)) % self.n_clusters

    X, _ = make_blobs(20, centers=2, random_state=0)
    result = select_k(FitPredictOnly(), X, [2, 3], sample_weight=np.ones(20))
    assert np.isfinite(result.silhouette).all()
