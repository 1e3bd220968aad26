"""VGG16Featurizer: equality with a hand-written torchvision pipeline, weights, errors, reuse."""

import hashlib
import os
import pickle
import subprocess
import sys
import time
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from PIL import Image  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402
from torchvision import transforms  # noqa: E402

from robustkmeans import VGG16Featurizer  # noqa: E402
from robustkmeans import _vgg16 as vgg_module  # noqa: E402
from robustkmeans._images import IMAGENET_MEAN, IMAGENET_STD, ImageLoadError  # noqa: E402

SIZE = 48  # small images keep the network cheap; pool5 is then 1x1, pool4 3x3

REAL_WEIGHTS = Path(__file__).resolve().parents[1].parent / (
    "shared/weights/vgg16_features_imagenet1k_v1.pth"
)


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """A state dict for vgg16().features, written by the test (not the real weights)."""
    torch.manual_seed(1234)
    features = torchvision.models.vgg16(weights=None).features
    path = tmp_path_factory.mktemp("weights") / "features.pth"
    torch.save(features.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def reference_features(weights_file):
    features = torchvision.models.vgg16(weights=None).features
    state = torch.load(weights_file, map_location="cpu", weights_only=True)
    features.load_state_dict(state, strict=True)
    return features.eval()


def _photo_like(seed, h=57, w=71):
    """Smooth random images (like photos, unlike white noise), uint8 RGB."""
    rng = np.random.RandomState(seed)
    small = rng.randint(0, 256, size=(6, 7, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


def _reference(features, pil_images, *, size=SIZE, normalize="l2", pooling="avg", stop=30):
    """The hand-written torchvision pipeline the featurizer must reproduce."""
    pipeline = transforms.Compose(
        [
            transforms.Resize((size, size)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    x = torch.stack([pipeline(img) for img in pil_images])
    with torch.no_grad():
        maps = features[: stop + 1](x)
    if pooling == "avg":
        F = maps.mean(dim=(2, 3))
    elif pooling == "max":
        F = maps.amax(dim=(2, 3))
    else:
        F = maps.flatten(1)
    F = F.numpy().astype(np.float64)
    if normalize == "power":
        F = np.sign(F) * np.sqrt(np.abs(F))
    if normalize in ("l2", "power"):
        F = F / np.linalg.norm(F, axis=1, keepdims=True)
    return F


def _assert_close(got, expected, atol=1e-5):
    assert got.dtype == np.float32
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol * scale)


@pytest.fixture(scope="module")
def image_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    paths = []
    for i in range(5):
        path = root / f"img{i}.{'jpg' if i % 2 else 'png'}"
        Image.fromarray(_photo_like(i)).save(path, quality=92)
        paths.append(path)
    return paths


def test_byte_string_paths_give_the_features_of_their_str_paths(image_files):
    # (a fixed batch size: "auto" sizes its first batch apart, 3e-7 off the next calls)
    featurizer = VGG16Featurizer(weights=None, image_size=32, batch_size=2).fit()
    names = [str(p) for p in image_files[:2]]
    expected = featurizer.transform(names)
    np.testing.assert_array_equal(featurizer.transform(np.array(names, dtype=bytes)), expected)
    with pytest.raises(ImageLoadError, match="missing.png"):  # named, as a str path is
        featurizer.transform(np.array([b"missing.png"]))


def _count_forward(monkeypatch):
    """Count the images that go through the network."""
    seen = {"images": 0, "calls": 0}
    original = vgg_module._VGG16TrunkBase.forward

    def counting_forward(self, x):
        seen["images"] += x.shape[0]
        seen["calls"] += 1
        return original(self, x)

    monkeypatch.setattr(vgg_module._VGG16TrunkBase, "forward", counting_forward)
    return seen


# ----------------------------------------------------------------------------- exactness


@pytest.mark.parametrize("form", ["str", "pathlib", "pil", "arrays", "batch_array"])
def test_features_equal_torchvision_pipeline(form, weights_file, reference_features, image_files):
    pil = [Image.open(p).convert("RGB") for p in image_files]
    expected = _reference(reference_features, pil)
    if form == "str":
        X = [str(p) for p in image_files]
    elif form == "pathlib":
        X = list(image_files)
    elif form == "pil":
        X = [Image.open(p) for p in image_files]
    elif form == "arrays":
        X = [np.asarray(img) for img in pil]
    else:
        X = np.stack([np.asarray(img.resize((40, 30))) for img in pil])
        expected = _reference(reference_features, [Image.fromarray(a) for a in X])
    featurizer = VGG16Featurizer(weights=weights_file, image_size=SIZE, batch_size=2)
    F = featurizer.fit_transform(X)
    assert F.shape == (len(image_files), 512)
    _assert_close(F, expected)


@pytest.mark.parametrize("normalize", [None, "l2", "power"])
@pytest.mark.parametrize(
    # conv4_3 is the convolution before its ReLU: 6 x 6 maps with negative values
    ("layer", "pooling"),
    [("pool5", "avg"), ("relu4_3", "max"), (23, None), ("conv4_3", "avg")],
)
def test_layers_poolings_normalisations_equal_reference(
    layer, pooling, normalize, weights_file, reference_features, image_files
):
    pil = [Image.open(p).convert("RGB") for p in image_files[:3]]
    featurizer = VGG16Featurizer(
        weights=weights_file, layer=layer, pooling=pooling, normalize=normalize, image_size=SIZE
    ).fit()
    stop = featurizer.layer_index_
    expected = _reference(reference_features, pil, normalize=normalize, pooling=pooling, stop=stop)
    F = featurizer.transform(pil)
    assert F.shape == (3, featurizer.n_features_out_)
    assert len(featurizer.get_feature_names_out()) == featurizer.n_features_out_
    _assert_close(F, expected)


def test_l2_rows_have_unit_norm_and_power_is_sqrt_then_l2(image_files):
    raw = VGG16Featurizer(weights=None, image_size=32, normalize=None).fit_transform(image_files)
    l2 = VGG16Featurizer(weights=None, image_size=32).fit_transform(image_files)
    power = VGG16Featurizer(weights=None, image_size=32, normalize="power").fit_transform(
        image_files
    )
    assert (raw >= 0).all() and not np.allclose(np.linalg.norm(raw, axis=1), 1)
    np.testing.assert_allclose(np.linalg.norm(l2, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(l2, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    root = np.sqrt(raw)
    np.testing.assert_allclose(power, root / np.linalg.norm(root, axis=1, keepdims=True), atol=1e-6)


def test_tiny_and_huge_images_give_reference_features(tmp_path, weights_file, reference_features):
    tiny = np.array([[[200, 30, 90]]], dtype=np.uint8)
    huge = Image.fromarray(_photo_like(7)).resize((4000, 3000), Image.Resampling.BILINEAR)
    huge = np.asarray(huge)
    Image.fromarray(tiny).save(tmp_path / "tiny.png")
    Image.fromarray(huge).save(tmp_path / "huge.jpg", quality=85)
    paths = [tmp_path / "tiny.png", tmp_path / "huge.jpg"]
    expected = _reference(reference_features, [Image.open(p).convert("RGB") for p in paths])
    F = VGG16Featurizer(weights=weights_file, image_size=SIZE).fit_transform(paths)
    _assert_close(F, expected)


# ----------------------------------------------------------------------------- weights


@pytest.mark.parametrize(
    "form", ["features.", "module.features.", "checkpoint", "tutorial checkpoint"]
)
def test_full_model_state_dict_with_features_prefix(tmp_path, weights_file, image_files, form):
    # a whole vgg16's state dict, one saved from nn.DataParallel (module.), a
    # training checkpoint {"state_dict": ...}, or one as PyTorch's tutorial
    # "Saving and loading a general checkpoint" writes it {"model_state_dict": ...}
    state = torch.load(weights_file, weights_only=True)
    prefix = "features." if "checkpoint" in form else form
    full = {f"{prefix}{k}": v for k, v in state.items()}
    full[prefix.replace("features.", "classifier.0.weight")] = torch.zeros(2, 3)  # never loaded
    if form == "checkpoint":
        full = {"state_dict": full, "epoch": torch.tensor(3)}
    elif form == "tutorial checkpoint":
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
        full = {
            "epoch": 3,
            "model_state_dict": full,
            "optimizer_state_dict": optimizer.state_dict(),
            "loss": torch.tensor(0.25),
        }
    torch.save(full, tmp_path / "full.pth")
    # A fixed batch size makes the output repeat bit for bit.
    a = VGG16Featurizer(weights=weights_file, image_size=32, batch_size=2).fit_transform(
        image_files
    )
    b = VGG16Featurizer(weights=tmp_path / "full.pth", image_size=32, batch_size=2)
    np.testing.assert_array_equal(a, b.fit_transform(image_files))


def test_weights_change_the_features_and_the_identity(weights_file, image_files):
    a = VGG16Featurizer(weights=weights_file, image_size=32).fit(image_files)
    b = VGG16Featurizer(weights=None, image_size=32).fit(image_files)
    assert a.weights_id_.startswith("sha256:") and a.weights_id_ != b.weights_id_
    assert a.weights_path_ == os.fspath(weights_file) and b.weights_path_ is None
    assert not np.allclose(a.transform(image_files), b.transform(image_files))


def test_bad_weights_files_say_what_is_wrong(tmp_path, image_files, weights_file):
    torch.save({"0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "partial.pth")
    extra = torch.load(weights_file, weights_only=True)
    extra["31.weight"] = torch.zeros(1)  # a layer vgg16().features does not have
    torch.save(extra, tmp_path / "extra.pth")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a torch file")
    (tmp_path / "empty.pth").write_bytes(b"")
    torch.save({"0.weight": __import__("fractions").Fraction(1, 2)}, tmp_path / "objects.pth")
    not_a_state_dict = r"is not a torch state dict of vgg16\(\)\.features: "
    for name, match in [
        ("partial.pth", "missing keys.*'0.bias'"),
        ("extra.pth", r"missing keys \[\], unexpected keys \['31.weight'\]"),
        ("list.pth", "list, not a state dict"),
        # torch's own reasons were blank (empty), "'101'" (text), or a paragraph
        # advising weights_only=False
        ("garbage.pth", not_a_state_dict + "torch.load cannot read it"),
        ("empty.pth", not_a_state_dict + "the file is empty"),
        ("objects.pth", not_a_state_dict + r"it holds pickled Python objects \(fractions"),
    ]:
        # refused by fit, before any image is read
        with pytest.raises(ValueError, match=match) as info:
            VGG16Featurizer(weights=tmp_path / name, image_size=32).fit()
        message = str(info.value)
        assert name in message and "\n" not in message and "weights_only=False" not in message
        if match.startswith(not_a_state_dict):
            assert message.endswith("Save one with torch.save(vgg16.features.state_dict(), path).")
    with pytest.raises(FileNotFoundError, match="not an existing file"):
        VGG16Featurizer(weights=tmp_path / "absent.pth").fit()
    with pytest.raises(IsADirectoryError, match="is a folder; pass the weights file itself"):
        VGG16Featurizer(weights=tmp_path).fit()


def test_weights_file_loads_with_warnings_as_errors(weights_file):
    # torch 2.1's weights_only loader warns, once per process, that TypedStorage is
    # deprecated (its own use): under warnings as errors (python -W error, a
    # project's pytest filterwarnings = error), fit called the file unreadable
    # ("torch.load cannot read it"). A new process, as the warning is given once
    code = (
        "import sys, warnings, numpy as np, torch; from robustkmeans import VGG16Featurizer; "
        "warnings.simplefilter('error'); "  # (after the imports: their own are not ours)
        "f = VGG16Featurizer(weights=sys.argv[1], image_size=32).fit(); "
        "print(f.transform(np.zeros((1, 32, 32, 3), np.uint8)).shape)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(weights_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 512)"


def test_weights_of_the_wrong_shape_are_named_on_one_line(tmp_path, weights_file):
    # torch's load_state_dict message ran over lines ("Error(s) in loading
    # state_dict for Sequential:\n\tsize mismatch for ...")
    state = torch.load(weights_file, weights_only=True)
    state["0.weight"] = torch.zeros(64, 3, 5, 5)  # a 5x5 first convolution
    state["2.bias"] = torch.zeros(32)
    torch.save(state, tmp_path / "other.pth")
    with pytest.raises(ValueError) as info:
        VGG16Featurizer(weights=tmp_path / "other.pth", image_size=32).fit()
    message = str(info.value)
    assert "\n" not in message and "other.pth" in message
    assert "'0.weight' has shape (64, 3, 5, 5), vgg16().features needs (64, 3, 3, 3)" in message
    assert "'2.bias' has shape (32,), vgg16().features needs (64,)" in message


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_weights_with_non_finite_values_are_refused(tmp_path, weights_file, image_files, value):
    # (a diverged training run saves them): every feature was NaN, without a word,
    # and the rows looked like those of unreadable images under on_error="nan"
    state = torch.load(weights_file, weights_only=True)
    state["19.bias"][7] = value
    torch.save(state, tmp_path / "diverged.pth")
    with pytest.raises(ValueError, match=r"diverged\.pth' holds non-finite values .*'19\.bias'"):
        VGG16Featurizer(weights=tmp_path / "diverged.pth", image_size=32).fit()


def test_weights_under_home_are_expanded(tmp_path, monkeypatch, weights_file):
    # as cache="~/features" is (and as a shell would): "~/..." was not found,
    # in the parameter and in the environment variable (set in a .env file)
    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    (home / "models" / "vgg16.pth").write_bytes(weights_file.read_bytes())
    monkeypatch.setenv("HOME", os.fspath(home))
    monkeypatch.chdir(tmp_path)
    fitted = VGG16Featurizer(weights="~/models/vgg16.pth", image_size=32).fit()
    assert fitted.weights_path_ == os.fspath(home / "models" / "vgg16.pth")
    monkeypatch.setenv(vgg_module.WEIGHTS_ENV, "~/models/vgg16.pth")
    fitted = VGG16Featurizer(image_size=32).fit()
    assert fitted.weights_path_ == os.fspath(home / "models" / "vgg16.pth")


def test_env_var_points_imagenet_weights_at_a_local_file(monkeypatch, weights_file, image_files):
    monkeypatch.setenv(vgg_module.WEIGHTS_ENV, os.fspath(weights_file))
    featurizer = VGG16Featurizer(image_size=32, batch_size=2).fit()
    assert featurizer.weights_path_ == os.fspath(weights_file)
    np.testing.assert_array_equal(
        featurizer.transform(image_files),
        VGG16Featurizer(weights=weights_file, image_size=32, batch_size=2).fit_transform(
            image_files
        ),
    )
    monkeypatch.setenv(vgg_module.WEIGHTS_ENV, "/no/such/weights.pth")
    with pytest.raises(FileNotFoundError, match="ROBUSTKMEANS_VGG16_WEIGHTS"):
        VGG16Featurizer().fit()


def test_offline_without_weights_raises_instructions_never_random(monkeypatch, tmp_path):
    monkeypatch.delenv(vgg_module.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: os.fspath(tmp_path / "hub"))
    attempts = []

    def offline(url, dst, *args, **kwargs):
        attempts.append((url, kwargs.get("hash_prefix")))
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    featurizer = VGG16Featurizer()
    with pytest.raises(RuntimeError) as info:
        featurizer.fit()
    message = str(info.value)
    assert "ROBUSTKMEANS_VGG16_WEIGHTS=" in message and "weights=" in message
    assert "shared/weights" not in message and "this project" not in message  # no one's layout
    assert "vgg16-397923af.pth" in message and "unreachable" in message
    # checked against the SHA-256 prefix that torchvision's file name carries
    assert attempts == [(vgg_module._IMAGENET1K_V1_URL, "397923af")]
    assert not hasattr(featurizer, "weights_id_")  # nothing half-fitted


def test_hub_cache_file_is_used_without_download(monkeypatch, tmp_path, weights_file):
    monkeypatch.delenv(vgg_module.WEIGHTS_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: os.fspath(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    cached = tmp_path / "checkpoints" / "vgg16-397923af.pth"
    state = torch.load(weights_file, weights_only=True)
    torch.save({f"features.{k}": v for k, v in state.items()}, cached)

    def no_download(*args, **kwargs):
        raise AssertionError("must not download when the hub cache has the file")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    assert VGG16Featurizer().fit().weights_path_ == os.fspath(cached)


# ----------------------------------------------------------------------------- parameters


def test_layer_names_indices_and_shapes():
    for layer, index, shape in [
        ("pool5", 30, (512, 1, 1)),
        ("conv4_3", 21, (512, 4, 4)),
        ("relu4_3", 22, (512, 4, 4)),
        ("conv1_1", 0, (64, 32, 32)),
        (9, 9, (128, 8, 8)),
    ]:
        featurizer = VGG16Featurizer(weights=None, layer=layer, image_size=32).fit()
        assert featurizer.layer_index_ == index
        assert featurizer.feature_map_shape_ == shape
    flat = VGG16Featurizer(weights=None, layer="pool4", pooling=None, image_size=32).fit()
    assert flat.n_features_out_ == 512 * 2 * 2
    names = flat.get_feature_names_out()
    assert names[0] == "vgg16_pool4_c0_y0_x0" and names[5] == "vgg16_pool4_c1_y0_x1"
    assert VGG16Featurizer(weights=None, image_size=32).fit().get_feature_names_out()[3] == (
        "vgg16_pool5_avg3"
    )


def test_invalid_parameters_say_what_is_allowed():
    with pytest.raises(ValueError, match="conv4_3"):
        VGG16Featurizer(weights=None, layer="conv9_9").fit()
    with pytest.raises(ValueError, match="image_size >= 32"):
        VGG16Featurizer(weights=None, image_size=16).fit()
    with pytest.raises(InvalidParameterError, match="pooling"):
        VGG16Featurizer(weights=None, pooling="median").fit()
    with pytest.raises(InvalidParameterError, match="on_error"):
        VGG16Featurizer(weights=None, on_error="skip").fit()
    with pytest.raises(ValueError, match="not a torch device"):
        VGG16Featurizer(weights=None, device="gpu0").fit()
    with pytest.raises(ValueError, match="layer=True is a bool, not a layer"):
        VGG16Featurizer(weights=None, layer=True).fit()
    with pytest.raises(ValueError, match="layer=False is a bool"):
        VGG16Featurizer(weights=None, image_size=32).fit().feature_maps(np.zeros((8, 8)), False)


def test_device_resolution():
    featurizer = VGG16Featurizer(weights=None, device="auto", image_size=32).fit()
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert featurizer.device_ == expected
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cpu'"):
            VGG16Featurizer(weights=None, device="cuda").fit()


@pytest.mark.parametrize("device", ["meta", "mps", "xpu"])
def test_devices_other_than_cpu_and_cuda_are_refused(device):
    # "meta" gave garbage features, "mps" a raw torch RuntimeError in transform.
    match = f"device='{device}' is not supported.*'cpu', 'cuda', 'cuda:<index>' or 'auto'"
    with pytest.raises(ValueError, match=match):
        VGG16Featurizer(weights=None, image_size=32, device=device).fit()


def test_a_cuda_device_that_is_not_there_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(ValueError, match=r"'cuda:2' is not available: there are 2 CUDA"):
        VGG16Featurizer(weights=None, image_size=32, device="cuda:2").fit()


@pytest.mark.parametrize(
    "available, count, device, message",
    [
        (
            False,
            0,
            "cuda",
            "device='cuda' but torch.cuda.is_available() is False; use device='cpu' or "
            "device='auto'.",
        ),
        (
            False,
            0,
            "cuda:1",
            "device='cuda:1' but torch.cuda.is_available() is False; use device='cpu' or "
            "device='auto'.",
        ),
        (
            True,
            1,
            "cuda:1",
            "device='cuda:1' is not available: there are 1 CUDA device(s), cuda:0 to cuda:0; "
            "use one of them or 'cuda'.",
        ),
    ],
)
def test_the_messages_of_a_cuda_device_that_is_not_there(
    monkeypatch, image_files, available, count, device, message
):
    # the messages of the one rule (_missing_cuda_device) as fit, transform and the
    # command line word it
    with monkeypatch.context() as m:
        m.setattr(torch.cuda, "is_available", lambda: available)
        m.setattr(torch.cuda, "device_count", lambda: count)
        with pytest.raises(ValueError) as info:
            VGG16Featurizer(weights=None, image_size=32, device=device).fit()
    assert str(info.value) == message
    restored = pickle.loads(_fitted_on_a_gpu(monkeypatch, device, count=2))
    why = f"there are {count} CUDA device(s)" if available else "torch.cuda.is_available() is False"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    if device == "cuda" and available:
        return
    with pytest.raises(ValueError) as info:
        restored.transform(image_files[:1])
    assert str(info.value) == (
        f"This VGG16Featurizer was fitted on device {device!r}, which is not available here "
        f"({why}); was it fitted on another machine? Run set_params(device='cpu').fit() (or "
        "device='auto') on the featurizer: its fit reads no images, so in a Pipeline the "
        "steps after it stay fitted."
    )
    from robustkmeans.cli import UserError, _check_device

    with pytest.raises(UserError) as info:
        _check_device(device)
    if available:
        assert str(info.value) == (
            f"--device {device}: there are {count} CUDA device(s), cuda:0 to cuda:{count - 1}; "
            "use one of them or --device cuda."
        )
    else:
        assert str(info.value) == (
            f"--device {device}: torch finds no CUDA GPU on this machine; use --device cpu, "
            "or --device auto (the GPU when there is one)."
        )
    assert _check_device("cpu") == "cpu" and _check_device("auto") == "auto"


def _fitted_on_a_gpu(monkeypatch, device, count=1):
    """A featurizer fitted where CUDA was available, pickled: what a pipeline
    grid-searched on a GPU machine and saved gives a machine without one."""
    with monkeypatch.context() as m:
        m.setattr(torch.cuda, "is_available", lambda: True)
        m.setattr(torch.cuda, "device_count", lambda: count)
        featurizer = VGG16Featurizer(weights=None, image_size=32, device=device).fit()
    return pickle.dumps(featurizer)


def test_device_auto_fitted_on_a_gpu_runs_on_the_cpu_where_cuda_is_not(monkeypatch, image_files):
    blob = _fitted_on_a_gpu(monkeypatch, "auto")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = pickle.loads(blob)
    # as fit resolves "auto" on this machine: the CPU, with the CPU's batch and threads
    assert (restored.device_, restored.batch_size_, restored.n_workers_) == ("cpu", "auto", 1)
    expected = VGG16Featurizer(weights=None, image_size=32).fit().transform(image_files[:2])
    np.testing.assert_allclose(restored.transform(image_files[:2]), expected, atol=1e-6)


@pytest.mark.parametrize("device, count", [("cuda", 1), ("cuda:1", 2)])
def test_a_cuda_device_fitted_but_not_there_says_what_to_do(
    monkeypatch, image_files, device, count
):
    blob = _fitted_on_a_gpu(monkeypatch, device, count)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: device == "cuda:1")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    restored = pickle.loads(blob)
    assert restored.device_ == device  # asked for by name: not moved behind the user's back
    match = rf"fitted on device {device!r}, .* not available here.*set_params\(device='cpu'\)"
    with pytest.raises(ValueError, match=match):
        restored.transform(image_files[:1])
    with pytest.raises(ValueError, match=match):
        restored.feature_maps(image_files[0], layers=[1])
    # the way out the message gives: the featurizer's fit reads no images
    restored.set_params(device="cpu").fit()
    assert restored.transform(image_files[:1]).shape == (1, 512)


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        VGG16Featurizer(weights=None).transform([np.zeros((4, 4, 3), np.uint8)])


def test_progress_bar_counts_images(capsys):
    pytest.importorskip("tqdm")
    images = np.stack([_photo_like(i, 32, 32) for i in range(3)])
    F = VGG16Featurizer(weights=None, image_size=32, progress=True).fit_transform(images)
    assert F.shape == (3, 512)
    err = capsys.readouterr().err
    assert "3/3" in err and "img/s" in err


# ----------------------------------------------------------------------------- errors


def test_bad_inputs_raise_naming_the_file(tmp_path, image_files):
    good = image_files[0].read_bytes()
    jpg = tmp_path / "good.jpg"
    Image.fromarray(_photo_like(0)).save(jpg, quality=90)
    (tmp_path / "truncated.jpg").write_bytes(jpg.read_bytes()[:300])
    (tmp_path / "text.jpg").write_text("hello, I am text\n")
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert good
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    for name, reason in [
        ("missing.jpg", "file not found"),
        ("truncated.jpg", "truncated"),
        ("text.jpg", "text"),
        ("empty.jpg", "empty"),
    ]:
        bad = tmp_path / name
        with pytest.raises(ImageLoadError, match=reason) as info:
            featurizer.transform([image_files[1], bad, image_files[2]])
        assert os.fspath(bad) in str(info.value)


def test_an_unreadable_image_in_a_pipeline_says_what_to_do(tmp_path, image_files):
    # fit and predict of Pipeline(featurizer, clusterer) stop at the first
    # unreadable image: the message names it and says what to do about it
    from robustkmeans import LossKMeans

    pipe = Pipeline([("f", VGG16Featurizer(weights=None, image_size=32)), ("c", LossKMeans(2))])
    missing = tmp_path / "missing photo.jpg"
    for call in (pipe.fit, pipe.fit(image_files).predict):
        with pytest.raises(ImageLoadError) as info:
            call([*image_files[:2], missing])
        message = str(info.value)
        assert message.startswith(f"Cannot read image {os.fspath(missing)!r}: file not found")
        assert "Remove or replace it in X" in message and "on_error='nan'" in message
        # as a grid search's worker sends it back (n_jobs=2, error_score="raise")
        assert str(pickle.loads(pickle.dumps(info.value))) == message
        assert info.value.reason == "file not found"


def test_on_error_nan_keeps_one_row_per_input(tmp_path, image_files):
    X = [image_files[0], tmp_path / "missing.jpg", image_files[1]]
    featurizer = VGG16Featurizer(weights=None, image_size=32, on_error="nan")
    with pytest.warns(UserWarning, match="1 of 3 images.*missing.jpg.*file not found") as rec:
        F = featurizer.fit_transform(X)
    # named at this call, not inside scikit-learn's set_output wrapper, nor joblib's
    # Memory, through which a Pipeline calls its steps
    assert [w.filename for w in rec] == [__file__]
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    with pytest.warns(UserWarning, match="1 of 3 images") as rec:
        make_pipeline(featurizer, FunctionTransformer()).fit_transform(X)
    assert [w.filename for w in rec] == [__file__]
    assert F.shape == (3, 512)
    assert np.isnan(F[1]).all() and np.isfinite(F[[0, 2]]).all()
    good = VGG16Featurizer(weights=None, image_size=32).fit_transform([X[0], X[2]])
    np.testing.assert_allclose(F[[0, 2]], good, atol=1e-6)


# ----------------------------------------------------------------------------- model lifecycle


def test_model_is_built_once_and_reused(monkeypatch, image_files):
    vgg_module._MODEL_MEMO.clear()
    loads = []
    original = vgg_module._load_features
    monkeypatch.setattr(vgg_module, "_load_features", lambda *a: loads.append(a) or original(*a))
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    featurizer.transform(image_files[:2])
    model = featurizer._model
    featurizer.transform(image_files[2:])
    assert featurizer._model is model
    # A clone (as GridSearchCV makes) shares the loaded weights too.
    clone(featurizer).fit().transform(image_files[:1])
    assert len(loads) == 1


def test_pickle_and_clone_exclude_the_model(weights_file, image_files, tmp_path):
    featurizer = VGG16Featurizer(weights=weights_file, image_size=32, batch_size=2).fit()
    F = featurizer.transform(image_files)
    assert featurizer._model is not None
    blob = pickle.dumps(featurizer)
    assert len(blob) < 10_000  # parameters and fitted attributes only, no tensors
    restored = pickle.loads(blob)
    assert not hasattr(restored, "_model")
    np.testing.assert_array_equal(restored.transform(image_files), F)
    cloned = clone(featurizer)
    assert not hasattr(cloned, "weights_id_") and not hasattr(cloned, "_model")


def test_unpickling_needs_no_weights_file(tmp_path, weights_file):
    copy = tmp_path / "w.pth"
    copy.write_bytes(weights_file.read_bytes())
    featurizer = VGG16Featurizer(weights=copy, image_size=32).fit()
    blob = pickle.dumps(featurizer)
    copy.unlink()
    restored = pickle.loads(blob)  # no torch.load here
    assert restored.get_params()["weights"] == copy


def test_weights_replaced_or_removed_after_fit_are_refused(tmp_path, weights_file, image_files):
    path = tmp_path / "w.pth"
    path.write_bytes(weights_file.read_bytes())
    cache = tmp_path / "cache"
    featurizer = VGG16Featurizer(weights=path, image_size=32, cache=cache).fit()
    blob = pickle.dumps(featurizer)
    torch.manual_seed(99)
    torch.save(torchvision.models.vgg16(weights=None).features.state_dict(), path)
    vgg_module._MODEL_MEMO.clear()  # as in a new process
    restored = pickle.loads(blob)
    with pytest.raises(ValueError, match=r"w\.pth' changed since fit: .*Fit again"):
        restored.transform(image_files[:1])
    # Nothing was computed, nor cached under the identity of the fitted weights.
    assert not list(cache.rglob("*.npy"))
    with pytest.raises(ValueError, match="changed since fit"):
        featurizer.transform(image_files[:1])
    path.unlink()
    with pytest.raises(FileNotFoundError, match=r"w\.pth', found at fit, is not found"):
        restored.transform(image_files[:1])


def test_relative_weights_path_survives_chdir(tmp_path, monkeypatch, weights_file, image_files):
    (tmp_path / "w.pth").write_bytes(weights_file.read_bytes())
    monkeypatch.chdir(tmp_path)
    featurizer = VGG16Featurizer(weights="w.pth", image_size=32).fit()
    assert featurizer.weights_path_ == os.fspath(tmp_path / "w.pth")
    monkeypatch.chdir(image_files[0].parent)
    vgg_module._MODEL_MEMO.clear()
    assert featurizer.transform(image_files[:1]).shape == (1, 512)


def test_relative_weights_path_travels_with_a_project(
    tmp_path, monkeypatch, weights_file, image_files
):
    # fitted in project a/ with weights="w.pth", pickled, loaded in a copy b/ of
    # the project after a/ is gone: the relative path is found again from the
    # working folder (the checksum still applies: other weights are refused)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "w.pth").write_bytes(weights_file.read_bytes())
    monkeypatch.chdir(tmp_path / "a")
    blob = pickle.dumps(VGG16Featurizer(weights="w.pth", image_size=32).fit())
    expected = pickle.loads(blob).transform(image_files[:1])
    (tmp_path / "a" / "w.pth").unlink()
    monkeypatch.chdir(tmp_path / "b")
    vgg_module._MODEL_MEMO.clear()
    np.testing.assert_allclose(pickle.loads(blob).transform(image_files[:1]), expected, atol=1e-6)
    monkeypatch.chdir(tmp_path)  # no w.pth here: the message names the fitted path
    vgg_module._MODEL_MEMO.clear()
    with pytest.raises(FileNotFoundError, match="is not found: it was moved or deleted"):
        pickle.loads(blob).transform(image_files[:1])
    # a w.pth of other weights in the working folder is refused, both files named
    other = torch.load(weights_file, weights_only=True)
    other = {k: v + 1 for k, v in other.items()}
    torch.save(other, tmp_path / "w.pth")
    vgg_module._MODEL_MEMO.clear()
    fitted = os.fspath(tmp_path / "a" / "w.pth")
    with pytest.raises(ValueError, match="found at fit, is gone") as info:
        pickle.loads(blob).transform(image_files[:1])
    assert repr(fitted) in str(info.value) and repr(os.fspath(tmp_path / "w.pth")) in str(
        info.value
    )
    # set_params(weights=...) without a new fit: the weights fitted are looked for
    monkeypatch.chdir(tmp_path / "b")
    vgg_module._MODEL_MEMO.clear()
    featurizer = pickle.loads(blob).set_params(weights=os.fspath(tmp_path / "w.pth"))
    np.testing.assert_allclose(featurizer.transform(image_files[:1]), expected, atol=1e-6)


def test_a_pickle_fitted_without_the_fitted_settings_still_transforms(image_files):
    # pooling_, normalize_ and image_size_ are new fitted attributes: a featurizer
    # fitted before them took the parameters, as unpickling now does
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    expected = featurizer.transform(image_files[:2])
    for name in ("pooling_", "normalize_", "image_size_"):
        del featurizer.__dict__[name]
    old = pickle.loads(pickle.dumps(featurizer))
    np.testing.assert_allclose(old.transform(image_files[:2]), expected, atol=1e-6)
    assert old.get_feature_names_out().shape == (512,)


def test_set_params_after_fit_takes_effect_at_the_next_fit(image_files):
    featurizer = VGG16Featurizer(weights=None, image_size=64, batch_size=1).fit()
    F = featurizer.transform(image_files[:2])
    names = featurizer.get_feature_names_out()
    maps = featurizer.feature_maps(image_files[0], layers=[4])
    featurizer.set_params(pooling=None, image_size=8, normalize=None)
    np.testing.assert_array_equal(featurizer.transform(image_files[:2]), F)
    np.testing.assert_array_equal(featurizer.get_feature_names_out(), names)
    np.testing.assert_array_equal(featurizer.feature_maps(image_files[0], layers=[4])[4], maps[4])
    with pytest.raises(ValueError, match="image_size=8 is too small"):
        featurizer.fit()
    featurizer.set_params(image_size=32).fit()
    assert featurizer.transform(image_files[:2]).shape == (2, 512)


# ----------------------------------------------------------------------------- feature maps


def test_feature_maps_match_manual_forward(weights_file, reference_features, image_files):
    featurizer = VGG16Featurizer(weights=weights_file, image_size=SIZE, layer="pool3").fit()
    maps = featurizer.feature_maps(image_files[0])
    assert list(maps) == [1, 2, 3, 8, 15, 22, 29]  # beyond `layer`: maps use all features
    x = transforms.Compose(
        [
            transforms.Resize((SIZE, SIZE)),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )(Image.open(image_files[0]).convert("RGB"))[None]
    with torch.no_grad():
        for index, m in maps.items():
            expected = reference_features[: index + 1](x.clone())[0].numpy()
            assert m.dtype == np.float32 and m.shape == expected.shape
            np.testing.assert_allclose(m, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    # index 2 is conv1_2 before its in-place ReLU: it must keep negative values
    assert (maps[2] < 0).any() and (maps[3] >= 0).all()
    by_name = featurizer.feature_maps(image_files[0], layers=["conv1_2", 0])
    assert list(by_name) == [2, 0] and by_name[0].shape == (64, SIZE, SIZE)


def test_feature_maps_need_at_least_one_layer():
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    image = np.zeros((8, 8, 3), np.uint8)
    for layers in ([], (), np.array([], dtype=int)):
        with pytest.raises(ValueError, match="layers is empty; pass at least one layer"):
            featurizer.feature_maps(image, layers=layers)
    assert list(featurizer.feature_maps(image, layers=np.array([1, 3]))) == [1, 3]


# ----------------------------------------------------------------------------- each image once


def _clusterer():
    try:
        from robustkmeans import LossKMeans

        return LossKMeans(n_clusters=2, n_init=1, random_state=0), {
            "cluster__loss": ["square", "huber", "pseudo_huber", "correntropy"],
            "cluster__delta": [0.5, 1.0, 2.0],
            "cluster__n_clusters": [2, 3],
        }
    except (ImportError, AttributeError):  # pragma: no cover - LossKMeans not there yet
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=2, n_init=1, random_state=0), {
            "cluster__n_clusters": [2, 3, 4, 5],
            "cluster__init": ["k-means++", "random"],
            "cluster__max_iter": [10, 50, 100],
        }


def test_grid_search_runs_the_network_once_per_image(monkeypatch, tmp_path):
    n = 12
    folder = tmp_path / "images"
    folder.mkdir()
    X = []
    for i in range(n):
        path = folder / f"{i:02d}.png"
        Image.fromarray(_photo_like(100 + i, 36, 36)).save(path)
        X.append(os.fspath(path))
    clusterer, grid = _clusterer()
    n_candidates = int(np.prod([len(v) for v in grid.values()]))
    assert n_candidates == 24
    pipe = Pipeline(
        [
            ("features", VGG16Featurizer(weights=None, cache=tmp_path / "cache", image_size=32)),
            ("cluster", clusterer),
        ]
    )
    seen = _count_forward(monkeypatch)
    search = GridSearchCV(pipe, grid, cv=3, error_score="raise").fit(X)
    assert len(search.cv_results_["params"]) == 24
    assert seen["images"] == n  # 24 candidates x 3 splits + refit, network once per image
    # The count is live: without the cache every call pays for the network again.
    VGG16Featurizer(weights=None, image_size=32).fit_transform(X[:3])
    assert seen["images"] == n + 3


def test_decoding_streams_ahead_of_the_network_by_a_bounded_window(monkeypatch):
    """Peak memory does not grow with the number of images: decoding runs at most a
    small window ahead of the forward pass."""
    decoded = {"n": 0}
    original_resize = vgg_module.resize_rgb

    def counting_resize(rgb, size):
        decoded["n"] += 1
        return original_resize(rgb, size)

    monkeypatch.setattr(vgg_module, "resize_rgb", counting_resize)
    seen = _count_forward(monkeypatch)
    ahead = []
    counting_forward = vgg_module._VGG16TrunkBase.forward

    def recording_forward(self, x):
        ahead.append(decoded["n"] - seen["images"])
        return counting_forward(self, x)

    monkeypatch.setattr(vgg_module._VGG16TrunkBase, "forward", recording_forward)
    images = np.stack([_photo_like(i, 32, 32) for i in range(40)])
    F = VGG16Featurizer(weights=None, image_size=32, batch_size=2, n_jobs=1).fit_transform(images)
    assert F.shape == (40, 512) and seen["images"] == 40 and decoded["n"] == 40
    assert len(ahead) == 20
    assert max(ahead) <= 2 + 4  # one batch + the prefetch window, whatever the number of images


def test_auto_batch_size_times_candidates_then_uses_the_fastest():
    tuner = vgg_module._BatchSizeTuner(candidates=(1, 2, 8), reprobe=4)
    per_image = {1: 0.10, 2: 0.05, 8: 0.08}
    sizes = []
    for _ in range(20):
        size = tuner.next_size()
        sizes.append(size)
        tuner.record(size, per_image[size] * size + (5.0 if tuner.runs[size] == 0 else 0))
    assert sizes[:6] == [1, 1, 2, 2, 8, 8]  # each twice: the first pass is warm-up
    assert tuner.sec_per_image == pytest.approx(per_image)
    later = sizes[6:]
    assert later.count(2) >= len(later) - 4 and set(later) - {2}  # mostly 2, re-probes others
    per_image[8] = 0.01  # the load changed: batch 8 is now the fastest
    for _ in range(40):
        size = tuner.next_size()
        tuner.record(size, per_image[size] * size)
    assert tuner.next_size() == 8 or tuner.n_batches % tuner.reprobe == 0


def test_auto_batch_size_gives_the_same_features(image_files):
    auto = VGG16Featurizer(weights=None, image_size=32).fit()
    assert auto.batch_size_ == "auto"
    fixed = VGG16Featurizer(weights=None, image_size=32, batch_size=3).fit()
    np.testing.assert_allclose(auto.transform(image_files), fixed.transform(image_files), atol=1e-6)


def test_duplicate_images_in_one_call_run_once(monkeypatch, tmp_path):
    a, b = _photo_like(1, 32, 32), _photo_like(2, 32, 32)
    seen = _count_forward(monkeypatch)
    featurizer = VGG16Featurizer(weights=None, image_size=32, cache=tmp_path, batch_size=8)
    F = featurizer.fit_transform([a, b, a.copy(), a])
    assert seen["images"] == 2
    np.testing.assert_array_equal(F[0], F[2])
    np.testing.assert_array_equal(F[0], F[3])


@pytest.mark.parametrize("cached", [False, True], ids=["no_cache", "cache"])
@pytest.mark.parametrize("form", ["path", "array"])
def test_copies_in_separate_batches_run_once_and_get_one_row(monkeypatch, tmp_path, cached, form):
    # the network's float32 results depend on the batch: copies of one image run in
    # two batches came out 2e-7 apart without a cache, and a clustering of 12 copies
    # split them into two clusters with a silhouette of 0.985 (a user's review;
    # --cache changed the result). Copies in a call now run once, cache or not
    a, b = _photo_like(1, 32, 32), _photo_like(2, 32, 32)
    if form == "path":
        Image.fromarray(a).save(tmp_path / "a.png")
        Image.fromarray(b).save(tmp_path / "b.png")
        a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    X = [a, a, b, a, a, b, a, a] if form == "path" else [a, a.copy(), b, a, a.copy(), b, a, a]
    seen = _count_forward(monkeypatch)
    cache = tmp_path / "cache" if cached else None
    F = VGG16Featurizer(weights=None, image_size=32, batch_size=3, cache=cache).fit_transform(X)
    assert seen["images"] == 2
    assert len(np.unique(F, axis=0)) == 2
    np.testing.assert_array_equal(F[[0, 1, 3, 4, 6, 7]], np.repeat(F[[0]], 6, axis=0))
    np.testing.assert_array_equal(F[2], F[5])


@pytest.fixture(scope="module")
def large_jpeg(tmp_path_factory):
    """A 12-megapixel noise JPEG: long enough to decode that two threads loading one
    lazily opened PIL image of it overlap every time (5 of 5 runs failed before)."""
    path = tmp_path_factory.mktemp("large") / "large.jpg"
    noise = np.random.default_rng(0).integers(0, 256, size=(3000, 4000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=90)
    return path


@pytest.mark.parametrize("cached", [False, True], ids=["no_cache", "cache"])
def test_one_lazily_opened_pil_image_twice_in_x_with_two_threads(tmp_path, large_jpeg, cached):
    # Pillow loads an Image.open() image on first use and is not safe to load from
    # two threads at once: the photo was reported truncated (on_error="nan" gave a
    # NaN row) or Pillow's OSError / AssertionError escaped (with a cache).
    expected = VGG16Featurizer(weights=None, image_size=32).fit_transform([large_jpeg])
    for repeat in range(3):
        featurizer = VGG16Featurizer(
            weights=None,
            image_size=32,
            n_jobs=2,
            batch_size=2,
            on_error="nan",
            cache=tmp_path / f"cache{repeat}" if cached else None,
        )
        with Image.open(large_jpeg) as image, warnings.catch_warnings():
            warnings.simplefilter("error")  # no "could not be read" warning
            F = featurizer.fit_transform([image, image])
        np.testing.assert_allclose(F, np.vstack([expected, expected]), rtol=1e-5, atol=1e-6)


def test_unreadable_lazily_opened_pil_image_with_a_cache_is_a_nan_row(tmp_path, large_jpeg):
    # content_digest loads the image; its OSError escaped on_error="nan" before.
    (tmp_path / "cut.jpg").write_bytes(large_jpeg.read_bytes()[:20000])
    featurizer = VGG16Featurizer(weights=None, image_size=32, on_error="nan", cache=tmp_path / "c")
    with Image.open(tmp_path / "cut.jpg") as cut:
        with pytest.warns(UserWarning, match=r"1 of 2 images .*X\[0\] \(PIL RGB 4000x3000.*trunc"):
            F = featurizer.fit_transform([cut, np.zeros((8, 8, 3), np.uint8)])
        assert np.isnan(F[0]).all() and np.isfinite(F[1]).all()
        with pytest.raises(ImageLoadError, match=r"X\[0\] \(PIL RGB 4000x3000"):
            VGG16Featurizer(weights=None, image_size=32, cache=tmp_path / "c").fit_transform([cut])


# ----------------------------------------------------------------------------- real weights


@pytest.mark.slow
def test_real_weights_separate_two_photographs():
    """ImageNet weights: crops of two different photographs cluster apart."""
    if not REAL_WEIGHTS.is_file():
        pytest.skip(f"real VGG16 weights not found at {REAL_WEIGHTS}")
    from sklearn.cluster import KMeans
    from sklearn.datasets import load_sample_images
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.RandomState(0)
    crops, labels = [], []
    for label, photo in enumerate(load_sample_images().images):
        for _ in range(8):
            top, left = rng.randint(0, photo.shape[0] - 160), rng.randint(0, photo.shape[1] - 160)
            crops.append(photo[top : top + 160, left : left + 160])
            labels.append(label)
    start = time.perf_counter()
    F = VGG16Featurizer(weights=REAL_WEIGHTS, image_size=112).fit_transform(crops)
    assert time.perf_counter() - start < 60
    pred = KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(F)
    assert adjusted_rand_score(labels, pred) > 0.9


def test_fit_transform_reads_a_generator_of_images_once(image_files):
    # fit and transform each go through X: a one-shot iterator is listed first
    from robustkmeans._demo import ColorHistogramFeaturizer

    for featurizer in (
        VGG16Featurizer(weights=None, image_size=32),
        ColorHistogramFeaturizer(bins=2, image_size=16),
    ):
        from_generator = featurizer.fit_transform(path for path in image_files)
        assert from_generator.shape[0] == len(image_files)
        _assert_close(from_generator, featurizer.transform(list(image_files)))


@pytest.mark.parametrize("normalize", ["l2", "power"])
def test_all_zero_rows_stay_zero_when_normalised(tmp_path, image_files, normalize):
    # weights whose last convolution is zero: relu5_3, so pool5, is zero for every
    # image; normalising keeps such rows zero (as sklearn.preprocessing.normalize),
    # never 0 / 0 = NaN
    torch.manual_seed(0)
    features = torchvision.models.vgg16(weights=None).features
    with torch.no_grad():
        features[28].weight.zero_()
        features[28].bias.zero_()
    path = tmp_path / "dead.pth"
    torch.save(features.state_dict(), path)
    F = VGG16Featurizer(weights=path, image_size=32, normalize=normalize).fit_transform(
        image_files[:2]
    )
    np.testing.assert_array_equal(F, np.zeros((2, 512), np.float32))


def test_feature_maps_refuse_layers_outside_the_network():
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    image = np.zeros((8, 8, 3), np.uint8)
    for layers in ([31], [0, -1], "pool6"):
        with pytest.raises(ValueError, match=r"outside 0\.\.30|not a VGG16 layer name"):
            featurizer.feature_maps(image, layers=layers)
    assert list(featurizer.feature_maps(image, layers=[30, 0])) == [30, 0]


def test_feature_maps_refuse_layers_that_are_no_index_or_list():
    # layers=[3.7] drew layer 3, silently (the constructor refuses 3.0); layers=3.0
    # gave a bare "'float' object is not iterable"; a set drew in its own order
    # (a user review)
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=r"layer=3\.7 is not a layer; use an integer index"):
        featurizer.feature_maps(image, layers=[3.7])
    for layers in (3.0, {3, 4}):
        with pytest.raises(ValueError, match=r"or a list of them, in the order to draw"):
            featurizer.feature_maps(image, layers=layers)
    assert list(featurizer.feature_maps(image, layers=(np.int64(3), "conv1_1"))) == [3, 0]


def test_feature_maps_take_one_image_as_transform_takes_an_item(tmp_path):
    # a byte-string path, which transform reads, gave "got bytes"; a list of one
    # image gave "Cannot read image '(list)'" (a user review)
    from PIL import Image

    path = tmp_path / "black.png"
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(path)
    featurizer = VGG16Featurizer(weights=None, image_size=32).fit()
    by_str = featurizer.feature_maps(str(path), layers=[1])[1]
    np.testing.assert_array_equal(featurizer.feature_maps(os.fsencode(path), layers=[1])[1], by_str)
    with pytest.raises(TypeError, match="feature_maps takes one image, got a list; call it once"):
        featurizer.feature_maps([str(path)], layers=[1])


def test_feature_maps_say_which_layers_a_small_image_size_allows():
    # fitted for layer="pool3" at 8 pixels: pool4 and beyond (the default layers
    # 22 and 29 among them) would pool a 1 x 1 map; torch's error said only
    # "Output size is too small"
    featurizer = VGG16Featurizer(weights=None, image_size=8, layer="pool3").fit()
    image = np.zeros((8, 8, 3), np.uint8)
    for layers in (None, [29], ["pool4"], [0, 30]):
        with pytest.raises(
            ValueError, match=r"image_size=8 is too small .* index 22 \('relu4_3'\)"
        ):
            featurizer.feature_maps(image, layers=layers)
    assert featurizer.feature_maps(image, layers=[22])[22].shape == (512, 1, 1)


def test_n_jobs_resolves_to_the_documented_number_of_threads(monkeypatch):
    # None: 1 on CPU (the forward pass uses the cores); -1: all cores; -2: all but one
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    expected = {None: 1, 1: 1, 3: 3, -1: 4, -2: 3, -4: 1, -9: 1}
    for n_jobs, n_workers in expected.items():
        featurizer = VGG16Featurizer(weights=None, image_size=32, n_jobs=n_jobs).fit()
        assert featurizer.n_workers_ == n_workers, n_jobs


def test_n_jobs_zero_is_refused_naming_the_allowed_values():
    with pytest.raises(ValueError, match=r"n_jobs=0 is not allowed; use None, a positive int"):
        VGG16Featurizer(weights=None, image_size=32, n_jobs=0).fit()


def test_random_weights_are_the_same_each_time_they_are_built(image_files):
    # weights=None is seeded: the features repeat when the module is built again
    # (another process, or once the shared module was dropped), whatever the global
    # torch seed, and building it leaves the global generator as it was
    featurizer = VGG16Featurizer(weights=None, image_size=32, batch_size=2).fit()
    torch.manual_seed(1)
    first = featurizer.transform(image_files[:2])
    state = torch.random.get_rng_state()
    vgg_module._MODEL_MEMO.clear()
    torch.manual_seed(2)
    again = clone(featurizer).fit().transform(image_files[:2])
    np.testing.assert_array_equal(first, again)
    torch.manual_seed(1)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_a_refitted_featurizer_sees_a_weights_file_replaced_in_place(tmp_path, weights_file):
    # the same weights in another form (a checkpoint of the whole model): other
    # bytes, of another length, at the same path
    path = tmp_path / "weights.pth"
    first_bytes = weights_file.read_bytes()
    path.write_bytes(first_bytes)
    first = VGG16Featurizer(weights=path, image_size=32).fit()
    state = torch.load(weights_file, weights_only=True)
    torch.save({"state_dict": {f"features.{k}": v for k, v in state.items()}}, path)
    second = VGG16Featurizer(weights=path, image_size=32).fit()
    assert first.weights_id_ == "sha256:" + hashlib.sha256(first_bytes).hexdigest()
    assert second.weights_id_ == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.weights_id_ != second.weights_id_


def test_a_refit_sees_other_weights_of_the_same_size_and_modification_time(
    tmp_path, weights_file, image_files
):
    # New weights of the same architecture have the same size; a copy that keeps
    # the times (cp -p, rsync -a, tar) or a file system counting whole seconds
    # gives the same mtime: the memoised digest of the old bytes served the old
    # network, and the cache entries keyed by it, to a new fit.
    path = tmp_path / "w.pth"
    state = torch.load(weights_file, weights_only=True)
    torch.save({k: v.clone() for k, v in state.items()}, path)
    before = os.stat(path)
    first = VGG16Featurizer(weights=path, image_size=32).fit()
    expected_first = first.transform(image_files[:1])
    torch.save({k: v.flip(0) for k, v in state.items()}, path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    second = VGG16Featurizer(weights=path, image_size=32).fit()
    assert second.weights_id_ == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert second.weights_id_ != first.weights_id_
    assert not np.allclose(second.transform(image_files[:1]), expected_first, atol=1e-3)


def test_refit_with_another_pooling_uses_it(weights_file, reference_features, image_files):
    # the torch module kept between calls must follow pooling: relu4_3 is 6 x 6 at
    # 48 px, where the average and the maximum differ
    pil = [Image.open(p).convert("RGB") for p in image_files[:2]]
    featurizer = VGG16Featurizer(weights=weights_file, layer="relu4_3", image_size=SIZE).fit()
    featurizer.transform(pil)
    for pooling in ("max", "avg"):
        F = featurizer.set_params(pooling=pooling).fit().transform(pil)
        _assert_close(F, _reference(reference_features, pil, pooling=pooling, stop=22))


def test_concurrent_first_uses_build_the_shared_module_once(monkeypatch):
    # two transforms reaching an unbuilt module at once each built it: weights=None
    # reseeds torch's global generator for its draws, so builds interleaved in two
    # threads drew each other's numbers, and gave features unlike a serial build's
    # (cached under the same key). The second waits for the first build and shares it
    import threading
    from collections import OrderedDict

    monkeypatch.setattr(vgg_module, "_MODEL_MEMO", OrderedDict())
    calls, inside, second = [], threading.Event(), threading.Event()

    def load(path, device, weights_id=None):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            inside.set()
            second.wait(1.0)  # a second build would start while this one runs
        else:
            second.set()
        return object()

    monkeypatch.setattr(vgg_module, "_load_features", load)
    got = {}

    def use(name):
        got[name] = vgg_module._shared_features(None, "random-init", "cpu")

    first = threading.Thread(target=use, args=("first",))
    first.start()
    inside.wait(30)
    use("second")
    first.join()
    assert len(calls) == 1
    assert got["first"] is got["second"]
