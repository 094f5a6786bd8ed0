"""Explore / explore similar, styles, prompt enhancement and the user endpoint."""

from __future__ import annotations

import json
import uuid

import pytest

from .helpers import (
    assert_error,
    check_schema,
    encode,
    noisy,
    parse_svg,
    png,
    scene,
    svg_doc,
    svg_size,
)

EXPLORE = "/images/explore"
SIMILAR = "/images/explore/similar"


# --- explore --------------------------------------------------------------------------------------


def test_explore_then_similar(api, recraft_server):
    before = recraft_server.credits
    body = api.ok(api.post(EXPLORE, json={"prompt": "castle"}), "GenerateImageResponse")
    assert body["credits"] == 160 and len(body["data"]) == 4
    assert {api.fetch_image(item).size for item in body["data"]} == {(1024, 1024)}
    source = body["data"][2]["image_id"]

    similar = api.ok(
        api.post(SIMILAR, json={"source_image_id": source, "similarity": 3}),
        "GenerateImageResponse",
    )
    assert similar["credits"] == 160 and len(similar["data"]) == 4
    assert api.fetch_image(similar["data"][0]).size == (1024, 1024)
    assert recraft_server.credits == before - 320
    # results of similar can be explored further
    api.ok(
        api.post(SIMILAR, json={"source_image_id": similar["data"][0]["image_id"], "similarity": 1})
    )


def test_explore_vector_size_and_style(api):
    req = {"prompt": "logo", "model": "recraftv4_pro_vector", "size": "2:1", "style": "icon"}
    body = api.ok(api.post(EXPLORE, json=req))
    assert body["credits"] == 1200
    assert svg_size(parse_svg(api.fetch(body["data"][0]))) == (3072, 1536)
    similar = api.ok(
        api.post(SIMILAR, json={"source_image_id": body["data"][0]["image_id"], "similarity": 5})
    )
    assert similar["credits"] == 160  # priced as recraftv4_1
    assert svg_size(parse_svg(api.fetch(similar["data"][0]))) == (3072, 1536)


@pytest.mark.parametrize(
    ("req", "words"),
    [
        ({"prompt": "x", "n": 2}, ["n", "4 images"]),
        ({"prompt": "x", "model": "recraftv3"}, ["model", "recraftv3"]),
        ({"prompt": "x", "model": "recraftv4_1_utility"}, ["model"]),
        ({"prompt": "x", "size": "1365x1024"}, ["size"]),
        ({"prompt": "x", "style": "icon"}, ["style", "vector"]),
        ({"prompt": "x", "controls": {"artistic_level": 1}}, ["artistic_level", "V3"]),
        ({"prompt": "x", "random_seed": 1}, ["random_seed"]),
        ({"prompt": ""}, ["prompt"]),
    ],
)
def test_explore_rejections(api, req, words):
    assert_error(api.post(EXPLORE, json=req), 400, *words)


def test_similar_rejections(api):
    gen = api.ok(api.post("/images/generations", json={"prompt": "x", "model": "recraftv4_vector"}))
    cases = [
        (
            {"source_image_id": gen["data"][0]["image_id"], "similarity": 3},
            ["source_image_id", "explore"],
        ),
        ({"source_image_id": str(uuid.uuid4()), "similarity": 3}, ["source_image_id"]),
        ({"source_image_id": "abc", "similarity": 3}, ["source_image_id", "UUID"]),
        ({"similarity": 3}, ["source_image_id", "required"]),
    ]
    for req, words in cases:
        assert_error(api.post(SIMILAR, json=req), 400, *words)
    src = api.ok(api.post(EXPLORE, json={"prompt": "x", "model": "recraftv4_vector"}))["data"][0][
        "image_id"
    ]
    for sim in (0, 6, "3"):
        assert_error(
            api.post(SIMILAR, json={"source_image_id": src, "similarity": sim}), 400, "similarity"
        )
    r = api.post(SIMILAR, files={"source_image_id": (None, src), "similarity": (None, "3")})
    assert_error(r, 400, "application/json", code="unsupported_content_type")


def test_explore_ids_are_forgotten_on_reset(api, recraft_server):
    src = api.ok(api.post(EXPLORE, json={"prompt": "x", "model": "recraftv4_vector"}))["data"][0][
        "image_id"
    ]
    recraft_server.reset()
    assert_error(
        api.post(SIMILAR, json={"source_image_id": src, "similarity": 2}), 400, "source_image_id"
    )


# --- styles ---------------------------------------------------------------------------------------


def _style(api, data=None, **files):
    return api.upload("/styles", {"style": "digital_illustration", **(data or {})}, **files)


def test_create_style_and_use_it(api, recraft_server):
    before = recraft_server.credits
    first = ("a.png", png(), "image/png")
    second = ("b.jpg", encode(scene(), "JPEG"), "image/jpeg")
    r = _style(api, {"image_weights": "[0.3, 0.7]", "prompt": "flat"}, first=first, second=second)
    body = api.ok(r, "CreateStyleResponse")
    assert (
        body["credits"] == 40
        and body["style"] == "digital_illustration"
        and body["is_private"] is True
    )
    assert recraft_server.credits == before - 40
    sid = body["id"]
    rec = recraft_server.last("/styles")
    assert sorted(rec.files) == ["first", "second"]
    assert rec.files["second"][0].format == "jpeg"

    api.ok(
        api.post("/images/generations", json={"prompt": "x", "model": "recraftv3", "style_id": sid})
    )
    data = {"prompt": "x", "strength": "0.2", "model": "recraftv4", "style_id": sid}
    api.ok(api.upload("/images/imageToImage", data, image=png()))
    api.ok(api.post(EXPLORE, json={"prompt": "x", "style_id": sid, "model": "recraftv4"}))

    mixed = api.ok(
        api.upload(
            "/styles",
            {
                "style": "any",
                "source_styles": json.dumps([sid]),
                "source_style_weights": "[1]",
                "mix_policy": "MaxWeight",
                "private": "false",
            },
        )
    )
    assert mixed["is_private"] is False
    listed = api.ok(api.get("/styles"), "ListStylesResponse")
    assert {s["id"] for s in listed["styles"]} == {sid, mixed["id"]}
    got = api.ok(api.get(f"/styles/{sid}"), "Style")
    assert got["id"] == sid
    assert api.session.delete(recraft_server.base_url + f"/styles/{sid}").status_code == 200
    assert_error(api.get(f"/styles/{sid}"), 404, code="not_found")
    r = api.post("/images/generations", json={"prompt": "x", "model": "recraftv3", "style_id": sid})
    assert_error(r, 400, "style_id")


def test_create_style_rejections(api):
    img = png()
    six = {f"f{i}": (f"{i}.png", img, "image/png") for i in range(6)}
    assert_error(_style(api, **six), 400, "at most 5", "6")
    big = png(noisy((700, 700), seed=4))  # ~1.4 MB of noise each
    four = {f"f{i}": (f"{i}.png", big, "image/png") for i in range(4)}
    assert_error(_style(api, **four), 400, "5 MB")
    assert_error(_style(api, f=("a.svg", svg_doc(), "image/svg+xml")), 400, "f", "SVG")
    assert_error(_style(api), 400, "source_styles", code="missing_parameter")
    assert_error(_style(api, {"image_weights": "[1, 2]"}, f=img), 400, "image_weights", "2", "1")
    assert_error(
        _style(api, {"source_styles": json.dumps([str(uuid.uuid4())])}), 400, "source_styles"
    )
    assert_error(_style(api, {"source_styles": '["nope"]'}), 400, "source_styles", "UUID")
    assert_error(_style(api, {"mix_policy": "Average"}, f=img), 400, "mix_policy")
    assert_error(_style(api, {"style": "pixel_art"}, f=img), 400, "style")
    assert_error(api.upload("/styles", {}, f=img), 400, "style", code="missing_parameter")
    assert_error(
        _style(api, {"style": "icon", "model": "recraftv3"}, f=img), 400, "style", "vector"
    )
    assert_error(_style(api, {"model": "recraftv9"}, f=img), 400, "model")
    assert_error(_style(api, {"image_weights": "0.5"}, f=img), 400, "image_weights", "array")


@pytest.mark.parametrize(
    ("base", "raster_ok", "vector_ok"),
    [
        ("digital_illustration", True, False),
        ("realistic_image", True, False),
        ("logo_raster", True, False),
        ("icon", False, True),
        ("vector_illustration", False, True),
        ("any", True, True),
    ],
)
def test_style_id_kind_must_fit_the_model(api, base, raster_ok, vector_ok):
    sid = api.ok(_style(api, {"style": base}, f=png()))["id"]
    for model, fits in (("recraftv3", raster_ok), ("recraftv3_vector", vector_ok)):
        r = api.post("/images/generations", json={"prompt": "x", "model": model, "style_id": sid})
        if fits:
            api.ok(r)
        else:
            other = "vector" if raster_ok else "raster"
            assert_error(r, 400, "style_id", base, other, model, code="invalid_parameter")
    r = api.post(EXPLORE, json={"prompt": "x", "style_id": sid, "model": "recraftv4_vector"})
    assert r.status_code == (200 if vector_ok else 400), r.text


def test_source_styles_kind_must_fit_the_model(api):
    raster = api.ok(_style(api, f=png()))["id"]  # digital_illustration
    r = _style(
        api, {"style": "any", "model": "recraftv3_vector", "source_styles": json.dumps([raster])}
    )
    assert_error(r, 400, "source_styles[0]", "raster", "recraftv3_vector")
    api.ok(_style(api, {"model": "recraftv3", "source_styles": json.dumps([raster])}))
    api.ok(_style(api, {"style": "any", "source_styles": json.dumps([raster])}))  # no model


def test_source_style_weights_must_match(api):
    sid = api.ok(_style(api, f=png()))["id"]
    r = _style(api, {"source_styles": json.dumps([sid]), "source_style_weights": "[0.5, 0.5]"})
    assert_error(r, 400, "source_style_weights", "2", "1")


# --- enhance prompt and user ----------------------------------------------------------------------


def test_enhance_prompt(api, recraft_server):
    before = recraft_server.credits
    body = api.ok(api.post("/prompts/enhance", json={"prompt": "a cat"}), "EnhancePromptResponse")
    assert body["credits"] == 0 and recraft_server.credits == before
    assert body["enhanced_prompt"].startswith("a cat, ") and len(body["enhanced_prompt"]) > 20
    assert api.ok(api.post("/prompts/enhance", json={"prompt": "a cat"})) == body
    api.ok(api.post("/prompts/enhance", json={"prompt": "ж" * 2000}))
    assert_error(api.post("/prompts/enhance", json={"prompt": "ж" * 2001}), 400, "prompt", "2000")
    assert_error(api.post("/prompts/enhance", json={"prompt": "  "}), 400, "prompt", "empty")
    assert_error(api.post("/prompts/enhance", json={}), 400, "prompt", code="missing_parameter")
    assert_error(
        api.post("/prompts/enhance", json={"prompt": "x", "model": "recraftv3"}), 400, "model"
    )


def test_users_me(api, recraft_server):
    recraft_server.credits = 1234
    body = api.ok(api.get("/users/me"), "User")
    assert body["credits"] == 1234
    uuid.UUID(body["id"])
    check_schema("User", body)
    assert_error(api.post("/users/me", json={}), 405, code="method_not_allowed")
