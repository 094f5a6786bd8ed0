"""Running jobs without blocking Krita: a queue of them (core's JobQueue), the network on
threads of our own, Krita calls on the GUI thread, and a timer in between. One runner for the
session, shared by the docker and the actions.

Run while jobs run adds one: it takes its inputs when it is queued (pixels, selection, the
form's values), so the artist goes on painting, and its result goes into the document it came
from. At most Settings' "jobs at once" run; the others wait. Every job of the queue shares one
Client, so a 429 slows them all as Recraft asks. A document closed while its jobs wait drops
them (nothing was sent, nothing is charged); its running ones open their results apart.

The session's results (for the docker's strip), what Explore similar starts from and the
docker's form values live here too, so they survive closing the docker.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, replace

from recraft_core import Client, RecraftError, settings
from recraft_core.api.operations import ACCOUNT, OPERATIONS, Operation
from recraft_core.workflow import Job, Options, Outcome, editor_client, similar
from recraft_core.workflow.queue import DEFAULT_LIMIT, JobQueue

from .canvas import Worker, in_krita_words, node_id
from .layered import LayeredCanvas, can_mask, open_document
from .qt import QtCore

log = logging.getLogger("recraft_krita")

POLL_MS = 50
STRIP_JOBS = 12  # jobs whose results the docker's strip keeps, newest first
JOB_THREAD, STARTER_THREAD, BALANCE_THREAD = "recraft-job", "recraft-starter", "recraft-balance"
ENCODER_THREAD = "recraft-encoder"
ORPHANED = "The image was closed while Recraft worked: the result opened as a new image."
DROPPED = "The image was closed before this job was sent: it was dropped, nothing was charged."


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


def options(op: Operation, cutout: str | None = None, canvas=None) -> Options:
    """The saved amounts, soft edges as editable masks (unless Settings bake them, or this
    Krita cannot make masks), and a removed background as a cut-out of the source's own
    pixels when it is a paint layer (a group or the visible image has none of its own: a
    new 8-bit layer), or as `cutout` says ("mask": on a copy of the layer)."""
    chosen = Options.saved(masks=can_mask())
    if not op.cuts_out:
        return chosen
    if cutout:
        return replace(chosen, cutout=cutout)
    own = canvas is not None and not canvas.visible and canvas.node.type() == "paintlayer"
    return replace(chosen, cutout="layer") if own else chosen


def jobs_at_once() -> int:
    try:
        limit = settings.load().jobs_at_once
    except Exception:  # unreadable settings: the Settings dialog says so, not the queue
        limit = None
    return max(1, limit or DEFAULT_LIMIT)


@dataclass
class Entry:
    """What the runner keeps beside a queued job: where it goes and whom to tell."""

    job: Job
    canvas: LayeredCanvas | None
    on_done: object = None  # callable(job), when no batch is told instead
    label: str = ""  # the layer's, in a batch
    batch: object = None  # a each_layer.LayerBatch: told with `add(label, job)` once it ends
    dropped: bool = False  # its document closed before it was sent


class JobThreads:
    """Threads of our own that run the queue's jobs, as many as may run at once, taking them
    in the order they are handed over. Started ahead, by a thread of ours: starting a thread
    makes the caller wait until it runs (tens of milliseconds on a busy machine), and the
    caller here is Krita's GUI thread. A job handed over before its thread is up waits for
    it; it is not sent before, and a cancel still ends it at once."""

    def __init__(self, count: int) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._count = 0  # threads started, or asked of the starter
        self._starter = Worker(STARTER_THREAD)
        self.grow(count)

    def grow(self, count: int) -> None:
        """At least `count` threads (Settings may allow more jobs at once than before)."""
        while self._count < count:
            self._count += 1
            self._starter.submit(self._thread(f"{JOB_THREAD}-{self._count}").start)

    def start(self, job: Job) -> None:
        """JobQueue's way to start a job: job.run on the next thread free."""
        self._jobs.put(job)

    def _thread(self, name: str) -> threading.Thread:
        return threading.Thread(target=self._serve, name=name, daemon=True)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job.run()
            except Exception:  # run never raises; should it, this thread must not end
                log.exception("recraft: %s", threading.current_thread().name)


class Runner(QtCore.QObject):
    """The session's jobs: queued on the GUI thread, run on ours, polled from a GUI-thread
    timer, applied one per tick as they end."""

    changed = QtCore.pyqtSignal()  # state, progress or results changed: redraw

    def __init__(self) -> None:
        super().__init__()
        self.last_error: str = ""
        # Applied jobs with layers, the results strip: the newest STRIP_JOBS keep their
        # pixels; older ones are None (in History, from the library), indexes unchanged.
        self.history: list[Job | None] = []
        self.form_values: dict[str, dict] = {}  # the docker's last values, per operation
        self.balance: int | None = None
        # Each layer an Explore (or Explore similar) result went into, by the layer's unique
        # id, with Recraft's id for the image: what Explore similar starts from.
        self.image_ids: dict[str, str] = {}
        limit = jobs_at_once()
        self._threads = JobThreads(limit)
        # The waiting jobs' files made one at a time while the running ones wait for Recraft
        # (one thread: on a machine of few cores, never against the running jobs' encoding).
        self._encoder = Worker(ENCODER_THREAD)
        self.queue = JobQueue(
            limit,
            start=self._threads.start,
            ahead=lambda job: self._encoder.submit(job.encode_ahead),
        )
        self._entries: dict[int, Entry] = {}  # by id(job): the jobs queued and not yet told
        # Operations on several layers still queueing them, one a turn (each_layer.py).
        self.feeding: list = []
        self._reading = False  # a job reads its inputs, letting Qt's timers run between bands
        self._ended: list[Job] = []  # ended, not yet applied: one per tick
        self._client: Client | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._applying = False
        self._ending = False  # a job applied, its records and callback still to come
        self._balance: Job | None = None  # a quiet GET beside the user's jobs, never blocking
        self._balance_thread = Worker(BALANCE_THREAD)  # never held up by the jobs, nor they

    @property
    def job(self) -> Job | None:
        """The newest job in flight (what a script that just pressed Run follows)."""
        found = [entry.job for entry in self._entries.values()]
        return found[-1] if found else None

    @property
    def busy(self) -> bool:
        return bool(self._entries)

    @property
    def refreshing(self) -> bool:
        """The credits balance is being asked for."""
        return self._balance is not None

    @property
    def entries(self) -> list[Entry]:
        """Jobs in flight, then those waiting, each in the order they came."""
        return [self._entries[id(job)] for job in self.queue.jobs if id(job) in self._entries]

    def start(
        self,
        operation: str,
        params: dict,
        canvas=None,
        references=None,
        reference_names=None,
        on_done=None,
        visible: bool = False,
        label: str = "",
        batch=None,
        cutout: str | None = None,
    ):
        """Prepare a job now (its inputs read here, on the GUI thread) and queue it; returns
        it, or None when it could not be prepared (the reason in last_error, or told to the
        batch). `canvas` None: the active document and layer (when the operation uses one),
        or with `visible` the whole visible image."""
        job = None
        try:
            op = OPERATIONS.get(operation)
            if canvas is None and op is not None and op.uses_canvas:
                canvas = LayeredCanvas.active(visible) if _has_document() else None
            job = Job(
                self._shared_client(),
                operation,
                canvas,
                params,
                options=options(op, cutout, canvas) if op is not None else None,
                references=references,
                reference_names=reference_names,  # a created style's label in the forms
                # A result with no image to go into decodes as one with an image does: Qt's
                # C++ decoder, ten times as fast as the pure-Python one (30 against 300 ms
                # for a 1024 x 1024 photo here) and holding the GIL less.
                codec=LayeredCanvas.codec,
                front_end="krita",  # its results are kept in the library the Settings name
                document=_document_name(canvas, references),
            )
            self._reading = True
            try:
                job.prepare()
            finally:
                self._reading = False
        except RecraftError as e:
            if batch is not None and job is not None:
                batch.add(label, job)  # refused before anything was sent: its reason told
            else:
                self.last_error = in_krita_words(e, canvas).user_message
            self.changed.emit()
            return None
        self._entries[id(job)] = Entry(job, canvas, on_done, label, batch)
        self.queue.limit = jobs_at_once()
        self._threads.grow(self.queue.limit)
        self.queue.add(job)
        self.last_error = ""
        self._ended += self.queue.poll()  # handed to a thread of ours now when there is room
        self._timer.start()
        self.changed.emit()
        return job

    def _shared_client(self) -> Client:
        """One Client while jobs are queued (its transport holds them all on a 429); a new
        one, with today's settings, once the queue is empty."""
        if self._client is None or not self._entries:
            if self._client is not None:
                self._client.close()  # no job uses it now: its connections go
            self._client = client()
        return self._client

    def cancel(self) -> None:
        """Every job, waiting or running, and the layers not yet queued."""
        for feeder in list(self.feeding):
            feeder.cancel()
        self.queue.cancel_all()

    def cancel_job(self, job: Job) -> None:
        self.queue.cancel(job)

    # -- the timer's steps -----------------------------------------------------------------------

    def _poll(self) -> None:
        """Each tick: the balance, the jobs of closed documents dropped, then one ended job
        applied, or the progress redrawn; the timer stops once nothing runs."""
        # Inserting and reading let Qt run timers: not this one meanwhile (a result inserted
        # halfway through a read of the visible image would tear what is sent).
        if self._applying or self._ending or self._reading:
            return
        self._poll_balance()
        self._drop_closed()
        self._ended += self.queue.poll()
        if self._ended:
            # One result per tick: Krita redraws what went in between two of them.
            self._finish(self._ended.pop(0))
            return
        if self._entries:
            self.changed.emit()  # progress
            return
        if self._balance is None:
            self._timer.stop()

    def _drop_closed(self) -> None:
        """The waiting jobs of documents closed meanwhile: never sent."""
        closed = {
            id(job)
            for job in self.queue.waiting
            if (entry := self._entries.get(id(job))) is not None
            and entry.canvas is not None
            and not entry.canvas.is_open
        }
        if not closed:
            return
        for job in self.queue.drop_waiting(lambda job: id(job) in closed):
            self._entries[id(job)].dropped = True

    def _finish(self, job: Job) -> None:
        """An ended job: its results in place on this tick; the session's records and the
        caller told right after (_end). Krita redraws what went in as this tick ends (its own
        work, tens of milliseconds on a large image), and the docker's refresh in the same
        tick would make that one stall longer."""
        entry = self._entries.get(id(job))
        canvas = entry.canvas if entry is not None else None
        orphaned = canvas is not None and not canvas.is_open
        outcome = self._apply(job, orphaned)
        self._ending = True
        QtCore.QTimer.singleShot(0, lambda: self._end(job, outcome, orphaned))

    def _end(self, job: Job, outcome: Outcome | None, orphaned: bool) -> None:
        self._ending = False
        entry = self._entries.pop(id(job), None) or Entry(job, None)
        if outcome is not None:
            self._record(job, outcome, orphaned)
        elif entry.batch is None:
            if entry.dropped:
                self.last_error = DROPPED
            elif job.error is not None:
                self.last_error = job.error.user_message
        if entry.batch is not None:
            entry.batch.add(entry.label, job)
        elif entry.on_done is not None:
            try:
                entry.on_done(job)
            except Exception:  # a UI callback must not take the runner down
                log.exception("recraft: after %s", job.op.name)
        self.changed.emit()
        if job.op.output != "account" and (job.error is None or job.error.may_have_cost):
            self.refresh_balance()  # it cost credits, or may have: the balance is stale
        if self._entries or self._ended:
            self._timer.start()

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
        if similar.feeds(job.op):
            self.image_ids.update(placed)
        if orphaned:
            outcome.notes.append(ORPHANED)

    def _record(self, job: Job, outcome: Outcome, orphaned: bool) -> None:
        """What the session keeps: results for the docker's strip, the balance."""
        if (outcome.layers or outcome.vectors) and not orphaned:
            self.history.append(job)
            if len(self.history) > STRIP_JOBS:
                self.history[-STRIP_JOBS - 1] = None
            self._remember_ids(job)
        if outcome.user is not None:
            self.balance = outcome.user.credits

    def _remember_ids(self, job: Job) -> None:
        """Which layers the job's results just went into, when Explore similar can start
        from them."""
        placed = getattr(job.canvas, "placed", None)
        if not placed:
            return
        if similar.feeds(job.op):
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

    def refresh_balance(self) -> None:
        """Ask for the credits left, quietly (no token yet is not an error here), without
        holding up the user's jobs."""
        if self._balance is not None:
            return
        try:
            job = Job(client(), ACCOUNT, None)
            job.prepare()
        except RecraftError:
            return
        self._balance = job
        self._balance_thread.submit(job.run)
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


def _document_name(canvas, references=None) -> str | None:
    """What the library says a result was made in: the file's name, or the image's. A job
    with no canvas but layers read as references (a style) was made from the active
    document's layers: its name (the docker reads them there just before it queues)."""
    if canvas is not None:
        document = canvas.document
    elif references:
        from krita import Krita

        document = Krita.instance().activeDocument()
    else:
        return None
    if document is None:
        return None
    path = document.fileName()
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else document.name() or None


def _has_document() -> bool:
    from krita import Krita

    return Krita.instance().activeDocument() is not None


RUNNER: Runner | None = None


def runner() -> Runner:
    """The session's runner, made on first use (on the GUI thread)."""
    global RUNNER
    if RUNNER is None:
        RUNNER = Runner()
    return RUNNER
