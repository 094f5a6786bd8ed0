"""The docker's History: every result in the results library (this session's, earlier
sessions', GIMP's and the recraft command's), newest first, searchable by prompt, to insert
again, open as a new image, reuse the settings of, or delete.

Nothing here waits on the disk on Krita's GUI thread: the library is asked on a thread of
its own (`LibraryWorker`), which also reads and decodes thumbnails and results; answers come
back to the GUI thread through a timer, where only Krita and Qt widgets are touched. The list
loads a page at a time, the next when it is scrolled to its end.
"""

from __future__ import annotations

import logging
import queue
import threading

from krita import Krita

from recraft_core import RecraftError, settings
from recraft_core.api.operations import OPERATIONS
from recraft_core.library import FRONT_END_NAMES, open_library, when
from recraft_core.workflow import history

from .canvas import KritaCanvas
from .layered import LayeredCanvas, can_mask, open_document
from .qt import QtCore, QtGui, QtWidgets

log = logging.getLogger("recraft_krita")

PAGE = 30  # entries asked for at a time
THUMB = 48
POLL_MS = 30
SEARCH_PAUSE_MS = 250  # typing: ask once the user pauses
CONFIRM_MS = 4000  # how long Delete waits for its second click
ENTRY_ROLE = QtCore.Qt.ItemDataRole.UserRole
QAction = getattr(QtGui, "QAction", None) or QtWidgets.QAction  # Qt 6 moved it to QtGui


# -- the library, on a thread of its own ---------------------------------------------------------


class LibraryWorker(QtCore.QObject):
    """Runs `task(library)` on one thread, in order, and `done(value, error)` on the GUI
    thread. The library is the one the Settings name, opened on that thread (the first time
    it stats every record); None when it is off or cannot be opened."""

    def __init__(self) -> None:
        super().__init__()
        self._tasks: queue.Queue = queue.Queue()
        self._answers: queue.Queue = queue.Queue()
        self._pending = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._deliver)
        threading.Thread(target=self._serve, name="recraft-history", daemon=True).start()

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def submit(self, task, done=None) -> None:
        self._pending += 1
        self._tasks.put((task, done))
        self._timer.start()

    def _serve(self) -> None:
        while True:
            task, done = self._tasks.get()
            value, error = None, None
            try:
                value = task(self._current())
            except RecraftError as e:
                error = e.user_message
            except Exception as e:  # a bug is said in the docker, never a traceback dialog
                log.exception("recraft: the library's History")
                error = f"The results library could not do that: {type(e).__name__}: {e}"
            self._answers.put((done, value, error))

    def _current(self):
        # The process's one library (open_library keeps it), as the Settings name it now:
        # a change of folder, cap or switch in Settings holds from the next question on.
        return open_library(settings.load())

    def _deliver(self) -> None:
        while True:
            try:
                done, value, error = self._answers.get_nowait()
            except queue.Empty:
                break
            self._pending -= 1
            if done is not None:
                try:
                    done(value, error)
                except Exception:  # a UI callback must not stop the others
                    log.exception("recraft: after a History task")
        if self._pending == 0:
            self._timer.stop()


WORKER: LibraryWorker | None = None


def worker() -> LibraryWorker:
    global WORKER
    if WORKER is None:
        WORKER = LibraryWorker()
    return WORKER


# -- what the thread does --------------------------------------------------------------------------


class LibraryOff(RecraftError):
    advice = "Turn it on in Settings (untick Keep no results) to keep your results."

    def __init__(self) -> None:
        super().__init__("The results library is off, or its folder cannot be opened")


def _page(search: str, offset: int):
    """Entries and their thumbnails (QImages are reentrant: made here, shown there)."""

    def task(library):
        if library is None:
            raise LibraryOff()
        entries = library.list(search=search or None, limit=PAGE, offset=offset)
        total = library.count(search=search or None) if offset == 0 else None
        return entries, [_thumbnail(e) for e in entries], total

    return task


def _thumbnail(entry) -> QtGui.QImage | None:
    """The first result's thumbnail; else the result itself read small (an SVG, or one the
    CLI kept without a thumbnail); else the source's."""
    candidates = [entry.thumbnail_paths[0] if entry.thumbnail_paths else None]
    candidates += [*entry.result_paths[:1], entry.source_thumbnail_path]
    for path in candidates:
        if path is None:
            continue
        reader = QtGui.QImageReader(str(path))
        size = reader.size()
        if size.isValid() and (size.width() > THUMB or size.height() > THUMB):
            size.scale(THUMB, THUMB, QtCore.Qt.AspectRatioMode.KeepAspectRatio)
            reader.setScaledSize(size)
        image = reader.read()
        if not image.isNull():
            return image
    return None


def _outcome(entry_id: str, canvas_size, masks: bool):
    """`masks`: whether this Krita adds transparency masks (else a soft edge kept as a mask
    is baked), asked on the GUI thread."""

    def task(library):
        if library is None:
            raise LibraryOff()
        entry = library.get(entry_id)
        if entry is None:
            raise RecraftError("That result is no longer in the library (deleted meanwhile)")
        return entry, history.outcome(entry, canvas_size, KritaCanvas.codec, masks=masks)

    return task


# -- the view -------------------------------------------------------------------------------------


class HistoryView(QtWidgets.QWidget):
    """The History page of the docker. `say(text, error)` is how it tells the user what
    happened; `reuse(history.Reuse)` fills the docker's form."""

    def __init__(self, parent, say, reuse) -> None:
        super().__init__(parent)
        self._say, self._reuse = say, reuse
        self._worker = worker()
        self._asked = 0  # which query the list shows: a later one outdates an answer
        self._loaded = 0
        self._total: int | None = None
        self._loading = False
        self._inserting = False

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 2)
        layout.setSpacing(4)
        top = QtWidgets.QHBoxLayout()
        self.search = QtWidgets.QLineEdit(self)
        self.search.setPlaceholderText("Search prompts")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Results whose prompt has words beginning with these")
        self.count = QtWidgets.QLabel(self)
        small = self.count.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self.count.setFont(small)
        self.count.setEnabled(False)  # drawn grey: a hint, not a control
        top.addWidget(self.search, 1)
        top.addWidget(self.count)
        layout.addLayout(top)
        self.list = QtWidgets.QListWidget(self)
        self.list.setIconSize(QtCore.QSize(THUMB, THUMB))
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.list.setVerticalScrollMode(QtWidgets.QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored
        )
        layout.addWidget(self.list, 1)
        # In the list's place when it is empty: no results yet, none found, the library off.
        self.status = QtWidgets.QLabel(self)
        self.status.setWordWrap(True)
        self.status.setAlignment(QtCore.Qt.AlignmentFlag.AlignTop)
        self.status.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Ignored
        )
        self.status.setVisible(False)
        layout.addWidget(self.status, 1)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(3)
        self.reuse_button = QtWidgets.QPushButton("Use these settings", self)
        self.reuse_button.setToolTip("Fill the Run page with this job's operation and settings")
        self.delete_button = QtWidgets.QPushButton("Delete", self)
        self.delete_button.setToolTip("Remove the result from the library (click twice)")
        # Insert, with Open as a new image behind its arrow.
        self.insert_button = QtWidgets.QToolButton(self)
        self.insert_button.setText("Insert")
        self.insert_button.setToolTip(
            "Add the result to the current image as a new layer: where it was made when the "
            "image has the size it had then, else centred (double-click does the same)"
        )
        self.insert_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.insert_button.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.insert_button.setMinimumHeight(self.reuse_button.sizeHint().height())
        menu = QtWidgets.QMenu(self.insert_button)
        self.new_image_action = menu.addAction("Open as a new image")
        self.new_image_action.setToolTip("Open the result as an image of its own")
        self.insert_button.setMenu(menu)
        row.addWidget(self.insert_button)
        row.addWidget(self.reuse_button)
        row.addWidget(self.delete_button)
        layout.addLayout(row)
        # The same from the list's context menu.
        self.list.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.ActionsContextMenu)
        for text, slot in (
            ("Insert", lambda: self.insert()),
            ("Open as a new image", lambda: self.insert(new_image=True)),
            ("Use these settings", lambda: self.use_settings()),
        ):
            action = QAction(text, self.list)
            action.triggered.connect(lambda _=False, slot=slot: slot())
            self.list.addAction(action)

        self._search_timer = QtCore.QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_PAUSE_MS)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self._confirm_timer = QtCore.QTimer(self)
        self._confirm_timer.setSingleShot(True)
        self._confirm_timer.setInterval(CONFIRM_MS)
        self._confirm_timer.timeout.connect(self._unconfirm)
        self.list.itemDoubleClicked.connect(lambda _item: self.insert())
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.list.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.insert_button.clicked.connect(lambda: self.insert())
        self.new_image_action.triggered.connect(lambda: self.insert(new_image=True))
        self.reuse_button.clicked.connect(self.use_settings)
        self.delete_button.clicked.connect(self.delete)
        self._update_buttons()

    # -- what the docker, tests and scripts use ---------------------------------------------------

    @property
    def busy(self) -> bool:
        """A page, an insertion or a deletion is on its way."""
        return self._loading or self._inserting or self._worker.busy

    @property
    def entries(self) -> list:
        """The entries listed now, top to bottom."""
        return [self.list.item(i).data(ENTRY_ROLE) for i in range(self.list.count())]

    def select(self, entry_id: str) -> bool:
        for i in range(self.list.count()):
            if self.list.item(i).data(ENTRY_ROLE).id == entry_id:
                self.list.setCurrentRow(i)
                return True
        return False

    def selected(self):
        item = self.list.currentItem()
        return item.data(ENTRY_ROLE) if item is not None else None

    def outdated(self) -> None:
        """The library changed (a job ended, Settings name another): reload now if shown;
        it reloads whenever it is shown anyway."""
        if self.isVisible():
            self.reload()

    def showEvent(self, event) -> None:  # Qt's name
        """Each time the page is opened, the library as it is now: GIMP and the recraft
        command add to it while Krita runs (the selection is kept)."""
        super().showEvent(event)
        self.reload()

    # -- loading --------------------------------------------------------------------------------

    def reload(self) -> None:
        """The first page of the current search, replacing the list."""
        self._asked += 1
        self._loaded, self._total = 0, None
        self._fetch(self._asked)

    def _fetch(self, asked: int) -> None:
        self._loading = True
        offset = self._loaded if asked == self._asked and self.list.count() else 0
        search = self.search.text().strip()
        self._worker.submit(
            _page(search, offset), lambda value, error: self._arrived(asked, offset, value, error)
        )

    def _arrived(self, asked: int, offset: int, value, error) -> None:
        if asked != self._asked:
            return  # an older search's answer
        self._loading = False
        if error:
            self.list.clear()
            self._loaded, self._total = 0, 0
            self.count.setText("")
            self._show_status(error)
            self._update_buttons()
            return
        entries, thumbnails, total = value
        chosen = self.selected()
        if offset == 0:
            self.list.clear()
            self._total = total
        for entry, image in zip(entries, thumbnails, strict=True):
            self.list.addItem(self._item(entry, image))
        self._loaded = offset + len(entries)
        if self._total is not None and self._loaded >= self._total:
            self._total = self._loaded  # what the list now holds is everything
        if chosen is not None:
            self.select(chosen.id)
        self._show_count()
        self._update_buttons()
        # A page that does not fill the view leaves no scroll bar to reach the end with:
        # fill it. Measured by rows, not by the scroll bar, which the list lays out later.
        rows = self.list.count() * max(1, self.list.sizeHintForRow(0))
        if len(entries) == PAGE and rows <= self.list.viewport().height():
            self._more()

    def _show_count(self) -> None:
        total = self._total if self._total is not None else self._loaded
        self.count.setText(f"{total} result{'s' if total != 1 else ''}" if total else "")
        if total:
            self._show_status("")
        elif self.search.text().strip():
            self._show_status("No result's prompt has these words.")
        else:
            self._show_status("No results yet: every result you pay for is kept here.")

    def _show_status(self, text: str) -> None:
        """`text` in the list's place; nothing: the list."""
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.list.setVisible(not text)

    def _scrolled(self, value: int) -> None:
        bar = self.list.verticalScrollBar()
        if value >= bar.maximum() - THUMB:
            self._more()

    def _more(self) -> None:
        if self._loading or self._total is None or self._loaded >= self._total:
            return
        self._fetch(self._asked)

    def _item(self, entry, image) -> QtWidgets.QListWidgetItem:
        op = OPERATIONS.get(entry.operation)
        title = op.title if op is not None else entry.operation
        cost = "cost unknown" if entry.credits is None else f"{entry.credits} credits"
        prompt = " ".join(entry.prompt.split()) or (
            f"from {entry.document}" if entry.document else "(no prompt)"
        )
        many = len(entry.results)
        where = FRONT_END_NAMES.get(entry.front_end, entry.front_end)
        lines = [
            f"{title} · {cost}",
            prompt,
            f"{when(entry.time)} · {where}" + (f" · {many} images" if many > 1 else ""),
        ]
        item = QtWidgets.QListWidgetItem("\n".join(lines))
        if image is not None:
            item.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(image)))
        else:
            item.setIcon(self._blank())
        item.setData(ENTRY_ROLE, entry)
        tip = [entry.prompt or title, f"{title} with {entry.model}" if entry.model else title]
        if entry.document:
            tip.append(f"Made in {entry.document} ({where})")
        tip.append(f"Library id {entry.id}")
        item.setToolTip("\n".join(tip))
        return item

    def _blank(self) -> QtGui.QIcon:
        pixmap = QtGui.QPixmap(THUMB, THUMB)
        pixmap.fill(QtGui.QColor(0, 0, 0, 0))
        return QtGui.QIcon(pixmap)

    # -- the buttons ------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        entry = self.selected()
        have = entry is not None
        self.insert_button.setEnabled(have and not self._inserting)
        self.new_image_action.setEnabled(have and not self._inserting)
        self.reuse_button.setEnabled(have and history.editor_operation(entry.operation) is not None)
        self.delete_button.setEnabled(have)
        self._unconfirm()

    def insert(self, new_image: bool = False) -> None:
        """The selected entry's results into the active image as new layers (above the
        active layer), or into a new image; read and decoded on the library's thread."""
        entry = self.selected()
        if entry is None or self._inserting:
            return
        krita = Krita.instance()
        document = None if new_image else krita.activeDocument()
        size = (document.width(), document.height()) if document is not None else None
        node = _target_layer(document) if document is not None else None
        self._inserting = True
        self._update_buttons()
        self._say("Reading the result from the library…", False)
        self._worker.submit(
            _outcome(entry.id, size, can_mask()),
            lambda value, error: self._place(document, node, value, error),
        )

    def _place(self, document, node, value, error) -> None:
        """GUI thread: the decoded results into the document they were read for, or a new
        one when there is none or it was closed meanwhile."""
        self._inserting = False
        self._update_buttons()
        if error:
            self._say(error, True)
            return
        entry, outcome = value
        open_now = document is not None and any(d == document for d in Krita.instance().documents())
        try:
            if open_now:
                # As a fresh job's: several results are a group of variations, #1 showing.
                outcome.insert_into(LayeredCanvas(document, node), None)
                names = [item.name for item in (outcome.layers or outcome.vectors)]
                if outcome.document is not None:
                    names = [outcome.document.name + " (a new image)"]
                where = f"{_document_name(document)}: {', '.join(names)}"
                said = history.said(outcome)
            else:
                apart = outcome.as_document()
                open_document(apart, document.resolution() if document is not None else 300.0)
                where = f"{apart.name} (a new image)"
                said = history.said(outcome, opened=True)
        except Exception as e:  # Krita refused: said, never a traceback dialog
            log.exception("recraft: inserting %s from History", entry.id)
            self._say(f"Krita could not insert the result: {e}", True)
            return
        self._worker.submit(lambda library: library and library.mark_inserted(entry.id, where))
        words = [said, *outcome.notes]
        self._say(" ".join(words), False)

    def use_settings(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        reuse = history.form_values(entry)
        if reuse is None:
            self._say("The editors do not offer this operation; nothing to fill in.", True)
            return
        self._reuse(reuse)

    def delete(self) -> None:
        """The first click asks (the button says so for a few seconds), the second deletes."""
        entry = self.selected()
        if entry is None:
            return
        if not self._confirm_timer.isActive():
            self.delete_button.setText("Delete?")
            self._confirm_timer.start()
            return
        self._unconfirm()

        def task(library):
            if library is None:
                raise LibraryOff()
            return library.delete(entry.id)

        def done(_value, error) -> None:
            if error:
                self._say(error, True)
                return
            self._say("Deleted from the library.", False)
            self.reload()

        self._worker.submit(task, done)

    def _unconfirm(self) -> None:
        self._confirm_timer.stop()
        self.delete_button.setText("Delete")


def _target_layer(document):
    """The layer results go above: the active one; the top one when Krita names none (it
    may not, in some versions, when nothing was clicked yet)."""
    node = document.activeNode()
    if node is None:
        children = list(document.rootNode().childNodes())
        node = children[-1] if children else None
    return node


def _document_name(document) -> str:
    path = document.fileName()
    return path.replace("\\", "/").rsplit("/", 1)[-1] if path else document.name() or "the image"


def spent_today(done) -> None:
    """Ask for the credits spent today (all front ends); `done(credits or None)` on the GUI
    thread."""
    worker().submit(
        lambda library: library.spent() if library is not None else None,
        lambda value, error: done(None if error else value),
    )
