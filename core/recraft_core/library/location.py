"""Where the library lives when nobody says: the platform's per-user data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The size cap when the caller gives none: a few thousand full-size results.
DEFAULT_CAP = 4 * 1024**3

# Per kind of folder: (Windows' variable and its usual place under the home folder, the XDG
# variable and its default elsewhere). macOS keeps both kinds in Application Support.
_KINDS = {
    "data": ("LOCALAPPDATA", ("AppData", "Local"), "XDG_DATA_HOME", (".local", "share")),
    "config": ("APPDATA", ("AppData", "Roaming"), "XDG_CONFIG_HOME", (".config",)),
}


def user_folder(kind: str) -> Path:
    """The platform's per-user folder of a `kind`: "data" (large files that stay on this
    machine: %LOCALAPPDATA% on Windows, not the roaming profile; $XDG_DATA_HOME or
    ~/.local/share elsewhere) or "config" (small settings: %APPDATA%, $XDG_CONFIG_HOME or
    ~/.config); ~/Library/Application Support for both on macOS."""
    windows, under_home, xdg, xdg_default = _KINDS[kind]
    if sys.platform == "win32":
        return Path(os.environ.get(windows) or Path.home().joinpath(*under_home))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get(xdg) or Path.home().joinpath(*xdg_default))


def default_root() -> Path:
    """RECRAFT_LIBRARY (tests, portable installs), else the per-user data folder's
    recraft/library."""
    if os.environ.get("RECRAFT_LIBRARY"):
        return Path(os.environ["RECRAFT_LIBRARY"])
    return user_folder("data") / "recraft" / "library"
