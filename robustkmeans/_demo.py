"""A small labelled image set built from scikit-learn's sample images (no download).

scikit-learn ships two photographs, ``china.jpg`` (a pagoda, sky, trees) and
``flower.jpg`` (a dahlia on dark leaves). :func:`make_demo_images` cuts them into
labelled crops, one class per region of a photograph, with random position, size
and horizontal flip, and writes them to a folder tree ``<folder>/<class>/*.png``
that :func:`robustkmeans.load_image_folder` reads back with the class labels.

The six classes are visually distinct in content but overlap in colour (sky and
water, trees and leaves), which is what makes image features worth having.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._cache import _write_atomic
from ._images import (
    ON_ERROR_HINT,
    ImageInputMixin,
    ImageLoadError,
    as_image_list,
    warn_unreadable,
)
from ._utils import make_folders, system_path
from ._vgg16 import WEIGHTS_ENV, _weights_in_env

__all__ = [
    "DEMO_CLASSES",
    "ColorHistogramFeaturizer",
    "find_vgg16_weights",
    "make_demo_images",
]

#: Class name -> (photograph, list of regions (x0, y0, x1, y1) in its 640x427 pixels).
#: Each class is the content of its regions: pagoda, sky, water and trees from
#: ``china.jpg``; dahlia and leaves from ``flower.jpg``.
DEMO_CLASSES = {
    "pagoda": ("china.jpg", [(110, 60, 320, 360)]),
    "sky": ("china.jpg", [(360, 0, 640, 170)]),
    "water": ("china.jpg", [(340, 220, 530, 285)]),
    "trees": ("china.jpg", [(400, 290, 640, 427), (0, 330, 110, 427)]),
    "dahlia": ("flower.jpg", [(190, 100, 440, 350)]),
    "leaves": ("flower.jpg", [(0, 0, 150, 427), (470, 0, 640, 300)]),
}

#: Where the real VGG16 weights are looked for, relative to the working directory
#: and to each folder above it (see :func:`find_vgg16_weights`).
SHARED_WEIGHTS = Path("shared") / "weights" / "vgg16_features_imagenet1k_v1.pth"


def find_vgg16_weights(weights=None) -> Path | None:
    """Find a local VGG16 weights file, without downloading anything.

    Parameters
    ----------
    weights : str or path-like, default=None
        An explicit path; it must exist.

    Returns
    -------
    path : Path or None
        ``weights`` if given; else the file named by the environment variable
        ``ROBUSTKMEANS_VGG16_WEIGHTS`` (``~`` expanded); else
        ``shared/weights/vgg16_features_imagenet1k_v1.pth`` in the working
        directory, or else in the nearest folder above it that has one; else
        ``None``. Only the presence of the file is checked here; its content is
        read by :class:`~robustkmeans.VGG16Featurizer`.

    Raises
    ------
    FileNotFoundError
        When ``weights`` or the environment variable names a missing file.
    IsADirectoryError
        When ``weights`` or the environment variable names a folder.

    See Also
    --------
    robustkmeans.VGG16Featurizer : Loads the file given as ``weights``.

    Examples
    --------
    >>> from robustkmeans._demo import find_vgg16_weights
    >>> path = find_vgg16_weights()
    >>> path is None or path.is_file()
    True
    """
    if weights is not None:
        path = Path(weights)
        if path.is_dir():
            raise IsADirectoryError(
                f"VGG16 weights file {str(path)!r} is a folder; give the weights file "
                "itself, a state dict of vgg16().features (a .pth file)."
            )
        if not path.is_file():
            raise FileNotFoundError(f"VGG16 weights file {str(path)!r} does not exist.")
        return path
    env = _weights_in_env()
    if env:
        path = Path(env)
        if path.is_dir():
            raise IsADirectoryError(
                f"{WEIGHTS_ENV}={env!r} is a folder; point it at the weights file itself, "
                "a state dict of vgg16().features (a .pth file), or unset it."
            )
        if not path.is_file():
            raise FileNotFoundError(
                f"{WEIGHTS_ENV}={env!r} does not name an existing file; fix or unset it."
            )
        return path
    # ``shared/weights/...`` in the working directory, then in the folders above it,
    # nearest first (for example when the docs are built from ``docs/``)
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        candidate = folder / SHARED_WEIGHTS
        if candidate.is_file():
            return candidate
    return None


def _atomic_save(image, path: Path):
    # (a new file with the permissions the umask gives, as the report's and the
    # cache's: not mkstemp's 0600)
    _write_atomic(str(path), path.suffix, "wb", lambda f: image.save(f, format="PNG"))


def make_demo_images(folder, *, n_per_class: int = 12, image_size: int = 96, random_state=0):
    """Write the labelled demo image set to ``folder/<class>/<class>_NN.png``.

    Each image is a square crop of one region of a scikit-learn sample photograph
    (see ``DEMO_CLASSES``), of random side between 70 and 120 pixels (capped by
    the region), at a random position, flipped horizontally with probability 1/2,
    and resized to ``image_size``.

    Parameters
    ----------
    folder : str or path-like
        Destination; created if missing. Existing files of the same names are
        replaced, other files are left alone.
    n_per_class : int, default=12
        Number of crops per class.
    image_size : int, default=96
        Side of the written images, in pixels.
    random_state : int, RandomState instance or None, default=0
        Seeds the crops.

    Returns
    -------
    data : Bunch
        ``filenames`` (list of str, sorted by class), ``target`` (ndarray of int),
        ``target_names`` (list of str, sorted), as
        :func:`robustkmeans.load_image_folder` returns.

    See Also
    --------
    robustkmeans.load_image_folder : Reads such a folder tree.
    sklearn.datasets.load_sample_images : The source photographs.

    Examples
    --------
    >>> import tempfile
    >>> from robustkmeans._demo import make_demo_images
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data = make_demo_images(tmp, n_per_class=2, image_size=32)
    ...     len(data.filenames), data.target_names
    (12, ['dahlia', 'leaves', 'pagoda', 'sky', 'trees', 'water'])
    """
    from PIL import Image
    from sklearn.datasets import load_sample_images

    if n_per_class < 1 or image_size < 8:
        raise ValueError(
            f"n_per_class must be >= 1 and image_size >= 8, got {n_per_class} and {image_size}."
        )
    samples = load_sample_images()
    photos = {
        Path(name).name: image
        for name, image in zip(samples.filenames, samples.images, strict=True)
    }
    rng = check_random_state(random_state)
    folder = Path(system_path(folder))
    target_names = sorted(DEMO_CLASSES)
    filenames, target = [], []
    for label, name in enumerate(target_names):
        photo_name, regions = DEMO_CLASSES[name]
        photo = photos[photo_name]
        make_folders(folder / name)
        for i in range(n_per_class):
            x0, y0, x1, y1 = regions[rng.randint(len(regions))]
            side = min(int(rng.randint(70, 121)), x1 - x0, y1 - y0)
            left = x0 + rng.randint(x1 - x0 - side + 1)
            top = y0 + rng.randint(y1 - y0 - side + 1)
            crop = photo[top : top + side, left : left + side]
            if rng.rand() < 0.5:
                crop = crop[:, ::-1]
            image = Image.fromarray(np.ascontiguousarray(crop)).resize(
                (image_size, image_size), Image.Resampling.BILINEAR
            )
            path = folder / name / f"{name}_{i:02d}.png"
            _atomic_save(image, path)
            filenames.append(str(path))
            target.append(label)
    return Bunch(filenames=filenames, target=np.array(target), target_names=target_names)


#: Largest ``bins`` of :class:`ColorHistogramFeaturizer`: 64 ** 3 = 262,144 features
#: per image, already far more than the pixels of a 64 x 64 thumbnail can fill.
MAX_HISTOGRAM_BINS = 64


def _as_images(X) -> list:
    """``X`` as a list of images (see :func:`robustkmeans._images.as_image_list`),
    with errors that name this featurizer."""
    return as_image_list(X, name="ColorHistogramFeaturizer")


class ColorHistogramFeaturizer(ImageInputMixin, TransformerMixin, BaseEstimator):
    """Joint RGB colour histogram of each image: a cheap feature without a network.

    Each image becomes the normalised histogram of its pixels over a
    ``bins x bins x bins`` grid of the RGB cube, square-rooted (the Hellinger
    embedding, under which Euclidean distance compares distributions well).
    It sees colour only, not shape or texture; the demo uses it when no VGG16
    weights are available.

    Parameters
    ----------
    bins : int, default=8
        Bins per colour channel, from 1 to 64 (``bins ** 3`` features: 512 for
        8, 262,144 for 64; a 64-pixel thumbnail has only 4,096 pixels to fill
        them).
    image_size : int, default=64
        Images are shrunk (keeping their aspect ratio) to at most this side
        before counting, to bound the cost; at least 1.
    on_error : {"raise", "nan"}, default="raise"
        ``"raise"``: an image that cannot be read raises
        :class:`~robustkmeans.ImageLoadError` (a ValueError) naming it
        (its path, or ``X[i]`` and its kind for an in-memory image) and the
        reason. ``"nan"``: its row is all NaN (one row per input is kept) and a
        UserWarning lists the failures. Both as
        :class:`~robustkmeans.VGG16Featurizer` says them.

    Attributes
    ----------
    n_features_out_ : int
        Number of output columns, ``bins ** 3``.

    See Also
    --------
    robustkmeans.VGG16Featurizer : Features that see content, not only colour.

    Notes
    -----
    Column ``r * bins**2 + g * bins + b`` counts the pixels whose red, green and
    blue values fall in bins ``r``, ``g`` and ``b`` (value ``v`` is in bin
    ``v * bins // 256``); :meth:`get_feature_names_out` names it
    ``colorhist_r{r}_g{g}_b{b}``. The inputs are images, not feature vectors,
    so there is no ``n_features_in_``; ``set_output(transform="pandas")`` gives
    a DataFrame with these column names, also inside a Pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans._demo import ColorHistogramFeaturizer
    >>> images = [np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)]
    >>> featurizer = ColorHistogramFeaturizer(bins=2)
    >>> features = featurizer.fit_transform(images)
    >>> features.shape, features.sum(axis=1).round(3).tolist()
    ((2, 8), [1.0, 1.0])
    >>> featurizer.get_feature_names_out()[[0, 1, 7]].tolist()
    ['colorhist_r0_g0_b0', 'colorhist_r0_g0_b1', 'colorhist_r1_g1_b1']
    """

    _parameter_constraints: dict = {
        "bins": [Interval(Integral, 1, MAX_HISTOGRAM_BINS, closed="both")],
        "image_size": [Interval(Integral, 1, None, closed="left")],
        "on_error": [StrOptions({"raise", "nan"})],
    }

    def __init__(self, bins: int = 8, image_size: int = 64, on_error: str = "raise"):
        self.bins = bins
        self.image_size = image_size
        self.on_error = on_error

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters (nothing is learnt); return self.

        Parameters
        ----------
        X : sequence of images, optional
            Only its form is checked (as in :meth:`transform`); the images are
            not read.
        y : None
            Ignored.

        Returns
        -------
        self : ColorHistogramFeaturizer
            The fitted featurizer.

        Raises
        ------
        ValueError
            When a parameter is invalid, e.g. ``bins`` outside [1, 64].

        See Also
        --------
        transform : Computes the histograms.

        Examples
        --------
        >>> from robustkmeans._demo import ColorHistogramFeaturizer
        >>> ColorHistogramFeaturizer(bins=4).fit().n_features_out_
        64
        """
        if X is not None:
            _as_images(X)  # the form of X only; images are read in transform
        self.n_features_out_ = int(self.bins) ** 3
        return self

    def transform(self, X):
        """Compute the square-rooted colour histogram of each image.

        Parameters
        ----------
        X : sequence of images or ndarray
            File paths, PIL images or uint8 arrays (H, W) or (H, W, 3) (also
            (H, W, 4) RGBA and uint16), or one uint8 array of shape
            (N, H, W, 3) or (N, H, W), as :class:`~robustkmeans.VGG16Featurizer`
            takes them.

        Returns
        -------
        features : ndarray of shape (n_images, bins ** 3)
            Rows of unit Euclidean norm, float32 (all NaN for unreadable images
            with ``on_error="nan"``).

        See Also
        --------
        fit : Validates the parameters.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans._demo import ColorHistogramFeaturizer
        >>> red = np.zeros((4, 4, 3), np.uint8)
        >>> red[..., 0] = 255
        >>> features = ColorHistogramFeaturizer(bins=2).fit_transform([red])
        >>> features.round(3).tolist()
        [[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]
        """
        from .plotting import _thumbnail

        check_is_fitted(self, "n_features_out_")
        images = _as_images(X)
        bins = int(self.bins)
        n_features = bins**3
        rows = []
        failures = []
        for i, image in enumerate(images):
            try:
                # the index names in-memory images ("X[4] (ndarray ...)") as in VGG16Featurizer
                thumbnail = _thumbnail(image, self.image_size, i)
            except ImageLoadError as exc:
                if self.on_error == "raise":
                    exc.add_hint(ON_ERROR_HINT)
                    raise
                failures.append(str(exc))
                rows.append(np.full(n_features, np.nan))
                continue
            pixels = thumbnail.reshape(-1, 3).astype(np.int64)
            index = (pixels * bins // 256) @ np.array([bins**2, bins, 1])
            counts = np.bincount(index, minlength=n_features).astype(np.float64)
            rows.append(np.sqrt(counts / counts.sum()))
        if failures:
            warn_unreadable(failures, len(images))  # as VGG16Featurizer says it
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), n_features)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns, ``colorhist_r{r}_g{g}_b{b}``.

        Column ``r * bins**2 + g * bins + b`` holds the bin of red ``r``, green
        ``g`` and blue ``b``.

        Parameters
        ----------
        input_features : None
            Ignored; images have no input feature names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``bins ** 3`` names.

        Examples
        --------
        >>> from robustkmeans._demo import ColorHistogramFeaturizer
        >>> ColorHistogramFeaturizer(bins=2).fit().get_feature_names_out()[:3].tolist()
        ['colorhist_r0_g0_b0', 'colorhist_r0_g0_b1', 'colorhist_r0_g1_b0']
        """
        check_is_fitted(self, "n_features_out_")
        bins = range(int(self.bins))
        names = [f"colorhist_r{r}_g{g}_b{b}" for r in bins for g in bins for b in bins]
        return np.asarray(names, dtype=object)
