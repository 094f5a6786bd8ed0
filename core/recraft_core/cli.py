"""`recraft`: every API operation from the shell. Files in, files out.

    recraft inpaint photo.png --mask mask.png --prompt "a red hat"
    recraft vectorize logo.png -o logo.svg
    recraft generate --prompt "a lighthouse at dusk" --n 2 --json
    recraft login          # saves the token (from a prompt or stdin) for the CLI and plug-ins

Results are written next to the input (photo.inpaint.png) or to -o. An existing file gets a
fresh name (photo.inpaint-2.png) unless --force; an input is never overwritten. Progress goes
to stderr, written paths to stdout. Exit codes: 0 done, 2 usage, 3 invalid input, 4 the API
refused, 5 network failure, 6 unreadable answer, 7 a result could not be written where asked
(it was saved elsewhere, named on stderr), 130 cancelled.
"""

from __future__ import annotations

import argparse
import getpass
import io
import json
import logging
import os
import signal
import sys
import tempfile
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
from .imaging import imageinfo, planning, svg

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
        exts = [image.extension for image in result.images]
        for image, path in zip(result.images, _outputs(op, args, exts), strict=True):
            try:
                written = _write(image, path)
            except OSError as e:
                _say(f"recraft {op.cli_name}: the result is lost: {e}")
                return 7
            except RecraftError as e:  # an SVG the sanitiser refuses is not written at all
                _say(f"recraft {op.cli_name}: the result was not saved: {e}")
                return 7
            if written != path:
                _say(f"saved the result to {written} instead")
                code = 7
            else:
                _say(f"wrote {written}")
            if not args.json:
                print(written)
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


def main() -> None:
    sys.exit(run())
