"""The docker's queue and every selected layer in the real Krita (issue 22).

One launch per Krita version runs the stories of payloads_queue.py one after the other; the
server sits on each inpaint (so jobs wait in the queue) and answers one remove background 429.
Each test checks one story against what it reported and what the server received meanwhile.
RECRAFT_SCREENSHOTS=1 copies the window with a queue of jobs (Krita 5.1) to
docs/screenshots/krita-queue.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from krita_harness import Stories
from PIL import Image

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHOT = "krita-queue.png"
STORIES = ["three", "cancel", "closing", "rate", "layers", "empty", "cancel_layers"]
DELAY = 3  # seconds the server sits on each inpaint
RETRY_AFTER = 2
INPAINT, REMOVE = "/images/inpaint", "/images/removeBackground"
GROWN = 40  # what grow and feather may add around a selection, at most
SELECTIONS = [(20, 20, 80, 60), (160, 110, 80, 60), (300, 220, 80, 60)]


@pytest.fixture
def run(once, new_krita) -> Stories:
    def make():
        krita = new_krita("queue")
        server = krita.server
        server.reset()
        # Inpaints: three, two (one cancelled before it was sent), one (two dropped).
        server.fault("delay", seconds=DELAY, path=INPAINT, times=6)
        # Remove background: the second of two answered 429 first.
        server.fault("delay", seconds=0.3, path=REMOVE)
        server.fault("status", status=429, retry_after=RETRY_AFTER, path=REMOVE)
        result = krita.launch(
            "queue_story",
            {"stories": STORIES, "screenshot_name": SHOT},
            HERE / "payloads_queue.py",
        )
        return Stories(result, list(server.requests))

    return once("queue", make)


def prompts(requests) -> list:
    return sorted(str(r.fields.get("prompt")) for r in requests)


def above(tree, result, source) -> bool:
    names = [layer["name"] for layer in tree]
    return names.index(result) + 1 == names.index(source)


def inside(bounds, selection) -> bool:
    x, y, w, h = bounds
    sx, sy, sw, sh = selection
    return (
        w > 0
        and x >= sx - GROWN
        and y >= sy - GROWN
        and x + w <= sx + sw + GROWN
        and y + h <= sy + sh + GROWN
    )


def test_nothing_raised_and_krita_says_nothing(run):
    assert run.result.errors == [], "exceptions in Krita:\n" + "\n".join(run.result.errors)
    assert run.result.plugin_stderr() == [], "Krita's stderr reports trouble"


def test_three_jobs_queued_quickly_land_each_in_its_own_place(run):
    got = run.story("three")
    sent = run.requests("three", INPAINT)
    assert prompts(sent) == ["first hat", "second hat", "third hat"]
    assert all(r.status == 200 for r in sent)
    tree = got["tree"]
    for k, prompt in enumerate(["first hat", "second hat", "third hat"]):
        name = f"Recraft inpaint: {prompt}"
        assert above(tree, name, f"three-{k}"), [layer["name"] for layer in tree]
        bounds = next(layer["bounds"] for layer in tree if layer["name"] == name)
        assert inside(bounds, SELECTIONS[k]), (name, bounds, SELECTIONS[k])
    assert got["list_after"] == [] and not got["list_shown_after"]


def test_the_dockers_list_shows_each_job_and_its_stage(run):
    got = run.story("three")
    assert len(got["queued"]) == 3, got["queued"]
    assert all(text.startswith("Inpaint") for text in got["queued"])
    waiting = got["waiting"]
    assert ["Waiting for Recraft" in t for t in waiting] == [True, True, False], waiting
    assert "Queued" in waiting[2], waiting
    assert "“third hat”" in waiting[2] and "credits" in waiting[2], waiting
    assert "Waiting for Recraft" in got["progress"]


def test_the_jobs_run_on_the_plugins_own_threads(run):
    """Started on threads the plug-in keeps (the runner's), not on a new thread per job
    (Job.start's, named after the operation), which the GUI thread would wait for."""
    threads = run.story("three")["threads"]
    assert not any(name.startswith("recraft-inpaint") for name in threads), threads
    assert {"recraft-job-1", "recraft-job-2"} <= set(threads), threads


def test_more_jobs_at_once_in_settings_gives_the_runner_more_threads(run):
    """Three threads till Settings said four ("layers"): a fourth is started (by one of the
    runner's threads, not the GUI thread)."""
    threads = run.story("layers")["threads"]
    assert "recraft-job-4" in threads, threads


def test_cancelling_one_of_three_never_sends_it(run):
    got = run.story("cancel")
    sent = run.requests("cancel", INPAINT)
    assert prompts(sent) == ["cancel one", "cancel three"]
    assert len(got["after_click"]) == 2 or "cancel two" not in " ".join(got["after_click"])
    names = [layer["name"] for layer in got["tree"]]
    assert "Recraft inpaint: cancel one" in names and "Recraft inpaint: cancel three" in names
    assert "Recraft inpaint: cancel two" not in names


def test_a_document_closed_with_jobs_waiting_drops_them(run):
    got = run.story("closing")
    sent = run.requests("closing", INPAINT)
    assert prompts(sent) == ["closing one"], "a waiting job of the closed document was sent"
    assert "closing" not in got["names"]
    assert "Recraft inpaint: closing one" in got["names"], got["names"]
    assert not any("closing two" in n or "closing three" in n for n in got["names"])
    assert got["busy"] is False


def test_a_429_on_the_second_job_delays_it_without_failing(run):
    got = run.story("rate")
    sent = run.requests("rate", REMOVE)
    assert sorted(r.status for r in sent) == [200, 200, 429], [r.status for r in sent]
    names = [layer["name"] for layer in got["tree"]]
    assert names.count("Recraft remove background") == 2, names
    assert got["seconds"] >= RETRY_AFTER
    assert "fail" not in got["message"].lower() and "error" not in got["message"].lower()


def test_three_selected_layers_give_three_results_and_one_summary(run):
    got = run.story("layers")
    sent = run.requests("layers", REMOVE)
    assert got["selected"] == 3
    assert len(sent) == 3 and all(r.status == 200 for r in sent)
    assert "3 layers" in got["cost"], got["cost"]
    assert got["at_first"] == 1, "the layers were read back to back, not one per turn"
    assert got["rows"] == 3
    for k in range(3):
        assert above(got["tree"], "Recraft remove background", f"layers-{k}") or (
            [layer["name"] for layer in got["tree"]].count("Recraft remove background") == 3
        )
    names = [layer["name"] for layer in got["tree"]]
    for k in range(3):
        index = names.index(f"layers-{k}")
        assert names[index - 1] == "Recraft remove background", names
    assert got["message"] == "3 done", got["message"]


def test_a_layer_that_cannot_go_is_named_and_the_others_are_done(run):
    got = run.story("empty")
    sent = run.requests("empty", REMOVE)
    assert len(sent) == 2
    assert got["message"].startswith("2 done, 1 failed: layer 'logo': "), got["message"]
    names = [layer["name"] for layer in got["tree"]]
    assert names.count("Recraft remove background") == 2, names


def test_cancel_all_while_layers_are_queued_sends_none_of_the_rest(run):
    got = run.story("cancel_layers")
    assert got["selected"] == 3 and got["queued"] == 1
    assert len(run.requests("cancel_layers", REMOVE)) <= 1, "a layer queued after Cancel was sent"
    names = [layer["name"] for layer in got["tree"]]
    assert "Recraft remove background" not in names, names
    assert got["message"].startswith("0 done, 3 cancelled"), got["message"]


def test_screenshot_of_the_docker_with_a_queue(run, editor):
    shot = run.result.out_dir / SHOT
    image = Image.open(shot)
    assert image.width >= 600, image.size
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and editor.version.startswith("5.1"):
        target = ROOT / "docs" / "screenshots" / SHOT
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
