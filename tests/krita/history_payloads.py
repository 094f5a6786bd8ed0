"""Payloads of test_krita_history.py: run inside Krita on its GUI thread by the recraft_probe
plug-in (see recraft_probe/runner.py), as payloads.py's are.

`earlier_session_then_killed`: a job run and inserted as usual, then a second one whose result
the library has kept, with Krita stopped (its GUI thread held, so nothing can insert it) until
the test kills it. `history_after_restart`: the next Krita, its History view driven as a user
drives it.
"""

import glob
import json
import os
import sys
import time

from krita import Krita
from recraft_probe.helpers import (
    docker,
    layers,
    new_document,
    save_png,
    screenshot,
    set_active_node,
    settle,
    spin,
    wait_until,
    write_rgba,
)
from recraft_probe.qt import QtCore, QtWidgets

DOCKER_ID = "recraft_docker"
JOB_TIMEOUT = 60


def idle(api) -> None:
    assert api.wait_idle(JOB_TIMEOUT), f"a Recraft job still runs after {JOB_TIMEOUT} s"


def grey_with_square(width, height, square) -> bytes:
    """Flat grey RGBA with a red square (x, y, w, h): what remove background keys on."""
    pixels = bytearray(bytes([200, 200, 200, 255]) * (width * height))
    sx, sy, sw, sh = square
    for row in range(sy, sy + sh):
        start = (row * width + sx) * 4
        pixels[start : start + sw * 4] = bytes([220, 30, 30, 255]) * sw
    return bytes(pixels)


def photo_document(width, height, square, name):
    """A document whose "photo" layer covers the canvas, active."""
    doc = new_document(width, height, name)
    photo = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(photo, None)
    write_rgba(photo, 0, 0, width, height, grey_with_square(width, height, square))
    settle(doc)
    return doc, photo


def records(library) -> list:
    """The library's records as they are on disk now (each is whole: written, then renamed)."""
    out = []
    for path in sorted(glob.glob(os.path.join(library, "*", "*", "record.json"))):
        with open(path, encoding="utf-8") as f:
            out.append(json.load(f))
    return out


def _write(path, value) -> None:
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(path + ".tmp", path)


def earlier_session_then_killed(out_dir, width, height, square, generate, library, marker):
    """1. Generate from the docker with `generate`'s values, inserted as usual (a result of an
    earlier session, for the next Krita). 2. Remove background from the docker; then hold
    the GUI thread (as a crash at that instant would leave things) until the library has kept
    its result, write `marker` with what the document holds then, and stay held until the
    test kills Krita. The runner inserts on the GUI thread, so nothing can insert it."""
    from recraft_krita import api

    doc, photo = photo_document(width, height, square, "kill")
    yield
    assert set_active_node(doc, photo), "could not make the layer active"
    panel = api.docker()
    panel.show()
    idle(api)
    panel.choose(generate["operation"])
    panel.set_values(generate["values"])
    panel.run()
    idle(api)
    settle(doc)
    yield
    assert set_active_node(doc, photo), "could not make the photo active again"
    kept = len(records(library))
    panel.choose("remove_background")
    panel.run()
    # From here on Krita's event loop never runs again: the job's worker thread goes on
    # (the upload, Recraft's answer, the library), the insertion cannot.
    deadline = time.monotonic() + JOB_TIMEOUT
    while len(records(library)) == kept:
        assert time.monotonic() < deadline, f"nothing kept in {library} after {JOB_TIMEOUT} s"
        time.sleep(0.02)
    found = records(library)
    _write(
        marker,
        {
            "layers": layers(doc),
            "records": found,
            "message": panel.message,
            "busy": panel.busy,
            "strip": panel.results.count(),
        },
    )
    while True:  # the test kills Krita now
        time.sleep(1)


def history_after_restart(
    out_dir, width, height, square, killed, cli, earlier, three, other_size, elsewhere, seeded
):
    """The next Krita: the History page lists the results of the killed session, the earlier
    job and the CLI; each inserted as a user does it (select, Insert); Use these settings
    on the earlier job; Delete (two clicks); a picture of the page. Then Settings: the
    library moved to `elsewhere` (holding `seeded` entries: History loads them a page at a
    time as it is scrolled), then turned off."""
    from recraft_krita import api

    doc, photo = photo_document(width, height, square, "restart")
    yield
    assert set_active_node(doc, photo), "could not make the layer active"
    panel = api.docker()
    dock = docker(DOCKER_ID)
    panel.show()
    idle(api)
    # Something else in the form first, so that what Use these settings restores shows.
    panel.choose("inpaint")
    panel.set_values({"prompt": "something else entirely"})

    stalls = Stalls()
    panel.show_history()
    view = panel.history
    wait_until(lambda: not view.busy and len(view.entries) >= 4, 30, "History's first page")
    stalls.stop()
    out = {
        "listed": [_entry(e) for e in view.entries],
        "rows": [view.list.item(i).text() for i in range(view.list.count())],
        "icons": [not view.list.item(i).icon().isNull() for i in range(view.list.count())],
        "count": view.count.text(),
        "stall_ms": stalls.worst,
        "cost_label": panel.cost.text(),
    }
    # Where Krita's first start puts the docker (beside Brush Presets, as tall as the column
    # spares): this launch follows a killed one, which saved no window layout.
    from recraft_krita.docker import FIRST_PLACE, make_room

    main = dock.window()

    def laid_out():  # Krita 5.2 and later show their own dockers a moment after the window
        found = [main.findChild(QtWidgets.QDockWidget, name) for name in FIRST_PLACE]
        return any(d is not None and d.isVisible() for d in found)

    wait_until(laid_out, 10, "Krita's dockers")
    yield 0.5
    make_room(main, dock)
    view.list.setCurrentRow(0)
    yield 0.5
    out["screenshot"] = screenshot(os.path.join(out_dir, "krita-history.png"), dock)
    panel.show_run()
    yield 0.3
    out["run_screenshot"] = screenshot(os.path.join(out_dir, "run-page.png"), dock)
    panel.show_history()
    out["dock_size"] = [dock.width(), dock.height()]

    # The killed job's result, Insert: where it was made (the canvas has its size).
    out["killed"] = insert(view, doc, photo, killed, out_dir, "killed.png", (0, 0, width, height))
    # The command line's picture, Insert: centred, scaled down to cover the image.
    out["cli"] = insert(view, doc, photo, cli, out_dir, "cli.png", None)

    # Three results of one job: a group of variations, as a fresh job's, that Next flips.
    before = {n["name"] for n in layers(doc)}
    assert view.select(three), f"{three} is not listed"
    view.insert_button.click()
    wait_until(lambda: not view.busy and len(layers(doc)) > len(before), 30, "three inserted")
    settle(doc)
    added = [n for n in layers(doc) if n["name"] not in before]
    group = next(n for n in doc.rootNode().childNodes() if n.name() == added[0]["name"])
    out["three"] = {"added": added}
    out["three"]["tree"] = [n.name() for n in doc.rootNode().childNodes()]
    top = group.childNodes()[-1]
    bounds = top.bounds()
    box = (bounds.x(), bounds.y(), bounds.width(), bounds.height())
    save_png(top, os.path.join(out_dir, "three.png"), box)
    doc.setActiveNode(top)
    yield 0.2
    from recraft_krita import variations

    out["three"]["next"] = variations.step(+1)
    out["three"]["after_next"] = layers(group)

    # Use these settings: the earlier generate's operation and values back in the form.
    assert view.select(earlier), "the earlier job is not listed"
    view.reuse_button.click()
    spin(0.1)
    out["reuse"] = {
        "operation": panel.operation.currentData(),
        "values": panel.form.values(),
        "page": panel.pages.currentIndex(),
        "message": panel.message,
    }

    # Search: only the prompts with these words.
    panel.show_history()
    view.search.setText("lighthouse cli")
    wait_until(lambda: not view.busy and len(view.entries) == 1, 10, "the search's answer")
    out["search"] = [e.id for e in view.entries]
    view.search.setText("")
    wait_until(lambda: not view.busy and len(view.entries) >= 4, 10, "the whole list again")

    # Delete, confirmed by a second click.
    assert view.select(cli), "the CLI's result is not listed"
    button = view.delete_button
    button.click()
    out["asked"] = button.text()
    out["kept_after_one_click"] = cli in [e.id for e in view.entries]
    button.click()
    wait_until(lambda: not view.busy and cli not in [e.id for e in view.entries], 10, "delete")
    out["after_delete"] = [e.id for e in view.entries]

    # Another image of another size: the killed job's result centred on it.
    doc2, photo2 = photo_document(*other_size, square, "other")
    yield
    set_active_node(doc2, photo2)
    panel.show_history()
    w2, h2 = other_size
    out["centred"] = insert(view, doc2, photo2, killed, out_dir, "centred.png", (0, 0, w2, h2))
    out["message"] = panel.message

    # The library's rows in Settings (the docker's Settings… button): another folder, then
    # no library at all; History follows each.
    arrivals = timed(view, "_arrived")
    stalls = Stalls()
    out["moved"] = yield from through_settings(
        panel, {"library_folder": elsewhere, "library_cap_gb": 12}
    )
    # That library holds more than a page: the rest comes as the list is scrolled down.
    out["moved"]["pages"] = pages = [len(view.entries)]
    while len(view.entries) < seeded:
        view.list.scrollToBottom()
        wait_until(lambda: not view.busy and len(view.entries) > pages[-1], 10, "next page")
        pages.append(len(view.entries))
    stalls.stop()
    out["moved"]["stall_ms"] = stalls.worst
    out["moved"]["arrival_ms"] = round(max(arrivals), 1)  # a page into the list
    out["moved"]["count"] = view.count.text()
    out["off"] = yield from through_settings(panel, {"library_off": True})
    return out


def through_settings(panel, values):
    """Open Settings from the docker, as a user does (a modal dialog: filled and saved from
    a timer while it runs), then wait for History to show the library the Settings name."""
    from recraft_core import settings

    seen = {}

    def fill_and_save():
        dialog = QtWidgets.QApplication.activeModalWidget()
        for name, widget in dialog.inputs.items():
            label = dialog.layout().labelForField(widget)
            seen[name] = {
                "label": label.text() if label is not None else None,
                "widget": type(widget).__name__,
                "suffix": widget.suffix() if isinstance(widget, QtWidgets.QSpinBox) else None,
                "placeholder": getattr(widget, "placeholderText", lambda: None)(),
            }
        for name, value in values.items():
            widget = dialog.inputs[name]
            if isinstance(widget, QtWidgets.QSpinBox):
                widget.setValue(value)
            elif isinstance(widget, QtWidgets.QCheckBox):
                widget.setChecked(value)
            else:
                widget.setText(value)
        dialog.save()

    view = panel.history
    QtCore.QTimer.singleShot(300, fill_and_save)
    panel.settings_button.click()  # returns once the dialog is closed, History reloading
    assert view.busy, "History did not reload after Settings"
    wait_until(lambda: not view.busy, 10, "History after Settings")
    yield 0.2
    with open(settings.path(), encoding="utf-8") as f:
        saved = json.load(f)
    return {
        "rows": seen,
        "saved": saved,
        "entries": len(view.entries),
        "status": view.status.text(),
        "list_shown": view.list.isVisible(),
        "cost_label": panel.cost.text(),
    }


def insert(view, doc, photo, entry_id, out_dir, picture, box):
    """Select the entry and press Insert; the layer that came, its pixels in `box` (or its
    own bounds) as out_dir/picture."""
    before = {n["name"] for n in layers(doc)}
    assert view.select(entry_id), f"{entry_id} is not listed"
    view.insert_button.click()
    wait_until(lambda: not view.busy and len(layers(doc)) > len(before), 30, f"{entry_id} inserted")
    settle(doc)
    added = [n for n in layers(doc) if n["name"] not in before]
    node = next(n for n in doc.rootNode().childNodes() if n.name() == added[0]["name"])
    bounds = node.bounds()
    box = box or (bounds.x(), bounds.y(), bounds.width(), bounds.height())
    save_png(node, os.path.join(out_dir, picture), tuple(box))
    return {"added": added, "box": list(box), "above": _above(doc, photo, node)}


def _above(doc, photo, node) -> bool:
    children = [n.name() for n in doc.rootNode().childNodes()]
    return children.index(node.name()) == children.index(photo.name()) + 1


def _entry(entry) -> dict:
    return {
        "id": entry.id,
        "operation": entry.operation,
        "front_end": entry.front_end,
        "prompt": entry.prompt,
        "credits": entry.credits,
    }


def timed(obj, name) -> list:
    """Wrap obj.name to note how long each call takes, in ms, in the list returned."""
    spent, call = [], getattr(obj, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - start) * 1000)

    setattr(obj, name, wrapper)
    return spent


class Stalls(QtCore.QObject):
    """The longest the GUI thread went without running a 5 ms timer, in ms."""

    def __init__(self) -> None:
        super().__init__()
        self.worst = 0.0
        self._last = time.monotonic()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, (now - self._last) * 1000)
        self._last = now

    def stop(self) -> None:
        self._timer.stop()
        self.worst = round(self.worst, 1)


def version(out_dir):
    return {"version": Krita.instance().version()}


def _result_node(doc, before):
    return next(n for n in doc.rootNode().childNodes() if n.name() not in before)


def _as_inserted(doc, node, out_dir, tag):
    """What a result layer holds over the whole canvas, written beside the report: its
    pixels (as Krita keeps them, BGRA), its transparency mask's, and the projection (what
    the canvas shows); and its children."""
    w, h = doc.width(), doc.height()
    mask = next((c for c in node.childNodes() if c.type() == "transparencymask"), None)
    doc.waitForDone()
    files = {
        "layer": bytes(node.pixelData(0, 0, w, h)),
        "mask": bytes(mask.selection().pixelData(0, 0, w, h)) if mask is not None else b"",
        "shown": bytes(doc.pixelData(0, 0, w, h)),
    }
    for name, data in files.items():
        with open(os.path.join(out_dir, f"{tag}-{name}.raw"), "wb") as f:
            f.write(data)
    bounds = node.bounds()
    return {
        "name": node.name(),
        "type": node.type(),
        "bounds": [bounds.x(), bounds.y(), bounds.width(), bounds.height()],
        "children": [(c.name(), c.type()) for c in node.childNodes()],
        "masked": mask is not None,
    }


def soft_inpaint_again(out_dir, width, height, selection, feather, prompt, three):
    """A soft-selected inpaint from the docker, as first inserted; then, in a new image of
    the same size holding the same photo, that entry inserted again from History: both as
    the layer, its mask and the canvas show them. Then `three` (three results) inserted
    from History, for what the docker says."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # payloads.py is beside
    from payloads import attached_layer, docker_ready, soft_selection
    from recraft_krita import api, layered

    doc = new_document(width, height, "first")
    source = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    soft_selection(doc, selection, feather)
    assert set_active_node(doc, source), "could not make the layer active"
    panel = docker_ready("inpaint", {"prompt": prompt, "n": 1})
    before = {n.name() for n in doc.rootNode().childNodes()}
    panel.run()
    idle(api)
    settle(doc)
    yield
    out = {"can_mask": layered.can_mask(), "first_message": panel.message}
    out["first"] = _as_inserted(doc, _result_node(doc, before), out_dir, "first")

    again = new_document(width, height, "again")
    photo = attached_layer(again, "photo", (0, 0, width, height))
    settle(again)
    yield
    assert set_active_node(again, photo), "could not make the layer active"
    panel.show_history()
    view = panel.history
    wait_until(lambda: not view.busy and len(view.entries) >= 2, 30, "History's first page")
    inpaint = next(e.id for e in view.entries if e.operation == "inpaint")
    out["listed_entry"] = inpaint
    before = {n.name() for n in again.rootNode().childNodes()}
    assert view.select(inpaint), f"{inpaint} is not listed"
    view.insert_button.click()
    wait_until(lambda: not view.busy and len(again.rootNode().childNodes()) > 1, 30, "inserted")
    settle(again)
    yield
    out["again_message"] = panel.message
    out["again"] = _as_inserted(again, _result_node(again, before), out_dir, "again")

    before = {n.name() for n in again.rootNode().childNodes()}
    assert view.select(three), f"{three} is not listed"
    view.insert_button.click()
    wait_until(lambda: not view.busy and len(again.rootNode().childNodes()) > 2, 30, "three")
    settle(again)
    yield
    out["three_message"] = panel.message
    return out
