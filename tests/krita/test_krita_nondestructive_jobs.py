"""Non-destructive results where the job decides, in the real Krita (issue 21), through the
docker's Run as an artist presses it:

- an inpaint or erase whose selection covers no pixel of the active layer (a layer with
  pixels only on its left, the selection on the right; a small layer at an offset, the
  selection outside it) is refused before anything is sent: nothing reaches the server,
  nothing is charged, the document is as it was, and the docker names the layer and the way
  out;
- a soft-edged inpaint whose document is closed while the server sits on it opens as a new
  document whose layer still carries its edge as a transparency mask (Krita 5.2 and later;
  5.1 bakes it, as insertion does), the same mask a job inserted into its document has.

One launch per Krita version (payloads_nondestructive_jobs.nondestructive_jobs); the server's
records are matched to each story by time.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from krita_harness import Stories

from recraft_core.workflow.job import Options

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
PROMPT = "a straw hat"
REACH = max(Options().grow, Options().feather)  # how far past the selection a job looks
W, H = 400, 320
CASES = {
    # Pixels only in the layer's 160 leftmost columns; the selection 140 px to their right.
    "left": {"box": (0, 0, W, H), "keep": 160, "selection": (300, 100, 80, 100)},
    # A 120 x 100 layer moved to (20, 20); the selection well below and right of it.
    "offset": {"box": (20, 20, 120, 100), "keep": 120, "selection": (250, 180, 100, 100)},
}
OPERATIONS = ("inpaint", "erase_region")
# A layer wholly to the right of the canvas: the layer, not the selection, is what to fix.
OFF = {"box": (W + 40, 20, 120, 100), "keep": 120, "selection": (250, 180, 100, 100)}
MISSES = [
    {"operation": op, "case": case, "width": W, "height": H, **args}
    for op in OPERATIONS
    for case, args in CASES.items()
] + [{"operation": "inpaint", "case": "off", "width": W, "height": H, **OFF}]
ORPHAN = {"width": 320, "height": 256, "selection": (110, 88, 100, 80), "feather": 12}
DELAY = 5  # seconds the server sits on the first inpaint: the document closes meanwhile
NAME = f"Recraft inpaint: {PROMPT}"


@pytest.fixture
def run(once, new_krita, recraft_server_session) -> Stories:
    def make():
        server = recraft_server_session
        server.reset()
        # The refusals send nothing: the first inpaint to arrive is the orphan story's.
        server.fault("delay", seconds=DELAY, path="/images/inpaint")
        krita = new_krita("nondestructive-jobs")
        result = krita.launch(
            "nondestructive_jobs",
            {"misses": MISSES, "orphan": ORPHAN},
            HERE / "payloads_nondestructive_jobs.py",
        )
        return Stories(result, list(server.requests))

    return once("nondestructive-jobs", make)


def test_nothing_raised(run):
    result = run.result
    assert result.errors == [], "exceptions in Krita:\n" + "\n".join(result.errors)
    assert result.plugin_stderr() == [], "Krita's stderr reports trouble"


def test_the_cases_miss_the_layer_by_more_than_a_job_looks_past_the_selection():
    for case in CASES.values():
        x, y, _, h = case["box"]
        sx, sy, _, _ = case["selection"]
        assert sx - (x + case["keep"]) > REACH or sy - (y + h) > REACH, case


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_selection_missing_the_layer_is_refused_before_anything_is_sent(run, operation, case):
    name = f"misses-{operation}-{case}"
    got = run.story(name)
    sent = run.requests(name)
    assert [r.path for r in sent if "/images/" in r.path] == [], "sent anyway"
    assert sum(r.credits for r in sent) == 0, "charged"
    assert got["queued"] is False, "a job was queued"
    assert got["after"] == got["before"], "the document changed"
    message = got["message"]
    assert "covers no pixels of the layer" in message.lower(), message
    assert "pick the layer to repaint" in message and "Visible image" in message, message


def in_kritas_words(message):
    assert "covers no pixels of the layer “photo”" in message, message
    assert "Layers docker" in message and "Source to Visible image" in message, message
    assert "Nothing was sent" in message, message


def test_a_layer_off_the_canvas_is_refused_in_kritas_words(run):
    got = run.story("misses-inpaint-off")
    assert [r.path for r in run.requests("misses-inpaint-off") if "/images/" in r.path] == []
    assert got["after"] == got["before"] and got["queued"] is False
    for message in (got["message"], got["in_krita_words"]):
        assert message.startswith("The layer “photo” has no pixels inside the image"), message
        assert "Source to Visible image" in message and "Nothing was sent" in message, message


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_refusal_in_kritas_words_names_the_layer(run, operation, case):
    """canvas.in_krita_words on the refusal of the same job prepared on the plug-in's
    canvas in Krita."""
    in_kritas_words(run.story(f"misses-{operation}-{case}")["in_krita_words"])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_docker_names_the_layer(run, operation, case):
    in_kritas_words(run.story(f"misses-{operation}-{case}")["message"])


def test_a_masked_result_whose_document_closed_opens_with_its_mask(run):
    got = run.story("orphan")
    sent = [r for r in run.requests("orphan") if r.path.endswith("/images/inpaint")]
    assert [(r.fault, r.status) for r in sent][:1] == [("delay", 200)], "not the delayed one"
    assert got["closed"] and got["stage"] == "waiting"
    assert got["opened"] == 1, got.get("documents")
    assert "opened as a new image" in got["message"], got["message"]
    assert got["size"] == got["inserted_box"][2:], "the new document is not the result's box"
    assert got["layers"] == [[NAME, "paintlayer"]], got["layers"]
    assert got["screenshot"] and (run.result.out_dir / "orphan.png").exists()
    if not got["can_mask"]:  # Krita 5.1: baked, as inserting into the document bakes it
        assert got["children"] == [] and got["mask"] is None
        assert got["layer_alpha"] == got["inserted_layer_alpha"]
        assert len(set(got["layer_alpha"])) > 2, "no soft edge in the baked alpha"
        return
    assert got["children"] == [["Recraft edge", "transparencymask"]], got["children"]
    assert got["mask"] == got["inserted_mask"], "not the mask the job inserts in its document"
    assert len(set(got["mask"])) > 2 and min(got["mask"]) == 0, "not a soft edge"
    assert set(got["layer_alpha"]) == {255}, "the layer's own alpha was faded too"
    assert got["shown_alpha"] == got["mask"], "the canvas does not show the edge as the mask"
