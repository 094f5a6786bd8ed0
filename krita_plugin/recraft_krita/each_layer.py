"""One one-click operation on every selected layer: one queued job per layer (jobs.py's
runner), one undo step per result, one summary once all have ended ("3 done, 1 failed: layer
'logo': …"), a failure in one not stopping the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from recraft_core import RecraftError
from recraft_core.workflow import Job
from recraft_core.workflow.queue import Batch

from . import jobs
from .layered import LayeredCanvas
from .qt import QtCore

log = logging.getLogger("recraft_krita")


@dataclass
class LayerBatch:
    """One operation on several layers: told once, when every layer's job has ended."""

    total: int
    on_done: object  # callable(LayerBatch)
    batch: Batch = field(default_factory=Batch)
    ended: int = 0
    waiting: list = field(default_factory=list)  # the layers not yet read and queued

    def cancel(self) -> None:
        """Cancel all pressed: the layers not yet queued are never read nor sent."""
        waiting, self.waiting = self.waiting, []
        for node in waiting:
            self.batch.cancelled.append(layer_label(node))
            self._ended()

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


def layer_label(node) -> str:
    return f"layer '{node.name()}'"


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
    queued so far; none: the reason is in the runner's last_error (or the batch is told).

    Several layers are queued one per turn of Qt's event loop, the first at once: each job
    reads its layer when queued, and Krita then pauses for one layer's read at a time, not
    for all of them back to back (six 16 MP layers were half a second in one go)."""
    from krita import Krita

    runner = jobs.runner()
    nodes = selected_layers()
    if len(nodes) <= 1:
        job = runner.start(op.name, params, on_done=on_done, cutout=cutout)
        return [job] if job is not None else []
    document = Krita.instance().activeDocument()
    batch = LayerBatch(len(nodes), on_batch, waiting=list(nodes))
    runner.feeding.append(batch)  # Cancel all reaches the layers still waiting
    started: list = []

    def queue_next() -> None:
        if not batch.waiting:  # cancelled meanwhile
            return
        node = batch.waiting.pop(0)
        label = "a layer"
        try:
            label = layer_label(node)
            canvas = LayeredCanvas(document, node)
            job = runner.start(
                op.name, dict(params), canvas=canvas, label=label, batch=batch, cutout=cutout
            )
            if job is not None:
                started.append(job)
        except RecraftError as e:
            batch.refuse(label, e.user_message)
        except Exception as e:  # the layer or its document went meanwhile: the rest go on
            log.exception("recraft: queueing a layer")
            batch.refuse(label, f"it could not be read ({type(e).__name__})")
        if batch.waiting:
            QtCore.QTimer.singleShot(0, queue_next)
        else:
            runner.feeding.remove(batch)

    queue_next()
    return started
