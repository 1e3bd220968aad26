import io
import re
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _optional import requires_torch  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    adjusted_rand_score,
    silhouette_samples,
    silhouette_score,
)
from sklearn.pipeline import Pipeline  # noqa: E402

from robustkmeans import LossKMeans, VGG16Featurizer, select_k  # noqa: E402
from robustkmeans._losses import LOSS_NAMES  # noqa: E402
from robustkmeans.plotting import (  # noqa: E402
    ClusterScatterDisplay,
    FeatureMapsDisplay,
    KSelectionDisplay,
    LossComparisonDisplay,
    RepresentativesDisplay,
    SilhouetteDisplay,
    _estimator_n_clusters,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rendered(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert image.std() > 0  # something was drawn
    return image


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=60, n_features=4, centers=3, cluster_std=0.5, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def image_set(tmp_path_factory):
    """Small colour images as files: three groups of distinct mean colour."""
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.RandomState(0)
    paths, arrays, y = [], [], []
    for label, color in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
        for i in range(5):
            array = np.clip(rng.normal(color, 25, size=(24, 24, 3)), 0, 255).astype(np.uint8)
            path = folder / f"g{label}_{i}.png"
            Image.fromarray(array).save(path)
            paths.append(str(path))
            arrays.append(array)
            y.append(label)
    X = np.array([a.mean(axis=(0, 1)) / 255.0 for a in arrays])
    return paths, np.array(arrays), X, np.array(y)


def test_k_selection_display(blobs):
    X, _ = blobs
    result = select_k(LossKMeans(n_init=2), X, range(1, 7), random_state=0)
    disp = KSelectionDisplay.from_result(result)
    np.testing.assert_allclose(disp.line_objective_.get_ydata(), result.objective)
    np.testing.assert_allclose(disp.line_silhouette_.get_ydata()[1:], result.silhouette[1:])
    assert disp.elbow_k == 3 and disp.silhouette_k == 3
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert "elbow: k=3" in legend and "best silhouette: k=3" in legend
    _rendered(disp.figure_)

    fig, ax = plt.subplots()
    disp = KSelectionDisplay.from_estimator(
        LossKMeans(loss="huber", n_init=1), X, [2, 3, 4], ax=ax, random_state=0
    )
    assert disp.ax_ is ax and disp.result_.best_k["silhouette"] == 3


def test_k_selection_display_ticks_every_k_of_a_short_range_only():
    # one tick per k: 2..60 drew 59 labels run together on the x axis
    short = KSelectionDisplay(list(range(2, 8)), np.linspace(9, 1, 6)).plot()
    assert list(short.ax_.get_xticks()) == list(range(2, 8))
    k = list(range(2, 61))
    long = KSelectionDisplay(k, np.linspace(90, 1, len(k))).plot()
    _rendered(long.figure_)
    ticks = [t for t in long.ax_.get_xticks() if 2 <= t <= 60]
    assert 3 <= len(ticks) <= 12 and all(float(t).is_integer() for t in ticks)


def test_k_selection_display_checks_silhouette_k_and_redraws_in_place():
    kwargs = dict(silhouette=[np.nan, 0.6, 0.7], elbow_k=2)
    with pytest.raises(ValueError, match=r"silhouette_k=7 is not one of k_values \[1, 2, 3\]"):
        KSelectionDisplay([1, 2, 3], [9.0, 2.0, 1.5], silhouette_k=7, **kwargs).plot()
    fig, ax = plt.subplots()
    disp = KSelectionDisplay([1, 2, 3], [9.0, 2.0, 1.5], silhouette_k=3, **kwargs)
    disp.plot(ax=ax)
    disp.plot(ax=ax)
    assert len(fig.axes) == 2  # ax and one twin for the silhouette, not one per call
    assert disp.ax_silhouette_ in fig.axes


def test_k_selection_display_says_when_there_is_no_objective(blobs):
    # select_k gives a clusterer without inertia_ (a Gaussian mixture) a NaN
    # objective: the panel says so instead of drawing an empty, unexplained curve
    from sklearn.mixture import GaussianMixture

    X, _ = blobs
    result = select_k(
        GaussianMixture(random_state=0), X, [2, 3, 4], n_clusters_param="n_components"
    )
    disp = KSelectionDisplay.from_result(result)
    assert disp.ax_.get_ylabel().startswith("no objective")
    legend = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
    assert "no objective (no inertia_)" in legend and "best silhouette: k=3" in legend
    _rendered(disp.figure_)


def test_silhouette_display(blobs):
    X, _ = blobs
    km = LossKMeans(3, loss="absolute", random_state=0).fit(X)
    disp = SilhouetteDisplay.from_estimator(km, X)
    expected = silhouette_samples(X, km.predict(X), metric="manhattan")
    np.testing.assert_allclose(disp.silhouette_values, expected)
    assert disp.average_ == pytest.approx(expected.mean())
    assert disp.metric == "manhattan"
    assert len(disp.ax_.patches) == len(X)  # one bar per sample
    _rendered(disp.figure_)
    with pytest.raises(ValueError, match="between 2 and n_samples - 1"):
        SilhouetteDisplay.from_predictions(X, np.zeros(len(X)))


def test_displays_draw_the_labels_of_a_clusterer_without_predict(blobs):
    # X is then the data it was fitted on: its labels_ are drawn (the scorers ask
    # for on_training_set=True, since a test fold cannot be told from that set)
    from sklearn.cluster import AgglomerativeClustering

    X, _ = blobs
    agglo = AgglomerativeClustering(3).fit(X)
    disp = SilhouetteDisplay.from_estimator(agglo, X)
    np.testing.assert_allclose(disp.silhouette_values, silhouette_samples(X, agglo.labels_))
    scatter = ClusterScatterDisplay.from_estimator(agglo, X)
    assert len(scatter.embedding) == len(X)
    plt.close("all")


def test_cluster_scatter_display(blobs):
    X, y = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    disp = ClusterScatterDisplay.from_estimator(km, X, y=y)
    pca = PCA(n_components=2).fit(X)
    np.testing.assert_allclose(np.abs(disp.embedding), np.abs(pca.transform(X)), atol=1e-8)
    np.testing.assert_allclose(
        np.abs(disp.centers), np.abs(pca.transform(km.cluster_centers_)), atol=1e-8
    )
    assert [ax.get_title() for ax in disp.axes_] == ["clusters", "true labels"]
    _rendered(disp.figure_)

    fig, ax = plt.subplots()
    disp = ClusterScatterDisplay.from_estimator(km, X, ax=ax)
    assert disp.axes_ == [ax]

    # a projection to 2-D, or a clear error (not matplotlib's while drawing)
    for n_components in (1, 3):
        with pytest.raises(ValueError, match=rf"2 columns .* shape \(60, {n_components}\)"):
            ClusterScatterDisplay.from_estimator(km, X, projection=PCA(n_components))

    # one true class per sample, or a clear error (not an IndexError while drawing)
    with pytest.raises(ValueError, match="y has 10 entries for"):
        ClusterScatterDisplay.from_estimator(km, X, y=y[:10])

    # the classes are drawn in another palette than the clusters: blue is not a
    # cluster on one panel and a class on the other
    disp = ClusterScatterDisplay.from_estimator(km, X, y=y)
    cluster_colors = {tuple(c.get_facecolor()[0]) for c in disp.axes_[0].collections[:3]}
    class_colors = {tuple(c.get_facecolor()[0]) for c in disp.axes_[1].collections}
    assert not cluster_colors & class_colors


@pytest.mark.parametrize("row", [[1.0, 2.0, 3.0], [0.1, 0.7, 0.3] * 5])
def test_cluster_scatter_of_identical_samples_says_there_is_no_variance(row):
    # identical images: PCA's ratio is 0/0 (1.0...) or the share of the rounding
    # of the mean (0.1...); neither is a percentage to show, nor a numpy warning
    X = np.tile(row, (7, 1))
    y = ["a"] * 3 + ["b"] * 4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LossKMeans: fewer distinct clusters than k
        km = LossKMeans(2, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disp = ClusterScatterDisplay.from_estimator(km, X, y=y)
        _rendered(disp.figure_)
    labels = ["PC 1 (no variance)", "PC 2 (no variance)"]
    assert [[ax.get_xlabel(), ax.get_ylabel()] for ax in disp.axes_] == [labels, labels]


@pytest.mark.parametrize(
    "dtype, projected", [(np.float32, np.float32), (np.float64, np.float64), (np.int64, np.float64)]
)
def test_cluster_scatter_projects_float32_features_without_a_float64_copy(dtype, projected):
    # float32 features were copied to float64 before the projection (819 MB for
    # 200,000 x 512 features), beside an n x d comparison for the no-variance check
    from sklearn.decomposition import PCA

    seen = []

    class RecordingPCA(PCA):
        def fit_transform(self, X, y=None):
            seen.append(X.dtype)
            return super().fit_transform(X, y)

    X, _ = make_blobs(n_samples=60, centers=3, n_features=4, random_state=0)
    X = (X * 10).astype(dtype)
    km = LossKMeans(3, random_state=0).fit(X)
    disp = ClusterScatterDisplay.from_estimator(km, X, projection=RecordingPCA(n_components=2))
    assert seen == [projected]
    assert disp.centers.shape == (3, 2) and "no variance" not in disp.axis_labels[0]
    plt.close("all")


def test_cluster_scatter_display_sparse_and_dataframe_features(blobs):
    import scipy.sparse as sp

    X, y = blobs
    km = LossKMeans(3, random_state=0).fit(sp.csr_matrix(X))
    dense = ClusterScatterDisplay.from_estimator(km, X, y=y).embedding
    sparse = ClusterScatterDisplay.from_estimator(km, sp.csr_matrix(X), y=y).embedding
    np.testing.assert_allclose(sparse, dense)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    km = LossKMeans(3, random_state=0).fit(frame)
    np.testing.assert_allclose(ClusterScatterDisplay.from_estimator(km, frame).embedding, dense)


def test_representatives_display(image_set):
    paths, _, X, _ = image_set
    km = LossKMeans(3, loss="huber", delta=0.05, random_state=0).fit(X)
    disp = RepresentativesDisplay.from_estimator(km, X, paths, n_representatives=2, n_atypical=1)
    cost = km.transform(X)[np.arange(len(X)), km.predict(X)]
    for cluster in range(3):
        members = np.flatnonzero(km.labels_ == cluster)
        order = members[np.argsort(cost[members], kind="stable")]
        assert disp.representatives[cluster] == order[:2].tolist()
        assert disp.atypical[cluster] == [order[-1]]
    np.testing.assert_array_equal(disp.cluster_sizes_, np.bincount(km.labels_))
    assert disp.axes_.shape == (3, 3)
    # the atypical image's frame is dashed black, a colour no cluster is drawn in
    # (it was red, the fourth cluster's colour)
    spine = disp.axes_[0, 2].spines["top"]
    assert spine.get_edgecolor() == (0, 0, 0, 1) and spine.get_linestyle() == "--"
    assert "then the 1 most atypical" in disp.figure_._suptitle.get_text()
    _rendered(disp.figure_)
    # no atypical images asked for: the title does not announce "0 most atypical"
    disp = RepresentativesDisplay.from_estimator(km, X, paths, n_representatives=1, n_atypical=0)
    assert "atypical" not in disp.figure_._suptitle.get_text()


@requires_torch
def test_representatives_display_pipeline_with_featurizer(image_set):
    paths, arrays, _, _ = image_set
    pipe = Pipeline(
        [
            ("features", VGG16Featurizer(weights=None, image_size=32)),
            ("cluster", LossKMeans(3, loss="correntropy", sigma="auto", random_state=0)),
        ]
    ).fit(paths)
    disp = RepresentativesDisplay.from_estimator(pipe, paths, arrays, n_atypical=0)
    assert sum(len(v) for v in disp.representatives.values()) <= 3 * 4
    assert all(disp.atypical[c] == [] for c in range(3))
    _rendered(disp.figure_)


def test_image_displays_need_one_image_per_sample(image_set, monkeypatch):
    # Fewer images than samples failed with a bare IndexError while drawing.
    paths, arrays, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    match = r"images holds 5 images but X has 15 samples; pass one image per sample"
    with pytest.raises(ValueError, match=match):
        RepresentativesDisplay.from_estimator(km, X, paths[:5])
    with pytest.raises(ValueError, match=match):
        RepresentativesDisplay.from_estimator(km, X, arrays[:5], plot=False)
    with pytest.raises(ValueError, match="images holds 16 images but X has 15"):
        RepresentativesDisplay.from_estimator(km, X, [*paths, paths[0]])
    # Without images, rows of a feature matrix are not images to draw.
    with pytest.raises(ValueError, match=r"X is a \(15, 3\) feature matrix; pass the image"):
        RepresentativesDisplay.from_estimator(km, X)
    assert RepresentativesDisplay.from_estimator(km, X, plot=False).images is X
    # Checked before anything is fitted (the losses, a featurizer).
    monkeypatch.setattr(LossKMeans, "fit", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(ValueError, match=match):
        LossComparisonDisplay.from_estimator(LossKMeans(3), X, paths[:5])
    with pytest.raises(ValueError, match="feature matrix"):
        LossComparisonDisplay.from_estimator(LossKMeans(3), X)
    pipe = Pipeline([("features", VGG16Featurizer(weights=None)), ("cluster", LossKMeans(3))])
    monkeypatch.setattr(VGG16Featurizer, "fit", lambda *a, **k: pytest.fail("fitted"))
    with pytest.raises(ValueError, match=match):
        LossComparisonDisplay.from_estimator(pipe, paths, arrays[:5])


def test_image_displays_refuse_bad_counts_and_no_losses(image_set, monkeypatch):
    # Negative counts acted as slice bounds; losses=[] failed with a bare max() error.
    paths, _, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    for kwargs, match in [
        ({"n_representatives": -3}, "n_representatives must be an integer >= 0.*got -3"),
        ({"n_atypical": -1}, "n_atypical must be an integer >= 0.*got -1"),
        ({"n_atypical": 1.5}, "n_atypical must be an integer >= 0.*got 1.5"),
    ]:
        with pytest.raises(ValueError, match=match):
            RepresentativesDisplay.from_estimator(km, X, paths, **kwargs)
    monkeypatch.setattr(LossKMeans, "fit", lambda *a, **k: pytest.fail("fitted"))
    for kwargs, match in [
        ({"losses": []}, r"losses is empty; pass at least one of \['square'"),
        ({"losses": "huber"}, r"got the string 'huber'; pass losses=\['huber'\]"),
        ({"n_representatives": 0}, "n_representatives must be an integer >= 1"),
    ]:
        with pytest.raises(ValueError, match=match):
            LossComparisonDisplay.from_estimator(LossKMeans(3), X, paths, **kwargs)


def test_loss_comparison_display(image_set):
    paths, _, X, y = image_set
    disp = LossComparisonDisplay.from_estimator(
        LossKMeans(3, delta=0.05, sigma=0.2, epsilon=0.01, random_state=0), X, paths, y=y
    )
    assert disp.losses == list(LOSS_NAMES)
    assert disp.axes_.shape == (6, 3)
    for loss, metrics, sizes in zip(disp.losses, disp.metrics, disp.cluster_sizes, strict=True):
        assert set(metrics) == {
            "objective",
            "silhouette",
            "calinski_harabasz",
            "adjusted_rand",
            "v_measure",
        }
        assert metrics["objective"] == pytest.approx(disp.estimators_[loss].inertia_)
        assert sizes.sum() == len(X)
    # The groups are well separated: every loss recovers them.
    assert all(m["adjusted_rand"] == 1.0 for m in disp.metrics)
    # Columns are matched across losses: each column shows one true group.
    for row_reps in disp.representatives:
        columns = [y[indices[0]] for indices in row_reps.values()]
        assert columns == [y[i[0]] for i in disp.representatives[0].values()]
    assert len(set(columns)) == 3
    titles = [text.get_text() for text in disp.row_titles_]
    assert all(title.startswith(loss) for title, loss in zip(titles, LOSS_NAMES, strict=True))
    _rendered(disp.figure_)


class _ReversedUnlessSquare(LossKMeans):
    """LossKMeans that numbers its clusters in reverse under every loss but square:
    the same groups under other cluster numbers."""

    def fit(self, X, y=None, sample_weight=None):
        super().fit(X, sample_weight=sample_weight)
        if self.loss != "square":
            self.cluster_centers_ = self.cluster_centers_[::-1].copy()
            self.labels_ = self.n_clusters - 1 - self.labels_
        return self


def test_loss_comparison_matches_clusters_numbered_differently(image_set):
    # the LossKMeans fits of test_loss_comparison_display number the groups alike
    # under every loss, so its column check held without any matching: here the
    # groups come back under reversed numbers, and the columns must still agree
    paths, _, X, y = image_set
    disp = LossComparisonDisplay.from_estimator(
        _ReversedUnlessSquare(3, random_state=0),
        X,
        paths,
        losses=["square", "absolute", "huber"],
        plot=False,
    )
    square = disp.labels_["square"]
    for loss in ("absolute", "huber"):
        assert adjusted_rand_score(square, disp.labels_[loss]) == 1.0
        np.testing.assert_array_equal(disp.labels_[loss], 2 - square)  # renumbered
    first = [y[indices[0]] for indices in disp.representatives[0].values()]
    assert sorted(first) == [0, 1, 2]
    for row_reps in disp.representatives[1:]:
        assert [y[indices[0]] for indices in row_reps.values()] == first
        assert list(row_reps) == [2 - c for c in disp.representatives[0]]


def test_loss_comparison_scores_every_loss_with_one_metric(image_set):
    # square and absolute find the same groups: the same labels must get the same
    # silhouette (absolute was scored with the Manhattan distance, the others not).
    paths, _, X, _ = image_set
    estimator = LossKMeans(3, random_state=0)
    kwargs = dict(losses=["square", "absolute"], random_state=0)
    disp = LossComparisonDisplay.from_estimator(estimator, X, paths, **kwargs)
    square, absolute = (disp.labels_[loss] for loss in disp.losses)
    assert adjusted_rand_score(square, absolute) == 1.0
    euclidean = silhouette_score(X, square)
    assert [m["silhouette"] for m in disp.metrics] == pytest.approx([euclidean, euclidean])
    assert disp.silhouette_metric == "euclidean"
    titles = " ".join(text.get_text() for text in disp.figure_.texts)
    assert "silhouettes: euclidean distance" in titles

    manhattan = LossComparisonDisplay.from_estimator(
        estimator, X, paths, metric="manhattan", plot=False, **kwargs
    )
    expected = silhouette_score(X, square, metric="manhattan")
    assert expected != pytest.approx(euclidean)
    assert [m["silhouette"] for m in manhattan.metrics] == pytest.approx([expected, expected])
    assert manhattan.silhouette_metric == "manhattan"
    with pytest.raises(ValueError, match="metric='auto'.*pass one metric for all"):
        LossComparisonDisplay.from_estimator(estimator, X, paths, metric="auto", **kwargs)


def test_loss_comparison_silhouette_subsample(image_set):
    paths, _, X, _ = image_set
    estimator = LossKMeans(3, random_state=0)
    kwargs = dict(losses=["square", "absolute"], plot=False, random_state=0)
    full = LossComparisonDisplay.from_estimator(estimator, X, paths, **kwargs)
    sub = LossComparisonDisplay.from_estimator(estimator, X, paths, sample_size=8, **kwargs)
    again = LossComparisonDisplay.from_estimator(estimator, X, paths, sample_size=8, **kwargs)
    assert [m["silhouette"] for m in sub.metrics] == [m["silhouette"] for m in again.metrics]
    assert [m["silhouette"] for m in sub.metrics] != [m["silhouette"] for m in full.metrics]
    assert not hasattr(sub, "figure_")


def test_loss_comparison_silhouette_subsample_with_a_single_cluster_is_nan():
    # 995 inliers and 5 far outliers: a 50-sample subsample usually misses the cluster
    # of the outliers, where silhouette_score raises "Number of labels is 1". The
    # silhouette is NaN then, as for a one-cluster fit, and the rest is computed.
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(995, 2)), rng.normal(size=(5, 2)) + 50]
    images = np.zeros((len(X), 4, 4, 3), np.uint8)
    estimator = LossKMeans(2, n_init=1, random_state=0)
    silhouettes = []
    for seed in range(3):
        disp = LossComparisonDisplay.from_estimator(
            estimator, X, images, losses=["square"], sample_size=50, random_state=seed
        )
        (metrics,) = disp.metrics
        silhouettes.append(metrics["silhouette"])
        assert np.isfinite(metrics["calinski_harabasz"])
        assert disp.row_titles_[0].get_text().startswith("square: obj ")
    assert np.isnan(silhouettes).any()
    one = LossComparisonDisplay.from_estimator(
        LossKMeans(1, random_state=0), X, images, losses=["square"], plot=False
    )
    assert np.isnan(one.metrics[0]["silhouette"]) and np.isnan(one.metrics[0]["calinski_harabasz"])


@requires_torch
def test_feature_maps_display(image_set):
    paths, _, _, _ = image_set
    featurizer = VGG16Featurizer(weights=None, image_size=32)
    disp = FeatureMapsDisplay.from_estimator(featurizer, paths[0], layers=[1, 8], n_channels=4)
    assert list(disp.feature_maps) == [1, 8]
    assert disp.feature_maps[8].shape == (128, 16, 16)
    assert disp.axes_.shape == (2, 5)  # the image, then 4 channels
    means = disp.feature_maps[1].mean(axis=(1, 2))
    assert disp.channels_[1] == np.argsort(-means, kind="stable")[:4].tolist()
    _rendered(disp.figure_)


def test_feature_maps_display_checks_n_channels():
    maps = {1: np.random.RandomState(0).rand(3, 4, 4)}
    for n_channels in (0, -2, 2.0, True, None):
        with pytest.raises(ValueError, match="n_channels must be a positive integer"):
            FeatureMapsDisplay(maps, n_channels=n_channels).plot()
    # no blank columns beyond the 3 channels of the layer
    disp = FeatureMapsDisplay(maps, n_channels=5).plot()
    assert disp.axes_.shape == (1, 3) and sorted(disp.channels_[1]) == [0, 1, 2]
    # no layer at all: said so (matplotlib's "Number of rows must be a positive
    # integer, not 0" did not; a user review)
    with pytest.raises(ValueError, match="feature_maps is empty: pass"):
        FeatureMapsDisplay({}).plot()


def _thumbnail_inputs(folder):
    """Images that the old thumbnail loader read differently from load_rgb."""
    grey16 = np.linspace(0, 65535, 12 * 20).reshape(12, 20).astype(np.uint16)
    Image.fromarray(grey16).save(folder / "grey16.png")  # mode I;16
    rgba = np.zeros((12, 20, 4), np.uint8)
    rgba[..., 0] = 255  # red, fully transparent: white once composited
    rgba[:, 10:, 3] = 255  # right half opaque red
    Image.fromarray(rgba).save(folder / "rgba.png")
    return {
        "16-bit grey png": folder / "grey16.png",
        "uint16 array": grey16,
        "uint16 rgb array": np.dstack([grey16, grey16 // 2, 65535 - grey16]),
        "rgba array": rgba,
        "rgba png": folder / "rgba.png",
        "rgba pil": Image.fromarray(rgba),
        "grey uint8 array": (grey16 // 257).astype(np.uint8),
    }


def test_thumbnails_show_the_colours_load_rgb_reads(tmp_path):
    from robustkmeans._images import load_rgb
    from robustkmeans.plotting import _thumbnail

    for name, image in _thumbnail_inputs(tmp_path).items():
        expected = load_rgb(image)
        np.testing.assert_array_equal(_thumbnail(image, 64), expected, err_msg=name)
        small = _thumbnail(image, 10)  # shrunk, aspect ratio kept
        assert small.shape == (6, 10, 3) and small.dtype == np.uint8, name
        reference = Image.fromarray(expected)
        reference.thumbnail((10, 10))
        np.testing.assert_array_equal(small, np.asarray(reference), err_msg=name)
    # A 32-bit float TIFF has no 0..255 range: the clear error, not a black image.
    Image.fromarray(np.full((8, 8), 0.5, np.float32)).save(tmp_path / "float.tif")
    with pytest.raises(ValueError, match="32-bit float images"):
        _thumbnail(tmp_path / "float.tif", 8)
    with pytest.raises(ValueError, match=r"X\[3\].*dtype float64"):
        _thumbnail(np.zeros((4, 4, 3)), 8, index=3)


@pytest.mark.parametrize("display", [RepresentativesDisplay, LossComparisonDisplay])
def test_image_displays_name_a_bad_image_by_the_argument_it_came_from(display):
    # an image of images= was named X[2] in the error, where X holds the features
    from sklearn.preprocessing import FunctionTransformer

    images = list(np.random.RandomState(0).randint(0, 255, (6, 8, 8, 3)).astype(np.uint8))
    images[2] = images[2] / 255.0  # floats: refused
    X = np.array([image.mean(axis=(0, 1)) for image in images])
    km = LossKMeans(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"'images\[2\] \(ndarray float64"):
        display.from_estimator(km, X, images, n_representatives=6)
    with pytest.raises(ValueError, match=r"'images\[2\] \(ndarray float64"):
        display.from_estimator(km, X, images, n_representatives=6, plot=False).plot()
    # images=None draws X: X[2] it is
    means = FunctionTransformer(lambda images: np.array([x.mean(axis=(0, 1)) for x in images]))
    pipeline = Pipeline([("means", means), ("km", LossKMeans(2, random_state=0))]).fit(images)
    with pytest.raises(ValueError, match=r"'X\[2\] \(ndarray float64"):
        display.from_estimator(pipeline, images, n_representatives=6)


def _photo_like(h, w, seed=0):
    """Smooth colours (a bicubic blow-up of a few random pixels), as photos are."""
    small = np.random.RandomState(seed).randint(0, 256, size=(7, 9, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


def _upright_thumbnail(image, size):
    """The thumbnail as it was made: the full-size picture turned upright, then shrunk."""
    from robustkmeans._images import load_rgb

    reference = Image.fromarray(load_rgb(image))
    reference.thumbnail((size, size))
    return np.asarray(reference)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_thumbnails_of_tagged_photos_are_the_upright_thumbnail(orientation):
    # A photo stored on its side (5 to 8) is shrunk as stored and then turned; a
    # mirrored or upside-down one (2 to 4) is turned first: Pillow's shrink is not
    # mirror-symmetric, and so its pixels stay exactly those of the upright thumbnail.
    from robustkmeans.plotting import _thumbnail

    for h, w, size in [
        (301, 452, 64),
        (452, 301, 64),
        (97, 211, 10),
        (640, 480, 128),
        (33, 20, 64),
    ]:
        stored = _photo_like(h, w, seed=h)
        image = Image.fromarray(stored)
        image.getexif()[0x0112] = orientation
        got, expected = _thumbnail(image, size), _upright_thumbnail(image, size)
        assert got.shape == expected.shape and got.dtype == np.uint8, (h, w, size)
        if orientation <= 4:
            np.testing.assert_array_equal(got, expected)
        else:  # up to resampling: rows and columns are resampled in the other order
            difference = np.abs(got.astype(int) - expected)
            assert difference.mean() < 2.0 and difference.max() <= 16, (h, w, size)


def test_thumbnails_of_photos_on_their_side_turn_only_the_small_image(monkeypatch):
    # Turning the full-size pixels of a 12 MP photo cost ~55 ms of its ~170 ms
    # (ColorHistogramFeaturizer, thumbnails); only the thumbnail is turned now.
    from robustkmeans import _images
    from robustkmeans._demo import ColorHistogramFeaturizer
    from robustkmeans.plotting import _thumbnail

    turned = []
    original = _images.apply_orientation

    def spy(rgb, orientation):
        if orientation != 1:
            turned.append(rgb.shape[:2])
        return original(rgb, orientation)

    monkeypatch.setattr(_images, "apply_orientation", spy)
    image = Image.fromarray(_photo_like(300, 400))
    for orientation in (5, 6, 7, 8):
        image.getexif()[0x0112] = orientation
        assert _thumbnail(image, 32).shape == (32, 24, 3)
        ColorHistogramFeaturizer(image_size=16).fit_transform([image])
    assert turned and max(max(shape) for shape in turned) <= 32, turned


def test_thumbnail_size_is_pillows():
    from robustkmeans.plotting import _thumbnail_size

    # Pillow's rounding of the aspect ratio, which _thumbnail copies to shrink a
    # photo stored on its side to the upright thumbnail's size, turned
    rng = np.random.RandomState(0)
    for _ in range(300):
        width, height = (int(v) for v in rng.randint(1, 1500, size=2))
        size = int(rng.choice([1, 7, 10, 64, 100, 128, 255]))
        reference = Image.new("L", (width, height))
        reference.thumbnail((size, size))
        expected = None if reference.size == (width, height) else reference.size
        assert _thumbnail_size(width, height, size) == expected, (width, height, size)


def test_colour_histograms_see_16_bit_and_transparent_images(tmp_path):
    from robustkmeans._demo import ColorHistogramFeaturizer

    for name, value in [("dark.png", 6553), ("mid.png", 32767)]:  # 10% and 50% grey
        Image.fromarray(np.full((16, 16), value, np.uint16)).save(tmp_path / name)
    transparent = np.zeros((8, 8, 4), np.uint8)
    transparent[..., 0] = 255
    white = np.full((8, 8, 3), 255, np.uint8)
    features = ColorHistogramFeaturizer(bins=4).fit_transform(
        [str(tmp_path / "dark.png"), str(tmp_path / "mid.png"), transparent, white]
    )
    assert not np.array_equal(features[0], features[1])  # not both near white
    assert features[0].argmax() == 0 and features[1].argmax() == 1 + 4 + 16  # grey bins
    np.testing.assert_array_equal(features[2], features[3])  # composited on white
    uint16 = np.full((8, 8), 30000, np.uint16)  # 45.8% grey, as a uint8 array of 117
    np.testing.assert_array_equal(
        ColorHistogramFeaturizer(bins=4).fit_transform([uint16]),
        ColorHistogramFeaturizer(bins=4).fit_transform([np.full((8, 8), 117, np.uint8)]),
    )


def test_dollar_signs_in_names_are_drawn_as_text():
    # A folder named "coins $1_$2" is a class name with two "$": matplotlib parsed
    # it as mathtext and raised. Names are escaped and drawn as written.
    name = "coins $1_$2"
    embedding = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    disp = ClusterScatterDisplay(embedding, np.array([0, 1, 1]), y_true=[name, "b", "b"]).plot()
    _rendered(disp.figure_)
    legend = [t.get_text() for t in disp.axes_[1].get_legend().get_texts()]
    assert legend == [r"b", r"coins \$1_\$2"]
    # A leading underscore is a class name too, not matplotlib's "no legend" mark.
    disp = ClusterScatterDisplay(
        embedding, np.array([0, 1, 1]), centers=embedding[:2], y_true=["_misc", "b", "b"]
    ).plot()
    legend = [t.get_text() for t in disp.axes_[1].get_legend().get_texts()]
    assert legend == ["_misc", "b"]
    legend = [t.get_text() for t in disp.axes_[0].get_legend().get_texts()]
    assert legend == ["0", "1", "centers"]

    X = np.array([[0.0], [0.1], [5.0], [5.1], [5.2]])
    disp = SilhouetteDisplay.from_predictions(X, np.array([name, name, "$x_$", "$x_$", "$x_$"]))
    _rendered(disp.figure_)

    images = np.zeros((3, 8, 8, 3), np.uint8)
    disp = RepresentativesDisplay(
        images, np.array([0, 0, 1]), np.zeros(3), {0: [0], 1: [2]}, {0: [1], 1: []}
    ).plot()
    _rendered(disp.figure_)
    disp = LossComparisonDisplay(
        images, [name], [{"$a_$": [0], 1: [2]}], [{"$a_$": 2, 1: 1}], [{"$m_$": 1.0}]
    ).plot()
    _rendered(disp.figure_)
    assert disp.row_titles_[0].get_text() == r"coins \$1_\$2: \$m_\$ 1"
    disp = FeatureMapsDisplay({"$l_$": np.ones((2, 3, 3))}, image=images[0]).plot()
    _rendered(disp.figure_)


def test_names_that_are_not_utf8_are_drawn_with_escapes():
    # A class folder named b"cls\xff" reaches Python as "cls\udcff" (os.fsdecode):
    # matplotlib refused the lone surrogate with a TypeError while drawing. It is
    # drawn as the command line's report shows it, "cls\xff".
    name = b"cls\xff".decode("utf-8", "surrogateescape")
    shown = r"cls\xff"
    embedding = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    labels = np.array([name, "b", "b"])
    disp = ClusterScatterDisplay(embedding, labels, y_true=[name, "b", "b"]).plot()
    _rendered(disp.figure_)
    for axis in disp.axes_:
        assert [t.get_text() for t in axis.get_legend().get_texts()] == ["b", shown]

    X = np.array([[0.0], [0.1], [5.0], [5.1], [5.2]])
    disp = SilhouetteDisplay.from_predictions(X, np.array([name, name, "b", "b", "b"]))
    _rendered(disp.figure_)
    assert shown in [t.get_text() for t in disp.ax_.texts]

    images = np.zeros((3, 8, 8, 3), np.uint8)
    disp = LossComparisonDisplay(
        images, [name], [{name: [0], 1: [2]}], [{name: 2, 1: 1}], [{name: 1.0}]
    ).plot()
    _rendered(disp.figure_)
    assert disp.row_titles_[0].get_text() == rf"{shown}: {shown} 1"
    disp = FeatureMapsDisplay({name: np.ones((2, 3, 3))}, image=images[0]).plot()
    _rendered(disp.figure_)


def test_missing_matplotlib_names_the_extra(monkeypatch, blobs):
    X, _ = blobs
    km = LossKMeans(2, random_state=0).fit(X)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"robustkmeans\[plot\]"):
        SilhouetteDisplay.from_estimator(km, X)


def test_image_grids_frame_atypical_and_hide_empty_cells():
    images = np.zeros((4, 8, 8, 3), np.uint8)
    disp = RepresentativesDisplay(
        images,
        np.array([0, 0, 0, 1]),
        np.array([0.1, 0.2, 0.9, 0.0]),
        representatives={0: [0, 1], 1: [3]},
        atypical={0: [2], 1: []},
    ).plot()
    assert disp.axes_.shape == (2, 3)
    assert all(
        not axis.get_xticks().size and not axis.get_yticks().size for axis in disp.axes_.flat
    )
    assert [len(axis.images) for axis in disp.axes_.flat] == [1, 1, 1, 1, 0, 0]
    black = matplotlib.colors.to_rgba("black")
    assert disp.axes_[0, 2].spines["top"].get_edgecolor() == black  # atypical
    assert disp.axes_[0, 2].spines["top"].get_linestyle() == "--"
    assert disp.axes_[0, 1].spines["top"].get_edgecolor() != black
    assert not any(spine.get_visible() for spine in disp.axes_[1, 2].spines.values())
    assert disp.axes_[0, 2].get_title() == "cost 0.9"
    assert disp.axes_[1, 0].get_ylabel() == "cluster 1\nn=1"

    disp = LossComparisonDisplay(
        images, ["square"], [{0: [0, 1], 1: [3]}], [np.array([3, 1])], [{"objective": 1.0}]
    ).plot()
    # (cluster 1 in a block of two columns, as wide as cluster 0's)
    assert [axis.get_xlabel() for axis in disp.axes_[0]] == ["c0 n=3", "c0 n=3", "c1 n=1", ""]
    assert not disp.axes_[0, 3].axison
    disp = LossComparisonDisplay(
        images, ["square", "huber"], [{0: [0, 1]}, {0: [2]}], [[2], [1]], [{}, {}]
    ).plot()
    assert [len(axis.images) for axis in disp.axes_.flat] == [1, 1, 1, 0]
    assert not disp.axes_[1, 1].axison


def test_loss_comparison_aligns_clusters_of_fewer_images_than_the_others():
    # a cluster of fewer images than n_representatives (or none) moved the later
    # clusters left, under other clusters of the rows above, where a column is to
    # show the same content in every row: each cluster has a block of columns
    images = np.arange(9, dtype=np.uint8)[:, None, None, None] * np.ones((1, 8, 8, 3), np.uint8)
    disp = LossComparisonDisplay(
        images,
        ["square", "correntropy"],
        [{0: [0, 1], 1: [2], 2: [3, 4]}, {0: [5, 6], 2: [7, 8], 1: []}],
        [np.array([8, 1, 8]), np.array([9, 0, 8])],
        [{}, {}],
    ).plot()
    assert disp.axes_.shape == (2, 6)
    drawn = [
        [int(axis.images[0].get_array()[0, 0, 0]) if axis.images else None for axis in row]
        for row in disp.axes_
    ]
    assert drawn == [[0, 1, 2, None, 3, 4], [5, 6, 7, 8, None, None]]
    assert [[axis.get_xlabel() for axis in row] for row in disp.axes_] == [
        ["c0 n=8", "c0 n=8", "c1 n=1", "", "c2 n=8", "c2 n=8"],
        ["c0 n=9", "c0 n=9", "c2 n=8", "c2 n=8", "", ""],
    ]
    assert [[axis.axison for axis in row] for row in disp.axes_] == [
        [True, True, True, False, True, True],
        [True, True, True, True, False, False],
    ]
    # the two largest clusters of the first row (0 and 2) and their counterparts
    disp.plot(max_clusters=2)
    assert [[axis.get_xlabel() for axis in row] for row in disp.axes_] == [
        ["c0 n=8", "c0 n=8", "c2 n=8", "c2 n=8"],
        ["c0 n=9", "c0 n=9", "", ""],
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda images: RepresentativesDisplay(
            images, np.array([0, 1]), np.zeros(2), {0: [0], 1: [1]}, {0: [], 1: []}
        ),
        lambda images: LossComparisonDisplay(
            images, ["square"], [{0: [0], 1: [1]}], [np.array([1, 1])], [{}]
        ),
        lambda images: FeatureMapsDisplay({1: np.ones((2, 3, 3))}, image=images[0]),
    ],
)
def test_image_grids_draw_in_the_given_figure(make):
    figure = plt.figure()
    disp = make(np.zeros((2, 8, 8, 3), np.uint8)).plot(figure=figure)
    assert disp.figure_ is figure
    assert all(axis in figure.axes for axis in np.ravel(disp.axes_))


def test_silhouette_and_representatives_on_sparse_features(image_set):
    # a clusterer fitted on sparse features: the displays failed (IndexError,
    # "setting an array element with a sequence"), and give the dense results now
    import scipy.sparse as sp

    paths, _, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    dense = SilhouetteDisplay.from_estimator(km, X)
    sparse = SilhouetteDisplay.from_estimator(km, sp.csr_matrix(X))
    np.testing.assert_allclose(sparse.silhouette_values, dense.silhouette_values)
    dense = RepresentativesDisplay.from_estimator(km, X, paths, plot=False)
    sparse = RepresentativesDisplay.from_estimator(km, sp.csr_matrix(X), paths, plot=False)
    assert sparse.representatives == dense.representatives
    assert sparse.atypical == dense.atypical


def test_representatives_display_says_what_the_clusterer_needs(image_set):
    from sklearn.mixture import GaussianMixture

    paths, _, X, _ = image_set
    gmm = GaussianMixture(3, random_state=0).fit(X)
    with pytest.raises(TypeError, match="GaussianMixture has no transform: .* LossKMeans"):
        RepresentativesDisplay.from_estimator(gmm, X, paths, plot=False)


def test_loss_comparison_on_sparse_features_and_its_sample_size(image_set):
    import scipy.sparse as sp

    paths, _, X, _ = image_set
    # (LossKMeans takes sparse input for these losses, not for the medians)
    kwargs = dict(losses=["square", "correntropy"], plot=False, random_state=0)
    estimator = LossKMeans(3, sigma=0.2, random_state=0)
    dense = LossComparisonDisplay.from_estimator(estimator, X, paths, **kwargs)
    sparse = LossComparisonDisplay.from_estimator(estimator, sp.csr_matrix(X), paths, **kwargs)
    assert sparse.representatives == dense.representatives
    for got, expected in zip(sparse.metrics, dense.metrics, strict=True):
        assert got == pytest.approx(expected)
    for sample_size in (1, 2.5, "10"):
        with pytest.raises(ValueError, match=r"sample_size must be None or an integer >= 3"):
            LossComparisonDisplay.from_estimator(
                estimator, X, paths, sample_size=sample_size, **kwargs
            )


def test_more_than_20_clusters_get_distinct_colours():
    # tab20 would repeat: cluster 20 drawn in the colour of cluster 0
    k = 30
    labels = np.repeat(np.arange(k), 3)
    rng = np.random.RandomState(0)
    disp = ClusterScatterDisplay(rng.normal(size=(3 * k, 2)), labels).plot()
    colors = {tuple(c.get_facecolor()[0]) for c in disp.axes_[0].collections}
    assert len(colors) == k
    disp = SilhouetteDisplay(rng.uniform(0, 1, 3 * k), labels).plot()
    assert len({tuple(bar.get_facecolor()) for bar in disp.ax_.patches}) == k
    images = rng.randint(0, 256, size=(k, 4, 4, 3)).astype(np.uint8)
    disp = RepresentativesDisplay(
        images, np.arange(k), np.zeros(k), {c: [c] for c in range(k)}, {}, thumbnail_size=4
    ).plot()
    frames = {tuple(axis.spines["left"].get_edgecolor()) for axis in disp.axes_[:, 0]}
    assert len(frames) == k


# ---------------------------------------------------------------------------------
# behaviour a mutation sweep of plotting.py found no test pinning down
# ---------------------------------------------------------------------------------
def test_representatives_are_ranked_by_the_cost_of_the_loss():
    # one cluster, median (0, 0): under the absolute loss (L1 cost) (3, 0) is closer
    # than (2, 2) (cost 3 < 4), although it is farther in Euclidean distance
    # (3 > 2.83); equal costs fall back to the distance, then to the sample order
    X = np.array([[0, 0], [3, 0], [2, 2], [-3, 0], [-2, -2]], float)
    km = LossKMeans(1, loss="absolute", random_state=0).fit(X)
    np.testing.assert_array_equal(km.cluster_centers_, [[0.0, 0.0]])
    disp = RepresentativesDisplay.from_estimator(
        km, X, n_representatives=3, n_atypical=3, plot=False
    )
    assert disp.representatives == {0: [0, 1, 3]}
    # only the two samples left are atypical: none is shown twice
    assert disp.atypical == {0: [4, 2]}
    np.testing.assert_array_equal(disp.cost, [0, 3, 4, 3, 4])


def test_representatives_count_a_cluster_without_samples(blobs):
    X, _ = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    present = km.labels_ != 2
    disp = RepresentativesDisplay.from_estimator(km, X[present], plot=False)
    np.testing.assert_array_equal(disp.cluster_sizes_, [*np.bincount(km.labels_)[:2], 0])
    assert disp.representatives[2] == []


def test_representatives_title_counts_in_words(image_set):
    paths, _, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    disp = RepresentativesDisplay.from_estimator(km, X, paths, n_representatives=1, n_atypical=0)
    assert disp.figure_._suptitle.get_text() == "Per cluster: the 1 image closest to the center"


def test_k_selection_display_marks_the_silhouette_choice_at_its_value():
    from robustkmeans import SelectKResult

    result = SelectKResult(
        k_values=np.array([2, 3, 4]),
        objective=np.array([9.0, 2.0, 1.5]),
        silhouette=np.array([0.7, 0.6, 0.5]),
        calinski_harabasz=np.array([1.0, 2.0, 3.0]),
        davies_bouldin=np.array([0.9, 0.8, 0.7]),
        best_k={"elbow": 3, "silhouette": 2, "calinski_harabasz": 4, "davies_bouldin": 4},
        metric="euclidean",
    )
    disp = KSelectionDisplay.from_result(result)
    assert (disp.elbow_k, disp.silhouette_k) == (3, 2)
    (star,) = [line for line in disp.ax_silhouette_.lines if line.get_marker() == "*"]
    assert list(star.get_xdata()) == [2] and list(star.get_ydata()) == [0.7]


def test_cluster_scatter_of_one_feature(blobs):
    # one column is padded with zeros for the 2-D projection, features and centers
    X = blobs[0][:, :1]
    km = LossKMeans(3, random_state=0).fit(X)
    disp = ClusterScatterDisplay.from_estimator(km, X)
    mean = X.mean()
    np.testing.assert_allclose(np.abs(disp.embedding[:, 0]), np.abs(X[:, 0] - mean))
    np.testing.assert_allclose(disp.embedding[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(np.abs(disp.centers[:, 0]), np.abs(km.cluster_centers_[:, 0] - mean))
    assert disp.axis_labels == ("PC 1 (100% var.)", "PC 2 (0% var.)")


def test_cluster_scatter_axes_give_the_explained_variance_in_percent(blobs):
    X, _ = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    disp = ClusterScatterDisplay.from_estimator(km, X)
    ratio = PCA(n_components=2).fit(X).explained_variance_ratio_
    assert disp.axis_labels == (
        f"PC 1 ({100 * ratio[0]:.0f}% var.)",
        f"PC 2 ({100 * ratio[1]:.0f}% var.)",
    )
    assert disp.ax_.get_xlabel() == disp.axis_labels[0]


def test_cluster_scatter_names_svd_axes_components_not_pcs(blobs):
    # a TruncatedSVD (sparse data) has an explained_variance_ratio_ too, but its
    # axes are not principal components (it does not center): they read "PC 1"
    from sklearn.decomposition import TruncatedSVD

    X, _ = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    svd = TruncatedSVD(n_components=2, random_state=0)
    disp = ClusterScatterDisplay.from_estimator(km, X, projection=svd)
    ratio = TruncatedSVD(n_components=2, random_state=0).fit(X).explained_variance_ratio_
    assert disp.axis_labels == (
        f"component 1 ({100 * ratio[0]:.0f}% var.)",
        f"component 2 ({100 * ratio[1]:.0f}% var.)",
    )


def test_cluster_scatter_refuses_more_classes_than_samples(blobs):
    X, y = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match="y has 61 entries for 60 samples"):
        ClusterScatterDisplay.from_estimator(km, X, y=np.r_[y, 0])


def test_silhouette_display_takes_a_random_subsample(blobs):
    # the silhouette costs O(n^2) time: a display of 200,000 samples took over half an hour
    # with no option to subsample, as select_k and the scorers have (sample_size)
    from sklearn.metrics import silhouette_score

    X, y = blobs
    disp = SilhouetteDisplay.from_predictions(X, y, sample_size=30, random_state=0)
    assert len(disp.silhouette_values) == len(disp.labels) == 30
    expected = silhouette_score(X, y, sample_size=30, random_state=0)
    assert disp.average_ == pytest.approx(expected)
    assert "random subsample of 30 of 60 samples" in disp.ax_.get_title()
    km = LossKMeans(3, random_state=0).fit(X)
    disp = SilhouetteDisplay.from_estimator(km, X, sample_size=30, random_state=0)
    assert disp.average_ == pytest.approx(
        silhouette_score(X, km.predict(X), sample_size=30, random_state=0)
    )
    assert disp.n_clusters == 3
    whole = SilhouetteDisplay.from_predictions(X, y, sample_size=60)
    assert len(whole.silhouette_values) == 60 and "subsample" not in whole.ax_.get_title()
    with pytest.raises(ValueError, match="sample_size must be None or an integer >= 3"):
        SilhouetteDisplay.from_predictions(X, y, sample_size=1)
    # (a subsample of one cluster: seed 1 leaves out the one sample of the other)
    with pytest.raises(ValueError, match="sample_size=3"):
        SilhouetteDisplay.from_predictions(X, np.r_[np.zeros(59), 1], sample_size=3, random_state=1)
    plt.close("all")


@pytest.mark.parametrize("extra", [-5, 5])
def test_silhouette_display_subsample_refuses_labels_of_another_length(blobs, extra):
    # with sample_size the labels were indexed by a subsample of X's rows before
    # any length check: more labels than samples drew a silhouette without an error,
    # where silhouette_score(..., sample_size) and sample_size=None refuse them
    X, y = blobs
    labels = np.resize(y, len(y) + extra)
    for sample_size in (None, 30):
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            SilhouetteDisplay.from_predictions(X, labels, sample_size=sample_size, random_state=0)
    plt.close("all")


@pytest.mark.parametrize("sparse", [False, True])
def test_silhouette_display_subsample_of_a_distance_matrix(blobs, sparse):
    # with metric="precomputed" the subsample took the rows of the distance matrix
    # only, as for features, and silhouette_samples refused the result ("non-zero
    # elements on the diagonal"): it takes rows and columns, as silhouette_score does
    import scipy.sparse as sp
    from sklearn.metrics import pairwise_distances

    X, y = blobs
    D = pairwise_distances(X)
    disp = SilhouetteDisplay.from_predictions(
        sp.csr_matrix(D) if sparse else D, y, metric="precomputed", sample_size=30, random_state=0
    )
    expected = silhouette_score(D, y, metric="precomputed", sample_size=30, random_state=0)
    assert disp.average_ == pytest.approx(expected)
    sub = np.random.RandomState(0).permutation(len(y))[:30]
    np.testing.assert_allclose(
        disp.silhouette_values,
        silhouette_samples(D[np.ix_(sub, sub)], y[sub], metric="precomputed"),
    )
    # (the silhouettes of the same samples, drawn from the features)
    features = SilhouetteDisplay.from_predictions(X, y, sample_size=30, random_state=0)
    np.testing.assert_allclose(disp.silhouette_values, features.silhouette_values)


def test_silhouette_display_of_many_samples_draws_one_profile_per_cluster():
    # one bar per sample took over 5 minutes and 2 GB for 200,000 samples; past a
    # few thousand each cluster is one patch, the outline of its bars
    rng = np.random.RandomState(0)
    values = rng.uniform(-0.3, 0.9, 6000)
    labels = np.repeat([0, 1, 2], 2000)
    disp = SilhouetteDisplay(values, labels).plot()
    assert len(disp.ax_.patches) == 3
    assert len({tuple(patch.get_facecolor()) for patch in disp.ax_.patches}) == 3
    # the profile spans what the bars span: each sample's row, from 0 to its value
    gap = 6000 // 50
    for cluster, patch in enumerate(disp.ax_.patches):
        vertices = patch.get_patch_transform().transform(patch.get_path().vertices)
        (x0, y0), (x1, y1) = vertices.min(axis=0), vertices.max(axis=0)
        members = values[labels == cluster]
        assert x0 == pytest.approx(min(0, members.min()), abs=1e-6)
        assert x1 == pytest.approx(members.max(), abs=1e-6)
        lower = gap + cluster * (2000 + gap)
        assert (y0, y1) == pytest.approx((lower - 0.5, lower + 2000 - 0.5), abs=1e-6)
    _rendered(disp.figure_)


def test_silhouette_display_shows_negative_values():
    values = np.array([0.9, 0.8, -0.5, 0.2])
    disp = SilhouetteDisplay(values, np.array([0, 0, 1, 1])).plot()
    assert disp.ax_.get_xlim() == pytest.approx((-0.55, 1.0))


def test_loss_comparison_scores_against_true_classes(image_set):
    # classes coarser than the clusters: the V-measure is not the homogeneity
    from sklearn.metrics import homogeneity_score, v_measure_score

    paths, _, X, y = image_set
    y = np.minimum(y, 1)
    disp = LossComparisonDisplay.from_estimator(
        LossKMeans(3, random_state=0), X, paths, y=y, losses=["square", "absolute"], plot=False
    )
    for loss, metrics in zip(disp.losses, disp.metrics, strict=True):
        labels = disp.labels_[loss]
        assert metrics["v_measure"] == pytest.approx(v_measure_score(y, labels))
        assert metrics["adjusted_rand"] == pytest.approx(adjusted_rand_score(y, labels))
        assert metrics["v_measure"] != pytest.approx(homogeneity_score(y, labels))


def test_loss_comparison_subsample_is_one_for_every_loss(image_set):
    # a RandomState instance is drawn from once: square and absolute find the same
    # groups, and score the same silhouette on the same subsample
    paths, _, X, _ = image_set
    disp = LossComparisonDisplay.from_estimator(
        LossKMeans(3, random_state=0),
        X,
        paths,
        losses=["square", "absolute"],
        sample_size=8,
        random_state=np.random.RandomState(0),
        plot=False,
    )
    square, absolute = (disp.labels_[loss] for loss in disp.losses)
    assert adjusted_rand_score(square, absolute) == 1.0
    assert disp.metrics[0]["silhouette"] == disp.metrics[1]["silhouette"]


def test_loss_comparison_names_a_callable_metric(image_set):
    def taxicab(a, b):
        return np.abs(a - b).sum()

    paths, _, X, _ = image_set
    disp = LossComparisonDisplay.from_estimator(
        LossKMeans(3, random_state=0), X, paths, losses=["square"], metric=taxicab
    )
    assert disp.silhouette_metric == "taxicab"
    expected = silhouette_score(X, disp.labels_["square"], metric="manhattan")
    assert disp.metrics[0]["silhouette"] == pytest.approx(expected)
    assert "(silhouettes: taxicab distance)" in disp.figure_._suptitle.get_text()


@requires_torch
def test_feature_maps_display_leaves_an_unfitted_featurizer_unfitted():
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    featurizer = VGG16Featurizer(weights=None, image_size=32)
    image = np.full((32, 32, 3), 128, np.uint8)
    FeatureMapsDisplay.from_estimator(featurizer, image, layers=[1], n_channels=2)
    with pytest.raises(NotFittedError):
        check_is_fitted(featurizer)


def test_cluster_scatter_of_one_sample_says_what_the_default_projection_needs(blobs):
    # PCA's own error ("n_components=2 must be between 0 and min(n_samples,
    # n_features)=1") named neither the display nor what to do
    X = blobs[0][:1]
    km = LossKMeans(1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"PCA\(n_components=2\), needs at least 2 samples"):
        ClusterScatterDisplay.from_estimator(km, X)
    plt.close("all")


@pytest.mark.parametrize("index", [range(100, 115), [f"img{i}" for i in range(15)]])
def test_image_displays_read_a_series_of_images_by_position(image_set, index):
    # a DataFrame's column of file paths, filtered or indexed by name: images[i]
    # looked the position up as an index label (KeyError)
    pd = pytest.importorskip("pandas")
    paths, _, X, _ = image_set
    series = pd.Series(paths, index=list(index))
    km = LossKMeans(3, random_state=0).fit(X)
    disp = RepresentativesDisplay.from_estimator(km, X, series, n_representatives=1, n_atypical=1)
    reference = RepresentativesDisplay.from_estimator(
        km, X, paths, n_representatives=1, n_atypical=1
    )
    for drawn, expected in zip(disp.axes_.flat, reference.axes_.flat, strict=True):
        np.testing.assert_array_equal(drawn.images[0].get_array(), expected.images[0].get_array())
    disp = LossComparisonDisplay.from_estimator(
        LossKMeans(3, random_state=0), X, series, losses=["square", "huber"]
    )
    assert disp.axes_.shape == (2, 3)


@pytest.mark.parametrize("kind", ["nan", "none"])
def test_cluster_scatter_draws_the_samples_without_a_class(blobs, kind):
    # a partly labelled set: NaN classes went undrawn under a legend entry "nan"
    # (NaN never equals itself), None among strings was a TypeError from np.unique
    X, y = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    if kind == "nan":
        y_true = y.astype(float)
        y_true[:5] = np.nan
    else:
        y_true = np.array([f"class {c}" for c in y], dtype=object)
        y_true[:5] = None
    disp = ClusterScatterDisplay.from_estimator(km, X, y=y_true)
    panel = disp.axes_[1]
    assert sum(len(c.get_offsets()) for c in panel.collections) == len(X)
    names = [text.get_text() for text in panel.get_legend().get_texts()]
    assert names[-1] == "no label" and len(names) == 4
    np.testing.assert_allclose(panel.collections[-1].get_offsets(), disp.embedding[:5])
    _rendered(disp.figure_)


def test_silhouette_display_names_a_callable_metric(blobs):
    # the x-axis label showed the function's repr, "<function taxicab at 0x...>"
    def taxicab(a, b):
        return np.abs(a - b).sum()

    X, y = blobs
    disp = SilhouetteDisplay.from_predictions(X, y, metric=taxicab)
    assert disp.ax_.get_xlabel() == "silhouette (taxicab)"
    assert disp.average_ == pytest.approx(silhouette_score(X, y, metric="manhattan"))


def test_representatives_title_without_representatives(image_set):
    # n_representatives=0 was titled "the 0 images closest to the center, then..."
    paths, _, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    disp = RepresentativesDisplay.from_estimator(km, X, paths, n_representatives=0, n_atypical=2)
    assert disp.figure_._suptitle.get_text() == (
        "Per cluster: the 2 most atypical images (dashed black frame; largest cost)"
    )


def test_k_selection_display_redrawn_on_its_axes_replaces_its_curves(blobs):
    # the twin (silhouette) was replaced, but the objective curve and elbow line of
    # the earlier plot stayed on ax, outside the legend, beside the new ones
    X, _ = blobs
    fig, ax = plt.subplots()
    first = select_k(LossKMeans(n_init=1), X, range(1, 6), random_state=0)
    second = select_k(LossKMeans(n_init=1), X, range(2, 8), random_state=0)
    KSelectionDisplay.from_result(first, ax=ax)
    disp = KSelectionDisplay.from_result(second, ax=ax)
    assert len(fig.axes) == 2
    assert disp.line_objective_ in ax.lines
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), second.k_values)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert len(ax.lines) == sum(not name.startswith(("mean", "best")) for name in legend)


@pytest.mark.parametrize("layout", [None, "constrained", "tight", "switched off"])
def test_k_selection_display_legend_lies_in_the_figure_of_a_given_ax(blobs, layout):
    # on an ax of the user's (plt.subplots(), no layout engine) the legend hung
    # below the axes, outside the figure: the elbow and best-silhouette k were lost
    X, _ = blobs
    result = select_k(LossKMeans(n_init=1), X, range(1, 6), random_state=0)
    fig, ax = plt.subplots(layout="constrained" if layout == "switched off" else layout)
    if layout == "switched off":
        fig.set_layout_engine("none")  # (a place holder engine, which lays out nothing)
    disp = KSelectionDisplay.from_result(result, ax=ax)
    for display in (disp, KSelectionDisplay.from_result(result)):
        figure = display.figure_
        figure.canvas.draw()
        box = display.ax_.get_legend().get_window_extent()
        assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1
        assert figure.bbox.y0 <= box.y0 and box.y1 <= figure.bbox.y1


def test_silhouette_colours_match_the_other_figures_when_a_cluster_is_absent():
    # the command line draws the silhouettes of a subsample, which can miss a small
    # cluster: clusters were coloured by their rank among those present, so cluster 2
    # took cluster 1's colour in silhouette.png, unlike scatter.png and
    # representatives.png, which colour cluster c with the c-th colour of k
    rng = np.random.RandomState(0)
    labels = np.array([0, 0, 0, 2, 2, 2])  # cluster 1 of 3 absent
    X = rng.normal(size=(6, 2)) + 5 * labels[:, None]
    scatter = ClusterScatterDisplay(X, np.array([0, 0, 1, 2, 2, 2])).plot()
    expected = {c: tuple(h.get_facecolor()[0]) for c, h in enumerate(scatter.ax_.collections)}
    disp = SilhouetteDisplay.from_predictions(X, labels, n_clusters=3)
    drawn = {tuple(bar.get_facecolor()) for bar in disp.ax_.patches}
    assert drawn == {expected[0][:3] + (1.0,), expected[2][:3] + (1.0,)}
    # more clusters than a palette of the clusters present holds: the same colours
    k = 12
    full = np.repeat(np.arange(k), 3)
    present = full[full != k - 1]  # the last cluster absent: 11 present, 12 fitted
    scatter = ClusterScatterDisplay(rng.normal(size=(3 * k, 2)), full).plot()
    expected = [tuple(h.get_facecolor()[0])[:3] for h in scatter.ax_.collections]
    disp = SilhouetteDisplay(rng.uniform(0, 1, present.size), present, n_clusters=k).plot()
    drawn = {tuple(bar.get_facecolor())[:3] for bar in disp.ax_.patches}
    assert drawn == set(expected[: k - 1])
    # without n_clusters, as before: the clusters present, in order
    disp = SilhouetteDisplay(np.ones(4), np.array([0, 0, 2, 2])).plot()
    assert disp.n_clusters is None


#: the displays that colour cluster c in its colour of n_clusters, each from two
#: samples of the given labels (what their n_clusters checks are run on)
N_CLUSTERS_DISPLAYS = {
    "silhouette": lambda labels, n: SilhouetteDisplay(np.ones(2), labels, n_clusters=n),
    "cluster_scatter": lambda labels, n: ClusterScatterDisplay(np.eye(2), labels, n_clusters=n),
}


@pytest.mark.parametrize("display", N_CLUSTERS_DISPLAYS)
@pytest.mark.parametrize(
    "n_clusters, labels, message",
    [
        (0, [0, 1], "n_clusters must be an integer >= 1 or None, got 0"),
        (2, [0, 2], "labels must be integers from 0 to 1; got [0, 2]"),
        (3, ["a", "b"], "labels must be integers from 0 to 2"),
    ],
)
# (string labels gave numpy < 1.25's "elementwise comparison failed" FutureWarning
# before the error: the minimum-versions environment)
@pytest.mark.filterwarnings("error::FutureWarning")
def test_n_clusters_is_checked(display, n_clusters, labels, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        N_CLUSTERS_DISPLAYS[display](np.array(labels), n_clusters).plot()


def test_silhouette_from_estimator_colours_clusters_as_the_estimator_numbers_them(blobs):
    # from_estimator left n_clusters out: on data where a cluster is absent (new
    # samples, a subsample) cluster 2 was drawn in cluster 1's colour, unlike the
    # representatives and a scatter of the whole set
    from sklearn.cluster import DBSCAN, AgglomerativeClustering

    X, _ = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    scatter = ClusterScatterDisplay.from_estimator(km, X)
    expected = [tuple(h.get_facecolor()[0])[:3] for h in scatter.ax_.collections[:3]]
    labels = km.predict(X)
    subset = X[labels != 1]
    disp = SilhouetteDisplay.from_estimator(km, subset)
    assert disp.n_clusters == 3
    drawn = {tuple(bar.get_facecolor())[:3] for bar in disp.ax_.patches}
    assert drawn == {expected[0], expected[2]}
    # the same through a Pipeline, and from the parameter of a clusterer without centers
    pipe = Pipeline([("pca", PCA(2)), ("km", LossKMeans(3, random_state=0))]).fit(X)
    assert SilhouetteDisplay.from_estimator(pipe, X).n_clusters == 3
    assert SilhouetteDisplay.from_estimator(AgglomerativeClustering(3).fit(X), X).n_clusters == 3
    # no number of clusters, and labels that are no cluster numbers (DBSCAN's noise,
    # -1): the clusters present, in order, as before
    dbscan = DBSCAN(eps=1.0).fit(X)
    assert -1 in dbscan.labels_
    assert SilhouetteDisplay.from_estimator(dbscan, X).n_clusters is None
    assert _estimator_n_clusters(km, np.array([-1, 0, 2])) is None
    assert _estimator_n_clusters(km, np.array([0, 3])) is None
    # an explicit choice wins
    assert SilhouetteDisplay.from_estimator(km, subset, n_clusters=None).n_clusters is None
    assert SilhouetteDisplay.from_estimator(km, subset, n_clusters=5).n_clusters == 5


@pytest.mark.parametrize("layout", [None, "constrained", "switched off"])
@pytest.mark.parametrize("shape", ["rising", "peak", "late peak", "falling"])
def test_k_selection_display_legend_covers_no_curve(layout, shape):
    # inside the axes (no layout engine), loc="best" avoided the objective curve
    # alone: the legend lay over the silhouette curve of the twin axes, which was
    # also drawn over it
    k = np.arange(2, 11)
    silhouette = {
        "rising": np.linspace(0.3, 0.8, k.size),
        "peak": 0.7 - 0.02 * (k - 4.0) ** 2,
        "late peak": 0.7 - 0.02 * (k - 8.0) ** 2,
        "falling": np.linspace(0.8, 0.3, k.size),
    }[shape]
    fig, ax = plt.subplots(layout="constrained" if layout == "switched off" else layout)
    if layout == "switched off":
        fig.set_layout_engine("none")
    disp = KSelectionDisplay(
        k, 1000.0 / k, silhouette=silhouette, elbow_k=4, silhouette_k=int(k[silhouette.argmax()])
    ).plot(ax=ax)
    fig.canvas.draw()
    legend = disp.ax_.get_legend()
    box = legend.get_window_extent()
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
    for line in (disp.line_objective_, disp.line_silhouette_):
        points = line.get_transform().transform(np.c_[line.get_xdata(), line.get_ydata()])
        assert box.count_contains(points) == 0, line.get_label()
        path = line.get_transform().transform_path(line.get_path())
        assert not path.intersects_bbox(box, filled=False), line.get_label()
    if disp.ax_.bbox.overlaps(box):
        # inside the axes, it is drawn above the silhouette curve too
        assert disp.ax_.get_zorder() > disp.ax_silhouette_.get_zorder()


def test_k_selection_display_inside_legend_keeps_the_axes_background():
    # the axes drawn above the silhouette twin lend it their background: once, also
    # when drawn again on the same axes, and given back to a plot without a twin
    fig, ax = plt.subplots()
    ax.set_facecolor("lavender")
    disp = KSelectionDisplay([2, 3, 4], [9.0, 2.0, 1.5], silhouette=[0.5, 0.7, 0.6])
    for _ in range(2):
        disp.plot(ax=ax)
        backgrounds = [a.patch for a in fig.axes if a.patch.get_visible()]
        assert backgrounds == [disp.ax_silhouette_.patch]
        assert backgrounds[0].get_facecolor() == ax.patch.get_facecolor()
    KSelectionDisplay([2, 3, 4], [9.0, 2.0, 1.5]).plot(ax=ax)
    assert [a.patch for a in fig.axes if a.patch.get_visible()] == [ax.patch]


def _scatter_colors(display):
    """Cluster -> colour (RGB) of the clusters panel of a ClusterScatterDisplay."""
    legend = display.ax_.get_legend()
    handles = getattr(legend, "legend_handles", None)  # (legendHandles before matplotlib 3.7)
    handles = legend.legendHandles if handles is None else handles
    return {
        text.get_text(): tuple(handle.get_facecolor()[0])[:3]
        for text, handle in zip(legend.get_texts(), handles, strict=True)
        if text.get_text() != "centers"
    }


def test_cluster_scatter_colours_clusters_as_the_estimator_numbers_them(blobs):
    # the scatter coloured the clusters present by their rank: on new data missing
    # cluster 1, cluster 2 took cluster 1's colour, unlike the silhouette and
    # representatives figures of the same clusterer
    from sklearn.cluster import DBSCAN

    X, y = blobs
    km = LossKMeans(3, random_state=0).fit(X)
    full = _scatter_colors(ClusterScatterDisplay.from_estimator(km, X))
    assert len(set(full.values())) == 3
    subset = X[km.predict(X) != 1]
    disp = ClusterScatterDisplay.from_estimator(km, subset, y=y[km.predict(X) != 1])
    assert disp.n_clusters == 3
    assert _scatter_colors(disp) == {"0": full["0"], "2": full["2"]}
    silhouette = SilhouetteDisplay.from_estimator(km, subset)
    assert {tuple(bar.get_facecolor())[:3] for bar in silhouette.ax_.patches} == {
        full["0"],
        full["2"],
    }
    # the constructor, with more clusters than the palette of those present holds
    k = 12
    labels = np.repeat(np.arange(k), 2)
    embedding = np.random.RandomState(0).normal(size=(2 * k, 2))
    full = _scatter_colors(ClusterScatterDisplay(embedding, labels).plot())
    present = labels != 1
    disp = ClusterScatterDisplay(embedding[present], labels[present], n_clusters=k).plot()
    assert _scatter_colors(disp) == {c: full[c] for c in full if c != "1"}
    # None, or labels that are no cluster numbers below the count (DBSCAN's -1):
    # the clusters present, in order, as before
    disp = ClusterScatterDisplay.from_estimator(km, subset, n_clusters=None)
    assert disp.n_clusters is None
    assert list(_scatter_colors(disp).values()) == _scatter_colors_of_rank(2)
    dbscan = DBSCAN(eps=1.0).fit(X)
    assert ClusterScatterDisplay.from_estimator(dbscan, X).n_clusters is None


def _scatter_colors_of_rank(n):
    labels = np.arange(n)
    return list(_scatter_colors(ClusterScatterDisplay(np.eye(n, 2), labels).plot()).values())


def test_representatives_colour_a_cluster_by_its_number(image_set):
    # a display of some of the clusters (the constructor's dict holds clusters 0
    # and 2 of 3) coloured its rows by rank: cluster 2 in cluster 1's colour of
    # the scatter and silhouette figures
    paths, _, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    scatter = _scatter_colors(ClusterScatterDisplay.from_estimator(km, X))
    full = RepresentativesDisplay.from_estimator(km, X, paths, n_atypical=0)

    def row_colors(display):
        return [axis.yaxis.label.get_color()[:3] for axis in display.axes_[:, 0]]

    assert row_colors(full) == [scatter["0"], scatter["1"], scatter["2"]]
    labels = km.labels_
    some = RepresentativesDisplay(
        paths,
        labels,
        np.zeros(len(paths)),
        {c: full.representatives[c] for c in (0, 2)},
        {0: [], 2: []},
    ).plot()
    assert row_colors(some) == [scatter["0"], scatter["2"]]
    # (a frame around each representative, in its cluster's colour)
    assert some.axes_[1, 0].spines["top"].get_edgecolor()[:3] == scatter["2"]


def test_k_selection_display_says_when_its_silhouette_is_of_a_subsample(blobs):
    # select_k's sample_size drew the silhouette of a subsample as a bare "mean
    # silhouette"; only the command line labelled it, by hand
    X, _ = blobs
    estimator = LossKMeans(n_init=1, random_state=0)
    result = select_k(estimator, X, [2, 3, 4], sample_size=20, random_state=0)
    for disp in (
        KSelectionDisplay.from_result(result),
        KSelectionDisplay.from_estimator(estimator, X, [2, 3, 4], sample_size=20, random_state=0),
    ):
        assert (disp.sample_size, disp.n_samples) == (20, 60)
        assert disp.ax_.get_title() == (
            "Choosing k\n(silhouette on a random subsample of 20 of 60 samples)"
        )
        assert disp.ax_silhouette_.get_ylabel() == "mean silhouette (subsample of 20)"
        assert disp.line_silhouette_.get_label() == "mean silhouette (subsample of 20)"
        legend = [text.get_text() for text in disp.ax_.get_legend().get_texts()]
        assert "mean silhouette (subsample of 20)" in legend and "mean silhouette" not in legend
    # the constructor: without n_samples, and no subsample (every sample)
    kwargs = {"silhouette": np.array([0.5, 0.6, 0.4])}
    disp = KSelectionDisplay([2, 3, 4], [3.0, 2.0, 1.0], sample_size=20, **kwargs).plot()
    assert disp.ax_.get_title() == "Choosing k\n(silhouette on a random subsample of 20 samples)"
    for sample_size, n_samples in ((None, 60), (60, 60), (None, None)):
        disp = KSelectionDisplay(
            [2, 3, 4], [3.0, 2.0, 1.0], sample_size=sample_size, n_samples=n_samples, **kwargs
        ).plot()
        assert disp.ax_.get_title() == "Choosing k"
        assert disp.ax_silhouette_.get_ylabel() == "mean silhouette"
    result = select_k(estimator, X, [2, 3, 4], random_state=0)
    assert KSelectionDisplay.from_result(result).ax_.get_title() == "Choosing k"


_SUBSAMPLE = "sample_size must be None or an integer >= 3 (a silhouette needs 2 to n - 1 clusters"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sample_size": 1}, _SUBSAMPLE),
        ({"sample_size": 2}, _SUBSAMPLE),
        ({"sample_size": 2.5}, _SUBSAMPLE),
        ({"n_samples": 0}, "n_samples must be None or an integer >= 1, got 0"),
    ],
)
def test_k_selection_display_checks_the_subsample(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        KSelectionDisplay([2, 3], [2.0, 1.0], silhouette=np.array([0.5, 0.6]), **kwargs).plot()


def _texts_outside(figure):
    """The non-empty titles of ``figure`` that reach past its edges once drawn."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    outside = []
    for text in (figure._suptitle, *(sub._suptitle for sub in figure.subfigs)):
        if text is None or not text.get_text():
            continue
        box = text.get_window_extent(renderer)
        if box.x0 < figure.bbox.x0 - 1 or box.x1 > figure.bbox.x1 + 1:
            outside.append(text.get_text())
    return outside


@pytest.mark.parametrize(
    "draw",
    [
        lambda km, X, images: RepresentativesDisplay.from_estimator(
            km, X, images, n_representatives=1, n_atypical=0
        ),
        lambda km, X, images: RepresentativesDisplay.from_estimator(
            km, X, images, n_representatives=2, n_atypical=1
        ),
        lambda km, X, images: LossComparisonDisplay.from_estimator(km, X, images),
    ],
    ids=["representatives-1", "representatives-2+1", "loss-comparison"],
)
def test_titles_fit_in_the_figure_drawn_for_few_columns(image_set, draw):
    # a figure sized for two or three thumbnails cut its title at both edges when
    # saved or shown as it is ("presentative per cluster, for each loss (silhouettes:
    # euclidean distanc"); only bbox_inches="tight" (the command line, notebooks)
    # showed it whole
    _, arrays, X, _ = image_set
    km = LossKMeans(2, random_state=0).fit(X)
    assert _texts_outside(draw(km, X, arrays).figure_) == []


def _drawn_without_layout_engine(disp):
    """A grid display placed by fixed margins (no layout engine), drawn: its figure,
    renderer, figure frame and the window extents of its axes, row by row."""
    figure = disp.figure_
    assert figure.get_layout_engine() is None
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [[axis.get_window_extent(renderer) for axis in row] for row in disp.axes_]
    return figure, renderer, figure.bbox, boxes


def test_a_large_representatives_grid_is_laid_out_without_overlaps():
    # constrained layout's cost grows with the square of the axes (80 clusters:
    # 17 s to draw and save; 440: more than 12 minutes): a grid of more than
    # _CONSTRAINED_MAX_AXES axes is placed by fixed margins, with the title above the
    # first row, each thumbnail's title between the rows and the row labels inside
    from robustkmeans.plotting import _CONSTRAINED_MAX_AXES

    k = _CONSTRAINED_MAX_AXES // 3 + 1
    images = np.random.default_rng(0).integers(0, 255, (3 * k, 8, 8, 3), dtype=np.uint8)
    disp = RepresentativesDisplay(
        images,
        np.repeat(np.arange(k), 3),
        np.linspace(0, 1, 3 * k),
        representatives={c: [3 * c] for c in range(k)},
        atypical={c: [3 * c + 1, 3 * c + 2] for c in range(k)},
    ).plot()
    figure, renderer, frame, boxes = _drawn_without_layout_engine(disp)
    titles = [[axis.title.get_window_extent(renderer) for axis in row] for row in disp.axes_]
    labels = [row[0].yaxis.label.get_window_extent(renderer) for row in disp.axes_]
    (suptitle,) = [t for t in figure.texts if t.get_text().startswith("Per cluster")]
    suptitle = suptitle.get_window_extent(renderer)
    assert suptitle.y0 >= max(t.y1 for t in titles[0]) - 1  # above the first row
    assert frame.x0 <= suptitle.x0 and suptitle.x1 <= frame.x1 and suptitle.y1 <= frame.y1
    for row in range(k):
        assert labels[row].x0 >= frame.x0  # the row label inside the figure
        for col in range(3):
            assert titles[row][col].y0 >= boxes[row][col].y1 - 1  # above its axes
            if row:
                assert titles[row][col].y1 <= boxes[row - 1][col].y0 + 1  # below the row above
            if col:
                assert boxes[row][col].x0 >= boxes[row][col - 1].x1  # side by side
    assert min(b.y0 for b in boxes[-1]) >= frame.y0


def test_titles_do_not_resize_a_figure_passed_in(image_set):
    _, arrays, X, _ = image_set
    km = LossKMeans(2, random_state=0).fit(X)
    figure = plt.figure(figsize=(3, 3))
    RepresentativesDisplay.from_estimator(km, X, arrays, figure=figure)
    assert tuple(figure.get_size_inches()) == (3, 3)


@pytest.fixture(params=["svg", "pdf", "ps"])
def backend_without_agg(request):
    yield request.param
    plt.switch_backend("agg")


def test_image_grids_draw_under_backends_without_agg(backend_without_agg):
    # the title fitting took canvas.get_renderer(), which only Agg canvases have:
    # under the svg, pdf and ps backends (MPLBACKEND=pdf) plot() raised AttributeError
    images = np.zeros((3, 8, 8, 3), np.uint8)
    widths = {}
    for backend in ["agg", backend_without_agg]:
        plt.switch_backend(backend)
        figures = [
            RepresentativesDisplay(
                images, np.array([0, 0, 1]), np.array([0.1, 0.5, 0.0]), {0: [0], 1: [2]}, {0: [1]}
            )
            .plot()
            .figure_,
            LossComparisonDisplay(
                images[:2],
                ["square"],
                [{0: [0], 1: [1]}],
                [np.array([1, 1])],
                [{"objective": 0.0}],
                silhouette_metric="euclidean",
            )
            .plot()
            .figure_,
        ]
        assert all(backend in type(figure.canvas).__module__ for figure in figures)
        for figure in figures:
            figure.savefig(io.BytesIO(), format="png" if backend == "agg" else backend)
        widths[backend] = [figure.get_figwidth() for figure in figures]
    # widened to fit the titles, as under Agg (up to the renderers' text metrics)
    assert widths["agg"][0] > 1.5 * 2 + 1.2 and widths["agg"][1] > 1.35 * 2 + 0.8
    assert widths[backend_without_agg] == pytest.approx(widths["agg"], rel=0.02)


def test_a_fitted_search_is_drawn_as_its_best_estimator(blobs):
    # the scorers score a fitted search as its best_estimator_ (178c6cd); the
    # displays drew its raw X, found no centers and no number of clusters
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import StandardScaler

    from robustkmeans.metrics import silhouette_scorer
    from robustkmeans.model_selection import WholeSetSplit

    X, _ = blobs
    X = X * [1.0, 50.0, 1.0, 1.0] + [0.0, 1000.0, 0.0, 0.0]  # the scaler matters
    pipe = Pipeline([("scale", StandardScaler()), ("kmeans", LossKMeans(loss="absolute"))])
    grid = {"kmeans__n_clusters": [2, 3], "kmeans__random_state": [0]}
    search = GridSearchCV(pipe, grid, scoring=silhouette_scorer, cv=WholeSetSplit()).fit(X)
    # a Pipeline ending in the search, and the search itself
    outer = Pipeline([("identity", "passthrough"), ("search", search)])
    best = search.best_estimator_
    for estimator in (search, outer):
        scatter = ClusterScatterDisplay.from_estimator(estimator, X)
        reference = ClusterScatterDisplay.from_estimator(best, X)
        np.testing.assert_allclose(scatter.embedding, reference.embedding)
        np.testing.assert_allclose(scatter.centers, reference.centers)
        assert scatter.n_clusters == best[-1].n_clusters
        silhouette = SilhouetteDisplay.from_estimator(estimator, X)
        assert silhouette.metric == "manhattan"
        assert silhouette.n_clusters == best[-1].n_clusters
        reps = RepresentativesDisplay.from_estimator(estimator, X, plot=False)
        reference = RepresentativesDisplay.from_estimator(best, X, plot=False)
        assert reps.representatives == reference.representatives


# ---------------------------------------------------------------------------------
# ClusterScatterDisplay at scale
# ---------------------------------------------------------------------------------
def test_small_scatter_is_drawn_as_plain_matplotlib_draws_it():
    # below plotting._MAX_VECTOR_POINTS the display is what it always was: one
    # scatter per group (s=18, alpha 0.8), the centers as black crosses, the legend
    # where matplotlib's loc="best" puts it, the markers vector paths in SVG and PDF
    rng = np.random.RandomState(0)
    embedding = rng.normal(size=(40, 2))
    labels = rng.randint(3, size=40)
    centers = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    disp = ClusterScatterDisplay(embedding, labels, centers=centers, n_clusters=3).plot()
    figure, axis = plt.subplots(figsize=(5.2, 4.6))
    handles = [
        axis.scatter(*embedding[labels == c].T, s=18, color=color, alpha=0.8)
        for c, color in enumerate(plt.get_cmap("tab10").colors[:3])
    ]
    handles.append(axis.scatter(*centers.T, marker="X", s=160, c="k", edgecolors="w"))
    axis.legend(handles, ["0", "1", "2", "centers"], fontsize="small", markerscale=1.2, loc="best")
    axis.set_xlabel("PC 1")
    axis.set_ylabel("PC 2")
    axis.set_title("clusters")
    np.testing.assert_array_equal(_rendered(disp.figure_), _rendered(figure))
    assert not any(c.get_rasterized() for c in disp.ax_.collections)


def _spy_best_position(monkeypatch):
    """Count the calls of matplotlib's search for the legend's "best" location."""
    from matplotlib.legend import Legend

    calls = []
    search = Legend._find_best_position

    def spy(self, *args, **kwargs):
        calls.append(self)
        return search(self, *args, **kwargs)

    monkeypatch.setattr(Legend, "_find_best_position", spy)
    return calls


def test_large_scatter_rasterizes_points_and_places_its_legend_itself(monkeypatch):
    # 200,000 points took 9 s to save as PNG, 8 of them in matplotlib's loc="best"
    # (it counts every point against each candidate box, at each draw), and 36 s
    # and 59 MB as SVG (one vector marker per point)
    import robustkmeans.plotting as plotting

    monkeypatch.setattr(plotting, "_MAX_VECTOR_POINTS", 100)
    calls = _spy_best_position(monkeypatch)
    rng = np.random.RandomState(0)
    # the axes filled but for their lower left corner
    embedding = rng.uniform(0, 3, size=(1000, 2))
    embedding = embedding[(embedding[:, 0] > 1.2) | (embedding[:, 1] > 1.2)]
    labels = rng.randint(3, size=len(embedding))
    y = np.array(["a", "b"])[labels % 2]
    disp = ClusterScatterDisplay(embedding, labels, centers=np.ones((3, 2)), y_true=y).plot()
    for axis in disp.axes_:
        points = axis.collections[:-1] if axis is disp.ax_ else axis.collections
        assert all(c.get_rasterized() for c in points)
    assert not disp.ax_.collections[-1].get_rasterized()  # (the centers)
    svg = io.BytesIO()
    disp.figure_.savefig(svg, format="svg")
    # the points are one image per panel (in vector, two markers a point, <use> as
    # the glyphs of the text are); the legend's and the centers' markers vectors
    assert svg.getvalue().count(b"<image") == 2
    assert svg.getvalue().count(b"<use ") < len(embedding) / 2
    image = _rendered(disp.figure_)
    assert calls == []
    # the legend in the ninth of the axes holding the fewest points
    for axis in disp.axes_:
        box = axis.get_legend().get_window_extent().transformed(axis.transAxes.inverted())
        assert box.x0 < 1 / 3 and box.y0 < 1 / 3, axis.get_title()
    # the same PNG as the display drawn in vector, legend where loc="best" puts it
    monkeypatch.setattr(plotting, "_MAX_VECTOR_POINTS", 10_000)
    vector = ClusterScatterDisplay(embedding, labels, centers=np.ones((3, 2)), y_true=y).plot()
    np.testing.assert_array_equal(image, _rendered(vector.figure_))
    assert len(calls) > 0


def test_scatter_legend_of_many_clusters_stays_beside_the_axes():
    # 60 clusters: 61 rows of legend ran over the axes, their tick labels and the
    # figure's bottom (a scatter.png 1182 pixels high); 18 rows still fit inside
    rng = np.random.RandomState(0)
    for k, outside in [(17, False), (60, True)]:
        labels = np.arange(3 * k) % k
        y = labels % (k // 2)  # as many classes as half the clusters
        disp = ClusterScatterDisplay(
            rng.normal(size=(3 * k, 2)), labels, centers=rng.normal(size=(k, 2)), y_true=y
        ).plot()
        disp.figure_.canvas.draw()
        axes = [axis.get_window_extent() for axis in disp.axes_]
        legends = [axis.get_legend().get_window_extent() for axis in disp.axes_]
        figure = disp.figure_.bbox
        for axis, legend in zip(axes, legends, strict=True):
            assert legend.height <= axis.height
            assert figure.x0 <= legend.x0 and legend.x1 <= figure.x1
            if outside:
                assert legend.x0 >= axis.x1  # beside the axes, not on the points
            else:
                assert axis.x0 <= legend.x0 and legend.x1 <= axis.x1
        assert legends[0].x1 <= axes[1].x0  # not on the second panel
        texts = [t.get_text() for t in disp.ax_.get_legend().get_texts()]
        assert texts == [str(c) for c in range(k)] + ["centers"]


def test_representatives_take_the_own_costs_chunk_by_chunk(monkeypatch):
    # the n x k cost matrix was made whole, and copied to float64: 200,000 samples
    # and 200 clusters took 450 MB beyond the data
    import robustkmeans.metrics
    import robustkmeans.plotting as plotting

    monkeypatch.setattr(robustkmeans.metrics, "_MAX_COST_VALUES", 200)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    km = LossKMeans(n_clusters=7, loss="huber", n_init=1, random_state=0).fit(X)
    costs = km.transform(X)
    rows = []

    def transform(data):
        rows.append(data.shape[0])
        return type(km).transform(km, data)

    monkeypatch.setattr(km, "transform", transform, raising=False)
    own, labels, sizes, closest, atypical = plotting._pick_members(km, X, 2, 1)
    assert max(rows) * 7 <= 200 and sum(rows) == 300
    labels_ = km.predict(X)
    np.testing.assert_array_equal(labels, labels_)
    np.testing.assert_array_equal(own, costs[np.arange(300), labels_].astype(float))
    assert own.dtype == np.float64
    for cluster in range(7):
        members = np.flatnonzero(labels_ == cluster)
        first = members[np.argsort(own[members], kind="stable")]
        assert closest[cluster][0] == first[0]


def _loss_comparison(k, losses=("square", "huber"), n_per_cluster=1):
    """A LossComparisonDisplay of ``k`` clusters (cluster c of size c + 1) per loss,
    the second loss's clusters in the reverse order (as matched to the first's)."""
    images = np.random.default_rng(0).integers(0, 255, (k, 8, 8, 3), dtype=np.uint8)
    first = {c: [c] * n_per_cluster for c in range(k)}
    reps = [first, *({c: [c] * n_per_cluster for c in reversed(range(k))} for _ in losses[1:])]
    sizes = [np.arange(1, k + 1) for _ in losses]
    metrics = [{"objective": 1.0, "silhouette": 0.5} for _ in losses]
    return LossComparisonDisplay(images, list(losses), reps, sizes, metrics)


def test_a_large_loss_comparison_is_laid_out_without_overlaps():
    # one column per cluster in every loss's row, in constrained layout whose cost
    # grows with the square of the axes (40 clusters of six losses: 15 s to draw
    # and save from Python; the command line capped its figure): a grid of more
    # than _CONSTRAINED_MAX_AXES axes is placed by fixed margins, as the
    # representatives' grid is, with the title above the first row's title, each
    # row's title above its thumbnails, their labels below them, above the next row
    from robustkmeans.plotting import _CONSTRAINED_MAX_AXES

    k = _CONSTRAINED_MAX_AXES // 2 + 1
    disp = _loss_comparison(k).plot()
    figure, renderer, frame, boxes = _drawn_without_layout_engine(disp)
    xlabels = [[axis.xaxis.label.get_window_extent(renderer) for axis in row] for row in disp.axes_]
    ylabels = [row[0].yaxis.label.get_window_extent(renderer) for row in disp.axes_]
    titles = [title.get_window_extent(renderer) for title in disp.row_titles_]
    (suptitle,) = [t for t in figure.texts if t.get_text().startswith("Representative")]
    suptitle = suptitle.get_window_extent(renderer)
    assert suptitle.y0 >= titles[0].y1  # above the first row's title
    assert frame.x0 <= suptitle.x0 and suptitle.x1 <= frame.x1 and suptitle.y1 <= frame.y1
    for row in range(len(disp.losses)):
        assert frame.x0 <= titles[row].x0 and titles[row].x1 <= frame.x1
        assert ylabels[row].x0 >= frame.x0  # the loss's name inside the figure
        assert titles[row].y0 >= max(b.y1 for b in boxes[row])  # the row's title above it
        if row:
            assert titles[row].y1 <= min(x.y0 for x in xlabels[row - 1])  # below the row above
        for col in range(k):
            assert xlabels[row][col].y1 <= boxes[row][col].y0 + 1  # below its thumbnail
            if col:
                assert boxes[row][col].x0 >= boxes[row][col - 1].x1  # side by side
                assert xlabels[row][col].x0 >= xlabels[row][col - 1].x1  # labels too
    assert min(x.y0 for x in xlabels[-1]) >= frame.y0
    assert max(b.x1 for b in boxes[0]) <= frame.x1


def test_a_small_loss_comparison_keeps_constrained_layout():
    from robustkmeans.plotting import _CONSTRAINED_MAX_AXES

    disp = _loss_comparison(_CONSTRAINED_MAX_AXES // 2).plot()
    assert disp.figure_.get_layout_engine() is not None


def test_loss_comparison_draws_the_largest_clusters_on_request():
    # max_clusters: the columns of the first loss's largest clusters (in their
    # order) and, in the other rows, the columns matched to them; the display
    # keeps every cluster, and the title says which are drawn
    disp = _loss_comparison(5, losses=("square", "huber", "cauchy"), n_per_cluster=2)
    disp.plot(max_clusters=2)
    assert disp.axes_.shape == (3, 4)
    assert [a.get_xlabel() for a in disp.axes_[0]] == ["c3 n=4"] * 2 + ["c4 n=5"] * 2
    assert [a.get_xlabel() for a in disp.axes_[1]] == ["c1 n=2"] * 2 + ["c0 n=1"] * 2
    assert all(len(reps) == 5 for reps in disp.representatives)
    title = disp.figure_.texts[-1].get_text()
    assert "the 2 largest clusters of square (of 5)" in title
    for max_clusters in (5, None):
        disp.plot(max_clusters=max_clusters)
        assert disp.axes_.shape == (3, 10)
        assert "largest" not in disp.figure_.texts[-1].get_text()


@pytest.mark.parametrize("max_clusters", [0, -1, 2.5, "3", True])
def test_loss_comparison_max_clusters_must_be_a_positive_integer(max_clusters):
    bad = re.escape(f"got {max_clusters!r}.")
    with pytest.raises(ValueError, match=f"max_clusters must be None or an integer >= 1 .*{bad}"):
        _loss_comparison(3).plot(max_clusters=max_clusters)


def test_loss_comparison_from_estimator_passes_max_clusters(image_set):
    _, arrays, X, _ = image_set
    disp = LossComparisonDisplay.from_estimator(
        LossKMeans(3, random_state=0), X, arrays, losses=["square", "huber"], max_clusters=2
    )
    assert disp.axes_.shape == (2, 2)
    assert all(len(reps) == 3 for reps in disp.representatives)
    with pytest.raises(ValueError, match="max_clusters must be None or an integer >= 1"):
        LossComparisonDisplay.from_estimator(
            LossKMeans(3), X, arrays, losses=["square"], max_clusters=0, plot=False
        )


def _representatives(sizes):
    """A RepresentativesDisplay of clusters of ``sizes``: each cluster's first
    sample its representative, its second (if any) its atypical image."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    images = np.random.default_rng(0).integers(0, 255, (labels.size, 8, 8, 3), dtype=np.uint8)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    return RepresentativesDisplay(
        images,
        labels,
        np.linspace(0, 1, labels.size),
        representatives={c: [int(s)] for c, s in enumerate(starts)},
        atypical={
            c: [int(s) + 1] if n > 1 else []
            for c, (s, n) in enumerate(zip(starts, sizes, strict=True))
        },
    )


def test_representatives_draw_the_largest_clusters_on_request():
    # max_clusters, as LossComparisonDisplay's: the rows of the largest clusters
    # (ties: the lower index), in cluster order; the display keeps every cluster,
    # and the title says which are drawn
    disp = _representatives([3, 1, 3, 2, 1]).plot(max_clusters=3)
    assert disp.axes_.shape == (3, 2)
    labels = [row[0].get_ylabel() for row in disp.axes_]
    assert labels == ["cluster 0\nn=3", "cluster 2\nn=3", "cluster 3\nn=2"]
    assert len(disp.representatives) == 5 and len(disp.atypical) == 5
    assert disp.cluster_sizes_.tolist() == [3, 1, 3, 2, 1]
    title = disp.figure_._suptitle.get_text()
    assert title.startswith("Per cluster, for the 3 largest clusters (of 5): the 1 image closest")
    # the colour of a cluster is its number's, whichever are drawn
    drawn = [row[0].yaxis.label.get_color() for row in disp.axes_]
    full = _representatives([3, 1, 3, 2, 1]).plot()
    colors = [row[0].yaxis.label.get_color() for row in full.axes_]
    assert drawn == [colors[0], colors[2], colors[3]]
    for max_clusters in (5, None):
        disp.plot(max_clusters=max_clusters)
        assert disp.axes_.shape == (5, 2)
        assert "largest clusters" not in disp.figure_._suptitle.get_text()


def test_representatives_capped_beyond_the_constrained_axes_keep_constrained_layout():
    # the layout follows the axes drawn, not the clusters held
    from robustkmeans.plotting import _CONSTRAINED_MAX_AXES

    disp = _representatives([2] * (_CONSTRAINED_MAX_AXES // 2 + 1))
    assert disp.plot().figure_.get_layout_engine() is None
    assert disp.plot(max_clusters=3).figure_.get_layout_engine() is not None


@pytest.mark.parametrize("max_clusters", [0, -1, 2.5, "3", True])
def test_representatives_max_clusters_must_be_a_positive_integer(max_clusters):
    bad = re.escape(f"got {max_clusters!r}.")
    with pytest.raises(ValueError, match=f"max_clusters must be None or an integer >= 1 .*{bad}"):
        _representatives([2, 2]).plot(max_clusters=max_clusters)


def test_representatives_from_estimator_passes_max_clusters(image_set):
    paths, _, X, _ = image_set
    km = LossKMeans(3, random_state=0).fit(X)
    disp = RepresentativesDisplay.from_estimator(km, X, paths, max_clusters=2)
    assert disp.axes_.shape[0] == 2
    assert len(disp.representatives) == 3
    assert "the 2 largest clusters (of 3)" in disp.figure_._suptitle.get_text()
    with pytest.raises(ValueError, match="max_clusters must be None or an integer >= 1"):
        RepresentativesDisplay.from_estimator(km, X, paths, max_clusters=0, plot=False)
