"""Krita's document as a recraft_core Canvas, and QImage as its PNG codec.

Everything here is translation: Krita's BGRA bytes to RGBA Rasters and back, its nodes to new
layers. Planning, masks, compositing and naming are the core's (recraft_core.workflow).
"""

from __future__ import annotations

import logging
import queue
import struct
import sys
import threading
from dataclasses import replace

from krita import Krita

from recraft_core.exceptions import ProtocolError, RecraftError, Refused, ValidationError
from recraft_core.imaging import png
from recraft_core.imaging.png import Raster, swap_red_blue
from recraft_core.workflow import NewLayer, NewVector
from recraft_core.workflow.canvas import PurePythonCodec
from recraft_core.workflow.upload import MissesTheLayer, OffCanvas

from .qt import QImage, Qt, QtCore, QtGui

SRGB_U8 = ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")
log = logging.getLogger("recraft_krita")


# Krita's 8-bit RGBA layers are BGRA in memory, whatever the machine. QImage's ARGB32 is too
# on a little-endian machine (all Krita runs on): pixels pass between them without a swap.
NATIVE = "BGRA" if sys.byteorder == "little" else "RGBA"
_FORMATS = {
    "BGRA": (QImage.Format.Format_ARGB32, 4),
    "RGBA": (QImage.Format.Format_RGBA8888, 4),
    "RGB": (QImage.Format.Format_RGB888, 3),
}


COPY_BAND = 4 << 20


def _copies(image: QImage) -> list[bytes]:
    """The pixels of a 4-byte-a-pixel QImage (rows never padded) as copies of COPY_BAND
    bytes: one copy of a 64 MB image holds the GIL for 50 ms (page faults), and the GUI
    thread waits for it."""
    size = image.width() * image.height() * 4
    bits = image.constBits()
    bits.setsize(size)
    view = memoryview(bits)
    return [bytes(view[start : start + COPY_BAND]) for start in range(0, size, COPY_BAND)]


def _bytes(image: QImage) -> bytearray:
    """The pixels of a 4-byte-a-pixel QImage, copied in bands; joining bytes lets the GIL go
    (a bytearray of that size made whole would be zero-filled with the GIL held)."""
    return bytearray().join(_copies(image))


def _view(raster: Raster) -> QImage:
    """A QImage over the raster's own bytes, no copy: use it while `raster` lives."""
    if raster.mode not in _FORMATS or (raster.mode == "BGRA" and NATIVE != "BGRA"):
        raster = raster.to_rgba()
    fmt, channels = _FORMATS[raster.mode]
    return QImage(raster.pixels, raster.width, raster.height, raster.width * channels, fmt)


def _raster(image: QImage) -> Raster:
    """A Raster of a QImage's pixels in the native byte order."""
    fmt = _FORMATS[NATIVE][0]
    # RGB32 is ARGB32 with every alpha byte 0xff: the same bytes, no conversion.
    same = {fmt, QImage.Format.Format_RGB32} if NATIVE == "BGRA" else {fmt}
    width, height = image.width(), image.height()
    if image.format() in same:
        return Raster(width, height, NATIVE, _bytes(image))
    # Converted a band of rows at a time (each pixel on its own: the same bytes as one
    # conversion), since one over 16 MP holds the GIL for 40 ms.
    rows = max(1, COPY_BAND // (4 * width))
    parts = []
    for top in range(0, height, rows):
        band = image.copy(0, top, width, min(rows, height - top)).convertToFormat(fmt)
        parts += _copies(band)
    return Raster(width, height, NATIVE, bytearray().join(parts))


# -- work off the GUI thread ----------------------------------------------------------------------


class Worker:
    """One thread of our own that runs what it is given, in order. Started once: starting a
    thread makes the caller wait until the new one runs, up to tens of milliseconds on a
    busy machine, and the caller is often Krita's GUI thread."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, task) -> None:
        self._tasks.put(task)

    def _serve(self) -> None:
        while True:
            task = self._tasks.get()
            try:
                task()
            except Exception:  # a task reports its own failures; this one must not end
                log.exception("recraft: %s", self._thread.name)


# Started with the plug-in, so that no job waits for it to come up.
PIXELS = Worker("recraft-pixels")


def off_gui(work, *args):
    """work(*args), on a thread of ours when called on the GUI thread, which meanwhile
    handles Qt's events (not user input, as between bands): for work that lets the GIL go
    often (Qt's image readers, joins of bytes, passes in bands), so that Krita's slots, in
    Python, keep running. Elsewhere (a job's worker), right here."""
    if threading.current_thread() is not threading.main_thread():
        return work(*args)
    done = threading.Event()
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = work(*args)
        except BaseException as e:  # raised again on the GUI thread
            box["error"] = e
        finally:
            done.set()

    PIXELS.submit(run)
    while not done.wait(SPIN_SECONDS):
        handle_events()
    if "error" in box:
        raise box["error"]
    return box["value"]


SPIN_SECONDS = 0.004


def float_message(text: str) -> None:
    """`text` over the active view's canvas for a few seconds, where the user looks."""
    window = Krita.instance().activeWindow()
    view = window.activeView() if window else None
    if view is not None and text:
        view.showFloatingMessage(text, QtGui.QIcon(), 8000, 1)


def native(raster: Raster) -> bytes:
    """The raster as the BGRA bytes Krita's setPixelData takes (another order converted on
    a thread of ours: a pass over every pixel)."""
    if raster.mode == "BGRA":
        return raster.pixels
    return off_gui(lambda: swap_red_blue(raster.to_rgba().pixels))


BAND_BYTES = 2 << 20  # a few ms of setPixelData (tens when memory is short): Krita ticks between


def _bands(width: int, height: int, pixel_bytes: int = 4):
    """(first row, rows, byte slice) of each band of about BAND_BYTES of pixels (4 bytes
    each unless said: 8-bit RGBA), letting Qt handle paint and timer events (not user
    input) between them: one Krita call over a 16 MP layer holds the GUI thread for over
    100 ms."""
    stride = width * pixel_bytes
    rows = max(1, BAND_BYTES // max(1, stride))
    for top in range(0, height, rows):
        h = min(rows, height - top)
        yield top, h, slice(top * stride, (top + h) * stride)
        if top + h < height:
            handle_events()


def handle_events() -> None:
    """Let Qt handle paint and timer events, not user input, between two long Krita calls."""
    QtCore.QCoreApplication.processEvents(
        QtCore.QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
    )


def write_in_bands(
    node, pixels: bytes, x: int, y: int, width: int, height: int, pixel_bytes: int = 4
) -> None:
    """node.setPixelData in bands of rows (of `pixel_bytes` a pixel: the node's depth). The
    node is not attached yet, so nothing draws it half-written."""
    view = memoryview(pixels)
    for top, rows, part in _bands(width, height, pixel_bytes):
        node.setPixelData(bytes(view[part]), x, y + top, width, rows)


def read_in_bands(read, width: int, height: int, pixel_bytes: int = 4) -> bytearray:
    """A layer's pixels (`pixel_bytes` each: its depth) read in bands of rows,
    `read(top, rows)` giving one band,
    joined into one buffer on a thread of ours while Krita handles its events: a buffer
    made whole first is zero-filled holding the GIL (60 ms on 16 MP), and one grown band
    by band is now and then copied whole as it grows (70 ms seen)."""
    parts = [bytes(read(top, rows)) for top, rows, _ in _bands(width, height, pixel_bytes)]
    return off_gui(bytearray().join, parts)


def _learned(raster: Raster) -> Raster:
    """The raster, with what a job asks of a read right after, on the GUI thread, worked out
    on a thread of ours while Krita handles its events (the answers stay on the raster):
    whether it is empty, whether its alpha goes, how large it will encode. Passes over 16 MP
    that would hold the GUI thread for tens of milliseconds."""

    def learn() -> Raster:
        if not raster.blank:
            png.estimate(raster, opaque=png.drops_alpha(raster))
        return raster

    return off_gui(learn)


def scaled(raster: Raster, width: int, height: int) -> Raster:
    """The raster resized by Qt's smooth scaling (C++, not Python), with the GIL let go
    (see _smooth_scaled); called on the GUI thread, it handles Qt's events meanwhile."""
    if raster.mode != "BGRA" or NATIVE != "BGRA":  # not from Krita or QImage: direct
        return _raster(_view(raster).scaled(width, height, *_SMOOTH))
    return off_gui(_smooth_scaled, raster, width, height)


_SMOOTH = (Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
# BMP's header for 32-bit pixels with alpha, rows top to bottom: BITMAPV4HEADER, bit fields.
_BMP_MASKS = struct.pack("<4I", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)


def _smooth_scaled(raster: Raster, width: int, height: int) -> Raster:
    """QImage.scaled holds the GIL in Debian 12's PyQt5 and in PyQt6 (Krita 5.1 and 6: 60 to
    270 ms on 16 MP, and more converting the premultiplied result), and Krita's GUI thread,
    waiting for the GIL, stalls: measured, trixie's and sid's PyQt5 let it go. QImageReader
    lets it go while it reads, and scales with that same QImage.scaled (smooth, exact size)
    when the format has no scaling of its own: BMP. So the pixels go through an uncompressed
    BMP in memory, built in bands, and come out in bands: the same pixels as a direct
    QImage.scaled, in C++ with the GIL free."""
    w, h = raster.width, raster.height
    size = w * h * 4
    info = struct.pack("<IiiHHIIiiII", 108, w, -h, 1, 32, 3, size, 2835, 2835, 0, 0)
    info += _BMP_MASKS + struct.pack("<I", 0x73524742) + bytes(48)  # sRGB, no endpoints
    head = b"BM" + struct.pack("<IHHI", 14 + len(info) + size, 0, 0, 14 + len(info))
    data = QtCore.QByteArray()
    data.reserve(len(head) + len(info) + size)
    data.append(head + info)
    view = memoryview(raster.pixels)
    for start in range(0, size, COPY_BAND):
        data.append(bytes(view[start : start + COPY_BAND]))
    buffer = QtCore.QBuffer()
    buffer.setData(data)
    del data
    buffer.open(QtCore.QIODevice.OpenModeFlag.ReadOnly)
    reader = QtGui.QImageReader(buffer, b"bmp")
    reader.setScaledSize(QtCore.QSize(width, height))
    image = reader.read()
    if image.isNull() or (image.width(), image.height()) != (width, height):
        # Not expected of any Qt 5 or 6: the direct way then, GIL and all.
        return _raster(_view(raster).scaled(width, height, *_SMOOTH))
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
            return _learned(raster if size is None else scaled(raster, *size))
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
        return _learned(raster)

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
        if group:
            # A group filled while detached is not drawn when attached (Krita 5.1 showed the
            # image without it until something else redrew it): compose it again, on
            # Krita's threads.
            redraw(self.document)

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


def in_krita_words(error: RecraftError, canvas) -> RecraftError:
    """The core's refusals of a selection that misses the source layer and of a layer off the
    canvas, naming the layer and where in Krita to pick another (the core cannot name it);
    any other error as it is."""
    node = getattr(canvas, "node", None)
    if node is None:
        return error
    if isinstance(error, OffCanvas):
        return error.naming(
            node.name(),
            "move it onto the canvas, pick another layer, or set the docker's Source to "
            "Visible image",
        )
    if not isinstance(error, MissesTheLayer):
        return error
    if getattr(canvas, "visible", False):
        return Refused(
            "The selection covers no pixels of the visible image: select where the image "
            "has pixels. Nothing was sent."
        )
    return error.naming(
        node.name(),
        "select where it has pixels, pick the layer to repaint in the Layers docker, or set "
        "the docker's Source to Visible image",
    )


def node_id(node) -> str:
    """A layer's unique id as text: the same for the layer's whole life, undo included."""
    return node.uniqueId().toString()


def redraw(document) -> None:
    """Compose `document` again and draw it, for pixels written into an attached layer
    (setPixelData updates nothing). Not refreshProjection: it composes on Krita's threads
    while the GUI thread waits without handling any event (220-420 ms on 24 MP here).
    setBackgroundColor starts the same composition asynchronously (initialRefreshGraph) and
    waits for it through KisImage::waitForDone, which lets Krita draw meanwhile: the longest
    gap 60-105 ms. Setting the colour the document already has changes nothing else and adds
    no undo step; it marks the document modified, which a new document holding a result is:
    Krita asks before closing it unsaved."""
    document.setBackgroundColor(document.backgroundColor())
