"""The figures of the performance issue (P1-P6), each as a ratio against a baseline run here,
now, in this process: these machines are noisy, so only same-run comparisons mean anything.

    pip install -e '.[test,bench]'
    python bench/bench_prepare.py [SIDE]        # SIDE: 4000 (px) unless given

Inputs: scikit-image's "astronaut" photograph scaled up to SIDE x SIDE with grain, a flat
illustration of the same size (bands and stripes: its rows repeat), flat discs (hardly a row
repeats), and a feathered elliptical selection. The path measured is
the pure-Python one: the encoder every plug-in uses, and the fallback decoder (Krita decodes
with Qt, GIMP with GdkPixbuf).
P1 starts from the pixels the editor read (its C code reads them; MemoryCanvas hands its
layer over as it is); P6 counts a read into a buffer of the job's own, as in an editor.
bench_editor_decode.py measures P3 inside Krita and GIMP.

    P1  prepare the layer and selection for upload (threshold, plan, size estimate, encode
        image and mask, multipart body)     vs zlib.compress(raw, 1), and Pillow's PNG save
    P2  bytes uploaded, and how many full encodes it took
    P3  decode a 2048 x 2048 result PNG     vs Pillow (the pure decoder is a fallback)
    P4  n = 6 results fetched               vs the slowest single download
    P5  import recraft_core                 requests not loaded; time of the core's modules
    P6  peak memory of a whole job          vs the raw image
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
import time
import tracemalloc
import zlib

import numpy as np
from PIL import Image

from recraft_core import Client, RetryPolicy
from recraft_core.api import validation, wire
from recraft_core.api.catalog import MAX_FILE_BYTES
from recraft_core.api.operations import OPERATIONS
from recraft_core.imaging import png
from recraft_core.imaging.png import Raster
from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer, PurePythonCodec
from recraft_server import RecraftServer

TARGETS = {"P1": 1.5, "P3": 2.0, "P4": 1.3, "P6": 4.0}


def photo(side: int) -> np.ndarray:
    import skimage.data

    image = Image.fromarray(skimage.data.astronaut()).resize((side, side), Image.BICUBIC)
    grain = np.random.default_rng(1).integers(-6, 7, (side, side, 3), dtype=np.int16)
    rgb = np.clip(np.asarray(image).astype(np.int16) + grain, 0, 255).astype(np.uint8)
    return np.dstack([rgb, np.full((side, side), 255, np.uint8)])


def flat(side: int) -> np.ndarray:
    out = np.full((side, side, 4), 255, np.uint8)
    out[..., :3] = (240, 236, 228)
    for i in range(0, side, side // 8):
        out[i : i + side // 20, :, :3] = (30, 60, 140)
        out[:, i : i + side // 32, :3] = (200, 60, 40)
    return out


def shapes(side: int) -> np.ndarray:
    """Flat colours in curved shapes (discs over a flat ground): hardly a row repeats the one
    above it, unlike flat()'s bands."""
    out = np.full((side, side, 4), 255, np.uint8)
    out[..., :3] = (240, 236, 228)
    y, x = np.mgrid[0:side, 0:side]
    for cx, cy, r, colour in ((0.3, 0.35, 0.25, (30, 60, 140)), (0.7, 0.6, 0.3, (200, 60, 40)),
                              (0.45, 0.8, 0.15, (250, 200, 40))):  # fmt: skip
        inside = (x - cx * side) ** 2 + (y - cy * side) ** 2 <= (r * side) ** 2
        out[inside, :3] = colour
    return out


def ellipse(side: int) -> bytes:
    y, x = np.mgrid[0:side, 0:side]
    r = np.hypot((x - side / 2) / (side / 5), (y - side / 2) / (side / 7))
    return (np.clip((1 - r) * 40 + 0.5, 0, 1) * 255).astype(np.uint8).tobytes()


def best(fn, repeat: int = 2):
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


class CountingCodec(PurePythonCodec):
    def __init__(self) -> None:
        self.encodes = 0

    def encode_png(self, image, opaque=False):
        self.encodes += 1
        return super().encode_png(image, opaque)


def document(array: np.ndarray, selection: bytes, canvas=MemoryCanvas) -> MemoryCanvas:
    """The user's document: a layer of the picture, and the selection. Made before any
    timing starts: it is the editor's, not the job's."""
    side = array.shape[0]
    raster = Raster(side, side, "RGBA", array.tobytes())
    return canvas(side, side, [MemoryLayer("photo", raster)], selection)


class CopyingCanvas(MemoryCanvas):
    """Reads as an editor does, into a buffer of the job's own (MemoryCanvas hands over a
    whole layer as it is): the memory a job holds in an editor."""

    def read(self, box, size=None) -> Raster:
        image = super().read(box, size)
        if image is self.source.image:
            image = Raster(image.width, image.height, image.mode, bytearray(image.pixels))
        return image


def prepare(canvas: MemoryCanvas, client: Client):
    """What a plug-in does before the upload starts: the job's prepare and encode, and the
    multipart body. Returns (files, body bytes, encodes)."""
    canvas.codec = CountingCodec()
    job = Job(client, "inpaint", canvas, {"prompt": "a hat"})
    job.prepare()
    files = job._encode()
    op = OPERATIONS["inpaint"]
    uploads = validation.load_files(op, files)
    body, _ = wire.build(op, {"prompt": "a hat"}, uploads).body()
    sizes = {name: len(upload.data) for name, upload in uploads.items()}
    return sizes, len(body), canvas.codec.encodes


@contextlib.contextmanager
def separate_server():
    """A Client of a local server in a process of its own, so that its memory and time are
    not counted with the job's; requests and the connection are loaded first."""
    server = subprocess.Popen(
        [sys.executable, "-m", "recraft_server", "--port", "0", "--quiet", "--token", "bench"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        server.stdout.readline()
        base_url = re.search(r"RECRAFT_API_URL=(\S+)", server.stdout.readline()).group(1)
        client = Client("bench", base_url=base_url, retry=RetryPolicy(0))
        client.call("user")
        yield client
    finally:
        server.terminate()
        server.wait()


def job_peak(canvas: MemoryCanvas) -> tuple[int, float]:
    """Peak Python memory of one whole inpaint (prepare, encode, upload, wait, download,
    decode, composite, insert) and its seconds."""
    with separate_server() as client:
        job = Job(client, "inpaint", canvas, {"prompt": "a hat"})
        tracemalloc.start()
        started = time.perf_counter()
        job.prepare()
        job.run()
        outcome = job.apply()
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if outcome is None:
        raise SystemExit(f"the job failed: {job.error}")
    return peak, took


QT_DECODE = """
import sys, time
from PyQt5 import QtCore, QtGui
data = open(sys.argv[1], "rb").read()
times = []
for _ in range(3):
    t = time.perf_counter()
    buffer = QtCore.QBuffer()
    buffer.setData(data)
    buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
    image = QtGui.QImageReader(buffer).read()
    if image.format() not in (QtGui.QImage.Format.Format_ARGB32, QtGui.QImage.Format.Format_RGB32):
        image = image.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    bits = image.constBits()
    bits.setsize(image.width() * image.height() * 4)
    pixels = bytes(bits)
    times.append(time.perf_counter() - t)
print(min(times))
"""


def qt_decode_seconds(data: bytes) -> float | None:
    """Krita's decoder (QtCodec: QImageReader, then the pixels copied out), timed by the
    system Python with PyQt5, which is what Krita 5 runs; None where there is none."""
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        f.write(data)
        f.flush()
        try:
            done = subprocess.run(
                ["/usr/bin/python3", "-c", QT_DECODE, f.name], capture_output=True, text=True
            )
        except OSError:
            return None
    return float(done.stdout) if done.returncode == 0 else None


def downloads(client: Client, n: int) -> float:
    """Seconds from the first download event of a generation to its end."""
    first = []

    def progress(event) -> None:
        if event.stage == "downloading" and not first:
            first.append(time.perf_counter())

    client.call("generate", prompt="owl", n=n, model="recraftv3", progress=progress)
    return time.perf_counter() - first[0]


def verdict(name: str, ratio: float) -> str:
    target = TARGETS[name]
    return f"{ratio:5.2f}x  (target <= {target}x: {'met' if ratio <= target else 'NOT MET'})"


def main() -> None:
    side = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    selection = ellipse(side)
    with RecraftServer(token="bench") as server:
        client = Client("bench", base_url=server.base_url, retry=RetryPolicy(0))
        print(f"{side} x {side} px ({side * side / 1e6:.0f} MP)")
        inputs = (("photo", photo(side)), ("flat", flat(side)), ("shapes", shapes(side)))
        for label, array in inputs:
            raw = array.tobytes()
            zlib_time, _ = best(lambda raw=raw: zlib.compress(raw, 1), 5)

            def pillow(array=array):
                out = io.BytesIO()
                Image.fromarray(array).save(out, "PNG")
                return out.getvalue()

            pillow_time, _ = best(pillow, 1)
            canvas = document(array, selection)
            took, (sizes, body, encodes) = best(lambda c=canvas: prepare(c, client), 5)
            print(f"P1 {label:6} prepare {took:6.2f} s = {verdict('P1', took / zlib_time)} "
                  f"of zlib level 1; {took / pillow_time:.2f}x Pillow's PNG save "
                  f"({'faster' if took < pillow_time else 'NOT faster'})")  # fmt: skip
            sent = sizes["image"] + sizes["mask"]
            print(f"P2 {label:6} uploaded {sent / 2**20:5.2f} MB "
                  f"({'under' if sent < MAX_FILE_BYTES else 'OVER'} 10 MB), "
                  f"{encodes} full encode(s) of the image, body {body / 2**20:.2f} MB")  # fmt: skip

        # P3: a 2048 x 2048 result, as Recraft sends it (Pillow's PNG of the photo).
        result = io.BytesIO()
        Image.fromarray(photo(2048)[..., :3]).save(result, "PNG")
        data = result.getvalue()
        ours, _ = best(lambda: png.decode(data), 1)
        theirs, _ = best(lambda: Image.open(io.BytesIO(data)).load())
        qt = qt_decode_seconds(data)
        if qt is not None:
            print(f"P3 decode 2048^2 with Qt (Krita's QtCodec way) {qt:6.3f} s = "
                  f"{verdict('P3', qt / theirs)} of Pillow")  # fmt: skip
        else:
            print("P3 decode with Qt: no PyQt5 in /usr/bin/python3 here, not measured")
        print(f"P3 decode 2048^2 pure Python {ours:6.2f} s = {ours / theirs:5.1f}x Pillow "
              "(the fallback: Sub and Up are fast, Average and Paeth run per byte)")  # fmt: skip

        # P4: six results, each file served after a delay; timed from the first download
        # event to the end of the call (the generation itself is the server's business).
        delay = 0.5
        server.fault("delay", times=1, seconds=delay, path="/files/")
        single = downloads(client, 1)
        server.fault("delay", times=6, seconds=delay, path="/files/")
        six = downloads(client, 6)
        print(f"P4 n = 6 fetched in {six:5.2f} s, one in {single:5.2f} s: "
              f"{verdict('P4', six / single)}")  # fmt: skip

    # P5: a fresh interpreter.
    code = (
        "import sys, time; t = time.perf_counter(); import recraft_core; "
        "print(time.perf_counter() - t, 'requests' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    seconds, loaded = out.split()
    print(f"P5 import recraft_core {float(seconds) * 1000:5.1f} ms (target < 40 ms), "
          f"requests loaded: {loaded} (target False)")  # fmt: skip

    # P6: the whole job, on the photo (sent smaller, to fit 10 MB) and on the flat image
    # (a 16 MP canvas sent whole, and a 16 MP result).
    for label, array in (("photo", photo(side)), ("flat", flat(side))):
        canvas = document(array, selection, CopyingCanvas)
        peak, took = job_peak(canvas)
        print(
            f"P6 {label:6} peak {peak / 2**20:5.0f} MB = {verdict('P6', peak / array.nbytes)} "
            f"of the raw image (a whole inpaint, {took:.0f} s with the pure-Python decoder)"
        )


if __name__ == "__main__":
    main()
