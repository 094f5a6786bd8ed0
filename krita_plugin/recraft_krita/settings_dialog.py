"""The Settings dialog (Tools › Recraft › Settings…, and the docker's Settings… button): one
row per `recraft_core.settings.ENTRIES`, so its words and ranges are GIMP's too.

It knows neither the docker nor the actions: both open it, and after Save only the runner
hears of it (to ask for the balance with the new token).
"""

from __future__ import annotations

from dataclasses import replace

from krita import Krita

from recraft_core import settings
from recraft_core.library import default_root
from recraft_core.workflow import Options
from recraft_core.workflow.queue import DEFAULT_LIMIT

from . import jobs
from .qt import QtWidgets

JOBS_AT_ONCE = (1, 8)  # what settings.load() accepts


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
