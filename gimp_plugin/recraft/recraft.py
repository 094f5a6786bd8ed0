#!/usr/bin/env python3
"""Recraft for GIMP 3: every Recraft operation as a procedure under Filters › Recraft.

Arguments and dialogs come from recraft_core's operations table; the work is the core's Job
(planning, masks, blending, naming); this file only declares procedures and translates
arguments. The installed copy carries recraft_core and requests in `vendor/` beside it.
"""

import json
import os
import sys
from dataclasses import replace

_HERE = os.path.dirname(os.path.abspath(__file__))
_VENDOR = os.path.join(_HERE, "vendor")
if os.path.isdir(_VENDOR) and _VENDOR not in sys.path:
    sys.path.insert(0, _VENDOR)

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
from gi.repository import Gimp, GLib, GObject  # noqa: E402
from gimp_canvas import GimpCanvas, new_layer  # noqa: E402

from recraft_core import Client, RecraftError, ValidationError, settings  # noqa: E402
from recraft_core.api import forms, validation  # noqa: E402
from recraft_core.api.operations import OPERATIONS  # noqa: E402
from recraft_core.workflow import Job, Options, editor_client  # noqa: E402

PREFIX = "plug-in-recraft-"
MENU = "<Image>/Filters/Recraft"
OFFERED = (
    "generate",
    "image_to_image",
    "inpaint",
    "outpaint",
    "replace_background",
    "generate_background",
    "erase_region",
    "remove_background",
    "crisp_upscale",
    "creative_upscale",
    "vectorize",
    "remix",
    "explore",
    "explore_similar",
    "create_style",
    "enhance_prompt",
)
LAYER_MENU = PREFIX + "remove-background-layer"  # also under Layer › Transparency
SETTINGS = PREFIX + "settings"
NONE = "none"  # the choice that sends nothing: the API's default
RW = GObject.ParamFlags.READWRITE


def _arg(name: str) -> str:
    """GIMP's argument names: lowercase words joined by hyphens."""
    return name.replace(".", "-").replace("_", "-")


def _fields(op) -> list:
    """Every field the operation takes with any of its models, in form order: a GIMP
    procedure's arguments are fixed when it registers, the model is chosen later."""
    seen: dict = {}
    for model in op.models or (None,):
        for field in forms.fields_for(op, model, int32=True):
            if field.name not in seen:
                seen[field.name] = field
            elif field.choices:  # styles and sizes differ by model: offer them all
                old = seen[field.name]
                extra = tuple(c for c in field.choices if c not in old.choices)
                if extra:
                    labels = old.choice_labels + tuple(
                        lab
                        for c, lab in zip(field.choices, field.choice_labels, strict=True)
                        if c in extra
                    )
                    seen[field.name] = replace(
                        old, choices=old.choices + extra, choice_labels=labels
                    )
    return list(seen.values())


def _small_optional_int(field) -> bool:
    """An optional integer with a few values (artistic level 0-5): a menu with "(default)"
    reads better than a spin box whose -1 means "not set"."""
    return (
        field.type == "int"
        and not field.required
        and field.default is None
        and field.low is not None
        and field.high is not None
        and field.high - field.low <= 10
    )


def _declare(procedure, field) -> None:
    name, label, help_ = _arg(field.name), field.label, field.help
    optional = not field.required and field.default is None
    if _small_optional_int(field):
        values = tuple(str(v) for v in range(int(field.low), int(field.high) + 1))
        field = replace(field, type="choice", choices=values, choice_labels=values)
    if field.type == "choice":
        choice = Gimp.Choice.new()
        if optional:
            choice.add(NONE, 0, "(default)", "leave it to Recraft")
        for i, (value, text) in enumerate(zip(field.choices, field.choice_labels, strict=True)):
            choice.add(value, i + 1, text, "")
        default = str(field.default) if field.default in field.choices else field.choices[0]
        default = NONE if optional else default
        procedure.add_choice_argument(name, label, help_, choice, default, RW)
    elif field.type == "bool":
        procedure.add_boolean_argument(name, label, help_, False, RW)
    elif field.type == "int":
        low = int(field.low if field.low is not None else 0)
        high = int(field.high if field.high is not None else 2**31 - 1)
        default = low - 1 if optional else int(field.default if field.default is not None else low)
        if optional:
            help_ += f" ({low - 1}: not set)"
        procedure.add_int_argument(
            name, label, help_, low - 1 if optional else low, high, default, RW
        )
    elif field.type == "float":
        low, high = float(field.low or 0), float(field.high if field.high is not None else 1e9)
        if field.high is not None and field.name == "zoom_out_percentage":
            high = 99.99  # the API's range excludes 100
        default = float(field.default if field.default is not None else low)
        procedure.add_double_argument(name, label, help_, low, high, default, RW)
    else:
        procedure.add_string_argument(name, label, help_, "", RW)


def _refusal(op, config) -> str | None:
    """What is wrong with the dialog's values, in the user's words; None when nothing is."""
    try:
        validation.validate(op, _values(op, config), cross_field=False)
    except ValidationError as e:
        return e.user_message
    return None


def _values(op, config) -> dict:
    """The parameters to send, read from the procedure's config."""
    values = {}
    for field in _fields(op):
        value = config.get_property(_arg(field.name))
        optional = not field.required and field.default is None
        if _small_optional_int(field):
            value = None if value == NONE else int(value)
        elif field.type == "choice" and value == NONE:
            value = None
        elif field.type == "bool":
            value = True if value else None
        elif field.type == "int" and optional and value < (field.low or 0):
            value = None
        elif field.type in ("text", "uuid", "color", "colors", "json"):
            value = _text_value(field, value)
        values[field.name] = value
    return forms.collect(op, values)


def _text_value(field, text):
    text = (text or "").strip()
    if not text:
        return None
    if field.type in ("color", "colors"):
        colors = []
        for part in text.split(","):
            hex_ = part.strip().lstrip("#")
            if len(hex_) != 6 or any(c not in "0123456789abcdefABCDEF" for c in hex_):
                raise ValidationError(field.name, f"{part.strip()!r} is not a colour: use #rrggbb")
            colors.append({"rgb": [int(hex_[i : i + 2], 16) for i in (0, 2, 4)]})
        return colors[0] if field.type == "color" else colors
    if field.type == "json":
        try:
            return json.loads(text)
        except ValueError:
            raise ValidationError(field.name, "is not valid JSON") from None
    return text


def _error(procedure, message: str):
    error = GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0)
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, error)


def _success(procedure, result=None):
    """SUCCESS, with the one return value the procedure declared (a text or a new image)."""
    values = procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
    if values.length() > 1:
        kind = GObject.TYPE_STRING if isinstance(result, str) else Gimp.Image.__gtype__
        values.remove(1)
        values.insert(1, GObject.Value(kind, result))
    return values


def _options() -> Options:
    return Options.saved()


def _client() -> Client:
    return editor_client("Filters › Recraft › Settings")


class RecraftPlugIn(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PREFIX + OPERATIONS[name].cli_name for name in OFFERED] + [LAYER_MENU, SETTINGS]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        if name == SETTINGS:
            procedure = Gimp.Procedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.settings, None)
            procedure.add_enum_argument(
                "run-mode", "Run mode", "The run mode", Gimp.RunMode, Gimp.RunMode.INTERACTIVE, RW
            )
            procedure.set_menu_label("Settings…")
            procedure.add_menu_path(MENU)
            procedure.set_documentation(
                "Recraft token, server and edge blending",
                "The token is kept in a file only you can read, never in GIMP's settings.",
                name,
            )
            procedure.set_attribution("recraft-editors", "recraft-editors", "2026")
            return procedure
        op = self._operation(name)
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, None)
        roles = {f.role for f in op.files}
        if "layers" in roles:
            procedure.set_sensitivity_mask(
                Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
            )
        elif "layer" in roles:
            procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        else:
            procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.ALWAYS)
        if name == LAYER_MENU:
            procedure.set_menu_label("Remove Background (Recraft)")
            procedure.add_menu_path("<Image>/Layer/Transparency")
        else:
            procedure.set_menu_label(op.title + ("…" if _fields(op) else ""))
            procedure.add_menu_path(MENU)
        procedure.set_documentation(op.about, op.help, name)
        procedure.set_attribution("recraft-editors", "recraft-editors", "2026")
        for field in _fields(op):
            _declare(procedure, field)
        if op.output in ("style", "prompt"):
            procedure.add_string_return_value("result", "Result", "style id or prompt", "", RW)
        elif op.output == "document" or "layer" not in roles:
            procedure.add_image_return_value(
                "new-image", "New image", "the image the result opened in, if any", True, RW
            )
        return procedure

    @staticmethod
    def _operation(name: str):
        if name == LAYER_MENU:
            return OPERATIONS["remove_background"]
        cli = name.removeprefix(PREFIX)
        return next(op for op in OPERATIONS.values() if op.cli_name == cli)

    # -- running -------------------------------------------------------------------------------

    def run(self, procedure, run_mode, image, drawables, config, data):
        try:
            return self._run(procedure, run_mode, image, drawables, config)
        except RecraftError as e:
            return _error(procedure, e.user_message)
        except Exception as e:  # never a traceback dialog: a sentence, and the details logged
            import traceback

            traceback.print_exc()
            return _error(
                procedure, f"Recraft: something unexpected failed ({e}). Please report it."
            )

    def _run(self, procedure, run_mode, image, drawables, config):
        op = self._operation(procedure.get_name())
        interactive = run_mode == Gimp.RunMode.INTERACTIVE
        if interactive and _fields(op) and not self._dialog(procedure, config, op):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        params = _values(op, config)
        layers = list(drawables or [])
        references = None
        canvas = None
        roles = {f.role for f in op.files}
        if "layers" in roles:
            probe = GimpCanvas(image, layers[0] if layers else None)
            references = [self._reference(probe, layer) for layer in layers[:5]]
        elif image is not None:
            canvas = GimpCanvas(image, layers[0] if layers else None, interactive)
        job = Job(_client(), op.name, canvas, params, options=_options(), references=references)
        job.prepare()
        Gimp.progress_init(f"Recraft: {op.title}")
        job.start()
        while not job.wait(0.1):
            event = job.progress
            Gimp.progress_set_text(f"Recraft: {event}")
            if event.fraction is None:
                Gimp.progress_pulse()
            else:
                Gimp.progress_update(event.fraction)
        outcome = job.apply()
        Gimp.progress_end()
        if job.error is not None:
            return _error(procedure, job.error.user_message)
        opened = getattr(canvas, "opened", None)
        if canvas is None and outcome.layers:
            opened = self._new_image(outcome, interactive)
        if outcome.notes:
            Gimp.message(" ".join(outcome.notes))
        if outcome.style is not None:
            return _success(procedure, outcome.style.id)
        if outcome.prompt is not None:
            return _success(procedure, outcome.prompt)
        return _success(procedure, opened)

    @staticmethod
    def _reference(probe: GimpCanvas, layer):
        canvas = GimpCanvas(probe.image, layer)
        x0, y0, x1, y1 = canvas.source_bounds()
        k = min(1.0, 768 / max(1, x1 - x0, y1 - y0))  # 5 MB for all references together
        size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
        return canvas.read((x0, y0, x1, y1), size)

    @staticmethod
    def _new_image(outcome, interactive: bool):
        """Generated with no image open: a new image holding the results."""
        first = outcome.layers[0]
        image = Gimp.Image.new(first.width, first.height, Gimp.ImageBaseType.RGB)
        for new in outcome.layers:
            layer = new_layer(image, new)
            image.insert_layer(layer, None, 0)
        if interactive:
            Gimp.Display.new(image)
        return image

    def _dialog(self, procedure, config, op) -> bool:
        from gi.repository import GimpUi

        GimpUi.init("recraft")
        dialog = GimpUi.ProcedureDialog.new(procedure, config, f"Recraft: {op.title}")
        names = [_arg(f.name) for f in _fields(op)]
        cost = forms.cost(op, {})
        text = op.about
        text += f"\nCost: about {cost} credits." if cost is not None else ""
        dialog.get_label("recraft-about", text, False, False)
        problem = dialog.get_label("recraft-problem", "", True, False)
        dialog.fill(["recraft-about", *names, "recraft-problem"])
        self._follow_model(dialog, op)
        # A value the API would refuse is said in the dialog, which stays open with what the
        # user typed: not after it closed, to be filled in again.
        while ok := dialog.run():
            error = _refusal(op, config)
            if error is None:
                break
            problem.set_markup(
                f'<span foreground="#d0453a">{GLib.markup_escape_text(error)}</span>'
            )
        dialog.destroy()
        return ok

    @staticmethod
    def _follow_model(dialog, op) -> None:
        """Grey out what the chosen model ignores (negative prompt on V4, V3-only controls)."""
        accepted: dict[str, list[str]] = {}
        for model in op.models:
            for field in forms.fields_for(op, model, int32=True):
                accepted.setdefault(field.name, []).append(model)
        for name, models in accepted.items():
            if name == "model" or len(models) == len(op.models):
                continue
            values = Gimp.ValueArray.new(len(models))
            for model in models:
                values.append(GObject.Value(GObject.TYPE_STRING, model))
            dialog.set_sensitive_if_in(_arg(name), None, "model", values, True)

    # -- settings ------------------------------------------------------------------------------

    def settings(self, procedure, config, data):
        """The token lives in recraft_core.settings' file, readable by the user only."""
        if config.get_property("run-mode") != Gimp.RunMode.INTERACTIVE:
            return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
        try:
            self._settings_dialog()
        except Exception as e:
            return _error(procedure, f"Recraft settings could not be saved: {e}")
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)

    def _settings_dialog(self) -> None:
        from gi.repository import GimpUi, Gtk

        GimpUi.init("recraft")
        saved, defaults = settings.load(), Options()
        dialog = GimpUi.Dialog(title="Recraft settings", role="recraft-settings")
        dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        dialog.add_button("_Save", Gtk.ResponseType.OK)
        grid = Gtk.Grid(row_spacing=6, column_spacing=12, margin=12)
        token = Gtk.Entry(visibility=False, text=saved.token or "")
        token.set_placeholder_text("paste your Recraft API token")
        url = Gtk.Entry(text=saved.base_url or "", width_chars=40, hexpand=True)
        url.set_placeholder_text("https://external.api.recraft.ai/v1")
        grow = Gtk.SpinButton.new_with_range(0, 256, 1)
        grow.set_value(defaults.grow if saved.grow is None else saved.grow)
        feather = Gtk.SpinButton.new_with_range(0, 256, 1)
        feather.set_value(defaults.feather if saved.feather is None else saved.feather)
        rows = (("API token", token), ("Server", url), ("Grow selection (px)", grow),
                ("Soft edge (px)", feather))  # fmt: skip
        for row, (label, widget) in enumerate(rows):
            grid.attach(Gtk.Label(label=label, xalign=0), 0, row, 1, 1)
            grid.attach(widget, 1, row, 1, 1)
        dialog.get_content_area().add(grid)
        dialog.show_all()
        if dialog.run() == Gtk.ResponseType.OK:
            settings.save(
                settings.Settings(
                    token.get_text().strip() or None,
                    url.get_text().strip() or None,
                    int(grow.get_value()),
                    int(feather.get_value()),
                )
            )
        dialog.destroy()


Gimp.main(RecraftPlugIn.__gtype__, sys.argv)
