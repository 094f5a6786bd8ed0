"""Hostile and absurd inputs: every one gets a 400 naming what is wrong, never a crash, a hang
or a huge allocation.  Images are refused from their header before any pixel is decoded."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageFile

from recraft_server import render

from .helpers import (
    SVG_NS,
    assert_error,
    encode,
    noisy,
    parse_svg,
    png,
    png_header_only,
    scene,
    svg_doc,
)

GEN = "/images/generations"
SIZE = (320, 256)
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def decoded(monkeypatch):
    """The (format, size) of every image Pillow decodes while the test runs."""
    seen: list[tuple[str, tuple[int, int]]] = []
    original = ImageFile.ImageFile.load

    def spy(self):
        seen.append((self.format, self.size))
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    return seen


# --- SVG structure --------------------------------------------------------------------------------


def _nested_svg(levels: int) -> bytes:
    """An SVG ``levels`` elements deep: the root, ``levels - 2`` nested <g> and a <rect>."""
    inner = "<g>" * (levels - 2) + '<rect width="1" height="1"/>' + "</g>" * (levels - 2)
    return svg_doc(300, 300, body=inner)


def test_deeply_nested_svg_is_refused_not_a_crash(api):
    deep = svg_doc(300, 300, body="<g>" * 200_000 + "</g>" * 200_000)
    r = api.upload("/images/removeBackground", image=deep)
    assert_error(r, 400, "image", "nested too deeply", "256", code="invalid_image")
    r = api.upload("/images/removeBackground", image=_nested_svg(257))
    assert_error(r, 400, "image", "nested too deeply", code="invalid_image")
    api.ok(api.upload("/images/removeBackground", image=_nested_svg(256)))


def test_svg_with_too_many_elements(api):
    many = svg_doc(300, 300, body="<g/>" * 100_000)  # + the root: 100,001 elements
    r = api.upload("/images/removeBackground", image=many)
    assert_error(r, 400, "image", "too many elements", "100000", code="invalid_image")


@pytest.mark.parametrize(
    "attrs",
    [
        'width="1e999" height="300"',
        'width="300" height="1E400px"',
        'viewBox="0 0 nan 100"',
        'viewBox="0 0 inf 100"',
        'width="300" viewBox="0 0 1e-300 1e300"',
    ],
)
def test_svg_sizes_that_are_not_finite(api, attrs):
    r = api.upload("/images/removeBackground", image=svg_doc(attrs=attrs))
    assert_error(r, 400, "image", "finite", code="invalid_image")


# --- JSON -----------------------------------------------------------------------------------------


def test_deeply_nested_json_names_the_field(api):
    deep = b"[" * 100_000 + b"]" * 100_000
    r = api.post(GEN, data=b'{"prompt": "x", "controls": ' + deep + b"}", headers=JSON_HEADERS)
    assert_error(r, 400, "controls", "nested too deeply", code="invalid_parameter")
    r = api.post(GEN, data=deep, headers=JSON_HEADERS)
    assert_error(r, 400, "body", "nested too deeply", code="invalid_request_body")
    r = api.upload(GEN, {"prompt": "x", "controls": deep.decode()})
    assert_error(r, 400, "controls", "nested too deeply", code="invalid_parameter")
    # deep but within the parser's own recursion limit: still refused, by the depth rule
    r = api.post(GEN, json={"prompt": "x", "style_reference_urls": json.loads("[" * 65 + "]" * 65)})
    assert_error(r, 400, "style_reference_urls", "nested too deeply", "64")
    api.ok(api.post(GEN, json={"prompt": "x", "style_reference_urls": [[[["ok"]]]]}))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"prompt": "\\ud800"}', "prompt"),
        (
            b'{"prompt": "x", "model": "recraftv3", "negative_prompt": "a\\udfffb"}',
            "negative_prompt",
        ),
        (b'{"prompt": "x", "style_reference_urls": ["\\udc00"]}', "style_reference_urls"),
        (b'{"prompt": "x", "controls": {"\\ud800": 1}}', "controls"),
    ],
)
def test_lone_surrogates_are_400(api, body, field):
    r = api.post(GEN, data=body, headers=JSON_HEADERS)
    assert_error(r, 400, field, "not valid Unicode", code="invalid_parameter")


HUGE = "9" * 400


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            '{"prompt": "x", "model": "recraftv3", "controls": {"colors": '
            f'[{{"rgb": [1, 2, 3], "weight": {HUGE}}}]}}}}',
            ["controls.colors[0].weight must be a number"],
        ),
        (
            '{"prompt": "x", "model": "recraftv3", "text_layout": '
            f'[{{"text": "Hi", "bbox": [[0, {HUGE}], [1, 0], [1, 1], [0, 1]]}}]}}',
            ["text_layout[0].bbox", "finite"],
        ),
        ('{"prompt": "x", "n": ' + HUGE + "}", ["n must be in [1, 6]", "huge"]),
        ('{"prompt": "x", "random_seed": -' + HUGE + "}", ["random_seed must be in"]),
        (
            '{"prompt": "x", "controls": {"colors": [{"rgb": [1, 2, 3], "weight": NaN}]}}',
            ["controls holds NaN", "finite"],
        ),
        (
            '{"prompt": "x", "controls": {"artistic_level": Infinity}}',
            ["controls holds Infinity"],
        ),
        ('{"prompt": "x", "n": ' + "9" * 5000 + "}", ["n holds an integer with too many digits"]),
    ],
)
def test_huge_and_non_finite_numbers_in_json(api, body, words):
    r = api.post(GEN, data=body.encode(), headers=JSON_HEADERS)
    assert_error(r, 400, *words, code="invalid_parameter")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"image_weights": f"[{HUGE}]"}, ["image_weights", "finite"]),
        ({"image_weights": "[1e999]"}, ["image_weights", "finite"]),
        ({"image_weights": "[NaN]"}, ["image_weights", "NaN"]),
        ({"source_style_weights": "[-Infinity]"}, ["source_style_weights", "Infinity"]),
    ],
)
def test_huge_and_non_finite_numbers_in_multipart_json(api, data, words):
    r = api.upload("/styles", {"style": "any", **data}, f=png())
    assert_error(r, 400, *words)


def test_huge_multipart_numbers(api):
    r = api.upload(GEN, {"prompt": "x", "n": "9" * 5000})
    assert_error(r, 400, "n", "digits", code="invalid_parameter")
    r = api.upload(GEN, {"prompt": "x", "random_seed": "9" * 60})
    assert_error(r, 400, "random_seed", "huge", code="invalid_parameter")
    r = api.upload("/images/imageToImage", {"prompt": "x", "strength": HUGE}, image=png())
    assert_error(r, 400, "strength", "finite", code="invalid_parameter")
    r = api.upload("/images/outpaint", {"prompt": "x", "zoom_out_percentage": "1e999"}, image=png())
    assert_error(r, 400, "zoom_out_percentage", "finite", code="invalid_parameter")


# --- multipart framing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data; boundary*=UTF-8''%E2%82%AC",
        "multipart/form-data; boundary=\u00e9t\u00e9",
        "multipart/form-data; boundary=" + "b" * 71,
    ],
)
def test_bad_multipart_boundaries(api, content_type):
    r = api.post(GEN, data=b"--x\r\n", headers={"Content-Type": content_type})
    assert_error(r, 400, "boundary", code="invalid_request_body")


# --- decompression bombs and memory ---------------------------------------------------------------


def test_image_header_is_checked_before_decoding(api, decoded):
    # 144 MP: over the limits, yet under Pillow's own decompression-bomb error
    r = api.upload("/images/removeBackground", image=png_header_only(12000, 12000))
    assert_error(r, 400, "image", "12000x12000", code="invalid_image")
    bomb_mask = png_header_only(12000, 12000, color_type=0)
    r = api.upload("/images/inpaint", {"prompt": "x"}, image=png(), mask=bomb_mask)
    assert_error(r, 400, "mask", "12000x12000", "320x256", code="invalid_image")
    assert all(size != (12000, 12000) for _, size in decoded), decoded


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_never_decoded(api, decoded, fmt):
    other = encode(Image.new("L", SIZE, 255), fmt)
    r = api.upload("/images/inpaint", {"prompt": "x"}, image=png(), mask=other)
    assert_error(r, 400, "mask", fmt, code="invalid_image")
    r = api.upload("/styles", {"style": "any"}, f=other)
    assert_error(r, 400, "f", fmt, code="invalid_image")
    assert all(f in ("PNG", "JPEG", "WEBP") for f, _ in decoded), decoded


def test_style_images_have_a_pixel_cap(api, decoded):
    r = api.upload("/styles", {"style": "any"}, f=png_header_only(5000, 3201))
    assert_error(r, 400, "f", "5000x3201", "16,000,000", code="invalid_image")
    assert decoded == []
    # within the cap the header passes, and only then are the (missing) pixels decoded
    r = api.upload("/styles", {"style": "any"}, f=png_header_only(5000, 3200))
    assert_error(r, 400, "f", "could not be decoded", code="invalid_image")
    assert [size for _, size in decoded] == [(5000, 3200)]
    api.ok(api.upload("/styles", {"style": "any"}, f=png(Image.new("L", (6000, 40)))))


def test_vectorize_never_builds_a_float_copy_of_the_image():
    img = Image.fromarray(np.zeros((2048, 2048, 4), np.uint8))  # 16 MiB of RGBA
    tracemalloc.start()
    try:
        render.vectorize(img)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 48 * 1024 * 1024  # a float64 copy alone would be 128 MiB


def test_vectorize_block_means_are_exact():
    img = noisy((97, 61), "RGBA", seed=5)
    rects = parse_svg(render.vectorize(img)).iter(SVG_NS + "rect")
    got = {
        (int(r.get("x")), int(r.get("y"))): (r.get("fill"), r.get("fill-opacity")) for r in rects
    }
    arr, cell, want = np.asarray(img, dtype=np.float64), 4, {}  # cell = ceil(97 / 32)
    for y in range(0, 61, cell):
        for x in range(0, 97, cell):
            mean = arr[y : y + cell, x : x + cell].reshape(-1, 4).mean(axis=0)
            r, g, b, a = (int(np.floor(v + 0.5)) for v in mean)
            want[x, y] = (f"#{r:02x}{g:02x}{b:02x}", None if a == 255 else f"{a / 255:.3f}")
    assert got == want


@pytest.mark.parametrize(
    ("path", "size", "expected"),
    [
        ("/images/creativeUpscale", (4096, 256), (8192, 512)),  # 4x would be 16384 wide
        ("/images/creativeUpscale", (3000, 256), (8192, 699)),  # factor 8192/3000, half up
        ("/images/creativeUpscale", (2048, 256), (8192, 1024)),  # exactly 4x still fits
        ("/images/crispUpscale", (4096, 256), (8192, 512)),  # 2x always fits
    ],
)
def test_upscales_are_capped_at_8192(api, path, size, expected):
    src = scene(size, mode="L", bg=(0, 0, 0), fg=(255, 0, 0), box=(0, 0, 1, 1))
    out = api.fetch_image(api.ok(api.upload(path, image=png(src)))["image"])
    assert out.size == expected
    if expected[0] % size[0] == 0:  # a whole factor: nearest neighbour, exact blocks
        f = expected[0] // size[0]
        want = np.asarray(src).repeat(f, axis=0).repeat(f, axis=1)
        assert np.array_equal(np.asarray(out), want)


def test_webp_beyond_its_limit_falls_back_to_png():
    out = render.encode(Image.new("L", (16384, 2)), "webp")
    assert out.ext == "png" and out.data.startswith(b"\x89PNG")
    assert render.encode(Image.new("L", (16383, 2)), "webp").ext == "webp"


# --- the 16 MP rule -------------------------------------------------------------------------------


def test_16_mp_means_16_million_pixels(api):
    r = api.upload("/images/removeBackground", image=png_header_only(4096, 4096))
    assert_error(
        r, 400, "image", "4096x4096", "at most 16 MP (16,000,000 pixels)", code="invalid_image"
    )
    r = api.upload("/images/removeBackground", image=png_header_only(4096, 3907))
    assert_error(r, 400, "16,003,072 pixels", code="invalid_image")
    # 4000x4000 and 4096x3906 pass the size rules (these headers then fail to decode)
    for w, h in ((4000, 4000), (4096, 3906)):
        r = api.upload("/images/removeBackground", image=png_header_only(w, h))
        assert_error(r, 400, "image", "could not be decoded", code="invalid_image")
