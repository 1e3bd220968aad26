"""Colour quantisation of one image with LossKMeans on its pixels."""

from __future__ import annotations

import os

import numpy as np
from sklearn.utils import check_random_state

from ._utils import is_count

__all__ = ["quantize_colors"]


def _load_pixels(image):
    """Return the image as a float array (H, W, C) or (H, W) in [0, 1], its dtype,
    and its 8-bit levels (the uint8 array the floats are ``levels / 255`` of; None
    for float images).

    Every entry point sees the colours of the loader of ``VGG16Featurizer``
    (:func:`robustkmeans._images.load_rgb`): files and PIL images (any mode:
    palette, grey, RGBA, 16-bit, ..., but 32-bit float "F", which has no defined
    range and raises as it does for VGG16Featurizer) become RGB; uint16 arrays are scaled to 8
    bits; RGBA arrays, uint8 or float, are composited on white and become RGB,
    as RGBA files are. Files and PIL images with an EXIF orientation tag are
    turned upright by ``load_rgb``, so that a quantised copy written without the
    tag looks as the original does. Grey (H, W) and RGB (H, W, 3) arrays keep
    their shape. The returned dtype is uint8 for files, PIL images and uint8 or
    uint16 arrays, else the float dtype of the array. bool arrays are read as 0
    and 255, as ``VGG16Featurizer`` and Pillow read them, and come back uint8.
    """
    from ._images import channels_first_hint, conversion_hint, load_rgb, native_pixels

    is_file = isinstance(image, str | os.PathLike)
    if is_file or (hasattr(image, "convert") and hasattr(image, "mode")):
        image = load_rgb(image)  # upright by the EXIF orientation tag, if any
    array = np.asarray(image)
    if not isinstance(image, np.ndarray) and (array.ndim == 0 or array.dtype.kind in "OSUV"):
        # None, a number, a file's bytes, a list of paths: no array of pixels
        hint = (
            "; for the bytes of an image file pass PIL.Image.open(io.BytesIO(data))"
            if isinstance(image, bytes | bytearray | memoryview)
            else ""
        )
        raise TypeError(
            "image must be a file path, a PIL image or an array of pixels, got "
            f"{type(image).__name__}{hint}."
        )
    # how the hints name the image (a nested list or a torch tensor has no astype,
    # and np.moveaxis fails on a tensor)
    given = "image" if isinstance(image, np.ndarray) else "np.asarray(image)"
    # (floats too: they are pixels here, in [0, 1], where load_rgb refuses them)
    array = native_pixels(array, kinds="uf")
    channels = array.shape[2] if array.ndim == 3 else None
    if array.ndim in (2, 3) and channels in (None, 1, 3, 4) and array.size == 0:
        # (as the featurizer says it of the same array)
        raise ValueError(f"image has no pixels: an array of shape {array.shape}.")
    if array.ndim not in (2, 3) or channels not in (None, 1, 3, 4):
        hint = channels_first_hint(array.shape, given)
        raise ValueError(
            "image must be a file path, a PIL image or an array of shape (H, W), "
            "(H, W, 1), (H, W, 3) or (H, W, 4) (grey, RGB or RGBA, as VGG16Featurizer "
            f"reads them), got an array of shape {array.shape}{'; ' + hint if hint else ''}."
        )
    is_rgba = array.ndim == 3 and array.shape[2] == 4
    if array.dtype == np.uint16 or (array.dtype == np.uint8 and is_rgba):
        # 16 to 8 bits and alpha on white, exactly as for files and PIL images.
        rgb = load_rgb(array)
        if array.ndim == 2:
            array = rgb[:, :, 0]
        elif array.shape[2] == 1:
            array = rgb[:, :, :1]
        else:
            array = rgb
    if array.dtype == np.uint8:
        pixels = _unit_pixels(array)
        levels = array
    elif array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise ValueError("image contains NaN or infinite values.")
        if array.min() < 0 or array.max() > 1:
            raise ValueError(
                f"float images must have values in [0, 1], got [{array.min():g}, "
                f"{array.max():g}]; divide 8-bit values by 255 (the loss scales are in "
                "these units)."
            )
        pixels = array.astype(np.float32)
        levels = None
        if is_rgba:  # composite on white, in float
            alpha = pixels[:, :, 3:]
            pixels = pixels[:, :, :3] * alpha + (1.0 - alpha)
    else:
        hint = conversion_hint(array.dtype, given)
        raise ValueError(
            f"image arrays must be uint8 (0-255), uint16 or float (0-1), got dtype "
            f"{array.dtype}{'; ' + hint if hint else ''}."
        )
    return pixels, array.dtype, levels


def _unit_pixels(levels):
    """8-bit levels as the float32 values in [0, 1] that are clustered: one rule for
    the pixels and for the distinct colours ``_predict_colours`` predicts."""
    return levels.astype(np.float32) / 255.0


def _colour_codes(levels):
    """The 24-bit RGB code (int32) of each row of 8-bit ``levels``, ``(n, 3)``, or
    ``(n, 1)`` for grey, coded as three equal channels."""
    if levels.shape[1] == 1:
        return levels[:, 0].astype(np.int32) * 0x010101
    code = levels[:, 0].astype(np.int32) << 16
    code |= levels[:, 1].astype(np.int32) << 8
    code |= levels[:, 2]
    return code


def _predict_colours(estimator, flat, levels):
    """``estimator.predict(flat)``, each distinct colour predicted once.

    For 8-bit images (``flat`` holds ``levels / 255`` in float32) the colours are
    indexed by their 24-bit RGB code in a table of all of them: one pass over the
    pixels finds the distinct ones, which are predicted, and the table maps every
    pixel to its colour's label. A photograph has a tenth or less as many colours
    as pixels, and ``predict`` costs far more per row than the table. Each row's
    label depends on that row only, so the labels are those of ``predict(flat)``.
    Float images, and small ones, are predicted pixel by pixel.
    """
    if levels is None or flat.shape[0] < _TABLE_MIN_PIXELS:
        return estimator.predict(flat)
    code = _colour_codes(levels.reshape(flat.shape[0], -1))
    present = np.zeros(_ALL_CODES, dtype=bool)
    present[code] = True
    colours = np.flatnonzero(present)
    del present
    rgb = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1)
    # (the same float32 values as the pixels')
    labels = estimator.predict(_unit_pixels(rgb.astype(np.uint8)))
    table = np.zeros(_ALL_CODES, dtype=labels.dtype)
    table[colours] = labels
    return table[code]


#: the 24-bit RGB codes (a table of this length takes 16-64 MB)
_ALL_CODES = 1 << 24
#: images of fewer pixels are predicted pixel by pixel: filling and reading the
#: tables costs about as much as predicting a few hundred thousand rows
_TABLE_MIN_PIXELS = 1 << 18


def quantize_colors(
    image,
    n_colors: int = 16,
    loss: str = "absolute",
    *,
    delta: float | str = 0.1,
    sigma: float | str = 0.25,
    epsilon: float | str = 0.02,
    sample_size: int | None = 10_000,
    n_init: int | str = "auto",
    max_iter: int = 100,
    random_state=0,
    return_estimator: bool = False,
):
    """Reduce an image to ``n_colors`` colours with k-means under a robust loss.

    The pixels are points in colour space (RGB scaled to [0, 1]). A
    :class:`~robustkmeans.LossKMeans` is fitted on a random subsample of them,
    then every pixel is replaced by the center of its cluster. With
    ``loss="absolute"`` each palette colour is the coordinatewise median of its
    pixels, which a few outlying pixels cannot pull as they pull a mean. It need
    not be a colour of the image: each channel is the median of that channel
    alone (the midpoint of two values for an even count, rounded to the nearest
    level for uint8 output), and the three medians need not belong to one pixel.

    Parameters
    ----------
    image : str, path-like, PIL image or ndarray
        A file path, a PIL image, or an array of shape (H, W) or (H, W, 1)
        (grey), (H, W, 3) or (H, W, 4): uint8 in 0-255, uint16 in 0-65535,
        float in [0, 1] or bool (0 and 255); other shapes raise a ValueError. It is
        never modified. Every form is read as
        :class:`~robustkmeans.VGG16Featurizer` reads it, so the same picture
        gives the same colours: files and PIL images become RGB (grey and
        palette images expanded; a 32-bit float PIL image, mode ``"F"``, has no
        defined range and raises: pass ``np.asarray(image)`` if its values lie
        in [0, 1]), 16-bit values are scaled to 8 bits, and
        transparency (RGBA files, PIL images and arrays) is composited on white.
        A grey array is clustered as three equal channels, as a grey file or
        PIL image is, so ``delta``, ``sigma`` and ``epsilon`` act the same on
        it.
        A photo with an EXIF orientation tag (files and PIL images) is turned
        upright first, as viewers show it: the result carries no tag.
    n_colors : int, default=16
        Number of colours of the palette (clusters).
    loss : str, default="absolute"
        Any loss of :class:`~robustkmeans.LossKMeans`.
    delta, sigma, epsilon : float or "auto", default=0.1, 0.25, 0.02
        Scale parameters of the ``huber``/``pseudo_huber``, ``correntropy`` and
        ``epsilon_insensitive`` losses, in units of the [0, 1] colour scale.
    sample_size : int or None, default=10000
        Number of pixels the palette is fitted on (chosen at random);
        ``None`` fits on all pixels.
    n_init : int or "auto", default="auto"
        Number of initialisations of LossKMeans.
    max_iter : int, default=100
        Maximum number of iterations of LossKMeans.
    random_state : int, RandomState instance or None, default=0
        Seeds the pixel subsample and LossKMeans.
    return_estimator : bool, default=False
        Also return the fitted LossKMeans (its ``cluster_centers_`` is the
        palette in [0, 1], with three equal channels for a grey image).

    Returns
    -------
    quantized : ndarray
        For a file or PIL image, (H, W, 3). For an array, the shape of the
        array -- a grey (H, W) image stays grey, an RGB (H, W, 3) one stays
        RGB -- except that RGBA (H, W, 4) comes back as RGB (H, W, 3), its
        transparency composited on white. uint8 for uint8, uint16, bool, file
        and PIL input; float32 for float input.
    estimator : LossKMeans
        Only with ``return_estimator=True``.

    Raises
    ------
    TypeError
        When ``image`` is no image: ``None``, a number, the bytes of a file
        (open them with ``PIL.Image.open(io.BytesIO(data))``), a list of paths.
    ValueError
        For an array of another shape or dtype, floats outside [0, 1], a file
        that cannot be read (:class:`~robustkmeans.ImageLoadError`, naming
        it), ``n_colors`` outside [1, number of pixels] or ``sample_size`` below
        ``n_colors``.

    See Also
    --------
    robustkmeans.LossKMeans : The clusterer.
    sklearn.cluster.KMeans : The ``loss="square"`` equivalent.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans import quantize_colors
    >>> rng = np.random.RandomState(0)
    >>> image = rng.randint(0, 256, size=(32, 32, 3)).astype(np.uint8)
    >>> quantized = quantize_colors(image, n_colors=4, random_state=0)
    >>> quantized.shape, quantized.dtype
    ((32, 32, 3), dtype('uint8'))
    >>> len(np.unique(quantized.reshape(-1, 3), axis=0)) <= 4
    True
    """
    from ._loss_kmeans import LossKMeans

    pixels, dtype, levels = _load_pixels(image)
    shape = pixels.shape
    flat = pixels.reshape(shape[0] * shape[1], -1)
    is_grey = flat.shape[1] == 1
    if is_grey:
        # Three equal channels, as a grey file or PIL image becomes RGB: the loss
        # scales then act on the same distances whatever form the picture has.
        flat = np.repeat(flat, 3, axis=1)
    n_pixels = flat.shape[0]
    if not is_count(n_colors, 1) or n_colors > n_pixels:
        raise ValueError(
            f"n_colors must be an integer between 1 and the number of pixels "
            f"({n_pixels}), got {n_colors!r}."
        )
    if sample_size is not None and not is_count(sample_size, 1):
        raise ValueError(
            f"sample_size must be None (every pixel) or a positive integer, got {sample_size!r}."
        )
    rng = check_random_state(random_state)
    if sample_size is not None and sample_size < n_pixels:
        if sample_size < n_colors:
            raise ValueError(
                f"sample_size={sample_size} is smaller than n_colors={n_colors}; "
                "increase sample_size."
            )
        fit_pixels = flat[rng.choice(n_pixels, size=int(sample_size), replace=False)]
    else:
        fit_pixels = flat
    estimator = LossKMeans(
        n_clusters=int(n_colors),
        loss=loss,
        delta=delta,
        sigma=sigma,
        epsilon=epsilon,
        n_init=n_init,
        max_iter=max_iter,
        random_state=rng.randint(np.iinfo(np.int32).max),
    ).fit(fit_pixels)
    palette = estimator.cluster_centers_.astype(np.float32)
    if dtype == np.uint8:
        # (rounded before the gather: the same values, one conversion per colour)
        palette = np.clip(np.rint(palette * 255.0), 0, 255).astype(np.uint8)
    quantized = palette[_predict_colours(estimator, flat, levels)]
    if is_grey:
        quantized = quantized[:, :1]  # the channels of a grey palette are equal
    quantized = quantized.reshape(shape)
    return (quantized, estimator) if return_estimator else quantized
