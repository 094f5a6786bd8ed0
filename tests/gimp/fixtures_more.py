"""What the dialog tests need beside conftest.py: GIMP with its GUI on an X display, so that
plug-ins can open dialogs, and a screen to drive them as a user does (xdotool clicks and keys,
screenshots).

Test modules import the fixtures by name (`from fixtures_more import gimp_gui, x_display,
xvfb_display`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from editor_fixtures import unavailable, xvfb_display
from xvfb import SYSTEM_PATH

XVFB = xvfb_display  # re-exported: pytest finds a fixture by its name in the test module


@pytest.fixture(scope="session")
def x_display(xvfb_display):
    """The session's X display, with xdotool there to drive it."""
    if shutil.which("xdotool", path=SYSTEM_PATH) is None:
        unavailable("xdotool is not installed (apt-get install xdotool)")
    return xvfb_display


@pytest.fixture(scope="session")
def gimp_gui(gimp, gimp_pool, x_display, tmp_path_factory):
    """The version's GIMP with its GUI on `x_display`, in a profile of its own holding the
    plug-in: `launch` runs gimp_checks as `gimp` does, and dialogs can open (no window
    manager runs: windows open at the screen's top left, undecorated)."""
    key = ("gui", gimp.editor)
    if key not in gimp_pool:
        home = tmp_path_factory.mktemp(f"{gimp.editor}-gui")
        gimp_pool[key] = on_display(gimp, x_display, home)
    return gimp_pool[key]


def on_display(gimp, display: str, home: Path):
    """A GIMP of `gimp`'s version with its GUI on `display`, in a profile of its own in
    `home` holding the plug-in."""

    class OnDisplay(type(gimp)):
        def command(self, code, token, display_=None):
            command = super().command(code, token, display_ or display)
            if "-i" in command:  # env -i VAR=...: a plug-in that crashes says where
                command.insert(command.index("-i") + 1, "PYTHONFAULTHANDLER=1")
            return command

    gui = OnDisplay(gimp.editor, home, gimp.server)
    # Where its windows are: each test module that imports the X display fixture gets an X
    # server of its own, and this GIMP is made once, on the first module's.
    gui.display = display
    # No welcome dialog over the plug-in's on a first start.
    (gui.profile / "gimprc").write_text("(show-welcome-dialog no)\n")
    return gui


class Screen:
    """The X display as a user meets it: windows found by title, clicks, keys, pictures."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.env = dict(os.environ, DISPLAY=display)

    def xdotool(self, *args) -> str:
        done = subprocess.run(
            ["xdotool", *map(str, args)], env=self.env, capture_output=True, text=True
        )
        return done.stdout

    def window(self, title: str, timeout: float = 120, gone: threading.Event | None = None):
        """The id of the first window whose title matches the regular expression `title`,
        once it is there (and has had a moment to draw)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not (gone and gone.is_set()):
            found = self.xdotool("search", "--onlyvisible", "--name", title).split()
            if found:
                time.sleep(1.5)
                return found[0]
            time.sleep(0.3)
        raise TimeoutError(f"no window {title!r} on {self.display}")

    def exists(self, window: str) -> bool:
        return window in self.xdotool("search", "--onlyvisible", "--name", ".").split()

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        """x, y, width, height."""
        out = self.xdotool("getwindowgeometry", "--shell", window)
        values = dict(line.split("=", 1) for line in out.split())
        return tuple(int(values[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))

    def grab(self, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
        """The screen (or box x, y, width, height of it) as RGB pixels."""
        from PIL import ImageGrab

        shot = ImageGrab.grab(xdisplay=self.display).convert("RGB")
        if box is not None:
            x, y, w, h = box
            shot = shot.crop((x, y, x + w, y + h))
        return np.asarray(shot)

    def click(self, x: int, y: int) -> None:
        # Not `mousemove --sync`: it waits for the pointer to move, forever when it is
        # already there (the same button clicked twice).
        self.xdotool("mousemove", x, y, "sleep", "0.03", "click", 1)

    def key(self, window: str, *keys: str) -> None:
        """Keys pressed in the window, given the focus first: no window manager gives it, and
        GTK ignores keys sent to a window directly (XSendEvent)."""
        self.xdotool("windowfocus", "--sync", window)
        self.xdotool("key", *keys)


def spin_buttons(pixels: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """Where the first spin button's + and − are in a dialog's picture (the topmost one):
    the + glyph is a bright cross of strokes at least 11 px long; the − the nearest bar to its
    left, on the same row (bright, or dim while at its lowest value)."""
    grey = pixels.astype(int).sum(axis=2) // 3
    background = int(np.median(grey))
    bright = grey > background + 100
    h, w = bright.shape
    arm = 5
    for y in range(arm, h - arm):
        for x in np.nonzero(bright[y])[0]:
            if not arm <= x < w - arm or bright[y - arm - 3, x]:
                continue
            if bright[y - arm : y + arm + 1, x].all() and bright[y, x - arm : x + arm + 1].all():
                minus = _bar_left_of(grey[y], int(x) - 8, background)
                return (int(x), int(y)), (minus, int(y))
    raise LookupError("no spin button's + in the picture")


def _bar_left_of(row: np.ndarray, x: int, background: int) -> int:
    """The centre of the nearest run of 9 or more marked pixels left of x on this row."""
    marked = np.abs(row - background) > 25
    run = 0
    while x > 0:
        x -= 1
        run = run + 1 if marked[x] else 0
        if run >= 9 and not marked[x - 1]:
            right = x + run - 1
            return x + (right - x) // 2
    raise LookupError("no − left of the +")


@contextlib.contextmanager
def busy(processes: int = 2):
    """The machine kept busy meanwhile, as an artist's is (a render, a browser): `processes`
    shell loops spinning at normal priority."""
    loops = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(processes)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def wait_for(path: Path, timeout: float, stop: threading.Event | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline or (stop and stop.is_set()):
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.2)
