"""Where the library lives when nobody says: the platform's per-user data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The size cap when the caller gives none: a few thousand full-size results.
DEFAULT_CAP = 4 * 1024**3


def default_root() -> Path:
    """RECRAFT_LIBRARY (tests, portable installs), else the platform's data folder:
    %LOCALAPPDATA% on Windows (local, not roaming: results are large), Application Support on
    macOS, $XDG_DATA_HOME or ~/.local/share elsewhere."""
    if os.environ.get("RECRAFT_LIBRARY"):
        return Path(os.environ["RECRAFT_LIBRARY"])
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "recraft" / "library"
