"""The library's files: one folder per entry, written so that no crash leaves half of one.

    root/2026-05-09/20260509-143012-3f9a2c/result-1.png
                                          thumb-1.png
                                          source.png
                                          record.json

An entry's folder is named by its id, under a folder for its (local) day, so a person browsing
finds results by date. Every file is written under a temporary name (a dot first), flushed to
the disk and renamed into place; `record.json` is written last, the same way. So:

- a folder with a record.json is a whole entry: every file it names was complete before the
  record existed (the rename is atomic, and the data was on disk before it);
- a folder without one is an entry being written, or one a crash (or a delete) cut short:
  readers skip it, and `clean` removes it once it is an hour old (another process may still
  be writing it until then);
- two writers never share a folder: each makes its own with mkdir, which fails if it exists.

Later changes (an insertion noted, thumbnails added) write new files the same way and then
replace record.json by rename: a reader sees the old record or the new one. A power cut can
lose the entries of its last seconds (see write_record), never leave half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from . import records
from .records import Entry

RECORD = "record.json"
TRASH = ".trash"
LOCK = ".lock"
# An entry folder with no record this old is a leftover: a writer takes well under a second.
STALE_SECONDS = 3600
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Windows refuses to replace a file another process has open (a reader, an indexer, an
# antivirus scan) for a moment: such renames are retried for up to this long.
_REPLACE_PATIENCE = 2.0


def new_id(moment: datetime) -> str:
    """Local date and time (the folder a person looks in) and 24 random bits."""
    return moment.astimezone().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def folder_of(root: Path, entry_id: str) -> Path:
    """The folder of an id; ValueError for anything that is not an id (a path, say)."""
    if not isinstance(entry_id, str) or not records.ID_PATTERN.match(entry_id):
        raise ValueError(f"{entry_id!r} is not a library entry id")
    return root / records.day_folder(entry_id) / entry_id


def make_folder(root: Path, moment: datetime) -> tuple[str, Path]:
    """A new, empty entry folder of its own: (id, folder)."""
    for _ in range(100):
        entry_id = new_id(moment)
        folder = folder_of(root, entry_id)
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir()
        except FileExistsError:
            continue  # the same second and the same random bits: draw again
        except FileNotFoundError:
            continue  # `clean` removed the empty day folder in between: make it again
        return entry_id, folder
    raise OSError(f"could not make an entry folder in {root}")


# -- writing -----------------------------------------------------------------------------------


def write_file(folder: Path, name: str, data) -> int:
    """`data` as `folder/name`, whole or not at all, its bytes on the disk before its name
    (fsync, then rename); returns its size."""
    tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            _sync(f.fileno())
        replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(data)


def write_record(entry: Entry) -> None:
    """The record, last: from this rename on, the entry exists.

    The folder is synced first, so the names of the files the record names reach the disk
    before the record can (each file's bytes reached it before its name). After a power
    cut, then, an entry is whole or absent; one recorded in the last seconds before it may
    be absent (the folder is not synced again after the rename: that would cost every
    record a second journal commit, and consistency does not need it)."""
    text = json.dumps(records.to_json(entry), ensure_ascii=False, indent=1)
    sync_folder(entry.folder)
    write_file(entry.folder, RECORD, text.encode("utf-8"))


def replace(source: Path, target: Path) -> None:
    deadline = time.monotonic() + _REPLACE_PATIENCE
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if sys.platform != "win32" or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sync(fd: int) -> None:
    # macOS's fsync leaves the data in the drive's cache; F_FULLFSYNC is what reaches the disk.
    if sys.platform == "darwin":
        import fcntl

        try:
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
        except OSError:
            pass  # some file systems (network shares) refuse it: fsync is the best left
    os.fsync(fd)


def sync_folder(folder: Path) -> None:
    """Make a folder's new names durable (POSIX); Windows cannot open folders for this and
    NTFS journals renames itself."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems do not sync folders; the files themselves were synced
    finally:
        os.close(fd)


# -- reading -----------------------------------------------------------------------------------


def read_record(folder: Path | str) -> Entry | None:
    """The entry in `folder`, or None when it has no whole record (being written, cut
    short, or not one of ours)."""
    folder = Path(folder)
    try:
        data = json.loads((folder / RECORD).read_bytes())
        entry = records.from_json(data, folder.parent.parent)
    except (OSError, ValueError):
        return None
    return entry if entry.id == folder.name else None


def stamp(folder: Path | str) -> str | None:
    """What changes whenever the folder's record is replaced (its time and size), or None
    when it has none: how an index tells a record it holds from a newer one."""
    try:
        st = os.stat(os.path.join(folder, RECORD))
    except OSError:
        return None
    return f"{st.st_mtime_ns}:{st.st_size}"


def scan(root: Path) -> Iterator[tuple[str, str]]:
    """(id, folder) of every entry folder, whole or not, in no particular order. Folders
    as strings: a Path each costs more than the stat that follows, over 10,000 entries."""
    try:
        days = [d.path for d in os.scandir(root) if _DAY.match(d.name) and d.is_dir()]
    except FileNotFoundError:
        return
    for day in days:
        try:
            with os.scandir(day) as found:
                for e in found:
                    if records.ID_PATTERN.match(e.name) and e.is_dir():
                        yield e.name, e.path
        except FileNotFoundError:
            continue  # removed meanwhile by another process's clean


# -- removing ----------------------------------------------------------------------------------


def remove(root: Path, entry_id: str) -> None:
    """Remove an entry: its record first (from then on it is no entry, whatever happens
    next), then its folder, moved to the trash at once where the system allows."""
    folder = folder_of(root, entry_id)
    (folder / RECORD).unlink(missing_ok=True)
    trash = root / TRASH
    try:
        trash.mkdir(exist_ok=True)
        target = trash / f"{entry_id}-{secrets.token_hex(3)}"
        os.replace(folder, target)
        folder = target
    except OSError:
        pass  # a file inside is open (Windows): removed where it lies, or by clean later
    shutil.rmtree(folder, ignore_errors=True)


def clean(root: Path, leftovers: list[str], now: float | None = None) -> int:
    """Remove what crashes and deletes left: the trash, the `leftovers` (entry folders with
    no record, found by the caller's scan) once an hour old, and empty day folders before
    yesterday. Returns how many entry folders went."""
    now = time.time() if now is None else now
    shutil.rmtree(root / TRASH, ignore_errors=True)
    removed = 0
    for folder in leftovers:
        try:
            if now - os.stat(folder).st_mtime > STALE_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    recent = {time.strftime("%Y-%m-%d", time.localtime(now - d * 86400)) for d in (0, 1)}
    for day in os.scandir(root) if root.is_dir() else ():
        if _DAY.match(day.name) and day.name not in recent:
            with contextlib.suppress(OSError):
                os.rmdir(day.path)  # only when empty
    return removed


def clean_temporary(folder: Path) -> None:
    """Remove the temporary files of rewrites a crash cut short. Called under the library's
    lock, with the record present: then no other writer has a file being written here."""
    for f in os.scandir(folder):
        if f.name.startswith(".") and f.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                os.unlink(f.path)
