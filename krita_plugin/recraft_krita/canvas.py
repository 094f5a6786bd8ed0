"""Krita's document as a recraft_core Canvas, and QImage as its PNG codec.

Everything here is translation: Krita's BGRA bytes to RGBA Rasters and back, its nodes to new
layers. Planning, masks, compositing and naming are the core's (recraft_core.workflow).
"""

from __future__ import annotations

from krita import Krita

from recraft_core.exceptions import ProtocolError, ValidationError
from recraft_core.imaging.png import Raster, swap_red_blue
from recraft_core.workflow import NewDocument, NewLayer, NewVector

from .qt import QImage, Qt, QtCore

SRGB_U8 = ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")


def _bytes(image: QImage) -> bytes:
    """The pixels of a QImage whose rows have no padding (4 bytes a pixel)."""
    size = image.width() * image.height() * 4
    return bytes(image.constBits().asstring(size))


def _qimage(raster: Raster) -> QImage:
    """A QImage owning a copy of an RGBA or RGB raster's pixels."""
    if raster.mode == "RGBA":
        fmt, stride = QImage.Format.Format_RGBA8888, raster.width * 4
    else:
        fmt, stride = QImage.Format.Format_RGB888, raster.width * 3
    return QImage(raster.pixels, raster.width, raster.height, stride, fmt).copy()


def scaled(raster: Raster, width: int, height: int) -> Raster:
    """The raster resized by Qt's smooth scaling (C++, not Python)."""
    image = _qimage(raster.to_rgba()).scaled(
        width,
        height,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    return Raster(width, height, "RGBA", _bytes(image))


class QtCodec:
    """PNG through QImage: Qt's C++ zlib and libpng. QImage is reentrant, so a worker thread
    may use its own images."""

    thread_safe = True

    def encode_png(self, image: Raster) -> bytes:
        buffer = QtCore.QBuffer()
        buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
        _qimage(image).save(buffer, "PNG")
        return bytes(buffer.data())

    def decode(self, data: bytes) -> Raster:
        image = QImage.fromData(data)
        if image.isNull():
            raise ProtocolError("Krita could not decode the result image")
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        return Raster(image.width(), image.height(), "RGBA", _bytes(image))


class KritaCanvas:
    """One document and the layer a job starts from (fixed here: the user may pick another
    layer while the job runs). Every method runs on Krita's GUI thread."""

    codec = QtCodec()

    def __init__(self, document, node) -> None:
        if document is None:
            raise ValidationError("image", "open an image first")
        if node is None:
            raise ValidationError("layer", "select a layer first")
        self.document = document
        self.node = node

    @classmethod
    def active(cls) -> KritaCanvas:
        krita = Krita.instance()
        document = krita.activeDocument()
        # activeNode() is None in some headless Krita versions: say so, not crash.
        return cls(document, document.activeNode() if document else None)

    @property
    def is_open(self) -> bool:
        return any(d == self.document for d in Krita.instance().documents())

    # -- reading -----------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        return self.document.width(), self.document.height()

    def source_bounds(self):
        r = self.node.bounds()
        w, h = self.size()
        x0, y0 = max(0, r.x()), max(0, r.y())
        x1, y1 = min(w, r.x() + r.width()), min(h, r.y() + r.height())
        return (x0, y0, max(x0, x1), max(y0, y1))

    def read(self, box, size=None) -> Raster:
        x0, y0, x1, y1 = box
        node = self.node
        if (node.colorModel(), node.colorDepth(), node.colorProfile()) != SRGB_U8:
            # Any depth or colour model to 8-bit sRGB on a copy: the layer itself is untouched.
            node = node.duplicate()
            node.setColorSpace(*SRGB_U8)
        bgra = bytes(node.pixelData(x0, y0, x1 - x0, y1 - y0))
        raster = Raster(x1 - x0, y1 - y0, "RGBA", swap_red_blue(bgra))
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
        node.setPixelData(swap_red_blue(image.pixels), layer.x, layer.y, layer.width, layer.height)
        if space != SRGB_U8:
            node.setColorSpace(*space)
        return node

    def _attach(self, nodes: list, group: str | None) -> None:
        parent = self.node.parentNode() or self.document.rootNode()
        if group:
            folder = self.document.createGroupLayer(group)
            below = None
            for node in nodes:
                folder.addChildNode(node, below)
                below = node
            nodes = [folder]
        above = self.node
        for node in nodes:
            parent.addChildNode(node, above)
            above = node
        self.document.refreshProjection()

    def insert_layers(self, layers: list[NewLayer], group: str | None) -> None:
        self._attach([self._paint_node(layer) for layer in layers], group)

    def insert_vectors(self, vectors: list[NewVector], group: str | None) -> None:
        nodes = [self.document.createVectorLayer(vector.name) for vector in vectors]
        self._attach(nodes, group)
        # Shapes go in once the layer is attached: Krita parses the SVG in the document's units.
        for node, vector in zip(nodes, vectors, strict=True):
            node.addShapesFromSvg(vector.svg)
        self.document.refreshProjection()

    def open_document(self, document: NewDocument) -> None:
        new_document(document.name, document.image, self.document.resolution())


def new_document(name: str, image: Raster, resolution: float = 300.0):
    """Open `image` as a new document in the active window."""
    krita = Krita.instance()
    new = krita.createDocument(image.width, image.height, name, *SRGB_U8, float(resolution))
    node = new.createNode(name, "paintlayer")
    node.setPixelData(swap_red_blue(image.pixels), 0, 0, image.width, image.height)
    root = new.rootNode()
    for old in root.childNodes():  # the empty background Krita adds
        old.remove()
    root.addChildNode(node, None)
    window = krita.activeWindow()
    if window is not None:
        window.addView(new)
    new.refreshProjection()
    return new
