"""What payloads need on Krita's GUI thread: documents in views, the active layer, waiting,
pixels, the layer tree and screenshots.

    from recraft_probe.helpers import new_document, set_active_node, wait_until

The plug-in under test runs HTTP on a worker thread and brings results back through a QTimer,
so a payload never sleeps: it spins Qt's event loop with `wait_until` (or `spin`).

Layers added by the payload reach Krita's node manager and Layers docker only from its main
loop: `yield` (a generator payload, see runner.py) after adding layers, before making one
active or taking a screenshot.

Pass nodes explicitly: every helper here takes the node it works on. `set_active_node` tries
`Document.setActiveNode`, then a click in the Layers docker, and says whether the layer became
active; a payload asserts on that before triggering anything that works on "the active layer".
(setActiveNode does nothing, with `SAFE ASSERT "shape"` on stderr, for a layer Krita's node
manager has not seen yet: on 5.1.5 that is one added since the payload last yielded, and 5.2.9
was seen to ignore it headless.)
"""

import time

from krita import Krita

from .qt import QtCore, QtGui, QtWidgets

U8_SRGB = ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")


# -- the event loop ---------------------------------------------------------------------------


def spin(seconds: float = 0.0) -> None:
    """Run Qt's event loop for `seconds` (at least one pass)."""
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(condition, timeout: float = 10.0, what: str | None = None, step: float = 0.02):
    """Spin the event loop until condition() is truthy and return its value; TimeoutError
    (naming `what`) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not true after {timeout} s: {what or condition}")
        spin(step)


def settle(doc) -> None:
    """Let Krita finish its asynchronous work (strokes, projection) before reading pixels."""
    doc.waitForDone()
    doc.refreshProjection()
    doc.waitForDone()
    spin(0.05)


# -- windows, documents, views ----------------------------------------------------------------


def main_window():
    """The active Krita Window (libkis), opening one if there is none."""
    k = Krita.instance()
    return k.activeWindow() or next(iter(k.windows()), None) or k.openWindow()


def open_document(doc):
    """Show `doc` in a view of the main window and make it the active document: what a user
    has after File > New (Krita.activeDocument() is None without a view)."""
    window = main_window()
    view = window.addView(doc)
    Krita.instance().setActiveDocument(doc)
    window.showView(view)
    wait_until(lambda: same(Krita.instance().activeDocument(), doc), what="the document's view")
    return view


def new_document(width: int, height: int, name: str = "test", view: bool = True):
    """An RGBA 8-bit document (Krita gives it a white "Background" layer), in batch mode so
    that saving never opens a dialog; opened in a view unless view=False."""
    doc = Krita.instance().createDocument(width, height, name, *U8_SRGB, 72.0)
    doc.setBatchmode(True)
    if view:
        open_document(doc)
    return doc


def same(a, b) -> bool:
    """Whether two libkis wrappers (new Python objects on every call) are one Krita object."""
    if a is None or b is None:
        return a is b
    if hasattr(a, "uniqueId") and hasattr(b, "uniqueId"):
        return a.uniqueId() == b.uniqueId()
    return a == b


# -- the active layer -------------------------------------------------------------------------


def set_active_node(doc, node, timeout: float = 2.0) -> bool:
    """Make `node` the document's active layer; True when Krita reports it active.

    Tries Document.setActiveNode, then the Layers docker. On False, pass the node explicitly
    and don't test the active-layer path on that Krita."""
    doc.setActiveNode(node)
    return _becomes_active(doc, node, timeout) or select_in_layers_docker(doc, node, timeout)


def select_in_layers_docker(doc, node, timeout: float = 2.0) -> bool:
    """Select the layer's row in the Layers docker as a click would; True when it became
    the active layer. Layers are found by name, so give them unique names."""
    tree = layers_view()
    index = _find_row(tree.model(), node.name()) if tree is not None else None
    if index is None:
        return False
    flags = QtCore.QItemSelectionModel.SelectionFlag
    tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
    tree.clicked.emit(index)
    return _becomes_active(doc, node, timeout)


def _becomes_active(doc, node, timeout: float) -> bool:
    try:
        wait_until(lambda: same(doc.activeNode(), node), timeout)
    except TimeoutError:
        return False
    return True


def layers_view():
    """The Layers docker's tree view, or None."""
    window = main_window().qwindow()
    box = window.findChild(QtWidgets.QDockWidget, "KisLayerBox")
    return box.findChild(QtWidgets.QTreeView) if box is not None else None


def _find_row(model, name: str, parent=None):
    parent = parent or QtCore.QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        if index.data() == name:
            return index
        found = _find_row(model, name, index)
        if found is not None:
            return found
    return None


# -- pixels and layers ------------------------------------------------------------------------


def rect_selection(doc, x: int, y: int, width: int, height: int):
    from krita import Selection

    selection = Selection()
    selection.select(x, y, width, height, 255)
    doc.setSelection(selection)
    return selection


def write_rgba(node, x: int, y: int, width: int, height: int, rgba: bytes) -> None:
    """Paint 8-bit RGBA pixels into an RGBA U8 layer at image coordinates."""
    node.setPixelData(QtCore.QByteArray(_swap_red_blue(rgba)), x, y, width, height)


def read_rgba(node, x: int, y: int, width: int, height: int) -> bytes:
    """The node's pixels in the box as 8-bit RGBA, whatever its depth (image coordinates,
    the layer's offset included, transparent where it has none)."""
    if (node.colorModel(), node.colorDepth()) != U8_SRGB[:2]:
        node = node.duplicate()
        node.setColorSpace(*U8_SRGB)
    return _swap_red_blue(bytes(node.pixelData(x, y, width, height)))


def save_png(node, path: str, box: tuple[int, int, int, int]) -> str:
    """Write the node's pixels in box (x, y, width, height) to a PNG, unpremultiplied RGBA,
    for the test to read with Pillow."""
    x, y, width, height = box
    data = bytes(read_rgba(node, x, y, width, height))
    if len(data) != width * height * 4:  # QImage would read past the end: a crash
        raise ValueError(f"{node.name()!r} gave {len(data)} bytes for {width}x{height} RGBA")
    image = QtGui.QImage(data, width, height, width * 4, QtGui.QImage.Format.Format_RGBA8888)
    if not image.save(path, "PNG"):
        raise OSError(f"could not write {path}")
    return path


def _swap_red_blue(pixels: bytes) -> bytes:
    """BGRA <-> RGBA (Krita's 8-bit RGBA layers store B, G, R, A)."""
    out = bytearray(pixels)
    out[0::4], out[2::4] = out[2::4], out[0::4]
    return bytes(out)


def layers(doc_or_node) -> list[dict]:
    """The layer tree, bottom to top as Krita lists children: name, type, position (the
    layer's offset), bounds [x, y, width, height] of its pixels, visible, opacity, children."""
    parent = doc_or_node.rootNode() if hasattr(doc_or_node, "rootNode") else doc_or_node
    tree = []
    for node in parent.childNodes():
        bounds = node.bounds()
        tree.append(
            {
                "name": node.name(),
                "type": node.type(),
                "position": [node.position().x(), node.position().y()],
                "bounds": [bounds.x(), bounds.y(), bounds.width(), bounds.height()],
                "visible": node.visible(),
                "opacity": node.opacity(),
                "children": layers(node),
            }
        )
    return tree


def find_node(doc, name: str):
    """The first layer called `name`, searching the whole tree."""
    pending = list(doc.rootNode().childNodes())
    while pending:
        node = pending.pop(0)
        if node.name() == name:
            return node
        pending.extend(node.childNodes())
    return None


# -- dockers, screenshots ---------------------------------------------------------------------


def docker(docker_id: str):
    """The main window's dock widget registered with `docker_id`, or None."""
    return main_window().qwindow().findChild(QtWidgets.QDockWidget, docker_id)


def screenshot(path: str, widget=None) -> list[int]:
    """Save a PNG of the main window (or `widget`) as drawn now; returns [width, height]."""
    widget = widget or main_window().qwindow()
    spin(0.2)  # let pending paints land
    pixmap = widget.grab()
    if pixmap.isNull():  # a widget that cannot render itself: read the screen instead
        screen = widget.screen() or QtWidgets.QApplication.primaryScreen()
        pixmap = screen.grabWindow(int(widget.winId()))
    if not pixmap.save(path, "PNG"):
        raise OSError(f"could not write {path}")
    return [pixmap.width(), pixmap.height()]
