"""Payload for test_krita_queue.py: the docker's queue and one-click operations on every
selected layer, in one Krita launch. Each story records when it ran (time.time(), the
server's clock too) so the test matches the server's records to it. Runs inside Krita like
payloads.py (krita_harness.launch copies payloads.py beside this file, whose helpers it borrows)."""

import os
import sys
import threading
import time
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from krita import Krita
from payloads import attached_layer, buttons, docker_ready, grey_with_square, idle, show_off
from payloads import stories as each_story
from recraft_probe.helpers import (
    _find_row,
    layers_view,
    main_window,
    new_document,
    rect_selection,
    set_active_node,
    settle,
    spin,
    wait_until,
)
from recraft_probe.qt import QtCore

from recraft_core import settings

W, H = 400, 300


def at_once(n: int) -> None:
    settings.save(replace(settings.load(), jobs_at_once=n))


def tree(doc) -> list:
    """Top first: name and bounds of each layer, and where its transparency mask shows
    anything (a soft edge as a mask, Krita 5.2 and later), else its bounds."""
    out = []
    for node in reversed(doc.rootNode().childNodes()):
        b = node.bounds()
        shown = [b.x(), b.y(), b.width(), b.height()]
        masks = [c for c in node.childNodes() if c.type() == "transparencymask"]
        if masks and hasattr(masks[0], "selection") and masks[0].selection() is not None:
            s = masks[0].selection()
            shown = [s.x(), s.y(), s.width(), s.height()]
        out.append({"name": node.name(), "bounds": shown})
    return out


def queue_inpaints(panel, doc, runs) -> list:
    """Run pressed once per (layer, selection, prompt), each on its own layer and selection,
    without waiting: what the docker's queue rows say right after."""
    for node, selection, prompt in runs:
        assert set_active_node(doc, node), f"could not make {node.name()} active"
        rect_selection(doc, *selection)
        panel.set_values({"prompt": prompt, "n": 1})
        buttons(panel)["Run"].click()
    return list(panel.queue_texts)


def three_layers(name):
    doc = new_document(W, H, name)
    nodes = [attached_layer(doc, f"{name}-{k}", (0, 0, W, H)) for k in range(3)]
    settle(doc)
    return doc, nodes


SELECTIONS = [(20, 20, 80, 60), (160, 110, 80, 60), (300, 220, 80, 60)]


def three_jobs(out_dir, api, panel, shot):
    """Three inpaints queued quickly, two at once: each lands above its own layer, where its
    own selection was; the list shows stages meanwhile."""
    at_once(2)
    doc, nodes = three_layers("three")
    yield
    prompts = ["first hat", "second hat", "third hat"]
    queued = queue_inpaints(panel, doc, zip(nodes, SELECTIONS, prompts, strict=True))
    rect_selection(doc, 0, 0, 10, 10)  # the artist goes on: the queued jobs took theirs
    running = api.runner().queue.running
    wait_until(lambda: all(j.progress.stage == "waiting" for j in running), 30, "uploads")
    spin(0.2)
    waiting_texts = list(panel.queue_texts)
    progress = panel.progress_text
    threads = sorted(t.name for t in threading.enumerate() if t.name.startswith("recraft-"))
    screenshot = None
    if shot:
        screenshot = yield from show_off(panel, os.path.join(out_dir, shot))
    idle(api)
    settle(doc)
    yield
    return {
        "queued": queued,
        "waiting": waiting_texts,
        "progress": progress,
        "tree": tree(doc),
        "message": panel.message,
        "list_after": list(panel.queue_texts),
        "list_shown_after": panel.queue_list.isVisible(),
        "screenshot": screenshot,
        "threads": threads,
    }


def cancel_one(out_dir, api, panel, shot):
    """Three queued, one at a time; the second (waiting) cancelled from its row."""
    at_once(1)
    doc, nodes = three_layers("cancel")
    yield
    prompts = ["cancel one", "cancel two", "cancel three"]
    queued = queue_inpaints(panel, doc, zip(nodes, SELECTIONS, prompts, strict=True))
    panel.queue_list.cancel_button(1).click()
    spin(0.2)
    after_click = list(panel.queue_texts)
    idle(api)
    settle(doc)
    yield
    return {"queued": queued, "after_click": after_click, "tree": tree(doc)}


def close_with_waiting(out_dir, api, panel, shot):
    """Three queued one at a time on a document closed while the first waits for Recraft:
    the two waiting are dropped (never sent), the first opens as a new image."""
    at_once(1)
    k = Krita.instance()
    doc, nodes = three_layers("closing")
    yield
    prompts = ["closing one", "closing two", "closing three"]
    queue_inpaints(panel, doc, zip(nodes, SELECTIONS, prompts, strict=True))
    first = api.runner().queue.running[0]
    wait_until(lambda: first.progress.stage == "waiting", 30, "the first upload")
    doc.setModified(False)
    doc.close()
    del doc
    idle(api)
    spin(0.5)
    yield
    return {
        "names": [d.name() for d in k.documents()],
        "message": panel.message,
        "busy": api.runner().busy,
    }


def rate_limited(out_dir, api, panel, shot):
    """Two remove backgrounds queued from the docker on two layers; the server answers the
    second 429 with Retry-After: both results come, later, without an error."""
    at_once(3)
    doc = new_document(W, H, "rate")
    nodes = [
        attached_layer(
            doc, f"rate-{k}", (0, 0, W, H), grey_with_square(W, H, (40 + 150 * k, 60, 90, 90))
        )
        for k in range(2)
    ]
    settle(doc)
    yield
    panel = docker_ready("remove_background", {})
    panel.set_source(False)
    began = time.monotonic()
    for node in nodes:
        assert set_active_node(doc, node)
        select_layers(doc, [node])
        buttons(panel)["Run"].click()
    idle(api)
    took = time.monotonic() - began
    settle(doc)
    yield
    return {"tree": tree(doc), "message": panel.message, "seconds": took}


def select_layers(doc, nodes) -> int:
    """Select the layers' rows in the Layers docker (as ctrl-clicks would); how many the view
    reports selected."""
    view_tree = layers_view()
    model = view_tree.model()
    flags = QtCore.QItemSelectionModel.SelectionFlag
    selection = view_tree.selectionModel()
    first = True
    for node in nodes:
        index = _find_row(model, node.name())
        assert index is not None, node.name()
        if first:
            selection.setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
            first = False
        else:
            selection.select(index, flags.Select | flags.Rows)
    spin(0.1)
    view = main_window().activeView()
    return len(view.selectedNodes())


def on_selected_layers(out_dir, api, panel, shot, empty=False):
    """Remove background (Tools › Recraft) with three layers selected: three results, one
    summary; with `empty`, the middle layer has no pixels and the summary names it. Four at
    once in Settings (three till now): the runner has a fourth thread by the end."""
    at_once(3 if empty else 4)
    name = "emptyone" if empty else "layers"
    doc = new_document(W, H, name)
    nodes = []
    for k in range(3):
        if empty and k == 1:
            node = doc.createNode("logo", "paintlayer")
            doc.rootNode().addChildNode(node, None)
        else:
            square = (30 + 110 * k, 60 + 30 * k, 80, 80)
            node = attached_layer(doc, f"{name}-{k}", (0, 0, W, H), grey_with_square(W, H, square))
        nodes.append(node)
    settle(doc)
    yield
    assert set_active_node(doc, nodes[0])
    selected = select_layers(doc, nodes)
    panel = docker_ready("remove_background", {})
    panel.set_source(False)
    panel._watch_layers(force=True)
    cost = panel.cost.text()
    # Every row the docker's list shows while the jobs go (its refresh runs first on each
    # change: connected first). A layer's job may end before the last is queued, so the
    # list need not hold all three at once.
    listed = set()

    def note_rows():
        listed.update(panel.queue_texts)

    api.runner().changed.connect(note_rows)
    Krita.instance().action("recraft_remove_background").trigger()
    # One layer read per turn of Qt's loop: the first queued at once, the others after.
    at_first = len(api.runner().queue)
    idle(api)
    api.runner().changed.disconnect(note_rows)
    rows = sum(any(f"'{node.name()}'" in row for row in listed) for node in nodes)
    settle(doc)
    yield
    return {
        "threads": sorted(t.name for t in threading.enumerate() if t.name.startswith("recraft-")),
        "selected": selected,
        "cost": cost,
        "rows": rows,
        "at_first": at_first,
        "tree": tree(doc),
        "message": panel.message,
    }


def cancel_while_queueing_layers(out_dir, api, panel, shot):
    """Remove background on three selected layers, Cancel all pressed before the event loop
    turns: the layers not yet queued are never read nor sent, and the summary says so."""
    doc = new_document(W, H, "cancelled")
    pixels = grey_with_square(W, H, (40, 40, 60, 60))
    nodes = [attached_layer(doc, f"cancelled-{k}", (0, 0, W, H), pixels) for k in range(3)]
    settle(doc)
    yield
    assert set_active_node(doc, nodes[0])
    selected = select_layers(doc, nodes)
    panel = docker_ready("remove_background", {})
    panel.set_source(False)
    Krita.instance().action("recraft_remove_background").trigger()
    queued = len(api.runner().queue)
    panel.cancel()
    idle(api)
    settle(doc)
    yield
    return {"selected": selected, "queued": queued, "tree": tree(doc), "message": panel.message}


STORIES = {
    "three": three_jobs,
    "cancel": cancel_one,
    "closing": close_with_waiting,
    "rate": rate_limited,
    "layers": on_selected_layers,
    "empty": lambda *a: on_selected_layers(*a, empty=True),
    "cancel_layers": cancel_while_queueing_layers,
}


def queue_story(out_dir, stories, screenshot_name=None):
    from recraft_krita import api

    panel = docker_ready("inpaint", {"prompt": "x", "n": 1})
    panel.set_source(False)

    def start(name):
        return STORIES[name](out_dir, api, docker_ready("inpaint", {"n": 1}), screenshot_name)

    plan = [(name, lambda name=name: start(name)) for name in stories]
    return (yield from each_story(plan, between=0.3, after_error=lambda: idle(api)))
