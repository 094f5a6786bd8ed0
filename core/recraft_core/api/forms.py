"""What a form shows for an operation and a model: fields with their current rules, cost.

The Krita docker, GIMP's procedure dialogs and any other UI build their widgets from
`fields_for` and turn the widgets' values back into parameters with `collect`, so no editor
spells out a field, a range or a model rule of its own.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, replace

from ..exceptions import ValidationError
from . import catalog
from .operations import INT32_MAX, OPERATIONS, Field, Operation
from .validation import style_kind_fits

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class FormField:
    name: str  # the parameter; a part of an object is "controls.no_text"
    label: str
    type: str  # text, int, float, bool, choice, uuid, color, colors
    widget: str  # multiline, slider, seed, size, style, model; empty: by type
    help: str
    required: bool = False
    default: object = None
    low: float | None = None
    high: float | None = None
    high_open: bool = False  # `high` itself is refused: a widget stops a step below
    step: float | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # what to show for each choice
    advanced: bool = False
    placeholder: str = ""  # what an empty text box shows

    @property
    def optional(self) -> bool:
        """Left out unless set: the API decides (a widget needs a "not set" state)."""
        return not self.required and self.default is None

    @property
    def highest(self) -> float | None:
        """The largest value a widget may offer: below `high` when the range excludes it."""
        if self.high is None or not self.high_open:
            return self.high
        return self.high - (self.step or 1) / 100 if self.type == "float" else self.high - 1


def _operation(op: Operation | str) -> Operation:
    return OPERATIONS[op] if isinstance(op, str) else op


def _model(op: Operation, model: str | None) -> catalog.Model | None:
    name = model or op.default_model
    return catalog.MODELS.get(name) if name in op.models else None


def _form_field(field: Field, model: catalog.Model | None, name: str, int32: bool) -> FormField:
    choices, labels = field.choices, field.choices
    if field.widget == "style" and field.type == "choice":
        if model is not None:
            choices = tuple(c for c in field.choices if style_kind_fits(c, model))
        labels = tuple(catalog.style_label(c) for c in choices)
    if field.widget == "size" and model is not None:
        choices = tuple(wxh for _, wxh in model.family.sizes)
        labels = tuple(f"{a} ({wxh})" if a else wxh for a, wxh in model.family.sizes)
    high = field.high
    if int32 and field.type == "int" and (high is None or high > INT32_MAX):
        high = INT32_MAX  # GIMP's integer arguments are signed 32-bit
    return FormField(
        name=name,
        label=field.title,
        type="choice" if choices and field.type == "text" else field.type,
        widget=field.widget,
        help=field.editor_help or field.help,
        required=field.required,
        default=field.default,
        low=field.low,
        high=high,
        high_open=field.high_open and high == field.high,
        step=field.step,
        choices=choices,
        choice_labels=labels,
        advanced=field.advanced,
        placeholder=field.placeholder,
    )


def fields_for(op: Operation | str, model: str | None = None, *, int32: bool = False):
    """The fields to show for `op` with `model` (the default model when None), in order.

    Only what that model accepts: a V4 model hides negative_prompt and the V3-only controls;
    styles are those of the model's kind; sizes are the model's. Hidden fields (response
    format) are left out. With `int32`, integer ranges are cut to what a signed 32-bit
    argument holds.
    """
    op = _operation(op)
    chosen = _model(op, model)
    out: list[FormField] = []
    if op.models:
        out.append(
            FormField(
                "model",
                "Model",
                "choice",
                "model",
                "the Recraft model; it decides raster or vector output",
                default=op.default_model,
                choices=op.models,
                choice_labels=tuple(catalog.MODELS[m].label for m in op.models),
            )
        )
    for field in op.fields:
        if field.hidden or not field.accepts(chosen):
            continue
        if field.parts:
            for part in field.parts:
                if part.accepts(chosen):
                    name = f"{field.name}.{part.name}"
                    part_field = _form_field(part, chosen, name, int32)
                    out.append(replace(part_field, advanced=field.advanced or part.advanced))
            continue
        out.append(_form_field(field, chosen, field.name, int32))
    return out


@functools.cache
def all_fields(op: Operation | str, *, int32: bool = False) -> tuple[FormField, ...]:
    """Every field `op` takes with any of its models, in form order, choices merged across
    models: for a UI whose fields are fixed before the model is chosen (GIMP's procedure
    arguments)."""
    op = _operation(op)
    seen: dict[str, FormField] = {}
    for model in op.models or (None,):
        for field in fields_for(op, model, int32=int32):
            old = seen.get(field.name)
            if old is None:
                seen[field.name] = field
                continue
            extra = [(c, lab) for c, lab in zip(field.choices, field.choice_labels, strict=True)
                     if c not in old.choices]  # fmt: skip
            if extra:  # styles and sizes differ by model: offer them all
                seen[field.name] = replace(
                    old,
                    choices=old.choices + tuple(c for c, _ in extra),
                    choice_labels=old.choice_labels + tuple(lab for _, lab in extra),
                )
    return tuple(seen.values())


def parse(field: FormField, text: str):
    """A value from what a user typed in `field`'s text box; None when it is empty.

    Colours are #rrggbb (several separated by commas), JSON fields JSON, integers digits.
    ValidationError names the field and says how to write it."""
    text = (text or "").strip()
    if not text:
        return None
    if field.type == "int":
        try:
            return int(text)
        except ValueError:
            raise ValidationError(field.name, f"{text!r} is not a whole number") from None
    if field.type == "color":
        return _rgb(field.name, text)
    if field.type == "colors":
        return [_rgb(field.name, part) for part in text.split(",") if part.strip()]
    if field.type in ("json", "object"):
        try:
            return json.loads(text)
        except ValueError:
            raise ValidationError(field.name, "is not valid JSON") from None
    return text


def shown(field: FormField, value) -> str:
    """The text a box shows for `value`: `parse` reads it back to the same value."""
    if value is None:
        return ""
    if field.type == "color" and isinstance(value, dict) and "rgb" in value:
        return _hex(value)
    if field.type == "colors" and isinstance(value, list):
        return ", ".join(_hex(c) for c in value)
    if field.type in ("json", "object") and not isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _rgb(name: str, text: str) -> dict:
    m = _HEX.match(text.strip())
    if not m:
        raise ValidationError(name, f"{text.strip()!r} is not a colour: write it as #rrggbb")
    value = m.group(1)
    return {"rgb": [int(value[i : i + 2], 16) for i in (0, 2, 4)]}


def _hex(color: dict) -> str:
    r, g, b = color["rgb"]
    return f"#{r:02x}{g:02x}{b:02x}"


def nearest_size(op: Operation | str, model: str | None, width: int, height: int) -> str | None:
    """The size `model` (the default when None) makes that is nearest `width`:`height` in
    shape, as WxH; None when the operation takes no size."""
    op = _operation(op)
    chosen = _model(op, model)
    if op.field("size") is None or chosen is None or width <= 0 or height <= 0:
        return None
    ratio = width / height

    def distance(wxh: str) -> float:
        w, h = map(int, wxh.split("x"))
        return abs(w / h - ratio)

    return min((wxh for _, wxh in chosen.family.sizes), key=distance)


def where_used(op: Operation | str, field: str) -> tuple[Operation, str] | None:
    """Where `op`'s result is put to use (a created style: Generate's Saved style), with the
    model to choose there: the operation's default when it takes `field`, else the first
    model that does. None when the result has no such use."""
    op = _operation(op)
    if op.result_used_in is None:
        return None
    target = OPERATIONS[op.result_used_in]
    rule = target.field(field)
    if rule is None:
        return None
    models = [target.default_model, *target.models] if target.models else []
    for name in models:
        if name and rule.accepts(catalog.MODELS[name]):
            return target, name
    return None


def collect(op: Operation | str, values: dict) -> dict:
    """Parameters from a form's values: empty values dropped, `controls.x` folded into
    `controls`. The result still goes through validation when it is sent."""
    op = _operation(op)
    params: dict = {}
    for name, value in values.items():
        if value is None or value == "" or value == []:
            continue
        head, dot, part = name.partition(".")
        if dot:
            params.setdefault(head, {})[part] = value
        else:
            params[name] = value
    return params


def cost(op: Operation | str, params: dict) -> int | None:
    """Credits the call should cost by Recraft's price list, or None when it cannot be known
    beforehand (how many images explore returns is not documented)."""
    op = _operation(op)
    if isinstance(op.price, int):
        return op.price
    if op.price != "image" or not op.models or op.field("n") is None:
        return None  # explore: how many images it returns is not documented
    model = _model(op, params.get("model"))
    if model is None:
        return None
    n = params.get("n") or 1
    kind = "vector" if model.vector else "raster"
    return catalog.IMAGE_PRICES[model.family.name][kind] * n
