"""GIMP's image as a recraft_core Canvas: GEGL buffers read and written in 8-bit sRGB with
explicit babl formats, whatever the image's precision and mode; layers and paths out.

GIMP runs a plug-in in its own process, and the PDB may only be used from the main thread:
every method here is called there (the core's Job guarantees it).
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio, GLib  # noqa: E402

try:  # GIMP's own API hands out GdkPixbufs, so its typelib comes with GIMP; still, optional
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf
except (ImportError, ValueError):
    GdkPixbuf = None

import native  # noqa: E402
import result_ids  # noqa: E402

from recraft_core.exceptions import ProtocolError, ValidationError  # noqa: E402
from recraft_core.imaging import alpha  # noqa: E402
from recraft_core.imaging.png import Raster  # noqa: E402
from recraft_core.workflow import NewDocument, NewLayer, NewVector  # noqa: E402
from recraft_core.workflow.canvas import NewCutout, PurePythonCodec  # noqa: E402

RGBA = "R'G'B'A u8"  # 8-bit perceptual sRGB with alpha: babl converts from any precision
FORMATS = {"RGBA": RGBA, "RGB": "R'G'B' u8"}
MASK = "Y u8"
_LAYER_TYPE = {
    Gimp.ImageBaseType.RGB: Gimp.ImageType.RGBA_IMAGE,
    Gimp.ImageBaseType.GRAY: Gimp.ImageType.GRAYA_IMAGE,
    Gimp.ImageBaseType.INDEXED: Gimp.ImageType.INDEXEDA_IMAGE,
}


def _rect(x: int, y: int, w: int, h: int):
    return Gegl.Rectangle.new(x, y, w, h)


def new_layer(image, new: NewLayer):
    """A layer of `image`'s kind holding the result's pixels at its own size, not inserted."""
    pixels = new.image
    kind = _LAYER_TYPE.get(image.get_base_type(), Gimp.ImageType.RGBA_IMAGE)
    layer = Gimp.Layer.new(
        image, new.name, pixels.width, pixels.height, kind, 100.0, Gimp.LayerMode.NORMAL
    )
    buffer = layer.get_buffer()
    # PyGObject takes the guint8 array from bytes; a large result may be a bytearray.
    buffer.set(_rect(0, 0, pixels.width, pixels.height), FORMATS[pixels.mode], bytes(pixels.pixels))
    buffer.flush()
    return layer


def add_mask(layer, mask: bytes, width: int, height: int) -> None:
    """A layer mask holding `mask` (one byte a pixel, 255 shows) on the layer, which must be
    width x height. Written before it is added: the mask is whole when GIMP records it."""
    made = layer.create_mask(Gimp.AddMaskType.WHITE)
    buffer = made.get_buffer()
    buffer.set(_rect(0, 0, width, height), MASK, bytes(mask))
    buffer.flush()
    if not layer.add_mask(made):
        raise ProtocolError(f"GIMP could not add a mask to the layer {layer.get_name()!r}")


def scaled(raster: Raster, width: int, height: int) -> Raster:
    """The raster resized by GIMP's own interpolation, on a scratch image."""
    scratch = Gimp.Image.new(raster.width, raster.height, Gimp.ImageBaseType.RGB)
    try:
        layer = new_layer(scratch, NewLayer("scaled", raster, 0, 0, raster.width, raster.height))
        scratch.insert_layer(layer, None, 0)
        layer.scale(width, height, False)
        buffer = layer.get_buffer()
        fmt = FORMATS[raster.mode]
        pixels = buffer.get(_rect(0, 0, width, height), 1.0, fmt, Gegl.AbyssPolicy.NONE)
        return Raster(width, height, raster.mode, bytes(pixels))
    finally:
        scratch.delete()


class GimpCodec(PurePythonCodec):
    """PNG out by the pure-Python encoder (thread-safe). Results in through GdkPixbuf's
    loaders in this process; what they cannot read, through GIMP's own file loaders (PNG,
    JPEG, WEBP), which must run on the main thread."""

    thread_safe = False

    def decode(self, data: bytes) -> Raster:
        # GdkPixbuf decodes here, in C; file_load_layer goes through GIMP's PNG plug-in and
        # the core, then the pixels come back over the wire: 2.3 times Pillow's time against
        # 0.8 times (bench/bench_editor_decode.py).
        # A format without a GdkPixbuf loader here: GIMP's loaders read more.
        return _pixbuf_raster(data) or _load_layer_raster(data)


class PixbufCodec(PurePythonCodec):
    """Results in through GdkPixbuf alone, which needs no GIMP call and so may run on a
    worker thread (History reads the library there); what it cannot read, by the core's
    decoder (PNG only)."""

    thread_safe = True

    def decode(self, data: bytes) -> Raster:
        return _pixbuf_raster(data) or super().decode(data)


def _pixbuf_raster(data: bytes) -> Raster | None:
    if GdkPixbuf is None:
        return None
    loader = GdkPixbuf.PixbufLoader()
    try:
        loader.write(data)
        loader.close()
    except GLib.Error:
        with contextlib.suppress(GLib.Error):
            loader.close()
        return None
    pixbuf = loader.get_pixbuf()
    if pixbuf is None:
        return None
    if not pixbuf.get_has_alpha():
        pixbuf = pixbuf.add_alpha(False, 0, 0, 0)
    w, h, stride = pixbuf.get_width(), pixbuf.get_height(), pixbuf.get_rowstride()
    pixels = pixbuf.read_pixel_bytes().get_data()
    if stride != 4 * w:  # rows padded: keep each row's pixels only
        view = memoryview(pixels)
        pixels = b"".join(view[y * stride : y * stride + 4 * w] for y in range(h))
    return Raster(w, h, "RGBA", pixels)


def _load_layer_raster(data: bytes) -> Raster:
    with tempfile.TemporaryDirectory(prefix="recraft-") as folder:
        path = os.path.join(folder, "result")
        with open(path, "wb") as f:
            f.write(data)
        scratch = Gimp.Image.new(1, 1, Gimp.ImageBaseType.RGB)
        try:
            layer = Gimp.file_load_layer(
                Gimp.RunMode.NONINTERACTIVE, scratch, Gio.File.new_for_path(path)
            )
            if layer is None:
                raise ProtocolError("GIMP could not read the result image")
            w, h = layer.get_width(), layer.get_height()
            pixels = layer.get_buffer().get(_rect(0, 0, w, h), 1.0, RGBA, Gegl.AbyssPolicy.NONE)
            return Raster(w, h, "RGBA", bytes(pixels))
        finally:
            scratch.delete()


class GimpCanvas:
    """One image and the drawable a procedure was called on (None for an operation that reads
    no layer: its results go on top of the image). With `keep_ids`, each result's layer
    carries Recraft's id for its image (result_ids: what Explore similar starts from)."""

    codec = GimpCodec()

    def __init__(
        self, image, drawable=None, interactive: bool = False, keep_ids: bool = False
    ) -> None:
        if image is None:
            raise ValidationError("image", "open an image first")
        self.image = image
        self.drawable = drawable
        self.interactive = interactive
        self.keep_ids = keep_ids
        self.opened = None  # the image open_document made, returned to the caller

    # -- reading -----------------------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        return self.image.get_width(), self.image.get_height()

    def _source(self):
        if self.drawable is None:
            raise ValidationError("layer", "select a layer first")
        return self.drawable

    def _offsets(self) -> tuple[int, int]:
        _, x, y = self._source().get_offsets()
        return x, y

    def layer_bounds(self):
        """The whole layer, wherever it lies: on the canvas or not."""
        x, y = self._offsets()
        return (x, y, x + self.drawable.get_width(), y + self.drawable.get_height())

    def source_bounds(self):
        x0, y0, x1, y1 = self.layer_bounds()
        w, h = self.size()
        x0, y0 = max(0, x0), max(0, y0)
        return (x0, y0, max(x0, min(w, x1)), max(y0, min(h, y1)))

    def read(self, box, size=None) -> Raster:
        x0, y0, x1, y1 = box
        ox, oy, lx1, ly1 = self.layer_bounds()
        w, h = x1 - x0, y1 - y0
        # A layer without an alpha channel (a photo as GIMP opens it) is read as RGB: babl
        # leaves the alpha out in C, which the encoder would otherwise do in Python. Only a
        # read inside the layer: outside it, the abyss is transparent.
        inside = ox <= x0 and oy <= y0 and x1 <= lx1 and y1 <= ly1
        mode = "RGB" if inside and not self.drawable.has_alpha() else "RGBA"
        buffer = self.drawable.get_buffer()
        rect = _rect(x0 - ox, y0 - oy, w, h)
        pixels = bytes(buffer.get(rect, 1.0, FORMATS[mode], Gegl.AbyssPolicy.NONE))
        raster = Raster(w, h, mode, pixels)
        if size is not None and size != (w, h):
            raster = scaled(raster, *size)
        return raster

    def selection_bounds(self):
        ok, non_empty, x0, y0, x1, y1 = Gimp.Selection.bounds(self.image)
        return (x0, y0, x1, y1) if ok and non_empty and x1 > x0 and y1 > y0 else None

    def read_selection(self, box) -> bytes:
        x0, y0, x1, y1 = box
        buffer = self.image.get_selection().get_buffer()
        return bytes(buffer.get(_rect(x0, y0, x1 - x0, y1 - y0), 1.0, MASK, Gegl.AbyssPolicy.NONE))

    # -- writing -----------------------------------------------------------------------------

    def _above_source(self):
        """Where results go: right above the source layer, or on top of the image."""
        if self.drawable is None:
            return None, 0
        parent = self.drawable.get_parent()
        return parent, self.image.get_item_position(self.drawable)

    @contextlib.contextmanager
    def _insertion(self, group: str | None):
        """One undo step that adds items above the source (into a new group of that name
        when given): yields (parent, position, added), `added` the list of every item
        inserted, to which the caller appends its own. Should anything fail midway, what was
        added is removed again, last first, and the error goes on."""
        added: list = []
        self.image.undo_group_start()
        try:
            parent, position = self._above_source()
            if group:
                folder = Gimp.GroupLayer.new(self.image, group)
                self._insert(folder, parent, position, added)
                parent, position = folder, 0
            yield parent, position, added
        except BaseException:
            for item in reversed(added):  # a group takes its children with it
                with contextlib.suppress(Exception):
                    if isinstance(item, Gimp.Path):
                        self.image.remove_path(item)
                    else:
                        self.image.remove_layer(item)
            raise
        finally:
            self.image.undo_group_end()
        Gimp.displays_flush()

    def _insert(self, layer, parent, position: int, added: list) -> None:
        if not self.image.insert_layer(layer, parent, position):
            layer.delete()  # never attached: nothing else frees it
            raise ProtocolError(f"GIMP could not insert the layer {layer.get_name()!r}")
        added.append(layer)

    def insert_layers(
        self, layers: list[NewLayer], group: str | None, grow: tuple | None = None
    ) -> None:
        """Each result as a layer above the source, the first on top. With `grow` (an
        outpaint), the image first grows to that box, its layers keeping their place on it,
        in the same undo group."""
        with self._insertion(group) as (parent, position, added):
            dx = dy = 0
            if grow is not None:
                dx, dy = -grow[0], -grow[1]
                size = (self.image.get_width(), self.image.get_height())
                if not self.image.resize(grow[2] - grow[0], grow[3] - grow[1], dx, dy):
                    raise ProtocolError("GIMP could not grow the image to hold the result")
            try:
                for i, new in enumerate(layers):
                    layer = new_layer(self.image, new)
                    self._insert(layer, parent, position + i, added)
                    self._keep_id(layer, new.image_id)
                    if new.mask is not None:
                        add_mask(layer, new.mask, new.image.width, new.image.height)
                    if group and i > 0:  # variations: the first on top, the only one showing
                        layer.set_visible(False)
                    if new.scaled:  # its mask with it
                        layer.scale(new.width, new.height, False)
                    layer.set_offsets(new.x + dx, new.y + dy)
                if group:  # not the last variation, hidden: the group they are in
                    self.image.set_selected_layers([parent])
            except BaseException:
                if grow is not None:  # as it was: the same size, its layers where they were
                    self.image.resize(*size, -dx, -dy)
                raise

    def insert_cutout(self, cutout: NewCutout) -> None:
        """The source's own pixels over the cut-out's box, in their own format (no colour
        changes a bit), in a new layer above it: with their alpha multiplied by Recraft's, or
        (`as_mask`) untouched with Recraft's alpha as the layer's mask. The source's opacity
        and mode go with them. A source without an alpha channel gets an opaque one."""
        source = self._source()
        ox, oy = self._offsets()
        own = native.format_of(source)
        box = (cutout.x - ox, cutout.y - oy, cutout.width, cutout.height)  # the source's own
        pixels, fmt = native.with_alpha(native.read(source, box), own)
        if not cutout.as_mask:
            pixels = alpha.multiply(pixels, fmt.layout(), cutout.alpha)
        kind = _LAYER_TYPE.get(self.image.get_base_type(), Gimp.ImageType.RGBA_IMAGE)
        mode = source.get_mode()
        if mode == Gimp.LayerMode.PASS_THROUGH:  # a group's: no mode of a layer's own
            mode = Gimp.LayerMode.NORMAL
        with self._insertion(None) as (parent, position, added):
            layer = Gimp.Layer.new(
                self.image, cutout.name, cutout.width, cutout.height, kind,
                source.get_opacity(), mode,
            )  # fmt: skip
            made = native.format_of(layer)
            if (made.channels, made.sample) != (fmt.channels, fmt.sample):
                layer.delete()
                raise ProtocolError(
                    f"GIMP made a {made.name} layer for a {own.name} source: a bug in the plug-in"
                )
            native.write(layer, (0, 0, cutout.width, cutout.height), pixels, made)
            self._insert(layer, parent, position, added)
            self._keep_id(layer, cutout.image_id)
            if cutout.as_mask:
                add_mask(layer, cutout.alpha, cutout.width, cutout.height)
            layer.set_offsets(cutout.x, cutout.y)

    def insert_vectors(self, vectors: list[NewVector], group: str | None) -> None:
        """Each SVG as editable paths, plus a layer rendering it (GIMP has no vector layers)."""
        with (
            self._insertion(group) as (parent, position, added),
            tempfile.TemporaryDirectory(prefix="recraft-") as folder,
        ):
            for i, vector in enumerate(vectors):
                path = os.path.join(folder, f"result-{i}.svg")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(vector.svg)
                file = Gio.File.new_for_path(path)
                ok, paths = self.image.import_paths_from_file(file, True, False)
                added.extend(paths or [])
                if not ok:
                    raise ProtocolError("GIMP could not read the SVG result as paths")
                for item in paths or []:
                    item.set_name(vector.name)
                # The SVG is the canvas's size, so GIMP renders it exactly onto the canvas.
                layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, self.image, file)
                if layer is None:
                    raise ProtocolError("GIMP could not draw the SVG result")
                layer.set_name(vector.name)
                self._insert(layer, parent, position + i, added)
                self._keep_id(layer, vector.image_id)

    def _keep_id(self, layer, image_id: str | None) -> None:
        if self.keep_ids and image_id:
            result_ids.tag(layer, image_id)

    def open_document(self, document: NewDocument) -> None:
        self.opened = open_document(document, self.interactive, self.keep_ids)


def open_document(document: NewDocument, interactive: bool = False, keep_ids: bool = False):
    """A new image of the document's size holding its layers and paths, inserted as into any
    canvas; shown in a window when the user is there to see it. The image is returned."""
    image = Gimp.Image.new(document.width, document.height, Gimp.ImageBaseType.RGB)
    try:
        canvas = GimpCanvas(image, None, interactive, keep_ids)
        if document.layers:
            canvas.insert_layers(list(document.layers), document.group)
        if document.vectors:
            canvas.insert_vectors(list(document.vectors), document.group)
    except BaseException:
        image.delete()
        raise
    if interactive:
        Gimp.Display.new(image)
    return image


class WholeLayer(GimpCanvas):
    """A layer as a canvas of its own extent: its source is all of it, also what lies off the
    image (a style reference is the whole layer, not what the image shows of it)."""

    def source_bounds(self):
        return self.layer_bounds()
