"""Payload for test_krita_variations.py: a group of variations as the plug-in makes them, then
Tools › Recraft › Next variation, Previous variation and Keep this variation, triggered as
Krita actions, with what the document, the canvas, the docker and Krita's history show after
each. Runs inside Krita like payloads.py (krita_harness.launch copies payloads.py beside
this file, whose helpers it borrows)."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from krita import Krita
from payloads import edit, history_rows, scene
from recraft_probe.helpers import (
    main_window,
    new_document,
    read_rgba,
    screenshot,
    set_active_node,
    settle,
    spin,
    wait_until,
    write_rgba,
)
from recraft_probe.qt import QtCore, QtGui, QtWidgets

from recraft_core.workflow import variations

OUTSIDE_START = "“photo” is not in a group of variations."
NEXT, PREVIOUS, KEEP = (
    "recraft_next_variation",
    "recraft_previous_variation",
    "recraft_keep_variation",
)


def digest(data) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()[:16]


def tinted(width: int, height: int, k: int) -> bytes:
    """Variation k of a picture: the scene with its colours turned, so each looks its own."""
    image = QtGui.QImage(scene(width, height), width, height, QtGui.QImage.Format.Format_RGBA8888)
    painter = QtGui.QPainter(image)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(*[(200, 40, 40), (40, 160, 60), (50, 70, 210)][k], 255))
    painter.drawEllipse(QtCore.QPointF(width * 0.3, height * 0.35), height * 0.2, height * 0.2)
    painter.end()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    return bytes(bits)


def tree(doc, box) -> list:
    """Every layer, top first: what can change, the pixels in box (a digest) and its masks."""

    def walk(parent):
        out = []
        for node in reversed(parent.childNodes()):
            if node.type() == "selectionmask":
                continue
            b = node.bounds()
            entry = {
                "name": node.name(),
                "id": node.uniqueId().toString(),
                "type": node.type(),
                "visible": node.visible(),
                "opacity": node.opacity(),
                "blending": node.blendingMode(),
                "position": [node.position().x(), node.position().y()],
                "bounds": [b.x(), b.y(), b.width(), b.height()],
                "locked": node.locked(),
            }
            if node.type() == "paintlayer":
                entry["pixels"] = digest(read_rgba(node, *box))
            if node.type() == "transparencymask":
                entry["pixels"] = digest(node.pixelData(*box))
            entry["children"] = walk(node)
            out.append(entry)
        return out

    return walk(doc.rootNode())


def canvas(doc, box) -> str:
    """What the image shows in box: its projection, as the canvas draws it."""
    doc.waitForDone()
    return digest(doc.rootNode().projectionPixelData(*box))


def floating() -> list:
    """The texts Krita floats over the canvas now (its floating messages are windows of their
    own, which a screenshot of the main window does not show)."""
    return [
        label.text()
        for widget in QtWidgets.QApplication.allWidgets()
        if widget.metaObject().className() == "KisFloatingMessage" and widget.isVisible()
        for label in widget.findChildren(QtWidgets.QLabel)
        if label.text()
    ]


def floated(start, timeout=3.0) -> list:
    """floating() once a text there starts with `start` (Krita may show its message a moment
    later), or as it is after `timeout` seconds."""
    try:
        return wait_until(
            lambda: [t for t in floating() if t.startswith(start)] and floating(), timeout
        )
    except TimeoutError:
        return floating()


def trigger(doc, action_id) -> None:
    """The action, as a shortcut triggers it, and a pass of the event loop: the plug-in
    recomposes the image from it, once for a burst of flips."""
    Krita.instance().action(action_id).trigger()
    spin(0.05)
    doc.waitForDone()


def variations_story(out_dir, width, height, box, name, screenshot_name):
    """A document with a photo layer and a group of three variations of `name` over it, at an
    offset (box); #2 has a transparency mask, its own opacity and blend mode. Flip through
    them from the group and from a variation, try it on a layer outside, keep #2, undo."""
    from recraft_krita import api

    x, y, w, h = box
    doc = new_document(width, height, "variations")
    photo = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(photo, None)
    write_rgba(photo, 0, 0, width, height, scene(width, height))
    group = doc.createGroupLayer(name)
    kids = []
    for k in range(3):
        node = doc.createNode(variations.label(name, k, 3), "paintlayer")
        write_rgba(node, 0, 0, w, h, tinted(w, h, k))
        node.move(x, y)
        node.setVisible(k == 0)
        kids.append(node)
    mask = doc.createNode("edge", "transparencymask")
    kids[1].addChildNode(mask, None)
    ramp = bytes(min(255, 40 + (i % w) * 2) for i in range(w * h))
    mask.setPixelData(QtCore.QByteArray(ramp), x, y, w, h)
    group.setChildNodes(list(reversed(kids)))  # bottom to top: #1 on top
    doc.rootNode().addChildNode(group, None)
    settle(doc)
    yield
    kids[1].setOpacity(200)
    kids[1].setBlendingMode("multiply")  # an undo step of Krita's: before the story starts
    settle(doc)
    whole = (0, 0, width, height)
    out = {"variation_names": [k.name() for k in kids]}
    panel = api.docker()
    panel.show()
    api.wait_idle()
    out["active_group"] = set_active_node(doc, group)
    yield
    shows = {}  # what the canvas shows with each variation alone showing
    flips = []

    def look(step):
        return {
            "step": step,
            "visible": [k.visible() for k in kids],
            "tree": tree(doc, whole),
            "canvas": canvas(doc, box),
            "rows": history_rows(),
        }

    flips.append(look("start"))
    trigger(doc, NEXT)
    flips.append(look("next"))
    out["floating_after_next"] = floated("Variation 2 of 3")
    window = main_window().qwindow()
    shot = {"layers": screen_layers(window, out_dir, screenshot_name), "window": None}
    shot["window"] = screenshot(os.path.join(out_dir, "window.png"), window)
    for step, action in (("next", NEXT), ("next", NEXT), ("previous", PREVIOUS)):
        trigger(doc, action)
        flips.append(look(step))
    trigger(doc, PREVIOUS)
    flips.append(look("previous"))
    out["flips"] = flips
    out["screenshot"] = shot
    for k, node in enumerate(kids):  # each variation alone, as Krita composes it itself
        for other in kids:
            other.setVisible(other is node)
        doc.refreshProjection()
        shows[k] = canvas(doc, box)
    for other in kids:
        other.setVisible(other is kids[1])
    doc.refreshProjection()
    out["shows"] = shows

    # From a variation layer (#3 active, #2 showing): the group's next, #3.
    out["active_variation"] = set_active_node(doc, kids[2])
    yield
    trigger(doc, NEXT)
    out["from_variation"] = look("from a variation")
    # From a variation's mask (#2's): previous from #3 is #2.
    out["active_mask"] = set_active_node(doc, mask)
    yield
    trigger(doc, PREVIOUS)
    out["from_mask"] = look("from a mask")

    # A burst (a held shortcut): every flip lands, the image is recomposed after the last.
    Krita.instance().action(NEXT).trigger()
    Krita.instance().action(NEXT).trigger()
    spin(0.05)
    doc.waitForDone()
    out["burst_next"] = look("▶▶")
    Krita.instance().action(PREVIOUS).trigger()
    Krita.instance().action(PREVIOUS).trigger()
    spin(0.05)
    doc.waitForDone()
    out["burst_previous"] = look("◀◀")

    # Outside a group of variations: it says so, and nothing changes.
    out["active_photo"] = set_active_node(doc, photo)
    yield
    before = look("before outside")
    trigger(doc, NEXT)
    out["outside"] = {
        "after": look("outside"),
        "before": before,
        "message": panel.message,
        "floating": floated(OUTSIDE_START),
    }
    trigger(doc, KEEP)
    out["outside_keep"] = {"after": look("outside keep"), "message": panel.message}

    # The docker's buttons: shown only while the active layer is in a group of variations.
    from recraft_krita import variations as plugin

    holder = QtWidgets.QWidget()
    holder.show()
    bar = plugin.Buttons(holder)
    yield 0.5
    out["bar_outside"] = bar.isVisible()
    out["active_group_again"] = set_active_node(doc, group)
    yield 0.5
    out["bar_in_group"] = bar.isVisible()
    out["bar_texts"] = [b.text() for b in bar.findChildren(QtWidgets.QPushButton)]
    bar.buttons[NEXT].click()
    spin(0.05)
    doc.waitForDone()
    out["bar_next"] = look("▶")
    bar.buttons[PREVIOUS].click()
    spin(0.05)
    doc.waitForDone()
    out["bar_previous"] = look("◀")

    # A locked group is not kept.
    group.setLocked(True)
    trigger(doc, KEEP)
    out["locked_keep"] = {"after": look("locked keep"), "message": panel.message}
    group.setLocked(False)

    # Keep #2 (showing), from the group, then Undo, and Undo again.
    out["before_keep"] = look("before keep")
    out["kept_source"] = {
        "pixels": digest(read_rgba(kids[1], *whole)),
        "mask": digest(mask.pixelData(*whole)),
    }
    trigger(doc, KEEP)
    settle(doc)
    yield  # the plug-in makes the kept layer active from the event loop
    out["after_keep"] = look("after keep")
    active = doc.activeNode()
    out["active_after_keep"] = active.name() if active is not None else None
    out["keep_message"] = panel.message
    yield 0.5
    out["bar_after_keep"] = bar.isVisible()
    edit(doc, "edit_undo")
    settle(doc)
    yield
    out["undone_once"] = look("undone once")
    edit(doc, "edit_undo")
    settle(doc)
    yield
    out["undone_twice"] = look("undone twice")
    return out


def screen_layers(window, out_dir, name):
    """The Layers docker, tall and wide enough to read the names, every row unfolded."""
    window.setGeometry(window.screen().availableGeometry())
    for other in ("PresetDocker", "ColorSelectorNg", "sharedtooldocker", "recraft_docker"):
        dock = window.findChild(QtWidgets.QDockWidget, other)
        if dock is not None:
            dock.hide()
    box = window.findChild(QtWidgets.QDockWidget, "KisLayerBox")
    box.show()
    box.raise_()
    window.resizeDocks([box], [430], QtCore.Qt.Orientation.Horizontal)
    window.resizeDocks([box], [330], QtCore.Qt.Orientation.Vertical)
    for view in box.findChildren(QtWidgets.QTreeView):
        view.expandAll()
    return screenshot(os.path.join(out_dir, name), box)
