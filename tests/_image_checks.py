"""Running scikit-learn's estimator checks on a featurizer that takes images.

``VGG16Featurizer`` and ``ColorHistogramFeaturizer`` declare
``input_tags.two_d_array=False``, so ``parametrize_with_checks`` skips the checks
that feed them a numeric matrix. ``check_outcomes`` runs those too, and accepts
a failure only when the featurizer refused the matrix with its own clear error.
"""

import warnings
from functools import partial

from sklearn.base import clone
from sklearn.utils import estimator_checks

#: checks that need no numeric input: they must really pass
MUST_PASS = {
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_estimators_unfitted",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
    "check_transformers_unfitted",
}


def _check_name(check):
    return check.func.__name__ if isinstance(check, partial) else check.__name__


def _rejects(exc, messages):
    """True when ``exc`` (or what caused it) is the featurizer refusing a numeric
    matrix with one of ``messages``."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (TypeError, ValueError)) and any(m in str(exc) for m in messages):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def check_outcomes(estimator, name, expected_failures=()):
    """``{check name: outcome}`` of every API, generic and transformer check;
    raises AssertionError for a check that fails for any other reason than the
    featurizer (``name`` in its messages) refusing 2-D numeric input."""
    messages = (
        f"{name} takes images",
        "X must be a sequence of images",
        "pass a 1-D sequence of images",
    )
    generators = [
        estimator_checks._yield_api_checks,
        estimator_checks._yield_checks,
        estimator_checks._yield_transformer_checks,
    ]
    outcomes = {}
    for check in (c for generator in generators for c in generator(estimator)):
        check_name = _check_name(check)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(type(estimator).__name__, clone(estimator))
            outcomes.setdefault(check_name, "passed")
        except estimator_checks.SkipTest:
            outcomes.setdefault(check_name, "skipped")
        except Exception as exc:
            if check_name in expected_failures:
                outcomes[check_name] = "expected failure"
            elif _rejects(exc, messages):
                outcomes[check_name] = "rejected 2-D numeric input"
            else:
                raise AssertionError(f"{check_name} failed for another reason: {exc!r}") from exc
    return outcomes
