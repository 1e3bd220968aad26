"""Figures for choosing k and the loss, and for seeing what the clusters contain.

The classes follow scikit-learn's ``Display`` API: a constructor storing the data
to draw, class methods ``from_estimator`` (and ``from_result`` or
``from_predictions``) that compute it, and ``plot`` that draws it, storing the
matplotlib objects as attributes ending in ``_`` (``figure_``, ``ax_``...).

matplotlib is imported only inside the plotting functions; install it with
``pip install 'robustkmeans[plot]'``.
"""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, check_consistent_length, check_random_state

from ._utils import display_text, is_count, metric_name
from .metrics import (
    _as_features,
    _check_sample_size,
    _is_degenerate,
    _own_costs,
    _split,
    _validity_index,
    evaluate_labels,
    features_and_labels,
    loss_metric,
)

__all__ = [
    "ClusterScatterDisplay",
    "FeatureMapsDisplay",
    "KSelectionDisplay",
    "LossComparisonDisplay",
    "RepresentativesDisplay",
    "SilhouetteDisplay",
]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting needs matplotlib. Install it with `pip install robustkmeans[plot]` "
            "(or `pip install matplotlib`)."
        ) from exc
    return plt


def _count(n, noun):
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _colors(n, classes=False):
    """``n`` colours for clusters, or (``classes``) for true classes, from other
    palettes, so that a class is not read as the cluster of the same colour.
    Beyond 20, where the qualitative palettes would repeat colours, a continuous
    colormap is sampled evenly (``turbo`` for clusters, ``hsv`` for classes)."""
    plt = _pyplot()
    if n > 20:
        cmap = plt.get_cmap("hsv" if classes else "turbo")
        # hsv wraps around (its ends are both red): leave out the end
        return [cmap(x) for x in np.linspace(0.0, 1.0, n, endpoint=not classes)]
    if classes:
        cmap = plt.get_cmap("Dark2" if n <= 8 else "tab20b")
    else:
        cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i) for i in range(n)]


def _text(value) -> str:
    r"""``str(value)`` with ``$`` escaped, for data put into matplotlib text.

    matplotlib reads text between two ``$`` as mathtext, so a class or folder
    name such as ``coins $1_$2`` would raise a parse error (or draw as a formula).
    An escaped ``\$`` is drawn as a plain ``$``. The bytes of a folder name that
    are not UTF-8 (lone surrogates, which matplotlib refuses with a TypeError) are
    drawn as ``\xff`` escapes, as the command line's report shows them. Class
    names, cluster labels and loss, metric and layer names go through this; labels
    the caller writes for presentation (``axis_labels``) do not, so they can use
    mathtext.

    Examples
    --------
    >>> from robustkmeans.plotting import _text
    >>> print(_text("coins $1_$2"))
    coins \$1_\$2
    >>> print(_text(b"cats\xff".decode("utf-8", "surrogateescape")))  # as os.fsdecode gives it
    cats\xff
    """
    return display_text(str(value)).replace("$", r"\$")


def _missing(groups):
    """Mask of the missing entries (None, NaN, pandas' NA) of a 1-D array of labels."""
    groups = np.asarray(groups)
    if groups.dtype.kind in "fc":
        return np.isnan(groups)
    if groups.dtype.kind != "O":
        return np.zeros(groups.shape, dtype=bool)
    try:
        import pandas as pd
    except ImportError:
        return np.array([g is None or (isinstance(g, float) and g != g) for g in groups], bool)
    return np.asarray(pd.isna(groups), dtype=bool)


#: at most this many k values, KSelectionDisplay marks each on its x axis
_MAX_K_TICKS = 20

#: a ClusterScatterDisplay of more points than this draws them rasterized, as an
#: image within vector output (SVG, PDF; 200,000 markers made a 59 MB SVG, written
#: in 36 s), as matplotlib advises for dense plots, and places its legends itself
#: (:func:`_emptiest_ninth`): loc="best" counts every point against each place it
#: tries, at each draw, 8 of the 9 s a PNG of 200,000 points took
_MAX_VECTOR_POINTS = 10_000

#: a ClusterScatterDisplay legend of more entries than this (clusters, classes) is
#: drawn beside its axes, in columns of at most this many: inside, 60 clusters ran
#: over the axes, their tick labels and the bottom of the figure
_MAX_LEGEND_ROWS = 18

#: the legend locations by ninth of the axes (row from the top, column), in the
#: order of preference of matplotlib's loc="best"
_LEGEND_NINTHS = (
    ("upper right", 0, 2),
    ("upper left", 0, 0),
    ("lower left", 2, 0),
    ("lower right", 2, 2),
    ("center right", 1, 2),
    ("center left", 1, 0),
    ("lower center", 2, 1),
    ("upper center", 0, 1),
    ("center", 1, 1),
)


def _emptiest_ninth(axis, points):
    """The legend location (``loc``) of the ninth of ``axis`` that holds the fewest
    of ``points`` (n x 2, data coordinates, within the current limits), the first
    in loc="best"'s order of preference among equals: "best" for many points,
    counted once, in numpy."""
    (x0, x1), (y0, y1) = axis.get_xlim(), axis.get_ylim()
    with np.errstate(invalid="ignore"):  # (NaN coordinates fall in no ninth)
        column = np.floor(3 * (points[:, 0] - x0) / (x1 - x0))
        row = np.floor(3 * (y1 - points[:, 1]) / (y1 - y0))
        inside = (column >= 0) & (column < 3) & (row >= 0) & (row < 3)
    counts = np.bincount((3 * row + column)[inside].astype(int), minlength=9)
    return min(_LEGEND_NINTHS, key=lambda ninth: counts[3 * ninth[1] + ninth[2]])[0]


def _check_count(value, name: str, minimum: int = 0) -> int:
    """``value`` as an int of at least ``minimum``, else a ValueError naming ``name``.

    A negative count would otherwise act as a Python slice bound (``[:-3]``).
    """
    if not is_count(value, minimum):
        raise ValueError(
            f"{name} must be an integer >= {minimum} (images per cluster), got {value!r}."
        )
    return int(value)


def _estimator_n_clusters(estimator, labels):
    """The number of clusters of a fitted clusterer (its ``cluster_centers_``, else
    ``n_clusters_``, else its ``n_clusters`` parameter) when ``labels`` are cluster
    numbers below it, else None (DBSCAN's noise, -1; no such count)."""
    _, clusterer = _split(estimator)
    centers = getattr(clusterer, "cluster_centers_", None)
    if centers is not None:
        n_clusters = np.shape(centers)[0]
    elif is_count(getattr(clusterer, "n_clusters_", None), 1):
        n_clusters = clusterer.n_clusters_
    elif hasattr(clusterer, "get_params"):
        n_clusters = clusterer.get_params(deep=False).get("n_clusters")
    else:
        n_clusters = None
    labels = np.asarray(labels)
    if (
        not is_count(n_clusters, 1)
        or labels.dtype.kind not in "iu"
        or (labels.size and (labels.min() < 0 or labels.max() >= n_clusters))
    ):
        return None
    return int(n_clusters)


def _resolved_n_clusters(n_clusters, estimator, labels):
    """A ``from_estimator``'s ``n_clusters``: ``"auto"`` is the estimator's
    (``_estimator_n_clusters``), anything else is passed on as given."""
    if isinstance(n_clusters, str) and n_clusters == "auto":
        return _estimator_n_clusters(estimator, labels)
    return n_clusters


def _cluster_colors(clusters, n_clusters):
    """The colour of each of the sorted distinct labels ``clusters``.

    With ``n_clusters`` (labels 0 to n_clusters - 1, some maybe absent: new data,
    a subsample), cluster ``c`` gets the c-th of ``n_clusters`` colours, its colour
    in every display of the clustering; with None, the clusters present get the
    first colours, in order. A ValueError names a bad ``n_clusters`` or label.
    """
    if n_clusters is None:
        return _colors(len(clusters))
    if not is_count(n_clusters, 1):
        raise ValueError(f"n_clusters must be an integer >= 1 or None, got {n_clusters!r}.")
    palette = _colors(int(n_clusters))
    values = np.asarray(clusters)
    # (non-numeric labels are refused before np.isin, which numpy < 1.25 compares
    # with a FutureWarning: "elementwise comparison failed")
    if values.dtype.kind not in "biuf" or not np.all(np.isin(values, np.arange(len(palette)))):
        raise ValueError(
            f"With n_clusters={n_clusters}, labels must be integers from 0 "
            f"to {n_clusters - 1}; got {values.tolist()}. Pass "
            "n_clusters=None to colour any labels in order."
        )
    return [palette[int(c)] for c in clusters]


def _thumbnail_size(width, height, size):
    """(width, height) that :meth:`PIL.Image.Image.thumbnail` gives a ``width x height``
    image in a ``size x size`` box (Pillow's rounding of the aspect ratio); None
    when it fits already."""
    if size >= width and size >= height:
        return None

    def round_aspect(number, key):
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    aspect = width / height
    if size / size >= aspect:
        return round_aspect(size * aspect, key=lambda n: abs(aspect - n / size)), size
    return size, round_aspect(size / aspect, key=lambda n: 0 if n == 0 else abs(aspect - size / n))


def _thumbnail(image, size, index=None, source="X"):
    """Load ``image`` as a uint8 RGB array whose longer side is at most ``size`` px.

    The image is read by :func:`robustkmeans._images.load_rgb`, the loader of
    :class:`~robustkmeans.VGG16Featurizer` (files, PIL images of any mode, uint8
    and uint16 arrays; grayscale as three equal channels, 16-bit scaled to 8 bits,
    transparency composited on white), so thumbnails and features show the same
    colours; unreadable images raise its
    :class:`~robustkmeans.ImageLoadError` (a ValueError). The result is
    then shrunk, keeping the aspect ratio, as :meth:`PIL.Image.Image.thumbnail`.
    An in-memory image is named in errors by its ``index`` in the sequence
    ``source`` names: ``X[3]``, or ``images[3]`` for a display's ``images``.

    A photo stored on its side (EXIF orientation 5 to 8) is shrunk as stored to
    the thumbnail's size turned by a quarter, then turned upright: turning the
    full-size pixels first took a third of the time for a 12 MP photo. The
    result has the shape of the upright thumbnail and its pixels up to
    resampling (rows and columns are resampled in the other order). A mirrored
    or upside-down photo (2, 3, 4) is turned first, as the thumbnail of Pillow
    is not mirror-symmetric (its integer pre-reduction starts at the top left),
    so its pixels stay those of the upright thumbnail.
    """
    from PIL import Image

    from ._images import apply_orientation, load_rgb_stored

    rgb, orientation = load_rgb_stored(image, index, source)
    if orientation == 4:
        rgb = apply_orientation(rgb, 4)  # rows in reverse: a fast copy
    img = Image.fromarray(rgb)
    if orientation in (2, 3):
        # Pillow's transpose of its 4-byte pixels is ~2x faster than numpy's reversal
        # of 3-byte ones (24 vs 42 ms for 12 MP)
        flip = Image.Transpose.FLIP_LEFT_RIGHT if orientation == 2 else Image.Transpose.ROTATE_180
        img = img.transpose(flip)
    if orientation < 5:
        img.thumbnail((size, size))
        return np.asarray(img)
    # (5 to 8) shrink as stored to the upright thumbnail's size, turned
    upright = _thumbnail_size(img.height, img.width, size)
    if upright is not None:
        img = img.resize(
            (upright[1], upright[0]), Image.Resampling.BICUBIC, reducing_gap=2.0
        )  # as Image.thumbnail resizes
    return apply_orientation(np.asarray(img), orientation)


def _costs_and_labels(clusterer, features):
    """Cost of each sample to its own center, ordered ties by Euclidean distance."""
    labels = np.asarray(clusterer.predict(features))
    own = np.asarray(_own_costs(clusterer, features, labels), dtype=float)
    centers = getattr(clusterer, "cluster_centers_", None)
    if centers is not None:
        # Ties in cost are common (epsilon_insensitive is 0 inside the tube); the
        # Euclidean distance to the center breaks them, as LossKMeans does.
        # (exact differences, sparse rows densified in batches)
        from ._kernels import exact_sq_distances

        data = sp.csr_matrix(features) if sp.issparse(features) else np.asarray(features)
        distance = np.sqrt(exact_sq_distances(data, None, np.asarray(centers), labels))
    else:
        distance = np.zeros_like(own)
    return own, distance, labels


def _pick_members(clusterer, features, n_first, n_last):
    """Per cluster, the n_first samples of least cost and n_last of largest cost.

    Returns (cost of each sample to its own center, labels, cluster sizes,
    closest, atypical); the last two map a cluster to sample indices.
    """
    own, distance, labels = _costs_and_labels(clusterer, features)
    n_clusters = int(getattr(clusterer, "n_clusters", labels.max() + 1))
    # by cluster, then cost, distance and index: one sort, where a pass over the
    # samples per cluster took O(n k)
    order = np.lexsort((distance, own, labels))
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    closest, atypical = {}, {}
    for cluster in range(n_clusters):
        members = order[bounds[cluster] : bounds[cluster + 1]]
        closest[cluster] = members[:n_first].tolist()
        rest = members[n_first:]
        atypical[cluster] = rest[::-1][:n_last].tolist() if n_last else []
    return own, labels, np.bincount(labels, minlength=n_clusters), closest, atypical


def _check_images(images, X, drawn=True):
    """Raise a ValueError unless ``images`` holds one image per sample of ``X``.

    ``images=None`` means ``X`` itself, which cannot be a 2-D numeric feature
    matrix when the images are ``drawn``. Checked before anything is fitted.
    """
    if images is None:
        if drawn and isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype != object:
            raise ValueError(
                f"images=None draws X as the images, but X is a {X.shape} feature matrix; "
                "pass the image of each sample (file paths, PIL images or arrays) as "
                "images=, or plot=False to compute without drawing."
            )
        return
    n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    try:
        n_images = len(images)
    except TypeError:
        raise TypeError(
            f"images must be a sequence with one image per sample, got {type(images).__name__}."
        ) from None
    if n_images != n_samples:
        raise ValueError(
            f"images holds {n_images} images but X has {n_samples} samples; pass one "
            "image per sample of X, in the same order (or images=None when X is the images)."
        )


#: a grid display of more axes than this, in a figure it makes, is laid out by fixed
#: margins (``_fixed_margins``), not by constrained layout, whose cost grows with the
#: square of the axes: the representatives of 80 clusters (240 axes) took 17 s to
#: draw and save, 6 s with fixed margins, and of 440 clusters more than 12 minutes
_CONSTRAINED_MAX_AXES = 60


def _grid_figure(figure, figsize, n_axes=0):
    """``figure``, or a new figure of ``figsize`` inches when None: constrained layout
    for a grid of at most ``_CONSTRAINED_MAX_AXES`` axes, no layout engine beyond
    (the display then places the grid by ``_fixed_margins``)."""
    if figure is None:
        layout = "constrained" if n_axes <= _CONSTRAINED_MAX_AXES else None
        figure = _pyplot().figure(figsize=figsize, layout=layout)
    return figure


def _fixed_margins(
    figure, n_rows, n_cols, *, left, top, row_gap, suptitle=None, right=0.15, bottom=0.15
):
    """Place a figure's ``n_rows`` x ``n_cols`` grid of axes by margins in inches:
    ``left`` for the row labels, ``top`` for the title (``suptitle``, moved to 0.1
    inch from the top edge: its default place, 2% of the height down, overlaps the
    first row of a tall figure), ``row_gap`` between rows for the axes' titles (a
    little between columns). For the figures ``_grid_figure`` makes without a
    layout engine; a figure with one is left to it."""
    if figure.get_layout_engine() is not None:
        return
    width, height = figure.get_size_inches()
    if suptitle is not None:
        suptitle.set(y=1 - 0.1 / height, verticalalignment="top")
    col_gap = 0.1
    axis_w = max((width - left - right - (n_cols - 1) * col_gap) / n_cols, 1e-3)
    axis_h = max((height - top - bottom - (n_rows - 1) * row_gap) / n_rows, 1e-3)
    figure.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=col_gap / axis_w,
        hspace=row_gap / axis_h,
    )


def _fit_titles(figure, titles):
    """Widen ``figure`` (one a display made, not the caller's) so each of ``titles`` fits.

    A grid sized for two or three thumbnails is narrower than its title, which a
    plain ``savefig`` or a window then cuts at both edges (``bbox_inches="tight"``
    alone showed it whole).
    """
    # (no renderer passed: the text finds one on any backend, where
    # canvas.get_renderer() is Agg's only and raised AttributeError under svg, pdf, ps)
    # a title at x=0.01 (left-aligned) needs its width plus that margin, a centred
    # one its width; 0.3 inch leaves room at the edges
    needed = max(
        (t.get_window_extent().width / figure.dpi + 0.3 for t in titles),
        default=0.0,
    )
    if needed > figure.get_figwidth():
        figure.set_figwidth(needed)


def _thumbnail_row(axes, images, indices, size, source):
    """Draw ``images[i]`` for each i of ``indices`` in the first ``axes``, none with ticks.

    ``source`` names ``images`` in errors: the argument they came from.
    Returns the axes left empty, for the caller to hide.
    """
    for axis in axes:
        axis.set_xticks([])
        axis.set_yticks([])
    for axis, index in zip(axes, indices, strict=False):
        axis.imshow(_thumbnail(_image_at(images, index), size, index, source))
    return axes[len(indices) :]


def _largest(sizes, n: int) -> list[int]:
    """The positions of the ``n`` largest of ``sizes`` (ties: the earlier), in order."""
    return sorted(sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))[:n])


def _image_at(images, index):
    """The image at position ``index`` of ``images``: a pandas Series (a DataFrame's
    column of file paths) by position, ``.iloc``, not by its index labels, which
    after filtering or with string labels are not the positions."""
    iloc = getattr(images, "iloc", None)
    return iloc[index] if iloc is not None else images[index]


def _match_clusters(reference, labels, n_clusters):
    """Order of the clusters of ``labels`` that best matches clusters 0, 1... of ``reference``."""
    from scipy.optimize import linear_sum_assignment

    size = max(n_clusters, int(reference.max()) + 1)
    overlap = np.zeros((size, size))
    np.add.at(overlap, (reference, labels), 1)
    _, order = linear_sum_assignment(-overlap)
    return [int(c) for c in order if c < n_clusters]


class KSelectionDisplay:
    """Objective and silhouette against the number of clusters, elbow marked.

    It is recommended to create it with :meth:`from_result` or
    :meth:`from_estimator`. All parameters are stored as attributes.

    Parameters
    ----------
    k_values : ndarray of shape (n_k,)
        Numbers of clusters.
    objective : ndarray of shape (n_k,)
        Objective (total cost under the loss) at each k.
    silhouette : ndarray of shape (n_k,) or None, default=None
        Mean silhouette at each k (NaN where undefined).
    elbow_k : int or None, default=None
        k at the elbow of the objective curve, marked with a vertical line.
    silhouette_k : int or None, default=None
        k of the best silhouette, marked on the silhouette curve.
    sample_size : int or None, default=None
        Size of the random subsample the silhouettes are of, named in the title,
        the silhouette axis and the legend (``"mean silhouette (subsample of
        N)"``); None (or ``n_samples`` or more) when they are of every sample.
    n_samples : int or None, default=None
        Number of samples searched, named in the title with ``sample_size``.

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the objective curve.
    ax_silhouette_ : matplotlib Axes or None
        Twin axes with the silhouette curve.
    line_objective_, line_silhouette_ : matplotlib Line2D
        The two curves (``line_silhouette_`` is None without silhouette).
    figure_ : matplotlib Figure
        Figure containing the axes.
    result_ : SelectKResult
        The search that :meth:`from_estimator` ran (set by it only).

    See Also
    --------
    robustkmeans.model_selection.select_k : Computes the curves.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from robustkmeans import LossKMeans
    >>> from robustkmeans.plotting import KSelectionDisplay
    >>> X, _ = make_blobs(n_samples=90, centers=3, cluster_std=0.5, random_state=0)
    >>> disp = KSelectionDisplay.from_estimator(
    ...     LossKMeans(loss="huber", n_init=2), X, range(1, 7), random_state=0)
    >>> disp.elbow_k
    3
    """

    def __init__(
        self,
        k_values,
        objective,
        *,
        silhouette=None,
        elbow_k=None,
        silhouette_k=None,
        sample_size=None,
        n_samples=None,
    ):
        self.k_values = k_values
        self.objective = objective
        self.silhouette = silhouette
        self.elbow_k = elbow_k
        self.silhouette_k = silhouette_k
        self.sample_size = sample_size
        self.n_samples = n_samples

    @classmethod
    def from_result(cls, result, *, ax=None):
        """Plot a :class:`~robustkmeans.model_selection.SelectKResult`.

        A silhouette of a random subsample (``select_k``'s ``sample_size``) is
        said to be one in the title, axis and legend.

        Parameters
        ----------
        result : SelectKResult
            Output of :func:`~robustkmeans.model_selection.select_k`.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.

        Returns
        -------
        display : KSelectionDisplay
            The drawn display.

        See Also
        --------
        KSelectionDisplay.from_estimator : Runs the search too.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from robustkmeans import LossKMeans
        >>> X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
        >>> from robustkmeans import select_k
        >>> from robustkmeans.plotting import KSelectionDisplay
        >>> result = select_k(LossKMeans(n_init=1), X, range(1, 6), random_state=0)
        >>> KSelectionDisplay.from_result(result).elbow_k
        3
        """
        display = cls(
            result.k_values,
            result.objective,
            silhouette=result.silhouette,
            elbow_k=result.best_k["elbow"],
            silhouette_k=result.best_k["silhouette"],
            # (an object of the same fields, made without them: every sample)
            sample_size=getattr(result, "sample_size", None),
            n_samples=getattr(result, "n_samples", None),
        )
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, k_range, *, ax=None, **kwargs):
        """Run :func:`~robustkmeans.model_selection.select_k` and plot the result.

        Parameters
        ----------
        estimator : estimator or Pipeline
            Unfitted clusterer, or Pipeline ending in one.
        X : array-like or sequence
            Input of ``estimator``.
        k_range : iterable of int
            Candidate numbers of clusters.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.
        **kwargs : dict
            Passed to ``select_k`` (``n_jobs``, ``sample_size``, ``random_state``...).

        Returns
        -------
        display : KSelectionDisplay
            The drawn display; the search result is in ``display.result_``.

        See Also
        --------
        KSelectionDisplay.from_result : Plot an existing search.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from robustkmeans import LossKMeans
        >>> X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
        >>> from robustkmeans.plotting import KSelectionDisplay
        >>> disp = KSelectionDisplay.from_estimator(
        ...     LossKMeans(n_init=1), X, [2, 3, 4], random_state=0)
        >>> disp.result_.best_k["silhouette"]
        3
        """
        from .model_selection import select_k

        kwargs.setdefault("return_estimators", False)
        result = select_k(estimator, X, k_range, **kwargs)
        display = cls.from_result(result, ax=ax)
        display.result_ = result
        return display

    def plot(self, *, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.

        Returns
        -------
        display : KSelectionDisplay
            Self, with the matplotlib objects stored as attributes.

        See Also
        --------
        KSelectionDisplay.from_result : Build and plot from a search.

        Examples
        --------
        >>> from robustkmeans.plotting import KSelectionDisplay
        >>> disp = KSelectionDisplay([1, 2, 3], [9.0, 2.0, 1.5], elbow_k=2).plot()
        >>> disp.ax_.get_xlabel()
        'number of clusters k'
        """
        k_values = np.asarray(self.k_values)
        _check_sample_size(self.sample_size)
        if self.n_samples is not None and not is_count(self.n_samples, 1):
            raise ValueError(f"n_samples must be None or an integer >= 1, got {self.n_samples!r}.")
        subsample = self.sample_size is not None and (
            self.n_samples is None or self.sample_size < self.n_samples
        )
        if self.silhouette_k is not None and not np.any(k_values == self.silhouette_k):
            raise ValueError(
                f"silhouette_k={self.silhouette_k!r} is not one of k_values "
                f"{k_values.tolist()}; pass a k that was searched, or None."
            )
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.6), layout="constrained")
        # What an earlier plot drew on this ax (its objective curve, elbow line and
        # silhouette twin): replaced, not left beside the new ones, outside the legend
        # (an artist already removed, or cleared with its axes, has no figure)
        for artist in getattr(ax, "_robustkmeans_k_selection", ()):
            if artist.figure is not None:
                artist.remove()
        if getattr(ax, "_robustkmeans_hid_patch", False):  # (its background, lent to a twin)
            ax.patch.set_visible(True)
            ax._robustkmeans_hid_patch = False
        # (a clusterer without inertia_, e.g. a Gaussian mixture in select_k, has none)
        has_objective = bool(np.any(np.isfinite(np.asarray(self.objective, dtype=float))))
        (self.line_objective_,) = ax.plot(
            k_values,
            self.objective,
            "o-",
            color="C0",
            label="objective (total cost)" if has_objective else "no objective (no inertia_)",
        )
        ax.set_xlabel("number of clusters k")
        ax.set_ylabel(
            "objective (total cost under the loss)"
            if has_objective
            else "no objective: the clusterer has no inertia_",
            color="C0",
        )
        if len(k_values) <= _MAX_K_TICKS:
            ax.set_xticks(k_values)
        else:  # (one tick per k ran together: matplotlib's integer ticks instead)
            from matplotlib.ticker import MaxNLocator

            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        handles = [self.line_objective_]
        if self.elbow_k is not None:
            handles.append(
                ax.axvline(
                    self.elbow_k, color="C3", linestyle="--", label=f"elbow: k={self.elbow_k}"
                )
            )
        ax._robustkmeans_k_selection = list(handles)
        self.ax_silhouette_ = self.line_silhouette_ = None
        if self.silhouette is not None and np.any(np.isfinite(self.silhouette)):
            twin = ax.twinx()
            ax._robustkmeans_k_selection.append(twin)  # (its curve and star with it)
            label = "mean silhouette"
            if subsample:
                label += f" (subsample of {self.sample_size})"
            (self.line_silhouette_,) = twin.plot(
                k_values, self.silhouette, "s-", color="C1", label=label
            )
            twin.set_ylabel(label, color="C1")
            handles.append(self.line_silhouette_)
            if self.silhouette_k is not None:
                index = int(np.flatnonzero(k_values == self.silhouette_k)[0])
                handles.append(
                    twin.plot(
                        [self.silhouette_k],
                        [self.silhouette[index]],
                        "*",
                        color="C1",
                        markersize=16,
                        label=f"best silhouette: k={self.silhouette_k}",
                    )[0]
                )
            self.ax_silhouette_ = twin
        from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

        engine = ax.figure.get_layout_engine()
        if not isinstance(engine, ConstrainedLayoutEngine | TightLayoutEngine):
            # A figure without a layout engine (plt.subplots()) keeps its margins,
            # and a legend hung below the axes would lie outside it, unseen: it goes
            # inside, where loc="best" finds no curve of either axes.
            if self.ax_silhouette_ is not None:
                self._legend_above_silhouette(ax, self.ax_silhouette_)
            ax.legend(handles=handles, loc="best", fontsize="small")
        else:  # (constrained or tight layout makes room below the axes)
            ax.legend(
                handles=handles,
                loc="upper center",
                bbox_to_anchor=(0.5, -0.14),
                ncol=2,
                fontsize="small",
                frameon=False,
            )
        title = "Choosing k"
        if subsample:  # (the figure is read alone too)
            of = "" if self.n_samples is None else f" of {self.n_samples}"
            title += f"\n(silhouette on a random subsample of {self.sample_size}{of} samples)"
        ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @staticmethod
    def _legend_above_silhouette(ax, twin):
        """Let a legend of ``ax`` avoid the curves of its twin ``twin`` and lie above them.

        ``loc="best"`` weighs the artists of the legend's axes alone: the twin's
        curves go into ``ax`` as invisible outlines (patches, which count there as
        lines do, but, drawn in the twin's coordinates, leave the data limits of
        ``ax`` alone). ``ax`` is then drawn above the twin, its background by the
        twin, so that no curve is drawn over the legend.
        """
        from matplotlib.patches import PathPatch

        for line in twin.lines:
            outline = PathPatch(
                line.get_path(),
                transform=line.get_transform(),
                fill=False,
                visible=False,
                label="_nolegend_",
            )
            ax.add_artist(outline)
            ax._robustkmeans_k_selection.append(outline)
        if ax.patch.get_visible():
            twin.patch.set_facecolor(ax.patch.get_facecolor())
            twin.patch.set_visible(True)
            ax.patch.set_visible(False)
            ax._robustkmeans_hid_patch = True
        ax.set_zorder(max(ax.get_zorder(), twin.get_zorder() + 1))


#: SilhouetteDisplay draws one bar per sample up to this many samples, and each
#: cluster as one patch beyond
_SILHOUETTE_BARS = 2000


def _silhouette_profile(members, lower, color):
    """The outline of the bars ``barh(arange(lower, lower + n), members, height=1)``
    (``members`` sorted) as one filled polygon patch."""
    from matplotlib.patches import Polygon

    edges = np.arange(lower, lower + members.size + 1) - 0.5
    x = np.r_[0.0, np.repeat(members, 2), 0.0]
    y = np.r_[edges[0], np.repeat(edges, 2)[1:-1], edges[-1]]
    return Polygon(np.column_stack([x, y]), closed=True, facecolor=color, linewidth=0)


class SilhouetteDisplay:
    """Per-sample silhouette values, grouped by cluster and sorted, with the mean.

    Parameters
    ----------
    silhouette_values : ndarray of shape (n_samples,)
        Silhouette of each sample.
    labels : ndarray of shape (n_samples,)
        Cluster of each sample.
    metric : str or callable, default="euclidean"
        Distance used, named in the x-axis label (a callable by its name).
    n_clusters : int or None, default=None
        Number of clusters of the clustering, when ``labels`` are its integer
        labels 0 to n_clusters - 1 but some may be absent (the silhouettes of a
        subsample): cluster ``c`` is then drawn in the colour that
        :class:`ClusterScatterDisplay` and :class:`RepresentativesDisplay` give
        it. None colours the clusters present, in order.

    Attributes
    ----------
    average_ : float
        Mean silhouette (drawn as a vertical line).
    ax_ : matplotlib Axes
        Axes with the plot.
    figure_ : matplotlib Figure
        Figure containing the axes.

    See Also
    --------
    sklearn.metrics.silhouette_samples : Computes the values.
    robustkmeans.metrics.silhouette_scorer : The mean as a scorer.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from robustkmeans import LossKMeans
    >>> from robustkmeans.plotting import SilhouetteDisplay
    >>> X, _ = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
    >>> km = LossKMeans(n_clusters=3, loss="absolute", random_state=0).fit(X)
    >>> disp = SilhouetteDisplay.from_estimator(km, X)
    >>> disp.metric, bool(disp.average_ > 0.5)
    ('manhattan', True)
    """

    def __init__(self, silhouette_values, labels, *, metric="euclidean", n_clusters=None):
        self.silhouette_values = silhouette_values
        self.labels = labels
        self.metric = metric
        self.n_clusters = n_clusters

    @classmethod
    def from_predictions(
        cls,
        X,
        labels,
        *,
        metric="euclidean",
        n_clusters=None,
        sample_size=None,
        random_state=None,
        ax=None,
    ):
        """Compute the silhouette of a labelling of features and plot it.

        The silhouette needs the distances between all pairs of samples, O(n^2)
        time (about 20 s for 20,000 samples of 64 features on 2 cores, 100 times
        as long for 200,000): pass ``sample_size`` for large n.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Features the clustering was computed on, or with
            ``metric="precomputed"`` the distances between the samples (a
            subsample takes their rows and columns).
        labels : array-like of shape (n_samples,)
            Cluster labels, at least two distinct and fewer than n_samples.
        metric : str or callable, default="euclidean"
            Distance, as in :func:`sklearn.metrics.silhouette_samples`.
        n_clusters : int or None, default=None
            Number of clusters, when ``labels`` (integers 0 to n_clusters - 1) may
            miss some, as those of a subsample: each cluster keeps its colour of
            the other displays (see the class's parameters).
        sample_size : int >= 3, default=None
            Draw the silhouettes of a random subsample of this many samples (each
            computed against the subsample, as
            :func:`sklearn.metrics.silhouette_score` computes them with its
            ``sample_size``), named in the title; ``None`` uses all.
        random_state : int, RandomState instance or None, default=None
            Seeds the subsample.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.

        Returns
        -------
        display : SilhouetteDisplay
            The drawn display.

        Raises
        ------
        ValueError
            When the labels, or those of the subsample, have fewer than 2
            clusters or one cluster per sample, or ``sample_size`` is not None or
            an integer >= 3.

        See Also
        --------
        SilhouetteDisplay.from_estimator : From a fitted clusterer.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from robustkmeans import LossKMeans
        >>> X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
        >>> from robustkmeans.plotting import SilhouetteDisplay
        >>> disp = SilhouetteDisplay.from_predictions(X, y)
        >>> bool(disp.average_ > 0.5)
        True
        """
        from sklearn.metrics import silhouette_samples

        _check_sample_size(sample_size)
        X = _as_features(X)  # sparse matrices as they are (silhouette_samples takes them)
        labels = np.asarray(labels)
        # (before the subsample indexes both, as silhouette_score checks them)
        check_consistent_length(X, labels)
        n_samples = X.shape[0]
        subsample = sample_size is not None and sample_size < n_samples
        if subsample:
            # the samples silhouette_score(..., sample_size, random_state) takes
            indices = check_random_state(random_state).permutation(n_samples)[:sample_size]
            X, labels = _safe_indexing(X, indices), labels[indices]
            if isinstance(metric, str) and metric == "precomputed":
                # a distance matrix: its columns too, as silhouette_score takes them
                # (the rows alone left distances off the diagonal on it)
                X = _safe_indexing(X, indices, axis=1)
        if _is_degenerate(labels, X.shape[0]):
            of = f" in the random subsample of sample_size={sample_size}" if subsample else ""
            raise ValueError(
                f"The silhouette needs between 2 and n_samples - 1 clusters; got "
                f"{np.unique(labels).size} clusters for {X.shape[0]} samples{of}."
                + (" Pass a larger sample_size." if subsample else "")
            )
        values = silhouette_samples(X, labels, metric=metric)
        display = cls(values, labels, metric=metric, n_clusters=n_clusters).plot(ax=ax)
        if subsample:
            display.ax_.set_title(
                f"Silhouette per sample\n(random subsample of {sample_size} of {n_samples} samples)"
            )
        return display

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        metric="auto",
        n_clusters="auto",
        sample_size=None,
        random_state=None,
        ax=None,
    ):
        """Compute the silhouette of a fitted clusterer's labelling of ``X`` and plot it.

        The silhouette costs O(n^2) time: pass ``sample_size`` for large n.

        Parameters
        ----------
        estimator : fitted clusterer or Pipeline
            For a Pipeline the silhouette is computed on the features reaching
            the last step.
        X : array-like or sequence
            Input of ``estimator``: new data for a clusterer with ``predict``;
            for one without (e.g. :class:`~sklearn.cluster.AgglomerativeClustering`),
            the data it was fitted on, whose ``labels_`` are drawn.
        metric : str or callable, default="auto"
            Distance; ``"auto"`` matches the loss (see
            :func:`~robustkmeans.metrics.loss_metric`).
        n_clusters : "auto", int or None, default="auto"
            Number of clusters, for the colours (see the class's parameters).
            ``"auto"`` takes the estimator's: the number of its
            ``cluster_centers_``, else its ``n_clusters_``, else its
            ``n_clusters`` parameter, so that a cluster absent from ``X`` shifts
            no colour and each cluster has its colour of
            :class:`ClusterScatterDisplay` and :class:`RepresentativesDisplay`;
            None (also what ``"auto"`` gives when the labels are not all cluster
            numbers below that count, such as DBSCAN's noise label -1, or the
            estimator has no such count) colours the clusters present, in order.
        sample_size : int >= 3, default=None
            Draw a random subsample of this many samples (see
            :meth:`from_predictions`); ``None`` uses all. The labels are still
            those of every sample of ``X``.
        random_state : int, RandomState instance or None, default=None
            Seeds the subsample.
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.

        Returns
        -------
        display : SilhouetteDisplay
            The drawn display.

        See Also
        --------
        SilhouetteDisplay.from_predictions : From features and labels.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from robustkmeans import LossKMeans
        >>> X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
        >>> from robustkmeans.plotting import SilhouetteDisplay
        >>> km = LossKMeans(n_clusters=3, random_state=0).fit(X)
        >>> SilhouetteDisplay.from_estimator(km, X).metric
        'euclidean'
        """
        # (a clusterer without predict draws its labels_: X is its training set)
        features, labels = features_and_labels(estimator, X, on_training_set=True)
        if isinstance(metric, str) and metric == "auto":
            metric = loss_metric(estimator)
        n_clusters = _resolved_n_clusters(n_clusters, estimator, labels)
        return cls.from_predictions(
            features,
            labels,
            metric=metric,
            n_clusters=n_clusters,
            sample_size=sample_size,
            random_state=random_state,
            ax=ax,
        )

    def plot(self, *, ax=None):
        """Draw the silhouette plot.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure is made when None.

        Returns
        -------
        display : SilhouetteDisplay
            Self, with the matplotlib objects stored as attributes.

        See Also
        --------
        SilhouetteDisplay.from_estimator : Compute and plot.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans.plotting import SilhouetteDisplay
        >>> disp = SilhouetteDisplay(np.array([0.9, 0.8, 0.7, 0.2]), np.array([0, 0, 1, 1])).plot()
        >>> round(disp.average_, 2)
        0.65
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots(figsize=(6.4, 4.8))
        values = np.asarray(self.silhouette_values)
        labels = np.asarray(self.labels)
        clusters = np.unique(labels)
        colors = _cluster_colors(clusters, self.n_clusters)
        gap = max(2, len(values) // 50)
        lower = gap
        for color, cluster in zip(colors, clusters, strict=True):
            members = np.sort(values[labels == cluster])
            upper = lower + members.size
            if values.size <= _SILHOUETTE_BARS:
                # One bar per sample: exact for small clusters, a filled profile for large.
                ax.barh(np.arange(lower, upper), members, height=1.0, color=color, linewidth=0)
            else:
                # the outline of those bars as one patch: a bar per sample took minutes
                # and gigabytes of matplotlib objects for 200,000 samples
                # (add_artist: add_patch takes seconds to bound its many vertices)
                ax.add_artist(_silhouette_profile(members, lower, color))
                ax.update_datalim([(min(0, members[0]), lower - 0.5), (members[-1], upper - 0.5)])
            ax.text(-0.02, (lower + upper) / 2, _text(cluster), ha="right", va="center")
            lower = upper + gap
        ax.autoscale_view()  # (update_datalim leaves the limits as they were)
        self.average_ = float(values.mean())
        ax.axvline(self.average_, color="k", linestyle="--", label=f"mean {self.average_:.3f}")
        ax.set_xlim(min(-0.1, values.min() - 0.05), 1.0)
        ax.set_yticks([])
        metric = metric_name(self.metric)
        ax.set_xlabel(f"silhouette ({_text(metric)})")
        ax.set_ylabel("samples, grouped by cluster")
        ax.legend(loc="lower right")
        ax.set_title("Silhouette per sample")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class ClusterScatterDisplay:
    """2-D projection of the features coloured by cluster, centers marked.

    With true labels, a second panel shows the same points coloured by class.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
        Projected features.
    labels : ndarray of shape (n_samples,)
        Cluster of each sample.
    centers : ndarray of shape (n_clusters, 2) or None, default=None
        Projected cluster centers.
    y_true : array-like of shape (n_samples,) or None, default=None
        True classes, drawn in a second panel. Class names are drawn as written
        (a ``$`` in a folder name is not read as mathtext, a leading ``_`` does
        not hide the class from the legend). Samples without a class (None or
        NaN, a partly labelled set) are drawn in grey as "no label".
    axis_labels : tuple of str, default=("PC 1", "PC 2")
        Names of the two axes, drawn as matplotlib text (mathtext allowed).
    n_clusters : int or None, default=None
        Number of clusters of the clustering, when ``labels`` are its integer
        labels 0 to n_clusters - 1 but some may be absent (new data, a
        subsample): cluster ``c`` is then drawn in the colour that
        :class:`SilhouetteDisplay` and :class:`RepresentativesDisplay` give it.
        None colours the clusters present, in order.

    Attributes
    ----------
    axes_ : list of matplotlib Axes
        One or two axes (clusters, then true labels).
    ax_ : matplotlib Axes
        The clusters panel.
    figure_ : matplotlib Figure
        Figure containing the axes.

    See Also
    --------
    sklearn.decomposition.PCA : The default projection.

    Notes
    -----
    Beyond 10,000 points the points are drawn rasterized, so that an SVG or PDF
    holds them as one image per panel rather than a vector marker each (the
    legend, the centers and the text stay vectors; a PNG is the same), and each
    legend goes in the ninth of the axes that holds the fewest points (in the
    order of preference of matplotlib's ``loc="best"``, which is used up to
    10,000 points but counts every point at each draw: 8 s for 200,000).
    A legend of more than 18 entries is drawn beside its axes, in columns of
    18; a figure the display makes is then wider for it (and laid out by
    matplotlib's constrained layout).

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from robustkmeans import LossKMeans
    >>> from robustkmeans.plotting import ClusterScatterDisplay
    >>> X, y = make_blobs(n_samples=60, n_features=5, centers=3, random_state=0)
    >>> km = LossKMeans(n_clusters=3, random_state=0).fit(X)
    >>> disp = ClusterScatterDisplay.from_estimator(km, X, y=y)
    >>> len(disp.axes_), disp.embedding.shape
    (2, (60, 2))
    """

    def __init__(
        self,
        embedding,
        labels,
        *,
        centers=None,
        y_true=None,
        axis_labels=("PC 1", "PC 2"),
        n_clusters=None,
    ):
        self.embedding = embedding
        self.labels = labels
        self.centers = centers
        self.y_true = y_true
        self.axis_labels = axis_labels
        self.n_clusters = n_clusters

    @classmethod
    def from_estimator(cls, estimator, X, *, y=None, projection=None, n_clusters="auto", ax=None):
        """Project the features a fitted clusterer sees to 2-D and plot its clusters.

        Parameters
        ----------
        estimator : fitted clusterer or Pipeline
            For a Pipeline the features reaching the last step are projected.
        X : array-like or sequence
            Input of ``estimator``: new data for a clusterer with ``predict``;
            for one without (e.g. :class:`~sklearn.cluster.AgglomerativeClustering`),
            the data it was fitted on, whose ``labels_`` are drawn.
        y : array-like of shape (n_samples,), default=None
            True classes; when given, a second panel is drawn (samples whose
            class is None or NaN in grey, as "no label").
        projection : transformer, default=None
            Unfitted transformer to 2-D; ``None`` uses
            ``PCA(n_components=2)`` (features with one column are padded).
            The axes are named "PC 1", "PC 2" for a PCA, "component 1", "component
            2" otherwise, with the share of the variance each explains where the
            transformer gives it (``explained_variance_ratio_``).
        n_clusters : "auto", int or None, default="auto"
            Number of clusters, for the colours (see the class's parameters).
            ``"auto"`` takes the estimator's: the number of its
            ``cluster_centers_``, else its ``n_clusters_``, else its
            ``n_clusters`` parameter, so that a cluster absent from ``X`` shifts
            no colour and each cluster has its colour of
            :class:`SilhouetteDisplay` and :class:`RepresentativesDisplay`;
            None (also what ``"auto"`` gives when the labels are not all cluster
            numbers below that count, such as DBSCAN's noise label -1, or the
            estimator has no such count) colours the clusters present, in order.
        ax : matplotlib Axes or sequence of two Axes, default=None
            Where to draw (two axes when ``y`` is given).

        Returns
        -------
        display : ClusterScatterDisplay
            The drawn display.

        See Also
        --------
        ClusterScatterDisplay.plot : Draw precomputed coordinates.

        Examples
        --------
        >>> from sklearn.datasets import make_blobs
        >>> from robustkmeans import LossKMeans
        >>> X, y = make_blobs(n_samples=60, centers=3, cluster_std=0.5, random_state=0)
        >>> from robustkmeans.plotting import ClusterScatterDisplay
        >>> km = LossKMeans(n_clusters=3, random_state=0).fit(X)
        >>> disp = ClusterScatterDisplay.from_estimator(km, X)
        >>> disp.centers.shape
        (3, 2)
        """
        from sklearn.decomposition import PCA

        features, labels = features_and_labels(estimator, X, on_training_set=True)
        if y is not None and len(y) != len(labels):
            raise ValueError(
                f"y has {len(y)} entries for {len(labels)} samples: pass one true class "
                "per sample of X, or y=None."
            )
        # (the scorers' features keep sparse matrices and DataFrames as they are)
        features = features.toarray() if hasattr(features, "toarray") else np.asarray(features)
        features = features.reshape(features.shape[0], -1)
        if features.dtype not in (np.float32, np.float64):
            # (float32 kept: a float64 copy of 200,000 x 512 features took 819 MB)
            features = features.astype(float)
        if features.shape[1] < 2:
            features = np.c_[features, np.zeros(features.shape[0])]
        if projection is None and features.shape[0] < 2:
            raise ValueError(
                f"the default projection, PCA(n_components=2), needs at least 2 samples, "
                f"got {features.shape[0]}; pass more samples, or a projection= that maps "
                "one sample to 2 columns."
            )
        projection = clone(projection) if projection is not None else PCA(n_components=2)
        # Every sample the same point (identical images): no variance to explain.
        # PCA's explained-variance ratio is then 0/0, which numpy warns about, or,
        # where the mean rounds, the share of rounding noise; the axes say so instead.
        # (per feature, not an n x d comparison with the first sample)
        no_variance = bool(np.all(features.min(axis=0) == features.max(axis=0)))
        with np.errstate(divide="ignore", invalid="ignore") if no_variance else nullcontext():
            embedding = projection.fit_transform(features)
        embedding = embedding.toarray() if hasattr(embedding, "toarray") else np.asarray(embedding)
        if embedding.ndim != 2 or embedding.shape[1] != 2:
            raise ValueError(
                f"projection must map the features to 2 columns for a scatter plot, but "
                f"{type(projection).__name__} gave an array of shape {embedding.shape}; "
                "use e.g. PCA(n_components=2), or None for that default."
            )
        _, clusterer = _split(estimator)
        centers = getattr(clusterer, "cluster_centers_", None)
        if centers is not None:
            centers = np.asarray(centers, dtype=float).reshape(len(centers), -1)
            if centers.shape[1] < 2:
                centers = np.c_[centers, np.zeros(centers.shape[0])]
            centers = projection.transform(centers) if hasattr(projection, "transform") else None
        axis_labels = ("component 1", "component 2")
        ratio = getattr(projection, "explained_variance_ratio_", None)
        if ratio is not None:
            # (principal components for PCA; a TruncatedSVD's are not centered)
            name = "PC" if type(projection).__name__ == "PCA" else "component"
            axis_labels = tuple(
                f"{name} {i + 1} ({'no variance' if no_variance else f'{100 * r:.0f}% var.'})"
                for i, r in enumerate(ratio)
            )
        n_clusters = _resolved_n_clusters(n_clusters, estimator, labels)
        display = cls(
            embedding,
            labels,
            centers=centers,
            y_true=y,
            axis_labels=axis_labels,
            n_clusters=n_clusters,
        )
        return display.plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the scatter plot(s).

        Parameters
        ----------
        ax : matplotlib Axes or sequence of two Axes, default=None
            Where to draw; a new figure is made when None.

        Returns
        -------
        display : ClusterScatterDisplay
            Self, with the matplotlib objects stored as attributes.

        See Also
        --------
        ClusterScatterDisplay.from_estimator : Project and plot.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans.plotting import ClusterScatterDisplay
        >>> disp = ClusterScatterDisplay(np.eye(2), np.array([0, 1]), y_true=["a", "b"]).plot()
        >>> [ax.get_title() for ax in disp.axes_]
        ['clusters', 'true labels']
        """
        plt = _pyplot()
        panels = [("clusters", np.asarray(self.labels))]
        if self.y_true is not None:
            panels.append(("true labels", np.asarray(self.y_true)))
        n_panels = len(panels)
        present = []  # (samples without a group, the groups) of each panel
        for _, groups in panels:
            missing = _missing(groups)
            present.append((missing, np.unique(groups[~missing])))
        # columns of each legend, beside its axes where more rows than fit inside
        n_entries = [values.size + bool(missing.any()) for missing, values in present]
        n_entries[0] += self.centers is not None
        n_columns = [math.ceil(n / _MAX_LEGEND_ROWS) for n in n_entries]
        beside = max(n_entries) > _MAX_LEGEND_ROWS
        if ax is None:
            # (constrained: room for the legends beside the axes, not on the next panel)
            _, axes = plt.subplots(
                1,
                n_panels,
                figsize=(5.2 * n_panels + 0.7 * sum(c for c in n_columns if c > 1), 4.6),
                squeeze=False,
                layout="constrained" if beside else None,
            )
            axes = list(axes[0])
        else:
            axes = list(np.atleast_1d(ax))
            if len(axes) < n_panels:
                raise ValueError(f"ax must hold {n_panels} Axes when y_true is given.")
        embedding = np.asarray(self.embedding)
        many = embedding.shape[0] > _MAX_VECTOR_POINTS
        legends = []
        for axis, (title, groups), (missing, values) in zip(axes, panels, present, strict=False):
            handles, names = [], []
            if title == "true labels":
                palette = _colors(len(values), classes=True)
            else:  # (cluster c in its colour of every display, with n_clusters)
                palette = _cluster_colors(values, self.n_clusters)
            for color, value in zip(palette, values, strict=True):
                mask = (groups == value) & ~missing
                names.append(_text(value))
                handles.append(
                    axis.scatter(
                        *embedding[mask].T,
                        s=18,
                        color=color,
                        alpha=0.8,
                        label=names[-1],
                        rasterized=many,
                    )
                )
            if missing.any():
                # (NaN never equals itself: these samples went undrawn under a "nan" entry)
                names.append("no label")
                handles.append(
                    axis.scatter(
                        *embedding[missing].T,
                        s=18,
                        color="0.7",
                        alpha=0.8,
                        label="no label",
                        rasterized=many,
                    )
                )
            axis.set_xlabel(self.axis_labels[0])
            axis.set_ylabel(self.axis_labels[1])
            axis.set_title(title)
            legends.append((handles, names))
        if self.centers is not None:
            centers = axes[0].scatter(
                *np.asarray(self.centers).T,
                marker="X",
                s=160,
                c="k",
                edgecolors="w",
                label="centers",
            )
            legends[0][0].append(centers)
            legends[0][1].append("centers")
        for axis, (handles, names), columns in zip(axes, legends, n_columns, strict=False):
            if columns > 1:
                place = {"loc": "upper left", "bbox_to_anchor": (1.02, 1), "ncols": columns}
            else:
                place = {"loc": _emptiest_ninth(axis, embedding) if many else "best"}
            # A class named "_misc" is a class too: matplotlib leaves out a label
            # that starts with "_" (3.6 to 3.8 even one given here), so the names
            # are set on the legend's texts once it is made.
            legend = axis.legend(
                handles,
                [f" {name}" for name in names],
                fontsize="small",
                markerscale=1.2,
                **place,
            )
            for text, name in zip(legend.get_texts(), names, strict=True):
                text.set_text(name)
        self.axes_ = axes[:n_panels]
        self.ax_ = axes[0]
        self.figure_ = axes[0].figure
        return self


class RepresentativesDisplay:
    """Per cluster, the images closest to the center and the most atypical ones.

    Closeness is the cost under the fitted loss (the clusterer's ``transform``),
    so for :class:`~robustkmeans.LossKMeans` it is what the loss minimises; the
    atypical images are those of largest cost in their cluster, which is where
    robust losses differ from the mean: they cost less and pull the center less.

    Parameters
    ----------
    images : sequence
        Image of each sample: file paths, PIL images or uint8 / uint16 arrays,
        read as :class:`~robustkmeans.VGG16Featurizer` reads them.
    labels : ndarray of shape (n_samples,)
        Cluster of each sample.
    cost : ndarray of shape (n_samples,)
        Cost of each sample to its own center.
    representatives : dict
        Cluster index -> list of sample indices, closest first; one row per
        cluster, in the order of the indices. It may hold only some of the
        clusters: cluster ``c`` is drawn in the c-th of as many colours as the
        clustering has clusters (the largest index or label, plus one), its
        colour in :class:`ClusterScatterDisplay` and :class:`SilhouetteDisplay`.
    atypical : dict
        Cluster index -> list of sample indices, most atypical first.
    thumbnail_size : int, default=96
        Largest side, in pixels, of the drawn images.

    Attributes
    ----------
    cluster_sizes_ : ndarray of shape (n_clusters,)
        Number of samples per cluster.
    axes_ : ndarray of matplotlib Axes
        Grid of axes, one row per cluster.
    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    LossComparisonDisplay : Representatives for each loss side by side.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans import LossKMeans
    >>> from robustkmeans.plotting import RepresentativesDisplay
    >>> rng = np.random.RandomState(0)
    >>> images = np.r_[rng.randint(0, 60, (10, 8, 8, 3)), rng.randint(190, 255, (10, 8, 8, 3))]
    >>> images = images.astype(np.uint8)
    >>> X = images.reshape(20, -1) / 255.0
    >>> km = LossKMeans(n_clusters=2, loss="huber", random_state=0).fit(X)
    >>> disp = RepresentativesDisplay.from_estimator(km, X, images, n_representatives=3)
    >>> sorted(disp.cluster_sizes_.tolist()), len(disp.representatives[0])
    ([10, 10], 3)
    """

    #: the argument the images came from, naming a bad one in errors (``images[2]``);
    #: ``from_estimator`` sets "X" where it draws X (images=None)
    _images_name = "images"

    def __init__(self, images, labels, cost, representatives, atypical, *, thumbnail_size=96):
        self.images = images
        self.labels = labels
        self.cost = cost
        self.representatives = representatives
        self.atypical = atypical
        self.thumbnail_size = thumbnail_size

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        images=None,
        *,
        n_representatives=4,
        n_atypical=2,
        thumbnail_size=96,
        max_clusters=None,
        figure=None,
        plot=True,
    ):
        """Find representatives and atypical images of a fitted clusterer and plot them.

        Parameters
        ----------
        estimator : fitted clusterer or Pipeline
            Needs ``transform`` (cost or distance to each center) and ``predict``.
        X : array-like or sequence
            Input of ``estimator`` (features, or e.g. image paths).
        images : sequence, default=None
            Image of each sample (file paths, PIL images or uint8 / uint16
            arrays), one per sample of ``X``; ``None`` uses ``X`` (image paths
            or arrays).
        n_representatives : int, default=4
            Images of least cost shown per cluster (0 or more).
        n_atypical : int, default=2
            Images of largest cost shown per cluster (0 or more), never
            repeating a representative.
        thumbnail_size : int, default=96
            Largest side of the drawn images, in pixels.
        max_clusters : int, default=None
            Draw at most this many clusters (see :meth:`plot`); the display
            still holds every cluster. ``None`` draws all.
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one is made when None.
        plot : bool, default=True
            Draw the figure; ``False`` only computes (e.g. for a text report).

        Returns
        -------
        display : RepresentativesDisplay
            The display, drawn unless ``plot=False``.

        See Also
        --------
        LossComparisonDisplay.from_estimator : The same for each loss.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans import LossKMeans
        >>> rng = np.random.RandomState(0)
        >>> images = np.r_[rng.randint(0, 60, (6, 8, 8, 3)), rng.randint(190, 255, (6, 8, 8, 3))]
        >>> images = images.astype(np.uint8)
        >>> X = images.reshape(12, -1) / 255.0
        >>> from robustkmeans.plotting import RepresentativesDisplay
        >>> km = LossKMeans(n_clusters=2, loss="absolute", random_state=0).fit(X)
        >>> disp = RepresentativesDisplay.from_estimator(km, X, images, n_atypical=1, plot=False)
        >>> [len(disp.atypical[c]) for c in range(2)]
        [1, 1]
        """
        n_representatives = _check_count(n_representatives, "n_representatives")
        n_atypical = _check_count(n_atypical, "n_atypical")
        _check_max_clusters(max_clusters, "clusters drawn")
        _check_images(images, X, plot)
        prefix, clusterer = _split(estimator)
        missing = [name for name in ("transform", "predict") if not hasattr(clusterer, name)]
        if missing:
            raise TypeError(
                f"{type(clusterer).__name__} has no {' or '.join(missing)}: the display "
                "ranks each cluster's members by their cost (or distance) to its center, "
                "from transform, and needs predict; use a clusterer with both, such as "
                "LossKMeans or KMeans."
            )
        features = _as_features(prefix.transform(X) if prefix is not None else X)
        own, labels, sizes, representatives, atypical = _pick_members(
            clusterer, features, n_representatives, n_atypical
        )
        display = cls(
            X if images is None else images,
            labels,
            own,
            representatives,
            atypical,
            thumbnail_size=thumbnail_size,
        )
        display.cluster_sizes_ = sizes
        if images is None:
            display._images_name = "X"
        return display.plot(max_clusters=max_clusters, figure=figure) if plot else display

    def plot(self, *, max_clusters=None, figure=None):
        """Draw the grid: one row per cluster, representatives then atypical images.

        A figure made here of more than 60 thumbnails is laid out by fixed
        margins rather than constrained layout, whose cost grows with the
        square of the axes (80 clusters took 17 s to draw and save).

        Parameters
        ----------
        max_clusters : int, default=None
            Draw at most this many clusters (rows): the largest (ties: the
            lower index), in cluster order; the title says so. A row takes 1.5
            inches: a figure of many clusters is slow to draw, and matplotlib
            refuses one past 65,536 pixels (about 437 rows at 100 dpi).
            ``None`` draws all.
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one is made when None.

        Returns
        -------
        display : RepresentativesDisplay
            Self, with the matplotlib objects stored as attributes.

        See Also
        --------
        RepresentativesDisplay.from_estimator : Compute and plot.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans.plotting import RepresentativesDisplay
        >>> images = np.zeros((3, 8, 8, 3), np.uint8)
        >>> disp = RepresentativesDisplay(
        ...     images, np.array([0, 0, 1]), np.array([0.1, 0.5, 0.0]),
        ...     representatives={0: [0], 1: [2]}, atypical={0: [1], 1: []},
        ... ).plot()
        >>> disp.axes_.shape
        (2, 2)
        """
        _check_max_clusters(max_clusters, "clusters drawn")
        labels = np.asarray(self.labels)
        clusters = sorted(self.representatives)
        self.cluster_sizes_ = np.bincount(
            labels, minlength=max(len(clusters), int(max(clusters, default=-1)) + 1)
        )
        n_clusters = len(clusters)
        capped = max_clusters is not None and n_clusters > max_clusters
        if capped:
            sizes = [self.cluster_sizes_[c] for c in clusters]
            clusters = [clusters[i] for i in _largest(sizes, max_clusters)]
        n_rep = max((len(self.representatives[c]) for c in clusters), default=0)
        n_aty = max((len(self.atypical.get(c, [])) for c in clusters), default=0)
        n_cols = max(1, n_rep + n_aty)
        size = 1.5
        sized_here = figure is None
        figure = _grid_figure(
            figure, (size * n_cols + 1.2, size * len(clusters) + 0.6), len(clusters) * n_cols
        )
        axes = figure.subplots(len(clusters), n_cols, squeeze=False)
        # cluster c in the c-th colour of the clustering's (labels 0 to n - 1), as in
        # the other displays, also when the dict holds only some of the clusters
        palette = _colors(self.cluster_sizes_.size)
        colors = [palette[int(cluster)] for cluster in clusters]
        for row, cluster in enumerate(clusters):
            closest = self.representatives[cluster]
            chosen = [*closest, *self.atypical.get(cluster, [])]
            for axis in _thumbnail_row(
                axes[row], self.images, chosen, self.thumbnail_size, self._images_name
            ):
                for spine in axis.spines.values():
                    spine.set_visible(False)
            for col, (axis, index) in enumerate(zip(axes[row], chosen, strict=False)):
                is_atypical = col >= len(closest)
                axis.set_title(f"cost {self.cost[index]:.3g}", fontsize="x-small")
                # atypical: a dashed black frame, a colour no cluster has
                for spine in axis.spines.values():
                    spine.set_edgecolor("black" if is_atypical else colors[row])
                    spine.set_linewidth(3 if is_atypical else 2)
                    spine.set_linestyle("--" if is_atypical else "-")
            axes[row, 0].set_ylabel(
                f"cluster {_text(cluster)}\nn={self.cluster_sizes_[cluster]}",
                color=colors[row],
                fontsize="small",
            )
        which = "Per cluster"
        if capped:
            which += f", for the {max_clusters} largest clusters (of {n_clusters})"
        if n_rep or not n_aty:
            title = f"{which}: the {_count(n_rep, 'image')} closest to the center"
            if n_aty:
                title += f", then the {n_aty} most atypical (dashed black frame; largest cost)"
        else:  # (not "the 0 images closest to the center, then...")
            title = (
                f"{which}: the {_count(n_aty, 'most atypical image')} "
                "(dashed black frame; largest cost)"
            )
        suptitle = figure.suptitle(title, fontsize="medium")
        if sized_here:
            _fit_titles(figure, [suptitle])
            # (a large grid: the row labels, two lines, left; each thumbnail's
            # title above it)
            _fixed_margins(
                figure, len(clusters), n_cols, left=0.9, top=0.8, row_gap=0.3, suptitle=suptitle
            )
        self.axes_ = axes
        self.figure_ = figure
        return self


class LossComparisonDisplay:
    """The same samples clustered under each loss, representatives side by side.

    One row per loss: for each cluster the image(s) of least cost under that
    loss, and in the row title the objective, silhouette, Calinski-Harabasz and
    (with labels) adjusted Rand index. The silhouettes of all rows are computed
    with one distance, ``silhouette_metric``, so that they compare.

    Parameters
    ----------
    images : sequence
        Image of each sample: file paths, PIL images or uint8 / uint16 arrays,
        read as :class:`~robustkmeans.VGG16Featurizer` reads them.
    losses : list of str
        The losses compared, one row each.
    representatives : list of dict
        Per loss, cluster index -> sample indices, closest first; the clusters are
        drawn in the order of the dict, each in a block of as many columns as the
        longest list (``from_estimator`` orders them to match the clusters of the
        first loss, so a block of columns shows the same content in every row).
    cluster_sizes : list of ndarray
        Per loss, number of samples per cluster.
    metrics : list of dict
        Per loss, metric name -> value.
    thumbnail_size : int, default=80
        Largest side of the drawn images, in pixels.
    silhouette_metric : str or None, default=None
        The distance the silhouettes in ``metrics`` were computed with, shown in
        the title; ``None`` shows none.

    Attributes
    ----------
    labels_ : dict
        Loss -> cluster labels (set by ``from_estimator``).
    estimators_ : dict
        Loss -> the clusterer fitted under it (a clone of the last step of
        ``estimator``; set by ``from_estimator``).
    axes_ : ndarray of matplotlib Axes
        Grid of axes, one row per loss.
    row_titles_ : list of matplotlib Text
        Per loss, the line with its name and metrics.
    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    RepresentativesDisplay : Representatives for one fitted clusterer.
    robustkmeans.LossKMeans : The clusterer refitted under each loss.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans import LossKMeans
    >>> from robustkmeans.plotting import LossComparisonDisplay
    >>> rng = np.random.RandomState(0)
    >>> images = np.r_[rng.randint(0, 60, (8, 8, 8, 3)), rng.randint(190, 255, (8, 8, 8, 3))]
    >>> images = images.astype(np.uint8)
    >>> X = images.reshape(16, -1) / 255.0
    >>> y = np.repeat([0, 1], 8)
    >>> disp = LossComparisonDisplay.from_estimator(
    ...     LossKMeans(n_clusters=2, random_state=0), X, images, y=y,
    ...     losses=["square", "absolute"])
    >>> [m["adjusted_rand"] for m in disp.metrics]
    [1.0, 1.0]
    """

    #: the argument the images came from, naming a bad one in errors (``images[2]``);
    #: ``from_estimator`` sets "X" where it draws X (images=None)
    _images_name = "images"

    def __init__(
        self,
        images,
        losses,
        representatives,
        cluster_sizes,
        metrics,
        *,
        thumbnail_size=80,
        silhouette_metric=None,
    ):
        self.images = images
        self.losses = losses
        self.representatives = representatives
        self.cluster_sizes = cluster_sizes
        self.metrics = metrics
        self.thumbnail_size = thumbnail_size
        self.silhouette_metric = silhouette_metric

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        images=None,
        *,
        y=None,
        losses=None,
        n_representatives=1,
        thumbnail_size=80,
        n_jobs=None,
        metric="euclidean",
        sample_size=None,
        random_state=None,
        max_clusters=None,
        figure=None,
        plot=True,
    ):
        """Refit a clusterer under each loss on the same features and compare.

        Parameters
        ----------
        estimator : estimator or Pipeline
            Clusterer with a ``loss`` parameter (e.g. an unfitted or fitted
            :class:`~robustkmeans.LossKMeans`), or a Pipeline ending in one; it
            is cloned, not modified. The preprocessing steps are fitted once.
        X : array-like, sparse matrix or sequence
            Input of ``estimator``; sparse features are not densified (so
            ``losses`` must be ones that LossKMeans fits on sparse input, e.g.
            ``["square", "correntropy", "epsilon_insensitive"]``).
        images : sequence, default=None
            Image of each sample (file paths, PIL images or uint8 / uint16
            arrays), one per sample of ``X``; ``None`` uses ``X``.
        y : array-like of shape (n_samples,), default=None
            True classes; adds the adjusted Rand index and V-measure per loss.
        losses : list of str, default=None
            Losses to compare, at least one; ``None`` uses all six
            (``robustkmeans._losses.LOSS_NAMES``).
        n_representatives : int, default=1
            Images shown per cluster and loss (1 or more).
        thumbnail_size : int, default=80
            Largest side of the drawn images, in pixels.
        n_jobs : int, default=None
            Losses fitted in parallel (joblib).
        metric : str or callable, default="euclidean"
            Distance of the silhouettes, one for every loss so that they compare
            (any metric of :func:`sklearn.metrics.pairwise_distances`).
            ``"auto"`` is refused: it would score the ``absolute`` loss with the
            Manhattan distance and the others with the Euclidean one (see
            :func:`~robustkmeans.metrics.loss_metric`), mixing two scales in
            one comparison.
        sample_size : int, default=None
            Compute the silhouettes on a random subsample of this many samples
            (they cost O(n^2)), an integer >= 3; ``None`` uses all. A silhouette is NaN where it
            is undefined: one cluster or one sample per cluster, in all samples
            or in the subsample.
        random_state : int, RandomState instance or None, default=None
            Seeds the silhouette subsample.
        max_clusters : int, default=None
            Draw at most this many clusters per loss (see :meth:`plot`); the
            display still holds every cluster, and the metrics are of all of
            them. ``None`` draws all.
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one is made when None.
        plot : bool, default=True
            Draw the figure; ``False`` only computes.

        Returns
        -------
        display : LossComparisonDisplay
            The display, drawn unless ``plot=False``.

        See Also
        --------
        RepresentativesDisplay.from_estimator : One loss, more images.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans import LossKMeans
        >>> rng = np.random.RandomState(0)
        >>> images = np.r_[rng.randint(0, 60, (6, 8, 8, 3)), rng.randint(190, 255, (6, 8, 8, 3))]
        >>> images = images.astype(np.uint8)
        >>> X = images.reshape(12, -1) / 255.0
        >>> from robustkmeans.plotting import LossComparisonDisplay
        >>> disp = LossComparisonDisplay.from_estimator(
        ...     LossKMeans(n_clusters=2, random_state=0), X, images,
        ...     losses=["huber", "correntropy"])
        >>> disp.axes_.shape
        (2, 2)
        """
        from sklearn.metrics import calinski_harabasz_score, silhouette_score
        from sklearn.utils.parallel import Parallel, delayed

        from ._losses import LOSS_NAMES

        if losses is None:
            losses = list(LOSS_NAMES)
        elif isinstance(losses, str):
            raise ValueError(
                f"losses must be a list of loss names, got the string {losses!r}; "
                f"pass losses=[{losses!r}]."
            )
        losses = list(losses)
        if not losses:
            raise ValueError(
                f"losses is empty; pass at least one of {list(LOSS_NAMES)}, or None for all."
            )
        n_representatives = _check_count(n_representatives, "n_representatives", minimum=1)
        _check_sample_size(sample_size)
        _check_max_clusters(max_clusters, "clusters drawn per loss")
        if isinstance(metric, str) and metric == "auto":
            raise ValueError(
                "metric='auto' would compute the silhouette of each loss with its own "
                "distance (Manhattan for 'absolute', Euclidean otherwise), so the rows "
                "would not compare; pass one metric for all, e.g. metric='euclidean'."
            )
        _check_images(images, X, plot)
        if isinstance(estimator, Pipeline):
            prefix = clone(estimator[:-1]) if len(estimator) > 1 else None
            clusterer = estimator[-1]
            features = prefix.fit_transform(X) if prefix is not None else X
        else:
            clusterer, features = estimator, X
        # sparse matrices and DataFrames as they are, as the scorers take them
        features = _as_features(features)

        def fit(loss):
            fitted = clone(clusterer).set_params(loss=loss).fit(features)
            return fitted

        fitted = Parallel(n_jobs=n_jobs)(delayed(fit)(loss) for loss in losses)
        n = features.shape[0]
        # One seed for every loss, so their silhouettes are computed on the same samples.
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        representatives, sizes, metrics, all_labels = [], [], [], {}
        for loss, model in zip(losses, fitted, strict=True):
            _, labels, cluster_sizes, closest, _ = _pick_members(
                model, features, n_representatives, 0
            )
            if all_labels:
                # Same content in the same column: order the clusters to match those of
                # the first loss (maximum overlap of their samples).
                reference = next(iter(all_labels.values()))
                order = _match_clusters(reference, labels, len(cluster_sizes))
                closest = {c: closest[c] for c in order}
            representatives.append(closest)
            sizes.append(cluster_sizes)
            row = {
                "objective": float(model.inertia_),
                # NaN where undefined: one cluster, n clusters, or a silhouette
                # subsample that holds a single cluster.
                "silhouette": _validity_index(
                    silhouette_score,
                    features,
                    labels,
                    metric=metric,
                    sample_size=sample_size if sample_size and sample_size < n else None,
                    random_state=seed,
                ),
                "calinski_harabasz": _validity_index(calinski_harabasz_score, features, labels),
            }
            if y is not None:
                scores = evaluate_labels(y, labels)
                row["adjusted_rand"] = scores["adjusted_rand"]
                row["v_measure"] = scores["v_measure"]
            metrics.append(row)
            all_labels[loss] = labels
        display = cls(
            X if images is None else images,
            list(losses),
            representatives,
            sizes,
            metrics,
            thumbnail_size=thumbnail_size,
            silhouette_metric=metric_name(metric),
        )
        display.labels_ = all_labels
        display.estimators_ = dict(zip(losses, fitted, strict=True))
        if images is None:
            display._images_name = "X"
        return display.plot(max_clusters=max_clusters, figure=figure) if plot else display

    def plot(self, *, max_clusters=None, figure=None):
        """Draw one row per loss with its representatives and metrics.

        A figure made here of more than 60 thumbnails is laid out by fixed
        margins rather than constrained layout, whose cost grows with the
        square of the axes (40 clusters of six losses took 15 s to draw and save).

        Parameters
        ----------
        max_clusters : int, default=None
            Draw at most this many clusters (blocks of columns) per loss: the
            largest clusters of the first loss (ties: the earlier) and, in the
            other rows, the clusters matched to them, block by block; the title says
            so. A figure of many clusters has thumbnails too small to see
            (each takes 1.35 inches). ``None`` draws all.
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one is made when None.

        Returns
        -------
        display : LossComparisonDisplay
            Self, with the matplotlib objects stored as attributes.

        See Also
        --------
        LossComparisonDisplay.from_estimator : Fit and plot.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans.plotting import LossComparisonDisplay
        >>> images = np.zeros((2, 8, 8, 3), np.uint8)
        >>> disp = LossComparisonDisplay(
        ...     images, ["square"], [{0: [0], 1: [1]}], [np.array([1, 1])], [{"objective": 0.0}]
        ... ).plot()
        >>> disp.row_titles_[0].get_text()
        'square: obj 0'
        """
        _check_max_clusters(max_clusters, "clusters drawn per loss")
        representatives = self.representatives
        n_clusters = len(representatives[0]) if representatives else 0
        capped = max_clusters is not None and n_clusters > max_clusters
        if capped:
            # the columns of the first loss's largest clusters; the other rows'
            # columns are matched to the first's, so the same positions in each
            first = representatives[0]
            keep = _largest([self.cluster_sizes[0][c] for c in first], max_clusters)
            representatives = []
            for reps in self.representatives:
                items = list(reps.items())
                representatives.append(dict(items[i] for i in keep if i < len(items)))
        n_rows = len(self.losses)
        # Each cluster in a block of columns of its own, as wide as the longest list:
        # packed, a cluster of fewer images (or none) moved the later clusters left,
        # under clusters of the other rows.
        width = max((len(v) for reps in representatives for v in reps.values()), default=0)
        n_blocks = max((len(reps) for reps in representatives), default=0)
        n_cols = max(1, width * n_blocks)
        size = 1.35
        sized_here = figure is None
        # (fixed margins: 0.4 inch more in the first row for the figure's title)
        row_height = size + 0.45
        figure = _grid_figure(
            figure, (size * n_cols + 0.8, row_height * n_rows + 0.4), n_rows * n_cols
        )
        fixed = sized_here and figure.get_layout_engine() is None
        # One subfigure per loss, so that the long metrics line does not widen a column.
        heights = [row_height + 0.4, *[row_height] * (n_rows - 1)] if fixed else None
        rows = np.atleast_1d(figure.subfigures(n_rows, 1, height_ratios=heights))
        axes = np.empty((n_rows, n_cols), dtype=object)
        self.row_titles_ = []
        for row, loss in enumerate(self.losses):
            axes[row] = rows[row].subplots(1, n_cols, squeeze=False)[0]
            # column -> (cluster, sample index)
            cells = {
                block * width + col: (cluster, index)
                for block, (cluster, indices) in enumerate(representatives[row].items())
                for col, index in enumerate(indices)
            }
            chosen = [index for _, index in cells.values()]
            _thumbnail_row(
                [axes[row, c] for c in cells],
                self.images,
                chosen,
                self.thumbnail_size,
                self._images_name,
            )
            for col, axis in enumerate(axes[row]):
                if col not in cells:
                    axis.axis("off")
                    continue
                cluster = cells[col][0]
                axis.set_xlabel(
                    f"c{_text(cluster)} n={self.cluster_sizes[row][cluster]}", fontsize="x-small"
                )
            text = ", ".join(
                f"{_text(_SHORT.get(name, name))} {value:.3g}"
                for name, value in self.metrics[row].items()
            )
            self.row_titles_.append(
                rows[row].suptitle(f"{_text(loss)}: {text}", x=0.01, ha="left", fontsize="small")
            )
            axes[row, 0].set_ylabel(_text(loss), fontsize="small")
        if capped:
            title = (
                f"Representative per cluster, for each loss: the {max_clusters} largest "
                f"clusters of {_text(self.losses[0])} (of {n_clusters}) and their counterparts"
            )
        else:
            title = "Representative per cluster, for each loss"
        if self.silhouette_metric is not None:
            title += f" (silhouettes: {_text(self.silhouette_metric)} distance)"
        suptitle = figure.suptitle(title, fontsize="medium")
        if sized_here:
            _fit_titles(figure, [suptitle, *self.row_titles_])
        if fixed:
            _place_rows(figure, rows, axes, self.row_titles_, suptitle, first_extra=0.4)
        self.axes_ = axes
        self.figure_ = figure
        return self


def _check_max_clusters(max_clusters, meaning):
    """``max_clusters`` of a display: None or an integer >= 1, ``meaning`` what it counts."""
    if max_clusters is not None and not is_count(max_clusters, 1):
        raise ValueError(
            f"max_clusters must be None or an integer >= 1 (the {meaning}), got {max_clusters!r}."
        )


def _place_rows(figure, rows, axes, row_titles, suptitle, *, first_extra):
    """Place a figure's subfigures of one row of axes each by margins in inches, for
    the figures ``_grid_figure`` makes without a layout engine: the figure's title
    0.1 inch from the top, in the ``first_extra`` inches the first row has above
    the others'; in each row its title, then its axes, then their x labels; its y
    label at the left."""
    width, _ = figure.get_size_inches()
    suptitle.set(y=1 - 0.1 / figure.get_figheight(), verticalalignment="top")
    left, right, col_gap, bottom = 0.4, 0.15, 0.1, 0.3
    n_cols = axes.shape[1]
    axis_w = max((width - left - right - (n_cols - 1) * col_gap) / n_cols, 1e-3)
    for row, subfigure in enumerate(rows):
        height = subfigure.bbox.height / figure.dpi
        extra = first_extra if row == 0 else 0.0
        row_titles[row].set(y=1 - (extra + 0.05) / height, verticalalignment="top")
        top = extra + 0.35
        axis_h = max(height - top - bottom, 1e-3)
        for col, axis in enumerate(axes[row]):
            x0 = left + col * (axis_w + col_gap)
            axis.set_position([x0 / width, bottom / height, axis_w / width, axis_h / height])


_SHORT = {
    "objective": "obj",
    "silhouette": "sil",
    "calinski_harabasz": "CH",
    "adjusted_rand": "ARI",
    "v_measure": "V",
}


class FeatureMapsDisplay:
    """Activations of one image at chosen VGG16 layers, as a grid of channel images.

    Each row is a layer; the columns are the channels of largest mean activation
    in that layer (the most active are the most informative, many channels of a
    ReLU layer being zero on a given image).

    Parameters
    ----------
    feature_maps : dict
        Layer index -> ndarray of shape (n_channels, height, width), as returned
        by :meth:`robustkmeans.VGG16Featurizer.feature_maps`.
    image : path, PIL image or ndarray, default=None
        The input image (uint8 or uint16 if an array), drawn in the first column.
    n_channels : int, default=8
        Channels drawn per layer, at least 1; capped at the largest number of
        channels of the layers drawn.

    Attributes
    ----------
    channels_ : dict
        Layer index -> indices of the drawn channels.
    axes_ : ndarray of matplotlib Axes
        Grid of axes, one row per layer.
    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    robustkmeans.VGG16Featurizer.feature_maps : Computes the activations.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans.plotting import FeatureMapsDisplay
    >>> maps = {1: np.random.RandomState(0).rand(64, 16, 16)}
    >>> disp = FeatureMapsDisplay(maps, n_channels=4).plot()
    >>> disp.axes_.shape
    (1, 4)
    """

    def __init__(self, feature_maps, *, image=None, n_channels=8):
        self.feature_maps = feature_maps
        self.image = image
        self.n_channels = n_channels

    @classmethod
    def from_estimator(cls, featurizer, image, *, layers=None, n_channels=8, figure=None):
        """Compute the feature maps of one image and plot them.

        Parameters
        ----------
        featurizer : VGG16Featurizer
            Featurizer providing ``feature_maps(image, layers=...)``. If it is
            not fitted, a clone of it is fitted (which reads no image) and used.
        image : path, PIL image or ndarray
            The image.
        layers : sequence of int or str, default=None
            Indices in VGG16's ``features`` or layer names (``"relu1_2"``, see
            :data:`~robustkmeans._vgg16.LAYER_NAMES`), as
            :meth:`~robustkmeans.VGG16Featurizer.feature_maps` takes them; ``None``
            uses the featurizer's default layers.
        n_channels : int, default=8
            Channels drawn per layer.
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one is made when None.

        Returns
        -------
        display : FeatureMapsDisplay
            The drawn display.

        See Also
        --------
        FeatureMapsDisplay.plot : Draw precomputed maps.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans import VGG16Featurizer
        >>> from robustkmeans.plotting import FeatureMapsDisplay
        >>> image = np.full((32, 32, 3), 128, np.uint8)
        >>> featurizer = VGG16Featurizer(weights=None, image_size=32)
        >>> disp = FeatureMapsDisplay.from_estimator(featurizer, image, layers=[1, 3], n_channels=2)
        >>> disp.axes_.shape
        (2, 3)
        """
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(featurizer)
        except NotFittedError:
            featurizer = clone(featurizer).fit()
        kwargs = {} if layers is None else {"layers": layers}
        maps = featurizer.feature_maps(image, **kwargs)
        return cls(maps, image=image, n_channels=n_channels).plot(figure=figure)

    def plot(self, *, figure=None):
        """Draw the grid of channel images.

        Parameters
        ----------
        figure : matplotlib Figure, default=None
            Figure to draw in; a new one is made when None.

        Returns
        -------
        display : FeatureMapsDisplay
            Self, with the matplotlib objects stored as attributes.

        See Also
        --------
        FeatureMapsDisplay.from_estimator : Compute and plot.

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans.plotting import FeatureMapsDisplay
        >>> maps = {1: np.arange(12.0).reshape(3, 2, 2)}
        >>> FeatureMapsDisplay(maps, n_channels=2).plot().channels_
        {1: [2, 1]}
        """
        layers = list(self.feature_maps)
        if not layers:
            # (matplotlib's "Number of rows must be a positive integer, not 0")
            raise ValueError(
                "feature_maps is empty: pass {layer: array of shape (channels, height, "
                "width)}, as VGG16Featurizer.feature_maps returns, for at least one layer."
            )
        n_channels = self.n_channels
        if not is_count(n_channels, 1):
            raise ValueError(
                f"n_channels must be a positive integer (channels per layer), got "
                f"{self.n_channels!r}."
            )
        # No more columns than the layers have channels (blank columns otherwise)
        n_channels = min(
            int(n_channels), max((np.shape(self.feature_maps[k])[0] for k in layers), default=1)
        )
        offset = 0 if self.image is None else 1
        n_cols = n_channels + offset
        figure = _grid_figure(figure, (1.3 * n_cols + 0.6, 1.4 * len(layers) + 0.5))
        axes = figure.subplots(len(layers), n_cols, squeeze=False)
        self.channels_ = {}
        for row, layer in enumerate(layers):
            maps = np.asarray(self.feature_maps[layer], dtype=float)
            if maps.ndim != 3:
                raise ValueError(
                    f"feature_maps[{layer!r}] must have shape (channels, height, width), "
                    f"got {maps.shape}."
                )
            order = np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[:n_channels]
            self.channels_[layer] = order.tolist()
            for axis in axes[row]:
                axis.set_xticks([])
                axis.set_yticks([])
            if offset:
                axes[row, 0].imshow(_thumbnail(self.image, 128))
                axes[row, 0].set_ylabel(
                    f"layer {_text(layer)}\n{maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]}",
                    fontsize="small",
                )
            for col, channel in enumerate(order):
                axis = axes[row, col + offset]
                axis.imshow(maps[channel], cmap="viridis")
                axis.set_title(f"ch {channel}", fontsize="x-small")
                if col + offset == 0:
                    axis.set_ylabel(f"layer {_text(layer)}", fontsize="small")
            for col in range(len(order) + offset, n_cols):
                axes[row, col].axis("off")
        figure.suptitle("Most active channels per layer", fontsize="medium")
        self.axes_ = axes
        self.figure_ = figure
        return self
