"""The API's documented rules, checked before any byte is sent.

Every failure raises ValidationError naming the field and the rule. Checks read the tables in
catalog and operations: what an operation takes decides what is checked, never its name.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

from ..exceptions import ProtocolError, ValidationError
from ..imaging import imageinfo, masks, png, svg
from . import catalog, rules
from .operations import Field, FileInput, Operation

log = logging.getLogger("recraft_core")

_GEN_LABEL = {"v2": "V2", "v3": "V3", "v4": "V4"}


@dataclass(frozen=True, repr=False)
class Upload:
    """A file ready to send: its bytes and what its header says."""

    field: str
    filename: str
    data: bytes
    info: imageinfo.ImageInfo

    def __repr__(self) -> str:
        i = self.info
        size = f"{i.width}x{i.height}"
        return f"Upload({self.field}: {self.filename}, {i.format} {size}, {len(self.data)} B)"


def _labels(generations) -> str:
    return "/".join(_GEN_LABEL[g] for g in sorted(generations))


# -- files ----------------------------------------------------------------------------------


def _read(field: str, value) -> tuple[str, bytes]:
    """(filename, bytes) of a path, raw bytes or a png.Raster."""
    if isinstance(value, png.Raster):
        if value.mode not in png.CHANNELS:
            raise ValidationError(field, f"raw pixels must be L, LA, RGB or RGBA, not {value.mode}")
        try:
            return f"{field}.png", value.to_png()
        except (ValueError, TypeError) as e:
            raise ValidationError(field, f"raw pixels are unusable: {e}") from None
    if isinstance(value, bytes | bytearray | memoryview):
        return field, bytes(value)
    if isinstance(value, str | os.PathLike):
        try:
            with open(value, "rb") as f:
                return os.path.basename(os.fspath(value)), f.read(catalog.MAX_FILE_BYTES + 1)
        except OSError as e:
            raise ValidationError(
                field, f"cannot read {os.fspath(value)!r}: {e.strerror}"
            ) from None
    raise ValidationError(
        field, f"expected a file path, bytes or png.Raster, not {type(value).__name__}"
    )


def _check_image(op: Operation, spec: FileInput, field: str, value) -> Upload:
    filename, data = _read(field, value)
    if len(data) >= catalog.MAX_FILE_BYTES:
        size = len(data)
        if isinstance(value, str | os.PathLike):
            size = os.path.getsize(value)  # only the first 10 MB were read
        raise ValidationError(field, f"file is {size / 2**20:.1f} MB; it must be under 10 MB")
    try:
        info = imageinfo.read(data)
    except imageinfo.UnknownImage as e:
        raise ValidationError(field, str(e)) from None
    if info.format not in spec.formats:
        allowed = ", ".join(f.upper().replace("JPEG", "JPG") for f in spec.formats)
        raise ValidationError(
            field, f"{info.format.upper()} is not accepted here (accepted: {allowed})"
        )
    short = imageinfo.cut_short(data, info.format)
    if short:
        raise ValidationError(field, f"{short}: copy or save it again")
    if info.format == "svg":
        try:
            unsafe = svg.unsafe_parts(data)
        except ProtocolError as e:
            raise ValidationError(field, str(e)) from None
        if unsafe:
            listed = "; ".join(unsafe[:3]) + ("…" if len(unsafe) > 3 else "")
            raise ValidationError(
                field, f"the SVG has parts that run or load something ({listed}): remove them"
            )
    w, h = info.width, info.height
    if not spec.check_dimensions:
        return Upload(spec.name, _name(filename, field, info), data, info)
    if max(w, h) > catalog.MAX_SIDE:
        raise ValidationError(
            field, f"{w}x{h}: the longest side must be at most {catalog.MAX_SIDE} px"
        )
    if w * h > catalog.MAX_PIXELS:
        raise ValidationError(
            field, f"{w}x{h} is {w * h:,} pixels; at most 16 MP ({catalog.MAX_PIXELS:,}) allowed"
        )
    small_ok = info.format == "svg" and not op.svg_min_side
    if op.min_side and min(w, h) < op.min_side and not small_ok:
        raise ValidationError(
            field, f"{w}x{h}: the shortest side must be at least {op.min_side} px"
        )
    return Upload(spec.name, _name(filename, field, info), data, info)


def _name(filename: str, field: str, info: imageinfo.ImageInfo) -> str:
    return f"{field}.{info.extension}" if filename == field else filename


def _check_mask(upload: Upload, image: Upload | None, raw: bytes | None = None) -> None:
    """`raw`: the mask's pixels, when it was given as a Raster (a plug-in's mask): checked as
    they are, not decoded again from the PNG just made of them."""
    info = upload.info
    if image is not None and (info.width, info.height) != (image.info.width, image.info.height):
        raise ValidationError(
            "mask",
            f"is {info.width}x{info.height} but the image is "
            f"{image.info.width}x{image.info.height}; they must be the same size",
        )
    if info.grayscale is False:
        raise ValidationError("mask", "must be a grayscale image (one channel, black and white)")
    if info.format == "jpeg":
        raise ValidationError(
            "mask",
            "is a JPEG, whose compression leaves grey pixels along every edge, and each pixel "
            "must be pure black (0) or white (255): save the mask as PNG",
        )
    if info.format != "png":
        return  # WEBP pixels cannot be read without a decoder; the API checks them
    if imageinfo.png_bit_depth(upload.data) == 16:
        raise ValidationError("mask", "is a 16-bit PNG: save it with 8 bits per pixel")
    if raw is None:
        try:
            _, _, mode, raw = png.decode(upload.data)
        except png.UnsupportedPNG:
            return  # 1, 2 and 4-bit grey: left to the API
        except png.PNGError as e:
            raise ValidationError("mask", str(e)) from None
        if mode != "L":
            raise ValidationError("mask", f"must be grayscale without alpha, not {mode}")
    # A mask is mostly black: rows of black are passed over by memcmp (masks.bbox), and only
    # the bytes of the other rows are looked at one by one.
    box = masks.bbox(raw, info.width, info.height)
    if box is None:
        raise ValidationError(
            "mask", "is all black: nothing would change (white marks the area to change)"
        )
    _, y0, _, y1 = box
    lit = raw[y0 * info.width : y1 * info.width].translate(None, b"\x00")
    if lit.translate(None, b"\xff"):
        found = [v for v in masks.values(lit) if v != 255]
        raise ValidationError(
            "mask",
            f"must hold only 0 (keep) and 255 (change); it also has {len(found)} other values "
            f"(e.g. {found[0]}): threshold it first",
        )
    if len(lit) == len(raw):
        # Allowed, and sometimes meant; the CLI shows warnings on stderr.
        log.warning("the mask is all white, so the whole image will change")


def load_files(op: Operation, given: dict) -> dict[str, Upload | list[Upload]]:
    """Read and check every file the operation takes."""
    out: dict[str, Upload | list[Upload]] = {}
    for spec in op.files:
        value = given.get(spec.name)
        if spec.kind == "images":
            values = (
                [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
            )
            out[spec.name] = [
                _check_image(op, spec, f"{spec.name}[{i}]", v) for i, v in enumerate(values)
            ]
            continue
        if value is None:
            if spec.required:
                raise ValidationError(spec.name, "is required")
            continue
        out[spec.name] = _check_image(op, spec, spec.name, value)
        if spec.kind == "mask":
            raw = value.pixels if isinstance(value, png.Raster) and value.mode == "L" else None
            _check_mask(out[spec.name], out.get("image"), raw)
    return out


# -- single fields ------------------------------------------------------------------------


def _number(field: Field, value, integer: bool, name: str):
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "an integer" if integer else "a number"
        raise ValidationError(name, f"must be {kind}, not {value!r}")
    if integer and not isinstance(value, int):
        if not math.isfinite(value) or not float(value).is_integer():
            raise ValidationError(name, f"must be an integer, not {value!r}")
        value = int(value)
    if not integer and not math.isfinite(value):
        raise ValidationError(name, f"must be a finite number, not {value!r}")
    low, high = field.low, field.high
    too_low = low is not None and value < low
    too_high = high is not None and (value >= high if field.high_open else value > high)
    if too_low or too_high:
        bracket = ")" if field.high_open else "]"
        show = (lambda v: "" if v is None else int(v)) if integer else (lambda v: v)
        raise ValidationError(name, f"{value} is out of range [{show(low)}, {show(high)}{bracket}")
    return value


def _rgb(where: str, color) -> None:
    if not isinstance(color, dict) or "rgb" not in color:
        raise ValidationError(where, "must be an object with an rgb list")
    rgb = color["rgb"]
    if (
        not isinstance(rgb, list | tuple)
        or len(rgb) != 3
        or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in rgb)
    ):
        raise ValidationError(f"{where}.rgb", f"must be 3 integers 0-255, not {rgb!r}")


def _colors(where: str, colors) -> None:
    if not isinstance(colors, list | tuple):
        raise ValidationError(where, "must be a list of colors")
    total = 0.0
    for i, color in enumerate(colors):
        _rgb(f"{where}[{i}]", color)
        weight = color.get("weight")
        if weight is not None:
            if (
                isinstance(weight, bool)
                or not isinstance(weight, int | float)
                or not 0 <= weight <= 1
            ):
                raise ValidationError(f"{where}[{i}].weight", f"{weight!r} is not in [0, 1]")
            total += weight
    if total > 1 + 1e-9:
        raise ValidationError(where, f"weights sum to {total:g}; at most 1 allowed")


def check_field(field: Field, value, name: str | None = None):
    """The value to send for one field, or ValidationError. `name` is where it sits
    (controls.no_text for a part)."""
    name = name or field.name
    if field.type in ("int", "float"):
        return _number(field, value, field.type == "int", name)
    if field.type == "text":
        if not isinstance(value, str):
            raise ValidationError(name, f"must be text, not {type(value).__name__}")
        return value
    if field.type == "bool":
        if not isinstance(value, bool):
            raise ValidationError(name, "must be true or false")
        return value
    if field.type == "choice":
        if value not in field.choices:
            raise ValidationError(name, f"{value!r} is not one of: {', '.join(field.choices)}")
        return value
    if field.type == "uuid":
        return rules.as_uuid(name, value)
    if field.type == "color":
        _rgb(name, value)
        return value
    if field.type == "colors":
        _colors(name, value)
        return value
    if field.type == "object":
        if not isinstance(value, dict):
            raise ValidationError(name, "must be an object")
        known = {part.name: part for part in field.parts}
        out = {}
        for key, item in value.items():
            if key not in known:
                raise ValidationError(
                    f"{name}.{key}", f"is unknown in {name} (known: {', '.join(known)})"
                )
            if item is not None:
                out[key] = check_field(known[key], item, f"{name}.{key}")
        return out
    return value  # json: checked by its own rule below


# -- structured fields --------------------------------------------------------------------


def _check_text_layout(layout) -> None:
    if not isinstance(layout, list | tuple):
        raise ValidationError("text_layout", "must be a list of {text, bbox} objects")
    for i, item in enumerate(layout):
        where = f"text_layout[{i}]"
        if not isinstance(item, dict) or "text" not in item or "bbox" not in item:
            raise ValidationError(where, "must be an object with text and bbox")
        text = item["text"]
        if not isinstance(text, str) or not text:
            raise ValidationError(f"{where}.text", "must be a word")
        bad = sorted({c for c in text if c not in catalog.TEXT_LAYOUT_CHARS})
        if bad:
            what = "spaces" if any(c.isspace() for c in bad) else repr("".join(bad))
            raise ValidationError(f"{where}.text", f"{text!r} must be one word; {what} not allowed")
        bbox = item["bbox"]
        if not isinstance(bbox, list | tuple) or len(bbox) != 4:
            raise ValidationError(f"{where}.bbox", "must have exactly 4 points")
        for point in bbox:
            if (
                not isinstance(point, list | tuple)
                or len(point) != 2
                or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point)
            ):
                raise ValidationError(f"{where}.bbox", f"point {point!r} is not [x, y]")


# -- the whole request --------------------------------------------------------------------


def model_of(op: Operation, params: dict) -> catalog.Model | None:
    """The model the request will use (the operation's default when none is given)."""
    if not op.models:
        return None
    name = params.get("model", op.default_model)
    if name is None:
        return None
    if not isinstance(name, str):
        raise ValidationError("model", f"must be a model name, not {name!r}")
    if name not in op.models:
        known = catalog.MODELS.get(name)
        kinds = {catalog.MODELS[m].vector for m in op.models}
        if known and kinds == {not known.vector}:
            kind, want = ("vector", "raster") if known.vector else ("raster", "vector")
            rule = f"{name} is a {kind} model; {op.url_path} takes {want} models only"
        else:
            rule = f"{name!r} is not accepted by {op.name} (accepted: {', '.join(op.models)})"
        raise ValidationError("model", rule)
    return catalog.MODELS[name]


def _check_prompt(op: Operation, params: dict, model: catalog.Model | None) -> None:
    prompt = params.get("prompt")
    if prompt is None or op.prompt_rule == "none":
        return
    if not prompt.strip():
        raise ValidationError("prompt", "must not be empty")
    if op.prompt_rule == "chars":
        if len(prompt) > catalog.MAX_ENHANCE_CHARS:
            raise ValidationError(
                "prompt",
                f"is {len(prompt)} characters; at most {catalog.MAX_ENHANCE_CHARS} allowed",
            )
        return
    size = len(prompt.encode("utf-8"))
    if model is not None and size > model.family.prompt_limit:
        raise ValidationError(
            "prompt",
            f"is {size} bytes in UTF-8; {model.name} takes at most {model.family.prompt_limit}",
        )


def style_kind_fits(style: str, model: catalog.Model) -> bool:
    """Raster styles go with raster models, vector styles with vector ones; "any" with both."""
    kind = catalog.STYLES[style]
    return kind == "any" or kind == ("vector" if model.vector else "raster")


def _check_for_model(field: Field, value, model: catalog.Model, name: str) -> None:
    """The field's compatibility with the chosen model, and its parts'."""
    if not field.accepts(model):
        raise ValidationError(
            name, f"is for {_labels(field.generations)} models only, not {model.name}"
        )
    if field.widget == "style" and field.type == "choice" and not style_kind_fits(value, model):
        kind = catalog.STYLES[value]
        need = "vector" if model.vector else "raster"
        raise ValidationError(name, f"{value} is a {kind} style; {model.name} needs a {need} style")
    if field.widget == "size":
        check_size(name, value, model)
    for part in field.parts:
        if isinstance(value, dict) and value.get(part.name) is not None:
            _check_for_model(part, value[part.name], model, f"{name}.{part.name}")


def check_size(field_name: str, size: str, model: catalog.Model) -> tuple[int, int]:
    wxh = model.family.resolve_size(size)
    if wxh is None:
        choices = ", ".join(model.family.size_choices())
        raise ValidationError(
            field_name, f"{size} is not supported by {model.name} (supported: {choices})"
        )
    w, h = wxh.split("x")
    return int(w), int(h)


def validate(
    op: Operation, params: dict, uploads: dict | None = None, *, cross_field: bool = True
) -> dict:
    """The parameters to send, with None values dropped; raises ValidationError.

    `cross_field=False` leaves out the rules that need the files (an editor checks its form
    before it reads any pixels)."""
    uploads = uploads or {}
    names = {f.name for f in op.fields} | ({"model"} if op.models else set())
    out = {}
    for name, value in params.items():
        if name not in names:
            takes = ", ".join(op.parameter_names + (("model",) if op.models else ()))
            raise ValidationError(name, f"is not a parameter of {op.name} (it takes: {takes})")
        if value is not None:
            out[name] = value
    for field in op.fields:
        if field.name in out:
            out[field.name] = check_field(field, out[field.name])
        elif field.required:
            raise ValidationError(field.name, "is required")
    if out.get("style") is not None and out.get("style_id") is not None:
        raise ValidationError("style_id", "cannot be given together with style; choose one")
    model = model_of(op, out)
    _check_prompt(op, out, model)
    if model is not None:
        for field in op.fields:
            if out.get(field.name) is not None:
                _check_for_model(field, out[field.name], model, field.name)
    if out.get("text_layout") is not None:
        _check_text_layout(out["text_layout"])
    if op.check is not None and cross_field:
        op.check(out, uploads)
    return out
