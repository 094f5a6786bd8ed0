"""Filters › Recraft in the order an artist scans it: the operations in the operations table's
offer rank, then Next, Previous and Keep variation together, then History… and Settings… last;
and Layer › Transparency › Remove Background (Recraft) where it was.

GIMP sorts a plug-in's entries by path and label; the plug-in orders them with numbered menu
sections (recraft.menu_path). One launch per version of GIMP's GUI under Xvfb (checks_menus.py):
the procedures' menu paths and labels from the PDB, sorted as GIMP sorts them; then the menu
opened with the keyboard as a user opens it (its screenshot, in the test's tmp folder).
"""

from __future__ import annotations

import threading
import time

import pytest
from fixtures_more import Screen, on_display, wait_for, x_display, xvfb_display
from PIL import Image

from recraft_core.api.operations import offered

pytestmark = pytest.mark.timeout(900)
FIXTURES = (x_display, xvfb_display)  # for pytest, which finds them by name
PREFIX = "plug-in-recraft-"
RECRAFT = "<Image>/Filters/Recraft"
IMAGE_WINDOW = "GIMP$"  # the image window: "[Untitled]-1.0 (RGB color …) 720x480 – GIMP"


def _canonical(path: str) -> str:
    """A menu path as GIMP files the entry: a trailing "[section]" names no submenu."""
    parts = path.split("/")
    return "/".join(parts[:-1]) if parts[-1].startswith("[") else path


def _gimp_order(entries: dict, menu: str) -> list[str]:
    """The procedures in `menu` in GIMP's order: plug-in-menus.c sorts them by the collation
    key of path + "/" + label + procedure name (byte order in the tests' C.UTF-8)."""
    keys = []
    for name, entry in entries.items():
        for path in entry["paths"]:
            if _canonical(path) == menu:
                keys.append((f"{path}/{entry['label'].replace('_', '')}{name}", name))
    return [name for _key, name in sorted(keys)]


def _expected() -> list[str]:
    """The operations by offer rank (a cut-out's as-mask one after it), then the variations,
    History and Settings."""
    operations = []
    for op in offered():
        operations.append(PREFIX + op.cli_name)
        if op.cuts_out:
            operations.append(f"{PREFIX}{op.cli_name}-as-mask")
    variations = [PREFIX + v for v in ("next-variation", "previous-variation", "keep-variation")]
    return [*operations, *variations, PREFIX + "history", PREFIX + "settings"]


@pytest.fixture(scope="session")
def menus(gimp, gimp_pool, x_display, tmp_path_factory):
    """The launch, and the screen before and with Filters › Recraft open."""
    key = ("menus", gimp.editor)
    if key in gimp_pool:
        return gimp_pool[key]
    home = tmp_path_factory.mktemp(f"{gimp.editor}-menus")
    gui = on_display(gimp, x_display, home)  # its own profile, on this module's display
    marker, done = home / "shown", home / "done"
    seen, stop = {}, threading.Event()
    screen = Screen(x_display)

    def open_menu(window: str) -> None:
        # Filte_rs, its last entry (Recraft), its submenu, opened with nothing selected.
        screen.xdotool("mousemove", 5, 995)  # away: an entry under the pointer takes over
        screen.key(window, "alt+r")
        time.sleep(1)
        screen.xdotool("key", "Up", "sleep", "0.3", "Right")
        time.sleep(1.5)

    def driver() -> None:
        try:
            wait_for(marker, 300, stop)
            window = screen.window(IMAGE_WINDOW, timeout=60)
            time.sleep(3)  # the image draws
            seen["closed"] = screen.grab()
            open_menu(window)
            seen["shot"] = screen.grab()
            screen.xdotool("key", "Escape", "Escape", "Escape")
        except Exception as e:
            seen["error"] = repr(e)
        finally:
            done.write_text("")

    thread = threading.Thread(target=driver, daemon=True)
    thread.start()
    checks = [
        ("entries", "menu_entries", {}),
        ("shown", "menu_shown", {"marker": str(marker), "done": str(done)}),
    ]
    try:
        launch = gui.launch("menus", checks)
    finally:
        stop.set()
        thread.join(120)
    shot = home / "filters-recraft-menu.png"
    if "shot" in seen:
        picture = Image.fromarray(seen["shot"])
        picture.crop(picture.getbbox()).save(shot)
    gimp_pool[key] = (launch, seen, shot)
    return gimp_pool[key]


def test_filters_recraft_lists_operations_by_rank_then_variations_then_history_and_settings(
    menus,
):
    launch, _seen, _shot = menus
    entries = launch.check("entries").value
    got = _gimp_order(entries, RECRAFT)
    labels = [entries[name]["label"] for name in got]
    assert got == _expected(), labels


def test_remove_background_stays_in_layer_transparency(menus):
    launch, _seen, _shot = menus
    entries = launch.check("entries").value
    names = _gimp_order(entries, "<Image>/Layer/Transparency")
    assert [entries[name]["label"] for name in names] == [
        "Remove Background (Recraft)",
        "Remove Background as Mask (Recraft)",
    ]


def test_filters_recraft_opens_from_the_keyboard(menus):
    """Filters › Recraft opens as a user opens it (Alt+R, Up, Right): its screenshot is the
    test's filters-recraft-menu.png, to look at; the opened menu covers much of the screen."""
    launch, seen, shot = menus
    assert "error" not in seen, seen["error"]
    assert launch.check("shown").value["done"]
    assert shot.exists()
    changed = (seen["shot"] != seen["closed"]).any(axis=2).mean()
    assert changed > 0.1, f"the menus cover {changed:.0%} of the screen"
