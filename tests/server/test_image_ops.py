"""The image endpoints: pixels and geometry of every deterministic rule, prices, and their
endpoint-specific rejections."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from .helpers import (
    assert_error,
    encode,
    mask,
    noisy,
    open_image,
    parse_svg,
    png,
    scene,
    svg_doc,
    svg_size,
)

SIZE = (320, 256)
LAYOUT = '[{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}]'


def _pattern(width, height, prompt, seed=None, index=0):
    """The documented generation pattern, recomputed independently of the server."""
    d = hashlib.sha256(
        f"{prompt}\x00{'none' if seed is None else seed}\x00{index}".encode()
    ).digest()
    c0, c1, c2 = (np.array(list(d[i : i + 3]), dtype=np.float64) for i in (0, 3, 6))
    tile = 16 + d[9] % 48
    x = np.arange(width)
    grad = c0 + (c1 - c0) * (x / (width - 1))[:, None]
    odd = ((x[None, :] // tile) + (np.arange(height)[:, None] // tile)) % 2 == 1
    img = np.where(odd[..., None], (grad[None] + c2) / 2, grad[None])
    return np.floor(img + 0.5).astype(np.uint8)


# --- imageToImage ---------------------------------------------------------------------------------


def test_image_to_image_strength_blend(api, recraft_server):
    src = noisy(SIZE)
    body = api.ok(
        api.upload("/images/imageToImage", {"prompt": "p", "strength": "0"}, image=png(src)),
        "GenerateImageResponse",
    )
    assert body["credits"] == 40  # default recraftv4_1
    out = api.fetch_image(body["data"][0])
    assert out.size == SIZE and np.array_equal(np.asarray(out), np.asarray(src))

    body = api.ok(
        api.upload("/images/imageToImage", {"prompt": "p", "strength": "1"}, image=png(src))
    )
    assert np.array_equal(np.asarray(api.fetch_image(body["data"][0])), _pattern(*SIZE, "p"))

    body = api.ok(
        api.upload(
            "/images/imageToImage",
            {"prompt": "p", "strength": "0.25", "random_seed": "9", "n": "2"},
            image=png(src),
        )
    )
    assert len(body["data"]) == 2 and body["credits"] == 80
    expected = np.floor(np.asarray(src) * 0.75 + _pattern(*SIZE, "p", 9, 1) * 0.25 + 0.5)
    assert np.array_equal(np.asarray(api.fetch_image(body["data"][1])), expected.astype(np.uint8))


def test_image_to_image_keeps_alpha_and_vector_model(api):
    src = noisy(SIZE, "RGBA")
    body = api.ok(
        api.upload("/images/imageToImage", {"prompt": "p", "strength": "0.5"}, image=png(src))
    )
    out = api.fetch_image(body["data"][0])
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[..., 3], np.asarray(src)[..., 3])

    data = {"prompt": "p", "strength": "0.5", "model": "recraftv4_vector", "style": "icon"}
    body = api.ok(api.upload("/images/imageToImage", data, image=png(scene(SIZE))))
    assert body["credits"] == 80
    assert svg_size(parse_svg(api.fetch(body["data"][0]))) == SIZE


def test_image_to_image_svg_input(api):
    # a raster model rasterizes the SVG as its background colour (#ffffff here), then blends
    body = api.ok(
        api.upload("/images/imageToImage", {"prompt": "p", "strength": "0.3"}, image=svg_doc())
    )
    out = api.fetch_image(body["data"][0])
    assert out.format == "PNG" and out.mode == "RGB" and out.size == SIZE
    expected = np.floor(255 * 0.7 + _pattern(*SIZE, "p") * 0.3 + 0.5).astype(np.uint8)
    assert np.array_equal(np.asarray(out), expected)
    data = {"prompt": "p", "strength": "0.3", "model": "recraftv3_vector"}
    body = api.ok(api.upload("/images/imageToImage", data, image=svg_doc()))
    assert svg_size(parse_svg(api.fetch(body["data"][0]))) == (320, 256)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"prompt": "p"}, ["strength", "required"]),
        ({"prompt": "p", "strength": "1.5"}, ["strength"]),
        ({"prompt": "p", "strength": "abc"}, ["strength", "number"]),
        ({"strength": "0.5"}, ["prompt"]),
        ({"prompt": "p", "strength": "0.5", "model": "recraftv2"}, ["model", "recraftv2"]),
        ({"prompt": "p", "strength": "0.5", "size": "1:1"}, ["size"]),
        ({"prompt": "p", "strength": "0.5", "style": "icon"}, ["style", "vector"]),
        ({"prompt": "p", "strength": "0.5", "text_layout": LAYOUT}, ["text_layout", "V3"]),
        ({"prompt": "p", "strength": "0.5", "controls": "{bad json"}, ["controls", "JSON"]),
    ],
)
def test_image_to_image_rejections(api, data, words):
    assert_error(api.upload("/images/imageToImage", data, image=png()), 400, *words)


def test_image_to_image_style_on_v4(api):
    data = {"prompt": "p", "strength": "0.5", "model": "recraftv4", "style": "realistic_image"}
    api.ok(api.upload("/images/imageToImage", data, image=png()))


# --- inpaint / generateBackground / eraseRegion ---------------------------------------------------


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA"])
@pytest.mark.parametrize("path", ["/images/inpaint", "/images/generateBackground"])
def test_masked_fill_changes_only_the_mask(api, path, mode):
    src = noisy(SIZE, mode, seed=3)
    m = mask(SIZE, (40, 30, 120, 90))
    body = api.ok(
        api.upload(path, {"prompt": "sky"}, image=png(src), mask=png(m)), "GenerateImageResponse"
    )
    assert body["credits"] == 40
    out = api.fetch_image(body["data"][0])
    assert out.mode == mode and out.size == SIZE
    a, b, white = np.asarray(src), np.asarray(out), np.asarray(m) == 255
    assert np.array_equal(a[~white], b[~white])
    changed = (a != b) if a.ndim == 2 else (a != b).any(axis=-1)
    assert changed[white].all()


def test_inpaint_fill_is_the_prompt_pattern(api):
    src = scene(SIZE)
    body = api.ok(
        api.upload("/images/inpaint", {"prompt": "sky"}, image=png(src), mask=png(mask(SIZE)))
    )
    out = np.asarray(api.fetch_image(body["data"][0]))
    pat = _pattern(*SIZE, "sky")
    white = np.asarray(mask(SIZE)) == 255
    same = (pat == np.asarray(src)).all(axis=-1)
    assert np.array_equal(out[white & ~same], pat[white & ~same])


def test_inpaint_jpeg_webp_and_mode_1_mask(api):
    src = scene(SIZE, bg=(10, 200, 30))
    for fmt in ("JPEG", "WEBP"):
        data = encode(src, fmt)
        body = api.ok(
            api.upload(
                "/images/inpaint", {"prompt": "x"}, image=data, mask=png(mask(SIZE, mode="1"))
            )
        )
        out = np.asarray(api.fetch_image(body["data"][0]))
        decoded = np.asarray(open_image(data).convert("RGB"))
        white = np.asarray(mask(SIZE)) == 255
        assert np.array_equal(out[~white], decoded[~white])


def test_inpaint_n_vector_and_svg(api, recraft_server):
    body = api.ok(
        api.upload(
            "/images/inpaint",
            {"prompt": "x", "n": "3", "model": "recraftv3_vector"},
            image=png(),
            mask=png(mask(SIZE)),
        )
    )
    assert body["credits"] == 240 and len(body["data"]) == 3
    assert svg_size(parse_svg(api.fetch(body["data"][0]))) == SIZE

    data = {"prompt": "x", "model": "recraftv3_vector"}
    body = api.ok(api.upload("/images/inpaint", data, image=svg_doc(), mask=png(mask(SIZE))))
    root = parse_svg(api.fetch(body["data"][0]))
    assert svg_size(root) == SIZE
    rect = root[-1]
    assert [rect.get(k) for k in ("x", "y", "width", "height")] == ["40", "30", "80", "60"]


@pytest.mark.parametrize("path", ["/images/inpaint", "/images/generateBackground"])
def test_svg_input_with_a_raster_model_gives_a_png(api, path):
    doc = svg_doc(body='<rect width="100%" height="100%" fill="#0a141e"/><circle r="5"/>')
    body = api.ok(api.upload(path, {"prompt": "sky"}, image=doc, mask=png(mask(SIZE))))
    assert body["data"][0]["url"].endswith(".png")
    out = np.asarray(api.fetch_image(body["data"][0]))
    white = np.asarray(mask(SIZE)) == 255
    assert out.shape == (256, 320, 3)
    assert (out[~white] == (10, 20, 30)).all()  # the SVG's background colour
    pat = _pattern(*SIZE, "sky")
    differs = (pat != (10, 20, 30)).any(axis=-1)
    assert np.array_equal(out[white & differs], pat[white & differs])


def test_erase_region_and_remove_background_keep_svg(api):
    body = api.ok(api.upload("/images/eraseRegion", image=svg_doc(), mask=png(mask(SIZE))))
    assert body["image"]["url"].endswith(".svg")
    body = api.ok(api.upload("/images/removeBackground", image=svg_doc()))
    assert body["image"]["url"].endswith(".svg")


def test_erase_region(api, recraft_server):
    src = noisy(SIZE, "RGBA")
    body = api.ok(
        api.upload("/images/eraseRegion", image=png(src), mask=png(mask(SIZE))),
        "ProcessImageResponse",
    )
    assert body["credits"] == 2
    out = api.fetch_image(body["image"])
    white = np.asarray(mask(SIZE)) == 255
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[~white], np.asarray(src)[~white])
    assert (np.asarray(out)[white] != np.asarray(src)[white]).any(axis=-1).all()
    r = api.upload("/images/eraseRegion", {"prompt": "x"}, image=png(src), mask=png(mask(SIZE)))
    assert_error(r, 400, "prompt", code="unknown_parameter")
    body = api.ok(api.upload("/images/eraseRegion", image=svg_doc(), mask=png(mask(SIZE))))
    assert svg_size(parse_svg(api.fetch(body["image"]))) == SIZE


@pytest.mark.parametrize(
    "path", ["/images/inpaint", "/images/generateBackground", "/images/eraseRegion"]
)
def test_mask_rules(api, path):
    data = {} if path.endswith("eraseRegion") else {"prompt": "x"}
    img = png()
    cases = [
        (png(mask(SIZE).convert("RGB")), ["mask", "grayscale", "RGB"]),
        (png(mask((300, 256))), ["mask", "300x256", "320x256"]),
        (png(Image.new("L", SIZE, 128)), ["mask", "128"]),
        (svg_doc(), ["mask", "SVG"]),
        (b"not an image", ["mask", "readable"]),
    ]
    for m, words in cases:
        assert_error(api.upload(path, data, image=img, mask=m), 400, *words, code="invalid_image")
    assert_error(api.upload(path, data, image=img), 400, "mask", code="missing_parameter")


def test_masked_models_and_styles(api):
    m = png(mask(SIZE))
    r = api.upload("/images/inpaint", {"prompt": "x", "model": "recraftv4"}, image=png(), mask=m)
    assert_error(r, 400, "model", "recraftv4")
    api.ok(
        api.upload(
            "/images/inpaint", {"prompt": "x", "style": "digital_illustration"}, image=png(), mask=m
        )
    )
    r = api.upload("/images/inpaint", {"prompt": "x", "style": "icon"}, image=png(), mask=m)
    assert_error(r, 400, "style", "icon")
    r = api.upload("/images/inpaint", {"prompt": "x", "size": "1:1"}, image=png(), mask=m)
    assert_error(r, 400, "size", code="unknown_parameter")
    data = {
        "prompt": "x",
        "negative_prompt": "blur",
        "text_layout": LAYOUT,
        "controls": '{"artistic_level": 2, "no_text": true}',
        "random_seed": "4",
    }
    api.ok(api.upload("/images/generateBackground", data, image=png(), mask=m))


# --- outpaint -------------------------------------------------------------------------------------


def _outpaint(api, data, image):
    body = api.ok(
        api.upload("/images/outpaint", {"prompt": "sea", **data}, image=image),
        "GenerateImageResponse",
    )
    return body, api.fetch_image(body["data"][0])


def test_outpaint_expand_places_original(api):
    src = noisy((256, 300), "RGBA")
    data = {"expand_left": "30", "expand_right": "10", "expand_top": "5", "expand_bottom": "0"}
    body, out = _outpaint(api, data, png(src))
    assert body["credits"] == 40
    assert out.size == (296, 305) and out.mode == "RGBA"
    arr = np.asarray(out)
    assert np.array_equal(arr[5 : 5 + 300, 30 : 30 + 256], np.asarray(src))
    pat = _pattern(296, 305, "sea")
    assert np.array_equal(arr[:5, :, :3], pat[:5])
    assert (arr[:5, :, 3] == 255).all()


def test_outpaint_size_centres_original(api):
    src = noisy((300, 256))
    _, out = _outpaint(api, {"size": "1024x1365"}, png(src))
    assert out.size == (1024, 1365)
    x, y = (1024 - 300) // 2, (1365 - 256) // 2
    assert np.array_equal(np.asarray(out)[y : y + 256, x : x + 300], np.asarray(src))
    _, out = _outpaint(api, {"size": "4:3"}, png(src))
    assert out.size == (1365, 1024)


def test_outpaint_zoom(api):
    src = scene((400, 300), fg=(0, 0, 255))
    _, out = _outpaint(api, {"zoom_out_percentage": "50"}, png(src))
    assert out.size == (400, 300)
    arr = np.asarray(out)
    # the 200x150 shrunken image sits at (100, 75); its centre pixel is the blue rectangle
    assert tuple(arr[75 + 75, 100 + 100]) == (0, 0, 255)
    assert tuple(arr[75 + 2, 100 + 2]) == (255, 255, 255)
    pat = _pattern(400, 300, "sea")
    assert np.array_equal(arr[:75], pat[:75])

    _, out = _outpaint(api, {"zoom_out_percentage": "25", "expand_right": "100"}, png(src))
    assert out.size == (500, 300)
    arr = np.asarray(out)
    sw, sh = 300, 225
    x, y = (500 - sw) // 2, (300 - sh) // 2
    assert tuple(arr[y + sh // 2, x + sw // 2]) == (0, 0, 255)
    assert np.array_equal(arr[: y - 1], _pattern(500, 300, "sea")[: y - 1])


def test_outpaint_svg_and_vector(api):
    data = {"prompt": "x", "expand_left": "100", "model": "recraftv3_vector"}
    body = api.ok(api.upload("/images/outpaint", data, image=svg_doc()))
    root = parse_svg(api.fetch(body["data"][0]))
    assert svg_size(root) == (420, 256)
    inner = root[-1]
    assert [inner.get(k) for k in ("x", "y", "width", "height")] == ["100", "0", "320", "256"]
    data = {"prompt": "x", "expand_top": "44", "model": "recraftv3_vector"}
    body = api.ok(api.upload("/images/outpaint", data, image=png()))
    assert body["credits"] == 80
    assert svg_size(parse_svg(api.fetch(body["data"][0]))) == (320, 300)
    # an SVG with a raster model: a PNG; the SVG (no background rect: white) pasted at its place
    data = {"prompt": "x", "expand_left": "100"}
    body = api.ok(api.upload("/images/outpaint", data, image=svg_doc(body="<circle r='3'/>")))
    out = np.asarray(api.fetch_image(body["data"][0]))
    assert out.shape == (256, 420, 3) and (out[:, 100:] == 255).all()
    assert np.array_equal(out[:, :100], _pattern(420, 256, "x")[:, :100])


@pytest.mark.parametrize(
    ("data", "status_words"),
    [
        ({}, ["size", "expand_left", "zoom_out_percentage"]),
        ({"size": "1024x1024", "expand_left": "10"}, ["size", "expand"]),
        ({"expand_left": "4000"}, ["expand_left", "4096"]),
        ({"expand_top": "3900", "expand_bottom": "1"}, ["expand_top", "4096"]),
        ({"expand_left": "-1"}, ["expand_left"]),
        ({"expand_left": "4097"}, ["expand_left"]),
        ({"expand_left": "1.5"}, ["expand_left", "integer"]),
        ({"zoom_out_percentage": "100"}, ["zoom_out_percentage"]),
        ({"zoom_out_percentage": "-5"}, ["zoom_out_percentage"]),
        ({"size": "1536x768"}, ["size", "recraftv3"]),
        ({"size": "1024x1024", "model": "recraftv4"}, ["model"]),
    ],
)
def test_outpaint_rejections(api, data, status_words):
    assert_error(
        api.upload("/images/outpaint", {"prompt": "x", **data}, image=png()), 400, *status_words
    )


def test_outpaint_size_must_hold_the_image(api):
    r = api.upload(
        "/images/outpaint", {"prompt": "x", "size": "1024x1024"}, image=png(scene((1100, 300)))
    )
    assert_error(r, 400, "size", "1100x300")


# --- replaceBackground / removeBackground ---------------------------------------------------------


def test_replace_background(api):
    src = scene(SIZE, bg=(250, 250, 250), fg=(20, 40, 200))
    body = api.ok(api.upload("/images/replaceBackground", {"prompt": "beach"}, image=png(src)))
    assert body["credits"] == 40
    out = np.asarray(api.fetch_image(body["data"][0]))
    a = np.asarray(src)
    fg = np.abs(a.astype(int) - [250, 250, 250]).max(axis=-1) > 32
    assert np.array_equal(out[fg], a[fg])
    assert (out[~fg] != a[~fg]).any(axis=-1).all()

    data = {"prompt": "beach", "model": "recraftv3_vector"}
    body = api.ok(api.upload("/images/replaceBackground", data, image=svg_doc()))
    root = parse_svg(api.fetch(body["data"][0]))
    assert svg_size(root) == SIZE and root[0].tag.endswith("rect")
    # raster model: the flat rasterized SVG is all background, so all of it is replaced
    body = api.ok(api.upload("/images/replaceBackground", {"prompt": "beach"}, image=svg_doc()))
    out = np.asarray(api.fetch_image(body["data"][0]))
    assert out.shape == (256, 320, 3) and (out != 255).any(axis=-1).all()


def test_remove_background_keying(api):
    arr = np.zeros((256, 320, 4), np.uint8)
    arr[...] = (100, 100, 100, 255)
    arr[10:20, 10:20, :3] = (132, 68, 100)  # within 32 -> background
    arr[30:40, 30:40, :3] = (133, 100, 100)  # 33 away -> foreground
    arr[50:60, 50:60] = (0, 0, 0, 0)  # transparent -> background
    arr[70:80, 70:80] = (5, 6, 7, 128)  # semi-transparent foreground -> alpha 255
    body = api.ok(
        api.upload("/images/removeBackground", image=png(Image.fromarray(arr))),
        "ProcessImageResponse",
    )
    assert body["credits"] == 10
    out = api.fetch_image(body["image"])
    assert out.mode == "RGBA" and out.format == "PNG"
    o = np.asarray(out)
    assert o[0, 0, 3] == 0 and o[15, 15, 3] == 0 and o[55, 55, 3] == 0
    assert tuple(o[35, 35]) == (133, 100, 100, 255)
    assert tuple(o[75, 75]) == (5, 6, 7, 255)


def test_remove_background_from_rgb_scene(api):
    src = scene(SIZE, bg=(0, 255, 0), fg=(255, 0, 255))
    out = np.asarray(
        api.fetch_image(api.ok(api.upload("/images/removeBackground", image=png(src)))["image"])
    )
    inside = np.zeros(SIZE[::-1], bool)
    inside[256 // 3 : 2 * 256 // 3, 320 // 3 : 2 * 320 // 3] = True
    assert (out[inside, 3] == 255).all() and (out[~inside, 3] == 0).all()
    assert (out[inside, :3] == (255, 0, 255)).all()


def test_remove_background_svg(api):
    body = api.ok(api.upload("/images/removeBackground", image=svg_doc()))
    root = parse_svg(api.fetch(body["image"]))
    assert root.get("width") == "320" and root.get("height") == "256"
    assert [el.tag.rsplit("}", 1)[-1] for el in root] == ["circle"]
    # a small SVG is scaled up instead of rejected
    body = api.ok(api.upload("/images/removeBackground", image=svg_doc(64, 32)))
    root = parse_svg(api.fetch(body["image"]))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "512",
        "256",
        "0 0 64 32",
    )
    # but not a small raster
    r = api.upload("/images/removeBackground", image=png(scene((64, 32))))
    assert_error(r, 400, "image", "256", code="invalid_image")


# --- upscales / vectorize -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "factor", "price"),
    [("/images/crispUpscale", 2, 4), ("/images/creativeUpscale", 4, 250)],
)
def test_upscale_factors(api, path, factor, price):
    src = noisy((256, 260), "RGBA")
    body = api.ok(api.upload(path, image=png(src)), "ProcessImageResponse")
    assert body["credits"] == price
    out = api.fetch_image(body["image"])
    assert out.size == (256 * factor, 260 * factor) and out.mode == "RGBA"
    expected = np.asarray(src).repeat(factor, axis=0).repeat(factor, axis=1)
    assert np.array_equal(np.asarray(out), expected)


def test_upscale_limits(api):
    api.ok(api.upload("/images/crispUpscale", image=png(noisy((32, 40)))))
    assert_error(api.upload("/images/crispUpscale", image=png(noisy((31, 40)))), 400, "image", "32")
    assert_error(
        api.upload("/images/creativeUpscale", image=png(noisy((255, 300)))), 400, "image", "256"
    )
    assert_error(api.upload("/images/crispUpscale", image=svg_doc()), 400, "image", "SVG")
    r = api.upload("/images/crispUpscale", {"model": "recraftv3"}, image=png())
    assert_error(r, 400, "model", code="unknown_parameter")


def test_vectorize(api):
    src = scene((320, 256), bg=(255, 255, 255), fg=(0, 0, 0), box=(0, 0, 160, 128))
    body = api.ok(api.upload("/images/vectorize", image=png(src)), "ProcessImageResponse")
    assert body["credits"] == 10
    item = body["image"]
    assert item["url"].endswith(".svg")
    root = parse_svg(api.fetch(item))
    assert svg_size(root) == (320, 256)
    rects = list(root.iter("{http://www.w3.org/2000/svg}rect"))
    assert len(rects) == 32 * 26  # cells of ceil(320/32) = 10 px
    fills = {(r.get("x"), r.get("y")): r.get("fill") for r in rects}
    assert fills[("0", "0")] == "#000000" and fills[("310", "250")] == "#ffffff"
    r = api.upload("/images/vectorize", {"prompt": "x"}, image=png())
    assert_error(r, 400, "prompt", "vectorize", code="unknown_parameter")
    assert_error(api.upload("/images/vectorize", image=svg_doc()), 400, "image", "SVG")
    api.ok(
        api.upload("/images/vectorize", {"svg_compression": "on", "expire": "true"}, image=png())
    )


# --- variateImage (remix) -------------------------------------------------------------------------


def test_variate_image(api, recraft_server):
    data = png(noisy(SIZE))
    body = api.ok(
        api.upload("/images/variateImage", {"size": "16:9", "n": "3"}, image=data),
        "GenerateImageResponse",
    )
    assert body["credits"] == 120 and len(body["data"]) == 3
    imgs = [api.fetch_image(item) for item in body["data"]]
    assert all(i.size == (1344, 768) for i in imgs)
    expected = _pattern(1344, 768, hashlib.sha256(data).hexdigest(), None, 2)
    assert np.array_equal(np.asarray(imgs[2]), expected)

    body = api.ok(
        api.upload(
            "/images/variateImage",
            {"size": "1365x1024", "model": "recraftv3_vector"},
            image=svg_doc(),
        )
    )
    assert body["credits"] == 80
    assert svg_size(parse_svg(api.fetch(body["data"][0]))) == (1365, 1024)

    assert_error(
        api.upload("/images/variateImage", image=data), 400, "size", code="missing_parameter"
    )
    r = api.upload("/images/variateImage", {"size": "1:1", "prompt": "x"}, image=data)
    assert_error(r, 400, "prompt", code="unknown_parameter")
    r = api.upload("/images/variateImage", {"size": "1365x1024"}, image=data)
    assert_error(r, 400, "size", "recraftv4_1")
    r = api.upload("/images/variateImage", {"size": "1:1", "n": "7"}, image=data)
    assert_error(r, 400, "n")


def test_image_endpoints_reject_json_bodies(api):
    r = api.post("/images/inpaint", json={"prompt": "x"})
    assert_error(r, 400, "multipart/form-data", code="unsupported_content_type")


def test_record_of_image_outputs_are_real_files(api, recraft_server):
    body = api.ok(api.upload("/images/crispUpscale", image=png(noisy((40, 40)))))
    r = api.session.get(body["image"]["url"])
    assert r.headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (80, 80)
    assert recraft_server.last("/files/").status == 200
