"""PNG encoding and decoding with the standard library only.

The editors' Pythons have no Pillow, so the plug-ins encode layers and masks here. Encoding
uses filter 0 on every row: it costs nothing per pixel in Python, and masks, the common case,
still deflate to almost nothing. Decoding is for checking masks a user hands us; it handles
8-bit grey, grey+alpha, RGB and RGBA, non-interlaced.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from itertools import accumulate

CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_COLOR_TYPE = {"L": 0, "LA": 4, "RGB": 2, "RGBA": 6}
_MODE = {v: k for k, v in _COLOR_TYPE.items()}
SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, repr=False)
class Raster:
    """Raw 8-bit pixels, rows top to bottom: what an editor hands over before encoding."""

    width: int
    height: int
    mode: str  # L, LA, RGB or RGBA
    pixels: bytes

    def __repr__(self) -> str:
        return f"Raster({self.width}x{self.height} {self.mode})"

    def to_png(self, level: int = 6) -> bytes:
        return encode(self.width, self.height, self.mode, self.pixels, level)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode(width: int, height: int, mode: str, pixels: bytes, level: int = 6) -> bytes:
    """PNG bytes for raw 8-bit pixels, rows top to bottom, channels in `mode` order."""
    if mode not in CHANNELS:
        raise ValueError(f"mode must be one of {', '.join(CHANNELS)}, not {mode!r}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, not {width}x{height}")
    stride = width * CHANNELS[mode]
    if len(pixels) != stride * height:
        raise ValueError(
            f"{width}x{height} {mode} needs {stride * height} bytes, got {len(pixels)}"
        )
    view = memoryview(pixels)
    compressor = zlib.compressobj(level)
    parts = []
    for y in range(0, height * stride, stride):
        parts.append(compressor.compress(b"\x00"))
        parts.append(compressor.compress(view[y : y + stride]))
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[mode], 0, 0, 0)
    return b"".join(
        (SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", b"".join(parts)), _chunk(b"IEND", b""))
    )


def swap_red_blue(pixels: bytes, channels: int = 4) -> bytes:
    """BGRA to RGBA and back (or BGR/RGB): Krita's 8-bit layers and QImage's ARGB32 are BGRA
    in memory. Slice assignment runs in C, not per pixel in Python."""
    out = bytearray(pixels)
    out[0::channels] = pixels[2::channels]
    out[2::channels] = pixels[0::channels]
    return bytes(out)


class PNGError(ValueError):
    """The PNG is damaged."""


class UnsupportedPNG(PNGError):
    """A valid PNG of a kind this decoder does not read (not 8-bit, interlaced, palette)."""


def decode(data: bytes) -> tuple[int, int, str, bytes]:
    """(width, height, mode, pixels) of an 8-bit non-interlaced PNG."""
    if data[:8] != SIGNATURE:
        raise PNGError("not a PNG file")
    try:
        return _decode(data)
    except (struct.error, IndexError) as e:
        raise PNGError(f"damaged PNG ({e})") from None


def _decode(data: bytes) -> tuple[int, int, str, bytes]:
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        raise PNGError("no IHDR chunk")
    width, height, depth, color_type, _, _, interlace = header
    if depth != 8 or color_type not in _MODE or interlace:
        raise UnsupportedPNG(f"only 8-bit non-interlaced PNGs are read here (depth {depth})")
    mode = _MODE[color_type]
    bpp = CHANNELS[mode]
    stride = width * bpp
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as e:
        raise PNGError(f"damaged image data ({e})") from None
    if len(raw) != (stride + 1) * height:
        raise PNGError("image data has the wrong length")
    out = bytearray(stride * height)
    prev = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], prev, bpp)
        out[y * stride : (y + 1) * stride] = row
        prev = row
    return width, height, mode, bytes(out)


def _add_bytes(a: bytes, b: bytes) -> bytes:
    """Byte-wise (a + b) mod 256, computed on whole rows as big integers (no Python loop)."""
    n = len(a)
    low, high = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def _unfilter(kind: int, row: bytes, prev: bytes, bpp: int) -> bytes:
    if kind == 0:
        return row
    if kind == 2:
        return _add_bytes(row, prev)
    if kind == 1 and bpp == 1:
        return bytes(accumulate(row, lambda a, b: (a + b) & 255))
    out = bytearray(row)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            out[i] = (out[i] + left) & 255
        elif kind == 3:
            out[i] = (out[i] + ((left + up) >> 1)) & 255
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            out[i] = (out[i] + pred) & 255
        else:
            raise PNGError(f"unknown filter type {kind}")
    return bytes(out)
