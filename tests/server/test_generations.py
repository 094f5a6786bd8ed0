"""POST /v1/images/generations (+ /raster, /vector): outputs, sizes, prices and every rule."""

from __future__ import annotations

import hashlib
import json
import uuid

import numpy as np
import pytest

from .helpers import assert_error, parse_svg, png, svg_size

GEN = "/images/generations"


def test_default_model_size_and_schema(api, recraft_server):
    body = api.ok(api.post(GEN, json={"prompt": "a red fox"}), "GenerateImageResponse")
    assert body["credits"] == 40  # recraftv4_1 raster
    assert len(body["data"]) == 1
    item = body["data"][0]
    uuid.UUID(item["image_id"])
    assert item["url"].startswith(recraft_server.url + "/files/")
    img = api.fetch_image(item)
    assert (img.format, img.mode, img.size) == ("PNG", "RGB", (1024, 1024))
    rec = recraft_server.last(GEN)
    assert rec.params["model"] == "recraftv4_1" and rec.params["size"] == "1024x1024"


def test_same_inputs_same_bytes_and_index_differs(api):
    req = {"prompt": "a red fox", "random_seed": 7, "n": 2, "model": "recraftv3", "size": "1:1"}
    a = api.ok(api.post(GEN, json=req))["data"]
    b = api.ok(api.post(GEN, json=req))["data"]
    first = [api.fetch(i) for i in a]
    second = [api.fetch(i) for i in b]
    assert first == second
    assert first[0] != first[1]
    other = api.ok(api.post(GEN, json={**req, "random_seed": 8}))["data"]
    assert api.fetch(other[0]) != first[0]


def test_pixels_follow_the_documented_pattern(api):
    body = api.ok(api.post(GEN, json={"prompt": "p", "random_seed": 3, "model": "recraftv3"}))
    arr = np.asarray(api.fetch_image(body["data"][0]))
    d = hashlib.sha256(b"p\x003\x000").digest()
    c0, c1 = np.array(list(d[0:3])), np.array(list(d[3:6]))
    tile = 16 + d[9] % 48
    c2 = np.array(list(d[6:9]))
    assert (arr[0, 0] == c0).all()  # x=0 is c0 on an even cell
    # last column: x = W-1 => the gradient is c1; on an odd cell c2 is mixed in
    last_odd = (1023 // tile) % 2 == 1
    assert (arr[0, 1023] == (np.floor((c1 + c2) / 2 + 0.5) if last_odd else c1)).all()
    # one row down a tile flips every cell: the other case at the same column
    assert (arr[tile, 1023] == (c1 if last_odd else np.floor((c1 + c2) / 2 + 0.5))).all()
    # an odd cell: (gradient + c2) / 2, rounded half up
    g = c0 + (c1 - c0) * tile / 1023
    assert (arr[0, tile] == np.floor((g + c2) / 2 + 0.5)).all()
    assert (arr[tile, 0] == np.floor((c0 + c2) / 2 + 0.5)).all()


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("recraftv3", "16:9", (1820, 1024)),
        ("recraftv3", "1707x1024", (1707, 1024)),
        ("recraftv2", "6:10", (1024, 1707)),
        ("recraftv4", "2:1", (1536, 768)),
        ("recraftv4_1_utility", "896x1152", (896, 1152)),
    ],
)
def test_sizes_and_aspects(api, model, size, expected):
    body = api.ok(api.post(GEN, json={"prompt": "x", "model": model, "size": size}))
    assert api.fetch_image(body["data"][0]).size == expected


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("recraftv4_1_pro_vector", None, (2048, 2048)),
        ("recraftv4_pro_vector", "16:9", (2688, 1536)),
        ("recraftv3_vector", "4:3", (1365, 1024)),
        ("recraftv2_vector", None, (1024, 1024)),
        ("recraftv4_1_vector", "9:16", (768, 1344)),
    ],
)
def test_vector_models_return_svg_of_the_size(api, model, size, expected):
    req = {"prompt": "icon", "model": model}
    if size:
        req["size"] = size
    item = api.ok(api.post(GEN, json=req), "GenerateImageResponse")["data"][0]
    assert item["url"].endswith(".svg")
    r = api.session.get(item["url"])
    assert r.headers["Content-Type"] == "image/svg+xml"
    root = parse_svg(r.content)
    assert svg_size(root) == expected
    assert len(list(root)) >= 3


@pytest.mark.parametrize(
    ("model", "n", "price"),
    [
        ("recraftv2", 1, 22),
        ("recraftv2_vector", 2, 88),
        ("recraftv3", 3, 120),
        ("recraftv3_vector", 1, 80),
        ("recraftv4", 1, 40),
        ("recraftv4_1_utility_vector", 1, 80),
        ("recraftv4_pro_vector", 2, 600),
        ("recraftv4_1_utility_pro_vector", 1, 300),
    ],
)
def test_prices_per_image(api, recraft_server, model, n, price):
    before = recraft_server.credits
    body = api.ok(api.post(GEN, json={"prompt": "x", "model": model, "n": n}))
    assert body["credits"] == price
    assert len(body["data"]) == n
    assert recraft_server.credits == before - price
    assert api.ok(api.get("/users/me"), "User")["credits"] == before - price


def test_pro_raster_price(api, recraft_server):
    body = api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv4_pro"}))
    assert body["credits"] == 250
    assert api.fetch_image(body["data"][0]).size == (2048, 2048)


def test_overdraw_is_402_and_charges_nothing(api, recraft_server):
    recraft_server.credits = 79
    r = api.post(GEN, json={"prompt": "x", "model": "recraftv3", "n": 2})
    assert_error(r, 402, "80", "79", code="not_enough_credits")
    assert recraft_server.credits == 79
    api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv3"}))
    assert recraft_server.credits == 39


def test_b64_json(api):
    body = api.ok(
        api.post(GEN, json={"prompt": "x", "response_format": "b64_json"}), "GenerateImageResponse"
    )
    item = body["data"][0]
    assert "url" not in item
    assert api.fetch_image(item).size == (1024, 1024)


def test_multipart_body_is_accepted(api, recraft_server):
    data = {
        "prompt": "x",
        "n": "2",
        "model": "recraftv3",
        "size": "3:2",
        "random_seed": "5",
        "controls": json.dumps({"colors": [{"rgb": [1, 2, 3]}], "no_text": True}),
    }
    body = api.ok(api.post(GEN, files={k: (None, v) for k, v in data.items()}))
    assert len(body["data"]) == 2
    rec = recraft_server.last(GEN)
    assert rec.content_type == "multipart"
    assert rec.fields["n"] == "2"
    assert rec.params["n"] == 2 and rec.params["controls"]["no_text"] is True


def test_raster_and_vector_endpoints(api):
    raster = api.ok(api.post(GEN + "/raster", json={"prompt": "x"}))
    assert raster["data"][0]["url"].endswith(".png")
    vector = api.ok(api.post(GEN + "/vector", json={"prompt": "x"}))
    assert vector["data"][0]["url"].endswith(".svg")
    assert vector["credits"] == 80
    r = api.post(GEN + "/raster", json={"prompt": "x", "model": "recraftv3_vector"})
    assert_error(r, 400, "model", "recraftv3_vector")
    r = api.post(GEN + "/vector", json={"prompt": "x", "model": "recraftv3"})
    assert_error(r, 400, "model", "recraftv3")
    r = api.post(GEN + "/raster", json={"prompt": "x", "model": "recraftv3", "style": "icon"})
    assert_error(r, 400, "style", "icon")
    r = api.post(
        GEN + "/vector", json={"prompt": "x", "model": "recraftv3_vector", "style": "logo_raster"}
    )
    assert_error(r, 400, "style", "logo_raster")
    api.ok(
        api.post(
            GEN + "/vector", json={"prompt": "x", "model": "recraftv3_vector", "style": "icon"}
        )
    )


def test_image_format_webp_extra(api):
    item = api.ok(
        api.post(GEN, json={"prompt": "x", "image_format": "webp", "model": "recraftv3"})
    )["data"][0]
    assert item["url"].endswith(".webp")
    r = api.session.get(item["url"])
    assert r.headers["Content-Type"] == "image/webp"


def test_spec_only_style_references_file_is_accepted(api):
    files = {"prompt": (None, "x"), "style_references": ("s.png", png(), "image/png")}
    api.ok(api.post(GEN, files=files))


def test_spec_only_extras_are_accepted(api):
    req = {
        "prompt": "x",
        "expire": True,
        "block_nsfw": False,
        "calculate_features": True,
        "substyle": "hdr",
        "style_match": "regular",
    }
    api.ok(api.post(GEN, json=req))


# --- rejections -----------------------------------------------------------------------------------

BAD = [
    ({}, "missing_parameter", ["prompt"]),
    ({"prompt": ""}, "invalid_parameter", ["prompt", "empty"]),
    ({"prompt": "   \n\t"}, "invalid_parameter", ["prompt", "empty"]),
    ({"prompt": "x", "n": 0}, "invalid_parameter", ["n"]),
    ({"prompt": "x", "n": 7}, "invalid_parameter", ["n"]),
    ({"prompt": "x", "n": "2"}, "invalid_parameter", ["n", "integer"]),
    ({"prompt": "x", "n": 1.5}, "invalid_parameter", ["n", "integer"]),
    ({"prompt": "x", "model": "recraftv5"}, "invalid_parameter", ["model", "recraftv5"]),
    ({"prompt": "x", "model": "recraftv3_raster"}, "invalid_parameter", ["model"]),
    (
        {"prompt": "x", "size": "1365x1024", "model": "recraftv4"},
        "invalid_parameter",
        ["size 1365x1024 is not supported by recraftv4", "1536x768"],
    ),
    (
        {"prompt": "x", "size": "1536x768", "model": "recraftv3"},
        "invalid_parameter",
        ["size", "recraftv3"],
    ),
    ({"prompt": "x", "size": "7:3"}, "invalid_parameter", ["size", "7:3"]),
    ({"prompt": "x", "size": "1024*1024"}, "invalid_parameter", ["size", "WxH"]),
    ({"prompt": "x", "size": "1707x1024", "model": "recraftv4"}, "invalid_parameter", ["size"]),
    ({"prompt": "x", "style": "realistic_image"}, "invalid_parameter", ["style", "recraftv4_1"]),
    (
        {"prompt": "x", "model": "recraftv3", "style": "pixel_art"},
        "invalid_parameter",
        ["style", "pixel_art"],
    ),
    (
        {"prompt": "x", "model": "recraftv3", "style": "icon"},
        "invalid_parameter",
        ["style", "icon", "vector"],
    ),
    (
        {"prompt": "x", "model": "recraftv3_vector", "style": "realistic_image"},
        "invalid_parameter",
        ["style", "raster"],
    ),
    (
        {"prompt": "x", "model": "recraftv3", "style_id": "not-a-uuid"},
        "invalid_parameter",
        ["style_id", "UUID"],
    ),
    (
        {"prompt": "x", "model": "recraftv3", "style_id": str(uuid.uuid4())},
        "invalid_parameter",
        ["style_id", "not a known style"],
    ),
    (
        {"prompt": "x", "negative_prompt": "blur"},
        "invalid_parameter",
        ["negative_prompt", "recraftv4_1"],
    ),
    ({"prompt": "x", "random_seed": -1}, "invalid_parameter", ["random_seed"]),
    ({"prompt": "x", "random_seed": 2**32}, "invalid_parameter", ["random_seed"]),
    ({"prompt": "x", "response_format": "png"}, "invalid_parameter", ["response_format"]),
    ({"prompt": "x", "image_format": "jpeg"}, "invalid_parameter", ["image_format"]),
    ({"prompt": "x", "strength": 0.5}, "unknown_parameter", ["strength"]),
    ({"prompt": "x", "bogus": 1}, "unknown_parameter", ["bogus"]),
    (
        {"prompt": "x", "text_layout": [{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}]},
        "invalid_parameter",
        ["text_layout", "V3"],
    ),
]


@pytest.mark.parametrize(("req", "code", "words"), BAD)
def test_rejections(api, recraft_server, req, code, words):
    before = recraft_server.credits
    assert_error(api.post(GEN, json=req), 400, *words, code=code)
    assert recraft_server.credits == before


def test_prompt_limit_is_counted_in_utf8_bytes(api):
    ok_v3 = "é" * 500  # 1000 bytes
    api.ok(api.post(GEN, json={"prompt": ok_v3, "model": "recraftv3_vector"}))
    r = api.post(GEN, json={"prompt": ok_v3 + "a", "model": "recraftv3_vector"})
    assert_error(r, 400, "prompt", "1001 bytes", "1000")
    api.ok(api.post(GEN, json={"prompt": "a" * 10000, "model": "recraftv4_vector"}))
    r = api.post(GEN, json={"prompt": "я" * 5000 + "a", "model": "recraftv4_vector"})
    assert_error(r, 400, "prompt", "10001 bytes")


def test_style_rules(api, recraft_server):
    api.ok(
        api.post(GEN, json={"prompt": "x", "model": "recraftv2", "style": "digital_illustration"})
    )
    api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv3_vector", "style": "any"}))
    sid = api.ok(api.upload("/styles", data={"style": "any"}, file1=("a.png", png(), "image/png")))[
        "id"
    ]
    api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv3", "style_id": sid}))
    r = api.post(GEN, json={"prompt": "x", "model": "recraftv3", "style_id": sid, "style": "any"})
    assert_error(r, 400, "style", "style_id")
    r = api.post(GEN, json={"prompt": "x", "model": "recraftv4", "style_id": sid})
    assert_error(r, 400, "style_id", "recraftv4")


def test_text_layout_rules(api):
    box = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.3], [0.1, 0.3]]
    good = [
        {"text": "Привет!", "bbox": box},
        {"text": "Café", "bbox": box},
        {"text": "A1-b_2", "bbox": box},
    ]
    api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv3", "text_layout": good}))
    cases = [
        ([{"text": "two words", "bbox": box}], "single word"),
        ([{"text": "日本", "bbox": box}], "unsupported characters"),
        ([{"text": "a×b", "bbox": box}], "unsupported characters"),
        ([{"text": "ok", "bbox": box[:3]}], "4 points"),
        ([{"text": "ok", "bbox": [[0, 0], [1, 0], [1, 1], [0]]}], "pairs"),
        ([{"text": "ok", "bbox": [[0, 0], [1, 0], [1, 1], [0, "1"]]}], "pairs"),
        ([{"text": "ok"}], "bbox"),
        ([{"text": "", "bbox": box}], "text"),
        ([{"text": "ok", "bbox": box, "font": "x"}], "font"),
        ({"text": "ok"}, "array"),
    ]
    for layout, word in cases:
        r = api.post(GEN, json={"prompt": "x", "model": "recraftv3", "text_layout": layout})
        assert_error(r, 400, "text_layout", word)


def test_controls_rules(api):
    good = {
        "colors": [{"rgb": [255, 0, 0], "weight": 0.6}, {"rgb": [0, 0, 255], "weight": 0.4}],
        "background_color": {"rgb": [10, 20, 30]},
        "artistic_level": 5,
        "no_text": False,
    }
    api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv3", "controls": good}))
    api.ok(api.post(GEN, json={"prompt": "x", "controls": {"colors": [{"rgb": [1, 2, 3]}]}}))
    cases = [
        ({"colors": [{"rgb": [1, 2]}]}, "recraftv3", "rgb"),
        ({"colors": [{"rgb": [1, 2, 256]}]}, "recraftv3", "rgb"),
        ({"colors": [{"rgb": [1, 2, 3.5]}]}, "recraftv3", "rgb"),
        ({"colors": [{"rgb": [1, 2, 3], "weight": 1.5}]}, "recraftv3", "weight"),
        (
            {"colors": [{"rgb": [1, 2, 3], "weight": 0.7}, {"rgb": [3, 2, 1], "weight": 0.4}]},
            "recraftv3",
            "sum",
        ),
        ({"background_color": {"rgb": [0, 0, -1]}}, "recraftv3", "background_color"),
        ({"artistic_level": 6}, "recraftv3", "artistic_level"),
        ({"artistic_level": 2}, "recraftv4", "artistic_level"),
        ({"no_text": True}, "recraftv4_1", "no_text"),
        ({"no_text": "yes"}, "recraftv3", "no_text"),
        ({"palette": []}, "recraftv3", "palette"),
        ({"colors": [{"rgb": [1, 2, 3], "hex": "#010203"}]}, "recraftv3", "hex"),
    ]
    for controls, model, word in cases:
        r = api.post(GEN, json={"prompt": "x", "model": model, "controls": controls})
        assert_error(r, 400, "controls", word)


def test_negative_prompt_on_v2_v3(api):
    api.ok(api.post(GEN, json={"prompt": "x", "model": "recraftv2", "negative_prompt": "blur"}))
    api.ok(
        api.post(GEN, json={"prompt": "x", "model": "recraftv3_vector", "negative_prompt": "blur"})
    )


def test_null_means_not_given(api):
    api.ok(api.post(GEN, json={"prompt": "x", "n": None, "style": None, "size": None}))


def test_bad_bodies(api):
    r = api.post(GEN, data=b"{not json", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "JSON", code="invalid_request_body")
    r = api.post(GEN, data=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert_error(r, 400, "JSON object", code="invalid_request_body")
    r = api.post(
        GEN, data=b"prompt=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert_error(r, 400, "application/json", code="unsupported_content_type")
    r = api.post(
        GEN, data=b"--zz\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=zz"}
    )
    assert_error(r, 400, "multipart", code="invalid_request_body")
    r = api.post(GEN, files={"prompt": (None, "x"), "n": (None, "two")})
    assert_error(r, 400, "n", "integer")
    r = api.post(GEN, files=[("prompt", (None, "x")), ("prompt", (None, "y"))])
    assert_error(r, 400, "prompt", "more than once")
