"""What a plug-in folder receives: the plug-in's package from the checkout with its vendor/
folder (recraft_core and the third-party packages), VERSIONS.txt and the install manifest.

The manifest, INSTALLED.json in the package, is the installer's marker: it lists every file and
folder the installer put into the package, and each file it put beside it, so that an upgrade
or --uninstall replaces or removes those and nothing else (placement.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import vendor as vendoring
from editors import Editor, Extra
from errors import InstallError

MANIFEST = "INSTALLED.json"
VERSIONS = "VERSIONS.txt"
VENDOR = "vendor"
CORE = "recraft_core"
# Written since the first installer; its zips carry it too.
VERSIONS_HEADER = "# What {package}/vendor holds; written by install/install.py."
# What the manifest holds; 1 (no number) listed only the top-level paths.
MANIFEST_FORMAT = 2


@dataclass(frozen=True)
class Source:
    """An editor's plug-in as it is in the checkout."""

    editor: Editor
    checkout: Path
    package: Path  # e.g. krita_plugin/recraft_krita
    extras: tuple[tuple[Extra, Path], ...]  # the extras present, with their files
    core: Path  # core/recraft_core
    version: str

    @classmethod
    def find(cls, editor: Editor, checkout: Path) -> Source:
        root = checkout / editor.source
        package = root / editor.package
        core = checkout / "core" / CORE
        if not (package / editor.entry).is_file():
            raise InstallError(
                f"The {editor.title} plug-in is not in this checkout: "
                f"{package / editor.entry} is missing. Run this from a complete checkout."
            )
        if not (core / "__init__.py").is_file():
            raise InstallError(f"recraft_core is not in this checkout: {core} is missing.")
        extras = []
        for extra in editor.extras:
            path = root / extra.source
            if path.is_file():
                extras.append((extra, path))
            elif extra.required:
                raise InstallError(f"The {editor.title} plug-in is incomplete: {path} is missing.")
        return cls(editor, checkout, package, tuple(extras), core, core_version(core))


def core_version(core: Path) -> str:
    # Read, not imported: importing recraft_core would need requests in this Python.
    text = (core / "_version.py").read_text(encoding="utf-8")
    match = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    if not match:
        raise InstallError(f"No __version__ in {core / '_version.py'}.")
    return match.group(1)


def _ignore_for_package(top: Path):
    """Not copied: bytecode anywhere, and at the top what an install adds itself (vendor/,
    the manifest), should a developer's checkout have them."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if Path(directory) == top:
            skipped |= {n for n in names if n in (VENDOR, MANIFEST)}
        return skipped

    return ignore


def listing(root: Path, ignore: Callable[[str, list[str]], set[str]] | None = None) -> list[str]:
    """Every entry under `root`, relative and "/"-separated, sorted: folders end in "/", and
    a symlink is an entry of its own, never followed. `ignore` as for shutil.copytree."""

    def fail(error: OSError) -> None:
        raise error  # an unreadable folder must not pass for an empty one

    found = []
    for here, dirs, files in os.walk(root, onerror=fail):
        skipped = ignore(here, dirs + files) if ignore else set()
        relative = Path(here).relative_to(root)
        walk_into = []
        for name in dirs:
            if name in skipped:
                continue
            if (Path(here) / name).is_symlink():
                found.append((relative / name).as_posix())
            else:
                found.append((relative / name).as_posix() + "/")
                walk_into.append(name)
        dirs[:] = walk_into
        found += [(relative / name).as_posix() for name in files if name not in skipped]
    return sorted(found)


def shipped(source: Source) -> list[str]:
    """The package's entries as an install copies them from the checkout (vendor/ and the
    manifest aside), in the form of listing()."""
    return listing(source.package, _ignore_for_package(source.package))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_entries(source: Source) -> list[Path]:
    """The package's top-level files and folders that are installed."""
    names = [p.name for p in source.package.iterdir()]
    skipped = _ignore_for_package(source.package)(str(source.package), names)
    return sorted(source.package / name for name in names if name not in skipped)


def build_package(source: Source, vendor: vendoring.Vendor, dest: Path, link: bool) -> None:
    """Create the installed package at `dest`, which must not exist.

    `link` makes the plug-in's own files and recraft_core symlinks into the checkout, so edits
    show up on Krita's next start; vendor/ stays a real folder either way.
    """
    if link:
        dest.mkdir()
        for entry in package_entries(source):
            _symlink(entry, dest / entry.name)
    else:
        shutil.copytree(source.package, dest, ignore=_ignore_for_package(source.package))
    vendoring.copy_third_party(vendor, dest / VENDOR)
    if link:
        _symlink(source.core, dest / VENDOR / CORE)
    else:
        shutil.copytree(source.core, dest / VENDOR / CORE, ignore=_ignore_for_package(source.core))
    write_versions(dest / VENDOR / VERSIONS, source, vendor)
    for name in source.editor.executables:
        # GIMP runs plug-ins/<name>/<name>.py only if it is executable. Through a --link
        # symlink this sets the bit on the checkout's file, which git records as 0755 anyway.
        path = dest / name
        mode = path.stat().st_mode
        if mode & 0o111 != 0o111:
            path.chmod(mode | 0o111)


def write_versions(path: Path, source: Source, vendor: vendoring.Vendor) -> None:
    lines = [
        VERSIONS_HEADER.format(package=source.editor.package),
        f"recraft_core=={source.version}",
        *(f"{name}=={version}" for name, version in sorted(vendor.versions.items())),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def manifest(
    source: Source,
    vendor: vendoring.Vendor,
    link: bool,
    paths: list[str],
    files: list[str],
    placed: dict[str, dict],
) -> dict:
    """The installer's marker. `paths`: what it put into the plug-in folder, relative to it
    (the package, the extras); `files`: every entry of the package, as listing() gives them;
    `placed`: each extra's full path with its SHA-256 (or, linked, the link's target)."""
    return {
        "format": MANIFEST_FORMAT,
        "plugin": source.editor.package,
        "editor": source.editor.key,
        "version": source.version,
        "mode": "link" if link else "copy",
        "installed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "checkout": str(source.checkout),
        # Relative to the plug-in folder; --uninstall removes these and nothing else.
        "paths": paths,
        "placed": placed,
        "files": files,
        "vendor": {"recraft_core": source.version, **vendor.versions},
    }


def write_manifest(package_dir: Path, data: dict) -> None:
    (package_dir / MANIFEST).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def read_manifest(package_dir: Path) -> dict | None:
    try:
        data = json.loads((package_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _symlink(target: Path, link: Path) -> None:
    try:
        os.symlink(target, link, target_is_directory=target.is_dir())
    except OSError as e:
        raise InstallError(
            f"Could not create the symlink {link} -> {target} ({e.strerror}). --link needs "
            "symlinks (on Windows: Developer Mode or an administrator); install without --link."
        ) from e
