"""Library: every paid result on disk the moment it arrives, and the questions asked of them.

    lib = Library()                                   # the platform's data folder
    entry_id = lib.record("inpaint", result.images, params=params, front_end="krita",
                          document="photo.kra", credits=result.credits, source=raster)
    lib.mark_inserted(entry_id, "photo.kra: Recraft inpaint: a hat")
    lib.list(search="hat")                            # newest first
    lib.costs(by=("day", "operation"))

Files and crash safety are store.py's business, the questions index.py's (sqlite where this
Python has it, a scan of the records where not), the record's shape records.py's. A front end
that turns the library off simply has none (Library | None).

A Library is safe to share between the threads of a process: the index serves one thread at
a time, rewrites and deletes take a lock that also shuts out other processes, and Entries
never change once made. open_library() hands every caller of a process the same one.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..exceptions import RecraftError
from ..imaging import imageinfo, svg
from ..imaging.png import Raster
from . import index, locking, records, store, thumbnails
from .location import DEFAULT_CAP, default_root
from .records import Cost, Entry, Query, ResultFile

log = logging.getLogger("recraft_core.library")

SOURCE_THUMBNAIL = "source.png"
# A mask operation's blend (the selection's soft edge), one grey byte a pixel: what inserting
# its result again needs to look as the job's first insertion did (workflow.history).
EDGE = "edge.png"
# A library that fell back to reading the records because its index would not open (locked
# for long by another process, say) is opened anew by open_library after this long.
RETRY_INDEX_SECONDS = 30.0


class LibraryError(RecraftError):
    """The library could not be written or read (a full disk, a folder we may not write)."""

    advice = "Check that the library's folder (Settings) exists and can be written to."


class Library:
    def __init__(
        self,
        root: Path | str | None = None,
        *,
        cap_bytes: int | None = DEFAULT_CAP,
        use_sqlite: bool | None = None,
    ) -> None:
        """The library in `root` (made if missing; default: location.default_root()).
        `cap_bytes`: prune the oldest entries past this size after each record (None: no
        cap). `use_sqlite`: None for sqlite where this Python has it; False forces the scan
        of the records (what a Python without sqlite3 does)."""
        self.root = Path(root) if root is not None else default_root()
        self.cap_bytes = cap_bytes
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LibraryError(f"cannot make the library folder {self.root}: {e}") from e
        wanted = index.available() if use_sqlite is None else use_sqlite
        self._index = self._open_index(wanted)
        self._fell_back = wanted and not self.indexed
        self._opened_at = time.monotonic()
        self._scan = index.ScanIndex(self.root)  # answers when the index cannot
        # Changes the index missed, and how many of them the last sync made up for: a miss
        # while a sync runs (another thread's) is not forgotten by that sync.
        self._missed = self._made_up = 0
        self.sync()

    def _open_index(self, use_sqlite: bool):
        if use_sqlite:
            if not index.available():
                raise LibraryError("this Python has no sqlite3 (use_sqlite=True)")
            try:
                return index.SqliteIndex(self.root)
            except (index.sqlite3.Error, OSError) as e:
                log.warning("no library index in %s (%s); reading the records", self.root, e)
        return index.ScanIndex(self.root)

    @property
    def _stale(self) -> bool:
        """The index missed a change: sync before the next question."""
        return self._missed != self._made_up

    @_stale.setter
    def _stale(self, missed: bool) -> None:
        if missed:
            self._missed += 1
        else:
            self._made_up = self._missed

    @property
    def indexed(self) -> bool:
        """Whether sqlite answers (else a scan of the records)."""
        return isinstance(self._index, index.SqliteIndex)

    def close(self) -> None:
        """Let go of the index's file. The library still works: its next question opens
        it again (so a thread closing a library it shares does not break the others)."""
        self._index.close()

    @property
    def usable(self) -> bool:
        """Whether this library can serve on, for open_library's cache: its folder is there
        (emptied by deleting it, it is opened anew), and it has the index it asked for (or
        fell back to reading the records less than RETRY_INDEX_SECONDS ago)."""
        if not os.path.isdir(self.root):
            return False
        return not (self._fell_back and time.monotonic() - self._opened_at > RETRY_INDEX_SECONDS)

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Library({str(self.root)!r}, {'sqlite' if self.indexed else 'scan'})"

    # -- writing -----------------------------------------------------------------------------

    def record(
        self,
        operation: str,
        results: Sequence,
        *,
        model: str | None = None,
        params: dict | None = None,
        document: str | None = None,
        front_end: str = "cli",
        credits: int | None = None,
        source: Raster | None = None,
        pixels: Sequence[Raster | None] = (),
        placement: dict | None = None,
        edge: Raster | None = None,
    ) -> str:
        """Keep a call's results, as received, and what made them; returns the entry's id.

        `results`: each the bytes of a result (PNG, SVG, WEBP, JPEG) or an object with `data`
        and `image_id` (api.results.Image). `params`: what was sent, without the files; any
        key naming a token is dropped, and anything not JSON (bytes, pixels) too. `source`:
        the pixels sent, kept as a thumbnail only. `pixels`: the results' decoded pixels
        where the front end has them, for their thumbnails (or add_thumbnails later).
        `placement`: JSON the front end wants back to insert a result again (its box on the
        canvas...). `edge`: a mask operation's blend, grey pixels over the box
        `placement["edge"]` says (kept as edge.png, named there as its "file"; a placement
        is needed). The entry exists once this returns; a crash before leaves no trace of it.
        LibraryError when it cannot be written.
        """
        if front_end not in records.FRONT_ENDS:
            raise ValueError(f"front_end must be one of {records.FRONT_ENDS}, not {front_end!r}")
        items = [_result_bytes(r) for r in results]
        if not items:
            raise ValueError("there are no results to record")
        kept = records.scrub(params or {})
        place = records.scrub(placement) if isinstance(placement, dict) else None
        if edge is not None and edge.mode != "L":
            raise ValueError(f"an edge is grey pixels (L), not {edge.mode}")
        if model is None and isinstance(kept.get("model"), str):
            model = kept["model"]
        moment = records.utc_now()
        try:
            entry_id, folder = store.make_folder(self.root, moment)
        except OSError as e:
            raise LibraryError(f"could not keep the result in {self.root}: {e}") from e
        try:
            results_kept = []
            for i, (data, image_id) in enumerate(items):
                fmt = imageinfo.sniff(data)
                if fmt == "svg":
                    data, fmt = _safe_svg(data)
                name = f"result-{i + 1}.{imageinfo.EXTENSION.get(fmt, 'bin')}"
                store.write_file(folder, name, data)
                results_kept.append(ResultFile(name, fmt, len(data), image_id))
            entry = Entry(
                id=entry_id,
                operation=operation,
                time=records.iso(moment),
                day=records.local_day(moment),
                front_end=front_end,
                results=tuple(results_kept),
                model=model,
                params=kept,
                document=document,
                credits=credits if type(credits) is int else None,
                placement=place,
                root=self.root,
            )
            if edge is not None and place is not None:
                # Written before the record, as every file it names: atomic with it.
                store.write_file(folder, EDGE, edge.to_png())
                where = place.get("edge") if isinstance(place.get("edge"), dict) else {}
                entry = replace(entry, placement={**place, "edge": {**where, "file": EDGE}})
            entry = _with_thumbnails(entry, _thumbnails(entry, pixels))
            if source is not None and (made := _thumbnail(source)) is not None:
                store.write_file(folder, SOURCE_THUMBNAIL, made)
                entry = replace(entry, source_thumbnail=SOURCE_THUMBNAIL)
            entry = replace(entry, size=_size(entry))
            store.write_record(entry)
        except BaseException as e:
            shutil.rmtree(folder, ignore_errors=True)  # no record yet: leave nothing half made
            if isinstance(e, OSError):
                raise LibraryError(f"could not keep the result in {self.root}: {e}") from e
            raise
        self._add(entry)
        if self.cap_bytes is not None:
            self._prune_if_over(self.cap_bytes)
        return entry_id

    def add_thumbnails(self, entry_id: str, pixels: Sequence[Raster | None]) -> bool:
        """Thumbnails of results recorded before they were decoded: pixels[i] for result i
        (None: none). Results that have one keep it. False when there is no such entry."""
        # Made before the lock is taken: the pixels are the slow part (16 MP: tens of ms),
        # and other threads and processes wait for the lock.
        entry = self.get(entry_id)
        if entry is None:
            return False
        made = _thumbnails(entry, pixels)
        return self._rewrite(entry_id, lambda e: _with_thumbnails(e, made))

    def mark_inserted(self, entry_id: str, where: str, result: int | None = None) -> bool:
        """Note where the entry's results went (`result`: which one, None: all), in the
        front end's words. False when there is no such entry (deleted meanwhile)."""
        when = records.iso(records.utc_now())
        return self._rewrite(entry_id, lambda e: records.with_insertion(e, where, result, when))

    def _rewrite(self, entry_id: str, change: Callable[[Entry], Entry]) -> bool:
        folder = store.folder_of(self.root, entry_id)
        try:
            with self._locked():
                entry = store.read_record(folder)
                if entry is None:
                    return False
                store.clean_temporary(folder)
                entry = change(entry)
                entry = replace(entry, size=_size(entry))
                store.write_record(entry)
        except OSError as e:
            raise LibraryError(f"could not update {entry_id} in {self.root}: {e}") from e
        self._add(entry)
        return True

    def delete(self, entry_id: str) -> bool:
        """Remove an entry and its files; False when there was none."""
        folder = store.folder_of(self.root, entry_id)
        with self._locked():
            # The index first: a crash after it leaves a record the next sync indexes again,
            # never an index row whose record is gone.
            self._remove_from_index([entry_id])
            existed = (folder / store.RECORD).exists()
            store.remove(self.root, entry_id)
        return existed

    def prune(self, cap_bytes: int | None = None) -> list[str]:
        """Delete the oldest entries until the library holds at most `cap_bytes` (default:
        the library's cap); the newest entry always stays, even alone over the cap (a result
        just paid for is not thrown away by the cap it broke). Returns the ids deleted."""
        cap = self.cap_bytes if cap_bytes is None else cap_bytes
        if cap is None:
            return []
        with self._locked():
            sizes = self._ask(lambda ix: ix.oldest())
            total = sum(size for _, size in sizes)
            gone = []
            for entry_id, size in sizes[:-1]:
                if total <= cap:
                    break
                gone.append(entry_id)
                total -= size
            if gone:
                self._remove_from_index(gone)
                for entry_id in gone:
                    store.remove(self.root, entry_id)
        return gone

    def _prune_if_over(self, cap: int) -> None:
        try:
            if self.size() > cap:
                self.prune(cap)
        except (OSError, LibraryError) as e:  # the new entry is safe; pruning can wait
            log.warning("could not prune the library: %s", e)

    # -- questions ---------------------------------------------------------------------------

    def list(
        self,
        search: str | None = None,
        operation: str | None = None,
        day: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[Entry]:
        """Entries newest first: every word of `search` begins a word of the prompt (any
        case, accents ignored); `operation` by its name; `day` as YYYY-MM-DD (local)."""
        query = Query(search, operation, day)
        return self._ask(lambda ix: ix.list(query, limit, offset))

    def count(
        self, search: str | None = None, operation: str | None = None, day: str | None = None
    ) -> int:
        query = Query(search, operation, day)
        return self._ask(lambda ix: ix.count(query))

    def get(self, entry_id: str) -> Entry | None:
        """The entry as its record says now (read from disk: the truth), or None.
        ValueError for a text that is not an id."""
        return store.read_record(store.folder_of(self.root, entry_id))

    def costs(
        self,
        by: tuple[str, ...] = ("day", "operation"),
        *,
        operation: str | None = None,
        day: str | None = None,
    ) -> list[Cost]:
        """Credits summed per group of `by` (day, operation, model, front_end), newest day
        first; entries of unknown cost count 0."""
        query = Query(None, operation, day)
        return self._ask(lambda ix: ix.costs(tuple(by), query))

    def spent(self, day: str | None = None) -> int:
        """Credits spent on `day` (default: today, local): "Credits spent today"."""
        rows = self.costs(("day",), day=day or records.today())
        return sum(c.credits for c in rows)

    def size(self) -> int:
        """Bytes the entries' files take."""
        return self._ask(lambda ix: ix.size())

    def export(self, entry_id: str, folder: Path | str) -> list[Path]:
        """Copy an entry's results into `folder` as ID.png (ID-2.png... for several), a mask
        operation's soft edge as ID.edge.png, and its record as ID.json; returns the paths,
        results first. LibraryError for no entry."""
        entry = self.get(entry_id)
        if entry is None:
            raise LibraryError(f"there is no entry {entry_id} in {self.root}")
        folder = Path(folder)
        many = len(entry.results) > 1
        out = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for i, path in enumerate(entry.result_paths):
                suffix = f"-{i + 1}" if many else ""
                name = f"{entry_id}{suffix}{path.suffix}"
                store.write_file(folder, name, path.read_bytes())
                out.append(folder / name)
            edge = entry.edge_path
            if edge is not None and edge.is_file():
                store.write_file(folder, f"{entry_id}.edge.png", edge.read_bytes())
                out.append(folder / f"{entry_id}.edge.png")
            store.write_file(folder, f"{entry_id}.json", (entry.folder / store.RECORD).read_bytes())
            out.append(folder / f"{entry_id}.json")
        except OSError as e:
            raise LibraryError(f"could not export {entry_id} to {folder}: {e}") from e
        return out

    # -- keeping the index true --------------------------------------------------------------

    def sync(self) -> None:
        """Bring the index in line with the records: add or update what another process
        wrote without sqlite (or wrote before a crash stopped it indexing), drop what was
        removed, and clear crash leftovers. Done on opening (a stat per entry); call it to
        see changes made by a front end without sqlite (others' show at once)."""
        missed = self._missed
        try:
            with self._locked():
                # The index's stamps before the folders: a record indexed meanwhile was on
                # disk before its row, so it is found, never dropped as missing.
                indexed = self._index.stamps()
                whole, changed, leftovers = set(), [], []
                for entry_id, folder in store.scan(self.root):
                    stamp = store.stamp(folder)
                    if stamp is None:
                        leftovers.append(folder)  # being written, or cut short: no entry
                        continue
                    whole.add(entry_id)
                    if indexed.get(entry_id) != stamp and (entry := store.read_record(folder)):
                        changed.append(entry)
                self._index.add(changed)
                self._index.remove(indexed.keys() - whole)
                store.clean(self.root, leftovers)
            self._made_up = max(self._made_up, missed)
        except (OSError, index.IndexUnavailable) as e:
            log.warning("could not bring the library index up to date: %s", e)
            self._stale = True

    def rebuild_index(self) -> int:
        """Build the index anew from the records (what a lost index costs); returns the
        number of entries."""
        missed = self._missed
        with self._locked():
            found = [store.read_record(folder) for _, folder in store.scan(self.root)]
            entries = [e for e in found if e is not None]
            self._index.clear()
            self._index.add(entries)
        self._made_up = max(self._made_up, missed)
        return len(entries)

    def _locked(self):
        return locking.locked(self.root / store.LOCK)

    def _add(self, entry: Entry) -> None:
        try:
            self._index.add([entry])
        except index.IndexUnavailable as e:  # the record is on disk: the next sync adds it
            log.warning("the library index missed %s: %s", entry.id, e)
            self._stale = True

    def _remove_from_index(self, ids: list[str]) -> None:
        try:
            self._index.remove(ids)
        except index.IndexUnavailable as e:
            log.warning("the library index keeps %s: %s", ids, e)
            self._stale = True

    def _ask(self, question):
        """The index's answer; the records' when the index cannot answer now. An index
        found replaced (the folder emptied by hand) is brought up to date and asked again."""
        for _ in range(2):
            if self._stale:
                self.sync()
            if self._stale:
                break
            try:
                return question(self._index)
            except index.IndexReplaced as e:
                log.info("the library index was replaced (%s); syncing it", e)
                self._stale = True
            except index.IndexUnavailable as e:
                log.warning("the library index cannot answer (%s); reading the records", e)
                self._stale = True
                break
        return question(self._scan)


_opened: tuple[tuple, Library] | None = None  # open_library's: (settings, the library)
_opening = threading.Lock()


def open_library(preferences=None) -> Library | None:
    """The library the user's Settings ask for, as the front ends open it: None when they
    turned it off (`library_off`), or when it cannot be opened (logged: a job goes on
    without it). `library_folder` (None: the default folder) and `library_cap_gb` (None: the
    default cap, 0: no cap) are read where Settings has them.

    One Library per process: every call with the same folder and cap gets the same one,
    opened by the first (a stat of every record: about 90 ms for 10,000, so call it off an
    editor's UI thread; later calls take microseconds). Safe from any thread. Settings naming
    another folder or cap open another (the one before is closed: a thread still using it
    opens its index again); a library whose folder was deleted, or that could not open its
    index, is opened anew; one that could not be opened at all is not kept (None, and the
    next call tries again)."""
    global _opened
    if preferences is None:
        from .. import settings

        preferences = settings.load()
    if getattr(preferences, "library_off", False):
        return None
    gigabytes = getattr(preferences, "library_cap_gb", None)
    cap = DEFAULT_CAP if gigabytes is None else (gigabytes * 1024**3 if gigabytes else None)
    folder = getattr(preferences, "library_folder", None) or None
    root = Path(folder) if folder else default_root()
    key = (os.path.normcase(os.path.abspath(root)), cap)
    with _opening:
        before = _opened
        if before is not None and before[0] == key and before[1].usable:
            return before[1]
        try:
            library = Library(root, cap_bytes=cap)
        except (LibraryError, OSError) as e:
            log.warning("no results library: %s", e)
            return None
        _opened = (key, library)
    if before is not None:
        before[1].close()
    return library


# -- helpers -----------------------------------------------------------------------------------


def _safe_svg(data: bytes) -> tuple[bytes, str]:
    """An SVG as the sanitiser leaves it: a user may open the library's files in a browser,
    where a script would run. One the sanitiser refuses is kept whole but not as .svg."""
    try:
        return svg.sanitize(data).text.encode("utf-8"), "svg"
    except (RecraftError, ValueError):
        return data, "unsafe-svg"


def _result_bytes(result) -> tuple[bytes, str | None]:
    if isinstance(result, (bytes, bytearray, memoryview)):
        return result, None
    data = getattr(result, "data", None)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a result is bytes or has .data bytes, not {type(result).__name__}")
    image_id = getattr(result, "image_id", None)
    return data, image_id if isinstance(image_id, str) else None


def _thumbnail(image: Raster) -> bytes | None:
    """A thumbnail, or None when these pixels make none: a result is never lost to its
    thumbnail."""
    try:
        return thumbnails.thumbnail(image)
    except (ValueError, KeyError, TypeError) as e:
        log.warning("no thumbnail of %r: %s", image, e)
        return None


def _thumbnails(entry: Entry, pixels: Sequence[Raster | None]) -> dict[int, bytes]:
    """PNG thumbnails of the results that have pixels and none yet, by result index; SVG
    results get none (the SVG draws itself at any size)."""
    made = {}
    for i, (result, image) in enumerate(zip(entry.results, pixels, strict=False)):
        if image is None or result.thumbnail is not None or result.format == "svg":
            continue
        if (png := _thumbnail(image)) is not None:
            made[i] = png
    return made


def _with_thumbnails(entry: Entry, made: dict[int, bytes]) -> Entry:
    """The entry naming the thumbnails `made`, written beside it, for results that still
    have none."""
    results = list(entry.results)
    for i, png in made.items():
        if i < len(results) and results[i].thumbnail is None:
            name = f"thumb-{i + 1}.png"
            store.write_file(entry.folder, name, png)
            results[i] = replace(results[i], thumbnail=name)
    return replace(entry, results=tuple(results))


def _size(entry: Entry) -> int:
    """Bytes of the entry's files (thumbnails by their size on disk: they are small, and
    the record does not carry their size)."""
    total = sum(r.bytes for r in entry.results)
    names = [r.thumbnail for r in entry.results] + [entry.source_thumbnail]
    for name in [*names, entry.edge_file]:
        if name is not None:
            total += (entry.folder / name).stat().st_size
    return total
