"""Checks of Filters › Recraft as GIMP builds it, run inside GIMP as gimp_checks.py's are (its
main() takes CHECKS from every checks_*.py beside it).

`menu_entries` reads every Recraft procedure's menu paths and label from the PDB; `menu_shown`
opens an image with a selection in a window of GIMP's GUI and waits while the test opens the
menu with the keyboard (its screenshot), and picks entries from it. GIMP's own Python runs this
file: the standard library and gi only.
"""

import time
from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402
from gimp_checks import picture, select  # noqa: E402

PREFIX = "plug-in-recraft-"


def menu_entries(ctx) -> dict:
    """Every Recraft procedure: {name: {"paths": its menu paths, "label": its menu label}}."""
    pdb = Gimp.get_pdb()
    names = pdb.query_procedures(f"^{PREFIX}", "", "", "", "", "", "", "")
    out = {}
    for name in names:
        procedure = pdb.lookup_procedure(name)
        out[name] = {"paths": list(procedure.get_menu_paths()), "label": procedure.get_menu_label()}
    return out


def menu_shown(ctx, marker, done, seconds=240.0) -> dict:
    """An image with a selection in a window (then `marker` is written); the test drives the
    GUI until it writes `done` (or `seconds` pass)."""
    image, _photo = picture(width=720, height=480, box=(0, 0, 720, 480), fill="gradient")
    select(image, ["ellipse", 250, 140, 220, 180], feather=4.0)
    Gimp.Display.new(image)
    Gimp.displays_flush()
    try:
        Path(marker).write_text("")
        deadline = time.monotonic() + seconds
        while not Path(done).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        return {"done": Path(done).exists()}
    finally:
        image.clean_all()  # no "unsaved changes" question when GIMP quits


CHECKS = {"menu_entries": menu_entries, "menu_shown": menu_shown}
