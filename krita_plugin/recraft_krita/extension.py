"""Tools › Recraft: one-click operations on the active layer (those the operations table gives
a Tools action, in its order), and Settings."""

from __future__ import annotations

from krita import Extension, Krita

from recraft_core.api import forms
from recraft_core.api.operations import Operation, offered
from recraft_core.workflow import missing_selection

from . import docker, jobs
from .canvas import float_message
from .qt import QtWidgets
from .settings_dialog import SettingsDialog

MENU = "recraft_menu"
SETTINGS = ("recraft_settings", "Settings…")  # (action id, menu text)


def actions() -> list[tuple[str, str, Operation | None]]:
    """(action id, menu text, operation) of each Tools › Recraft entry; Settings has None."""
    ops = [(op.action_id, op.offer.action, op) for op in offered() if op.offer.action]
    return [*ops, (*SETTINGS, None)]


class RecraftExtension(Extension):
    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:  # Krita's name
        menu_action = window.createAction(MENU, "Recraft", "tools")
        menu = QtWidgets.QMenu("Recraft", window.qwindow())
        menu_action.setMenu(menu)
        for action_id, text, op in actions():
            action = window.createAction(action_id, text, f"tools/{MENU}")
            if op is None:
                action.triggered.connect(self.settings)
            else:
                action.triggered.connect(lambda _=False, op=op: self.run(op))

    # -- the actions ---------------------------------------------------------------------------

    def run(self, op: Operation) -> None:
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
        job = jobs.runner().start(op.name, params, on_done=_tell)
        if job is None:
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

    def settings(self) -> None:
        SettingsDialog().exec()


def _tell(job) -> None:
    """After a one-click action: what happened, in the docker (so it never shows an earlier
    job's words), and on the canvas when it is more than "done"."""
    text, error = jobs.summary(job)
    _say(text, error, on_canvas=error or bool(job.outcome and job.outcome.notes))


def _say(text: str, error: bool = True, on_canvas: bool = True) -> None:
    """On the canvas for a few seconds, and in the docker when it is open."""
    if not text:
        return
    if on_canvas:
        float_message(text)
    panel = docker.current()
    if panel is not None:
        panel.show_message(text, error, on_canvas=False)
