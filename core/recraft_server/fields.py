"""Request fields: the type of every field the server knows, and decoding raw values to it.

JSON bodies carry typed values; multipart text fields are strings, so numbers are parsed from
strings, booleans are "true"/"false", and array/object fields arrive as one field holding JSON
text.  A JSON ``null`` counts as "not given" (the docs type most fields "X or null").
"""

from __future__ import annotations

import json
import math
import re

from .errors import ApiError, invalid

STR, INT, NUM, BOOL, ARRAY, OBJECT = "string", "integer", "number", "boolean", "array", "object"

FIELD_TYPES: dict[str, str] = {
    # documented fields
    "prompt": STR,
    "negative_prompt": STR,
    "model": STR,
    "style": STR,
    "style_id": STR,
    "size": STR,
    "response_format": STR,
    "n": INT,
    "random_seed": INT,
    "strength": NUM,
    "expand_left": INT,
    "expand_right": INT,
    "expand_top": INT,
    "expand_bottom": INT,
    "zoom_out_percentage": NUM,
    "text_layout": ARRAY,
    "controls": OBJECT,
    "source_image_id": STR,
    "similarity": INT,
    "image_weights": ARRAY,
    "source_styles": ARRAY,
    "source_style_weights": ARRAY,
    "mix_policy": STR,
    # spec-only fields (accepted; only image_format changes the output)
    "image_format": STR,
    "expire": BOOL,
    "block_nsfw": BOOL,
    "calculate_features": BOOL,
    "creativity": STR,
    "style_match": STR,
    "substyle": STR,
    "upscale": STR,
    "style_reference_urls": ARRAY,
    "private": BOOL,
    "match": STR,
    "palette": OBJECT,
    "color_reduction": STR,
    "limit_num_shapes": STR,
    "max_num_shapes": INT,
    "return_gradients": STR,
    "shape_stacking": STR,
    "small_shape_filter": STR,
    "strict_color_palette": ARRAY,
    "svg_compression": STR,
}

_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_NUM_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ARTICLE = {INT: "an integer", NUM: "a number", BOOL: "a boolean", STR: "a string",
            ARRAY: "a JSON array", OBJECT: "a JSON object"}  # fmt: skip


def _type_error(name: str, kind: str, value) -> ApiError:
    shown = json.dumps(value) if not isinstance(value, str) else repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return invalid(name, f"must be {_ARTICLE[kind]}, got {shown}")


def from_json(name: str, value):
    """Check a JSON body value against the field's type."""
    kind = FIELD_TYPES[name]
    ok = {
        STR: isinstance(value, str),
        INT: isinstance(value, int) and not isinstance(value, bool),
        NUM: isinstance(value, (int, float)) and not isinstance(value, bool),
        BOOL: isinstance(value, bool),
        ARRAY: isinstance(value, list),
        OBJECT: isinstance(value, dict),
    }[kind]
    if not ok:
        raise _type_error(name, kind, value)
    if kind == NUM and not math.isfinite(value):
        raise invalid(name, "must be a finite number")
    return value


def from_text(name: str, text: str):
    """Decode a multipart text field to the field's type."""
    kind = FIELD_TYPES[name]
    if kind == STR:
        return text
    if kind == INT:
        if not _INT_TEXT.fullmatch(text.strip()):
            raise _type_error(name, kind, text)
        return int(text)
    if kind == NUM:
        if not _NUM_TEXT.fullmatch(text.strip()):
            raise _type_error(name, kind, text)
        return float(text)
    if kind == BOOL:
        if text not in ("true", "false"):
            raise invalid(name, f'must be "true" or "false", got {text!r}')
        return text == "true"
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise invalid(name, f"must hold JSON text ({_ARTICLE[kind]}): {exc}") from exc
    if value is None:
        return None
    return from_json(name, value)
