"""Speed of the mask and compositing helpers, as ratios against baselines run here, now.

    python bench/bench_masks.py [SIDE]

Masks are SIDE x SIDE (default 4096) with an elliptical selection; set_alpha and blend work on
RGBA at half that side with a feathered ellipse. Baselines: numpy doing the same thing (the
best case, unavailable inside the editors) and a plain per-pixel Python loop (what a plug-in
would write without these helpers), run on a smaller image and scaled up by the pixel count,
since the full size would take minutes. Ratios, not seconds: these machines are noisy, so
only same-run comparisons mean anything.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
import time

import numpy as np
from PIL import Image

from recraft_core.imaging import masks, pixels


def best_of(fn, repeat=3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def ellipse(side: int) -> bytes:
    """A 0/255 ellipse over the middle two thirds, drawn a row at a time."""
    mask = bytearray(side * side)
    for y in range(side):
        dy = (y + 0.5 - side / 2) / (side / 3)
        if abs(dy) < 1:
            half = int(side / 2.5 * math.sqrt(1 - dy * dy))
            mask[y * side + side // 2 - half : y * side + side // 2 + half] = b"\xff" * (2 * half)
    return bytes(mask)


# -- numpy baselines --------------------------------------------------------------------------


def np_grow(a: np.ndarray, r: int) -> np.ndarray:
    """Separable max filter over shifted slices: what one writes in numpy without scipy."""
    h, w = a.shape
    out = a.copy()
    for d in range(1, min(r, w - 1) + 1):
        np.maximum(out[:, d:], a[:, :-d], out=out[:, d:])
        np.maximum(out[:, :-d], a[:, d:], out=out[:, :-d])
    rows = out.copy()
    for d in range(1, min(r, h - 1) + 1):
        np.maximum(out[d:], rows[:-d], out=out[d:])
        np.maximum(out[:-d], rows[d:], out=out[:-d])
    return out


def np_feather(a: np.ndarray, radius: int) -> np.ndarray:
    n = min(radius, 16)
    radii = [-(-i * radius // n) for i in range(n + 1)]
    count = (a == 255).astype(np.uint8)
    layer = a
    for prev, r in itertools.pairwise(radii):
        layer = np_grow(layer, r - prev)
        count += layer == 255
    return ((510 * count.astype(np.uint16) + n + 1) // (2 * n + 2)).astype(np.uint8)


def np_nearest(size: int, new_size: int) -> np.ndarray:
    return np.minimum(((np.arange(new_size) + 0.5) * (size / new_size)).astype(np.int64), size - 1)


def np_set_alpha(rgba: np.ndarray, m: np.ndarray) -> np.ndarray:
    out = rgba.copy()
    out[:, 3] = (rgba[:, 3].astype(np.uint16) * m + 127) // 255
    return out


def np_blend(b: np.ndarray, t: np.ndarray, m: np.ndarray) -> np.ndarray:
    m = m.astype(np.uint32)[:, None]
    return ((b * (255 - m) + t * m + 127) // 255).astype(np.uint8)


# -- plain Python loops -----------------------------------------------------------------------


def loop_grow(mask: bytes, w: int, h: int, r: int) -> bytes:
    across = bytearray(w * h)
    for y in range(h):
        for x in range(w):
            if any(mask[y * w + i] for i in range(max(0, x - r), min(w, x + r + 1))):
                across[y * w + x] = 255
    out = bytearray(w * h)
    for y in range(h):
        for x in range(w):
            if any(across[j * w + x] for j in range(max(0, y - r), min(h, y + r + 1))):
                out[y * w + x] = 255
    return bytes(out)


def loop_feather(mask: bytes, w: int, h: int, radius: int) -> bytes:
    """Chessboard distance by two raster passes, then the same staircase as masks.feather."""
    far = w + h
    d = [0 if v else far for v in mask]
    for y in range(h):
        for x in range(w):
            i = y * w + x
            best = d[i]
            for nx, ny in ((x - 1, y), (x - 1, y - 1), (x, y - 1), (x + 1, y - 1)):
                if 0 <= nx < w and ny >= 0:
                    best = min(best, d[ny * w + nx] + 1)
            d[i] = best
    for y in range(h - 1, -1, -1):
        for x in range(w - 1, -1, -1):
            i = y * w + x
            best = d[i]
            for nx, ny in ((x + 1, y), (x + 1, y + 1), (x, y + 1), (x - 1, y + 1)):
                if 0 <= nx < w and ny < h:
                    best = min(best, d[ny * w + nx] + 1)
            d[i] = best
    n = min(radius, 16)
    radii = [-(-i * radius // n) for i in range(n + 1)]
    out = bytearray(w * h)
    for i, dist in enumerate(d):
        k = sum(dist <= r for r in radii)
        out[i] = (510 * k + n + 1) // (2 * n + 2)
    return bytes(out)


def loop_resize(src: bytes, w: int, h: int, nw: int, nh: int) -> bytes:
    out = bytearray(nw * nh)
    for y in range(nh):
        sy = min(int((y + 0.5) * h / nh), h - 1)
        for x in range(nw):
            out[y * nw + x] = src[sy * w + min(int((x + 0.5) * w / nw), w - 1)]
    return bytes(out)


def loop_set_alpha(rgba: bytes, m: bytes) -> bytes:
    out = bytearray(rgba)
    for i, v in enumerate(m):
        out[4 * i + 3] = (rgba[4 * i + 3] * v + 127) // 255
    return bytes(out)


def loop_blend(base: bytes, top: bytes, m: bytes) -> bytes:
    out = bytearray(len(base))
    for i, v in enumerate(m):
        for c in range(4 * i, 4 * i + 4):
            out[c] = (base[c] * (255 - v) + top[c] * v + 127) // 255
    return bytes(out)


def main() -> None:
    side = int(sys.argv[1]) if len(sys.argv) > 1 else 4096
    small = max(64, side // 16)  # the Python loops' side: (side / small)**2 fewer pixels
    rng = random.Random(0)
    mask, small_mask = ellipse(side), ellipse(small)
    a = np.frombuffer(mask, np.uint8).reshape(side, side)

    new = side * 3000 // 4096
    rows, cols = np_nearest(side, new), np_nearest(side, new)

    # Compositing: RGBA at half the side, with a feathered ellipse as the mask.
    rside, rsmall = side // 2, small
    soft = masks.feather(ellipse(rside), rside, rside, 24)
    small_soft = masks.feather(ellipse(rsmall), rsmall, rsmall, 24)
    layer = bytearray(rng.randbytes(4 * rside * rside))
    layer[3::4] = bytes(rng.randrange(128, 256) for _ in range(256)) * (rside * rside // 256)
    layer = bytes(layer)
    under = rng.randbytes(4 * rside * rside)
    small_layer, small_under = layer[: 4 * rsmall * rsmall], under[: 4 * rsmall * rsmall]
    lay = np.frombuffer(layer, np.uint8).reshape(-1, 4)
    und = np.frombuffer(under, np.uint8).reshape(-1, 4)
    m = np.frombuffer(soft, np.uint8)

    # The baselines compute the same results; check before timing.
    assert masks.grow(mask, side, side, 16) == np_grow(a, 16).tobytes()
    assert masks.feather(mask, side, side, 24) == np_feather(a, 24).tobytes()
    pillow = Image.frombytes("L", (side, side), mask).resize((new, new), Image.NEAREST)
    assert masks.resize_nearest(mask, side, side, new, new) == pillow.tobytes()
    assert pixels.set_alpha(layer, soft) == np_set_alpha(lay, m).tobytes()
    assert pixels.blend(under, layer, soft) == np_blend(und, lay, m).tobytes()
    assert masks.grow(small_mask, small, small, 16) == loop_grow(small_mask, small, small, 16)
    assert masks.feather(small_mask, small, small, 24) == loop_feather(small_mask, small, small, 24)

    big, little = side * side, small * small
    rbig, rlittle = rside * rside, rsmall * rsmall
    cases = [
        (
            "grow r=16",
            lambda: masks.grow(mask, side, side, 16),
            lambda: np_grow(a, 16),
            lambda: loop_grow(small_mask, small, small, 16),
            big / little,
        ),
        (
            "feather r=24",
            lambda: masks.feather(mask, side, side, 24),
            lambda: np_feather(a, 24),
            lambda: loop_feather(small_mask, small, small, 24),
            big / little,
        ),
        (
            f"resize {new}",
            lambda: masks.resize_nearest(mask, side, side, new, new),
            lambda: a[rows][:, cols].tobytes(),
            lambda: loop_resize(small_mask, small, small, small * 3 // 4, small * 3 // 4),
            big / little,
        ),
        (
            "set_alpha",
            lambda: pixels.set_alpha(layer, soft),
            lambda: np_set_alpha(lay, m).tobytes(),
            lambda: loop_set_alpha(small_layer, small_soft),
            rbig / rlittle,
        ),
        (
            "blend",
            lambda: pixels.blend(under, layer, soft),
            lambda: np_blend(und, lay, m).tobytes(),
            lambda: loop_blend(small_under, small_layer, small_soft),
            rbig / rlittle,
        ),
    ]
    print(
        f"masks {side}x{side}, RGBA {rside}x{rside}; "
        "ratio = baseline time / our time (>1: we are faster)"
    )
    for name, ours, base_np, base_loop, scale in cases:
        t_ours, t_np = best_of(ours), best_of(base_np)
        t_loop = best_of(base_loop, repeat=1) * scale
        print(
            f"  {name:14s} ours {t_ours * 1000:7.1f} ms   {t_np / t_ours:6.2f}x vs numpy   "
            f"{t_loop / t_ours:8.1f}x vs python loop (scaled)"
        )


if __name__ == "__main__":
    main()
