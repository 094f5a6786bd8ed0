"""Progress of one call, as a stage and a fraction, for a progress bar or a log line."""

from __future__ import annotations

from dataclasses import dataclass

# Stages in the order a job goes through them, with the words a user sees.
STAGES = {
    "preparing": "preparing",
    "encoding": "encoding the image",
    "uploading": "uploading",
    "waiting": "waiting for Recraft",
    "downloading": "downloading",
    "decoding": "decoding the result",
    "placing": "placing the result",
    "done": "done",
}


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int = 0  # bytes, or items, of this stage
    total: int | None = None  # None: unknown (a spinner, not a bar)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)

    def __str__(self) -> str:
        words = STAGES.get(self.stage, self.stage)
        return words if self.fraction is None else f"{words} {self.fraction:.0%}"
