"""What the tests that need an optional extra of the package skip on.

PyTorch is the ``vision`` extra: without it everything runs but
:class:`~robustkmeans.VGG16Featurizer` (and what builds one: the command line's
``--features vgg16``, :class:`~robustkmeans.plotting.FeatureMapsDisplay`), so the
tests of those are skipped, never failed, where it is not installed.
"""

import importlib.util

import pytest

#: whether PyTorch is installed (``pip install robustkmeans[vision]``)
HAS_TORCH = importlib.util.find_spec("torch") is not None

TORCH_REASON = "needs PyTorch (pip install robustkmeans[vision])"

#: the mark of a test that builds VGG16 features
requires_torch = pytest.mark.skipif(not HAS_TORCH, reason=TORCH_REASON)
