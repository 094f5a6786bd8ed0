"""Format, size and colour mode of an image, read from its header without decoding it.

A header is read as the decoders read it, so that what passes a check here is what they
decode: a PNG's chunks in the order the spec sets, with one IHDR (png.header); an SVG's size
from its real root element, read by the sanitiser's own parser (svg.declared_size), not
from the first "<svg" in the bytes, which may sit in a comment.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..exceptions import ProtocolError, RecraftError
from . import png, svg

MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp", "svg": "image/svg+xml"}
EXTENSION = {"png": "png", "jpeg": "jpg", "webp": "webp", "svg": "svg"}


@dataclass(frozen=True)
class ImageInfo:
    format: str  # png, jpeg, webp, svg
    width: int
    height: int
    grayscale: bool | None = None  # None: the header does not say

    @property
    def mime(self) -> str:
        return MIME[self.format]

    @property
    def extension(self) -> str:
        return EXTENSION[self.format]


class UnknownImage(RecraftError, ValueError):
    """The bytes are not an image we can read the header of."""


def sniff(data: bytes) -> str | None:
    """The format name from the magic bytes, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in data[:4096]:
        return "svg"
    return None


def read(data: bytes) -> ImageInfo:
    fmt = sniff(data)
    reader = {"png": _png, "jpeg": _jpeg, "webp": _webp, "svg": _svg}.get(fmt)
    if reader is None:
        raise UnknownImage("not a PNG, JPEG, WEBP or SVG file")
    try:
        return reader(data)
    except UnknownImage:
        raise
    except (struct.error, IndexError, ValueError, OverflowError) as e:
        raise UnknownImage(f"the {fmt.upper()} header is damaged ({e})") from None


def _png(data: bytes) -> ImageInfo:
    try:
        head = png.header(data)
    except png.PNGError as e:  # no IHDR, or chunks in an order the spec forbids
        raise UnknownImage(f"the PNG is damaged: {e}") from None
    return ImageInfo("png", head.width, head.height, grayscale=head.color_type in (0, 4))


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(data: bytes) -> ImageInfo:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise ValueError("marker expected")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            height, width, components = struct.unpack(">HHB", data[i + 5 : i + 10])
            return ImageInfo("jpeg", width, height, grayscale=components == 1)
        i += 2 + length
    raise ValueError("no frame header")


def _webp(data: bytes) -> ImageInfo:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", data[26:30])
        return ImageInfo("webp", w & 0x3FFF, h & 0x3FFF)
    if chunk == b"VP8L":
        b = data[21:25]
        width = 1 + (((b[1] & 0x3F) << 8) | b[0])
        height = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        return ImageInfo("webp", width, height)
    if chunk == b"VP8X":
        w = int.from_bytes(data[24:27], "little") + 1
        h = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("webp", w, h)
    raise ValueError(f"unknown chunk {chunk!r}")


def _svg(data: bytes) -> ImageInfo:
    try:
        width, height = svg.declared_size(data)
    except ProtocolError as e:
        said = str(e).rstrip(".")  # a sentence of its own, here part of one
        raise UnknownImage(said[:1].lower() + said[1:]) from None
    return ImageInfo("svg", round(width), round(height))


_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def cut_short(data: bytes, fmt: str) -> str | None:
    """Why the file is not whole (cut off while copying or downloading), or None. Only the
    ends are looked at: a PNG ends with its IEND chunk, a JPEG with its EOI marker, and a
    WEBP is as long as its RIFF header says."""
    if fmt == "png" and not data.endswith(_IEND):
        return "the PNG is cut short (it does not end with its IEND chunk)"
    if fmt == "jpeg" and not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return "the JPEG is cut short (it does not end with its end-of-image marker)"
    if fmt == "webp" and len(data) >= 12:
        declared = int.from_bytes(data[4:8], "little") + 8
        if len(data) < declared:
            return f"the WEBP is cut short ({len(data)} of its {declared} bytes)"
    return None


def png_bit_depth(data: bytes) -> int | None:
    """Bits per channel from a PNG's IHDR."""
    return data[24] if len(data) > 24 and data[12:16] == b"IHDR" else None
