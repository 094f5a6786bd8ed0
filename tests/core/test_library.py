"""The results library's API on real folders: record, search, costs, prune, export, delete.

Crashes and concurrent writers are in test_library_processes.py, the scan that replaces
sqlite and the index rebuilt from the records in test_library_fallback.py, thumbnails in
test_library_thumbnails.py.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from images import png, raster, svg
from recraft_core.api.results import Image
from recraft_core.imaging import png as pngcodec
from recraft_core.library import Library, LibraryError, default_root, records, store

TOKEN = "tok-Sup3rSecret-9f8e7d"


@pytest.fixture
def lib(tmp_path) -> Library:
    with Library(tmp_path / "library") as library:
        yield library


class Clock:
    """records.utc_now, set by the test: entries on chosen days and in a known order."""

    def __init__(self, monkeypatch, start: datetime):
        self.now = start
        monkeypatch.setattr(records, "utc_now", self)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


NOON = datetime(2026, 5, 9, 12, 0, tzinfo=timezone.utc)


def test_default_root_per_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("RECRAFT_LIBRARY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr("sys.platform", "linux")
    assert default_root() == tmp_path / "data" / "recraft" / "library"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_root() == Path.home() / ".local" / "share" / "recraft" / "library"
    monkeypatch.setattr("sys.platform", "darwin")
    assert default_root() == Path.home() / "Library/Application Support/recraft/library"
    monkeypatch.setattr("sys.platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert default_root() == tmp_path / "local" / "recraft" / "library"
    monkeypatch.setenv("RECRAFT_LIBRARY", str(tmp_path / "here"))
    assert default_root() == tmp_path / "here"
    assert Library().root == tmp_path / "here"


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_user_folders_per_platform(monkeypatch, tmp_path, platform):
    """One helper for the data folder (the library) and the config folder (the settings
    file), by the same platform branches settings.path() takes."""
    from recraft_core import settings
    from recraft_core.library.location import user_folder

    monkeypatch.setattr("sys.platform", platform)
    monkeypatch.delenv("RECRAFT_CONFIG", raising=False)
    monkeypatch.delenv("RECRAFT_LIBRARY", raising=False)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "LOCALAPPDATA", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    home = Path.home()
    expected = {
        "linux": (home / ".local/share", home / ".config"),
        "darwin": (home / "Library/Application Support",) * 2,
        "win32": (home / "AppData/Local", home / "AppData/Roaming"),
    }[platform]
    assert (user_folder("data"), user_folder("config")) == expected
    assert settings.path() == user_folder("config") / "recraft" / "settings.json"
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "LOCALAPPDATA", "APPDATA"):
        monkeypatch.setenv(name, str(tmp_path / name))
    data, config = {
        "linux": ("XDG_DATA_HOME", "XDG_CONFIG_HOME"),
        "darwin": (None, None),
        "win32": ("LOCALAPPDATA", "APPDATA"),
    }[platform]
    assert user_folder("data") == (tmp_path / data if data else expected[0])
    assert user_folder("config") == (tmp_path / config if config else expected[1])
    assert settings.path() == user_folder("config") / "recraft" / "settings.json"
    assert default_root() == user_folder("data") / "recraft" / "library"


def test_record_keeps_the_bytes_as_received_and_what_made_them(lib):
    picture, drawing = png(300, 200), svg(64, 64)
    entry_id = lib.record(
        "generate",
        [Image(picture, "image/png", "img-1"), Image(drawing, "image/svg+xml", "img-2")],
        model="recraftv3",
        params={"prompt": "a lighthouse at dusk", "n": 2, "style": "digital_illustration"},
        document="harbour.kra",
        front_end="krita",
        credits=80,
        placement={"canvas": [300, 200], "box": [0, 0, 300, 200]},
    )
    entry = lib.get(entry_id)
    assert entry.id == entry_id and entry.folder.parent.parent == lib.root
    assert entry.folder.name == entry_id and entry.folder.parent.name == entry.day
    assert [p.read_bytes() for p in entry.result_paths] == [picture, drawing]
    assert [p.suffix for p in entry.result_paths] == [".png", ".svg"]
    assert [r.image_id for r in entry.results] == ["img-1", "img-2"]
    assert [r.bytes for r in entry.results] == [len(picture), len(drawing)]
    assert (entry.operation, entry.model, entry.document, entry.front_end, entry.credits) == (
        "generate",
        "recraftv3",
        "harbour.kra",
        "krita",
        80,
    )
    assert entry.params == {
        "prompt": "a lighthouse at dusk",
        "n": 2,
        "style": "digital_illustration",
    }
    assert entry.placement == {"canvas": [300, 200], "box": [0, 0, 300, 200]}
    moment = datetime.strptime(entry.time, "%Y-%m-%dT%H:%M:%S.%f%z")
    assert moment.tzinfo == timezone.utc
    assert abs(moment - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert entry.day == moment.astimezone().strftime("%Y-%m-%d")
    assert entry.source_thumbnail is None and entry.thumbnail_paths == [None, None]
    # The folder holds plain files a person can open, and nothing half written.
    assert sorted(p.name for p in entry.folder.iterdir()) == [
        "record.json",
        "result-1.png",
        "result-2.svg",
    ]
    assert json.loads((entry.folder / "record.json").read_text())["params"]["prompt"] == (
        "a lighthouse at dusk"
    )
    assert lib.list() == [entry]


@pytest.mark.parametrize(
    "data, suffix",
    [
        (png(8, 8), ".png"),
        (svg(8, 8), ".svg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(16), ".webp"),
        (b"\xff\xd8\xff\xe0" + bytes(16), ".jpg"),
        (b"something else", ".bin"),  # kept anyway: it was paid for
    ],
)
def test_the_extension_comes_from_the_bytes(lib, data, suffix):
    entry = lib.get(lib.record("upscale", [data]))
    assert entry.result_paths[0].suffix == suffix
    assert entry.result_paths[0].read_bytes() == data


def test_the_token_is_never_in_the_library(lib):
    """Whatever the caller passes: nowhere in any file, the sqlite index included."""
    params = {
        "prompt": "a cat",
        "token": TOKEN,
        "Authorization": f"Bearer {TOKEN}",
        "api_token": TOKEN,
        "headers": {"authorization": f"Bearer {TOKEN}", "accept": "image/png"},
        "controls": [{"colors": [[1, 2, 3]], "X-Api-Key": TOKEN}],
        "image": b"raw input bytes",  # a file input: not kept
        "mask": raster(4, 4),
    }
    entry_id = lib.record("inpaint", [png(4, 4)], params=params, placement={"token": TOKEN})
    entry = lib.get(entry_id)
    assert entry.params == {
        "prompt": "a cat",
        "headers": {"accept": "image/png"},
        "controls": [{"colors": [[1, 2, 3]]}],
    }
    assert entry.placement == {}
    lib.mark_inserted(entry_id, "doc")
    lib.close()
    for path in lib.root.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_model_is_taken_from_the_params_when_not_given(lib):
    entry = lib.get(lib.record("generate", [png(4, 4)], params={"model": "recraftv4_1"}))
    assert entry.model == "recraftv4_1"


def test_bad_calls_are_refused_before_anything_is_written(lib):
    with pytest.raises(ValueError, match="front_end"):
        lib.record("generate", [png(4, 4)], front_end="photoshop")
    with pytest.raises(ValueError, match="no results"):
        lib.record("generate", [])
    with pytest.raises(TypeError):
        lib.record("generate", ["not bytes"])
    assert lib.list() == [] and list(store.scan(lib.root)) == []


def test_a_failed_write_leaves_no_entry(lib, monkeypatch):
    real = store.write_file
    calls = []

    def failing(folder, name, data):
        calls.append(name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(folder, name, data)

    monkeypatch.setattr(store, "write_file", failing)
    with pytest.raises(LibraryError, match="No space left") as caught:
        lib.record("generate", [png(4, 4), png(4, 4)])
    assert "library's folder" in caught.value.user_message
    assert list(store.scan(lib.root)) == [] and lib.list() == []


def test_mark_inserted_adds_where_it_went(lib):
    entry_id = lib.record("inpaint", [png(4, 4), png(4, 4)], params={"prompt": "a hat"})
    assert lib.mark_inserted(entry_id, "photo.kra: Recraft inpaint: a hat")
    assert lib.mark_inserted(entry_id, "photo.kra: Recraft inpaint: a hat (2)", result=1)
    got = lib.get(entry_id).inserted
    assert [(i.where, i.result) for i in got] == [
        ("photo.kra: Recraft inpaint: a hat", None),
        ("photo.kra: Recraft inpaint: a hat (2)", 1),
    ]
    assert lib.list()[0].inserted == got  # the index has it too
    lib.delete(entry_id)
    assert lib.mark_inserted(entry_id, "gone") is False


def test_ids_are_checked_before_they_become_paths(lib):
    for bad in ["../../etc", "20260509-120000-abcdeg", "x", "", "20260509-120000-abcdef/.."]:
        with pytest.raises(ValueError, match="not a library entry id"):
            lib.get(bad)
        with pytest.raises(ValueError):
            lib.delete(bad)
    assert lib.get("20260509-120000-abcdef") is None


def test_newest_first_with_limit_and_offset(lib, monkeypatch):
    Clock(monkeypatch, NOON)
    ids = [lib.record("generate", [png(4, 4)], params={"prompt": f"p{i}"}) for i in range(7)]
    newest = ids[::-1]
    assert [e.id for e in lib.list()] == newest
    assert [e.id for e in lib.list(limit=3)] == newest[:3]
    assert [e.id for e in lib.list(limit=3, offset=3)] == newest[3:6]
    assert [e.id for e in lib.list(limit=None, offset=5)] == newest[5:]
    assert lib.count() == 7


def test_search_by_prompt_operation_and_day(lib, monkeypatch):
    clock = Clock(monkeypatch, NOON)
    made = {}

    def add(name, op, prompt):
        made[name] = lib.record(op, [png(4, 4)], params={"prompt": prompt})

    add("lighthouse", "generate", "A Lighthouse at dusk, oil painting")
    add("hat", "inpaint", "a red straw hat")
    add("cafe", "generate", "Café terrace at night")
    clock.now += timedelta(days=1)
    add("fox", "generate", "a red fox in the snow")
    add("nothing", "remove_background", "")
    day1, day2 = lib.get(made["hat"]).day, lib.get(made["fox"]).day
    assert day1 != day2

    def ids(**query):
        return {name for name, i in made.items() if i in {e.id for e in lib.list(**query)}}

    assert ids(search="lighthouse") == {"lighthouse"}
    assert ids(search="LIGHT") == {"lighthouse"}  # a word's beginning, any case
    assert ids(search="house") == set()  # not the middle of a word
    assert ids(search="red") == {"hat", "fox"}
    assert ids(search="red hat") == {"hat"}  # every word
    assert ids(search="hat red") == {"hat"}
    assert ids(search="cafe") == {"cafe"} == ids(search="CAFÉ")  # accents do not matter
    assert ids(search="dusk, oil") == {"lighthouse"}  # punctuation is no word
    assert ids(search='"fox" (sno*') == {"fox"}  # no query syntax gets through
    assert ids(search="") == set(made)  # no words: no filter
    assert ids(search="zebra") == set()
    assert ids(operation="generate") == {"lighthouse", "cafe", "fox"}
    assert ids(operation="remove_background") == {"nothing"}
    assert ids(day=day1) == {"lighthouse", "hat", "cafe"}
    assert ids(day=day2) == {"fox", "nothing"}
    assert ids(search="red", day=day1) == {"hat"}
    assert ids(search="red", operation="generate") == {"fox"}
    assert lib.count(search="red") == 2


def test_costs_by_day_and_operation(lib, monkeypatch):
    clock = Clock(monkeypatch, NOON)
    lib.record("generate", [png(4, 4)], credits=40, front_end="krita", model="recraftv3")
    lib.record("generate", [png(4, 4)], credits=40, front_end="gimp", model="recraftv3")
    lib.record("inpaint", [png(4, 4)], credits=40, front_end="krita", model="recraftv3")
    lib.record("vectorize", [svg(4, 4)], credits=None, front_end="cli")  # unknown: 0
    day1 = records.local_day(clock.now)
    clock.now += timedelta(days=1)
    lib.record("inpaint", [png(4, 4)], credits=25, front_end="cli", model="recraftv4_1")
    day2 = records.local_day(clock.now)

    rows = [(c.group, c.credits, c.entries) for c in lib.costs()]
    assert rows == [
        ((day2, "inpaint"), 25, 1),  # newest day first, then operations A to Z
        ((day1, "generate"), 80, 2),
        ((day1, "inpaint"), 40, 1),
        ((day1, "vectorize"), 0, 1),
    ]
    assert [(c.group, c.credits) for c in lib.costs(by=("day",))] == [((day2,), 25), ((day1,), 120)]
    assert [(c.group, c.credits) for c in lib.costs(by=("operation",))] == [
        (("generate",), 80),
        (("inpaint",), 65),
        (("vectorize",), 0),
    ]
    by_front = {c.group: c.credits for c in lib.costs(by=("front_end", "model"))}
    assert by_front == {
        ("cli", None): 0,
        ("cli", "recraftv4_1"): 25,
        ("gimp", "recraftv3"): 40,
        ("krita", "recraftv3"): 80,
    }
    assert [(c.group, c.credits) for c in lib.costs(by=("day",), operation="inpaint")] == [
        ((day2,), 25),
        ((day1,), 40),
    ]
    assert lib.spent(day1) == 120 and lib.spent(day2) == 25
    with pytest.raises(ValueError, match="grouped by"):
        lib.costs(by=("prompt; DROP TABLE entries",))


def test_spent_today(lib):
    lib.record("generate", [png(4, 4)], credits=40)
    lib.record("generate", [png(4, 4)], credits=2)
    assert lib.spent() == 42


def sized(n: int) -> bytes:
    """A PNG-looking result of exactly n bytes."""
    return pngcodec.SIGNATURE + bytes(n - len(pngcodec.SIGNATURE))


def test_prune_removes_the_oldest_first_down_to_the_cap(tmp_path, monkeypatch):
    Clock(monkeypatch, NOON)
    lib = Library(tmp_path / "lib", cap_bytes=None)
    ids = [lib.record("generate", [sized(1000)], params={"prompt": f"p{i}"}) for i in range(10)]
    assert lib.size() == 10_000
    assert lib.prune(6_500) == ids[:4]
    assert [e.id for e in lib.list()] == ids[4:][::-1]
    assert lib.size() == 6000
    for i in ids[:4]:
        assert lib.get(i) is None and not store.folder_of(lib.root, i).exists()
    assert lib.prune(6000) == []
    # The newest stays even alone over the cap: it was just paid for.
    assert lib.prune(10) == ids[4:9]
    assert [e.id for e in lib.list()] == [ids[9]]


def test_record_prunes_past_the_library_cap(tmp_path, monkeypatch):
    Clock(monkeypatch, NOON)
    lib = Library(tmp_path / "lib", cap_bytes=3500)
    ids = [lib.record("generate", [sized(1000)]) for _ in range(6)]
    assert [e.id for e in lib.list()] == ids[:2:-1]
    assert lib.size() == 3000
    assert not (tmp_path / "lib" / ".trash").exists() or not any(
        (tmp_path / "lib" / ".trash").iterdir()
    )


def test_sizes_count_thumbnails(lib):
    entry = lib.get(lib.record("inpaint", [sized(500)], source=raster(300, 300)))
    thumb = (entry.folder / entry.source_thumbnail).stat().st_size
    assert entry.size == 500 + thumb == lib.size()


def test_delete(lib):
    keep = lib.record("generate", [png(4, 4)])
    gone = lib.record("generate", [png(4, 4)])
    folder = lib.get(gone).folder
    assert lib.delete(gone) is True
    assert not folder.exists() and lib.get(gone) is None
    assert [e.id for e in lib.list()] == [keep]
    assert lib.delete(gone) is False


def test_export_copies_results_and_record(lib, tmp_path):
    picture, drawing = png(10, 10), svg(8, 8)
    one = lib.record("generate", [picture], params={"prompt": "x"})
    two = lib.record("generate", [picture, drawing])
    out = tmp_path / "exported"
    paths = lib.export(one, out)
    assert [p.name for p in paths] == [f"{one}.png", f"{one}.json"]
    assert paths[0].read_bytes() == picture
    assert json.loads(paths[1].read_text())["params"] == {"prompt": "x"}
    paths = lib.export(two, out)
    assert [p.name for p in paths] == [f"{two}-1.png", f"{two}-2.svg", f"{two}.json"]
    assert paths[1].read_bytes() == drawing
    with pytest.raises(LibraryError, match="no entry"):
        lib.export("20200101-000000-000000", out)


def test_leftovers_of_crashes_are_ignored_then_cleaned(lib):
    """A folder without a record is an entry being written (or cut short): not listed, and
    removed once it is an hour old. A rewrite cut short leaves a temporary file beside a
    whole record: the next rewrite of that entry removes it."""
    whole = lib.record("generate", [png(4, 4)])
    young = store.folder_of(lib.root, "20260509-120000-aaaaaa")
    old = store.folder_of(lib.root, "20260509-110000-bbbbbb")
    for folder in (young, old):
        folder.mkdir(parents=True)
        (folder / "result-1.png").write_bytes(b"half a pn")
    tmp = lib.get(whole).folder / ".record.json.1234abcd.tmp"
    tmp.write_text("{")
    hour_ago = time.time() - store.STALE_SECONDS - 10
    os.utime(old, (hour_ago, hour_ago))
    again = Library(lib.root)
    assert [e.id for e in again.list()] == [whole]
    assert young.exists() and not old.exists()
    assert again.mark_inserted(whole, "doc")
    assert not tmp.exists()
    assert lib.get(whole).result_paths[0].exists()


def test_a_folder_removed_by_hand_leaves_the_index(lib):
    import shutil

    a = lib.record("generate", [png(4, 4)])
    b = lib.record("generate", [png(4, 4)])
    shutil.rmtree(lib.get(a).folder)
    lib.sync()
    assert [e.id for e in lib.list()] == [b]


def test_threads_of_one_process_record_at_once(lib):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        ids = list(
            pool.map(
                lambda i: lib.record("generate", [png(16, 16)], params={"prompt": f"t{i}"}),
                range(40),
            )
        )
    assert len(set(ids)) == 40 and lib.count() == 40
    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(lambda i: lib.mark_inserted(i, "doc"), ids))
    assert all(len(lib.get(i).inserted) == 1 for i in ids)


def test_a_prune_that_finds_the_index_stale_syncs_without_deadlock(lib):
    """prune holds the library's lock and asks the index, which syncs first when a change
    was missed: the lock is taken again by the same thread."""
    ids = [lib.record("generate", [sized(1000)]) for _ in range(3)]
    lib._stale = True
    assert lib.prune(1500) == ids[:2]


def test_the_lock_shuts_out_another_process(lib, tmp_path):
    """While one process rewrites, deletes or prunes, another waits: its rewrite starts
    only when the first lets go."""
    import subprocess
    import sys

    from recraft_core.library import locking

    marker = tmp_path / "took-it"
    script = (
        "import sys, time; from pathlib import Path\n"
        "from recraft_core.library import locking\n"
        f"with locking.locked(Path({str(lib.root / '.lock')!r})):\n"
        f"    Path({str(marker)!r}).write_text(str(time.time()))\n"
    )
    core = Path(__file__).resolve().parents[2] / "core"
    with locking.locked(lib.root / ".lock"):
        other = subprocess.Popen([sys.executable, "-c", script], env={"PYTHONPATH": str(core)})
        time.sleep(1.0)
        assert other.poll() is None and not marker.exists()  # waiting for us
        released = time.time()
    assert other.wait(timeout=30) == 0
    assert float(marker.read_text()) >= released


def test_open_library_follows_the_settings(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from recraft_core.library import DEFAULT_CAP, open_library

    monkeypatch.setenv("RECRAFT_LIBRARY", str(tmp_path / "default"))
    lib = open_library(SimpleNamespace())  # Settings without library fields yet
    assert (lib.root, lib.cap_bytes) == (tmp_path / "default", DEFAULT_CAP)
    chosen = SimpleNamespace(library_folder=str(tmp_path / "mine"), library_cap_gb=2)
    lib = open_library(chosen)
    assert (lib.root, lib.cap_bytes) == (tmp_path / "mine", 2 * 1024**3)
    assert open_library(SimpleNamespace(library_cap_gb=0)).cap_bytes is None
    assert open_library(SimpleNamespace(library_off=True)) is None
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    assert open_library(SimpleNamespace(library_folder=str(blocked / "library"))) is None
    assert open_library().root == tmp_path / "default"  # the saved settings: none here


def test_an_svg_result_is_kept_sanitised(tmp_path):
    """A user may open the library's files in a browser: no script survives there."""
    from recraft_core.library import Library

    hostile = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="alert(1)">'
        b'<script>alert(2)</script><circle cx="5" cy="5" r="4" fill="#123456"/></svg>'
    )
    with Library(tmp_path / "lib") as library:
        entry = library.get(library.record("vectorize", [hostile], front_end="cli"))
        text = entry.result_paths[0].read_text()
        assert entry.result_paths[0].suffix == ".svg" and 'fill="#123456"' in text
        assert "script" not in text and "alert" not in text
        refused = library.get(library.record("vectorize", [b"<svg><svg"], front_end="cli"))
        assert refused.result_paths[0].suffix != ".svg"


# -- a mask operation's edge ---------------------------------------------------------------------


def test_an_edge_is_kept_beside_the_result_and_named_in_the_placement(lib):
    """A mask operation's blend: edge.png (grey), named in placement["edge"] beside what the
    caller said of it, counted in the entry's size, written before the record like every
    file it names."""
    edge = pngcodec.Raster(30, 20, "L", bytes(range(200)) * 3)
    place = {"canvas": [64, 48], "box": [0, 0, 64, 48], "sent": [64, 48]}
    place["edge"] = {"box": [10, 12, 40, 32], "mask": True}
    entry = lib.get(lib.record("inpaint", [png(64, 48)], placement=place, edge=edge))
    assert entry.edge == {"box": [10, 12, 40, 32], "mask": True, "file": "edge.png"}
    assert entry.edge_path == entry.folder / "edge.png"
    assert pngcodec.decode(entry.edge_path.read_bytes()) == (30, 20, "L", edge.pixels)
    on_disk = sum(p.stat().st_size for p in entry.folder.iterdir() if p.name != store.RECORD)
    assert entry.size == on_disk and lib.size() == on_disk
    listed = lib.list()[0]  # from the index, decoded when asked
    assert listed.edge == entry.edge and listed.edge_path == entry.edge_path
    exported = lib.export(entry.id, lib.root.parent / "exported")
    assert [p.name for p in exported] == [
        f"{entry.id}.png",
        f"{entry.id}.edge.png",
        f"{entry.id}.json",
    ]
    assert exported[1].read_bytes() == entry.edge_path.read_bytes()
    # Other entries, and records from before edges were kept, have none.
    assert lib.get(lib.record("generate", [png(8, 8)])).edge is None
    with pytest.raises(ValueError, match="grey"):
        lib.record("inpaint", [png(8, 8)], placement=place, edge=raster(8, 8))


def test_a_record_cannot_name_an_edge_outside_its_folder(lib):
    place = {"canvas": [8, 8], "edge": {"box": [0, 0, 8, 8], "mask": False}}
    entry = lib.get(lib.record("inpaint", [png(8, 8)], placement=place))
    record = entry.folder / store.RECORD
    data = json.loads(record.read_text())
    data["placement"]["edge"]["file"] = "../../elsewhere.png"
    record.write_text(json.dumps(data))
    assert lib.get(entry.id).edge is None and lib.get(entry.id).edge_path is None
