"""Variations in the real Krita (issue 21): Tools › Recraft › Next variation, Previous
variation and Keep this variation, triggered as Krita actions (as a shortcut does) on a group
of three variations named as the core names them, #1 on top and the only one showing.

One launch per Krita version runs the whole story (payloads_variations.variations_story);
each test checks one part of what it reported. RECRAFT_SCREENSHOTS=1 copies the Layers
docker after Next variation (Krita 5.1) to docs/screenshots/krita-variations.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from recraft_core.workflow import variations

pytestmark = pytest.mark.timeout(420)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
NAME = "Recraft generate: a lighthouse at dusk"
BOX = (60, 40, 240, 180)  # where the variations' pixels sit: a layer offset
SHOT = "krita-variations.png"
STORY = {
    "width": 360,
    "height": 260,
    "box": BOX,
    "name": NAME,
    "screenshot_name": SHOT,
}
OUTSIDE = (
    "“photo” is not in a group of variations. Select a group of Recraft results whose layers "
    "are named “… #1 of 3”, or one of its layers."
)


@pytest.fixture
def story(once, new_krita):
    """The story's report, run once per Krita version however pytest orders the tests."""
    return once(
        "variations",
        lambda: new_krita("variations").launch(
            "variations_story", STORY, HERE / "payloads_variations.py"
        ),
    )


def visible_of(state) -> list[bool]:
    return state["visible"]


def without_visibility(tree) -> list:
    """The layer tree with every layer's visibility left out: what must not change."""
    return [
        {
            **{k: v for k, v in layer.items() if k != "visible"},
            "children": without_visibility(layer["children"]),
        }
        for layer in tree
    ]


def group(state) -> dict:
    found = [layer for layer in state["tree"] if layer["name"] == NAME]
    assert len(found) == 1, [layer["name"] for layer in state["tree"]]
    return found[0]


def test_nothing_raised_and_krita_says_nothing(story):
    assert story.errors == [], "exceptions in Krita:\n" + "\n".join(story.errors)
    assert story.plugin_stderr() == [], "Krita's stderr reports trouble"


def test_next_and_previous_flip_which_variation_shows_wrapping_round(story):
    got = story.value
    assert got["active_group"], "could not make the group the active layer"
    steps = [(s["step"], visible_of(s)) for s in got["flips"]]
    # Children by number: #1, #2, #3 (#1 on top).
    assert steps == [
        ("start", [True, False, False]),
        ("next", [False, True, False]),
        ("next", [False, False, True]),
        ("next", [True, False, False]),  # wraps to #1
        ("previous", [False, False, True]),  # wraps back to #3
        ("previous", [False, True, False]),
    ]
    # In the Layers docker too: the group's rows, top first, say the same.
    for state in got["flips"]:
        rows = group(state)["children"]
        assert [row["name"] for row in rows] == [variations.label(NAME, k, 3) for k in range(3)]
        assert [row["visible"] for row in rows] == state["visible"]


def test_a_flip_says_which_variation_shows_over_the_canvas(story):
    assert "Variation 2 of 3" in story.value["floating_after_next"]


def test_flipping_changes_nothing_else(story):
    """Names, order, ids, pixels, masks, offsets, opacity, blend modes of every layer, the
    group and the photo below: all as they were. Nothing goes into Krita's history."""
    flips = story.value["flips"]
    first = flips[0]
    for state in flips[1:]:
        assert without_visibility(state["tree"]) == without_visibility(first["tree"])
        assert group(state)["visible"] is True
        assert [layer["visible"] for layer in state["tree"]] == [
            layer["visible"] for layer in first["tree"]
        ]
        assert state["rows"] == first["rows"], "a flip went into the undo history"


def test_the_canvas_shows_the_variation_that_is_visible(story):
    """After each flip the image shows exactly what Krita composes with that variation alone
    showing (the canvas was refreshed)."""
    got = story.value
    shows = got["shows"]
    assert len(set(shows.values())) == 3, "the three variations should look different"
    for state in got["flips"]:
        assert state["canvas"] == shows[str(state["visible"].index(True))], state["step"]


def test_flipping_from_a_variation_or_its_mask_flips_its_group(story):
    got = story.value
    assert got["active_variation"] and got["active_mask"], "could not make them active"
    assert visible_of(got["from_variation"]) == [False, False, True]  # #2 -> #3
    assert visible_of(got["from_mask"]) == [False, True, False]  # #3 -> #2
    for state in (got["from_variation"], got["from_mask"]):
        assert without_visibility(state["tree"]) == without_visibility(got["flips"][0]["tree"])
        assert state["canvas"] == got["shows"][str(state["visible"].index(True))]


def test_a_burst_of_flips_lands_every_flip(story):
    """Next twice, then Previous twice, each pair without a pass of the event loop between
    (a held shortcut): #2 -> #1 (wrapping) -> #2, the canvas right after each pair."""
    got = story.value
    for state, visible in (
        (got["burst_next"], [True, False, False]),
        (got["burst_previous"], [False, True, False]),
    ):
        assert visible_of(state) == visible
        assert state["canvas"] == got["shows"][str(visible.index(True))]
        assert state["rows"] == got["flips"][0]["rows"]


def test_outside_a_group_of_variations_it_says_so_in_words(story):
    got = story.value
    assert got["active_photo"], "could not make the photo layer active"
    outside = got["outside"]
    assert outside["message"] == OUTSIDE
    assert OUTSIDE in outside["floating"]
    assert got["outside_keep"]["message"] == OUTSIDE
    for after in (outside["after"], got["outside_keep"]["after"]):
        assert after["tree"] == outside["before"]["tree"]
        assert after["rows"] == outside["before"]["rows"]


def test_the_dockers_buttons_show_in_a_group_of_variations_and_flip_it(story):
    """variations.Buttons, for the docker: ◀ ▶ Keep, hidden while the active layer is outside
    a group of variations (and once the group is kept), shown inside, flipping as the actions
    do."""
    got = story.value
    assert got["bar_texts"] == ["◀", "▶", "Keep"]
    assert (got["bar_outside"], got["bar_in_group"]) == (False, True)
    assert visible_of(got["bar_next"]) == [False, False, True]
    assert visible_of(got["bar_previous"]) == [False, True, False]
    assert got["bar_after_keep"] is False


def test_a_locked_group_is_not_kept(story):
    got = story.value
    locked = got["locked_keep"]
    assert locked["message"] == f"“{NAME}” is locked: unlock it to keep one of its variations."
    assert (
        without_visibility(locked["after"]["tree"])[0]["children"]
        == without_visibility(got["bar_previous"]["tree"])[0]["children"]
    )
    assert locked["after"]["rows"] == got["bar_previous"]["rows"]


def test_keep_leaves_the_visible_variation_in_the_groups_place(story):
    """#2 showing, Keep this variation: one layer where the group was, named without "#2 of
    3", with #2's pixels, offset, opacity, blend mode and its mask; the photo untouched."""
    got = story.value
    assert got["active_group_again"], "could not make the group active"
    before, after = got["before_keep"], got["after_keep"]
    assert visible_of(before) == [False, True, False]
    kept_from = group(before)["children"][1]
    assert [layer["name"] for layer in after["tree"]] == [NAME, "photo", "Background"]
    kept = after["tree"][0]
    assert kept["type"] == "paintlayer" and kept["visible"] is True
    for key in ("position", "bounds", "opacity", "blending", "pixels"):
        assert kept[key] == kept_from[key], key
    assert (kept["opacity"], kept["blending"]) == (200, "multiply")
    assert kept["pixels"] == got["kept_source"]["pixels"]
    mask = kept["children"]
    assert [(m["name"], m["type"]) for m in mask] == [("edge", "transparencymask")]
    assert mask[0]["pixels"] == kept_from["children"][0]["pixels"]
    assert after["tree"][1:] == before["tree"][1:], "the layers beside the group changed"
    assert got["active_after_keep"] == NAME
    assert got["keep_message"] == f"Kept “{variations.label(NAME, 1, 3)}” as “{NAME}”."


def test_keep_is_two_undo_steps_and_undo_brings_the_group_back(story):
    """Krita's Python has no undo grouping: Keep is "Add Layer" (the kept copy above the
    group) then "Remove Layer" (the group). One Undo brings the group back as it was, the copy
    still above it; a second takes the copy away, and all is as before Keep."""
    got = story.value
    before = got["before_keep"]
    rows = before["rows"]
    assert got["after_keep"]["rows"][: len(rows)] == rows
    added = got["after_keep"]["rows"][len(rows) :]
    assert added == ["Add Layer", "Remove Layer"], added
    once = got["undone_once"]
    assert [layer["name"] for layer in once["tree"]] == [NAME, NAME, "photo", "Background"]
    assert once["tree"][0]["type"] == "paintlayer"  # the kept copy, still there
    assert once["tree"][1] == group(before), "the group did not come back as it was"
    assert once["tree"][2:] == before["tree"][1:]
    twice = got["undone_twice"]
    assert twice["tree"] == before["tree"]
    assert twice["canvas"] == before["canvas"]


def test_screenshot_of_the_layers_docker_after_next_variation(story, editor):
    got = story.value["screenshot"]
    shot = story.out_dir / SHOT
    image = Image.open(shot)
    assert list(image.size) == got["layers"]
    assert image.width >= 300 and image.height >= 200, image.size
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 100, "a blank docker"
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and editor.version.startswith("5.1"):
        target = ROOT / "docs" / "screenshots" / SHOT
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)
