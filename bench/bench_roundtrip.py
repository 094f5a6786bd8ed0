"""The round trip of an inpaint, from Run to the new layer, and where its time goes.

    python bench/bench_roundtrip.py [--against REV] [WIDTH HEIGHT]   # 4096 3072 unless given

A 4096 x 3072 photograph (scikit-image's astronaut scaled up, with grain) with a feathered
elliptical selection, inpainted through a Job on a MemoryCanvas (the pure-Python codec: GIMP's
encoder, everyone's fallback decoder) against the local server in a process of its own. The
job's progress is polled from this thread, as a plug-in's UI does, so each stage is timed.

--against REV runs the same measurement on that commit's recraft_core too (a git worktree in
the temporary folder), in the same run: these machines are noisy, so a figure from another
day says little. Needs `pip install -e '.[test,bench]'`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(width: int, height: int) -> dict:
    """One inpaint with the recraft_core on sys.path; times in seconds."""
    import numpy as np
    from bench_prepare import photo, separate_server

    from recraft_core.imaging.png import Raster
    from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer

    square = photo(max(width, height))
    picture = np.ascontiguousarray(square[:height, :width])
    y, x = np.mgrid[0:height, 0:width]
    r = np.hypot((x - width / 2) / (width / 6), (y - height / 2) / (height / 6))
    selection = (np.clip((1 - r) * 40 + 0.5, 0, 1) * 255).astype(np.uint8).tobytes()
    layer = MemoryLayer("photo", Raster(width, height, "RGBA", picture.tobytes()))
    canvas = MemoryCanvas(width, height, [layer], selection)

    with separate_server() as client:
        stages: dict[str, float] = {}
        uploaded = 0
        started = time.perf_counter()
        job = Job(client, "inpaint", canvas, {"prompt": "a hat"})
        job.prepare()
        stages["prepare"] = time.perf_counter()
        job.start()
        while not job.wait(0.005):
            progress = job.progress
            stages.setdefault(progress.stage, time.perf_counter())
            if progress.stage == "uploading" and progress.total:
                uploaded = progress.total
        stages["worker done"] = time.perf_counter()
        outcome = job.apply()
        stages["applied"] = time.perf_counter()
    if outcome is None:
        raise SystemExit(f"the job failed: {job.error}")
    marks = sorted(stages.items(), key=lambda kv: kv[1])
    return {
        "total": stages["applied"] - started,
        "stages": [(name, at - started) for name, at in marks],
        "uploaded": uploaded,
        "notes": outcome.notes,
    }


def run_elsewhere(rev: str, width: int, height: int) -> dict:
    """The same measurement on commit `rev`'s recraft_core and recraft_server."""
    tree = tempfile.mkdtemp(prefix="bench-roundtrip-")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", tree, rev],
                   check=True, capture_output=True)  # fmt: skip
    try:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(tree, "core"), HERE]))
        done = subprocess.run(
            [sys.executable, __file__, "--json", str(width), str(height)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"{rev}: {done.stderr[-2000:]}")
        return json.loads(done.stdout.splitlines()[-1])
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree],
                       check=False, capture_output=True)  # fmt: skip


def show(label: str, figures: dict) -> None:
    stages = "  ".join(f"{name} {at:5.2f}" for name, at in figures["stages"])
    seen = figures["uploaded"]
    body = f"{seen / 2**20:.1f} MB" if seen else "not seen (the poll missed the upload)"
    print(f"{label:10} total {figures['total']:6.2f} s, request body {body} "
          f"(stage: seconds from Run)\n{'':10} {stages}")  # fmt: skip
    for note in figures["notes"]:
        print(f"{'':10} note: {note}")


def main() -> None:
    args = sys.argv[1:]
    as_json = "--json" in args
    against = None
    if "--against" in args:
        at = args.index("--against")
        against = args[at + 1]
        del args[at : at + 2]
    args = [a for a in args if a != "--json"]
    width, height = (int(args[0]), int(args[1])) if len(args) == 2 else (4096, 3072)
    if as_json:
        print(json.dumps(measure(width, height)))
        return
    print(f"inpaint of a {width} x {height} photo with a feathered elliptical selection")
    if against:
        show(against, run_elsewhere(against, width, height))
    show("this tree", measure(width, height))


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
