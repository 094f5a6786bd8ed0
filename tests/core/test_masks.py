"""Mask operations (threshold, grow, feather, resize, empty/full) and RGBA compositing,
each against a naive reference: numpy, Pillow or plain loops."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from PIL import Image

from recraft_core.imaging import masks, pixels

# -- reference helpers -------------------------------------------------------------------------


def chebyshev(mask: bytes, w: int, h: int) -> np.ndarray:
    """Chebyshev distance from every pixel to the nearest 255 pixel, brute force; a large
    number where the mask is empty."""
    a = np.frombuffer(mask, np.uint8).reshape(h, w)
    ys, xs = np.mgrid[0:h, 0:w]
    d = np.full((h, w), 10**6)
    for y, x in zip(*np.nonzero(a), strict=True):
        d = np.minimum(d, np.maximum(abs(ys - y), abs(xs - x)))
    return d


def ref_grow(mask: bytes, w: int, h: int, r: int) -> bytes:
    return np.where(chebyshev(mask, w, h) <= r, 255, 0).astype(np.uint8).tobytes()


def ref_feather(mask: bytes, w: int, h: int, radius: int) -> bytes:
    """The docstring's formula, in floating point with explicit halves-up rounding."""
    d = chebyshev(mask, w, h)
    n = min(radius, 16)
    radii = [0] + [math.ceil(i * radius / n) for i in range(1, n + 1)]
    k = sum((d <= r).astype(int) for r in radii)
    return np.floor(255 * k / (n + 1) + 0.5).astype(np.uint8).tobytes()


def random_mask(w: int, h: int, density: float, seed: int) -> bytes:
    rng = random.Random(seed)
    return bytes(255 if rng.random() < density else 0 for _ in range(w * h))


def border_mask(w: int, h: int) -> bytes:
    """255 on a pixel of every edge and every corner: any wrap-around shows."""
    m = bytearray(w * h)
    for x, y in [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, 0), (0, h // 2)]:
        m[y * w + x] = 255
    m[(h - 1) * w + w // 3] = 255
    m[(h // 3) * w + w - 1] = 255
    return bytes(m)


SIZES = [(1, 1), (1, 13), (13, 1), (37, 23), (2, 2), (5, 40)]
RADII = [0, 1, 2, 3, 5, 16, 17, 24, 100]


def masks_for(w: int, h: int):
    yield "empty", bytes(w * h)
    yield "full", b"\xff" * (w * h)
    yield "border", border_mask(w, h)
    yield "centre", bytes(255 if i == (h // 2) * w + w // 2 else 0 for i in range(w * h))
    yield "sparse", random_mask(w, h, 0.03, w * 100 + h)
    yield "dense", random_mask(w, h, 0.4, w * 100 + h + 1)


CASES = [(w, h, name, m) for w, h in SIZES for name, m in masks_for(w, h)]
IDS = [f"{w}x{h}-{name}" for w, h, name, _ in CASES]


# -- threshold ---------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [0, 1, 64, 127, 128, 200, 255, 256])
def test_threshold_cut(cut):
    selection = bytes(range(256)) * 3
    assert masks.threshold(selection, cut) == bytes(255 if v >= cut else 0 for v in selection)


def test_threshold_default_is_half_and_tables_are_cached():
    assert masks.threshold(bytes(range(256))) == bytes(128) + b"\xff" * 128
    assert masks._threshold_table(77) is masks._threshold_table(77)


@pytest.mark.parametrize("cut", [-1, 257])
def test_threshold_rejects_cuts_outside_a_byte(cut):
    with pytest.raises(ValueError, match="cut"):
        masks.threshold(b"\x00", cut)


# -- is_empty / is_full ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 65535, 65536, 65537, 3 * 65536 + 7])
def test_is_empty_and_is_full(n):
    full, empty = b"\xff" * n, bytes(n)
    assert masks.is_full(full) and masks.is_empty(empty)
    assert masks.is_full(bytearray(full)) and masks.is_empty(memoryview(empty))
    for i in {0, n // 2, n - 1} if n else set():
        for v in (0, 254):
            assert not masks.is_full(full[:i] + bytes([v]) + full[i + 1 :]), (i, v)
        assert not masks.is_empty(empty[:i] + b"\xff" + empty[i + 1 :]), i
        assert masks.is_empty(empty[:i] + b"\xfe" + empty[i + 1 :]), i


# -- bbox --------------------------------------------------------------------------------------


def _numpy_bbox(mask: bytes, w: int, h: int):
    ys, xs = np.nonzero(np.frombuffer(mask, np.uint8).reshape(h, w))
    return None if not len(ys) else (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


@pytest.mark.parametrize("seed", range(40))
def test_bbox_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(0, 4))):  # a few specks of any strength, anywhere
        mask[rng.integers(0, h), rng.integers(0, w)] = rng.integers(1, 256)
    if seed % 3 == 0:  # and a soft blob
        y, x = rng.integers(0, h), rng.integers(0, w)
        mask[y : y + 5, x : x + 7] = rng.integers(0, 256, mask[y : y + 5, x : x + 7].shape)
    data = mask.tobytes()
    expected = _numpy_bbox(data, w, h)
    assert masks.bbox(data, w, h) == expected
    assert masks.bbox(bytearray(data), w, h) == expected
    assert masks.bbox(memoryview(data), w, h) == expected


def test_bbox_of_a_feathered_ellipse_on_a_large_canvas():
    side = 1500
    y, x = np.mgrid[0:side, 0:side]
    r = np.hypot((x - 600) / 300, (y - 800) / 200)
    soft = (np.clip((1 - r) * 4 + 0.5, 0, 1) * 255).astype(np.uint8).tobytes()
    assert masks.bbox(soft, side, side) == _numpy_bbox(soft, side, side)
    assert masks.bbox(bytes(side * side), side, side) is None
    assert masks.bbox(b"\x01" * side * side, side, side) == (0, 0, side, side)


# -- grow --------------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize(("w", "h", "name", "mask"), CASES, ids=IDS)
def test_grow_matches_brute_force(w, h, name, mask, radius):
    assert masks.grow(mask, w, h, radius) == ref_grow(mask, w, h, radius)


def test_grow_does_not_wrap_between_rows():
    w, h = 8, 3
    m = bytearray(w * h)
    m[w - 1] = 255  # end of row 0: growing by 1 must not reach the start of row 1
    grown = masks.grow(bytes(m), w, h, 1)
    rows = [grown[y * w : (y + 1) * w] for y in range(h)]
    assert rows == [bytes(6) + b"\xff\xff", bytes(6) + b"\xff\xff", bytes(8)]


def test_grow_radius_zero_returns_the_mask():
    m = random_mask(9, 7, 0.3, 5)
    assert masks.grow(m, 9, 7, 0) == m


@pytest.mark.parametrize("fn", [masks.grow, masks.feather])
def test_grow_and_feather_reject_bad_input(fn):
    with pytest.raises(ValueError, match="0 and 255"):
        fn(b"\x00\x80\xff\x00", 2, 2, 1)
    with pytest.raises(ValueError, match="needs 4 bytes"):
        fn(b"\x00" * 5, 2, 2, 1)
    with pytest.raises(ValueError, match="radius"):
        fn(b"\x00" * 4, 2, 2, -1)


# -- feather -----------------------------------------------------------------------------------


@pytest.mark.parametrize("radius", RADII)
@pytest.mark.parametrize(("w", "h", "name", "mask"), CASES, ids=IDS)
def test_feather_matches_formula(w, h, name, mask, radius):
    assert masks.feather(mask, w, h, radius) == ref_feather(mask, w, h, radius)


@pytest.mark.parametrize("radius", [1, 2, 3, 7, 15, 16, 17, 24, 40])
def test_feather_properties(radius):
    w, h = 2 * 45 + 1, 31
    mask = bytearray(w * h)
    mask[15 * w + 45] = 255  # one pixel: rays in all directions
    mask[3 * w + 3] = mask[(h - 1) * w] = 255  # and two near the borders
    mask = bytes(mask)
    soft = np.frombuffer(masks.feather(mask, w, h, radius), np.uint8).reshape(h, w).astype(int)
    d = chebyshev(mask, w, h)
    assert (soft[d == 0] == 255).all()
    assert (soft[d > radius] == 0).all()
    band = soft[(d >= 1) & (d <= radius)]
    assert ((band > 0) & (band < 255)).all()  # no hard step anywhere in the fade
    # Along the ray to the right of the centre pixel: never rising, strictly falling at each
    # of the n staircase steps, and no step bigger than the bound.
    ray = soft[15, 45 : 45 + min(radius + 2, 46)]
    steps = -np.diff(ray)
    assert (steps >= 0).all()
    bound = math.ceil(255 / min(radius, 16)) + 1
    assert steps.max() <= bound
    n = min(radius, 16)
    if radius <= 16:
        assert (steps[: radius + 1] > 0).all()  # every distance 0..radius+1 a level of its own
    assert len(set(ray.tolist())) == min(n + 2, len(ray))
    # Between any two neighbours, as between steps of any ray.
    assert np.abs(np.diff(soft, axis=0)).max() <= bound
    assert np.abs(np.diff(soft, axis=1)).max() <= bound


def test_feather_radius_zero_and_trivial_masks_are_returned_unchanged():
    m = random_mask(9, 7, 0.3, 6)
    assert masks.feather(m, 9, 7, 0) == m
    assert masks.feather(bytes(63), 9, 7, 5) == bytes(63)
    assert masks.feather(b"\xff" * 63, 9, 7, 5) == b"\xff" * 63


def test_feather_on_a_large_mask_matches_the_formula_through_the_fast_path():
    # Big enough for the bounding-box crop and many rows; an ellipse like an editor's.
    w, h = 301, 203
    m = bytearray(w * h)
    for y in range(h):
        dy = (y - h / 2) / (h / 3)
        if abs(dy) < 1:
            half = int(w / 3 * math.sqrt(1 - dy * dy))
            m[y * w + w // 2 - half : y * w + w // 2 + half] = b"\xff" * (2 * half)
    m = bytes(m)
    for radius in (4, 24):
        got = np.frombuffer(masks.feather(m, w, h, radius), np.uint8).reshape(h, w)
        # Distance by repeated 3x3 dilation: slow but simple and independent of masks.grow.
        a = np.frombuffer(m, np.uint8).reshape(h, w) == 255
        d = np.where(a, 0, 10**6)
        layer = a
        for step in range(1, radius + 1):
            padded = np.pad(layer, 1)
            layer = np.zeros_like(layer)
            for dy in (0, 1, 2):
                for dx in (0, 1, 2):
                    layer |= padded[dy : dy + h, dx : dx + w]
            d = np.where(layer & (d > step), step, d)
        n = min(radius, 16)
        radii = [0] + [math.ceil(i * radius / n) for i in range(1, n + 1)]
        k = sum((d <= r).astype(int) for r in radii)
        assert (got == np.floor(255 * k / (n + 1) + 0.5)).all()


# -- resize_nearest ----------------------------------------------------------------------------

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
RESIZES = [
    ((37, 23), (74, 46)),  # exact 2x up
    ((37, 23), (111, 23)),  # 3x up across only
    ((40, 30), (20, 10)),  # exact down
    ((37, 23), (13, 9)),  # odd down
    ((37, 23), (50, 31)),  # odd up
    ((2, 2), (7, 15)),  # where floor((x + 0.5) * w / nw) lands on a whole number
    ((1, 1), (5, 3)),
    ((13, 1), (1, 4)),
    ((1, 13), (6, 5)),
    ((300, 7), (211, 19)),
    ((37, 23), (37, 23)),
]


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize(("size", "new"), RESIZES)
def test_resize_nearest_matches_pillow(size, new, channels):
    (w, h), (nw, nh) = size, new
    rng = random.Random(w * 1000 + nw)
    src = rng.randbytes(w * h * channels)
    want = Image.frombytes(MODES[channels], size, src).resize(new, Image.NEAREST).tobytes()
    assert masks.resize_nearest(src, w, h, nw, nh, channels) == want


def test_resize_nearest_large_matches_pillow():
    rng = random.Random(9)
    src = rng.randbytes(1024 * 700 * 4)
    for new in [(750, 513), (3001, 1400)]:
        want = Image.frombytes("RGBA", (1024, 700), src).resize(new, Image.NEAREST).tobytes()
        assert masks.resize_nearest(src, 1024, 700, *new, channels=4) == want


def test_resize_nearest_follows_pillow_where_the_exact_formula_differs():
    # (3 + 0.5) * 2 / 7 is exactly 1, but Pillow accumulates the position in floating point,
    # lands just below 1 and takes column 0; matching Pillow matters more than the formula.
    out = masks.resize_nearest(b"\x0a\x14", 2, 1, 7, 1)
    assert out == Image.frombytes("L", (2, 1), b"\x0a\x14").resize((7, 1), Image.NEAREST).tobytes()
    assert out[3] == 10


def test_resize_nearest_rejects_bad_input():
    with pytest.raises(ValueError, match="channels"):
        masks.resize_nearest(b"\0" * 5, 1, 1, 2, 2, channels=5)
    with pytest.raises(ValueError, match="needs 6 bytes"):
        masks.resize_nearest(b"\0" * 5, 3, 2, 2, 2)
    with pytest.raises(ValueError, match=">= 0"):
        masks.resize_nearest(b"", 0, 0, -1, 2)
    with pytest.raises(ValueError, match="empty image"):
        masks.resize_nearest(b"", 0, 3, 2, 2)
    assert masks.resize_nearest(b"\0" * 6, 3, 2, 0, 5) == b""


# -- set_alpha and blend -----------------------------------------------------------------------
# Rounding: to nearest. With 0..255 weights the exact value is never a half, so the float
# references below agree exactly, not within 1, on every path.


def ref_set_alpha(rgba: bytes, mask: bytes) -> bytes:
    px = np.frombuffer(rgba, np.uint8).reshape(-1, 4).copy()
    m = np.frombuffer(mask, np.uint8).astype(float)
    px[:, 3] = np.round(px[:, 3] * m / 255)
    return px.tobytes()


def ref_blend(base: bytes, top: bytes, mask: bytes) -> bytes:
    b = np.frombuffer(base, np.uint8).reshape(-1, 4).astype(float)
    t = np.frombuffer(top, np.uint8).reshape(-1, 4).astype(float)
    m = np.frombuffer(mask, np.uint8).astype(float)[:, None]
    return np.round(b + (t - b) * m / 255).astype(np.uint8).tobytes()


def compositing_masks(n: int, rng: random.Random):
    """Masks that drive each path: all 0, all 255, long hard runs with a thin soft band,
    busy hard (many short runs), a few soft pixels, and mostly soft (whole-buffer mixing)."""
    yield "zeros", bytes(n)
    yield "full", b"\xff" * n
    q = max(1, n // 4)
    ring = bytes(q) + b"\x40\x80\xc0" + b"\xff" * q + b"\xfe\x01"
    yield "runs", (ring + bytes(n))[:n]
    yield "busy", bytes(rng.choice((0, 255)) for _ in range(n))
    yield (
        "few-soft",
        bytes(rng.randrange(1, 255) if i % 97 == 5 else 255 * (i % 3 == 0) for i in range(n)),
    )
    yield "soft", rng.randbytes(n)


@pytest.mark.parametrize("n", [1, 7, 4096])
def test_set_alpha_matches_float_reference(n):
    rng = random.Random(n)
    rgba = rng.randbytes(4 * n)
    opaque = bytearray(rgba)
    opaque[3::4] = b"\xff" * n
    for name, mask in compositing_masks(n, rng):
        assert pixels.set_alpha(rgba, mask) == ref_set_alpha(rgba, mask), name
        assert pixels.set_alpha(bytes(opaque), mask) == ref_set_alpha(bytes(opaque), mask), name
        # Colour bytes never change.
        assert pixels.set_alpha(rgba, mask)[0::4] == rgba[0::4]


def test_set_alpha_in_bands_gives_the_same_bytes(monkeypatch):
    """Large images go through in bands (the GIL passes between them); band edges change
    nothing, whatever the mask does across them."""
    rng = random.Random(9)
    n = 4096
    rgba = rng.randbytes(4 * n)
    monkeypatch.setattr(pixels, "BAND_PIXELS", 1000)  # 4.1 bands, the last one short
    for name, mask in compositing_masks(n, rng):
        assert pixels.set_alpha(rgba, mask) == ref_set_alpha(rgba, mask), name
        buffer = bytearray(rgba)
        assert pixels.set_alpha_in_place(buffer, mask) is buffer
        assert buffer == ref_set_alpha(rgba, mask), name


@pytest.mark.parametrize("n", [1, 7, 4096])
def test_set_alpha_in_place_matches_set_alpha(n):
    """The decoded result takes its alpha in its own buffer: the same bytes as set_alpha."""
    rng = random.Random(n + 2)
    rgba = rng.randbytes(4 * n)
    opaque = bytearray(rgba)
    opaque[3::4] = b"\xff" * n
    for name, mask in compositing_masks(n, rng):
        for source in (rgba, bytes(opaque)):
            buffer = bytearray(source)
            pixels.set_alpha_in_place(buffer, mask)
            assert buffer == pixels.set_alpha(source, mask), name
    with pytest.raises(ValueError, match="RGBA"):
        pixels.set_alpha_in_place(bytearray(7), b"\0\0")


@pytest.mark.parametrize("n", [1, 7, 4096])
def test_blend_matches_float_reference(n):
    rng = random.Random(n + 1)
    base, top = rng.randbytes(4 * n), rng.randbytes(4 * n)
    for name, mask in compositing_masks(n, rng):
        out = pixels.blend(base, top, mask)
        assert out == ref_blend(base, top, mask), name
        for i, m in enumerate(mask):
            if m in (0, 255):
                assert out[4 * i : 4 * i + 4] == (base if m == 0 else top)[4 * i : 4 * i + 4]


def test_set_alpha_and_blend_every_value_pair():
    # All 65536 (value, mask) pairs, through the soft path: the rounding everywhere.
    values = bytes(range(256)) * 256
    mask = bytes(m for m in range(256) for _ in range(256))
    rgba = bytearray(4 * 65536)
    rgba[3::4] = values
    rgba[0::4] = values
    assert pixels.set_alpha(bytes(rgba), mask) == ref_set_alpha(bytes(rgba), mask)
    top = bytearray(random.Random(4).randbytes(4 * 65536))
    top[1::4] = values[::-1]
    assert pixels.blend(bytes(rgba), bytes(top), mask) == ref_blend(bytes(rgba), bytes(top), mask)


def test_set_alpha_and_blend_on_a_feathered_selection():
    w = h = 96
    m = bytearray(w * h)
    for y in range(20, 70):
        m[y * w + 25 : y * w + 80] = b"\xff" * 55
    soft = masks.feather(bytes(m), w, h, 6)
    rng = random.Random(8)
    base, top = rng.randbytes(4 * w * h), rng.randbytes(4 * w * h)
    assert pixels.set_alpha(top, soft) == ref_set_alpha(top, soft)
    assert pixels.blend(base, top, soft) == ref_blend(base, top, soft)


def test_set_alpha_and_blend_reject_mismatched_lengths():
    with pytest.raises(ValueError, match="RGBA"):
        pixels.set_alpha(b"\0" * 7, b"\0\0")
    with pytest.raises(ValueError, match="each image"):
        pixels.blend(b"\0" * 8, b"\0" * 4, b"\0\0")


# -- edge_width --------------------------------------------------------------------------------


def test_edge_width_tells_antialiasing_from_a_feather():
    w, h = 400, 300
    y, x = np.mgrid[0:h, 0:w]
    inside = (1 - np.hypot((x - 200) / 120, (y - 150) / 80)) * 80  # px from the edge, about
    for feather in (1, 3, 8, 20):
        soft = (np.clip(inside / feather + 0.5, 0, 1) * 255).round().astype(np.uint8)
        assert masks.edge_width(soft.tobytes(), w, h) == pytest.approx(feather, rel=0.25)
    hard = np.where(inside >= 0, 255, 0).astype(np.uint8)
    assert masks.edge_width(hard.tobytes(), w, h) == 0
    faint = (hard // 4).tobytes()  # nothing even half selected
    assert masks.edge_width(faint, w, h) == math.inf
