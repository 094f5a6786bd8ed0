"""Style references: layers read small enough to go to create_style together."""

from __future__ import annotations

from ..imaging.png import Raster
from .canvas import Canvas

# create_style takes at most 5 MB of images in all: five references of 768 px a side fit.
REFERENCE_SIDE = 768


def read_reference(canvas: Canvas) -> Raster | None:
    """The canvas's source (its whole layer, not only what lies on the canvas) at most
    REFERENCE_SIDE px a side; None when it has no pixels."""
    x0, y0, x1, y1 = canvas.source_bounds()
    if x1 <= x0 or y1 <= y0:
        return None
    k = min(1.0, REFERENCE_SIDE / max(x1 - x0, y1 - y0))
    size = (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k)))
    return canvas.read((x0, y0, x1, y1), size)
