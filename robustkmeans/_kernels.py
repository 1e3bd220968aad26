"""Chunked passes over the data: per-chunk statistics plus a reduction.

Every pass splits the samples into chunks (``_row_slices``: ``CHUNK_SIZE`` rows, more
for narrow data), computes per-chunk statistics (labels, costs, per-cluster weighted
sums), and reduces them by summing or concatenating. Chunks are processed by a small
thread pool (numpy and BLAS release the GIL) with BLAS itself limited to one thread,
as scikit-learn's KMeans does with OpenMP. Peak extra memory is
O(n_samples * n_clusters + chunk * max(n_features, n_clusters)); no
``(n_samples, n_clusters, n_features)`` array is ever formed. The same per-chunk
functions can run on Dask blocks or GPU tensors, since only their reductions are
shared state.

Prior validation is assumed: ``X`` is a C-contiguous float array or a CSR matrix,
``sample_weight`` has ``X``'s dtype, ``centers`` is ``(n_clusters, n_features)``.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext

import numpy as np
import scipy.sparse as sp
import threadpoolctl
from threadpoolctl import ThreadpoolController

#: rows per chunk: large enough to amortise Python overhead, small enough that a
#: chunk of 512 float32 features (2 MiB) stays in the L2/L3 cache between its passes
CHUNK_SIZE = 1024
#: narrower data takes longer chunks, of this many values (rows x the larger of
#: features and clusters, as 1024 rows of 512 features), up to MAX_CHUNK_ROWS rows:
#: a chunk costs a few dozen numpy calls whatever its length, and 20 chunks of
#: 1024 x 32 spent more in them than in the arithmetic (fits of 20,000 x 32 about
#: twice as fast in chunks of 10,000 rows; at 512 features longer chunks were slower)
CHUNK_ELEMENTS = CHUNK_SIZE * 512
MAX_CHUNK_ROWS = 16384

_lock = threading.Lock()
_state = {}


def _controller():
    # inspecting the loaded BLAS libraries costs ~0.3 ms: do it once
    with _lock:
        if "controller" not in _state:
            _state["controller"] = ThreadpoolController()
        return _state["controller"]


_blas = {"depth": 0, "limiter": None}
_blas_lock = threading.Lock()


@contextmanager
def single_threaded_blas():
    """BLAS limited to one thread inside (re-entrant, and shared between threads).

    A fit enters it once, so that its many passes do not each pay for changing the
    BLAS thread count (tens of microseconds, which matters on small data). The limit
    is process-wide, so it is counted process-wide: the first entry sets it, the last
    exit restores the original (fits running in several threads at once leave BLAS
    as they found it)."""
    pid = os.getpid()
    with _blas_lock:
        if _blas["depth"] == 0:
            _blas["limiter"] = _as_blas_controller(
                lambda: _controller().limit(limits=1, user_api="blas")
            )
        _blas["depth"] += 1
    try:
        yield
    finally:
        # (not in a child forked inside: its count started afresh, _after_fork)
        if os.getpid() == pid:
            with _blas_lock:
                _blas["depth"] -= 1
                if _blas["depth"] == 0:
                    _as_blas_controller(_blas["limiter"].restore_original_limits)
                    _blas["limiter"] = None


def _as_blas_controller(change):
    """``change()`` (setting or restoring the BLAS limit) from this thread, whichever
    thread threadpoolctl lets change OpenBLAS's thread count; that thread is left as
    it was.

    threadpoolctl 3.8 lets one thread at a time change a pthreads OpenBLAS's thread
    count (the first to change it, until it gives that up, as ``with
    threadpool_limits`` does on exit) and silently ignores the others. The limit of
    ``single_threaded_blas`` is set by the first fit to enter and restored by the last
    to leave, often in different threads, and never given up by a ``with``: the
    restore was ignored (BLAS stayed single-threaded for good), and so was every
    limit from another thread once a fit had run in the main thread."""
    shared = getattr(getattr(threadpoolctl, "OpenBLASController", None), "_SHARED_STATE", None)
    if shared is None or not hasattr(shared, "controlling_thread"):
        return change()  # threadpoolctl < 3.8: any thread may
    me = threading.current_thread()
    with shared.lock:
        holder, shared.controlling_thread = shared.controlling_thread, me
    try:
        return change()
    finally:
        with shared.lock:
            if shared.controlling_thread is me:
                alive = holder is not None and holder.is_alive()
                shared.controlling_thread = holder if alive else None


def _after_fork():
    """In a forked child, which has only the thread that forked: fresh locks (another
    thread of the parent may have held one, never to release it there) and no BLAS
    limit (the fits that entered it in the parent do not run here, and would never
    leave it)."""
    global _lock, _blas_lock
    _lock, _blas_lock = threading.Lock(), threading.Lock()
    limiter = _blas["limiter"]
    _blas["depth"], _blas["limiter"] = 0, None
    if limiter is not None:
        _as_blas_controller(limiter.restore_original_limits)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _executor(n_threads):
    # keyed by process id too: a forked child (multiprocessing, joblib's
    # "multiprocessing" backend) inherits the pool object but not its threads
    key = ("pool", n_threads, os.getpid())
    with _lock:
        pool = _state.get(key)
        if pool is None:
            pool = _state[key] = ThreadPoolExecutor(
                max_workers=n_threads, thread_name_prefix="robustkmeans"
            )
        return pool


def _slices(n, size=None):
    size = size or CHUNK_SIZE
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def _row_slices(n_samples, n_features, n_clusters=1):
    """The chunks of a pass over ``n_samples`` rows: ``CHUNK_SIZE`` rows, more for
    narrow data (``CHUNK_ELEMENTS`` values, at most ``MAX_CHUNK_ROWS`` rows), but at
    least two chunks beyond ``CHUNK_SIZE`` rows (work for two threads), all of
    nearly the same length. They depend on the shape only, not on the threads, so
    neither do the results."""
    if n_samples == 0:
        return []
    rows = CHUNK_ELEMENTS // max(n_features, n_clusters, 1)
    rows = max(CHUNK_SIZE, min(rows, MAX_CHUNK_ROWS, -(-n_samples // 2)))
    n_chunks = -(-n_samples // rows)
    return [
        slice(n_samples * i // n_chunks, n_samples * (i + 1) // n_chunks) for i in range(n_chunks)
    ]


def _map(fn, items, n_threads, sizes=None):
    """``[fn(item) for item in items]``; with ``n_threads > 1`` the items are split
    into ``n_threads`` contiguous runs, each processed by one worker thread, with
    BLAS limited to one thread (the parallelism is over chunks, as in scikit-learn).

    Items of unequal ``sizes`` (clusters) are instead handed out largest first, each
    to the next free worker, so that one large item does not leave a thread idle.
    """
    if threading.current_thread().name.startswith("robustkmeans"):
        return [fn(item) for item in items]  # already inside a worker
    if n_threads <= 1 or len(items) <= 1:
        # small calls: a multi-threaded BLAS costs more in waking threads than it saves
        with single_threaded_blas():
            return [fn(item) for item in items]
    n_runs = min(n_threads, len(items))
    if sizes is not None:
        order = np.argsort(sizes, kind="stable")[::-1]
        with single_threaded_blas():
            futures = {i: _executor(n_runs).submit(fn, items[i]) for i in order}
            return [futures[i].result() for i in range(len(items))]
    bounds = np.linspace(0, len(items), n_runs + 1).astype(int)

    def run(i):
        return [fn(item) for item in items[bounds[i] : bounds[i + 1]]]

    with single_threaded_blas():
        runs = list(_executor(n_runs).map(run, range(n_runs)))
    return [result for part in runs for result in part]


def dense_rows(X, idx):
    """``X[idx]`` as a dense array, for dense or CSR ``X`` (``idx`` an index array,
    so the result is a new array either way)."""
    rows = X[idx]
    return rows.toarray() if sp.issparse(rows) else np.asarray(rows)


def column_extremes(X, n_threads):
    """Per-feature minimum and maximum of a dense ``X``, chunk by chunk."""
    parts = _map(
        lambda sl: (X[sl].min(axis=0), X[sl].max(axis=0)), _row_slices(*X.shape), n_threads
    )
    return np.min([p[0] for p in parts], axis=0), np.max([p[1] for p in parts], axis=0)


def row_sq_norms(X):
    """Squared Euclidean norm of each row (dense or CSR)."""
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel().astype(X.dtype)
    return np.einsum("ij,ij->i", X, X)


#: at most this many centers, products with a dense chunk are taken one matrix-vector
#: product per center: OpenBLAS packs the chunk for a matrix product, which costs
#: more than the product itself for so few centers (2x slower at 150 or 1024 x 512,
#: 1-3 centers; measured, both dtypes)
_GEMV_MAX = 3


def _few(Xc, n):
    return n <= _GEMV_MAX and Xc.shape[1] >= 32 and not sp.issparse(Xc)


def _dot_centers(Xc, centers):
    """``Xc @ centers.T`` as a dense array, for dense or CSR ``Xc``."""
    if _few(Xc, centers.shape[0]) and centers.dtype == Xc.dtype:
        out = np.empty((centers.shape[0], Xc.shape[0]), dtype=Xc.dtype)
        for j in range(centers.shape[0]):
            np.dot(Xc, centers[j], out=out[j])
        return out.T
    out = Xc @ centers.T
    return np.asarray(out)


def _sq_dist_chunk(Xc, xsq_c, centers, csq=None):
    """Squared Euclidean distances ``(len(Xc), n_centers)`` from the expansion
    ``||x||^2 - 2 x.m + ||m||^2``, clipped at zero; norms computed when None."""
    if xsq_c is None:
        xsq_c = row_sq_norms(Xc)
    if csq is None:
        csq = np.einsum("ij,ij->i", centers, centers)
    d2 = _dot_centers(Xc, centers)
    d2 *= -2
    d2 += xsq_c[:, None]
    d2 += csq[None, :]
    _clip_negative(d2)
    return d2


def _clip_negative(a):
    """``np.maximum(a, 0, out=a)``, bit for bit where ``a`` holds no -0.0 (expanded
    squared distances: sums with ``||x||^2 >= +0`` and ``||m||^2 >= +0`` are never
    -0.0), NaN kept: 2.5-3x faster (numpy's maximum takes a slow loop)."""
    np.copyto(a, 0, where=a < 0)


def _own(d2, labels):
    """``d2[np.arange(len(d2)), labels]``: a gather from the flat array where ``d2``
    is C-contiguous (1.5x faster than the two-index one)."""
    if d2.flags.c_contiguous:
        n, k = d2.shape
        return np.take(d2.reshape(-1), np.arange(0, n * k, k) + labels)
    return d2[np.arange(d2.shape[0]), labels]


def _expansion_rtol(dtype):
    """Squared distances below this fraction of ``||x||^2 + ||m||^2`` are not resolved
    by the expansion ``||x||^2 - 2 x.m + ||m||^2`` (its rounding error is a few ``eps``
    of that sum): ``eps^(1/3)``, so that above it the error is at most a few
    ``eps^(2/3)`` relative (2.4e-5 in float32, 3.7e-11 in float64)."""
    return float(np.finfo(dtype).eps) ** (1 / 3)


def _all_resolved(d2, xsq_c, csq):
    """Whether every expanded squared distance of ``d2`` (any shape) is resolved,
    ``>= rtol * (||x||^2 + ||m||^2)`` for the largest norms of the chunk: a screen of
    two reductions, so that chunks with no sample to recompute cost no more."""
    rtol = _expansion_rtol(d2.dtype)
    return d2.size == 0 or d2.min() >= rtol * (xsq_c.max() + csq.max())


#: elements densified at a time for exact distances (sparse rows; bounded memory)
_EXACT_BATCH = 1 << 20
#: at most this many differences (rows x centers x features), dense exact distances
#: to every center are taken in one array
_EXACT_FEW = 1 << 16


def exact_sq_distances(X, rows, centers, which=None):
    """Exact ``||x_r - m||^2`` for the rows ``rows`` of ``X`` (dense or CSR; None: all
    of them), from the differences: to every row of ``centers``,
    ``(n_rows, n_centers)``, or, with ``which``, to ``centers[which[r]]`` only,
    ``(n_rows,)``. Rows are densified in batches of at most ``_EXACT_BATCH``
    elements; rows of a wide sparse ``X`` only over the columns they use
    (``_sparse_exact_batch``)."""
    dtype = np.result_type(X.dtype, centers.dtype)
    n_rows = X.shape[0] if rows is None else rows.size
    shape = (n_rows,) if which is not None else (n_rows, centers.shape[0])
    out = np.empty(shape, dtype=dtype)
    if sp.issparse(X) and X.shape[1] > _SPARSE_EXACT_MIN_FEATURES:
        Xs = X if rows is None else X[rows]
        Xs = Xs.tocsr()
        # rows per batch: the columns a batch uses are at most its nonzeros
        most = int(np.diff(Xs.indptr).max(initial=0))
        step = max(_EXACT_BATCH // X.shape[1], math.isqrt(_EXACT_BATCH // max(most, 1)), 1)
        squares = np.square(centers, dtype=np.result_type(centers.dtype, np.float32))
        for start in range(0, n_rows, step):
            part = slice(start, min(start + step, n_rows))
            out[part] = _sparse_exact_batch(
                Xs[part], centers, squares, None if which is None else which[part], dtype
            )
        return out
    step = max(1, _EXACT_BATCH // max(X.shape[1], 1))
    for start in range(0, n_rows, step):
        part = slice(start, min(start + step, n_rows))
        if rows is None:
            Xr = X[part].toarray() if sp.issparse(X) else X[part]
        else:
            Xr = dense_rows(X, rows[part])
        if which is not None:
            R = Xr - centers[which[part]]
            out[part] = np.einsum("ij,ij->i", R, R)
            continue
        if Xr.shape[1] <= 4:
            # few features: feature by feature over (rows, centers), 6x faster
            acc = np.zeros((Xr.shape[0], centers.shape[0]), dtype=dtype)
            diff = np.empty_like(acc)
            for f in range(Xr.shape[1]):
                np.subtract(Xr[:, f, None], centers[None, :, f], out=diff)
                acc += diff * diff
            out[part] = acc
            continue
        if Xr.shape[0] * centers.shape[0] * Xr.shape[1] <= _EXACT_FEW:
            # few rows (near ties, unresolved rows of a chunk): every difference at
            # once, the same sums of squares per (row, center) as the loop below
            # (the same reduction over the contiguous features) in two numpy calls
            # instead of two per center
            R = (Xr[:, None, :] - centers[None, :, :]).reshape(-1, Xr.shape[1])
            out[part] = np.einsum("ij,ij->i", R, R).reshape(Xr.shape[0], -1)
            continue
        for j, center in enumerate(centers):
            R = Xr - center
            out[part, j] = np.einsum("ij,ij->i", R, R)
    return out


#: sparse data at least this wide gets exact distances over the columns it uses only
_SPARSE_EXACT_MIN_FEATURES = 256


def _sparse_exact_batch(Xb, centers, squares, which, dtype):
    """``exact_sq_distances`` for a batch of CSR rows ``Xb``: the rows densified over
    the columns they use, and, per center, the sum of its ``squares`` over the
    others (summed directly, as a product with the indicator of those columns:
    subtracting the used columns' part from the center's norm would cancel for a
    center that lives on them)."""
    cols = np.unique(Xb.indices)
    # the rows over their columns (a CSR matrix on the renumbered columns sums any
    # duplicate entries, as toarray does)
    sub = sp.csr_matrix(
        (Xb.data, np.searchsorted(cols, Xb.indices), Xb.indptr), shape=(Xb.shape[0], cols.size)
    ).toarray()
    other = np.ones(centers.shape[1], dtype=squares.dtype)
    other[cols] = 0
    outside = squares @ other
    if which is not None:
        R = sub - centers[:, cols][which]
        return (np.einsum("ij,ij->i", R, R) + outside[which]).astype(dtype, copy=False)
    out = np.empty((Xb.shape[0], centers.shape[0]), dtype=dtype)
    for j in range(centers.shape[0]):
        R = sub - centers[j, cols]
        out[:, j] = np.einsum("ij,ij->i", R, R) + outside[j]
    return out


def exact_own(Xc, xsq_c, centers, csq, labels, own):
    """Replace, in place, the expanded squared distances ``own`` of the samples to
    their own centers by the exact ``||x - m||^2`` where the expansion cannot resolve
    them: tight clusters far from the origin of the expansion (the data's mean in
    ``fit``). There, the expanded costs would be rounding noise, and so would the
    objective and the majorise-minimise weights. A per-chunk screen first
    (``_all_resolved``)."""
    if _all_resolved(own, xsq_c, csq):
        return
    risky = _risky_rows(own, xsq_c, csq, labels)
    if risky.size:
        own[risky] = exact_sq_distances(Xc, risky, centers, labels[risky])


def _risky_rows(own, xsq_c, csq, labels):
    """The rows whose own squared distance ``own`` the expansion cannot resolve
    (strictly below the bound: a zero distance whose norms are zero, an empty sparse
    row on a zero center, is exact already)."""
    rtol = _expansion_rtol(own.dtype)
    return np.flatnonzero(own < rtol * (xsq_c + csq[labels]))


def _exact_where_unresolved(Xc, rows, xsq, centers, csq, d2):
    """Replace, in place, the entries of ``d2`` (the expanded squared distances of
    the rows ``rows`` of ``Xc``, all of them for None, whose squared norms are
    ``xsq``, to every center) that the expansion cannot resolve by the exact
    ``||x - m||^2``: one gather of the (row, center) pairs, not a row against
    every center."""
    rtol = _expansion_rtol(d2.dtype)
    r, j = np.nonzero(d2 < rtol * (xsq[:, None] + csq[None, :]))
    if r.size:
        d2[r, j] = exact_sq_distances(Xc, r if rows is None else rows[r], centers, which=j)


def _rescue_unresolved(Xc, xsq_c, centers, csq, own, labels, expanded):
    """Re-rank, in place (``own``, ``labels``), the samples whose own squared
    distance ``own`` is unresolved, by their distances to every center with the
    unresolved ones among them exact: ``expanded(rows)`` gives those rows' expanded
    squared distances (clipped at zero, ``own``'s formula), and each entry below
    the resolution bound (``_all_resolved``) is replaced by the exact
    ``||x - m||^2``, the own one always. A resolved entry is as accurate as every
    distance of the other rows, and can only be chosen where it was the least one
    already. Returns those rows and their distances ``(rows, d2)``, or None where
    every own distance is resolved.

    Entry by entry, not row by row: the exact distances of a row to every center
    cost a Python loop over the centers, and with tight float32 clusters, many
    clusters, or samples at their centers (duplicates, singletons, seeds) most rows
    of every pass are risky, while only their own center and the few near it are
    unresolved (a fit of 50,000 x 32 float32 blobs, k = 50, took 16x KMeans)."""
    if _all_resolved(own, xsq_c, csq):
        return None
    risky = _risky_rows(own, xsq_c, csq, labels)
    if risky.size == 0:
        return None
    d2 = expanded(risky)
    _exact_where_unresolved(Xc, risky, xsq_c[risky], centers, csq, d2)
    labels[risky] = np.argmin(d2, axis=1)
    own[risky] = d2[np.arange(risky.size), labels[risky]]
    return risky, d2


def exact_rank(Xc, xsq_c, centers, csq, d2, labels):
    """As ``exact_own`` for a chunk's expanded distances ``d2`` to every center, and
    re-ranking the samples whose own distance is unresolved (in place: ``d2``
    rows, ``labels``), with their unresolved distances exact (``_rescue_unresolved``).
    There, two centers in the same tight cluster far from the origin would be
    chosen between by rounding noise, and the objective could rise from one Lloyd
    pass to the next. Returns the own squared distances."""
    own = _own(d2, labels)
    fixed = _rescue_unresolved(Xc, xsq_c, centers, csq, own, labels, lambda rows: d2[rows])
    if fixed is not None:
        d2[fixed[0]] = fixed[1]
    return own


def exact_rank_partial(Xc, xsq_c, centers, csq, partial, labels):
    """``exact_rank`` for a chunk ranked by ``partial = ||m||^2 - 2 x.m`` (the
    squared distances less ``||x||^2``, as scikit-learn's KMeans ranks): returns
    the own squared distances (``||x||^2`` added, clipped at zero) and the rows
    re-ranked, with their squared distances to every center (``(rows, d2)``, None
    where every own distance is resolved), for lookups of their distances to other
    centers. ``partial`` is left as it is."""
    own = partial[np.arange(partial.shape[0]), labels]
    own += xsq_c
    np.maximum(own, 0, out=own)

    def expanded(rows):
        d2 = partial[rows] + xsq_c[rows, None]
        return np.maximum(d2, 0, out=d2)

    return own, _rescue_unresolved(Xc, xsq_c, centers, csq, own, labels, expanded)


def exact_entries(Xc, xsq_c, centers, csq, d2):
    """As ``exact_rank`` for every entry of a chunk's distance matrix ``d2`` (in
    place): the entries the expansion cannot resolve are recomputed from the
    differences (``transform``'s costs, Hartigan's screen)."""
    if not _all_resolved(d2, xsq_c, csq):
        _exact_where_unresolved(Xc, None, xsq_c, centers, csq, d2)


#: expanded squared distances closer than this many ``eps`` of ``||x||^2 + ||m||^2``
#: to the least one are re-ranked by exact distances (the expansion's rounding error
#: is a few ``eps`` of that sum: 1.75 at 2 features, 7.5 at 4096, measured)
_TIE_EPS = 64


def resolve_near_ties(Xc, xsq_c, centers, csq, d2, labels):
    """Re-rank, in place, the samples whose least expanded distance is within
    rounding of another one, by exact distances ``||x - m||^2`` (ties then to the
    lower index, ``argmin``'s rule): exact ties (a sample halfway between two centers)
    and near-duplicate centers would otherwise be decided by the expansion's rounding.
    Their rows of ``d2`` become exact."""
    n, n_centers = d2.shape
    if n == 0 or n_centers < 2:
        return
    own = np.arange(0, n * n_centers, n_centers) + labels  # (flat positions)
    best = d2.reshape(-1)[own] if d2.flags.c_contiguous else d2[np.arange(n), labels]
    tol = _TIE_EPS * float(np.finfo(d2.dtype).eps)
    # screen with the largest ||m||^2, then per pair of centers: the rounding of the
    # two distances compared is of ||x||^2 plus the larger of their ||m||^2
    near = np.empty((n, n_centers), dtype=bool)
    np.less_equal(d2, (best + tol * (xsq_c + csq.max()))[:, None], out=near)
    # the rows with a near entry besides their own (which is near but where it is
    # NaN, and then so is the bound: no entry is): the same rows as those with more
    # than one near entry, from one scan of the chunk for the few near ones, where
    # counts per row (a reduction along rows of a few entries) took 10x longer
    near.reshape(-1)[own] = False
    rows = np.unique(np.flatnonzero(near) // n_centers)
    if rows.size == 0:
        return
    scale = xsq_c[rows, None] + np.maximum(csq[labels[rows]][:, None], csq[None, :])
    near = d2[rows] <= best[rows, None] + tol * scale
    rows = rows[np.count_nonzero(near, axis=1) > 1]
    if rows.size == 0:
        return
    d2[rows] = exact_sq_distances(Xc, rows, centers)
    labels[rows] = np.argmin(d2[rows], axis=1)


def _cluster_sums(Xc, labels, coef, n_clusters, labels_old=None):
    """``S[c] = sum_{i: labels_i = c} coef_i x_i`` for one chunk, as a product with an
    indicator matrix; with ``labels_old``, minus the same sums over ``labels_old``
    (the change of the sums when the chunk's samples move).

    A chunk longer than ``CHUNK_SIZE`` rows (narrow data) is summed ``CHUNK_SIZE``
    rows at a time, the parts added in float64: a product accumulates in the data's
    dtype, and a float32 sum over 16,384 rows carries several times the rounding of
    one over 1024 (2-4 times, measured, with OpenBLAS's kernels; the centers of
    narrow float32 data drifted from KMeans's)."""
    if Xc.shape[0] > CHUNK_SIZE:
        out = np.zeros((n_clusters, Xc.shape[1]))
        for sl in _slices(Xc.shape[0]):
            old = None if labels_old is None else labels_old[sl]
            out += _cluster_sums(Xc[sl], labels[sl], coef[sl], n_clusters, old)
        return out
    # sparse rows in float64: they are not centered, so a float32 product of data far
    # from the origin rounded the sums by more than the data's spacing (a
    # correntropy center of one sample at 1e8 moved off it, its cost 0 to 1)
    dtype = np.float64 if sp.issparse(Xc) else coef.dtype
    indicator = np.zeros((n_clusters, labels.shape[0]), dtype=dtype)
    cols = np.arange(labels.shape[0])
    indicator[labels, cols] = coef
    if labels_old is not None:
        indicator[labels_old, cols] = -coef
    if sp.issparse(Xc):
        return np.asarray((Xc.T @ indicator.T).T)
    if _few(Xc, n_clusters) and indicator.dtype == Xc.dtype:
        out = np.empty((n_clusters, Xc.shape[1]), dtype=Xc.dtype)
        for c in range(n_clusters):
            np.dot(indicator[c], Xc, out=out[c])
        return out
    return indicator @ Xc


def cluster_sums(X, coef, labels, n_clusters, n_threads, rows=None, labels_old=None, dtype=None):
    """``sum_i coef_i x_i`` per cluster (float64), over all samples or ``rows``.

    With ``labels_old``, the change of those sums when ``rows`` move from
    ``labels_old`` to ``labels``: one product with a +coef/-coef indicator matrix.
    ``dtype``: the precision of the products (``X``'s by default; float64 makes the
    sums of float32 data exact to float64's rounding, at a copy of each chunk).
    """
    if rows is None:
        items = _row_slices(X.shape[0], X.shape[1], n_clusters)
    else:
        items = [rows[sl] for sl in _row_slices(rows.size, X.shape[1], n_clusters)]

    def chunk(sel):
        old = None if labels_old is None else labels_old[sel]
        Xc = X[sel] if dtype is None else X[sel].astype(dtype)
        return _cluster_sums(Xc, labels[sel], coef[sel].astype(Xc.dtype), n_clusters, old)

    out = np.zeros((n_clusters, X.shape[1]))
    for part in _map(chunk, items, n_threads):
        out += part
    return out


def refuse_overflow(dtype):
    """The error of ``predict``, ``transform`` and ``score`` (``check=True``) for new
    data whose squared distances or costs overflow ``dtype``, where ``fit`` would
    have refused the data (``_check_squares_fit``, ``_check_costs_fit``) rather than
    rank it by inf and NaN."""
    name = np.dtype(dtype).name
    hint = ", or convert it to float64" if name == "float32" else ""
    return ValueError(
        f"X is too large for the fitted model in {name}: the squared distances or "
        f"costs of some of its samples to the centers overflow, beyond the "
        f"largest {name} number ({float(np.finfo(dtype).max):.3g}). Rescale X as the "
        f"training data was (for example with the same StandardScaler){hint}."
    )


def _quiet(check):
    """Inside a chunk (worker threads have their own floating-point state): with
    ``check``, no overflow warnings, since ``_refuse_overflowed`` refuses what
    overflowed after; without, numpy's warnings as they are (``fit``'s data is
    range-checked beforehand)."""
    return np.errstate(over="ignore", invalid="ignore") if check else nullcontext()


def _refuse_overflowed(values, check, dtype):
    """With ``check`` (``predict``, ``transform``, ``score``), raise
    ``refuse_overflow``'s ValueError if any of ``values`` is not finite."""
    if check and not np.isfinite(values).all():
        raise refuse_overflow(dtype)


def _chunk_rows(X, x_sq, sl, shift):
    """Rows ``sl`` of ``X`` and their squared norms; with ``shift`` (dense ``X``), the
    rows minus ``shift`` and their norms, computed here (``x_sq`` is then unused)."""
    if shift is None:
        return X[sl], x_sq[sl]
    Xc = X[sl] - shift
    return Xc, row_sq_norms(Xc)


def _shifted(centers, shift):
    return centers if shift is None else (centers - shift).astype(centers.dtype, copy=False)


def euclidean_pass(
    X,
    sample_weight,
    x_sq,
    centers,
    loss,
    n_threads,
    stats=True,
    shift=None,
    ties=False,
    labels_old=None,
    check=False,
):
    """Assign each sample to the nearest center (Euclidean) and gather MM statistics.

    The samples whose distance to their center the expansion cannot resolve are
    ranked by exact distances (``exact_rank``); with ``ties``, so are the samples
    within rounding of two centers (``resolve_near_ties``: the final assignment and
    ``predict``, not every Lloyd pass). With ``shift``, ``X`` and ``centers`` are
    given unshifted and both expansions and exact differences are of ``X - shift``
    and ``centers - shift``: the values ``fit`` computes on ``X`` centered on
    ``shift``, its mean, so that both rank every sample alike.

    ``stats="sums"`` (the square loss's update) gathers ``sum_i w_i x_i`` per
    cluster instead of the MM statistics, from each chunk while it is in cache;
    with ``labels_old``, only the change of those sums, from the chunk's samples
    whose label changed (``coef_sums`` is then None). For a loss whose step needs
    a check (``needs_line_search``), ``labels_old`` (the previous pass's labels)
    adds a third row to ``coef_sums``: each cluster's weighted cost at these
    centers with its members under ``labels_old``, which checks the previous
    update's step without a pass of its own. ``check`` (new data, which no range
    check has bounded): a sample whose squared distance to its nearest center
    overflows raises ``refuse_overflow``'s ValueError (distances to farther centers
    may overflow: they are not chosen).

    Returns
    -------
    labels : ndarray of int32, shape (n_samples,)
    costs : ndarray, shape (n_samples,)
        Loss cost of each sample to its assigned center.
    sums : ndarray, shape (n_clusters, n_features) or None
        ``sum_i a_i x_i`` per cluster, ``a_i = w_i * loss.mm_weight(d2_i)``.
    coef_sums : ndarray, shape (n_clusters,) or (2, n_clusters), or None
        ``sum_i a_i`` per cluster; for losses that need a safeguarded step, a second
        row with ``sum_i w_i * loss.mm_rest(d2_i)``.
    weight_sums : ndarray, shape (n_clusters,)
        ``sum_i w_i`` per cluster.
    """
    n_clusters = centers.shape[0]
    shifted = _shifted(centers, shift)
    csq = np.einsum("ij,ij->i", shifted, shifted)
    twice = -2 * shifted  # (exact)

    def chunk(sl):
        with _quiet(check):
            Xc, xsq_c = _chunk_rows(X, x_sq, sl, shift)
            rows = np.arange(Xc.shape[0])
            if ties:
                d2 = _sq_dist_chunk(Xc, xsq_c, shifted, csq)
                labels = np.argmin(d2, axis=1).astype(np.int32)
                exact_rank(Xc, xsq_c, shifted, csq, d2, labels)
                resolve_near_ties(Xc, xsq_c, shifted, csq, d2, labels)
                own = _own(d2, labels)
            else:
                # ranked as scikit-learn's KMeans ranks: by ||m||^2 - 2 x.m, the
                # squared distances less ||x||^2, from one product with -2 m and one
                # addition over the chunk (the full distances took three more);
                # ||x||^2 is added to the distances used only (the own ones; rows
                # whose own one is unresolved are ranked by exact distances, as
                # ``exact_rank`` says)
                d2 = _dot_centers(Xc, twice)
                d2 += csq[None, :]
                labels = np.argmin(d2, axis=1).astype(np.int32)
                own, fixed = exact_rank_partial(Xc, xsq_c, shifted, csq, d2, labels)
        # (the squared distances, not the costs: correntropy's are bounded, 1 where
        # the distance overflowed)
        _refuse_overflowed(own, check, X.dtype)
        if stats is True:
            costs, weight = loss.pass_terms(own)
        else:
            costs = loss.cost_from_sq_distances(own)
        w = sample_weight[sl]
        wsum = np.bincount(labels, weights=w, minlength=n_clusters)
        if not stats:
            return labels, costs, None, None, wsum
        if stats == "sums":
            w = w.astype(X.dtype, copy=False)
            if labels_old is None:
                return labels, costs, _cluster_sums(Xc, labels, w, n_clusters), None, wsum
            old = labels_old[sl]
            moved = np.flatnonzero(labels != old)
            if moved.size == 0:
                return labels, costs, None, None, wsum
            delta = _cluster_sums(Xc[moved], labels[moved], w[moved], n_clusters, old[moved])
            return labels, costs, delta, None, wsum
        coef = (w * weight).astype(X.dtype, copy=False)
        sums = _cluster_sums(Xc, labels, coef, n_clusters)
        csum = np.bincount(labels, weights=coef, minlength=n_clusters)
        if loss.needs_line_search:
            # the chunk's own squared distances and, with labels_old, those to the
            # previous centers: the check's per-cluster terms are taken from them
            # once per pass (below), not chunk by chunk, where their dozen small
            # numpy calls per chunk cost epsilon_insensitive 1-2 ms per pass at
            # 20,000 x 512. A member's distance to its previous center is resolved
            # wherever its own one is (it is larger), and exact where that was
            # recomputed
            prev = None
            if labels_old is not None:
                old = labels_old[sl]
                prev = d2[rows, old]
                if not ties:  # (d2 less ||x||^2: the partial ranking)
                    prev += xsq_c
                    np.maximum(prev, 0, out=prev)
                    if fixed is not None:
                        prev[fixed[0]] = fixed[1][np.arange(fixed[0].size), old[fixed[0]]]
            # (in csum's place: line_search_terms' arguments but labels)
            return labels, costs, sums, (csum, own, prev), wsum
        return labels, costs, sums, csum, wsum

    def line_search_terms(labels, csum, own, prev):
        # the majoriser's pull back towards the current center (see the loss; a
        # sample of zero weight adds nothing, even where its term is infinite), and
        # each cluster's cost at these centers with its members under labels_old
        # (in float64: float32 terms times large weights overflowed float32, with a
        # RuntimeWarning, where float64 holds them; a term that is infinite stays so)
        w = sample_weight.astype(np.float64, copy=False)
        rest = np.where(w > 0, loss.mm_rest(own), 0).astype(np.float64, copy=False) * w
        rest = np.bincount(labels, weights=rest, minlength=n_clusters)
        at_old = np.zeros(n_clusters)
        if prev is not None:
            prev = loss.cost_from_sq_distances(prev).astype(np.float64, copy=False)
            at_old = np.bincount(labels_old, weights=w * prev, minlength=n_clusters)
        return np.stack([csum, rest, at_old])

    parts = _map(chunk, _row_slices(X.shape[0], X.shape[1], n_clusters), n_threads)
    if len(parts) == 1:
        # one chunk (small data): its statistics are the result
        labels, costs, sums, csum, wsum = parts[0]
        if stats == "sums":
            # (float64, as the sums of several chunks are accumulated)
            sums = np.zeros((n_clusters, X.shape[1])) if sums is None else sums.astype(np.float64)
        elif stats and loss.needs_line_search:
            csum = line_search_terms(labels, *csum)
        return labels, costs, sums, csum, wsum
    labels = np.concatenate([p[0] for p in parts])
    costs = np.concatenate([p[1] for p in parts])
    wsum = np.sum([p[4] for p in parts], axis=0)
    if not stats:
        return labels, costs, None, None, wsum
    if stats == "sums":
        sums = np.zeros((n_clusters, X.shape[1]))
        for p in parts:
            if p[2] is not None:
                sums += p[2]
        return labels, costs, sums, None, wsum
    sums = np.sum([p[2] for p in parts], axis=0)
    if loss.needs_line_search:
        csum = np.sum([p[3][0] for p in parts], axis=0)
        own = np.concatenate([p[3][1] for p in parts])
        prev = None if labels_old is None else np.concatenate([p[3][2] for p in parts])
        return labels, costs, sums, line_search_terms(labels, csum, own, prev), wsum
    csum = np.sum([p[3] for p in parts], axis=0)
    return labels, costs, sums, csum, wsum


def own_costs(X, x_sq, labels, centers, loss, n_threads):
    """Cost of each sample to its own center ``centers[labels]`` (Euclidean loss),
    exact where the expansion cannot resolve the distance (``exact_own``). One pass."""
    csq = np.einsum("ij,ij->i", centers, centers)

    def chunk(sl):
        lab = labels[sl]
        G = _dot_centers(X[sl], centers)
        dot = G[np.arange(G.shape[0]), lab]
        d2 = np.maximum(x_sq[sl] - 2 * dot + csq[lab], 0)
        exact_own(X[sl], x_sq[sl], centers, csq, lab, d2)
        return loss.cost_from_sq_distances(d2)

    slices = _row_slices(X.shape[0], X.shape[1], centers.shape[0])
    return np.concatenate(_map(chunk, slices, n_threads))


#: above this magnitude, _least_cost's squared distances could overflow float64
_TIE_SCALE_LIMIT = 2.0**500


def _least_cost(Xc, centers, rank, labels, rows=None):
    """Break exact ties of ``labels = argmin(rank, axis=1)`` (in place): to the smaller
    Euclidean distance, then the lower index. ``rows``: the rows of ``Xc`` that
    ``rank``'s rows are (all by default)."""
    best = rank[np.arange(rank.shape[0]), labels]
    tied = rank == best[:, None]
    multi = np.flatnonzero(tied.sum(axis=1) > 1)
    if multi.size:
        # Euclidean distances from the exact differences (an expansion around the
        # origin would round them away far from it), in float64: exact differences
        # and squares of float32 data, and no overflow of the squares of data that
        # the separable losses take as it is (float32 beyond 1e19)
        rows_ = dense_rows(Xc, multi if rows is None else rows[multi]).astype(np.float64)
        centers64 = centers.astype(np.float64)
        top = max(np.abs(rows_).max(initial=0.0), np.abs(centers64).max(initial=0.0))
        if top > _TIE_SCALE_LIMIT:
            # float64 data beyond 1e150 (absolute never squares it): squares in units
            # of a power of two near it (exact), or every one overflowed to inf and
            # the argmin below took the first center, tied or not. The power of two
            # at most top (top's own exponent, 2^1024, overflowed for top >= 2^1023:
            # an OverflowError from predict on 9e307, a user's review)
            unit = math.ldexp(1.0, math.frexp(top)[1] - 1)
            rows_ /= unit
            centers64 /= unit
        d2 = np.empty((multi.size, centers.shape[0]), dtype=np.float64)
        for j, center in enumerate(centers64):
            diff = rows_ - center
            d2[:, j] = np.einsum("ij,ij->i", diff, diff)
        d2[~tied[multi]] = np.inf
        labels[multi] = np.argmin(d2, axis=1)
    return best


def _separable_chunk(Xc, centers, loss, lower=None):
    rank = loss.ranking_cost(Xc, centers, lower)
    labels = np.argmin(rank, axis=1).astype(np.int32)
    best = _least_cost(Xc, centers, rank, labels)
    if not loss.ranking_is_cost:
        # the cost to the chosen center, by the loss's accurate formula
        best = loss.own_cost(Xc, centers, labels)
    return labels, best


def separable_assign(X, centers, loss, n_threads, lower=None, check=False):
    """Labels and costs under a separable loss; ties in cost go to the smaller
    Euclidean distance, then the lower index. ``lower`` (float64, ``(n, k)``), when
    given, receives lower bounds on the metric distance of every pair (see
    ``SeparableBounds``). ``check`` as for ``assign``."""

    def chunk(sl):
        with _quiet(check):
            labels, costs = _separable_chunk(
                X[sl], centers, loss, None if lower is None else lower[sl]
            )
        _refuse_overflowed(costs, check, X.dtype)
        return labels, costs

    parts = _map(chunk, _row_slices(X.shape[0], X.shape[1], centers.shape[0]), n_threads)
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


class SeparableBounds:
    """The Lloyd assignment of a separable loss, pruned by Elkan's bounds.

    For these losses ``D = cost ** loss.bound_power`` is a metric, so the triangle
    inequality bounds a sample's distance to a center that moved by ``s`` within
    ``s`` of its distance before the move (Elkan 2003, as scikit-learn's
    ``algorithm="elkan"`` does for the Euclidean distance). Each sample keeps a lower
    bound on ``D`` to every center and an upper bound on ``D`` to its own. A pass
    computes a sample's cost to a center only where the bounds cannot rule the
    center out: the sample's cost to its own center (needed for the objective) and
    to the centers whose lower bound is not above it. A center ruled out costs more
    than the own one, by more than the rounding of either (``loss.cost_rtol``), so
    the labels and costs are those of ``separable_assign``, ties included.

    Extra memory: ``n_samples * (n_clusters + 1)`` float64. A chunk where most pairs
    are candidates (early iterations) is assigned in full instead, which refreshes
    its bounds; so a pass is never much slower than an unpruned one.
    """

    #: bytes the bounds may take beyond the data's own size (O(n k) memory, which
    #: the assignment's costs of a chunk take anyway: 256 MiB bounds up to about
    #: 32 million samples x clusters, 20,000 x k = 800 for instance, where the
    #: unpruned passes made 10 iterations of ``absolute`` take 8.9 s against 5.1 s
    #: pruned, at 16 features; 64 MiB stopped at k = 400)
    memory_floor = 256 << 20

    def __init__(self, X, loss, n_threads):
        self.X, self.loss, self.n_threads = X, loss, n_threads
        # a chunk with more candidate pairs than this fraction of its other pairs is
        # assigned in full: a candidate pair costs a gathered row plus bookkeeping,
        # which weighs more against the full pass's d operations per pair the fewer
        # the features (measured break-even: about 0.1 at d = 4, 0.6 at d = 512)
        d = X.shape[1]
        self.full_fraction = 0.6 * d / (d + 16)
        self.lower = None  # (n, k): lower bounds on D(x_i, c_j)
        self.upper = None  # (n,): upper bounds on D(x_i, c_labels[i])
        self.labels = None
        self.computed = 0  # pairs whose cost the last pass computed (for the tests)

    def assign(self, centers):
        """Labels and costs at ``centers`` (those of ``separable_assign``)."""
        X, loss = self.X, self.loss
        n, k = X.shape[0], centers.shape[0]
        if self.lower is None:
            self.lower = np.empty((n, k), dtype=np.float64)
            labels, costs = separable_assign(X, centers, loss, self.n_threads, self.lower)
            self.computed = n * k
        else:
            slices = _row_slices(n, X.shape[1], k)
            parts = _map(lambda sl: self._chunk(sl, centers), slices, self.n_threads)
            labels = np.concatenate([p[0] for p in parts])
            costs = np.concatenate([p[1] for p in parts])
            self.computed = sum(p[2] for p in parts)
        self.labels = labels
        self.upper = loss.metric_upper(costs, X.shape[1], X.dtype)
        return labels, costs

    def _chunk(self, sl, centers):
        X, loss = self.X, self.loss
        Xc, lab, lower = X[sl], self.labels[sl], self.lower[sl]
        rows = np.arange(Xc.shape[0])
        k = centers.shape[0]
        # a first test with the upper bounds carried over from the last pass: when
        # most pairs stay candidates, the chunk is assigned in full straight away
        # (computing the own costs first would be a pass wasted)
        cand = ~(lower > self.upper[sl, None])
        cand[rows, lab] = False
        if k > 1 and np.count_nonzero(cand) > self.full_fraction * Xc.shape[0] * (k - 1):
            labels, costs = _separable_chunk(Xc, centers, loss, lower)
            return labels, costs, Xc.shape[0] * k
        own = loss.own_cost(Xc, centers, lab)
        lower[rows, lab] = loss.metric_lower(own, X.shape[1], X.dtype)
        cand &= ~(lower > loss.metric_upper(own, X.shape[1], X.dtype)[:, None])
        pi, pc = np.nonzero(cand)
        if pi.size == 0:
            return lab.copy(), own, Xc.shape[0]
        cost = loss.own_cost(Xc, centers, pc.astype(np.intp), rows=pi)
        lower[pi, pc] = loss.metric_lower(cost, X.shape[1], X.dtype)
        # the least cost among each open row's own center and its candidates
        open_rows = np.unique(pi)
        rank = np.full((Xc.shape[0], k), np.inf, dtype=own.dtype)
        rank[rows, lab] = own
        rank[pi, pc] = cost
        rank = rank[open_rows]
        labels, costs = lab.copy(), own.copy()
        new = np.argmin(rank, axis=1).astype(np.int32)
        costs[open_rows] = _least_cost(Xc, centers, rank, new, rows=open_rows)
        labels[open_rows] = new
        return labels, costs, Xc.shape[0] + pi.size

    @classmethod
    def fits(cls, X, n_clusters):
        """Whether the bounds pay for themselves: more than one chunk of samples, and
        bounds (``n (k + 1)`` float64) no larger than the data or ``memory_floor``."""
        n = X.shape[0]
        return n > CHUNK_SIZE and n * (n_clusters + 1) * 8 <= max(X.nbytes, cls.memory_floor)

    def moved(self, old, new):
        """The centers moved from ``old`` to ``new``: widen the bounds by each move
        (and by the rounding of the float64 bookkeeping itself, a few units of its
        last place per move, so that many small moves cannot add up past the
        margins)."""
        # (in float64: k x d numbers, and no overflow of squares at float32 scales)
        idx = np.arange(old.shape[0])
        old, new = np.asarray(old, np.float64), np.asarray(new, np.float64)
        cost = self.loss.own_cost(old, new, idx)
        shift = self.loss.metric_upper(cost, self.X.shape[1], np.float64)
        eps = np.finfo(np.float64).eps
        self.lower -= shift
        self.lower *= 1 - 4 * eps
        np.maximum(self.lower, 0, out=self.lower)
        self.upper += shift[self.labels]
        self.upper *= 1 + 4 * eps


def assign(X, x_sq, centers, loss, n_threads, shift=None, check=False):
    """Labels and costs of each sample to its center of least cost.

    With ``shift``, the Euclidean losses expand the distances of ``X - shift`` and
    ``centers - shift``, chunk by chunk: a reference point near the data keeps them
    accurate when the data sits far from the origin (see ``euclidean_pass``).
    ``check`` (new data): squared distances to the nearest center or costs that
    overflow raise ``refuse_overflow``'s ValueError."""
    if loss.euclidean:
        labels, costs, _, _, _ = euclidean_pass(
            X, np.ones(X.shape[0], X.dtype), x_sq, centers, loss, n_threads, stats=False,
            shift=shift, ties=True, check=check,
        )  # fmt: skip
    else:
        labels, costs = separable_assign(X, centers, loss, n_threads, check=check)
    return labels, costs


def cost_matrix(X, x_sq, centers, loss, n_threads, shift=None, check=False, ties=False):
    """``(n_samples, n_clusters)`` cost of each sample to each center (``shift`` as
    for ``assign``; ``check``: any squared distance or cost that overflows raises
    ``refuse_overflow``'s ValueError). With ``ties`` (``transform``), the rows of
    the samples within rounding of two centers are exact distances, as ``assign``
    ranks them, so that the cost of the center it picks is the row's least."""
    if loss.euclidean:
        shifted = _shifted(centers, shift)
        csq = np.einsum("ij,ij->i", shifted, shifted)

        def chunk(sl):
            with _quiet(check):
                Xc, xsq_c = _chunk_rows(X, x_sq, sl, shift)
                d2 = _sq_dist_chunk(Xc, xsq_c, shifted, csq)
                exact_entries(Xc, xsq_c, shifted, csq, d2)
                if ties:
                    labels = np.argmin(d2, axis=1)
                    resolve_near_ties(Xc, xsq_c, shifted, csq, d2, labels)
            _refuse_overflowed(d2, check, X.dtype)  # (as in euclidean_pass)
            return loss.cost_from_sq_distances(d2)
    else:

        def chunk(sl):
            with _quiet(check):
                costs = loss.cost(X[sl], centers)
            _refuse_overflowed(costs, check, X.dtype)
            return costs

    slices = _row_slices(X.shape[0], X.shape[1], centers.shape[0])
    return np.concatenate(_map(chunk, slices, n_threads), axis=0)


def cluster_members(labels, sample_weight, n_clusters):
    """``[(c, indices of cluster c), ...]`` for the clusters with positive weight."""
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=n_clusters))])
    members = [(c, order[starts[c] : starts[c + 1]]) for c in range(n_clusters)]
    return [(c, idx) for c, idx in members if idx.size and sample_weight[idx].sum() > 0]


def coordinatewise_update(X, sample_weight, labels, centers, loss, n_threads):
    """Exact centers of a separable loss, one cluster per task.

    A cluster's rows are gathered once and handed to the loss's solver: as they are
    (``loss.layout == "rows"``), or coordinate-major, transposed in tiles, then in
    blocks of about ``loss.block_bytes`` (contiguous rows of the copy, each small
    enough for the solver's repeated passes to stay in cache).
    Extra memory: the largest cluster's samples, per thread.
    """
    n_clusters, n_features = centers.shape
    new = centers.copy()
    tasks = cluster_members(labels, sample_weight, n_clusters)

    def solve(task):
        c, idx = task
        w = sample_weight[idx]
        if loss.layout == "rows":
            return loss.solve_rows(X[idx], w, centers[c])
        # coordinate-major copy of the cluster, gathered and transposed in tiles of
        # CHUNK_SIZE samples (twice as fast as transposing a row-major copy)
        T = np.empty((n_features, idx.size), dtype=X.dtype)
        for sl in _slices(idx.size):
            T[:, sl] = X[idx[sl]].T
        out = np.empty(n_features, dtype=centers.dtype)
        width = max(8, loss.block_bytes // (idx.size * X.itemsize))
        for j in range(0, n_features, width):
            cols = slice(j, min(j + width, n_features))
            out[cols] = loss.solve_columns(T[cols], w, centers[c, cols])
        return out

    sizes = [idx.size for _, idx in tasks]
    # inline for small data, where the solvers' many small numpy calls hold the
    # interpreter more than they compute: one thread took 0.6-0.96x the time of
    # two at 150 x 64 and 150 x 512 (k = 3), and two 0.6-0.9x the time of one from
    # 600 x 512 up (measured, float64, absolute / huber / pseudo_huber)
    workers = n_threads if X.shape[0] * X.shape[1] > _SOLVE_INLINE_MAX else 1
    for (c, _), value in zip(tasks, _map(solve, tasks, workers, sizes), strict=True):
        new[c] = value
    return new


#: at most this many values (samples x features), the exact centers of a separable
#: loss are solved one cluster after the other in the calling thread
_SOLVE_INLINE_MAX = 1 << 17
