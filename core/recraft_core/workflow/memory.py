"""A Canvas held in memory, in pure Python: the example for editor authors, and the tests'.

It has layers with offsets and sizes of their own, an active layer that is the source, and a
selection of 0..255 strengths over the canvas. What a job inserts is kept in `layers`,
`vectors` and `documents`; `edits` counts the undo steps an editor would record, and
`threads` the threads each call came from.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from ..imaging import alpha, masks
from ..imaging.png import Raster
from .canvas import Box, NewCutout, NewDocument, NewLayer, NewVector

RGBA_8 = alpha.Layout(4, "u8")  # this canvas's native pixels


@dataclass
class MemoryLayer:
    name: str
    image: Raster  # RGBA
    x: int = 0
    y: int = 0
    group: str | None = None
    mask: bytes | None = None  # an editable mask, one byte a pixel of image: 255 shows
    visible: bool = True

    @property
    def box(self) -> Box:
        return (self.x, self.y, self.x + self.image.width, self.y + self.image.height)


class MemoryCanvas:
    codec = None  # the pure-Python codec

    def __init__(
        self,
        width: int,
        height: int,
        layers: list[MemoryLayer] | None = None,
        selection: bytes | None = None,
        active: int = 0,
    ) -> None:
        self.width, self.height = width, height
        self.layers = list(layers or [])
        # Bound to the layer that was active when the job began, as a Canvas must be.
        self.source = self.layers[active] if self.layers else None
        self.selection = selection
        self.vectors: list[NewVector] = []
        self.documents: list[NewDocument] = []
        self.edits = 0
        self.threads: set[str] = set()

    def _called(self) -> None:
        self.threads.add(threading.current_thread().name)

    # -- reading -----------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        self._called()
        return self.width, self.height

    def source_bounds(self) -> Box:
        self._called()
        x0, y0, x1, y1 = self.source.box
        return (max(0, x0), max(0, y0), min(self.width, x1), min(self.height, y1))

    def read(self, box: Box, size: tuple[int, int] | None = None) -> Raster:
        self._called()
        layer = self.source
        x0, y0, x1, y1 = box
        lx0, ly0, lx1, ly1 = layer.box
        w, h = x1 - x0, y1 - y0
        if box == layer.box and isinstance(layer.image.pixels, bytes) and size in (None, (w, h)):
            return layer.image  # the whole layer, immutable: shared, not copied
        # Copied row by row into one buffer, transparent where the layer does not reach: a
        # list of rows joined at the end would hold the image twice.
        pixels = bytearray(4 * w * h)
        a, b = max(x0, lx0), min(x1, lx1)  # the columns the layer covers
        top, bottom = max(y0, ly0), min(y1, ly1)
        src, stride, out_stride = memoryview(layer.image.pixels), layer.image.width * 4, 4 * w
        if a < b and top < bottom and (x0, x1) == (lx0, lx1):  # whole rows: one copy
            pixels[(top - y0) * out_stride : (bottom - y0) * out_stride] = src[
                (top - ly0) * stride : (bottom - ly0) * stride
            ]
        elif a < b:
            n = (b - a) * 4
            for y in range(top, bottom):
                start, at = (y - ly0) * stride + (a - lx0) * 4, (y - y0) * out_stride + (a - x0) * 4
                pixels[at : at + n] = src[start : start + n]
        if size is not None and size != (w, h):
            pixels = masks.resize_nearest(pixels, w, h, size[0], size[1], 4)
            w, h = size
        return Raster(w, h, "RGBA", pixels)

    def selection_bounds(self) -> Box | None:
        self._called()
        if self.selection is None:
            return None
        return masks.bbox(self.selection, self.width, self.height)

    def read_selection(self, box: Box) -> bytes:
        self._called()
        return masks.crop(self.selection, self.width, 1, box)

    # -- writing -----------------------------------------------------------------------------

    def insert_layers(
        self, layers: list[NewLayer], group: str | None, grow: Box | None = None
    ) -> None:
        self._called()
        self.edits += 1
        dx = dy = 0
        if grow is not None:
            dx, dy = -grow[0], -grow[1]
            self.width, self.height = grow[2] - grow[0], grow[3] - grow[1]
            for layer in self.layers:
                layer.x, layer.y = layer.x + dx, layer.y + dy
            if self.selection is not None:  # the selection is of the old canvas: gone
                self.selection = None
        at = self._above_source()
        for i, new in enumerate(layers):
            new = replace(new, x=new.x + dx, y=new.y + dy)
            image, mask = new.image, new.mask
            if new.scaled:
                scaled = masks.resize_nearest(
                    image.pixels, image.width, image.height, new.width, new.height, 4
                )
                image = Raster(new.width, new.height, "RGBA", scaled)
                if mask is not None:
                    mask = masks.resize_nearest(
                        mask, new.image.width, new.image.height, new.width, new.height
                    )
            # In a group, variations: the first on top and the only one showing.
            visible = group is None or i == 0
            layer = MemoryLayer(new.name, image, new.x, new.y, group, mask, visible)
            self.layers.insert(at, layer)
            if group is None:
                at += 1

    def insert_cutout(self, cutout: NewCutout) -> None:
        self._called()
        self.edits += 1
        box = (cutout.x, cutout.y, cutout.x + cutout.width, cutout.y + cutout.height)
        own = self.read(box)  # this canvas's native pixels: RGBA, 8-bit
        if cutout.as_mask:
            layer = MemoryLayer(cutout.name, own, cutout.x, cutout.y, mask=cutout.alpha)
        else:
            cut = alpha.multiply(own.pixels, RGBA_8, cutout.alpha)
            layer = MemoryLayer(cutout.name, Raster(own.width, own.height, "RGBA", cut), *box[:2])
        self.layers.insert(self._above_source(), layer)

    def insert_vectors(self, vectors: list[NewVector], group: str | None) -> None:
        self._called()
        self.edits += 1
        self.vectors.extend(vectors)

    def _above_source(self) -> int:
        return next(i for i, layer in enumerate(self.layers) if layer is self.source) + 1

    def open_document(self, document: NewDocument) -> None:
        self._called()
        self.documents.append(document)
