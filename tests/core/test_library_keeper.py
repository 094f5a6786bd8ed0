"""Jobs of an editor and the results library (workflow/editor.py: Keeper): every job of a
process keeps its results in the one library open_library opened; what is written after the
result is kept (thumbnails of results decoded on the UI thread, where they were inserted) is
written by the library's own thread, never the UI thread, and a process that ends waits for
those writes. Real jobs against the local server, a real library on disk.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from images import raster
from recraft_core import Client, RetryPolicy
from recraft_core.imaging.png import Raster
from recraft_core.library import Library, library, locking
from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer
from recraft_core.workflow.editor import WRITER

CORE = Path(__file__).resolve().parents[2] / "core"


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=RetryPolicy(0)) as c:
        yield c


@pytest.fixture(autouse=True)
def fresh_process_library(monkeypatch):
    monkeypatch.setattr(library, "_opened", None)
    yield
    assert WRITER.settle(10)


def picture(w: int = 300, h: int = 300) -> Raster:
    rng = np.random.default_rng(1)
    return Raster(w, h, "RGBA", rng.integers(0, 256, (h, w, 4), np.uint8).tobytes())


def run(job: Job):
    """prepare and apply on this (the "UI") thread, run on a worker, as an editor does."""
    job.prepare()
    job.start().join(60)
    assert job.done
    return job.apply()


class UIThreadCodec:
    """A codec that may only run on the UI thread (GIMP's): results decode in apply."""

    thread_safe = False

    def encode_png(self, image, opaque=False):
        return (image.without_alpha() if opaque else image).to_png()

    def decode(self, data):
        from recraft_core.imaging import png

        return Raster(*png.decode(data))


def test_the_jobs_of_a_process_keep_their_results_in_one_library(
    client, recraft_server, private_library, monkeypatch
):
    opened = []
    real = Library.__init__

    def counted(self, *args, **kwargs):
        real(self, *args, **kwargs)
        opened.append((self.root, threading.current_thread().name))

    monkeypatch.setattr(Library, "__init__", counted)
    ids = []
    for prompt in ("a red hat", "a blue hat", "a green hat"):
        canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", picture())])
        job = Job(client, "generate", canvas, {"prompt": prompt}, front_end="krita")
        assert run(job) is not None and job.entry_id is not None
        ids.append(job.entry_id)
    assert len(opened) == 1 and opened[0][0] == private_library
    assert opened[0][1] != threading.current_thread().name  # the first job's worker opened it
    assert WRITER.settle(10)
    with Library(private_library) as lib:
        assert [e.id for e in lib.list()] == ids[::-1]
        assert all(lib.get(i).inserted for i in ids)


def test_results_decoded_on_the_ui_thread_get_thumbnails_from_the_library_thread(
    client, recraft_server, private_library, monkeypatch
):
    """GIMP's codec runs on its main thread, so the results are decoded in apply: their
    thumbnails (pixels shrunk, PNGs written, the record rewritten under the library's lock)
    are not made there, but by the library's thread, before where they went is noted."""
    writes = []
    for name in ("add_thumbnails", "mark_inserted"):
        real = getattr(Library, name)

        def spy(self, *args, real=real, name=name, **kwargs):
            writes.append((name, threading.current_thread().name))
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Library, name, spy)
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", picture())])
    canvas.codec = UIThreadCodec()
    job = Job(client, "remove_background", canvas, front_end="gimp", document="cat.xcf")
    assert run(job) is not None and len(canvas.layers) == 2
    assert WRITER.settle(10)
    assert writes == [("add_thumbnails", "recraft-library"), ("mark_inserted", "recraft-library")]
    with Library(private_library) as lib:
        entry = lib.get(job.entry_id)
    assert entry.thumbnail_paths[0].is_file() and entry.inserted[0].where.startswith("cat.xcf")


def test_results_decoded_on_the_worker_have_thumbnails_when_it_finishes(
    client, recraft_server, private_library
):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(300, 300, "RGBA"))])
    job = Job(client, "remove_background", canvas, front_end="krita")
    job.prepare()
    job.start().join(60)
    with Library(private_library) as lib:
        assert lib.get(job.entry_id).thumbnail_paths[0].is_file()
    assert job.apply() is not None


def test_a_process_that_ends_lets_the_library_finish_writing(
    recraft_server, private_library, tmp_path
):
    """A GIMP plug-in's process ends as soon as its procedure returns. Here another process
    holds the library's lock when the job's process ends, so where the result went is not
    written yet: the ending process waits for it instead of dropping it."""
    script = textwrap.dedent(
        f"""
        import sys
        from recraft_core import Client, RetryPolicy
        from recraft_core.imaging.png import Raster
        from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer

        client = Client({recraft_server.token!r}, base_url={recraft_server.base_url!r},
                        retry=RetryPolicy(0))
        red = Raster(64, 64, "RGBA", bytes([200, 0, 0, 255]) * 4096)
        canvas = MemoryCanvas(64, 64, [MemoryLayer("bg", red)])
        job = Job(client, "remove_background", canvas, front_end="gimp", document="ends.xcf")
        job.prepare()
        job.start().join(60)
        print(job.entry_id, flush=True)
        sys.stdin.readline()  # the other process has the library's lock now
        assert job.apply() is not None, job.error
        """
    )
    env = {"PYTHONPATH": str(CORE), "RECRAFT_LIBRARY": str(private_library), "HOME": str(tmp_path)}
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    entry_id = child.stdout.readline().strip()
    assert entry_id and entry_id != "None", "the job did not keep its result"
    with locking.locked(private_library / ".lock"):
        child.stdin.write("go\n")
        child.stdin.flush()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(1.0)  # it waits for the lock, as it should
        assert child.poll() is None, "the process ended without writing where the result went"
    assert child.wait(30) == 0
    with Library(private_library) as lib:
        assert lib.get(entry_id).inserted[0].where.startswith("ends.xcf")
