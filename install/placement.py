"""Putting a plug-in into one plug-in folder and taking it out again.

An upgrade builds the new package in a hidden sibling folder and swaps it in with two renames,
so the editor never sees half a plug-in, and a failure leaves the old one in place.

Only what the installer put there is replaced or removed. Its marker is the package's
INSTALLED.json (payload.py): every entry it put into the package, and each file it put beside
it. A package without that list is taken for an earlier install of the plug-in only beyond
doubt (examine); anything else at the plug-in's names is left as it is, and the message names
it. A file that belongs outside the plug-in folder (Krita's ../actions/*.action) is written
only into the editor's own folder beside it (Extra.only_in), and removed only when the marker
lists it at that very place and it is still the file that was written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import payload
import vendor as vendoring
from editors import Editor, Extra, Place, same_folder
from errors import InstallError

# The random part of tempfile.mkdtemp's names: a staging folder of an interrupted run.
_STAGING = re.compile(r"[a-z0-9_]{8}")
# What a vendor/ folder built by this installer may hold (its top level; the packages' own
# insides are not looked into).
_PACKAGES = "|".join(re.escape(n) for n in (payload.CORE, *vendoring.PACKAGES))
_DISTS = "|".join(re.escape(n) for n in vendoring.PACKAGES)
_VENDORED = re.compile(
    rf"{payload.VENDOR}/(?:|{re.escape(payload.VERSIONS)}|(?:{_PACKAGES})(?:/.*)?"
    rf"|(?:{_DISTS})-[^/]+\.dist-info(?:/.*)?)"
)
_NAMED_AT_MOST = 5


def target(folder: Path, relative: str) -> Path:
    """A manifest path on disk; normpath, not resolve: a symlinked folder must stay a link."""
    return Path(os.path.normpath(folder / relative.rstrip("/")))


def shown(folder: Path, relative: str) -> str:
    return str(target(folder, relative)) if climbs_out(relative) else relative


def climbs_out(relative: str) -> bool:
    return relative.startswith("..")


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


# What file managers leave in a folder that was looked at (Finder, Explorer).
_LITTER = (".DS_Store", "Thumbs.db", "desktop.ini")


def byproduct(entry: str) -> bool:
    """Bytecode Python writes beside the modules the editor imports, and what a file manager
    leaves in a folder it showed: neither the installer's files nor the user's, and gone with
    the package."""
    parts = entry.rstrip("/").split("/")
    if entry.endswith("/"):
        return parts[-1] == "__pycache__"
    if parts[-1] in _LITTER:
        return True
    return len(parts) > 1 and parts[-2] == "__pycache__" and entry.endswith((".pyc", ".pyo"))


def _leftovers(folder: Path, editor: Editor) -> list[Path]:
    """Staging folders of an install that was interrupted (named as install_into names them)."""
    if not folder.is_dir():
        return []
    prefix = f".{editor.package}-"
    return [
        p
        for p in folder.iterdir()
        if p.name.startswith(prefix)
        and _STAGING.fullmatch(p.name[len(prefix) :])
        and p.is_dir()
        and not p.is_symlink()
    ]


def describe(manifest: dict | None) -> str:
    if not manifest:
        return "an earlier install"
    return f"{manifest.get('version', '?')}, {manifest.get('mode', 'copy')}"


def _some(entries: list[str]) -> str:
    """The first few entries, a folder standing for what it holds."""
    folders = [e for e in entries if e.endswith("/")]
    entries = [e for e in entries if not any(e != f and e.startswith(f) for f in folders)]
    named = ", ".join(entries[:_NAMED_AT_MOST])
    more = len(entries) - _NAMED_AT_MOST
    return f"{named} and {more} more" if more > 0 else named


# -- what is there ----------------------------------------------------------------------------


@dataclass
class Found:
    """What is at the plug-in's names in one plug-in folder."""

    # "absent": nothing; "ours": a package with the installer's marker; "earlier": an install
    # of the plug-in from before the marker listed its files, or unpacked from its zip;
    # "foreign": something the installer did not put there, left alone (`problem` says so).
    kind: str
    manifest: dict | None = None
    problem: str = ""
    # "ours": entries inside the package its marker does not list (bytecode aside).
    unlisted: list[str] = field(default_factory=list)
    how: str = ""  # "earlier": said in the report


def examine(
    folder: Path, editor: Editor, source: payload.Source | None, uninstall: bool = False
) -> Found:
    """What is at the plug-in's names in `folder`, and whether the installer may touch it.

    `source`, the plug-in in this checkout, serves to recognise an earlier install without a
    marker (None: it is not recognised). For an uninstall, a file beside the package counts as
    the installer's only when the package's marker vouches for it.
    """
    package_dir = folder / editor.package
    beside = [
        e
        for e in editor.extras
        if not climbs_out(e.target) and os.path.lexists(target(folder, e.target))
    ]
    if not os.path.lexists(package_dir):
        strays = [
            e.target
            for e in beside
            if uninstall or not _same_file(target(folder, e.target), _shipped_file(source, e))
        ]
        if strays:
            return Found("foreign", problem=_strays(folder, editor, strays, uninstall))
        return Found("absent")
    if package_dir.is_symlink() or not package_dir.is_dir():
        what = "a symlink" if package_dir.is_symlink() else "a file"
        why = f"it is {what}, not a folder the installer makes"
        return Found("foreign", problem=_not_ours(package_dir, why, uninstall))

    manifest = payload.read_manifest(package_dir)
    if not _is_marker(manifest, editor):
        manifest = None
    entries = payload.listing(package_dir)
    files = manifest.get("files") if manifest else None
    if isinstance(files, list) and _format(manifest) >= payload.MANIFEST_FORMAT:
        listed = {e for e in files if isinstance(e, str)} | {payload.MANIFEST}
        unlisted = [e for e in entries if e not in listed and not byproduct(e)]
        found = Found("ours", manifest, unlisted=unlisted)
    else:
        found = _earlier(package_dir, editor, source, manifest, entries, uninstall)
        if found.kind == "foreign":
            return found
    strays = [e.target for e in beside if not _vouched(folder, editor, e, found, source)]
    if strays:
        return Found("foreign", problem=_strays(folder, editor, strays, uninstall))
    return found


def _is_marker(manifest: dict | None, editor: Editor) -> bool:
    return (
        isinstance(manifest, dict)
        and manifest.get("plugin") == editor.package
        and manifest.get("editor") == editor.key
        and isinstance(manifest.get("paths"), list)
        and editor.package + "/" in manifest["paths"]
    )


def _format(manifest: dict) -> int:
    number = manifest.get("format", 1)
    return number if isinstance(number, int) else 0


def _earlier(
    package_dir: Path,
    editor: Editor,
    source: payload.Source | None,
    manifest: dict | None,
    entries: list[str],
    uninstall: bool,
) -> Found:
    """An install of the plug-in whose marker lists no files: made by an earlier installer
    (its INSTALLED.json lists the top-level paths only) or unpacked from the plug-in's zip
    (Krita's Import Python Plugin, unzip for GIMP). Taken for one only when it holds nothing
    the plug-in does not ship, has its entry file, and carries either that earlier marker,
    the vendor/VERSIONS.txt the installer's builds write, or only files identical to this
    checkout's."""
    if source is None:
        why = (
            f"it has no {payload.MANIFEST} listing the installer's files, and without the "
            "plug-in in this checkout the installer cannot tell an earlier install of its own"
        )
        return Found("foreign", problem=_not_ours(package_dir, why, uninstall))
    own = set(payload.shipped(source))
    own |= {e.rstrip("/") for e in own if "/" not in e.rstrip("/")}  # --link: top-level links
    unexpected = [
        e
        for e in entries
        if e not in own
        and e != payload.MANIFEST
        and not byproduct(e)
        and not _VENDORED.fullmatch(e)
    ]
    recognised = (
        manifest is not None
        or _versions_header(package_dir, editor)
        or _identical(package_dir, source, entries)
    )
    if not recognised or editor.entry not in entries:
        why = (
            f"it has no {payload.MANIFEST} listing the installer's files, and it is not a copy "
            "of the Recraft plug-in the installer recognises"
        )
        return Found("foreign", problem=_not_ours(package_dir, why, uninstall))
    if unexpected:
        why = (
            "it looks like an earlier install of the Recraft plug-in, but it holds what the "
            f"plug-in does not ship: {_some(unexpected)}"
        )
        return Found("foreign", problem=_not_ours(package_dir, why, uninstall))
    how = describe(manifest) if manifest else f"an earlier copy, without {payload.MANIFEST}"
    return Found("earlier", manifest, how=how)


def _versions_header(package_dir: Path, editor: Editor) -> bool:
    try:
        with (package_dir / payload.VENDOR / payload.VERSIONS).open(encoding="utf-8") as f:
            first = f.readline(500).rstrip("\r\n")
    except (OSError, ValueError):
        return False
    return first == payload.VERSIONS_HEADER.format(package=editor.package)


def _identical(package_dir: Path, source: payload.Source, entries: list[str]) -> bool:
    """Every file outside vendor/ is, byte for byte, the checkout's file of that name."""
    files = [
        e
        for e in entries
        if not e.endswith("/")
        and not e.startswith(payload.VENDOR + "/")
        and e != payload.MANIFEST
        and not byproduct(e)
    ]
    return bool(files) and all(
        _same_file(package_dir / e, source.package / e, follow=True) for e in files
    )


def _shipped_file(source: payload.Source | None, extra: Extra) -> Path | None:
    if source is None:
        return None
    return next((path for e, path in source.extras if e.target == extra.target), None)


def _same_file(path: Path, shipped: Path | None, follow: bool = False) -> bool:
    """`path` is the file the plug-in ships (a link to it, for a --link install)."""
    if shipped is None or not shipped.is_file():
        return False
    try:
        if path.is_symlink() and not follow:
            return os.readlink(path) == str(shipped)
        if not path.is_file() or path.stat().st_size != shipped.stat().st_size:
            return False
        return path.read_bytes() == shipped.read_bytes()
    except OSError:
        return False


def _names_package(path: Path, editor: Editor) -> bool:
    """A file that declares this very package (Krita's .desktop: X-KDE-Library=recraft_krita)."""
    try:
        with path.open("rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    name = re.escape(editor.package.encode())
    return re.search(rb"(?m)^[^=\n]*=[ \t]*" + name + rb"[ \t]*\r?$", head) is not None


def _vouched(
    folder: Path, editor: Editor, extra: Extra, found: Found, source: payload.Source | None
) -> bool:
    """A file beside the package (inside the plug-in folder) that goes with it."""
    path = target(folder, extra.target)
    if extra.target in (found.manifest or {}).get("paths", []):
        return True
    if _same_file(path, _shipped_file(source, extra)):
        return True
    # Unpacked from the plug-in's zip, with an earlier package: the file that declares it.
    return found.kind == "earlier" and _names_package(path, editor)


def _editors_folder(folder: Path, extra: Extra) -> bool:
    """Whether `extra` may go where it climbs to from `folder` (see Extra.only_in)."""
    if not climbs_out(extra.target):
        return True
    return bool(extra.only_in) and os.path.normcase(folder.name) == os.path.normcase(extra.only_in)


def _as_recorded(path: Path, record: object) -> bool:
    """`path` is where the marker says the file was written, and still what was written."""
    if not isinstance(record, dict) or not isinstance(record.get("path"), str):
        return False
    recorded = Path(record["path"])
    if os.path.normcase(recorded.name) != os.path.normcase(path.name):
        return False
    if not same_folder(recorded.parent, path.parent):
        return False
    try:
        if "link" in record:
            return path.is_symlink() and os.readlink(path) == record["link"]
        if path.is_symlink() or not path.is_file():
            return False
        return payload.sha256(path) == record.get("sha256")
    except OSError:
        return False


def _outside_ours(path: Path, extra: Extra, found: Found, shipped: Path | None) -> bool:
    """Whether the file at `path`, outside the plug-in folder, is the installer's to replace
    or remove: the marker lists it, written there, and it is unchanged; or it is the very file
    `shipped` (replacing it changes nothing)."""
    manifest = found.manifest or {}
    placed = manifest.get("placed")
    record = placed.get(extra.target) if isinstance(placed, dict) else None
    listed = found.kind == "ours" and extra.target in manifest.get("paths", [])
    return (listed and _as_recorded(path, record)) or _same_file(path, shipped)


def _not_ours(package_dir: Path, why: str, uninstall: bool) -> str:
    if uninstall:
        advice = "If it is a copy of the Recraft plug-in you no longer want, remove it yourself."
    else:
        advice = (
            "Move it elsewhere (or, if it is an old copy of the Recraft plug-in, remove it "
            "yourself), then run this again: the plug-in is installed under that very name."
        )
    return (
        f"{package_dir} was not put there by this installer: {why}. It is left as it is. {advice}"
    )


def _strays(folder: Path, editor: Editor, strays: list[str], uninstall: bool) -> str:
    names = ", ".join(str(target(folder, s)) for s in strays)
    why = f"no install of the plug-in beside it ({editor.package}/) lists it"
    if uninstall:
        advice = "If it is left over from the Recraft plug-in, remove it yourself."
    else:
        advice = (
            "Move it elsewhere (or, if it is left over from the Recraft plug-in, remove it "
            "yourself), then run this again."
        )
    return f"{names} was not put there by this installer: {why}. It is left as it is. {advice}"


# -- installing ---------------------------------------------------------------------------------


def install_into(
    place: Place,
    source: payload.Source,
    vendor: vendoring.Vendor | None,
    link: bool,
    dry_run: bool,
) -> list[str]:
    """Install into `place`; what was done (or would be, with dry_run), one line per step.

    InstallError, with nothing changed, when something at the plug-in's names is not the
    installer's (examine). `vendor` may be None only with dry_run: the folder is not built
    for a dry run.
    """
    editor, folder = source.editor, place.folder
    package_dir = folder / editor.package
    found = examine(folder, editor, source)
    if found.kind == "foreign":
        raise InstallError(found.problem)
    if found.unlisted:
        raise InstallError(
            f"{package_dir} holds what this installer did not put there: "
            f"{_some(found.unlisted)}. Nothing was changed. Move that out of "
            f"{editor.package}/ (an upgrade replaces the whole folder), then run this again."
        )
    old = found.manifest
    lines = []
    if not folder.is_dir():
        lines.append(f"created {folder}")
    if found.kind == "ours":
        lines.append(f"replaced {editor.package}/ ({describe(old)})")
    elif found.kind == "earlier":
        lines.append(f"replaced {editor.package}/ ({found.how})")
    else:
        lines.append(f"added {editor.package}/")

    extras: list[tuple[Extra, Path, Path]] = []  # what goes beside it: from, to
    for extra, path in source.extras:
        dest = target(folder, extra.target)
        name = extra.target.rsplit("/", 1)[-1]
        if not _editors_folder(folder, extra):
            lines.append(
                f"left out {name}: {editor.title} reads it from "
                f"{extra.target.rsplit('/', 1)[0]}/ beside a folder named {extra.only_in}/, "
                f"and {folder.name}/ is not one, so nothing is written outside {folder}"
            )
            continue
        outside = climbs_out(extra.target) and os.path.lexists(dest)
        if outside and not _outside_ours(dest, extra, found, path):
            lines.append(
                f"left {dest} as it is: this installer did not write it (or it changed "
                f"since); remove it and run this again to get the plug-in's own {name}"
            )
            continue
        extras.append((extra, path, dest))
    paths = [editor.package + "/", *(extra.target for extra, _, _ in extras)]
    lines += [f"{'linked' if link else 'wrote'} {shown(folder, p)}" for p in paths[1:]]

    stale = []
    for p in (old or {}).get("paths", []):
        if p not in known_paths(editor) or p in paths or p == editor.package + "/":
            continue
        dest = target(folder, p)
        if not os.path.lexists(dest):
            continue
        extra = next(e for e in editor.extras if e.target == p)
        if not climbs_out(p) or (
            _editors_folder(folder, extra) and _outside_ours(dest, extra, found, None)
        ):
            stale.append(p)
            lines.append(f"removed {shown(folder, p)} (no longer part of the plug-in)")
        elif _editors_folder(folder, extra):
            lines.append(f"left {dest} as it is: this installer did not write it (or it changed)")
    if dry_run:
        return lines

    assert vendor is not None
    placed = {
        extra.target: {"path": str(dest), "link": str(path)}
        if link
        else {"path": str(dest), "sha256": payload.sha256(path)}
        for extra, path, dest in extras
    }
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in _leftovers(folder, editor):
        remove(leftover)
    stage = Path(tempfile.mkdtemp(dir=folder, prefix=f".{editor.package}-"))
    try:
        new = stage / editor.package
        payload.build_package(source, vendor, new, link)
        if not link:
            _touch_executables(new, package_dir, editor)
        files = payload.listing(new)
        payload.write_manifest(new, payload.manifest(source, vendor, link, paths, files, placed))
        _swap(new, package_dir, stage / "old", editor)
    finally:
        if stage.exists():
            remove(stage)

    for _, path, dest in extras:
        _put_file(path, dest, link)
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


# -- uninstalling -------------------------------------------------------------------------------


def uninstall_from(
    place: Place, editor: Editor, found: Found, source: payload.Source | None, dry_run: bool
) -> list[str]:
    """Remove what `found` (examine(..., uninstall=True), "ours" or "earlier") says the
    installer put into `place`, and nothing else; one line per step."""
    assert found.kind in ("ours", "earlier"), found.kind
    folder = place.folder
    package_dir = folder / editor.package
    listed = (found.manifest or {}).get("paths", [])
    lines: list[str] = []
    doomed: list[Path] = []
    for extra in editor.extras:
        dest = target(folder, extra.target)
        if not os.path.lexists(dest):
            continue
        if not climbs_out(extra.target):  # inside the folder: examine vouched for it
            doomed.append(dest)
            lines.append(f"removed {extra.target}")
            continue
        if not _editors_folder(folder, extra):
            continue  # never looked at: it is outside the folder
        # Outside the folder: only the file the marker lists there, unchanged; from an
        # earlier marker (no record of it), only when it is the very file the plug-in ships.
        shipped = _shipped_file(source, extra) if found.kind == "earlier" else None
        if extra.target in listed and _outside_ours(dest, extra, found, shipped):
            doomed.append(dest)
            lines.append(f"removed {dest}")
        else:
            lines.append(
                f"left {dest} as it is: the installer's {payload.MANIFEST} does not list it "
                "as written there, or it changed since"
            )
    if found.unlisted:
        lines.append(
            f"removed what the installer put in {editor.package}/; kept {editor.package}/ "
            f"with what it did not put there: {_some(found.unlisted)}"
        )
    else:
        lines.append(f"removed {editor.package}/")
    if not dry_run:
        for path in doomed:
            remove(path)
        # The package last: its marker stays while anything it vouches for is left.
        if found.unlisted:
            _remove_listed(package_dir, set(found.unlisted))
        else:
            remove(package_dir)
        for leftover in _leftovers(folder, editor):
            remove(leftover)
    return lines


def _remove_listed(package_dir: Path, kept: set[str]) -> None:
    """Remove every entry of the package but `kept`, deepest first; a folder holding
    something kept stays."""
    entries = payload.listing(package_dir)
    for entry in sorted(entries, key=lambda e: e.rstrip("/").count("/"), reverse=True):
        if entry in kept or entry == payload.MANIFEST:
            continue
        path = package_dir / entry.rstrip("/")
        if entry.endswith("/"):
            with contextlib.suppress(OSError):  # it holds what is kept
                path.rmdir()
        else:
            path.unlink()
    (package_dir / payload.MANIFEST).unlink(missing_ok=True)  # the marker last
