"""Test harness plug-in: runs the payload the test names (see runner.py), then exits Krita.

Installed beside the plug-in under test; it does nothing unless RECRAFT_PROBE_PAYLOAD is set.
"""

import os

if os.environ.get("RECRAFT_PROBE_PAYLOAD"):
    from krita import Extension, Krita

    from . import runner
    from .qt import QtCore

    # As early as this plug-in loads: errors and dialogs from the plug-in under test's own
    # start-up are caught too.
    runner.install_hooks()

    class Probe(Extension):
        def setup(self) -> None:
            self._watchdog = runner.ModalWatchdog()
            self._started = False
            Krita.instance().notifier().windowCreated.connect(self._window_created)

        def createActions(self, window) -> None:
            pass

        def _window_created(self) -> None:
            # Once the event loop runs, so the window and its dockers are complete.
            QtCore.QTimer.singleShot(0, self._run)

        def _run(self) -> None:
            if self._started:  # one payload per Krita, even if another window opens
                return
            self._started = True
            runner.start()

    Krita.instance().addExtension(Probe(Krita.instance()))
