"""The docker's list of queued jobs: one row each with its own cancel button, running ones
first, then those waiting. A row is two lines: what the job is (operation, layer or prompt),
then where it is and what it costs; each line is cut with "…" to the docker's width, so the
stage, the part that changes, is never what a narrow docker hides."""

from __future__ import annotations

from .qt import QtCore, QtGui, QtWidgets

TIP_CHARS = 300  # of a prompt, in a row's tooltip (a prompt may be 2000 characters long)


def stage_of(job) -> str:
    """Where a job is, in words: "Queued" until it starts, then its progress."""
    if job.state == "prepared":
        return "Queued"
    words = str(job.progress)
    return words[:1].upper() + words[1:]


def what_text(entry, cut: int | None = None) -> str:
    """The row's first line: operation, layer (in a batch), prompt (cut at `cut`)."""
    job = entry.job
    parts = [job.op.title]
    prompt = " ".join(str(job.params.get("prompt") or "").split())
    if entry.label:
        parts.append(entry.label)
    if prompt:
        if cut is not None and len(prompt) > cut:
            prompt = prompt[: cut - 1] + "…"
        parts.append(f"“{prompt}”")
    return " · ".join(parts)


def where_text(entry) -> str:
    """The row's second line: the stage, and the cost when known."""
    job = entry.job
    parts = [stage_of(job)]
    if job.cost is not None:
        parts.append(f"{job.cost} credits")
    return " · ".join(parts)


class ElidedLabel(QtWidgets.QLabel):
    """One line of text cut with "…" to the width it is given (a QLabel would cut it
    mid-letter); the whole text stays in `full`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.full = ""
        # Any width: the docker decides, the text adapts.
        self.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.setMinimumWidth(1)

    def set_full(self, text: str) -> None:
        if text != self.full:
            self.full = text
            self._elide()

    def resizeEvent(self, event) -> None:  # Qt's name
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = QtGui.QFontMetrics(self.font())
        width = max(1, self.contentsRect().width())
        shown = metrics.elidedText(self.full, QtCore.Qt.TextElideMode.ElideRight, width)
        if shown != self.text():
            self.setText(shown)


def _dim(label) -> None:
    """Drawn in the theme's dimmed colour: a second line, read after the first."""
    palette = label.palette()
    role = QtGui.QPalette.ColorRole.WindowText
    palette.setColor(role, palette.color(QtGui.QPalette.ColorGroup.Disabled, role))
    label.setPalette(palette)


class QueueList(QtWidgets.QWidget):
    """Rows made when the set of jobs changes, their words updated on every refresh."""

    def __init__(self, parent, cancel) -> None:
        super().__init__(parent)
        self._cancel = cancel  # callable(job)
        self._layout = QtWidgets.QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        # job's id: (row, its first line, its second line, its cancel button)
        self._rows: dict[int, tuple] = {}
        self._order: list[int] = []
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self._font = font
        self.setVisible(False)

    @property
    def texts(self) -> list[str]:
        """Each row's whole words on one line, top first (for tests and scripts)."""
        return [f"{self._rows[k][1].full} · {self._rows[k][2].full}" for k in self._order]

    @property
    def shown(self) -> list[tuple[str, str]]:
        """Each row's two lines as they show now, cut to the docker's width, top first."""
        return [(self._rows[key][1].text(), self._rows[key][2].text()) for key in self._order]

    def cancel_button(self, index: int):
        """The cancel button of row `index` (for tests and scripts)."""
        return self._rows[self._order[index]][3]

    def refresh(self, entries) -> None:
        order = [id(entry.job) for entry in entries]
        if order != self._order:
            self._rebuild(entries)
        for entry in entries:
            _, what, where, _ = self._rows[id(entry.job)]
            what.set_full(what_text(entry))
            where.set_full(where_text(entry))
            # The whole of it, when the docker is too narrow.
            tip = f"{what_text(entry, TIP_CHARS)}\n{where.full}"
            what.setToolTip(tip)
            where.setToolTip(tip)
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
            words = QtWidgets.QVBoxLayout()
            words.setSpacing(0)
            what = ElidedLabel(row)
            what.setFont(self._font)
            where = ElidedLabel(row)
            where.setFont(self._font)
            _dim(where)
            words.addWidget(what)
            words.addWidget(where)
            cancel = QtWidgets.QToolButton(row)
            cancel.setText("✕")
            cancel.setToolTip(f"Cancel this {entry.job.op.title}")
            cancel.setAutoRaise(True)
            cancel.clicked.connect(lambda _=False, job=entry.job: self._cancel(job))
            line.addLayout(words, 1)
            line.addWidget(cancel, 0, QtCore.Qt.AlignmentFlag.AlignRight)
            self._layout.addWidget(row)
            self._rows[id(entry.job)] = (row, what, where, cancel)
        self._order = [id(entry.job) for entry in entries]
