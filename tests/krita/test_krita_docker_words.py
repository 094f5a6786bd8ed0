"""What the docker and the Settings dialog say, as a new user reads them, in the real Krita
(a new-user review found rows cut mid-word, API names in the Style list, a raw id where a
style's name belongs, and no Check token in Krita's Settings).

One launch per Krita version (payloads_docker_words.py): three inpaints queued while the
server sits on each, read in the docker as arranged for work and floated narrow; Generate's
Style list; Create style right after an inpaint's prompt, then Generate with the style;
Settings' Check token with a wrong token, then the right one, while the server takes its time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from krita_harness import launch
from PIL import Image

from recraft_core.library import Library

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / "payloads_docker_words.py"
INPAINT, STYLES, GENERATE, ME = "/images/inpaint", "/styles", "/images/generations", "/users/me"
CHECK_DELAY = 1.5  # seconds the server sits on /users/me: a check that blocked would show it
LAYER, DOCUMENT = "Background sketch", "garden at dusk"
PROMPTS = [  # as payloads_docker_words.py queues them
    "a flock of birds over the misty hills at dawn",
    "a hot air balloon drifting above the valley",
    "a wooden fence along the meadow path",
]
ELLIPSIS = "…"


@pytest.fixture
def said(once, new_krita):
    def make():
        krita = new_krita("words")
        server = krita.server
        server.reset()
        server.fault("delay", seconds=4, path=INPAINT, times=3)
        server.fault("delay", seconds=CHECK_DELAY, path=ME, times=50)
        library = krita.home / "recraft-library"
        env = dict(krita.env(), RECRAFT_LIBRARY=str(library))
        started = len(server.requests)
        result = launch(
            krita.editor,
            krita.home,
            env,
            krita.out_dir,
            "docker_words",
            {
                "token": server.token,
                "base_url": server.base_url,
                "style_layer": LAYER,
                "style_document": DOCUMENT,
            },
            payloads=PAYLOADS,
        )
        with Library(library) as kept:
            entries = kept.list(operation="create_style", limit=None)
        return result, server.requests[started:], entries, server.token

    return once("words", make)


def test_nothing_raised_and_krita_says_nothing(said):
    result = said[0]
    assert result.errors == [], "exceptions in Krita:\n" + "\n".join(result.errors)
    assert result.plugin_stderr() == [], "Krita's stderr reports trouble"


def test_queue_rows_show_the_stage_and_cost_whole_and_cut_the_prompt_with_an_ellipsis(said):
    queue = said[0].value["queue"]
    for width in ("arranged", "narrow"):
        rows = queue[width]
        assert rows["fit"], f"a row's line is cut mid-letter ({width}): {rows['shown']}"
        whats = [what for what, _ in rows["shown"]]
        wheres = [where for _, where in rows["shown"]]
        # The stage and the cost: whole, on their own line, whatever the width.
        assert wheres[0] == "Waiting for Recraft · 40 credits", rows
        assert wheres[1:] == ["Queued · 40 credits"] * 2, rows
        rows_words = zip(whats, rows["whole"], rows["tips"], strict=True)
        for k, (what, whole, tip) in enumerate(rows_words):
            assert what.startswith("Inpaint selection"), rows
            # The whole prompt in the tooltip, and the stage and cost.
            assert tip == f"Inpaint selection · “{PROMPTS[k]}”\n{wheres[k]}", rows
            assert whole == f"Inpaint selection · “{PROMPTS[k]}” · {wheres[k]}", rows
            # Shown whole, or cut with an ellipsis: never mid-word without one.
            assert what == whole.rsplit(" · ", 2)[0] or what.endswith(ELLIPSIS), rows
    narrow = queue["narrow"]
    assert narrow["width"] < queue["arranged"]["width"], (narrow["width"], queue)
    assert all(what.endswith(ELLIPSIS) for what, _ in narrow["shown"]), narrow


def test_screenshots_of_the_queue(said):
    out = said[0].out_dir
    for name in ("queue-arranged.png", "queue-narrow.png"):
        shot = np.asarray(Image.open(out / name).convert("RGB"))
        assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 30, f"{name}: a blank picture"


def test_style_list_shows_words_not_api_names(said):
    styles = said[0].value["styles"]
    # First "—": not set, the API's default.
    assert styles["data"] == [None, "any", "realistic_image", "digital_illustration", "logo_raster"]
    assert styles["items"] == [
        "—",
        "Any",
        "Realistic image",
        "Digital illustration",
        "Logo raster",
    ]


def test_create_style_keeps_no_prompt_of_another_operation(said):
    got = said[0].value["create_style"]
    assert got["style_prompt"] is None, got
    requests = said[1]
    (sent,) = [r for r in requests if r.path.endswith(STYLES)]
    assert "prompt" not in sent.fields, sent.fields
    # The inpaint's prompt still goes on to Generate, where the style is used.
    assert got["generate_prompt"] == "a kite", got


def test_create_style_says_the_styles_name_and_where_it_went(said):
    got = said[0].value["create_style"]
    label = got["label"]
    assert label is not None and label.startswith(f"“{LAYER}” in {DOCUMENT} · "), label
    assert "a kite" not in label, label
    assert got["message"].startswith(
        f"Style saved, chosen in Saved style of Generate: {label}. It cost "
    ), got["message"]
    assert got["style_id"] not in got["message"], "a raw id where its name says more"


def test_saved_style_box_shows_the_start_of_a_long_name(said):
    got = said[0].value["create_style"]
    assert got["box_text"] == got["label"]
    assert got["box_overflows"], "the name fits the box: this test shows nothing"
    assert got["cursor"] == 0 and got["cursor_arranged"] == 0, got
    assert got["label"] in got["box_tip"], got["box_tip"]


def test_the_style_is_kept_with_the_documents_name_and_generate_sends_it(said):
    got = said[0].value["create_style"]
    entries = said[2]
    (entry,) = [e for e in entries if any(r.image_id == got["style_id"] for r in e.results)]
    assert entry.document == DOCUMENT, entry.document
    assert entry.front_end == "krita"
    (generated,) = [r for r in said[1] if r.path.endswith(GENERATE)]
    assert got["sent_style_id"] == generated.fields["style_id"] == got["style_id"]
    assert "error" not in got["generate_message"].lower(), got["generate_message"]


def test_settings_check_token_says_whether_it_works_without_blocking(said):
    got = said[0].value["settings"]
    token = said[3]
    assert got["button"].replace("&", "") == "Check token"
    wrong, right = got["checks"]
    assert wrong["checking"] == right["checking"] == "Checking…"
    assert wrong["said"].startswith("Wrong token: Recraft refused it."), wrong
    assert right["said"].startswith("Token works: ") and "credits" in right["said"], right
    # The server sat on the right token's check (it refuses a wrong one at once).
    assert right["seconds"] >= CHECK_DELAY, right
    for check in (wrong, right):
        assert check["longest_gap"] is not None and check["longest_gap"] < 0.5, check
        assert check["enabled_after"]
        assert token not in check["said"] and "not-the-token" not in check["said"]
    checks = [r for r in said[1] if r.path.endswith(ME)]
    assert len(checks) >= 2


def test_screenshot_of_settings(said):
    shot = np.asarray(Image.open(said[0].out_dir / "settings-check.png").convert("RGB"))
    assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 30, "a blank picture"


def test_the_strip_keeps_the_newest_jobs_and_lets_the_rest_go(said):
    got = said[0].value["strip"]
    assert got["history"] == [False, True, True], got
    assert got["strip"] == 2, "the strip still shows a job it let go"
    assert got["let_go"] and got["notes_kept"]
