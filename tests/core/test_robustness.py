"""Odd input and odd answers end in a RecraftError that says what is wrong, never a traceback."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
from PIL import Image

from images import mask, png, svg
from recraft_core import Client, ProtocolError, Raster, ValidationError
from recraft_core.api.operations import OPERATIONS
from recraft_core.api.transport import _retry_after


@pytest.fixture(scope="module")
def offline():
    return Client("t", base_url="http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    "params,field",
    [
        (dict(prompt="x", model=["recraftv3"]), "model"),
        (dict(prompt="x", model=""), "model"),
        (dict(prompt=5), "prompt"),
        (dict(prompt="x", controls=[1]), "controls"),
        (dict(prompt="x", model="recraftv3", text_layout="Hi"), "text_layout"),
        (
            dict(prompt="x", model="recraftv3", text_layout=[{"text": "a", "bbox": None}]),
            "text_layout[0].bbox",
        ),
        (
            dict(prompt="x", controls={"colors": [{"rgb": [1, 2, 3], "weight": "0.5"}]}),
            "controls.colors[0].weight",
        ),
        (dict(prompt="x", n=2.5), "n"),
        (dict(prompt="x", random_seed=float("nan")), "random_seed"),
    ],
)
def test_odd_parameters(offline, params, field):
    with pytest.raises(ValidationError) as info:
        offline.prepare("generate", **params)
    assert info.value.field == field


@pytest.mark.parametrize(
    "image",
    [
        Raster(None, 10, "RGB", b""),
        Raster(2, 2, "RGB", "text"),
        Raster(2, 2, "CMYK", b"\0" * 16),
        b'<svg viewBox="0 0 inf 100"/>',
        b'<svg width="' + b"9" * 400 + b'" height="300"/>',
        b"\x89PNG\r\n\x1a\n\0\0\0\x0cIHDR" + b"\0" * 20,
        b"\xff\xd8\xff\xe0\0\x10JFIF" + b"\0" * 4,
        b"RIFF\0\0\0\0WEBPVP8Z",
        42,
    ],
)
def test_odd_images(offline, image):
    with pytest.raises(ValidationError) as info:
        offline.prepare("remove_background", image=image)
    assert info.value.field == "image"


def test_a_damaged_mask_png(offline):
    broken = bytearray(mask(256, 256, (0, 0, 9, 9)).to_png())
    broken[41:60] = b"\0" * 19  # inside the IDAT data
    with pytest.raises(ValidationError) as info:
        offline.prepare("erase_region", image=png(256, 256), mask=bytes(broken))
    assert info.value.field == "mask"


def test_missing_file(offline, tmp_path):
    with pytest.raises(ValidationError, match="cannot read"):
        offline.prepare("vectorize", image=tmp_path / "nope.png")


@pytest.mark.parametrize("token", ["abc\n", " abc "])
def test_tokens_are_stripped(token):
    assert Client(token, base_url="http://127.0.0.1:9/v1")._transport._token == "abc"


@pytest.mark.parametrize("token", ["ab c", "tök", "a\nb"])
def test_tokens_that_cannot_be_sent_are_refused_without_showing_them(token):
    with pytest.raises(ValidationError) as info:
        Client(token, base_url="http://127.0.0.1:9/v1")
    assert info.value.field == "token" and token.strip() not in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.2:8000/v1", "http://[::1]:8000/v1"])
def test_loopback_variants_may_use_http(url):
    Client("t", base_url=url)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/v1", "127.0.0.1:8000", "http://10.0.0.1/v1"])
def test_other_base_urls_are_refused(url):
    with pytest.raises(ValidationError):
        Client("t", base_url=url)


def test_small_images_where_the_docs_set_no_minimum(offline):
    offline.prepare("image_to_image", image=png(64, 64), prompt="x", strength=0.5)
    offline.prepare("create_style", images=[png(16, 16)], style="any")


@pytest.mark.parametrize(
    "op,body,match",
    [
        ("generate", {"data": []}, "no images"),
        ("generate", {"data": [{"b64_json": 5}]}, "not valid base64"),
        ("generate", {"data": [{"b64_json": "!!"}]}, "not valid base64"),
        ("generate", {"data": [{"url": "/relative.png"}]}, "not usable"),
        ("generate", {"data": [{"url": 7}]}, "not usable"),
        ("generate", {"data": [{"image_id": "x"}]}, "neither url nor b64_json"),
        ("generate", {"data": [{"b64_json": "aGVsbG8="}]}, "not an image"),
        ("generate", {"data": "x"}, "no images"),
        ("vectorize", {"image": None}, "no images"),
        ("generate", {"credits": 1e999, "data": []}, "credits"),
        ("user", {"id": None, "credits": 5}, "no id"),
        ("user", {"id": "u"}, "no credits"),
        ("create_style", {"id": None}, "no id"),
        ("enhance_prompt", {"enhanced_prompt": 3}, "no enhanced_prompt"),
    ],
)
def test_malformed_answers(offline, op, body, match):
    with pytest.raises(ProtocolError, match=match):
        offline._result(OPERATIONS[op], body, None, lambda m: None)


def _response(headers):
    r = requests.Response()
    r.status_code = 429
    r.headers.update(headers)
    return r


def test_retry_after_forms():
    assert _retry_after(_response({"Retry-After": "3"})) == 3
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < _retry_after(_response({"Retry-After": date})) <= 30
    assert _retry_after(_response({"Retry-After": "soon"})) is None
    assert _retry_after(_response({})) is None


@pytest.fixture
def cli(run_cli):
    def run(*args):
        return run_cli(*args, RECRAFT_API_TOKEN="t", RECRAFT_API_URL="http://127.0.0.1:9/v1")

    return run


def test_cli_fit_refuses_a_mask_of_another_size(cli, tmp_path):
    Image.new("RGB", (5000, 1000)).save(tmp_path / "big.png")
    Image.new("L", (300, 300)).save(tmp_path / "m.png")
    r = cli("inpaint", "big.png", "--mask", "m.png", "--prompt", "x", "--fit", "--dry-run")
    assert r.returncode == 3 and "mask: is 300x300 but the image is 5000x1000" in r.stderr


def test_cli_fit_missing_file(cli, tmp_path):
    r = cli("vectorize", "nope.png", "--fit", "--dry-run")
    assert r.returncode == 3 and "cannot read nope.png" in r.stderr


def test_cli_json_from_a_file(cli, tmp_path):
    (tmp_path / "c.json").write_text('{"colors": [{"rgb": [1, 2, 3]}]}')
    r = cli("generate", "--prompt", "x", "--controls", "@c.json", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert '"rgb": [' in r.stdout
    r = cli("generate", "--prompt", "x", "--controls", "@missing.json", "--dry-run")
    assert (
        r.returncode == 2 and "cannot read missing.json" in r.stderr and "Traceback" not in r.stderr
    )


def test_cli_timeout_must_be_positive(cli, tmp_path):
    r = cli("--timeout", "0", "user")
    assert r.returncode == 2 and "more than 0" in r.stderr


def test_svg_input_keeps_its_size(offline):
    p = offline.prepare("remove_background", image=svg(64, 48))
    assert (p.files[0][1].info.width, p.files[0][1].info.height) == (64, 48)
