"""Many jobs at once in Krita: the runner of jobs.py turned into a queue (core's JobQueue).

Run while jobs run adds one: it takes its inputs when it is queued (pixels, selection, the
form's values), so the artist goes on painting, and its result goes into the document it came
from. At most Settings' "jobs at once" run; the others wait. Every job of the queue shares one
Client, so a 429 slows them all as Recraft asks. A document closed while its jobs wait drops
them (nothing was sent, nothing is charged); its running ones open their results apart, as
one job always did.

One-click operations on several selected layers run as a `LayerBatch`: one job per layer, one
undo step per result, one summary at the end ("3 done, 1 failed: layer 'logo': …").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from recraft_core import RecraftError, settings
from recraft_core.api.operations import OPERATIONS
from recraft_core.workflow import Job, Options
from recraft_core.workflow.queue import DEFAULT_LIMIT, Batch, JobQueue

from . import jobs
from .layered import LayeredCanvas, can_mask
from .qt import QtCore

log = logging.getLogger("recraft_krita")

DROPPED = "The image was closed before this job was sent: it was dropped, nothing was charged."


def options(op, cutout: str | None = None, canvas=None) -> Options:
    """The saved amounts, soft edges as editable masks (unless Settings bake them, or this
    Krita cannot make masks), and a removed background as a cut-out of the source's own
    pixels when it is a paint layer (a group or the visible image has none of its own: a
    new 8-bit layer, as before), or as `cutout` says ("mask": on a copy of the layer)."""
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
    return limit or DEFAULT_LIMIT


@dataclass
class LayerBatch:
    """One operation on several layers: told once, when every layer's job has ended."""

    total: int
    on_done: object  # callable(LayerBatch)
    batch: Batch = field(default_factory=Batch)
    ended: int = 0

    def add(self, label: str, job: Job) -> None:
        self.batch.add(label, job)
        self._ended()

    def refuse(self, label: str, why: str) -> None:
        """A layer no job could be made for."""
        self.batch.failed.append((label, why))
        self._ended()

    def _ended(self) -> None:
        self.ended += 1
        if self.ended == self.total and self.on_done is not None:
            try:
                self.on_done(self)
            except Exception:  # a UI callback must not take the queue down
                log.exception("recraft: after a batch")

    def summary(self) -> str:
        return self.batch.summary()

    @property
    def ok(self) -> bool:
        return self.batch.ok


@dataclass
class Entry:
    """What the queue keeps beside a job: where it goes and whom to tell."""

    job: Job
    canvas: LayeredCanvas | None
    on_done: object = None
    label: str = ""
    batch: LayerBatch | None = None
    dropped: bool = False


def layer_label(node) -> str:
    return f"layer '{node.name()}'"


class QueueRunner(jobs.Runner):
    """jobs.Runner's single job made a queue: same signals, results strip, balance and ids."""

    def __init__(self) -> None:
        self._entries: dict[int, Entry] = {}
        super().__init__()
        self.queue = JobQueue(jobs_at_once())
        self._ended: list[Job] = []  # ended, not yet applied: one per tick
        self._client = None

    # jobs.Runner keeps one job and its canvas in attributes; here they are read off the queue.
    @property
    def job(self) -> Job | None:
        """The newest job in flight (what a script that just pressed Run follows)."""
        found = [e.job for e in self._entries.values()]
        return found[-1] if found else None

    @job.setter
    def job(self, value) -> None:
        pass

    @property
    def canvas(self):
        job = self.job
        return self._entries[id(job)].canvas if job is not None else None

    @canvas.setter
    def canvas(self, value) -> None:
        pass

    @property
    def busy(self) -> bool:
        return bool(self._entries)

    @property
    def entries(self) -> list[Entry]:
        """Jobs in flight, then those waiting, each in the order they came."""
        return [self._entries[id(job)] for job in self.queue.jobs if id(job) in self._entries]

    def label_of(self, job: Job) -> str:
        entry = self._entries.get(id(job))
        return entry.label if entry is not None else ""

    def start(
        self,
        operation: str,
        params: dict,
        canvas=None,
        references=None,
        on_done=None,
        visible: bool = False,
        label: str = "",
        batch: LayerBatch | None = None,
        cutout: str | None = None,
    ):
        """Prepare a job now (its inputs read here, on the GUI thread) and queue it; returns
        it, or None when it could not be prepared (the reason in last_error, or told to the
        batch)."""
        job = None
        try:
            uses_canvas = operation in OPERATIONS and OPERATIONS[operation].uses_canvas
            if canvas is None and uses_canvas:
                canvas = LayeredCanvas.active(visible) if jobs._has_document() else None
            job = Job(
                self._shared_client(),
                operation,
                canvas,
                params,
                options=options(OPERATIONS[operation], cutout, canvas),
                references=references,
                front_end="krita",
                document=jobs._document_name(canvas),
            )
            job.prepare()
        except RecraftError as e:
            if batch is not None and job is not None:
                batch.add(label, job)  # refused before anything was sent: its reason told
            else:
                self.last_error = e.user_message
            self.changed.emit()
            return None
        self._entries[id(job)] = Entry(job, canvas, on_done, label, batch)
        self.queue.limit = max(1, jobs_at_once())
        self.queue.add(job)
        self.last_error = ""
        self._ended += self.queue.poll()  # starts it now when there is room
        self._timer.start()
        self.changed.emit()
        return job

    def _shared_client(self):
        """One Client while jobs are queued (its transport holds them all on a 429); a new
        one, with today's settings, once the queue is empty."""
        if self._client is None or not self._entries:
            self._client = jobs.client()
        return self._client

    def cancel(self) -> None:
        """Every job, waiting or running."""
        self.queue.cancel_all()

    def cancel_job(self, job: Job) -> None:
        self.queue.cancel(job)

    # -- the timer's steps -----------------------------------------------------------------------

    def _poll(self) -> None:
        if self._applying or self._ending:
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
        entry = self._entries.get(id(job))
        canvas = entry.canvas if entry is not None else None
        orphaned = canvas is not None and not canvas.is_open
        outcome = self._apply(job, orphaned)
        self._ending = True
        QtCore.QTimer.singleShot(0, lambda: self._end(job, outcome, orphaned))

    def _end(self, job: Job, outcome, orphaned: bool) -> None:
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
            self._on_done = entry.on_done
            self._call_back(job)
        self.changed.emit()
        if job.op.output != "account" and (job.error is None or job.error.may_have_cost):
            self.refresh_balance()
        if self._entries or self._ended:
            self._timer.start()


def per_layer(op) -> bool:
    """Whether `op` runs on every selected layer: the one-click operations that read a
    layer and need no selection."""
    return bool(op.offer.action) and op.reads_layer and not op.needs_selection


def selected_layers() -> list:
    """The layers selected in the active view (Krita's multi-selection), masks left out; the
    active layer when the view has none."""
    from krita import Krita

    krita = Krita.instance()
    document = krita.activeDocument()
    if document is None:
        return []
    window = krita.activeWindow()
    view = window.activeView() if window is not None else None
    nodes = []
    if view is not None and view.document() == document:
        nodes = [n for n in view.selectedNodes() if not n.type().endswith("mask")]
    if not nodes and document.activeNode() is not None:
        nodes = [document.activeNode()]
    return nodes


def start_on_layers(op, params: dict, on_done, on_batch, cutout: str | None = None) -> list:
    """`op` on every selected layer, one job each (one layer: as one job always ran, told to
    `on_done`; several: a LayerBatch told to `on_batch` once all ended). Returns the jobs
    queued; none: the reason is in the runner's last_error (or the batch was told)."""
    from krita import Krita

    queue = runner()
    nodes = selected_layers()
    if len(nodes) <= 1:
        job = queue.start(op.name, params, on_done=on_done, cutout=cutout)
        return [job] if job is not None else []
    document = Krita.instance().activeDocument()
    batch = LayerBatch(len(nodes), on_batch)
    started = []
    for node in nodes:
        label = layer_label(node)
        try:
            canvas = LayeredCanvas(document, node)
        except RecraftError as e:
            batch.refuse(label, e.user_message)
            continue
        job = queue.start(
            op.name, dict(params), canvas=canvas, label=label, batch=batch, cutout=cutout
        )
        if job is not None:
            started.append(job)
    return started


def runner() -> QueueRunner:
    """The session's runner: a queue (jobs.runner() hands out this one too)."""
    if not isinstance(jobs.RUNNER, QueueRunner):
        jobs.RUNNER = QueueRunner()
    return jobs.RUNNER


# jobs.runner() is what scripts, tests and the other modules ask for: the queue too.
jobs.runner = runner
