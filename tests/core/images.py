"""Test images made in memory."""

from __future__ import annotations

import io

from PIL import Image

from recraft_core.imaging.png import Raster


def raster(w: int, h: int, mode: str = "RGB", value: int = 128) -> Raster:
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    return Raster(w, h, mode, bytes([value]) * (w * h * channels))


def png(w: int, h: int, mode: str = "RGB", value: int = 128) -> bytes:
    return raster(w, h, mode, value).to_png()


def encoded(w: int, h: int, fmt: str, mode: str = "RGB") -> bytes:
    """An image in any format Pillow writes (JPEG, WEBP, lossless WEBP, PNG)."""
    buf = io.BytesIO()
    kwargs = {"lossless": True} if fmt == "WEBP-lossless" else {}
    Image.new(mode, (w, h), 200).save(buf, fmt.split("-")[0], **kwargs)
    return buf.getvalue()


def mask(w: int, h: int, box=None, values=(0, 255)) -> Raster:
    """A mask, `values[1]` inside box (x0, y0, x1, y1), `values[0]` elsewhere."""
    px = bytearray([values[0]]) * (w * h)
    if box:
        x0, y0, x1, y1 = box
        for y in range(y0, y1):
            px[y * w + x0 : y * w + x1] = bytes([values[1]]) * (x1 - x0)
    return Raster(w, h, "L", bytes(px))


def svg(w: int, h: int) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">'
        f'<rect width="{w}" height="{h}" fill="#f00"/></svg>'
    ).encode()
