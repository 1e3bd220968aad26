"""The losses' costs from the documented formulas, written independently of the
package, for the tests to check it against."""

import numpy as np


def formula_cost(loss, R, delta=1.0, sigma=1.0, epsilon=1.0):
    """Cost of the residuals ``R = x - m`` (features on the last axis) under ``loss``:
    one value per residual vector."""
    d2 = np.einsum("...k,...k->...", R, R)
    if loss == "square":
        return d2
    if loss == "absolute":
        return np.abs(R).sum(-1)
    if loss == "huber":
        a = np.abs(R)
        return np.where(a <= delta, R**2 / 2, delta * (a - delta / 2)).sum(-1)
    if loss == "pseudo_huber":
        return (delta**2 * (np.sqrt(1 + (R / delta) ** 2) - 1)).sum(-1)
    if loss == "correntropy":
        return 1 - np.exp(-d2 / (2 * sigma**2))
    if loss == "epsilon_insensitive":
        return np.maximum(np.sqrt(d2) - epsilon, 0)
    raise ValueError(loss)
