"""What an editor's Settings give its jobs: a Client for the saved token (and its Check
token button's sentence), and the results
library that keeps paid results as they arrive (worker thread), their thumbnails once decoded,
and where they were inserted. A library that fails is logged, never the job's failure: the
result still goes into the image.

The library is the process's one (library.open_library), opened by the first job's worker.
The writes asked for from the UI thread (thumbnails of results it decoded, where results
went) are done by one thread of the library's, in order, so the UI thread never waits for
the disk or for another process's lock on the library; a process that ends waits for them,
a few seconds at most (a GIMP plug-in's ends as soon as its procedure returns)."""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections import deque

from .. import settings
from ..api.client import Client
from ..api.operations import Operation
from ..api.results import ImageResult, Style
from ..api.transport import RetryPolicy
from ..exceptions import (
    AuthenticationError,
    NoToken,
    RecraftError,
    TransportError,
    ValidationError,
)
from ..imaging import masks
from ..imaging.png import Raster
from ..library import LibraryError, open_library
from . import styles
from .placing import Outcome
from .upload import Upload

log = logging.getLogger("recraft_core.workflow")

SETTINGS = object()  # Job(library=SETTINGS): the library the user's Settings ask for
_FAILURES = (LibraryError, OSError, ValueError)
# How long a process that ends waits for the library's last writes (a record rewrite takes
# milliseconds; a wait for another process's lock on the library is what this bounds).
SETTLE_SECONDS = 5.0


def editor_client(settings_menu: str) -> Client:
    """A Client for the saved token (RECRAFT_API_TOKEN and RECRAFT_API_URL win); without one,
    the error says where the editor's Settings are."""
    try:
        return Client()
    except NoToken:
        raise ValidationError(
            "token", f"is not set yet: open {settings_menu} and paste your Recraft token"
        ) from None


CHECK_TIMEOUT = (5.0, 20.0)  # connect, read: a check should not keep the user waiting long
_ONCE = RetryPolicy(retries=0)  # a check says what happened now, without retrying
_LABELS = {entry.name: entry.label for entry in settings.ENTRIES}


def token_check(token: str, server: str) -> str:
    """What asking /users/me with this token and server says, in a sentence: "Token works:
    N credits." or why not, with the Settings dialogs' labels. Never the token itself.
    Blocks: call it off the UI thread."""
    token, server = token.strip(), server.strip()
    if not token:
        return "Paste your Recraft API token first."
    try:
        with Client(token, base_url=server or None, timeout=CHECK_TIMEOUT, retry=_ONCE) as c:
            user = c.user()
    except ValidationError as e:  # said with the dialog's labels: "Server", "API token"
        return ValidationError(_LABELS.get(e.field, e.field), e.rule).user_message
    except AuthenticationError:
        return "Wrong token: Recraft refused it. Copy it again from your Recraft account."
    except TransportError as e:
        return f"Cannot reach the server: {e.detail}."
    except RecraftError as e:
        return e.user_message
    return f"Token works: {user.credits} credits."


class Keeper:
    """`library`: a Library, None (keep nothing), or SETTINGS: the one the Settings ask for,
    for an editor (a `front_end`), opened on the worker thread when a result arrives."""

    def __init__(self, library, front_end: str | None, document: str | None, sources=()) -> None:
        self._library = library
        self.front_end = front_end
        self.document = document
        self.sources = list(sources)  # a style's references, by name (layers, files)
        self.entry_id: str | None = None
        self._keeping_thread: int | None = None  # the worker's: it may write at once

    def keep(
        self,
        op: Operation,
        result,
        params: dict,
        upload: Upload | None,
        canvas_size,
        references=(),
    ) -> None:
        if isinstance(result, Style):
            self._keep_style(result, params, references)
            return
        if not isinstance(result, ImageResult):
            return  # prompts and the balance are not pictures to keep
        if self._library is SETTINGS:
            self._library = open_library() if self.front_end else None
        if self._library is None:
            return
        self._keeping_thread = threading.get_ident()
        placement = _placement(upload, canvas_size)
        edge = _edge(upload, placement)
        try:
            self.entry_id = self._library.record(
                op.name,
                result.images,
                model=params.get("model") or op.default_model,
                params=params,
                document=self.document,
                front_end=self.front_end or "cli",
                credits=result.credits,
                source=upload.preview if upload is not None else None,
                placement=placement,
                edge=edge,
            )
        except _FAILURES as e:
            log.warning("recraft: the result was not kept in the library: %s", e)

    def _keep_style(self, style: Style, params: dict, references) -> None:
        """A created style, kept so that every form taking a style id offers it by name
        (styles.offered), in this editor, the other one and the recraft command."""
        if self._library is SETTINGS:
            self._library = open_library() if self.front_end else None
        try:
            self.entry_id = styles.keep(
                self._library,
                style,
                params,
                sources=self.sources,
                document=self.document,
                front_end=self.front_end or "cli",
                reference=references[0] if references else None,
            )
        except _FAILURES as e:
            log.warning("recraft: the style was not kept in the library: %s", e)

    def thumbnails(self, outcome: Outcome | None) -> None:
        """Thumbnails of the decoded results: at once on the worker that kept them (the
        job's thread: they are in the library when it finishes), on the library's thread
        when the results were decoded elsewhere (an editor's UI thread)."""
        if self.entry_id is None or outcome is None:
            return
        pixels = [layer.image for layer in outcome.layers] or [None] * len(outcome.vectors)
        if outcome.document is not None:
            pixels = [outcome.document.image]
        library, entry_id = self._library, self.entry_id

        def add() -> None:
            try:
                library.add_thumbnails(entry_id, pixels)
            except _FAILURES as e:
                log.warning("recraft: no thumbnails in the library: %s", e)

        if threading.get_ident() == self._keeping_thread:
            add()
        else:
            WRITER.put(add)

    def inserted(self, outcome: Outcome, select: list[int] | None) -> None:
        """Say where the results went, on the library's thread: rewriting the record is disk
        work the UI thread does not wait for."""
        if self.entry_id is None:
            return
        items = outcome.layers or outcome.vectors
        names = [items[i].name for i in (select or range(len(items))) if 0 <= i < len(items)]
        if outcome.document is not None:
            names = [outcome.document.name + " (a new image)"]
        where = f"{self.document or 'the image'}: {', '.join(names)}"
        library, entry_id = self._library, self.entry_id

        def mark() -> None:
            try:
                library.mark_inserted(entry_id, where)
            except _FAILURES as e:
                log.warning("recraft: the library was not told where results went: %s", e)

        WRITER.put(mark)


class Writer:
    """One thread that runs what is given to it, in order: the library's writes that nobody
    waits for. Started on first use; `settle` waits until all given so far are done."""

    def __init__(self) -> None:
        self._tasks: deque = deque()
        self._pending = 0
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, task) -> None:
        with self._changed:
            self._tasks.append(task)
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="recraft-library", daemon=True
                )
                self._thread.start()
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._tasks:
                    self._changed.wait()
                task = self._tasks.popleft()
            try:
                task()
            except Exception:  # a bug in one write must not stop the ones after it
                log.exception("recraft: a library write failed")
            finally:
                with self._changed:
                    self._pending -= 1
                    self._changed.notify_all()

    def settle(self, timeout: float = SETTLE_SECONDS) -> bool:
        """Wait until every write given so far is done, at most `timeout` seconds; whether
        they are."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True


WRITER = Writer()
# A process that ends (GIMP's plug-in, as its procedure returns) first lets the library's
# last writes finish: a daemon thread would be stopped midway.
atexit.register(WRITER.settle)


def _placement(upload: Upload | None, canvas_size) -> dict | None:
    """Where the results went, for inserting them again from the library
    (workflow.history): the canvas's size, and the region that was sent at what size."""
    if not canvas_size:
        return None
    place = {"canvas": list(canvas_size)}
    if upload is not None and upload.plan is not None:
        place["box"] = list(upload.plan.box)
        place["sent"] = [upload.plan.width, upload.plan.height]
    return place


def _edge(upload: Upload | None, placement: dict | None) -> Raster | None:
    """A mask operation's blend, for inserting its results again as the job did: the
    compositing alpha over as much of the upload as it is not 0 (a small selection's is a
    few KB of PNG), its box in `placement["edge"]` with whether it went in as a mask. None
    (and nothing added) for other operations."""
    if upload is None or upload.alpha is None or upload.alpha_box is None or placement is None:
        return None
    x0, y0, x1, y1 = upload.alpha_box
    w, h = x1 - x0, y1 - y0
    alpha = upload.alpha
    shown = masks.bbox(alpha, w, h)
    if shown is not None and shown != (0, 0, w, h):
        # Placer._masked crops to the same box: the result is the same from either.
        alpha = masks.crop(alpha, w, 1, shown)
        x0, y0, x1, y1 = x0 + shown[0], y0 + shown[1], x0 + shown[2], y0 + shown[3]
        w, h = x1 - x0, y1 - y0
    placement["edge"] = {"box": [x0, y0, x1, y1], "mask": bool(upload.options.edge_masks)}
    return Raster(w, h, "L", bytes(alpha))
