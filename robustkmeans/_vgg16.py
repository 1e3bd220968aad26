"""VGG16 convolutional features as a scikit-learn transformer.

Three layers, as elsewhere in the package:

- ``VGG16Featurizer`` validates and resolves its parameters in ``fit``
  and owns the lazily built torch module;
- ``_extract_features`` streams the images of one ``transform`` call
  through a thread pool (read, hash, cache lookup, decode, resize) and the
  network (batched forward, pooling), writing rows into a preallocated
  float32 array;
- ``_VGG16Trunk`` is the torch module: ``features[:layer + 1]``, then
  pooling.

Image decoding lives in ``robustkmeans._images``, the feature cache in
``robustkmeans._cache``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import threading
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._cache import FeatureCache, content_digest
from ._images import (
    ON_ERROR_HINT,
    ImageInputMixin,
    ImageLoadError,
    as_image_list,
    decode_bytes,
    load_rgb,
    read_bytes,
    resize_rgb,
    to_normalized_tensor,
    warn_unreadable,
)
from ._utils import outside_stacklevel

__all__ = ["VGG16Featurizer", "WEIGHTS_ENV", "LAYER_NAMES", "FEATURE_MAP_LAYERS"]

#: Environment variable that may point at a local weights file for
#: ``weights="IMAGENET1K_V1"``.
WEIGHTS_ENV = "ROBUSTKMEANS_VGG16_WEIGHTS"

_IMAGENET1K_V1_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
_IMAGENET1K_V1_FILE = "vgg16-397923af.pth"

# VGG16 configuration "D", exactly as torchvision.models.vgg16().features is built.
_CFG_D = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def _layer_table():
    names, channels, n_pools = [], [], []
    block, conv, c, pools = 1, 0, 3, 0
    for v in _CFG_D:
        if v == "M":
            pools += 1
            names.append(f"pool{block}")
            channels.append(c)
            n_pools.append(pools)
            block, conv = block + 1, 0
        else:
            conv, c = conv + 1, v
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            channels += [c, c]
            n_pools += [pools, pools]
    return tuple(names), tuple(channels), tuple(n_pools)


#: Name of each index of ``vgg16().features``: ``conv<b>_<k>`` is the convolution
#: output (before its ReLU), ``relu<b>_<k>`` the ReLU after it, ``pool<b>`` the
#: max-pool closing block ``b``.
LAYER_NAMES, _LAYER_CHANNELS, _LAYER_POOLS = _layer_table()

#: Default layers of :meth:`~robustkmeans.VGG16Featurizer.feature_maps` (indices into ``features``).
FEATURE_MAP_LAYERS = (1, 2, 3, 8, 15, 22, 29)

_RANDOM_SEED = 0
# Part of the feature cache key: change it when the pixels of an image change.
# v2: 32-bit integer images ("I") are read by their value range, not as 16-bit.
# v3: files and PIL images are turned upright by their EXIF orientation tag.
# v4: palette images whose palette holds alpha values (a palette TGA file) are
# composited on white.
# v5: the transparent colour of a grey, RGB or 1-bit PNG (a tRNS chunk) is white.
_PREPROCESS_VERSION = (
    "exif-upright|rgb-white-alpha|pil-bilinear-resize|to-tensor|imagenet-normalize|v5"
)


def _missing_cuda_device(torch, device) -> int | None:
    """Whether this process lacks the torch ``device``: None when it has it (or it is
    not a CUDA device), else the number of CUDA devices there are, 0 where
    ``torch.cuda.is_available()`` is False, below the device's index otherwise. The
    one rule of ``fit``, ``transform`` and the command line's ``--device``, each of
    which words it for its user."""
    if device.type != "cuda":
        return None
    if not torch.cuda.is_available():
        return 0
    if device.index is not None:
        count = torch.cuda.device_count()
        if device.index >= count:
            return count
    return None


def _import_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "VGG16Featurizer needs PyTorch. Install it with `pip install "
            "robustkmeans[vision]` (torch, torchvision, pillow)."
        ) from exc
    return torch


def _resolve_layer(layer) -> int:
    if isinstance(layer, (bool, np.bool_)):  # an Integral, but True is no layer
        raise ValueError(
            f"layer={layer!r} is a bool, not a layer; use an index 0..30 of vgg16().features "
            "or a name such as 'pool5'."
        )
    if isinstance(layer, str):
        try:
            return LAYER_NAMES.index(layer)
        except ValueError:
            raise ValueError(
                f"layer={layer!r} is not a VGG16 layer name. Use an index 0..30 of "
                f"vgg16().features or one of {', '.join(LAYER_NAMES)}."
            ) from None
    if not isinstance(layer, Integral):
        # (int() took 3.7 for layer 3, silently; the constructor refuses 3.0 too)
        raise ValueError(
            f"layer={layer!r} is not a layer; use an integer index 0..30 of "
            "vgg16().features or a name such as 'pool5'."
        )
    return int(layer)


def _resolve_layers(layers) -> list[int]:
    if layers is None:
        return list(FEATURE_MAP_LAYERS)
    if isinstance(layers, (str, Integral)):
        layers = [layers]
    if isinstance(layers, (set, frozenset, dict)) or not np.iterable(layers):
        raise ValueError(
            f"layers={layers!r}; pass a layer (an index 0..30 or a name such as 'conv1_1') "
            "or a list of them, in the order to draw, or None for FEATURE_MAP_LAYERS."
        )
    layers = list(layers)
    if not layers:
        raise ValueError(
            "layers is empty; pass at least one layer (an index 0..30 or a name such as "
            "'conv1_1'), or layers=None for FEATURE_MAP_LAYERS."
        )
    out = []
    for layer in layers:
        index = _resolve_layer(layer)
        if not 0 <= index < len(LAYER_NAMES):
            raise ValueError(f"layer index {index} is outside 0..{len(LAYER_NAMES) - 1}.")
        out.append(index)
    return out


def _map_shape(index: int, image_size: int) -> tuple[int, int, int]:
    side = image_size // (2 ** _LAYER_POOLS[index])
    return (_LAYER_CHANNELS[index], side, side)


def _fitting_map_shape(index: int, image_size: int, asked: str) -> tuple[int, int, int]:
    """``_map_shape``, or a ValueError naming the layer (``asked``) where its
    max-pools leave no pixel of an ``image_size`` image (torch's max-pool would
    fail with "Output size is too small"), with the deepest layer that fits."""
    shape = _map_shape(index, image_size)
    if shape[1] < 1:
        pools = _LAYER_POOLS[index]
        fits = max(i for i in range(len(LAYER_NAMES)) if _map_shape(i, image_size)[1] >= 1)
        raise ValueError(
            f"image_size={image_size} is too small for {asked}: its {pools} max-pools need "
            f"image_size >= {2**pools}. The deepest layer that fits is index {fits} "
            f"({LAYER_NAMES[fits]!r}): use a layer up to it, or a larger image_size."
        )
    return shape


# --------------------------------------------------------------------------- weights

_DIGEST_MEMO: dict[tuple, str] = {}
_MODEL_MEMO: OrderedDict[tuple, object] = OrderedDict()  # (under _BUILD_LOCK)


def _file_digest(path: str) -> str:
    st = os.stat(path)
    # Size and mtime alone do not tell a replaced file: new weights of the same
    # architecture have the same size, and a copy keeping times (cp -p, rsync -a,
    # tar) or a file system counting whole seconds keeps the mtime. The inode and
    # the change time (which no copy can set) do.
    memo_key = (
        os.path.realpath(path),
        st.st_dev,
        st.st_ino,
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    )
    digest = _DIGEST_MEMO.get(memo_key)
    if digest is None:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
        digest = h.hexdigest()
        _DIGEST_MEMO[memo_key] = digest
    return digest


def _weights_in_env() -> str | None:
    """The file that ``ROBUSTKMEANS_VGG16_WEIGHTS`` names, ``~`` expanded as a shell
    would (a ``.env`` file or a service's environment expands nothing), or None when
    it is unset or empty. Every reader of the variable (``weights="IMAGENET1K_V1"``,
    ``find_vgg16_weights``, the command line's notes) takes it from here, so that
    they agree on the file."""
    env = os.environ.get(WEIGHTS_ENV)
    return os.path.expanduser(env) if env else None


def _offline_help() -> str:
    return (
        f"Either set the environment variable {WEIGHTS_ENV}=/path/to/vgg16_features.pth "
        "(a state dict of torchvision's vgg16().features), pass "
        "weights='/path/to/file.pth', or put torchvision's "
        f"{_IMAGENET1K_V1_FILE} into the torch hub cache folder"
    )


def _resolve_weights(weights, *, progress: bool = False) -> tuple[str | None, str]:
    """Return (path of a weights file or None for random init, identity string)."""
    torch = _import_torch()
    if weights is None:
        return None, f"random-init(seed={_RANDOM_SEED},torch={torch.__version__})"
    if isinstance(weights, str) and weights == "IMAGENET1K_V1":
        env = _weights_in_env()
        if env:
            if os.path.isdir(env):
                raise IsADirectoryError(
                    f"{WEIGHTS_ENV}={env!r} is a folder; point it at the weights file "
                    "itself, a state dict of vgg16().features (or a full vgg16 state dict), "
                    "or unset it to use torchvision's download."
                )
            if not os.path.isfile(env):
                raise FileNotFoundError(
                    f"{WEIGHTS_ENV}={env!r} does not name an existing file. Point it at a "
                    "state dict of vgg16().features (or a full vgg16 state dict), or unset "
                    "it to use torchvision's download."
                )
            path = os.path.abspath(env)
        else:
            path = os.path.join(torch.hub.get_dir(), "checkpoints", _IMAGENET1K_V1_FILE)
            if not os.path.isfile(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                try:
                    torch.hub.download_url_to_file(
                        _IMAGENET1K_V1_URL, path, hash_prefix="397923af", progress=progress
                    )
                except Exception as exc:
                    raise RuntimeError(
                        f"Could not get the VGG16 IMAGENET1K_V1 weights: downloading "
                        f"{_IMAGENET1K_V1_URL} failed ({type(exc).__name__}: {exc}). "
                        f"{_offline_help()} ({os.path.dirname(path)}). Use weights=None "
                        "only for tests: random weights give meaningless features."
                    ) from exc
        return path, f"sha256:{_file_digest(path)}"
    if isinstance(weights, (str, os.PathLike)):
        path = os.path.expanduser(os.fspath(weights))  # "~/...", as cache= is
        if os.path.isdir(path):
            raise IsADirectoryError(
                f"weights={path!r} is a folder; pass the weights file itself, a state dict "
                "of vgg16().features (keys '0.weight', ...) or of the whole vgg16 (keys "
                "'features.0.weight', ...)."
            )
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"weights={path!r} is not an existing file. Pass 'IMAGENET1K_V1', a path "
                "to a state dict of vgg16().features (keys '0.weight', ...) or of the whole "
                "vgg16 (keys 'features.0.weight', ...), or None for random weights (tests "
                "only)."
            )
        # Absolute, so that transform finds the file after os.chdir (or unpickled elsewhere).
        path = os.path.abspath(path)
        return path, f"sha256:{_file_digest(path)}"
    raise TypeError(
        f"weights must be 'IMAGENET1K_V1', a file path or None, got {type(weights).__name__}."
    )


def _make_features():
    """vgg16().features with the same layers and parameter names as torchvision's."""
    torch = _import_torch()
    nn = torch.nn
    layers, c = [], 3
    for v in _CFG_D:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(c, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            c = v
    return nn.Sequential(*layers)


def _features_state_dict(state, path: str) -> dict:
    if not isinstance(state, Mapping):
        raise ValueError(
            f"weights file {path!r} holds a {type(state).__name__}, not a state dict. Save "
            "one with torch.save(model.features.state_dict(), path)."
        )
    for key in ("state_dict", "model_state_dict"):
        # a training checkpoint: {"state_dict": ...} (PyTorch Lightning) or
        # {"model_state_dict": ..., "optimizer_state_dict": ...} (PyTorch's tutorial)
        if key in state and isinstance(state[key], Mapping):
            state = state[key]
            break
    for prefix in ("features.", "module.features."):
        if any(k.startswith(prefix) for k in state):
            # Full-model state dict: keep the convolutional part only.
            return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    return dict(state)


def _unloadable_reason(path: str, exc: Exception) -> str:
    """Why ``torch.load(path, weights_only=True)`` failed, in a few words.

    torch's own messages are blank (an empty file), meaningless (``KeyError:
    '101'`` for a text file) or a paragraph advising ``weights_only=False``,
    which would run code from the file.
    """
    try:
        if os.path.getsize(path) == 0:
            return "the file is empty"
    except OSError:
        pass
    # ("Unsupported global: GLOBAL fractions.Fraction"; torch 2.1: "Unsupported
    # class fractions.Fraction")
    found = re.search(r"Unsupported (?:global: GLOBAL|class) (\S+)", str(exc))
    if found:
        return (
            f"it holds pickled Python objects ({found.group(1)}), not only tensors, and is "
            "not loaded, as it could run code"
        )
    return "torch.load cannot read it (not a file written by torch.save, or a damaged one)"


def _read_weights(path: str, weights_id: str | None) -> bytes:
    """The bytes of the weights file, checked against ``weights_id`` (``"sha256:..."``).

    The file is hashed as it is read, so that the module built from these bytes
    is the one the identity (and so the feature cache key) names, even when the
    file was replaced since ``fit``.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(
            f"weights file {path!r}, found at fit, is not found: it was moved or deleted "
            "since. Put it back at that path, or fit again with weights= its new path."
        ) from None
    if weights_id is not None:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        if digest != weights_id:
            raise ValueError(
                f"weights file {path!r} changed since fit: it holds {digest}, the featurizer "
                f"was fitted with {weights_id}. Fit again to use the new weights, or restore "
                "the file that was fitted."
            )
    return data


def _load_features(path: str | None, device: str, weights_id: str | None = None):
    """Build vgg16().features on ``device`` (eval mode, float32, channels_last).

    With ``weights_id``, the file must still hold those weights (see ``_read_weights``).
    """
    torch = _import_torch()
    if path is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_RANDOM_SEED)
            features = _make_features()
            # torchvision's VGG initialisation, applied in the same module order.
            for m in features.modules():
                if isinstance(m, torch.nn.Conv2d):
                    torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    torch.nn.init.constant_(m.bias, 0)
    else:
        data = _read_weights(path, weights_id)
        try:
            with warnings.catch_warnings():
                # torch 2.1's own weights_only loader reads TypedStorage.dtype, which
                # warns that TypedStorage is deprecated: nothing the caller did (and
                # with warnings as errors the file was called unreadable)
                warnings.filterwarnings(
                    "ignore", message="TypedStorage is deprecated", category=UserWarning
                )
                state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(
                f"weights file {path!r} is not a torch state dict of vgg16().features: "
                f"{_unloadable_reason(path, exc)}. Save one with "
                "torch.save(vgg16.features.state_dict(), path)."
            ) from exc
        del data  # the tensors are copies; free the file's bytes before building
        state = _features_state_dict(state, path)
        with torch.device("meta"):
            features = _make_features()
        expected = set(features.state_dict())
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            raise ValueError(
                f"weights file {path!r} is not a state dict of torchvision's vgg16().features: "
                f"missing keys {missing[:6]}{'...' if len(missing) > 6 else ''}, unexpected "
                f"keys {unexpected[:6]}{'...' if len(unexpected) > 6 else ''}."
            )
        wrong = []
        for key, needed in features.state_dict().items():
            value = state[key]
            if not isinstance(value, torch.Tensor):
                wrong.append(f"{key!r} is not a tensor (a {type(value).__name__})")
            elif tuple(value.shape) != tuple(needed.shape):
                wrong.append(
                    f"{key!r} has shape {tuple(value.shape)}, vgg16().features needs "
                    f"{tuple(needed.shape)}"
                )
        if wrong:
            raise ValueError(
                f"weights file {path!r} does not fit vgg16().features: "
                f"{'; '.join(wrong[:6])}{'...' if len(wrong) > 6 else ''}."
            )
        state = {k: v.to(torch.float32) for k, v in state.items()}
        non_finite = [k for k, v in state.items() if not bool(torch.isfinite(v).all())]
        if non_finite:
            # (a diverged training run): every feature would be NaN
            raise ValueError(
                f"weights file {path!r} holds non-finite values (NaN or inf) in "
                f"{non_finite[:6]}{'...' if len(non_finite) > 6 else ''}; no image would "
                "get a finite feature. Use weights saved before training diverged."
            )
        try:
            features.load_state_dict(state, strict=True, assign=True)
        except RuntimeError as exc:
            raise ValueError(f"weights file {path!r} does not fit vgg16().features: {exc}") from exc
    features = features.to(device=device, dtype=torch.float32)
    features = features.to(memory_format=torch.channels_last).eval()
    for p in features.parameters():
        p.requires_grad_(False)
    return features


#: guards _MODEL_MEMO, and makes builds one at a time: a transform reaching a module
#: that another thread is building waits for it and shares it (weights=None reseeds
#: torch's global generator for its draws: two builds at once drew each other's
#: numbers)
_BUILD_LOCK = threading.Lock()


def _shared_features(path: str | None, weights_id: str, device: str):
    """Load each (weights, device) once per process; estimators share the module."""
    key = (weights_id, device)
    with _BUILD_LOCK:
        if key in _MODEL_MEMO:
            _MODEL_MEMO.move_to_end(key)
            return _MODEL_MEMO[key]
        features = _load_features(path, device, weights_id)
        _MODEL_MEMO[key] = features
        while len(_MODEL_MEMO) > 2:
            _MODEL_MEMO.popitem(last=False)
    return features


_TRUNK_CLASS = None


def _make_trunk(features, stop: int, pooling):
    global _TRUNK_CLASS
    if _TRUNK_CLASS is None:
        torch = _import_torch()

        # Defined on first use so that importing this module does not import torch.
        class _VGG16Trunk(_VGG16TrunkBase, torch.nn.Module):
            pass

        _TRUNK_CLASS = _VGG16Trunk
    return _TRUNK_CLASS(features, stop, pooling)


class _VGG16TrunkBase:
    """``features[:stop + 1]`` followed by pooling; maps (N, 3, S, S) to (N, D)."""

    def __init__(self, features, stop: int, pooling):
        super().__init__()
        self.features = features
        self.stop = stop
        self.pooling = pooling

    def forward(self, x):
        for i in range(self.stop + 1):
            x = self.features[i](x)
        if self.pooling == "avg":
            return x.mean(dim=(2, 3))
        if self.pooling == "max":
            return x.amax(dim=(2, 3))
        return x.flatten(1)


# --------------------------------------------------------------------------- extraction


def _normalize_rows(F: np.ndarray, normalize) -> np.ndarray:
    if normalize is None:
        return F
    if normalize == "power":
        F = np.sign(F) * np.sqrt(np.abs(F))
    norms = np.sqrt(np.einsum("ij,ij->i", F, F, dtype=np.float64)).astype(np.float32)
    norms[norms == 0] = 1  # all-zero rows stay zero, as sklearn.preprocessing.normalize does
    F /= norms[:, None]
    return F


def _full_float32(torch, device: str):
    """Keep CUDA convolutions in full float32 (no TF32), so features match the CPU."""
    if torch.device(device).type != "cuda":
        return contextlib.nullcontext()
    cudnn = torch.backends.cudnn
    return cudnn.flags(
        enabled=cudnn.enabled,
        benchmark=cudnn.benchmark,
        deterministic=cudnn.deterministic,
        allow_tf32=False,
    )


def _prepare_one(image, index: int, image_size: int, cache):
    """Worker task: (key or None, cached row or None, resized RGB uint8 or None).

    ``key`` is the image's content digest, with or without a cache: the copies of
    one image in a call go through the network once (``_extract_features``)."""
    if isinstance(image, (str, os.PathLike)):
        name = os.fspath(image)
        data = read_bytes(name)
        key = content_digest(data=data)
        if cache is not None:
            hit = cache.load(key)
            if hit is not None:
                return key, hit, None
        rgb = decode_bytes(data, name)
    else:
        try:
            key = content_digest(image)
        except (TypeError, OSError, ValueError, AssertionError, AttributeError):
            # not hashable, or unreadable (a PIL image whose file was closed:
            # Pillow's bare assert): load_rgb names the reason
            key = None
        if key is not None and cache is not None:
            hit = cache.load(key)
            if hit is not None:
                return key, hit, None
        rgb = load_rgb(image, index)
    return key, None, resize_rgb(rgb, image_size)


class _BatchSizeTuner:
    """Chooses the CPU batch size by timing the forward passes it runs anyway.

    On a 2-core CPU the fastest batch size depends on the load: batch 1 in
    ``channels_last`` is fastest on an idle machine, batch 8 when other processes
    compete for the cores (it loses less to OpenMP synchronisation). Each
    candidate is timed twice (the first pass of a new shape includes oneDNN's
    setup and is not counted), then the fastest per image is used, and every
    ``reprobe``-th batch re-times another candidate so that a change of load is
    seen. One tuner is kept per model setting and process.
    """

    def __init__(self, candidates=(1, 2, 4, 8), reprobe=32):
        self.candidates = tuple(candidates)
        self.reprobe = reprobe
        self.sec_per_image: dict[int, float] = {}
        self.runs = dict.fromkeys(self.candidates, 0)
        self.n_batches = 0
        self.lock = threading.Lock()

    @property
    def largest(self) -> int:
        return max(self.candidates)

    def next_size(self) -> int:
        with self.lock:
            for c in self.candidates:
                if self.runs[c] < 2:
                    return c
            self.n_batches += 1
            if self.n_batches % self.reprobe == 0:
                k = (self.n_batches // self.reprobe) % len(self.candidates)
                return self.candidates[k]
            return min(self.sec_per_image, key=self.sec_per_image.get)

    def record(self, size: int, seconds: float) -> None:
        with self.lock:
            if size not in self.runs:
                return
            self.runs[size] += 1
            if self.runs[size] == 1:
                return  # warm-up pass of this shape
            per_image = seconds / size
            old = self.sec_per_image.get(size)
            self.sec_per_image[size] = per_image if old is None else 0.5 * (old + per_image)


_TUNERS: dict[tuple, _BatchSizeTuner] = {}
_TUNERS_LOCK = threading.Lock()


def _tuner_for(key) -> _BatchSizeTuner:
    with _TUNERS_LOCK:
        tuner = _TUNERS.get(key)
        if tuner is None:
            tuner = _TUNERS[key] = _BatchSizeTuner()
        return tuner


def _extract_features(
    images: list,
    *,
    trunk_factory,
    image_size: int,
    n_features: int,
    batch_size,
    device: str,
    n_workers: int,
    cache,
    on_error: str,
    progress: bool,
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Pooled, unnormalised features of ``images``; rows of failed images are NaN.

    ``batch_size`` is an int or a :class:`_BatchSizeTuner`. Memory stays bounded
    by the batch size and a small prefetch window, whatever ``len(images)``; only
    the (n, n_features) float32 output grows with n.
    """
    torch = _import_torch()
    on_gpu = torch.device(device).type == "cuda"
    n = len(images)
    out = np.empty((n, n_features), dtype=np.float32)
    failures: list[tuple[int, str]] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="img", desc="VGG16 features")

    batch_rgb: list[np.ndarray] = []
    batch_rows: list[list[int]] = []
    batch_keys: list[str | None] = []
    pending: dict[str, int] = {}  # key -> slot in the batch, to run duplicates once
    # key -> a row computed by an earlier batch: its copies take that row. The
    # network's float32 results depend on the batch (its size, oneDNN's algorithm),
    # so copies run in two batches came out 2e-7 apart, and a clustering of them
    # split identical images into two clusters with a near-perfect silhouette,
    # without a cache (which the first copy's features are read back from) and with
    # one where the copy was prepared before its twin's batch was written
    done: dict[str, int] = {}
    trunk = None
    cache_writable = cache is not None
    tuner = batch_size if isinstance(batch_size, _BatchSizeTuner) else None
    target = tuner.next_size() if tuner is not None else batch_size
    max_batch = tuner.largest if tuner is not None else batch_size

    def flush():
        nonlocal trunk, target, cache_writable
        if not batch_rgb:
            return
        if trunk is None:
            trunk = trunk_factory()
        start = time.perf_counter()
        x = to_normalized_tensor(np.stack(batch_rgb), memory_format=torch.channels_last)
        with torch.inference_mode(), _full_float32(torch, device):
            if on_gpu:
                x = x.pin_memory().to(device, non_blocking=True)
            values = trunk(x).float().cpu().numpy()
        if tuner is not None:
            if len(batch_rgb) == target:  # a partial last batch says little
                tuner.record(target, time.perf_counter() - start)
            target = tuner.next_size()
        for slot, rows in enumerate(batch_rows):
            out[rows] = values[slot]
            if batch_keys[slot] is not None:
                done[batch_keys[slot]] = rows[0]
            if cache_writable and batch_keys[slot] is not None:
                try:
                    cache.save(batch_keys[slot], values[slot])
                except OSError as exc:
                    # A read-only or vanished cache folder must not lose the features.
                    cache_writable = False
                    warnings.warn(
                        f"Cannot write to the feature cache {cache.root!r} ({exc}); the "
                        "features of this call are computed without caching them. Make "
                        "the folder writable, or pass cache=None.",
                        UserWarning,
                        stacklevel=outside_stacklevel(),
                    )
        if bar is not None:
            bar.update(sum(len(r) for r in batch_rows))
        batch_rgb.clear()
        batch_rows.clear()
        batch_keys.clear()
        pending.clear()

    window = max(2 * max_batch, 2 * n_workers, 4)
    executor = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="vgg16-decode")
    futures: deque = deque()
    try:
        next_index = 0
        for i in range(n):
            while next_index < n and len(futures) < window:
                futures.append(
                    executor.submit(_prepare_one, images[next_index], next_index, image_size, cache)
                )
                next_index += 1
            future = futures.popleft()
            try:
                key, hit, rgb = future.result()
            except ImageLoadError as exc:
                if on_error == "raise":
                    exc.add_hint(ON_ERROR_HINT)
                    raise
                out[i] = np.nan
                failures.append((i, str(exc)))
                if bar is not None:
                    bar.update(1)
                continue
            if hit is not None:
                out[i] = hit
                if bar is not None:
                    bar.update(1)
                continue
            if key is not None and key in done:
                out[i] = out[done[key]]
                if bar is not None:
                    bar.update(1)
                continue
            if key is not None and key in pending:
                batch_rows[pending[key]].append(i)
                continue
            if key is not None:
                pending[key] = len(batch_rgb)
            batch_rgb.append(rgb)
            batch_rows.append([i])
            batch_keys.append(key)
            if len(batch_rgb) >= target:
                flush()
        flush()
    finally:
        for f in futures:
            f.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
    return out, failures


# --------------------------------------------------------------------------- estimator


class VGG16Featurizer(ImageInputMixin, TransformerMixin, BaseEstimator):
    """Images in, VGG16 convolutional features out: one row per image.

    Each image is converted to RGB, resized to ``image_size`` x ``image_size``
    (bilinear, as ``torchvision.transforms.Resize``), scaled to [0, 1] and
    normalised with the ImageNet mean and std, passed through
    ``torchvision.models.vgg16().features`` up to ``layer``, pooled over the
    spatial positions and normalised. With the defaults this gives the
    512-dimensional global-average-pooled ``pool5`` output, L2-normalised.

    Parameters
    ----------
    weights : {"IMAGENET1K_V1"}, str, os.PathLike or None, default="IMAGENET1K_V1"
        ``"IMAGENET1K_V1"``: torchvision's ImageNet weights, read from the file
        named by the environment variable ``ROBUSTKMEANS_VGG16_WEIGHTS`` if set,
        else from the torch hub cache, else downloaded there by torch. A path
        (``~`` expanded, there too): a state dict of ``vgg16().features`` (keys
        ``"0.weight"``, ...) or of the whole ``vgg16`` (keys
        ``"features.0.weight"``, ...; the classifier is ignored), also as a
        training checkpoint holds it (under ``"state_dict"`` or
        ``"model_state_dict"``), read with ``torch.load(..., weights_only=True)``.
        ``None``: random initialisation with a fixed seed, for tests only. When weights
        cannot be had, ``fit`` raises an error that says how to provide them;
        it never falls back to random weights.
    layer : str or int, default="pool5"
        Where to cut ``features``: an index 0..30 or a name from
        :data:`~robustkmeans._vgg16.LAYER_NAMES` (``"conv4_3"`` is the convolution output before
        its ReLU, ``"relu4_3"`` after it, ``"pool4"`` the max-pool after).
    pooling : {"avg", "max"} or None, default="avg"
        Global pooling over the spatial positions; ``None`` flattens the map
        (``C * H * W`` features, channel-major).
    normalize : {"l2", "power"} or None, default="l2"
        ``"l2"`` scales each row to unit Euclidean length; ``"power"`` takes
        the signed square root of every value first (then L2); ``None`` gives
        the raw pooled values. For clustering this matters: raw pooled vectors
        split by overall activation size (zoom, exposure) rather than by
        content. Measured with the ImageNet weights on 96 random crops of the
        two scikit-learn sample photographs (``china.jpg`` vs ``flower.jpg``,
        224 px, ``KMeans(n_clusters=2)``, mean ARI over 10 seeds, see
        ``benchmarks/bench_featurizer.py``):

        ==================================  =====  =====  =====
        crops                               raw    l2     power
        ==================================  =====  =====  =====
        180-420 px                          0.96   1.00   1.00
        40-420 px (small ones zoomed in)    0.54   1.00   1.00
        40-420 px, exposure x0.25-1         0.51   0.95   1.00
        ==================================  =====  =====  =====

    image_size : int, default=224
        Side of the square the images are resized to. It must allow the
        max-pools before ``layer`` (at least 32 for ``"pool5"``).
    batch_size : int or "auto", default="auto"
        Images per forward pass. ``"auto"`` is 64 on GPU; on CPU it is chosen
        among 1, 2, 4 and 8 by timing the batches as they run (kept per
        process and setting). On a 2-core CPU (``benchmarks/bench_featurizer.py``)
        batch 1 in ``channels_last`` was fastest on an idle machine (and 13%
        ahead of batch 8), batch 8 when other processes loaded the CPU (1.6-2x
        ahead of batch 1). The batch size changes the features only by float32
        rounding (about 1e-7); pass an int for output that repeats bit for bit
        across calls (but for images served by ``cache``, which keeps the features
        of the batch that first computed them). Copies of one image in a call (the
        same file content or pixels) go through the network once and get the same
        row, whatever batches they fall in. Peak memory grows with the batch, not with the
        number of images.
    device : str, default="cpu"
        Torch device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or ``"auto"``
        (CUDA when available, else CPU). Other device types (``"mps"``,
        ``"meta"``...) and CUDA devices that are not available raise a
        ValueError in ``fit``. A featurizer fitted with ``"auto"`` on a GPU and
        unpickled where CUDA is not available runs on the CPU (``device_``
        becomes ``"cpu"``); one fitted with ``"cuda"`` makes ``transform`` raise
        a ValueError that says how to move it.
    n_jobs : int or None, default=None
        Threads that read, decode and resize images while the network runs.
        ``None`` means 1 on CPU (the forward pass uses the cores) and
        ``min(8, os.cpu_count())`` on GPU; ``-1`` means all cores. The number
        of torch threads is left as torch sets it.
    cache : str, os.PathLike, joblib.Memory or None, default=None
        Folder (created when needed, ``~`` expanded; an existing file or an empty path is an
        error) that keeps
        features across calls, keyed by image content and the settings that
        change them (weights identity, layer, pooling, image_size; values are
        stored before ``normalize``), not by file name or order. A
        :class:`joblib.Memory` means its ``location``. Entries are
        plain ``.npy`` files written atomically; corrupt or mismatched entries
        are recomputed. Use it when fitting the same images more than once,
        as in a grid search over a pipeline. A folder that cannot be written
        (read-only, or removed meanwhile) gives one :class:`UserWarning` per
        call; its entries are still read and the rest is computed uncached.
    on_error : {"raise", "nan"}, default="raise"
        What an unreadable image (missing, empty, not an image, truncated or
        corrupt file; unsupported array) does. ``"raise"`` raises
        :class:`~robustkmeans.ImageLoadError` naming the file and the
        reason, and saying what to do (remove or replace it, or use
        ``"nan"``). ``"nan"`` keeps one row per input: the row of a failed
        image is all NaN, a :class:`UserWarning` lists the failures, and
        nothing is cached for it. Drop those rows before clustering, e.g. with
        ``~np.isnan(F).any(axis=1)``.
    progress : bool, default=False
        Show a tqdm progress bar with the images per second (needs ``tqdm``).

    Attributes
    ----------
    layer_index_ : int
        Index in ``features`` of the last layer run.
    layer_name_ : str
        Its name.
    feature_map_shape_ : tuple of int
        (C, H, W) of the map at ``layer_index_`` before pooling.
    n_features_out_ : int
        Number of output columns.
    pooling_, normalize_ : str or None
        ``pooling`` and ``normalize`` as fitted.
    image_size_ : int
        ``image_size`` as fitted, a Python int.
    weights_path_ : str or None
        The weights file used, as an absolute path (None for random weights).
    weights_id_ : str
        Identity of the weights (sha256 of the file) used in cache keys.
    device_ : str
        Resolved torch device.
    batch_size_ : int or "auto"
        Resolved batch size (``"auto"``: timed on CPU, see ``batch_size``).
    n_workers_ : int
        Resolved number of decoding threads.

    See Also
    --------
    robustkmeans.load_image_folder : File names and labels from a folder tree.
    robustkmeans.LossKMeans : Clusters the features.

    Notes
    -----
    As with scikit-learn's estimators, parameters changed with ``set_params``
    take effect at the next ``fit``: ``transform``, ``feature_maps`` and
    ``get_feature_names_out`` use the values resolved by ``fit`` (the attributes
    ending in ``_``) for everything that shapes the output (``weights``,
    ``layer``, ``pooling``, ``normalize``, ``image_size``, ``device``,
    ``batch_size``, ``n_jobs``); only ``cache``, ``on_error`` and ``progress``
    are read at each call.

    The torch module is built on first use, shared between estimators with
    the same weights and device in one process, and never pickled:
    ``clone`` and ``pickle`` are cheap and work on machines without the
    weights (``transform`` then needs them again: the same file, at the same
    path, holding the same weights, else it raises an error that says so).

    Preprocessing is that of torchvision's reference pipeline
    (``Image.open(path).convert("RGB")``, ``Resize((s, s))``, ``ToTensor``,
    ``Normalize``), to 1e-5 on the features, with three differences, each
    giving the picture a viewer shows. A photo with an EXIF orientation tag (a
    phone picture, as a file or a PIL image) is first turned upright, as
    :func:`PIL.ImageOps.exif_transpose` does, and then resized; torchvision's
    loader takes it as stored, often sideways. A malformed EXIF block is
    ignored (the image is used as stored); arrays carry no tag and are used as
    they are. Transparency (an alpha channel, a palette's, a PNG's transparent
    colour) is composited on white; ``convert("RGB")`` drops it, leaving
    whatever colour the transparent pixels hold (often black). 16-bit
    greyscale is scaled to 8 bits (``round(v / 257)``); ``convert("RGB")``
    clips it at 255, so that most 16-bit scans come out white. (Pillow opens
    16-bit colour files at 8 bits, their high bytes, ``v >> 8``; a uint16 colour
    array is scaled by ``round(v / 257)``, one level apart at most.) Features cached
    by versions that did not turn photos upright are not reused. On CUDA,
    convolutions run in full float32 (TF32 off) so that GPU and CPU features
    agree (largest difference 5.1e-7 over 144 images on an H200,
    ``benchmarks/check_cuda.py``).

    Throughput (``benchmarks/bench_featurizer.py``, 224 px, ImageNet weights,
    JSON in ``benchmarks/results/``): on a 2-core CPU the forward pass takes
    nearly all the time, and decoding in a thread beside it keeps the
    featurizer close to the network's speed on pre-made tensors: 14.0
    images/s from JPEG files against 15.3 for the best batch size and memory
    format on tensors (ratio 0.92, median paired ratio 0.98) and 12.1 for a
    one-image-at-a-time loop (1.16; 2.2 when other processes load the CPU,
    where that loop's batch 1 suffers most). On one H200 GPU with 8 decoding
    threads it reached 590-710 images/s from PNG files across runs (651 in
    ``benchmarks/results/check_cuda.json``), bound by decoding and resizing on
    the CPU (1229 images/s on pre-made tensors); raise ``n_jobs`` there.

    Examples
    --------
    >>> import numpy as np
    >>> from robustkmeans import VGG16Featurizer
    >>> rng = np.random.RandomState(0)
    >>> images = rng.randint(0, 256, size=(3, 40, 50, 3), dtype=np.uint8)
    >>> featurizer = VGG16Featurizer(weights=None, image_size=32).fit(images)
    >>> F = featurizer.transform(images)
    >>> F.shape, F.dtype
    ((3, 512), dtype('float32'))
    >>> np.allclose(np.linalg.norm(F, axis=1), 1)
    True
    >>> featurizer.get_feature_names_out()[:2]
    array(['vgg16_pool5_avg0', 'vgg16_pool5_avg1'], dtype=object)
    """

    _parameter_constraints: dict = {
        "weights": [str, os.PathLike, None],
        "layer": [str, Interval(Integral, 0, len(LAYER_NAMES) - 1, closed="both")],
        "pooling": [StrOptions({"avg", "max"}), None],
        "normalize": [StrOptions({"l2", "power"}), None],
        "image_size": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "device": [str],
        "n_jobs": [Integral, None],
        "cache": [str, os.PathLike, HasMethods(["cache"]), None],
        "on_error": [StrOptions({"raise", "nan"})],
        "progress": ["boolean"],
    }

    def __init__(
        self,
        weights="IMAGENET1K_V1",
        *,
        layer="pool5",
        pooling="avg",
        normalize="l2",
        image_size=224,
        batch_size="auto",
        device="cpu",
        n_jobs=None,
        cache=None,
        on_error="raise",
        progress=False,
    ):
        self.weights = weights
        self.layer = layer
        self.pooling = pooling
        self.normalize = normalize
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.n_jobs = n_jobs
        self.cache = cache
        self.on_error = on_error
        self.progress = progress

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Validate the parameters and load the weights; images are not read.

        A weights file is loaded here, so that a file that is not a state dict
        of ``vgg16().features`` is refused at once. The network is built once per
        process and device, and shared by every featurizer with the same weights:
        ``transform`` reuses it. (``weights=None`` builds its random network at the
        first ``transform``.)

        Parameters
        ----------
        X : sequence of images, optional
            Only its form is checked (as in :meth:`transform`); the images are
            not read, since VGG16 is pretrained.
        y : None
            Ignored.

        Returns
        -------
        self : VGG16Featurizer
            Fitted featurizer.

        Raises
        ------
        FileNotFoundError, RuntimeError
            When the weights cannot be had; the message says how to provide them.
        ValueError
            When a parameter is invalid, e.g. ``cache`` is a file, not a folder,
            or the weights file is not a state dict of ``vgg16().features`` (nor
            of the whole ``vgg16``); the message says what is wrong with it.
        """
        torch = _import_torch()
        if X is not None:
            as_image_list(X)  # the form of X only; images are read in transform
        layer_index = _resolve_layer(self.layer)
        map_shape = _fitting_map_shape(layer_index, self.image_size, f"layer={self.layer!r}")
        device = self._resolve_device(torch)
        if self.progress:
            try:
                import tqdm  # noqa: F401
            except ImportError:
                raise ImportError(
                    "progress=True needs tqdm: `pip install tqdm` (or "
                    "robustkmeans[progress]), or set progress=False."
                ) from None
        batch_size, n_workers = self._batch_size_and_workers(device)
        FeatureCache.from_param(self.cache, {}, shape=())  # a file as cache= fails here
        weights_path, weights_id = _resolve_weights(self.weights, progress=self.progress)
        if weights_path is not None:
            # the file's contents checked now (the module is memoised: transform
            # takes it from there)
            _shared_features(weights_path, weights_id, device)

        n_features = map_shape[0] if self.pooling is not None else int(np.prod(map_shape))
        self.layer_index_ = layer_index
        self.layer_name_ = LAYER_NAMES[layer_index]
        self.feature_map_shape_ = map_shape
        self.n_features_out_ = n_features
        self.pooling_ = self.pooling
        self.normalize_ = self.normalize
        self.image_size_ = int(self.image_size)
        self.weights_path_ = weights_path
        # (the path as given: a relative one is looked for again from the working
        # folder when the absolute one is gone, _features_module)
        self._weights_given = self.weights if isinstance(self.weights, (str, os.PathLike)) else None
        self.weights_id_ = weights_id
        self.device_ = device
        self.batch_size_ = batch_size
        self.n_workers_ = n_workers
        return self

    def _batch_size_and_workers(self, device: str) -> tuple[int | str, int]:
        """``batch_size_`` and ``n_workers_`` for running on ``device``."""
        on_gpu = not device.startswith("cpu")
        if self.batch_size == "auto":
            batch_size = 64 if on_gpu else "auto"
        else:
            batch_size = int(self.batch_size)
        cpus = os.cpu_count() or 1
        if self.n_jobs is None:
            n_workers = min(8, cpus) if on_gpu else 1
        elif self.n_jobs < 0:
            n_workers = max(1, cpus + 1 + int(self.n_jobs))
        elif self.n_jobs == 0:
            raise ValueError("n_jobs=0 is not allowed; use None, a positive int or -1.")
        else:
            n_workers = int(self.n_jobs)
        return batch_size, n_workers

    def _check_device_here(self, torch) -> None:
        """A ValueError, saying what to do, when the fitted CUDA device is not in
        this process (a featurizer fitted on a GPU machine, unpickled on another)."""
        count = _missing_cuda_device(torch, torch.device(self.device_))
        if count is None:
            return
        why = f"there are {count} CUDA device(s)" if count else "torch.cuda.is_available() is False"
        raise ValueError(
            f"This VGG16Featurizer was fitted on device {self.device_!r}, which is not "
            f"available here ({why}); was it fitted on another machine? Run "
            "set_params(device='cpu').fit() (or device='auto') on the featurizer: its fit "
            "reads no images, so in a Pipeline the steps after it stay fitted."
        )

    def _resolve_device(self, torch) -> str:
        """The torch device to run on: CPU or an available CUDA device, else a ValueError."""
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        supported = "use 'cpu', 'cuda', 'cuda:<index>' or 'auto'"
        try:
            device = torch.device(self.device)
        except (RuntimeError, ValueError) as exc:
            raise ValueError(f"device={self.device!r} is not a torch device; {supported}.") from exc
        if device.type not in ("cpu", "cuda"):
            # "meta" computes no values and "mps", "xpu"... are not tested here.
            raise ValueError(
                f"device={self.device!r} is not supported by VGG16Featurizer; {supported}."
            )
        count = _missing_cuda_device(torch, device)
        if count == 0:
            raise ValueError(
                f"device={self.device!r} but torch.cuda.is_available() is False; use "
                "device='cpu' or device='auto'."
            )
        if count is not None:
            raise ValueError(
                f"device={self.device!r} is not available: there are {count} CUDA "
                f"device(s), cuda:0 to cuda:{count - 1}; use one of them or 'cuda'."
            )
        return str(device)

    def _cache_settings(self) -> dict:
        return {
            "model": "torchvision vgg16().features",
            "weights": self.weights_id_,
            "layer": self.layer_index_,
            "pooling": self.pooling_,
            "image_size": self.image_size_,
            "preprocess": _PREPROCESS_VERSION,
            "dtype": "float32",
        }

    def _features_module(self):
        """The shared ``features`` module, built on first use."""
        path, given = self.weights_path_, getattr(self, "_weights_given", None)
        if (
            path is not None
            and not os.path.exists(path)
            and given is not None
            and not os.path.isabs(given)
            and os.path.isfile(given)
        ):
            # a relative weights= travels with a project (a pickle loaded in a copy of
            # it elsewhere): found again from the working folder, if it holds the
            # weights fitted (checked here to name both files; _read_weights checks
            # the bytes it loads again)
            found = os.path.abspath(given)
            digest = f"sha256:{_file_digest(found)}"
            if digest != self.weights_id_:
                raise ValueError(
                    f"weights file {path!r}, found at fit, is gone, and {found!r}, which "
                    f"weights={os.fspath(given)!r} names from the working folder, holds "
                    f"other weights ({digest}; fitted: {self.weights_id_}). Put the fitted "
                    "file back, or fit again to use these."
                )
            path = found
        return _shared_features(path, self.weights_id_, self.device_)

    def _trunk(self):
        key = (self.weights_id_, self.device_, self.layer_index_, self.pooling_)
        if getattr(self, "_model_key", None) != key:
            self._model = _make_trunk(self._features_module(), self.layer_index_, self.pooling_)
            self._model_key = key
        return self._model

    def _batch_size_or_tuner(self):
        if self.batch_size_ != "auto":
            return self.batch_size_
        return _tuner_for(
            (self.weights_id_, self.device_, self.layer_index_, self.pooling_, self.image_size_)
        )

    def transform(self, X):
        """Compute one feature row per image.

        Parameters
        ----------
        X : sequence of images or ndarray
            File paths (str or pathlib), PIL images, uint8 arrays (H, W) or
            (H, W, 3) (also (H, W, 4) RGBA, uint16 scaled to 8 bits, and bool read
            as 0 and 255, as Pillow reads 1-bit images), or one uint8 array of
            shape (N, H, W, 3) or (N, H, W).

        Returns
        -------
        F : ndarray of shape (n_images, `n_features_out_`), dtype float32
            The features, normalised as ``normalize`` says. With
            ``on_error="nan"``, rows of unreadable images are NaN.

        Raises
        ------
        robustkmeans.ImageLoadError
            With ``on_error="raise"``, for the first image that cannot be
            read, naming the file and the reason, and saying what to do.
        """
        check_is_fitted(self, "weights_id_")
        self._check_device_here(_import_torch())
        images = as_image_list(X)
        cache = FeatureCache.from_param(
            self.cache, self._cache_settings(), shape=(self.n_features_out_,)
        )
        F, failures = _extract_features(
            images,
            trunk_factory=self._trunk,
            image_size=self.image_size_,
            n_features=self.n_features_out_,
            batch_size=self._batch_size_or_tuner(),
            device=self.device_,
            n_workers=self.n_workers_,
            cache=cache,
            on_error=self.on_error,
            progress=self.progress,
        )
        if failures:
            warn_unreadable([msg for _, msg in failures], len(images))
        ok = ~np.isnan(F).any(axis=1) if failures else slice(None)
        F[ok] = _normalize_rows(F[ok], self.normalize_)
        return F

    def feature_maps(self, image, layers=None) -> dict[int, np.ndarray]:
        """Activations of one image after chosen layers, for visualisation.

        The image is preprocessed as in :meth:`transform` and run through
        ``features`` (whatever ``layer`` is) up to the deepest requested layer.

        Parameters
        ----------
        image : str, os.PathLike, PIL.Image.Image or ndarray
            One image, in any form :meth:`transform` accepts per item.
        layers : sequence of int or str, default=None
            Indices into ``features`` or names from :data:`~robustkmeans._vgg16.LAYER_NAMES`,
            at least one (an empty sequence raises a ValueError). ``None`` means
            :data:`~robustkmeans._vgg16.FEATURE_MAP_LAYERS`, the outputs at indices
            1, 2, 3, 8, 15, 22 and 29.

        Returns
        -------
        maps : dict of int to ndarray of shape (C, H, W), dtype float32
            For each requested layer index (in the order given), the
            activation map of the image: ``C`` channels of ``H`` x ``W``
            (see :data:`~robustkmeans._vgg16.LAYER_NAMES` for what each index is).

        Raises
        ------
        ValueError
            When a layer is unknown, or lies behind more max-pools than the
            fitted ``image_size`` allows (``"pool5"`` needs 32 pixels, the
            default layers 16).

        Examples
        --------
        >>> import numpy as np
        >>> from robustkmeans import VGG16Featurizer
        >>> image = np.zeros((40, 40, 3), dtype=np.uint8)
        >>> maps = VGG16Featurizer(weights=None, image_size=32).fit().feature_maps(image)
        >>> {index: m.shape for index, m in maps.items()}[8]
        (128, 16, 16)
        >>> list(maps)
        [1, 2, 3, 8, 15, 22, 29]
        """
        check_is_fitted(self, "weights_id_")
        torch = _import_torch()
        self._check_device_here(torch)
        indices = _resolve_layers(layers)
        deepest = max(indices)
        _fitting_map_shape(
            deepest, self.image_size_, f"layer {LAYER_NAMES[deepest]!r} (index {deepest})"
        )
        if isinstance(image, (list, tuple)):
            raise TypeError(
                f"feature_maps takes one image, got a {type(image).__name__}; call it once "
                "per image."
            )
        # (as transform reads an item of X: a byte-string path too; a user review)
        image = as_image_list([image], name="feature_maps")[0]
        rgb = resize_rgb(load_rgb(image), self.image_size_)
        x = to_normalized_tensor(rgb[None], memory_format=torch.channels_last)
        features = self._features_module()
        wanted = set(indices)
        maps = {}
        with torch.inference_mode(), _full_float32(torch, self.device_):
            x = x.to(self.device_)
            for i in range(max(indices) + 1):
                x = features[i](x)
                if i in wanted:
                    # Copy now: the in-place ReLU that follows would overwrite a conv output.
                    maps[i] = x[0].float().cpu().contiguous().numpy().copy()
        return {i: maps[i] for i in indices}

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        ``vgg16_<layer>_<pooling><channel>`` for pooled outputs, e.g.
        ``vgg16_pool5_avg17``; ``vgg16_<layer>_c<channel>_y<row>_x<col>``
        without pooling.

        Parameters
        ----------
        input_features : None
            Ignored; images have no input feature names.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``n_features_out_`` names, in the order of the columns of ``transform``.
        """
        check_is_fitted(self, "weights_id_")
        prefix = f"vgg16_{self.layer_name_}"
        C, H, W = self.feature_map_shape_
        if self.pooling_ is not None:
            names = [f"{prefix}_{self.pooling_}{c}" for c in range(C)]
        else:
            names = [
                f"{prefix}_c{c}_y{i}_x{j}" for c in range(C) for i in range(H) for j in range(W)
            ]
        return np.asarray(names, dtype=object)

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state.pop("_model", None)  # the torch module is rebuilt on demand, never pickled
        state.pop("_model_key", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "weights_id_" in self.__dict__:
            # fitted by a version without these attributes, which read the parameters
            self.__dict__.setdefault("pooling_", self.pooling)
            self.__dict__.setdefault("normalize_", self.normalize)
            self.__dict__.setdefault("image_size_", int(self.image_size))
            if self.device == "auto" and str(self.device_).startswith("cuda"):
                self._auto_device_here()

    def _auto_device_here(self) -> None:
        """For ``device="auto"`` fitted on a GPU and unpickled where CUDA is not
        available: the CPU, with the batch size and threads ``fit`` gives it there."""
        try:
            torch = _import_torch()
        except ImportError:  # transform says what to install
            return
        if _missing_cuda_device(torch, torch.device(self.device_)) is not None:
            self.device_ = "cpu"
            self.batch_size_, self.n_workers_ = self._batch_size_and_workers("cpu")
