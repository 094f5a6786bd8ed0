"""Small PNGs of sources and results, so a history view never decodes a full image.

The editor hands over pixels it has already decoded (a Raster); they are narrowed to four
times the thumbnail's size by picking rows and columns (every k-th first, by strided slices,
then nearest neighbour for the rest: C speed, only the pixels kept are touched) and then
halved twice by averaging 2x2 blocks, so each thumbnail pixel is the mean of 16 source
pixels instead of one arbitrary pick: fine lines and noise do not alias. A 16 MP result
takes about 20 ms.
"""

from __future__ import annotations

from array import array

from ..imaging import masks
from ..imaging.png import CHANNELS, Raster

SIDE = 128
_HALVINGS = 2
# An array item that holds one RGBA pixel, so even and odd pixels split with one slice.
_PIXEL = next(code for code in "IL" if array(code).itemsize == 4)


def fit(width: int, height: int, side: int = SIDE) -> tuple[int, int]:
    """The thumbnail's size: within side x side, the same proportions, never enlarged."""
    if width <= side and height <= side:
        return width, height
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail(image: Raster, side: int = SIDE) -> bytes:
    """PNG bytes of `image` within side x side; RGB when it is opaque."""
    if image.width <= 0 or image.height <= 0:
        raise ValueError(f"cannot make a thumbnail of a {image.width}x{image.height} image")
    channels = CHANNELS[image.mode]
    if len(image.pixels) != image.width * image.height * channels:
        raise ValueError(f"{image!r} has {len(image.pixels)} bytes of pixels")
    width, height = fit(image.width, image.height, side)
    halvings = 0
    while (
        halvings < _HALVINGS
        and width << (halvings + 1) <= image.width
        and height << (halvings + 1) <= image.height
    ):
        halvings += 1
    w, h = width << halvings, height << halvings
    step = min(image.width // w, image.height // h)
    pixels, picked_w, picked_h = every(image.pixels, image.width, image.height, channels, step)
    pixels = masks.resize_nearest(pixels, picked_w, picked_h, w, h, channels)
    small = Raster(w, h, image.mode, pixels).to_rgba()
    pixels = bytes(small.pixels)
    for _ in range(halvings):
        pixels, w, h = halve(pixels, w, h), w // 2, h // 2
    out = Raster(w, h, "RGBA", pixels)
    return (out.without_alpha() if out.opaque else out).to_png()


def every(
    pixels: bytes, width: int, height: int, channels: int, step: int
) -> tuple[bytes, int, int]:
    """Every `step`-th pixel across and down, from the middle of each step x step block
    (what nearest neighbour picks when the sizes divide): (pixels, width, height).

    A row at a time, so no copy is larger than a row (a copy of all the rows kept, 9 MB for
    a 16 MP result, costs more in fresh memory than the picking). Pixels of 1, 2 or 4 bytes
    are array items, picked by one strided slice; three channels one by one."""
    if step <= 1:
        return pixels, width, height
    xs, ys = range(step // 2, width, step), range(step // 2, height, step)
    stride, view = width * channels, memoryview(pixels)
    first = xs.start * channels
    item = next((code for code in "BHIL" if array(code).itemsize == channels), None)
    if item is None:
        out = bytearray(len(xs) * len(ys) * channels)
        at = 0
        for y in ys:
            line = bytes(view[y * stride + first : (y + 1) * stride])
            for c in range(channels):
                out[at + c : at + len(xs) * channels : channels] = line[c :: step * channels]
            at += len(xs) * channels
        return bytes(out), len(xs), len(ys)
    out = array(item)
    for y in ys:
        line = array(item)
        line.frombytes(view[y * stride + first : (y + 1) * stride])
        out.extend(line[::step])
    return out.tobytes(), len(xs), len(ys)


def halve(rgba: bytes, width: int, height: int) -> bytes:
    """RGBA pixels (even width and height) at half the size, each the rounded mean of a 2x2
    block, every channel alike.

    Each byte goes into a 16-bit lane of one big integer, so the four samples of every channel
    add up in one big-integer addition without carrying into the next lane (4 x 255 + 2 fits
    in 10 bits); a shift by two then divides every lane at once, and the low byte of each
    lane is the mean. No per-pixel Python.
    """
    stride = width * 4
    view = memoryview(rgba)
    rows = [view[y * stride : (y + 1) * stride] for y in range(height)]
    out_bytes = (width // 2) * (height // 2) * 4
    total = int.from_bytes(b"\x02\x00" * out_bytes, "little")  # +2: round, not truncate
    for parity in (0, 1):
        pixels = array(_PIXEL)
        pixels.frombytes(b"".join(rows[parity::2]))
        for column in (pixels[0::2], pixels[1::2]):
            lanes = bytearray(2 * out_bytes)
            lanes[0::2] = column.tobytes()
            total += int.from_bytes(lanes, "little")
    return (total >> 2).to_bytes(2 * out_bytes, "little")[0::2]
