"""Payload for test_krita_nondestructive_jobs.py: non-destructive results through the docker's
Run, where the job itself decides: a selection that covers no pixel of the layer is refused
before anything is sent, and a soft-edged inpaint whose document was closed while it ran
opens as a new document with its edge still a transparency mask. Runs inside Krita like
payloads.py (krita_harness.launch copies payloads.py beside this file, whose helpers it borrows)."""

import hashlib
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from krita import Krita
from payloads import attached_layer, docker_ready, idle, scene, soft_selection, stories
from recraft_probe.helpers import (
    layers,
    layers_view,
    main_window,
    new_document,
    rect_selection,
    screenshot,
    set_active_node,
    settle,
    spin,
    wait_until,
)

PROMPT = "a straw hat"


def digest(data) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()[:16]


def left_only(width, height, keep) -> bytes:
    """The scene with only its `keep` leftmost columns: the rest transparent."""
    pixels = bytearray(scene(width, height))
    for row in range(height):
        start = (row * width + keep) * 4
        pixels[start : (row + 1) * width * 4] = bytes(4 * (width - keep))
    return bytes(pixels)


def looks(doc, source, width, height) -> dict:
    """What a refusal must leave as it was: the layers, the image, the source's pixels."""
    doc.waitForDone()
    return {
        "layers": layers(doc),
        "image": digest(doc.pixelData(0, 0, width, height)),
        "source": digest(source.pixelData(0, 0, width, height)),
        "documents": sorted(d.name() for d in Krita.instance().documents()),
    }


def misses_story(out_dir, operation, width, height, box, keep, selection):
    """`operation` run from the docker on the layer "photo" (pixels at box, only its `keep`
    leftmost columns opaque) with a selection where it has none."""
    from recraft_krita import api

    doc = new_document(width, height, f"misses-{operation}")
    source = attached_layer(doc, "photo", box, left_only(box[2], box[3], keep))
    settle(doc)
    yield
    rect_selection(doc, *selection)
    assert set_active_node(doc, source), "could not make the layer active"
    before = looks(doc, source, width, height)
    panel = docker_ready(operation, {"prompt": PROMPT, "n": 1})
    started = time.time()
    panel.run()
    queued = api.runner().job is not None
    idle(api)
    spin(0.3)
    settle(doc)
    yield
    after = looks(doc, source, width, height)
    return {
        "started": started,
        "message": panel.message,
        "queued": queued,
        "before": before,
        "after": after,
        "in_krita_words": prepared_in_krita_words(doc, source, operation),
    }


def prepared_in_krita_words(doc, source, operation) -> str:
    """The same job prepared on the plug-in's canvas (nothing is sent: prepare only reads),
    its refusal put in Krita's words as canvas.in_krita_words does."""
    from recraft_krita.canvas import in_krita_words
    from recraft_krita.layered import LayeredCanvas

    from recraft_core import Client, RecraftError
    from recraft_core.api.operations import OPERATIONS
    from recraft_core.workflow import Job

    canvas = LayeredCanvas(doc, source)
    params = {"prompt": PROMPT} if OPERATIONS[operation].field("prompt") else {}
    try:
        Job(Client(), operation, canvas, params, library=None).prepare()
    except RecraftError as e:
        return in_krita_words(e, canvas).user_message
    return "prepared: not refused"


def edge_of(node):
    """The layer's first transparency mask, or None."""
    return next((c for c in node.childNodes() if c.type() == "transparencymask"), None)


def alpha_of(node, w, h) -> bytes:
    """The 8-bit BGRA node's alpha over (0, 0, w, h)."""
    return bytes(node.pixelData(0, 0, w, h))[3::4]


def orphan_story(out_dir, width, height, selection, feather):
    """A soft inpaint from the docker; while the server sits on it, its document is closed
    (as after "Discard"): the result opens as a new document. What its layer and mask hold."""
    from recraft_krita import api, layered

    k = Krita.instance()
    doc = new_document(width, height, "closing")
    source = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    soft_selection(doc, selection, feather)
    assert set_active_node(doc, source), "could not make the layer active"
    panel = docker_ready("inpaint", {"prompt": PROMPT, "n": 1})
    panel.run()
    job = api.runner().job
    assert job is not None, f"no job started: {panel.message!r}"
    wait_until(lambda: job.progress.stage == "waiting" or job.done, 30, "the upload")
    stage = job.progress.stage  # the server sits on it
    doc.setModified(False)  # as after "Discard" in Krita's "save changes?" question
    closed = doc.close()
    del doc
    idle(api)
    spin(0.5)
    opened = [d for d in k.documents() if d.name() == f"Recraft inpaint: {PROMPT}"]
    out = {"closed": closed, "stage": stage, "message": panel.message, "opened": len(opened)}
    if not opened:
        out["documents"] = [d.name() for d in k.documents()]
        return out
    new = opened[-1]
    settle(new)
    yield
    window = main_window().qwindow()
    window.setGeometry(window.screen().availableGeometry())  # no window manager to maximise
    layers_view().expandAll()
    yield 0.5
    out["screenshot"] = screenshot(os.path.join(out_dir, "orphan.png"), window)
    w, h = new.width(), new.height()
    top = new.rootNode().childNodes()
    out["size"] = [w, h]
    out["layers"] = [(n.name(), n.type()) for n in top]
    out["can_mask"] = layered.can_mask()
    layer = top[-1]
    mask = edge_of(layer)
    out["children"] = [(c.name(), c.type()) for c in layer.childNodes()]
    out["layer_alpha"] = list(alpha_of(layer, w, h))
    out["mask"] = list(bytes(mask.selection().pixelData(0, 0, w, h))) if mask else None
    new.waitForDone()
    out["shown_alpha"] = list(alpha_of(new, w, h))  # the projection: what the canvas shows
    # The same soft inpaint, left in its document: the layer and mask a job inserts.
    doc = new_document(width, height, "kept")
    source = attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    soft_selection(doc, selection, feather)
    assert set_active_node(doc, source), "could not make the layer active"
    panel = docker_ready("inpaint", {"prompt": PROMPT, "n": 1})
    panel.run()
    idle(api)
    settle(doc)
    yield
    result = next(n for n in doc.rootNode().childNodes() if n.name().startswith("Recraft"))
    b = result.bounds()
    box = (b.x(), b.y(), b.width(), b.height())
    mask = edge_of(result)
    out["inserted_box"] = list(box)
    out["inserted_layer_alpha"] = list(bytes(result.pixelData(*box))[3::4])
    out["inserted_mask"] = list(bytes(mask.selection().pixelData(*box))) if mask else None
    return out


def nondestructive_jobs(out_dir, misses, orphan):
    def args(m):
        return {k: v for k, v in m.items() if k != "case"}

    plan = [
        (f"misses-{m['operation']}-{m['case']}", lambda m=m: misses_story(out_dir, **args(m)))
        for m in misses
    ]
    plan.append(("orphan", lambda: orphan_story(out_dir, **args(orphan))))
    return (yield from stories(plan))
