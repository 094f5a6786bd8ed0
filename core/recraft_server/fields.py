"""Request fields: the type of every field the server knows, and decoding raw values to it.

JSON bodies carry typed values; multipart text fields are strings, so numbers are parsed from
strings, booleans are "true"/"false", and array/object fields arrive as one field holding JSON
text.  A JSON ``null`` counts as "not given" (the docs type most fields "X or null").

JSON is read strictly, and every way it can go wrong is a 400 naming the field (for a JSON body:
the top-level key whose value is at fault): syntax errors, ``NaN``/``Infinity``, integers too
long to convert, nesting deeper than ``MAX_JSON_DEPTH`` arrays/objects (so nothing downstream
can recurse without bound), and strings that are not valid Unicode (lone surrogates such as
``"\ud800"``).  Multipart integer fields take at most ``MAX_INT_DIGITS`` digits.
"""

from __future__ import annotations

import json
import math
import re
from json.decoder import scanstring

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

MAX_JSON_DEPTH = 64
MAX_INT_DIGITS = 100

_INT_TEXT = re.compile(r"[+-]?[0-9]+")
_NUM_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ARTICLE = {INT: "an integer", NUM: "a number", BOOL: "a boolean", STR: "a string",
            ARRAY: "a JSON array", OBJECT: "a JSON object"}  # fmt: skip


_WS = re.compile(r"[ \t\n\r]*")


class _NotFinite(ValueError):
    pass


def _reject_constant(word: str):
    raise _NotFinite(word)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def is_finite_number(value) -> bool:
    """An int or float (not bool) that is finite as a float; huge ints do not overflow here."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        return False


def load_json(text: str, name: str | None = None):
    """Decode JSON text (a body when ``name`` is None, else the multipart field ``name``)."""
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        field = name or _failing_key(text)
        if isinstance(exc, RecursionError):
            rule = f"is nested too deeply (at most {MAX_JSON_DEPTH} levels of arrays/objects)"
        elif isinstance(exc, _NotFinite):
            rule = f"holds {exc.args[0]}; numbers must be finite (NaN/Infinity are not JSON)"
        elif "digits" in str(exc):  # int() refuses integers longer than sys.int_info's limit
            rule = "holds an integer with too many digits"
        elif name is not None:
            article = _ARTICLE.get(FIELD_TYPES.get(name, ""), "JSON")
            raise invalid(name, f"must hold JSON text ({article}): {exc}") from None
        else:
            where = f" (in the value of {field})" if field else ""
            raise ApiError(
                "invalid_request_body", f"the body is not valid JSON{where}: {exc}"
            ) from None
        if field is None:
            raise ApiError("invalid_request_body", f"the body {rule}") from None
        raise invalid(field, rule) from None


def _failing_key(text: str) -> str | None:
    """The top-level key of a JSON object whose value fails to decode, if there is one."""
    idx = _WS.match(text, 0).end()
    if not text.startswith("{", idx):
        return None
    idx += 1
    while True:
        idx = _WS.match(text, idx).end()
        if not text.startswith('"', idx):
            return None
        try:
            key, idx = scanstring(text, idx + 1)
        except ValueError:
            return None
        idx = _WS.match(text, idx).end()
        if not text.startswith(":", idx):
            return None
        idx = _WS.match(text, idx + 1).end()
        try:
            _, idx = _DECODER.raw_decode(text, idx)
        except (ValueError, RecursionError):
            return key
        idx = _WS.match(text, idx).end()
        if not text.startswith(",", idx):
            return None
        idx += 1


def _check_text(name: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise invalid(
            name, f"is not valid Unicode (lone surrogate {text[exc.start]!r} at {exc.start})"
        ) from None


def check_json_value(name: str, value) -> None:
    """Depth, strings and numbers of a decoded JSON value, without recursion."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(name, item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise invalid(name, "holds a number that is not finite")
        elif isinstance(item, (list, dict)):
            if depth >= MAX_JSON_DEPTH:
                raise invalid(
                    name,
                    f"is nested too deeply (at most {MAX_JSON_DEPTH} levels of arrays/objects)",
                )
            if isinstance(item, dict):
                for key in item:
                    _check_text(name, key)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)


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
    check_json_value(name, value)
    if not ok:
        raise _type_error(name, kind, value)
    if kind == NUM and not is_finite_number(value):
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
        if len(text.strip().lstrip("+-")) > MAX_INT_DIGITS:
            raise invalid(name, f"must be an integer of at most {MAX_INT_DIGITS} digits")
        return int(text)
    if kind == NUM:
        if not _NUM_TEXT.fullmatch(text.strip()):
            raise _type_error(name, kind, text)
        value = float(text)
        if not math.isfinite(value):
            raise invalid(name, "must be a finite number")
        return value
    if kind == BOOL:
        if text not in ("true", "false"):
            raise invalid(name, f'must be "true" or "false", got {text!r}')
        return text == "true"
    value = load_json(text, name)
    if value is None:
        return None
    return from_json(name, value)
