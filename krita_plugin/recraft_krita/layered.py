"""Results that stay editable in Krita (issue 21): a soft edge as a transparency mask on the
result layer, a removed background that keeps the source's own pixels (its depth and colour
model: only the alpha comes from Recraft), or the same as a mask on a copy, and variations in a
group with #1 on top and only #1 showing.

`LayeredCanvas` is the KritaCanvas the plug-in's jobs use: it adds these to canvas.py's
insertion (the nodes are still made whole before the document changes, one undo step each).
"""

from __future__ import annotations

from krita import Krita

from recraft_core.imaging import alpha, masks
from recraft_core.workflow import NewCutout, NewDocument, NewLayer

from .canvas import (
    SRGB_U8,
    KritaCanvas,
    handle_events,
    native,
    node_id,
    off_gui,
    read_in_bands,
    redraw,
    scaled,
    write_in_bands,
)
from .qt import QtCore

MASK_NAME = "Recraft edge"  # the transparency mask a soft edge comes as
CUTOUT_MASK_NAME = "Recraft cut-out"
# Samples a pixel of each of Krita's colour models (alpha last, as pixelData gives them).
CHANNELS = {"RGBA": 4, "CMYKA": 5, "LABA": 4, "GRAYA": 2, "XYZA": 4, "YCbCrA": 4}
SAMPLES = {"U8": "u8", "U16": "u16", "F16": "f16", "F32": "f32"}
OFF_GUI_PIXELS = 1 << 18  # a quarter megapixel: larger cut-outs multiply on a thread of ours


def layout_of(node) -> alpha.Layout:
    """How `node`'s pixelData holds a pixel."""
    model, depth = node.colorModel(), node.colorDepth()
    if model not in CHANNELS or depth not in SAMPLES:
        raise ValueError(f"a {model} {depth} layer cannot be cut out here")
    return alpha.Layout(CHANNELS[model], SAMPLES[depth])


def can_mask() -> bool:
    """Whether this Krita's Python makes transparency masks with pixels: from 5.2 on
    (Document.createTransparencyMask, TransparencyMask.setSelection). In 5.1 a mask made by
    createNode takes no pixels (pixelData stays empty), so soft edges stay baked there."""
    from krita import Document

    return hasattr(Document, "createTransparencyMask")


NO_MASKS = "Krita 5.2 or later is needed for a transparency mask from Python; this is Krita {}."


def add_mask(document, node, mask: bytes, x: int, y: int, width: int, height: int, name: str):
    """A transparency mask under `node` (not yet attached: no undo step of its own) holding
    `mask`, one byte a pixel of the box, 255 shows."""
    from krita import Selection

    child = document.createTransparencyMask(name)
    selection = Selection()
    selection.setPixelData(QtCore.QByteArray(bytes(mask)), x, y, width, height)
    child.setSelection(selection)
    # setChildNodes records no undo step (addChildNode does, attached or not, in 5.2): the
    # layer and its mask go in with the layer's one step.
    node.setChildNodes([*node.childNodes(), child])
    return child


def mask_of(layer: NewLayer) -> bytes:
    """The layer's mask at the size the layer goes in (scaled with it)."""
    if not layer.scaled:
        return layer.mask
    image = layer.image
    return masks.resize_nearest(layer.mask, image.width, image.height, layer.width, layer.height)


class LayeredCanvas(KritaCanvas):
    """KritaCanvas with masks, cut-outs and variations to flip through."""

    def open_document(self, document: NewDocument) -> None:
        open_document(document, self.document.resolution())

    def _paint_node(self, layer: NewLayer):
        node = super()._paint_node(layer)
        if layer.mask is not None:
            box = (layer.x, layer.y, layer.width, layer.height)
            add_mask(self.document, node, mask_of(layer), *box, MASK_NAME)
        return node

    def _attach(self, nodes: list, group: str | None) -> None:
        """A group of variations: #1 on top and the only one showing (KritaCanvas puts them
        bottom to top as they come)."""
        if group:
            for i, node in enumerate(nodes):
                node.setVisible(i == 0)
            nodes = list(reversed(nodes))
        super()._attach(nodes, group)

    def insert_cutout(self, cutout: NewCutout) -> None:
        """The source layer's own pixels (its depth, its colour model) whose alpha is
        multiplied by Recraft's, as a new layer above it; or, `as_mask`, a copy of the layer
        with Recraft's alpha as its transparency mask. One undo step: the node is whole
        before it is attached."""
        source = self.node
        dx, dy = self.shift
        x, y, w, h = cutout.x + dx, cutout.y + dy, cutout.width, cutout.height
        if cutout.as_mask:
            node = source.duplicate()  # pixels, depth and colour model untouched
            node.setName(cutout.name)
            add_mask(self.document, node, cutout.alpha, x, y, w, h, CUTOUT_MASK_NAME)
        else:
            layout = layout_of(source)
            pixels = read_in_bands(
                lambda top, rows: source.pixelData(x, y + top, w, rows), w, h, layout.pixel_bytes
            )
            if w * h > OFF_GUI_PIXELS:
                cut = off_gui(alpha.multiply, pixels, layout, cutout.alpha)
            else:
                cut = alpha.multiply(pixels, layout, cutout.alpha)
            node = self.document.createNode(cutout.name, "paintlayer")
            space = (source.colorModel(), source.colorDepth(), source.colorProfile())
            if (node.colorModel(), node.colorDepth(), node.colorProfile()) != space:
                node.setColorSpace(*space)
            write_in_bands(node, cut, x, y, w, h, layout.pixel_bytes)
        parent = source.parentNode() or self.document.rootNode()
        parent.addChildNode(node, source)
        if cutout.image_id:
            self.placed.append((node.uniqueId().toString(), cutout.image_id))


def open_document(document: NewDocument, resolution: float = 300.0, placed: list | None = None):
    """A new 8-bit sRGB document in the active window holding `document`'s results, inserted
    above Krita's background layer as into any canvas. A single picture (an upscale) goes into
    the background layer itself instead: nothing is removed, so the new document's history
    holds no "Remove Layer" for an Undo to empty it with. The view comes first: Krita 5.1's
    addShapesFromSvg crashes without one, and a view opened on the empty canvas draws it
    faster than one opened on the result (Krita draws a new view's whole canvas on its GUI
    thread: 0.7 s against 1.3 s on 24 MP). `placed` gets (layer id, image id) of each
    result layer, as KritaCanvas.placed."""
    krita = Krita.instance()
    size = (document.width, document.height)
    # Each step below is one long call into Krita (a new document, its view, composing it):
    # Qt handles its events between them, so that they stall Krita one at a time.
    new = krita.createDocument(*size, document.name, *SRGB_U8, float(resolution))
    handle_events()
    window = krita.activeWindow() or next(iter(krita.windows()), None)
    if window is not None:
        window.addView(new)
        handle_events()
    background = next(iter(new.rootNode().childNodes()), None)
    alone = document.image is not None and document.group is None
    if alone and background is not None and background.type() == "paintlayer":
        layer = document.layers[0]
        image = scaled(layer.image, layer.width, layer.height) if layer.scaled else layer.image
        write_in_bands(background, native(image), layer.x, layer.y, layer.width, layer.height)
        background.setName(layer.name)
        if layer.mask is not None:  # as the layer had it: its full pixels, the edge a mask
            box = (layer.x, layer.y, layer.width, layer.height)
            add_mask(new, background, mask_of(layer), *box, MASK_NAME)
        if placed is not None and layer.image_id:
            placed.append((node_id(background), layer.image_id))
        redraw(new)
    else:
        if background is None:  # Krita always makes one; should it not, the layers need one
            background = new.createNode("Background", "paintlayer")
            new.rootNode().addChildNode(background, None)
        # What the closed document would have had: soft edges as transparency masks (Krita
        # 5.2 and later), variations with #1 alone showing.
        canvas = LayeredCanvas(new, background)
        if document.layers:
            canvas.insert_layers(list(document.layers), document.group)
        if document.vectors:
            canvas.insert_vectors(list(document.vectors), document.group)
        if placed is not None:
            placed.extend(canvas.placed)
    # Layers attached with addChildNode have been composed and drawn already (each addition
    # updates the whole image).
    return new
