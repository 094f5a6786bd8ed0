"""Payload of test_krita_docker_words.py: what the docker and the Settings dialog say, as a
new user reads them. Runs inside Krita like payloads.py (krita_harness.launch copies
payloads.py beside this file, whose helpers it borrows).

One launch, four stories: the queue's rows in the docker as arranged for work and floated
narrow; Generate's Style list; Create style after an inpaint's prompt, its message, its name
in Saved style, and Generate with it; Settings' Check token, wrong then right.
"""

import os
import sys
import time
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import itertools

from payloads import arrange, attached_layer, buttons, docker_ready, idle, scene
from recraft_probe.helpers import (
    docker,
    new_document,
    rect_selection,
    screenshot,
    set_active_node,
    settle,
    spin,
    wait_until,
    write_rgba,
)
from recraft_probe.qt import QtCore, QtWidgets

from recraft_core import settings

DOCKER_ID = "recraft_docker"
PROMPTS = [
    "a flock of birds over the misty hills at dawn",
    "a hot air balloon drifting above the valley",
    "a wooden fence along the meadow path",
]
NARROW = 300  # px: a floated docker as narrow as its form lets it be


def docker_words(out_dir, token, base_url, style_layer, style_document):
    from recraft_krita import api

    out = {}
    out["queue"] = yield from _queue(out_dir, api)
    out["styles"] = _style_list(api)
    out["create_style"] = yield from _create_style(out_dir, api, style_layer, style_document)
    out["settings"] = yield from _settings(out_dir, token, base_url)
    out["strip"] = yield from _strip(api)
    return out


def _strip(api):
    """Three jobs with a strip of two: the oldest job's results are let go (History keeps
    them), the strip shows the two newest, and applied jobs hold no source or answer."""
    from recraft_krita import jobs

    keep, jobs.STRIP_JOBS = jobs.STRIP_JOBS, 2
    try:
        doc = new_document(200, 150, "strip")
        layer = attached_layer(doc, "strip", (0, 0, 200, 150))
        settle(doc)
        yield
        panel = docker_ready("remove_background", {})
        panel.set_source(False)
        before = len(api.runner().history)
        for _ in range(3):
            assert set_active_node(doc, layer)
            buttons(panel)["Run"].click()
            idle(api)
            yield 0.2
        history = api.runner().history[before:]
        kept = [job for job in history if job is not None]
        return {
            "history": [job is not None for job in history],
            "strip": panel.results.count(),
            "let_go": all(job._upload is None and job._result is None for job in kept),
            "notes_kept": all(isinstance(job.notes, list) for job in kept),
        }
    finally:
        jobs.STRIP_JOBS = keep


def _fits(label) -> bool:
    """Whether a label's text shows whole in the width it has (nothing cut mid-letter)."""
    return label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


def _rows(panel) -> dict:
    rows = panel.queue_list._rows
    labels = [rows[key][1:3] for key in panel.queue_list._order]
    return {
        "shown": [list(pair) for pair in panel.queue_list.shown],
        "whole": list(panel.queue_texts),
        "tips": [what.toolTip() for what, _ in labels],
        "fit": all(_fits(label) for pair in labels for label in pair),
        "width": panel.width(),
    }


def _queue(out_dir, api):
    settings.save(replace(settings.load(), jobs_at_once=1))
    doc = new_document(400, 300, "queue")
    nodes = [attached_layer(doc, f"queue-{k}", (0, 0, 400, 300)) for k in range(3)]
    settle(doc)
    yield
    panel = docker_ready("inpaint", {"n": 1})
    for node, prompt in zip(nodes, PROMPTS, strict=True):
        assert set_active_node(doc, node), f"could not make {node.name()} active"
        rect_selection(doc, 40, 40, 80, 60)
        panel.set_values({"prompt": prompt, "n": 1})
        buttons(panel)["Run"].click()
    running = api.runner().queue.running
    wait_until(lambda: running and running[0].progress.stage == "waiting", 30, "the upload")
    arrange(panel)
    yield 0.5
    out = {"arranged": _rows(panel)}
    out["arranged_shot"] = screenshot(os.path.join(out_dir, "queue-arranged.png"), panel)
    dock = docker(DOCKER_ID)
    dock.setFloating(True)
    dock.resize(NARROW, 700)
    dock.move(20, 20)
    yield 0.6
    out["narrow"] = _rows(panel)
    out["narrow_shot"] = screenshot(os.path.join(out_dir, "queue-narrow.png"), dock)
    panel.cancel()
    idle(api)
    dock.setFloating(False)
    settings.save(replace(settings.load(), jobs_at_once=None))
    yield 0.3
    return out


def _style_list(api):
    panel = docker_ready("generate", {"model": "recraftv3"})
    combo = panel.form.fields["style"].widget
    return {
        "items": [combo.itemText(i) for i in range(combo.count())],
        "data": [combo.itemData(i) for i in range(combo.count())],
    }


def _create_style(out_dir, api, layer_name, document_name):
    doc = new_document(320, 240, document_name)
    layer = doc.createNode(layer_name, "paintlayer")
    doc.rootNode().addChildNode(layer, None)
    write_rgba(layer, 0, 0, 320, 240, scene(320, 240))
    settle(doc)
    yield
    assert set_active_node(doc, layer), "could not make the layer active"
    # An inpaint's prompt in the form, then Create style: its prompt is the style's own.
    panel = docker_ready("inpaint", {"prompt": "a kite"})
    panel.choose("create_style")
    out = {"style_prompt": panel.form.raw_values().get("prompt")}
    panel.set_values({"style": "digital_illustration"})
    panel.run()
    idle(api)
    wait_until(lambda: "Generate:" in panel.message, 30, "the style's name in the message")
    out["message"] = panel.message
    out["generate_prompt"] = panel.form.raw_values().get("prompt")
    box = panel.form.fields["style_id"].widget
    out["style_id"] = panel.form.fields["style_id"].value()
    out["label"] = box.label_of(out["style_id"])
    out["box_text"] = box.currentText()
    out["cursor"] = box.lineEdit().cursorPosition()
    out["box_overflows"] = (
        box.lineEdit().fontMetrics().horizontalAdvance(box.currentText()) > box.lineEdit().width()
    )
    out["box_tip"] = box.toolTip()
    arrange(panel)
    yield 0.5
    area = box.parent()
    while area is not None and not isinstance(area, QtWidgets.QScrollArea):
        area = area.parent()
    if area is not None:
        area.ensureWidgetVisible(box)
    yield 0.3
    out["cursor_arranged"] = box.lineEdit().cursorPosition()
    out["shot"] = screenshot(os.path.join(out_dir, "create-style.png"), panel)
    # The box's line edit as drawn: its start is what shows.
    out["box_shot"] = screenshot(os.path.join(out_dir, "saved-style-box.png"), box)
    panel.set_values({"prompt": "a lighthouse at dusk", "n": 1})
    out["sent_style_id"] = panel.form.values().get("style_id")
    panel.run()
    idle(api)
    out["generate_message"] = panel.message
    return out


def _settings(out_dir, token, base_url):
    from recraft_krita.settings_dialog import SettingsDialog

    dialog = SettingsDialog()
    dialog.show()
    yield 0.3
    out = {"button": dialog.check_button.text(), "status_before": dialog.status.text()}
    ticks = []
    timer = QtCore.QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    said = []
    for typed in ("not-the-token", token):
        dialog.inputs["token"].setText(typed)
        dialog.inputs["base_url"].setText(base_url)
        ticks.clear()
        timer.start()
        started = time.monotonic()
        dialog.check_button.click()
        checking = dialog.status.text()
        wait_until(lambda: not dialog.checking, 30, "the token check")
        timer.stop()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        said.append(
            {
                "checking": checking,
                "said": dialog.status.text(),
                "seconds": time.monotonic() - started,
                "longest_gap": max(gaps, default=None),
                "enabled_after": dialog.check_button.isEnabled(),
            }
        )
    out["checks"] = said
    spin(0.2)
    out["shot"] = screenshot(os.path.join(out_dir, "settings-check.png"), dialog)
    dialog.reject()
    return out
