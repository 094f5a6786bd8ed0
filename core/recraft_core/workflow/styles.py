"""The styles the artist made with Create style, kept in the results library and offered by
name wherever a form takes a style id (Generate's Saved style...), in every front end.

    entry_id = styles.keep(library, style, params, sources=["sky", "tree"], document="a.xcf",
                           front_end="gimp")          # after create_style answered
    for saved in styles.offered(library):              # newest first; [] with no library
        menu.add(saved.label, saved.id)                # the id is what is sent

A style is kept as a library entry of its own (operation create_style), so that it is listed,
costed and shared like any paid call: its one "result" is the API's answer as JSON, whose
`image_id` is the style's id (a style has no picture; the first reference's thumbnail stands
for it). What the entry says of its references (`placement["references"]`: layer or file
names) and its base style is what makes a label an artist recognises; the id stays what is
sent. A library that is off (None) keeps nothing and offers nothing: only an id typed in
works then.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..api import catalog
from ..api.operations import OPERATIONS
from ..library.records import when

log = logging.getLogger("recraft_core.workflow")

CREATE_STYLE = next(op.name for op in OPERATIONS.values() if op.result == "style")
LIMIT = 50  # styles offered at most: a menu, not a library view
SOURCES_SHOWN = 3  # reference names a label spells out before "and N more"
NAME_CHARS = 24  # a long layer name is cut in a label


@dataclass(frozen=True)
class SavedStyle:
    """A style the artist made: `id` is what is sent, `label` what a menu shows."""

    id: str
    label: str
    time: str  # UTC, ISO 8601, as the library records it
    base: str | None  # the base style it was made from ("digital_illustration")
    sources: tuple[str, ...]  # the layers or files it was made from, as named then
    entry_id: str  # its entry in the library


@dataclass(frozen=True)
class _Answer:
    """What the library keeps as the entry's result: bytes and an image id."""

    data: bytes
    image_id: str


def keep(
    library,
    style,
    params: dict | None = None,
    *,
    sources: Sequence[str] = (),
    document: str | None = None,
    front_end: str = "cli",
    reference=None,
) -> str | None:
    """Keep a created style (api.results.Style) in `library`; its entry's id, or None when
    there is no library or it already holds this style (two front ends may keep the same
    answer). `params`: what was sent, without the files; `sources`: the names of the layers
    or files it was made from; `reference`: the first reference's pixels (a Raster), for the
    entry's thumbnail. Raises what Library.record raises (LibraryError)."""
    if library is None or not getattr(style, "id", None):
        return None
    if any(saved.id == style.id for saved in offered(library, limit=None)):
        return None
    sent = {k: v for k, v in (params or {}).items() if v is not None}
    answer = {"id": style.id, "style": style.style or sent.get("style")}
    names = [str(s) for s in sources if s]
    return library.record(
        CREATE_STYLE,
        [_Answer(json.dumps(answer).encode("utf-8"), style.id)],
        params=sent,
        document=document,
        front_end=front_end,
        credits=style.credits,
        source=reference,
        placement={"references": names} if names else None,
    )


def offered(library, limit: int | None = LIMIT, now: datetime | None = None) -> list[SavedStyle]:
    """The styles kept in `library`, newest first (None, a library that is off: none).
    `now` is for the labels' "today"/"yesterday" (default: the current time)."""
    if library is None:
        return []
    out, seen = [], set()
    for entry in library.list(operation=CREATE_STYLE, limit=limit):
        saved = _saved(entry, now)
        if saved is not None and saved.id not in seen:
            seen.add(saved.id)
            out.append(saved)
    return out


def find(styles: Sequence[SavedStyle], style_id: str | None) -> SavedStyle | None:
    """The offered style with this id (typed or pasted ids: spaces and case ignored)."""
    wanted = (style_id or "").strip().lower()
    return next((s for s in styles if s.id.lower() == wanted), None) if wanted else None


def _saved(entry, now: datetime | None) -> SavedStyle | None:
    ids = [r.image_id for r in entry.results if r.image_id]
    if not ids:
        return None
    placement = entry.placement if isinstance(entry.placement, dict) else {}
    sources = tuple(s for s in placement.get("references") or () if isinstance(s, str))
    base = entry.params.get("style")
    base = base if isinstance(base, str) else None
    return SavedStyle(
        id=ids[0],
        label=label(entry.time, base, sources, entry.document, entry.prompt, now),
        time=entry.time,
        base=base,
        sources=sources,
        entry_id=entry.id,
    )


def label(
    time: str,
    base: str | None,
    sources: Sequence[str] = (),
    document: str | None = None,
    prompt: str = "",
    now: datetime | None = None,
) -> str:
    """ "“sky”, “tree” · Digital illustration · today 23:50": what it was made from, its
    base style, and when."""
    parts = []
    if sources:
        named = [f"“{_cut(s)}”" for s in sources[:SOURCES_SHOWN]]
        more = len(sources) - SOURCES_SHOWN
        made_from = ", ".join(named) + (f" and {more} more" if more > 0 else "")
        parts.append(made_from + (f" in {_cut(document)}" if document else ""))
    elif document:
        parts.append(_cut(document))
    if prompt:
        parts.append(f"“{_cut(prompt)}”")
    if base and base != "any":
        parts.append(catalog.style_label(base))
    parts.append(when(time, now))
    return " · ".join(parts)


def _cut(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1] + "…"
