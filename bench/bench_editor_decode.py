"""P3 inside the editors: a 2048 x 2048 result PNG decoded into raw pixels by each plug-in's
own codec, in the editor, installed by install/install.py as a user installs it; against
Pillow here, in the same run (these machines are noisy: only ratios mean anything).

    python bench/bench_editor_decode.py

Krita (the host's and each chroot's, tests/krita/krita_harness.py): QtCodec.decode, Qt's
QImageReader, in Krita's Python. GIMP (each chroot, tests/gimp/conftest.py): GimpCodec.decode,
GIMP's own PNG loader (file_load_layer), then the GEGL buffer read as R'G'B'A u8, in the
plug-in's Python. Each figure is the best of three, timed inside the editor, and counts what
the job waits for: PNG bytes in, a Raster out.

This one file is also the payload: `decode` runs inside Krita, GIMP_CODE inside GIMP. Only
the standard library is imported at the top, for the editors' Pythons.
"""

from __future__ import annotations

import json
import os
import sys
import time

TARGET = 2.0  # x Pillow
GIMP_HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "gimp",
                            "conftest.py")  # fmt: skip
REPEAT = 3


def _best(fn, data: bytes) -> tuple[float, list[int]]:
    times, raster = [], None
    for _ in range(REPEAT):
        started = time.perf_counter()
        raster = fn(data)
        times.append(time.perf_counter() - started)
    return min(times), [raster.width, raster.height, len(raster.pixels)]


# -- inside Krita ---------------------------------------------------------------------------------


def decode(out_dir, path):
    from krita import Krita
    from recraft_krita.canvas import QtCodec

    with open(path, "rb") as f:
        data = f.read()
    seconds, shape = _best(QtCodec().decode, data)
    return {"version": Krita.instance().version(), "seconds": seconds, "shape": shape}


# -- inside GIMP (python-fu-eval; {plugin}, {data} and {report} filled in) -----------------------

GIMP_CODE = """
import json, sys, time
sys.path[:0] = [{plugin!r}, {plugin!r} + "/vendor"]
from gi.repository import Gimp
from gimp_canvas import GimpCodec
data = open({data!r}, "rb").read()
times = []
for _ in range({repeat}):
    started = time.perf_counter()
    raster = GimpCodec().decode(data)
    times.append(time.perf_counter() - started)
shape = [raster.width, raster.height, len(raster.pixels)]
report = {{"version": Gimp.version(), "seconds": min(times), "shape": shape}}
open({report!r}, "w").write(json.dumps(report))
"""


# -- on the host ----------------------------------------------------------------------------------


def result_png(side: int = 2048) -> bytes:
    """A result as Recraft sends it: Pillow's PNG (adaptive filters) of the bench photo."""
    import io

    from bench_prepare import photo
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(photo(side)[..., :3]).save(out, "PNG")
    return out.getvalue()


def in_krita(work, data_path) -> list[tuple[str, float, list[int]]]:
    from krita_harness import Xvfb, editors, install_plugin, install_probe, launch, profile_env

    found = []
    with Xvfb() as display:
        for editor in editors():
            home = work / f"krita-{editor.version}"
            install_probe(home)
            env = profile_env(home, display, "http://127.0.0.1:9/v1", "bench")
            install_plugin(home, env)
            here = os.path.abspath(__file__)
            out = launch(editor, home, env, home / "out", "decode", {"path": str(data_path)},
                         payloads=here)  # fmt: skip
            found.append(
                (f"Krita {out.value['version']}", out.value["seconds"], out.value["shape"])
            )
    return found


def in_gimp(work, data_path) -> list[tuple[str, float, list[int]]]:
    import importlib.util
    import subprocess
    from types import SimpleNamespace

    # The GIMP tests' harness (tests/gimp/conftest.py), by path: tests/conftest.py has the name.
    spec = importlib.util.spec_from_file_location("gimp_harness", GIMP_HARNESS)
    harness = sys.modules["gimp_harness"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    Gimp, editors = harness.Gimp, harness.editors

    found = []
    server = SimpleNamespace(base_url="http://127.0.0.1:9/v1", token="bench")
    for editor in editors():
        home = work / f"gimp-{editor.version}"
        home.mkdir()
        gimp = Gimp(editor, home, server)
        report = home / "report.json"
        code = GIMP_CODE.format(
            plugin=str(gimp.profile / "plug-ins" / "recraft"),
            data=str(data_path),
            report=str(report),
            repeat=REPEAT,
        )
        done = subprocess.run(gimp.command(code, "bench"), capture_output=True, text=True,
                              timeout=300)  # fmt: skip
        if not report.exists():
            raise SystemExit(f"GIMP {editor.version} did not report:\n{done.stdout[-3000:]}")
        value = json.loads(report.read_text())
        found.append((f"GIMP {value['version']}", value["seconds"], value["shape"]))
    return found


def main() -> None:
    import io
    import tempfile
    from pathlib import Path

    from PIL import Image

    here = Path(__file__).resolve()
    for folder in ("tests/krita", "tests", "core", "bench"):
        sys.path.insert(0, str(here.parents[1] / folder))

    data = result_png()
    work = Path(tempfile.mkdtemp(prefix="bench-editor-decode-", dir="/tmp"))
    data_path = work / "result.png"
    data_path.write_bytes(data)
    started = time.monotonic()
    figures = in_krita(work, data_path) + in_gimp(work, data_path)

    from recraft_core.imaging.png import Raster

    def pillow(data):
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return Raster(im.width, im.height, im.mode, im.tobytes())

    baseline, _ = _best(pillow, data)
    print(f"a 2048 x 2048 result PNG ({len(data) / 2**20:.1f} MB); Pillow {baseline:.3f} s here")
    for name, seconds, (w, h, size) in figures:
        ratio = seconds / baseline
        verdict = "met" if ratio <= TARGET else "NOT MET"
        print(f"P3 {name:12} {seconds:6.3f} s = {ratio:5.2f}x Pillow (target <= {TARGET}x: "
              f"{verdict}); {w}x{h}, {size / w / h:.0f} bytes a pixel")  # fmt: skip
    print(f"({time.monotonic() - started:.0f} s in all; files in {work})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
