"""Payloads: each runs inside Krita on its GUI thread, called as f(out_dir, **args) by the
recraft_probe plug-in, and returns JSON for the test (test_krita_plugin.py) to check.

They do what a user does (a document in a view, a layer picked, a selection, the docker's Run
or a menu action), wait with the event loop while the plug-in works, and report what Krita
shows. Pixels go back as PNG files in out_dir. A bare `yield` hands control back to Krita's
main loop, which it needs before new layers show in its dockers or can become active (see
recraft_probe/runner.py).
"""

import hashlib
import inspect
import json
import os
import struct
import sys
import time
import traceback

from krita import Krita
from recraft_probe import runner
from recraft_probe.helpers import (
    docker,
    find_node,
    layers,
    main_window,
    new_document,
    open_document,
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
    "recraft_remove_background_mask",
    "recraft_crisp_upscale",
    "recraft_creative_upscale",
    "recraft_vectorize",
    "recraft_erase_selection",
    "recraft_inpaint_selection",
    "recraft_remix",
    "recraft_next_variation",
    "recraft_previous_variation",
    "recraft_keep_variation",
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
    menu_action = k.action("recraft_menu")
    menu = menu_action.menu() if menu_action is not None else None
    return {
        "docker": panel is not None and panel.objectName(),
        "docker_in_window": docker(DOCKER_ID) is not None,
        "docker_api": [name for name in DOCKER_API if not hasattr(panel, name)],
        "busy": getattr(panel, "busy", None),
        "actions": actions,
        "menu": [a.text() for a in menu.actions()] if menu is not None else None,
        "operations": docker_operations(panel) if panel is not None else None,
        "modules": {
            name: getattr(sys.modules.get(name), "__file__", None)
            for name in ("recraft_krita", "recraft_core", "requests", "certifi")
        },
    }


def docker_operations(panel) -> dict:
    """Each operation the docker offers, in its order, with what a user sees beside the form
    for it: the Improve prompt button, the Source choice."""
    combo = panel.operation
    chosen = combo.currentIndex()
    seen = {}
    for i in range(combo.count()):
        combo.setCurrentIndex(i)
        seen[combo.itemData(i)] = {
            "title": combo.itemText(i),
            "improve": panel.improve.isVisibleTo(panel),
            "source": panel.source.isVisibleTo(panel),
        }
    combo.setCurrentIndex(chosen)
    return seen


def settings_dialog(out_dir, values):
    """The Settings dialog as the docker's Settings… button opens it (not modally here, so
    nothing blocks): its rows, filled in and saved; a picture of it and of the docker."""
    from recraft_krita import api
    from recraft_krita.settings_dialog import SettingsDialog

    from recraft_core import settings

    new_document(320, 256, "settings")
    yield
    panel = api.docker()
    panel.show()
    idle(api)
    dialog = SettingsDialog()
    form = dialog.layout()
    rows = {}
    for name, widget in dialog.inputs.items():
        label = form.labelForField(widget)
        row = {"label": label.text() if label is not None else None, "tip": widget.toolTip()}
        if isinstance(widget, QtWidgets.QSpinBox):
            row.update(
                low=widget.minimum(),
                high=widget.maximum(),
                value=widget.value(),
                suffix=widget.suffix(),
            )
        elif isinstance(widget, QtWidgets.QCheckBox):
            row.update(checked=widget.isChecked())
        else:
            row.update(
                placeholder=widget.placeholderText(),
                text=widget.text(),
                hidden=widget.echoMode() == QtWidgets.QLineEdit.EchoMode.Password,
            )
        rows[name] = row
    notes = [w.text() for w in dialog.findChildren(QtWidgets.QLabel) if w.wordWrap() and w.text()]
    dialog.show()
    yield 0.3
    shots = {"dialog": screenshot(os.path.join(out_dir, "settings-dialog.png"), dialog)}
    dialog.hide()
    arrange(panel)
    yield 0.5
    shots["docker"] = screenshot(os.path.join(out_dir, "docker.png"), panel)
    for name, value in values.items():
        widget = dialog.inputs[name]
        if isinstance(widget, QtWidgets.QSpinBox):
            widget.setValue(value)
        elif isinstance(widget, QtWidgets.QCheckBox):
            widget.setChecked(value)
        else:
            widget.setText(value)
    dialog.save()
    idle(api)
    with open(settings.path(), encoding="utf-8") as f:
        saved = json.load(f)
    return {
        "rows": rows,
        "order": list(dialog.inputs),
        "notes": notes,
        "saved": saved,
        "screenshots": shots,
        "message": panel.message,
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
    save_result(doc, "Recraft remove background", out_dir, (0, 0, width, height))
    panel = api.docker()
    return {
        "before": before,
        "after": layers(doc),
        "message": panel.message if panel is not None else None,
    }


def inpaint_via_docker(out_dir, width, height, selection, prompt, screenshot_name=None):
    """The docker's inpaint on a rectangular selection of the active layer, as a user runs it:
    choose the operation, type the prompt, press Run, wait."""

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

    panel = docker_ready("inpaint", {"prompt": prompt})
    yield from run_in_docker(panel, doc)
    save_result(doc, f"Recraft inpaint: {prompt}", out_dir, (0, 0, width, height))
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
    window = arrange(panel)
    yield 0.5  # a new view zooms to fit, and refits once the window has its new size
    return screenshot(path, window)


def arrange(panel):
    """The main window screen-sized, the Recraft docker tall beside the Layers docker."""
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
    return window


def open_settings(out_dir):
    """Tools › Recraft › Settings: a modal dialog, which nobody can close headless."""
    new_document(64, 64, "settings")
    Krita.instance().action("recraft_settings").trigger()
    return "the dialog did not block"


# -- scenarios that share one launch ----------------------------------------------------------
#
# A Krita launch costs 10-25 s, so several user stories run in one: `scenarios` runs payloads
# one after another, each in a document of its own, and reports each apart (its value, or the
# traceback that stopped it, and the exceptions Krita's Python caught meanwhile), so one
# failing story neither hides nor breaks the others. Start and end times let the test match
# the server's records (Krita and the server share the clock) to the story that made them.


def stories(plan, between=0.2, after_error=None):
    """Run each (name, start) of `plan` in turn, start() giving a story's generator, which
    the probe steps through: {name: {"got", "started", "ended"}}. A story that raises reports
    its traceback as "got"'s "error" (then `after_error()`), and the next one still runs."""
    report = {}
    for name, start in plan:
        started = time.time()
        try:
            got = yield from start()
        except Exception as e:
            got = {"error": f"{e!r}\n{traceback.format_exc()}"}
            if after_error is not None:
                after_error()
        report[name] = {"got": got, "started": started, "ended": time.time()}
        spin(between)
    return report


def scenarios(out_dir, plan):
    """Run [name, payload, args] items in order: payload(out_dir/name, **args) each. Each
    story's outcome also goes to out_dir/name/story.json as soon as it ends, and its start to
    out_dir/progress.txt, so that when Krita crashes the test keeps what the stories before
    it found and can tell which one took Krita down."""
    results = {}
    for name, call, args in plan:
        folder = os.path.join(out_dir, name)
        os.makedirs(folder, exist_ok=True)
        first_error = len(runner.ERRORS)
        entry = {"started": time.time()}
        _append(os.path.join(out_dir, "progress.txt"), f"{name} {entry['started']}\n")
        try:
            value = globals()[call](folder, **args)
            if inspect.isgenerator(value):
                value = yield from value
            entry.update(ok=True, value=value, error=None)
        except Exception:
            entry.update(ok=False, value=None, error=traceback.format_exc())
        entry["ended"] = time.time()
        entry["errors"] = runner.ERRORS[first_error:]
        results[name] = entry
        _append(os.path.join(folder, "story.json"), json.dumps(entry))
        yield  # back to Krita's main loop before the next story
    return results


def _append(path, text) -> None:
    """Append and flush to the disk: Krita may crash right after."""
    with open(path, "a") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def attached_layer(doc, name, box, rgba=None):
    """A paint layer whose 8-bit RGBA pixels (box's size; the scene by default) sit at box
    (x, y, w, h) on the canvas, by an offset of the layer (its position), as a moved layer."""
    x, y, w, h = box
    node = doc.createNode(name, "paintlayer")
    doc.rootNode().addChildNode(node, None)
    write_rgba(node, 0, 0, w, h, rgba if rgba is not None else scene(w, h))
    if (x, y) != (0, 0):
        node.move(x, y)
    return node


def soft_selection(doc, selection, feather):
    """Select the (x, y, w, h) rectangle, feathered by `feather` px, as Krita's Feather does."""
    from krita import Selection

    soft = Selection()
    soft.select(*selection, 255)
    soft.feather(feather)
    doc.setSelection(soft)


def photo_layer(doc, name, seed=0, grain=True):
    """A layer the size of the canvas drawn by Qt (cheap at any size): a gradient and a disc,
    different for each seed, and with `grain` a faint tile of noise, as a photo's grain (it
    then encodes as a photo does: over 10 MB at 16 MP). For the benches."""
    import random

    width, height = doc.width(), doc.height()
    rng = random.Random(seed)
    image = QtGui.QImage(width, height, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    sky = QtGui.QLinearGradient(0, 0, rng.randrange(width), height)
    sky.setColorAt(0, QtGui.QColor(rng.randrange(256), rng.randrange(256), 200))
    sky.setColorAt(1, QtGui.QColor(240, rng.randrange(256), rng.randrange(256)))
    painter.fillRect(0, 0, width, height, sky)
    painter.setBrush(QtGui.QColor(60, 130, 70))
    painter.drawEllipse(rng.randrange(width // 2), height // 3, width // 2, height // 3)
    if grain:
        tile = 509  # prime: the tiling does not line up with anything
        noise = bytearray(rng.randbytes(tile * tile * 4))
        noise[3::4] = b"\xff" * (tile * tile)
        fmt = QtGui.QImage.Format.Format_ARGB32
        texture = QtGui.QImage(bytes(noise), tile, tile, tile * 4, fmt)
        painter.setOpacity(0.12)
        painter.drawTiledPixmap(0, 0, width, height, QtGui.QPixmap.fromImage(texture))
    painter.end()
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    node = doc.createNode(name, "paintlayer")
    doc.rootNode().addChildNode(node, None)
    node.setPixelData(QtCore.QByteArray(bytes(bits)), 0, 0, width, height)  # B, G, R, A
    return node


def grey_with_square(width, height, square) -> bytes:
    """Flat grey RGBA with a red square (x, y, w, h): what remove background keys on."""
    pixels = bytearray(bytes([200, 200, 200, 255]) * (width * height))
    sx, sy, sw, sh = square
    for row in range(sy, sy + sh):
        start = (row * width + sx) * 4
        pixels[start : start + sw * 4] = bytes([220, 30, 30, 255]) * sw
    return bytes(pixels)


def buttons(panel) -> dict:
    """The docker's push buttons by their text, as a user finds them."""
    return {b.text(): b for b in panel.findChildren(QtWidgets.QPushButton)}


def in_sight(widget, within) -> bool:
    """Whether all of `widget` shows: nothing of it scrolled away, clipped or covered, and
    it lies inside `within` (a docker)."""
    if not widget.isVisible():
        return False
    corner = widget.mapTo(within, QtCore.QPoint(0, 0))
    inside = within.rect().contains(QtCore.QRect(corner, widget.size()))
    return inside and widget.visibleRegion().boundingRect() == widget.rect()


def shown_words(panel) -> list:
    """The texts a user can read in the docker now: labels and progress bars in sight (an
    indeterminate progress bar draws none, whatever its format)."""
    words = []
    for widget in panel.findChildren(QtWidgets.QLabel) + panel.findChildren(QtWidgets.QProgressBar):
        visible = widget.isVisible() and not widget.visibleRegion().isEmpty()
        if isinstance(widget, QtWidgets.QProgressBar):
            text = widget.text() if widget.isTextVisible() else ""
        else:
            text = widget.text()
        if visible and text:
            words.append(text)
    return words


def docker_ready(operation, values):
    """The Recraft docker, shown, on `operation` with the form filled, no job running. The
    docker remembers each operation's last values for the session: stories sharing a Krita
    say every value they rely on."""
    from recraft_krita import api

    panel = api.docker()
    panel.show()  # a docker can start hidden in a new profile
    panel.choose(operation)
    panel.set_values(values)
    idle(api)
    return panel


def run_in_docker(panel, doc):
    """Press Run in the docker and wait for the job to end and Krita to settle; a generator
    step of a payload (it yields to Krita's event loop once)."""
    from recraft_krita import api

    panel.run()
    idle(api)
    settle(doc)
    yield


def save_result(doc, name, out_dir, box):
    """The layer `name` and, when it exists, its pixels in box as out_dir/result.png."""
    result = find_node(doc, name)
    if result is not None:
        save_shown_png(result, os.path.join(out_dir, "result.png"), tuple(box))
    return result


def save_shown_png(node, path, box):
    """The node's pixels in box as a PNG, as they show: with a transparency mask (a soft edge
    as a mask, Krita 5.2 and later), its alpha multiplied by the mask's, as the mask does."""
    masks = [c for c in node.childNodes() if c.type() == "transparencymask"]
    if not masks or not hasattr(masks[0], "selection"):
        return save_png(node, path, box)
    x, y, width, height = box
    data = bytearray(read_rgba(node, x, y, width, height))
    mask = bytes(masks[0].selection().pixelData(x, y, width, height))
    data[3::4] = bytes((a * m + 127) // 255 for a, m in zip(data[3::4], mask, strict=True))
    image = QtGui.QImage(bytes(data), width, height, width * 4, QtGui.QImage.Format.Format_RGBA8888)
    if not image.save(path, "PNG"):
        raise OSError(f"could not write {path}")
    return path


def feathered_inpaint(out_dir, width, height, box, selection, feather, prompt):
    """Inpaint from a feathered selection (Selection.select, then feather) on a layer whose
    pixels sit at an offset. Writes the selection's strengths (selection.raw, one byte a
    canvas pixel) and the new layer (result.png)."""
    doc = new_document(width, height, "feathered")
    source = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    soft_selection(doc, selection, feather)
    settle(doc)
    strengths = bytes(doc.selection().pixelData(0, 0, width, height))
    with open(os.path.join(out_dir, "selection.raw"), "wb") as f:
        f.write(strengths)
    assert set_active_node(doc, source), "could not make the layer active"
    source_before = digest(source.pixelData(0, 0, width, height))
    before = layers(doc)
    rows_before = history_rows()

    panel = docker_ready("inpaint", {"prompt": prompt, "n": 1})
    yield from run_in_docker(panel, doc)
    save_result(doc, f"Recraft inpaint: {prompt}", out_dir, (0, 0, width, height))
    return {
        "before": before,
        "after": layers(doc),
        "history_rows": [rows_before, history_rows()],
        "source_unchanged": digest(source.pixelData(0, 0, width, height)) == source_before,
        "message": panel.message,
    }


def vectorize_action(out_dir, width, height, box):
    """Tools › Recraft › Vectorize on a layer at an offset; the vector layer's shapes and,
    once Krita has rendered them (asynchronously), its pixels (result.png)."""
    from recraft_krita import api

    doc = new_document(width, height, "vectorize")
    source = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    assert set_active_node(doc, source), "could not make the layer active"
    before = layers(doc)
    rows_before = history_rows()
    idle(api)
    Krita.instance().action("recraft_vectorize").trigger()
    idle(api)
    settle(doc)
    yield
    result = find_node(doc, "Recraft vectorize")
    shapes = None
    covered = 0
    if result is not None:
        shapes = len(result.shapes()) if hasattr(result, "shapes") else None
        x, y, w, h = box

        def painted() -> int:
            settle(doc)
            return sum(1 for a in bytes(result.projectionPixelData(x, y, w, h))[3::4] if a)

        # Shape layers render on Krita's own schedule: wait until all the source's area is
        # painted, or the count stops changing.
        counts = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            counts.append(painted())
            if counts[-1] == w * h or (counts[-1] and counts[-3:] == [counts[-1]] * 3):
                break
            yield 0.2
        covered = counts[-1]
        # A vector layer has no paint device (pixelData gives nothing): its rendering is
        # its projection.
        data = bytes(result.projectionPixelData(0, 0, width, height))
        if len(data) == width * height * 4:
            save_rgba_png(_swap_channels(data), width, height, os.path.join(out_dir, "result.png"))
    outcome = {
        "before": before,
        "after": layers(doc),
        "history_rows": [rows_before, history_rows()],
        "type": result.type() if result is not None else None,
        "space": None if result is None else [result.colorModel(), result.colorDepth()],
        "shapes": shapes,
        "covered": covered,
        "message": api.docker().message if api.docker() is not None else None,
    }
    edit(doc, "edit_undo")  # what one Ctrl+Z leaves
    settle(doc)
    yield
    outcome["undone"] = layers(doc)
    return outcome


def edit(doc, action) -> None:
    """Edit › Undo (or Redo) as a user presses it once the image is idle. Krita drops an Undo
    pressed while the image is busy with a stroke (its undo stack runs only if it gets the
    image's barrier lock): the projection updates and thumbnails that start whenever the
    event loop runs would otherwise make one Undo in a few do nothing (seen on Krita 6)."""
    doc.waitForDone()
    Krita.instance().action(action).trigger()
    doc.waitForDone()


def history_rows():
    """The Undo History docker's rows (its "<empty>" row, then a name per command), or None
    where that docker cannot be found: the only view of Krita's undo stack from Python."""
    dock = docker("History")
    if dock is None:
        return None
    dock.show()
    spin(0.05)
    views = dock.findChildren(QtWidgets.QListView)
    model = views[0].model() if views else None
    if model is None:
        return None
    return [str(model.index(row, 0).data()) for row in range(model.rowCount())]


def generate_group(out_dir, width, height, prompt, n):
    """Generate with n results through the docker on an open image: a group of layers above
    the active one; then Edit › Undo once, then Redo."""

    doc = new_document(width, height, "generate")
    source = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    assert set_active_node(doc, source), "could not make the layer active"
    before = layers(doc)
    rows_before = history_rows()
    panel = docker_ready("generate", {"prompt": prompt, "n": n})
    yield from run_in_docker(panel, doc)
    after = layers(doc)
    rows_after = history_rows()
    edit(doc, "edit_undo")
    settle(doc)
    yield
    undone = layers(doc)
    edit(doc, "edit_redo")
    settle(doc)
    yield
    return {
        "before": before,
        "after": after,
        "undone": undone,
        "redone": layers(doc),
        "history_rows": [rows_before, rows_after],
        "message": panel.message,
    }


def upscale_action(out_dir, width, height, box, square):
    """Tools › Recraft › Crisp Upscale on a layer at an offset: a new document. Writes the
    layer's pixels (source.png) and the new document's (upscaled.png)."""
    from recraft_krita import api

    k = Krita.instance()
    doc = new_document(width, height, "upscale")
    source = attached_layer(doc, "photo", box, grey_with_square(*box[2:], square))
    settle(doc)
    yield
    assert set_active_node(doc, source), "could not make the layer active"
    save_png(source, os.path.join(out_dir, "source.png"), box)
    names_before = [d.name() for d in k.documents()]
    idle(api)
    k.action("recraft_crisp_upscale").trigger()
    idle(api)
    yield
    documents = list(k.documents())
    new = [d for d in documents if d.name() not in names_before]
    made = new[-1] if len(new) == 1 else None
    history = None
    if made is not None:
        settle(made)
        history = history_rows()  # the new document's: its view is the active one
        w2, h2 = made.width(), made.height()
        save_rgba_png(
            _swap_channels(bytes(made.pixelData(0, 0, w2, h2))),
            w2,
            h2,
            os.path.join(out_dir, "upscaled.png"),
        )
    return {
        "documents": [names_before, [d.name() for d in documents]],
        "new": None if made is None else [made.name(), made.width(), made.height()],
        "new_layers": None if made is None else layers(made),
        "new_history": history,
        "source_layers": layers(doc),
        "message": api.docker().message if api.docker() is not None else None,
    }


def save_rgba_png(rgba: bytes, width: int, height: int, path: str) -> None:
    image = QtGui.QImage(rgba, width, height, width * 4, QtGui.QImage.Format.Format_RGBA8888)
    if not image.save(path, "PNG"):
        raise OSError(f"could not write {path}")


def _swap_channels(pixels: bytes) -> bytes:
    """BGRA <-> RGBA."""
    out = bytearray(pixels)
    out[0::4], out[2::4] = out[2::4], out[0::4]
    return bytes(out)


# (colour model, depth) -> (channels, the alpha channel's index, struct code of a channel), as
# Node.pixelData lays pixels out (little-endian; 8 and 16-bit RGBA stored B, G, R, A).
LAYOUTS = {
    ("RGBA", "U8"): (4, 3, "B"),
    ("RGBA", "U16"): (4, 3, "H"),
    ("RGBA", "F32"): (4, 3, "f"),
    ("CMYKA", "U8"): (5, 4, "B"),
    ("GRAYA", "U8"): (2, 1, "B"),
    ("LABA", "U16"): (4, 3, "H"),
}


def _values(node, x, y, w, h) -> list | None:
    """Every channel value in the rectangle, in the node's own layout, row by row."""
    layout = LAYOUTS.get((node.colorModel(), node.colorDepth()))
    if layout is None:
        return None
    code = layout[2]
    data = bytes(node.pixelData(x, y, w, h))
    return list(struct.unpack(f"<{len(data) // struct.calcsize(code)}{code}", data))


def native_values(node, x, y) -> list | None:
    """The channel values of one pixel in the node's own layout."""
    return _values(node, x, y, 1, 1)


def alpha8(node, width, height) -> bytes | None:
    """The node's alpha over the canvas as 8-bit (16-bit: the high byte; float: times 255),
    read in the node's own colour space: no conversion the plug-in also relies on."""
    values = _values(node, 0, 0, width, height)
    if values is None:
        return None
    channels, alpha, code = LAYOUTS[(node.colorModel(), node.colorDepth())]
    picked = values[alpha::channels]
    if code == "H":
        return bytes(v >> 8 for v in picked)
    if code == "f":
        return bytes(min(255, max(0, round(v * 255))) for v in picked)
    return bytes(picked)


def deep_remove_background(out_dir, model, depth, profile, width, height, box, square):
    """Remove background (the action) in a document of another colour space: a grey layer
    with a red square at an offset, drawn in 8-bit RGBA and converted by Krita. Writes the
    new layer's alpha (alpha.raw, one byte a canvas pixel)."""
    from recraft_krita import api

    k = Krita.instance()
    doc = k.createDocument(width, height, f"{model}-{depth}", "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    open_document(doc)
    x, y, w, h = box
    sx, sy, sw, sh = square
    source = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(source, None)
    write_rgba(source, 0, 0, w, h, grey_with_square(w, h, square))
    source.move(x, y)
    settle(doc)
    # Krita converts the whole image: the layers then hold their pixels in its own layout.
    doc.setColorSpace(model, depth, profile)
    settle(doc)
    space = [doc.colorModel(), doc.colorDepth(), doc.colorProfile()]
    yield
    assert set_active_node(doc, source), "could not make the layer active"

    def source_state():
        return {
            "space": [source.colorModel(), source.colorDepth(), source.colorProfile()],
            "pixels": digest(source.pixelData(0, 0, width, height)),
        }

    source_before = source_state()
    before = layers(doc)
    idle(api)
    k.action("recraft_remove_background").trigger()
    idle(api)
    settle(doc)
    yield
    result = find_node(doc, "Recraft remove background")
    centre = (x + sx + sw // 2, y + sy + sh // 2)
    outcome = {
        "document": space,
        "source_space": source_before["space"],
        "source_after": source_state(),
        "source_unchanged": source_state() == source_before,
        "before": before,
        "after": layers(doc),
        "result_space": None,
        "samples": {"source": native_values(source, *centre), "result": None},
        "message": api.docker().message if api.docker() is not None else None,
    }
    if result is not None:
        outcome["result_space"] = [result.colorModel(), result.colorDepth(), result.colorProfile()]
        outcome["samples"]["result"] = native_values(result, *centre)
        alpha = alpha8(result, width, height)
        if alpha is not None:
            with open(os.path.join(out_dir, "alpha.raw"), "wb") as f:
                f.write(alpha)
    return outcome


def form_memory(out_dir, prompt):
    """Switching operations in the docker: the prompt follows, every other value stays with
    its own operation (n = 3 set for Generate does not become Inpaint's)."""
    from recraft_krita import api

    panel = docker_ready("generate", {"prompt": "", "n": 3})
    panel.set_values({"prompt": prompt})
    seen = {}
    for operation in ("remove_background", "inpaint", "generate"):
        panel.choose(operation)
        seen[operation] = panel.form.raw_values()
    # Another model, picked as a user does: the form is rebuilt for it once, keeping values.
    panel.choose("inpaint")
    combo = panel.form.fields["model"].widget
    combo.setCurrentIndex(combo.findData("recraftv3_vector"))
    QtWidgets.QApplication.processEvents()
    seen["vector_model"] = panel.form.raw_values()
    combo = panel.form.fields["model"].widget  # the rebuilt form's own
    combo.setCurrentIndex(combo.findData("recraftv3"))
    QtWidgets.QApplication.processEvents()
    seen["raster_model"] = panel.form.raw_values()
    panel.choose("generate")
    seen["fold"] = [fold_state(panel)]
    panel.form.more_toggle.click()  # open "More options", as a user does
    seen["fold"].append(fold_state(panel))
    panel.choose("inpaint")  # another form: it stays open
    seen["fold"].append(fold_state(panel))
    panel.form.more_toggle.click()
    seen["fold"].append(fold_state(panel))
    idle(api)
    yield
    return seen


def fold_state(panel) -> dict:
    """Whether "More options" is open, and which of the form's fields a user can see."""
    # A form's new widgets are shown from Qt's event queue, as a user would next see them.
    QtWidgets.QApplication.processEvents()
    toggle = panel.form.more_toggle
    seen = {n: f.widget.isVisibleTo(panel) for n, f in panel.form.fields.items()}
    return {
        "operation": panel.form.operation,
        "advanced": sorted(n for n, f in panel.form.fields.items() if f.field.advanced),
        "open": toggle.isChecked(),
        "arrow": toggle.arrowType() == QtCore.Qt.ArrowType.DownArrow,
        "shown": sorted(n for n, visible in seen.items() if visible),
        "hidden": sorted(n for n, visible in seen.items() if not visible),
    }


def visible_image_source(out_dir, width, height, box):
    """Remove background with Source "Visible image" in the docker: what is sent is the
    canvas as seen (a red layer under a smaller, moved grey one), the result goes above the
    active layer, and no layer changes."""

    doc = new_document(width, height, "visible")
    attached_layer(doc, "red", (0, 0, width, height), bytes([220, 30, 30, 255]) * (width * height))
    w, h = box[2:]
    top = attached_layer(doc, "grey", box, bytes([90, 90, 90, 255]) * (w * h))
    settle(doc)
    yield
    assert set_active_node(doc, top), "could not make the layer active"
    before = layers(doc)
    panel = docker_ready("remove_background", {})
    panel.set_source(True)
    yield from run_in_docker(panel, doc)
    panel.set_source(False)
    return {"before": before, "after": layers(doc), "message": panel.message}


def group_source(out_dir, width, height, box):
    """Remove background with a group layer active (its layer at box inside it): a group has
    no pixels of its own, so what it shows is sent."""
    doc = new_document(width, height, "group")
    group = doc.createGroupLayer("folder")
    doc.rootNode().addChildNode(group, None)
    x, y, w, h = box
    inner = doc.createNode("photo", "paintlayer")
    group.addChildNode(inner, None)
    write_rgba(inner, 0, 0, w, h, scene(w, h))
    inner.move(x, y)
    settle(doc)
    yield
    assert set_active_node(doc, group), "could not make the group active"
    before = layers(doc)
    panel = docker_ready("remove_background", {})
    yield from run_in_docker(panel, doc)
    rgba = read_rgba(inner, x, y, w, h)
    rgb = b"".join(bytes(rgba[i : i + 3]) for i in range(0, len(rgba), 4))
    return {"before": before, "after": layers(doc), "message": panel.message, "rgb": digest(rgb)}


def messages(out_dir, width, height, box):
    """What the user reads, and where: an error in a short docker is scrolled into view;
    Tools › Inpaint Selection… with nothing selected says so before asking for a prompt;
    a Tools action's outcome replaces the docker's words from an earlier job."""
    from recraft_krita import api

    doc = new_document(width, height, "messages")
    layer = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    assert set_active_node(doc, layer), "could not make the layer active"
    panel = docker_ready("erase_region", {})
    dock_height = panel.height()
    panel.findChild(QtWidgets.QScrollArea).verticalScrollBar().setValue(0)
    panel.setFixedHeight(160)  # squeezed under other dockers: the message is below the fold
    yield 0.3
    out = {}
    yield from run_in_docker(panel, doc)
    yield 0.2
    label = panel.message_label
    out["no_selection"] = panel.message
    out["no_selection_in_view"] = not label.visibleRegion().isEmpty()
    panel.setMinimumHeight(0)
    panel.setMaximumHeight(16777215)
    panel.resize(panel.width(), dock_height)

    Krita.instance().action("recraft_inpaint_selection").trigger()  # would ask for a prompt
    idle(api)
    out["inpaint_action"] = panel.message

    rect_selection(doc, *box)
    yield from run_in_docker(panel, doc)
    out["erase"] = panel.message
    assert set_active_node(doc, layer), "could not make the layer active again"
    Krita.instance().action("recraft_remove_background").trigger()
    idle(api)
    settle(doc)
    yield
    out["action"] = panel.message
    return out


def banded_read(out_dir, width, height, box):
    """The plug-in reads layers and the visible image in bands of rows (Qt's events handled
    between them): compare what it reads with one pixelData / projection call over the same
    area, on a layer moved to box (x, y, w, h) under a half-transparent one."""
    from recraft_krita.canvas import BAND_BYTES, NATIVE, KritaCanvas, _raster

    doc = new_document(width, height, "banded")
    source = attached_layer(doc, "photo", box)
    veil = doc.createNode("veil", "paintlayer")
    doc.rootNode().addChildNode(veil, None)
    write_rgba(veil, 0, 0, width, height, bytes([200, 30, 90, 100]) * (width * height))
    settle(doc)
    yield
    out = {"bands": -(-width * height * 4 // BAND_BYTES), "native": NATIVE, "same": {}}
    for x0, y0, x1, y1 in ((0, 0, width, height), (37, 411, width - 5, height - 3)):
        w, h = x1 - x0, y1 - y0
        layer = KritaCanvas(doc, source).read((x0, y0, x1, y1))
        whole = bytes(source.pixelData(x0, y0, w, h))
        seen = KritaCanvas(doc, source, visible=True).read((x0, y0, x1, y1))
        doc.waitForDone()
        projected = _raster(doc.projection(x0, y0, w, h)).pixels
        out["same"][f"{x0},{y0},{x1},{y1}"] = {
            "layer": (layer.width, layer.height) == (w, h) and bytes(layer.pixels) == whole,
            "visible": (seen.width, seen.height) == (w, h) and seen.pixels == projected,
            "differ": whole != bytes(projected),  # the veil shows: two different reads
        }
    return out


def large_canvas_inpaint(out_dir, width, height, box, selection, prompt, read_box):
    """Inpaint through the docker on a canvas over Recraft's 16 MP: the layer's pixels only
    at box, a small selection. Writes the new layer's pixels in read_box (result.png)."""

    doc = new_document(width, height, "large")
    source = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    rect_selection(doc, *selection)
    assert set_active_node(doc, source), "could not make the layer active"
    source_before = digest(source.pixelData(*box))
    before = layers(doc)
    panel = docker_ready("inpaint", {"prompt": prompt, "n": 1})
    yield from run_in_docker(panel, doc)
    save_result(doc, f"Recraft inpaint: {prompt}", out_dir, read_box)
    return {
        "before": before,
        "after": layers(doc),
        "source_unchanged": digest(source.pixelData(*box)) == source_before,
        "message": panel.message,
    }


def started_inpaint(width, height, selection, prompt, name):
    """An inpaint pressed Run on in the docker, once its upload has gone out (the server
    delays its answer): (document, docker, job, what the document held before)."""
    from recraft_krita import api

    doc = new_document(width, height, name)
    source = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    rect_selection(doc, *selection)
    assert set_active_node(doc, source), "could not make the layer active"
    state = {
        "before": layers(doc),
        "image": digest(doc.pixelData(0, 0, width, height)),
    }
    panel = docker_ready("inpaint", {"prompt": prompt, "n": 1})
    buttons(panel)["Run"].click()
    job = api.runner().job
    assert job is not None, f"no job started: {panel.message!r}"
    wait_until(lambda: job.progress.stage == "waiting" or job.done, 30, "the upload")
    state["stage"] = job.progress.stage
    return doc, panel, job, state


def cancel_inpaint(out_dir, width, height, selection, prompt):
    """Cancel pressed in the docker while Recraft works on an inpaint."""
    from recraft_krita import api

    doc, panel, job, state = yield from started_inpaint(width, height, selection, prompt, "cancel")
    found = buttons(panel)
    during = {"run": found["Run"].isEnabled(), "cancel": found["Cancel all"].isEnabled()}
    spin(0.3)  # a few of the runner's ticks: the docker shows the stage
    words = shown_words(panel)
    screenshot(os.path.join(out_dir, "waiting.png"), panel)
    pressed = time.monotonic()
    found["Cancel all"].click()
    idle(api)
    took = time.monotonic() - pressed
    spin(0.3)
    settle(doc)
    yield
    return {
        "stage": state["stage"],
        "words_while_waiting": words,
        "enabled_during": during,
        "enabled_after": {
            "run": found["Run"].isEnabled(),
            "cancel": found["Cancel all"].isEnabled(),
        },
        "seconds_to_idle": took,
        "before": state["before"],
        "after": layers(doc),
        "image_unchanged": digest(doc.pixelData(0, 0, width, height)) == state["image"],
        "message": panel.message,
        "job_state": job.state,
    }


def close_during_job(out_dir, width, height, selection, prompt):
    """The document closed (Document.close) while its inpaint waits for Recraft: Krita goes
    on, and the result opens as a document of its own, not into another open document."""
    from recraft_krita import api

    k = Krita.instance()
    doc, panel, job, state = yield from started_inpaint(width, height, selection, prompt, "closing")
    others = {d.name(): layers(d) for d in k.documents() if d.name() != "closing"}
    count = len(k.documents())
    doc.setModified(False)  # as after "Discard" in Krita's "save changes?" question
    closed = doc.close()
    del doc
    idle(api)  # the answer comes after the server's delay
    spin(0.5)
    yield
    documents = list(k.documents())
    return {
        "stage": state["stage"],
        "closed": closed,
        "documents": [count, len(documents)],
        "names": [d.name() for d in documents],
        "changed": [
            d.name() for d in documents if d.name() in others and layers(d) != others[d.name()]
        ],
        "message": panel.message,
        "busy": api.runner().busy,
        "job_state": job.state,
        "run_enabled": buttons(panel)["Run"].isEnabled(),
    }


def create_style(out_dir, width, height):
    """Create style from layers in the docker on the active layer: the layer goes up read
    small (768 px a side at most), and the docker turns to where the style is used, with its
    id filled in."""

    doc = new_document(width, height, "style")
    source = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    assert set_active_node(doc, source), "could not make the layer active"
    before = layers(doc)
    panel = docker_ready("create_style", {"style": "any", "prompt": ""})
    shown = {"improve": panel.improve.isVisibleTo(panel), "source": panel.source.isVisibleTo(panel)}
    yield from run_in_docker(panel, doc)
    values = panel.form.raw_values()
    # Kept in the library by the job: Saved style names it by the layer it was made from.
    box = panel.form.fields["style_id"].widget
    made = values.get("style_id")
    wait_until(lambda: box.offered is not None, 30, "the saved styles")
    return {
        "offered": [(s.id, s.label) for s in box.offered if s.id == made],
        "shown_as": box.currentText(),
        "shown": shown,
        "operation": panel.operation.currentData(),
        "form": panel.form.operation,
        "model": values.get("model"),
        "style_id": values.get("style_id"),
        "message": panel.message,
        "before": before,
        "after": layers(doc),
    }


def close_all():
    """Every document closed, as after File › Close without saving: no image is open. A
    generator step: Krita lets the documents go from its main loop only."""
    k = Krita.instance()
    for document in k.documents():
        document.setModified(False)
        document.close()
    deadline = time.monotonic() + 10
    while k.activeDocument() is not None or k.documents():
        assert time.monotonic() < deadline, "documents still open after closing them all"
        yield 0.1


def no_image(out_dir, prompt, n, vector_model):
    """Generate from the docker with no image open, twice: n raster images, then one vector
    image. Each run's results open as one new document of their own."""
    from recraft_krita import api

    k = Krita.instance()
    out = {}
    for name, values in (
        ("raster", {"prompt": prompt, "n": n, "model": "recraftv4_1"}),
        ("vector", {"prompt": prompt, "n": 1, "model": vector_model}),
    ):
        yield from close_all()
        panel = docker_ready("generate", values)
        panel.run()
        idle(api)
        yield
        documents = list(k.documents())
        for document in documents:
            settle(document)
        out[name] = {
            "documents": [
                {"name": d.name(), "size": [d.width(), d.height()], "layers": layers(d)}
                for d in documents
            ],
            "message": panel.message,
            "history": len(api.runner().history),
        }
    yield from close_all()
    return out


# -- the docker's place and layout -------------------------------------------------------------


def first_start(out_dir, squeezed):
    """The docker as Krita shows it on the first start with the plug-in (nothing opened it
    here): where it is, whether Run, Cancel and the messages are in sight; then squeezed to
    `squeezed` px high, the same. Pictures: first-start.png (the window), docker.png and
    squeezed.png (the docker)."""
    from recraft_krita import api
    from recraft_krita import docker as plugin_docker

    k = Krita.instance()
    new_document(320, 256, "first-start")
    placed = getattr(plugin_docker, "PLACED", None)  # the setting the first placing writes
    if placed is not None:
        wait_until(lambda: k.readSetting(*placed, "") == "true", 10, "the first placing")
        yield 0.5
    else:  # a plug-in that does not place its docker: what Krita did by itself
        yield 3
    window = main_window().qwindow()
    dock = docker(DOCKER_ID)
    panel = api.docker()

    def seen() -> dict:
        found = buttons(panel)
        return {
            "height": dock.height(),
            "run": in_sight(found["Run"], dock),
            "cancel": in_sight(found["Cancel all"], dock),
            "message": in_sight(panel.message_label, dock),
            "cost": in_sight(panel.cost, dock),
            "progress": in_sight(panel.progress, dock),
        }

    geometry = dock.geometry()
    out = {
        "same": dock is panel,
        "window": [window.width(), window.height()],
        "visible": dock.isVisible() and not dock.visibleRegion().isEmpty(),
        "floating": dock.isFloating(),
        "area": int(getattr(window.dockWidgetArea(dock), "value", window.dockWidgetArea(dock))),
        "tabbed_with": sorted(d.objectName() for d in window.tabifiedDockWidgets(dock)),
        "inside_window": window.rect().contains(geometry),
        "geometry": [geometry.x(), geometry.y(), geometry.width(), geometry.height()],
        "minimum": dock.minimumSizeHint().height(),
    }
    panel.show_message("Selection is missing: select an area first.", error=True, on_canvas=False)
    yield 0.3
    out["first"] = seen()
    out["shots"] = {"window": screenshot(os.path.join(out_dir, "first-start.png"))}
    out["shots"]["docker"] = screenshot(os.path.join(out_dir, "docker.png"), dock)
    dock.setFixedHeight(squeezed)
    yield 0.5
    out["squeezed"] = seen()
    out["shots"]["squeezed"] = screenshot(os.path.join(out_dir, "squeezed.png"), dock)
    dock.setMinimumHeight(0)
    dock.setMaximumHeight(16777215)
    panel.show_message("", error=False)
    yield 0.2
    return out


# -- every operation the docker offers, through its form and Run --------------------------------


def docker_operation(out_dir, operation, values, width, height, box, selection=None, source=True):
    """`operation` from the docker on a layer "photo" whose pixels sit at box (x, y, w, h),
    with a selection when given: the layers before and after, the document's size, what the
    docker said; the new layers' pixels (result.png, the canvas) and, with `source`, the
    photo's (source.png)."""
    doc = new_document(width, height, operation)
    photo = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    if selection:
        rect_selection(doc, *selection)
    assert set_active_node(doc, photo), "could not make the layer active"
    if source:
        save_png(photo, os.path.join(out_dir, "source.png"), box)
    photo_before = digest(read_rgba(photo, *box))
    before = layers(doc)
    panel = docker_ready(operation, values)
    yield from run_in_docker(panel, doc)
    after = layers(doc)
    made = [x for x in after if x["name"] not in {y["name"] for y in before}]
    if made and made[0]["type"] == "paintlayer":
        node = find_node(doc, made[0]["name"])
        canvas = (0, 0, doc.width(), doc.height())
        save_shown_png(node, os.path.join(out_dir, "result.png"), canvas)
    shapes = {}
    for layer in made:
        node = find_node(doc, layer["name"])
        if layer["type"] == "vectorlayer" and hasattr(node, "shapes"):
            shapes[layer["name"]] = len(node.shapes())
    return {
        "before": before,
        "after": after,
        "size": [doc.width(), doc.height()],
        "photo_unchanged": digest(read_rgba(photo, *box)) == photo_before,
        "shapes": shapes,
        "message": panel.message,
        "form": panel.form.raw_values(),
    }


def outpaint_grows(out_dir, width, height, box, prompt, expand):
    """Outpaint from the docker on a layer at an offset, expanded past the canvas: the image
    grows to hold the result. The layers and the size after, the photo's pixels where it now
    is (source.png before, moved.png after), the result's (result.png); the Undo History's
    rows; the result inserted again from the strip; then Undo, three times."""
    doc = new_document(width, height, "outpaint")
    photo = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    assert set_active_node(doc, photo), "could not make the layer active"
    save_png(photo, os.path.join(out_dir, "source.png"), box)
    before = layers(doc)
    rows_before = history_rows()
    panel = docker_ready("outpaint", {"prompt": prompt, **expand})
    yield from run_in_docker(panel, doc)
    name = f"Recraft outpaint: {prompt}"

    def state() -> dict:
        return {"size": [doc.width(), doc.height()], "layers": layers(doc)}

    out = {"before": before, "after": state(), "message": panel.message}
    out["rows"] = [rows_before, history_rows()]
    result = find_node(doc, name)
    if result is not None:
        w, h = doc.width(), doc.height()
        save_png(result, os.path.join(out_dir, "result.png"), (0, 0, w, h))
        x, y = photo.bounds().x(), photo.bounds().y()
        save_png(photo, os.path.join(out_dir, "moved.png"), (x, y, box[2], box[3]))
    # The strip: the same result inserted again lands where the first one did.
    items = [panel.results.item(i) for i in range(panel.results.count())]
    item = next((i for i in items if i.toolTip() == name), None)
    out["strip"] = item is not None
    if item is not None:
        panel.results.itemClicked.emit(item)
        settle(doc)
        yield
        out["again"] = state()
    out["undone"] = []
    for _ in range(3 if item is not None else 2):
        edit(doc, "edit_undo")
        settle(doc)
        yield
        out["undone"].append(state())
    return out


def action_operation(out_dir, action, width, height, box):
    """A Tools › Recraft action on a layer "photo" at box: the documents before and after
    (name, size, layers), the source document's layers, what the docker said."""
    from recraft_krita import api

    k = Krita.instance()
    doc = new_document(width, height, action)
    photo = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    assert set_active_node(doc, photo), "could not make the layer active"
    before = [d.name() for d in k.documents()]
    layers_before = layers(doc)
    idle(api)
    k.action(action).trigger()
    idle(api)
    settle(doc)
    yield
    new = [d for d in k.documents() if d.name() not in before]
    for document in new:
        settle(document)
    panel = api.docker()
    return {
        "before": layers_before,
        "after": layers(doc),
        "new": [
            {"name": d.name(), "size": [d.width(), d.height()], "layers": layers(d)} for d in new
        ],
        "message": panel.message if panel is not None else None,
    }


def improve_prompt(out_dir, operation, prompt):
    """The docker's Improve prompt button on `operation`'s form: the prompt it leaves."""
    from recraft_krita import api

    new_document(320, 256, "improve")
    yield
    panel = docker_ready(operation, {"prompt": prompt})
    shown = panel.improve.isVisibleTo(panel)
    panel.improve.click()
    idle(api)
    yield
    return {
        "shown": shown,
        "prompt": panel.form.fields["prompt"].value(),
        "message": panel.message,
        "operation": panel.operation.currentData(),
    }


def explore_then_similar(out_dir, width, height, prompt, similarity):
    """Explore from the docker, then Explore similar three ways: with one of Explore's layers
    active (its id fills in by itself), with a layer Explore did not make active (refused,
    said), and from a thumbnail of Explore's in the strip."""
    from recraft_krita import api

    doc = new_document(width, height, "explore")
    photo = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    assert set_active_node(doc, photo), "could not make the layer active"
    panel = docker_ready("explore", {"prompt": prompt})
    yield from run_in_docker(panel, doc)
    group = f"Recraft explore: {prompt}"
    out = {"explore": {"layers": layers(doc), "message": panel.message}}

    def field():
        return panel.form.fields["source_image_id"].value()

    # 1. An Explore layer active when Explore similar is chosen and run.
    folder = find_node(doc, group)
    children = folder.childNodes() if folder is not None else []
    second = next((c for c in children if c.name().startswith(f"{group} #2 of ")), None)
    assert second is not None, names_of(doc)
    assert set_active_node(doc, second), "could not make #2 active"
    panel.choose("explore_similar")
    panel.set_values({"similarity": similarity})
    chosen = field()
    yield from run_in_docker(panel, doc)
    out["from_layer"] = {"chosen": chosen, "field": field(), "message": panel.message}
    out["from_layer"]["layers"] = layers(doc)
    # 2. A layer Explore did not make.
    assert set_active_node(doc, photo), "could not make the photo active again"
    count = len(api.runner().history)
    panel.run()
    idle(api)
    out["not_a_result"] = {
        "field": field(),
        "message": panel.message,
        "ran": len(api.runner().history) != count,
    }
    # 3. A thumbnail of Explore's chosen in the strip (the photo still active).
    items = [panel.results.item(i) for i in range(panel.results.count())]
    item = next((i for i in items if i.toolTip().startswith(f"{group} #3 ")), None)
    assert item is not None, [i.toolTip() for i in items]
    tree = layers(doc)
    panel.results.itemClicked.emit(item)
    settle(doc)
    yield
    out["from_strip"] = {
        "field": field(),
        "message": panel.message,
        "inserted": layers(doc) != tree,
    }
    yield from run_in_docker(panel, doc)
    out["from_strip"].update(after=field(), done=panel.message)
    return out


def names_of(doc) -> list:
    pending, found = list(doc.rootNode().childNodes()), []
    while pending:
        node = pending.pop(0)
        found.append(node.name())
        pending.extend(node.childNodes())
    return found


# -- the balance after a charged failure -------------------------------------------------------


def charged_failure(out_dir, width, height, box):
    """Remove background from the docker while Recraft does the work and charges it, then a
    gateway answers 500 (twice: the retry too): the balance shown before and after."""
    from recraft_krita import api

    runner_ = api.runner()

    def asking() -> bool:  # the balance is being asked for
        return getattr(runner_, "refreshing", False)

    doc = new_document(width, height, "charged")
    photo = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    assert set_active_node(doc, photo), "could not make the layer active"
    panel = docker_ready("remove_background", {})
    runner_.refresh_balance()
    wait_until(lambda: not asking(), 20, "the balance")
    spin(0.5)
    before = runner_.balance
    yield from run_in_docker(panel, doc)
    spin(0.2)
    wait_until(lambda: not asking(), 20, "the balance")
    spin(0.2)
    return {
        "before": before,
        "after": runner_.balance,
        "cost_label": panel.cost.text(),
        "message": panel.message,
        "layers": layers(doc),
    }
