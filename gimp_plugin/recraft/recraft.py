#!/usr/bin/env python3
"""Recraft for GIMP 3: every Recraft operation as a procedure under Filters › Recraft.

Arguments and dialogs come from recraft_core's operations table; the work is the core's Job
(planning, masks, blending, naming); this file only declares procedures and translates
arguments. The installed copy carries recraft_core and requests in `vendor/` beside it.
"""

import functools
import os
import re
import sys
import threading
from dataclasses import replace

_HERE = os.path.dirname(os.path.abspath(__file__))
_VENDOR = os.path.join(_HERE, "vendor")
if os.path.isdir(_VENDOR) and _VENDOR not in sys.path:
    sys.path.insert(0, _VENDOR)

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
import each_layer  # noqa: E402
import from_history  # noqa: E402
import native  # noqa: E402
import result_ids  # noqa: E402
import variations  # noqa: E402
from gi.repository import Gimp, GLib, GObject  # noqa: E402
from gimp_canvas import GimpCanvas, WholeLayer, open_document  # noqa: E402

from recraft_core import Client, RecraftError, Refused, ValidationError, settings  # noqa: E402
from recraft_core.api import catalog, forms, validation  # noqa: E402
from recraft_core.api.operations import RESULT_ID, offered  # noqa: E402
from recraft_core.imaging import alpha  # noqa: E402
from recraft_core.library import LibraryError, open_library  # noqa: E402
from recraft_core.workflow import (  # noqa: E402
    Job,
    Options,
    editor_client,
    missing_selection,
    read_reference,
    similar,
    styles,
)
from recraft_core.workflow.upload import MissesTheLayer, OffCanvas  # noqa: E402

SOURCE_ID = RESULT_ID  # Explore similar's "Source image id"
STYLE_ID = "style_id"  # the field a created style's id goes into (forms.where_used)
PREFIX = "plug-in-recraft-"
MENU = "<Image>/Filters/Recraft"
SETTINGS = PREFIX + "settings"
HISTORY = PREFIX + "history"
AS_MASK = "-as-mask"  # the procedures of a cut-out as a layer mask (remove background)
# Flipping through a group of variations, and keeping one: procedure -> (menu label, step
# (0: keep), what it does).
VARIATIONS = {
    PREFIX + "next-variation": (
        "Next variation", 1, "Show the next variation of the selected group of Recraft results"
    ),
    PREFIX + "previous-variation": (
        "Previous variation", -1,
        "Show the previous variation of the selected group of Recraft results",
    ),
    PREFIX + "keep-variation": (
        "Keep this variation", 0,
        "Replace the selected group of Recraft results by the variation that shows",
    ),
}  # fmt: skip
SETTINGS_MENU = "Filters › Recraft › Settings…"
# GIMP sorts a plug-in's menu entries by their path and label, alphabetically, and a plug-in
# can make neither separators nor sections of its own. A "[section]" GIMP does not know still
# puts the entry in the menu, and counts in that sort: numbered sections order Filters ›
# Recraft as an artist scans it (menu_order). Every entry has one, as "[" and letters sort
# differently in different locales.
SECTION = "[{:02d}]"
NONE = "none"  # the choice that sends nothing: the API's default
RW = GObject.ParamFlags.READWRITE
# The model ids as Recraft's errors and the core's rules name them, longest first, so that
# a message can name each by the label the dialog shows.
_MODEL_IDS = re.compile(
    r"\b(?:" + "|".join(sorted(map(re.escape, catalog.MODELS), key=len, reverse=True)) + r")\b"
)


def _arg(name: str) -> str:
    """GIMP's argument names: lowercase words joined by hyphens."""
    return name.replace(".", "-").replace("_", "-")


@functools.cache
def procedures() -> dict:
    """Every operation's procedures, in the order of the menu: name -> (operation, menu
    path, menu label). Settings is the one procedure besides these."""
    out = {}
    for op in offered():
        dots = "…" if _fields(op) else ""
        out[PREFIX + op.cli_name] = (op, MENU, op.title + dots)
        if op.cuts_out and native.available():
            out[PREFIX + op.cli_name + AS_MASK] = (op, MENU, f"{op.title} as mask{dots}")
        if op.offer.gimp_menu:  # also in a menu of GIMP's own (Layer › Transparency)
            suffix, path, label = op.offer.gimp_menu
            out[f"{PREFIX}{op.cli_name}-{suffix}"] = (op, path, label)
            if op.cuts_out and native.available():
                out[f"{PREFIX}{op.cli_name}-{suffix}{AS_MASK}"] = (op, path, _as_mask(label))
    return out


def menu_order() -> list[str]:
    """Filters › Recraft's procedures from top to bottom: the operations in the table's offer
    rank (what a one-click run or a selection does first, the house-keeping last), then
    flipping through variations and keeping one, then History and Settings."""
    operations = [name for name, (_op, menu, _label) in procedures().items() if menu == MENU]
    return [*operations, *VARIATIONS, HISTORY, SETTINGS]


def menu_path(name: str) -> str:
    """Where the procedure goes: its place in Filters › Recraft (menu_order), or the menu of
    GIMP's own that the operations table names."""
    if name in procedures() and procedures()[name][1] != MENU:
        return procedures()[name][1]
    return f"{MENU}/{SECTION.format(menu_order().index(name) + 1)}"


def _as_mask(label: str) -> str:
    """ "Remove Background (Recraft)" -> "Remove Background as Mask (Recraft)"."""
    words, brand = label.rsplit(" (", 1) if label.endswith(")") else (label, "")
    return f"{words} as Mask" + (f" ({brand}" if brand else "")


def _operation(name: str):
    return procedures()[name][0]


def _models(op) -> tuple[str, ...]:
    """The models an operation can use here: one that changes only a selection cannot use a
    vector model (it redraws the whole image as shapes; the job refuses it)."""
    if not op.needs_selection:
        return op.models
    return tuple(m for m in op.models if not catalog.MODELS[m].vector)


@functools.cache
def _fields(op) -> tuple:
    """The procedure's arguments: every field the operation takes with any model it can use
    here (a GIMP procedure's arguments are fixed when it registers, the model is chosen
    later)."""
    usable = _models(op)
    out = []
    for field in forms.all_fields(op, int32=True):
        if field.name == "model" and usable != op.models:
            labels = dict(zip(field.choices, field.choice_labels, strict=True))
            field = replace(field, choices=usable, choice_labels=tuple(map(labels.get, usable)))
        out.append(field)
    return tuple(out)


def _small_optional_int(field) -> bool:
    """An optional integer with a few values (artistic level 0-5): a menu with "(default)"
    reads better than a spin box whose -1 means "not set"."""
    return (
        field.type == "int"
        and field.optional
        and field.low is not None
        and field.high is not None
        and field.high - field.low <= 10
    )


def _declare(procedure, field) -> None:
    name, label, help_ = _arg(field.name), field.label, field.help
    if _small_optional_int(field):
        values = tuple(str(v) for v in range(int(field.low), int(field.high) + 1))
        field = replace(field, type="choice", choices=values, choice_labels=values)
    if field.type == "choice":
        choice = Gimp.Choice.new()
        if field.optional:
            choice.add(NONE, 0, "(default)", "leave it to Recraft")
        for i, (value, text) in enumerate(zip(field.choices, field.choice_labels, strict=True)):
            choice.add(value, i + 1, text, "")
        default = str(field.default) if field.default in field.choices else field.choices[0]
        default = NONE if field.optional else default
        procedure.add_choice_argument(name, label, help_, choice, default, RW)
    elif field.type == "bool":
        procedure.add_boolean_argument(name, label, help_, False, RW)
    elif field.type == "int":
        low = int(field.low if field.low is not None else 0)
        high = int(field.high if field.high is not None else 2**31 - 1)
        unset = low - 1  # an optional number's "not set"
        default = unset if field.optional else int(low if field.default is None else field.default)
        if field.optional:
            help_ += f" ({unset}: not set)"
        low = unset if field.optional else low
        procedure.add_int_argument(name, label, help_, low, high, default, RW)
    elif field.type == "float":
        low = float(field.low or 0)
        high = float(field.highest if field.highest is not None else 1e9)
        default = float(field.default if field.default is not None else low)
        procedure.add_double_argument(name, label, help_, low, high, default, RW)
    else:
        procedure.add_string_argument(name, label, help_, "", RW)


def _read(field, config):
    """One field's value from the procedure's config, as the API takes it (None: not set)."""
    value = config.get_property(_arg(field.name))
    if _small_optional_int(field):
        return None if value == NONE else int(value)
    if field.type == "choice":
        return None if value == NONE else value
    if field.type == "bool":
        return True if value else None
    if field.type == "int":
        return None if field.optional and value < (field.low or 0) else value
    if field.type == "float":
        return value
    return forms.parse(field, value)


def _values(op, config) -> dict:
    """The parameters to send, read from the procedure's config."""
    return forms.collect(op, {field.name: _read(field, config) for field in _fields(op)})


def _refusal(op, config) -> str | None:
    """What is wrong with the dialog's values, in the dialog's words; None when nothing is.
    The chosen model's rules apply (a size it does not make, a style of the other kind)."""
    try:
        validation.validate(op, _values(op, config), cross_field=False)
    except ValidationError as e:
        return _in_dialog_words(op, e)
    return None


def _in_dialog_words(op, error: ValidationError) -> str:
    """The error naming fields and models by the labels the dialog shows ("Saved style",
    "Recraft V4.1"), not by the API's names (style_id, recraftv4_1)."""
    labels = {f.name: f.label for f in _fields(op)}
    rule = _MODEL_IDS.sub(lambda m: catalog.MODELS[m.group(0)].label, error.rule)
    return ValidationError(labels.get(error.field, error.field), rule).user_message


def _cost_text(op, config, layers: int = 1) -> str:
    """ "Cost: about N credits." for the dialog's model and number of images (and of layers
    it runs on, each a call), or ""."""
    priced = ("model", "n")  # what a price depends on: a menu and a number, always readable
    values = {f.name: _read(f, config) for f in _fields(op) if f.name in priced}
    cost = forms.cost(op, values)
    if cost is None:
        return ""
    if layers > 1:
        return f"Cost: about {cost * layers} credits ({cost} for each of {layers} layers)."
    return f"Cost: about {cost} credits."


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


def _layer_of(drawable):
    """The layer a drawable belongs to: a layer mask (GIMP selects it after Add Layer Mask)
    stands for its layer; its own pixels are never what the user means to send."""
    if drawable is not None and drawable.is_layer_mask():
        return Gimp.Layer.from_mask(drawable)
    return drawable


def _similar_source(config, layer, run_mode) -> tuple[str | None, str | None]:
    """Where Explore similar starts: the Recraft id the active layer carries (result_ids),
    put into the config; returns (that layer's name, None). An id a script passes wins over
    the layer's: (None, None). With neither, from a menu: (None, what to do), which the dialog
    says before anything is sent; from a script, Refused."""
    name = _arg(RESULT_ID)
    passed = (config.get_property(name) or "").strip()
    if run_mode == Gimp.RunMode.NONINTERACTIVE and passed:
        return None, None
    carried = result_ids.image_id_of(layer)
    if carried:
        config.set_property(name, carried)
        return layer.get_name(), None
    if run_mode != Gimp.RunMode.INTERACTIVE:
        raise Refused(result_ids.not_a_result(layer))
    config.set_property(name, "")  # not the id of a layer of some earlier run, unseen
    return None, result_ids.not_a_result(layer)


def _guarded(procedure, work, *args):
    """`work(*args)`, its failures as GIMP's error message: never a traceback dialog."""
    try:
        return work(*args)
    except RecraftError as e:
        return _error(procedure, e.user_message)
    except Exception as e:  # a bug: a sentence, and the details logged
        import traceback

        traceback.print_exc()
        # Its type only: what it quotes could be anything (the details are in the log).
        said = f"Recraft: something unexpected failed ({type(e).__name__}). Please report it."
        return _error(procedure, said)


def _history(procedure, run_mode, image, drawables, config):
    """From a menu (or Repeat): the History dialog. From a script: the entry `entry-id`
    inserted above the active layer, or opened as a new image (`as-new-image`, or no image
    open)."""
    layer = _layer_of(drawables[0]) if drawables else None
    if run_mode != Gimp.RunMode.NONINTERACTIVE:
        from history_dialog import history_dialog

        shown = history_dialog(image, layer)
        return _success(procedure, shown.opened[-1] if shown.opened else None)
    new_image = config.get_property("as-new-image")
    opened = from_history.by_id(config.get_property("entry-id"), image, layer, new_image)
    return _success(procedure, opened)


def _variation(procedure, image, drawables):
    by = VARIATIONS[procedure.get_name()][1]
    if by == 0:
        variations.keep(image, drawables)
        return _success(procedure)
    return _success(procedure, variations.step(image, drawables, by))


def _style_note(op, style_id: str, saved: styles.SavedStyle | None) -> str:
    """What a created style is, and where to use it: chosen by its name in Saved style's
    list when the library keeps it, else its id to paste there."""
    used = forms.where_used(op, STYLE_ID)
    note = f"Recraft made the style {style_id}."
    if used is not None:
        target, model = used
        where = f"Saved style in Filters › Recraft › {target.title}…"
        with_model = f"with {catalog.MODELS[model].label} or another model that takes it"
        if saved is not None:
            note += (
                f" Choose it in {where} (the arrow at the field's end; {with_model}), "
                f"listed as: {saved.label}"
            )
        else:
            note += f" Paste it into {where} ({with_model})."
    return note


def _document_name(image) -> str | None:
    """The image's name for the library's records; None for one never saved, which GIMP
    calls "[Untitled]": no name to recognise anything by."""
    saved = image is not None and image.get_file() is not None
    return image.get_name() if saved else None


def _saved_style(style):
    """What the created style is offered as in the dialogs taking a style id (the job kept it
    in the Settings' library, with its layers' names), or None: the library is off or
    failed (logged)."""
    try:
        library = open_library()
        return None if library is None else styles.find(styles.offered(library), style.id)
    except (LibraryError, OSError, ValueError) as e:
        print(f"recraft: the saved styles could not be read: {e}", file=sys.stderr)
        return None


class RecraftPlugIn(Gimp.PlugIn):
    def do_query_procedures(self):
        return [*procedures(), *VARIATIONS, HISTORY, SETTINGS]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        if name == SETTINGS:
            procedure = Gimp.Procedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.settings, None)
            procedure.add_enum_argument(
                "run-mode", "Run mode", "The run mode", Gimp.RunMode, Gimp.RunMode.INTERACTIVE, RW
            )
            procedure.set_menu_label("Settings…")
            procedure.add_menu_path(menu_path(name))
            procedure.set_documentation(
                "Recraft token (and a check of it), server, edge blending, results library",
                settings.NOTE,
                name,
            )
            procedure.set_attribution("recraft-editors", "recraft-editors", "2026")
            return procedure
        if name == HISTORY:
            return self._history_procedure(name)
        if name in VARIATIONS:
            return self._variation_procedure(name)
        op, _menu, label = procedures()[name]
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, None)
        if "layers" in op.roles or op.on_each_layer:  # one layer, or several
            procedure.set_sensitivity_mask(
                Gimp.ProcedureSensitivityMask.DRAWABLE | Gimp.ProcedureSensitivityMask.DRAWABLES
            )
        elif op.reads_layer:
            procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        else:
            procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.ALWAYS)
        procedure.set_menu_label(label)
        procedure.add_menu_path(menu_path(name))
        about = op.about
        if name.endswith(AS_MASK):
            about += (
                ": a copy of the layer, its pixels untouched, with the cut-out as its layer "
                "mask (paint the mask to mend edges and hair)"
            )
        procedure.set_documentation(about, op.help, name)
        procedure.set_attribution("recraft-editors", "recraft-editors", "2026")
        for field in _fields(op):
            _declare(procedure, field)
        if op.output in ("style", "prompt"):
            procedure.add_string_return_value("result", "Result", "style id or prompt", "", RW)
        elif op.output == "document" or not op.reads_layer:
            procedure.add_image_return_value(
                "new-image", "New image", "the image the result opened in, if any", True, RW
            )
        return procedure

    def _variation_procedure(self, name):
        label, by, about = VARIATIONS[name]
        procedure = Gimp.ImageProcedure.new(
            self, name, Gimp.PDBProcType.PLUGIN, self.variation, None
        )
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(label)
        procedure.add_menu_path(menu_path(name))
        procedure.set_documentation(
            about,
            "A group of variations is the group several Recraft results come in, its layers "
            "named “… #1 of 3” and one showing at a time. Select the group or one of its "
            "layers. "
            + (
                "The one showing takes the group's place and name, as it is (mask, offsets, "
                "opacity, mode), in one undo step."
                if by == 0
                else "Only which one shows changes, one undo step a flip."
            ),
            name,
        )
        procedure.set_attribution("recraft-editors", "recraft-editors", "2026")
        if by:
            procedure.add_string_return_value(
                "shown", "Shown", "which variation shows now: “Variation 2 of 4”", "", RW
            )
        return procedure

    def _history_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.history, None)
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.ALWAYS)
        procedure.set_menu_label("History…")
        procedure.add_menu_path(menu_path(name))
        procedure.set_documentation(
            "Every result Recraft made, to insert again",
            "The results library (shared with Krita and the recraft command), newest first, "
            "with a search box: insert a result as a new layer, or open it as a new image. "
            "From a script: the entry's id (recraft history lists them).",
            name,
        )
        procedure.set_attribution("recraft-editors", "recraft-editors", "2026")
        procedure.add_string_argument(
            "entry-id", "Entry id", "the library entry (recraft history lists them)", "", RW
        )
        procedure.add_boolean_argument(
            "as-new-image", "As a new image", "open it as a new image, not as layers", False, RW
        )
        procedure.add_image_return_value(
            "new-image", "New image", "the image the result opened in, if any", True, RW
        )
        return procedure

    # -- running -------------------------------------------------------------------------------

    def run(self, procedure, run_mode, image, drawables, config, data):
        return _guarded(procedure, self._run, procedure, run_mode, image, drawables, config)

    def history(self, procedure, run_mode, image, drawables, config, data):
        return _guarded(procedure, _history, procedure, run_mode, image, drawables, config)

    def variation(self, procedure, run_mode, image, drawables, config, data):
        return _guarded(procedure, _variation, procedure, image, drawables)

    def _run(self, procedure, run_mode, image, drawables, config):
        op = _operation(procedure.get_name())
        interactive = run_mode == Gimp.RunMode.INTERACTIVE
        layers = [_layer_of(d) for d in drawables or []]
        if op.reads_layer and not layers:
            raise ValidationError("layer", "select a layer first")
        each = each_layer.distinct(layers) if op.on_each_layer else []
        if image is not None and len(each) > 1:
            return self._run_each(procedure, run_mode, image, each, config, op)
        references = canvas = None
        keep_ids = similar.feeds(op)  # their layers carry Recraft's image ids
        if "layers" in op.roles:  # style references: each layer whole, as it is
            read = (read_reference(WholeLayer(image, layer)) for layer in layers)
            references = [r for r in read if r is not None]  # Job refuses over five
        elif image is not None:
            canvas = GimpCanvas(image, layers[0] if layers else None, interactive, keep_ids)
            # Said before any dialog, as the selection is what the user has to fix.
            if op.needs_selection and canvas.selection_bounds() is None:
                raise missing_selection(op.name)
        start = (None, None)
        if op.field(RESULT_ID):
            start = _similar_source(config, layers[0] if layers else None, run_mode)
        if interactive and _fields(op) and not self._dialog(procedure, config, op, *start):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        params = _sized(op, _values(op, config), canvas)
        job = Job(
            _client(),
            op.name,
            canvas,
            params,
            options=_options(op, procedure.get_name(), layers[0] if layers else None),
            references=references,
            front_end="gimp",  # its results are kept in the library the Settings name
            document=_document_name(image),
            reference_names=[layer.get_name() for layer in layers] if references else None,
        )
        try:
            job.prepare()
        except ValidationError as e:
            raise _in_gimp_words(e, layers[0] if layers else None) from None
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
        opened = canvas.opened if canvas is not None else None
        if canvas is None and (document := outcome.as_document()) is not None:
            opened = open_document(document, interactive, keep_ids)  # no image to take them
        # From a menu the user reads what came back; a script gets it as the return value.
        shown = run_mode != Gimp.RunMode.NONINTERACTIVE
        notes = list(outcome.notes)
        if outcome.style is not None:
            saved = _saved_style(outcome.style)
            if shown:
                notes.append(_style_note(op, outcome.style.id, saved))
        if shown and outcome.prompt is not None:
            notes.append(f"The improved prompt:\n{outcome.prompt}")
        if notes:
            Gimp.message("\n".join(notes))
        if outcome.style is not None:
            return _success(procedure, outcome.style.id)
        if outcome.prompt is not None:
            return _success(procedure, outcome.prompt)
        return _success(procedure, opened)

    def _run_each(self, procedure, run_mode, image, layers, config, op):
        """The operation on each of several layers (each_layer): its dialog once, with the
        cost of all of them; then a job a layer, and one summary."""
        interactive = run_mode == Gimp.RunMode.INTERACTIVE
        asked = interactive and _fields(op)
        if asked and not self._dialog(procedure, config, op, layers=len(layers)):
            return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
        values, client = _values(op, config), _client()
        keep_ids = similar.feeds(op)

        def make_job(layer) -> Job:
            canvas = GimpCanvas(image, layer, interactive, keep_ids)
            options = _options(op, procedure.get_name(), layer)
            params = _sized(op, dict(values), canvas)
            job = Job(
                client, op.name, canvas, params, options=options, front_end="gimp",
                document=_document_name(image),
            )  # fmt: skip
            try:
                job.prepare()
            except ValidationError as e:
                raise _in_gimp_words(e, layer) from None
            return job

        batch, opened, notes = each_layer.run_each(op.title, layers, make_job)
        summary = f"Recraft {op.title.lower()}: {batch.summary()}."
        if not batch.ok:  # from a menu, GIMP shows it; a script gets it as the error
            return _error(procedure, "\n".join([summary, *notes]))
        if run_mode != Gimp.RunMode.NONINTERACTIVE:
            Gimp.message("\n".join([summary, *notes]))
        return _success(procedure, opened[-1] if opened else None)

    def _dialog(self, procedure, config, op, source=None, advice=None, layers=1) -> bool:
        from gi.repository import GimpUi

        GimpUi.init("recraft")
        dialog = OperationDialog(procedure, config, op, source, advice, layers)
        try:
            return dialog.run()
        finally:
            dialog.destroy()

    # -- settings ------------------------------------------------------------------------------

    def settings(self, procedure, config, data):
        """The token lives in recraft_core.settings' file, readable by the user only."""
        if config.get_property("run-mode") != Gimp.RunMode.INTERACTIVE:
            return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)
        try:
            from settings_dialog import settings_dialog

            settings_dialog()
        except Exception as e:
            return _error(procedure, f"Recraft settings could not be saved: {e}")
        return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)


class OperationDialog:
    """An operation's dialog: its about text with the cost, its fields (GIMP's widgets for the
    procedure's arguments), what the chosen model ignores greyed out, and a line for what
    Recraft would refuse. GimpUi.init must have run.

    Explore similar's: `source` names the layer whose image id it starts from (the id's field
    is then not shown), or `advice` says what to select (the field is shown, for a pasted id,
    and OK without one says the advice again)."""

    def __init__(self, procedure, config, op, source=None, advice=None, layers=1) -> None:
        from gi.repository import GimpUi

        self.op = op
        self.config = config
        self.layers = layers  # it runs on each of them: the cost is theirs together
        self.source = source
        self.advice = advice
        self.dialog = GimpUi.ProcedureDialog.new(procedure, config, f"Recraft: {op.title}")
        self.about = self.dialog.get_label("recraft-about", self._about(), False, False)
        self.about.set_xalign(0)
        self.problem = self.dialog.get_label("recraft-problem", "", True, False)
        self.problem.set_line_wrap(True)  # a long refusal wraps, not widens the dialog
        self.problem.set_max_width_chars(60)
        self.problem.set_xalign(0)
        rows = [self._row(f) for f in _fields(op) if not (source and f.name == SOURCE_ID)]
        self.saved_styles = None
        if _arg(STYLE_ID) in rows:  # the styles the artist made, offered by name
            self.saved_styles = SavedStyleMenu(self.dialog, config)
            rows.insert(rows.index(_arg(STYLE_ID)) + 1, SavedStyleMenu.LINE)
        self.dialog.fill(["recraft-about", *rows, "recraft-problem"])
        self._show_formats(rows)
        if advice:
            self.refuse(advice)
        self._follow_model()
        # The cost follows Images and Model. The label changes from an idle callback, after
        # GIMP's widgets have finished setting the config, never in the middle of it.
        self._pending = 0
        self._watch = config.connect("notify", self._changed)

    def _show_formats(self, rows: list[str]) -> None:
        """A text box whose value has a format (colours as #rrggbb) shows an example of it
        while empty, as the operations table gives it."""
        for field in _fields(self.op):
            name = _arg(field.name)
            if not field.placeholder or name not in rows or field.name == STYLE_ID:
                continue  # Saved style's entry says what its arrow offers instead
            widget = self.dialog.get_widget(name, GObject.TYPE_NONE)
            if hasattr(widget, "get_entry"):
                widget.get_entry().set_placeholder_text(field.placeholder)

    def _row(self, field) -> str:
        """The widget's id for a field: GIMP's own, but for a menu of one choice, which
        GIMP 3.2 draws as a lone radio button: a line of text saying it instead."""
        if field.type != "choice" or field.optional or len(field.choices) != 1:
            return _arg(field.name)
        only = f"recraft-only-{_arg(field.name)}"
        text = f"{field.label}: {field.choice_labels[0]}"
        label = self.dialog.get_label(only, text, False, False)
        label.set_xalign(0)  # where the other rows' labels start
        return only

    def _about(self) -> str:
        lines = [self.op.about]
        if self.source:
            lines.append(f"It starts from the layer “{self.source}”.")
        if self.layers > 1:
            lines.append(f"It runs on each of the {self.layers} selected layers.")
        cost = _cost_text(self.op, self.config, self.layers)
        return "\n".join([*lines, cost] if cost else lines)

    def _changed(self, config, pspec) -> None:
        if not self._pending:
            self._pending = GLib.idle_add(self._update)

    def _update(self) -> bool:
        self._pending = 0
        self.about.set_text(self._about())
        return GLib.SOURCE_REMOVE

    def _follow_model(self) -> None:
        """Grey out what the chosen model ignores (negative prompt on V4, V3-only controls)."""
        models = _models(self.op)
        accepted: dict[str, list[str]] = {}
        for model in models:
            for field in forms.fields_for(self.op, model, int32=True):
                accepted.setdefault(field.name, []).append(model)
        for name, taking in accepted.items():
            if name == "model" or len(taking) == len(models):
                continue
            values = Gimp.ValueArray.new(len(taking))
            for model in taking:
                values.append(GObject.Value(GObject.TYPE_STRING, model))
            self.dialog.set_sensitive_if_in(_arg(name), None, "model", values, True)

    def refuse(self, text: str) -> None:
        text = GLib.markup_escape_text(text)
        self.problem.set_markup(f'<span foreground="#d0453a">{text}</span>')

    def run(self) -> bool:
        """True once OK was pressed on values Recraft would take. A value it would refuse is
        said in the dialog, which stays open with what the user typed: not after it closed,
        to be filled in again."""
        while self.dialog.run():
            error = _refusal(self.op, self.config)
            if self.advice and not self.config.get_property(_arg(SOURCE_ID)).strip():
                error = self.advice  # what to select, rather than "is required"
            if error is None:
                return True
            self.refuse(error)
        return False

    def destroy(self) -> None:
        if self.saved_styles is not None:
            self.saved_styles.close()
        self.config.disconnect(self._watch)
        if self._pending:
            GLib.source_remove(self._pending)
            self._pending = 0
        self.dialog.destroy()


class SavedStyleMenu:
    """Saved style's row offering the styles the artist made (styles.offered: kept in the
    results library by GIMP, Krita and the recraft command): the arrow at the end of its
    entry lists them by name; choosing one puts its id in the entry, which stays what is sent
    (an id typed or pasted works as before). A line under it says which style the id is.
    The library is read on a thread: the dialog never waits for the disk."""

    LINE = "recraft-saved-style"
    ICON = "pan-down-symbolic"

    def __init__(self, dialog, config) -> None:
        from gi.repository import Gtk

        self.config = config
        self.name = _arg(STYLE_ID)
        self.offered: list[styles.SavedStyle] | None = None  # None: not read (yet)
        self.library_off = False
        self.menu = None
        self._closed = False
        self.entry = dialog.get_widget(self.name, GObject.TYPE_NONE).get_entry()
        self.entry.set_placeholder_text("your saved styles (the arrow), or a style id")
        self.entry.set_icon_from_icon_name(Gtk.EntryIconPosition.SECONDARY, self.ICON)
        self.entry.set_icon_tooltip_text(Gtk.EntryIconPosition.SECONDARY, "Your saved styles")
        self.entry.connect("icon-press", self._pressed)
        self.line = dialog.get_label(self.LINE, "", False, False)
        self.line.set_xalign(0)
        # Shown only when it says something: empty, it left a blank row under the entry.
        self.line.set_no_show_all(True)
        self.line.hide()
        self.line.set_line_wrap(True)
        self.line.set_max_width_chars(60)
        self._watch = config.connect(f"notify::{self.name}", self._changed)
        threading.Thread(target=self._read, name="recraft-styles", daemon=True).start()

    def _read(self) -> None:
        try:
            library = open_library()
            found = styles.offered(library)
        except Exception as e:  # an unreadable library offers nothing; typing an id works
            print(f"recraft: the saved styles could not be read: {e}", file=sys.stderr)
            library, found = None, []
        self._later(self._offer, found, library is None)

    def _later(self, fn, *args) -> None:
        """`fn(*args)` on the dialog's thread, from any thread, unless it closed by then."""

        def run() -> bool:
            if not self._closed:
                fn(*args)
            return GLib.SOURCE_REMOVE

        GLib.idle_add(run)

    def _offer(self, found: list, library_off: bool) -> None:
        self.offered, self.library_off = found, library_off
        self._show()

    def _changed(self, config, pspec) -> None:
        # The line changes after GIMP's widget has finished setting the config.
        self._later(self._show)

    def _show(self) -> None:
        value = (self.config.get_property(self.name) or "").strip()
        chosen = styles.find(self.offered or [], value)
        if chosen is not None:
            text = chosen.label
        elif value:
            text = "An id typed in: not one of your saved styles." if self.offered else ""
        elif self.offered:
            count = len(self.offered)
            text = f"{count} saved style{'s' if count > 1 else ''}: the arrow lists them."
        else:
            text = ""
        self.line.set_text(text)
        self.line.set_visible(bool(text))

    def choices(self) -> list[tuple[str, str, bool]]:
        """The menu's rows: (text, the id it puts in, whether it can be chosen)."""
        if self.offered is None:
            return [("Reading your saved styles…", "", False)]
        rows = [(s.label, s.id, True) for s in self.offered]
        if rows:
            return [("No saved style", "", True), *rows]
        if self.library_off:
            return [("The results library is off (Settings): paste a style id", "", False)]
        return [("No saved styles yet: Filters › Recraft › Create style from layers…", "", False)]

    def choose(self, style_id: str) -> None:
        self.config.set_property(self.name, style_id)

    def _pressed(self, entry, position, event) -> None:
        self.popup()

    def popup(self) -> None:
        from gi.repository import Gdk, Gtk

        menu = Gtk.Menu()
        for text, style_id, usable in self.choices():
            item = Gtk.MenuItem.new_with_label(text)
            item.set_sensitive(usable)
            item.connect("activate", lambda _item, chosen=style_id: self.choose(chosen))
            menu.append(item)
        menu.show_all()
        menu.attach_to_widget(self.entry, None)
        south, north = Gdk.Gravity.SOUTH_EAST, Gdk.Gravity.NORTH_EAST
        menu.popup_at_widget(self.entry, south, north, None)
        self.menu = menu

    def close(self) -> None:
        self._closed = True
        self.config.disconnect(self._watch)
        if self.menu is not None:
            self.menu.destroy()
            self.menu = None


def _sized(op, params: dict, canvas) -> dict:
    """The parameters, with the size of the model's that fits the picture's shape best when
    the operation takes a size and none was chosen."""
    if canvas is not None and op.field("size") and not op.extends and not params.get("size"):
        x0, y0, x1, y1 = canvas.source_bounds() if op.reads_layer else (0, 0, *canvas.size())
        size = forms.nearest_size(op, params.get("model"), x1 - x0, y1 - y0)
        if size:
            params["size"] = size
    return params


def _options(op, name: str, layer) -> Options:
    """The saved amounts; edges as layer masks unless the Settings bake them; a cut-out keeps
    the layer's own pixels (as a mask for the as-mask procedures) in every precision GIMP
    has; a sample type imaging.alpha does not know (none today) takes Recraft's 8-bit
    pixels."""
    options = Options.saved(masks=True)  # soft edges as layer masks, unless baked
    if not (op.cuts_out and layer is not None and native.available()):
        return options
    if name.endswith(AS_MASK):
        return replace(options, cutout="mask")
    try:
        own = native.format_of(layer)
    except ValueError:
        return options
    return replace(options, cutout="layer" if own.sample in alpha.SAMPLES else "")


def _in_gimp_words(error: ValidationError, layer) -> RecraftError:
    """The core's refusals about the layer, naming it and what to do in GIMP."""
    name = layer.get_name() if layer is not None else "the layer"
    if isinstance(error, MissesTheLayer):
        return error.naming(
            name, "select where it has pixels, or pick the layer to repaint in the Layers dialog"
        )
    if isinstance(error, OffCanvas):
        return error.naming(name, "move it onto the canvas, or pick another layer")
    return error


def _client() -> Client:
    return editor_client(SETTINGS_MENU)


if __name__ == "__main__":  # as GIMP runs it; the tests import it to drive its dialogs
    Gimp.main(RecraftPlugIn.__gtype__, sys.argv)
