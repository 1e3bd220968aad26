"""Invariants of LossKMeans on adversarial generated data (hypothesis, derandomized),
and the counterexamples they found, kept as regression tests."""

import numpy as np
import pytest

from robustkmeans import LossKMeans


# ---------------------------------------------------------------------------------
# counterexamples
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["lloyd", "hartigan"])
def test_center_shift_within_tolerance_on_data_near_float64s_limit(algorithm):
    # absolute fits data whose squares overflow float64: the tolerance
    # then counts squared shifts in units of a power of two near the data's
    # magnitude (2**997 here), and converting a shift within it back to the data's
    # units for the verbose message squared that unit as a Python float, which
    # raised OverflowError (even with verbose=0) instead of giving inf
    X = np.array([[2.0064], [1.001], [0.9946]]) * 1e300
    km = LossKMeans(2, loss="absolute", algorithm=algorithm, random_state=0).fit(X)
    np.testing.assert_array_equal(km.labels_, [1, 0, 0])
    assert np.isfinite(km.cluster_centers_).all()
