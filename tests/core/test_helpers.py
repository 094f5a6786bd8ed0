"""The pure helpers the plug-ins use: PNG, masks, header reading, fit planning."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from PIL import Image

from images import encoded, svg
from recraft_core import ValidationError
from recraft_core.imaging import imageinfo, masks, planning, png

# -- PNG ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
def test_png_round_trips_through_pillow(mode):
    rng = random.Random(1)
    w, h = 37, 23
    pixels = bytes(rng.randrange(256) for _ in range(w * h * png.CHANNELS[mode]))
    data = png.encode(w, h, mode, pixels)
    with Image.open(io.BytesIO(data)) as im:
        assert (im.mode, im.size) == (mode, (w, h))
        assert im.tobytes() == pixels
    assert png.decode(data) == (w, h, mode, pixels)


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_png_decoder_reads_every_filter_pillow_writes(mode):
    rng = random.Random(2)
    w, h = 64, 48
    im = Image.frombytes(mode, (w, h), bytes(rng.randrange(256) for _ in range(w * h * len(mode))))
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)  # adaptive filtering: Sub, Up, Average, Paeth
    assert png.decode(buf.getvalue())[3] == im.tobytes()


def test_png_rejects_wrong_buffer_length():
    with pytest.raises(ValueError, match="needs 12 bytes"):
        png.encode(2, 2, "RGB", b"\0" * 11)


def test_mask_png_is_tiny():
    mask = masks.threshold(bytes(2048 * 2048))
    assert len(png.encode(2048, 2048, "L", mask)) < 20_000


# -- masks ----------------------------------------------------------------------------------


def test_threshold_cuts_feathered_edges_at_half():
    selection = bytes(range(256))
    mask = masks.threshold(selection)
    assert mask[:128] == bytes(128) and mask[128:] == b"\xff" * 128
    assert masks.is_binary(mask) and not masks.is_binary(selection)


def test_mask_stats():
    w, h = 10, 6
    m = bytearray(w * h)
    for y, x in ((1, 2), (4, 7), (3, 5)):
        m[y * w + x] = 255
    assert masks.bbox(bytes(m), w, h) == (2, 1, 8, 5)
    assert masks.white_area(bytes(m)) == 3
    assert masks.values(bytes(m)) == [0, 255]
    assert masks.bbox(bytes(w * h), w, h) is None


def test_crop():
    w = 4
    pixels = bytes(range(4 * 3 * 2))  # 4x3, 2 channels
    assert masks.crop(pixels, w, 2, (1, 1, 3, 3)) == bytes([10, 11, 12, 13, 18, 19, 20, 21])


# -- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt,mode,gray",
    [("PNG", "L", True), ("PNG", "RGBA", False), ("JPEG", "L", True), ("JPEG", "RGB", False)],
)
def test_header_reading(fmt, mode, gray):
    info = imageinfo.read(encoded(321, 123, fmt, mode))
    assert (info.width, info.height, info.grayscale) == (321, 123, gray)


@pytest.mark.parametrize("fmt", ["WEBP", "WEBP-lossless"])
def test_webp_header(fmt):
    info = imageinfo.read(encoded(4000, 17, fmt))
    assert (info.format, info.width, info.height) == ("webp", 4000, 17)


def test_svg_sizes():
    info = imageinfo.read(svg(300, 200))
    assert (info.format, info.width, info.height) == ("svg", 300, 200)
    boxed = (
        b'<?xml version="1.0"?>\n<svg viewBox="0 0 640 480" xmlns="http://www.w3.org/2000/svg"/>'
    )
    assert (imageinfo.read(boxed).width, imageinfo.read(boxed).height) == (640, 480)
    with pytest.raises(imageinfo.UnknownImage):
        imageinfo.read(b'<svg width="50%" height="2em"/>')


def test_damaged_headers_are_reported():
    with pytest.raises(imageinfo.UnknownImage, match="damaged"):
        imageinfo.read(b"\x89PNG\r\n\x1a\n" + b"\0" * 4)
    with pytest.raises(imageinfo.UnknownImage, match="not a PNG"):
        imageinfo.read(b"BM....")


# -- fit planning ---------------------------------------------------------------------------


def test_fit_leaves_images_within_limits_alone():
    plan = planning.fit_image(1000, 700)
    assert plan.is_identity and plan.scale == 1


def test_fit_scales_large_images_down_keeping_aspect():
    plan = planning.fit_image(8000, 6000)
    assert (plan.width, plan.height) == (4096, 3072)
    assert plan.placement(4096, 3072) == planning.Placement(0, 0, 8000, 6000)


def test_fit_scales_small_images_up():
    plan = planning.fit_image(100, 50)
    assert (plan.width, plan.height) == (512, 256)
    crisp = planning.fit_image(100, 50, planning.Limits(min_side=32))
    assert crisp.is_identity


def test_fit_refuses_extreme_aspect():
    with pytest.raises(ValidationError, match="aspect ratio is too extreme"):
        planning.fit_image(5000, 100)


def test_fit_selection_crops_around_the_selection_with_context():
    plan = planning.fit_selection(6000, 4000, (3000, 2000, 3100, 2050))
    x0, y0, x1, y1 = plan.box
    assert x0 <= 3000 - 32 and x1 >= 3100 + 32 and y0 <= 2000 - 32 and y1 >= 2050 + 32
    assert x1 - x0 >= 256 and y1 - y0 >= 256 and plan.is_identity
    # The result of a mask operation goes back exactly where the crop came from.
    assert plan.placement(plan.width, plan.height) == planning.Placement(x0, y0, x1 - x0, y1 - y0)


def test_fit_selection_near_the_border_stays_inside():
    plan = planning.fit_selection(8000, 3000, (0, 0, 10, 10))
    assert plan.box == (0, 0, 10 + 512, 10 + 512)
    plan = planning.fit_selection(8000, 3000, (7990, 2990, 8000, 3000))
    assert plan.box == (7990 - 512, 2990 - 512, 8000, 3000)


def test_fit_selection_sends_a_canvas_within_the_limits_whole():
    plan = planning.fit_selection(1000, 300, (990, 290, 1000, 300))
    assert plan.box == (0, 0, 1000, 300) and plan.is_identity
    assert plan.describe((1000, 300)) == []
    small = planning.fit_selection(200, 100, (10, 10, 20, 20))
    assert small.box == (0, 0, 200, 100) and (small.width, small.height) == (512, 256)
    assert "scaled up" in small.describe((200, 100))[0]


def test_fit_selection_context_grows_with_the_canvas():
    plan = planning.fit_selection(16000, 1000, (8000, 400, 8100, 500))
    assert plan.box == (8000 - 1000, 0, 8100 + 1000, 1000)  # 16000 / 16 = 1000 px a side
    assert "Only the area around the selection" in plan.describe((16000, 1000))[0]


def test_fit_selection_of_a_huge_selection_scales_down():
    plan = planning.fit_selection(10000, 10000, (0, 0, 9000, 9000))
    assert max(plan.width, plan.height) <= 4096 and plan.width * plan.height <= 16_000_000
    place = plan.placement(plan.width, plan.height)
    assert (place.x, place.y, place.width, place.height) == (0, 0, 9000 + 625, 9000 + 625)


def test_outpaint_placement_maps_the_origin_back():
    plan = planning.fit_image(2000, 1000)  # sent as is
    # 100 px added on the left and 50 on top: the result's (100, 50) is the canvas' (0, 0).
    assert plan.placement(2200, 1100, origin=(100, 50)) == planning.Placement(-100, -50, 2200, 1100)
    half = planning.fit_image(8192, 4096)  # sent at half size
    assert half.placement(4196, 2048, origin=(100, 0)) == planning.Placement(-200, 0, 8392, 4096)


def test_fit_selection_rejects_empty_selection():
    with pytest.raises(ValidationError, match="mask"):
        planning.fit_selection(100, 100, (50, 50, 50, 60))


def test_fit_brings_a_4096_square_under_16_megapixels():
    plan = planning.fit_image(4096, 4096)
    assert plan.width == plan.height and plan.width * plan.height <= 16_000_000
    assert plan.width >= 3999


def test_swap_red_blue():
    assert png.swap_red_blue(bytes([1, 2, 3, 4, 5, 6, 7, 8])) == bytes([3, 2, 1, 4, 7, 6, 5, 8])
    assert png.swap_red_blue(bytes([1, 2, 3, 4, 5, 6]), channels=3) == bytes([3, 2, 1, 6, 5, 4])
    bgra = bytes(range(256)) * 4
    assert png.swap_red_blue(png.swap_red_blue(bgra)) == bgra


@pytest.mark.parametrize("band", [1, 7, 1 << 18])
def test_channel_copies_in_bands_give_the_same_bytes(monkeypatch, band):
    """Dropping alpha and swapping red and blue go a band of pixels at a time (the GIL
    passes between bands); band edges change nothing."""
    monkeypatch.setattr(png, "BAND_PIXELS", band)
    data = random.Random(band).randbytes(4 * 101)
    pixels = [data[i : i + 4] for i in range(0, len(data), 4)]
    rgb = b"".join(p[:3] for p in pixels)
    assert png.Raster(101, 1, "RGBA", data).without_alpha().pixels == rgb
    bgr = b"".join(p[2::-1] for p in pixels)
    assert png.Raster(101, 1, "BGRA", data).without_alpha().pixels == bgr
    assert png.swap_red_blue(data) == b"".join(p[2::-1] + p[3:] for p in pixels)
    assert png.swap_red_blue(rgb, channels=3) == bgr


def test_bgra_rasters_are_rgba_with_red_and_blue_swapped():
    """Krita's layers and QImage's ARGB32 are BGRA in memory; such a Raster converts, drops
    its alpha and encodes as the RGBA it stands for."""
    rgba = bytes([10, 20, 30, 255, 40, 50, 60, 128])
    raster = png.Raster(2, 1, "BGRA", png.swap_red_blue(rgba))
    assert raster.to_rgba() == png.Raster(2, 1, "RGBA", rgba)
    assert raster.without_alpha().pixels == bytes([10, 20, 30, 40, 50, 60])
    assert not raster.opaque and not raster.blank
    with Image.open(io.BytesIO(raster.to_png())) as im:
        assert (im.mode, im.tobytes()) == ("RGBA", rgba)


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("kind", [0, 1, 2, 3, None])
def test_png_filters_round_trip(mode, kind):
    rng = random.Random(kind or 9)
    w, h = 29, 17
    pixels = bytes(rng.randrange(256) for _ in range(w * h * png.CHANNELS[mode]))
    data = png.encode(w, h, mode, pixels, filter=kind)
    with Image.open(io.BytesIO(data)) as im:
        assert im.tobytes() == pixels
    assert png.decode(data)[3] == pixels


def _photo(w, h):
    """Smooth gradients with mild noise: filters matter on such images."""
    rng = random.Random(4)
    return bytes(
        min(255, (x * 255 // w + y * 128 // h + c * 40 + rng.randrange(6)) % 256)
        for y in range(h)
        for x in range(w)
        for c in range(3)
    )


def test_png_picks_a_filter_that_beats_no_filter_on_photos():
    w, h = 320, 200
    photo = _photo(w, h)
    chosen = png.encode(w, h, "RGB", photo)
    assert len(chosen) < 0.8 * len(png.encode(w, h, "RGB", photo, filter=0))
    assert png.decode(chosen)[3] == photo


def _filter_bytes(data: bytes, stride: int) -> bytes:
    """The filter type of every row of a single-IDAT PNG."""
    length = int.from_bytes(data[33:37], "big")
    assert data[37:41] == b"IDAT"
    return zlib.decompress(data[41 : 41 + length])[:: stride + 1]


def test_png_sends_a_repeated_row_as_up_and_still_round_trips():
    """A photo's row that repeats the one above goes as Up (all zeros), whatever filter the
    rest of the image took; Pillow reads it back pixel for pixel."""
    w, h = 320, 60
    rng = random.Random(5)
    # Smooth along each row, unrelated from row to row: Sub suits it, Up does not.
    photo = bytearray()
    for _ in range(h):
        start = rng.randrange(256)
        photo += bytes(
            (start + x + c * 50 + rng.randrange(3)) % 256 for x in range(w) for c in range(3)
        )
    stride = 3 * w
    for y in (10, 11, 12, 40):  # rows 11-13 and 41 repeat the row above
        photo[(y + 1) * stride : (y + 2) * stride] = photo[y * stride : (y + 1) * stride]
    data = png.encode(w, h, "RGB", bytes(photo))
    kinds = _filter_bytes(data, stride)
    assert kinds[0] == 1 and {kinds[y] for y in (11, 12, 13, 41)} == {2}
    assert set(kinds) == {1, 2}
    with Image.open(io.BytesIO(data)) as im:
        assert im.tobytes() == photo
    # A filter asked for is used on every row.
    assert set(_filter_bytes(png.encode(w, h, "RGB", bytes(photo), filter=1), stride)) == {1}


def test_png_decoder_refuses_cut_and_overlong_image_data():
    w, h = 16, 8
    pixels = bytes(range(256)) * 2
    good = png.encode(w, h, "RGBA", pixels)
    length = int.from_bytes(good[33:37], "big")
    stream = zlib.decompress(good[41 : 41 + length])

    def with_idat(data: bytes) -> bytes:
        chunk = len(data).to_bytes(4, "big") + b"IDAT" + data + b"\0\0\0\0"
        return good[:33] + chunk + good[45 + length :]

    for cut in (4, 40):  # the checksum only; rows too
        with pytest.raises(png.PNGError, match="cut short"):
            png.decode(with_idat(zlib.compress(stream)[:-cut]))
    with pytest.raises(png.PNGError, match="wrong length"):
        png.decode(with_idat(zlib.compress(stream + b"\0" * 65)))
    with pytest.raises(png.PNGError, match="wrong length"):
        png.decode(with_idat(zlib.compress(stream[:-65])))
    assert png.decode(with_idat(zlib.compress(stream)))[3] == pixels


@pytest.mark.parametrize("opaque", [False, True])
def test_png_estimate_is_close_to_the_encoded_size(opaque):
    """The job scales a source down on this estimate before its one encode: it must be near
    what encode() makes, with or without the alpha an opaque image is sent without."""
    w, h = 400, 300
    rgb = bytearray(_photo(w, h))
    rgba = bytearray(b"\xff" * (4 * w * h))
    for c in range(3):
        rgba[c::4] = rgb[c::3]
    sent = png.encode(w, h, "RGB", bytes(rgb)) if opaque else png.encode(w, h, "RGBA", rgba)
    estimated = png.estimate(png.Raster(w, h, "RGBA", bytes(rgba)), opaque=opaque)
    assert 0.8 * len(sent) < estimated < 1.25 * len(sent)
    bgra = png.swap_red_blue(rgba)
    bgra_estimate = png.estimate(png.Raster(w, h, "BGRA", bgra), opaque=opaque)
    assert abs(bgra_estimate - estimated) < 0.05 * estimated


def test_png_knows_flat_art_from_photos():
    w, h = 400, 300
    flat = bytearray(b"\xf0\xec\xe4\xff" * (w * h))
    flat[4 * w * 100 : 4 * w * 120] = b"\x1e\x3c\x8c\xff" * (w * 20)
    assert png.is_flat(png.Raster(w, h, "RGBA", flat))
    assert not png.is_flat(png.Raster(w, h, "RGB", _photo(w, h)))
    # The alpha goes only where it costs bytes, and only when nothing is transparent.
    photo = bytearray(b"\xff" * (4 * w * h))
    for c in range(3):
        photo[c::4] = _photo(w, h)[c::3]
    assert png.drops_alpha(png.Raster(w, h, "RGBA", bytes(photo)))
    assert png.drops_alpha(png.Raster(w, h, "BGRA", bytes(photo)))
    assert not png.drops_alpha(png.Raster(w, h, "RGBA", flat))
    photo[4 * 1000 + 3] = 254
    assert not png.drops_alpha(png.Raster(w, h, "RGBA", bytes(photo)))
    assert not png.drops_alpha(png.Raster(w, h, "RGB", _photo(w, h)))


def test_adler32_combine_matches_zlib():
    rng = random.Random(11)
    for _ in range(200):
        a, b = rng.randbytes(rng.randrange(0, 300)), rng.randbytes(rng.randrange(0, 300))
        joined = png.adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b))
        assert joined == zlib.adler32(a + b)
    big = bytes(200_000) + b"\xff" * 70_000  # lengths past the modulus
    assert png.adler32_combine(zlib.adler32(b"x"), zlib.adler32(big), len(big)) == zlib.adler32(
        b"x" + big
    )


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
def test_png_runs_of_repeated_rows_round_trip(mode):
    """Rows that repeat the one above, in runs long and short (flat art's bands, a mask's
    black), go as Up rows of zeros deflated once and copied: the file is still one valid
    zlib stream, and Pillow and our decoder read back every pixel."""
    rng = random.Random(len(mode))
    bpp = png.CHANNELS[mode]
    w = 37
    patterns = [rng.randbytes(w * bpp) for _ in range(4)] + [bytes(w * bpp)]
    rows, runs = [], [1, 3, 7, 8, 9, 64, 65, 130, 1, 200, 2]
    for run in runs:
        rows += [rng.choice(patterns)] * run
    pixels = b"".join(rows)
    h = len(rows)
    data = png.encode(w, h, mode, pixels)
    with Image.open(io.BytesIO(data)) as im:
        assert im.tobytes() == pixels
    assert png.decode(data)[3] == pixels
    kinds = _filter_bytes(data, w * bpp)  # zlib.decompress checks the Adler-32 too
    start = sum(runs[:5])  # the run of 64 repeats (after its first row)
    assert set(kinds[start + 1 : start + 64]) == {2}
    # A filter asked for is still used on every row.
    assert set(_filter_bytes(png.encode(w, h, mode, pixels, filter=1), w * bpp)) == {1}


def test_png_rejects_an_unknown_filter():
    with pytest.raises(ValueError, match="filter must be"):
        png.encode(1, 1, "L", b"\0", filter=4)


def test_shrink_for_upload():
    assert planning.shrink_for_upload(4000, 3000, 9 * 2**20) is None
    w, h = planning.shrink_for_upload(4000, 3000, 20 * 2**20)
    assert (w, h) == (2683, 2012)  # 45 % of the pixels: 90 % of the limit over twice the limit
