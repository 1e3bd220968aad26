"""Image loading and preprocessing for :class:`robustkmeans.VGG16Featurizer`.

Everything that turns "an image" (a file path, a PIL image or a uint8 array)
into the RGB uint8 array and then the normalised float tensor the network sees
lives here, so that the featurizer, the cache and the tests share one
definition. Pillow is imported inside the functions that need it.

The preprocessing reproduces the standard torchvision pipeline for the ImageNet
VGG16 weights::

    transforms.Compose([
        transforms.Resize((image_size, image_size)),   # bilinear, on the PIL image
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])

applied to ``ImageOps.exif_transpose(Image.open(path)).convert("RGB")``:
unlike torchvision's default loader, a photo with an EXIF orientation tag is
turned upright (as viewers show it) before anything else, by
:func:`exif_orientation` and :func:`apply_orientation`. :func:`resize_rgb` does
the resize and :func:`to_normalized_tensor` the rest, batched.
"""

from __future__ import annotations

import functools
import io
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ._utils import outside_stacklevel

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# The file-name extensions read from folders with any Pillow; image_extensions()
# adds those the installed Pillow registers for _FOLDER_FORMATS.
IMAGE_EXTENSIONS = (
    ".bmp",
    ".gif",
    ".jfif",
    ".jpe",
    ".jpeg",
    ".jpg",
    ".png",
    ".ppm",
    ".pgm",
    ".tif",
    ".tiff",
    ".webp",
)

# The formats of photographs read from folders, whose every mode converts to RGB
# (not PPM's float .pfm), and the Pillow module that decodes those that need one.
_FOLDER_FORMATS = ("BMP", "GIF", "JPEG", "PNG", "TIFF", "WEBP", "AVIF")
_FORMAT_MODULES = {"WEBP": "webp", "AVIF": "avif"}

__all__ = [
    "IMAGE_EXTENSIONS",
    "ON_ERROR_HINT",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ImageInputMixin",
    "ImageLoadError",
    "apply_orientation",
    "as_image_list",
    "channels_first_hint",
    "conversion_hint",
    "describe_image",
    "exif_orientation",
    "image_extensions",
    "load_image_folder",
    "load_pil",
    "decode_bytes",
    "load_rgb",
    "load_rgb_stored",
    "read_bytes",
    "resize_rgb",
    "to_normalized_tensor",
    "warn_unreadable",
]


class ImageLoadError(ValueError):
    """An image could not be read; the message names the file and the reason.

    A ``ValueError``, so ``except ValueError`` catches it too.

    Parameters
    ----------
    filename : str
        The file (or a description of the in-memory image) that failed.
    reason : str
        Why it failed, e.g. ``"file not found"`` or ``"truncated or corrupt"``.
    hint : str or None, default=None
        What to do about it, where the caller knows (the featurizers add
        ``ON_ERROR_HINT``); it ends the message.

    Attributes
    ----------
    filename : str
        ``filename``, as a string.
    reason : str
        ``reason``, as given.
    hint : str or None
        ``hint``, or the one :meth:`add_hint` set since.

    See Also
    --------
    robustkmeans.VGG16Featurizer : Raises it for an image it cannot read, with
        ``on_error="raise"``.
    robustkmeans.quantize_colors : Raises it for an image it cannot read.

    Examples
    --------
    >>> from robustkmeans import ImageLoadError
    >>> error = ImageLoadError("photos/a.png", "file not found")
    >>> str(error)
    "Cannot read image 'photos/a.png': file not found"
    >>> error.add_hint("Remove or replace it")
    >>> str(error)
    "Cannot read image 'photos/a.png': file not found. Remove or replace it"
    """

    # the path users import it from (``from robustkmeans import ImageLoadError``):
    # tracebacks name it, and pickles refer to it
    __module__ = "robustkmeans"

    def __init__(self, filename: str, reason: str, hint: str | None = None):
        self.filename = str(filename)
        self.reason = reason
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        hint = f". {self.hint}" if self.hint else ""
        return f"Cannot read image {self.filename!r}: {self.reason}{hint}"

    def add_hint(self, hint: str) -> None:
        """Set ``hint`` (what to do) and end the message with it, before the error
        is raised again (with its traceback and cause).

        Parameters
        ----------
        hint : str
            What to do about the image; it replaces any earlier hint.
        """
        self.hint = hint
        self.args = (self._message(),)

    def __reduce__(self):
        return (type(self), (self.filename, self.reason, self.hint))


#: What the featurizers' ``on_error="raise"`` tells the user to do about an image
#: it cannot read (added to the :class:`ImageLoadError` they raise).
ON_ERROR_HINT = (
    "Remove or replace it in X; on_error='nan' instead gives each unreadable image a "
    "row of NaN and warns with the list of them all"
)


def _import_pil():
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Reading images needs Pillow. Install it with "
            "`pip install robustkmeans[vision]` (or `pip install pillow`)."
        ) from exc
    return Image


def _is_pil_image(obj) -> bool:
    Image = _import_pil()
    return isinstance(obj, Image.Image)


class ImageInputMixin:
    """scikit-learn tags of a transformer whose inputs are images (file paths, PIL
    images, uint8 arrays), not a numeric matrix: ``VGG16Featurizer`` and
    ``ColorHistogramFeaturizer``. Put it before ``TransformerMixin``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True  # (N, H, W) grayscale batches
        tags.input_tags.string = True  # file paths
        tags.transformer_tags.preserves_dtype = []  # always float32 out
        tags.non_deterministic = False
        return tags

    def fit_transform(self, X, y=None, **fit_params):
        """Fit to ``X``, then transform it: ``fit(X, y).transform(X)``.

        A one-shot iterator of images (a generator of paths, say) is read into a
        list first, since ``fit`` and ``transform`` each go through ``X``.

        Parameters
        ----------
        X : sequence or iterator of images
            As for ``transform``.
        y : None
            Ignored.
        **fit_params : dict
            Passed to ``fit``.

        Returns
        -------
        features : ndarray of shape (n_images, n_features_out)
            As ``transform`` returns them.
        """
        if isinstance(X, Iterator):
            X = list(X)
        return super().fit_transform(X, y, **fit_params)


def warn_unreadable(messages, n_images: int) -> None:
    """The featurizers' UserWarning for the images of ``on_error="nan"`` that could
    not be read (their rows are NaN): how many, and the first five reasons. Raised
    at the user's call (``outside_stacklevel``)."""
    shown = "; ".join(messages[:5])
    more = f" (and {len(messages) - 5} more)" if len(messages) > 5 else ""
    warnings.warn(
        f"{len(messages)} of {n_images} images could not be read; their rows are NaN: "
        f"{shown}{more}",
        UserWarning,
        stacklevel=outside_stacklevel(),
    )


def as_image_list(X, name: str = "VGG16Featurizer") -> list:
    """Turn the ``X`` given to ``transform`` into a list of single images.

    Parameters
    ----------
    X : sequence of images or ndarray
        A non-empty sequence (list, tuple, 1-D array, pandas Series) whose items
        are file paths (``str`` or :class:`os.PathLike`; byte strings, as HDF5
        files store paths, in an array, an object array or a list, are read as
        paths in the file system's encoding, :func:`os.fsdecode`), PIL images or uint8
        arrays of shape (H, W), (H, W, 3) or (H, W, 4); or one column of them
        (an (N, 1) object or string array, or a one-column pandas DataFrame, as
        :class:`~sklearn.compose.ColumnTransformer` passes it); or one uint8
        array of shape (N, H, W, 3), (N, H, W, 4) or (N, H, W) holding N images.
    name : str, default="VGG16Featurizer"
        The featurizer named in the error messages.

    Returns
    -------
    images : list
        One entry per image, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import as_image_list
    >>> len(as_image_list(np.zeros((5, 8, 8, 3), dtype=np.uint8)))
    5
    >>> as_image_list(["a.jpg", "b.png"])
    ['a.jpg', 'b.png']
    >>> as_image_list(np.array([["a.jpg"], ["b.png"]], dtype=object))
    ['a.jpg', 'b.png']
    """
    if isinstance(X, (str, bytes, os.PathLike)) or _is_pil_image(X):
        raise TypeError(
            f"X must be a sequence of images, got a single {type(X).__name__}. "
            "Wrap it in a list: transform([image])."
        )
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(
            f"X is a sparse matrix; {name} takes images: a sequence of file paths, "
            "PIL images or uint8 arrays."
        )
    if isinstance(X, (set, frozenset)):
        # (a set gave its rows in an arbitrary order, which could not be matched
        # with the images; a dict its keys; a user review)
        raise TypeError(
            f"X is a {type(X).__name__}, whose order is arbitrary, so the rows could not be "
            f"matched with the images; pass {name} a list, e.g. sorted(X)."
        )
    if isinstance(X, dict):
        raise TypeError(
            f"X is a dict; pass {name} a list of images: list(X.values()) for the "
            "values, list(X) for the keys."
        )
    if hasattr(X, "iloc") and hasattr(X, "to_numpy"):  # pandas Series or DataFrame
        X = X.to_numpy()
    elif not isinstance(X, np.ndarray) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if (
        isinstance(X, np.ndarray)
        and X.ndim == 2
        and X.shape[1] == 1
        and (X.dtype == object or X.dtype.kind in "US")
    ):
        # One column of paths or images, as a ColumnTransformer passes it (a
        # one-column DataFrame): one image per row, as for a Series.
        X = X[:, 0]
    if isinstance(X, np.ndarray) and X.dtype == object and X.ndim != 1:
        raise ValueError(
            f"X is an object array of shape {X.shape}; pass a 1-D sequence of images "
            "(file paths, PIL images or uint8 arrays), or one column of them."
        )
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim == 3 and X.shape[2] in (3, 4) and X.dtype.kind in "ub":
            # (H, W, 3): one colour image, which as a batch would be H grayscale
            # images W pixels wide and 3 high
            raise ValueError(
                f"X is an array of shape {X.shape}: a single colour image, not a batch. "
                "Pass [image] or image[None] for one image (a batch of N colour images "
                f"has shape (N, H, W, {X.shape[2]})); for {X.shape[0]} grayscale images "
                f"of {X.shape[1]} x {X.shape[2]} pixels, pass list(X)."
            )
        if X.ndim in (3, 4) and X.dtype.kind in "ub":
            images = list(X)
        elif X.ndim == 1 and X.dtype.kind == "U":
            images = X.tolist()
        elif X.ndim == 1 and X.dtype.kind == "S":
            # byte strings (as HDF5 files store paths): paths in the file system's
            # encoding, as open() reads them
            images = [os.fsdecode(path) for path in X.tolist()]
        else:
            if X.ndim == 2:
                hint = " A 2-D (n_samples, n_features) matrix is not an image batch."
            elif X.ndim in (3, 4) and (conversion := conversion_hint(X.dtype, "X")):
                hint = f" Images must be uint8: {conversion}."
            else:
                hint = ""
            article = "an" if str(X.dtype).startswith(("i", "o")) else "a"  # a uint8
            raise ValueError(
                f"X is {article} {X.dtype} array of shape {X.shape}; {name} takes images: "
                "a sequence of file paths, PIL images or (H, W[, 3]) uint8 arrays, or one "
                f"uint8 array of shape (N, H, W, 3) or (N, H, W).{hint}"
            )
    else:
        try:
            images = list(X)
        except TypeError as exc:
            raise TypeError(
                f"X must be a sequence of images (file paths, PIL images or uint8 arrays), "
                f"got {type(X).__name__}."
            ) from exc
        # byte-string paths in a list or an object array (h5py 3 reads an HDF5
        # string dataset as one) are read as those of a byte-string array are; bytes
        # with a NUL (an encoded image, not a path) are left to load_rgb's error
        images = [
            os.fsdecode(image) if isinstance(image, bytes) and b"\0" not in image else image
            for image in images
        ]
    if not images:
        raise ValueError("X contains no images; pass at least one.")
    return images


def describe_image(image, index: int | None = None, source: str = "X") -> str:
    """Short description of an image for error messages (the path for files).

    An in-memory image with an ``index`` is named as ``source[index]``, its
    position in the sequence ``source`` names (``X``, or a display's ``images``).

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import describe_image
    >>> describe_image("photos/cat.jpg")
    'photos/cat.jpg'
    >>> describe_image(np.zeros((4, 5, 3), np.uint8), index=2)
    'X[2] (ndarray uint8 (4, 5, 3))'
    >>> describe_image(np.zeros((4, 5, 3), np.uint8), index=2, source="images")
    'images[2] (ndarray uint8 (4, 5, 3))'
    """
    if isinstance(image, (str, os.PathLike)):
        return os.fspath(image)
    where = f"{source}[{index}] " if index is not None else ""
    if isinstance(image, np.ndarray):
        return f"{where}(ndarray {image.dtype} {image.shape})"
    if _is_pil_image(image):
        name = getattr(image, "filename", "") or ""
        what = f"PIL {image.mode} {image.size[0]}x{image.size[1]}"
        return f"{where}({what}{', ' + name if name else ''})"
    return f"{where}({type(image).__name__})"


# Pillow decodes a lazily opened image (``Image.open``) on its first ``load()``
# (also called by ``tobytes()``, ``convert()``, ``np.asarray``), reading its file,
# then closes the file; two threads loading one object at once (the same object
# twice in X, featurized with n_jobs > 1) read the file in turns, so a good photo
# is reported truncated or an AttributeError escapes. load_pil() holds one lock
# per object (by id, dropped when no thread waits on it) around ``load()``.
_PIL_LOAD_GUARD = threading.Lock()
_PIL_LOAD_LOCKS: dict[int, list] = {}


def load_pil(img) -> None:
    """``img.load()``, never run by two threads at once for the same PIL image.

    Once loaded, a PIL image is only read (conversions, ``tobytes()``), which
    threads may do together. Pillow's own errors (``OSError`` for a truncated
    file, ...) are raised as they are; a failed load leaves the image unloaded,
    so the next caller tries again, and fails alike.

    Parameters
    ----------
    img : PIL.Image.Image
        The image, loaded in place.

    Examples
    --------
    >>> from PIL import Image
    >>> from robustkmeans._images import load_pil
    >>> load_pil(Image.new("RGB", (2, 2)))
    """
    key = id(img)  # unique while img is alive, and the caller holds it
    with _PIL_LOAD_GUARD:
        entry = _PIL_LOAD_LOCKS.get(key)
        if entry is None:
            entry = _PIL_LOAD_LOCKS[key] = [threading.Lock(), 0]
        entry[1] += 1
    try:
        with entry[0]:
            img.load()
    finally:
        with _PIL_LOAD_GUARD:
            entry[1] -= 1
            if entry[1] == 0:
                del _PIL_LOAD_LOCKS[key]


# EXIF tag 0x0112 (274), "Orientation": 1 is as stored; 2 to 8 say how the
# stored pixels are mirrored and/or rotated relative to the upright picture.
_ORIENTATION_TAG = 0x0112
# Image.getexif() marks its cache as loaded before it parses, so two threads
# reading one PIL image (the same object twice in X) could see it half parsed.
_EXIF_LOCK = threading.Lock()
# What each orientation asks of the stored pixels (rows, columns[, channels])
# to show them upright: Pillow's Image.Transpose of ImageOps.exif_transpose.
_UPRIGHT = {
    2: lambda a: a[:, ::-1],  # FLIP_LEFT_RIGHT
    3: lambda a: a[::-1, ::-1],  # ROTATE_180
    4: lambda a: a[::-1],  # FLIP_TOP_BOTTOM
    5: lambda a: np.swapaxes(a, 0, 1),  # TRANSPOSE
    6: lambda a: np.rot90(a, -1),  # ROTATE_270: a quarter turn clockwise
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],  # TRANSVERSE
    8: lambda a: np.rot90(a, 1),  # ROTATE_90: a quarter turn anticlockwise
}


def exif_orientation(img) -> int:
    """The EXIF orientation (1 to 8) of a PIL image; 1 when it has none.

    The tag is read as :func:`PIL.ImageOps.exif_transpose` reads it
    (``img.getexif()``, which also looks at XMP metadata), and for a TIFF whose
    file has been closed, from its own tags (recent Pillow turns a TIFF upright
    itself when it loads it, and drops the tag). A missing, unreadable or malformed
    EXIF block, or a value outside 1..8, gives 1: the image is then used as
    stored, never rejected for its metadata.

    Parameters
    ----------
    img : PIL.Image.Image
        The image (not modified; Pillow caches the parsed EXIF on it).

    Returns
    -------
    orientation : int
        1 (as stored) to 8; pass it to :func:`apply_orientation`.

    Examples
    --------
    >>> from PIL import Image
    >>> from robustkmeans._images import exif_orientation
    >>> img = Image.new("RGB", (3, 2))
    >>> exif_orientation(img)
    1
    >>> img.getexif()[0x0112] = 6
    >>> exif_orientation(img)
    6
    """
    orientation = None
    try:
        with _EXIF_LOCK:
            orientation = img.getexif().get(_ORIENTATION_TAG)
    except Exception:  # a malformed EXIF block: Pillow raises many kinds
        orientation = None
    if orientation is None and hasattr(img, "tag_v2"):  # TIFF, once its file is closed
        try:
            orientation = img.tag_v2.get(_ORIENTATION_TAG)
        except Exception:
            orientation = None
    if isinstance(orientation, (int, np.integer)) and 1 <= orientation <= 8:
        return int(orientation)
    return 1


def apply_orientation(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Turn the stored pixels ``rgb`` upright for an EXIF ``orientation``.

    The same transposes as :func:`PIL.ImageOps.exif_transpose` (2 mirrors left
    to right, 3 turns by 180 degrees, 6 turns clockwise by a quarter, 8
    anticlockwise, ...), done on the array so that every image mode is handled
    alike. Orientation 1 returns ``rgb`` itself.

    Parameters
    ----------
    rgb : ndarray of shape (H, W) or (H, W, C)
        The pixels as stored.
    orientation : int
        1 to 8, e.g. from :func:`exif_orientation`.

    Returns
    -------
    upright : ndarray
        C-contiguous; of shape (W, H, ...) for orientations 5 to 8.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import apply_orientation
    >>> stored = np.array([[1, 2, 3], [4, 5, 6]])
    >>> apply_orientation(stored, 6)  # a quarter turn clockwise
    array([[4, 1],
           [5, 2],
           [6, 3]])
    """
    turn = _UPRIGHT.get(orientation)
    return rgb if turn is None else np.ascontiguousarray(turn(rgb))


# Pillow modes of 16-bit grayscale samples.
_16_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
# File formats that Pillow opens in the 32-bit mode "I" although their samples
# have at most 16 bits: 16-bit grayscale PNG (older Pillow opens it as "I") and
# PGM with a maxval above 255 (Pillow scales maxval to 65535).
_16_BIT_FORMATS = ("PNG", "PPM")


def _integer_to_rgb(img, name: str) -> np.ndarray:
    """Grayscale of the integer modes "I" and "I;16*" to (H, W, 3) uint8.

    16-bit samples (the "I;16" modes, and PNG or PGM files opened as "I") are
    scaled from 0..65535 as ``round(v / 257)``. The 32-bit mode "I" otherwise
    (a 32-bit integer TIFF, ``Image.convert("I")``) has no range of its own, so
    its values set it: all in 0..255 are read as 8-bit, all in 0..65535 as
    16-bit; negative values or values above 65535 raise :class:`ImageLoadError`.
    """
    arr = np.asarray(img)
    if img.mode in _16_BIT_MODES or img.format in _16_BIT_FORMATS:
        scale = 257.0
    else:
        low, high = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        if low < 0 or high > 65535:
            raise ImageLoadError(
                name,
                f"32-bit integer pixels from {low} to {high} have no defined 0..255 range "
                "(values in 0..255 are read as 8-bit, in 0..65535 as 16-bit); rescale "
                "them to 0..255 and pass a uint8 array",
            )
        scale = 1.0 if high <= 255 else 257.0
    gray = np.clip(np.rint(arr.astype(np.float64) / scale), 0, 255).astype(np.uint8)
    return np.repeat(gray[:, :, None], 3, axis=2)


def _palette_has_alpha(img) -> bool:
    """Whether the palette of a "P" or "PA" image holds alpha values ("RGBA"), as
    ``Image.convert("P")`` and ``Image.quantize()`` of an RGBA image give it. Such an
    image is transparent without a "transparency" entry in ``img.info``; saved as PNG,
    its palette's alpha becomes one."""
    palette = getattr(img, "palette", None)
    return palette is not None and str(getattr(palette, "mode", "")).endswith("A")


# Modes whose PNG files may mark one colour transparent (a tRNS chunk, which
# Pillow reads into img.info["transparency"]: the grey value or the RGB triple),
# as PNG optimisers store an RGBA picture whose alpha is only 0 or 255.
_KEYED_MODES = ("1", "L", "RGB", "I", *_16_BIT_MODES)


def _key_on_white(img, rgb: np.ndarray) -> np.ndarray:
    """``rgb`` with the pixels of ``img``'s transparent colour made white: alpha 0
    there and 255 elsewhere, composited on white as an alpha channel is. A key of
    another kind than the mode's (not an int, or not an RGB triple) is ignored."""
    key = img.info.get("transparency")
    stored = np.asarray(img)
    if img.mode == "RGB":
        if not (isinstance(key, tuple) and len(key) == 3):
            return rgb
        transparent = (stored == np.array(key)).all(axis=2)
    elif isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        # ("1": np.asarray gives bool, the key is 0 or 255)
        transparent = stored == (bool(key) if stored.dtype == np.bool_ else key)
    else:
        return rgb
    if not transparent.any():
        return rgb
    rgb = rgb.copy()
    rgb[transparent] = 255
    return rgb


def _pil_to_rgb(img, name: str) -> np.ndarray:
    """Convert a decoded PIL image of any common mode to an (H, W, 3) uint8 array.

    Integer grayscale ("I", "I;16"...) is scaled as :func:`_integer_to_rgb` says.
    Transparency (an alpha channel, a palette's, or the one transparent colour a
    grey or RGB PNG may name) is composited on white.
    """
    rgb = _pil_pixels_to_rgb(img, name)
    if img.mode in _KEYED_MODES and "transparency" in img.info:
        rgb = _key_on_white(img, rgb)
    return rgb


def _pil_pixels_to_rgb(img, name: str) -> np.ndarray:
    """:func:`_pil_to_rgb` but for the transparent colour of :data:`_KEYED_MODES`."""
    Image = _import_pil()
    mode = img.mode
    if mode == "RGB":
        return np.asarray(img, dtype=np.uint8)
    if mode == "I" or mode in _16_BIT_MODES:
        return _integer_to_rgb(img, name)
    if mode == "F":
        raise ImageLoadError(
            name,
            "32-bit float images have no defined 0..255 range; save the file as an 8- or "
            "16-bit image (or, as an array in [0, 1], pass "
            "np.clip(x * 255, 0, 255).round().astype(np.uint8))",
        )
    if mode == "La":
        # grey with premultiplied alpha: Pillow converts it to "LA" only (to "RGBA"
        # it raises "conversion from La to L not supported")
        img, mode = img.convert("LA"), "LA"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa") or (
        mode == "P" and ("transparency" in img.info or _palette_has_alpha(img))
    )
    if mode in ("L", "P") and not has_alpha:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8)
    try:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (ValueError, OSError) as exc:
        raise ImageLoadError(name, f"cannot convert mode {mode!r} to RGB ({exc})") from exc


def native_pixels(arr: np.ndarray, kinds: str = "u") -> np.ndarray:
    """``arr``'s pixels as the readers take them (``load_rgb``, so
    ``VGG16Featurizer``, and ``quantize_colors``): in native byte order where the
    dtype's kind is one of ``kinds`` (a big-endian '>u2' array, as np.asarray of a
    16-bit big-endian TIFF gives, is not np.uint16: the same pixels in native
    order), and bool as uint8 0 and 255 (a mask, or np.asarray of a 1-bit "1"
    image, as Pillow reads it)."""
    if not arr.dtype.isnative and arr.dtype.kind in kinds:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * np.uint8(255)
    return arr


def conversion_hint(dtype: np.dtype, name: str = "x") -> str:
    """How to turn pixels of ``dtype`` (the array ``name``) into the uint8 the
    readers take, for the error that refuses them ("" where there is no one way).

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import conversion_hint
    >>> conversion_hint(np.dtype(np.int64))
    'for integers in 0..255 pass x.astype(np.uint8) (in 0..65535, x.astype(np.uint16))'
    """
    if dtype.kind == "f":
        return f"for floats in [0, 1] pass np.clip({name} * 255, 0, 255).round().astype(np.uint8)"
    if dtype.kind in "iu":
        return (
            f"for integers in 0..255 pass {name}.astype(np.uint8) (in 0..65535, "
            f"{name}.astype(np.uint16))"
        )
    return ""


def channels_first_hint(shape: tuple, name: str = "x") -> str:
    """For an image of ``shape`` that looks channels-first (C, H, W), as torch and
    ``torchvision.io.read_image`` lay images out, how to pass it channels-last;
    else "". (An (H, W, C) shape whose last side could be channels is read so.)

    Examples
    --------
    >>> from robustkmeans._images import channels_first_hint
    >>> channels_first_hint((3, 8, 10))
    'it looks channels-first (C, H, W), as torch stores images: pass np.moveaxis(x, 0, -1)'
    >>> channels_first_hint((8, 10, 3))
    ''
    """
    if len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4):
        return (
            "it looks channels-first (C, H, W), as torch stores images: pass "
            f"np.moveaxis({name}, 0, -1)"
        )
    return ""


def _array_to_rgb(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        hint = channels_first_hint(arr.shape)
        raise ImageLoadError(
            name,
            "arrays must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)"
            + (f"; {hint}" if hint else ""),
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageLoadError(name, "the image has no pixels")
    arr = native_pixels(arr)
    if arr.dtype == np.uint16:
        arr = np.clip(np.rint(arr.astype(np.float64) / 257.0), 0, 255).astype(np.uint8)
    elif arr.dtype != np.uint8:
        hint = conversion_hint(arr.dtype)
        raise ImageLoadError(
            name,
            f"array dtype {arr.dtype} is not supported; pass uint8 (0..255) or uint16 "
            f"(0..65535) pixels{', e.g. ' + hint if hint else ''}",
        )
    if arr.ndim == 2:
        return np.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:  # RGBA: composite on white, as Pillow's alpha_composite does
        Image = _import_pil()
        return _pil_to_rgb(Image.fromarray(np.ascontiguousarray(arr), mode="RGBA"), name)
    return np.ascontiguousarray(arr)


def _is_url(name) -> bool:
    """Whether a path that was not found is written as a URL (``http://...``)."""
    text = name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    return text.lower().startswith(("http://", "https://", "ftp://"))


def read_bytes(path) -> bytes:
    """Read a file, raising :class:`ImageLoadError` naming it when that fails.

    Examples
    --------
    >>> from robustkmeans._images import read_bytes
    >>> read_bytes("no/such/file.jpg")
    Traceback (most recent call last):
    ...
    robustkmeans.ImageLoadError: Cannot read image 'no/such/file.jpg': file not found
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError as exc:
        reason = "file not found"
        if os.path.islink(name):  # listed by ls, yet "not found": its target is missing
            reason += f": it is a symbolic link to {os.readlink(name)!r}, which does not exist"
        elif _is_url(name):
            reason += "; URLs are not fetched: download the image and pass its local path"
        raise ImageLoadError(name, reason) from exc
    except ValueError as exc:
        # (open's "embedded null byte": a bare ValueError that named no file, and that
        # on_error="nan" did not catch; a user review)
        raise ImageLoadError(name, f"not a valid path ({exc})") from exc
    except IsADirectoryError as exc:
        raise ImageLoadError(name, "is a directory, not an image file") from exc
    except OSError as exc:
        raise ImageLoadError(name, f"cannot open the file ({exc.strerror or exc})") from exc
    if not data:
        raise ImageLoadError(name, "the file is empty (0 bytes)")
    return data


def decode_bytes(data: bytes, name: str) -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, ...) to an (H, W, 3) uint8 RGB array.

    A photo with an EXIF orientation tag is turned upright, as viewers show it
    (see :func:`exif_orientation`); a malformed EXIF block is ignored.
    """
    return apply_orientation(*_decode_stored(data, name))


def _decode_stored(data: bytes, name: str) -> tuple[np.ndarray, int]:
    """(pixels as stored, EXIF orientation) of encoded image bytes; see :func:`decode_bytes`."""
    Image = _import_pil()
    from PIL import UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            return _pil_to_rgb(img, name), exif_orientation(img)
    except UnidentifiedImageError as exc:
        head = data[:64]
        kind = "a text file" if _looks_like_text(head) else "not an image format Pillow reads"
        raise ImageLoadError(name, f"not an image: the content is {kind}") from exc
    except ImageLoadError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        msg = str(exc)
        if "truncated" in msg:
            reason = f"the image file is truncated or corrupt ({msg})"
        elif "Ghostscript" in msg or (_is_postscript(data) and not _has_ghostscript()):
            # (an EPS file is no corrupt image: Pillow renders it with Ghostscript;
            # a user review. By its header too: Pillow 9's error was "[Errno 2] No
            # such file or directory: 'gs'")
            reason = (
                f"Pillow needs Ghostscript to read this PostScript file ({msg}); install "
                "Ghostscript (the gs command) or convert the file to PNG"
            )
        else:
            reason = f"the image data is corrupt ({msg})"
        raise ImageLoadError(name, reason) from exc
    except Image.DecompressionBombError as exc:  # pragma: no cover - very large inputs
        raise ImageLoadError(name, f"image too large to decode safely ({exc})") from exc


def _is_postscript(data: bytes) -> bool:
    """Whether encoded bytes are PostScript (EPS), as text or with the DOS EPS header."""
    return data[:4] in (b"%!PS", b"\xc5\xd0\xd3\xc6")


def _has_ghostscript() -> bool:
    """Whether a Ghostscript command that Pillow looks for is on the PATH."""
    import shutil

    return any(shutil.which(command) for command in ("gs", "gswin64c", "gswin32c"))


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(b >= 9 for b in head)


def load_rgb(image, index: int | None = None) -> np.ndarray:
    """Load one image as an (H, W, 3) uint8 RGB array.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        A file path; a PIL image of any common mode (grayscale, palette, RGBA,
        16-bit, CMYK, ...); or a uint8 / uint16 array of shape (H, W), (H, W, 3)
        or (H, W, 4). Grayscale becomes three equal channels, transparency is
        composited on white and 16-bit values are scaled to 0..255 (``v / 257``).
        A 32-bit integer image (Pillow mode ``"I"``, e.g. a 32-bit TIFF) has no
        range of its own: it is read as 8-bit when all its values lie in
        0..255, as 16-bit when they lie in 0..65535, and raises otherwise; a
        16-bit PNG or PGM that Pillow opens as ``"I"`` is always 16-bit.
        32-bit float images (mode ``"F"``) raise. Files and PIL images with an
        EXIF orientation tag (phone photos) are turned upright, as viewers
        show them and as :func:`PIL.ImageOps.exif_transpose` does; a malformed
        EXIF block is ignored (the image is used as stored). Arrays carry no
        tag and are used as they are. A file of several frames (animated
        GIF, PNG or WebP, multi-page TIFF) gives its first frame, a PIL image
        its current one (``seek``).
    index : int, optional
        Position of the image in ``X``, used in error messages for in-memory
        images.

    Returns
    -------
    rgb : ndarray of shape (H, W, 3), dtype uint8
        H and W of the upright picture: a photo stored on its side (EXIF
        orientation 5 to 8) has the width and height of its file swapped.

    Raises
    ------
    ImageLoadError
        Naming the file and the reason (missing, empty, not an image,
        truncated or corrupt, unsupported array dtype or shape).

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import load_rgb
    >>> load_rgb(np.full((2, 3), 7, dtype=np.uint8)).shape
    (2, 3, 3)
    """
    return apply_orientation(*load_rgb_stored(image, index))


def load_rgb_stored(image, index: int | None = None, source: str = "X") -> tuple[np.ndarray, int]:
    """:func:`load_rgb` without the final turn: the pixels as stored, and the EXIF
    orientation that turns them upright.

    ``apply_orientation(*load_rgb_stored(image))`` is ``load_rgb(image)``. A
    caller that shrinks the image (thumbnails, colour histograms) can shrink
    first and turn the small result, instead of turning the full-size pixels.

    Parameters
    ----------
    image : str, os.PathLike, PIL.Image.Image or ndarray
        As for :func:`load_rgb`.
    index : int, optional
        Position of the image in ``source``, used in error messages.
    source : str, default="X"
        Name of the sequence holding the image, in error messages
        (``images[2]``).

    Returns
    -------
    rgb : ndarray of shape (H, W, 3), dtype uint8
        The pixels as stored in the file or PIL image.
    orientation : int
        1 to 8, for :func:`apply_orientation`; always 1 for arrays.

    Raises
    ------
    ImageLoadError
        As :func:`load_rgb`.

    Examples
    --------
    >>> import numpy as np
    >>> from PIL import Image
    >>> from robustkmeans._images import load_rgb_stored
    >>> img = Image.new("RGB", (3, 2))
    >>> img.getexif()[0x0112] = 6  # stored on its side
    >>> rgb, orientation = load_rgb_stored(img)
    >>> rgb.shape, orientation
    ((2, 3, 3), 6)
    """
    if isinstance(image, (str, os.PathLike)):
        name = os.fspath(image)
        return _decode_stored(read_bytes(name), name)
    name = describe_image(image, index, source)
    if isinstance(image, np.ndarray):
        return _array_to_rgb(image, name), 1
    if _is_pil_image(image):
        if image.size[0] == 0 or image.size[1] == 0:
            raise ImageLoadError(name, "the image has no pixels")
        try:
            load_pil(image)
        except (OSError, ValueError) as exc:
            raise ImageLoadError(name, f"the image data is corrupt ({exc})") from exc
        except (AssertionError, AttributeError) as exc:
            if getattr(image, "fp", 0) is not None:
                raise
            # the lazily opened image's file is gone: Pillow's bare assert (an
            # AttributeError in Pillow 9.1, the minimum)
            raise ImageLoadError(
                name,
                "its file was closed before it was read (an image of `with "
                "Image.open(path) as image:` is read in that block); call image.load() "
                "there, or pass the path",
            ) from exc
        return _pil_to_rgb(image, name), exif_orientation(image)
    if (
        image is None
        or (isinstance(image, float | np.floating) and image != image)
        or _is_pandas_na(image)
    ):
        # a path column with a missing entry (pandas 3 stores None among str as NaN)
        raise ImageLoadError(
            name,
            f"a missing value ({image!r}), not an image; drop the rows of X without one "
            "(df.dropna(subset=[column]) for a DataFrame) or fill them",
        )
    tensor = type(image).__module__.startswith("torch") and hasattr(image, "permute")
    raise ImageLoadError(
        name,
        "expected a file path (str or pathlib.Path), a PIL image or a uint8 array, "
        f"got {type(image).__name__}"
        + (
            "; pass x.numpy(), channels last: x.permute(1, 2, 0).numpy() for a (C, H, W) "
            "tensor such as torchvision.io.read_image gives"
            if tensor
            else ""
        ),
    )


def _is_pandas_na(obj) -> bool:
    """Whether ``obj`` is pandas' missing value ``pd.NA`` or ``pd.NaT`` (without
    importing pandas)."""
    return type(obj).__name__ in ("NAType", "NaTType") and type(obj).__module__.startswith("pandas")


def resize_rgb(rgb: np.ndarray, image_size: int) -> np.ndarray:
    """Resize an RGB uint8 array to (image_size, image_size) like torchvision.

    This is exactly ``transforms.Resize((image_size, image_size))`` on a PIL
    image: Pillow's bilinear filter (which antialiases when shrinking).

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import resize_rgb
    >>> resize_rgb(np.zeros((10, 20, 3), np.uint8), 8).shape
    (8, 8, 3)
    """
    if rgb.shape[0] == image_size and rgb.shape[1] == image_size:
        return rgb  # torchvision's Resize returns the image unchanged in this case
    Image = _import_pil()
    img = Image.fromarray(rgb, mode="RGB")
    return np.asarray(img.resize((image_size, image_size), Image.Resampling.BILINEAR), np.uint8)


def to_normalized_tensor(batch: np.ndarray, *, memory_format=None):
    """Turn (N, S, S, 3) uint8 RGB into the normalised float32 (N, 3, S, S) tensor.

    Equal to ``Normalize(IMAGENET_MEAN, IMAGENET_STD)(ToTensor()(img))`` per
    image, done once for the whole batch.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._images import to_normalized_tensor
    >>> t = to_normalized_tensor(np.zeros((2, 4, 4, 3), np.uint8))
    >>> tuple(t.shape), str(t.dtype)
    ((2, 3, 4, 4), 'torch.float32')
    """
    import torch

    batch = np.ascontiguousarray(batch)
    if not batch.flags.writeable:  # torch.from_numpy warns on read-only memory
        batch = batch.copy()
    x = torch.from_numpy(batch).permute(0, 3, 1, 2)
    x = x.to(dtype=torch.float32).div_(255)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32).view(1, 3, 1, 1)
    x = x.sub_(mean).div_(std)
    if memory_format is not None:
        x = x.contiguous(memory_format=memory_format)
    return x


@functools.cache
def image_extensions() -> tuple[str, ...]:
    """The file-name extensions read from folders: those of :data:`IMAGE_EXTENSIONS`
    and every one the installed Pillow registers for a photograph format it can
    decode (``.avif`` where it has its AVIF plugin, ``.apng``...), sorted.

    Without Pillow, :data:`IMAGE_EXTENSIONS`.
    """
    try:
        from PIL import Image, features
    except ImportError:
        return IMAGE_EXTENSIONS
    Image.init()

    def decodes(image_format: str) -> bool:
        if image_format not in Image.OPEN:
            return False
        module = _FORMAT_MODULES.get(image_format)
        try:
            return module is None or bool(features.check_module(module))
        except ValueError:  # a Pillow that does not know the module
            return False

    readable = {f for f in _FOLDER_FORMATS if decodes(f)}
    registered = {e for e, f in Image.registered_extensions().items() if f in readable}
    return tuple(sorted({*IMAGE_EXTENSIONS, *registered}))


def _loose_files(folder: Path, exts: tuple[str, ...] | None) -> list[Path]:
    """The files lying directly in ``folder`` (not in its subfolders) ending in
    ``exts`` (None: any), hidden ones left out, sorted by name: the images that
    :func:`load_image_folder` cannot give a class. A link to a file that is gone
    is listed, as :func:`_files_under` lists it, so that reading it names the
    missing image."""
    return sorted(
        p
        for p in Path(folder).iterdir()
        if (p.is_file() or (p.is_symlink() and not p.exists()))
        and not p.name.startswith(".")
        and (exts is None or p.name.lower().endswith(exts))
    )


def _links_up(path, top: str) -> bool:
    """Whether ``path`` is a link to the folder ``top`` (a real path) or a folder
    above it: one not followed under an image folder, whose images it would give
    again (a link ``sub/up -> ..``) or read from outside it (a link to ``/``
    would read the whole disk)."""
    if not os.path.islink(path):
        return False
    real = os.path.realpath(path)
    return top == real or top.startswith(real.rstrip(os.sep) + os.sep)


def _files_under(
    folder: Path,
    exts: tuple[str, ...] | None,
    unreadable: list[OSError] | None = None,
    hidden: list[str] | None = None,
    root: Path | None = None,
) -> list[str]:
    """The files under ``folder`` ending in ``exts``, at any depth, sorted by path.

    Links to folders are followed, like links to files (:meth:`Path.rglob` does
    not follow them before Python 3.13). A folder reached again, by a link to a
    folder above it (a loop) or by two links to one folder, is read only the
    first time, in sorted order; a link to ``root`` (the data set's folder,
    ``folder`` by default) or a folder above it is not followed: its images are
    the data set's own, or not in it (a link ``sub/up -> ..`` gave the images
    lying in the folder the class ``sub``, under the link's name, and one to ``/``
    would read the whole disk). Hidden files and folders are left out. A link to
    a file that is gone is listed, so that reading it names the missing image.

    A folder that cannot be listed (no read permission) raises the error of
    :func:`os.scandir`, or, given ``unreadable``, is appended to it as that error
    (its ``filename`` names the folder) and its files are left out. Given
    ``hidden``, the hidden folders and files left out are appended to it (a
    folder once, with a trailing separator; nothing from inside it).
    """

    def cannot_list(error: OSError) -> None:
        # os.walk skips such a folder without a word by default: its images, and
        # a class folder as a whole, would vanish from the data set
        if unreadable is None:
            raise error
        unreadable.append(error)

    top = os.path.realpath(folder if root is None else root)
    found, seen = [], set()
    for dirpath, dirnames, filenames in os.walk(folder, onerror=cannot_list, followlinks=True):
        try:
            stat = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in seen:
            dirnames[:] = []  # do not descend a second time (ends link loops)
            continue
        seen.add((stat.st_dev, stat.st_ino))
        if hidden is not None:
            hidden.extend(os.path.join(dirpath, d, "") for d in dirnames if d.startswith("."))
            hidden.extend(os.path.join(dirpath, f) for f in filenames if f.startswith("."))
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".") and not _links_up(os.path.join(dirpath, d), top)
        )
        for name in filenames:
            path = Path(dirpath, name)
            # (a link to a file that is gone is listed: the image is missing, and
            # reading it raises an error that names it, rather than the data set
            # losing an image without a word)
            dangling = path.is_symlink() and not path.exists()
            if name.startswith(".") or not (path.is_file() or dangling):
                continue
            if exts is None or name.lower().endswith(exts):
                found.append(path)
    return [os.fspath(path) for path in sorted(found)]


def _unreadable_reasons(errors: list[OSError], root) -> dict[str, str]:
    """``{folder: reason}`` for the folders that :func:`_files_under` could not list
    (``errors``), each once, named relative to ``root``."""
    reasons: dict[str, str] = {}
    for error in errors:
        name = os.path.relpath(error.filename, root) if error.filename else str(error)
        reasons.setdefault(name, error.strerror or str(error))
    return reasons


def _owning_classes(root: Path, found: dict[str, list[str]]) -> dict[str, str]:
    """The class of each file (by its real path) that ``found`` lists under several.

    A file reached under several class folders (a link to a folder of another
    class, or to a folder another class links to) belongs to the class whose
    folder really holds it: the one where its path has no symbolic link. When
    none or several do, it belongs to the first of them by name.
    """
    real_root = os.path.realpath(root)
    owner: dict[str, str] = {}
    direct: set[str] = set()
    for cls, paths in found.items():  # classes in sorted order
        for path in paths:
            real = os.path.realpath(path)
            is_direct = real == os.path.join(real_root, os.path.relpath(path, root))
            if real not in owner or (is_direct and real not in direct):
                owner[real] = cls
            if is_direct:
                direct.add(real)
    return owner


def load_image_folder(
    container_path,
    *,
    extensions: Sequence[str] | str | None = "auto",
    shuffle: bool = False,
    random_state=0,
    on_error: str = "raise",
) -> Bunch:
    """Load a folder of images, one subfolder per class, like ``load_files``.

    The layout is ``container_path/<class name>/<image file>``. Images directly
    in ``container_path`` have no class: they are left out, with a UserWarning
    naming them (a ValueError saying so when there is no class subfolder).
    Hidden files or folders (starting with ``.``) are ignored, and so is a
    subfolder that holds no file with one of ``extensions``: it is not a class,
    so every name in ``target_names`` labels at least one image. Images are not
    decoded here: pass ``filenames`` to :class:`robustkmeans.VGG16Featurizer`.

    The images of a class are searched at any depth below its folder.
    Symbolic links are followed, to files and to folders alike, whether the
    link is a class folder or lies inside one; a folder reached a second time
    (a link to a folder above it, or two links to one folder) is read only the
    first time, so a link loop ends; a link inside a class to ``root`` or a
    folder above it is not followed (its images are the data set's own, or
    not in it). A file reached under two class folders
    (``root/b -> root/a/sub``, or two classes linking to one folder) is listed
    once, in the class whose folder holds it without a link (else in the first
    by name), never with two labels; a UserWarning names the files left out of
    the other classes, and a class left with no file is dropped. A link to a
    file that is gone is listed as an image: the featurizers then name it as
    missing (``on_error="nan"`` keeps the others). A folder that cannot be read
    (no read permission) raises an error naming it, or with ``on_error="skip"``
    is left out with a UserWarning naming it.

    Parameters
    ----------
    container_path : str or os.PathLike
        The folder holding one subfolder per class.
    extensions : sequence of str, str, "auto" or None, default="auto"
        File name endings to keep (case-insensitive, with the dot; one ending may be
        given as a string, e.g. ``".png"``). ``"auto"``
        keeps the images the installed Pillow can read: ``.jpg``, ``.jpeg``,
        ``.jpe``, ``.jfif``, ``.png``, ``.apng``, ``.gif``, ``.bmp``, ``.tif``,
        ``.tiff``, ``.webp``, ``.ppm``, ``.pgm``, and ``.avif``/``.avifs`` where
        Pillow has its AVIF plugin (``image_extensions()``). ``None`` keeps every
        file.
    shuffle : bool, default=False
        Shuffle the images (files are otherwise sorted by class, then name).
    random_state : int, RandomState instance or None, default=0
        Seed for the shuffle.
    on_error : {"raise", "skip"}, default="raise"
        What a folder that cannot be read (listed) does: raise an ``OSError``
        naming every such folder, or be left out, its images with it, with a
        UserWarning naming them (``"skip"``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``filenames`` (ndarray of str paths), ``target`` (ndarray of int class
        indices), ``target_names`` (list of str, the sorted names of the
        subfolders that hold images; ``target`` indexes it) and ``DESCR``.

    Raises
    ------
    FileNotFoundError
        If ``container_path`` is not a folder.
    OSError
        With ``on_error="raise"``, if folders under ``container_path`` cannot be
        read (a ``PermissionError`` when that is why).
    ValueError
        If no image files are found in class subfolders, ``extensions`` is a
        string other than ``"auto"`` that does not start with a dot, or
        ``on_error`` is neither ``"raise"`` nor ``"skip"``.

    See Also
    --------
    sklearn.datasets.load_files : the same layout for text files.
    robustkmeans.VGG16Featurizer : turns ``filenames`` into features.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from PIL import Image
    >>> from robustkmeans import load_image_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for cls in ["cats", "dogs"]:
    ...     (root / cls).mkdir()
    ...     Image.new("RGB", (8, 8)).save(root / cls / "a.png")
    >>> data = load_image_folder(root)
    >>> data.target_names, data.target.tolist()
    (['cats', 'dogs'], [0, 1])
    """
    root = Path(container_path)
    if not root.is_dir():
        raise FileNotFoundError(
            f"load_image_folder: {os.fspath(container_path)!r} is not a folder; pass the "
            "folder that holds one subfolder per class."
        )
    if isinstance(extensions, str):
        if extensions == "auto":
            extensions = image_extensions()
        elif extensions.startswith("."):
            extensions = (extensions,)  # one ending, not its characters
        else:
            raise ValueError(
                f"load_image_folder: extensions={extensions!r}; pass 'auto', None, a "
                "sequence of file name endings such as ('.png', '.jpg'), or one such as "
                "'.png'."
            )
    if on_error not in ("raise", "skip"):
        raise ValueError(f"load_image_folder: on_error={on_error!r}; pass 'raise' or 'skip'.")
    exts = None if extensions is None else tuple(e.lower() for e in extensions)
    # (a class folder that links to the folder or above it is none: see _links_up)
    real_root = os.path.realpath(root)
    folders = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not _links_up(p, real_root)
    )
    errors: list[OSError] = []
    found = {cls: _files_under(root / cls, exts, errors, root=root) for cls in folders}
    unreadable = _unreadable_reasons(errors, root)
    if unreadable:
        # (as unreadable images are: all named, not a data set short of them)
        described = [f"{name!r} ({reason})" for name, reason in unreadable.items()]
        if on_error == "raise":
            denied = all(isinstance(error, PermissionError) for error in errors)
            raise (PermissionError if denied else OSError)(
                f"load_image_folder: {len(unreadable)} folder(s) under {os.fspath(root)!r} "
                f"cannot be read: {', '.join(described)}. Give read permission to them or "
                "move them out, or pass on_error='skip' to leave them out (with a warning)."
            )
        more = f" and {len(described) - 5} more" if len(described) > 5 else ""
        warnings.warn(
            f"load_image_folder: {len(unreadable)} folder(s) under {os.fspath(root)!r} "
            f"cannot be read and are left out, with the images in them: "
            f"{', '.join(described[:5])}{more}.",
            UserWarning,
            stacklevel=2,
        )
    top = [p.name for p in _loose_files(root, exts)]
    owner = _owning_classes(root, found)
    target_names: list[str] = []
    filenames: list[str] = []
    target: list[int] = []
    skipped: list[str] = []
    for cls in folders:
        kept = []
        for path in found[cls]:
            taken_by = owner[os.path.realpath(path)]
            if taken_by == cls:
                kept.append(path)
            else:
                skipped.append(f"{os.path.relpath(path, root)!r} (kept in {taken_by!r})")
        if not kept:
            continue  # no image: not a class (its index would label nothing)
        filenames += kept
        target += [len(target_names)] * len(kept)
        target_names.append(cls)
    if skipped:
        shown = ", ".join(skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"load_image_folder: {len(skipped)} files are reached through symbolic links "
            f"under a second class folder and are kept once, in the class whose folder "
            f"holds them (else the first, by name), not given two labels: {shown}{more}.",
            UserWarning,
            stacklevel=2,
        )
    layout = f"{os.fspath(root)}/<class>/<file>"
    if not filenames and top:
        raise ValueError(
            f"load_image_folder: the {len(top)} image file(s) of {os.fspath(root)!r} lie "
            f"directly in it, but images must be in class subfolders ({layout}): move "
            "them into one subfolder per class, or, without classes, pass the files "
            "themselves to VGG16Featurizer."
        )
    if not filenames:
        raise ValueError(
            f"load_image_folder: no image files found under {os.fspath(root)!r} "
            f"(expected {layout} with extensions {exts})."
        )
    if top:
        shown = ", ".join(repr(name) for name in top[:5])
        more = f" and {len(top) - 5} more" if len(top) > 5 else ""
        warnings.warn(
            f"load_image_folder: {len(top)} image file(s) lie directly in "
            f"{os.fspath(root)!r}, beside the class subfolders, and are left out (they "
            f"have no class): {shown}{more}. Move them into a class subfolder ({layout}) "
            "to load them.",
            UserWarning,
            stacklevel=2,
        )
    filenames_arr = np.array(filenames)
    target_arr = np.array(target, dtype=np.intp)
    if shuffle:
        order = check_random_state(random_state).permutation(len(filenames_arr))
        filenames_arr, target_arr = filenames_arr[order], target_arr[order]
    return Bunch(
        filenames=filenames_arr,
        target=target_arr,
        target_names=target_names,
        DESCR=f"Images under {os.fspath(root)}: {len(filenames_arr)} files in "
        f"{len(target_names)} classes.",
    )
