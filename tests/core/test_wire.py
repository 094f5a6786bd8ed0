"""Request building: JSON bodies, multipart text fields and files."""

from __future__ import annotations

import email
import json

from images import mask, png
from recraft_core import Client


def prepare(op, **params):
    return Client("t", base_url="http://127.0.0.1:9/v1").prepare(op, **params)


def test_json_body_keeps_types():
    p = prepare(
        "generate", prompt="fox", n=2, random_seed=5, controls={"no_text": True}, model="recraftv3"
    )
    assert (p.method, p.path, p.data, p.files) == ("POST", "/images/generations", [], [])
    assert p.json == {
        "prompt": "fox",
        "n": 2,
        "random_seed": 5,
        "controls": {"no_text": True},
        "model": "recraftv3",
    }


def test_none_values_are_not_sent():
    assert prepare("generate", prompt="fox", n=None, style=None).json == {"prompt": "fox"}


def test_multipart_fields_are_text_and_structures_json():
    controls = {"colors": [{"rgb": [1, 2, 3], "weight": 0.5}], "no_text": False}
    layout = [{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}]
    p = prepare(
        "inpaint",
        image=png(256, 256),
        mask=mask(256, 256, (0, 0, 8, 8)),
        prompt="hat",
        n=3,
        controls=controls,
        text_layout=layout,
    )
    assert p.json is None
    fields = dict(p.data)
    assert fields["prompt"] == "hat" and fields["n"] == "3"
    assert (
        json.loads(fields["controls"]) == controls and json.loads(fields["text_layout"]) == layout
    )
    assert [(name, u.filename, u.info.mime) for name, u in p.files] == [
        ("image", "image.png", "image/png"),
        ("mask", "mask.png", "image/png"),
    ]
    body, content_type = p.body()
    message = email.message_from_bytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts = {part.get_param("name", header="content-disposition"): part for part in message.walk()}
    assert parts["mask"].get_filename() == "mask.png"
    assert parts["mask"].get_payload(decode=True)[:8] == b"\x89PNG\r\n\x1a\n"
    assert parts["prompt"].get_payload() == "hat"


def test_numbers_and_lists_in_multipart():
    p = prepare("image_to_image", image=png(256, 256), prompt="x", strength=0.25)
    assert dict(p.data)["strength"] == "0.25"
    p = prepare("create_style", images=[png(256, 256)] * 2, style="any", image_weights=[0.3, 0.7])
    assert dict(p.data)["image_weights"] == "[0.3,0.7]"
    assert [name for name, _ in p.files] == ["images", "images"]


def test_get_without_body():
    p = prepare("user")
    assert (p.method, p.path, p.json, p.data, p.files) == ("GET", "/users/me", None, [], [])
