"""The Settings dialog (Tools › Recraft › Settings…, and the docker's Settings… button): one
row per `recraft_core.settings.ENTRIES`, so its words and ranges are GIMP's too.

It knows neither the docker nor the actions: both open it, and after Save only the runner
hears of it (to ask for the balance with the new token).
"""

from __future__ import annotations

from krita import Krita

from recraft_core import settings
from recraft_core.workflow import Options

from . import jobs
from .qt import QtWidgets


class SettingsDialog(QtWidgets.QDialog):
    """The token (saved readable by the user only), the server, and how results blend in."""

    def __init__(self, parent=None) -> None:
        if parent is None:
            window = Krita.instance().activeWindow()
            parent = window.qwindow() if window else None
        super().__init__(parent)
        self.setWindowTitle("Recraft settings")
        self.setMinimumWidth(520)  # room for a server address
        saved, defaults = settings.load(), Options()
        layout = QtWidgets.QFormLayout(self)
        self.inputs: dict[str, QtWidgets.QWidget] = {}
        for entry in settings.ENTRIES:
            value = getattr(saved, entry.name)
            if entry.kind == "pixels":
                widget = QtWidgets.QSpinBox(self)
                widget.setRange(entry.low, entry.high)
                widget.setSuffix(" px")
                widget.setValue(getattr(defaults, entry.name) if value is None else value)
            else:  # secret, url: a line of text
                widget = QtWidgets.QLineEdit(self)
                if entry.kind == "secret":
                    widget.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
                widget.setPlaceholderText(entry.placeholder)
                widget.setText(value or "")
            widget.setToolTip(entry.help[:1].upper() + entry.help[1:])
            layout.addRow(entry.label, widget)
            self.inputs[entry.name] = widget
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

    def values(self) -> dict:
        """What the rows hold, by entry name."""
        return {
            name: w.value() if isinstance(w, QtWidgets.QSpinBox) else w.text()
            for name, w in self.inputs.items()
        }

    def save(self) -> None:
        settings.save(settings.with_values(self.values()))
        self.accept()
        jobs.runner().refresh_balance()
