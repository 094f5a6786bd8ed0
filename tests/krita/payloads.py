"""Payloads: each runs inside Krita on its GUI thread, called as f(out_dir, **args) by the
recraft_probe plug-in, and returns JSON for the test (test_krita_plugin.py) to check.

They do what a user does (a document in a view, a layer picked, a selection, the docker's Run
or a menu action), wait with the event loop while the plug-in works, and report what Krita
shows. Pixels go back as PNG files in out_dir. A bare `yield` hands control back to Krita's
main loop, which it needs before new layers show in its dockers or can become active (see
recraft_probe/runner.py).
"""

import hashlib
import os
import sys

from krita import Krita
from recraft_probe import runner
from recraft_probe.helpers import (
    docker,
    find_node,
    layers,
    main_window,
    new_document,
    read_rgba,
    rect_selection,
    save_png,
    screenshot,
    select_in_layers_docker,
    set_active_node,
    settle,
    spin,
    wait_until,
    write_rgba,
)
from recraft_probe.qt import QtCore, QtGui, QtWidgets

DOCKER_ID = "recraft_docker"
ACTIONS = (
    "recraft_remove_background",
    "recraft_crisp_upscale",
    "recraft_creative_upscale",
    "recraft_vectorize",
    "recraft_erase_selection",
    "recraft_inpaint_selection",
    "recraft_remix",
    "recraft_settings",
)
DOCKER_API = ("choose", "set_values", "run", "cancel", "busy", "message", "progress_text")
JOB_TIMEOUT = 60


def warm_up(out_dir):
    return {"version": Krita.instance().version()}


def idle(api) -> None:
    """Wait until no Recraft job runs. Before Run too: the docker asks for the credit balance
    when it opens, and the plug-in runs one job at a time."""
    assert api.wait_idle(JOB_TIMEOUT), f"a Recraft job still runs after {JOB_TIMEOUT} s"


def scene(width: int, height: int) -> bytes:
    """An RGBA picture to work on: sky, sun, hills; opaque, with no flat areas."""
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_RGBA8888)
    painter = QtGui.QPainter(image)
    sky = QtGui.QLinearGradient(0, 0, 0, height)
    sky.setColorAt(0, QtGui.QColor(70, 120, 200))
    sky.setColorAt(1, QtGui.QColor(240, 200, 160))
    painter.fillRect(0, 0, width, height, sky)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(250, 220, 90))
    painter.drawEllipse(QtCore.QPointF(width * 0.75, height * 0.3), height * 0.12, height * 0.12)
    painter.setBrush(QtGui.QColor(60, 130, 70))
    painter.drawEllipse(QtCore.QPointF(width * 0.3, height * 1.1), width * 0.6, height * 0.5)
    painter.end()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    return bytes(bits)


def digest(pixels) -> str:
    return hashlib.sha256(bytes(pixels)).hexdigest()


def harness(out_dir):
    """The probe's own helpers on this Krita: layers, offsets, pixels, the active layer by
    both routes, waiting, caught exceptions, screenshots."""
    doc = new_document(64, 48, "harness")
    root = doc.rootNode()
    first = doc.createNode("first", "paintlayer")
    second = doc.createNode("second", "paintlayer")
    root.addChildNode(first, None)
    root.addChildNode(second, None)
    write_rgba(first, 0, 0, 2, 1, bytes([255, 0, 0, 255, 0, 0, 255, 128]))
    first.move(10, 5)
    settle(doc)
    yield

    active = {"setActiveNode": set_active_node(doc, first)}
    # The Layers docker route alone (what set_active_node falls back to on Krita 5.2.9).
    active["layers_docker"] = select_in_layers_docker(doc, second)

    flag = []
    QtCore.QTimer.singleShot(100, lambda: flag.append("fired"))
    fired = wait_until(lambda: flag, timeout=5, what="the timer")
    try:
        wait_until(lambda: False, timeout=0.1, what="nothing")
        timeout = None
    except TimeoutError as e:
        timeout = str(e)

    def fail():
        raise ValueError("raised in a slot")

    QtCore.QTimer.singleShot(0, fail)
    spin(0.1)
    return {
        "active": active,
        "pixels": list(read_rgba(first, 10, 5, 3, 1)),
        "layers": layers(doc),
        "fired": fired,
        "timeout": timeout,
        "caught": list(runner.ERRORS),
        "screenshot": screenshot(os.path.join(out_dir, "harness.png")),
    }


def plugin_loads(out_dir):
    """What a user sees after installing: the docker and the actions, nothing raised."""
    from recraft_krita import api

    new_document(64, 64, "loads")
    k = Krita.instance()
    panel = api.docker()
    actions = {}
    for action_id in ACTIONS:
        action = k.action(action_id)
        actions[action_id] = action.text() if action is not None else None
    return {
        "docker": panel is not None and panel.objectName(),
        "docker_in_window": docker(DOCKER_ID) is not None,
        "docker_api": [name for name in DOCKER_API if not hasattr(panel, name)],
        "busy": getattr(panel, "busy", None),
        "actions": actions,
        "modules": {
            name: getattr(sys.modules.get(name), "__file__", None)
            for name in ("recraft_krita", "recraft_core", "requests", "certifi")
        },
    }


def remove_background(out_dir, width, height, box, square):
    """The action on the active layer, whose pixels sit at an offset: a flat grey layer box
    (x, y, w, h) with a red square (x, y, w, h, in the layer's own pixels)."""
    from recraft_krita import api

    doc = new_document(width, height, "remove-background")
    layer = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(layer, None)
    x, y, w, h = box
    pixels = bytearray(bytes([200, 200, 200, 255]) * (w * h))
    sx, sy, sw, sh = square
    for row in range(sy, sy + sh):
        start = (row * w + sx) * 4
        pixels[start : start + sw * 4] = bytes([220, 30, 30, 255]) * sw
    write_rgba(layer, 0, 0, w, h, bytes(pixels))
    layer.move(x, y)
    settle(doc)
    yield
    assert set_active_node(doc, layer), "could not make the layer active"
    before = layers(doc)

    idle(api)
    Krita.instance().action("recraft_remove_background").trigger()
    idle(api)
    settle(doc)
    yield
    result = find_node(doc, "Recraft remove background")
    if result is not None:
        save_png(result, os.path.join(out_dir, "result.png"), (0, 0, width, height))
    panel = api.docker()
    return {
        "before": before,
        "after": layers(doc),
        "message": panel.message if panel is not None else None,
    }


def inpaint_via_docker(out_dir, width, height, selection, prompt, screenshot_name=None):
    """The docker's inpaint on a rectangular selection of the active layer, as a user runs it:
    choose the operation, type the prompt, press Run, wait."""
    from recraft_krita import api

    doc = new_document(width, height, "inpaint")
    source = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(source, None)
    write_rgba(source, 0, 0, width, height, scene(width, height))
    settle(doc)
    yield
    rect_selection(doc, *selection)
    assert set_active_node(doc, source), "could not make the layer active"
    source_before = digest(read_rgba(source, 0, 0, width, height))
    image_before = digest(doc.pixelData(0, 0, width, height))
    before = layers(doc)

    panel = api.docker()
    panel.show()  # a docker can start hidden in a new profile
    panel.choose("inpaint")
    panel.set_values({"prompt": prompt})
    idle(api)
    panel.run()
    idle(api)
    settle(doc)
    yield

    result = find_node(doc, f"Recraft inpaint: {prompt}")
    if result is not None:
        save_png(result, os.path.join(out_dir, "result.png"), (0, 0, width, height))
    shot = None
    if screenshot_name:
        shot = yield from show_off(panel, os.path.join(out_dir, screenshot_name))
    return {
        "before": before,
        "after": layers(doc),
        "source_unchanged": digest(read_rgba(source, 0, 0, width, height)) == source_before,
        "image_unchanged": digest(doc.pixelData(0, 0, width, height)) == image_before,
        "message": panel.message,
        "busy": panel.busy,
        "screenshot": shot,
    }


def show_off(panel, path):
    """The window as a user would arrange it to work with the plug-in: screen-sized, the image
    fitted, the Recraft docker tall beside the Layers docker."""
    window = main_window().qwindow()
    window.setGeometry(window.screen().availableGeometry())  # no window manager to maximise
    for other in ("PresetDocker", "ColorSelectorNg", "sharedtooldocker"):  # room for Recraft
        dock = window.findChild(QtWidgets.QDockWidget, other)
        if dock is not None:
            dock.hide()
    panel.show()
    panel.raise_()
    window.resizeDocks([panel], [380], QtCore.Qt.Orientation.Horizontal)
    window.resizeDocks([panel], [600], QtCore.Qt.Orientation.Vertical)
    yield 0.5  # a new view zooms to fit, and refits once the window has its new size
    return screenshot(path, window)


def open_settings(out_dir):
    """Tools › Recraft › Settings: a modal dialog, which nobody can close headless."""
    new_document(64, 64, "settings")
    Krita.instance().action("recraft_settings").trigger()
    return "the dialog did not block"
