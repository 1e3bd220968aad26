"""What the tests that need an optional extra of the package skip on.

PyTorch is the ``vision`` extra: without it everything runs but
:class:`~robustkmeans.VGG16Featurizer` (and what builds one: the command line's
``--features vgg16``, :class:`~robustkmeans.plotting.FeatureMapsDisplay`), so the
tests of those are skipped, never failed, where it is not installed. Images of a
mode the installed Pillow cannot make are skipped likewise (``sixteen_bit_image``).
A folder without read permission, which root (and Windows) reads all the same, is
imitated (``unreadable_folders``).
"""

import errno
import importlib.util
import os

import pytest

#: whether PyTorch is installed (``pip install robustkmeans[vision]``)
HAS_TORCH = importlib.util.find_spec("torch") is not None

TORCH_REASON = "needs PyTorch (pip install robustkmeans[vision])"

#: the mark of a test that builds VGG16 features
requires_torch = pytest.mark.skipif(not HAS_TORCH, reason=TORCH_REASON)


def sixteen_bit_image(mode, size, values, byte_order):
    """``Image.frombytes`` of the 16-bit ``values`` (in ``byte_order``), or a skip
    naming the Pillow version where it cannot make an image of ``mode`` (Pillow 9.1
    to 9.3 have no I;16N unpacker: no such image exists there)."""
    from PIL import Image

    try:
        return Image.frombytes(mode, size, values.astype(f"{byte_order}u2").tobytes())
    except ValueError as exc:
        if mode != "I;16N" or "unknown raw mode" not in str(exc):
            raise
        pytest.skip(f"Pillow {Image.__version__} cannot make an {mode} image")


def unreadable_folders(monkeypatch, *folders):
    """Make :func:`os.scandir` (which :func:`os.walk` lists folders with) refuse
    ``folders`` as it refuses a folder without read permission, on any machine and
    for any user; other folders are listed as usual."""
    refused = {os.path.normpath(folder) for folder in folders}
    scandir = os.scandir

    def refusing(path="."):
        if not isinstance(path, int) and os.path.normpath(path) in refused:  # (not a fd)
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
