"""`recraft`: every API operation from the shell. Files in, files out.

    recraft inpaint photo.png --mask mask.png --prompt "a red hat"
    recraft vectorize logo.png -o logo.svg
    recraft generate --prompt "a lighthouse at dusk" --n 2 --json
    recraft login          # saves the token (from a prompt or stdin) for the CLI and plug-ins
    recraft history --search lighthouse     # the results kept in the library

Results are written next to the input (photo.inpaint.png) or to -o. An existing file gets a
fresh name (photo.inpaint-2.png) unless --force; an input is never overwritten. Progress goes
to stderr, written paths to stdout. Exit codes: 0 done, 1 the results library could not be
read (recraft history), 2 usage, 3 invalid input, 4 the API refused, 5 network failure, 6
unreadable answer, 7 a result could not be written where asked (it was saved elsewhere, named
on stderr), 130 cancelled.

Every paid image result is also kept in the results library (recraft_core.library) before
its files are written, unless --no-history: a library that cannot be opened or written is a
warning, never the command's failure. Thumbnails: the CLI decodes only PNG results of at most
THUMBNAIL_MAX_PIXELS with the core's pure-Python decoder (about a second for 4 MP), after the
files are written; larger results, JPEG and WEBP are kept without one.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import json
import logging
import os
import signal
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from . import settings
from ._version import __version__
from .api import catalog
from .api.client import Client
from .api.operations import OPERATIONS, Field, Operation
from .api.progress import STAGES
from .api.results import ImageResult
from .api.transport import CancelToken
from .exceptions import (
    APIError,
    Cancelled,
    ProtocolError,
    RecraftError,
    ServerError,
    TransportError,
    ValidationError,
)
from .imaging import imageinfo, planning, png, svg
from .library import Library, LibraryError, open_library
from .library import records as library_records

# What each kind of failure is called on stderr, and the exit code it gives.
_FAILURES = {
    ValidationError: ("invalid input: ", 3),
    ServerError: ("Recraft failed: ", 4),
    APIError: ("the API refused: ", 4),
    TransportError: ("network: ", 5),
    ProtocolError: ("", 6),
    Cancelled: ("", 130),
}


def _json_arg(text: str):
    """A JSON value given inline or as @file."""
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise argparse.ArgumentTypeError(f"cannot read {text[1:]}: {e}") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON: {e}") from None


MAX_TIMEOUT = 3600.0  # an hour: no Recraft call takes longer, and sockets take no more


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return value


def _bool(text: str) -> bool:
    if text.lower() in ("true", "yes", "1"):
        return True
    if text.lower() in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError("must be true or false")


# Structured fields are given as JSON on the command line.
_TYPES = {
    "int": int,
    "float": float,
    "bool": _bool,
    "json": _json_arg,
    "object": _json_arg,
    "color": _json_arg,
    "colors": _json_arg,
}


def _add_field(parser: argparse.ArgumentParser, field: Field) -> None:
    flag = "--" + field.name.replace("_", "-")
    kwargs = {"dest": field.name, "help": field.help, "default": None}
    if field.type in _TYPES:
        kwargs["type"] = _TYPES[field.type]
    if kwargs.get("type") is _json_arg:
        kwargs["metavar"] = "JSON"
    if field.choices:
        kwargs["metavar"] = "{" + ",".join(field.choices) + "}"
    kwargs["help"] += " (required)" if field.required else ""
    parser.add_argument(flag, **kwargs)


def _add_connection_options(parser: argparse.ArgumentParser, default=None) -> None:
    """--base-url and --timeout, before the operation's name or after it. After it they
    default to SUPPRESS, so that they do not undo the values given before it."""
    parser.add_argument(
        "--base-url",
        default=default,
        help="API base URL (default: RECRAFT_API_URL or Recraft's)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=180.0 if default is None else default,
        help="seconds to wait for an answer (default 180)",
    )


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


_IMAGE_OPS = [op for op in OPERATIONS.values() if op.result in ("images", "image")]
HISTORY_LIMIT = 50


def _add_history(sub) -> None:
    history = sub.add_parser(
        "history",
        help="the results kept in the library: list, search, show, export, costs",
        usage="recraft history [options] [show ID | export ID -o DIR | delete ID...]",
        description="The paid results kept in the results library (the plug-ins' too), newest "
        "first. RECRAFT_LIBRARY or the plug-ins' Settings say where it is.",
    )
    history.add_argument("--search", metavar="TEXT", help="entries whose prompt has these words")
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="recraft",
        description="Recraft's image API from the command line. "
        "Token from RECRAFT_API_TOKEN, API URL from RECRAFT_API_URL.",
    )
    parser.add_argument("--version", action="version", version=f"recraft {__version__}")
    _add_connection_options(parser)
    sub = parser.add_subparsers(dest="operation", required=True, metavar="OPERATION")
    login = sub.add_parser(
        "login",
        help="save your API token (read from standard input or a prompt) for the CLI and plug-ins",
    )
    login.add_argument("--no-check", action="store_true", help="save without asking the API")
    _add_connection_options(login, argparse.SUPPRESS)
    login.set_defaults(op=None)
    sub.add_parser("logout", help="forget the saved API token").set_defaults(op=None)
    _add_history(sub)
    for op in OPERATIONS.values():
        p = sub.add_parser(
            op.cli_name, help=op.help, description=f"{op.help}. {op.method} {op.url_path}"
        )
        for spec in op.files:
            if spec.kind == "images":
                p.add_argument(spec.name, nargs="*", metavar="IMAGE", help=spec.help)
            elif spec.kind == "mask":
                p.add_argument("--mask", required=True, help=spec.help)
            else:
                p.add_argument(spec.name, help=spec.help)
        for field in op.fields:
            _add_field(p, field)
        if op.models:
            p.add_argument("--model", metavar="MODEL", help=f"default {op.default_model}")
        if op.result in ("images", "image"):
            p.add_argument("-o", "--output", help="output file, or folder for several results")
            p.add_argument(
                "--force",
                action="store_true",
                help="replace an existing output file (never an input) instead of taking a "
                "fresh name",
            )
            p.add_argument(
                "--no-history",
                action="store_true",
                help="do not keep the result in the results library (recraft history)",
            )
        if any(spec.kind != "images" for spec in op.files):
            p.add_argument(
                "--fit",
                action="store_true",
                help="scale images outside the API's size limits (pixels, 10 MB) to fit "
                "(needs Pillow)",
            )
        _add_connection_options(p, argparse.SUPPRESS)
        p.add_argument("--json", action="store_true", help="print the API's JSON answer")
        p.add_argument("--dry-run", action="store_true", help="check and show the request only")
        p.set_defaults(op=op)
    return parser


def _outputs(op: Operation, args, exts: list[str]) -> list[Path]:
    """Where each result goes: -o, or beside the input named after the operation; a name
    that is taken gets -2, -3... unless --force. Nothing is created here."""
    count = len(exts)
    out = getattr(args, "output", None)
    source = getattr(args, "image", None)
    if out and (Path(out).is_dir() or out.endswith(os.sep)):
        folder, stem = Path(out), Path(source).stem if source else op.cli_name
    elif out:
        target = Path(out)
        if count == 1:
            return [_fresh(target, args)]
        folder, stem = target.parent, target.stem
    else:
        folder = Path(source).parent if source else Path.cwd()
        stem = f"{Path(source).stem}.{op.cli_name}" if source else op.cli_name
    if count == 1:
        return [_fresh(folder / f"{stem}.{exts[0]}", args)]
    return [_fresh(folder / f"{stem}-{i + 1}.{ext}", args) for i, ext in enumerate(exts)]


def _fresh(path: Path, args) -> Path:
    """`path`, or with --force a taken one, else the first free path-2, path-3... Only a
    regular file counts as taken: /dev/stdout or a pipe is written to as it is."""
    if getattr(args, "force", False) or not path.is_file():
        return path
    number = 2
    while (candidate := path.with_name(f"{path.stem}-{number}{path.suffix}")).is_file():
        number += 1
    return candidate


def _check_outputs(op: Operation, args, params: dict) -> None:
    """Before anything is sent (and paid for): the results can be written where they go,
    and none of them would replace an input file."""
    if op.result not in ("images", "image"):
        return
    count = params.get("n") or 1
    inputs = set()
    for spec in op.files:
        value = params.get(spec.name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                inputs.add(Path(item).resolve())
    sent_svg = any(path.suffix.lower() == ".svg" for path in inputs)
    ext = op.result_format(params.get("model"), "svg" if sent_svg else None)
    for path in _outputs(op, args, [ext] * count):
        if path.resolve() in inputs:
            raise ValidationError(
                "--output", f"{path} is an input of this command and is never overwritten"
            )
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # the results' folder is made when they are written
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise ValidationError("--output", f"cannot write into {folder}")


def _content(image) -> bytes:
    """What is saved of a result: a raster as received; an SVG as the sanitiser leaves it (no
    scripts, event handlers or outside references: a browser may open the file)."""
    if not image.is_vector:
        return image.data
    return svg.sanitize(image.data).text.encode("utf-8")


def _write(image, path: Path) -> Path:
    """Write a paid result; when that fails, to a fresh file in the working folder or the
    temporary one, whose path is returned (the caller says so)."""
    data = _content(image)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path
    except OSError as e:
        reason = e.strerror or type(e).__name__
        _say(f"could not write {path} ({reason})")
    name = f"recraft-{os.getpid()}-{path.name}"
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        fallback = folder / name
        try:
            with open(fallback, "xb") as f:
                f.write(data)
            return fallback
        except OSError:
            continue
    raise OSError(f"no folder could take the result ({path.name})")


# Results up to this size get a thumbnail from the CLI: the core's pure-Python PNG decoder
# takes about a second for 4 MP (Pillow is not needed; 16 MP would take 3 to 4 s). Larger
# ones, JPEG and WEBP are kept without one (the core decodes PNG only).
THUMBNAIL_MAX_PIXELS = 4 * 1024 * 1024


def _keep(op: Operation, args, params: dict, result: ImageResult):
    """Record a paid result in the results library, as received, before its files are
    written: (library, entry id), or (None, None) when it is not kept (--no-history, the
    library turned off in Settings, or one that fails: a warning, never the command's
    failure; the result is written all the same)."""
    if getattr(args, "no_history", False):
        return None, None
    try:
        library = open_library(settings.load())  # None when off; a failure is logged
    except Exception as e:  # a paid result is never lost to the library
        _say(f"warning: the result is not kept in the history: {e}")
        return None, None
    if library is None:
        return None, None
    files = {spec.name for spec in op.files}
    sent = {k: v for k, v in params.items() if k not in files and v is not None}
    source = next((getattr(args, spec.name) for spec in op.files if spec.kind == "image"), None)
    try:
        entry_id = library.record(
            op.name,
            result.images,
            model=sent.get("model") or op.default_model,
            params=sent,
            document=Path(source).name if isinstance(source, str) else None,
            front_end="cli",
            credits=result.credits,
        )
    except Exception as e:
        _say(f"warning: the result is not kept in the history: {e}")
        library.close()
        return None, None
    _say(f"kept in the history as {entry_id}")
    return library, entry_id


def _add_thumbnails(library: Library, entry_id: str, result: ImageResult) -> None:
    """Thumbnails of the PNG results small enough to decode here (THUMBNAIL_MAX_PIXELS)."""
    pixels = []
    for image in result.images:
        raster = None
        try:
            info = imageinfo.read(image.data)
            if info.format == "png" and info.width * info.height <= THUMBNAIL_MAX_PIXELS:
                raster = png.Raster(*png.decode(image.data))
        except (imageinfo.UnknownImage, ValueError):
            pass  # png.PNGError is a ValueError: an odd PNG gets no thumbnail, nothing worse
        pixels.append(raster)
    try:
        if any(pixels):
            library.add_thumbnails(entry_id, pixels)
    except Exception as e:
        _say(f"warning: no thumbnails in the history: {e}")


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stages():
    """A progress callback that prints a line when the stage changes, not for every chunk."""
    last = [None]

    def report(event) -> None:
        if event.stage != last[0]:
            last[0] = event.stage
            _say(f"{STAGES.get(event.stage, event.stage)}...")

    return report


def _fit(op: Operation, params: dict) -> None:
    """Scale the image (and mask) to the API's limits with Pillow, when they are outside:
    the pixel limits, and the 10 MB a file may weigh."""
    try:
        from PIL import Image
    except ImportError:
        raise ValidationError("--fit", "needs Pillow: pip install 'recraft-editors[cli]'") from None

    files, sizes = {}, {}
    for name in ("image", "mask"):
        if params.get(name):
            try:
                files[name] = Path(params[name]).read_bytes()
                sizes[name] = imageinfo.read(files[name])
            except (OSError, imageinfo.UnknownImage) as e:
                raise ValidationError(name, f"cannot read {params[name]}: {e}") from None
    info = sizes.get("image")
    if info is None or info.format == "svg":
        return
    mask = sizes.get("mask")
    if mask and (mask.width, mask.height) != (info.width, info.height):
        raise ValidationError(
            "mask", f"is {mask.width}x{mask.height} but the image is {info.width}x{info.height}"
        )
    plan = planning.fit_image(info.width, info.height, planning.Limits(min_side=op.min_side))
    heavy = len(files["image"]) >= catalog.MAX_FILE_BYTES
    if plan.is_identity and not heavy:
        return
    width, height = plan.width, plan.height
    with Image.open(io.BytesIO(files["image"])) as im:
        while True:
            out = io.BytesIO()
            im.resize((width, height), Image.Resampling.LANCZOS).save(out, "PNG", optimize=True)
            if out.tell() < catalog.MAX_FILE_BYTES:
                break
            # PNG size goes with the pixel count: aim 10 % under the limit.
            k = (0.9 * catalog.MAX_FILE_BYTES / out.tell()) ** 0.5
            width, height = max(1, int(width * k)), max(1, int(height * k))
            if op.min_side and min(width, height) < op.min_side:
                raise ValidationError(
                    "image", "cannot be brought under 10 MB without going under the smallest size"
                )
    _say(f"--fit: sending {info.width}x{info.height} as a {width}x{height} PNG")
    params["image"] = out.getvalue()
    if mask:
        with Image.open(io.BytesIO(files["mask"])) as im:
            out = io.BytesIO()
            im.resize((width, height), Image.Resampling.NEAREST).save(out, "PNG")
        params["mask"] = out.getvalue()


def _login(args) -> int:
    if args.operation == "logout":
        settings.forget()
        _say(f"forgot the token saved in {settings.path()}")
        return 0
    if sys.stdin.isatty():
        token = getpass.getpass("Recraft API token (input hidden): ").strip()
    else:
        token = sys.stdin.readline().strip()
    if not token:
        _say("recraft login: no token given; nothing saved")
        return 3
    try:
        client = Client(token, base_url=args.base_url)
        if not args.no_check:
            user = client.user()
            _say(f"the token works: {user.credits} credits")
    except ValidationError as e:
        _say(f"recraft login: invalid input: {e}")
        return 3
    except RecraftError as e:
        _say(f"recraft login: not saved, the API did not accept it: {e}")
        return 4
    base_url = args.base_url or os.environ.get("RECRAFT_API_URL")
    path = settings.save(settings.Settings(token, base_url))
    _say(f"saved to {path} (readable by you only)")
    return 0


def _show_warnings() -> None:
    """The core's warnings (an all-white mask, say) on stderr, once per process."""
    core = logging.getLogger("recraft_core")
    if not any(getattr(h, "recraft_cli", False) for h in core.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("warning: %(message)s"))
        handler.recraft_cli = True
        core.addHandler(handler)


def run(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _show_warnings()
    if args.operation == "history":
        return _history(args)
    if args.op is None:
        return _login(args)
    op: Operation = args.op
    params = {f.name: getattr(args, f.name) for f in op.fields}
    for spec in op.files:
        params[spec.name] = getattr(args, spec.name)
    if op.models:
        params["model"] = args.model

    try:
        if getattr(args, "fit", False):
            _fit(op, params)
        _check_outputs(op, args, params)
        if args.dry_run:
            # A dry run needs no account: validation and building never touch the token.
            try:
                client = Client(base_url=args.base_url)
            except ValidationError:
                client = Client("dry-run", base_url=args.base_url)
            prepared = client.prepare(op.name, **params)
            print(
                json.dumps(
                    {"url": client.base_url + prepared.path, **prepared.describe()}, indent=2
                )
            )
            return 0
        client = Client(base_url=args.base_url, timeout=(10.0, args.timeout))
        cancel = CancelToken()
        signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
        result = client.call(op.name, cancel=cancel, progress=_stages(), **params)
    except RecraftError as e:
        label, code = next((v for k, v in _FAILURES.items() if isinstance(e, k)), ("", 1))
        _say(f"recraft {op.cli_name}: {label}{e}")
        return code

    if args.json:
        # Scrubbed once decoded (a token holding " or \ is escaped in JSON text), then as
        # printed: nothing the server sent may show the token, not even a number.
        print(client.scrub(json.dumps(client.scrub(result.raw), indent=2)))
    code = 0
    if isinstance(result, ImageResult):
        library, entry_id = _keep(op, args, params, result)
        code = _save(op, args, result, entry_id)
        if library is not None:
            _add_thumbnails(library, entry_id, result)
            library.close()
    elif not args.json:
        if op.result == "style":
            print(client.scrub(result.id))
        elif op.result == "prompt":
            print(client.scrub(result.prompt))
        elif op.output == "account":
            who = result.name or result.email or result.id
            print(client.scrub(f"{who}: {result.credits} credits"))
    credits = getattr(result, "credits", None)
    if credits is not None and op.output != "account":
        _say(f"cost: {credits} credits")
    return code


def _save(op: Operation, args, result: ImageResult, entry_id: str | None) -> int:
    """Write the results where they go; the exit code. `entry_id`: the library's entry that
    holds them already, for the message when they cannot be written."""
    code = 0
    kept = f"; it is kept in the history: recraft history export {entry_id} -o DIR"
    kept = kept if entry_id else ""
    exts = [image.extension for image in result.images]
    for image, path in zip(result.images, _outputs(op, args, exts), strict=True):
        try:
            written = _write(image, path)
        except OSError as e:
            lost = "the result was not written" if entry_id else "the result is lost"
            _say(f"recraft {op.cli_name}: {lost}: {e}{kept}")
            return 7
        except RecraftError as e:  # an SVG the sanitiser refuses is not written at all
            _say(f"recraft {op.cli_name}: the result was not saved: {e}{kept}")
            return 7
        if written != path:
            _say(f"saved the result to {written} instead")
            code = 7
        else:
            _say(f"wrote {written}")
        if not args.json:
            print(written)
    return code


# -- recraft history ---------------------------------------------------------------------------


class _HistoryError(Exception):
    """A message and an exit code for `recraft history`."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _history(args) -> int:
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
    try:
        moment = datetime.strptime(time, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    except ValueError:
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


def _history_list(library: Library, args) -> int:
    limit = args.limit or None
    entries = library.list(search=args.search, operation=args.op, day=args.day, limit=limit)
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
    elif limit is not None and len(entries) == limit:
        total = library.count(search=args.search, operation=args.op, day=args.day)
        if total > limit:
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
    for insertion in entry.inserted:
        which = "" if insertion.result is None else f" (result {insertion.result + 1})"
        rows.append(("inserted", f"{_local(insertion.time)} {insertion.where}{which}"))
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}".rstrip())
    return 0


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


def main() -> None:
    sys.exit(run())
