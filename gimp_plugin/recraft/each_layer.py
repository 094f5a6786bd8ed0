"""One operation on every selected layer: a job a layer, a few at once, one summary.

GIMP hands a procedure every selected drawable. The one-click operations (remove background,
upscales, vectorize, remix: those with a one-click entry in the operations table and no
selection to work on) run on each of them: each layer's job takes its pixels when it is
prepared, at most three run at once (or the saved Settings' jobs at once, which Krita's
Settings set), each result is inserted as it arrives (its own undo group, above its own layer;
an upscale opens its own image), and a layer that fails (too small, say) does not stop the
others. What happened is one line at the end (workflow.queue.Batch): "3 done, 1 failed:
layer 'logo': …".

GIMP's PDB is used from this process's main thread only: jobs run on their own threads and
are polled from here, as one job is.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from recraft_core import settings  # noqa: E402
from recraft_core.exceptions import RecraftError  # noqa: E402
from recraft_core.workflow import Job  # noqa: E402
from recraft_core.workflow.queue import DEFAULT_LIMIT, Batch, JobQueue  # noqa: E402

POLL_SECONDS = 0.1


def distinct(layers: list) -> list:
    """The layers once each, in order (a layer and its mask may both be selected)."""
    seen, out = set(), []
    for layer in layers:
        if layer.get_id() not in seen:
            seen.add(layer.get_id())
            out.append(layer)
    return out


def at_once() -> int:
    return settings.load().jobs_at_once or DEFAULT_LIMIT


def label(layer) -> str:
    return f"layer '{layer.get_name()}'"


def run_each(
    title: str, layers: list, make_job: Callable[[object], Job], limit: int | None = None
) -> tuple[Batch, list, list[str]]:
    """A prepared job for each layer (`make_job`, which may raise a RecraftError: that layer
    fails, the others go on), run `limit` at a time, each one's results inserted as it
    ends (`limit` at once: at_once() when not given). (how it went, the images the results
    opened, the notes of those done)."""
    batch, queue = Batch(), JobQueue(limit or at_once())
    labels: dict[int, str] = {}
    opened, notes = [], []
    for layer in layers:
        try:
            job = make_job(layer)
        except RecraftError as e:
            batch.failed.append((label(layer), e.user_message))
            continue
        labels[id(job)] = label(layer)
        queue.add(job)
    total = len(layers)
    Gimp.progress_init(f"Recraft: {title}, {total} layers")
    while True:
        for job in queue.poll():
            outcome = job.apply()
            batch.add(labels[id(job)], job)
            if outcome is not None:
                notes += [f"{labels[id(job)]}: {note}" for note in outcome.notes]
                if getattr(job.canvas, "opened", None) is not None:
                    opened.append(job.canvas.opened)
        if not len(queue):
            break
        ended = len(batch.done) + len(batch.failed) + len(batch.cancelled)
        Gimp.progress_set_text(f"Recraft: {title}, {ended} of {total} layers done")
        Gimp.progress_update(ended / total)
        time.sleep(POLL_SECONDS)
    Gimp.progress_end()
    return batch, opened, notes
