"""`recraft`: every API operation from the shell. Files in, files out.

    recraft inpaint photo.png --mask mask.png --prompt "a red hat"
    recraft vectorize logo.png -o logo.svg
    recraft generate --prompt "a lighthouse at dusk" --n 2 --json
    recraft login          # saves the token (from a prompt or stdin) for the CLI and plug-ins
    recraft history --search lighthouse     # the results kept in the library
    recraft remove-background shots/*.jpg -o out/ --jobs 4   # a batch (recraft_core.batch)

Results are written next to the input (photo.inpaint.png) or to -o. An existing file gets a
fresh name (photo.inpaint-2.png) unless --force; an input is never overwritten. Progress goes
to stderr, written paths to stdout. Exit codes: 0 done, 1 the results library could not be
read (recraft history), 2 usage, 3 invalid input, 4 the API refused, 5 network failure, 6
unreadable answer, 7 a result could not be written where asked (it was saved elsewhere, named
on stderr), 130 cancelled.

Several images (or a folder) make a batch: results named from their input and the operation
(out/photo.remove-background.png), files whose results exist skipped (so a rerun resumes),
one line per file on stdout. Its exit codes: 0 every file done or skipped, 8 some failed,
were refused or were left undone (the rest are done), 2 usage (-o naming a file), 3 refused
before anything was sent (a missing input, results that would share a name, an output
folder that cannot be written), 130 Ctrl+C.

`recraft history` is cli_history's; a batch's running and naming are batch's.

Every paid image result is also kept in the results library (recraft_core.library) before
its files are written, unless --no-history: a library that cannot be opened or written is a
warning, never the command's failure. Thumbnails: the CLI decodes only PNG results of at most
THUMBNAIL_MAX_PIXELS with the core's pure-Python decoder (about a second for 4 MP), after the
files are written; larger results, JPEG and WEBP are kept without one.
"""

from __future__ import annotations

# ruff: noqa: E402  (the imports below come after the Ctrl+C handler that covers them)
import signal


def _quit_quietly(signum, frame) -> None:
    raise SystemExit(130)


# Ctrl+C while the modules below load (half a second on a slow disk) ends the command as it
# does later: quietly, with 130, not with a traceback of whichever import it fell in. The
# handler that was there is back once they have loaded (main() then takes KeyboardInterrupt).
try:
    _INTERRUPT_BEFORE = signal.signal(signal.SIGINT, _quit_quietly)
except ValueError:  # imported off the main thread: no handler of ours
    _INTERRUPT_BEFORE = None

import argparse
import contextlib
import getpass
import io
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from . import batch, cli_history, settings
from ._version import __version__
from .api import catalog, forms
from .api.client import Client
from .api.operations import OPERATIONS, Field, Operation
from .api.progress import STAGES
from .api.results import ImageResult
from .api.transport import CancelToken, GateClosed
from .exceptions import (
    CHARGED,
    MAYBE_CHARGED,
    APIError,
    AuthenticationError,
    Cancelled,
    ConnectionFailed,
    InsufficientCreditsError,
    ProtocolError,
    RateLimitError,
    RecraftError,
    ResultExpired,
    ServerError,
    TransportError,
    ValidationError,
)
from .imaging import imageinfo, planning, png, svg
from .library import Library, open_library
from .workflow import styles

if _INTERRUPT_BEFORE is not None:
    signal.signal(signal.SIGINT, _INTERRUPT_BEFORE)

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


_IMAGE_OPS = [op for op in OPERATIONS.values() if op.result in ("images", "image")]


def _batchable(op: Operation) -> bool:
    """It takes one image and gives image results: several images run as a batch."""
    return op in _IMAGE_OPS and any(spec.kind == "image" for spec in op.files)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= batch.MAX_JOBS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {batch.MAX_JOBS}")
    return value


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
    cli_history.add_parser(sub)
    for op in OPERATIONS.values():
        p = sub.add_parser(
            op.cli_name, help=op.help, description=f"{op.help}. {op.method} {op.url_path}"
        )
        for spec in op.files:
            if spec.kind == "images":
                p.add_argument(spec.name, nargs="*", metavar="IMAGE", help=spec.help)
            elif spec.kind == "image" and op.result in ("images", "image"):
                p.add_argument(
                    spec.name,
                    nargs="+",
                    metavar="IMAGE",
                    help=f"{spec.help}; several files or folders make a batch",
                )
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
                "fresh name; in a batch, redo the files whose results exist",
            )
            p.add_argument(
                "--no-history",
                action="store_true",
                help="do not keep the result in the results library (recraft history)",
            )
        if _batchable(op):
            p.add_argument(
                "--jobs",
                type=_jobs,
                default=4,
                metavar="N",
                help="in a batch, how many files are sent at once (default 4)",
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
        # Named as a batch names it, so a single file and a folder run agree on what is done.
        folder = Path(out)
        stem = f"{Path(source).stem}.{op.cli_name}" if source else op.cli_name
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
# takes about a second for 4 MP where Pillow is not there to do it (16 MP would take 3 to
# 4 s). Larger ones, JPEG and WEBP are kept without one (the core decodes PNG only).
THUMBNAIL_MAX_PIXELS = 4 * 1024 * 1024


def _keep(op: Operation, args, params: dict, result: ImageResult):
    """Record a paid result in the results library, as received, before its files are
    written: (library, entry id), or (None, None) when it is not kept (--no-history, the
    library turned off in Settings, or one that fails: a warning, never the command's
    failure; the result is written all the same)."""
    library = _open_library(args)
    if library is None:
        return None, None
    source = next((getattr(args, spec.name) for spec in op.files if spec.kind == "image"), None)
    entry_id = _record(library, op, params, result, source)
    if entry_id is None:
        library.close()
        return None, None
    _say(f"kept in the history as {entry_id}")
    return library, entry_id


def _keep_style(op: Operation, args, params: dict, style) -> None:
    """A created style kept in the results library: the editors offer it by name in Saved
    style (a warning when it cannot be, never the command's failure)."""
    library = _open_library(args)
    if library is None:
        return
    files = {spec.name for spec in op.files}
    sent = {k: v for k, v in params.items() if k not in files and v is not None}
    names = [Path(p).name for name in files for p in params.get(name) or () if isinstance(p, str)]
    try:
        entry_id = styles.keep(library, style, sent, sources=names, front_end="cli")
        if entry_id:
            _say(f"kept in the history as {entry_id}")
    except Exception as e:
        _say(f"warning: the style is not kept in the history: {e}")
    finally:
        library.close()


def _open_library(args) -> Library | None:
    """The results library, or None: --no-history, turned off in Settings, or one that cannot
    be opened (a warning)."""
    if getattr(args, "no_history", False):
        return None
    try:
        return open_library(settings.load())  # None when off; a failure is logged
    except Exception as e:  # a paid result is never lost to the library
        _say(f"warning: the result is not kept in the history: {e}")
        return None


def _record(library: Library, op: Operation, params: dict, result: ImageResult, source):
    """The entry id the result is kept as, or None (a warning) when it cannot be. The
    input's path is kept with it (`placement["input"]`: editors read only their own keys
    there), for `recraft history show`."""
    files = {spec.name for spec in op.files}
    sent = {k: v for k, v in params.items() if k not in files and v is not None}
    named = isinstance(source, str)
    try:
        return library.record(
            op.name,
            result.images,
            model=sent.get("model") or op.default_model,
            params=sent,
            document=Path(source).name if named else None,
            front_end="cli",
            credits=result.credits,
            placement={"input": str(Path(source).resolve())} if named else None,
        )
    except Exception as e:
        _say(f"warning: the result is not kept in the history: {e}")
        return None


def _mark_written(library: Library, entry_id: str, paths: list[Path]) -> None:
    """Note in the entry where its results were written (`recraft history show`)."""
    for i, path in enumerate(paths):
        library.mark_inserted(entry_id, str(Path(path).resolve()), i if len(paths) > 1 else None)


def _add_thumbnails(library: Library, entry_id: str, result: ImageResult) -> None:
    """Thumbnails of the PNG results small enough to decode here (THUMBNAIL_MAX_PIXELS)."""
    pixels = _thumbnail_pixels(result)
    try:
        if any(pixels):
            library.add_thumbnails(entry_id, pixels)
    except Exception as e:
        _say(f"warning: no thumbnails in the history: {e}")


def _thumbnail_pixels(result: ImageResult) -> list:
    """Each result's pixels where it is a PNG of at most THUMBNAIL_MAX_PIXELS, else None."""
    pixels = []
    for image in result.images:
        raster = None
        try:
            info = imageinfo.read(image.data)
            if info.format == "png" and info.width * info.height <= THUMBNAIL_MAX_PIXELS:
                raster = _decode_png(image.data)
        except (imageinfo.UnknownImage, ValueError):
            pass  # png.PNGError is a ValueError: an odd PNG gets no thumbnail, nothing worse
        pixels.append(raster)
    return pixels


def _decode_png(data: bytes) -> png.Raster:
    """A PNG's pixels: with Pillow where the CLI has it (in C, without holding the GIL: a
    batch's workers go on meanwhile), else with the core's decoder. The result has passed
    the client's checks (results.check_image) either way."""
    try:
        from PIL import Image
    except ImportError:
        return png.Raster(*png.decode(data))
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            if im.mode in ("L", "LA", "RGB", "RGBA"):  # 8-bit, as the core's decoder gives
                im.load()
                return png.Raster(im.width, im.height, im.mode, im.tobytes())
    except (OSError, SyntaxError, ValueError):
        pass  # what Pillow will not read, the core's decoder is asked (and says why)
    return png.Raster(*png.decode(data))


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
        return cli_history.run(args)
    if args.op is None:
        return _login(args)
    op: Operation = args.op
    if _batchable(op):
        given = getattr(args, _image_spec(op).name)
        if len(given) > 1 or Path(given[0]).is_dir():
            try:
                return _batch(op, args)
            except KeyboardInterrupt:  # before the batch took Ctrl+C over, or after
                _say(f"recraft {op.cli_name}: cancelled")
                return 130
        setattr(args, _image_spec(op).name, given[0])  # one file: a single run, as ever
    params = {f.name: getattr(args, f.name) for f in op.fields}
    for spec in op.files:
        params[spec.name] = getattr(args, spec.name)
    if op.models:
        params["model"] = args.model

    source = next(
        (params[spec.name] for spec in op.files if isinstance(params.get(spec.name), str)), None
    )
    about = f"{source}: " if source else ""  # which file an error is about
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
        _say(f"recraft {op.cli_name}: {about}{_describe(e)}")
        return _failure(e)[1]

    if args.json:
        # Scrubbed once decoded (a token holding " or \ is escaped in JSON text), then as
        # printed: nothing the server sent may show the token, not even a number.
        print(client.scrub(json.dumps(client.scrub(result.raw), indent=2)))
    code = 0
    if op.result == "style":
        _keep_style(op, args, params, result)
    if isinstance(result, ImageResult):
        library, entry_id = _keep(op, args, params, result)
        written: list[Path] = []
        code = _save(op, args, result, entry_id, written)
        if library is not None:
            try:
                _mark_written(library, entry_id, written)
            except Exception as e:  # the result is written and kept: a note is no failure
                _say(f"warning: the history does not say where the result was written: {e}")
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


def _save(
    op: Operation, args, result: ImageResult, entry_id: str | None, written_to: list | None = None
) -> int:
    """Write the results where they go; the exit code. `entry_id`: the library's entry that
    holds them already, for the message when they cannot be written. `written_to` gets the
    paths written."""
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
        if written_to is not None:
            written_to.append(written)
        if written != path:
            _say(f"saved the result to {written} instead")
            code = 7
        else:
            _say(f"wrote {written}")
        if not args.json:
            print(written)
    return code


# -- several images: a batch ---------------------------------------------------------------------


def _image_spec(op: Operation):
    return next(spec for spec in op.files if spec.kind == "image")


def _describe(error: RecraftError) -> str:
    """A failure in a line: what it is called, what it says and, where the user can do
    something about it, what."""
    if isinstance(error, RateLimitError):
        wait = error.retry_after
        when = f"in {math.ceil(wait)} s" if wait else "in a minute"
        return f"rate limited by Recraft; try again {when}"
    text = f"{_failure(error)[0]}{error}"
    if isinstance(error, AuthenticationError):
        text += "; run `recraft login` (or set RECRAFT_API_TOKEN) with a token Recraft takes"
    return text


def _stops_the_batch(error: RecraftError) -> bool:
    """Failures every further file would meet too: the token refused, no credits left, the
    rate limit past what is waited out, no connection to the server at all."""
    if isinstance(error, AuthenticationError | InsufficientCreditsError | RateLimitError):
        return True
    return isinstance(error, ConnectionFailed)


def _once(error: RecraftError) -> str:
    """After a failure that stopped the batch: when the same command would do the rest."""
    if isinstance(error, AuthenticationError):
        return "once the token works (recraft login, or RECRAFT_API_TOKEN)"
    if isinstance(error, InsufficientCreditsError):
        return "once the account has credits again (recraft.ai)"
    if isinstance(error, RateLimitError):
        wait = error.retry_after
        return f"after {math.ceil(wait)} s" if wait else "after a minute"
    return "once the server can be reached"


def _fails_again(error: RecraftError) -> bool:
    """Refused for what was sent (invalid input, a 4xx that is no matter of the account or
    of timing): the same file sent again is refused again."""
    if isinstance(error, ValidationError):
        return True
    if not isinstance(error, APIError) or isinstance(
        error, AuthenticationError | InsufficientCreditsError | RateLimitError | ResultExpired
    ):
        return False
    return 400 <= error.status < 500 and error.status not in (408, 409, 425)


def _batch_session(jobs: int) -> requests.Session:
    """One Session for every worker (its connection pool is thread-safe; nothing here uses
    cookies), kept-alive connections enough for each worker's request and its downloads:
    requests' default pool keeps 10 per host and drops the rest with a warning."""
    session = requests.Session()
    session.headers["User-Agent"] = f"recraft-editors/{__version__}"
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=max(10, jobs * 6))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# An -o that names a file of these kinds is a mistake with several inputs, not a new folder.
_FILE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".svg", ".gif", ".tif", ".tiff", ".bmp")


def _not_a_folder(output: str | None) -> str | None:
    """Why -o cannot take a batch's results (a usage error), or None."""
    if not output:
        return None
    path = Path(output)
    if path.is_dir():
        return None
    ends = output.endswith(("/", os.sep, *((os.altsep,) if os.altsep else ())))
    if path.exists() or (not ends and path.suffix.lower() in _FILE_SUFFIXES):
        what = "is a file" if path.exists() else "names a file"
        return f"-o {output} {what}: several inputs need -o to be a folder (end it with /)"
    return None


def _check_folders(items: list[batch.Item], make: bool) -> None:
    """Before anything is sent: every results' folder can be written. `make`: made, and
    written to for real (a probe file); else (a dry run) judged by its permissions."""
    for folder in dict.fromkeys(item.folder for item in items):
        if make:
            try:
                batch.prepare_folder(folder)
            except OSError as e:
                reason = e.strerror or type(e).__name__
                raise ValidationError("--output", f"cannot write into {folder}: {reason}") from None
            continue
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # made when the results are written
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise ValidationError("--output", f"cannot write into {folder}")


def _batch(op: Operation, args) -> int:
    """Several images (or folders of them) through one operation: recraft_core.batch."""
    label = f"recraft {op.cli_name}"
    began = time.time()
    if (wrong := _not_a_folder(args.output)) is not None:
        _say(f"{label}: {wrong}")
        return 2
    spec = _image_spec(op)
    params = {f.name: getattr(args, f.name) for f in op.fields}
    others = {}  # the other files sent with each (a mask), by their option
    for other in op.files:
        if other is not spec:
            params[other.name] = getattr(args, other.name)
            if isinstance(params[other.name], str):
                flag = "--mask" if other.kind == "mask" else other.name
                others[flag] = Path(params[other.name])
    if op.models:
        params["model"] = args.model
    try:
        given = getattr(args, spec.name)
        for flag, path in others.items():
            if not path.is_file():
                raise ValidationError(flag, f"{path}: no such file")
        sources, beside = batch.inputs(op, given)
        if beside:
            _say(
                f"left out {len(beside)} earlier result(s) lying beside their inputs in the "
                f"folder(s) given ({beside[0].name}...); name them as files to send them"
            )
        if not sources:
            raise ValidationError(spec.name, f"no images in {', '.join(given)}")
        count = params.get("n") or 1
        items, left_out = batch.plan(
            op, sources, args.output, count, params.get("model"), tuple(others.values())
        )
        _check_folders(items, make=not args.dry_run)
    except RecraftError as e:
        _say(f"{label}: {_describe(e)}")
        return _failure(e)[1]
    if left_out:
        _say(f"left out {len(left_out)} input(s) named as results of this command: {left_out[0]}")
    if not args.dry_run:
        stale = sum(batch.remove_stale(folder, began) for folder in {i.folder for i in items})
        if stale:
            _say(f"removed {stale} temporary file(s) left by an earlier run stopped midway")
    if args.force:
        for item in items:
            item.existing = []
    else:
        batch.find_done(items)
    if args.dry_run:
        return _batch_dry_run(op, args, items, params, spec)
    try:
        client = Client(
            base_url=args.base_url, timeout=(10.0, args.timeout), session=_batch_session(args.jobs)
        )
    except RecraftError as e:
        _say(f"{label}: {_describe(e)}")
        return _failure(e)[1]
    library = _open_library(args) if any(not item.done for item in items) else None
    kept = threading.Lock()  # one library entry written at a time
    # Thumbnails are made on a thread of their own: a worker goes on to its next file.
    thumbnails = ThreadPoolExecutor(1, thread_name_prefix="recraft-thumbnails")

    def after_written(entry_id: str, result: ImageResult, written: list[Path]) -> None:
        with kept, contextlib.suppress(Exception):  # a note is never a failure
            _mark_written(library, entry_id, written)
        pixels = _thumbnail_pixels(result)
        if any(pixels):
            with kept, contextlib.suppress(Exception):  # a thumbnail is never a failure
                library.add_thumbnails(entry_id, pixels)

    def failed(item: batch.Item, e: RecraftError) -> batch.Outcome:
        message = _describe(e)
        if isinstance(e, GateClosed):  # the batch stopped before this one was sent (again)
            if not e.may_have_cost:
                return batch.Outcome(item, batch.UNSENT)
            return batch.Outcome(item, batch.CANCELLED, message=message, maybe_charged=True)
        cost = e.cost if e.charged == CHARGED else None
        # Charged by an amount no answer said, or maybe charged: "up to" in the summary.
        maybe = e.charged in (CHARGED, MAYBE_CHARGED) or e.earlier is not None
        if isinstance(e, Cancelled):
            return batch.Outcome(
                item,
                batch.CANCELLED,
                message=message,
                credits=cost,
                maybe_charged=maybe and cost is None,
            )
        if isinstance(e, ValidationError):  # checked before sending: nothing went out
            return batch.Outcome(item, batch.REFUSED, message=message, again=False)
        fatal = _stops_the_batch(e)
        return batch.Outcome(
            item,
            batch.FAILED,
            message=message,
            credits=cost,
            fatal=fatal,
            stop=_once(e) if fatal else "",
            maybe_charged=maybe and cost is None,
            again=not _fails_again(e),
        )

    def work(item: batch.Item, cancel: CancelToken, progress) -> batch.Outcome:
        sent = {**params, spec.name: str(item.source)}
        try:
            if getattr(args, "fit", False):
                _fit(op, sent)
            result = client.call(op.name, cancel=cancel, progress=progress, **sent)
        except RecraftError as e:
            return failed(item, e)
        entry_id = None
        if library is not None:
            with kept:
                entry_id = _record(library, op, sent, result, str(item.source))
        written = []
        bases = item.bases(len(result.images))
        try:
            for image, base in zip(result.images, bases, strict=True):
                path = base.with_name(f"{base.name}.{image.extension}")
                batch.write_atomic(path, _content(image))
                written.append(path)
        except (OSError, RecraftError) as e:
            reason = getattr(e, "strerror", None) or str(e)
            where = (
                f"it is kept in the history: recraft history export {entry_id} -o DIR"
                if entry_id
                else "the result is lost"
            )
            message = f"the result was not written ({reason}); {where}"
            # A folder (a disk) that failed one result fails the next: nothing more is sent
            # to be paid for. An SVG the sanitiser refuses is that result's own matter.
            folder = isinstance(e, OSError)
            stop = f"once {item.folder} can take the results (free space, or another -o)"
            return batch.Outcome(
                item,
                batch.FAILED,
                written,
                message,
                result.credits,
                fatal=folder,
                stop=stop if folder else "",
            )
        if entry_id is not None:
            thumbnails.submit(after_written, entry_id, result, written)
        answer = client.scrub(result.raw) if args.json else None
        return batch.Outcome(item, batch.DONE, written, credits=result.credits, answer=answer)

    display = batch.Display(len(items), as_json=args.json, scrub=client.scrub)
    gate = client.gate  # the Client's own: closed when the batch stops sending
    try:
        summary = batch.run(items, work, args.jobs, display, gate)
    finally:
        display.close()
        client.close()
        thumbnails.shutdown(wait=True)
        if library is not None:
            library.close()
    charged = [o.credits for o in summary.outcomes if o.state == batch.DONE and o.credits]
    price = max(charged) if charged else forms.cost(op, params)
    display.summary(summary, label, force=args.force, price=price)
    if library is not None and summary.count(batch.DONE):
        _say("the results are kept in the history too: recraft history --day today")
    return summary.exit_code


def _batch_dry_run(op: Operation, args, items: list[batch.Item], params: dict, spec) -> int:
    """What a batch would do, checked as it would be sent: one line per file, in the words
    of a real run (skipped, refused); 3 when any file is refused, as a single dry run."""
    try:
        client = Client(base_url=args.base_url)
    except ValidationError:
        client = Client("dry-run", base_url=args.base_url)
    refused = 0
    for item in items:
        if item.done:
            print(f"skipped   {item.source}: {', '.join(map(str, item.existing))} exists")
            continue
        sent = {**params, spec.name: str(item.source)}
        try:
            if getattr(args, "fit", False):
                _fit(op, sent)
            client.prepare(op.name, **sent)
        except RecraftError as e:
            refused += 1
            print(f"refused   {item.source}: {_describe(e)}")
            continue
        print(f"to send   {item.source} -> {', '.join(map(str, item.planned()))}")
    todo = sum(not item.done for item in items)
    _say(
        f"recraft {op.cli_name}: dry run: {todo - refused} to send, {refused} refused, "
        f"{len(items) - todo} skipped"
    )
    return 3 if refused else 0


def _failure(error: RecraftError) -> tuple[str, int]:
    """What a failure is called, and its exit code."""
    return next((v for k, v in _FAILURES.items() if isinstance(error, k)), ("", 1))


def main() -> None:
    try:
        code = run()
    except KeyboardInterrupt:  # before a command took Ctrl+C over, or after
        _say("recraft: cancelled")
        code = 130
    sys.exit(code)
