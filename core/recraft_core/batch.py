"""Many files through one operation, for the CLI: `recraft remove-background shots/*.jpg -o
out/ --jobs 4`.

Each output is named from its input alone, as a single run names it but without the -2 of a
taken name, so running the same command again finds what is done and skips it: an
interrupted batch resumes without paying twice (--force redoes them). An output is written
to a temporary file beside it and renamed over its name, so a run killed midway leaves no
half file that would count as done.

Up to `jobs` files are in flight at once, each on a thread of its own, all through one
Client: a 429 answer holds back every thread (transport.RateGate). The first Ctrl+C stops
taking new files and lets those in flight finish; a second cancels them.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .api.operations import Operation
from .api.transport import CancelToken
from .exceptions import ValidationError
from .imaging import imageinfo

# What a result file may be named with: its format is read from its bytes when it is written.
RESULT_EXTENSIONS = tuple(dict.fromkeys(imageinfo.EXTENSION.values()))
# A file in a folder given as input is taken when its suffix names a format the operation takes.
_SUFFIXES = {"png": (".png",), "jpeg": (".jpg", ".jpeg"), "webp": (".webp",), "svg": (".svg",)}

MAX_JOBS = 32
LISTED = 20  # failures the summary repeats; every one has its line as it finishes


@dataclass
class Item:
    """One input and where its results go: `folder/stem.ext`, or `folder/stem-1.ext`... for
    several (a result's format, hence its extension, is known once it has arrived)."""

    source: Path
    folder: Path
    stem: str
    count: int  # the results asked for
    ext: str  # the extension expected (the operation's result format)
    existing: list[Path] = field(default_factory=list)  # outputs already there

    def bases(self, count: int | None = None) -> list[Path]:
        """The results' paths without their extensions."""
        count = self.count if count is None else count
        if count == 1:
            return [self.folder / self.stem]
        return [self.folder / f"{self.stem}-{i + 1}" for i in range(count)]

    @property
    def done(self) -> bool:
        return len(self.existing) == self.count

    def planned(self) -> list[Path]:
        return [base.with_name(f"{base.name}.{self.ext}") for base in self.bases()]


@dataclass
class Outcome:
    item: Item
    state: str  # done, failed, skipped, cancelled
    written: list[Path] = field(default_factory=list)
    message: str = ""
    credits: int | None = None
    # Nothing further would succeed (token refused, no credits left): no new file is started.
    fatal: bool = False
    answer: dict | None = None  # the API's JSON, for --json


@dataclass
class Summary:
    outcomes: list[Outcome]
    not_started: list[Item]
    interrupted: bool
    stopped_by: Outcome | None  # the fatal failure that ended the batch early

    def count(self, state: str) -> int:
        return sum(o.state == state for o in self.outcomes)

    @property
    def credits(self) -> int:
        return sum(o.credits or 0 for o in self.outcomes if o.state == "done")

    @property
    def exit_code(self) -> int:
        """0 every file done or skipped, 8 any failed or left undone, 130 Ctrl+C."""
        if self.interrupted:
            return 130
        if self.not_started or any(o.state in ("failed", "cancelled") for o in self.outcomes):
            return 8
        return 0


# -- which files, and where their results go ---------------------------------------------------


def inputs(op: Operation, given: list[str]) -> list[Path]:
    """The files of a batch: each file given, and the files of each folder given whose
    suffix names a format the operation takes (sorted by name, not recursing). The same
    file given twice is done once."""
    spec = next(spec for spec in op.files if spec.kind == "image")
    suffixes = {s for fmt in spec.formats for s in _SUFFIXES.get(fmt, ())}
    found: list[Path] = []
    for text in given:
        path = Path(text)
        if path.is_dir():
            found += sorted(
                p for p in path.iterdir() if p.suffix.lower() in suffixes and p.is_file()
            )
        else:
            found.append(path)
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def _key(path: Path) -> Path:
    """A file name as it lands on disk, for comparing names: its folder resolved (a
    symlinked or relative folder names the same place), its name as given."""
    return path.parent.resolve() / path.name


def plan(
    op: Operation,
    sources: list[Path],
    output: str | None,
    count: int,
    model: str | None,
    others: tuple[Path, ...] = (),
) -> tuple[list[Item], list[Path]]:
    """(the items, the inputs left out because they are results of this very command for
    another input: `shots/*` run again without -o must not take last run's outputs as new
    inputs).

    Names: beside each input as `photo.remove-background.png`, or in the folder -o names as
    `photo.png`; several results `...-1.png`, `...-2.png`: a single run's names. Refused with
    a ValidationError, before anything is sent: two inputs whose results would share a
    name, and results that would be named like an input (or like `others`, a mask say).
    """
    folder = Path(output) if output else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ValidationError(
            "--output", f"{output} is a file; with several images -o names a folder"
        )
    items = []
    for source in sources:
        where = folder if folder is not None else source.parent
        stem = source.stem if folder is not None else f"{source.stem}.{op.cli_name}"
        sent_svg = source.suffix.lower() == ".svg"
        ext = op.result_format(model, "svg" if sent_svg else None)
        items.append(Item(source, where, stem, count, ext))
    # Beside their inputs, results carry the operation's name: an input named as another
    # input's result (with a result's extension) is that result, from an earlier run.
    outputs = {_key(base): item for item in items for base in item.bases()}
    left_out = []
    for item in items if folder is None else ():
        owner = outputs.get(_key(item.source.with_suffix("")))
        if (
            owner is not None
            and owner is not item
            and item.source.suffix.lower().lstrip(".") in (*RESULT_EXTENSIONS, "jpeg")
        ):
            left_out.append(item.source)
    items = [item for item in items if item.source not in left_out]
    named: dict[Path, Path] = {}
    own = {_key(path.with_suffix("")): path for path in (*(i.source for i in items), *others)}
    for item in items:
        for base in item.bases():
            key = _key(base)
            if key in named:
                raise ValidationError(
                    "image",
                    f"{named[key]} and {item.source} would both be written as {base}.*: "
                    "rename one, or run them with different -o folders",
                )
            named[key] = item.source
            if key in own:
                raise ValidationError(
                    "--output",
                    f"the result of {item.source} would be named like the input {own[key]} "
                    f"({base}.*); choose another -o folder",
                )
    return items, left_out


def find_done(items: list[Item]) -> None:
    """Fill each item's `existing`: for each of its names, a regular file there with any
    extension a result may have (plan() made sure no input is named so)."""
    for item in items:
        item.existing = []
        for base in item.bases():
            for ext in dict.fromkeys((item.ext, *RESULT_EXTENSIONS)):
                candidate = base.with_name(f"{base.name}.{ext}")
                if candidate.is_file():
                    item.existing.append(candidate)
                    break


def write_atomic(path: Path, data: bytes) -> None:
    """`data` as `path`, whole or not at all: written to a temporary file in the same folder,
    then renamed over `path` (an existing file is replaced only then)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            # Made as open() makes a file (the umask's permissions, not mkstemp's 0600).
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the rename must not land before the bytes do
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


_BINARY = getattr(os, "O_BINARY", 0)  # Windows


# -- running ------------------------------------------------------------------------------------


class _Stop:
    """What stops the batch. The signal handler only sets plain attributes: it runs between
    any two bytecodes of the main thread, which may hold a lock or be writing a line."""

    def __init__(self) -> None:
        self.requested = False  # no new file is started (Ctrl+C, or a fatal failure)
        self.presses = 0  # of Ctrl+C: the first stops taking files, the second cancels
        self.cancel = CancelToken()  # the files in flight

    def on_interrupt(self, signum, frame) -> None:
        self.requested = True
        self.presses += 1


def run(
    items: list[Item],
    work: Callable[[Item, CancelToken], Outcome],
    jobs: int,
    display: Display,
) -> Summary:
    """Run `work` on each item, `jobs` at a time; the main thread reports as they finish
    and takes Ctrl+C."""
    outcomes = [Outcome(item, "skipped") for item in items if item.done]
    for outcome in outcomes:
        display.finished(outcome)
    pending = deque(item for item in items if not item.done)
    stop = _Stop()
    taking = threading.Lock()  # among the workers: an item is checked for and taken at once
    events: queue.Queue = queue.Queue()
    stopped_by: list[Outcome] = []
    busy = [0]  # files taken and not finished

    def worker() -> None:
        while True:
            with taking:
                if stop.requested or not pending:
                    return
                item = pending.popleft()
                busy[0] += 1
            events.put(("start", item))
            try:
                outcome = work(item, stop.cancel)
            except Exception as e:  # a bug must not take the batch down: said, and counted
                outcome = Outcome(item, "failed", message=f"{type(e).__name__}: {e}")
            if outcome.fatal:
                stop.requested = True
            with taking:
                busy[0] -= 1
            events.put(("end", outcome))

    def heed(presses: int) -> None:
        """Say what Ctrl+C does (from the main loop, not the handler), cancel on the second."""
        in_flight = busy[0]
        if presses == 1 and in_flight:
            display.note(
                f"stopping: no new files; waiting for the {in_flight} in flight "
                "(Ctrl+C again cancels them)"
            )
        elif presses >= 2 and not stop.cancel.cancelled:
            stop.cancel.cancel()
            if in_flight:
                display.note("cancelling the files in flight")

    threads = [
        threading.Thread(target=worker, name=f"recraft-batch-{i + 1}", daemon=True)
        for i in range(min(jobs, len(pending)))
    ]
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, stop.on_interrupt)
    heeded = 0
    try:
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads) or not events.empty():
            if stop.presses != heeded:
                heeded = stop.presses
                heed(heeded)
            try:
                kind, value = events.get(timeout=0.1)
            except queue.Empty:
                display.tick()
                continue
            if kind == "start":
                display.started(value)
            else:
                outcomes.append(value)
                if value.fatal and not stopped_by:
                    stopped_by.append(value)
                display.finished(value)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    interrupted = stop.presses > 0
    return Summary(outcomes, list(pending), interrupted, stopped_by[0] if stopped_by else None)


# -- what is shown ------------------------------------------------------------------------------


def _elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


class Display:
    """One line per file as it finishes on `out` (JSON lines with `as_json`), a progress bar
    under them when `out` is a terminal, notes and the summary on `err`."""

    def __init__(self, total: int, out=None, err=None, as_json: bool = False, scrub=None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.total = total
        self.as_json = as_json
        self.scrub = scrub or (lambda text: text)
        self.bar = not as_json and _isatty(self.out)
        self.started_at = time.monotonic()
        self.running = 0
        self.counts = {"done": 0, "failed": 0, "skipped": 0, "cancelled": 0}
        self._drawn = False

    # events

    def started(self, item: Item) -> None:
        self.running += 1
        self._draw()

    def finished(self, outcome: Outcome) -> None:
        if outcome.state != "skipped":
            self.running -= 1
        self.counts[outcome.state] += 1
        self._clear()
        self._emit(self.out, self._line(outcome) + "\n")
        self._draw()

    def note(self, message: str) -> None:
        self._clear()
        self._emit(self.err, message + "\n")
        self._draw()

    def tick(self) -> None:
        self._draw()

    def close(self) -> None:
        self._clear()

    # lines

    def _line(self, o: Outcome) -> str:
        if self.as_json:
            line = {
                "input": str(o.item.source),
                "state": o.state,
                "outputs": [str(p) for p in (o.written or o.item.existing)],
            }
            if o.credits is not None:
                line["credits"] = o.credits
            if o.message:
                line["error" if o.state in ("failed", "cancelled") else "note"] = o.message
            if o.answer is not None:
                line["answer"] = o.answer
            return self.scrub(json.dumps(line))
        if o.state == "done":
            text = f"done      {o.item.source} -> {', '.join(map(str, o.written))}"
            return self.scrub(text + (f"  ({o.message})" if o.message else ""))
        if o.state == "skipped":
            return f"skipped   {o.item.source}: {', '.join(map(str, o.item.existing))} exists"
        return self.scrub(f"{o.state:<9} {o.item.source}: {o.message}")

    def _status(self) -> str:
        finished = sum(self.counts.values())
        c = self.counts
        parts = [f"{finished}/{self.total}", f"{c['done']} done"]
        parts += [f"{c[k]} {k}" for k in ("failed", "skipped") if c[k]]
        parts += [f"{self.running} running"] if self.running else []
        return " · ".join([*parts, _elapsed(time.monotonic() - self.started_at)])

    def _draw(self) -> None:
        if not self.bar:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        status = self._status()
        room = max(10, min(40, width - len(status) - 4))
        filled = round(room * sum(self.counts.values()) / max(1, self.total))
        line = f"[{'#' * filled}{'.' * (room - filled)}] {status}"[: width - 1]
        self._emit(self.out, "\r\x1b[K" + line)
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self._emit(self.out, "\r\x1b[K")
            self._drawn = False

    def _emit(self, stream, text: str) -> None:
        """Write and flush; a reader that went away (`recraft ... | head`) is not an error:
        the batch goes on, its results are written, and the stream is sent nowhere."""
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())

    def summary(self, summary: Summary, label: str) -> None:
        """The counts, the credits, each failure with its reason, and what Ctrl+C left."""
        self._clear()
        c = {state: summary.count(state) for state in ("done", "failed", "skipped", "cancelled")}
        parts = [f"{c['done']} done"]
        parts += [f"{c[k]} {k}" for k in ("failed", "cancelled", "skipped") if c[k]]
        if summary.not_started:
            parts.append(f"{len(summary.not_started)} not started")
        head = ", ".join(parts)
        if summary.credits:
            head += f"; {summary.credits} credits"
        failures = [o for o in summary.outcomes if o.state in ("failed", "cancelled")]
        if len(failures) == 1:
            head += f": {failures[0].item.source}: {failures[0].message}"
        say = lambda text: self._emit(self.err, self.scrub(text) + "\n")  # noqa: E731
        say(f"{label}: {'interrupted: ' if summary.interrupted else ''}{head}")
        if len(failures) > 1:
            for o in failures[:LISTED]:
                say(f"  {o.state} {o.item.source}: {o.message}")
            if len(failures) > LISTED:
                say(f"  and {len(failures) - LISTED} more (their lines above)")
        if summary.stopped_by is not None:
            say(f"stopped early: {summary.stopped_by.message}")
        if summary.interrupted or summary.not_started or failures:
            say("run the same command again to do the rest: files whose results exist are skipped")


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
