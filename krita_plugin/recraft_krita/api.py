"""For scripts and tests inside Krita: the docker, and waiting for the running job. The
plug-in itself never imports this module."""

from __future__ import annotations

import time

from . import docker as _docker
from . import jobs
from .qt import QtCore, QtWidgets


def docker():
    """The Recraft docker of the active window (the newest one), or None."""
    return _docker.current()


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
