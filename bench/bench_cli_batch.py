"""A CLI batch against one file run alone: `recraft remove-background` on 24 photo-like
1024 x 1024 PNGs with --jobs 4, the local server taking 1 s per image operation.

    python bench/bench_cli_batch.py [FILES [JOBS [DELAY]]]    # 24 4 1 unless given

Prints ratio = batch time / ((FILES / JOBS) x one file's time), both measured here, now, as
a user runs them (a `recraft` process each, the results library on): 1.0 is a perfect
overlap, and the batch is meant to stay at or under 1.3. Exits 1 when it does not.

Recraft does its work on its own machines; the local server does it on this one, in one
Python process, so the server's CPU per file is printed too (it writes its PNGs at zlib level
1 for this reason: at the default level, four requests at once queued in its encoder).
Needs `pip install -e '.[test]'` (numpy and Pillow draw the photos).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 1.3


def photo(side: int, seed: int) -> Image.Image:
    """Smooth colour fields with grain, a photograph's entropy: a PNG of about 2 MB."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side] / side
    channels = [
        128 + 100 * np.sin(x * rng.uniform(2, 7) + y * rng.uniform(1, 5) + rng.uniform(0, 6))
        for _ in range(3)
    ]
    grain = rng.integers(-8, 9, (side, side, 3))
    rgb = np.clip(np.dstack(channels) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


def start_server(delay: float) -> tuple[subprocess.Popen, str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "recraft_server", "--port", "0", "--quiet", "--token", "bench",
         "--fault", f"delay={delay:g},path=/images,times=100000"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )  # fmt: skip
    server.stdout.readline()
    base_url = re.search(r"RECRAFT_API_URL=(\S+)", server.stdout.readline()).group(1)
    return server, base_url


def cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used (Linux), for what the server's own work costs here."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _env(**extra) -> dict:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "core"), env.get("PYTHONPATH")]))
    return env


def recraft(folder: Path, env: dict, *args: str) -> float:
    """Seconds one `recraft` run takes, start to exit."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "recraft_core", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"recraft {' '.join(args[:3])}... failed:\n{done.stderr}")
    return took


def measure(folder: Path, names: list[str], jobs: int, delay: float) -> dict:
    """One file alone, then the batch, against a server of their own; seconds."""
    server, base_url = start_server(delay)
    env = _env(
        RECRAFT_API_URL=base_url,
        RECRAFT_API_TOKEN="bench",
        RECRAFT_LIBRARY=str(folder / "library"),
        RECRAFT_CONFIG=str(folder / "settings.json"),
    )
    tag = "run"
    try:
        # One file alone, twice (the first warms the disk cache and the server): the faster.
        single = min(recraft(folder, env, "remove-background", names[0], "-o", f"{tag}-one{i}/")
                     for i in range(2))  # fmt: skip
        before = cpu_seconds(server.pid)
        batch = recraft(folder, env, "remove-background", *names, "-o", f"{tag}-out/",
                        "--jobs", str(jobs))  # fmt: skip
        after = cpu_seconds(server.pid)
    finally:
        server.terminate()
        server.wait()
    written = len(list((folder / f"{tag}-out").glob("*.png")))
    if written != len(names):
        raise SystemExit(f"the batch wrote {written} results of {len(names)}")
    ideal = len(names) / jobs * single
    server_cpu = None if before is None or after is None else (after - before) / len(names)
    return {"single": single, "batch": batch, "ratio": batch / ideal, "server_cpu": server_cpu}


def main() -> int:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    with tempfile.TemporaryDirectory(prefix="bench-cli-batch-") as tmp:
        folder = Path(tmp)
        names = []
        for i in range(files):
            names.append(f"shot{i:02d}.png")
            photo(1024, i).save(folder / names[-1])
        size = sum((folder / n).stat().st_size for n in names) / files / 1e6
        m = measure(folder, names, jobs, delay)
    print(
        f"{files} photo-like 1024x1024 PNGs ({size:.1f} MB each), server delay {delay:g} s, "
        f"--jobs {jobs}; ratio = batch / ({files}/{jobs} x one file alone)"
    )
    cpu = "" if m["server_cpu"] is None else f", server CPU {m['server_cpu']:.2f} s/file"
    print(f"  one file {m['single']:5.2f} s, batch {m['batch']:6.2f} s{cpu}")
    ok = m["ratio"] <= LIMIT
    print(f"ratio {m['ratio']:.2f} (at most {LIMIT}): {'ok' if ok else 'over'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
