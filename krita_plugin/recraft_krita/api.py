"""For scripts and tests inside Krita: the docker, and waiting for the running job."""

from __future__ import annotations

import time

from . import docker as _docker
from . import jobs
from .qt import QtCore, QtWidgets


def docker():
    """The Recraft docker of the active window (the newest one), or None."""
    live = [d for d in _docker.DOCKERS if _alive(d)]
    visible = [d for d in live if d.isVisible()]
    return (visible or live or [None])[-1]


def runner() -> jobs.Runner:
    return jobs.runner()


def wait_idle(timeout: float = 60.0) -> bool:
    """Spin Qt's event loop until no Recraft job runs; False on timeout."""
    end = time.monotonic() + timeout
    while jobs.runner().busy:
        if time.monotonic() > end:
            return False
        QtWidgets.QApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    QtWidgets.QApplication.processEvents()
    return True


def _alive(widget) -> bool:
    try:
        widget.objectName()
    except RuntimeError:  # its C++ side was deleted
        return False
    return True
