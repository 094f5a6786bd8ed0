"""Validation: the API's rules, applied to one request, producing a ``Call`` to execute.

Order: content shape (unknown / repeated / missing fields) -> field types -> model -> each
field's own rule -> file rules -> the endpoint's cross-field rule.  The first broken rule is
reported; every message starts with the field it is about.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from . import catalog, fields, uploads
from .calls import Call, Endpoint
from .catalog import V3
from .errors import ApiError, invalid
from .state import State
from .uploads import Upload

_SIZE = re.compile(r"([0-9]+)x([0-9]+)")
_ASPECT = re.compile(r"([0-9]+):([0-9]+)")


def _join(items) -> str:
    return ", ".join(str(i) for i in items)


# --- request shape ---------------------------------------------------------------------------


def decode_fields(ep: Endpoint, raw: dict[str, list], multipart: bool) -> dict[str, Any]:
    """Reject fields the endpoint does not take; decode the rest to typed values."""
    params: dict[str, Any] = {}
    for name, values in raw.items():
        if name in ep.files or name in ep.extra_files:
            raise invalid(name, "must be a file upload (a multipart part with a filename)")
        if name not in ep.fields and name not in ep.extras:
            hint = ep.hints.get(name)
            raise ApiError(
                "unknown_parameter",
                f"{name} is not a parameter of {ep.path}" + (f" ({hint})" if hint else ""),
            )
        if len(values) > 1:
            raise invalid(name, "was sent more than once")
        value = values[0]
        value = fields.from_text(name, value) if multipart else _json_value(name, value)
        if value is not None:
            params[name] = value
    for name in ep.required:
        if name not in params and name not in ep.files:
            raise ApiError("missing_parameter", f"{name} is required by {ep.path}")
    return params


def _json_value(name: str, value):
    return None if value is None else fields.from_json(name, value)


def check_files(ep: Endpoint, files: dict[str, list[Upload]]) -> None:
    if ep.files == ("*",):
        return
    for name, ups in files.items():
        if name in ep.extra_files:
            continue
        if name not in ep.files:
            if name in ep.fields or name in ep.extras:
                raise invalid(name, "must be a text field, not a file upload")
            if not ep.files:
                raise ApiError("unknown_parameter", f"{ep.path} takes no file uploads (got {name})")
            raise ApiError(
                "unknown_parameter",
                f"{name} is not a file field of {ep.path} (file fields: {_join(ep.files)})",
            )
        if len(ups) > 1:
            raise invalid(name, "was uploaded more than once")


def check_required_files(ep: Endpoint, files: dict[str, list[Upload]]) -> None:
    for name in ep.files:
        if name not in files and name in ep.required:
            raise ApiError(
                "missing_parameter", f"{name} is required by {ep.path} (a multipart file upload)"
            )


# --- single-field rules ----------------------------------------------------------------------


def check_range(name: str, value, lo, hi, hi_open: bool = False) -> None:
    too_high = value >= hi if hi_open else value > hi
    if value < lo or too_high:
        bracket = ")" if hi_open else "]"
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:20]}... (a huge number)"
        raise invalid(name, f"must be in [{lo}, {hi}{bracket}, got {shown}")


def check_enum(name: str, value: str, allowed) -> None:
    if value not in allowed:
        raise invalid(name, f"must be one of {_join(allowed)}, got {value!r}")


def canonical_uuid(name: str, value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError) as exc:
        raise invalid(name, f"must be a UUID, got {value!r}") from exc


def check_model(ep: Endpoint, params: dict) -> str | None:
    if not ep.models:
        return None
    model = params.get("model", ep.default_model)
    if model is None:
        return None
    if model not in ep.models:
        raise invalid(
            "model", f"{model!r} is not supported by {ep.path} (supported: {_join(ep.models)})"
        )
    return model


def check_prompt(model: str | None, prompt: str, max_chars: int | None = None) -> None:
    """Non-empty; at most ``max_chars`` characters if given, else the model's byte limit."""
    if not prompt.strip():
        raise invalid("prompt", "must not be empty")
    if max_chars is not None and len(prompt) > max_chars:
        raise invalid("prompt", f"is {len(prompt)} characters; at most {max_chars} are allowed")
    if model is None:
        return
    limit = catalog.PROMPT_LIMIT_BYTES[catalog.family(model)]
    size = len(prompt.encode("utf-8"))
    if size > limit:
        raise invalid(
            "prompt",
            f"is {size} bytes in UTF-8; {model} allows at most {limit} bytes",
        )


def parse_size(name: str, value: str, model: str) -> tuple[int, int]:
    """Resolve `WxH` or an aspect `w:h` to a pixel size from the model's table."""
    fam = catalog.family(model)
    aspects = catalog.ASPECT_SIZES[fam]
    sizes = catalog.sizes_for(model)
    if _ASPECT.fullmatch(value):
        if value not in aspects:
            raise invalid(
                name,
                f"aspect {value} is not supported by {model} (supported: {_join(aspects)})",
            )
        value = aspects[value]
    elif not _SIZE.fullmatch(value):
        raise invalid(
            name, f"must be WxH (e.g. 1024x1024) or an aspect w:h (e.g. 16:9), got {value!r}"
        )
    if value not in sizes:
        raise invalid(name, f"{value} is not supported by {model} (supported: {_join(sizes)})")
    w, h = value.split("x")
    return int(w), int(h)


def check_style(ep: Endpoint, model: str | None, params: dict, state: State) -> None:
    style, style_id = params.get("style"), params.get("style_id")
    if style is not None and style_id is not None:
        raise invalid("style", "and style_id cannot be given together")
    if style is not None:
        check_enum("style", style, catalog.BASE_STYLES)
    record = None
    if style_id is not None:
        params["style_id"] = style_id = canonical_uuid("style_id", style_id)
        with state.lock:
            record = state.styles.get(style_id)
        if record is None:
            raise invalid(
                "style_id", f"{style_id} is not a known style (create one with POST /v1/styles)"
            )
    name = "style" if style is not None else "style_id" if style_id is not None else None
    if name is None or model is None:
        return
    if ep.style_families is not None and catalog.family(model) not in ep.style_families:
        families = "/".join(ep.style_families)
        raise invalid(
            name, f"is not supported by {model} on {ep.path} (only {families} models take it)"
        )
    if style is not None and catalog.kind(model) not in catalog.style_kinds(style):
        raise invalid(
            "style",
            f"{style} is a {catalog.style_kinds(style)[0]} style and cannot be used with the "
            f"{catalog.kind(model)} model {model}",
        )
    if record is not None:
        check_style_kind("style_id", record.style, model)


def check_style_kind(name: str, base_style: str, model: str) -> None:
    """A saved style made from a raster-only (vector-only) base style needs a raster (vector)
    model; a style based on "any" fits both."""
    kinds = catalog.style_kinds(base_style)
    if catalog.kind(model) not in kinds:
        raise invalid(
            name,
            f"is a {kinds[0]} style (based on {base_style}) and cannot be used with the "
            f"{catalog.kind(model)} model {model}",
        )


def check_negative_prompt(ep: Endpoint, model: str | None, value: str) -> None:
    families = ep.negative_prompt_families
    if families is not None and model is not None and catalog.family(model) not in families:
        raise invalid(
            "negative_prompt", f"is supported by {'/'.join(families)} models only, not {model}"
        )


def check_text_layout(model: str | None, value: list) -> None:
    if model is not None and catalog.family(model) != V3:
        raise invalid("text_layout", f"is supported by Recraft V3 models only, not {model}")
    for i, item in enumerate(value):
        where = f"text_layout[{i}]"
        if not isinstance(item, dict):
            raise invalid(where, "must be an object with text and bbox")
        extra = set(item) - {"text", "bbox"}
        if extra:
            raise invalid(where, f"has unknown keys {_join(sorted(extra))} (allowed: text, bbox)")
        text, bbox = item.get("text"), item.get("bbox")
        if not isinstance(text, str) or not text:
            raise invalid(f"{where}.text", "is required and must be a non-empty string")
        if any(ch.isspace() for ch in text):
            raise invalid(f"{where}.text", f"must be a single word (no whitespace), got {text!r}")
        bad = [ch for ch in text if not catalog.text_layout_char_ok(ch)]
        if bad:
            raise invalid(
                f"{where}.text",
                f"contains unsupported characters {''.join(dict.fromkeys(bad))!r} (allowed: "
                "ASCII letters, digits and punctuation, Latin-1 letters, Cyrillic letters)",
            )
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise invalid(f"{where}.bbox", "must be a list of exactly 4 points")
        for point in bbox:
            pair = isinstance(point, list) and len(point) == 2
            if not (pair and all(map(fields.is_finite_number, point))):
                shown = repr(point) if len(repr(point)) <= 60 else repr(point)[:57] + "..."
                raise invalid(
                    f"{where}.bbox", f"points must be [x, y] finite number pairs, got {shown}"
                )


def _check_color(where: str, color) -> float:
    if not isinstance(color, dict):
        raise invalid(where, "must be an object with rgb")
    extra = set(color) - {"rgb", "weight"}
    if extra:
        raise invalid(where, f"has unknown keys {_join(sorted(extra))} (allowed: rgb, weight)")
    rgb = color.get("rgb")
    if not (
        isinstance(rgb, list)
        and len(rgb) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb)
    ):
        raise invalid(f"{where}.rgb", f"must be exactly 3 integers in 0..255, got {rgb!r}")
    weight = color.get("weight")
    if weight is None:
        return 0.0
    if not fields.is_finite_number(weight):
        raise invalid(f"{where}.weight", f"must be a number, got {weight!r}")
    check_range(f"{where}.weight", weight, 0, 1)
    return float(weight)


def check_controls(model: str | None, value: dict) -> None:
    allowed = ("colors", "background_color", "artistic_level", "no_text")
    extra = set(value) - set(allowed)
    if extra:
        raise invalid(
            "controls", f"has unknown keys {_join(sorted(extra))} (allowed: {_join(allowed)})"
        )
    colors = value.get("colors")
    if colors is not None:
        if not isinstance(colors, list):
            raise invalid("controls.colors", "must be an array of colors")
        total = sum(_check_color(f"controls.colors[{i}]", c) for i, c in enumerate(colors))
        if total > 1.0 + 1e-9:
            raise invalid("controls.colors", f"weights must sum to at most 1.0, got {total:g}")
    if value.get("background_color") is not None:
        _check_color("controls.background_color", value["background_color"])
    v3_only = model is not None and catalog.family(model) != V3
    level = value.get("artistic_level")
    if level is not None:
        if not isinstance(level, int) or isinstance(level, bool):
            raise invalid("controls.artistic_level", f"must be an integer, got {level!r}")
        check_range("controls.artistic_level", level, *catalog.ARTISTIC_LEVEL_RANGE)
        if v3_only:
            raise invalid("controls.artistic_level", f"is supported by V3 models only, not {model}")
    no_text = value.get("no_text")
    if no_text is not None:
        if not isinstance(no_text, bool):
            raise invalid("controls.no_text", f"must be a boolean, got {no_text!r}")
        if v3_only:
            raise invalid("controls.no_text", f"is supported by V3 models only, not {model}")


def _check_numbers(name: str, value: list) -> None:
    if not all(fields.is_finite_number(v) for v in value):
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise invalid(name, f"must be an array of finite numbers, got {shown}")


# --- the whole request -----------------------------------------------------------------------


def validate(
    ep: Endpoint,
    raw: dict[str, list],
    files: dict[str, list[Upload]],
    multipart: bool,
    state: State,
) -> Call:
    check_files(ep, files)
    params = decode_fields(ep, raw, multipart)
    check_required_files(ep, files)
    model = check_model(ep, params)
    call = Call(endpoint=ep, params=params, files=files, state=state, model=model)

    if "prompt" in params:
        check_prompt(model, params["prompt"], ep.prompt_max_chars)
    if "n" in params:
        check_range("n", params["n"], *catalog.N_RANGE)
    call.n = params.get("n", 1)
    if "random_seed" in params:
        check_range("random_seed", params["random_seed"], *catalog.SEED_RANGE)
    if "response_format" in params:
        check_enum("response_format", params["response_format"], catalog.RESPONSE_FORMATS)
    if "image_format" in params:
        check_enum("image_format", params["image_format"], catalog.IMAGE_FORMATS)
    if "style" in params or "style_id" in params:
        check_style(ep, model, params, state)
    if "negative_prompt" in params:
        check_negative_prompt(ep, model, params["negative_prompt"])
    if "text_layout" in params:
        check_text_layout(model, params["text_layout"])
    if "controls" in params:
        check_controls(model, params["controls"])
    if "strength" in params:
        check_range("strength", params["strength"], 0, 1)
    for side in ("left", "right", "top", "bottom"):
        if f"expand_{side}" in params:
            check_range(f"expand_{side}", params[f"expand_{side}"], *catalog.EXPAND_RANGE)
    if "zoom_out_percentage" in params:
        check_range("zoom_out_percentage", params["zoom_out_percentage"], 0, 100, hi_open=True)
    if "similarity" in params:
        check_range("similarity", params["similarity"], *catalog.SIMILARITY_RANGE)
    if "mix_policy" in params:
        check_enum("mix_policy", params["mix_policy"], catalog.MIX_POLICIES)
    for name in ("image_weights", "source_style_weights"):
        if name in params:
            _check_numbers(name, params[name])
    if "size" in params and model is not None:
        call.size = parse_size("size", params["size"], model)
    elif ep.default_size and model is not None:
        call.size = parse_size("size", catalog.default_size(model), model)

    if "image" in files and "image" in ep.files:
        image = files["image"][0]
        scaled = image.is_svg and ep.svg_scaled_up
        uploads.check_image(image, ep.image_formats, None if scaled else ep.min_side)
    if "mask" in files and "mask" in ep.files:
        uploads.check_mask(files["mask"][0], files["image"][0])
    if ep.check is not None:
        ep.check(call)
    return call
