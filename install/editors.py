"""The editors the installer knows: where each keeps its plug-ins and how one is switched on.

Adding an editor is one entry in EDITORS plus a function listing its plug-in folders.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import kconfig


@dataclass(frozen=True)
class Host:
    """The machine's platform, environment and home: passed in so tests can ask about others."""

    platform: str
    env: Mapping[str, str]
    home: Path

    @classmethod
    def current(cls) -> Host:
        return cls(sys.platform, dict(os.environ), Path.home())

    def dir_from_env(self, name: str, fallback: Path) -> Path:
        value = self.env.get(name, "")
        # The XDG spec says a relative value is invalid and must be ignored.
        if self.platform != "win32" and not value.startswith("/"):
            return fallback
        return Path(value) if value else fallback


@dataclass(frozen=True)
class Place:
    """One folder an editor loads plug-ins from, and the config file that enables them there."""

    folder: Path
    label: str
    config: Path | None = None
    default: bool = False  # created when no folder of this editor exists and none is named
    note: str = ""
    shadowed: bool = False  # the editor ignores it now; only --uninstall looks there

    def found(self) -> bool:
        # The editor's own data folder counts: Krita does not always create pykrita/ itself.
        return self.folder.is_dir() or self.folder.parent.is_dir()


@dataclass(frozen=True)
class Extra:
    """A file beside the plug-in's package: `source` in the checkout, `target` in the folder."""

    source: str
    target: str  # relative to the plug-in folder, "/"-separated, may climb out with ".."
    required: bool = True
    # For a target that climbs out: the name the plug-in folder must have for its parent to be
    # the editor's own folder (Krita's resource folder holds pykrita/ and actions/). Any other
    # folder gets no such file: the installer never writes outside a folder of the editor's.
    only_in: str = ""


@dataclass(frozen=True)
class Switch:
    """The config entry that enables the plug-in: `key=true` under `[section]`."""

    section: str
    key: str


@dataclass(frozen=True)
class Editor:
    key: str  # the --KEY option, the zip's name
    title: str
    package: str  # the folder installed into each plug-in folder
    source: str  # the checkout's folder holding the package and the extras
    extras: tuple[Extra, ...]
    places: Callable[[Host], list[Place]]
    switch: Switch | None
    next_steps: tuple[str, ...]
    enable_by_hand: str  # said when the user asked us not to touch the config
    import_zip: str | None = None  # how a user installs the --zip file; None: no zip
    entry: str = "__init__.py"  # the package's file the editor loads; GIMP's is <name>.py
    executables: tuple[str, ...] = ()  # inside the package; GIMP runs its plug-ins as programs
    # Said when no folder of this editor is found while another editor's is: it gets nothing.
    missing: str = ""
    folder_help: str = "a plug-in folder"  # what --KEY DIR names, for --help
    # Where the editor's program may be, to tell "installed, never started" from "absent".
    programs: Callable[[Host], bool] = lambda host: False


def _custom_resources(config: Path, standard: Path) -> Path | None:
    """The resource folder set in Settings › Configure Krita › General › Resources, if any."""
    try:
        data = config.read_bytes()
    except OSError:
        return None
    custom = kconfig.read_entry(data, "", "ResourceDirectory")
    if not custom:
        return None
    path = Path(custom).expanduser()
    if not path.is_absolute() or same_folder(path, standard):
        return None
    return path


def same_folder(a: Path, b: Path) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def krita_places(host: Host) -> list[Place]:
    home = host.home
    if host.platform == "win32":
        roaming = host.dir_from_env("APPDATA", home / "AppData" / "Roaming")
        local = host.dir_from_env("LOCALAPPDATA", home / "AppData" / "Local")
        profiles = [("Krita", roaming / "krita", local / "kritarc", True)]
    elif host.platform == "darwin":
        profiles = [
            (
                "Krita",
                home / "Library" / "Application Support" / "Krita",
                home / "Library" / "Preferences" / "kritarc",
                True,
            )
        ]
    else:
        data = host.dir_from_env("XDG_DATA_HOME", home / ".local" / "share")
        config = host.dir_from_env("XDG_CONFIG_HOME", home / ".config")
        flatpak = home / ".var" / "app" / "org.kde.krita"
        snap = home / "snap" / "krita" / "current"
        profiles = [
            ("Krita", data / "krita", config / "kritarc", True),
            ("Krita (Flatpak)", flatpak / "data" / "krita", flatpak / "config" / "kritarc", False),
            (
                "Krita (Snap)",
                snap / ".local" / "share" / "krita",
                snap / ".config" / "kritarc",
                False,
            ),
        ]
    places = []
    for label, standard, kritarc, default in profiles:
        custom = _custom_resources(kritarc, standard)
        if custom is None:
            places.append(Place(standard / "pykrita", label, kritarc, default))
            continue
        # A resource folder of the user's replaces the standard one entirely: Krita then
        # ignores plug-ins under the standard folder.
        note = f"the resource folder set in {kritarc}"
        places.append(Place(custom / "pykrita", label, kritarc, default, note))
        places.append(Place(standard / "pykrita", label, kritarc, shadowed=True))
    return places


# GIMP keeps one profile per minor version (GIMP_USER_VERSION): 3.0, 3.2, ... A 3.x found on
# disk that is not listed here (a newer GIMP, a development build) is used too.
GIMP_VERSIONS = ("3.0", "3.2")
_GIMP_VERSION = re.compile(r"3\.\d+")


def _gimp_profiles(gimp_dir: Path) -> list[tuple[str, Path]]:
    """(version, profile) under a GIMP folder (`.../GIMP`): the known versions and any other
    3.x there, oldest first."""
    versions = set(GIMP_VERSIONS)
    with contextlib.suppress(OSError):  # no GIMP folder: the known versions only
        versions |= {
            p.name for p in gimp_dir.iterdir() if _GIMP_VERSION.fullmatch(p.name) and p.is_dir()
        }
    ordered = sorted(versions, key=lambda v: int(v.split(".")[1]))
    return [(v, gimp_dir / v) for v in ordered]


def gimp3_directory(host: Host) -> Path | None:
    """GIMP3_DIRECTORY: GIMP 3 then uses that folder as its whole profile, for every 3.x;
    a relative value is taken from the home folder, as GIMP does."""
    value = host.env.get("GIMP3_DIRECTORY", "")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else host.home / path


def gimp_places(host: Host) -> list[Place]:
    """Each GIMP 3 profile's plug-ins/ folder. A profile counts as found when it exists, even
    without plug-ins/ (Place.found); GIMP creates the profile when it first starts."""
    home = host.home
    if host.platform == "win32":
        roaming = host.dir_from_env("APPDATA", home / "AppData" / "Roaming")
        bases = [("", roaming / "GIMP", True)]
    elif host.platform == "darwin":
        bases = [("", home / "Library" / "Application Support" / "GIMP", True)]
    else:
        config = host.dir_from_env("XDG_CONFIG_HOME", home / ".config")
        bases = [
            ("", config / "GIMP", True),
            (" (Flatpak)", home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP", False),
            (" (Snap)", home / "snap" / "gimp" / "current" / ".config" / "GIMP", False),
        ]
    custom = gimp3_directory(host)
    places = []
    if custom is not None:
        places.append(Place(custom / "plug-ins", "GIMP 3", note="GIMP3_DIRECTORY"))
    for suffix, gimp_dir, native in bases:
        for version, profile in _gimp_profiles(gimp_dir):
            # GIMP3_DIRECTORY replaces the standard profile of a GIMP started with it; the
            # sandboxed ones (Flatpak, Snap) keep their own.
            shadowed = native and custom is not None
            label = f"GIMP {version}{suffix}"
            places.append(Place(profile / "plug-ins", label, shadowed=shadowed))
    return places


def krita_installed(host: Host) -> bool:
    """The krita program on PATH, or a Flatpak, Snap, Windows or macOS install of it."""
    if shutil.which("krita", path=host.env.get("PATH", "")):
        return True
    home = host.home
    if host.platform == "win32":
        roots = [host.env.get(k, "") for k in ("ProgramFiles", "ProgramW6432", "LOCALAPPDATA")]
        spots = [Path(r) / "Krita (x64)" / "bin" / "krita.exe" for r in roots if r]
        spots += [Path(r) / "Programs" / "Krita (x64)" / "bin" / "krita.exe" for r in roots if r]
    elif host.platform == "darwin":
        spots = [Path("/Applications/krita.app"), home / "Applications" / "krita.app"]
    else:
        spots = [
            Path("/var/lib/flatpak/app/org.kde.krita"),
            home / ".local" / "share" / "flatpak" / "app" / "org.kde.krita",
            Path("/snap/krita"),
        ]
    return any(spot.exists() for spot in spots)


KRITA = Editor(
    key="krita",
    title="Krita",
    package="recraft_krita",
    source="krita_plugin",
    extras=(
        Extra("recraft_krita.desktop", "recraft_krita.desktop"),
        # Krita reads .action files from the resource folder's actions/, beside pykrita/;
        # its own Import Python Plugin puts them there too.
        Extra(
            "recraft_krita.action",
            "../actions/recraft_krita.action",
            required=False,
            only_in="pykrita",
        ),
    ),
    places=krita_places,
    programs=krita_installed,
    switch=Switch("python", "enable_recraft_krita"),
    next_steps=(
        "Restart Krita (quit it completely first if it is open).",
        "The Recraft docker is under Settings › Dockers › Recraft.",
        "The actions are under Tools › Recraft.",
        "Put your Recraft token in Tools › Recraft › Settings (or run `recraft login`).",
    ),
    enable_by_hand=(
        "Start Krita and tick Recraft in Settings › Configure Krita › Python Plugin Manager."
    ),
    import_zip=(
        "In Krita: Tools › Scripts › Import Python Plugin from File, pick the zip, restart "
        "Krita, and tick Recraft in Settings › Configure Krita › Python Plugin Manager."
    ),
    folder_help="a Krita pykrita folder (e.g. ~/.local/share/krita/pykrita)",
    missing=(
        "No Krita plug-in folder was found, so nothing was installed for Krita. To install "
        "into a Krita that keeps its resources elsewhere, run this again with --krita DIR."
    ),
)

GIMP = Editor(
    key="gimp",
    title="GIMP",
    package="recraft",  # GIMP runs plug-ins/<name>/<name>.py: the folder and file share it
    source="gimp_plugin",
    extras=(),
    places=gimp_places,
    switch=None,  # GIMP runs every plug-in it finds
    next_steps=(
        "Restart GIMP (quit it completely first if it is open): it registers the plug-in as "
        "it starts.",
        "The Recraft procedures are under Filters › Recraft, and Remove Background also under "
        "Layer › Transparency › Remove Background (Recraft).",
        "Put your Recraft token in Filters › Recraft › Settings (or run `recraft login`).",
    ),
    enable_by_hand="",
    import_zip=(
        "For GIMP 3: unpack the zip into a plug-ins folder (GIMP lists them in Edit › "
        "Preferences › Folders › Plug-ins), so that plug-ins/recraft/recraft.py exists, and "
        "restart GIMP. Keep recraft.py executable (unzip does)."
    ),
    entry="recraft.py",
    executables=("recraft.py",),
    folder_help="a GIMP 3 plug-ins folder (e.g. ~/.config/GIMP/3.0/plug-ins)",
    missing=(
        "No GIMP 3 profile was found, so nothing was installed for GIMP. GIMP creates its "
        "profile when it first starts: start GIMP once, then run this installer again (or name "
        "a plug-ins folder with --gimp DIR)."
    ),
)

EDITORS: tuple[Editor, ...] = (KRITA, GIMP)
