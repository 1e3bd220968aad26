"""scikit-learn's estimator checks, for LossKMeans under every loss."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from robustkmeans import LossKMeans
from robustkmeans._losses import LOSS_NAMES

# Small settings as scikit-learn uses for KMeans in its own common tests.
ESTIMATORS = [
    LossKMeans(n_clusters=2, loss=loss, n_init=2, max_iter=5, random_state=0) for loss in LOSS_NAMES
] + [
    # Hartigan's verified transfers for a separable and a Euclidean robust loss
    LossKMeans(n_clusters=2, loss=loss, algorithm="hartigan", n_init=2, max_iter=5, random_state=0)
    for loss in ("huber", "epsilon_insensitive")
]

# The same expected failures that scikit-learn declares for KMeans and nothing else:
# k-means++ draws its seeds at random in proportion to the sample weights, so a
# weight of 2 is not the same random draw as a repeated sample.
_KMEANS_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
}


def _expected_failed_checks(estimator):
    return _KMEANS_XFAIL


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_tags_declare_sparse_support(loss):
    sparse = LossKMeans(loss=loss).__sklearn_tags__().input_tags.sparse
    assert sparse == (loss in ("square", "correntropy", "epsilon_insensitive"))
