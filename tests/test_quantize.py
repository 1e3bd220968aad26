import numpy as np
import pytest
from _optional import sixteen_bit_image
from PIL import Image

from robustkmeans import LossKMeans
from robustkmeans._quantize import quantize_colors


def _two_colour_image_with_salt(seed=0):
    """Left half one colour, right half another, 6% of pixels replaced by extremes."""
    rng = np.random.RandomState(seed)
    image = np.empty((40, 40, 3), dtype=np.uint8)
    image[:, :20] = (40, 90, 160)
    image[:, 20:] = (200, 170, 60)
    salt = rng.rand(40, 40) < 0.06
    image[salt] = rng.choice([0, 255], size=(salt.sum(), 3))
    return image, salt


def test_palette_size_shape_and_dtype():
    image = np.random.RandomState(0).randint(0, 256, size=(25, 30, 3)).astype(np.uint8)
    quantized, model = quantize_colors(image, n_colors=6, return_estimator=True)
    assert quantized.shape == image.shape and quantized.dtype == np.uint8
    colours = np.unique(quantized.reshape(-1, 3), axis=0)
    assert len(colours) <= 6
    palette = np.rint(model.cluster_centers_ * 255).astype(np.uint8)
    assert {tuple(c) for c in colours} <= {tuple(c) for c in palette}
    assert model.loss == "absolute" and model.n_clusters == 6


def test_absolute_loss_keeps_true_colours_despite_outlier_pixels():
    image, salt = _two_colour_image_with_salt()
    robust = quantize_colors(image, n_colors=2, loss="absolute", sample_size=None)
    clean = ~salt
    # Medians ignore the salt: the two true colours come back exactly.
    np.testing.assert_array_equal(robust[clean], image[clean])
    mean = quantize_colors(image, n_colors=2, loss="square", sample_size=None)
    assert np.abs(mean[clean].astype(int) - image[clean]).max() >= 3  # the mean is pulled


def test_inputs_path_pil_float_and_grayscale(tmp_path):
    image, _ = _two_colour_image_with_salt()
    original = image.copy()
    path = tmp_path / "image.png"
    Image.fromarray(image).save(path)
    from_array = quantize_colors(image, n_colors=3)
    np.testing.assert_array_equal(image, original)  # the input is not modified
    np.testing.assert_array_equal(quantize_colors(path, n_colors=3), from_array)
    np.testing.assert_array_equal(quantize_colors(str(path), n_colors=3), from_array)
    np.testing.assert_array_equal(quantize_colors(Image.open(path), n_colors=3), from_array)

    as_float = quantize_colors(image / 255.0, n_colors=3)
    assert as_float.dtype == np.float32 and as_float.shape == image.shape
    np.testing.assert_allclose(as_float * 255, from_array, atol=0.51)

    gray = image[..., 0]
    quantized_gray = quantize_colors(gray, n_colors=2)
    assert quantized_gray.shape == gray.shape
    assert len(np.unique(quantized_gray)) <= 2


def test_subsample_fit_predicts_every_pixel():
    image = np.random.RandomState(1).randint(0, 256, size=(50, 50, 3)).astype(np.uint8)
    quantized, model = quantize_colors(
        image, n_colors=4, sample_size=300, random_state=3, return_estimator=True
    )
    expected = model.cluster_centers_[model.predict(image.reshape(-1, 3) / np.float32(255))]
    np.testing.assert_array_equal(
        quantized.reshape(-1, 3), np.rint(expected * 255).astype(np.uint8)
    )
    again = quantize_colors(image, n_colors=4, sample_size=300, random_state=3)
    np.testing.assert_array_equal(quantized, again)


@pytest.mark.parametrize("loss", ["huber", "pseudo_huber", "correntropy", "epsilon_insensitive"])
def test_every_loss_quantizes(loss):
    image, salt = _two_colour_image_with_salt()
    quantized, model = quantize_colors(
        image, n_colors=2, loss=loss, sample_size=400, return_estimator=True
    )
    assert model.loss == loss
    assert quantized.shape == image.shape and quantized.dtype == np.uint8
    assert len(np.unique(quantized.reshape(-1, 3), axis=0)) == 2
    # each clean pixel keeps its own colour to a few levels (the two colours are
    # about 200 levels apart; a constant or swapped palette is off by that much)
    clean = ~salt
    assert np.abs(quantized[clean].astype(int) - image[clean]).max() <= 6


def test_errors_name_the_problem(tmp_path):
    image = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(ValueError, match="n_colors must be an integer between 1 and"):
        quantize_colors(image, n_colors=17)
    with pytest.raises(ValueError, match="sample_size=2 is smaller than n_colors=3"):
        quantize_colors(np.zeros((10, 10, 3), np.uint8), n_colors=3, sample_size=2)
    with pytest.raises(ValueError, match="n_colors must be an integer .* got True"):
        quantize_colors(image, n_colors=True)
    for sample_size in (100.0, -5, 0, True):
        with pytest.raises(
            ValueError, match=f"sample_size must be None .* positive integer, got {sample_size}"
        ):
            quantize_colors(np.zeros((20, 20, 3), np.uint8), n_colors=3, sample_size=sample_size)
    with pytest.raises(ValueError, match="no defined 0..255 range"):
        quantize_colors(Image.fromarray(np.zeros((4, 4), np.float32)))  # mode "F"
    with pytest.raises(ValueError, match="uint8 .* or float"):
        quantize_colors(image.astype(np.int64))
    with pytest.raises(ValueError, match="shape"):
        quantize_colors(np.zeros(5, np.uint8))
    # an empty image is told so, as the featurizer tells it (not to pass an
    # array of the shape it has)
    for shape in ((0, 5, 3), (4, 0), (0, 0, 1)):
        with pytest.raises(ValueError, match=rf"image has no pixels: .* shape \({shape[0]}, "):
            quantize_colors(np.zeros(shape, np.uint8))
    for shape in ((4, 4, 0), (0, 5, 2), (3, 0, 5)):  # (a bad shape first)
        with pytest.raises(ValueError, match="an array of shape"):
            quantize_colors(np.zeros(shape, np.uint8))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match="notes.png"):
        quantize_colors(text)
    with pytest.raises(ValueError, match="loss"):
        quantize_colors(image, n_colors=2, loss="median")
    assert isinstance(quantize_colors(image, 1, return_estimator=True)[1], LossKMeans)


@pytest.mark.parametrize("channels", [2, 5])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_arrays_of_other_channel_counts_are_rejected(channels, dtype):
    # VGG16Featurizer reads none of them: no colour to give them
    image = np.zeros((4, 4, channels), dtype)
    with pytest.raises(
        ValueError, match=rf"\(H, W, 4\).*got an array of shape \(4, 4, {channels}\)"
    ):
        quantize_colors(image, n_colors=2)


def test_sixteen_bit_images_keep_their_levels(tmp_path):
    from PIL import Image

    from robustkmeans import quantize_colors

    gray = np.linspace(0, 65535, 400).reshape(20, 20).astype(np.uint16)
    path = tmp_path / "g16.png"
    Image.fromarray(gray).save(path)
    from_file = quantize_colors(path, 4, random_state=0)  # files are read as RGB
    assert from_file.shape == (20, 20, 3) and from_file.dtype == np.uint8
    assert len(np.unique(from_file.reshape(-1, 3), axis=0)) == 4
    from_array = quantize_colors(gray, 4, random_state=0)  # a grey array stays grey
    assert from_array.shape == (20, 20) and from_array.dtype == np.uint8
    assert len(np.unique(from_array)) == 4


def test_float_images_outside_unit_range_are_rejected():
    from robustkmeans import quantize_colors

    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        quantize_colors(np.full((4, 4, 3), 200.0), 2)


def test_arrays_keep_their_shape_and_see_the_colours_files_show(tmp_path):
    from PIL import Image

    # uint16 grey (H, W) stays grey (it came back (H, W, 3)), 16-bit scaled to 8
    # bits as VGG16Featurizer does: the same output as the uint8 grey array.
    gray16 = np.linspace(0, 65535, 600).reshape(20, 30).astype(np.uint16)
    gray8 = np.clip(np.rint(gray16 / 257.0), 0, 255).astype(np.uint8)
    out16 = quantize_colors(gray16, 3, random_state=0)
    assert out16.shape == gray16.shape and out16.dtype == np.uint8
    np.testing.assert_array_equal(out16, quantize_colors(gray8, 3, random_state=0))
    rgb16 = np.dstack([gray16, gray16 // 3, 65535 - gray16])
    assert quantize_colors(rgb16, 3).shape == (20, 30, 3)

    # RGBA: composited on white and returned as RGB, like the file, the PIL image
    # and the uint16 array of the same picture (alpha was clustered as a channel).
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :10] = (200, 30, 30, 255)  # opaque red
    rgba[:, 10:20] = (30, 30, 200, 0)  # transparent blue: white
    rgba[:, 20:] = (30, 200, 30, 128)  # half-transparent green
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    expected = quantize_colors(tmp_path / "rgba.png", 3, random_state=0)
    assert expected.shape == (20, 30, 3)
    np.testing.assert_array_equal(expected[0, 15], (255, 255, 255))
    for image in (rgba, Image.fromarray(rgba), rgba.astype(np.uint16) * 257):
        out = quantize_colors(image, 3, random_state=0)
        assert out.shape == (20, 30, 3) and out.dtype == np.uint8
        np.testing.assert_array_equal(out, expected)
    as_float = quantize_colors(rgba / 255.0, 3, random_state=0)
    assert as_float.shape == (20, 30, 3) and as_float.dtype == np.float32
    np.testing.assert_allclose(as_float * 255, expected, atol=1.0)


@pytest.mark.parametrize("orientation, turn", [(6, lambda a: np.rot90(a, -1)), (3, np.rot90)])
def test_exif_orientation_is_applied(tmp_path, orientation, turn):
    # a phone photo stored sideways with an orientation tag: the quantised copy,
    # written without the tag, must look as viewers show the original (before:
    # the raw, sideways pixels)
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :3] = (255, 0, 0)
    rgb[:2, 3:] = (0, 0, 255)
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.png"
    image.save(path, exif=exif)
    out = quantize_colors(path, n_colors=3, random_state=0)
    expected = turn(rgb) if orientation == 6 else np.rot90(rgb, 2)
    np.testing.assert_array_equal(out, expected)
    # in memory, an untagged array stays as it is
    np.testing.assert_array_equal(quantize_colors(rgb, n_colors=3, random_state=0), rgb)


def test_exif_orientation_is_applied_once_to_files_and_pil_images(tmp_path):
    # load_rgb turns the photo upright; quantize_colors must not turn it again
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :3] = (255, 0, 0)
    rgb[:2, 3:] = (0, 0, 255)
    image = Image.fromarray(rgb)
    image.getexif()[0x0112] = 8  # a quarter turn anticlockwise
    image.save(tmp_path / "photo.png", exif=image.getexif())
    expected = np.rot90(rgb, 1)
    np.testing.assert_array_equal(quantize_colors(image, n_colors=3, random_state=0), expected)
    with Image.open(tmp_path / "photo.png") as opened:
        np.testing.assert_array_equal(quantize_colors(opened, n_colors=3), expected)
    assert image.size == (6, 4) and image.getexif()[0x0112] == 8  # never modified


@pytest.mark.parametrize(
    "loss, scale",
    [("correntropy", {"sigma": 0.1}), ("epsilon_insensitive", {})],
)
def test_grey_arrays_are_clustered_as_grey_files_are(loss, scale):
    # A grey file or PIL image becomes three equal channels; a grey array must be
    # clustered the same way, or the loss scales act on distances sqrt(3) apart.
    rng = np.random.RandomState(0)
    grey = np.clip(np.linspace(0, 255, 40 * 30) + rng.normal(0, 25, 40 * 30), 0, 255)
    grey = grey.reshape(40, 30).astype(np.uint8)
    expected = quantize_colors(Image.fromarray(grey), 5, loss, epsilon=0.05, **scale)
    for image in (grey, grey[:, :, None], grey / 255.0):
        out = quantize_colors(image, 5, loss, epsilon=0.05, **scale)
        assert out.shape == image.shape
        np.testing.assert_allclose(
            np.squeeze(out) * (255 if out.dtype != np.uint8 else 1), expected[:, :, 0], atol=1.0
        )


# ---------------------------------------------------------------------------------
# behaviour a mutation sweep of _quantize.py found no test pinning down
# ---------------------------------------------------------------------------------
def _distinct_colours(n_pixels_side=10, seed=0):
    rng = np.random.RandomState(seed)
    image = rng.randint(0, 256, size=(n_pixels_side, n_pixels_side, 3)).astype(np.uint8)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) == n_pixels_side**2
    return image


@pytest.mark.parametrize(
    "image, match",
    [
        (np.full((4, 4, 3), -0.5), r"values in \[0, 1\], got \[-0.5, -0.5\]"),
        (np.full((4, 4, 3), np.nan), "NaN or infinite"),
        (np.full((4, 4), np.inf), "NaN or infinite"),
    ],
)
def test_float_images_outside_unit_range_or_not_finite_are_rejected(image, match):
    with pytest.raises(ValueError, match=match):
        quantize_colors(image, 2)


def test_n_colors_may_be_every_pixel_but_not_zero():
    # one colour per pixel: every pixel is its own cluster and comes back unchanged
    image = _distinct_colours(2)
    np.testing.assert_array_equal(quantize_colors(image, n_colors=4), image)
    with pytest.raises(ValueError, match=r"between 1 and the number of pixels \(4\), got 0"):
        quantize_colors(image, n_colors=0)


def test_subsample_of_n_colors_distinct_pixels_is_the_palette():
    # sample_size == n_colors is allowed; the pixels are drawn without replacement,
    # so 30 distinct pixels give a palette of exactly those 30 colours
    image = _distinct_colours()
    quantized = quantize_colors(image, n_colors=30, sample_size=30, random_state=0)
    colours = np.unique(quantized.reshape(-1, 3), axis=0)
    assert len(colours) == 30
    assert {tuple(c) for c in colours} <= {tuple(c) for c in image.reshape(-1, 3)}


def test_sample_size_of_every_pixel_is_no_subsample():
    # sample_size >= the number of pixels fits on all of them, as None does
    image = _distinct_colours()
    expected = quantize_colors(image, 5, sample_size=None, random_state=0)
    for sample_size in (100, 500):
        out = quantize_colors(image, 5, sample_size=sample_size, random_state=0)
        np.testing.assert_array_equal(out, expected)


def test_random_state_seeds_the_clusterer_too():
    # without a subsample, random_state still decides LossKMeans' initialisation
    image = _distinct_colours()
    palettes = [
        quantize_colors(
            image, 4, n_init=1, sample_size=None, random_state=seed, return_estimator=True
        )[1].cluster_centers_
        for seed in (0, 1, 2)
    ]
    assert not all(np.array_equal(palettes[0], p) for p in palettes[1:])


def test_documented_defaults_and_settings_reach_the_clusterer():
    # 120 x 100 = 12000 pixels: the palette is fitted on the default 10000 of them
    image = np.random.RandomState(0).randint(0, 256, size=(120, 100, 3)).astype(np.uint8)
    quantized, model = quantize_colors(image, return_estimator=True)
    assert len(np.unique(quantized.reshape(-1, 3), axis=0)) == 16
    assert model.labels_.shape == (10_000,)
    params = model.get_params()
    assert (params["n_clusters"], params["loss"], params["n_init"]) == (16, "absolute", "auto")
    assert (params["delta"], params["sigma"], params["epsilon"]) == (0.1, 0.25, 0.02)
    assert params["max_iter"] == 100
    _, model = quantize_colors(image[:10, :10], 2, max_iter=7, n_init=2, return_estimator=True)
    assert (model.max_iter, model.n_init) == (7, 2)


def test_uint16_grey_with_one_channel_keeps_its_shape():
    gray16 = np.linspace(0, 65535, 600).reshape(20, 30, 1).astype(np.uint16)
    gray8 = np.clip(np.rint(gray16 / 257.0), 0, 255).astype(np.uint8)
    out = quantize_colors(gray16, 3, random_state=0)
    assert out.shape == (20, 30, 1) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, quantize_colors(gray8, 3, random_state=0))


def test_big_endian_arrays_are_read_as_native_ones(tmp_path):
    # np.asarray of a big-endian 16-bit TIFF is a '>u2' array, which VGG16Featurizer
    # reads; quantize_colors refused it ("must be uint8, uint16 or float, got dtype
    # >u2"), since '>u2' != np.uint16 on a little-endian machine.
    rgb16 = np.random.RandomState(0).randint(0, 65536, size=(12, 10, 3)).astype(np.uint16)
    for image in (rgb16, rgb16[:, :, 0]):
        expected = quantize_colors(image, 3, random_state=0)
        swapped = quantize_colors(image.astype(image.dtype.newbyteorder(">")), 3, random_state=0)
        assert swapped.dtype == expected.dtype == np.uint8
        np.testing.assert_array_equal(swapped, expected)
    gray16 = rgb16[:, :, 0]
    Image.frombytes("I;16B", (10, 12), gray16.astype(">u2").tobytes()).save(tmp_path / "be.tif")
    as_array = np.asarray(Image.open(tmp_path / "be.tif"))
    assert as_array.dtype.str == ">u2"
    np.testing.assert_array_equal(
        quantize_colors(as_array, 3, random_state=0), quantize_colors(gray16, 3, random_state=0)
    )
    unit = rgb16 / 65535.0
    np.testing.assert_array_equal(
        quantize_colors(unit.astype(">f8"), 3, random_state=0),
        quantize_colors(unit, 3, random_state=0),
    )


def test_bool_arrays_are_read_as_0_and_255(tmp_path):
    # VGG16Featurizer reads a bool array as 0 / 255 (as Pillow reads a 1-bit "1"
    # image); quantize_colors refused it ("must be uint8 (0-255), uint16 or float")
    mask = np.random.RandomState(1).rand(12, 10) > 0.5
    for image in (mask, mask[:, :, None], np.stack([mask, ~mask, mask], axis=2)):
        out = quantize_colors(image, 2, random_state=0)
        assert out.dtype == np.uint8 and out.shape == image.shape
        as_uint8 = image.astype(np.uint8) * 255
        np.testing.assert_array_equal(out, quantize_colors(as_uint8, 2, random_state=0))
    Image.fromarray(mask).save(tmp_path / "mask.png")  # mode "1"
    np.testing.assert_array_equal(
        quantize_colors(tmp_path / "mask.png", 2, random_state=0),
        quantize_colors(np.stack([mask] * 3, axis=2), 2, random_state=0),
    )


@pytest.mark.parametrize(
    "image, name",
    [(None, "NoneType"), (b"\x89PNG\r\n", "bytes"), (3.5, "float"), ({"a": 1}, "dict")],
)
def test_what_is_no_image_is_named(image, name):
    # None, a file's bytes, a number: "got an array of shape ()", which they are not
    with pytest.raises(TypeError, match=rf"image must be .*, got {name}") as info:
        quantize_colors(image, n_colors=2)
    assert "shape ()" not in str(info.value)
    if name == "bytes":
        assert "io.BytesIO" in str(info.value)


def test_pil_image_whose_file_was_closed_says_so(tmp_path):
    # used after its `with Image.open(path)` block: a bare AssertionError from Pillow
    path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(path)
    with Image.open(path) as image:
        pass
    with pytest.raises(ValueError, match=r"file was closed before .* image\.load\(\)"):
        quantize_colors(image, n_colors=2)
    with Image.open(path) as image:
        image.load()  # read in the block: usable after it
    assert quantize_colors(image, n_colors=1).shape == (4, 4, 3)


@pytest.mark.parametrize("loss", ["square", "absolute", "huber", "pseudo_huber", "correntropy",
                                  "epsilon_insensitive"])  # fmt: skip
@pytest.mark.parametrize("grey", [False, True])
def test_each_distinct_colour_is_predicted_once_with_the_same_result(monkeypatch, loss, grey):
    # large 8-bit images predict their distinct colours only (a table of all 24-bit
    # colours maps the pixels to them); the output is that of predicting every pixel
    import robustkmeans._quantize as quantize_module

    rng = np.random.RandomState(0)
    colours = rng.randint(0, 256, size=(40, 3)).astype(np.uint8)
    image = colours[rng.randint(0, 40, size=(48, 64))]
    image[::7, ::5] = rng.randint(0, 256, size=image[::7, ::5].shape)  # some unique ones
    if grey:
        image = image[:, :, 1]
    n_distinct = len(np.unique(image.reshape(image.shape[0] * image.shape[1], -1), axis=0))
    rows = []
    predict = LossKMeans.predict

    def counting_predict(self, X):
        rows.append(len(X))
        return predict(self, X)

    monkeypatch.setattr(LossKMeans, "predict", counting_predict)
    monkeypatch.setattr(quantize_module, "_TABLE_MIN_PIXELS", 1000)
    table = quantize_colors(image, n_colors=6, loss=loss, sample_size=500)
    assert rows == [n_distinct] and n_distinct < image.shape[0] * image.shape[1] // 4
    monkeypatch.setattr(quantize_module, "_TABLE_MIN_PIXELS", 1 << 40)
    direct = quantize_colors(image, n_colors=6, loss=loss, sample_size=500)
    assert rows[-1] == image.shape[0] * image.shape[1]
    assert table.dtype == direct.dtype == np.uint8 and table.shape == image.shape
    np.testing.assert_array_equal(table, direct)


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I;16L", "I;16N", "I"])
def test_16_bit_pil_images_quantize_as_their_8_bit_values(tmp_path, mode):
    # 16-bit values scaled to 8 bits (v / 257), not clipped to 255 (white)
    gray16 = np.random.RandomState(0).randint(0, 65536, size=(12, 10)).astype(np.uint16)
    eight = np.rint(gray16 / 257).astype(np.uint8)
    if mode == "I":
        image = Image.fromarray(gray16.astype(np.int32))
    else:
        order = {"I;16B": ">", "I;16N": "="}.get(mode, "<")
        image = sixteen_bit_image(mode, (10, 12), gray16, order)
    expected = quantize_colors(np.dstack([eight] * 3), 3, random_state=0)
    np.testing.assert_array_equal(quantize_colors(image, 3, random_state=0), expected)


def test_premultiplied_la_pil_image_quantizes_as_la():
    # mode "La" raised Pillow's "conversion from La to L not supported"
    stored = np.random.RandomState(0).randint(0, 256, size=(12, 10, 2)).astype(np.uint8)
    stored[..., 0] = np.minimum(stored[..., 0], stored[..., 1])  # premultiplied: v <= alpha
    la = Image.frombytes("La", (10, 12), stored.tobytes())
    np.testing.assert_array_equal(
        quantize_colors(la, 3, random_state=0),
        quantize_colors(la.convert("LA"), 3, random_state=0),
    )


def test_integer_arrays_are_refused_with_their_conversion():
    # np.array of nested lists is int64: the error named the dtype but not the remedy
    image = np.arange(48, dtype=np.int64).reshape(4, 4, 3)
    with pytest.raises(ValueError, match=r"got dtype int64; .* image\.astype\(np\.uint8\)"):
        quantize_colors(image, n_colors=2)
    with pytest.raises(ValueError, match=r"np\.asarray\(image\)\.astype\(np\.uint8\)"):
        quantize_colors(image.tolist(), n_colors=2)  # a list has no astype


def test_channels_first_arrays_are_refused_with_their_transpose():
    # a (3, H, W) array (torchvision.io.read_image's layout) got the allowed shapes only
    image = np.zeros((3, 8, 10), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"channels-first.*np\.moveaxis\(image, 0, -1\)"):
        quantize_colors(image, n_colors=2)
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"np\.moveaxis\(np\.asarray\(image\), 0, -1\)"):
        quantize_colors(torch.from_numpy(image), n_colors=2)  # np.moveaxis fails on it
