"""Filters › Recraft › Settings…: a row per setting (recraft_core.settings.ENTRIES, the same as
Krita's: the token, the server, how results blend in, the results library), with what it does
under it, and a Check button that asks Recraft whether the token
and server typed work.

The check runs on a thread of its own and reports through a GLib idle callback: the dialog
stays responsive however long the server takes, and GTK is only touched on the main thread.
"""

from __future__ import annotations

import threading

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import GimpUi, GLib, Gtk  # noqa: E402

from recraft_core import (  # noqa: E402
    settings,
)
from recraft_core.library import default_root  # noqa: E402
from recraft_core.workflow import Options  # noqa: E402
from recraft_core.workflow.editor import token_check  # noqa: E402


class SettingsDialog:
    """The dialog, built but not run (GimpUi.init must have run): `run()` shows it and saves on
    Save; `check()` starts a token check whose sentence lands in `status`."""

    def __init__(self) -> None:
        saved = settings.load()
        self.dialog = GimpUi.Dialog(title="Recraft settings", role="recraft-settings")
        self.dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.dialog.add_button("_Save", Gtk.ResponseType.OK)
        grid = Gtk.Grid(row_spacing=4, column_spacing=12, margin=12)
        self.widgets: dict = {}
        row = 0
        for entry in settings.ENTRIES:
            widget, shown = self._widget(entry, getattr(saved, entry.name))
            widget.set_tooltip_text(entry.help)
            help_ = Gtk.Label(label=entry.help, xalign=0, wrap=True, max_width_chars=50)
            help_.get_style_context().add_class("dim-label")
            label = f"{entry.label} ({entry.unit})" if entry.unit else entry.label
            grid.attach(Gtk.Label(label=label, xalign=0), 0, row, 1, 1)
            grid.attach(shown, 1, row, 1, 1)
            grid.attach(help_, 1, row + 1, 1, 1)
            self.widgets[entry.name] = widget
            row += 2
            if entry.name == "base_url":  # the check goes under what it checks
                row = self._check_row(grid, row)
        note = Gtk.Label(label=settings.NOTE, xalign=0, wrap=True, max_width_chars=60)
        grid.attach(note, 0, row, 2, 1)
        self.dialog.get_content_area().add(grid)
        self._asked = 0  # which check the status shows: a later click outdates an answer
        self._thread: threading.Thread | None = None
        self.dialog.connect("destroy", self._closed)

    def _widget(self, entry, value):
        """The widget holding an entry's value, and what goes in the row (the same, or a box
        with a button beside it)."""
        if entry.kind in ("pixels", "gigabytes"):
            widget = Gtk.SpinButton.new_with_range(entry.low, entry.high, 1)
            default = entry.default
            if default is None:  # the blending's: workflow.Options holds them
                default = getattr(Options(), entry.name)
            widget.set_value(default if value is None else value)
            return widget, widget
        if entry.kind == "switch":
            widget = Gtk.CheckButton(active=bool(value))
            return widget, widget
        widget = Gtk.Entry(text=value or "", width_chars=40, hexpand=True)
        widget.set_visibility(entry.kind != "secret")
        widget.set_placeholder_text(entry.placeholder)
        if entry.kind != "folder":
            return widget, widget
        # Empty is the usual folder: shown where the user would type another.
        widget.set_placeholder_text(str(default_root()))
        choose = Gtk.Button.new_with_mnemonic("Choose…")
        choose.connect("clicked", lambda _button: self._choose_folder(widget, entry.label))
        box = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
        box.pack_start(widget, True, True, 0)
        box.pack_start(choose, False, False, 0)
        return widget, box

    def _choose_folder(self, widget, title: str) -> None:
        chooser = Gtk.FileChooserDialog(
            title=title, transient_for=self.dialog, action=Gtk.FileChooserAction.SELECT_FOLDER
        )
        chooser.add_buttons("_Cancel", Gtk.ResponseType.CANCEL, "_Select", Gtk.ResponseType.OK)
        chooser.set_filename(widget.get_text() or widget.get_placeholder_text())
        if chooser.run() == Gtk.ResponseType.OK and chooser.get_filename():
            widget.set_text(chooser.get_filename())
        chooser.destroy()

    def _check_row(self, grid, row: int) -> int:
        box = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
        self.button = Gtk.Button.new_with_mnemonic("C_heck token")
        self.button.set_tooltip_text(
            "Ask Recraft, with the token and server above, how many credits are left"
        )
        self.button.connect("clicked", lambda _button: self.check())
        self.status = Gtk.Label(label="", xalign=0, wrap=True, max_width_chars=50, selectable=True)
        box.pack_start(self.button, False, False, 0)
        box.pack_start(self.status, True, True, 0)
        grid.attach(box, 1, row, 1, 1)
        return row + 1

    def check(self) -> None:
        """Ask Recraft on a thread; the status says "Checking…" meanwhile."""
        self._asked += 1
        asked = self._asked
        token, server = self.widgets["token"].get_text(), self.widgets["base_url"].get_text()
        self.status.set_text("Checking…")
        self.button.set_sensitive(False)

        def ask() -> None:
            try:
                said = token_check(token, server)
            except Exception as e:  # a bug: said in the dialog, never a traceback dialog
                said = f"The check failed unexpectedly ({type(e).__name__})."
            GLib.idle_add(self._answered, asked, said)

        self._thread = threading.Thread(target=ask, name="recraft-token-check", daemon=True)
        self._thread.start()

    def _answered(self, asked: int, said: str) -> bool:
        if asked == self._asked:  # not outdated by a later check, nor the dialog closed
            self.status.set_text(said)
            self.button.set_sensitive(True)
        return GLib.SOURCE_REMOVE

    def _closed(self, *_args) -> None:
        self._asked += 1

    @property
    def checking(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def values(self) -> dict:
        """What the rows hold, by entry name."""
        return {name: _value(widget) for name, widget in self.widgets.items()}

    def run(self) -> bool:
        """Shown until Save or Cancel; True when saved."""
        self.dialog.show_all()
        saved = self.dialog.run() == Gtk.ResponseType.OK
        if saved:
            settings.save(settings.with_values(self.values()))
        return saved

    def destroy(self) -> None:
        self.dialog.destroy()


def _value(widget):
    if isinstance(widget, Gtk.SpinButton):  # a number (before Entry: it is one too)
        return int(widget.get_value())
    if isinstance(widget, Gtk.CheckButton):
        return widget.get_active()
    return widget.get_text()


def settings_dialog() -> bool:
    GimpUi.init("recraft")
    dialog = SettingsDialog()
    try:
        return dialog.run()
    finally:
        dialog.destroy()
