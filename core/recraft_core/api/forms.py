"""What a form shows for an operation and a model: fields with their current rules, cost.

The Krita docker, GIMP's procedure dialogs and any other UI build their widgets from
`fields_for` and turn the widgets' values back into parameters with `collect`, so no editor
spells out a field, a range or a model rule of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import catalog
from .operations import INT32_MAX, OPERATIONS, Field, Operation
from .validation import style_kind_fits


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
    step: float | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()  # what to show for each choice
    advanced: bool = False


def _operation(op: Operation | str) -> Operation:
    return OPERATIONS[op] if isinstance(op, str) else op


def _model(op: Operation, model: str | None) -> catalog.Model | None:
    name = model or op.default_model
    return catalog.MODELS.get(name) if name in op.models else None


def _form_field(field: Field, model: catalog.Model | None, name: str, int32: bool) -> FormField:
    choices, labels = field.choices, field.choices
    if field.widget == "style" and field.type == "choice" and model is not None:
        choices = labels = tuple(c for c in field.choices if style_kind_fits(c, model))
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
        step=field.step,
        choices=choices,
        choice_labels=labels,
        advanced=field.advanced,
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
