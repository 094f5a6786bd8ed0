"""The records are the truth, sqlite only an index: a Python without sqlite3 (or sqlite
without FTS5) answers as sqlite does, and a lost, damaged or outdated index is rebuilt from
the records with nothing lost."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from images import png, raster, svg
from recraft_core.library import Library, index, records

CORE = Path(__file__).resolve().parents[2] / "core"
START = datetime(2026, 5, 9, 9, 30, tzinfo=timezone.utc)
PROMPTS = [
    "A lighthouse at dusk, oil painting",
    "a red straw hat",
    "Café terrace at night",
    "CAFE au lait in a blue cup",
    "a red fox in the snow",
    "Naïve portrait of a fox",
    "東京の夜景",
    "straw-coloured fields; dusk",
    "",
]
OPERATIONS = ["generate", "inpaint", "vectorize", "remove_background"]
SEARCHES = [None, "red", "fox", "FOX", "cafe", "café", "dusk", "straw col", "東京", "li", "zebra"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[str]]:
    """A library of 60 varied entries an hour apart (three or four local days), a few
    inserted and deleted, written through sqlite. Tests that change it work on a copy."""
    root = tmp_path_factory.mktemp("corpus") / "library"
    moment = iter(START + timedelta(hours=i) for i in itertools.count())
    real = records.utc_now
    records.utc_now = lambda: next(moment)
    try:
        with Library(root, cap_bytes=None) as lib:
            ids = []
            for i in range(60):
                op = OPERATIONS[i % 4]
                entry_id = lib.record(
                    op,
                    [svg(8, 8)] if op == "vectorize" else [png(8, 8)] * (1 + i % 2),
                    params={"prompt": PROMPTS[i % len(PROMPTS)], "seed": i},
                    model=["recraftv3", "recraftv4_1", None][i % 3],
                    front_end=["krita", "gimp", "cli"][i % 3],
                    credits=None if i % 7 == 0 else 5 * (i % 5),
                    source=raster(40, 30) if i % 3 == 0 else None,
                    pixels=[raster(8, 8)] if i % 2 else (),
                )
                ids.append(entry_id)
                if i % 5 == 0:
                    lib.mark_inserted(entry_id, f"doc {i}")
            for entry_id in ids[10:13]:
                lib.delete(entry_id)
    finally:
        records.utc_now = real
    return root, ids


def answers(lib: Library) -> dict:
    """Everything the library can be asked, as comparable values."""
    days = sorted({e.day for e in lib.list(limit=None)})
    out = {"days": days, "size": lib.size()}
    for search, op, day in itertools.product(SEARCHES, [None, *OPERATIONS], [None, *days]):
        out[search, op, day] = lib.list(search, op, day, limit=None)
        out["count", search, op, day] = lib.count(search, op, day)
    out["page"] = [lib.list(limit=7, offset=k) for k in (0, 7, 50, 60)]
    for by in [("day",), ("operation",), ("day", "operation"), ("front_end", "model")]:
        out["costs", by] = lib.costs(by)
        out["costs", by, "inpaint"] = lib.costs(by, operation="inpaint")
    return out


def drop_index(root: Path) -> None:
    for name in ("index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"):
        (root / name).unlink(missing_ok=True)


def copy(root: Path, to: Path) -> Path:
    shutil.copytree(root, to)
    return to


def test_the_scan_answers_as_sqlite_does(corpus):
    root, _ = corpus
    with Library(root, cap_bytes=None) as lib:
        assert lib.indexed and lib._index.fts
        expected = answers(lib)
    assert len(expected[None, None, None]) == 57 and len(expected["days"]) in (3, 4)
    assert expected["red", None, None] and expected["cafe", None, None]  # they find things
    assert expected["cafe", None, None] == expected["café", None, None]
    with Library(root, cap_bytes=None, use_sqlite=False) as scan:
        assert not scan.indexed
        assert answers(scan) == expected


def test_sqlite_without_fts5_answers_the_same(corpus, tmp_path, monkeypatch):
    root, _ = corpus
    with Library(root, cap_bytes=None) as lib:
        expected = answers(lib)
    other = copy(root, tmp_path / "no-fts")
    drop_index(other)
    monkeypatch.setattr(index, "_TOKENIZERS", ("no_such_tokenizer",))
    with Library(other, cap_bytes=None) as lib:
        assert lib.indexed and not lib._index.fts
        got = answers(lib)
    assert {k: v for k, v in got.items() if k != "size"} == {
        k: v for k, v in expected.items() if k != "size"
    }


def test_a_python_without_sqlite3_keeps_and_finds_results(tmp_path):
    """The real fallback: sqlite3 cannot be imported at all (as in a Python built without
    it), in a process of its own."""
    script = f"""
import sys
sys.modules["sqlite3"] = None  # import sqlite3 now raises ImportError
from recraft_core.library import Library, index
assert index.sqlite3 is None and not index.available()
lib = Library({str(tmp_path / "lib")!r})
assert not lib.indexed
first = lib.record("generate", [b"\\x89PNG\\r\\n\\x1a\\n..."], params={{"prompt": "a red fox"}},
                   credits=4)
lib.record("inpaint", [b"\\x89PNG\\r\\n\\x1a\\n..."], params={{"prompt": "a hat"}}, credits=3)
assert [e.id for e in lib.list(search="fox")] == [first]
assert lib.spent() == 7
print(first)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(CORE), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    with Library(tmp_path / "lib") as lib:  # and sqlite, later, indexes what it wrote
        assert lib.indexed
        assert [e.id for e in lib.list(search="fox")] == [done.stdout.strip()]
        assert lib.spent() == 7


def test_a_lost_index_is_rebuilt_from_the_records(corpus, tmp_path):
    root, _ = corpus
    with Library(root, cap_bytes=None) as lib:
        expected = answers(lib)
    other = copy(root, tmp_path / "lost")
    drop_index(other)
    with Library(other, cap_bytes=None) as lib:
        assert answers(lib) == expected
        assert lib.rebuild_index() == 57
        assert answers(lib) == expected


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other version"])
def test_a_damaged_or_outdated_index_is_rebuilt(corpus, tmp_path, damage):
    root, _ = corpus
    with Library(root, cap_bytes=None) as lib:
        expected = answers(lib)
    other = copy(root, tmp_path / "damaged")
    db = other / "index.sqlite3"
    if damage == "other version":
        with sqlite3.connect(db) as con:
            con.execute("PRAGMA user_version = 99")
    else:
        data = db.read_bytes()
        drop_index(other)
        db.write_bytes(b"not a database at all" * 200 if damage == "garbage" else data[:1000])
    with Library(other, cap_bytes=None) as lib:
        assert lib.indexed
        assert answers(lib) == expected


def test_changes_made_without_sqlite_reach_the_index_on_sync(corpus, tmp_path):
    root = copy(corpus[0], tmp_path / "mixed")
    with Library(root, cap_bytes=None) as indexed, Library(root, use_sqlite=False) as scan:
        newest = indexed.list(limit=1)[0]
        added = scan.record("generate", [png(4, 4)], params={"prompt": "zebra crossing"})
        scan.mark_inserted(newest.id, "made without sqlite")
        scan.delete(indexed.list(limit=None)[-1].id)
        indexed.sync()
        assert answers(indexed) == answers(scan)
        assert [e.id for e in indexed.list(search="zebra")] == [added]
        assert indexed.list(limit=2)[1].inserted[-1].where == "made without sqlite"


def test_a_delete_cut_short_by_a_crash_leaves_no_ghost(corpus, tmp_path):
    """A process without sqlite killed after removing a record but before its files: the
    index drops the entry on the next sync, though its folder is still there."""
    root = copy(corpus[0], tmp_path / "ghost")
    with Library(root, cap_bytes=None) as lib:
        victim = lib.list(limit=1)[0]
        (victim.folder / "record.json").unlink()
        lib.sync()
        assert victim.id not in {e.id for e in lib.list(limit=None)}
        assert victim.folder.exists()  # its files go when the leftover is an hour old
