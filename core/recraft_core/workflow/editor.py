"""What an editor's Settings give its jobs: a Client for the saved token, and the results
library that keeps paid results as they arrive (worker thread), their thumbnails once decoded,
and where they were inserted. A library that fails is logged, never the job's failure: the
result still goes into the image."""

from __future__ import annotations

import logging
import threading

from ..api.client import Client
from ..api.operations import Operation
from ..api.results import ImageResult
from ..exceptions import ValidationError
from ..library import LibraryError, open_library
from .placing import Outcome
from .upload import Upload

log = logging.getLogger("recraft_core.workflow")

SETTINGS = object()  # Job(library=SETTINGS): the library the user's Settings ask for
_FAILURES = (LibraryError, OSError, ValueError)


def editor_client(settings_menu: str) -> Client:
    """A Client for the saved token (RECRAFT_API_TOKEN and RECRAFT_API_URL win); without one,
    the error says where the editor's Settings are."""
    try:
        return Client()
    except ValidationError as e:
        if e.field == "token" and "no API token" in e.rule:
            raise ValidationError(
                "token", f"is not set yet: open {settings_menu} and paste your Recraft token"
            ) from None
        raise


class Keeper:
    """`library`: a Library, None (keep nothing), or SETTINGS: the one the Settings ask for,
    for an editor (a `front_end`), opened on the worker thread when a result arrives."""

    def __init__(self, library, front_end: str | None, document: str | None) -> None:
        self._library = library
        self.front_end = front_end
        self.document = document
        self.entry_id: str | None = None

    def keep(self, op: Operation, result, params: dict, upload: Upload | None, canvas_size) -> None:
        if not isinstance(result, ImageResult):
            return  # styles, prompts and the balance are not pictures to keep
        if self._library is SETTINGS:
            self._library = open_library() if self.front_end else None
        if self._library is None:
            return
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
                placement={"canvas": list(canvas_size)} if canvas_size else None,
            )
        except _FAILURES as e:
            log.warning("recraft: the result was not kept in the library: %s", e)

    def thumbnails(self, outcome: Outcome | None) -> None:
        if self.entry_id is None or outcome is None:
            return
        pixels = [layer.image for layer in outcome.layers] or [None] * len(outcome.vectors)
        if outcome.document is not None:
            pixels = [outcome.document.image]
        try:
            self._library.add_thumbnails(self.entry_id, pixels)
        except _FAILURES as e:
            log.warning("recraft: no thumbnails in the library: %s", e)

    def inserted(self, outcome: Outcome, select: list[int] | None) -> None:
        """Say where the results went, on a thread of its own: rewriting the record is disk
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

        threading.Thread(target=mark, name="recraft-library", daemon=True).start()
