"""Running jobs without blocking Krita: the network on a worker thread, Krita calls on the GUI
thread, and a timer in between. One job at a time, shared by the docker and the actions.

The session's results (for the docker's strip) and the docker's form values live here too,
so they survive closing the docker.
"""

from __future__ import annotations

import logging

from recraft_core import Client, RecraftError
from recraft_core.api.operations import ACCOUNT, OPERATIONS, Operation, offered
from recraft_core.workflow import Job, Options, Outcome, editor_client

from .canvas import KritaCanvas, Worker, node_id, open_document
from .qt import QtCore

log = logging.getLogger("recraft_krita")

POLL_MS = 50
JOB_THREAD, BALANCE_THREAD = "recraft-job", "recraft-balance"
ORPHANED = "The image was closed while Recraft worked: the result opened as a new image."


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


SOURCE_ID = "source_image_id"  # the field of an operation that starts from a result's id
# The operation that starts from an earlier result (Explore similar), and those whose results
# it takes: the one it extends (Explore: its path is the start of Explore similar's) and
# itself. The table does not say which results feed which field, so this reads it off the
# paths without naming an operation.
SIMILAR: Operation | None = next((op for op in offered() if op.field(SOURCE_ID)), None)
FEEDS_SIMILAR = frozenset(
    op.name
    for op in offered()
    if SIMILAR is not None and (op is SIMILAR or SIMILAR.path.startswith(op.path + "/"))
)


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
        self.form_values: dict[str, dict] = {}  # the docker's last values, per operation
        self.balance: int | None = None
        # Each layer an Explore (or Explore similar) result went into, by the layer's unique
        # id, with Recraft's id for the image: what Explore similar starts from.
        self.image_ids: dict[str, str] = {}
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._on_done = None
        self._applying = False
        self._ending = False  # a job applied, its records and callback still to come
        self._applied: tuple | None = None  # (job, outcome, orphaned) for _end
        self._balance: Job | None = None  # a quiet GET beside the user's job, never blocking it
        # Threads of our own, started once, so that starting a job never waits for a new
        # thread to come up (Thread.start does, on the GUI thread); the balance has its own,
        # so that it never holds up the user's job.
        self._workers = {name: Worker(name) for name in (JOB_THREAD, BALANCE_THREAD)}

    @property
    def busy(self) -> bool:
        return self.job is not None

    @property
    def refreshing(self) -> bool:
        """The credits balance is being asked for."""
        return self._balance is not None

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
        uses one), or with `visible` the whole visible image."""
        if self.busy:
            self.last_error = "A Recraft job is running: wait for it or press Cancel."
            self.changed.emit()
            return None
        try:
            uses_canvas = operation in OPERATIONS and OPERATIONS[operation].uses_canvas
            if canvas is None and uses_canvas:
                canvas = KritaCanvas.active(visible) if _has_document() else None
            job = Job(
                client(),
                operation,
                canvas,
                params,
                options=options(),
                references=references,
                front_end="krita",  # its results are kept in the library the Settings name
                document=_document_name(canvas),
            )
            job.prepare()
        except RecraftError as e:
            self.last_error = e.user_message
            self.changed.emit()
            return None
        self.job, self.canvas, self._on_done = job, canvas, on_done
        self.last_error = ""
        self._run(job, JOB_THREAD)
        self._timer.start()
        self.changed.emit()
        return job

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _run(self, job: Job, worker: str) -> None:
        """job.run on our worker of that name (what job.start does on a new thread)."""
        self._workers[worker].submit(job.run)

    # -- the timer's steps -----------------------------------------------------------------------

    def _poll(self) -> None:
        """Each tick: the balance, then the user's job (its progress, or its end); the timer
        stops once neither runs."""
        if self._applying:  # inserting lets Qt run timers between bands: not this one again
            return
        if self._ending:  # applied on the last tick: what the session makes of it now
            self._end(*self._applied)
            return
        self._poll_balance()
        job = self.job
        if job is not None and not job.done:
            self.changed.emit()  # progress
            return
        if job is not None:
            self._finish(job)
        if self.job is None and self._balance is None:
            self._timer.stop()

    def _finish(self, job: Job) -> None:
        """An ended job: its results in place on this tick; the session's records and the
        caller told on the timer's next (_end). Krita redraws what went in as this tick ends
        (its own work, tens of milliseconds on a large image), and the docker's refresh right
        after it would make that one stall longer."""
        orphaned = self.canvas is not None and not self.canvas.is_open
        outcome = self._apply(job, orphaned)
        self._ending, self._applied = True, (job, outcome, orphaned)

    def _end(self, job: Job, outcome: Outcome | None, orphaned: bool) -> None:
        self._ending, self._applied = False, None
        self.job, self.canvas = None, None
        if outcome is None:
            if job.error is not None:
                self.last_error = job.error.user_message
        else:
            self._record(job, outcome, orphaned)
        self._call_back(job)
        self.changed.emit()
        if job.op.output != "account" and (job.error is None or job.error.may_have_cost):
            self.refresh_balance()  # it cost credits, or may have: the balance is stale

    def _apply(self, job: Job, orphaned: bool) -> Outcome | None:
        """The results into the job's document; when there is none (nothing was open) or it
        was closed meanwhile (`orphaned`), into a new document of their own: they are paid
        for, so they must neither go nowhere nor into whatever document is active now."""
        self._applying = True
        try:
            if orphaned:
                outcome = job.outcome if job.state == "finished" else None
            else:
                outcome = job.apply()
            if outcome is not None and (orphaned or job.canvas is None):
                self._open_apart(job, outcome, orphaned)
        finally:
            self._applying = False
        return outcome

    def _open_apart(self, job: Job, outcome: Outcome, orphaned: bool) -> None:
        """The outcome's results (if any: a style or a prompt has none) as a new document."""
        document = outcome.as_document()
        if document is None:
            return
        placed: list[tuple[str, str]] = []
        try:
            open_document(document, placed=placed)
        except Exception as e:  # Krita refused: say so rather than leave the runner stuck
            log.exception("recraft: opening %r", document)
            self.last_error = f"Krita could not open the result as a new image: {e}"
            return
        if job.op.name in FEEDS_SIMILAR:
            self.image_ids.update(placed)
        if orphaned:
            outcome.notes.append(ORPHANED)

    def _record(self, job: Job, outcome: Outcome, orphaned: bool) -> None:
        """What the session keeps: results for the docker's strip, the balance."""
        if (outcome.layers or outcome.vectors) and not orphaned:
            self.history.append(job)
            self._remember_ids(job)
        if outcome.user is not None:
            self.balance = outcome.user.credits

    def _remember_ids(self, job: Job) -> None:
        """Which layers the job's results just went into, when Explore similar can start
        from them."""
        placed = getattr(job.canvas, "placed", None)
        if not placed:
            return
        if job.op.name in FEEDS_SIMILAR:
            self.image_ids.update(placed)
        placed.clear()

    def insert_again(self, job_index: int, index: int) -> None:
        """Result `index` of the strip's job `job_index` inserted once more (RecraftError
        when Krita refused)."""
        job = self.history[job_index]
        job.insert(index)
        self._remember_ids(job)

    def image_id_of(self, node) -> str | None:
        """Recraft's id of the image in `node`, when an Explore (or Explore similar) result
        went into it this session."""
        return self.image_ids.get(node_id(node)) if node is not None else None

    def _call_back(self, job: Job) -> None:
        on_done, self._on_done = self._on_done, None
        if on_done is None:
            return
        try:
            on_done(job)
        except Exception:  # a UI callback must not take the runner down
            log.exception("recraft: after %s", job.op.name)

    def refresh_balance(self) -> None:
        """Ask for the credits left, quietly (no token yet is not an error here), without
        holding up the user's next job."""
        if self._balance is not None:
            return
        try:
            job = Job(client(), ACCOUNT, None)
            job.prepare()
        except RecraftError:
            return
        self._balance = job
        self._run(job, BALANCE_THREAD)
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


def _document_name(canvas) -> str | None:
    """What the library says a result was made in: the file's name, or the image's."""
    if canvas is None:
        return None
    document = canvas.document
    path = document.fileName()
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else document.name() or None


def _has_document() -> bool:
    from krita import Krita

    return Krita.instance().activeDocument() is not None


RUNNER: Runner | None = None


def runner() -> Runner:
    global RUNNER
    if RUNNER is None:
        RUNNER = Runner()
    return RUNNER
