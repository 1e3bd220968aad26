"""Image loading: every input form to RGB uint8, torchvision-equal preprocessing, clear errors."""

import io
import os
import re
import warnings

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")

from _optional import (  # noqa: E402
    HAS_TORCH,
    requires_torch,
    sixteen_bit_image,
    unreadable_folders,
)
from PIL import Image  # noqa: E402

from robustkmeans import load_image_folder  # noqa: E402
from robustkmeans._images import (  # noqa: E402
    IMAGENET_MEAN,
    IMAGENET_STD,
    ImageLoadError,
    as_image_list,
    load_rgb,
    resize_rgb,
    to_normalized_tensor,
)

if HAS_TORCH:  # only the tests marked requires_torch use them (vision installs both)
    import torch
    from torchvision import transforms


def _rgb(h=23, w=31, seed=0):
    return np.random.RandomState(seed).randint(0, 256, size=(h, w, 3), dtype=np.uint8)


def _jpeg_bytes(arr, quality=90):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


# ----------------------------------------------------------------------------- input forms


def test_path_pil_and_array_give_the_same_pixels(tmp_path):
    arr = _rgb()
    path = tmp_path / "a.png"
    Image.fromarray(arr).save(path)
    np.testing.assert_array_equal(load_rgb(path), arr)
    np.testing.assert_array_equal(load_rgb(str(path)), arr)
    np.testing.assert_array_equal(load_rgb(Image.fromarray(arr)), arr)
    np.testing.assert_array_equal(load_rgb(arr), arr)


def test_grayscale_becomes_three_equal_channels(tmp_path):
    gray = _rgb()[:, :, 0]
    for image in (gray, gray[:, :, None], Image.fromarray(gray, mode="L")):
        rgb = load_rgb(image)
        assert rgb.shape == gray.shape + (3,) and rgb.dtype == np.uint8
        for c in range(3):
            np.testing.assert_array_equal(rgb[:, :, c], gray)
    Image.fromarray(gray, mode="L").save(tmp_path / "g.png")
    np.testing.assert_array_equal(load_rgb(tmp_path / "g.png")[:, :, 1], gray)


def test_palette_image_uses_its_palette(tmp_path):
    arr = _rgb()
    pal = Image.fromarray(arr).quantize(colors=16)
    pal.save(tmp_path / "p.png")
    expected = np.asarray(pal.convert("RGB"))
    np.testing.assert_array_equal(load_rgb(pal), expected)
    np.testing.assert_array_equal(load_rgb(tmp_path / "p.png"), expected)


def test_rgba_is_composited_on_white():
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # pure red
    rgba[0, :, 3] = 0  # row 0 fully transparent -> white
    rgba[1, :, 3] = 255  # row 1 opaque -> red
    rgba[1, 2, 3] = 128  # half transparent -> pink
    for image in (rgba, Image.fromarray(rgba, mode="RGBA")):
        rgb = load_rgb(image)
        np.testing.assert_array_equal(rgb[0], np.full((3, 3), 255))
        np.testing.assert_array_equal(rgb[1, 0], [255, 0, 0])
        assert rgb[1, 2, 0] == 255 and 120 <= rgb[1, 2, 1] <= 135


def test_palette_with_transparency_and_la_are_composited(tmp_path):
    p = Image.new("P", (2, 1))
    p.putpalette([0, 0, 0, 10, 20, 30] + [0] * (256 * 3 - 6))
    p.putpixel((0, 0), 0)
    p.putpixel((1, 0), 1)
    p.info["transparency"] = 0
    p.save(tmp_path / "t.png")
    for image in (p, tmp_path / "t.png"):
        np.testing.assert_array_equal(load_rgb(image)[0], [[255, 255, 255], [10, 20, 30]])
    la = Image.fromarray(np.array([[[50, 0], [50, 255]]], dtype=np.uint8), mode="LA")
    np.testing.assert_array_equal(load_rgb(la)[0], [[255, 255, 255], [50, 50, 50]])


@pytest.mark.parametrize(
    "mode, pixels, key, white_where",
    [
        ("L", [[0, 200, 0]], 0, [True, False, True]),
        ("RGB", [[[0, 0, 0], [200, 100, 50], [0, 0, 1]]], (0, 0, 0), [True, False, False]),
        ("1", [[0, 255, 0]], 0, [True, False, True]),
        ("I;16", [[300, 40000, 301]], 300, [True, False, False]),
    ],
)
def test_png_transparent_colour_is_composited_on_white(tmp_path, mode, pixels, key, white_where):
    # a grey, RGB or 1-bit PNG marks one colour transparent (a tRNS chunk, as PNG
    # optimisers write an RGBA file whose alpha is 0 or 255): it was read with that
    # colour, where the same picture as RGBA or as a palette PNG is white there
    arr = np.array(pixels, dtype={"I;16": np.uint16, "1": bool}.get(mode, np.uint8))
    image = Image.fromarray(arr if mode != "1" else arr.astype(np.uint8) * 255)
    image = image.convert("1") if mode == "1" else image
    try:
        image.save(tmp_path / "key.png", transparency=key)
    except OSError as exc:  # Pillow 9.3 writes no 16-bit PNG with a transparent colour
        if mode != "I;16" or "cannot use transparency" not in str(exc):
            raise
        pytest.skip(f"Pillow {Image.__version__} cannot write the {mode} file")
    opened = Image.open(tmp_path / "key.png")
    assert opened.mode == mode and opened.info["transparency"] == key
    opaque = load_rgb(image)  # (no transparency: as stored)
    expected = np.where(np.array(white_where)[None, :, None], 255, opaque)
    for form in (tmp_path / "key.png", opened):
        np.testing.assert_array_equal(load_rgb(form), expected)
    if mode in ("L", "RGB", "1"):  # Pillow's own RGBA, composited, agrees
        rgba = Image.open(tmp_path / "key.png").convert("RGBA")
        np.testing.assert_array_equal(load_rgb(rgba), expected)


def test_palette_with_alpha_values_is_composited_as_its_file_is(tmp_path):
    # RGBA.convert("P") and RGBA.quantize() keep the alpha in the palette, with no
    # "transparency" in info: the PIL image was read with its alpha dropped, where
    # the PNG it saves (alpha as tRNS) was composited on white
    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[..., 0] = 255  # red
    rgba[0, :, 3] = 0  # row 0 transparent: white
    rgba[1, :, 3] = 255  # row 1 opaque: red
    for image in (Image.fromarray(rgba).convert("P"), Image.fromarray(rgba).quantize(2)):
        assert image.mode == "P" and "transparency" not in image.info
        image.save(tmp_path / "p.png")
        for form in (image, tmp_path / "p.png"):
            rgb = load_rgb(form)
            np.testing.assert_array_equal(rgb[0], np.full((3, 3), 255))
            np.testing.assert_array_equal(rgb[1], np.tile([255, 0, 0], (3, 1)))


def test_16_bit_images_are_scaled_to_8_bit(tmp_path):
    values = np.array([[0, 257, 65535, 32896]], dtype=np.uint16)
    expected = np.array([0, 1, 255, 128], dtype=np.uint8)
    np.testing.assert_array_equal(load_rgb(values)[0, :, 0], expected)
    Image.fromarray(values).save(tmp_path / "d.png")  # written as a 16-bit PNG
    assert Image.open(tmp_path / "d.png").mode.startswith("I")
    rgb = load_rgb(tmp_path / "d.png")
    np.testing.assert_array_equal(rgb[0, :, 2], expected)


def test_big_endian_uint16_arrays_are_read_as_uint16(tmp_path):
    # np.asarray of a big-endian 16-bit TIFF (mode "I;16B") is a '>u2' array: the
    # same 16-bit pixels as the file and the PIL image, so the same RGB
    values = np.array([[0, 257, 65535, 32896, 385]], dtype=np.uint16)
    Image.frombytes("I;16B", (5, 1), values.astype(">u2").tobytes()).save(tmp_path / "be.tif")
    as_array = np.asarray(Image.open(tmp_path / "be.tif"))
    assert as_array.dtype.str == ">u2"
    expected = load_rgb(tmp_path / "be.tif")
    np.testing.assert_array_equal(expected[0, :, 0], [0, 1, 255, 128, 1])
    opaque = np.full_like(as_array, 65535)
    for image in (as_array, np.dstack([as_array] * 3), np.dstack([as_array] * 3 + [opaque])):
        np.testing.assert_array_equal(load_rgb(image), expected)
    batch = np.stack([as_array, as_array])  # (N, H, W) of '>u2'
    assert [load_rgb(a).tolist() for a in as_image_list(batch)] == [expected.tolist()] * 2
    # non-native byte order of uint8 is meaningless, of other dtypes still refused
    with pytest.raises(ImageLoadError, match="dtype >f8 is not supported"):
        load_rgb(np.zeros((2, 2), dtype=">f8"))


def test_32_bit_integer_images_are_read_by_their_value_range(tmp_path):
    gray = np.array([[0, 1, 128, 255]], dtype=np.uint8)
    Image.fromarray(gray).convert("I").save(tmp_path / "i32.tif")  # 32-bit TIFF, 8-bit values
    assert Image.open(tmp_path / "i32.tif").mode == "I"
    for image in (tmp_path / "i32.tif", Image.fromarray(gray).convert("I")):
        np.testing.assert_array_equal(load_rgb(image)[0, :, 1], gray[0])
    wide = np.array([[0, 257, 65535, 32896]], dtype=np.int32)  # 16-bit values
    np.testing.assert_array_equal(load_rgb(Image.fromarray(wide))[0, :, 0], [0, 1, 255, 128])
    for values in ([[0, 70000]], [[-1, 3]]):
        with pytest.raises(ImageLoadError, match="no defined 0..255 range.*uint8"):
            load_rgb(Image.fromarray(np.array(values, dtype=np.int32)))


def test_32_bit_float_file_error_says_what_to_do_with_the_file(tmp_path):
    # a float TIFF (mode "F") was refused with a numpy snippet only, which tells a
    # command-line user with a file nothing; the file's remedy comes first
    path = tmp_path / "depth.tif"
    Image.fromarray(np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)).save(path)
    assert Image.open(path).mode == "F"
    with pytest.raises(ImageLoadError, match="depth.tif") as info:
        load_rgb(path)
    message = str(info.value)
    assert "no defined 0..255 range; save the file as an 8- or 16-bit image" in message
    assert "np.clip(x * 255, 0, 255)" in message  # (the array's remedy, after it)


def test_16_bit_pgm_is_16_bit_whatever_its_values(tmp_path):
    # Pillow opens a PGM with maxval > 255 in the 32-bit mode "I", scaled to 0..65535;
    # a dark one (values below 256) must stay dark, not be read as 8-bit.
    dark = np.array([[0, 257, 255]], dtype=">u2")
    (tmp_path / "dark.pgm").write_bytes(b"P5\n3 1\n65535\n" + dark.tobytes())
    ten_bit = np.array([[0, 1023, 512]], dtype=">u2")
    (tmp_path / "ten.pgm").write_bytes(b"P5\n3 1\n1023\n" + ten_bit.tobytes())
    assert Image.open(tmp_path / "dark.pgm").mode == "I"
    np.testing.assert_array_equal(load_rgb(tmp_path / "dark.pgm")[0, :, 0], [0, 1, 1])
    np.testing.assert_array_equal(load_rgb(tmp_path / "ten.pgm")[0, :, 0], [0, 255, 128])
    # every value within 0..255: 16-bit by its format, not 8-bit by its values (the
    # 257 above made the values' range alone tell; a mutation audit)
    darker = np.array([[0, 128, 255]], dtype=">u2")
    (tmp_path / "darker.pgm").write_bytes(b"P5\n3 1\n65535\n" + darker.tobytes())
    np.testing.assert_array_equal(load_rgb(tmp_path / "darker.pgm")[0, :, 0], [0, 0, 1])


_SIXTEEN_BIT = np.array([[0, 257, 32896, 65535, 385]], dtype=np.uint16)


@pytest.mark.parametrize(
    "mode, byte_order, suffix",
    [("I;16", "<", ".png"), ("I;16B", ">", ".tif"), ("I;16L", "<", ".tif"), ("I;16N", "=", None)],
)
def test_each_16_bit_mode_is_scaled_not_clipped(tmp_path, mode, byte_order, suffix):
    # a 16-bit value clipped to 255 would make the picture white
    image = sixteen_bit_image(mode, (5, 1), _SIXTEEN_BIT, byte_order)
    forms = [image]
    if suffix is not None:  # (Pillow writes no file of mode I;16N)
        try:
            image.save(tmp_path / f"a{suffix}")
        except OSError as exc:  # (nor Pillow 9.3 a TIFF of mode I;16L)
            if mode != "I;16L" or "cannot write mode" not in str(exc):
                raise
        else:
            forms.append(tmp_path / f"a{suffix}")
    for form in forms:
        np.testing.assert_array_equal(load_rgb(form)[0], np.repeat([[0, 1, 128, 255, 1]], 3, 0).T)


def test_32_bit_integer_mode_with_16_bit_values_is_scaled(tmp_path):
    image = Image.fromarray(_SIXTEEN_BIT.astype(np.int32))
    assert image.mode == "I"
    image.save(tmp_path / "i.tif")
    for form in (image, tmp_path / "i.tif"):
        np.testing.assert_array_equal(load_rgb(form)[0, :, 0], [0, 1, 128, 255, 1])


def test_32_bit_float_pil_image_is_refused_saying_what_to_do():
    with pytest.raises(ImageLoadError, match=r"\(PIL F 3x2\).*no defined 0..255 range; save"):
        load_rgb(Image.new("F", (3, 2), 0.5))


def test_premultiplied_la_is_composited_on_white():
    # "La" (grey with premultiplied alpha, as Pillow's own resampling of LA uses)
    # raised Pillow's bare "conversion from La to L not supported"
    stored = np.array([[[100, 128], [100, 255], [0, 0]]], dtype=np.uint8)
    la = Image.frombytes("La", (3, 1), stored.tobytes())
    assert la.mode == "La"
    rgb = load_rgb(la)
    # premultiplied: on white, v + (255 - alpha); transparent is white
    assert abs(int(rgb[0, 0, 0]) - 227) <= 1 and rgb[0, 1, 0] == 100 and rgb[0, 2, 0] == 255
    np.testing.assert_array_equal(rgb, load_rgb(la.convert("LA")))
    assert (rgb == rgb[:, :, :1]).all()


def test_cmyk_and_bilevel_convert_to_rgb():
    cmyk = Image.fromarray(_rgb()).convert("CMYK")
    assert load_rgb(cmyk).shape == (23, 31, 3)
    bw = Image.fromarray((_rgb()[:, :, 0] > 128).astype(np.uint8) * 255).convert("1")
    assert set(np.unique(load_rgb(bw))) <= {0, 255}


def test_unsupported_arrays_say_what_to_pass():
    with pytest.raises(ImageLoadError, match="float64.*uint8"):
        load_rgb(np.zeros((4, 4, 3)))
    with pytest.raises(ImageLoadError, match="shape"):
        load_rgb(np.zeros((4, 4, 2), dtype=np.uint8))
    with pytest.raises(ImageLoadError, match="no pixels"):
        load_rgb(np.zeros((0, 4, 3), dtype=np.uint8))
    with pytest.raises(ImageLoadError, match="int"):
        load_rgb(42)


# ----------------------------------------------------------------------------- EXIF orientation

# A 2 x 3 picture as stored, with distinct corners: red, green (top), blue, white (bottom).
R, G, B, W, K = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)
STORED = np.array([[R, K, G], [B, K, W]], dtype=np.uint8)
# As viewers show it: 6 turns it a quarter clockwise, 8 a quarter anticlockwise.
UPRIGHT = {
    6: np.array([[B, R], [K, K], [W, G]], dtype=np.uint8),
    8: np.array([[G, W], [K, K], [R, B]], dtype=np.uint8),
}


def _tagged(arr, orientation):
    image = Image.fromarray(arr)
    image.getexif()[0x0112] = orientation
    return image


def _save_tagged(path, arr, orientation, **params):
    image = _tagged(arr, orientation)
    image.save(path, exif=image.getexif(), **params)
    return path


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_of_a_png_file_is_applied(tmp_path, orientation):
    # a phone photo stored sideways with an orientation tag is seen upright, as
    # viewers show it (before: as stored, sideways, as torchvision's loader reads it)
    path = _save_tagged(tmp_path / "photo.png", STORED, orientation)
    np.testing.assert_array_equal(load_rgb(path), UPRIGHT[orientation])
    np.testing.assert_array_equal(load_rgb(str(path)), UPRIGHT[orientation])
    with Image.open(path) as opened:  # the file opened as a PIL image
        np.testing.assert_array_equal(load_rgb(opened), UPRIGHT[orientation])


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_of_a_jpeg_file_is_applied(tmp_path, orientation):
    arr = np.zeros((16, 24, 3), np.uint8)  # 8 x 8 blocks: JPEG keeps the corners apart
    arr[:8, :8], arr[:8, 16:], arr[8:, :8], arr[8:, 16:] = R, G, B, W
    path = _save_tagged(tmp_path / "photo.jpg", arr, orientation, quality=95)
    with Image.open(path) as raw:
        assert raw.getexif()[0x0112] == orientation
        stored = np.asarray(raw.convert("RGB"))  # the pixels as stored, sideways
    got = load_rgb(path)
    assert got.shape == (24, 16, 3)
    np.testing.assert_array_equal(got, np.rot90(stored, -1 if orientation == 6 else 1))
    corners = got[[0, 0, -1, -1], [0, -1, 0, -1]].astype(int)
    expected = np.array([B, R, W, G] if orientation == 6 else [G, W, R, B])
    assert np.abs(corners - expected).max() <= 40


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow_exif_transpose(tmp_path, orientation):
    from PIL import ImageOps

    arr = _rgb(4, 7, seed=orientation)
    path = _save_tagged(tmp_path / "o.png", arr, orientation)
    with Image.open(path) as img:
        expected = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    if orientation != 1:  # a turn, or a mirror image: never the stored pixels
        assert expected.shape != arr.shape or not np.array_equal(expected, arr)
    np.testing.assert_array_equal(load_rgb(path), expected)
    np.testing.assert_array_equal(load_rgb(_tagged(arr, orientation)), expected)


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_of_a_pil_image_is_applied(orientation):
    image = _tagged(STORED, orientation)
    np.testing.assert_array_equal(load_rgb(image), UPRIGHT[orientation])
    assert image.size == (3, 2) and image.getexif()[0x0112] == orientation  # not modified
    # other modes are turned the same way before they become RGB
    gray = _tagged(STORED[:, :, 0], orientation)
    np.testing.assert_array_equal(load_rgb(gray)[:, :, 1], UPRIGHT[orientation][:, :, 0])
    palette = Image.fromarray(STORED).quantize(colors=8)
    palette.getexif()[0x0112] = orientation
    np.testing.assert_array_equal(load_rgb(palette), UPRIGHT[orientation])


@pytest.mark.parametrize(
    "exif",
    [
        b"Exif\x00\x00garbage",  # not a TIFF header: Pillow raises SyntaxError
        b"garbage",
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff",  # 65535 entries, none there
        # one Orientation entry whose value lies far past the end of the block
        b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x05\x00"
        b"\x00\x00\xff\xff\xff\x7f",
    ],
)
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_corrupt_exif_still_loads_as_stored(tmp_path, exif, fmt):
    # the orientation cannot be read: the image loads as it is stored, never fails
    arr = np.zeros((16, 24, 3), np.uint8)
    arr[:, 8:] = 200
    path = tmp_path / f"bad_exif.{fmt.lower()}"
    Image.fromarray(arr).save(path, format=fmt, exif=exif)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Pillow: "Corrupt EXIF data"
        with Image.open(path) as raw:
            stored = np.asarray(raw.convert("RGB"))
        np.testing.assert_array_equal(load_rgb(path), stored)
        with Image.open(path) as opened:
            np.testing.assert_array_equal(load_rgb(opened), stored)
    if fmt == "PNG":  # (Pillow itself parses the EXIF of a JPEG file when it opens it)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # as with python -W error
            np.testing.assert_array_equal(load_rgb(path), stored)


@pytest.mark.parametrize("value", [0, 9, 255, "6", (6, 6)])
def test_orientation_values_outside_1_to_8_are_ignored(value):
    image = Image.fromarray(STORED)
    image.getexif()[0x0112] = value
    np.testing.assert_array_equal(load_rgb(image), STORED)


def test_arrays_are_never_turned():
    # arrays carry no EXIF: whatever their shape, they are used as they are
    for arr in (STORED, UPRIGHT[6]):
        np.testing.assert_array_equal(load_rgb(arr), arr)
    np.testing.assert_array_equal(load_rgb(STORED[:, :, 1])[:, :, 0], STORED[:, :, 1])
    batch = np.stack([STORED, STORED])
    assert [load_rgb(a).tolist() for a in as_image_list(batch)] == [STORED.tolist()] * 2


@requires_torch
def test_featurizer_and_thumbnails_see_the_upright_photo(tmp_path):
    # the turn happens before the resize: features of the tagged file equal those
    # of the upright pixels, not of the stored ones
    from robustkmeans import VGG16Featurizer
    from robustkmeans.plotting import _thumbnail

    upright = _rgb(36, 20, seed=5)
    stored = np.rot90(upright, 1)  # what a camera writes for orientation 6
    path = _save_tagged(tmp_path / "photo.png", stored, 6)
    pil = _tagged(stored, 6)
    featurizer = VGG16Featurizer(weights=None, image_size=32, batch_size=1).fit()
    F = featurizer.transform([path, pil, upright, stored])
    np.testing.assert_allclose(F[0], F[2], atol=1e-6)
    np.testing.assert_allclose(F[1], F[2], atol=1e-6)
    assert not np.allclose(F[0], F[3], atol=1e-3)
    # (the thumbnail is shrunk as stored, then turned: equal up to resampling)
    thumbnail = _thumbnail(path, 16).astype(int)
    assert thumbnail.shape == _thumbnail(upright, 16).shape
    assert np.abs(thumbnail - _thumbnail(upright, 16)).max() <= 4
    assert _thumbnail(pil, 16).shape == (16, 9, 3)


# ----------------------------------------------------------------------------- X forms


def test_as_image_list_accepts_sequences_and_batches():
    assert len(as_image_list(np.zeros((3, 5, 6, 3), np.uint8))) == 3
    assert len(as_image_list(np.zeros((4, 5, 6), np.uint8))) == 4
    assert as_image_list(("a.jpg", "b.jpg")) == ["a.jpg", "b.jpg"]
    assert as_image_list(np.array(["a.jpg", "b.jpg"], dtype=object)) == ["a.jpg", "b.jpg"]


def test_as_image_list_reads_byte_string_arrays_as_paths():
    # a numpy array of byte strings (HDF5's paths) gave bytes items, each refused
    # with "expected a file path ... got bytes" and no file named
    paths = as_image_list(np.array([b"a.jpg", "caf\u00e9.png".encode()]))
    assert paths == ["a.jpg", "caf\u00e9.png"] and all(type(p) is str for p in paths)
    assert as_image_list(np.array([[b"a.jpg"], [b"b.png"]])) == ["a.jpg", "b.png"]  # a column


def test_byte_string_paths_in_a_list_or_an_object_array_are_paths():
    # an object array of bytes is what h5py 3 reads from an HDF5 string dataset:
    # each was refused as "got bytes", where a byte-string array was read as paths
    # (a user's review). Bytes holding a NUL are no path (an encoded image): kept,
    # for load_rgb's error
    expected = ["a.jpg", "caf\u00e9.png"]
    raw = [b"a.jpg", "caf\u00e9.png".encode()]
    assert as_image_list(raw) == expected
    assert as_image_list(np.array(raw, dtype=object)) == expected
    assert as_image_list([b"\x89PNG\r\n\x1a\n\x00"]) == [b"\x89PNG\r\n\x1a\n\x00"]


@pytest.mark.parametrize("channels", [3, 4])
def test_as_image_list_refuses_a_single_colour_image(channels):
    # before: (40, 50, 3) was read as 40 grayscale images of 50 x 3 pixels, and
    # transform returned 40 rows for one image
    image = np.zeros((40, 50, channels), np.uint8)
    with pytest.raises(ValueError, match=r"single colour image.*image\[None\]"):
        as_image_list(image)
    assert len(as_image_list(image[None])) == 1
    assert len(as_image_list([image])) == 1
    assert len(as_image_list(list(image))) == 40  # explicitly 40 narrow images


def test_as_image_list_accepts_one_column_of_images():
    # What a ColumnTransformer passes for ["path"]: a one-column DataFrame, one image
    # per row (as a Series gives), not one 1-element object array per row.
    pd = pytest.importorskip("pandas")
    paths = ["a.jpg", "b.png", "c.gif"]
    df = pd.DataFrame({"path": paths}, index=[10, 11, 12])
    assert as_image_list(df) == paths
    assert as_image_list(df["path"]) == paths
    assert as_image_list(pd.DataFrame({"path": pd.Series(paths, dtype="string")})) == paths
    assert as_image_list(np.array(paths)[:, None]) == paths
    arrays = np.empty((2, 1), dtype=object)
    arrays[0, 0], arrays[1, 0] = np.zeros((4, 4), np.uint8), np.ones((5, 5, 3), np.uint8)
    assert [a.shape for a in as_image_list(arrays)] == [(4, 4), (5, 5, 3)]
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        as_image_list(pd.DataFrame({"path": paths, "other": paths}))
    with pytest.raises(ValueError, match="not an image batch"):
        as_image_list(np.zeros((3, 1), np.uint8))  # a one-feature matrix, not images


@requires_torch
def test_column_transformer_over_a_path_column(tmp_path):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer

    from robustkmeans import VGG16Featurizer

    paths = []
    for i in range(3):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(_rgb(20, 20, seed=i)).save(paths[-1])
    df = pd.DataFrame({"path": paths, "size": [1.0, 2.0, 3.0]})
    featurizer = VGG16Featurizer(weights=None, image_size=32, batch_size=1)
    ct = ColumnTransformer([("img", featurizer, ["path"])])
    F = ct.fit_transform(df)
    np.testing.assert_array_equal(F, featurizer.fit().transform(paths))


@pytest.mark.parametrize("X", ["one.jpg", Image.new("RGB", (2, 2))])
def test_single_image_instead_of_a_sequence_is_rejected(X):
    with pytest.raises(TypeError, match="Wrap it in a list"):
        as_image_list(X)


def test_numeric_matrix_is_rejected_with_explanation():
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        as_image_list(np.zeros((10, 4)))


# ----------------------------------------------------------------------------- errors


def _bad_files(tmp_path):
    good = _jpeg_bytes(_rgb(64, 64))
    (tmp_path / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "text.jpg").write_text("this is not a JPEG, just some text\n")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "folder.jpg").mkdir()
    return {
        "missing.jpg": "file not found",
        "truncated.jpg": "truncated",
        "text.jpg": "not an image.*text",
        "empty.jpg": "empty",
        "folder.jpg": "directory",
    }


def test_bad_files_raise_naming_the_file_and_the_reason(tmp_path):
    for name, reason in _bad_files(tmp_path).items():
        path = tmp_path / name
        with pytest.raises(ImageLoadError) as info:
            load_rgb(path)
        assert re.search(reason, info.value.reason), (name, info.value.reason)  # not the name
        assert os.fspath(path) in str(info.value)
        assert info.value.filename == os.fspath(path)


def test_a_path_with_a_nul_byte_or_an_url_is_an_image_load_error_saying_what_it_is():
    # the NUL byte gave open()'s bare ValueError, naming no file, which
    # on_error="nan" did not catch; a URL was only "not found" (a user review)
    with pytest.raises(ImageLoadError, match=r"'a\\x00b\.png': not a valid path") as info:
        load_rgb("a\0b.png")
    assert info.value.filename == "a\0b.png"
    with pytest.raises(ImageLoadError, match="URLs are not fetched: download the image"):
        load_rgb("https://example.org/a.png")


def test_an_unordered_collection_is_refused_as_images():
    # a set gave its rows in an arbitrary order, a dict its keys (a user review)
    with pytest.raises(TypeError, match=r"X is a set, whose order is arbitrary.*sorted\(X\)"):
        as_image_list({"a.jpg", "b.jpg"})
    with pytest.raises(TypeError, match=r"X is a dict; .*list\(X\.values\(\)\)"):
        as_image_list({"a": "a.jpg"})
    assert as_image_list({"a.jpg": 1}.keys()) == ["a.jpg"]  # (ordered, as a list is)


def test_image_load_error_pickles():
    import pickle

    err = pickle.loads(pickle.dumps(ImageLoadError("a.jpg", "file not found")))
    assert err.filename == "a.jpg" and "file not found" in str(err)


def test_image_load_error_is_public():
    # users catching it had only the private robustkmeans._images to import it from
    import pickle
    import traceback

    import robustkmeans
    from robustkmeans import ImageLoadError as public

    assert public is ImageLoadError and "ImageLoadError" in robustkmeans.__all__
    assert "ImageLoadError" in dir(robustkmeans)
    error = public("a.jpg", "file not found", hint="Remove it")
    # tracebacks and reprs name the import path users can write
    assert f"{public.__module__}.{public.__qualname__}" == "robustkmeans.ImageLoadError"
    assert traceback.format_exception_only(error)[-1] == (
        "robustkmeans.ImageLoadError: Cannot read image 'a.jpg': file not found. Remove it\n"
    )
    assert repr(error) == "ImageLoadError(\"Cannot read image 'a.jpg': file not found. Remove it\")"
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is public and restored.hint == "Remove it"
    assert str(restored) == str(error)
    assert b"robustkmeans._images" not in pickle.dumps(error)


# ----------------------------------------------------------------------------- preprocessing


@requires_torch
@pytest.mark.parametrize("shape", [(23, 31), (1, 1), (300, 200), (32, 32)])
def test_resize_equals_torchvision_resize_on_pil(shape):
    arr = _rgb(*shape, seed=3)
    expected = np.asarray(transforms.Resize((32, 32))(Image.fromarray(arr)))
    np.testing.assert_array_equal(resize_rgb(arr, 32), expected)


@requires_torch
def test_to_normalized_tensor_equals_to_tensor_and_normalize():
    batch = np.stack([_rgb(16, 16, seed=s) for s in range(3)])
    pipeline = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    )
    expected = torch.stack([pipeline(Image.fromarray(a)) for a in batch])
    got = to_normalized_tensor(batch, memory_format=torch.channels_last)
    assert got.dtype == torch.float32 and got.shape == (3, 3, 16, 16)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_integer_arrays_are_scaled_by_round_v_over_257():
    # uint16: v / 257 rounded to nearest (385 / 257 = 1.498 -> 1, 386 -> 2); bool: 0 / 255
    values = np.array([[0, 128, 129, 257, 385, 386, 65535]], dtype=np.uint16)
    rgb = load_rgb(values)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 7, 3)
    assert rgb[0, :, 0].tolist() == [0, 0, 1, 1, 1, 2, 255]
    mask = np.array([[True, False], [False, True]])
    assert load_rgb(mask)[..., 1].tolist() == [[255, 0], [0, 255]]


def test_no_images_is_an_error():
    for X in ([], (), np.zeros((0, 8, 8, 3), np.uint8)):
        with pytest.raises(ValueError, match="X contains no images; pass at least one"):
            as_image_list(X)


@requires_torch
@pytest.mark.parametrize("shape", [(32, 45), (45, 32), (32, 1)])
def test_resize_of_an_image_with_one_side_already_right(shape):
    # only a (32, 32) image is left as it is
    arr = _rgb(*shape, seed=4)
    expected = np.asarray(transforms.Resize((32, 32))(Image.fromarray(arr)))
    np.testing.assert_array_equal(resize_rgb(arr, 32), expected)


@requires_torch
def test_to_normalized_tensor_uses_the_imagenet_mean_and_std_in_rgb_order():
    # ImageNet statistics as torchvision documents them for its pretrained weights,
    # written out here: red (0.485, 0.229), green (0.456, 0.224), blue (0.406, 0.225)
    pixels = np.array([[[[255, 0, 0], [0, 255, 0], [0, 0, 255], [51, 102, 204]]]], np.uint8)
    got = to_normalized_tensor(pixels).numpy()[0, :, 0, :]  # (channel, pixel)
    mean = np.array([0.485, 0.456, 0.406])[:, None]
    std = np.array([0.229, 0.224, 0.225])[:, None]
    values = np.array([[1, 0, 0, 0.2], [0, 1, 0, 0.4], [0, 0, 1, 0.8]])
    np.testing.assert_allclose(got, (values - mean) / std, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- folders


def _make_tree(root):
    for cls, n in [("dogs", 2), ("cats", 3)]:
        (root / cls).mkdir()
        for i in range(n):
            Image.fromarray(_rgb(8, 8, seed=i)).save(root / cls / f"{i}.png")
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "cats" / ".hidden.png").write_bytes(b"x")
    (root / ".git").mkdir()
    Image.new("RGB", (4, 4)).save(root / ".git" / "x.png")
    Image.new("RGB", (4, 4)).save(root / "loose.png")


# Said when the images lying directly in the folder of _make_tree are left out.
_LOOSE = r"1 image file\(s\) lie directly in .*: 'loose.png'\. Move them into a class subfolder"


def test_load_image_folder_labels_from_subfolders(tmp_path):
    _make_tree(tmp_path)
    with pytest.warns(UserWarning, match=_LOOSE):  # (they were left out silently)
        data = load_image_folder(tmp_path)
    assert data.target_names == ["cats", "dogs"]
    assert data.target.tolist() == [0, 0, 0, 1, 1]
    assert all(
        os.path.basename(os.path.dirname(f)) == data.target_names[t]
        for f, t in zip(data.filenames, data.target, strict=True)
    )
    assert not any(f.endswith((".txt", "loose.png", ".hidden.png")) for f in data.filenames)
    with pytest.warns(UserWarning, match=_LOOSE):
        shuffled = load_image_folder(tmp_path, shuffle=True, random_state=1)
    assert sorted(shuffled.filenames) == sorted(data.filenames)
    pairs = dict(zip(data.filenames, data.target, strict=True))
    assert all(pairs[f] == t for f, t in zip(shuffled.filenames, shuffled.target, strict=True))
    with pytest.warns(UserWarning, match=_LOOSE):
        assert len(load_image_folder(tmp_path, extensions=None).filenames) == 6  # + notes.txt
    (tmp_path / "loose.png").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no image beside the classes: no warning
        load_image_folder(tmp_path)


def test_load_image_folder_leaves_out_subfolders_without_images(tmp_path):
    # An empty dogs/ (or one holding only notes or hidden files) is not a class:
    # target_names lists only classes that label at least one image.
    _make_tree(tmp_path)
    (tmp_path / "birds").mkdir()
    (tmp_path / "ants").mkdir()
    (tmp_path / "ants" / "notes.txt").write_text("no image here")
    (tmp_path / "ants" / ".hidden.png").write_bytes(b"")
    with pytest.warns(UserWarning, match=_LOOSE):
        data = load_image_folder(tmp_path)
    assert data.target_names == ["cats", "dogs"]
    assert data.target.tolist() == [0, 0, 0, 1, 1]
    assert sorted(set(data.target.tolist())) == list(range(len(data.target_names)))
    assert "2 classes" in data.DESCR
    # With extensions=None, the text file makes ants/ a class.
    with pytest.warns(UserWarning, match=_LOOSE):
        everything = load_image_folder(tmp_path, extensions=None)
    assert everything.target_names == ["ants", "cats", "dogs"]
    assert np.bincount(everything.target).tolist() == [1, 4, 2]


def test_load_image_folder_reads_every_extension_pillow_reads(tmp_path):
    # .jfif and .jpe (JPEG) were left out without a word, and so was .avif
    from PIL import features

    from robustkmeans._images import image_extensions

    has_avif = features.check_module("avif") if "avif" in features.modules else False
    assert (".avif" in image_extensions()) == has_avif
    for cls, names in (("a", ["x.jfif", "y.JPE", "z.jpg"]), ("b", ["b.png", "c.avif"])):
        (tmp_path / cls).mkdir()
        for name in names:
            if name.endswith(".avif") and not has_avif:
                continue
            Image.fromarray(_rgb(8, 8)).save(tmp_path / cls / name)
    data = load_image_folder(tmp_path)
    names = sorted(os.path.basename(f) for f in data.filenames)
    expected = ["b.png", "x.jfif", "y.JPE", "z.jpg"] + (["c.avif"] if has_avif else [])
    assert names == sorted(expected)
    assert all(load_rgb(f).shape == (8, 8, 3) for f in data.filenames)


def test_load_image_folder_takes_one_extension_as_a_string(tmp_path):
    # ".png" was read as the endings ".", "p", "n", "g": x.jpg ended in "g"
    (tmp_path / "a").mkdir()
    for name in ("x.jpg", "y.png"):
        Image.fromarray(_rgb(8, 8)).save(tmp_path / "a" / name)
    data = load_image_folder(tmp_path, extensions=".png")
    assert [os.path.basename(f) for f in data.filenames] == ["y.png"]
    with pytest.raises(ValueError, match="extensions='AUTO'; pass 'auto', None"):
        load_image_folder(tmp_path, extensions="AUTO")


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        load_image_folder(tmp_path)
    # images with no class subfolder: said so, not "no image files found"
    for i in range(3):
        Image.new("RGB", (4, 4)).save(tmp_path / f"{i}.jpg")
    with pytest.raises(ValueError, match=r"the 3 image file\(s\) of .* lie directly in it, but"):
        load_image_folder(tmp_path)


def _tree_with_a_locked_subfolder(root):
    for path in ["a/1.png", "b/2.png", "b/locked/3.png", "c/4.png"]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(_rgb(8, 8)).save(root / path)


def test_load_image_folder_names_the_folders_it_cannot_read(tmp_path, monkeypatch):
    # os.walk skips a folder it cannot list without a word: c/ vanished as a class
    # and b/ lost 3.png, and the data set came back short of them
    _tree_with_a_locked_subfolder(tmp_path)
    unreadable_folders(monkeypatch, tmp_path / "b" / "locked", tmp_path / "c")
    locked = re.escape(repr(os.path.join("b", "locked")))
    named = rf"{locked} \(Permission denied\), 'c' \(Permission denied\)"
    with pytest.raises(
        PermissionError,
        match=rf"2 folder\(s\) under .* cannot be read: {named}\. Give read permission.*"
        "on_error='skip'",
    ):
        load_image_folder(tmp_path)
    with pytest.warns(UserWarning, match=rf"2 folder\(s\) .* are left out, .*: {named}\.$"):
        data = load_image_folder(tmp_path, on_error="skip")
    names = [os.path.relpath(f, tmp_path) for f in data.filenames]
    assert names == [os.path.join("a", "1.png"), os.path.join("b", "2.png")]
    assert data.target_names == ["a", "b"]
    with pytest.raises(ValueError, match="on_error='nan'; pass 'raise' or 'skip'"):
        load_image_folder(tmp_path, on_error="nan")


def test_load_image_folder_refuses_a_folder_without_read_permission(tmp_path):
    # the same as above with a real permission (root reads any folder: skipped)
    _tree_with_a_locked_subfolder(tmp_path)
    locked = tmp_path / "b" / "locked"
    locked.chmod(0)
    try:
        try:
            os.listdir(locked)
        except PermissionError:
            pass
        else:
            pytest.skip("this user reads folders without read permission (root?)")
        with pytest.raises(PermissionError, match=r"1 folder\(s\) under .* cannot be read"):
            load_image_folder(tmp_path)
    finally:
        locked.chmod(0o755)


def test_load_image_folder_follows_folder_links_inside_a_class(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "deep").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(elsewhere / "b.png")
    Image.new("RGB", (4, 4)).save(elsewhere / "deep" / "c.png")
    root = tmp_path / "root"
    (root / "cats" / "sub").mkdir(parents=True)
    Image.new("RGB", (4, 4)).save(root / "cats" / "a.png")
    try:
        (root / "cats" / "more").symlink_to(elsewhere, target_is_directory=True)
        (root / "dogs").symlink_to(elsewhere, target_is_directory=True)  # a linked class
        (root / "cats" / "sub" / "loop").symlink_to("..", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symbolic links here")
    # a link inside a class is read as a linked class is; the loop is read once.
    # "dogs" reaches only the files of cats/more: they keep one label, the first.
    with pytest.warns(UserWarning, match=r"2 files .*'dogs.b\.png' \(kept in 'cats'\)"):
        data = load_image_folder(root)
    names = [os.path.relpath(f, root) for f in data.filenames]
    assert names == [
        os.path.join("cats", "a.png"),
        os.path.join("cats", "more", "b.png"),
        os.path.join("cats", "more", "deep", "c.png"),
    ]
    assert data.target.tolist() == [0, 0, 0] and data.target_names == ["cats"]


def test_links_to_the_image_folder_or_above_it_are_not_followed(tmp_path):
    # a link "up -> .." in a class folder gave the class the images of every other
    # class (kept there by their first label) and of the folder itself, under the
    # link's name (a user review); one to a folder above it reads all of that
    # folder (a link to / the whole disk). Neither is followed
    root = tmp_path / "data" / "root"
    for cls in ("cats", "dogs"):
        (root / cls).mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(root / cls / f"{cls}.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "outside.png")
    try:
        (root / "cats" / "up").symlink_to("..", target_is_directory=True)
        (root / "dogs" / "top").symlink_to(tmp_path, target_is_directory=True)
        # a class folder that is such a link is no class (a review of the fix)
        (root / "birds").symlink_to(tmp_path / "data", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symbolic links here")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_image_folder(root)
    names = [os.path.relpath(f, root) for f in data.filenames]
    assert names == [os.path.join("cats", "cats.png"), os.path.join("dogs", "dogs.png")]
    assert data.target.tolist() == [0, 1]


def test_load_image_folder_lists_a_dangling_link_so_that_reading_it_names_it(tmp_path):
    # a link to an image that is gone, between two images of a class, was left
    # out without a word: the data set silently lost an image
    from robustkmeans._demo import ColorHistogramFeaturizer

    (tmp_path / "cats").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "cats" / "a.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "cats" / "c.png")
    try:
        (tmp_path / "cats" / "b.png").symlink_to(tmp_path / "gone.png")
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symbolic links here")
    data = load_image_folder(tmp_path)
    names = [os.path.relpath(f, tmp_path) for f in data.filenames]
    assert names == [os.path.join("cats", n) for n in ("a.png", "b.png", "c.png")]
    missing = re.escape(str(tmp_path / "cats" / "b.png"))
    with pytest.raises(ImageLoadError, match=f"{missing}': file not found"):
        ColorHistogramFeaturizer().fit_transform(data.filenames)


def test_a_dangling_link_is_named_as_a_link_to_a_missing_file(tmp_path):
    # "file not found" for a file that ls lists left the user looking for it; the
    # link's target is what is missing
    from robustkmeans._images import read_bytes

    link = tmp_path / "b.png"
    try:
        link.symlink_to(tmp_path / "gone.png")
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symbolic links here")
    target = re.escape(repr(str(tmp_path / "gone.png")))
    with pytest.raises(
        ImageLoadError,
        match=f"b.png': file not found: it is a symbolic link to {target}, which does not exist",
    ):
        read_bytes(link)


def test_load_image_folder_gives_a_file_linked_into_two_classes_one_label(tmp_path):
    # root/dirlink -> root/nested/deeper: the files of deeper were listed twice,
    # under "dirlink" and under "nested" (the folders seen were kept per class).
    root = tmp_path / "root"
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "other").mkdir()
    for path in ["nested/top.png", "nested/deeper/x.png", "nested/deeper/y.png", "other/z.png"]:
        Image.new("RGB", (4, 4)).save(root / path)
    try:
        (root / "dirlink").symlink_to(root / "nested" / "deeper", target_is_directory=True)
        (root / "other" / "alias.png").symlink_to(root / "nested" / "top.png")
    except (OSError, NotImplementedError):
        pytest.skip("cannot create symbolic links here")
    Image.new("RGB", (4, 4)).save(root / "dirlink" / "own.png")  # really in nested/deeper
    with pytest.warns(UserWarning, match="load_image_folder: 4 files") as record:
        data = load_image_folder(root)
    message = str(record[0].message)
    for name in ["own.png", "x.png", "y.png"]:
        assert f"{os.path.join('dirlink', name)!r} (kept in 'nested')" in message
    assert f"{os.path.join('other', 'alias.png')!r} (kept in 'nested')" in message
    names = [os.path.relpath(f, root) for f in data.filenames]
    assert names == [
        os.path.join("nested", "deeper", "own.png"),
        os.path.join("nested", "deeper", "x.png"),
        os.path.join("nested", "deeper", "y.png"),
        os.path.join("nested", "top.png"),
        os.path.join("other", "z.png"),
    ]
    assert data.target_names == ["nested", "other"]  # dirlink holds nothing of its own
    assert data.target.tolist() == [0, 0, 0, 0, 1]
    assert len({os.path.realpath(f) for f in data.filenames}) == len(data.filenames)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no link across classes: no warning of links
        warnings.filterwarnings("ignore", message=r".* image file\(s\) lie directly in")
        load_image_folder(root / "nested")


def test_the_documented_differences_from_convert_rgb_are_the_real_ones():
    # image_features.rst said the features equal those of convert("RGB") "whatever
    # the input form", EXIF orientation aside: not for transparency or 16 bits
    from pathlib import Path

    rgb, gray = _rgb(8, 8), _rgb(8, 8, seed=1)[:, :, 0]
    palette = Image.fromarray(rgb).quantize(8)
    transparent = palette.copy()
    transparent.info["transparency"] = 0
    kinds = {
        "RGB": Image.fromarray(rgb),
        "grayscale": Image.fromarray(gray),
        "black-and-white": Image.fromarray(gray).convert("1"),
        "CMYK": Image.fromarray(rgb).convert("CMYK"),
        "palette": palette,
        "RGBA": Image.fromarray(np.dstack([rgb, gray])),
        "LA": Image.merge("LA", [Image.fromarray(gray)] * 2),
        "palette images with a transparent colour": transparent,
        "16-bit": Image.fromarray(gray.astype(np.uint16) * 257),
    }
    differ = set()
    for kind, image in kinds.items():
        buffer = io.BytesIO()
        image.save(buffer, "TIFF" if kind == "CMYK" else "PNG")
        with Image.open(io.BytesIO(buffer.getvalue())) as stored:
            if not np.array_equal(load_rgb(stored), np.asarray(stored.convert("RGB"))):
                differ.add(kind)
    assert differ == {"RGBA", "LA", "palette images with a transparent colour", "16-bit"}
    guide = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "image_features.rst"
    text = " ".join(guide.read_text(encoding="utf-8").split())
    start = text.index("The features equal those of a hand-written torchvision pipeline")
    claim = text[start : text.index("Features kept in a ``cache``", start)]
    assert "They differ, by design, for" in claim
    same, different = claim.split("They differ, by design, for")
    for kind in kinds:
        assert kind in (different if kind in differ else same), kind


@pytest.mark.parametrize("suffix", [".gif", ".png", ".tiff"])
def test_a_file_of_several_frames_gives_its_first_and_a_pil_image_its_current(tmp_path, suffix):
    from robustkmeans._cache import content_digest

    frames = [Image.fromarray(np.full((8, 8, 3), (80 * i, 40, 0), np.uint8)) for i in range(3)]
    path = tmp_path / f"animated{suffix}"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    np.testing.assert_array_equal(load_rgb(path)[0, 0], [0, 40, 0])
    with Image.open(path) as image:
        assert image.n_frames == 3
        image.seek(2)
        np.testing.assert_array_equal(load_rgb(image)[0, 0], [160, 40, 0])
        later = content_digest(image)  # a cache keeps the frames apart
        image.seek(0)
        np.testing.assert_array_equal(load_rgb(image)[0, 0], [0, 40, 0])
        assert content_digest(image) != later


def test_load_image_folder_extensions_are_case_insensitive(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("x.png", "Y.PNG", "z.Png", "w.jpg"):
        Image.fromarray(_rgb(8, 8)).save(tmp_path / "a" / name, format="PNG")
    for extensions in ([".PNG"], ".PnG", (".png",)):
        data = load_image_folder(tmp_path, extensions=extensions)
        names = sorted(os.path.basename(f) for f in data.filenames)
        assert names == ["Y.PNG", "x.png", "z.Png"], extensions


def test_integer_and_float_arrays_are_refused_with_their_conversion():
    # an int64 image (np.array of nested lists) was told the float remedy only,
    # "np.clip(x * 255, ...) for floats in [0, 1]", which would turn 0..255 values
    # white; a float or int64 batch was told no remedy at all ("X is a int64 array")
    gray = np.arange(12, dtype=np.int64).reshape(3, 4)
    for image in (gray, np.dstack([gray] * 3)):
        with pytest.raises(ImageLoadError, match=r"dtype int64.*x\.astype\(np\.uint8\)"):
            load_rgb(image)
    batch = np.zeros((2, 3, 4, 3), dtype=np.int64)
    with pytest.raises(ValueError, match=r"an int64 array.*X\.astype\(np\.uint8\)"):
        as_image_list(batch)
    with pytest.raises(
        ValueError, match=r"a float32 array.*np\.clip\(X \* 255, 0, 255\)\.round\(\)"
    ):
        as_image_list(batch.astype(np.float32))


def test_channels_first_images_are_refused_with_their_transpose():
    # torchvision.io.read_image gives (3, H, W) uint8 tensors: as arrays (or a
    # stacked (N, 3, H, W) batch) they were refused with the shapes allowed only,
    # as tensors with "got Tensor"; the error now says how to lay them out
    chw = np.zeros((3, 8, 10), dtype=np.uint8)
    with pytest.raises(ImageLoadError, match=r"channels-first.*np\.moveaxis\(x, 0, -1\)"):
        load_rgb(chw)
    with pytest.raises(ImageLoadError, match=r"X\[1\].*channels-first.*np\.moveaxis"):
        for index, image in enumerate(as_image_list(np.stack([chw, chw]))):
            load_rgb(image, index + 1)
    hwc = np.zeros((8, 3, 3), dtype=np.uint8)  # (H, W, 3) with W = 3: no hint, read it
    assert load_rgb(hwc).shape == (8, 3, 3)
    with pytest.raises(ImageLoadError) as info:
        load_rgb(np.zeros((8, 10, 5), dtype=np.uint8))
    assert "channels-first" not in str(info.value)


@requires_torch
def test_channels_first_tensor_is_refused_with_its_permute():
    # torchvision.io.read_image gives (3, H, W) uint8 tensors: "got Tensor" and no remedy
    chw = torch.zeros((3, 8, 10), dtype=torch.uint8)
    with pytest.raises(ImageLoadError, match=r"got Tensor.*\.permute\(1, 2, 0\)\.numpy\(\)"):
        load_rgb(chw)


def test_a_missing_value_in_x_is_named_as_one():
    # a path column with a missing entry (NaN, None, pandas' NA: pandas 3 stores a
    # None among strings as NaN) was refused as "got float" / "got NAType", which
    # says nothing of the missing path
    pd = pytest.importorskip("pandas")
    for missing in (None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NA, pd.NaT):
        with pytest.raises(ImageLoadError, match=r"X\[1\].*a missing value.*not an image.*drop"):
            load_rgb(missing, 1)
    with pytest.raises(ImageLoadError, match="got float"):
        load_rgb(1.5, 1)  # not missing: no such words


def test_hidden_subfolders_inside_a_class_are_not_read(tmp_path):
    # cats/.thumbnails, cats/.ipynb_checkpoints: not the data set's images (a
    # mutation audit: no test held a hidden folder inside a class)
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (4, 4)).save(tmp_path / name / "a.png")
    (tmp_path / "cats" / ".thumbnails").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "cats" / ".thumbnails" / "a.png")
    data = load_image_folder(tmp_path)
    assert [os.path.relpath(f, tmp_path) for f in data.filenames] == [
        os.path.join("cats", "a.png"),
        os.path.join("dogs", "a.png"),
    ]
    assert data.target.tolist() == [0, 1]


def test_a_postscript_file_without_ghostscript_says_what_is_missing(tmp_path):
    # an EPS file was "the image data is corrupt (Unable to locate Ghostscript...)":
    # nothing was wrong with it (a user review)
    import shutil

    if shutil.which("gs") or shutil.which("gswin64c"):
        pytest.skip("Ghostscript is installed here: the file is read")
    path = tmp_path / "drawing.eps"
    Image.fromarray(_rgb(8, 8)).save(path)
    with pytest.raises(ImageLoadError, match="Pillow needs Ghostscript to read this PostScript"):
        load_rgb(path)
