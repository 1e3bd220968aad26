"""ColorHistogramFeaturizer as a scikit-learn transformer (the demo's featurizer).

Like VGG16Featurizer (see ``tests/test_vgg16_common.py``), it takes images, not a
2-D numeric matrix, and declares it with ``input_tags.two_d_array=False``:
``parametrize_with_checks`` runs only the checks that need no data, and
``test_every_sklearn_check_passes_or_rejects_2d`` runs the others anyway, each
passing or failing only because the featurizer refused the numeric matrix with
its own clear error. The other tests check on images what matters: parameter
validation, feature names, ``set_output`` in a Pipeline, and the histogram
itself against an independent computation.
"""

import os
import pickle
import re
import stat
import warnings
from pathlib import Path

import numpy as np
import pytest
from _image_checks import MUST_PASS, check_outcomes
from PIL import Image
from sklearn.base import clone
from sklearn.datasets import load_sample_images
from sklearn.exceptions import NotFittedError, SkipTestWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from robustkmeans import LossKMeans, load_image_folder
from robustkmeans._demo import (
    DEMO_CLASSES,
    WEIGHTS_ENV,
    ColorHistogramFeaturizer,
    find_vgg16_weights,
    make_demo_images,
)

ESTIMATORS = [ColorHistogramFeaturizer(), ColorHistogramFeaturizer(bins=3, image_size=16)]
IDS = ["default", "bins3"]

with warnings.catch_warnings():
    warnings.simplefilter("ignore", SkipTestWarning)  # two_d_array=False skips most
    _sklearn_checks = parametrize_with_checks(ESTIMATORS)


@_sklearn_checks
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_every_sklearn_check_passes_or_rejects_2d(estimator):
    if not hasattr(estimator_checks, "_yield_api_checks"):  # pragma: no cover
        pytest.skip("this scikit-learn has no _yield_api_checks")
    outcomes = check_outcomes(estimator, "ColorHistogramFeaturizer")
    passed = {n for n, o in outcomes.items() if o == "passed"}
    assert MUST_PASS <= passed
    assert len(outcomes) > 20


def test_tags_declare_image_input():
    tags = ColorHistogramFeaturizer().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True  # file paths
    assert tags.input_tags.three_d_array is True  # (N, H, W) grayscale batches
    assert tags.requires_fit is True
    assert tags.transformer_tags.preserves_dtype == []  # always float32 out


# ----------------------------------------------------------------------------- on images


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return rng.randint(0, 256, size=(6, 20, 30, 3), dtype=np.uint8)


def _reference_histograms(images, bins):
    """The square-rooted joint RGB histogram, computed independently (histogramdd)."""
    rows = []
    for image in images:
        pixels = np.asarray(image).reshape(-1, 3)
        edges = [np.arange(bins + 1) * 256 / bins] * 3
        counts, _ = np.histogramdd(pixels, bins=edges)
        rows.append(np.sqrt(counts.ravel() / pixels.shape[0]))
    return np.asarray(rows, dtype=np.float32)


@pytest.mark.parametrize("bins", [1, 2, 3, 8, 64])
def test_histograms_match_an_independent_computation(images, bins):
    # image_size above the image side: no resizing, so histogramdd sees the same pixels
    features = ColorHistogramFeaturizer(bins=bins, image_size=64).fit_transform(images)
    assert features.shape == (6, bins**3) and features.dtype == np.float32
    np.testing.assert_allclose(features, _reference_histograms(images, bins), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1, rtol=1e-6)


def test_feature_names_follow_the_histogram_layout():
    image = np.empty((4, 4, 3), np.uint8)
    image[...] = (200, 10, 130)  # bins of 64 values: red 3, green 0, blue 2
    featurizer = ColorHistogramFeaturizer(bins=4)
    features = featurizer.fit_transform([image])
    names = featurizer.get_feature_names_out()
    assert len(names) == 64 == featurizer.n_features_out_ and names.dtype == object
    assert names[features[0].argmax()] == "colorhist_r3_g0_b2"
    assert names[0] == "colorhist_r0_g0_b0" and names[1] == "colorhist_r0_g0_b1"
    assert names[4] == "colorhist_r0_g1_b0" and names[16] == "colorhist_r1_g0_b0"
    assert len(set(names)) == 64


def test_set_output_pandas_in_a_pipeline(images):
    pd = pytest.importorskip("pandas")
    make = lambda: Pipeline(  # noqa: E731
        [("f", ColorHistogramFeaturizer(bins=2)), ("c", LossKMeans(2, random_state=0))]
    )
    pipe = make().set_output(transform="pandas").fit(images)
    frame = pipe[:-1].transform(images)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == list(pipe[0].get_feature_names_out())
    assert list(pipe[-1].feature_names_in_) == list(frame.columns)
    plain = make().fit(images)
    np.testing.assert_array_equal(frame.to_numpy(), plain[:-1].transform(images))
    np.testing.assert_array_equal(pipe.predict(images), plain.predict(images))
    alone = ColorHistogramFeaturizer(bins=2).set_output(transform="pandas")
    assert list(alone.fit_transform(images).columns)[-1] == "colorhist_r1_g1_b1"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bins": 0}, r"'bins' parameter.*range \[1, 64\]. Got 0"),
        ({"bins": 300}, r"'bins' parameter.*range \[1, 64\]. Got 300"),
        ({"bins": 2.5}, r"'bins' parameter.*an int"),
        ({"image_size": 0}, r"'image_size' parameter.*range \[1, inf\)"),
        ({"on_error": "skip"}, r"'on_error' parameter.*\{.*'nan'.*\}"),
    ],
)
def test_invalid_parameters_are_rejected_in_fit(images, params, match):
    featurizer = ColorHistogramFeaturizer(**params)  # __init__ validates nothing
    with pytest.raises(ValueError, match=match):
        featurizer.fit(images)
    with pytest.raises(ValueError, match=match):
        featurizer.fit_transform(images)


def test_transform_needs_fit_and_images(images):
    with pytest.raises(NotFittedError):
        ColorHistogramFeaturizer().transform(images)
    with pytest.raises(NotFittedError):
        ColorHistogramFeaturizer().get_feature_names_out()
    featurizer = ColorHistogramFeaturizer().fit()
    with pytest.raises(ValueError, match="ColorHistogramFeaturizer takes images.*2-D"):
        featurizer.transform(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="ColorHistogramFeaturizer takes images"):
        ColorHistogramFeaturizer().fit(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="a single colour image"):
        featurizer.transform(images[0])
    with pytest.raises(TypeError, match=r"Wrap it in a list"):
        featurizer.transform("photo.png")


def test_fit_returns_self_keeps_params_and_pickles(images, tmp_path):
    featurizer = ColorHistogramFeaturizer(bins=3, on_error="nan")
    params = featurizer.get_params()
    assert featurizer.fit(images) is featurizer
    assert featurizer.get_params() == params
    assert featurizer.n_features_out_ == 27
    missing = str(tmp_path / "missing.png")
    # unreadable images are NaN rows, and named in a warning, as VGG16Featurizer does
    with pytest.warns(UserWarning, match=r"1 of 3 images could not be read.*missing\.png"):
        features = featurizer.transform([*images[:2], missing])
    assert np.isnan(features[2]).all() and np.isfinite(features[:2]).all()
    restored = pickle.loads(pickle.dumps(featurizer))
    with pytest.warns(UserWarning, match="could not be read"):
        again = restored.transform([*images[:2], missing])
    np.testing.assert_array_equal(again, features)
    assert again.dtype == features.dtype and again.shape == features.shape  # (strict=: numpy 1.24)
    with pytest.raises(ValueError, match="missing.png"):
        clone(featurizer).set_params(on_error="raise").fit_transform([missing])


def test_unreadable_images_are_reported_as_vgg16featurizer_reports_them(tmp_path):
    # The histogram said "Cannot read 'empty.jpg': Cannot read image 'empty.jpg': ..."
    # (the name twice, a plain ValueError) and "'image 1': ..." for arrays.
    pytest.importorskip("torch")
    from robustkmeans import VGG16Featurizer
    from robustkmeans._images import ImageLoadError

    (tmp_path / "empty.jpg").write_bytes(b"")
    empty = str(tmp_path / "empty.jpg")
    floats = np.zeros((6, 7, 3), np.float64)
    good = np.zeros((6, 7, 3), np.uint8)
    vgg = VGG16Featurizer(weights=None, image_size=32)
    histogram = ColorHistogramFeaturizer()
    for X in ([empty], [good, floats]):
        with pytest.raises(ImageLoadError) as expected:
            vgg.fit_transform(X)
        with pytest.raises(ImageLoadError) as got:
            histogram.fit_transform(X)
        assert str(got.value) == str(expected.value)
        assert (got.value.filename, got.value.reason) == (
            expected.value.filename,
            expected.value.reason,
        )
    assert str(got.value).startswith("Cannot read image 'X[1] (ndarray float64 (6, 7, 3))': ")
    X = [good, empty, floats]
    with pytest.warns(UserWarning) as expected:
        vgg.set_params(on_error="nan").fit_transform(X)
    with pytest.warns(UserWarning) as got:
        histogram.set_params(on_error="nan").fit_transform(X)
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]
    assert "2 of 3 images could not be read" in str(got[0].message)


def test_demo_images_get_the_permissions_the_umask_gives(tmp_path):
    # as the report and the cache entries: not a temporary file's 0600
    before = os.umask(0o022)
    try:
        data = make_demo_images(tmp_path, n_per_class=1)
    finally:
        os.umask(before)
    for name in data.filenames:
        assert stat.S_IMODE(os.stat(name).st_mode) == 0o644, name
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


def test_documented_defaults():
    featurizer = ColorHistogramFeaturizer()
    assert featurizer.get_params() == {"bins": 8, "image_size": 64, "on_error": "raise"}
    assert featurizer.fit().n_features_out_ == 512


@pytest.mark.parametrize("image_size", [5, 12])
def test_images_are_shrunk_to_image_size_before_counting(image_size):
    # the histogram of the thumbnail, not of the full image: Pillow's own thumbnail
    # (aspect kept, antialiased) mixes neighbouring colours into new bins
    rng = np.random.RandomState(1)
    image = rng.randint(0, 256, size=(30, 45, 3), dtype=np.uint8)
    thumbnail = Image.fromarray(image)
    thumbnail.thumbnail((image_size, image_size))
    assert max(thumbnail.size) == image_size
    expected = _reference_histograms([np.asarray(thumbnail)], 4)
    features = ColorHistogramFeaturizer(bins=4, image_size=image_size).fit_transform([image])
    np.testing.assert_allclose(features, expected, rtol=1e-6)


# ----------------------------------------------------------------------------- demo images


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    return folder, make_demo_images(folder, n_per_class=12, image_size=24, random_state=0)


def test_demo_images_are_labelled_by_their_folder_as_load_image_folder_reads_them(demo):
    folder, data = demo
    assert data.target_names == sorted(DEMO_CLASSES)
    assert np.bincount(data.target).tolist() == [12] * 6
    for name, label in zip(data.filenames, data.target, strict=True):
        assert Path(name).parent.name == data.target_names[label], name
        with Image.open(name) as image:
            assert image.size == (24, 24) and image.mode == "RGB", name
    loaded = load_image_folder(folder)
    assert loaded.target_names == data.target_names
    assert loaded.filenames.tolist() == data.filenames
    np.testing.assert_array_equal(loaded.target, data.target)


def test_demo_images_show_the_regions_of_their_class(demo):
    # Each crop lies in one region of its class, so its mean colour is, for most
    # images, nearest that of its class's regions (crops near a region's edge, or
    # of a varied region, may be nearer another class; crops cut elsewhere are not).
    _, data = demo
    samples = load_sample_images()
    photos = {
        Path(name).name: image
        for name, image in zip(samples.filenames, samples.images, strict=True)
    }
    region_means = {}
    for name, (photo, regions) in DEMO_CLASSES.items():
        pixels = [photos[photo][y0:y1, x0:x1].reshape(-1, 3) for x0, y0, x1, y1 in regions]
        region_means[name] = np.concatenate(pixels).mean(axis=0)
    nearest_own = 0
    for name, label in zip(data.filenames, data.target, strict=True):
        with Image.open(name) as image:
            mean = np.asarray(image).reshape(-1, 3).mean(axis=0)
        nearest = min(region_means, key=lambda c: np.linalg.norm(region_means[c] - mean))
        nearest_own += nearest == data.target_names[label]
    assert nearest_own >= 0.75 * len(data.filenames)


@pytest.mark.parametrize(
    "params", [{"n_per_class": 0}, {"image_size": 7}], ids=["no_images", "too_small"]
)
def test_make_demo_images_refuses_bad_sizes(tmp_path, params):
    with pytest.raises(ValueError, match=r"n_per_class must be >= 1 and image_size >= 8"):
        make_demo_images(tmp_path, **params)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- weights discovery


def test_find_vgg16_weights_checks_what_it_is_given(tmp_path, monkeypatch):
    # only the presence of the file is checked; a dummy file stands in for the weights
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    given, from_env = tmp_path / "given.pth", tmp_path / "env.pth"
    given.write_bytes(b"x")
    from_env.write_bytes(b"y")
    missing = tmp_path / "missing.pth"
    assert find_vgg16_weights() is None
    assert find_vgg16_weights(str(given)) == given
    with pytest.raises(FileNotFoundError, match=r"'.*missing\.pth' does not exist"):
        find_vgg16_weights(missing)
    monkeypatch.setenv(WEIGHTS_ENV, str(from_env))
    assert find_vgg16_weights() == from_env
    assert find_vgg16_weights(given) == given  # an explicit file comes first
    monkeypatch.setenv(WEIGHTS_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match=rf"{WEIGHTS_ENV}=.*missing\.pth"):
        find_vgg16_weights()


def test_find_vgg16_weights_expands_the_home_folder_in_the_variable(tmp_path, monkeypatch):
    # ROBUSTKMEANS_VGG16_WEIGHTS="~/vgg16.pth" (from a .env file: no shell expands
    # it) was looked for in a folder named "~", where VGG16Featurizer expands it:
    # the command line's default --weights said it names no existing file
    monkeypatch.setenv("HOME", os.fspath(tmp_path))
    (tmp_path / "vgg16.pth").write_bytes(b"x")  # only its presence is checked
    monkeypatch.setenv(WEIGHTS_ENV, "~/vgg16.pth")
    assert find_vgg16_weights() == tmp_path / "vgg16.pth"
    monkeypatch.setenv(WEIGHTS_ENV, "~/missing.pth")
    missing = re.escape(repr(os.fspath(tmp_path / "missing.pth")))
    with pytest.raises(FileNotFoundError, match=rf"{WEIGHTS_ENV}={missing} does not name"):
        find_vgg16_weights()
