"""Checks of the styles an artist made, offered in Saved style (issue 18), run inside GIMP as
gimp_checks.py's are (its main() takes CHECKS from every checks_*.py beside it).

Create style runs through the plug-in's procedure; then Generate's dialog is built as the
plug-in builds it (its OperationDialog, shown on the display), its Saved style menu read and
one of its rows activated as a click does; Generate then runs with the id that put in the
dialog's config. GIMP's own Python runs this file: the standard library and gi only.
"""

import json
import os
import time
from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402
from gimp_checks import (  # noqa: E402
    _drawn,
    _gtk,
    _hold,
    _plugin_on_path,
    _pump,
    _rows,
    _write,
    call,
    picture,
)

PREFIX = "plug-in-recraft-"


def _second_layer(image, name):
    layer = Gimp.Layer.new(image, name, 160, 120, Gimp.ImageType.RGBA_IMAGE, 100.0,
                           Gimp.LayerMode.NORMAL)  # fmt: skip
    image.insert_layer(layer, None, 0)
    _write(layer, _rows(160, 120, "gradient", (20, 90, 200), None, None))
    return layer


def _wait_offered(Gtk, menu, seconds=20.0):
    deadline = time.monotonic() + seconds
    while menu.offered is None and time.monotonic() < deadline:
        _pump(Gtk, 0.05)
    _pump(Gtk, 0.2)


def styles_offered(ctx, choose=0, marker=None, hold=0.0, library_off=False):
    """Create style on the photo layer and a "sky" layer; then Generate's dialog: what its
    Saved style menu offers, the line under the entry; the `choose`-th style's row activated
    (with `marker`, the menu is shown open for the test's screenshot first); then Generate
    run as a script with the id that put in the config. `library_off`: the Settings say Keep
    no results while this runs."""
    Gtk = _gtk()
    _plugin_on_path()
    import recraft

    settings_file = Path(os.environ["RECRAFT_CONFIG"])
    if library_off:
        settings_file.parent.mkdir(parents=True, exist_ok=True)
        settings_file.write_text(json.dumps({"library_off": True}))
    image, photo = picture()
    sky = _second_layer(image, "sky")
    got = {}
    try:
        made = call(PREFIX + "create-style", image, [photo, sky], {"style": "digital_illustration"})
        got["created"] = made
        style_id = made["values"][0] if made["values"] else None
        procedure = Gimp.get_pdb().lookup_procedure(PREFIX + "generate")
        op = recraft.procedures()[PREFIX + "generate"][0]
        config = procedure.create_config()
        config.set_property("prompt", "a fox")
        config.set_property("model", "recraftv3")  # a model that takes a saved style
        dialog = recraft.OperationDialog(procedure, config, op)
        try:
            dialog.dialog.show_all()
            menu = dialog.saved_styles
            _wait_offered(Gtk, menu)
            got["offered"] = [[s.id, s.label] for s in menu.offered or []]
            got["library_off"] = menu.library_off
            got["choices"] = [[text, value, usable] for text, value, usable in menu.choices()]
            got["icon"] = menu.entry.get_icon_name(Gtk.EntryIconPosition.SECONDARY)
            got["line_before"] = menu.line.get_text()
            got["drawn"] = _drawn(Gtk, dialog.dialog)
            menu.popup()
            _pump(Gtk, 0.5)
            items = menu.menu.get_children()
            got["menu_items"] = [item.get_label() for item in items]
            got["menu_shown"] = menu.menu.get_visible()
            _hold(Gtk, marker, hold)
            usable = [item for item in items if item.get_sensitive()][1:]  # after "No saved…"
            if usable and choose is not None:
                got["chose"] = usable[choose].get_label()
                usable[choose].activate()  # what a click on the row does
                menu.menu.popdown()
                _pump(Gtk, 0.5)
            got["style_id"] = config.get_property("style-id")
            got["entry_text"] = menu.entry.get_text()
            got["line_after"] = menu.line.get_text()
            got["refusal"] = recraft._refusal(op, config)
        finally:
            dialog.destroy()
        # What a menu run of Create style says: where the style is offered, and as what.
        got["note"] = recraft._style_note(
            recraft.procedures()[PREFIX + "create-style"][0],
            style_id or "",
            recraft.styles.find(menu.offered or [], style_id),
        )
        if got["style_id"]:
            args = {"prompt": "a fox", "model": "recraftv3", "style-id": got["style_id"]}
            got["generated"] = call(PREFIX + "generate", image, [photo], args)
        return got
    finally:
        if library_off:
            settings_file.unlink(missing_ok=True)
        image.clean_all()
        image.delete()


CHECKS = {"styles_offered": styles_offered}
