"""Many files through one operation, for the CLI: `recraft remove-background shots/*.jpg -o
out/ --jobs 4`.

Each output is named from its input and the operation, `out/photo.remove-background.png` (or
beside the input without -o), as a single run names it beside its input but without the -2
of a taken name, so running the same command again finds what is done and skips it: an
interrupted batch resumes without paying twice (--force redoes them). The operation in the
name keeps apart what different operations made in one folder: another operation's result
never counts as done, and --force never replaces it. A folder given as input leaves out the
results of earlier runs that lie beside their inputs, whatever operation made them.

An output is written to a temporary file beside it and renamed over its name, so a run
killed midway leaves no half file that would count as done; the temporary files such a run
leaves are removed by the next one. Before anything is sent, each output folder is made and
written to for real (a probe file), so a folder that cannot take the results costs nothing.

Up to `jobs` files are in flight at once, each on a thread of its own, all through one
Client: a 429 answer holds back every thread (transport.RateGate). The first Ctrl+C closes
that gate: nothing more is sent, not even a file waiting out a 429, and the files in flight
finish; a second cancels them. A failure every further file would meet (the token refused,
no credits, a result that cannot be written) closes it too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import queue
import re
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

from .api.operations import OPERATIONS, Operation
from .api.transport import CancelToken, RateGate
from .exceptions import ValidationError
from .imaging import imageinfo

# What a result file may be named with: its format is read from its bytes when it is written.
RESULT_EXTENSIONS = tuple(dict.fromkeys(imageinfo.EXTENSION.values()))
# A file in a folder given as input is taken when its suffix names a format the operation takes.
_SUFFIXES = {"png": (".png",), "jpeg": (".jpg", ".jpeg"), "webp": (".webp",), "svg": (".svg",)}
_IMAGE_SUFFIXES = {s for suffixes in _SUFFIXES.values() for s in suffixes}
# The operations whose results are named after them (photo.remove-background-2.png).
_RESULT_TAGS = frozenset(
    op.cli_name for op in OPERATIONS.values() if op.result in ("images", "image")
)
# The temporary files write_atomic (and the folder probe) make: `.NAME.0123abcd.part`.
_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{8}\.part$")

MAX_JOBS = 32
LISTED = 20  # failures the summary repeats; every one has its line as it finishes

# What each state is called in the lines and the summary, dry run or not.
DONE, FAILED, REFUSED, SKIPPED, CANCELLED = "done", "failed", "refused", "skipped", "cancelled"
UNSENT = "unsent"  # stopped before it was sent: counted with the files not started
STATES = (DONE, FAILED, REFUSED, SKIPPED, CANCELLED)


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
    state: str  # DONE, FAILED, REFUSED, SKIPPED, CANCELLED, UNSENT
    written: list[Path] = field(default_factory=list)
    message: str = ""
    credits: int | None = None  # charged, as far as known
    # Nothing further would succeed (token refused, no credits left, results that cannot be
    # written): nothing more is sent. `stop` says what to do about it, for the summary.
    fatal: bool = False
    stop: str = ""
    answer: dict | None = None  # the API's JSON, for --json
    maybe_charged: bool = False  # sent, and no answer said what it cost
    again: bool = True  # running the same command again may do it (not: invalid input)


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
        """What the answers said was charged: results done, and those paid for but not
        written or cancelled while they downloaded."""
        return sum(o.credits or 0 for o in self.outcomes)

    @property
    def maybe_charged(self) -> list[Outcome]:
        """Sent, then cancelled or failed without an answer that said the cost."""
        return [o for o in self.outcomes if o.maybe_charged and o.credits is None]

    @property
    def unfinished(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.state in (FAILED, REFUSED, CANCELLED)]

    @property
    def exit_code(self) -> int:
        """0 every file done or skipped, 8 any failed or left undone, 130 Ctrl+C."""
        if self.interrupted:
            return 130
        if self.not_started or self.unfinished:
            return 8
        return 0


# -- which files, and where their results go ---------------------------------------------------


def result_of(path: Path) -> str | None:
    """The name of the input `path` would be a result of, by its name alone: `x` for
    `x.remove-background.png`, `x.crisp-upscale-2.png`, `x.remix-1.webp` (any operation's,
    as a single run or a batch names it); None for a name no run makes."""
    if path.suffix.lower() not in _IMAGE_SUFFIXES:
        return None
    stem, dot, tag = path.stem.rpartition(".")
    if not dot or not stem:
        return None
    numbered = re.fullmatch(r"(.+)-[0-9]+", tag)
    if tag in _RESULT_TAGS or (numbered and numbered.group(1) in _RESULT_TAGS):
        return stem
    return None


def inputs(op: Operation, given: list[str]) -> tuple[list[Path], list[Path]]:
    """(the files of a batch, the files of its folders left out). Each file given is taken;
    a folder gives its files whose suffix names a format the operation takes (sorted by
    name, not recursing), but not the results of earlier runs that lie beside their input
    there (`x.crisp-upscale.png` beside `x.jpg`: sent again, it would be paid for again). The
    same file given twice is done once. ValidationError for a path that is no file or
    folder, before anything is sent."""
    spec = next(spec for spec in op.files if spec.kind == "image")
    suffixes = {s for fmt in spec.formats for s in _SUFFIXES.get(fmt, ())}
    found: list[Path] = []
    left_out: list[Path] = []
    for text in given:
        path = Path(text)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file())
            stems = {p.stem for p in files if p.suffix.lower() in _IMAGE_SUFFIXES}
            for p in files:
                if p.suffix.lower() not in suffixes:
                    continue
                if result_of(p) in stems:
                    left_out.append(p)
                else:
                    found.append(p)
        elif path.is_file():
            found.append(path)
        elif path.exists():
            raise ValidationError(spec.name, f"{text} is not a file")
        else:
            raise ValidationError(spec.name, f"{text}: no such file")
    seen: set[Path] = set()
    unique = []
    for path in found:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique, left_out


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

    Names: `photo.remove-background.png` in the folder -o names, or beside each input
    without it; several results `...-1.png`, `...-2.png`: a single run's names beside its
    input. Refused with a ValidationError, before anything is sent: two inputs whose
    results would share a name, and results that would be named like an input (or like
    `others`, a mask say).
    """
    folder = Path(output) if output else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ValidationError(
            "--output", f"{output} is a file; with several images -o names a folder"
        )
    items = []
    for source in sources:
        where = folder if folder is not None else source.parent
        sent_svg = source.suffix.lower() == ".svg"
        ext = op.result_format(model, "svg" if sent_svg else None)
        items.append(Item(source, where, f"{source.stem}.{op.cli_name}", count, ext))
    # An input named as another input's result (with a result's extension) is that result,
    # from an earlier run.
    outputs = {_key(base): item for item in items for base in item.bases()}
    left_out = []
    for item in items:
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


def _temporary(path: Path) -> Path:
    """A fresh name for a temporary file beside `path`, of the pattern remove_stale knows."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")


def prepare_folder(folder: Path) -> None:
    """Make `folder` and write a file in it for real, then remove it: OSError when results
    could not be written there (a read-only or full disk, /proc, a path through a file),
    whatever permission bits say (root passes os.access everywhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = _temporary(folder / "recraft-probe")
    try:
        with open(probe, "xb") as f:
            f.write(b"recraft checks that results can be written here\n")
            f.flush()
            os.fsync(f.fileno())
    finally:
        with contextlib.suppress(OSError):
            os.unlink(probe)


def remove_stale(folder: Path, before: float) -> int:
    """Remove the temporary files an earlier run killed midway left in `folder` (ours by
    their name, and last written before `before`, a time.time(): not those of a run going
    on now); how many."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        if not _TEMPORARY.match(name):
            continue
        path = folder / name
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < before:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def write_atomic(path: Path, data: bytes) -> None:
    """`data` as `path`, whole or not at all: written to a temporary file in the same folder,
    then renamed over `path` (an existing file is replaced only then)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        temp = _temporary(path)
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
    """What stops the batch. The signal handler only sets plain attributes (the gate's
    close() too): it runs between any two bytecodes of the main thread, which may hold a
    lock or be writing a line."""

    def __init__(self, gate: RateGate) -> None:
        self.requested = False  # no new file is started (Ctrl+C, or a fatal failure)
        self.presses = 0  # of Ctrl+C: the first stops sending, the second cancels
        self.cancel = CancelToken()  # the files in flight
        self.gate = gate

    def stop_sending(self, reason: str) -> None:
        self.requested = True
        self.gate.close(reason)

    def on_interrupt(self, signum, frame) -> None:
        self.stop_sending("stopped by Ctrl+C before it was sent")
        self.presses += 1


@dataclass
class _Worker:
    """What one worker thread is doing, for the main thread to count: a file is in flight
    from its upload until it ends, except while it waits between tries (held by the gate
    after a 429, or a backoff) with nothing on the wire; once its results download, it is
    paid for and in flight until it ends."""

    item: Item | None = None
    sent: bool = False  # its request is on the wire (upload begun, not waiting between tries)
    answered: bool = False  # its results are downloading

    @property
    def in_flight(self) -> bool:
        return self.item is not None and (self.sent or self.answered)


class _Token(CancelToken):
    """The batch's CancelToken as one worker's call sees it: the same cancel, and each wait
    between tries (the transport sleeps on its token) tells the worker nothing of its file
    is on the wire then."""

    def __init__(self, shared: CancelToken, worker: _Worker) -> None:
        super().__init__()
        self._shared = shared
        self._worker = worker

    def cancel(self) -> None:
        self._shared.cancel()

    @property
    def cancelled(self) -> bool:
        return self._shared.cancelled

    def check(self) -> None:
        self._shared.check()

    def sleep(self, seconds: float) -> None:
        if not self._worker.answered:
            self._worker.sent = False
        self._shared.sleep(seconds)


def run(
    items: list[Item],
    work: Callable[[Item, CancelToken, Callable], Outcome],
    jobs: int,
    display: Display,
    gate: RateGate | None = None,
) -> Summary:
    """Run `work(item, cancel, progress)` on each item, `jobs` at a time; the main thread
    reports as they finish and takes Ctrl+C. `progress` is for the Client's call: it tells
    when the file's request went out. `gate`: the Client's (Transport.gate), closed when
    the batch stops sending; its holds (a 429) are shown."""
    outcomes = [Outcome(item, SKIPPED) for item in items if item.done]
    for outcome in outcomes:
        display.finished(outcome)
    pending = deque(item for item in items if not item.done)
    gate = gate or RateGate()
    stop = _Stop(gate)
    taking = threading.Lock()  # among the workers: an item is checked for and taken at once
    events: queue.Queue = queue.Queue()
    stopped_by: list[Outcome] = []
    unsent: list[Item] = []
    workers: dict[str, _Worker] = {}

    def worker() -> None:
        me = workers[threading.current_thread().name]
        token = _Token(stop.cancel, me)

        def progress(event) -> None:
            if event.stage in ("uploading", "waiting"):
                me.sent = True
            elif event.stage == "downloading":
                me.answered = True

        while True:
            with taking:
                if stop.requested or not pending:
                    return
                item = pending.popleft()
                me.item, me.sent, me.answered = item, False, False
            events.put(("start", item))
            try:
                outcome = work(item, token, progress)
            except Exception as e:  # a bug must not take the batch down: said, and counted
                outcome = Outcome(item, FAILED, message=f"{type(e).__name__}: {e}")
            unpaid = not (outcome.maybe_charged or outcome.credits or me.answered)
            if outcome.state == CANCELLED and not me.sent and unpaid:
                outcome.state = UNSENT  # cancelled before its request went out
            if outcome.fatal:
                stop.stop_sending("stopped before it was sent: the batch stopped early")
            with taking:
                me.item = None
            events.put(("end", outcome))

    log_notes = _LogNotes(workers, events)

    def heed(presses: int) -> None:
        """Say what Ctrl+C does (from the main loop, not the handler), cancel on the second."""
        if presses == 1:
            # Those held by the gate (after a 429) or not sent yet are not waited for: the
            # closed gate sends them back as not started.
            with taking:
                in_flight = sum(w.in_flight for w in workers.values())
            if in_flight:
                display.note(
                    f"stopping: nothing more is sent; waiting for the {in_flight} in flight "
                    "(Ctrl+C again cancels them)"
                )
            else:
                display.note("stopping: nothing more is sent")
        elif presses >= 2 and not stop.cancel.cancelled:
            stop.cancel.cancel()
            with taking:
                in_flight = sum(w.item is not None for w in workers.values())
            if in_flight:
                display.note("cancelling the files in flight")

    threads = [
        threading.Thread(target=worker, name=f"recraft-batch-{i + 1}", daemon=True)
        for i in range(min(jobs, len(pending)))
    ]
    for thread in threads:
        workers[thread.name] = _Worker()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, stop.on_interrupt)
    heeded = 0
    paused_until = 0.0  # the end of the rate-limit hold last said
    try:
        log_notes.install()
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads) or not events.empty():
            if stop.presses != heeded:
                heeded = stop.presses
                heed(heeded)
            held = gate.remaining
            if held > 0 and not stop.requested:
                until = time.monotonic() + held
                if until > paused_until + 1:
                    display.note(
                        f"Recraft asks to wait {math.ceil(held)} s (rate limit); all workers paused"
                    )
                paused_until = max(paused_until, until)
                display.paused_until = paused_until
            elif stop.requested:
                display.paused_until = 0.0  # nothing waits for the gate any more
            try:
                kind, value = events.get(timeout=0.1)
            except queue.Empty:
                display.tick()
                continue
            if kind == "start":
                display.started(value)
            elif kind == "note":
                display.note(value)
            elif value.state == UNSENT:
                unsent.append(value.item)
                display.unsent(value)
            else:
                outcomes.append(value)
                if value.fatal and not stopped_by:
                    stopped_by.append(value)
                display.finished(value)
    finally:
        log_notes.remove()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    interrupted = stop.presses > 0
    order = {id(item): i for i, item in enumerate(items)}
    not_started = sorted([*unsent, *pending], key=lambda item: order[id(item)])
    return Summary(outcomes, not_started, interrupted, stopped_by[0] if stopped_by else None)


class _LogNotes(logging.Handler):
    """The core's warnings from a worker (a retried request that may have been charged
    twice, say) as notes under the progress bar, naming the worker's file; the other
    handlers of the core's logger leave them to this one meanwhile."""

    def __init__(self, workers: dict[str, _Worker], events: queue.Queue) -> None:
        super().__init__(logging.WARNING)
        self.workers = workers
        self.events = events
        self.logger = logging.getLogger("recraft_core")
        self.filtered: list[logging.Handler] = []

    def _file(self, record: logging.LogRecord) -> Path | None:
        worker = self.workers.get(record.threadName)
        item = worker.item if worker is not None else None
        return item.source if item is not None else None

    def filter(self, record: logging.LogRecord) -> bool:
        return self._file(record) is not None

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # a note is never worth a failure
            self.events.put(("note", f"warning: {self._file(record)}: {record.getMessage()}"))

    def install(self) -> None:
        for handler in self.logger.handlers:
            handler.addFilter(self._other)
            self.filtered.append(handler)
        self.logger.addHandler(self)

    def remove(self) -> None:
        self.logger.removeHandler(self)
        for handler in self.filtered:
            handler.removeFilter(self._other)
        self.filtered = []

    def _other(self, record: logging.LogRecord) -> bool:
        return self._file(record) is None


# -- what is shown ------------------------------------------------------------------------------


def _elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


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
        self.counts = dict.fromkeys(STATES, 0)
        self.paused_until = 0.0  # time.monotonic() a rate-limit hold ends
        self._drawn = False

    # events

    def started(self, item: Item) -> None:
        self.running += 1
        self._draw()

    def finished(self, outcome: Outcome) -> None:
        if outcome.state != SKIPPED:
            self.running -= 1
        self.counts[outcome.state] += 1
        self._clear()
        self._emit(self.out, self._line(outcome) + "\n")
        self._draw()

    def unsent(self, outcome: Outcome) -> None:
        """A file stopped before it was sent: no line (the summary counts it)."""
        self.running -= 1
        self._draw()

    def note(self, message: str) -> None:
        self._clear()
        self._emit(self.err, self.scrub(message) + "\n")
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
                line["note" if o.state in (DONE, SKIPPED) else "error"] = o.message
            if o.answer is not None:
                line["answer"] = o.answer
            return self.scrub(json.dumps(line))
        if o.state == DONE:
            text = f"done      {o.item.source} -> {', '.join(map(str, o.written))}"
            return self.scrub(text + (f"  ({o.message})" if o.message else ""))
        if o.state == SKIPPED:
            return f"skipped   {o.item.source}: {', '.join(map(str, o.item.existing))} exists"
        return self.scrub(f"{o.state:<9} {o.item.source}: {o.message}")

    def _status(self) -> str:
        finished = sum(self.counts.values())
        c = self.counts
        parts = [f"{finished}/{self.total}", f"{c[DONE]} done"]
        parts += [f"{c[k]} {k}" for k in (FAILED, REFUSED, SKIPPED) if c[k]]
        parts += [f"{self.running} running"] if self.running else []
        paused = self.paused_until - time.monotonic()
        parts += [f"paused {math.ceil(paused)} s (rate limit)"] if paused > 0 else []
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

    def summary(
        self, summary: Summary, label: str, force: bool = False, price: int | None = None
    ) -> None:
        """The counts, the credits, each failure with its reason, what Ctrl+C left, and
        whether running it again would do the rest. `price`: what one file costs (as
        charged in this batch, or by the price list), for those that may have been
        charged; `force`: the batch redid files whose results existed."""
        self._clear()
        c = {state: summary.count(state) for state in STATES}
        parts = [f"{c[DONE]} done"]
        parts += [f"{c[k]} {k}" for k in (FAILED, REFUSED, CANCELLED, SKIPPED) if c[k]]
        if summary.not_started:
            parts.append(f"{len(summary.not_started)} not started")
        head = ", ".join(parts)
        head += _credits(summary, price)
        failures = summary.unfinished
        if len(failures) == 1:
            head += f": {failures[0].item.source}: {failures[0].message}"
        say = lambda text: self._emit(self.err, self.scrub(text) + "\n")  # noqa: E731
        say(f"{label}: {'interrupted: ' if summary.interrupted else ''}{head}")
        if len(failures) > 1:
            for o in failures[:LISTED]:
                say(f"  {o.state} {o.item.source}: {o.message}")
            if len(failures) > LISTED:
                say(f"  and {len(failures) - LISTED} more (their lines above)")
        for line in _advice(summary, force):
            say(line)


def _credits(summary: Summary, price: int | None) -> str:
    """`; 10 credits, and up to 30 more for 3 cancelled after they were sent`."""
    text = f"; {summary.credits} credits" if summary.credits else ""
    maybe = summary.maybe_charged
    if not maybe:
        return text
    kinds = []
    for state, words in ((CANCELLED, "cancelled"), (FAILED, "that failed")):
        n = sum(o.state == state for o in maybe)
        if n:
            kinds.append(f"{n} {words} after {'it was' if n == 1 else 'they were'} sent")
    which = " and ".join(kinds)
    if price:
        more = f"up to {len(maybe) * price} {'more' if text else 'credits'} for {which}"
        return f"{text}, and {more}" if text else f"; {more}"
    return (
        f"{text}, and {which} may have been charged too"
        if text
        else f"; {which} may have been charged"
    )


def _advice(summary: Summary, force: bool) -> list[str]:
    """What to do about what is left: the same command again only where it would do it."""
    lines = []
    stopped = summary.stopped_by
    if stopped is not None:
        lines.append(f"stopped early: nothing more was sent once {stopped.item.source} failed")
    rest = len(summary.not_started) + sum(o.again for o in summary.unfinished)
    hopeless = [o for o in summary.unfinished if not o.again]
    if hopeless:
        them = "it" if len(hopeless) == 1 else "them"
        lines.append(
            f"{_plural(len(hopeless), 'file')} would fail again as sent (the reasons above): "
            f"fix {them} or leave {them} out"
        )
    if not rest:
        return lines
    left = _plural(rest, "file")
    if stopped is not None and stopped.stop:
        lines.append(f"{stopped.stop}, the same command does the {left} left")
    elif force:
        lines.append(
            f"to do the {left} left, run it again without --force: with --force every file "
            "is done again, and paid for again"
        )
    else:
        lines.append(
            f"run the same command again to do the {left} left: files whose results exist "
            "are skipped"
        )
    return lines


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
