"""Where the library lives when nobody says: the platform's per-user data folder."""

from __future__ import annotations

import os
from pathlib import Path

from ..settings import DEFAULT_CAP_GB, user_folder

# The size cap when the caller gives none: a few thousand full-size results.
DEFAULT_CAP = DEFAULT_CAP_GB * 1024**3


def default_root() -> Path:
    """RECRAFT_LIBRARY (tests, portable installs), else the per-user data folder's
    recraft/library."""
    if os.environ.get("RECRAFT_LIBRARY"):
        return Path(os.environ["RECRAFT_LIBRARY"])
    return user_folder("data") / "recraft" / "library"
