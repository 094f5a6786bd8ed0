"""Running jobs without blocking Krita: the network on a worker thread, Krita calls on the GUI
thread, and a timer in between. One job at a time, shared by the docker and the actions.

The session's results (for the docker's strip) and created styles live here too, so they
survive closing the docker.
"""

from __future__ import annotations

import logging

from recraft_core import Client, RecraftError
from recraft_core.workflow import Job, Options, editor_client

from .canvas import KritaCanvas, new_document, new_vector_document
from .qt import QtCore

log = logging.getLogger("recraft_krita")

POLL_MS = 50


def summary(job: Job) -> tuple[str, bool]:
    """What an ended job tells the user, and whether it is an error: its error, or its notes
    and what it cost."""
    if job.error is not None:
        return job.error.user_message, True
    outcome = job.outcome
    words = list(outcome.notes) if outcome is not None else []
    if outcome is not None and outcome.credits is not None:
        words.append(f"It cost {outcome.credits} credits.")
    return " ".join(words) or "Done.", False


def client() -> Client:
    return editor_client("Tools › Recraft › Settings")


def options() -> Options:
    return Options.saved()


class Runner(QtCore.QObject):
    """Starts a job, polls it from a GUI-thread timer, applies it when it is done."""

    changed = QtCore.pyqtSignal()  # state, progress or results changed: redraw

    def __init__(self) -> None:
        super().__init__()
        self.job: Job | None = None
        self.canvas: KritaCanvas | None = None
        self.last_error: str = ""
        self.history: list[Job] = []  # applied jobs with layers: the results strip
        self.styles: list[tuple[str, str]] = []  # (style id, label) made this session
        self.form_values: dict[str, dict] = {}  # the docker's last values, per operation
        self.balance: int | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._on_done = None
        self._applying = False
        self._balance: Job | None = None  # a quiet GET beside the user's job, never blocking it

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(
        self,
        operation: str,
        params: dict,
        canvas=None,
        references=None,
        on_done=None,
        visible: bool = False,
    ):
        """Prepare and start a job; returns it, or None when it could not start (the reason
        is in last_error). `canvas` None: the active document and layer (when the operation
        needs one), or with `visible` the whole visible image."""
        if self.busy:
            self.last_error = "A Recraft job is running: wait for it or press Cancel."
            self.changed.emit()
            return None
        try:
            needs_canvas = operation not in ("enhance_prompt", "user", "create_style")
            if canvas is None and needs_canvas:
                canvas = KritaCanvas.active(visible) if _has_document() else None
            job = Job(client(), operation, canvas, params, options=options(), references=references)
            job.prepare()
        except RecraftError as e:
            self.last_error = e.user_message
            self.changed.emit()
            return None
        self.job, self.canvas, self._on_done = job, canvas, on_done
        self.last_error = ""
        job.start()
        self._timer.start()
        self.changed.emit()
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _poll(self) -> None:
        if self._applying:  # inserting lets Qt run timers between bands: not this one again
            return
        self._poll_balance()
        job = self.job
        if job is None:
            if self._balance is None:
                self._timer.stop()
            return
        if not job.done:
            self.changed.emit()
            return
        if self._balance is None:
            self._timer.stop()
        orphaned = self.canvas is not None and not self.canvas.is_open
        # A document closed meanwhile: the result is paid for, so it opens on its own rather
        # than going nowhere (or into whatever document is active now).
        finished = job.state == "finished"
        self._applying = True
        try:
            outcome = (job.outcome if finished else None) if orphaned else job.apply()
        finally:
            self._applying = False
        self.job, self.canvas = None, None
        if job.error is not None and outcome is None:
            self.last_error = job.error.user_message
        if outcome is not None and (orphaned or job.canvas is None):
            _open_on_their_own(outcome)
            if orphaned:
                outcome.notes.append(
                    "The image was closed while Recraft worked: the result opened as a new image."
                )
        if outcome is not None:
            if (outcome.layers or outcome.vectors) and not orphaned:
                self.history.append(job)
            if outcome.style is not None:
                self.styles.append((outcome.style.id, job.params.get("prompt") or outcome.style.id))
            if outcome.user is not None:
                self.balance = outcome.user.credits
        on_done, self._on_done = self._on_done, None
        if on_done is not None:
            try:
                on_done(job)
            except Exception:  # a UI callback must not take the runner down
                log.exception("recraft: after %s", job.op.name)
        self.changed.emit()
        if job.op.name != "user" and job.error is None:
            self.refresh_balance()

    def refresh_balance(self) -> None:
        """Ask for the credits left, quietly (no token yet is not an error here), without
        holding up the user's next job."""
        if self._balance is not None:
            return
        try:
            job = Job(client(), "user", None)
            job.prepare()
        except RecraftError:
            return
        self._balance = job
        job.start()
        self._timer.start()

    def _poll_balance(self) -> None:
        job = self._balance
        if job is None or not job.done:
            return
        self._balance = None
        outcome = job.apply()
        if outcome is not None and outcome.user is not None:
            self.balance = outcome.user.credits
            self.changed.emit()


def _open_on_their_own(outcome) -> None:
    """Results with no document to go into: one new document each."""
    for layer in outcome.layers:
        new_document(layer.name, layer.image)
    for vector in outcome.vectors:
        new_vector_document(vector)
    if outcome.document is not None:
        new_document(outcome.document.name, outcome.document.image)


def _has_document() -> bool:
    from krita import Krita

    return Krita.instance().activeDocument() is not None


RUNNER: Runner | None = None


def runner() -> Runner:
    global RUNNER
    if RUNNER is None:
        RUNNER = Runner()
    return RUNNER
