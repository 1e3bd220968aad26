"""Feature cache: keyed by content and settings, plain arrays, atomic, never trusts bad entries."""

import os
import shutil
import stat
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from PIL import Image  # noqa: E402

from robustkmeans import VGG16Featurizer  # noqa: E402
from robustkmeans import _vgg16 as vgg_module  # noqa: E402
from robustkmeans._cache import FeatureCache, content_digest  # noqa: E402
from robustkmeans._images import ImageLoadError  # noqa: E402


def _photo_like(seed, h=40, w=44):
    rng = np.random.RandomState(seed)
    small = rng.randint(0, 256, size=(5, 6, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    paths = []
    for i in range(4):
        path = folder / f"{i}.png"
        Image.fromarray(_photo_like(i)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def counter(monkeypatch):
    seen = {"images": 0}
    original = vgg_module._VGG16TrunkBase.forward

    def counting_forward(self, x):
        seen["images"] += x.shape[0]
        return original(self, x)

    monkeypatch.setattr(vgg_module._VGG16TrunkBase, "forward", counting_forward)
    return seen


def _entries(root):
    return sorted(p for p in Path(root).rglob("*.npy"))


def _featurizer(cache, **params):
    # A fixed batch size makes recomputed values repeat bit for bit.
    params = {"weights": None, "image_size": 32, "cache": cache, "batch_size": 2, **params}
    return VGG16Featurizer(**params).fit()


# ----------------------------------------------------------------------------- FeatureCache


def test_entries_are_plain_npy_arrays(tmp_path):
    cache = FeatureCache(tmp_path, {"layer": 30}, shape=(4,))
    values = np.arange(4, dtype=np.float32)
    cache.save("abcdef", values)
    (path,) = _entries(tmp_path)
    np.testing.assert_array_equal(np.load(path, allow_pickle=False), values)
    np.testing.assert_array_equal(cache.load("abcdef"), values)
    assert not [p for p in Path(tmp_path).rglob(".tmp-*")]  # no temporary left behind


def test_a_cache_path_through_a_missing_folder_stores_entries_there_only(tmp_path):
    # "base/new/../cache": makedirs created base/new on the way (left behind);
    # once the folders were made at the system's path, writes through the given
    # one failed, as base/new did not exist, and nothing was ever cached (a
    # review). The entries go to base/cache, and base/new is never made
    (tmp_path / "base").mkdir()
    given = os.path.join(tmp_path, "base", "new", "..", "cache")
    cache = FeatureCache(given, {"layer": 30}, shape=(4,))
    cache.save("abcdef", np.arange(4, dtype=np.float32))
    np.testing.assert_array_equal(cache.load("abcdef"), np.arange(4))
    assert sorted(p.name for p in (tmp_path / "base").iterdir()) == ["cache"]
    assert len(_entries(tmp_path / "base" / "cache")) == 1


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "garbage",
        "wrong_shape",
        "wrong_dtype",
        "nan",
        "pickled_object",
        "damaged_header",
        "directory",
    ],
)
def test_untrustworthy_entries_are_misses(tmp_path, damage):
    cache = FeatureCache(tmp_path, {"layer": 30}, shape=(4,))
    cache.save("abcdef", np.ones(4, np.float32))
    path = cache.path("abcdef")
    if damage == "truncated":
        data = Path(path).read_bytes()
        Path(path).write_bytes(data[: len(data) - 5])
    elif damage == "garbage":
        Path(path).write_bytes(b"\x00garbage")
    elif damage == "wrong_shape":
        np.save(path, np.ones(5, np.float32))
    elif damage == "wrong_dtype":
        np.save(path, np.ones(4, np.float64))
    elif damage == "nan":
        np.save(path, np.array([1, np.nan, 1, 1], np.float32))
    elif damage == "damaged_header":
        # one byte of the header's dict damaged (numpy's parser raised a TokenError)
        data = bytearray(Path(path).read_bytes())
        data[data.index(b"{")] ^= 0xFF
        Path(path).write_bytes(bytes(data))
    elif damage == "directory":
        os.unlink(path)
        os.mkdir(path)
    else:
        np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert cache.load("abcdef") is None


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path, {"layer": 30}, shape=(4,))

    def broken_save(f, arr, allow_pickle=False):
        f.write(b"\x93NUMPY partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        cache.save("abcdef", np.ones(4, np.float32))
    assert _entries(tmp_path) == []
    assert cache.load("abcdef") is None


def test_concurrent_writers_leave_a_complete_entry(tmp_path):
    cache = FeatureCache(tmp_path, {"layer": 30}, shape=(1000,))
    values = [np.full(1000, i, np.float32) for i in range(8)]
    errors = []

    def write(v):
        try:
            for _ in range(20):
                cache.save("samekey", v)
                got = cache.load("samekey")
                assert got is not None and (got == got[0]).all()  # never a mix of writers
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(v,)) for v in values]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(_entries(tmp_path)) == 1


def test_content_digest_ignores_names_but_not_content(tmp_path):
    a = tmp_path / "a.png"
    Image.fromarray(_photo_like(0)).save(a)
    shutil.copy(a, tmp_path / "renamed.png")
    assert content_digest(a) == content_digest(tmp_path / "renamed.png")
    assert content_digest(a) == content_digest(data=a.read_bytes())
    arr = _photo_like(0)
    assert content_digest(arr) == content_digest(arr.copy())
    assert content_digest(arr) != content_digest(_photo_like(1))
    assert content_digest(Image.fromarray(arr)) == content_digest(Image.fromarray(arr.copy()))
    assert content_digest(Image.fromarray(arr)) != content_digest(Image.fromarray(arr).convert("L"))


def test_joblib_memory_uses_its_location(tmp_path):
    joblib = pytest.importorskip("joblib")
    cache = FeatureCache.from_param(joblib.Memory(tmp_path, verbose=0), {"a": 1}, (2,))
    assert cache.root.startswith(os.fspath(tmp_path))
    assert FeatureCache.from_param(joblib.Memory(None), {"a": 1}, (2,)) is None
    with pytest.raises(TypeError, match="joblib.Memory"):
        FeatureCache.from_param(42, {"a": 1}, (2,))


def test_a_file_is_not_a_cache_folder(tmp_path, files):
    # cache= naming an existing file raised a raw NotADirectoryError from deep in
    # transform; it is a ValueError saying what cache must be, raised by fit.
    joblib = pytest.importorskip("joblib")
    afile = tmp_path / "features.npy"
    afile.write_bytes(b"not a folder")
    match = "is a file, not a folder; cache must be a folder .* or a joblib.Memory"
    with pytest.raises(ValueError, match=match):
        FeatureCache.from_param(afile, {"a": 1}, (2,))
    with pytest.raises(ValueError, match="would be inside .*features.npy'?, which is a file"):
        FeatureCache.from_param(afile / "sub", {"a": 1}, (2,))
    memory = joblib.Memory(tmp_path / "memory", verbose=0)
    (tmp_path / "memory" / "robustkmeans_vgg16").write_text("a file")
    with pytest.raises(ValueError, match="joblib.Memory given as cache would use, is a file"):
        FeatureCache.from_param(memory, {"a": 1}, (2,))
    featurizer = VGG16Featurizer(weights=None, image_size=32, cache=str(afile))
    with pytest.raises(ValueError, match=match):
        featurizer.fit()
    with pytest.raises(ValueError, match=match):
        featurizer.fit_transform(files)
    assert afile.read_bytes() == b"not a folder"
    # A folder that does not exist yet is fine: it is created on the first write.
    new = FeatureCache.from_param(tmp_path / "new" / "deeper", {"a": 1}, (2,))
    assert isinstance(new, FeatureCache) and new.root == str(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()
    new.save("ab" * 16, np.array([1.5, -2.0]))
    assert Path(new.path("ab" * 16)).is_relative_to(tmp_path / "new" / "deeper")
    np.testing.assert_array_equal(new.load("ab" * 16), np.array([1.5, -2.0], np.float32))


def test_an_empty_path_is_not_a_cache_folder(tmp_path, files, monkeypatch):
    # cache="" (say os.environ.get("FEATURES", "")) meant the working folder: fit
    # accepted it and transform filled the folder the script ran in with digest-named
    # folders. It is a ValueError, raised by fit, as --cache "" is for the command.
    monkeypatch.chdir(tmp_path)
    match = r"cache='' is an empty path; .*cache=None"
    with pytest.raises(ValueError, match=match):
        FeatureCache.from_param("", {"a": 1}, (2,))
    featurizer = VGG16Featurizer(weights=None, image_size=32, cache="")
    with pytest.raises(ValueError, match=match):
        featurizer.fit()
    with pytest.raises(ValueError, match=match):
        featurizer.fit_transform(files)
    assert [p.name for p in tmp_path.iterdir()] == ["images"]  # nothing written


# ----------------------------------------------------------------------------- featurizer


def test_second_call_reads_the_cache(tmp_path, files, counter):
    first = _featurizer(tmp_path / "c").transform(files)
    assert counter["images"] == 4
    assert len(_entries(tmp_path / "c")) == 4
    again = _featurizer(tmp_path / "c").transform(files[::-1])  # order does not matter
    assert counter["images"] == 4
    np.testing.assert_array_equal(again, first[::-1])


def test_cache_is_keyed_by_content_not_by_file_name(tmp_path, files, counter):
    _featurizer(tmp_path / "c").transform(files[:2])
    copies = []
    for i, path in enumerate(files[:2]):
        copies.append(tmp_path / f"copy{i}.png")
        shutil.copy(path, copies[-1])
    _featurizer(tmp_path / "c").transform(copies)
    assert counter["images"] == 2
    Image.fromarray(_photo_like(99)).save(files[0])  # same name, new content
    _featurizer(tmp_path / "c").transform(files[:1])
    assert counter["images"] == 3


def test_settings_that_change_values_get_their_own_entries(tmp_path, files, counter):
    base = _featurizer(tmp_path / "c").transform(files)
    assert counter["images"] == 4
    # normalize is applied after the cache: no recomputation, values consistent.
    raw = _featurizer(tmp_path / "c", normalize=None).transform(files)
    assert counter["images"] == 4
    np.testing.assert_allclose(base, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-6)
    for params in (
        {"layer": "pool4"},
        {"pooling": "max"},
        {"image_size": 40},
    ):
        _featurizer(tmp_path / "c", **params).transform(files)
    assert counter["images"] == 4 + 3 * 4


def test_other_weights_are_not_served_from_the_cache(tmp_path, files, counter):
    torch.manual_seed(5)
    import torchvision

    weights = tmp_path / "w.pth"
    torch.save(torchvision.models.vgg16(weights=None).features.state_dict(), weights)
    a = _featurizer(tmp_path / "c").transform(files[:2])
    b = _featurizer(tmp_path / "c", weights=weights).transform(files[:2])
    assert counter["images"] == 4
    assert not np.allclose(a, b)


def test_corrupt_entry_is_recomputed_and_replaced(tmp_path, files, counter):
    expected = _featurizer(tmp_path / "c").transform(files[:1])
    (entry,) = _entries(tmp_path / "c")
    entry.write_bytes(entry.read_bytes()[:40])  # a torn file, as if written non-atomically
    got = _featurizer(tmp_path / "c").transform(files[:1])
    assert counter["images"] == 2
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        np.load(entry, allow_pickle=False),
        _featurizer(None, normalize=None).transform(files[:1])[0],
    )


def test_bad_images_leave_nothing_half_written(tmp_path, files):
    (tmp_path / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    (tmp_path / "text.jpg").write_text("not a jpeg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    bad = [tmp_path / n for n in ("truncated.jpg", "text.jpg", "empty.jpg", "missing.jpg")]
    for b in bad:
        with pytest.raises(ImageLoadError, match=os.path.basename(b)):
            _featurizer(tmp_path / "c", batch_size=1).transform([files[0], b, files[1]])
    with pytest.warns(UserWarning, match="4 of 6 images"):
        F = _featurizer(tmp_path / "c", on_error="nan").transform([files[2], *bad, files[3]])
    assert np.isnan(F[1:5]).all() and np.isfinite(F[[0, 5]]).all()
    entries = _entries(tmp_path / "c")
    assert len(entries) <= 4  # only the good images, never the bad ones
    for entry in entries:
        assert np.load(entry, allow_pickle=False).shape == (512,)
    assert not [p for p in Path(tmp_path / "c").rglob(".tmp-*")]


def test_in_memory_images_are_cached_by_pixels(tmp_path, counter):
    images = np.stack([_photo_like(i) for i in range(3)])
    a = _featurizer(tmp_path / "c").transform(images)
    b = _featurizer(tmp_path / "c").transform([Image.fromarray(x) for x in images])
    c = _featurizer(tmp_path / "c").transform(list(images.copy()))
    assert counter["images"] == 3 + 3  # arrays and PIL images hash differently
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("on_error", ["raise", "nan"])
def test_a_pil_image_whose_file_was_closed_is_named_with_a_cache(tmp_path, files, on_error):
    # Hashing it for the cache met Pillow's bare AssertionError first, which escaped
    # transform (on_error="nan" included) instead of the ImageLoadError without one.
    with Image.open(files[0]) as closed:
        pass
    featurizer = _featurizer(tmp_path / "c", on_error=on_error)
    if on_error == "raise":
        with pytest.raises(ImageLoadError, match=r"X\[1\] .* file was closed before"):
            featurizer.transform([files[1], closed])
    else:
        with pytest.warns(UserWarning, match="file was closed before"):
            F = featurizer.transform([files[1], closed])
        assert np.isfinite(F[0]).all() and np.isnan(F[1]).all()


def _sideways_photo(path, orientation=6):
    # stored as a camera writes it, with the EXIF tag saying how to turn it upright
    image = Image.fromarray(_photo_like(7, h=44, w=40))
    image.getexif()[0x0112] = orientation
    image.save(path, exif=image.getexif())
    return path


def _assert_features_of_the_picture_on_white(got, path):
    """``got`` are the features of the image at ``path`` composited on white (what
    a viewer shows); returns that RGB picture."""
    with Image.open(path) as stored:
        white = Image.new("RGBA", stored.size, (255, 255, 255, 255))
        expected = np.asarray(Image.alpha_composite(white, stored.convert("RGBA")).convert("RGB"))
    np.testing.assert_allclose(got, _featurizer(None).transform([expected]), atol=1e-6)
    return expected


def _cache_under_version(monkeypatch, cache, path, version):
    """Cache the features of ``path`` in ``cache`` as an earlier preprocessing
    ``version`` wrote them (the entries a cache of that version holds)."""
    with monkeypatch.context() as m:
        m.setattr(vgg_module, "_PREPROCESS_VERSION", version)
        _featurizer(cache).transform([path])


def test_features_cached_before_photos_were_turned_upright_are_not_reused(
    tmp_path, counter, monkeypatch
):
    # Entries written under the previous preprocessing version hold the features
    # of tagged photos as stored (sideways): they must not be served any more.
    path = _sideways_photo(tmp_path / "sideways.png")
    _cache_under_version(
        monkeypatch, tmp_path / "c", path, "rgb-white-alpha|pil-bilinear-resize|to-tensor|"
        "imagenet-normalize|v2",
    )  # fmt: skip
    assert counter["images"] == 1
    got = _featurizer(tmp_path / "c").transform([path])
    assert counter["images"] == 2  # computed again, under the new version
    with Image.open(path) as stored:
        upright = np.rot90(np.asarray(stored.convert("RGB")), -1)
    np.testing.assert_allclose(got, _featurizer(None).transform([upright]), atol=1e-6)
    assert len(_entries(tmp_path / "c")) == 2  # one per version


def test_features_cached_before_palette_alpha_was_composited_are_not_reused(
    tmp_path, counter, monkeypatch
):
    # A palette TGA file opens with an RGBA palette and no "transparency" entry:
    # before v4 its alpha was dropped, so its entries (keyed by the file's bytes)
    # hold other features than the composited picture gives.
    rgba = np.dstack([_photo_like(8, h=12, w=12), np.repeat([0, 255], 72).reshape(12, 12)])
    path = tmp_path / "palette.tga"
    Image.fromarray(rgba.astype(np.uint8)).convert("P").save(path)
    with Image.open(path) as stored:
        assert stored.mode == "P" and "transparency" not in stored.info
    _cache_under_version(
        monkeypatch, tmp_path / "c", path, "exif-upright|rgb-white-alpha|pil-bilinear-resize|"
        "to-tensor|imagenet-normalize|v3",
    )  # fmt: skip
    got = _featurizer(tmp_path / "c").transform([path])
    assert counter["images"] == 2  # computed again, under the new version
    _assert_features_of_the_picture_on_white(got, path)


def test_features_cached_before_a_png_transparent_colour_was_white_are_not_reused(
    tmp_path, counter, monkeypatch
):
    # An RGB PNG naming one colour transparent (tRNS): before v5 that colour was
    # read as it is stored, so its entries hold other features than the picture
    # composited on white gives.
    rgb = _photo_like(9, h=12, w=12).copy()
    rgb[:6] = 0  # the transparent colour
    path = tmp_path / "keyed.png"
    Image.fromarray(rgb).save(path, transparency=(0, 0, 0))
    _cache_under_version(
        monkeypatch, tmp_path / "c", path, "exif-upright|rgb-white-alpha|pil-bilinear-resize|"
        "to-tensor|imagenet-normalize|v4",
    )  # fmt: skip
    got = _featurizer(tmp_path / "c").transform([path])
    assert counter["images"] == 2  # computed again, under the new version
    expected = _assert_features_of_the_picture_on_white(got, path)
    assert (expected[:6] == 255).all()


def test_pil_images_that_differ_only_by_orientation_tag_get_their_own_entries(tmp_path, counter):
    arr = _photo_like(3)
    plain, tagged = Image.fromarray(arr), Image.fromarray(arr)
    tagged.getexif()[0x0112] = 8
    assert content_digest(plain) != content_digest(tagged)
    assert content_digest(plain) == content_digest(Image.fromarray(arr.copy()))
    a = _featurizer(tmp_path / "c").transform([plain])
    b = _featurizer(tmp_path / "c").transform([tagged])
    assert counter["images"] == 2  # the tagged one is not served the plain one's entry
    np.testing.assert_allclose(b, _featurizer(None).transform([np.rot90(arr, 1)]), atol=1e-6)
    assert not np.allclose(a, b, atol=1e-3)
    # a file keyed by its bytes: the tag is part of them
    _sideways_photo(tmp_path / "x.png", 6)
    _sideways_photo(tmp_path / "y.png", 8)
    assert content_digest(tmp_path / "x.png") != content_digest(tmp_path / "y.png")


@pytest.mark.parametrize(
    "error",
    [PermissionError(13, "Permission denied"), FileNotFoundError(2, "No such file or directory")],
)
def test_failed_writes_warn_once_and_keep_the_features(
    tmp_path, files, counter, monkeypatch, error
):
    cache = tmp_path / "cache"
    _featurizer(cache).transform(files[:2])
    expected = _featurizer(None).transform(files)

    def refuse(self, key, values):  # a read-only folder, or one removed meanwhile
        raise error

    monkeypatch.setattr(FeatureCache, "save", refuse)
    counter["images"] = 0
    with pytest.warns(UserWarning, match="Cannot write to the feature cache") as record:
        got = _featurizer(cache).transform(files)
    assert len(record) == 1
    assert record[0].filename == __file__  # the user's call (not set_output's wrapper)
    message = str(record[0].message)
    assert os.fspath(cache) in message and error.strerror in message
    assert "computed without caching" in message
    np.testing.assert_array_equal(got, expected)
    assert counter["images"] == 2  # the two entries written before were read
    # through a Pipeline, which calls its steps through joblib's Memory
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    with pytest.warns(UserWarning, match="Cannot write to the feature cache") as record:
        make_pipeline(_featurizer(cache), FunctionTransformer()).fit_transform(files)
    assert [w.filename for w in record] == [__file__]  # (not joblib's Memory)


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_entries_get_the_permissions_the_umask_gives(tmp_path, umask):
    # the umask when the entry is written (a group-shared cache sets 002 after
    # import; it was read once, at import, and each file chmod-ed to that)
    before = os.umask(umask)
    try:
        cache = FeatureCache(tmp_path, {"layer": 30}, shape=(2,))
        cache.save("ab12", np.ones(2, np.float32))
    finally:
        os.umask(before)
    for path in [cache.path("ab12"), os.path.join(cache.folder, "settings.json")]:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask, path
    assert not [p for p in os.listdir(cache.folder) if p.startswith(".tmp-")]


def test_a_16_bit_pgm_and_its_copy_get_their_own_entries(tmp_path, counter):
    # The PGM (format "PPM") is scaled by 1/257; its copy (format None), with all
    # values in 0..255, is read as 8-bit: two different images for the network.
    pixels = np.full((40, 40), 200, np.uint16)
    pixels[:20] = 50
    path = tmp_path / "g16.pgm"
    path.write_bytes(b"P5 40 40 65535\n" + pixels.astype(">u2").tobytes())
    image = Image.open(path)
    image.load()
    copy = image.copy()
    assert image.format == "PPM" and copy.format is None
    expected = [_featurizer(None).transform([im])[0] for im in (image, copy)]
    assert not np.allclose(expected[0], expected[1], atol=1e-3)
    cache = tmp_path / "cache"
    got = [_featurizer(cache).transform([im])[0] for im in (image, copy)]
    np.testing.assert_array_equal(got, expected)


def test_numpy_integer_settings_share_the_entries_of_python_ones(tmp_path, files, counter):
    cache = tmp_path / "cache"
    first = _featurizer(cache, image_size=32).transform(files)
    again = _featurizer(cache, image_size=np.int64(32)).transform(files)
    assert counter["images"] == 4
    np.testing.assert_array_equal(again, first)
    assert len(list(cache.iterdir())) == 1


def test_a_cache_folder_under_home_is_expanded(tmp_path, files, monkeypatch):
    monkeypatch.setenv("HOME", os.fspath(tmp_path))
    monkeypatch.chdir(files[0].parent)
    _featurizer("~/features").transform(files[:1])
    assert len(_entries(tmp_path / "features")) == 1
    assert not (files[0].parent / "~").exists()


# ----------------------------------------------------------------------------- one key per image


def _same_bytes_other_image_pairs():
    """Pairs of images whose raw pixel bytes are equal but whose pixels as loaded
    differ: the key must see the dtype, shape, mode, size, palette and transparency."""
    rng = np.random.RandomState(3)
    ones = (rng.rand(12, 12) > 0.5).astype(np.uint8)  # 0/1 values
    colour = _photo_like(5, h=12, w=12)
    gray_wide = np.ascontiguousarray(colour.reshape(12, 36))  # the same bytes, one channel
    wide = Image.fromarray(_photo_like(6, h=8, w=12)[..., 0])  # "L", 12 x 8
    tall = Image.frombytes("L", (8, 12), wide.tobytes())  # the same bytes, 8 x 12
    rgba = Image.fromarray(np.dstack([colour, colour[..., :1]]))  # RGBA
    cmyk = Image.frombytes("CMYK", rgba.size, rgba.tobytes())
    indices = np.repeat(np.arange(4, dtype=np.uint8), 36).reshape(12, 12)
    palette_a = Image.frombytes("P", (12, 12), indices.tobytes())
    palette_a.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 250, 250, 0])
    palette_b = Image.frombytes("P", (12, 12), indices.tobytes())
    palette_b.putpalette([0, 0, 255, 255, 0, 0, 0, 255, 0, 0, 250, 250])
    transparent = palette_a.copy()
    transparent.info["transparency"] = 0  # index 0 (red) is composited on white
    # the same colours with alpha values in the palette (as RGBA.convert("P") gives)
    alpha_palette = Image.frombytes("P", (12, 12), indices.tobytes())
    alpha_palette.putpalette(
        [255, 0, 0, 0, 0, 255, 0, 255, 0, 0, 255, 128, 250, 250, 0, 255], rawmode="RGBA"
    )
    pa_a = Image.merge("PA", (palette_a, Image.new("L", (12, 12), 255)))
    pa_b = Image.merge("PA", (palette_b, Image.new("L", (12, 12), 255)))
    for pa, p in ((pa_a, palette_a), (pa_b, palette_b)):  # (Image.merge drops it in Pillow 9.3)
        pa.putpalette(p.getpalette())
    return {
        "uint8_0_1_vs_bool": (ones, ones.astype(bool)),
        "grayscale_vs_colour_array": (gray_wide, colour),
        "pil_12x8_vs_8x12": (wide, tall),
        "pil_rgba_vs_cmyk": (rgba, cmyk),
        "pil_palettes": (palette_a, palette_b),
        "pil_transparency": (palette_a, transparent),
        "pil_palette_alpha": (palette_a, alpha_palette),
        "pil_pa_palettes": (pa_a, pa_b),
    }


@pytest.mark.parametrize("pair", sorted(_same_bytes_other_image_pairs()))
def test_images_with_the_same_pixel_bytes_get_their_own_entries(tmp_path, counter, pair):
    # Each pair holds the same bytes in different images (a bool array is 0/255, not
    # 0/1; a palette maps the same indices to other colours...): the second must not
    # be served the first's cached features, but get its own, as without a cache.
    a, b = _same_bytes_other_image_pairs()[pair]
    assert content_digest(a) != content_digest(b)
    _featurizer(tmp_path / "c").transform([a])
    got = _featurizer(tmp_path / "c").transform([b])
    assert counter["images"] == 2
    assert len(_entries(tmp_path / "c")) == 2
    np.testing.assert_array_equal(got, _featurizer(None).transform([b]))


def test_files_that_differ_after_the_first_mebibyte_get_their_own_digests(tmp_path):
    # a digest of the first read only would give every large photo with the same
    # start (EXIF, a shared header) one entry
    head = np.random.RandomState(0).bytes(3 << 20)
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(head + b"a")
    b.write_bytes(head + b"b")
    assert content_digest(a) != content_digest(b)
    assert content_digest(a) == content_digest(data=a.read_bytes())


def test_an_entry_of_the_wrong_shape_is_refused_and_not_written(tmp_path):
    cache = FeatureCache(tmp_path, {"layer": 30}, shape=(4,))
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(4,\)"):
        cache.save("abcdef", np.zeros(3, np.float32))
    assert _entries(tmp_path) == []


def test_numpy_scalar_settings_digest_as_the_python_numbers_they_equal():
    # (a mutation audit: only a doctest held it)
    from robustkmeans._cache import settings_digest

    numpy_settings = {"image_size": np.int64(32), "x": np.float32(0.5)}
    assert settings_digest(numpy_settings) == settings_digest({"image_size": 32, "x": 0.5})
