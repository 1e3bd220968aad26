"""On-disk feature cache for :class:`robustkmeans.VGG16Featurizer`.

One ``.npy`` file per (image content, settings) pair, so that a grid search
over a ``Pipeline([featurizer, clusterer])`` runs the network once per image (up
to once per worker with parallel workers, which may reach an image before any
of them has written its entry):

- the key is a BLAKE2b digest of the image's *content* (the bytes of the file,
  or the pixels, mode and shape of an in-memory image) and of every setting
  that changes the stored values (weights identity, layer, pooling,
  image_size, preprocessing version). File names and the order of ``X`` do not
  enter it. ``normalize`` does not either: the cache stores the values before
  normalisation, which is applied afterwards;
- files are plain arrays, written with ``np.save`` and read with
  ``np.load(allow_pickle=False)``;
- writes go to a temporary file in the same folder, then ``os.replace``, so a
  reader (another process sharing the folder included) sees either no entry or
  a complete one; entries get the permissions the umask gives new files (not
  the 0600 of a temporary file), so a cache can be shared between users;
- an entry that does not load, or has the wrong dtype, shape or non-finite
  values, is treated as missing, recomputed and overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import numpy as np

from ._utils import make_folders, system_path

__all__ = ["FeatureCache", "content_digest", "settings_digest"]

_CHUNK = 1 << 20


def content_digest(image=None, *, data: bytes | None = None) -> str:
    """Hex digest of an image's content (not its name).

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray, optional
        A file (its bytes are hashed, EXIF included), a PIL image (mode, size,
        pixels, palette, transparency, EXIF orientation and, for mode "I", the
        file format that makes it 16-bit are hashed) or an
        array (dtype, shape and pixels are hashed).
    data : bytes, optional
        The encoded file content, when it has been read already.

    Returns
    -------
    digest : str
        32 hex characters.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._cache import content_digest
    >>> a = np.zeros((4, 4, 3), np.uint8)
    >>> content_digest(a) == content_digest(a.copy())
    True
    >>> content_digest(a) == content_digest(a[:, :, 0])
    False
    """
    h = hashlib.blake2b(digest_size=16)
    if data is not None:
        h.update(b"file\0")
        h.update(data)
        return h.hexdigest()
    if isinstance(image, (str, os.PathLike)):
        h.update(b"file\0")
        with open(image, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
        return h.hexdigest()
    if isinstance(image, np.ndarray):
        arr = np.ascontiguousarray(image)
        h.update(f"array\0{arr.dtype.str}\0{arr.shape}\0".encode())
        h.update(memoryview(arr).cast("B"))
        return h.hexdigest()
    if hasattr(image, "tobytes") and hasattr(image, "mode"):  # PIL image
        from ._images import _16_BIT_FORMATS, _palette_has_alpha, exif_orientation, load_pil

        load_pil(image)  # one thread at a time decodes a lazily opened image
        h.update(f"pil\0{image.mode}\0{image.size}\0".encode())
        h.update(image.tobytes())
        palette = image.getpalette() if image.mode in ("P", "PA") else None
        if palette:
            h.update(bytes(palette))
            if _palette_has_alpha(image):  # composited on white by its alpha values
                h.update(b"palette-alpha\0" + bytes(image.getpalette("RGBA")))
        if "transparency" in getattr(image, "info", {}):
            h.update(repr(image.info["transparency"]).encode())
        if image.mode == "I" and image.format in _16_BIT_FORMATS:
            # Read as 16-bit by its file format (a copy, format None, by its values).
            h.update(f"format\0{image.format}\0".encode())
        orientation = exif_orientation(image)
        if orientation != 1:  # the loader turns the pixels upright by it
            h.update(f"orientation\0{orientation}\0".encode())
        return h.hexdigest()
    raise TypeError(f"cannot hash an image of type {type(image).__name__}")


def new_temporary(folder, prefix: str, suffix: str) -> tuple[int, str]:
    """Create a new file of a random name in ``folder``: ``(descriptor, path)``, as
    ``tempfile.mkstemp``, but with the permissions the process's umask gives new
    files (mkstemp's are 0600, so a cache or report shared between users could not
    be read by the others). The umask is applied by the system at creation, as it
    is now: not read, nor changed, here."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        path = os.path.join(folder, f"{prefix}{uuid.uuid4().hex}{suffix}")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:  # pragma: no cover - a 128-bit name taken
            continue


def _write_atomic(target: str, suffix: str, mode: str, write) -> None:
    """``write(file)`` to a new temporary file beside ``target``, then ``os.replace``
    it to ``target``: readers see the old entry or the whole new one. The temporary
    file is removed if anything fails."""
    fd, tmp = new_temporary(os.path.dirname(target), ".tmp-", suffix)
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _plain(value):
    """JSON form of a non-JSON value: numpy scalars as the Python number they equal
    (``np.int64(32)`` as ``32``, not ``"32"``), anything else as its ``str``."""
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def settings_digest(settings: dict) -> str:
    """Hex digest of the settings that change the cached values.

    Examples
    --------
    >>> from robustkmeans._cache import settings_digest
    >>> settings_digest({"layer": 30, "pooling": "avg"}) == settings_digest(
    ...     {"pooling": "avg", "layer": 30})
    True
    >>> import numpy as np
    >>> settings_digest({"image_size": np.int64(32)}) == settings_digest({"image_size": 32})
    True
    """
    text = json.dumps(settings, sort_keys=True, default=_plain)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _check_folder(folder, what: str | None = None):
    """Return ``folder`` if it is, or can be created as, a folder; else raise ValueError.

    ``what`` describes the folder in the message (default ``cache='<folder>'``).

    Examples
    --------
    >>> import tempfile
    >>> from robustkmeans._cache import _check_folder
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     _check_folder(f.name)
    Traceback (most recent call last):
    ...
    ValueError: cache=... is a file, not a folder; cache must be a folder ...
    """
    path = os.path.abspath(os.fspath(folder))
    while not os.path.exists(path):  # the nearest existing path above decides
        parent = os.path.dirname(path)
        if parent == path:
            return folder
        path = parent
    if not os.path.isdir(path):
        if path == os.path.abspath(os.fspath(folder)):
            where = "is a file"
        else:
            where = f"would be inside {path!r}, which is a file"
        raise ValueError(
            f"{what or f'cache={os.fspath(folder)!r}'} {where}, not a folder; cache must be a "
            "folder (existing, or one that can be created) or a joblib.Memory. Pass "
            "another path, or cache=None to compute the features without a cache."
        )
    return folder


class FeatureCache:
    """A folder of ``.npy`` feature vectors keyed by content and settings.

    Parameters
    ----------
    directory : str or os.PathLike
        Where the entries live (created on first write). Entries for one set
        of settings go to ``directory/<settings digest>/<aa>/<key>.npy``.
    settings : dict
        JSON-serialisable settings that change the stored values. A copy is
        written to ``directory/<settings digest>/settings.json`` for humans.
    shape : tuple of int
        Shape of every entry; entries of any other shape are ignored.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from robustkmeans._cache import FeatureCache
    >>> cache = FeatureCache(tempfile.mkdtemp(), {"layer": 30}, shape=(3,))
    >>> cache.load("ab12") is None
    True
    >>> cache.save("ab12", np.array([1, 2, 3], dtype=np.float32))
    >>> cache.load("ab12")
    array([1., 2., 3.], dtype=float32)
    """

    def __init__(self, directory, settings: dict, shape: tuple[int, ...]):
        self.settings = dict(settings)
        self.shape = tuple(int(s) for s in shape)
        # (a path with ".." is written through as the system resolves it: the folder
        # before the ".." need not exist, and every write failed where it did not)
        self.root = system_path(directory)
        self.folder = os.path.join(self.root, settings_digest(self.settings))

    @classmethod
    def from_param(cls, cache, settings: dict, shape: tuple[int, ...]) -> FeatureCache | None:
        """Build the cache for a featurizer's ``cache`` parameter (None: no cache).

        Raises
        ------
        TypeError
            If ``cache`` is not None, a path or a joblib.Memory.
        ValueError
            If the folder cannot be one: the path, or a folder above it, is an
            existing file.
        """
        if cache is None:
            return None
        if isinstance(cache, FeatureCache):
            return cls(_check_folder(cache.root), settings, shape)
        if isinstance(cache, (str, os.PathLike)):
            if os.fspath(cache) == "":
                # os.path treats "" as the working folder: the entries would land
                # wherever the script happens to run.
                raise ValueError(
                    "cache='' is an empty path; give a folder, e.g. "
                    "cache='~/.cache/robustkmeans', or cache=None to compute the "
                    "features without a cache."
                )
            folder = os.path.expanduser(os.fspath(cache))  # "~/features", as a shell would
            return cls(_check_folder(folder), settings, shape)
        location = getattr(cache, "location", None)
        if hasattr(cache, "cache") and hasattr(cache, "location"):  # joblib.Memory
            if location is None:
                return None
            folder = os.path.join(os.fspath(location), "robustkmeans_vgg16")
            what = f"{folder!r}, the folder the joblib.Memory given as cache would use,"
            return cls(_check_folder(folder, what), settings, shape)
        raise TypeError(
            "cache must be None, a folder (str or pathlib.Path) or a joblib.Memory, "
            f"got {type(cache).__name__}."
        )

    def path(self, key: str) -> str:
        """The file of an entry."""
        return os.path.join(self.folder, key[:2], key + ".npy")

    def load(self, key: str) -> np.ndarray | None:
        """Return the stored vector, or None when absent or not trustworthy."""
        path = self.path(key)
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except Exception:
            # truncated / corrupt entry (numpy raises OSError, ValueError, EOFError,
            # or tokenize.TokenError for a damaged header): recompute and overwrite
            return None
        if (
            not isinstance(arr, np.ndarray)
            or arr.dtype != np.float32
            or arr.shape != self.shape
            or not np.isfinite(arr).all()
        ):
            return None
        return arr

    def save(self, key: str, values: np.ndarray) -> None:
        """Store a vector atomically (temporary file, then ``os.replace``)."""
        values = np.ascontiguousarray(values, dtype=np.float32)
        if values.shape != self.shape:
            raise ValueError(f"cache entry has shape {values.shape}, expected {self.shape}")
        folder = os.path.dirname(self.path(key))
        if not os.path.isdir(folder):
            make_folders(folder)
            self._write_settings()
        target = self.path(key)
        _write_atomic(target, ".npy", "wb", lambda f: np.save(f, values, allow_pickle=False))

    def _write_settings(self) -> None:
        target = os.path.join(self.folder, "settings.json")
        if os.path.exists(target):
            return
        settings = self.settings
        _write_atomic(
            target,
            ".json",
            "w",
            lambda f: json.dump(settings, f, sort_keys=True, indent=1, default=_plain),
        )

    def __repr__(self) -> str:
        return f"FeatureCache({self.folder!r}, shape={self.shape})"
