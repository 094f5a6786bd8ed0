"""A queue of jobs in Krita against one job run alone: Tools › Recraft › Remove Background
with 6 layers selected (6 jobs, 3 at once), the local server taking 1 s per image operation.

    python bench/bench_krita_queue.py [JOBS [AT_ONCE [DELAY [ROUNDS [SIDE]]]]] [--timeline]
                                                         # 6 3 1 6 1024 unless given

Prints ratio = queue time / ((JOBS / AT_ONCE) x one job's time), both measured in the same
Krita, now: 1.0 is a perfect overlap, and the queue is meant to stay at or under 1.3. Exits 1
when it does not. Each round runs one job alone and the queue, in turns (alone first in even
rounds, the queue first in odd ones), after a first job that is not counted (Python's imports,
the first connection). The ratio of each round is printed; the verdict is on the fastest queue
against the fastest job alone (other work on this shared machine only ever adds time), and
the median of the rounds' ratios and the ratio of the medians are printed beside it (six
rounds unless told: a round that another helper's burst of work slowed is one of six).
A job's time is from the action to its result in place (the runner idle again): reading the
layer on Krita's GUI thread, encoding, the request, Recraft's delay, decoding, inserting.
--timeline: when each job reached each of its stages, in every run (sampled every 5 ms).

Runs the host's real Krita under Xvfb, with the plug-in installed by install/install.py into a
fresh profile (tests/krita/krita_harness.py, what the Krita tests use) and a local Recraft
server in this process, as bench_krita_stall.py does; the server's CPU a job is printed
too, since here it shares the 2 cores with Krita (Recraft works on its own machines). The
layers are SIDE x SIDE pictures with a photo's grain, drawn by Qt. This machine has 2 cores,
shared: ratios, not seconds.

This one file is also the payload: the probe runs its `queue` function inside Krita. Only the
standard library is imported at the top, for Krita's Python.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

LIMIT = 1.3
ACTION = "recraft_remove_background"
RESULT = "Recraft remove background"


# -- inside Krita ---------------------------------------------------------------------------------


def warm_up(out_dir):
    """The first start of a profile builds Krita's caches: keep that out of the figures."""
    from krita import Krita

    return {"version": Krita.instance().version()}


def _select(nodes) -> int:
    """The layers' rows selected in the Layers docker (as ctrl-clicks would); how many the
    view reports selected."""
    from recraft_probe.helpers import _find_row, layers_view, main_window, spin
    from recraft_probe.qt import QtCore

    tree = layers_view()
    model, selection = tree.model(), tree.selectionModel()
    flags = QtCore.QItemSelectionModel.SelectionFlag
    for k, node in enumerate(nodes):
        index = _find_row(model, node.name())
        how = flags.ClearAndSelect if k == 0 else flags.Select
        if k == 0:
            selection.setCurrentIndex(index, how | flags.Rows)
        else:
            selection.select(index, how | flags.Rows)
    spin(0.1)
    return len(main_window().activeView().selectedNodes())


def queue(out_dir, jobs, at_once, rounds, side):
    """Seconds of one job alone and of `jobs` queued, `rounds` times in turns, plus how each
    run ended (results made, messages)."""
    from dataclasses import replace

    from krita import Krita

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from payloads import photo_layer  # beside this file (krita_harness.launch copies it)
    from recraft_krita import api
    from recraft_probe.helpers import new_document, settle

    from recraft_core import settings

    settings.save(replace(settings.load(), jobs_at_once=at_once))
    doc = new_document(side, side, "queue-bench")
    nodes = [photo_layer(doc, f"photo-{k}", k) for k in range(jobs)]
    settle(doc)
    yield 0.5
    action = Krita.instance().action(ACTION)
    runner = api.runner()

    def results():
        return [n for n in doc.rootNode().childNodes() if n.name() == RESULT]

    def timed(chosen):
        """One press of the action on `chosen` layers, to the last result in place."""
        selected = _select(chosen)
        assert selected == len(chosen), f"{selected} layers selected of {len(chosen)}"
        began, cpu = time.perf_counter(), time.process_time()
        action.trigger()
        pressed = time.perf_counter() - began
        stages: dict = {}  # job k: [(seconds, its state/stage)] as they changed
        jobs_seen: list = []
        while runner.busy:
            now = time.perf_counter() - began
            for entry in runner.entries:
                if entry.job not in jobs_seen:
                    jobs_seen.append(entry.job)
            for k, job in enumerate(jobs_seen):
                stage = f"{job.state}/{job.progress.stage}"
                seen = stages.setdefault(k, [])
                if not seen or seen[-1][1] != stage:
                    seen.append((round(now, 3), stage))
            yield 0.005
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        made = results()
        panel = api.docker()
        message = panel.message if panel is not None else ""
        for node in made:  # the stack as it was, for the next run
            node.remove()
        settle(doc)
        yield 0.3
        return {
            "seconds": took,
            "cpu": cpu,
            "made": len(made),
            "message": message,
            "pressed": pressed,
            "stages": stages,
        }

    first = yield from timed(nodes[:1])
    alone, queued = [], []
    for r in range(rounds):
        one = nodes[r % jobs : r % jobs + 1]
        if r % 2 == 0:
            alone.append((yield from timed(one)))
            queued.append((yield from timed(nodes)))
        else:
            queued.append((yield from timed(nodes)))
            alone.append((yield from timed(one)))
    return {"first": first, "alone": alone, "queued": queued}


# -- on the host ----------------------------------------------------------------------------------


def main() -> int:
    import tempfile
    from pathlib import Path

    here = Path(__file__).resolve()
    sys.path.insert(0, str(here.parents[1] / "tests" / "krita"))
    sys.path.insert(0, str(here.parents[1] / "tests"))
    sys.path.insert(0, str(here.parents[1] / "core"))
    from krita_harness import Xvfb, host_editor, install_plugin, install_probe, launch, profile_env

    from recraft_server import RecraftServer

    args = [float(a) for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    jobs, at_once, delay, rounds, side = (args + [6, 3, 1.0, 6, 1024][len(args) :])[:5]
    jobs, at_once, rounds, side = int(jobs), int(at_once), int(rounds), int(side)
    editor = host_editor()
    if editor is None or not Xvfb.available():
        sys.exit("needs the host's krita and Xvfb (see tests/krita/krita_harness.py)")
    work = Path(tempfile.mkdtemp(prefix="bench-krita-queue-"))
    home = work / "home"
    started = time.monotonic()
    with RecraftServer(token="bench") as server, Xvfb() as display:
        server.fault("delay", seconds=delay, path="/images", times=100000)
        install_probe(home)
        env = profile_env(home, display, server.base_url, server.token)
        install_plugin(home, env)
        warm = launch(editor, home, env, work / "warm", "warm_up", {}, payloads=here)
        run_args = {"jobs": jobs, "at_once": at_once, "rounds": rounds, "side": side}
        cpu = time.process_time()  # this process only serves (Krita runs in its own)
        result = launch(editor, home, env, work / "out", "queue", run_args, payloads=here)
        server_cpu = (time.process_time() - cpu) / (1 + rounds * (1 + jobs))
    got = result.value
    print(
        f"Krita {warm.value['version']}: Remove Background on {jobs} selected {side}x{side} "
        f"layers, {at_once} at once, server delay {delay:g} s; "
        f"ratio = queue / ({jobs}/{at_once} x one job alone)"
    )
    print(f"  the local server's CPU: {server_cpu:.2f} s a job (Recraft's is on its machines)")
    ratios = []
    for r, (one, many) in enumerate(zip(got["alone"], got["queued"], strict=True)):
        ratio = many["seconds"] / (jobs / at_once * one["seconds"])
        ratios.append(ratio)
        print(
            f"  round {r + 1}: one job {one['seconds']:5.2f} s, the queue "
            f"{many['seconds']:5.2f} s -> ratio {ratio:.2f}; Krita's CPU {one['cpu']:.2f} s, "
            f"{many['cpu'] / jobs:.2f} s a job queued"
        )
        if "--timeline" in flags:
            for name, run in (("alone", one), ("queue", many)):
                print(f"    {name}: the action returned after {run['pressed']:.2f} s")
                for k, seen in sorted(run["stages"].items()):
                    print(f"      job {k}: " + "  ".join(f"{t:.2f} {s}" for t, s in seen))
    wrong = [
        f"{run['made']} results of {n}, {run['message']!r}"
        for runs, n in ((got["alone"], 1), (got["queued"], jobs), ([got["first"]], 1))
        for run in runs
        if run["made"] != n
    ]
    if wrong or result.errors:
        print("NOT ALL RESULTS MADE: " + "; ".join(wrong) + "\n".join(result.errors))
        return 1
    # Other work on the machine only ever adds time: the fastest of each, against each other.
    best_one = min(run["seconds"] for run in got["alone"])
    best_many = min(run["seconds"] for run in got["queued"])
    best = best_many / (jobs / at_once * best_one)
    ok = best <= LIMIT
    mid_one = statistics.median(run["seconds"] for run in got["alone"])
    mid_many = statistics.median(run["seconds"] for run in got["queued"])
    print(
        f"ratio {best:.2f} (fastest queue {best_many:.2f} s / {jobs}/{at_once} x fastest job "
        f"{best_one:.2f} s; at most {LIMIT}): {'ok' if ok else 'over'}; "
        f"median of the rounds' ratios {statistics.median(ratios):.2f}, ratio of the medians "
        f"{mid_many / (jobs / at_once * mid_one):.2f}; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"({time.monotonic() - started:.0f} s in all; files in {work})")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
