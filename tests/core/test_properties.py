"""Property-based checks of the validation: whatever values and file bytes a caller hands
over, Client.prepare gives a request or a ValidationError naming a field, never another
exception (hypothesis generates the inputs; nothing is sent)."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from images import mask, png, svg
from recraft_core import Client, ValidationError
from recraft_core.api.operations import OPERATIONS

CLIENT = Client("property-token", base_url="http://127.0.0.1:9/v1")
IMAGE = png(512, 512)
MASK = mask(512, 512, (10, 10, 100, 100)).to_png()

# Any JSON-ish value a form, a script or a command line could produce.
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def prepare_or_refuse(operation: str, params: dict) -> None:
    try:
        CLIENT.prepare(operation, **params)
    except ValidationError as e:
        assert e.field and e.rule, e  # names the field and the rule


def files_for(operation: str) -> dict:
    op = OPERATIONS[operation]
    out = {}
    for spec in op.files:
        out[spec.name] = (
            [IMAGE] if spec.kind == "images" else MASK if spec.kind == "mask" else IMAGE
        )
    return out


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@FAST
@given(data=st.data())
def test_any_field_values_give_a_request_or_a_validation_error(operation, data):
    op = OPERATIONS[operation]
    names = [f.name for f in op.fields] + (["model"] if op.models else [])
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=4)) if names else []
    params = {name: data.draw(VALUES, label=name) for name in chosen}
    prepare_or_refuse(operation, {**files_for(operation), **params})


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# Headers that look like images but lie: random IHDR fields, truncated or padded files,
# other formats' magic numbers with junk behind them.
CORRUPT = st.one_of(
    st.binary(max_size=64),
    st.builds(
        lambda w, h, depth, colour, rest: (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0))
            + rest
        ),
        st.integers(0, 2**32 - 1),
        st.integers(0, 2**32 - 1),
        st.integers(0, 255),
        st.integers(0, 255),
        st.binary(max_size=64),
    ),
    st.builds(lambda cut: IMAGE[:cut], st.integers(0, len(IMAGE))),
    st.builds(lambda junk: b"\xff\xd8\xff" + junk, st.binary(max_size=64)),
    st.builds(lambda junk: b"RIFF" + junk[:4] + b"WEBPVP8 " + junk[4:], st.binary(max_size=64)),
    st.builds(
        lambda text: svg(300, 300).replace(b"<rect", text.encode() + b"<rect"), st.text(max_size=30)
    ),
)


@pytest.mark.parametrize("operation", ["remove_background", "inpaint", "vectorize", "create_style"])
@FAST
@given(corrupt=CORRUPT, where=st.sampled_from(["image", "mask"]))
def test_any_file_bytes_give_a_request_or_a_validation_error(operation, corrupt, where):
    files = files_for(operation)
    if where not in files:
        where = next(iter(files))
    files[where] = [corrupt] if isinstance(files[where], list) else corrupt
    params = {"prompt": "x"} if operation == "inpaint" else {}
    if operation == "create_style":
        params = {"style": "digital_illustration"}
    prepare_or_refuse(operation, {**files, **params})
