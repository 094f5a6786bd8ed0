"""The Recraft docker: pick an operation, fill its form, see the cost, Run or Cancel, follow
the progress, read what happened, and insert results again from a strip of thumbnails; on its
History page, every result the library keeps (history.py).

The form scrolls; Run, Cancel, the cost, the balance, the progress and the messages stay
pinned below both pages, in view whatever height the docker is given."""

from __future__ import annotations

from krita import DockWidget, Krita

from recraft_core import RecraftError
from recraft_core.api import forms
from recraft_core.api.operations import IMPROVE_PROMPT, OPERATIONS, RESULT_ID, offered
from recraft_core.workflow import read_reference, similar

from . import each_layer, history, jobs, variations
from .canvas import KritaCanvas, float_message, thumbnail
from .form import OperationForm, SavedStyleBox, narrow
from .qt import QtCore, QtGui, QtWidgets
from .queue_list import QueueList
from .settings_dialog import SettingsDialog

DOCKER_ID = "recraft_docker"
# What the docker offers, in the order an artist looks for it (the operations table's).
OPERATION_ORDER = tuple(op for op in offered() if op.offer.docker)
SHARED_FIELDS = ("prompt", "negative_prompt")  # carried from one operation to the next
STYLE_FIELD = "style_id"  # where a created style goes to be used
THUMB = 72
SOURCE_ID = RESULT_ID  # Explore similar's "Source image id"
# Where the docker is put on the first start, beside (tabbed with) the first of these that
# shows: it would otherwise land squeezed under them, or hidden (Krita 5.2 and later).
FIRST_PLACE = ("PresetDocker", "KisLayerBox")
ROOM = 420  # px of height asked for it then (Krita gives what the other dockers can spare)
PLACED = ("recraft", "dockerPlaced")  # Krita's setting: the first start is over

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
        # The form in a scroll area, so that a short docker overlaps nothing; what must stay
        # in sight (Run, Cancel, the cost, the progress, the messages) pinned below it.
        panel = QtWidgets.QWidget(self)
        outer = QtWidgets.QVBoxLayout(panel)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        scroll = QtWidgets.QScrollArea(panel)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        # No minimum height of its own: the docker can be as short as what is pinned.
        scroll.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored
        )
        root = QtWidgets.QWidget(scroll)
        layout = QtWidgets.QVBoxLayout(root)
        layout.setContentsMargins(6, 4, 4, 4)

        self.operation = narrow(QtWidgets.QComboBox(root))
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
        self.source = narrow(QtWidgets.QComboBox(root))
        self.source.addItem("Active layer", False)
        self.source.addItem("Visible image", True)
        self.source.setToolTip(
            "What is sent to Recraft: the active layer's pixels, or the image as you see it "
            "(all visible layers). The result goes above the active layer either way."
        )
        self.source.currentIndexChanged.connect(self._source_changed)
        source_row.addWidget(self.source_label)
        source_row.addWidget(self.source, 1)
        layout.addLayout(source_row)

        # The prompt last written in an operation that shares it: what the next one gets,
        # though a style's prompt was written in between.
        self._shared: dict = {}
        self.form = OperationForm(root)
        self.form.changed.connect(self._update_cost)
        layout.addWidget(self.form)
        self.improve = QtWidgets.QPushButton("Improve prompt", root)
        self.improve.setToolTip("Let Recraft expand the prompt into a detailed one")
        self.improve.clicked.connect(self._improve_prompt)
        layout.addWidget(self.improve)

        self.results = QtWidgets.QListWidget(root)
        self.results.setViewMode(QtWidgets.QListView.ViewMode.IconMode)
        self.results.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.results.setMaximumHeight(THUMB + 28)
        self.results.setFlow(QtWidgets.QListView.Flow.LeftToRight)
        self.results.setWrapping(False)
        self.results.itemClicked.connect(self._result_chosen)
        self.results.setVisible(False)
        layout.addWidget(self.results)
        self.settings_button = QtWidgets.QPushButton("Settings…", root)
        self.settings_button.setToolTip("Your Recraft token, the server, and how results blend in")
        self.settings_button.clicked.connect(self._open_settings)
        layout.addWidget(self.settings_button, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        scroll.setWidget(root)
        # Two pages: the form (Run) and the library (History). Neither asks for height, so
        # the docker can still be as short as what is pinned below them.
        self.pages = QtWidgets.QTabWidget(panel)
        self.pages.setDocumentMode(True)
        self.pages.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored
        )
        self.pages.addTab(scroll, "Run")
        self.history = history.HistoryView(self.pages, self.show_message, self.use_settings)
        self.history.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored
        )
        self.pages.addTab(self.history, "History")
        self.pages.currentChanged.connect(self._page_changed)
        self.pages.setTabToolTip(
            1, "Every result you paid for, from Krita, GIMP and the recraft command: insert, reuse"
        )
        outer.addWidget(self.pages, 1)

        pinned = QtWidgets.QWidget(panel)
        bottom = QtWidgets.QVBoxLayout(pinned)
        bottom.setContentsMargins(6, 4, 6, 4)
        bottom.setSpacing(3)
        # The queue: each job in flight or waiting, with its own cancel button.
        self.queue_list = QueueList(pinned, self.runner.cancel_job)
        bottom.addWidget(self.queue_list)
        self.variation_buttons = variations.Buttons(pinned)
        bottom.addWidget(self.variation_buttons)
        buttons = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run", pinned)
        self.run_button.setToolTip("Run now, or after the jobs before it (the queue)")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QtWidgets.QPushButton("Cancel all", pinned)
        self.cancel_button.setToolTip("Cancel every job, running or waiting")
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        bottom.addLayout(buttons)
        self.cost = QtWidgets.QLabel(pinned)
        self.cost.setWordWrap(True)  # the cost, the balance and today's spending: may wrap
        bottom.addWidget(self.cost)
        progress_row = QtWidgets.QHBoxLayout()
        self.progress = QtWidgets.QProgressBar(pinned)
        # An indeterminate bar (while Recraft works) draws no text at all: the words go in
        # the label beside it, the bar only moves.
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(max(8, self.fontMetrics().height() // 2))
        self.stage = QtWidgets.QLabel(pinned)
        self.stage.setFont(font)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.stage)
        bottom.addLayout(progress_row)
        self.message_label = QtWidgets.QLabel(pinned)
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        bottom.addWidget(self.message_label)
        outer.addWidget(pinned, 0)
        self.setWidget(panel)

        self._message, self._error = "", False
        self._shown_history = 0
        self._layer_id: str | None = None  # Source image id as filled from a layer
        self._spent: int | None = None  # credits spent today, by every front end
        self._was_busy = False
        self._layers_selected = 1
        # Krita tells nobody when the selected layers change: looked at twice a second, for
        # the cost of an operation that runs on each of them.
        self._layers_timer = QtCore.QTimer(self)
        self._layers_timer.setInterval(500)
        self._layers_timer.timeout.connect(self._watch_layers)
        self._layers_timer.start()
        self.runner.changed.connect(self._refresh)
        self._operation_changed()
        self.runner.refresh_balance()
        self._ask_spent()

    # -- what tests and scripts use -------------------------------------------------------------

    def choose(self, operation: str) -> None:
        index = self.operation.findData(operation)
        if index < 0:
            raise ValueError(f"{operation!r} is not in the docker")
        self.operation.setCurrentIndex(index)

    def set_values(self, values: dict) -> None:
        self.form.set_values(values)

    def show_history(self) -> None:
        """The History page (its list loads on a thread, a page at a time)."""
        self.pages.setCurrentWidget(self.history)

    def show_run(self) -> None:
        self.pages.setCurrentIndex(0)

    def use_settings(self, reuse) -> None:
        """An earlier job's operation and settings into the form (History's "Use these
        settings"), on the Run page; what the form cannot take now is said."""
        if self.operation.findData(reuse.operation) < 0:
            self.show_message(
                f"{OPERATIONS[reuse.operation].title} is not in this docker.", error=True
            )
            return
        self.choose(reuse.operation)
        self.form.set_values(reuse.values)
        self._layer_id = None
        self.show_run()
        words = f"The settings of that {OPERATIONS[reuse.operation].title} are in the form."
        if reuse.dropped:
            words += f" Left out, as the form cannot take them now: {', '.join(reuse.dropped)}."
        self.show_message(words, error=False)

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
        """The stage a running job is at, in words, as shown beside the progress bar."""
        return self.stage.text()

    def run(self) -> None:
        name = self.operation.currentData()
        if SOURCE_ID in self.form.fields and not self._similar_source():
            return
        try:
            params = self.form.values()
            references, names = (
                self._references() if "layers" in OPERATIONS[name].roles else (None, None)
            )
        except RecraftError as e:
            self.show_message(e.user_message, error=True)
            return
        self.show_message("", error=False)
        visible = bool(self.source.currentData()) and self.source.isVisible()
        op = OPERATIONS[name]
        if op.on_each_layer and not visible:
            each_layer.start_on_layers(op, params, self._done, self._batch_done)
        else:
            self.runner.start(
                name,
                params,
                references=references,
                reference_names=names,
                on_done=self._done,
                visible=visible,
            )
        self._refresh()

    @property
    def queue_texts(self) -> list[str]:
        """The queue's rows as shown: operation, layer or prompt, stage, cost."""
        return self.queue_list.texts

    def cancel(self) -> None:
        """Every job, running or waiting."""
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
        op = OPERATIONS[name]
        left = OPERATIONS.get(self.form.operation)
        if left is not None and _shares_prompt(left):
            self._shared = {k: current.get(k) for k in SHARED_FIELDS}
        if _shares_prompt(op):
            keep.update({k: v for k, v in self._shared.items() if v})
        self.form.build(name, keep)
        self.source.setVisible(op.reads_layer)
        self.source_label.setVisible(op.reads_layer)
        self.about.setText(op.about)
        self.improve.setVisible(op.can_improve_prompt)
        self.results.setToolTip(
            f"Click a result of {similar.feeder()} to start {op.title} from it"
            if SOURCE_ID in self.form.fields
            else "Click a result to insert it again above the layer it was made from"
        )
        if SOURCE_ID in self.form.fields:
            self._fill_from_layer(quiet=True)
        self._update_cost()

    # -- Explore similar: the source image from a layer or a thumbnail -------------------------

    def _active_layer(self):
        document = Krita.instance().activeDocument()
        return document.activeNode() if document is not None else None

    def _fill_from_layer(self, quiet: bool = False) -> bool:
        """Source image id from the active layer, when an Explore result went into it; else,
        unless `quiet`, say why not. True when it was filled."""
        node = self._active_layer()
        image_id = self.runner.image_id_of(node)
        if image_id is not None:
            self.form.set_values({SOURCE_ID: image_id})
            self._layer_id = image_id
            return True
        if not quiet:
            self.show_message(_not_a_result(node, self.runner), error=True)
        return False

    def _similar_source(self) -> bool:
        """Before Explore similar runs: the source image is the active layer's when an
        Explore result went into it, unless one was typed or picked in the strip; with
        neither, say what to select. False: nothing to start from (said)."""
        field = self.form.fields[SOURCE_ID]
        try:
            typed = field.value()
        except RecraftError:
            typed = None  # an unreadable id: the form says so when it is read
        from_layer = typed is None or typed == self._layer_id
        if not from_layer:
            return True  # typed, or picked in the strip: the user's choice
        if self._fill_from_layer():
            return True
        if typed is not None:  # filled from another layer, which is no longer the active one
            field.set(None)
            self._layer_id = None
        return False

    def _update_cost(self, *_) -> None:
        name = self.operation.currentData()
        try:
            params = self.form.values()
        except RecraftError:
            params = {}
        credits = forms.cost(name, params)
        cost = "Cost: shown after the run" if credits is None else f"Cost: {credits} credits"
        layers = self._layers_selected if self._on_every_layer() else 1
        if credits is not None and layers > 1:
            cost = f"Cost: {layers} layers × {credits} = {layers * credits} credits"
        balance = self.runner.balance
        words = [] if self._on_history() else [cost]
        if balance is not None:
            words.append(f"Balance: {balance}")
        if self._spent is not None:
            words.append(f"Spent today: {self._spent}")
        self.cost.setText("  ·  ".join(words))

    def _on_every_layer(self) -> bool:
        """Whether Run makes one job per selected layer."""
        name = self.operation.currentData()
        visible = bool(self.source.currentData()) and self.source.isVisible()
        return name is not None and OPERATIONS[name].on_each_layer and not visible

    def _source_changed(self, *_) -> None:
        self._layers_selected = 0  # counted again
        self._watch_layers(force=True)

    def _watch_layers(self, force: bool = False) -> None:
        if not force and not self.isVisible():
            return
        count = len(each_layer.selected_layers()) if self._on_every_layer() else 1
        if count != self._layers_selected:
            self._layers_selected = count
            self._update_cost()

    def _on_history(self) -> bool:
        return self.pages.currentWidget() is self.history

    def _page_changed(self, index: int | None = None) -> None:
        """On History, Run and Cancel only while a job runs (room for the list), and no
        price of the form: the balance and what today cost (asked again when the page is
        opened: GIMP or the recraft command may have spent meanwhile)."""
        shown = not self._on_history() or self.runner.busy
        self.run_button.setVisible(shown)
        self.cancel_button.setVisible(shown)
        if index is not None and self._on_history():
            self._ask_spent()
        self._update_cost()

    def _ask_spent(self) -> None:
        """Credits spent today, from the library (every front end's), asked off the GUI
        thread; shown beside the balance."""

        def done(credits) -> None:
            if not _alive(self):
                return
            self._spent = credits
            self._update_cost()

        history.spent_today(done)

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

    def _references(self) -> tuple[list, list[str]]:
        """The selected layers (or the active one), masks left out, each read small enough
        for a style, and their names (the job refuses more than a style takes)."""
        document = Krita.instance().activeDocument()
        out, names = [], []
        for node in each_layer.selected_layers():
            reference = read_reference(KritaCanvas(document, node))
            if reference is not None:
                out.append(reference)
                names.append(node.name())
        return out, names

    def _done(self, job) -> None:
        text, error = jobs.summary(job)
        style = None if error else job.outcome.style
        use = forms.where_used(job.op, STYLE_FIELD) if style is not None else None
        if use is not None:  # a created style: straight into the form that uses it
            target, model = use
            self.choose(target.name)
            self.form.set_values({"model": model, STYLE_FIELD: style.id})
            where = f"{target.field(STYLE_FIELD).title} of {target.title}"
            self._say_style_saved(style.id, where, text)
            return
        if style is not None:
            text = f"Style created: {style.id}. {text}"
        self.show_message(text, error)

    def _say_style_saved(self, style_id: str, where: str, cost: str) -> None:
        """A created style, said by the name Saved style shows it by (the library's, read on
        its thread: said once the box has it); by its id only when it has no name there (the
        library is off), the id being then what the box holds."""
        field = self.form.fields.get(STYLE_FIELD)
        box = field.widget if field is not None else None
        if not isinstance(box, SavedStyleBox):
            self.show_message(f"Style created: {style_id}. {cost}", error=False)
            return
        waiting = f"Style saved, chosen in {where}. {cost}"

        def named() -> None:
            if not _alive(self) or self._message != waiting:
                return  # another message since: this one is outdated
            label = box.label_of(style_id)
            if label is not None:
                words = f"Style saved, chosen in {where}: {label}. {cost}"
            else:
                words = (
                    f"Style created; the results library did not keep it, so {where} "
                    f"holds its id: {style_id}. {cost}"
                )
            self.show_message(words, error=False)

        self.show_message(waiting, error=False)
        if box.offered is not None:
            named()
        else:
            box.read.connect(named)

    def _batch_done(self, batch) -> None:
        """One operation on several layers ended: one summary of them all."""
        self.show_message(batch.summary(), error=not batch.ok)

    def show_message(self, text: str, error: bool, on_canvas: bool = True) -> None:
        """In the docker, under Run (always in sight); an error also over the canvas,
        `on_canvas` unless the caller put it there."""
        self._message, self._error = text, error
        self.message_label.setStyleSheet("color: #c0392b;" if error else "")
        self.message_label.setText(text)
        if text and error and on_canvas:
            float_message(text)

    def _open_settings(self) -> None:
        SettingsDialog().exec()
        self.history.outdated()  # the library's folder, or whether there is one, may differ
        self._ask_spent()

    def _refresh(self) -> None:
        runner = self.runner
        busy = runner.busy
        self.cancel_button.setEnabled(busy)
        self.queue_list.refresh(runner.entries)
        running = runner.queue.running or runner.queue.waiting
        if running:
            event = running[0].progress
            if event.fraction is None:
                self.progress.setRange(0, 0)  # Qt's "working" animation
            else:
                self.progress.setRange(0, 100)
                self.progress.setValue(int(event.fraction * 100))
            words = str(event)
            self.stage.setText(words[:1].upper() + words[1:] + "…")
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(0)
            self.stage.setText("")
        if runner.last_error and runner.last_error != self._message:
            self.show_message(runner.last_error, error=True)
        self._add_results()
        if self._was_busy and not busy:  # a job ended: it may have been paid and kept
            self.history.outdated()
            self._ask_spent()
        if self._was_busy != busy:
            self._page_changed()
        self._was_busy = busy
        self._update_cost()

    def _add_results(self) -> None:
        history = self.runner.history
        for row in reversed(range(self.results.count())):  # jobs the strip let go
            job_index, _ = self.results.item(row).data(QtCore.Qt.ItemDataRole.UserRole)
            if history[job_index] is None:
                self.results.takeItem(row)
        for job_index in range(self._shown_history, len(history)):
            job = history[job_index]
            if job is None:
                continue
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

    def _result_chosen(self, item) -> None:
        """A thumbnail clicked: on Explore similar, an Explore result becomes its source;
        otherwise the result is inserted again."""
        job_index, i = item.data(QtCore.Qt.ItemDataRole.UserRole)
        job = self.runner.history[job_index]
        if job is None:  # let go since it was drawn: History has it
            return
        layer = job.outcome.layers[i]
        if SOURCE_ID in self.form.fields and similar.feeds(job.op) and layer.image_id:
            self.form.set_values({SOURCE_ID: layer.image_id})
            self._layer_id = None  # the user's pick: it wins over the active layer
            title = OPERATIONS[self.operation.currentData()].title
            self.show_message(f"{title} will start from “{layer.name}”.", error=False)
            return
        try:
            self.runner.insert_again(job_index, i)
        except RecraftError as e:
            self.show_message(e.user_message, error=True)


def _shares_prompt(op) -> bool:
    """Whether the form's prompt goes along to and from `op`: a prompt describing pictures
    does; a style's (kept with it, and naming it in Saved style; not checked as a picture's
    prompt: prompt_rule "none") is its own, or an inpaint's "a kite" would name a style."""
    return op.prompt_rule != "none"


def _not_a_result(node, runner) -> str:
    """Why Explore similar cannot start from the active layer, and what to do."""
    children = list(node.childNodes()) if node is not None and node.type() == "grouplayer" else []
    return similar.not_a_result(
        node.name() if node is not None else None,
        any(runner.image_id_of(child) for child in children),
        "select a layer {feeder} made (or click its thumbnail in the strip), then run "
        "{similar} again.",
    )


# -- the first start ---------------------------------------------------------------------------


def place_on_first_start() -> None:
    """Once per Krita profile, when its first window is made: show the docker where it has
    room. Krita puts a docker it has no saved place for at the bottom of the right column
    (squeezed under Brush Presets at Krita's default window size) or, from 5.2 on, hidden.
    From then on Krita keeps wherever the user puts it."""
    QtCore.QTimer.singleShot(0, lambda: _place(PLACE_TRIES))


PLACE_TRIES = 50  # times 100 ms: how long to wait for Krita to lay its dockers out


def _place(tries: int) -> None:
    krita = Krita.instance()
    if krita.readSetting(*PLACED, "") == "true":
        return
    windows = [w.qwindow() for w in krita.windows()]
    docks = [(main, main.findChild(QtWidgets.QDockWidget, DOCKER_ID)) for main in windows]
    docks = [(main, dock) for main, dock in docks if dock is not None]
    # Krita 5.2 and later show their own dockers a moment after the window: wait for that,
    # or the docker would be placed alone, and its neighbours put back over it.
    if tries > 0 and not any(_anchor(main) for main, _ in docks):
        QtCore.QTimer.singleShot(100, lambda: _place(tries - 1))
        return
    for main, dock in docks:
        if dock.isHidden() or (not dock.isFloating() and dock.height() < ROOM):
            make_room(main, dock)
    if docks:
        krita.writeSetting(*PLACED, "true")


def _anchor(main):
    """The docker to tab the Recraft docker with: the first of FIRST_PLACE that shows (its
    window may not show yet), docked."""
    for name in FIRST_PLACE:
        dock = main.findChild(QtWidgets.QDockWidget, name)
        if dock is not None and not dock.isHidden() and not dock.isFloating():
            return dock
    return None


def make_room(main, dock) -> None:
    """The docker tabbed with Brush Presets (or Layers), in front, as tall as the column can
    spare up to ROOM; at the right, alone, when neither shows."""
    right = QtCore.Qt.DockWidgetArea.RightDockWidgetArea
    anchor = _anchor(main)
    if dock.isFloating():
        dock.setFloating(False)
    if anchor is not None:
        main.tabifyDockWidget(anchor, dock)
    else:
        main.addDockWidget(right, dock)
    dock.show()
    dock.raise_()
    main.resizeDocks([dock], [ROOM], QtCore.Qt.Orientation.Vertical)
