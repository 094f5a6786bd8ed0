"""Speed of the plug-ins' hot helpers, as ratios against baselines run here, now.

    python bench/bench_helpers.py [SIDE]

Baselines: a plain per-pixel Python loop (what an editor plug-in would write without these
helpers) and Pillow's C PNG encoder (the best case, unavailable inside the editors).
Ratios, not seconds: these machines are noisy, so only same-run comparisons mean anything.

Then how long each whole-image helper, run on a worker thread as the plug-ins run it, keeps
another thread waiting for the GIL (an editor's GUI thread, whose events are Python slots):
the longest wait against the helper's whole time, and against one plain copy of the image
made at once (what the helpers avoid: one C call over all the bytes, holding the GIL).
"""

from __future__ import annotations

import io
import random
import sys
import threading
import time

from recraft_core.imaging import masks, png


def _photo(side: int, rng: random.Random) -> bytes:
    """Smooth gradients with a little noise: pure noise would defeat every PNG filter."""
    row_noise = [bytes(rng.randrange(8) for _ in range(side * 3)) for _ in range(16)]
    rows = []
    for y in range(side):
        base = bytes((x * 3 // 8 + y // 8 + c * 60) % 256 for x in range(side) for c in range(3))
        rows.append(bytes(a ^ b for a, b in zip(base, row_noise[y % 16], strict=True)))
    return b"".join(rows)


def gil_wait(fn) -> tuple[float, float]:
    """(seconds fn takes on a worker thread, the longest another thread then waits to run):
    that thread sleeps 1 ms at a time, and wakes late when the worker holds the GIL."""
    go, done, took = threading.Event(), threading.Event(), []

    def work() -> None:
        go.wait()
        start = time.perf_counter()
        fn()
        took.append(time.perf_counter() - start)
        done.set()

    worker = threading.Thread(target=work)
    worker.start()
    last, longest = time.perf_counter(), 0.0
    go.set()
    while not done.is_set():
        time.sleep(0.001)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    worker.join()
    return took[0], longest


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    side = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    rng = random.Random(0)
    # A feathered elliptical selection, as an editor hands it over.
    selection = bytearray(side * side)
    cx = cy = side / 2
    for y in range(0, side):
        row = y * side
        dy = (y - cy) / (side / 3)
        for x in range(0, side, 64):
            d = ((x - cx) / (side / 3)) ** 2 + dy * dy
            v = max(0, min(255, int((1.2 - d) * 600)))
            selection[row + x : row + x + 64] = bytes([v]) * 64
    selection = bytes(selection)
    photo = _photo(side, rng)

    def loop_threshold():
        return bytes(255 if v >= 128 else 0 for v in selection)

    mask = masks.threshold(selection)
    assert loop_threshold() == mask

    def loop_bbox():
        xs, ys = [], []
        for i, v in enumerate(mask):
            if v:
                xs.append(i % side)
                ys.append(i // side)
        return min(xs), min(ys), max(xs) + 1, max(ys) + 1

    assert loop_bbox() == masks.bbox(mask, side, side)

    from PIL import Image

    def pillow_png(mode, data):
        buf = io.BytesIO()
        Image.frombytes(mode, (side, side), data).save(buf, "PNG", compress_level=6)
        return buf.getvalue()

    rows = [
        ("threshold", lambda: masks.threshold(selection), loop_threshold, "python loop"),
        ("mask bbox", lambda: masks.bbox(mask, side, side), loop_bbox, "python loop"),
        (
            "mask PNG",
            lambda: png.encode(side, side, "L", mask),
            lambda: pillow_png("L", mask),
            "Pillow",
        ),
        (
            "RGB PNG",
            lambda: png.encode(side, side, "RGB", photo),
            lambda: pillow_png("RGB", photo),
            "Pillow",
        ),
    ]
    print(f"{side}x{side} px; ratio = baseline time / our time (>1: we are faster)")
    for name, ours, base, base_name in rows:
        t_ours, t_base = best_of(ours), best_of(base, repeat=1 if "loop" in base_name else 3)
        print(
            f"  {name:10s} {t_base / t_ours:8.1f}x vs {base_name:12s} (ours {t_ours * 1000:.1f} ms)"
        )
    # A photo as an editor hands it over, at twice the side (a 16 MP layer by default):
    # BGRA, opaque (Krita's layers, QImage's ARGB32), the photo above tiled 2 x 2.
    big = 2 * side
    bgra = bytearray(side * side * 4)
    for c, channel in enumerate((2, 1, 0)):
        bgra[c::4] = photo[channel::3]
    bgra[3::4] = b"\xff" * (side * side)
    rows = [bytes(bgra[y * side * 4 : (y + 1) * side * 4]) * 2 for y in range(side)]
    pixels = b"".join(rows) * 2
    whole = gil_wait(lambda: bytearray(pixels))[1]
    print(f"GIL on a worker, {big}x{big} BGRA: the longest wait of another thread")
    print(f"  (one plain copy of the image: {whole * 1000:.1f} ms)")
    for name, helper in (
        ("swap_red_blue", lambda: png.swap_red_blue(pixels)),
        ("without_alpha", lambda: png.Raster(big, big, "BGRA", pixels).without_alpha()),
        ("opaque", lambda: png.Raster(big, big, "BGRA", pixels).opaque),
        ("PNG encode", lambda: png.Raster(big, big, "BGRA", pixels).to_png()),
    ):
        took, longest = min((gil_wait(helper) for _ in range(3)), key=lambda r: r[1])
        print(
            f"  {name:14s} {longest * 1000:6.1f} ms of {took * 1000:7.1f} ms "
            f"({whole / max(longest, 1e-4):.1f}x shorter than the plain copy's)"
        )
    size = len(png.encode(side, side, "L", mask))
    print(f"  mask PNG is {size} bytes ({size / (side * side):.4f} bytes per pixel)")
    # Upload size decides whether a layer fits under the API's 10 MB: compare with Pillow's
    # adaptive filtering and with no filtering at all.
    ours = len(png.encode(side, side, "RGB", photo))
    print(
        f"  RGB PNG size: ours/Pillow {ours / len(pillow_png('RGB', photo)):.2f}, "
        f"ours/unfiltered {ours / len(png.encode(side, side, 'RGB', photo, filter=0)):.2f}"
    )


if __name__ == "__main__":
    main()
