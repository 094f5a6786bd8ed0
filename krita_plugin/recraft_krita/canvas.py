"""Krita's document as a recraft_core Canvas, and QImage as its PNG codec.

Everything here is translation: Krita's BGRA bytes to RGBA Rasters and back, its nodes to new
layers. Planning, masks, compositing and naming are the core's (recraft_core.workflow).
"""

from __future__ import annotations

import sys
from dataclasses import replace

from krita import Krita

from recraft_core.exceptions import ProtocolError, RecraftError, ValidationError
from recraft_core.imaging.png import Raster, swap_red_blue
from recraft_core.workflow import NewDocument, NewLayer, NewVector
from recraft_core.workflow.canvas import PurePythonCodec

from .qt import QImage, Qt, QtCore, QtGui

SRGB_U8 = ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")


# Krita's 8-bit RGBA layers are BGRA in memory, whatever the machine. QImage's ARGB32 is too
# on a little-endian machine (all Krita runs on): pixels pass between them without a swap.
NATIVE = "BGRA" if sys.byteorder == "little" else "RGBA"
_FORMATS = {
    "BGRA": (QImage.Format.Format_ARGB32, 4),
    "RGBA": (QImage.Format.Format_RGBA8888, 4),
    "RGB": (QImage.Format.Format_RGB888, 3),
}


COPY_BAND = 4 << 20


def _bytes(image: QImage) -> bytearray:
    """The pixels of a 4-byte-a-pixel QImage (rows never padded), copied 4 MB at a time: one
    copy of a 64 MB image holds the GIL for 50 ms (page faults), and the GUI thread waits."""
    size = image.width() * image.height() * 4
    bits = image.constBits()
    bits.setsize(size)
    view = memoryview(bits)
    out = bytearray()
    for start in range(0, size, COPY_BAND):
        out += view[start : start + COPY_BAND]
    return out


def _view(raster: Raster) -> QImage:
    """A QImage over the raster's own bytes, no copy: use it while `raster` lives."""
    if raster.mode not in _FORMATS or (raster.mode == "BGRA" and NATIVE != "BGRA"):
        raster = raster.to_rgba()
    fmt, channels = _FORMATS[raster.mode]
    return QImage(raster.pixels, raster.width, raster.height, raster.width * channels, fmt)


def _raster(image: QImage) -> Raster:
    """A Raster of a QImage's pixels in the native byte order."""
    fmt = _FORMATS[NATIVE][0]
    # RGB32 is ARGB32 with every alpha byte 0xff: the same bytes, no conversion (which would
    # hold the GIL for 50 ms on 16 MP).
    same = {fmt, QImage.Format.Format_RGB32} if NATIVE == "BGRA" else {fmt}
    if image.format() not in same:
        image = image.convertToFormat(fmt)
    return Raster(image.width(), image.height(), NATIVE, _bytes(image))


def float_message(text: str) -> None:
    """`text` over the active view's canvas for a few seconds, where the user looks."""
    window = Krita.instance().activeWindow()
    view = window.activeView() if window else None
    if view is not None and text:
        view.showFloatingMessage(text, QtGui.QIcon(), 8000, 1)


def native(raster: Raster) -> bytes:
    """The raster as the BGRA bytes Krita's setPixelData takes."""
    if raster.mode == "BGRA":
        return raster.pixels
    return swap_red_blue(raster.to_rgba().pixels)


BAND_BYTES = 4 << 20  # about 10 ms of setPixelData: Krita repaints and ticks between bands


def _bands(width: int, height: int):
    """(first row, rows, byte slice) of each band of about BAND_BYTES of 4-byte pixels,
    letting Qt handle paint and timer events (not user input) between them: one Krita call
    over a 16 MP layer holds the GUI thread for over 100 ms."""
    stride = width * 4
    rows = max(1, BAND_BYTES // max(1, stride))
    for top in range(0, height, rows):
        h = min(rows, height - top)
        yield top, h, slice(top * stride, (top + h) * stride)
        if top + h < height:
            QtCore.QCoreApplication.processEvents(
                QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
            )


def write_in_bands(node, pixels: bytes, x: int, y: int, width: int, height: int) -> None:
    """node.setPixelData in bands of rows. The node is not attached yet, so nothing draws it
    half-written."""
    view = memoryview(pixels)
    for top, rows, part in _bands(width, height):
        node.setPixelData(bytes(view[part]), x, y + top, width, rows)


def read_in_bands(read, width: int, height: int) -> bytearray:
    """A layer's 4-byte pixels read in bands of rows, `read(top, rows)` giving one band."""
    out = bytearray(width * 4 * height)
    for top, rows, part in _bands(width, height):
        out[part] = read(top, rows)
    return out


def scaled(raster: Raster, width: int, height: int) -> Raster:
    """The raster resized by Qt's smooth scaling (C++, not Python)."""
    image = _view(raster).scaled(
        width,
        height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    return _raster(image)


def thumbnail(raster: Raster, side: int) -> QImage:
    """A small picture of the raster that reads only about side² of its pixels: a fast
    sample to twice the size, then a smooth scale (a full smooth scale of 16 MP stalls)."""
    keep = Qt.AspectRatioMode.KeepAspectRatio
    image = _view(raster).scaled(2 * side, 2 * side, keep, Qt.TransformationMode.FastTransformation)
    return image.scaled(side, side, keep, Qt.TransformationMode.SmoothTransformation)


class QtCodec(PurePythonCodec):
    """PNG in through Qt's C++ libpng: QImageReader.read releases the GIL (QImage.fromData
    does not), so Krita's GUI thread stays free while a worker decodes; QImage is reentrant,
    so a worker thread may use its own images. PNG out through the core's encoder, whose
    size estimate the job plans with: on photos it is three times as fast as QImage.save
    at the same size (2.6 s against 0.8 s on 16 MP, measured here), and its whole-image
    copies go in bands, so it holds the GIL only briefly."""

    thread_safe = True

    def decode(self, data: bytes) -> Raster:
        buffer = QtCore.QBuffer()
        buffer.setData(data)
        buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
        image = QtGui.QImageReader(buffer).read()
        if image.isNull():
            raise ProtocolError("Krita could not decode the result image")
        return _raster(image)


class KritaCanvas:
    """One document and the layer a job starts from (fixed here: the user may pick another
    layer while the job runs). Every method runs on Krita's GUI thread."""

    codec = QtCodec()

    def __init__(self, document, node, visible: bool = False) -> None:
        if document is None:
            raise ValidationError("image", "open an image first")
        if node is None:
            raise ValidationError("layer", "select a layer first")
        self.document = document
        self.node = node
        self.visible = visible  # read the visible image (all layers merged), not the layer
        # How far the content moved since the job began (the canvas grew on its left or top
        # to hold an outpainted result): the job's coordinates plus this are today's.
        self.shift = (0, 0)
        # (node's unique id, Recraft's image id) of each result inserted, for the runner to
        # take (Explore similar starts from a layer Explore made).
        self.placed: list[tuple[str, str]] = []

    @classmethod
    def active(cls, visible: bool = False) -> KritaCanvas:
        krita = Krita.instance()
        document = krita.activeDocument()
        # activeNode() is None in some headless Krita versions: say so, not crash.
        return cls(document, document.activeNode() if document else None, visible)

    @property
    def is_open(self) -> bool:
        return any(d == self.document for d in Krita.instance().documents())

    # -- reading -----------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        return self.document.width(), self.document.height()

    def source_bounds(self):
        if self.visible:
            return (0, 0, *self.size())
        r = self.node.bounds()
        w, h = self.size()
        x0, y0 = max(0, r.x()), max(0, r.y())
        x1, y1 = min(w, r.x() + r.width()), min(h, r.y() + r.height())
        return (x0, y0, max(x0, x1), max(y0, y1))

    def read(self, box, size=None) -> Raster:
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        if self.visible:
            self.document.waitForDone()  # the projection is drawn by Krita's own threads
            doc = self.document
            # projection() converts from any colour model and depth to 8-bit sRGB.
            pixels = read_in_bands(
                lambda top, rows: _raster(doc.projection(x0, y0 + top, w, rows)).pixels, w, h
            )
            raster = Raster(w, h, NATIVE, pixels)
            return raster if size is None else scaled(raster, *size)
        node = self.node
        # A paint layer's own pixels; any other layer (a group, a vector, file or fill layer)
        # has none of its own, only what it shows: its projection.
        paint = node.type() == "paintlayer"
        if (node.colorModel(), node.colorDepth(), node.colorProfile()) != SRGB_U8:
            if not paint:
                raise ValidationError(
                    "layer",
                    f"is a {node.type().replace('layer', ' layer')} in a {node.colorModel()} "
                    f"{node.colorDepth()} image, which the plug-in cannot convert: choose "
                    "Source: Visible image, or a paint layer",
                )
            # Any depth or colour model to 8-bit sRGB on a copy: the layer itself is untouched.
            node = node.duplicate()
            node.setColorSpace(*SRGB_U8)
        if not paint:
            self.document.waitForDone()  # projections are drawn by Krita's own threads
        read = node.pixelData if paint else node.projectionPixelData
        pixels = read_in_bands(lambda top, rows: read(x0, y0 + top, w, rows), w, h)
        raster = Raster(w, h, "BGRA", pixels)
        if size is not None and size != (raster.width, raster.height):
            raster = scaled(raster, *size)
        return raster

    def selection_bounds(self):
        selection = self.document.selection()
        if selection is None or selection.width() <= 0 or selection.height() <= 0:
            return None
        w, h = self.size()
        x0, y0 = max(0, selection.x()), max(0, selection.y())
        x1 = min(w, selection.x() + selection.width())
        y1 = min(h, selection.y() + selection.height())
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def read_selection(self, box) -> bytes:
        x0, y0, x1, y1 = box
        return bytes(self.document.selection().pixelData(x0, y0, x1 - x0, y1 - y0))

    # -- writing -----------------------------------------------------------------------------

    def _paint_node(self, layer: NewLayer):
        """A paint layer holding the result, in the document's colour space, not yet attached:
        pixels written before the node is attached make one undo step."""
        image = layer.image
        if layer.scaled:
            image = scaled(image, layer.width, layer.height)
        doc = self.document
        node = doc.createNode(layer.name, "paintlayer")
        space = (doc.colorModel(), doc.colorDepth(), doc.colorProfile())
        if space != SRGB_U8:
            node.setColorSpace(*SRGB_U8)
        write_in_bands(node, native(image), layer.x, layer.y, layer.width, layer.height)
        if space != SRGB_U8:
            node.setColorSpace(*space)
        return node

    def _attach(self, nodes: list, group: str | None) -> None:
        """Attach finished nodes above the source layer. Each addChildNode on the document is
        one undo step, so n results go into their group while it is still detached
        (setChildNodes records no undo step) and the group is attached once."""
        parent = self.node.parentNode() or self.document.rootNode()
        if group:
            folder = self.document.createGroupLayer(group)
            folder.setChildNodes(nodes)  # bottom to top: #1 lowest
            nodes = [folder]
        above = self.node
        for node in nodes:
            # Attaching updates the node's area; refreshProjection would recompose the whole
            # image and block the GUI for as long again.
            parent.addChildNode(node, above)
            above = node

    def insert_layers(self, layers: list[NewLayer], group: str | None, grow=None) -> None:
        """The layers above the source; with `grow` (x0, y0, x1, y1 in the job's canvas
        pixels), the canvas first grows to that box, its content keeping its place. Krita's
        Python API cannot group undo steps: the resize is an entry of its own in the
        history ("Resize Image"), then the layer's; the first Undo takes the layer away,
        the second gives the canvas back its size."""
        # Where the job's (0, 0) is on the canvas once it has grown (if it grows).
        dx, dy = self.shift if grow is None else (-grow[0], -grow[1])
        if (dx, dy) != (0, 0):
            layers = [replace(layer, x=layer.x + dx, y=layer.y + dy) for layer in layers]
        # Every node is made (pixels written, colours converted) before the document changes:
        # a failure here leaves it as it was.
        nodes = [self._paint_node(layer) for layer in layers]
        if grow is not None:
            self._grow(grow)
        self._attach(nodes, group)
        self._placed(nodes, layers)

    def _grow(self, box) -> None:
        """Resize the canvas to `box` (in the job's pixels): nothing is scaled, every layer
        keeps its place on the picture (Krita moves them by the new origin)."""
        x0, y0, x1, y1 = box
        sx, sy = self.shift
        doc = self.document
        doc.resizeImage(x0 + sx, y0 + sy, x1 - x0, y1 - y0)
        doc.waitForDone()  # the resize is a stroke of Krita's: done before the layers go in
        if (doc.width(), doc.height()) != (x1 - x0, y1 - y0):
            raise RecraftError(
                f"Krita did not grow the image to {x1 - x0}x{y1 - y0} px for the result"
            )
        self.shift = (-x0, -y0)

    def _placed(self, nodes: list, results: list) -> None:
        for node, result in zip(nodes, results, strict=True):
            if result.image_id:
                self.placed.append((node_id(node), result.image_id))

    def insert_vectors(self, vectors: list[NewVector], group: str | None) -> None:
        nodes = []
        for vector in vectors:
            node = self.document.createVectorLayer(vector.name)
            # Before attaching: Krita records the shapes as an undo step of their own whatever
            # we do, and this way the first Undo takes the layer away with its shapes instead
            # of leaving an empty vector layer.
            node.addShapesFromSvg(vector.svg)
            nodes.append(node)
        self._attach(nodes, group)
        self._placed(nodes, vectors)

    def open_document(self, document: NewDocument) -> None:
        open_document(document, self.document.resolution())


def node_id(node) -> str:
    """A layer's unique id as text: the same for the layer's whole life, undo included."""
    return node.uniqueId().toString()


def open_document(document: NewDocument, resolution: float = 300.0, placed: list | None = None):
    """A new 8-bit sRGB document in the active window holding `document`'s results, inserted
    above Krita's background layer as into any canvas. A single picture (an upscale) goes into
    the background layer itself instead: nothing is removed, so the new document's history
    holds no "Remove Layer" for an Undo to empty it with. The view comes first: Krita 5.1's
    addShapesFromSvg crashes without one. `placed` gets (layer id, image id) of each result
    layer, as KritaCanvas.placed."""
    krita = Krita.instance()
    size = (document.width, document.height)
    new = krita.createDocument(*size, document.name, *SRGB_U8, float(resolution))
    window = krita.activeWindow() or next(iter(krita.windows()), None)
    if window is not None:
        window.addView(new)
    background = next(iter(new.rootNode().childNodes()), None)
    alone = document.image is not None and document.group is None
    if alone and background is not None and background.type() == "paintlayer":
        layer = document.layers[0]
        image = scaled(layer.image, layer.width, layer.height) if layer.scaled else layer.image
        write_in_bands(background, native(image), layer.x, layer.y, layer.width, layer.height)
        background.setName(layer.name)
        if placed is not None and layer.image_id:
            placed.append((node_id(background), layer.image_id))
    else:
        if background is None:  # Krita always makes one; should it not, the layers need one
            background = new.createNode("Background", "paintlayer")
            new.rootNode().addChildNode(background, None)
        canvas = KritaCanvas(new, background)
        if document.layers:
            canvas.insert_layers(list(document.layers), document.group)
        if document.vectors:
            canvas.insert_vectors(list(document.vectors), document.group)
        if placed is not None:
            placed.extend(canvas.placed)
    new.refreshProjection()
    return new
