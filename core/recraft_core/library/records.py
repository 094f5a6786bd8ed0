"""What one library entry says, as plain data, and the pure functions over it.

An Entry is one paid call: its operation, model and parameters, the front end and document it
came from, its time and cost, and the result files Recraft returned. It is written to disk as
`record.json` (the truth: see store.py) and kept in sqlite as an index (index.py); the
functions here (scrubbing, search words, filters, ordering, cost sums) are shared by the
sqlite index and the scan that replaces it, so both give the same answers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

VERSION = 1
FRONT_ENDS = ("krita", "gimp", "cli")
FRONT_END_NAMES = {"krita": "Krita", "gimp": "GIMP", "cli": "command line"}  # as a list says
# Ids are made by store.new_id: local date and time, then random hex. Checked before an id
# becomes a path, so `recraft history show ../../x` reads nothing outside the library.
ID_PATTERN = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{6}$")
# Keys never kept, at any depth, whatever the caller passes (a key containing one of these
# words): the token must not reach a file that is not private to the user (the library is a
# folder to browse and share from).
SECRET_KEYS = ("token", "authorization", "api_key", "apikey", "password", "secret")
COST_FIELDS = ("day", "operation", "model", "front_end")


@dataclass(frozen=True)
class ResultFile:
    """One image Recraft returned, as stored: `file` and `thumbnail` are names in the entry's
    folder; `bytes` the file's size, so a reader can tell a whole file."""

    file: str
    format: str | None  # png, jpeg, webp, svg; None: bytes we could not name (kept anyway)
    bytes: int
    image_id: str | None = None
    thumbnail: str | None = None


@dataclass(frozen=True)
class Insertion:
    where: str  # said by the front end: "photo.kra: layer Recraft inpaint: a hat"
    time: str
    result: int | None = None  # which result, by index; None: all of them


# What an Entry listed from the index decodes from its record's JSON only when first read:
# a listing of thousands is built from the index's columns alone (a record's JSON takes far
# longer to parse than the rest), and a view reads these for the rows it shows.
PACKED = ("results", "params", "placement", "inserted")


def _none() -> None:
    return None


@dataclass(frozen=True, repr=False)
class Entry:
    """One recorded call. `params` is the record's own dict (an index keeps entries to list
    them again): copy it before changing it, to fill a form say.

    Entries are shared by the threads that list them: nothing in one changes once made,
    except that a listed entry decodes its PACKED fields when first read (see listed)."""

    id: str
    operation: str
    time: str  # UTC, ISO 8601: 2026-05-09T12:34:56.123456Z
    day: str  # the local calendar day it was recorded on: 2026-05-09
    front_end: str
    results: tuple[ResultFile, ...]
    model: str | None = None
    params: dict = field(default_factory=dict)
    document: str | None = None
    credits: int | None = None
    source_thumbnail: str | None = None
    # Default factories, not defaults, for the PACKED fields: a default would be a class
    # attribute, found before __getattr__ is asked.
    placement: dict | None = field(default_factory=_none)  # its place, for inserting again
    inserted: tuple[Insertion, ...] = field(default_factory=tuple)
    # Disk use of its result files and thumbnails, for the size cap (the record itself is
    # left out: small, and it grows as insertions are added).
    size: int = 0
    root: Path | None = field(default=None, compare=False)  # the library it was read from

    def __repr__(self) -> str:
        return f"Entry({self.id} {self.operation}, {len(self.results)} results, {self.prompt!r})"

    def __getattr__(self, name: str):
        """A PACKED field of a listed entry, decoded from the JSON it carries (only asked
        for attributes not found otherwise). Two threads may decode at once: the
        first one's values stay, and the JSON goes once every field is set."""
        state = self.__dict__
        if name in PACKED:
            text = state.get("_packed")
            if text is not None:
                for key, value in _unpack(json.loads(text)).items():
                    state.setdefault(key, value)
                state.pop("_packed", None)
            if name in state:
                return state[name]
        raise AttributeError(f"'Entry' object has no attribute {name!r}")

    @cached_property
    def folder(self) -> Path | None:
        """Where its files are; made when first asked (a listing of thousands of entries
        shows a page of them)."""
        return None if self.root is None else self.root / day_folder(self.id) / self.id

    @cached_property
    def prompt(self) -> str:
        """The prompt sent ("" for none); a listed entry has it from the index."""
        value = self.params.get("prompt")
        return value if isinstance(value, str) else ""

    def path(self, name: str | None) -> Path | None:
        """A file of this entry, by its name in the record."""
        return None if name is None or self.folder is None else self.folder / name

    @property
    def result_paths(self) -> list[Path]:
        return [self.path(r.file) for r in self.results]

    @property
    def thumbnail_paths(self) -> list[Path | None]:
        """Each result's thumbnail: None for an SVG (the file itself draws small) or where the
        front end passed no pixels."""
        return [self.path(r.thumbnail) for r in self.results]

    @property
    def source_thumbnail_path(self) -> Path | None:
        return self.path(self.source_thumbnail)

    @property
    def edge(self) -> dict | None:
        """What a mask operation kept of its blend (placement["edge"]): "file" (grey
        pixels), "box" ([x0, y0, x1, y1] of the upload they cover) and "mask" (whether the
        job inserted it as a mask, else baked into the result's alpha); None for other
        entries and records written before edges were kept."""
        place = self.placement if isinstance(self.placement, dict) else {}
        edge = place.get("edge")
        return edge if isinstance(edge, dict) and _plain_name(edge.get("file")) else None

    @property
    def edge_file(self) -> str | None:
        return self.edge["file"] if self.edge is not None else None

    @property
    def edge_path(self) -> Path | None:
        return self.path(self.edge_file)


# -- the record file ------------------------------------------------------------------------


def to_json(entry: Entry) -> dict:
    """The record as written to record.json; keys in a stable, readable order."""
    return {
        "version": VERSION,
        "id": entry.id,
        "operation": entry.operation,
        "model": entry.model,
        "params": entry.params,
        "document": entry.document,
        "front_end": entry.front_end,
        "time": entry.time,
        "day": entry.day,
        "credits": entry.credits,
        "results": [vars(r).copy() for r in entry.results],
        "source_thumbnail": entry.source_thumbnail,
        "placement": entry.placement,
        "inserted": [vars(i).copy() for i in entry.inserted],
        "size": entry.size,
    }


class BadRecord(ValueError):
    """A record.json that is not one this library wrote."""


def day_folder(entry_id: str) -> str:
    """The folder of an id's day: 20260509-... is in 2026-05-09."""
    return f"{entry_id[:4]}-{entry_id[4:6]}-{entry_id[6:8]}"


def from_json(data: object, root: Path | None = None, check: bool = True) -> Entry:
    """An Entry from a parsed record.json; BadRecord when it is not one. A newer version's
    record is read for what this version knows (extra keys are ignored). `check` False
    skips the check of its id and file names: for JSON the index wrote from a checked
    record."""
    if not isinstance(data, dict):
        raise BadRecord("a record is a JSON object")
    try:
        packed = _unpack(data)
        results = packed["results"]
        entry = Entry(
            id=data["id"],
            operation=data["operation"],
            time=data["time"],
            day=data["day"],
            front_end=data["front_end"],
            model=data.get("model"),
            document=data.get("document"),
            credits=data.get("credits"),
            source_thumbnail=data.get("source_thumbnail"),
            size=int(data.get("size") or sum(r.bytes for r in results)),
            root=root,
            **packed,
        )
    except (KeyError, TypeError, ValueError) as e:
        raise BadRecord(f"the record lacks or garbles {e}") from None
    if not check:
        return entry
    names = [n for r in results for n in (r.file, r.thumbnail)] + [entry.source_thumbnail]
    if not ID_PATTERN.match(str(entry.id)) or not all(map(_plain_name, filter(None, names))):
        raise BadRecord("the record names a file outside its folder")
    return entry


def _unpack(data: dict) -> dict:
    """The PACKED fields of a record's JSON (or of packed()'s)."""
    return {
        "results": tuple(
            ResultFile(
                r["file"], r.get("format"), int(r["bytes"]), r.get("image_id"), r.get("thumbnail")
            )
            for r in data["results"]
        ),
        "params": dict(data.get("params") or {}),
        "placement": data.get("placement"),
        "inserted": tuple(
            Insertion(i["where"], i["time"], i.get("result")) for i in data.get("inserted") or ()
        ),
    }


def packed(entry: Entry) -> str:
    """The JSON of an entry's PACKED fields, as its record has them: what an index keeps
    beside its columns, for listed()."""
    return json.dumps(
        {
            "results": [vars(r) for r in entry.results],
            "params": entry.params,
            "placement": entry.placement,
            "inserted": [vars(i) for i in entry.inserted],
        },
        ensure_ascii=False,
    )


def listed(root: Path, row: tuple) -> Entry:
    """An Entry from an index row: the JSON packed() made, then the LISTED columns. The
    JSON is decoded only when one of the PACKED fields is first read: the same Entry as
    from_json's, made in a tenth of the time."""
    entry = object.__new__(Entry)
    state = entry.__dict__
    state.update(zip(_ROW, row, strict=True))
    state["root"] = root
    return entry


# What an index keeps of an Entry in columns of its own, and lists it from: every field but
# PACKED and root, and the prompt (of the params, searched and shown in every row).
LISTED = (
    "id",
    "operation",
    "time",
    "day",
    "front_end",
    "model",
    "document",
    "credits",
    "source_thumbnail",
    "size",
    "prompt",
)
_ROW = ("_packed", *LISTED)


def _plain_name(name: object) -> bool:
    """A file name with no folder part: a record can only name files beside it."""
    return isinstance(name, str) and bool(re.fullmatch(r"[A-Za-z0-9._-]+", name)) and name[0] != "."


def with_insertion(entry: Entry, where: str, result: int | None, when: str) -> Entry:
    return replace(entry, inserted=(*entry.inserted, Insertion(where, when, result)))


# -- what is kept of the parameters ----------------------------------------------------------


def scrub(value: object) -> object:
    """The JSON-able part of `value`, with every secret key dropped at any depth.

    Files and pixels (bytes, Raster, file objects: the inputs) are dropped rather than kept:
    they can be large, and a record is for reading and for running the same job again.
    """
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or _secret(key):
                continue
            kept = scrub(item)
            if kept is not _DROP:
                out[key] = kept
        return out
    if isinstance(value, (list, tuple)):
        return [v for v in map(scrub, value) if v is not _DROP]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else _DROP
    return _DROP


_DROP = object()


def _secret(key: str) -> bool:
    folded = key.lower().replace("-", "_")
    return any(word in folded for word in SECRET_KEYS)


# -- time --------------------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """Fixed width, so records sort by time as strings do."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(time: str) -> datetime | None:
    """A recorded time (as `iso` writes it), or None for anything else."""
    try:
        return datetime.strptime(time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def when(time: str, now: datetime | None = None) -> str:
    """A recorded time in the artist's words and local time: "today 23:50",
    "yesterday 09:12", "3 Dec 14:05", "3 Dec 2025"."""
    moment = parse(time)
    if moment is None:
        return time
    local = moment.astimezone()
    now = (now or utc_now()).astimezone()
    days = (now.date() - local.date()).days
    clock = local.strftime("%H:%M")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"yesterday {clock}"
    if local.year == now.year:
        return f"{local.day} {local.strftime('%b')} {clock}"
    return f"{local.day} {local.strftime('%b %Y')}"


def local_day(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d")


def today() -> str:
    """The local calendar day, as records name it: for "credits spent today"."""
    return local_day(utc_now())


# -- search ------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    """The words of `text` as sqlite's FTS5 tokenizer (unicode61, remove_diacritics 2) makes
    them: runs of letters and digits, case folded, accents removed. The scan uses these, and
    search terms go to FTS5 as these, so both find the same entries."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(
        c if unicodedata.category(c)[0] in "LN" or unicodedata.category(c) == "Co" else " "
        for c in decomposed
        if unicodedata.category(c) != "Mn"
    )
    return kept.lower().split()


def matches_text(prompt: str, terms: list[str]) -> bool:
    """Every term begins a word of the prompt ("light" finds "lighthouse at dusk")."""
    have = words(prompt)
    return all(any(w.startswith(t) for w in have) for t in terms)


@dataclass(frozen=True)
class Query:
    """What list() asks for; the same filter for the index and the scan."""

    search: str | None = None
    operation: str | None = None
    day: str | None = None

    @property
    def terms(self) -> list[str]:
        return words(self.search) if self.search else []

    def matches(self, entry: Entry) -> bool:
        return (
            (self.operation is None or entry.operation == self.operation)
            and (self.day is None or entry.day == self.day)
            and matches_text(entry.prompt, self.terms)
        )


def newest_first(entries: Iterable[Entry]) -> list[Entry]:
    """By time, then id, both descending: the order the index's SQL uses too."""
    return sorted(entries, key=lambda e: (e.time, e.id), reverse=True)


@dataclass(frozen=True)
class Cost:
    """Credits of the entries sharing `group` (values of the fields asked for, in order)."""

    group: tuple
    credits: int
    entries: int


def cost_groups(by: tuple[str, ...]) -> tuple[str, ...]:
    by = tuple(by)
    unknown = [f for f in by if f not in COST_FIELDS]
    if unknown or not by:
        raise ValueError(f"costs are grouped by some of {', '.join(COST_FIELDS)}, not {by!r}")
    return by


def sum_costs(entries: Iterable[Entry], by: tuple[str, ...]) -> list[Cost]:
    """Credits per group in cost_order. An entry whose cost is unknown counts as 0."""
    by = cost_groups(by)
    sums: dict[tuple, list[int]] = {}
    for e in entries:
        key = tuple(getattr(e, f) for f in by)
        slot = sums.setdefault(key, [0, 0])
        slot[0] += e.credits or 0
        slot[1] += 1
    return cost_order([Cost(k, c, n) for k, (c, n) in sums.items()], by)


def cost_order(rows: list[Cost], by: tuple[str, ...]) -> list[Cost]:
    """Newest day first, the other fields A to Z (unknown first): two stable sorts, the
    index's rows and the scan's ordered by the same code."""
    rows = sorted(rows, key=lambda c: [(v is not None, str(v or "")) for v in c.group])
    if "day" in by:
        at = by.index("day")
        rows.sort(key=lambda c: c.group[at] or "", reverse=True)
    return rows
