"""The Settings dialog (Tools › Recraft › Settings…, and the docker's Settings… button): one
row per `recraft_core.settings.ENTRIES`, so its words and ranges are GIMP's too.

It knows neither the docker nor the actions: both open it, and after Save only the runner
hears of it (to ask for the balance with the new token).
"""

from __future__ import annotations

import queue
from dataclasses import replace

from krita import Krita

from recraft_core import (
    settings,
)
from recraft_core.library import default_root
from recraft_core.workflow import Options
from recraft_core.workflow.editor import token_check
from recraft_core.workflow.queue import DEFAULT_LIMIT

from . import jobs
from .canvas import Worker
from .qt import QtCore, QtWidgets

JOBS_AT_ONCE = (1, 8)  # what settings.load() accepts
POLL_MS = 50
# Started with the plug-in (this module is imported when it loads): starting a thread when
# Check is clicked would make Krita's GUI thread wait for it.
CHECKER = Worker("recraft-token-check")


class SettingsDialog(QtWidgets.QDialog):
    """The token (saved readable by the user only), the server, how results blend in, and
    the results library."""

    def __init__(self, parent=None) -> None:
        if parent is None:
            window = Krita.instance().activeWindow()
            parent = window.qwindow() if window else None
        super().__init__(parent)
        self.setWindowTitle("Recraft settings")
        self.setMinimumWidth(520)  # room for a server address
        saved = settings.load()
        layout = QtWidgets.QFormLayout(self)
        self.inputs: dict[str, QtWidgets.QWidget] = {}
        for entry in settings.ENTRIES:
            widget = self._widget(entry, getattr(saved, entry.name))
            widget.setToolTip(entry.help[:1].upper() + entry.help[1:])
            layout.addRow(entry.label, widget)
            self.inputs[entry.name] = widget
            if entry.name == "base_url":  # the check goes under what it checks
                layout.addRow("", self._check_row())
        # The docker's queue: not an ENTRIES row (GIMP has no queue), so it is this dialog's.
        self.jobs_at_once = QtWidgets.QSpinBox(self)
        self.jobs_at_once.setRange(*JOBS_AT_ONCE)
        self.jobs_at_once.setValue(saved.jobs_at_once or DEFAULT_LIMIT)
        self.jobs_at_once.setToolTip(
            "How many queued Recraft jobs run at the same time; the others wait their turn"
        )
        layout.addRow("Jobs at once", self.jobs_at_once)
        note = QtWidgets.QLabel(settings.NOTE, self)
        note.setWordWrap(True)
        layout.addRow(note)
        buttons = QtWidgets.QDialogButtonBox(
            QtWidgets.QDialogButtonBox.StandardButton.Save
            | QtWidgets.QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addRow(buttons)

    def _widget(self, entry: settings.Entry, value) -> QtWidgets.QWidget:
        """The row's widget for the entry's kind, holding the saved value (or the default)."""
        if entry.kind in ("pixels", "gigabytes"):
            widget = QtWidgets.QSpinBox(self)
            widget.setRange(entry.low, entry.high)
            widget.setSuffix(f" {entry.unit}")
            default = entry.default
            if default is None:  # the blending's: workflow.Options holds them
                default = getattr(Options(), entry.name)
            widget.setValue(default if value is None else value)
            return widget
        if entry.kind == "switch":
            widget = QtWidgets.QCheckBox(self)
            widget.setChecked(bool(value))
            return widget
        widget = QtWidgets.QLineEdit(self)  # secret, url, folder: a line of text
        if entry.kind == "secret":
            widget.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        widget.setText(value or "")
        widget.setPlaceholderText(entry.placeholder)
        if entry.kind == "folder":
            # Empty means the usual folder: show which, where the user would type another.
            widget.setPlaceholderText(str(default_root()))
            icon = self.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_DirOpenIcon)
            pick = widget.addAction(icon, QtWidgets.QLineEdit.ActionPosition.TrailingPosition)
            pick.setToolTip("Choose a folder")
            pick.triggered.connect(lambda _=False, w=widget: self._choose_folder(w))
        return widget

    def _check_row(self) -> QtWidgets.QWidget:
        row = QtWidgets.QWidget(self)
        line = QtWidgets.QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        self.check_button = QtWidgets.QPushButton("C&heck token", row)
        self.check_button.setToolTip(
            "Ask Recraft, with the token and server above, how many credits are left"
        )
        self.check_button.setAutoDefault(False)  # Enter still saves
        self.check_button.clicked.connect(self.check)
        self.status = QtWidgets.QLabel(row)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        line.addWidget(self.check_button, 0)
        line.addWidget(self.status, 1)
        self._asked = 0  # which check the status shows: a later click outdates an answer
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        # The answer comes back through a queue this dialog's timer reads: a dialog closed
        # meanwhile takes its timer along, and the checking thread touches no Qt object.
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._answered)
        return row

    @property
    def checking(self) -> bool:
        return self._timer.isActive()

    def check(self, *_) -> None:
        """Ask Recraft on the checker's thread; the status says "Checking…" meanwhile."""
        self._asked += 1
        asked, answers = self._asked, self._answers
        token, server = self.inputs["token"].text(), self.inputs["base_url"].text()
        self.status.setText("Checking…")
        self.check_button.setEnabled(False)

        def ask() -> None:
            try:
                said = token_check(token, server)
            except Exception as e:  # a bug: said in the dialog, never a traceback dialog
                said = f"The check failed unexpectedly ({type(e).__name__})."
            answers.put((asked, said))

        CHECKER.submit(ask)
        self._timer.start()

    def _answered(self) -> None:
        while True:
            try:
                asked, said = self._answers.get_nowait()
            except queue.Empty:
                return
            if asked == self._asked:  # not outdated by a later check
                self.status.setText(said)
                self.check_button.setEnabled(True)
                self._timer.stop()

    def _choose_folder(self, widget: QtWidgets.QLineEdit) -> None:
        start = widget.text() or widget.placeholderText()
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Library folder", start)
        if folder:
            widget.setText(folder)

    def values(self) -> dict:
        """What the rows hold, by entry name."""
        out = {}
        for name, w in self.inputs.items():
            if isinstance(w, QtWidgets.QSpinBox):
                out[name] = w.value()
            elif isinstance(w, QtWidgets.QCheckBox):
                out[name] = w.isChecked()
            else:
                out[name] = w.text()
        return out

    def save(self) -> None:
        chosen = settings.with_values(self.values())
        at_once = self.jobs_at_once.value()
        if at_once == DEFAULT_LIMIT and chosen.jobs_at_once is None:
            at_once = None  # left at the default: not set, as the other rows' defaults
        settings.save(replace(chosen, jobs_at_once=at_once))
        self.accept()
        jobs.runner().refresh_balance()
