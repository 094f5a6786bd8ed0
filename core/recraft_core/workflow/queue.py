"""Many jobs at once: a queue an editor feeds from its UI thread and polls from a timer.

    queue = JobQueue(limit=3)
    job.prepare(); queue.add(job)        # UI thread: the job took its inputs when prepared
    for job in queue.poll(): job.apply() # UI thread, on a timer: starts what may start,
                                         # hands back what finished, oldest first

`start` says how a job is started: a new thread each (Job.start) unless the editor gives
threads of its own (`start=lambda job: pool.submit(job.run)`), so that its UI thread never
waits for a new thread to come up. `ahead`, when given, is handed each waiting job once, as
soon as every running job has made its files (`ahead=lambda job: encoder.submit(
job.encode_ahead)`): the waiting ones are encoded while the running ones wait for Recraft,
not alongside their encoding, and each is sent as soon as its turn comes.

A prepared job holds everything it sends (pixels, selection, values), so the artist may go on
painting, change the selection or switch documents while it waits. At most `limit` run at
once; the others wait in the order they came. A 429 from Recraft slows every job: they share
one Client, whose transport waits as Recraft asks before any of them sends again.

`Batch` tells how a set of jobs went, in one line ("12 done, 1 failed: …").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..exceptions import Cancelled
from .job import Job

DEFAULT_LIMIT = 3


class JobQueue:
    """Jobs waiting, running, and finished but not yet handed back. Not thread-safe: the
    editor's UI thread calls every method (the jobs themselves run on their own threads)."""

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        start: Callable[[Job], object] | None = None,
        ahead: Callable[[Job], object] | None = None,
    ):
        self.limit = max(1, limit)
        self._start = start or Job.start
        self._ahead = ahead
        self._handed: set[int] = set()  # id() of the waiting jobs handed to `ahead`
        self.waiting: list[Job] = []
        self.running: list[Job] = []

    def __len__(self) -> int:
        return len(self.waiting) + len(self.running)

    @property
    def jobs(self) -> list[Job]:
        """Running first, then waiting, each in the order they came: what a list shows."""
        return [*self.running, *self.waiting]

    def add(self, job: Job) -> None:
        """Queue a prepared job; it starts at the next poll if there is room."""
        if job.state != "prepared":
            raise ValueError(f"only a prepared job can be queued, not a {job.state} one")
        self.waiting.append(job)

    def poll(self) -> list[Job]:
        """Start what may start; return the jobs that ended since the last poll (done,
        failed or cancelled), in the order they came, for the caller to apply or report."""
        ended = [job for job in self.running if job.done]
        self.running = [job for job in self.running if not job.done]
        # Cancelled before they were sent: they end here, never started.
        ended += [job for job in self.waiting if job.state == "cancelled"]
        self.waiting = [job for job in self.waiting if job.state != "cancelled"]
        self._handed.intersection_update(id(job) for job in self.waiting)
        while self.waiting and len(self.running) < self.limit:
            job = self.waiting.pop(0)
            self._handed.discard(id(job))
            self._start(job)
            self.running.append(job)
        if self._ahead is not None and all(job.encoded for job in self.running):
            for job in self.waiting:
                if id(job) not in self._handed:
                    self._handed.add(id(job))
                    self._ahead(job)
        return ended

    def cancel(self, job: Job) -> None:
        """Cancel one job, waiting (it never starts) or running; it comes back from the
        next poll."""
        job.cancel()

    def cancel_all(self) -> None:
        for job in self.jobs:
            self.cancel(job)

    def drop_waiting(self, which: Callable[[Job], bool]) -> list[Job]:
        """Cancel the waiting jobs `which` picks (those of a document being closed: nothing
        of theirs was sent, so nothing is charged). Running ones go on."""
        dropped = [job for job in self.waiting if which(job)]
        for job in dropped:
            job.cancel()
        return dropped


@dataclass
class Batch:
    """How a set of jobs went, each under a label (a layer's or a file's name)."""

    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (label, why)
    cancelled: list[str] = field(default_factory=list)

    def add(self, label: str, job: Job) -> None:
        if job.error is None and job.state in ("finished", "applied"):
            self.done.append(label)
        elif isinstance(job.error, Cancelled):
            self.cancelled.append(label)
        else:
            why = job.error.user_message if job.error is not None else f"it is {job.state}"
            self.failed.append((label, why))

    @property
    def ok(self) -> bool:
        return not self.failed and not self.cancelled

    def summary(self) -> str:
        """ "12 done, 1 failed: layer 'logo': <why>" (every failure named, each once)."""
        parts = [f"{len(self.done)} done"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.cancelled:
            parts.append(f"{len(self.cancelled)} cancelled")
        text = ", ".join(parts)
        if self.failed:
            text += ": " + "; ".join(f"{label}: {why}" for label, why in self.failed)
        return text
