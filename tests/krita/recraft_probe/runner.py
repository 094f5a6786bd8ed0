"""Runs one payload inside Krita and writes its outcome for the test that started Krita.

The test names the payload in the environment:

    RECRAFT_PROBE_PAYLOAD  a .py file
    RECRAFT_PROBE_CALL     the function in it to call as f(out_dir, **args), on the GUI thread
    RECRAFT_PROBE_ARGS     the args as a JSON object
    RECRAFT_PROBE_RESULT   where to write the outcome, JSON:
                           {"ok", "value", "error", "errors", "seconds", "krita"}
    RECRAFT_PROBE_OUT      a folder for the payload's files

Krita then exits at once with os._exit: 0 when the payload returned, 1 when it raised, 2 when a
modal dialog blocked it. Skipping Krita's shutdown skips its "save changes?" dialogs too.

A payload may be a generator: each `yield` returns to Krita's main loop (`yield 0.5`: for half
a second) and the runner resumes it from a timer; its `return` value is the result. This
matters because Krita (KisApplication::notify) postpones its synchronized events while any
event is being handled, nested event loops included: a layer added inside the payload reaches
the Layers docker, the canvas's shapes and the node manager (so it can become the active layer)
only once the payload yields. Waiting on timers, threads and the plug-in's jobs works in nested
loops (helpers.wait_until).
"""

import inspect
import json
import os
import runpy
import sys
import threading
import time
import traceback

from .qt import QtCore, QtWidgets

# Uncaught exceptions of any thread (the plug-in's slots, timers and workers included): the
# test expects none. Krita's own hook would open a modal dialog and block a headless run.
ERRORS: list[str] = []

_STARTED = time.time()


def _record(exc_type, exc, tb) -> None:
    ERRORS.append("".join(traceback.format_exception(exc_type, exc, tb)))


def install_hooks() -> None:
    sys.excepthook = _record
    threading.excepthook = lambda args: _record(args.exc_type, args.exc_value, args.exc_traceback)


def _krita_version() -> str | None:
    try:
        from krita import Krita

        return Krita.instance().version()
    except Exception:
        return None


def write_result(**outcome) -> None:
    outcome.setdefault("value", None)
    outcome.setdefault("error", None)
    outcome.update(
        errors=list(ERRORS), seconds=round(time.time() - _STARTED, 3), krita=_krita_version()
    )
    path = os.environ["RECRAFT_PROBE_RESULT"]
    try:
        text = json.dumps(outcome)
    except (TypeError, ValueError) as e:
        outcome.update(ok=False, value=None, error=f"the payload's value is not JSON: {e}")
        text = json.dumps(outcome)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)  # the test never reads half a file


def hard_exit(code: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _describe(widget) -> str:
    title = widget.windowTitle() or widget.metaObject().className()
    text = widget.text() if isinstance(widget, QtWidgets.QMessageBox) else ""
    return f"{title!r} ({widget.metaObject().className()}) {text}".strip()


class ModalWatchdog(QtCore.QObject):
    """A modal dialog waits forever for a click on a headless display. Its nested event loop
    still runs timers: report the dialog and exit once it has stayed `grace` seconds."""

    def __init__(self, grace: float = 2.0) -> None:
        super().__init__()
        self.grace = grace
        self._since: float | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self._check)
        self._timer.start(250)

    def _check(self) -> None:
        widget = QtWidgets.QApplication.activeModalWidget()
        if widget is None:
            self._since = None
            return
        self._since = self._since or time.time()
        if time.time() - self._since >= self.grace:
            write_result(ok=False, error=f"a modal dialog blocked the payload: {_describe(widget)}")
            hard_exit(2)


def start() -> None:
    """Call the payload, then exit Krita. A generator payload is resumed from Krita's main
    loop after each `yield` (its value: seconds to wait first)."""
    try:
        namespace = runpy.run_path(os.environ["RECRAFT_PROBE_PAYLOAD"], run_name="__payload__")
        call = namespace[os.environ.get("RECRAFT_PROBE_CALL", "run")]
        args = json.loads(os.environ.get("RECRAFT_PROBE_ARGS") or "{}")
        value = call(os.environ.get("RECRAFT_PROBE_OUT") or os.getcwd(), **args)
    except BaseException:
        _finish(error=traceback.format_exc())
        return
    if inspect.isgenerator(value):
        _resume(value)
    else:
        _finish(value=value)


def _resume(steps) -> None:
    try:
        pause = next(steps)
    except StopIteration as done:
        _finish(value=done.value)
        return
    except BaseException:
        _finish(error=traceback.format_exc())
        return
    # A timer event of its own, so the step after it starts from the main loop.
    QtCore.QTimer.singleShot(int((pause or 0) * 1000), lambda: _resume(steps))


def _finish(value=None, error: str | None = None) -> None:
    write_result(ok=error is None, value=value, error=error)
    hard_exit(0 if error is None else 1)
