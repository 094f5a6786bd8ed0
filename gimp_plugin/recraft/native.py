"""A drawable's pixels in its own format, byte for byte: what a cut-out keeps of its source.

GIMP stores a layer in its image's precision (8, 16 or 32-bit integers, half, float or
double; linear, non-linear or perceptual), colour model (RGB, grey, indexed) and colour space
(its profile). Read through an 8-bit sRGB format, as a job's upload is, most of that is lost;
read and written in the drawable's own babl format, nothing is: no conversion happens at all.
babl's format name (with its space, for an image with a profile) is what GEGL writes by.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import gi

gi.require_version("Gegl", "0.4")
from gi.repository import Gegl  # noqa: E402

try:  # libgimp's own introspection needs Babl's (a drawable's format is a Babl object)
    gi.require_version("Babl", "0.1")
    from gi.repository import Babl
except (ImportError, ValueError):
    Babl = None

from recraft_core.imaging import alpha  # noqa: E402

# babl's sample types, by the names imaging.alpha gives them (it has every one GIMP uses).
SAMPLE = {"u8": "u8", "u16": "u16", "half": "f16", "float": "f32", "u32": "u32", "double": "f64"}


@dataclass(frozen=True)
class Format:
    """A drawable's babl format: its name, samples a pixel (alpha last, if any), their kind."""

    name: str
    channels: int
    sample: str
    has_alpha: bool

    @property
    def sample_bytes(self) -> int:
        return alpha.SAMPLES[self.sample][0]

    @property
    def pixel_bytes(self) -> int:
        return self.channels * self.sample_bytes

    def layout(self) -> alpha.Layout:
        return alpha.Layout(self.channels, self.sample)


def available() -> bool:
    return Babl is not None


def format_of(drawable) -> Format:
    fmt = drawable.get_format()
    kind = Babl.get_name(Babl.format_get_type(fmt, 0))
    if kind not in SAMPLE:
        raise ValueError(f"GIMP stores this layer as {kind} samples, which are not known here")
    return Format(
        Babl.get_name(fmt),
        Babl.format_get_n_components(fmt),
        SAMPLE[kind],
        bool(Babl.format_has_alpha(fmt)),
    )


def read(drawable, box: tuple[int, int, int, int]) -> bytes:
    """The drawable's own bytes in box (x, y, w, h, in its own coordinates)."""
    x, y, w, h = box
    rect = Gegl.Rectangle.new(x, y, w, h)
    # No format: GEGL hands out the buffer's own, unconverted.
    return bytes(drawable.get_buffer().get(rect, 1.0, None, Gegl.AbyssPolicy.NONE))


def write(drawable, box: tuple[int, int, int, int], pixels: bytes, fmt: Format) -> None:
    x, y, w, h = box
    buffer = drawable.get_buffer()
    buffer.set(Gegl.Rectangle.new(x, y, w, h), fmt.name, bytes(pixels))
    buffer.flush()


def with_alpha(pixels: bytes, fmt: Format) -> tuple[bytes, Format]:
    """Pixels of a format without alpha given an opaque alpha sample each (their other bytes
    as they were), and that format with alpha; pixels with alpha as they are."""
    if fmt.has_alpha:
        return pixels, fmt
    size, old = fmt.sample_bytes, fmt.pixel_bytes
    new = old + size
    n = len(pixels) // old
    out = bytearray(n * new)
    for b in range(old):  # byte lanes, each copied in one slice (C, not a loop a pixel)
        out[b::new] = pixels[b::old]
    _, code, value = alpha.SAMPLES[fmt.sample]
    opaque = struct.pack("=" + code, value)
    for k in range(size):
        out[old + k :: new] = opaque[k : k + 1] * n
    return bytes(out), Format("", fmt.channels + 1, fmt.sample, True)
