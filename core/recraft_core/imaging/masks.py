"""Selections to masks, and facts about masks. Pure functions over bytes, one byte a pixel.

Whole-buffer work goes through bytes.translate, count and find, which run in C: an editor's
Python must not loop over sixteen million pixels.
"""

from __future__ import annotations

# A selection byte >= 128 (50 %) is selected: feathered edges snap to one side, never to grey.
_THRESHOLD = bytes(255 if v >= 128 else 0 for v in range(256))


def threshold(selection: bytes) -> bytes:
    """A pure 0/255 mask from selection strengths 0..255, cut at 50 %."""
    return bytes(selection).translate(_THRESHOLD)


def is_binary(mask: bytes) -> bool:
    """True when every byte is 0 or 255."""
    return not bytes(mask).translate(None, b"\x00\xff")


def values(mask: bytes) -> list[int]:
    """The distinct byte values present, ascending."""
    return sorted(set(bytes(mask)))


def white_area(mask: bytes) -> int:
    return bytes(mask).count(b"\xff")


def bbox(mask: bytes, width: int, height: int) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1), end-exclusive, around the pixels that are 255; None if there are none."""
    mask = bytes(mask)
    x0, x1, y0, y1 = width, 0, None, 0
    for y in range(height):
        start = y * width
        first = mask.find(b"\xff", start, start + width)
        if first < 0:
            continue
        last = mask.rfind(b"\xff", start, start + width)
        x0, x1 = min(x0, first - start), max(x1, last - start + 1)
        y0 = y if y0 is None else y0
        y1 = y + 1
    return None if y0 is None else (x0, y0, x1, y1)


def crop(pixels: bytes, width: int, channels: int, box: tuple[int, int, int, int]) -> bytes:
    """The rows and columns of `box` from a raw buffer `width` pixels wide."""
    x0, y0, x1, y1 = box
    stride = width * channels
    view = memoryview(pixels)
    a, b = x0 * channels, x1 * channels
    return b"".join(view[y * stride + a : y * stride + b] for y in range(y0, y1))
