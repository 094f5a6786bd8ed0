"""`recraft history`: the paid results kept in the results library (recraft_core.library),
listed, searched, shown, exported, deleted and summed. Exit codes: 0 done, 1 the library
could not be read, 2 usage, 3 no such entry."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from . import settings
from .api.operations import OPERATIONS
from .exceptions import RecraftError
from .imaging import svg
from .library import Library, LibraryError
from .library import records as library_records

# The operations whose results the library keeps: what --op may name.
_IMAGE_OPS = [op for op in OPERATIONS.values() if op.result in ("images", "image")]


def _operation_name(text: str) -> str:
    """An operation as the library names it (the table's name), from the CLI's name or the
    table's own."""
    name = text.strip().lower().replace("-", "_")
    if name not in {op.name for op in _IMAGE_OPS}:
        raise argparse.ArgumentTypeError(
            f"{text!r} is no operation; one of: " + ", ".join(op.cli_name for op in _IMAGE_OPS)
        )
    return name


def _day(text: str) -> str:
    if text == "today":
        return library_records.today()
    try:
        return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day as YYYY-MM-DD") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of entries (0: all)")
    return value


HISTORY_LIMIT = 50


def add_parser(sub) -> None:
    history = sub.add_parser(
        "history",
        help="the results kept in the library: list, search, show, export, costs",
        usage="recraft history [options] [show ID | export ID -o DIR | delete ID...]",
        description="The paid results kept in the results library (the plug-ins' too), newest "
        "first. RECRAFT_LIBRARY or the plug-ins' Settings say where it is.",
    )
    history.add_argument(
        "--search",
        metavar="TEXT",
        help="entries whose prompt or file name has these words (IMG_0005 finds IMG_0005.jpg)",
    )
    history.add_argument(
        "--op", type=_operation_name, metavar="OPERATION", help="one operation's entries"
    )
    history.add_argument(
        "--day", type=_day, metavar="YYYY-MM-DD", help="one day's entries (local time; or today)"
    )
    history.add_argument(
        "--limit",
        type=_count,
        default=HISTORY_LIMIT,
        metavar="N",
        help=f"at most N entries (default {HISTORY_LIMIT}; 0: all)",
    )
    history.add_argument(
        "--costs", action="store_true", help="credits spent per day and operation, with totals"
    )
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(op=None, action=None)
    actions = history.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="an entry's whole record, its files with their paths")
    show.add_argument("id", metavar="ID")
    export = actions.add_parser("export", help="copy an entry's results and record to a folder")
    export.add_argument("id", metavar="ID")
    export.add_argument("-o", "--output", required=True, metavar="DIR", help="the folder")
    delete = actions.add_parser("delete", help="remove entries and their files")
    delete.add_argument("ids", nargs="+", metavar="ID")
    for action in (show, export):
        action.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON"
        )


class _HistoryError(Exception):
    """A message and an exit code for `recraft history`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def run(args) -> int:
    # Prompts in any script, to a console or file whose encoding lacks some (cp1252, say): a
    # character it cannot show is escaped, not a traceback.
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="backslashreplace")
    try:
        return _history_command(args)
    except BrokenPipeError:  # `recraft history | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _HistoryError as e:
        _say(f"recraft history: {e}")
        return e.code
    except (LibraryError, OSError) as e:
        _say(f"recraft history: {e}")
        return 1


def _history_command(args) -> int:
    if args.action is None and args.costs and args.search:
        raise _HistoryError("--search does not apply to --costs (--op and --day do)", 2)
    if args.action is not None and args.costs:
        raise _HistoryError(f"--costs does not go with {args.action}", 2)
    preferences = settings.load()
    folder = getattr(preferences, "library_folder", None) or None
    try:
        library = Library(folder, cap_bytes=None)  # reading: nothing is pruned here
    except LibraryError as e:
        raise _HistoryError(str(e), 1) from None
    if getattr(preferences, "library_off", False) and args.action is None:
        _say("note: the library is turned off in Settings; nothing new is kept in it")
    with library:
        if args.action == "show":
            return _history_show(library, args)
        if args.action == "export":
            return _history_export(library, args)
        if args.action == "delete":
            return _history_delete(library, args)
        if args.costs:
            return _history_costs(library, args)
        return _history_list(library, args)


def _entry(library: Library, entry_id: str):
    try:
        entry = library.get(entry_id)
    except ValueError:
        raise _HistoryError(
            f"{entry_id!r} is not an entry id (they look like 20260509-143012-3f9a2c: "
            "see recraft history)",
            3,
        ) from None
    if entry is None:
        raise _HistoryError(f"there is no entry {entry_id} in {library.root}", 3)
    return entry


def _op_label(name: str) -> str:
    return name.replace("_", "-")


def _local(time: str, seconds: bool = False) -> str:
    """A record's UTC time as local time."""
    moment = library_records.parse(time)
    if moment is None:
        return time
    return moment.astimezone().strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


def _short(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _entry_json(entry) -> dict:
    return {
        **library_records.to_json(entry),
        "folder": str(entry.folder),
        "result_paths": [str(path) for path in entry.result_paths],
    }


def _search(library: Library, args, limit: int | None) -> tuple[list, int | None]:
    """(the entries listed, how many match in all when that is more than `limit`, else
    None). A search matches the prompt or the document (the input file's name) by the
    prompt search's rule: every word begins a word of either ("IMG_0005" finds
    IMG_0005.jpg). The library's index searches prompts only, so the entries of the other
    filters are matched here (a library of thousands takes a fraction of a second)."""
    if not args.search:
        entries = library.list(operation=args.op, day=args.day, limit=limit)
        if limit is None or len(entries) < limit:
            return entries, None
        return entries, library.count(operation=args.op, day=args.day)
    terms = library_records.words(args.search)
    found = [
        e
        for e in library.list(operation=args.op, day=args.day, limit=None)
        if library_records.matches_text(f"{e.prompt} {e.document or ''}", terms)
    ]
    if limit is None or len(found) <= limit:
        return found, None
    return found[:limit], len(found)


def _history_list(library: Library, args) -> int:
    limit = args.limit or None
    entries, total = _search(library, args, limit)
    if args.json:
        print(json.dumps([_entry_json(e) for e in entries], indent=2, ensure_ascii=False))
    else:
        width = max((len(_op_label(e.operation)) for e in entries), default=0)
        for e in entries:
            credits = "?" if e.credits is None else str(e.credits)
            files = ",".join(r.file for r in e.results)
            about = _short(e.prompt) or (_short(f"[{e.document}]") if e.document else "-")
            print(
                f"{e.id}  {_local(e.time)}  {_op_label(e.operation):<{width}}  "
                f"{credits:>4} cr  {about:<40}  {files}"
            )
    filtered = args.search or args.op or args.day
    if not entries:
        _say(f"no entries{' match' if filtered else ''} in {library.root}")
    elif total is not None and total > len(entries):
        _say(f"the newest {limit} of {total} entries; --limit 0 for all")
    return 0


def _history_show(library: Library, args) -> int:
    entry = _entry(library, args.id)
    if getattr(args, "json", False):
        print(json.dumps(_entry_json(entry), indent=2, ensure_ascii=False))
        return 0
    rows = [
        ("id", entry.id),
        ("time", _local(entry.time, seconds=True)),
        ("operation", _op_label(entry.operation)),
        ("model", entry.model or "-"),
        ("front end", entry.front_end),
        ("document", entry.document or "-"),
        *_input_row(entry),
        ("credits", "unknown" if entry.credits is None else str(entry.credits)),
        ("folder", str(entry.folder)),
    ]
    if entry.params:
        rows.append(("parameters", ""))
    for key, value in entry.params.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append((f"  {key}", text))
    for i, (r, path) in enumerate(zip(entry.results, entry.result_paths, strict=True)):
        about = ", ".join(filter(None, [r.format, f"{r.bytes} bytes", r.image_id]))
        rows.append((f"result {i + 1}", f"{path} ({about})"))
        if r.thumbnail:
            rows.append(("  thumbnail", str(entry.path(r.thumbnail))))
    if entry.source_thumbnail:
        rows.append(("source", str(entry.source_thumbnail_path)))
    # Where the CLI wrote a result is its insertion: a path, said as such.
    written = "written to" if entry.front_end == "cli" else "inserted"
    for insertion in entry.inserted:
        which = "" if insertion.result is None else f" (result {insertion.result + 1})"
        rows.append((written, f"{_local(insertion.time)} {insertion.where}{which}"))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}".rstrip())
    return 0


def _input_row(entry) -> list[tuple[str, str]]:
    """The input file's path, where the record has it (the CLI's keeps it in placement)."""
    place = entry.placement if isinstance(entry.placement, dict) else {}
    source = place.get("input")
    return [("input", source)] if isinstance(source, str) and source else []


def _history_export(library: Library, args) -> int:
    entry = _entry(library, args.id)
    folder = Path(args.output)
    written = library.export(entry.id, folder)
    for path in written:
        if path.suffix.lower() == ".svg":
            _sanitize_export(path)
    written = [path for path in written if path.exists()]
    if getattr(args, "json", False):
        print(json.dumps([str(path) for path in written], indent=2))
    else:
        for path in written:
            print(path)
    _say(f"exported {entry.id} to {folder}")
    return 0


def _sanitize_export(path: Path) -> None:
    """An exported SVG as the CLI writes every SVG: without scripts or outside references (a
    browser may open it). The library keeps what Recraft sent."""
    try:
        path.write_bytes(svg.sanitize(path.read_bytes()).text.encode("utf-8"))
    except RecraftError as e:
        path.unlink()
        _say(f"left out {path.name}: {e}")


def _history_delete(library: Library, args) -> int:
    entries = [_entry(library, entry_id) for entry_id in args.ids]  # all checked first
    for entry in entries:
        library.delete(entry.id)
        _say(f"deleted {entry.id}")
    return 0


def _history_costs(library: Library, args) -> int:
    rows = library.costs(("day", "operation"), operation=args.op, day=args.day)
    days: dict[str, list[int]] = {}
    for row in rows:
        day = days.setdefault(row.group[0], [0, 0])
        day[0] += row.entries
        day[1] += row.credits
    total = [sum(d[0] for d in days.values()), sum(d[1] for d in days.values())]
    if args.json:
        out = {
            "rows": [
                {
                    "day": r.group[0],
                    "operation": r.group[1],
                    "entries": r.entries,
                    "credits": r.credits,
                }
                for r in rows
            ],
            "days": [{"day": d, "entries": n, "credits": c} for d, (n, c) in days.items()],
            "total": {"entries": total[0], "credits": total[1]},
        }
        print(json.dumps(out, indent=2))
        return 0
    if not rows:
        _say(f"no entries{' match' if args.op or args.day else ''} in {library.root}")
        return 0
    width = max(len("operation"), *(len(_op_label(r.group[1] or "?")) for r in rows))

    def line(day, operation, entries, credits) -> None:
        print(f"{day:<10}  {operation:<{width}}  {entries:>7}  {credits:>7}".rstrip())

    line("day", "operation", "entries", "credits")
    for day, (entries, credits) in days.items():
        for r in rows:
            if r.group[0] == day:
                line(day, _op_label(r.group[1] or "?"), r.entries, r.credits)
        if len(days) > 1:
            line(day, "(all)", entries, credits)
    line("total", "", total[0], total[1])
    return 0


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
