"""Input-file rules shared by the image endpoints: formats, byte and pixel limits, SVG sizing
and safety, and how file fields must be sent."""

from __future__ import annotations

import pytest
from PIL import Image

from .helpers import assert_error, encode, mask, png, scene, svg_doc

SIZE = (320, 256)
INPAINT = "/images/inpaint"


def _inpaint(api, image, **data):
    return api.upload(INPAINT, {"prompt": "x", **data}, image=image, mask=png(mask(SIZE)))


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_raster_formats_are_rejected(api, fmt):
    r = _inpaint(api, encode(scene(SIZE), fmt))
    assert_error(r, 400, "image", "PNG, JPG, WEBP or SVG", f"(got {fmt})", code="invalid_image")


def test_garbage_and_empty_files(api):
    assert_error(_inpaint(api, b"hello world"), 400, "image", "readable", code="invalid_image")
    assert_error(_inpaint(api, b""), 400, "image", "empty", code="invalid_image")
    truncated = png(scene(SIZE))[:200]
    assert_error(_inpaint(api, truncated), 400, "image", code="invalid_image")


def test_file_size_limit(api):
    big = png(scene(SIZE)) + b"\0" * (10 * 1024 * 1024)
    assert_error(_inpaint(api, big), 400, "image", "10 MB", "10485760", code="invalid_image")


def test_image_to_image_has_no_minimum_side(api):
    body = api.ok(
        api.upload(
            "/images/imageToImage", {"prompt": "x", "strength": "0.5"}, image=png(scene((40, 24)))
        )
    )
    assert api.fetch_image(body["data"][0]).size == (40, 24)
    r = api.upload(
        "/images/inpaint",
        {"prompt": "x"},
        image=png(scene((40, 24))),
        mask=png(mask((40, 24), None)),
    )
    assert_error(r, 400, "image", "at least 256", code="invalid_image")


def test_dimension_limits(api):
    small = scene((300, 255))
    assert_error(
        api.upload("/images/removeBackground", image=png(small)), 400, "image", "at least 256"
    )
    wide = Image.new("L", (4097, 256), 0)
    assert_error(
        api.upload("/images/removeBackground", image=png(wide)), 400, "image", "4097x256", "4096"
    )
    api.ok(api.upload("/images/removeBackground", image=png(Image.new("RGB", (4096, 256)))))


def test_svg_sizes_and_limits(api):
    vb_only = svg_doc(attrs='viewBox="0 0 400 300"')
    body = api.ok(api.upload("/images/removeBackground", image=vb_only))
    assert body["image"]["url"].endswith(".svg")
    r = api.upload(
        "/images/variateImage", {"size": "1:1"}, image=svg_doc(attrs='width="5000" height="300"')
    )
    assert_error(r, 400, "image", "5000x300", "4096")
    r = api.upload(
        "/images/variateImage", {"size": "1:1"}, image=svg_doc(attrs='width="200" height="300"')
    )
    assert_error(r, 400, "image", "256")
    r = api.upload("/images/variateImage", {"size": "1:1"}, image=svg_doc(attrs=""))
    assert_error(r, 400, "image", "size unknown")
    mm = svg_doc(attrs='width="100mm" height="80mm" viewBox="0 0 100 80"')  # 378x302 px at 96 dpi
    api.ok(api.upload("/images/variateImage", {"size": "1:1"}, image=mm))


XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'
RECT = '<rect width="1" height="1"/>'


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("<script>alert(1)</script>", "script"),
        ('<rect width="10" height="10" onclick="x()"/>', "onclick"),
        (f'<a href="javascript:alert(1)">{RECT}</a>', "javascript"),
        (f'<a href="&#106;avascript:alert(1)">{RECT}</a>', "javascript"),
        (f'<a href="&#x6A;&#x61;vascript:alert(1)">{RECT}</a>', "javascript"),
        (f'<a href=" java&#10;scr&#x09;ipt:alert(1)">{RECT}</a>', "javascript"),
        (f'<a href="&#x7f;&#xA0;JaVaScRiPt:alert(1)">{RECT}</a>', "javascript"),
        (f'<a {XLINK} xlink:href="javascript:alert(1)">{RECT}</a>', "javascript"),
        ('<rect width="1" height="1" style="fill:url(javascript:alert(1))"/>', "javascript"),
        ("<style>rect { background: url('java\tscript:x') }</style>", "javascript"),
        (
            '<foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">'
            "hi</div></foreignObject>",
            "foreignObject",
        ),
        ('<image href="https://example.com/a.png" width="1" height="1"/>', "href"),
        (f'<image {XLINK} xlink:href="file:///etc/passwd" width="1" height="1"/>', "href"),
        ('<image href="//example.com/a.png" width="1" height="1"/>', "href"),
        ('<image href="data:text/html,&lt;script&gt;x()&lt;/script&gt;"/>', "href"),
        ('<iframe src="https://example.com/"/>', "src"),
        (f'<a href="#x"><set attributeName="href" to="https://example.com/"/>{RECT}</a>', "href"),
        (
            f'<a {XLINK} xlink:href="#x"><animate attributeName="xlink:href" values="#a;#b"/>'
            f"{RECT}</a>",
            "href",
        ),
    ],
)
def test_unsafe_svg_is_rejected(api, body, word):
    r = api.upload("/images/removeBackground", image=svg_doc(body=body))
    assert_error(r, 400, "image", "unsafe", word, code="invalid_image")


def test_local_references_and_data_images_are_allowed(api):
    body = (
        f'<defs><rect id="r" width="10" height="10"/></defs><use href="#r"/>'
        f'<use {XLINK} xlink:href="#r" x="20"/>'
        '<image href="data:image/png;base64,iVBORw0KGgo=" width="5" height="5"/>'
        '<animate attributeName="opacity" values="0;1" dur="1s"/>'
    )
    api.ok(api.upload("/images/removeBackground", image=svg_doc(body=body)))


def test_entity_svg_is_rejected(api):
    doc = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>' + svg_doc(
        body="<text>&a;</text>"
    )
    assert_error(api.upload("/images/removeBackground", image=doc), 400, "unsafe", "entity")


def test_malformed_svg(api):
    assert_error(
        api.upload("/images/removeBackground", image=b"<svg width='300'"), 400, "image", "XML"
    )


def test_file_field_shape(api):
    r = api.upload(INPAINT, {"prompt": "x", "image": "not a file"}, mask=png(mask(SIZE)))
    assert_error(r, 400, "image must be a file upload")
    r = api.upload(INPAINT, {"prompt": "x"}, mask=png(mask(SIZE)))
    assert_error(r, 400, "image", code="missing_parameter")
    r = api.upload(INPAINT, {"prompt": "x"}, image=png(), mask=png(mask(SIZE)), picture=png())
    assert_error(r, 400, "picture", code="unknown_parameter")
    r = api.post(
        INPAINT,
        data={"prompt": "x"},
        files=[
            ("image", ("a.png", png())),
            ("image", ("b.png", png())),
            ("mask", ("m.png", png(mask(SIZE)))),
        ],
    )
    assert_error(r, 400, "image", "more than once")
    r = api.upload(INPAINT, {}, image=png(), mask=png(mask(SIZE)), prompt=b"x")
    assert_error(r, 400, "prompt", "text field")
    r = api.upload("/images/generations", {"prompt": "x"}, image=png())
    assert_error(r, 400, "image", "no file uploads")


def test_part_without_filename_but_image_type_is_a_file(api):
    r = api.post("/images/removeBackground", files={"image": (None, png(), "image/png")})
    assert r.status_code == 200, r.text


def test_jpeg_and_webp_inputs(api):
    for fmt in ("JPEG", "WEBP"):
        api.ok(api.upload("/images/removeBackground", image=encode(scene(SIZE), fmt)))
