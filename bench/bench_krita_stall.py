"""How long Krita's GUI thread stalls while the plug-in works on large images.

    python bench/bench_krita_stall.py [SIDE]        # SIDE: 4000 (px) unless given

Runs the host's real Krita under Xvfb, with the plug-in installed by install/install.py into a
fresh profile (tests/krita/krita_harness.py, what the Krita tests use) and a local Recraft
server in this process. Inside Krita a 5 ms QTimer on the GUI thread records when it fires
while the plug-in runs, through its own action and docker:

    remove background  on a SIDE x SIDE layer
    remove bg, grain   the same with a photo's grain (sent smaller: read again, scaled)
    inpaint            on a SIDE x SIDE canvas with a selection in the middle

The longest gap between two ticks is how long Krita could not answer the user. Reading the
layer happens on the GUI thread by design (Krita's API is not thread-safe), in bands of rows
with Qt's events handled between them, so it is given on its own (its time and its longest
gap), and the other figure is the longest gap outside it: encoding, the network,
decoding, placing the result and Krita's redraws. Its baseline is the longest gap measured the
same way while the GUI thread idles for the same time, right after: ratios, not seconds, since
this machine is noisy. Target: under 50 ms. The timer's slot is Python, so a gap also counts
time the GUI thread waits for the GIL a plug-in thread holds.

This one file is also the payload: the probe runs its `stall` function inside Krita. Only the
standard library is imported at the top, for Krita's Python.
"""

from __future__ import annotations

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
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    def tick(self) -> None:
        self.times.append(time.perf_counter())
        job = self.runner.job
        self.states.append("idle" if job is None else f"{job.state}/{job.progress.stage}")

    def start(self) -> None:
        self.tick()
        self.timer.start()

    def stop(self) -> None:
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
                out.append(((b - a) * 1000, f"{self.states[i - 1]} -> {self.states[i]}"))
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
    }


def _measure(start_job, result_name: str, doc):
    """Tick while start_job() starts the plug-in's job (synchronously: the read) and the job
    runs to its end plus TAIL, then idle as long; yields to Krita's main loop meanwhile, as
    a user's Krita would run. Returns the summary."""
    from recraft_probe.helpers import find_node

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
    summary["made"] = find_node(doc, result_name) is not None
    summary["error"] = None if job is None or job.error is None else job.error.user_message
    return summary


def stall(out_dir, side):
    """Both operations on side x side images; the figures for each."""
    from krita import Krita
    from recraft_krita import api
    from recraft_probe.helpers import new_document, rect_selection, set_active_node, settle
    from recraft_probe.qt import QtCore, QtGui

    def picture(doc, name, grain=False):
        """A layer the size of the canvas: gradients and discs, drawn by Qt (cheap); with
        `grain`, a tile of noise laid over it faintly, as a photo's grain (then it encodes to
        over 10 MB at full size, and the plug-in reads it again smaller)."""
        image = QtGui.QImage(side, side, QtGui.QImage.Format.Format_ARGB32)
        painter = QtGui.QPainter(image)
        sky = QtGui.QLinearGradient(0, 0, 0, side)
        sky.setColorAt(0, QtGui.QColor(70, 120, 200))
        sky.setColorAt(1, QtGui.QColor(240, 200, 160))
        painter.fillRect(0, 0, side, side, sky)
        painter.setBrush(QtGui.QColor(60, 130, 70))
        painter.drawEllipse(side // 4, side // 2, side // 2, side // 3)
        if grain:
            tile = 509  # prime: the tiling does not line up with anything
            noise = bytearray(os.urandom(tile * tile * 4))
            noise[3::4] = b"\xff" * (tile * tile)
            fmt = QtGui.QImage.Format.Format_ARGB32
            texture = QtGui.QImage(bytes(noise), tile, tile, tile * 4, fmt)
            painter.setOpacity(0.12)
            painter.drawTiledPixmap(0, 0, side, side, QtGui.QPixmap.fromImage(texture))
        painter.end()
        bits = image.constBits()
        bits.setsize(image.sizeInBytes())
        node = doc.createNode(name, "paintlayer")
        doc.rootNode().addChildNode(node, None)
        node.setPixelData(
            QtCore.QByteArray(bytes(bits)), 0, 0, side, side
        )  # ARGB32 is Krita's B, G, R, A
        return node

    figures = {}
    doc = new_document(side, side, "stall-remove-background")
    layer = picture(doc, "photo")
    settle(doc)
    yield 0.5
    assert set_active_node(doc, layer), "could not make the layer active"
    action = Krita.instance().action("recraft_remove_background")
    figures["remove background"] = yield from _measure(
        action.trigger, "Recraft remove background", doc
    )
    doc.setModified(False)  # no "save changes?" question
    doc.close()

    doc = new_document(side, side, "stall-remove-background-grain")
    layer = picture(doc, "photo", grain=True)
    settle(doc)
    yield 0.5
    assert set_active_node(doc, layer), "could not make the layer active"
    figures["remove bg, grain"] = yield from _measure(
        action.trigger, "Recraft remove background", doc
    )
    doc.setModified(False)
    doc.close()

    doc = new_document(side, side, "stall-inpaint")
    layer = picture(doc, "photo")
    settle(doc)
    yield 0.5
    rect_selection(doc, side * 3 // 8, side * 3 // 8, side // 4, side // 5)
    assert set_active_node(doc, layer), "could not make the layer active"
    panel = api.docker()
    panel.show()
    panel.choose("inpaint")
    panel.set_values({"prompt": "a hot air balloon"})
    yield 0.5
    figures["inpaint"] = yield from _measure(panel.run, "Recraft inpaint: a hot air balloon", doc)
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

    side = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    editor = host_editor()
    if editor is None or not Xvfb.available():
        sys.exit("needs the host's krita and Xvfb (see tests/krita/krita_harness.py)")
    work = Path(tempfile.mkdtemp(prefix="bench-krita-stall-"))
    home = work / "home"
    started = time.monotonic()
    with RecraftServer(token="bench") as server, Xvfb() as display:
        install_probe(home)
        env = profile_env(home, display, server.base_url, server.token)
        install_plugin(home, env)
        warm = launch(editor, home, env, work / "warm", "warm_up", {}, payloads=here)
        print(f"Krita {warm.value['version']}, {side}x{side} px, a {TICK_MS} ms timer")
        result = launch(editor, home, env, work / "out", "stall", {"side": side}, payloads=here)
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
    if result.errors:
        print("exceptions in Krita:\n" + "\n".join(result.errors))
    print(f"({time.monotonic() - started:.0f} s in all; files in {work})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
