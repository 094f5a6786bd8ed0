"""Non-destructive results in the real Krita (issue 21): a soft edge as a transparency mask
(first look as the baked one), a removed background that keeps the source's own pixels in
U16, F32, CMYK and Lab documents, the same as a mask on a copy, and variations with only #1
showing. One launch per Krita version (payloads_nondestructive.nondestructive).
RECRAFT_SCREENSHOTS=1 copies the Layers docker with the result and its mask (Krita 5.2) to
docs/screenshots/krita-mask.png.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from krita_harness import Stories
from PIL import Image

pytestmark = pytest.mark.timeout(600)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SHOT = "krita-mask.png"
W, H = 400, 320
BOX = (40, 30, 300, 260)
MASKS = {
    "width": 320,
    "height": 256,
    "box": (30, 20, 260, 220),
    "selection": (110, 88, 100, 80),
    "feather": 12,
}
CUTOUTS = [
    {
        "model": m,
        "depth": d,
        "profile": "",
        "width": W,
        "height": H,
        "box": BOX,
        "square": (100, 80, 120, 90),
    }
    for m, d in (("RGBA", "U16"), ("RGBA", "F32"), ("CMYKA", "U8"), ("LABA", "U16"))
]


@pytest.fixture
def run(once, new_krita) -> Stories:
    return once(
        "nondestructive",
        lambda: Stories(
            new_krita("nondestructive").launch(
                "nondestructive",
                {"masks": MASKS, "cutouts": CUTOUTS, "variations": {"width": 320, "height": 256}},
                HERE / "payloads_nondestructive.py",
            ),
            [],
        ),
    )


def test_nothing_raised(run):
    assert run.result.errors == [], "exceptions in Krita:\n" + "\n".join(run.result.errors)
    assert run.result.plugin_stderr() == [], "Krita's stderr reports trouble"


def test_a_soft_edge_comes_as_a_transparency_mask_with_the_baked_first_look(run):
    got = run.story("masks")
    assert got["baked_children"] == []
    if not got["can_mask"]:  # Krita 5.1: its Python makes no mask with pixels; baked as before
        assert got["children"] == [] and got["look"] == got["baked_look"]
        pytest.skip(f"{run.result.krita} makes no transparency mask with pixels from Python")
    assert got["children"] == [["Recraft edge", "transparencymask"]]
    assert got["look"] == got["baked_look"], "the first look differs from the baked result"
    assert got["mask_is_baked_alpha"], "the mask is not the alpha the baked result has"
    assert got["mask_nonzero"] > 0 and got["mask_where_selected"]
    assert got["layer_alpha_full"] == 255, "the layer's own alpha was faded too"
    assert got["painted"] != got["look"], "painting the mask changed nothing"


def test_one_undo_removes_the_result_and_its_mask(run):
    got = run.story("masks")
    assert "Recraft inpaint: a straw hat" in got["names_before_undo"]
    assert got["names_after_undo"] == [
        n for n in got["names_before_undo"] if not n.startswith("Recraft")
    ]


@pytest.mark.parametrize("space", [f"{c['model']}-{c['depth']}" for c in CUTOUTS])
def test_remove_background_keeps_the_sources_own_pixels(run, space):
    got = run.story(f"cutout-{space}")
    model, depth = space.split("-")
    if "mask" not in got:  # Krita 5.1: no mask variant to compare the alpha with
        assert not got["can_mask"]
        assert got["colour_same_shown"] and got["space"] == [model, depth]
        pytest.skip("Recraft's alpha is compared with the mask variant's, which needs Krita 5.2")
    assert got["space"] == [model, depth]
    # Bit for bit wherever the cut-out shows; Krita 5.2 and later store fully transparent
    # CMYK and Lab pixels with colours of their own (alpha 0: nothing of them shows).
    assert got["colour_same_shown"], f"a colour byte of the source changed: {got['differ']}"
    mask = np.array(got["mask"], dtype=np.float64).reshape(H, W)
    cut = np.array(got["cut_alpha"], dtype=np.float64).reshape(H, W)
    x, y, w, h = BOX
    mask, cut = mask[y : y + h, x : x + w], cut[y : y + h, x : x + w]
    scale = {"U8": 1, "U16": 257, "F32": 1 / 255}[depth]
    assert np.allclose(cut, mask * scale, atol=1e-6 if depth == "F32" else 0)
    assert mask.min() == 0 and mask.max() == 255, "Recraft's alpha should cut something out"


@pytest.mark.parametrize("space", [f"{c['model']}-{c['depth']}" for c in CUTOUTS])
def test_remove_background_as_a_mask_is_a_copy_with_recrafts_alpha(run, space):
    got = run.story(f"cutout-{space}")
    if not got["can_mask"]:
        assert "copy_name" not in got and "Krita 5.2 or later" in got["message"], got
        return
    assert got["copy_name"] == "Recraft remove background"
    assert got["copy_same"], "the copy's pixels differ from the source's"
    assert got["copy_masks"] == 1


def test_variations_come_with_only_the_first_showing(run):
    got = run.story("variations")
    assert got["groups"] == 1
    assert [n.split(" #")[-1] for n in got["names"]] == ["1 of 3", "2 of 3", "3 of 3"]
    assert got["visible"] == [True, False, False]
    assert got["changed"], "the first variation does not change the image"
    assert got["shown_is_composed"], "the canvas does not show the group until redrawn"


def test_screenshot_of_a_result_with_its_mask(run, editor):
    got = run.story("masks")
    if not got["can_mask"]:
        pytest.skip("no mask in Krita 5.1")
    assert got["screenshot"]
    image = Image.open(run.result.out_dir / SHOT)
    assert image.width > 150
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and editor.version.startswith("5.2"):
        target = ROOT / "docs" / "screenshots" / SHOT
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run.result.out_dir / SHOT, target)
