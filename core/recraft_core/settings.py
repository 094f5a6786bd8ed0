"""Where the API token lives between sessions: one small JSON file only its owner can read.

The plug-ins and the CLI share it, so an artist enters the token once. The file is written
with mode 0600 inside a 0700 folder (on Windows the profile folder is private to the user).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    base_url: str | None = None
    # How mask results blend in, in canvas pixels (see workflow.Options); None: the default.
    grow: int | None = None
    feather: int | None = None
    # The results library (recraft_core.library): its folder (None: the platform's data
    # folder), its size cap in GB (None: the default, 0: none), or off altogether.
    library_folder: str | None = None
    library_cap_gb: int | None = None
    library_off: bool = False
    # Soft edges baked into results' pixels, not given as editable masks (workflow.Options).
    bake_edges: bool = False
    # How many of an editor's queued jobs run at once (None: workflow.queue's default).
    jobs_at_once: int | None = None

    def __repr__(self) -> str:
        shown = "***" if self.token else None
        return (
            f"Settings(token={shown}, base_url={self.base_url!r}, "
            f"grow={self.grow}, feather={self.feather}, library_folder={self.library_folder!r}, "
            f"library_cap_gb={self.library_cap_gb}, library_off={self.library_off}, "
            f"bake_edges={self.bake_edges}, jobs_at_once={self.jobs_at_once})"
        )


@dataclass(frozen=True)
class Entry:
    """One setting as a dialog shows it: both editors' Settings build their rows from
    ENTRIES, so the words and ranges are the same everywhere.

    Kinds, and the widget each wants: secret and url (a line of text; a secret's hidden),
    folder (a line of text, and a way to pick a folder), pixels and gigabytes (a whole
    number from `low` to `high`, shown with `unit`), switch (a check box; True when
    ticked)."""

    name: str  # the Settings attribute
    label: str
    help: str
    kind: str  # secret, url, folder, pixels, gigabytes, switch
    placeholder: str = ""
    low: int = 0
    high: int = 256
    # What a number's box shows when nothing is saved (None: workflow.Options' default, for
    # the pixels of the blending); a dialog that saves it unchanged saves "not set".
    default: int | None = None

    @property
    def unit(self) -> str:
        return {"pixels": "px", "gigabytes": "GB"}.get(self.kind, "")


DEFAULT_URL = "https://external.api.recraft.ai/v1"
DEFAULT_CAP_GB = 4  # the library's default cap (library.location.DEFAULT_CAP), in GB
ENTRIES = (
    Entry("token", "API token", "your Recraft API token", "secret", "paste your Recraft API token"),
    Entry(
        "base_url",
        "Server",
        "Recraft's address; empty for Recraft itself (another for a local test server)",
        "url",
        DEFAULT_URL,
    ),
    Entry(
        "grow",
        "Grow selection",
        "how far past the selection Recraft repaints, so the new pixels join the old ones",
        "pixels",
    ),
    Entry(
        "feather",
        "Soft edge",
        "how softly results fade out past a hard selection's edge; 0: a hard edge "
        "(a feathered selection fades as it is feathered)",
        "pixels",
    ),
    Entry(
        "bake_edges",
        "Bake soft edges",
        "put the soft edge of inpaint, erase and background results into their pixels, "
        "instead of a mask on the result layer that you can paint to show more or less",
        "switch",
    ),
    Entry(
        "library_folder",
        "Library folder",
        "where every paid result is kept, for History (shared with the other editor and "
        "the recraft command); empty: your user data folder",
        "folder",
    ),
    Entry(
        "library_cap_gb",
        "Library size",
        "how large the library may grow before its oldest results are deleted; 0: no limit",
        "gigabytes",
        high=10_000,
        default=DEFAULT_CAP_GB,
    ),
    Entry(
        "library_off",
        "Keep no results",
        "turn the library off: results are not kept, History shows none, and a result not "
        "yet inserted when the editor closes is lost",
        "switch",
    ),
)
NOTE = (
    "The token is stored in a file only you can read, shared with the recraft command. "
    "RECRAFT_API_TOKEN, when set, wins."
)


def with_values(values: dict) -> Settings:
    """The saved settings with a dialog's values by Entry name (empty text is "not set", as
    is a number left at its default); what the dialog does not show (no such name in
    `values`) stays as saved. Numbers and switches may come as text, from a dialog that
    shows every row as a line of text."""
    clean = {}
    for entry in ENTRIES:
        if entry.name not in values:
            continue
        value = values[entry.name]
        if isinstance(value, str):
            value = value.strip() or None
        if entry.kind in ("pixels", "gigabytes"):
            value = _number(value, entry)
        elif entry.kind == "switch":
            value = _switch(value)
        clean[entry.name] = value
    return replace(load(), **clean)


def _number(value, entry: Entry) -> int | None:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not entry.low <= value <= entry.high or value == entry.default:
        return None
    return value


def _switch(value) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


# Per kind of folder: (Windows' variable and its usual place under the home folder, the XDG
# variable and its default elsewhere). macOS keeps both kinds in Application Support.
_FOLDERS = {
    "data": ("LOCALAPPDATA", ("AppData", "Local"), "XDG_DATA_HOME", (".local", "share")),
    "config": ("APPDATA", ("AppData", "Roaming"), "XDG_CONFIG_HOME", (".config",)),
}


def user_folder(kind: str) -> Path:
    """The platform's per-user folder of a `kind`: "data" (large files that stay on this
    machine: %LOCALAPPDATA% on Windows, not the roaming profile; $XDG_DATA_HOME or
    ~/.local/share elsewhere) or "config" (small settings: %APPDATA%, $XDG_CONFIG_HOME or
    ~/.config); ~/Library/Application Support for both on macOS."""
    windows, under_home, xdg, xdg_default = _FOLDERS[kind]
    if sys.platform == "win32":
        return Path(os.environ.get(windows) or Path.home().joinpath(*under_home))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get(xdg) or Path.home().joinpath(*xdg_default))


def path() -> Path:
    """The settings file: RECRAFT_CONFIG, or recraft/settings.json in the per-user config
    folder."""
    if os.environ.get("RECRAFT_CONFIG"):
        return Path(os.environ["RECRAFT_CONFIG"])
    return user_folder("config") / "recraft" / "settings.json"


def load() -> Settings:
    """The saved settings; empty ones when there is no file or it cannot be read."""
    file = path()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(data, dict):
        return Settings()
    if os.name == "posix" and file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        file.chmod(0o600)  # someone loosened it; the token must stay the owner's
    token, base_url = data.get("token"), data.get("base_url")

    def pixels(key: str) -> int | None:
        value = data.get(key)
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 256
        return value if ok else None

    folder, cap = data.get("library_folder"), data.get("library_cap_gb")
    jobs = data.get("jobs_at_once")
    return Settings(
        token if isinstance(token, str) and token else None,
        base_url if isinstance(base_url, str) and base_url else None,
        pixels("grow"),
        pixels("feather"),
        folder if isinstance(folder, str) and folder else None,
        cap if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 0 else None,
        data.get("library_off") is True,
        data.get("bake_edges") is True,
        jobs if isinstance(jobs, int) and not isinstance(jobs, bool) and 1 <= jobs <= 8 else None,
    )


def save(settings: Settings) -> Path:
    """Write the settings atomically, readable by the user only."""
    file = path()
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fields = (
        ("token", settings.token),
        ("base_url", settings.base_url),
        ("grow", settings.grow),
        ("feather", settings.feather),
        ("library_folder", settings.library_folder),
        ("library_cap_gb", settings.library_cap_gb),
        ("library_off", settings.library_off or None),
        ("bake_edges", settings.bake_edges or None),
        ("jobs_at_once", settings.jobs_at_once),
    )
    body = {k: v for k, v in fields if v is not None and v != ""}
    # mkstemp creates the file 0600 from the start: the token is never briefly world-readable.
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".settings-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return file


def forget() -> None:
    """Remove the saved settings."""
    path().unlink(missing_ok=True)
