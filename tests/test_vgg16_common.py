"""scikit-learn's estimator checks for VGG16Featurizer.

VGG16Featurizer takes images (paths, PIL images, uint8 arrays), not a 2-D numeric
matrix, and declares it: ``input_tags.two_d_array=False`` and ``string=True``, as
scikit-learn's own text vectorizers do. ``parametrize_with_checks`` then runs only
the checks that need no data (cloning) and skips the rest with a SkipTestWarning.

To keep those skipped checks honest, ``test_every_sklearn_check_passes_or_rejects_2d``
runs every check scikit-learn has for a transformer anyway and requires each to pass,
or to fail only because VGG16Featurizer rejected the numeric matrix the check fed
it, with its own clear error. ``test_image_*`` tests then do the same checks that
matter (fit returns self, no parameter changes, pickling, fit_transform
consistency, determinism) on images.
"""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("torch")
from _image_checks import MUST_PASS, check_outcomes  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError, SkipTestWarning  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from robustkmeans import VGG16Featurizer  # noqa: E402

ESTIMATORS = [
    VGG16Featurizer(weights=None, image_size=32),
    VGG16Featurizer(weights=None, image_size=32, layer="pool4", pooling=None, normalize=None),
]

# Checks expected to fail, and why. Empty: every check passes or fails only by
# rejecting non-image input (see _rejects_non_images).
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


with warnings.catch_warnings():
    # The SkipTestWarning for two_d_array=False is asserted in test_tags_declare_image_input.
    warnings.simplefilter("ignore", SkipTestWarning)
    _sklearn_checks = parametrize_with_checks(
        ESTIMATORS, expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS
    )


@_sklearn_checks
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_tags_declare_image_input():
    tags = VGG16Featurizer().__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True  # file paths
    assert tags.input_tags.three_d_array is True  # (N, H, W) grayscale batches
    assert tags.input_tags.sparse is False
    assert tags.requires_fit is True
    assert tags.transformer_tags.preserves_dtype == []  # always float32 out
    with pytest.warns(SkipTestWarning, match="VGG16Featurizer"):
        list(estimator_checks._yield_all_checks(ESTIMATORS[0], legacy=True))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["pool5_avg", "pool4_flat"])
def test_every_sklearn_check_passes_or_rejects_2d(estimator):
    if not hasattr(estimator_checks, "_yield_api_checks"):  # pragma: no cover
        pytest.skip("this scikit-learn has no _yield_api_checks")
    outcomes = check_outcomes(estimator, "VGG16Featurizer", EXPECTED_FAILED_CHECKS)
    passed = {n for n, o in outcomes.items() if o == "passed"}
    # The checks that need no numeric input must really pass.
    assert MUST_PASS <= passed
    assert len(outcomes) > 20


# ----------------------------------------------------------------------------- on images


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return rng.randint(0, 256, size=(4, 36, 40, 3), dtype=np.uint8)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["pool5_avg", "pool4_flat"])
def test_image_fit_returns_self_and_keeps_params(estimator, images):
    estimator = clone(estimator)
    params = estimator.get_params()
    assert estimator.fit(images) is estimator
    assert estimator.get_params() == params
    assert set(vars(estimator)) - set(params) >= {"n_features_out_", "weights_id_"}


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["pool5_avg", "pool4_flat"])
def test_image_transformer_general(estimator, images):
    estimator = clone(estimator)
    with pytest.raises(NotFittedError):
        estimator.transform(images)
    F1 = estimator.fit_transform(images)
    F2 = estimator.transform(images)
    F3 = clone(estimator).fit(images).transform(list(images))
    assert F1.shape == (4, estimator.n_features_out_) and F1.dtype == np.float32
    # Repeatable up to float32 rounding: batch_size="auto" may batch differently per call.
    np.testing.assert_allclose(F1, F2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F1, F3, rtol=1e-5, atol=1e-6)  # fit_transform == fit().transform
    fixed = clone(estimator).set_params(batch_size=2).fit()
    np.testing.assert_array_equal(fixed.transform(images), fixed.transform(images))  # bitwise
    assert len(estimator.get_feature_names_out()) == F1.shape[1]
    restored = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_allclose(restored.transform(images), F1, rtol=1e-5, atol=1e-6)


def test_image_subsets_are_independent(images):
    """Rows do not depend on which other images share the call (batching is invisible)."""
    estimator = VGG16Featurizer(weights=None, image_size=32, batch_size=3).fit()
    full = estimator.transform(images)
    np.testing.assert_allclose(estimator.transform(images[[2]])[0], full[2], atol=1e-6)
    np.testing.assert_allclose(estimator.transform(images[::-1]), full[::-1], atol=1e-6)
