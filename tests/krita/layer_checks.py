"""What the Krita tests read back from a payload's report: layer trees and pictures. Host side
(numpy, Pillow); nothing here runs inside Krita."""

from __future__ import annotations

import numpy as np
from PIL import Image


def rgba(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


def paint_layers(tree) -> list[dict]:
    """The layers, without the selection mask Krita lists among the root's children."""
    return [layer for layer in tree if layer["type"] != "selectionmask"]


def names(tree) -> list[str]:
    return [layer["name"] for layer in paint_layers(tree)]


def box_mask(width, height, box, pad=0) -> np.ndarray:
    """True inside box (x, y, w, h) grown by pad on every side, clipped to the canvas."""
    x, y, w, h = box
    mask = np.zeros((height, width), bool)
    mask[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad] = True
    return mask
