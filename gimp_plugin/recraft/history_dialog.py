"""Filters › Recraft › History…: the results library as a list, newest first (thumbnail,
operation, prompt, when, from where, credits), a search box over the prompts, the credits spent
today, and "Insert as a new layer" into the image the menu was used on or "Open as a new
image". It shows what Krita, GIMP and the recraft command kept, from any earlier session.

The library is opened, listed and read (thumbnails, result files, decoding) on worker threads;
each answer comes back to GTK's main thread through a GLib idle callback, and only there is
GTK or GIMP called. A later search or a closed dialog outdates an answer still on its way.
"""

from __future__ import annotations

import threading
import traceback

import from_history
import gi
from gimp_canvas import PixbufCodec

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, Gimp, GimpUi, GLib, Gtk, Pango  # noqa: E402

from recraft_core import RecraftError  # noqa: E402
from recraft_core.api.operations import OPERATIONS  # noqa: E402
from recraft_core.library import FRONT_END_NAMES, when  # noqa: E402
from recraft_core.workflow import history  # noqa: E402

LISTED = 200  # entries listed at once, newest first: a search finds older ones
THUMBNAIL = 64  # px, the longer side
INSERT, OPEN = 1, 2  # the dialog's own responses
COLUMNS = (GdkPixbuf.Pixbuf, str, str, str, str)  # thumbnail, what, when, credits, entry id
ERROR_COLOUR = "#d0453a"


def what(entry) -> str:
    """The row's main text (Pango markup): the operation, where it came from, the prompt."""
    op = OPERATIONS.get(entry.operation)
    title = op.title if op is not None else entry.operation.replace("_", " ")
    source = FRONT_END_NAMES.get(entry.front_end, entry.front_end)
    count = f" · {len(entry.results)} images" if len(entry.results) > 1 else ""
    head = f"<b>{GLib.markup_escape_text(title)}</b>  <small>{source}{count}</small>"
    prompt = " ".join(entry.prompt.split())
    if not prompt:
        return head
    return f"{head}\n{GLib.markup_escape_text(prompt)}"


def thumbnail(entry):
    """The first result's thumbnail (an SVG result draws its own), else the source's; None
    where there is none or it cannot be read. Any thread."""
    paths = [*entry.thumbnail_paths, *(entry.result_paths if _svg(entry) else [])]
    for path in [*paths, entry.source_thumbnail_path]:
        if path is None:
            continue
        try:
            return GdkPixbuf.Pixbuf.new_from_file_at_scale(str(path), THUMBNAIL, THUMBNAIL, True)
        except GLib.Error:
            continue
    return None


def _svg(entry) -> bool:
    return bool(entry.results) and entry.results[0].format == "svg"


class HistoryDialog:
    """The dialog (GimpUi.init must have run). `image` and `layer`: where Insert puts a
    result (above the layer); None when the menu was used with no image open."""

    def __init__(self, image=None, layer=None) -> None:
        self.image, self.layer = image, layer
        self.lib = None
        self.entries: list = []  # the listed entries, in the list's order
        self.inserted: list[str] = []  # what each insertion made, for the caller
        self.opened: list = []  # images opened
        self._listing = 0  # the latest listing: answers to earlier searches are dropped
        self.shown = 0  # the listing the list shows
        self._busy = False
        self._marks: list[threading.Thread] = []
        self._build()
        self.load()

    # -- building --------------------------------------------------------------------------

    def _build(self) -> None:
        self.dialog = GimpUi.Dialog(title="Recraft history", role="recraft-history")
        self.open_button = self.dialog.add_button("_Open as a new image", OPEN)
        self.insert_button = self.dialog.add_button("_Insert as a new layer", INSERT)
        self.dialog.add_button("_Close", Gtk.ResponseType.CLOSE)
        self.dialog.set_default_size(680, 560)
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=8, margin=12)
        top = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
        self.search = Gtk.SearchEntry(placeholder_text="Search the prompts", hexpand=True)
        self.search.connect("search-changed", lambda _entry: self.load())
        self.spent = Gtk.Label(label="", xalign=1)
        top.pack_start(self.search, True, True, 0)
        top.pack_start(self.spent, False, False, 0)
        self.store = Gtk.ListStore(*COLUMNS)
        self.view = Gtk.TreeView(model=self.store, headers_visible=True)
        self.view.append_column(Gtk.TreeViewColumn("", Gtk.CellRendererPixbuf(), pixbuf=0))
        text = Gtk.CellRendererText(wrap_mode=Pango.WrapMode.WORD_CHAR, wrap_width=340)
        result = Gtk.TreeViewColumn("Result", text, markup=1)
        result.set_expand(True)
        self.view.append_column(result)
        self.view.append_column(Gtk.TreeViewColumn("When", Gtk.CellRendererText(), text=2))
        cost = Gtk.CellRendererText(xalign=1)
        self.view.append_column(Gtk.TreeViewColumn("Credits", cost, text=3))
        self.view.get_selection().connect("changed", lambda _s: self._sensitive())
        self.view.connect("row-activated", lambda *_a: self.dialog.response(self._default()))
        scroll = Gtk.ScrolledWindow(vexpand=True, min_content_height=380)
        scroll.add(self.view)
        self.status = Gtk.Label(label="", xalign=0, wrap=True, max_width_chars=80)
        self.status.set_selectable(True)
        for widget, grow in ((top, False), (scroll, True), (self.status, False)):
            box.pack_start(widget, grow, grow, 0)
        self.dialog.get_content_area().pack_start(box, True, True, 0)
        if self.image is None:
            self.insert_button.set_tooltip_text("Open an image first, then History from its menu")
        self.dialog.connect("response", self._respond)
        self.dialog.connect("destroy", self._closed)
        self._sensitive()

    def _default(self) -> int:
        return INSERT if self.image is not None else OPEN

    def _sensitive(self) -> None:
        chosen = self.selected() is not None and not self._busy
        self.insert_button.set_sensitive(chosen and self.image is not None)
        self.open_button.set_sensitive(chosen)

    def say(self, text: str, error: bool = False) -> None:
        text = GLib.markup_escape_text(text)
        if error:
            text = f'<span foreground="{ERROR_COLOUR}">{text}</span>'
        self.status.set_markup(text)

    # -- listing ---------------------------------------------------------------------------

    def load(self) -> None:
        """List the entries matching the search box, on a worker."""
        self._listing += 1
        asked, search = self._listing, self.search.get_text().strip() or None

        def ask():
            try:
                lib = self.lib or from_history.library()
                entries = lib.list(search=search, limit=LISTED)
                rows = [(e, thumbnail(e)) for e in entries]
                return lib, rows, lib.spent(), lib.count(search=search)
            except RecraftError as e:
                return e
            except Exception as e:  # a bug: said in the dialog, the details on stderr
                traceback.print_exc()
                return RecraftError(f"listing the library failed unexpectedly: {e}")

        self._work(ask, lambda answer: self._listed(asked, answer))

    def _listed(self, asked: int, answer) -> None:
        if asked != self._listing:
            return  # a later search's answer is on its way
        if isinstance(answer, RecraftError):
            self.shown = asked
            self.say(answer.user_message, error=True)
            return
        self.shown = asked
        self.lib, rows, spent, count = answer
        self.store.clear()
        self.entries = []
        for entry, picture in rows:
            credits = str(entry.credits) if entry.credits is not None else "–"
            self.store.append([picture, what(entry), when(entry.time), credits, entry.id])
            self.entries.append(entry)
        self.spent.set_text(f"Spent today: {spent} credits")
        if not rows:
            searched = self.search.get_text().strip()
            self.say(f"Nothing matches “{searched}”." if searched else "Nothing kept yet.")
        elif count > len(rows):
            self.say(f"The newest {len(rows)} of {count}: search to find older ones.")
        else:
            self.say("")
        if rows and self.selected() is None:
            self.view.get_selection().select_path(Gtk.TreePath.new_first())
        self._sensitive()

    def selected(self):
        model, found = self.view.get_selection().get_selected()
        if found is None:
            return None
        index = model.get_path(found).get_indices()[0]
        return self.entries[index] if index < len(self.entries) else None

    # -- inserting -------------------------------------------------------------------------

    def insert(self, new_image: bool) -> None:
        """The selected entry into the image (or a new image), read and decoded on a worker,
        inserted when it is ready."""
        entry = self.selected()
        if entry is None or self._busy:
            return
        into = None if new_image or not self._image_open() else self.image
        size = (into.get_width(), into.get_height()) if into is not None else None
        self._busy = True
        self._sensitive()
        self.say("Reading the result from the library…")

        def read():
            try:
                return from_history.prepared(entry, size, PixbufCodec())
            except RecraftError as e:
                return e
            except Exception as e:
                traceback.print_exc()
                return RecraftError(f"reading the result failed unexpectedly: {e}")

        self._work(read, lambda outcome: self._put(entry, outcome, into))

    def _image_open(self) -> bool:
        return self.image is not None and self.image.is_valid()

    def _put(self, entry, outcome, into) -> None:
        self._busy = False
        self._sensitive()
        if isinstance(outcome, RecraftError):
            self.say(outcome.user_message, error=True)
            return
        if into is not None and not into.is_valid():  # closed meanwhile
            into = None
        try:
            opened = from_history.put(entry, outcome, into, self.layer, interactive=True)
        except Exception as e:
            traceback.print_exc()
            self.say(f"GIMP could not insert the result: {e}", error=True)
            return
        Gimp.displays_flush()
        made = from_history.names(outcome)
        self.inserted += made
        if opened is not None:
            self.opened.append(opened)
            where, said = "a new image", history.said(outcome, opened=True)
        else:
            where, said = into.get_name(), history.said(outcome)
        self.say(" ".join([said, *outcome.notes]))
        if self.lib is not None:
            self._marks.append(from_history.mark(self.lib, entry, f"{where}: {', '.join(made)}"))

    # -- threads -----------------------------------------------------------------------------

    def _work(self, job, then) -> None:
        """`job()` on a worker; `then(its answer)` on the main thread, unless the dialog
        was closed meanwhile."""

        def run() -> None:
            answer = job()

            def done() -> bool:
                if self.dialog is not None:
                    then(answer)
                return GLib.SOURCE_REMOVE

            GLib.idle_add(done)

        threading.Thread(target=run, name="recraft-history", daemon=True).start()

    def _closed(self, *_args) -> None:
        self.dialog = None

    # -- running -----------------------------------------------------------------------------

    def _respond(self, _dialog, response: int) -> None:
        if response in (INSERT, OPEN):
            self.insert(new_image=response == OPEN)

    def run(self) -> None:
        """Shown until Close; Insert and Open keep it open for more."""
        self.dialog.show_all()
        while self.dialog.run() in (INSERT, OPEN):
            pass

    def destroy(self) -> None:
        if self.dialog is not None:
            self.dialog.destroy()
        for thread in self._marks:  # the record says where it went before the plug-in ends
            thread.join(5)


def history_dialog(image=None, layer=None) -> HistoryDialog:
    GimpUi.init("recraft")
    dialog = HistoryDialog(image, layer)
    try:
        dialog.run()
    finally:
        dialog.destroy()
    return dialog
