"""The Recraft docker: pick an operation, fill its form, see the cost, Run or Cancel, follow
the progress, read what happened, and insert results again from a strip of thumbnails."""

from __future__ import annotations

from krita import DockWidget, Krita

from recraft_core import RecraftError
from recraft_core.api import catalog, forms
from recraft_core.api.operations import IMPROVE_PROMPT, OPERATIONS, offered
from recraft_core.workflow import read_reference

from . import jobs
from .canvas import KritaCanvas, float_message, thumbnail
from .form import OperationForm
from .qt import QtCore, QtGui, QtWidgets
from .settings_dialog import SettingsDialog

DOCKER_ID = "recraft_docker"
# What the docker offers, in the order an artist looks for it (the operations table's).
OPERATION_ORDER = tuple(op for op in offered() if op.offer.docker)
SHARED_FIELDS = ("prompt", "negative_prompt")  # carried from one operation to the next
STYLE_FIELD = "style_id"  # where a created style goes to be used
THUMB = 72

DOCKERS: list = []  # docker widgets made this session (one per window), some maybe deleted


def current():
    """The Recraft docker of the active window (the newest one), or None."""
    live = [d for d in DOCKERS if _alive(d)]
    DOCKERS[:] = live
    visible = [d for d in live if d.isVisible()]
    return (visible or live or [None])[-1]


def _alive(widget) -> bool:
    try:
        widget.objectName()
    except RuntimeError:  # its C++ side was deleted
        return False
    return True


class RecraftDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Recraft")
        DOCKERS.append(self)
        self.runner = jobs.runner()
        # A scroll area: a docker can be squeezed to any height without widgets overlapping.
        scroll = QtWidgets.QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        root = QtWidgets.QWidget(scroll)
        layout = QtWidgets.QVBoxLayout(root)

        self.operation = QtWidgets.QComboBox(root)
        for op in OPERATION_ORDER:
            self.operation.addItem(op.title, op.name)
        self.operation.currentIndexChanged.connect(self._operation_changed)
        layout.addWidget(self.operation)
        self.about = QtWidgets.QLabel(root)
        self.about.setWordWrap(True)
        font = self.about.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.about.setFont(font)
        layout.addWidget(self.about)

        source_row = QtWidgets.QHBoxLayout()
        self.source_label = QtWidgets.QLabel("Source", root)
        self.source = QtWidgets.QComboBox(root)
        self.source.addItem("Active layer", False)
        self.source.addItem("Visible image", True)
        self.source.setToolTip(
            "What is sent to Recraft: the active layer's pixels, or the image as you see it "
            "(all visible layers). The result goes above the active layer either way."
        )
        source_row.addWidget(self.source_label)
        source_row.addWidget(self.source, 1)
        layout.addLayout(source_row)

        self.form = OperationForm(root)
        self.form.changed.connect(self._update_cost)
        layout.addWidget(self.form)
        self.improve = QtWidgets.QPushButton("Improve prompt", root)
        self.improve.setToolTip("Let Recraft expand the prompt into a detailed one")
        self.improve.clicked.connect(self._improve_prompt)
        layout.addWidget(self.improve)

        buttons = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run", root)
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QtWidgets.QPushButton("Cancel", root)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.cost = QtWidgets.QLabel(root)
        layout.addWidget(self.cost)
        self.progress = QtWidgets.QProgressBar(root)
        self.progress.setTextVisible(True)
        layout.addWidget(self.progress)
        self.message_label = QtWidgets.QLabel(root)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        layout.addWidget(self.message_label)

        self.results = QtWidgets.QListWidget(root)
        self.results.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.results.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.results.setMaximumHeight(THUMB + 28)
        self.results.setFlow(QtWidgets.QListView.Flow.LeftToRight)
        self.results.setWrapping(False)
        self.results.setToolTip(
            "Click a result to insert it again above the layer it was made from"
        )
        self.results.itemClicked.connect(self._insert_again)
        self.results.setVisible(False)
        layout.addWidget(self.results)
        self.settings_button = QtWidgets.QPushButton("Settings…", root)
        self.settings_button.setToolTip("Your Recraft token, the server, and how results blend in")
        self.settings_button.clicked.connect(self._open_settings)
        layout.addWidget(self.settings_button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        scroll.setWidget(root)
        self.setWidget(scroll)
        self._scroll = scroll

        self._message, self._error = "", False
        self._shown_history = 0
        self.runner.changed.connect(self._refresh)
        self._operation_changed()
        self.runner.refresh_balance()

    # -- what tests and scripts use -------------------------------------------------------------

    def choose(self, operation: str) -> None:
        index = self.operation.findData(operation)
        if index < 0:
            raise ValueError(f"{operation!r} is not in the docker")
        self.operation.setCurrentIndex(index)

    def set_values(self, values: dict) -> None:
        self.form.set_values(values)

    def set_source(self, visible: bool) -> None:
        """The active layer (False) or the visible image (True)."""
        self.source.setCurrentIndex(self.source.findData(bool(visible)))

    @property
    def busy(self) -> bool:
        return self.runner.busy

    @property
    def message(self) -> str:
        return self.message_label.text()

    @property
    def progress_text(self) -> str:
        return self.progress.text()

    def run(self) -> None:
        name = self.operation.currentData()
        try:
            params = self.form.values()
            references = self._references() if "layers" in OPERATIONS[name].roles else None
        except RecraftError as e:
            self.show_message(e.user_message, error=True)
            return
        self.show_message("", error=False)
        visible = bool(self.source.currentData()) and self.source.isVisible()
        self.runner.start(name, params, references=references, on_done=self._done, visible=visible)
        self._refresh()

    def cancel(self) -> None:
        self.runner.cancel()

    # -- Krita -----------------------------------------------------------------------------------

    def canvasChanged(self, canvas) -> None:  # Krita's name
        self._update_cost()

    # -- inside ----------------------------------------------------------------------------------

    def _operation_changed(self, *_) -> None:
        name = self.operation.currentData()
        # Each operation gets back what the user last set in it (for the session, in the
        # runner); only the prompt follows from one operation to the next.
        remembered = self.runner.form_values
        current = self.form.raw_values() if self.form.operation else {}
        if self.form.operation:
            remembered[self.form.operation] = current
        keep = dict(remembered.get(name, {}))
        for shared in SHARED_FIELDS:
            if current.get(shared):
                keep[shared] = current[shared]
        self.form.build(name, keep)
        op = OPERATIONS[name]
        self.source.setVisible(op.reads_layer)
        self.source_label.setVisible(op.reads_layer)
        self.about.setText(op.about)
        self.improve.setVisible(op.can_improve_prompt)
        self._update_cost()

    def _update_cost(self, *_) -> None:
        name = self.operation.currentData()
        try:
            params = self.form.values()
        except RecraftError:
            params = {}
        credits = forms.cost(name, params)
        cost = "Cost: shown after the run" if credits is None else f"Cost: {credits} credits"
        balance = self.runner.balance
        self.cost.setText(cost + ("" if balance is None else f"  ·  Balance: {balance}"))

    def _improve_prompt(self) -> None:
        field = self.form.fields.get("prompt")
        prompt = field.value() if field else None
        if not prompt:
            self.show_message("Write a prompt first, then Recraft can improve it.", error=True)
            return

        def done(job) -> None:
            if job.outcome is not None and job.outcome.prompt:
                field.set(job.outcome.prompt)

        self.runner.start(IMPROVE_PROMPT, {"prompt": prompt}, on_done=done)

    def _references(self) -> list:
        """Up to five selected layers (or the active one), read small enough for a style."""
        krita = Krita.instance()
        document = krita.activeDocument()
        window = krita.activeWindow()
        view = window.activeView() if window else None
        nodes = list(view.selectedNodes()) if view is not None else []
        if not nodes and document is not None and document.activeNode() is not None:
            nodes = [document.activeNode()]
        out = []
        for node in nodes[: catalog.MAX_STYLE_IMAGES]:
            reference = read_reference(KritaCanvas(document, node))
            if reference is not None:
                out.append(reference)
        return out

    def _done(self, job) -> None:
        text, error = jobs.summary(job)
        style = None if error else job.outcome.style
        use = forms.where_used(job.op, STYLE_FIELD) if style is not None else None
        if use is not None:  # a created style: straight into the form that uses it
            target, model = use
            label = target.field(STYLE_FIELD).title
            text = f"Style created: {style.id}. Its id is in {label}. {text}"
            self.choose(target.name)
            self.form.set_values({"model": model, STYLE_FIELD: style.id})
        elif style is not None:
            text = f"Style created: {style.id}. {text}"
        self.show_message(text, error)

    def show_message(self, text: str, error: bool, on_canvas: bool = True) -> None:
        """In the docker; an error scrolled into view (a short docker hides its lower part)
        and also over the canvas, `on_canvas` unless the caller put it there."""
        self._message, self._error = text, error
        self.message_label.setStyleSheet("color: #c0392b;" if error else "")
        self.message_label.setText(text)
        if text and error:
            self._scroll.ensureWidgetVisible(self.message_label)
            if on_canvas:
                float_message(text)

    def _open_settings(self) -> None:
        SettingsDialog().exec()

    def _refresh(self) -> None:
        runner = self.runner
        busy = runner.busy
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            event = runner.job.progress
            if event.fraction is None:
                self.progress.setRange(0, 0)  # Qt's "working" animation
            else:
                self.progress.setRange(0, 100)
                self.progress.setValue(int(event.fraction * 100))
            self.progress.setFormat(str(event))
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(0)
            self.progress.setFormat("")
        if runner.last_error and runner.last_error != self._message:
            self.show_message(runner.last_error, error=True)
        self._add_results()
        self._update_cost()

    def _add_results(self) -> None:
        history = self.runner.history
        for job_index in range(self._shown_history, len(history)):
            job = history[job_index]
            for i, layer in enumerate(job.outcome.layers):
                item = QtWidgets.QListWidgetItem(self._icon(layer.image), "")
                item.setToolTip(layer.name)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, (job_index, i))
                self.results.insertItem(0, item)
        self._shown_history = len(history)
        self.results.setVisible(self.results.count() > 0)

    @staticmethod
    def _icon(raster) -> QtGui.QIcon:
        return QtGui.QIcon(QtGui.QPixmap.fromImage(thumbnail(raster, THUMB)))

    def _insert_again(self, item) -> None:
        job_index, i = item.data(QtCore.Qt.ItemDataRole.UserRole)
        job = self.runner.history[job_index]
        try:
            job.insert(i)
        except RecraftError as e:
            self.show_message(e.user_message, error=True)
