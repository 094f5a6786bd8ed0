"""Tools › Recraft: one-click operations (those the operations table gives a Tools action, in
its order; those that read a layer run on every selected layer, one queued job each),
flipping through variations and keeping one, and Settings."""

from __future__ import annotations

from krita import Extension, Krita

from recraft_core.api import forms
from recraft_core.api.operations import Operation, offered
from recraft_core.workflow import missing_selection

from . import docker, each_layer, jobs, layered, variations
from .canvas import float_message
from .qt import QtWidgets
from .settings_dialog import SettingsDialog

MENU = "recraft_menu"
# (action id, menu text, method of RecraftExtension) of the entries that are not operations.
# The ids are where Krita keeps the shortcuts users give them: never change one.
VARIATIONS = (
    (variations.NEXT, "Next variation", "next_variation"),
    (variations.PREVIOUS, "Previous variation", "previous_variation"),
    (variations.KEEP, "Keep this variation", "keep_variation"),
)
SETTINGS = ("recraft_settings", "Settings…", "settings")
# The operation that cuts out (remove background), offered once more with its cut-out as a
# transparency mask on a copy of the layer, to repair hair and edges by painting.
CUTS_OUT = next((op for op in offered() if op.cuts_out and op.offer.action), None)
AS_MASK = (
    (f"{CUTS_OUT.action_id}_mask", f"{CUTS_OUT.offer.action} as Mask", "cut_out_as_mask")
    if CUTS_OUT is not None
    else None
)


def actions() -> list[tuple[str, str, Operation | str]]:
    """(action id, menu text, what it does) of each Tools › Recraft entry, in menu order: an
    operation of the table, or the name of the RecraftExtension method that does it."""
    ops = [(op.action_id, op.offer.action, op) for op in offered() if op.offer.action]
    masked = [AS_MASK] if CUTS_OUT is not None else []
    return [*ops, *masked, *VARIATIONS, SETTINGS]


class RecraftExtension(Extension):
    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:  # Krita's name
        menu_action = window.createAction(MENU, "Recraft", "tools")
        menu = QtWidgets.QMenu("Recraft", window.qwindow())
        menu_action.setMenu(menu)
        for action_id, text, does in actions():
            action = window.createAction(action_id, text, f"tools/{MENU}")
            if isinstance(does, str):
                action.triggered.connect(lambda _=False, does=does: getattr(self, does)())
            else:
                action.triggered.connect(lambda _=False, op=does: self.run(op))

    # -- the actions ---------------------------------------------------------------------------

    def cut_out_as_mask(self) -> None:
        if not layered.can_mask():
            _say(layered.NO_MASKS.format(Krita.instance().version()))
            return
        self.run(CUTS_OUT, cutout="mask")

    def run(self, op: Operation, cutout: str | None = None) -> None:
        """An operation on the active layer, after asking what the table says it needs."""
        params = {}
        if op.offer.asks == "prompt":
            prompt = self._ask_prompt(op)
            if not prompt:
                return
            params["prompt"] = prompt
        elif op.offer.asks == "size":
            document = Krita.instance().activeDocument()
            if document is None:
                _say("Open an image first.")
                return
            size = forms.nearest_size(op, None, document.width(), document.height())
            if size is not None:
                params["size"] = size
        if op.on_each_layer:
            started = each_layer.start_on_layers(op, params, _tell, _tell_batch, cutout)
        else:
            job = jobs.runner().start(op.name, params, on_done=_tell)
            started = [job] if job is not None else []
        if not started and jobs.runner().last_error:
            _say(jobs.runner().last_error)

    def _ask_prompt(self, op: Operation) -> str:
        """The prompt typed in a dialog; "" when cancelled, left empty, or (said first, so
        nobody types a prompt for nothing) the operation needs a selection there is not."""
        document = Krita.instance().activeDocument()
        if op.needs_selection and document is not None and document.selection() is None:
            _say(missing_selection(op.name).user_message)
            return ""
        window = Krita.instance().activeWindow()
        parent = window.qwindow() if window else None
        question = "What should the selection show?" if op.needs_selection else "Prompt"
        prompt, ok = QtWidgets.QInputDialog.getMultiLineText(parent, op.title, question)
        return prompt.strip() if ok else ""

    def next_variation(self) -> None:
        _flip(+1)

    def previous_variation(self) -> None:
        _flip(-1)

    def keep_variation(self) -> None:
        _say(*variations.keep())

    def settings(self) -> None:
        SettingsDialog().exec()


def _flip(by: int) -> None:
    """Which variation shows now, over the canvas only: the docker keeps its own message
    while the artist flips."""
    text, error = variations.step(by)
    if error:
        _say(text)
    else:
        float_message(text)


def _tell(job) -> None:
    """After a one-click action: what happened, in the docker (so it never shows an earlier
    job's words), and on the canvas when it is more than "done"."""
    text, error = jobs.summary(job)
    _say(text, error, on_canvas=error or bool(job.outcome and job.outcome.notes))


def _tell_batch(batch) -> None:
    """After a one-click action on several layers: one summary of them all."""
    _say(batch.summary(), error=not batch.ok)


def _say(text: str, error: bool = True, on_canvas: bool = True) -> None:
    """On the canvas for a few seconds, and in the docker when it is open."""
    if not text:
        return
    if on_canvas:
        float_message(text)
    panel = docker.current()
    if panel is not None:
        panel.show_message(text, error, on_canvas=False)
