"""Two ways to answer the library's questions: an sqlite index, or a scan of the records.

Both hold the same Entries and answer through the same functions of records.py (the filter,
the order, the cost sums), so a front end whose Python lacks sqlite3 sees what the others see.

SqliteIndex: one row per entry with the columns queries use and a listing shows, and the rest
of the record as JSON (decoded only for the entries a view reads: see records.listed), in WAL mode
(readers never wait for a writer; writers from several processes queue on sqlite's own lock),
with an FTS5 table of prompts where sqlite has FTS5. It is only an index: the record files
are the truth, and the library rebuilds it from them when it is lost, damaged or of another
version. One connection serves every thread of the process, one at a time (a lock): its
queries take milliseconds, and a connection per thread would leave one open for each worker
thread an editor ever started.

ScanIndex: the records themselves, read once and kept while their file is unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from . import records, store
from .records import Cost, Entry, Query

try:
    import sqlite3
except ImportError:  # some Pythons are built without it; the scan then answers
    sqlite3 = None

log = logging.getLogger("recraft_core.library")

SCHEMA_VERSION = 2  # 2: the columns a listing is made of (records.LISTED)
FILE = "index.sqlite3"
# Writers hold sqlite's lock for milliseconds; a long wait means something is wrong, and the
# caller falls back to the records rather than hang an editor.
BUSY_SECONDS = 10
_LISTED = ", ".join(records.LISTED)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    operation TEXT NOT NULL,
    time TEXT NOT NULL,
    day TEXT NOT NULL,
    front_end TEXT NOT NULL,
    model TEXT,
    document TEXT,
    credits INTEGER,
    source_thumbnail TEXT,
    size INTEGER NOT NULL,
    prompt TEXT NOT NULL,
    stamp TEXT NOT NULL,
    packed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_time ON entries (time, id);
CREATE INDEX IF NOT EXISTS entries_by_operation ON entries (operation, time, id);
CREATE INDEX IF NOT EXISTS entries_by_day ON entries (day, time, id);
"""
# The tokenizer records.words imitates; rowid is entries.n.
_FTS = "CREATE VIRTUAL TABLE IF NOT EXISTS prompts USING fts5(prompt, tokenize='{}')"
_TOKENIZERS = ("unicode61 remove_diacritics 2", "unicode61")  # 2 needs sqlite 3.27
_MARKS = ", ".join("?" * (len(records.LISTED) + 2))


def available() -> bool:
    return sqlite3 is not None


class IndexUnavailable(Exception):
    """The index cannot answer; the library then asks the records."""


class IndexReplaced(IndexUnavailable):
    """The index file is not the one this connection had open (the library's folder was
    emptied or deleted, or another process remade a damaged index): connected to the file
    there now, which the library syncs with the records before asking it again."""


class SqliteIndex:
    def __init__(self, root: Path) -> None:
        self.path = root / FILE
        self._root = root
        self._lock = threading.Lock()  # one connection, shared by the process's threads
        self._db = None
        self._file = None  # (device, inode) of the file connected to
        try:
            self._connect()
        except sqlite3.OperationalError:
            raise  # locked, read-only, no such folder: the file may be fine, leave it
        except sqlite3.DatabaseError as e:
            # Damaged, or not a database at all: it is only an index, so start over.
            log.warning("the library index %s is unreadable (%s); rebuilding it", self.path, e)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._connect()

    def _connect(self) -> None:
        self._db = self._open()
        self._file = _identity(self.path)

    def _open(self):
        db = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            # WAL: readers and the writer do not block each other. It stays "delete" where
            # the file system cannot share memory maps (network shares); that works too.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # safe in WAL; the records are the truth
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                self._make(db)
            self.fts = bool(
                db.execute("SELECT 1 FROM sqlite_master WHERE name = 'prompts'").fetchone()
            )
            if self.fts:
                # Made by a sqlite with FTS5, opened by one without: OperationalError ("no
                # such module"), and this process reads the records instead.
                db.execute("SELECT rowid FROM prompts LIMIT 0")
        except BaseException:
            db.close()
            raise
        if not self.fts:
            db.create_function("matches", 2, _matches, deterministic=True)
        return db

    def _make(self, db) -> None:
        """The tables, made (or remade, for another schema version) in one transaction:
        another process opening at the same moment waits, then finds them made."""
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            db.execute("DROP TABLE IF EXISTS prompts")
            db.execute("DROP TABLE IF EXISTS entries")
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            self._make_fts(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")

    @staticmethod
    def _make_fts(db) -> bool:
        for tokenizer in _TOKENIZERS:
            try:
                db.execute(_FTS.format(tokenizer))
                return True
            except sqlite3.OperationalError:
                continue
        return False  # no FTS5 in this sqlite: prompts are matched by records.matches_text

    def close(self) -> None:
        """Let go of the file; the next question connects again (a library is shared by the
        process's threads: one closing it must not break another that goes on)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _run(self, fn):
        """fn(connection), one thread at a time, on the index file that is there now.
        IndexUnavailable when sqlite fails (IndexReplaced when the file changed)."""
        with self._lock:
            try:
                if self._db is not None and _identity(self.path) != self._file:
                    self._db.close()
                    self._db = None
                if self._db is None:
                    before = self._file
                    self._connect()
                    if before is not None and self._file != before:
                        raise IndexReplaced(f"{self.path} is another file now")
                return fn(self._db)
            except sqlite3.Error as e:
                if self._db is not None and self._db.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                raise IndexUnavailable(str(e)) from e

    def _rows(self, sql: str, args=()) -> list:
        return self._run(lambda db: db.execute(sql, args).fetchall())

    # -- changes ---------------------------------------------------------------------------

    def add(self, entries: Iterable[Entry]) -> None:
        """Add or replace entries, in one transaction; one whose record is gone meanwhile
        (deleted by another process) is left out."""

        def run(db):
            db.execute("BEGIN IMMEDIATE")
            for e in entries:
                self._delete(db, e.id)
                if (stamp := store.stamp(e.folder)) is None:
                    continue
                row = [getattr(e, c) for c in records.LISTED]
                cursor = db.execute(
                    f"INSERT INTO entries ({_LISTED}, stamp, packed) VALUES ({_MARKS})",
                    (*row, stamp, records.packed(e)),
                )
                if self.fts:
                    db.execute(
                        "INSERT INTO prompts (rowid, prompt) VALUES (?, ?)",
                        (cursor.lastrowid, e.prompt),
                    )
            db.execute("COMMIT")

        self._run(run)

    def remove(self, ids: Iterable[str]) -> None:
        ids = list(ids)

        def run(db):
            db.execute("BEGIN IMMEDIATE")
            for entry_id in ids:
                self._delete(db, entry_id)
            db.execute("COMMIT")

        self._run(run)

    def _delete(self, db, entry_id: str) -> None:
        found = db.execute("SELECT n FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if found:
            if self.fts:
                db.execute("DELETE FROM prompts WHERE rowid = ?", found)
            db.execute("DELETE FROM entries WHERE n = ?", found)

    def clear(self) -> None:
        def run(db):
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM entries")
            if self.fts:
                db.execute("DELETE FROM prompts")
            db.execute("COMMIT")

        self._run(run)

    # -- questions -------------------------------------------------------------------------

    def stamps(self) -> dict[str, str]:
        """Each entry's id and the stamp of the record it was indexed from."""
        return dict(self._rows("SELECT id, stamp FROM entries"))

    def _where(self, query: Query) -> tuple[str, list]:
        clauses, args = [], []
        if query.operation is not None:
            clauses.append("operation = ?")
            args.append(query.operation)
        if query.day is not None:
            clauses.append("day = ?")
            args.append(query.day)
        if terms := query.terms:
            if self.fts:
                clauses.append("n IN (SELECT rowid FROM prompts WHERE prompts MATCH ?)")
                args.append(" AND ".join(f'"{t}"*' for t in terms))
            else:
                clauses.append("matches(prompt, ?)")
                args.append(" ".join(terms))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def list(self, query: Query, limit: int | None, offset: int) -> list[Entry]:
        """Entries made from the listing's columns; each decodes the rest of its record
        when first read (records.listed)."""
        where, args = self._where(query)
        sql = (
            f"SELECT packed, {_LISTED} FROM entries{where} "
            "ORDER BY time DESC, id DESC LIMIT ? OFFSET ?"
        )
        rows = self._rows(sql, (*args, -1 if limit is None else limit, offset))
        root, listed = self._root, records.listed
        return [listed(root, row) for row in rows]

    def count(self, query: Query) -> int:
        where, args = self._where(query)
        return self._rows(f"SELECT count(*) FROM entries{where}", args)[0][0]

    def costs(self, by: tuple[str, ...], query: Query) -> list[Cost]:
        by = records.cost_groups(by)  # only known names reach the SQL below
        where, args = self._where(query)
        fields = ", ".join(by)
        sql = (
            f"SELECT {fields}, sum(coalesce(credits, 0)), count(*) FROM entries{where} "
            f"GROUP BY {fields}"
        )
        rows = self._rows(sql, args)
        n = len(by)
        return records.cost_order([Cost(tuple(r[:n]), r[n], r[n + 1]) for r in rows], by)

    def size(self) -> int:
        return self._rows("SELECT coalesce(sum(size), 0) FROM entries")[0][0]

    def oldest(self) -> list[tuple[str, int]]:
        """(id, size) of every entry, oldest first."""
        return [tuple(r) for r in self._rows("SELECT id, size FROM entries ORDER BY time, id")]


def _matches(prompt: str, terms: str) -> bool:
    return records.matches_text(prompt or "", terms.split())


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file is at `path` (None: none): a file removed and made again is another. Where
    the file system gives no inode numbers (0), only whether there is one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st.st_ino else (0, 0)


class ScanIndex:
    """The records as they are on disk, asked every time (a stat per entry), read only when
    new or changed."""

    fts = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, tuple[str, Entry]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        pass

    def entries(self) -> list[Entry]:
        with self._lock:
            seen: dict[str, tuple[str, Entry]] = {}
            for entry_id, folder in store.scan(self.root):
                key = store.stamp(folder)
                if key is None:
                    continue  # no whole record (yet)
                cached = self._cache.get(entry_id)
                if cached and cached[0] == key:
                    seen[entry_id] = cached
                elif entry := store.read_record(folder):
                    seen[entry_id] = (key, entry)
            self._cache = seen
            return [entry for _, entry in seen.values()]

    # Changes are the files themselves: nothing to keep.
    def add(self, entries: Iterable[Entry]) -> None:
        pass

    def remove(self, ids: Iterable[str]) -> None:
        pass

    def clear(self) -> None:
        pass

    def stamps(self) -> dict[str, str]:
        return {}  # nothing kept: the records are read as they are

    def list(self, query: Query, limit: int | None, offset: int) -> list[Entry]:
        found = records.newest_first(filter(query.matches, self.entries()))
        return found[offset:] if limit is None else found[offset : offset + limit]

    def count(self, query: Query) -> int:
        return sum(map(query.matches, self.entries()))

    def costs(self, by: tuple[str, ...], query: Query) -> list[Cost]:
        return records.sum_costs(filter(query.matches, self.entries()), by)

    def size(self) -> int:
        return sum(e.size for e in self.entries())

    def oldest(self) -> list[tuple[str, int]]:
        return [(e.id, e.size) for e in reversed(records.newest_first(self.entries()))]
