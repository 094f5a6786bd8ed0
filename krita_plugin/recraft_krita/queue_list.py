"""The docker's list of queued jobs: one row each (operation, layer or prompt, stage, cost)
with its own cancel button, running ones first, then those waiting."""

from __future__ import annotations

from .qt import QtCore, QtWidgets

PROMPT_CHARS = 28


def stage_of(job) -> str:
    """Where a job is, in words: "Queued" until it starts, then its progress."""
    if job.state == "prepared":
        return "Queued"
    words = str(job.progress)
    return words[:1].upper() + words[1:]


def row_text(entry) -> str:
    job = entry.job
    parts = [job.op.title]
    prompt = job.params.get("prompt")
    if entry.label:
        parts.append(entry.label)
    if prompt:
        short = prompt if len(prompt) <= PROMPT_CHARS else prompt[: PROMPT_CHARS - 1] + "…"
        parts.append(f"“{short}”")
    parts.append(stage_of(job))
    cost = job.cost
    if cost is not None:
        parts.append(f"{cost} credits")
    return " · ".join(parts)


class QueueList(QtWidgets.QWidget):
    """Rows made when the set of jobs changes, their words updated on every refresh."""

    def __init__(self, parent, cancel) -> None:
        super().__init__(parent)
        self._cancel = cancel  # callable(job)
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(1)
        self._rows: dict[int, tuple] = {}  # job's id: (row, its words, its cancel button)
        self._order: list[int] = []
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self._font = font
        self.setVisible(False)

    @property
    def texts(self) -> list[str]:
        """Each row's words, top first (for tests and scripts)."""
        return [self._rows[key][1].text() for key in self._order]

    def cancel_button(self, index: int):
        """The cancel button of row `index` (for tests and scripts)."""
        return self._rows[self._order[index]][2]

    def refresh(self, entries) -> None:
        order = [id(entry.job) for entry in entries]
        if order != self._order:
            self._rebuild(entries)
        for entry in entries:
            label = self._rows[id(entry.job)][1]
            text = row_text(entry)
            label.setText(text)
            label.setToolTip(text)  # the whole of it, when the docker is too narrow
        self.setVisible(bool(entries))

    def _rebuild(self, entries) -> None:
        for row, *_ in self._rows.values():
            row.hide()
            row.deleteLater()
        self._rows = {}
        for entry in entries:
            row = QtWidgets.QWidget(self)
            line = QtWidgets.QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            text = QtWidgets.QLabel(row)
            text.setFont(self._font)
            text.setSizePolicy(
                QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
            )
            cancel = QtWidgets.QToolButton(row)
            cancel.setText("✕")
            cancel.setToolTip(f"Cancel this {entry.job.op.title}")
            cancel.setAutoRaise(True)
            cancel.clicked.connect(lambda _=False, job=entry.job: self._cancel(job))
            line.addWidget(text, 1)
            line.addWidget(cancel, 0, QtCore.Qt.AlignmentFlag.AlignRight)
            self._layout.addWidget(row)
            self._rows[id(entry.job)] = (row, text, cancel)
        self._order = [id(entry.job) for entry in entries]
