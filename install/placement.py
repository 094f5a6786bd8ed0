"""Putting a plug-in into one plug-in folder and taking it out again.

An upgrade builds the new package in a hidden sibling folder and swaps it in with two renames,
so the editor never sees half a plug-in, and a failure leaves the old one in place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import payload
import vendor as vendoring
from editors import Editor, Place
from errors import InstallError


def target(folder: Path, relative: str) -> Path:
    """A manifest path on disk; normpath, not resolve: a symlinked folder must stay a link."""
    return Path(os.path.normpath(folder / relative.rstrip("/")))


def shown(folder: Path, relative: str) -> str:
    return str(target(folder, relative)) if relative.startswith("..") else relative


def known_paths(editor: Editor) -> list[str]:
    """Everything an install of this editor's plug-in may have put into a plug-in folder."""
    return [editor.package + "/", *(extra.target for extra in editor.extras)]


def remove(path: Path) -> None:
    # A symlink (a --link install, or a developer's own link to a checkout) is unlinked,
    # never followed: rmtree through it would delete the checkout.
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


def _leftovers(folder: Path, editor: Editor) -> list[Path]:
    """Staging folders of an install that was interrupted."""
    if not folder.is_dir():
        return []
    prefix = f".{editor.package}-"
    return [p for p in folder.iterdir() if p.name.startswith(prefix) and not p.is_symlink()]


def describe(manifest: dict | None) -> str:
    if not manifest:
        return "an earlier install"
    return f"{manifest.get('version', '?')}, {manifest.get('mode', 'copy')}"


def install_into(
    place: Place,
    source: payload.Source,
    vendor: vendoring.Vendor | None,
    link: bool,
    dry_run: bool,
) -> list[str]:
    """Install into `place`; what was done (or would be, with dry_run), one line per step.

    `vendor` may be None only with dry_run: the folder is not built for a dry run.
    """
    editor, folder = source.editor, place.folder
    package_dir = folder / editor.package
    lines = []
    if not folder.is_dir():
        lines.append(f"created {folder}")
    old = payload.read_manifest(package_dir) if package_dir.is_dir() else None
    if os.path.lexists(package_dir):
        lines.append(f"replaced {editor.package}/ ({describe(old)})")
    else:
        lines.append(f"added {editor.package}/")
    paths = [editor.package + "/", *(extra.target for extra, _ in source.extras)]
    lines += [f"{'linked' if link else 'wrote'} {shown(folder, p)}" for p in paths[1:]]
    stale = [p for p in (old or {}).get("paths", []) if p in known_paths(editor) and p not in paths]
    stale = [p for p in stale if os.path.lexists(target(folder, p))]
    lines += [f"removed {shown(folder, p)} (no longer part of the plug-in)" for p in stale]
    if dry_run:
        return lines

    assert vendor is not None
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in _leftovers(folder, editor):
        remove(leftover)
    stage = Path(tempfile.mkdtemp(dir=folder, prefix=f".{editor.package}-"))
    try:
        new = stage / editor.package
        payload.build_package(source, vendor, new, link)
        if not link:
            _touch_executables(new, package_dir, editor)
        payload.write_manifest(new, payload.manifest(source, vendor, link, paths))
        _swap(new, package_dir, stage / "old", editor)
    finally:
        if stage.exists():
            remove(stage)

    for extra, path in source.extras:
        _put_file(path, target(folder, extra.target), link)
    for p in stale:
        remove(target(folder, p))
    return lines


def _touch_executables(new: Path, old: Path, editor: Editor) -> None:
    """Give each executable a modification time of its own, later than the old copy's.

    GIMP keeps what a plug-in registered in pluginrc and asks the plug-in again only when its
    file's modification time differs from the one recorded there. A copy keeps the checkout's
    time, which need not change when only recraft_core (the procedures' arguments) did.
    """
    now = time.time()
    for name in editor.executables:
        try:
            before = (old / name).stat().st_mtime
        except OSError:
            before = 0.0
        stamp = max(now, before + 1)
        os.utime(new / name, (stamp, stamp))


def _swap(new: Path, package_dir: Path, parking: Path, editor: Editor) -> None:
    had_old = os.path.lexists(package_dir)
    if had_old:
        try:
            os.rename(package_dir, parking)
        except OSError as e:
            raise InstallError(
                f"Could not move the old {package_dir} aside ({e.strerror}). "
                f"Quit {editor.title} and run this again."
            ) from e
    try:
        os.rename(new, package_dir)
    except OSError:
        if had_old:
            os.rename(parking, package_dir)
        raise


def _put_file(source: Path, dest: Path, link: bool) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}-new")
    if os.path.lexists(tmp):
        remove(tmp)
    if link:
        os.symlink(source, tmp)
    else:
        shutil.copy2(source, tmp)
    os.replace(tmp, dest)


def installed_here(place: Place, editor: Editor) -> list[str]:
    """The known names present in `place`: what --uninstall would remove."""
    return [p for p in known_paths(editor) if os.path.lexists(target(place.folder, p))]


def uninstall_from(place: Place, editor: Editor, dry_run: bool) -> list[str]:
    present = installed_here(place, editor)
    lines = [f"removed {shown(place.folder, p)}" for p in present]
    if not dry_run:
        for p in present:
            remove(target(place.folder, p))
        for leftover in _leftovers(place.folder, editor):
            remove(leftover)
    return lines
