"""Payloads of test_krita_styles.py: run inside Krita on its GUI thread by the recraft_probe
plug-in (see recraft_probe/runner.py), as payloads.py's are.

`saved_styles`: the docker's Generate form, its Saved style list read once the library's
thread has answered, opened for a picture of the screen, a style chosen from it as a click
does, and Generate run with it; then an id typed in by hand.
"""

import os

from recraft_probe.helpers import docker, new_document, settle, spin, wait_until, write_rgba
from recraft_probe.qt import QtWidgets

DOCKER_ID = "recraft_docker"
JOB_TIMEOUT = 60


def idle(api) -> None:
    assert api.wait_idle(JOB_TIMEOUT), f"a Recraft job still runs after {JOB_TIMEOUT} s"


def saved_styles(out_dir, choose, typed):
    """Generate's form with model V3 and a prompt: what Saved style lists (names, the ids
    behind them), a screenshot with the list open, the `choose`-th row chosen and Generate
    run; then the id `typed` typed into the box: what the form would send."""
    from recraft_krita import api

    doc = new_document(320, 240, "styles")
    photo = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(photo, None)
    write_rgba(photo, 0, 0, 320, 240, bytes([90, 140, 200, 255]) * (320 * 240))
    settle(doc)
    yield
    panel = api.docker()
    panel.show()
    idle(api)
    panel.choose("generate")
    panel.set_values({"model": "recraftv3", "prompt": "a fox in the snow"})
    field = panel.form.fields["style_id"]
    box = field.widget
    wait_until(lambda: box.offered is not None, 30, "the saved styles")
    out = {
        "kind": type(box).__name__,
        "editable": box.isEditable(),
        "items": [box.itemText(i) for i in range(box.count())],
        "ids": [box.itemData(i) for i in range(box.count())],
        "placeholder": box.lineEdit().placeholderText(),
        "before": field.value(),
    }
    # The docker floated, tall enough to show the form, the field scrolled into sight: the
    # picture is of the list, wherever Krita's layout put the docker.
    dock = docker(DOCKER_ID)
    dock.setFloating(True)
    dock.resize(460, 820)
    dock.move(20, 20)
    yield 0.8
    area = box.parent()
    while area is not None and not isinstance(area, QtWidgets.QScrollArea):
        area = area.parent()
    if area is not None:
        area.ensureWidgetVisible(box)
    yield 0.3
    box.showPopup()
    yield 0.8
    popup = box.view().window()
    out["popup_visible"] = box.view().isVisible()
    out["popup_width"] = popup.width()
    out["box_width"] = box.width()
    shown = dock.frameGeometry().united(popup.frameGeometry())
    screen = QtWidgets.QApplication.primaryScreen()
    shot = screen.grabWindow(0, shown.x(), shown.y(), shown.width(), shown.height())
    path = os.path.join(out_dir, "krita-saved-style.png")
    shot.save(path, "PNG")
    out["screenshot"] = [shot.width(), shot.height()]
    box.hidePopup()
    spin(0.2)
    # A click on a row of the open list: the view's row becomes the box's current one.
    box.setCurrentIndex(choose)
    box.activated.emit(choose)
    spin(0.1)
    out["shown"] = box.currentText()
    out["value"] = field.value()
    out["sent_values"] = panel.form.values()
    panel.run()
    idle(api)
    out["message"] = panel.message
    # A pasted id (spaces around it): sent as it is, not one of the list's.
    box.lineEdit().setText(f"  {typed}  ")
    spin(0.1)
    out["typed"] = field.value()
    return out
