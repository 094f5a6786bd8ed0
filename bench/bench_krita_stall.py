"""How long Krita's GUI thread stalls while the plug-in works on large images.

    python bench/bench_krita_stall.py [SIDE] [--only=NAME,...] [--where] [--json=PATH]

SIDE: 4000 (px) unless given. --only: the cases whose names start so. --json: the figures, as
JSON, to PATH. --where: for each of the longest gaps, the plug-in's Python on either side of
it, every GUI-thread call of 4 ms or more within it (a profiler: slower Python), and how long
the GIL was held meanwhile (a thread that wakes every millisecond, and wakes late when another
holds the GIL or the machine is busy): slower and noisier figures, to find a cause, not to
report.

Runs the host's real Krita under Xvfb, with the plug-in installed by install/install.py into a
fresh profile (tests/krita/krita_harness.py, what the Krita tests use) and a local Recraft
server in this process. Inside Krita a 5 ms QTimer on the GUI thread records when it fires
while the plug-in runs, through its own actions and docker:

    remove background  on a SIDE x SIDE layer
    remove bg, grain   the same with a photo's grain (sent smaller: read again, scaled; the
                       result scaled back up as it is placed)
    inpaint            on a SIDE x SIDE canvas with a selection in the middle
    upscale, new doc   crisp upscale of a 3:2 photo's layer (2964 x 2000 at 4000): its 2x
                       result opens as a new document of 24 MP
    generate, no doc   generate two pictures with no document open: a new document holding
                       them in a group

The longest gap between two ticks is how long Krita could not answer the user. Reading the
layer happens on the GUI thread by design (Krita's API is not thread-safe), in bands of rows
with Qt's events handled between them, so it is given on its own (its time and its longest
gap), and the other figure is the longest gap outside it: encoding, the network,
decoding, placing the result and Krita's redraws. Its baseline is the longest gap measured the
same way while the GUI thread idles for the same time, right after: ratios, not seconds, since
this machine is noisy. Target: under 50 ms. The timer's slot is Python, so a gap also counts
time the GUI thread waits for the GIL a plug-in thread holds.

A new document costs Krita itself, in one call each on its GUI thread, its creation and its
first view: 0.3-0.5 s for a 64 x 64 document here, 0.6-1.3 s for a 24 MP one's view. Those two
cases stay over the target whatever the plug-in does around them. So does, now and then,
putting a layer into a large image: Node.addChildNode waits for Krita to compose the whole
image again, and Krita redraws its canvas meanwhile, as after its own Duplicate Layer (30-50 ms
on 16 MP here).

This one file is also the payload: the probe runs its `stall` function inside Krita. Only the
standard library is imported at the top, for Krita's Python.
"""

from __future__ import annotations

import json
import os
import sys
import time

TICK_MS = 5
TARGET_MS = 50
TAIL = 1.0  # seconds measured after the job ended: Krita redraws the new layer meanwhile


# -- inside Krita ---------------------------------------------------------------------------------


def warm_up(out_dir):
    """The first start of a profile builds Krita's caches: keep that out of the figures."""
    from krita import Krita

    return {"version": Krita.instance().version()}


class Ticker:
    """A QTimer firing every TICK_MS ms on the GUI thread: when it did, and the plug-in's job
    state then (so a gap can be put down to a phase)."""

    def __init__(self) -> None:
        from recraft_krita import api
        from recraft_probe.qt import QtCore

        self.runner = api.runner()
        self.times: list[float] = []
        self.states: list[str] = []
        self.wheres: list[str] = []
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        self.times.append(time.perf_counter())
        job = self.runner.job
        self.states.append("idle" if job is None else f"{job.state}/{job.progress.stage}")
        if WHERE:
            self.wheres.append(_where())

    def start(self) -> None:
        self.tick()
        self.timer.start()
        if WHERE:
            self.calls = SlowCalls()
            sys.setprofile(self.calls.event)
            self.gil = GilSampler()

    def stop(self) -> None:
        if WHERE:
            sys.setprofile(None)
            self.gil.stop()
        self.timer.stop()
        self.tick()

    def gaps(self, span=None, inside: bool = False) -> list[tuple[float, str]]:
        """(milliseconds, "state before -> state after") for every gap between ticks: those
        that overlap `span` (start, end) with `inside`, else those that do not."""
        out = []
        for i in range(1, len(self.times)):
            a, b = self.times[i - 1], self.times[i]
            overlaps = span is not None and a <= span[1] and b >= span[0]
            if overlaps == inside:
                phase = f"{self.states[i - 1]} -> {self.states[i]}"
                if WHERE:
                    phase += f"  [{self.wheres[i - 1]}] -> [{self.wheres[i]}]"
                out.append(((b - a) * 1000, phase))
        return out


WHERE = bool(os.environ.get("RECRAFT_BENCH_WHERE"))
_OURS = ("recraft_krita", "recraft_core")


def _frames(frame, depth=3) -> str:
    names = []
    while frame is not None and len(names) < depth:
        path = frame.f_code.co_filename
        if any(p in path for p in _OURS):
            names.append(f"{os.path.basename(path)}:{frame.f_lineno}")
        frame = frame.f_back
    return "<".join(names)


def _where() -> str:
    """Where the GUI thread's Python is as the tick fires (the plug-in's frames only) and
    where any other thread is: a gap lies between two such places, or, when the GUI thread
    was idle on both sides, a worker's call just before its place held the GIL."""
    import threading

    main = threading.main_thread().ident
    parts = []
    for ident, frame in sys._current_frames().items():
        text = _frames(frame)
        if text:
            parts.append(("gui " if ident == main else "worker ") + text)
    return "; ".join(parts)


class SlowCalls:
    """With --where, a profiler on the GUI thread: every call (Python or C) there that took
    SLOW_MS or more, with its start, end and depth, so that a gap can be put down to calls."""

    SLOW_MS = 4

    def __init__(self) -> None:
        self.stack: list[tuple[float, str]] = []
        self.slow: list[tuple[float, float, int, str]] = []

    def event(self, frame, what, arg) -> None:
        if what in ("call", "c_call"):
            if what == "call":
                code = frame.f_code
                name = f"{os.path.basename(code.co_filename)}:{code.co_firstlineno} {code.co_name}"
            else:
                name = getattr(arg, "__qualname__", None) or repr(arg)
            self.stack.append((time.perf_counter(), name))
        elif self.stack:
            began, name = self.stack.pop()
            ended = time.perf_counter()
            if ended - began >= self.SLOW_MS / 1000:
                self.slow.append((began, ended, len(self.stack), name))

    def within(self, a: float, b: float) -> list[str]:
        """The calls that began or ended between a and b, and the innermost one that holds
        the whole span (a nested event loop: where the gap happened)."""
        holders = [c for c in self.slow if c[0] <= a and c[1] >= b]
        out = []
        if holders:
            s, e, _, name = max(holders, key=lambda c: c[2])
            out.append(f"in {name} ({1000 * (e - s):.1f} ms)")
        out += [
            f"{'  ' * depth}{name} {1000 * (e - s):.1f} ms"
            for s, e, depth, name in sorted(self.slow)
            if s < b and e > a and not (s <= a and e >= b)
        ]
        return out


class GilSampler:
    """With --where, a thread that wakes every millisecond: when it wakes late, some thread
    held the GIL meanwhile (the GUI thread in a call that keeps it, or a worker). A GUI gap
    without a late wake is GUI-thread work that let the GIL go: Krita's own, in C++."""

    def __init__(self) -> None:
        import threading

        self.wakes: list[float] = [time.perf_counter()]
        self.running = True
        self.thread = threading.Thread(target=self.run, name="gil-sampler", daemon=True)
        self.thread.start()

    def run(self) -> None:
        while self.running:
            time.sleep(0.001)
            self.wakes.append(time.perf_counter())

    def stop(self) -> None:
        self.running = False
        self.thread.join()

    def longest_wait(self, a: float, b: float) -> float:
        w = self.wakes
        return max(
            (w[i] - w[i - 1] for i in range(1, len(w)) if w[i] > a and w[i - 1] < b), default=0.0
        )


def _explain(work: Ticker, n: int = 4) -> list[str]:
    """The GUI thread's slow calls during the n longest gaps."""
    spans = sorted(
        ((work.times[i] - work.times[i - 1], i) for i in range(1, len(work.times))), reverse=True
    )
    out = []
    for ms, i in spans[:n]:
        held = 1000 * work.gil.longest_wait(work.times[i - 1], work.times[i])
        out.append(
            f"gap {1000 * ms:.1f} ms: {work.states[i - 1]} -> {work.states[i]}, the GIL "
            f"held up to {held:.1f} ms in it [{work.wheres[i - 1]}] -> [{work.wheres[i]}]"
        )
        out += work.calls.within(work.times[i - 1], work.times[i])
    return out


def _summary(work: Ticker, idle: Ticker, read: tuple[float, float]) -> dict:
    gaps = sorted(work.gaps(read), reverse=True)
    baseline = max(ms for ms, _ in idle.gaps())
    longest, phase = gaps[0]
    return {
        "read_ms": (read[1] - read[0]) * 1000,
        "read_gap_ms": max(ms for ms, _ in work.gaps(read, inside=True)),
        "longest_ms": longest,
        "longest_phase": phase,
        "top": [[round(ms, 1), p] for ms, p in gaps[:5]],
        "baseline_ms": baseline,
        "ratio": longest / baseline,
        "seconds": work.times[-1] - work.times[0],
        "ticks": len(work.times),
        "calls": _explain(work) if WHERE else [],
    }


def _measure(start_job, made):
    """Tick while start_job() starts the plug-in's job (synchronously: the read) and the job
    runs to its end plus TAIL, then idle as long; yields to Krita's main loop meanwhile, as
    a user's Krita would run. Returns the summary; made() says whether the result is there."""
    work = Ticker()
    work.start()
    yield 0.3
    began = time.perf_counter()
    start_job()
    read = (began, time.perf_counter())
    job = work.runner.job
    while work.runner.busy:
        yield 0.02
    ended = time.perf_counter() + TAIL
    while time.perf_counter() < ended:
        yield 0.05
    work.stop()
    idle = Ticker()
    idle.start()
    yield work.times[-1] - work.times[0]
    idle.stop()
    summary = _summary(work, idle, read)
    summary["made"] = made()
    summary["error"] = None if job is None or job.error is None else job.error.user_message
    return summary


CASES = ("remove background", "remove bg, grain", "inpaint", "upscale, new doc", "generate, no doc")


def stall(out_dir, side, cases=CASES):
    """Each case on side x side images (the upscale's source smaller, as a photo's 3:2);
    the figures for each."""
    from krita import Krita

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from payloads import photo_layer  # beside this file (krita_harness.launch copies it)
    from recraft_krita import api
    from recraft_probe.helpers import (
        find_node,
        new_document,
        rect_selection,
        set_active_node,
        settle,
    )

    krita = Krita.instance()

    def opened(width, height, name, grain=False):
        doc = new_document(width, height, name)
        layer = photo_layer(doc, "photo", grain=grain)
        settle(doc)
        return doc, layer

    def close(*docs):
        for doc in docs:
            doc.setModified(False)  # no "save changes?" question
            doc.close()

    def new_documents(before):
        return [d for d in krita.documents() if not any(d == b for b in before)]

    def has(doc, name):
        return lambda: find_node(doc, name) is not None

    figures = {}
    for case in cases:
        if case in ("remove background", "remove bg, grain"):
            doc, layer = opened(side, side, "stall-" + case, grain="grain" in case)
            yield 0.5
            assert set_active_node(doc, layer), "could not make the layer active"
            action = krita.action("recraft_remove_background")
            made = has(doc, "Recraft remove background")
            figures[case] = yield from _measure(action.trigger, made)
            close(doc)
        elif case == "inpaint":
            doc, layer = opened(side, side, "stall-inpaint")
            yield 0.5
            rect_selection(doc, side * 3 // 8, side * 3 // 8, side // 4, side // 5)
            assert set_active_node(doc, layer), "could not make the layer active"
            panel = api.docker()
            panel.show()
            panel.choose("inpaint")
            panel.set_values({"prompt": "a hot air balloon"})
            yield 0.5
            made = has(doc, "Recraft inpaint: a hot air balloon")
            figures[case] = yield from _measure(panel.run, made)
            close(doc)
        elif case == "upscale, new doc":
            # A 3:2 photo's layer (2964 x 2000 at 4000): its 2x result opens as a new
            # document of 24 MP.
            width, height = side * 741 // 1000, side // 2
            doc, layer = opened(width, height, "stall-upscale")
            yield 0.5
            assert set_active_node(doc, layer), "could not make the layer active"
            before = krita.documents()
            action = krita.action("recraft_crisp_upscale")

            def upscaled(before=before, width=width, height=height):
                new = new_documents(before)
                return [(d.width(), d.height()) for d in new] == [(2 * width, 2 * height)]

            figures[case] = yield from _measure(action.trigger, upscaled)
            close(doc, *new_documents(before))
        elif case == "generate, no doc":
            for doc in krita.documents():
                close(doc)
            yield 0.5
            panel = api.docker()
            panel.show()
            panel.choose("generate")
            panel.set_values({"prompt": "a lighthouse at dusk", "n": 2})
            yield 0.5
            before = krita.documents()

            def opened_one(before=before):
                return bool(new_documents(before))

            figures[case] = yield from _measure(panel.run, opened_one)
            close(*new_documents(before))
    return figures


# -- on the host ----------------------------------------------------------------------------------


def main() -> None:
    import tempfile
    from pathlib import Path

    here = Path(__file__).resolve()
    sys.path.insert(0, str(here.parents[1] / "tests" / "krita"))
    sys.path.insert(0, str(here.parents[1] / "tests"))
    sys.path.insert(0, str(here.parents[1] / "core"))
    from krita_harness import (
        Xvfb,
        host_editor,
        install_plugin,
        install_probe,
        launch,
        profile_env,
    )

    from recraft_server import RecraftServer

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    side = int(args[0]) if args else 4000
    # --only=inpaint,upscale: the cases whose names start so
    only = [a.split("=", 1)[1].split(",") for a in sys.argv[1:] if a.startswith("--only=")]
    cases = [c for c in CASES if not only or any(c.startswith(o) for o in only[0])]
    editor = host_editor()
    if editor is None or not Xvfb.available():
        sys.exit("needs the host's krita and Xvfb (see tests/krita/krita_harness.py)")
    work = Path(tempfile.mkdtemp(prefix="bench-krita-stall-"))
    home = work / "home"
    started = time.monotonic()
    with RecraftServer(token="bench") as server, Xvfb() as display:
        install_probe(home)
        env = profile_env(home, display, server.base_url, server.token)
        if "--where" in sys.argv:
            env["RECRAFT_BENCH_WHERE"] = "1"
        install_plugin(home, env)
        warm = launch(editor, home, env, work / "warm", "warm_up", {}, payloads=here)
        print(f"Krita {warm.value['version']}, {side}x{side} px, a {TICK_MS} ms timer")
        result = launch(
            editor, home, env, work / "out", "stall", {"side": side, "cases": cases}, payloads=here
        )
    for name, f in result.value.items():
        verdict = "under" if f["longest_ms"] < TARGET_MS else "OVER"
        made = "layer made" if f["made"] else f"NO LAYER: {f['error']}"
        print(
            f"{name:18} read {f['read_ms']:7.0f} ms on the GUI thread (Krita's API is not "
            f"thread-safe), in bands: longest gap in it {f['read_gap_ms']:5.1f} ms  {made}\n"
            f"{'':18} longest gap outside the read {f['longest_ms']:6.1f} ms "
            f"({f['longest_phase']}), {verdict} the {TARGET_MS} ms target\n"
            f"{'':18} idle baseline {f['baseline_ms']:5.1f} ms -> ratio "
            f"{f['ratio']:.1f}x over {f['seconds']:.1f} s, {f['ticks']} ticks\n"
            f"{'':18} top gaps: {f['top']}"
        )
        for line in f["calls"]:
            print(f"{'':20}{line}")
    if result.errors:
        print("exceptions in Krita:\n" + "\n".join(result.errors))
    for path in [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--json=")]:
        Path(path).write_text(json.dumps(result.value))
    print(f"({time.monotonic() - started:.0f} s in all; files in {work})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
