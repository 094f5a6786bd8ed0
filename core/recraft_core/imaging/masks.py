"""Selections to masks, and facts about masks. Pure functions over bytes, one byte a pixel.

Whole-buffer work goes through bytes.translate, count and find, slicing, and arithmetic on
big integers holding many pixels at once, all of which run in C: an editor's Python must not
loop over sixteen million pixels.
"""

from __future__ import annotations

import math
from array import array
from functools import cache, partial
from itertools import accumulate, pairwise, repeat
from operator import add, and_, lshift, or_, rshift


@cache
def _threshold_table(cut: int) -> bytes:
    return bytes(255 if v >= cut else 0 for v in range(256))


def threshold(selection: bytes, cut: int = 128) -> bytes:
    """A pure 0/255 mask from selection strengths 0..255: a byte >= `cut` becomes 255.

    The default, 50 %, snaps feathered edges to one side, never to grey. `cut` 0 selects
    everything and 256 nothing.
    """
    if not 0 <= cut <= 256:
        raise ValueError(f"cut must be 0..256, not {cut!r}")
    return bytes(selection).translate(_threshold_table(cut))


def is_binary(mask: bytes) -> bool:
    """True when every byte is 0 or 255."""
    return not bytes(mask).translate(None, b"\x00\xff")


def values(mask: bytes) -> list[int]:
    """The distinct byte values present, ascending."""
    return sorted(set(bytes(mask)))


def white_area(mask: bytes) -> int:
    return bytes(mask).count(b"\xff")


def bbox(mask: bytes, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end-exclusive, around the pixels that are not 0 (a mask's white, a
    selection's strengths); None if there are none.

    No byte is looked at one by one: a row is compared with a row of zeros (a memcmp), and
    only the part of a row outside the box found so far is searched for its first and last
    non-zero byte. A small selection on a 16 MP canvas costs about a millisecond.
    """
    if not isinstance(mask, (bytes, bytearray)):
        mask = bytes(mask)
    blank = bytes(width)
    lit = [y for y in range(height) if not mask.startswith(blank, y * width)]
    if not lit:
        return None
    x0, x1 = width, 0
    for y in lit:
        start = y * width
        if not mask.startswith(blank[:x0], start):
            x0 -= len(mask[start : start + x0].lstrip(b"\x00"))
        if not mask.endswith(blank[: width - x1], start, start + width):
            x1 += len(mask[start + x1 : start + width].rstrip(b"\x00"))
    return x0, lit[0], x1, lit[-1] + 1


def crop(pixels: bytes, width: int, channels: int, box: tuple[int, int, int, int]) -> bytes:
    """The rows and columns of `box` from a raw buffer `width` pixels wide."""
    x0, y0, x1, y1 = box
    stride = width * channels
    view = memoryview(pixels)
    a, b = x0 * channels, x1 * channels
    return b"".join(view[y * stride + a : y * stride + b] for y in range(y0, y1))


def embed(
    mask: bytes, width: int, height: int, into_width: int, into_height: int, at: tuple[int, int]
) -> bytes | bytearray:
    """A `width` x `height` mask placed at `at` (x, y) in a larger one of zeros, which it must
    fit in. The mask itself when it is already the whole."""
    x, y = at
    if x < 0 or y < 0 or x + width > into_width or y + height > into_height:
        raise ValueError(f"a {width}x{height} mask at {at} does not fit {into_width}x{into_height}")
    if len(mask) != width * height:
        raise ValueError(f"a {width}x{height} mask needs {width * height} bytes, got {len(mask)}")
    if (width, height) == (into_width, into_height):
        return mask
    out = bytearray(into_width * into_height)
    view = memoryview(mask)
    for row in range(height):
        start = (y + row) * into_width + x
        out[start : start + width] = view[row * width : (row + 1) * width]
    return out


def _as_bytes(data) -> bytes | bytearray:
    return data if isinstance(data, (bytes, bytearray)) else bytes(data)


# is_full compares against this a slice at a time: memcmp speed, and it stops at the first
# difference, without building a second sixteen-megabyte buffer.
_CHUNK = 1 << 16
_FULL_CHUNK = b"\xff" * _CHUNK


def edge_width(selection: bytes, width: int, height: int) -> float:
    """How wide a selection's soft edge is, on average, in pixels: its partly selected pixels
    per pixel of the outline of its half-selected area. About 1 for an antialiased edge, about
    r for one feathered by r; 0 for a hard one, infinite when nothing is half selected."""
    grey = len(bytes(selection).translate(None, b"\x00\xff"))
    if not grey:
        return 0.0
    half = threshold(selection, 128)
    outline = white_area(grow(half, width, height, 1)) - white_area(half)
    return grey / outline if outline else math.inf


def is_empty(mask: bytes) -> bool:
    """True when no byte is 255."""
    return b"\xff" not in _as_bytes(mask)


def is_full(mask: bytes) -> bool:
    """True when every byte is 255 (and for an empty buffer)."""
    mask = _as_bytes(mask)
    whole, tail = divmod(len(mask), _CHUNK)
    return all(mask.startswith(_FULL_CHUNK, i * _CHUNK) for i in range(whole)) and mask.endswith(
        _FULL_CHUNK[:tail]
    )


def _sized(mask, width: int, height: int, radius: int) -> bytes:
    mask = bytes(mask)
    if width < 0 or height < 0 or len(mask) != width * height:
        raise ValueError(f"a {width}x{height} mask needs {width * height} bytes, got {len(mask)}")
    if radius < 0:
        raise ValueError(f"radius must be >= 0, not {radius}")
    if radius and not is_binary(mask):
        # OR is max only for 0 and 255; grey bytes would come out as bitwise mixtures.
        raise ValueError("the mask must hold only 0 and 255; threshold() it first")
    return mask


def _window_or(x: int, radius: int, unit: int = 8) -> int:
    """Every lane of `unit` bits ORed with the `radius` lanes on each side of it.

    A window of 2r+1 lanes by doubling: x is first moved r lanes towards the high end, so the
    right shifts that follow keep the lanes they need; after k steps each lane holds the OR of
    itself and the 2**k - 1 lanes before it, and one more shift covers the remainder. That is
    O(log r) whole-integer operations instead of 2r. Up to r lanes spill above the high end:
    the caller clears them.
    """
    x <<= unit * radius
    length = 2 * radius + 1
    span = 1
    while 2 * span <= length:
        x |= x >> (unit * span)
        span *= 2
    if span < length:
        x |= x >> (unit * (length - span))
    return x


def _across(rows: list[int], radius: int, full: int) -> list[int]:
    """Each row (one big int, leftmost pixel most significant) ORed over +-radius pixels.

    A row is its own integer, so a shift can only push bytes off its ends, never into the
    next row: dropping them below and masking them off above is clipping at the border.
    """
    if radius > 2:
        window = partial(_window_or, radius=radius)
        return list(map(and_, map(window, rows), repeat(full)))
    # Short windows: chained maps OR the shifted copies one row at a time, in C, while the
    # row is still in cache.
    acc = iter(rows)
    for k in range(1, radius + 1):
        acc = map(or_, acc, map(lshift, rows, repeat(8 * k)))
        acc = map(or_, acc, map(rshift, rows, repeat(8 * k)))
    return list(map(and_, acc, repeat(full)))


def _down(rows: list[int], radius: int) -> list[int]:
    """Each row ORed with the `radius` rows above and below it; missing rows count as 0.

    map() over row lists keeps the loop in C and each OR on one cache-sized row. A short
    window chains its 2r+1 shifted lists lazily in one pass; a long one doubles, like
    _window_or, with whole lists for lanes.
    """
    n = len(rows)
    if radius <= 3:
        padded = [0] * radius + rows + [0] * radius
        acc = map(or_, padded[:n], padded[1 : n + 1])
        for k in range(2, 2 * radius + 1):
            acc = map(or_, acc, padded[k : k + n])
        return list(acc)
    # w[i] is the OR of padded rows i .. i + span - 1; padded row i is row i - radius.
    w = [0] * radius + rows
    length, span = 2 * radius + 1, 1
    while 2 * span <= length:
        w = list(map(or_, w, w[span:])) + w[len(w) - span :]
        span *= 2
    if span < length:
        rest = length - span
        w = list(map(or_, w, w[rest:])) + w[len(w) - rest :]
    return w[:n]


class _Region:
    """The part of a mask that a dilation by `reach` can change: its 255 pixels' bounding box
    grown by `reach` and clipped to the image, as one big int per row. Everything outside
    stays 0, so a small selection on a big canvas costs only its neighbourhood.
    """

    def __init__(self, mask: bytes, width: int, height: int, reach: int) -> None:
        x0, y0, x1, y1 = bbox(mask, width, height) or (0, 0, 0, 0)
        x0, y0 = max(0, x0 - reach), max(0, y0 - reach)
        x1, y1 = min(width, x1 + reach), min(height, y1 + reach)
        self.box = x0, y0, x1, y1
        self.image = width, height
        self.width, self.height = x1 - x0, y1 - y0
        self.full = (1 << (8 * self.width)) - 1  # the row's own bytes; clears spill above
        view = memoryview(mask)
        self.rows = [
            int.from_bytes(view[y * width + x0 : y * width + x1], "big") for y in range(y0, y1)
        ]

    def dilate(self, rows: list[int], radius: int) -> list[int]:
        across = min(radius, self.width - 1)  # a wider window sees the same whole row
        down = min(radius, self.height - 1)
        if across:
            rows = _across(rows, across, self.full)
        return _down(rows, down) if down else rows

    def paste(self, rows: list[int], table: bytes | None = None) -> bytes:
        """The rows back in a full-size mask of zeros, each translated by `table` if given
        (which must map 0 to 0: the rest of the mask is not translated)."""
        x0, y0, x1, _ = self.box
        width, height = self.image
        out = bytearray(width * height)
        for y, row in enumerate(rows, y0):
            if row:
                out[y * width + x0 : y * width + x1] = row.to_bytes(x1 - x0, "big").translate(table)
        return bytes(out)


def grow(mask: bytes, width: int, height: int, radius: int) -> bytes:
    """A 0/255 mask dilated by a square of half-side `radius`: a pixel becomes 255 when any
    pixel within Chebyshev distance `radius` is 255. Nothing wraps or enters from the borders.
    """
    mask = _sized(mask, width, height, radius)
    if not radius or is_empty(mask) or is_full(mask):
        return mask
    region = _Region(mask, width, height, radius)
    return region.paste(region.dilate(region.rows, radius))


_FEATHER_LAYERS = 16


def feather(mask: bytes, width: int, height: int, radius: int) -> bytes:
    """A soft compositing mask fading outward from a 0/255 mask over `radius` pixels.

    With n = min(radius, 16), radii r_0 = 0 and r_i = ceil(i * radius / n) for i = 1..n, d(p)
    the Chebyshev distance from p to the nearest 255 pixel, and k(p) = #{i in 0..n : d(p) <= r_i}
    (how many of the n + 1 nested dilations cover p):

        feather(p) = round(255 * k(p) / (n + 1)), halves up: (510 * k + n + 1) // (2 * n + 2)

    So 255 on the mask, 0 beyond `radius`, and between them a staircase that never rises with
    distance, every step at most ceil(255 / (n + 1)) and every value 15..240, never a hard
    edge. It is the mean of the mask and its n dilations, each dilation grown from the last by
    r_i - r_(i-1) (square dilations compose), counted per byte in one big integer per row and
    mapped to levels with bytes.translate.
    """
    mask = _sized(mask, width, height, radius)
    if not radius or is_empty(mask) or is_full(mask):
        return mask
    n = min(radius, _FEATHER_LAYERS)
    radii = [-(-i * radius // n) for i in range(n + 1)]
    region = _Region(mask, width, height, radius)
    ones = region.full // 255
    layer = region.rows
    # 0/255 bytes AND 1 count 0/1; the count stays <= n + 1 <= 17, so adding never carries.
    count = list(map(and_, layer, repeat(ones)))
    for step in (b - a for a, b in pairwise(radii)):
        layer = region.dilate(layer, step)
        count = list(map(add, count, map(and_, layer, repeat(ones))))
    levels = bytes((510 * k + n + 1) // (2 * n + 2) for k in range(n + 2))
    return region.paste(count, levels.ljust(256, b"\0"))


def _nearest(size: int, new_size: int) -> list[int]:
    """Source index for each output index, (i + 0.5) * size / new_size rounded down.

    Accumulated in floating point, one step per output pixel, as Pillow's NEAREST resize does
    (the tests check it against Pillow): where the exact value is a whole number the running
    sum can fall just short, and Pillow takes the lower index, so this does too.
    """
    step = size / new_size
    sums = accumulate(repeat(step, new_size - 1), initial=step * 0.5)
    return [min(int(p), size - 1) for p in sums]


# Column picking works a band of rows at a time: strided slices over a band this size stay
# in cache, where over a whole image every element of a column would be on its own page.
_BAND_BYTES = 1 << 20
_ITEMS = {code: array(code).itemsize for code in "BHIL"}


def _pick_columns(data: bytes, rows: int, width: int, cols: list[int], channels: int) -> bytes:
    """Columns `cols` of a buffer of `rows` rows: one strided slice per output column per band.

    An array whose items are whole pixels moves every channel in one slice; three channels
    have no such item type and go plane by plane.
    """
    code = next((c for c, size in _ITEMS.items() if size == channels), None)
    if code is None:
        out = bytearray(rows * len(cols) * channels)
        for k in range(channels):
            out[k::channels] = _pick_columns(data[k::channels], rows, width, cols, 1)
        return bytes(out)
    new_width = len(cols)
    src = array(code)
    src.frombytes(data)
    out = array(code)
    band = max(1, _BAND_BYTES // (width * channels))
    for y0 in range(0, rows, band):
        y1 = min(rows, y0 + band)
        part = src[y0 * width : y1 * width]
        picked = array(code, bytes((y1 - y0) * new_width * channels))
        prev, column = -1, None
        for x, c in enumerate(cols):
            if c != prev:  # upscaling repeats a column: slice it once
                prev, column = c, part[c::width]
            picked[x::new_width] = column
        out.extend(picked)
    return out.tobytes()


def resize_nearest(
    pixels: bytes, width: int, height: int, new_width: int, new_height: int, channels: int = 1
) -> bytes:
    """Any 8-bit buffer of 1-4 channels resized by nearest neighbour, as Pillow's NEAREST.

    Output column x takes source column floor((x + 0.5) * width / new_width), rows likewise
    (see _nearest for how ties fall). Each distinct source row is narrowed once, and repeated
    rows are joined by reference.
    """
    if channels not in (1, 2, 3, 4):
        raise ValueError(f"channels must be 1..4, not {channels!r}")
    if min(width, height, new_width, new_height) < 0:
        raise ValueError("sizes must be >= 0")
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError(f"{width}x{height}x{channels} needs {stride * height} bytes")
    if (new_width, new_height) == (width, height):
        return bytes(pixels)
    if not new_width or not new_height:
        return b""
    if not width or not height:
        raise ValueError("cannot resize an empty image to a non-empty one")
    rows, cols = _nearest(height, new_height), _nearest(width, new_width)
    # Rows never go backwards, so a repeat is always the row just before.
    fresh = [True, *(a != b for a, b in pairwise(rows))]
    view = memoryview(_as_bytes(pixels))
    distinct = [
        view[y * stride : (y + 1) * stride] for y, new in zip(rows, fresh, strict=True) if new
    ]
    picked = b"".join(distinct)
    if cols != list(range(width)):
        picked = _pick_columns(picked, len(distinct), width, cols, channels)
    if len(distinct) == new_height:
        return picked
    out_stride, view = new_width * channels, memoryview(picked)
    which = accumulate(fresh[1:], initial=0)
    return b"".join([view[k * out_stride : (k + 1) * out_stride] for k in which])
