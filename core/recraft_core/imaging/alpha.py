"""Alpha in an editor's own pixel format, multiplied by an 8-bit mask.

A cut-out (remove background) takes only the alpha from Recraft, whose answer is 8-bit sRGB,
and keeps the source layer's pixels as they are: 16-bit, float, CMYK, Lab or grey. Only the
alpha samples' bytes are written here; every other byte is left as it was, so the colours
stay bit for bit.

Pixels are the editor's native buffer: `channels` samples a pixel, alpha last (as Krita's
pixelData and GEGL's formats with alpha have it), each sample 8, 16 or 32-bit unsigned, or a
16, 32 or 64-bit float (GIMP's precisions, all of them), in the machine's byte order. As in
pixels.py, whole buffers go through slices and bytes.translate, which run in C; per-pixel
Python runs only for a source that is already partly transparent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .pixels import BAND_PIXELS, multiply_alpha_bytes

# sample kind: (bytes, struct format, alpha of an opaque pixel)
SAMPLES = {
    "u8": (1, "B", 255),
    "u16": (2, "H", 65535),
    "f16": (2, "e", 1.0),
    "f32": (4, "f", 1.0),
    "u32": (4, "I", 2**32 - 1),
    "f64": (8, "d", 1.0),
}
UNSIGNED = ("u8", "u16", "u32")


@dataclass(frozen=True)
class Layout:
    """How a native buffer holds a pixel: `channels` samples of kind `sample`, alpha last."""

    channels: int
    sample: str

    def __post_init__(self) -> None:
        if self.sample not in SAMPLES:
            raise ValueError(f"unknown sample kind {self.sample!r}: one of {', '.join(SAMPLES)}")
        if self.channels < 2:
            raise ValueError("a layout with alpha has at least two channels")

    @property
    def sample_bytes(self) -> int:
        return SAMPLES[self.sample][0]

    @property
    def pixel_bytes(self) -> int:
        return self.channels * self.sample_bytes


def multiply(pixels: bytes, layout: Layout, mask: bytes) -> bytearray:
    """A copy of `pixels` whose alpha a becomes a * m / 255 for each pixel's mask byte m
    (rounded to nearest for integer samples): an opaque source takes the mask itself, scaled
    to its depth. Band by band, each band copied on its own and the bands joined at the end
    (bytes.join lets the GIL go), so an editor's UI thread gets the GIL between bands: one
    copy of a 64 MB buffer holds it for 35-50 ms."""
    stride = layout.pixel_bytes
    n = len(mask)
    if len(pixels) != n * stride:
        raise ValueError(
            f"{n} mask bytes need {n * stride} bytes of {layout.channels} x {layout.sample}, "
            f"got {len(pixels)}"
        )
    view, source, parts = memoryview(pixels), memoryview(mask), []
    for start in range(0, n, BAND_PIXELS):
        end = min(n, start + BAND_PIXELS)
        band = bytearray(view[start * stride : end * stride])
        _multiply_band(memoryview(band), layout, bytes(source[start:end]))
        parts.append(bytes(band))  # join lets the GIL go only over bytes, not bytearrays
    return bytearray().join(parts)


def _multiply_band(band: memoryview, layout: Layout, mask: bytes) -> None:
    size, stride = layout.sample_bytes, layout.pixel_bytes
    first = (layout.channels - 1) * size  # the alpha sample's first byte in a pixel
    if layout.sample == "u8":
        band[first::stride] = multiply_alpha_bytes(band[first::stride].tobytes(), mask)
        return
    lanes = [band[first + k :: stride] for k in range(size)]
    opaque = _sample_bytes(layout.sample, SAMPLES[layout.sample][2])
    if all(lane.tobytes().count(opaque[k]) == len(mask) for k, lane in enumerate(lanes)):
        # Each byte of the new sample is a function of the mask byte alone: one table each.
        for k, lane in enumerate(lanes):
            lane[:] = mask.translate(_tables(layout.sample)[k])
        return
    # A source with transparency of its own: unpack, multiply, pack back.
    n, fmt = len(mask), SAMPLES[layout.sample][1]
    packed = bytearray(n * size)
    for k, lane in enumerate(lanes):
        packed[k::size] = lane
    old = struct.unpack(f"={n}{fmt}", packed)
    if layout.sample in UNSIGNED:
        new = [(a * m * 2 + 255) // 510 for a, m in zip(old, mask, strict=True)]
    else:
        new = [a * m / 255 for a, m in zip(old, mask, strict=True)]
    packed = struct.pack(f"={n}{fmt}", *new)
    for k, lane in enumerate(lanes):
        lane[:] = packed[k::size]


def _sample_bytes(sample: str, value) -> bytes:
    return struct.pack(f"={SAMPLES[sample][1]}", value)


_TABLES: dict[str, list[bytes]] = {}


def _tables(sample: str) -> list[bytes]:
    """For each byte of a sample, the bytes.translate table from a mask byte m to that byte
    of the sample meaning alpha m / 255: m * 257 in 16 bits and m * 16843009 in 32, exact (the
    largest value is a multiple of 255 in both)."""
    if sample not in _TABLES:
        size, _, full = SAMPLES[sample]
        if sample in UNSIGNED:
            values = [_sample_bytes(sample, m * (full // 255)) for m in range(256)]
        else:
            values = [_sample_bytes(sample, m / 255) for m in range(256)]
        _TABLES[sample] = [bytes(v[k] for v in values) for k in range(size)]
    return _TABLES[sample]
