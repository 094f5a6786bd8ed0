"""The library under real processes: killed at random instants, and several writing at once.

Run as a script, this file is the writer (`python test_library_processes.py ROOT MODE SEED
[COUNT]`): it records entries whose bytes follow from their parameters, so a checker can
tell a whole file from a half-written or wrong one, rewrites some (an insertion), deletes a
few and prunes to a small cap, printing each id once recorded.
"""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORE = HERE.parents[1] / "core"
TOKEN = "tok-never-on-disk-5b1e"
SIZES = (600, 150_000, 3_000_000)  # the large ones keep a write going long enough to be hit
CAP = 40_000_000


def content(key: str, index: int, size: int) -> bytes:
    """The bytes of result `index` of the entry with `key`: a PNG signature, then noise."""
    body = hashlib.shake_256(f"{key}/{index}".encode()).digest(size - 8)
    return b"\x89PNG\r\n\x1a\n" + body


def write(root: str, mode: str, seed: int, count: int | None, cap: int | None) -> None:
    from recraft_core.imaging.png import Raster
    from recraft_core.library import Library

    rng = random.Random(seed)
    lib = Library(root, use_sqlite=mode == "sqlite", cap_bytes=cap)
    print("ready", flush=True)
    mine: list[str] = []
    k = 0
    while count is None or k < count:
        key, size, n = f"{seed}-{k}", rng.choice(SIZES), rng.choice((1, 1, 2))
        side = rng.choice((16, 300))
        pixels = Raster(side, side, "RGB", bytes([k % 256]) * (side * side * 3))
        entry_id = lib.record(
            rng.choice(("generate", "inpaint", "vectorize")),
            [content(key, i, size) for i in range(n)],
            params={"prompt": f"writer {seed} entry {k}", "key": key, "size": size, "token": TOKEN},
            credits=k % 7,
            front_end="cli",
            source=pixels if rng.random() < 0.5 else None,
            pixels=[pixels] * n if rng.random() < 0.5 else (),
        )
        mine.append(entry_id)
        print(f"recorded {entry_id}", flush=True)
        if rng.random() < 0.5:
            lib.mark_inserted(entry_id, f"document {k}")
        if rng.random() < 0.3:
            lib.add_thumbnails(entry_id, [pixels] * n)
        if len(mine) > 3 and rng.random() < 0.1:
            gone = mine.pop(rng.randrange(len(mine) - 1))
            if lib.delete(gone):
                print(f"deleted {gone}", flush=True)
        k += 1
    for gone in lib.prune(cap):
        print(f"deleted {gone}", flush=True)


def start(
    root: Path, mode: str, seed: int, count: int | None = None, cap: int | None = CAP
) -> subprocess.Popen:
    """A writer process: `count` entries (None: until killed), pruning past `cap`."""
    args = [sys.executable, __file__, str(root), mode, str(seed), str(count), str(cap)]
    env = {"PYTHONPATH": str(CORE), "PATH": "/usr/bin:/bin", "TZ": "UTC"}
    # stderr to a file: communicate() would read the pipes past the buffer that readline()
    # filled, losing the lines in it; stdout is read through that one buffer only.
    err = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by finish)
    writer = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    writer.err = err
    return writer


def finish(writer: subprocess.Popen) -> tuple[str, str]:
    """What a writer printed, once it has ended: stdout and stderr."""
    out = writer.stdout.read()
    writer.wait()
    writer.stdout.close()
    writer.err.seek(0)
    err = writer.err.read()
    writer.err.close()
    return out, err


def check_whole(root: Path) -> tuple[set[str], set[str]]:
    """Every entry with a record is whole: its record parses, names only files that exist
    with the bytes its parameters say, thumbnails that decode, and no token. Returns the
    whole entries' ids and those of the folders cut short (no record)."""
    from recraft_core.imaging import png
    from recraft_core.library import store

    whole, partial = set(), set()
    for entry_id, name in store.scan(root):
        folder = Path(name)
        record = folder / "record.json"
        if not record.exists():
            partial.add(entry_id)
            continue
        text = record.read_text(encoding="utf-8")
        assert TOKEN not in text
        entry = store.read_record(folder)
        assert entry is not None, f"{record} is not a whole record: {text[:200]!r}"
        key, size = entry.params["key"], entry.params["size"]
        for i, r in enumerate(entry.results):
            data = (folder / r.file).read_bytes()
            assert len(data) == r.bytes == size, f"{folder / r.file} is cut short"
            assert data == content(key, i, size), f"{folder / r.file} has other bytes"
            if r.thumbnail:
                assert max(png.decode((folder / r.thumbnail).read_bytes())[:2]) <= 128
        if entry.source_thumbnail:
            assert max(png.decode((folder / entry.source_thumbnail).read_bytes())[:2]) <= 128
        whole.add(entry_id)
    return whole, partial


def listed(root: Path, use_sqlite: bool) -> set[str]:
    from recraft_core.library import Library

    with Library(root, use_sqlite=use_sqlite, cap_bytes=None) as lib:
        entries = lib.list(limit=None)
        for e in entries:
            assert all(p.is_file() for p in e.result_paths), e
        return {e.id for e in entries}


# -- the tests ---------------------------------------------------------------------------------


def test_a_writer_killed_at_random_instants_leaves_only_whole_entries(tmp_path):
    """SIGKILL (TerminateProcess on Windows) mid-record, mid-rewrite, mid-delete,
    mid-prune, mid-transaction: after each kill every record that exists is whole, and
    both the sqlite index and the scan list exactly those."""
    root = tmp_path / "library"
    rng = random.Random(20)
    kills, cut_short, recorded, hits = 0, set(), set(), 0
    deadline = time.monotonic() + 60
    while kills < 30 and time.monotonic() < deadline:
        mode = "sqlite" if kills % 4 else "scan"
        writer = start(root, mode, seed=kills)
        assert writer.stdout.readline().strip() == "ready", finish(writer)
        time.sleep(rng.uniform(0.0, 0.6))
        writer.kill()
        out, err = finish(writer)
        assert "Traceback" not in err, err
        recorded |= {line.split()[1] for line in out.splitlines() if line.startswith("recorded")}
        kills += 1
        whole, partial = check_whole(root)
        hits += bool(partial - cut_short)  # this kill cut a write (or a delete) short
        cut_short |= partial
        # Everything a writer said it recorded is there, unless deleted or pruned since.
        assert listed(root, True) == whole == listed(root, False)
    assert kills >= 10
    assert len(recorded) >= 10, "the writers barely wrote: the kills tested little"
    assert hits >= 3, f"only {hits} of {kills} kills landed mid-write: the test tests little"
    print(f"{kills} kills, {len(recorded)} entries recorded, {hits} kills cut one short")


def test_writers_in_several_processes_at_once(tmp_path):
    """Two writers with sqlite and one without, on one library at once, while this
    process lists it: nothing is lost or mixed up, and every listing is of whole entries."""
    root = tmp_path / "library"
    modes = ("sqlite", "sqlite", "scan")
    # No cap: what each writer deletes it prints, and a prune would delete others' entries.
    writers = [start(root, mode, seed, 25, cap=None) for seed, mode in enumerate(modes)]
    for w in writers:
        assert w.stdout.readline().strip() == "ready", finish(w)
    from recraft_core.library import Library

    with Library(root, cap_bytes=None) as lib:
        while any(w.poll() is None for w in writers):
            for e in lib.list(limit=None):
                # Whole, unless deleted since it was listed (the record goes before the files)
                present = all(p.is_file() for p in e.result_paths)
                assert present or not (e.folder / "record.json").exists()
            time.sleep(0.05)
    recorded, deleted = [], set()
    for w in writers:
        out, err = finish(w)
        assert w.returncode == 0, err
        for line in out.splitlines():
            word, _, entry_id = line.partition(" ")
            if word == "recorded":
                recorded.append(entry_id)
            else:
                deleted.add(entry_id)
    assert len(recorded) == 75 == len(set(recorded)), sorted(recorded)
    recorded = set(recorded)
    whole, partial = check_whole(root)
    assert partial == set()
    assert whole == recorded - deleted
    assert listed(root, True) == whole == listed(root, False)
    with Library(root, cap_bytes=None) as lib:
        for entry_id in whole:
            entry = lib.get(entry_id)
            inserted = [i.where for i in entry.inserted]
            assert len(inserted) == len(set(inserted)) <= 1  # no rewrite lost or doubled


if __name__ == "__main__":
    root, mode, seed, count, cap = sys.argv[1:6]
    number = None if count == "None" else int(count)
    write(root, mode, int(seed), number, None if cap == "None" else int(cap))
