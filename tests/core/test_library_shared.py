"""One library per process, shared by its threads: open_library hands every caller the same
Library (opened anew when the Settings name another folder or cap, when its folder was
deleted, or when its index could not be opened), and that Library answers any mix of
threads at once, one of them closing it meanwhile, as one thread would.

Listings are made from the index's columns: the records' JSON is decoded only for the
entries read, and such an entry is the one the record says.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import random
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from images import png, raster
from recraft_core.library import Library, index, library, open_library, records


def settings(folder, **more) -> SimpleNamespace:
    return SimpleNamespace(library_folder=str(folder), **more)


@pytest.fixture(autouse=True)
def fresh_process_library(monkeypatch):
    """Each test starts as a process that has opened no library yet."""
    monkeypatch.setattr(library, "_opened", None)


@pytest.fixture
def openings(monkeypatch) -> list:
    """The roots of the Libraries made from here on."""
    made = []
    real = Library.__init__

    def counted(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append(self.root)

    monkeypatch.setattr(Library, "__init__", counted)
    return made


def test_open_library_opens_once_per_process(tmp_path, openings):
    mine = settings(tmp_path / "lib", library_cap_gb=2)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: open_library(mine), range(32)))
    assert len({id(lib) for lib in got}) == 1 and len(openings) == 1
    assert got[0].root == tmp_path / "lib" and got[0].cap_bytes == 2 * 1024**3
    assert open_library(settings(tmp_path / "lib", library_cap_gb=2)) is got[0]
    assert len(openings) == 1


def test_settings_naming_another_folder_or_cap_open_another(tmp_path, openings):
    first = open_library(settings(tmp_path / "a"))
    entry_id = first.record("generate", [png(4, 4)], params={"prompt": "a fox"})
    other = open_library(settings(tmp_path / "b"))
    assert other is not first and other.root == tmp_path / "b"
    # The one before was closed; a thread still holding it goes on, its index opened again.
    assert [e.id for e in first.list()] == [entry_id] and first.count("fox") == 1
    capped = open_library(settings(tmp_path / "b", library_cap_gb=1))
    assert capped is not other and capped.cap_bytes == 1024**3
    assert open_library(settings(tmp_path / "b", library_off=True)) is None
    assert open_library(settings(tmp_path / "b", library_cap_gb=1)) is capped
    assert len(openings) == 3


def test_a_closed_library_is_handed_out_again_and_works(tmp_path):
    lib = open_library(settings(tmp_path / "lib"))
    lib.record("generate", [png(4, 4)], params={"prompt": "a hat"})
    lib.close()  # what the CLI does when it is done with it
    again = open_library(settings(tmp_path / "lib"))
    assert again is lib and again.count() == 1 and again.indexed
    assert again.record("generate", [png(4, 4)]) and again.count() == 2


def test_a_library_whose_folder_was_deleted_is_opened_anew(tmp_path):
    """Emptied as the README says (its folder deleted) while an editor has it open."""
    lib = open_library(settings(tmp_path / "lib"))
    lib.record("generate", [png(4, 4)], params={"prompt": "gone"})
    shutil.rmtree(tmp_path / "lib")
    fresh = open_library(settings(tmp_path / "lib"))
    assert fresh is not lib and (tmp_path / "lib").is_dir() and fresh.list() == []
    kept = fresh.record("generate", [png(4, 4)], params={"prompt": "after"})
    # A thread still holding the old one finds the index there now, not the deleted one.
    old = lib.record("generate", [png(4, 4)], params={"prompt": "old one"})
    assert {e.id for e in lib.list()} == {kept, old}
    assert {e.id for e in fresh.list()} == {kept, old}  # written to the same index file


def test_a_library_that_cannot_be_opened_is_not_kept(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert open_library(settings(blocked / "lib")) is None
    blocked.unlink()
    blocked.mkdir()
    lib = open_library(settings(blocked / "lib"))
    assert lib is not None and lib.root == blocked / "lib"


def test_a_library_reading_the_records_for_want_of_its_index_is_opened_anew(tmp_path, monkeypatch):
    """Its index would not open (locked for long by another process): the records answer,
    and after a while the next open_library tries the index again."""
    real = index.SqliteIndex.__init__

    def locked(self, root):
        raise index.sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(index.SqliteIndex, "__init__", locked)
    lib = open_library(settings(tmp_path / "lib"))
    assert not lib.indexed and lib.record("generate", [png(4, 4)]) and lib.count() == 1
    monkeypatch.setattr(index.SqliteIndex, "__init__", real)
    assert open_library(settings(tmp_path / "lib")) is lib  # not at every call
    monkeypatch.setattr(library, "RETRY_INDEX_SECONDS", 0.0)
    again = open_library(settings(tmp_path / "lib"))
    assert again is not lib and again.indexed and again.count() == 1


def test_the_threads_of_a_process_share_one_library(tmp_path, caplog):
    """Eight threads record, list, search, sum, rewrite, delete and close the process's
    library at once, as an editor's worker threads and its History view would: no error,
    the index answers throughout (never a fall back to reading the records), nothing is
    lost, and the index agrees with the records afterwards."""
    caplog.set_level("WARNING", logger="recraft_core.library")
    mine = settings(tmp_path / "lib", library_cap_gb=0)
    errors: list[BaseException] = []
    made: list[str] = []
    deleted: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(8)
    shared = open_library(mine)  # held by a History view, say, while jobs open it too

    def work(worker: int) -> None:
        rng = random.Random(worker)
        start.wait()
        try:
            for i in range(30):
                lib = open_library(mine) if i % 2 else shared
                action = rng.choice(
                    ["record", "record", "list", "search", "costs", "rewrite", "delete", "close"]
                )
                if action == "record":
                    entry_id = lib.record(
                        "inpaint",
                        [png(8, 8)],
                        params={"prompt": f"fox {worker} {i}"},
                        credits=5,
                        pixels=[raster(8, 8)] if i % 2 else (),
                    )
                    with guard:
                        made.append(entry_id)
                elif action == "list":
                    for entry in lib.list(limit=None):
                        assert entry.results and entry.prompt.startswith("fox")
                elif action == "search":
                    lib.count("fox")
                    lib.list(search=f"fox {worker}", limit=5)
                elif action == "costs":
                    lib.costs()
                    lib.spent()
                elif action == "rewrite" and made:
                    with guard:
                        entry_id = rng.choice(made)
                    lib.mark_inserted(entry_id, f"doc {worker}")
                    lib.add_thumbnails(entry_id, [raster(8, 8)])
                    lib.get(entry_id)
                elif action == "delete" and made:
                    with guard:
                        entry_id = made.pop(rng.randrange(len(made)))
                        deleted.append(entry_id)
                    assert lib.delete(entry_id)
                elif action == "close":
                    lib.close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert caplog.records == []
    lib = open_library(mine)
    assert lib is shared
    listed = lib.list(limit=None)
    assert sorted(e.id for e in listed) == sorted(made)
    with Library(tmp_path / "lib", cap_bytes=None, use_sqlite=False) as scan:
        assert listed == scan.list(limit=None)  # every field, as the records say
        assert lib.costs() == scan.costs() and lib.size() == scan.size()


def test_a_listing_decodes_no_record(tmp_path, monkeypatch):
    """What a listing shows comes from the index's columns; a record's JSON is decoded when
    one of its entries' parameters or results is read, once."""
    with Library(tmp_path / "lib") as lib:
        ids = [
            lib.record("generate", [png(4, 4)], params={"prompt": f"fox {i}", "seed": i})
            for i in range(20)
        ]
        decoded = []
        real = json.loads
        monkeypatch.setattr(json, "loads", lambda *a, **k: decoded.append(a) or real(*a, **k))
        entries = lib.list(limit=None)
        shown = [(e.id, e.operation, e.time, e.day, e.prompt, e.credits, e.folder) for e in entries]
        assert len(shown) == 20 and [e.id for e in entries] == ids[::-1]
        assert decoded == []
        assert entries[0].params == {"prompt": "fox 19", "seed": 19}
        assert entries[0].results[0].file == "result-1.png" and entries[0].inserted == ()
        assert len(decoded) == 1


def test_a_listed_entry_is_its_record(tmp_path):
    """Every field of a listed entry, read from any thread first, is what get() reads from
    its record; copies and replace() work on it as on any Entry."""
    with Library(tmp_path / "lib") as lib:
        entry_id = lib.record(
            "inpaint",
            [png(8, 8), png(6, 6)],
            params={"prompt": "Café au lait, ☕", "seed": 3, "controls": {"colors": [[1, 2, 3]]}},
            model="recraftv3",
            document="cup.kra",
            front_end="krita",
            credits=40,
            source=raster(20, 10),
            pixels=[raster(8, 8)],
            placement={"canvas": [800, 600], "box": [0, 0, 8, 8]},
        )
        lib.mark_inserted(entry_id, "cup.kra: Recraft inpaint", result=1)
        truth = lib.get(entry_id)
        for field in (*records.PACKED, "prompt"):
            listed = lib.list()[0]
            with ThreadPoolExecutor(4) as pool:
                seen = list(pool.map(lambda _, e=listed, f=field: getattr(e, f), range(8)))
            assert all(value == getattr(truth, field) for value in seen), field
            assert listed == truth
        listed = lib.list()[0]
        assert copy.copy(listed) == truth and copy.deepcopy(listed) == truth
        assert dataclasses.replace(listed, credits=1) == dataclasses.replace(truth, credits=1)
        assert records.to_json(listed) == records.to_json(truth)
        assert listed.thumbnail_paths[0].is_file() and listed.source_thumbnail_path.is_file()
        assert not hasattr(listed, "nothing") and "Café au lait" in repr(listed)
    fields = {f.name for f in dataclasses.fields(records.Entry)}
    assert set(records.LISTED) | set(records.PACKED) == (fields - {"root"}) | {"prompt"}


def test_an_index_of_the_former_schema_is_remade_with_the_listing_columns(tmp_path):
    root = tmp_path / "lib"
    with Library(root) as lib:
        entry_id = lib.record("generate", [png(4, 4)], params={"prompt": "kept"}, credits=8)
    db = index.sqlite3.connect(root / index.FILE)
    db.execute("PRAGMA user_version = 1")
    db.close()
    with Library(root) as lib:
        (entry,) = lib.list()
        assert (entry.id, entry.prompt, entry.credits) == (entry_id, "kept", 8)
    assert os.path.exists(root / index.FILE)
