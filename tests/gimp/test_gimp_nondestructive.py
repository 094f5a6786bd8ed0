"""Non-destructive results in the real GIMP (issue 21): edges as layer masks, cut-outs that keep
the source's own pixels bit for bit, variations to flip through and keep, and a selection
that misses the layer refused before anything is sent. The checks are checks_nondestructive.py's;
one headless launch per version carries them, and one in GIMP's GUI presses Ctrl+Z as a user
does (GIMP's PDB has no Undo) and takes the README's screenshot of the Layers dialog."""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures_more import Screen, gimp_gui, wait_for, x_display, xvfb_display
from PIL import Image
from test_gimp_plugin import (
    BOX,
    CANVAS,
    ELLIPSE,
    FEATHER,
    GRADIENT,
    PREFIX,
    PROMPT,
    RECTANGLE,
    _checks,
    assert_succeeded,
    names,
    on_canvas,
    upload,
)

from recraft_server import render

pytestmark = pytest.mark.timeout(900)
FIXTURES = (gimp_gui, x_display, xvfb_display)  # for pytest, which finds them by name
ROOT = Path(__file__).resolve().parents[2]


def edges(procedure, args, shape, feather=0.0, image=GRADIENT) -> tuple:
    kw = {"procedure": PREFIX + procedure, "args": args, "image": image}
    return ("edge_masks", {**kw, "selection_shape": shape, "feather": feather})


# A canvas wider than Recraft's 4096 px: the selection's surroundings go up scaled down, and
# the result (and its mask) are scaled back up by GIMP.
WIDE = {"width": 4400, "height": 400, "box": [0, 0, 4400, 400], "square": [2000, 100, 400, 200]}
WIDE_SELECTION = ["rectangle", 300, 120, 3800, 160]
EDGES = {
    "inpaint_rectangle": edges("inpaint", {"prompt": PROMPT}, RECTANGLE),
    "inpaint_feathered": edges("inpaint", {"prompt": PROMPT}, ELLIPSE, FEATHER),
    "erase_ellipse": edges("erase-region", {}, ELLIPSE),
    "generate_background": edges("generate-background", {"prompt": PROMPT}, RECTANGLE),
    "inpaint_scaled": edges("inpaint", {"prompt": PROMPT}, WIDE_SELECTION, image=WIDE),
}
# Pictures whose pixels have more precision than 8 bits (checks_nondestructive.precise_picture).
DEPTHS = {
    "rgb-u8": {},
    "rgb-u16-linear": {"precision": "U16_LINEAR"},
    "rgb-float-linear": {"precision": "FLOAT_LINEAR"},
    "rgb-half-perceptual": {"precision": "HALF_PERCEPTUAL"},
    "gray-u16": {"base": "GRAY", "precision": "U16_NON_LINEAR"},
    "rgb-float-linear-no-alpha": {"precision": "FLOAT_LINEAR", "alpha": False},
    "rgb-u16-adobe-rgb": {"precision": "U16_NON_LINEAR", "profile": "adobe"},
    "rgb-u32-linear": {"precision": "U32_LINEAR"},
    "rgb-u32-perceptual": {"precision": "U32_PERCEPTUAL"},
    "rgb-double-linear": {"precision": "DOUBLE_LINEAR"},
}
AS_MASK = (
    "rgb-u16-linear", "rgb-float-linear-no-alpha", "gray-u16", "rgb-u32-linear",
    "rgb-double-linear",
)  # fmt: skip
CUTOUTS = {
    **{
        f"cutout[{depth}]": (
            "cutout",
            # Layer › Transparency's and Filters › Recraft's procedures, by turns.
            {"procedure": PREFIX + ("remove-background-layer" if i % 2 else "remove-background"),
             "image": image},
        )
        for i, (depth, image) in enumerate(DEPTHS.items())
    },
    **{
        f"as_mask[{depth}]": (
            "cutout",
            {"procedure": PREFIX + ("remove-background-layer-as-mask" if i % 2
                                    else "remove-background-as-mask"),
             "image": DEPTHS[depth]},
        )
        for i, depth in enumerate(AS_MASK)
    },
    "cutout_keeps_opacity_and_mode": (
        "cutout",
        {"procedure": PREFIX + "remove-background", "image": DEPTHS["rgb-u16-linear"],
         "opacity": 70.0, "mode": "MULTIPLY"},
    ),
}  # fmt: skip
MISSES = {
    f"misses[{name}]": ("misses_the_layer", {"procedure": PREFIX + name, "args": args})
    for name, args in (("inpaint", {"prompt": PROMPT}), ("erase-region", {}))
}
NONDESTRUCTIVE = {
    **EDGES,
    **CUTOUTS,
    "variations": ("variations_cycle", {"prompt": PROMPT}),
    **MISSES,
}


@pytest.fixture(scope="session")
def launch(gimp):
    return gimp.launch("nondestructive", _checks(NONDESTRUCTIVE))


def test_no_python_errors(launch):
    lines = launch.output.splitlines()
    found = [i for i, line in enumerate(lines) if "Traceback" in line]
    assert not found, "\n".join(lines[found[0] : found[0] + 30]) if found else ""


# -- edges as layer masks ---------------------------------------------------------------------


@pytest.mark.parametrize("case", [c for c in EDGES if c != "inpaint_scaled"])
def test_an_edge_comes_as_a_layer_mask_that_looks_as_the_baked_edge(launch, case):
    """The result covers the whole box that went up (the small canvas), unfaded, with the
    soft edge as its layer mask: the image shows exactly what the baked result (Settings:
    edge masks off) shows, pixel for pixel; the mask holds the baked alpha; painting the mask
    white shows the rest of the result."""
    check = launch.check(case)
    got = check.value
    masked, baked = got["masked"], got["baked"]
    for run in (masked, baked):
        assert run["call"]["status"] == "success", run["call"]
    result, flat = masked["layers"][0], baked["layers"][0]
    assert names(masked["layers"])[1:] == ["photo", "Background"]
    assert result["name"] == flat["name"]
    assert flat["mask"] is None, "edge masks off in Settings, yet a mask"
    assert result["mask"] is not None, "no layer mask on the result"
    assert (result["offsets"], result["size"]) == ([0, 0], list(CANVAS)), "not the sent box"
    assert result["mask_size"] == result["size"]
    mask = check.pixels(result["mask"])[..., 0]
    first, as_before = check.pixels(masked["composite"]), check.pixels(baked["composite"])
    assert (first == as_before).all(), "the first look is not the baked result's"
    baked_alpha = on_canvas(check, flat)[..., 3]
    assert (mask == baked_alpha).all(), "the mask is not the edge the result used to have"
    assert ((mask > 0) & (mask < 255)).any(), "no soft edge in the mask"
    pixels = check.pixels(result["pixels"])
    if case == "inpaint_feathered":  # the mask is the soft selection itself
        strength = check.pixels(got["masked"]["selection"])[..., 0]
        assert (mask == strength).all()
    painted = check.pixels(got["painted"])
    changed = (painted != first).any(axis=2)
    assert changed[mask < 255].any(), "painting the mask revealed nothing"
    assert not changed[mask == 255].any()
    opaque = pixels[..., 3] == 255
    assert (painted[opaque] == pixels[opaque]).all(), "the mask painted white shows the result"


def test_a_scaled_result_brings_its_mask_at_its_size(launch):
    """On a canvas wider than Recraft takes, the selection's surroundings go up scaled down:
    GIMP scales the result back up, and its mask with it."""
    check = launch.check("inpaint_scaled")
    masked, baked = check.value["masked"], check.value["baked"]
    assert masked["call"]["status"] == "success", masked["call"]
    sent = upload(check.sent("/images/inpaint"), "image")
    assert sent.shape[1] == 4096, "not sent scaled"
    result, flat = masked["layers"][0], baked["layers"][0]
    assert result["mask_size"] == result["size"] == [WIDE["width"], WIDE["height"]]
    size = (WIDE["width"], WIDE["height"])
    mask = check.pixels(result["mask"])[..., 0].astype(int)
    alpha = on_canvas(check, flat, size)[..., 3].astype(int)
    assert np.abs(mask - alpha).mean() < 2 and np.abs(mask - alpha).max() <= 64
    x, y, w, h = WIDE_SELECTION[1:]
    assert (mask[y + 8 : y + h - 8, x + 8 : x + w - 8] == 255).all()
    first, as_before = (check.pixels(r["composite"]).astype(int) for r in (masked, baked))
    assert np.abs(first - as_before).mean() < 1


# -- cut-outs that keep the source's pixels -----------------------------------------------------

DTYPES = {
    "u8": np.uint8, "u16": np.uint16, "u32": np.uint32,
    "f16": np.float16, "f32": np.float32, "f64": np.float64,
}  # fmt: skip
BITS = {"u8": np.uint8, "u16": np.uint16, "u32": np.uint32, "f16": np.uint16, "f32": np.uint32,
        "f64": np.uint64}  # fmt: skip


def native(check, entry) -> np.ndarray:
    """A native dump as (height, width, channels) samples of their own type."""
    fmt, (w, h) = entry["format"], entry["size"]
    data = (check.launch.work / entry["native"]["file"]).read_bytes()
    return np.frombuffer(data, DTYPES[fmt["sample"]]).reshape(h, w, fmt["channels"])


def recrafts_alpha(check) -> np.ndarray:
    """The alpha Recraft (the local server) answered with, from what it was sent."""
    sent = Image.open(io.BytesIO(check.sent("/images/removeBackground").files["image"][0].data))
    rgba = np.asarray(render.normalize(sent).convert("RGBA"))
    return np.where(render.background_mask(rgba), 0, 255).astype(np.uint8)


def in_depth(alpha: np.ndarray, sample: str) -> np.ndarray:
    """8-bit alpha as a sample of that kind means it."""
    if sample == "u8":
        return alpha
    if sample in ("u16", "u32"):
        top = np.iinfo(DTYPES[sample]).max
        return alpha.astype(DTYPES[sample]) * (top // 255)
    return (alpha.astype(np.float64) / 255).astype(DTYPES[sample])


def eight_bit(samples: np.ndarray, sample: str) -> np.ndarray:
    """Which samples an 8-bit value gives exactly (as much as survives a trip through 8
    bits, in the same curve)."""
    if sample in ("u16", "u32"):  # 8-bit m is m * 257, m * 16843009
        return samples % (np.iinfo(DTYPES[sample]).max // 255) == 0
    scaled = samples.astype(np.float64) * 255
    return np.abs(scaled - np.round(scaled)) < 1e-3


def same_bits(a: np.ndarray, b: np.ndarray, sample: str) -> bool:
    return np.array_equal(a.view(BITS[sample]), b.view(BITS[sample]))


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_cutout_keeps_every_colour_bit_and_takes_recrafts_alpha(launch, depth):
    """Remove background on a layer of more than 8 bits (16-bit, 32-bit, float and double,
    linear; half and 32-bit perceptual; grey; without an alpha channel; in Adobe RGB): the new
    layer's colour samples are the source's own, bit for bit, in its own format; only its
    alpha is Recraft's, in that format."""
    check = launch.check(f"cutout[{depth}]")
    assert_succeeded(check)
    got = check.value
    source, result = got["source"], got["result"]
    assert got["names"] == ["Recraft remove background", "photo", "Background"]
    assert (result["offsets"], result["size"]) == (list(BOX[:2]), list(BOX[2:]))
    assert result["mask"] is None
    fmt, own = result["format"], source["format"]
    assert fmt["sample"] == own["sample"] and fmt["has_alpha"], (fmt, own)
    assert fmt["channels"] == own["channels"] + (0 if own["has_alpha"] else 1)
    if DEPTHS[depth].get("profile"):
        assert "space" in fmt["name"], f"not in the image's own space: {fmt['name']}"
    before, after = native(check, source), native(check, result)
    colours = own["channels"] - (1 if own["has_alpha"] else 0)
    sample = fmt["sample"]
    assert same_bits(after[..., :colours], before[..., :colours], sample), "a colour changed"
    if sample != "u8":  # the source's colours hold more than 8 bits: a trip would show
        assert not eight_bit(before[..., :colours], sample).all()
    alpha = recrafts_alpha(check)
    assert (alpha == 0).any() and (alpha == 255).any()
    assert same_bits(after[..., colours], in_depth(alpha, sample), sample), "not Recraft's alpha"
    assert (native(check, got["source_after"]) == before).all(), "the source changed"


@pytest.mark.parametrize("depth", AS_MASK)
def test_a_cutout_as_a_mask_leaves_the_copy_untouched(launch, depth):
    """Remove background as mask: a copy of the layer, every sample as it was (an opaque
    alpha where the source had none), with Recraft's alpha as its layer mask."""
    check = launch.check(f"as_mask[{depth}]")
    assert_succeeded(check)
    got = check.value
    source, result = got["source"], got["result"]
    assert got["names"] == ["Recraft remove background", "photo", "Background"]
    assert (result["offsets"], result["size"]) == (list(BOX[:2]), list(BOX[2:]))
    before, after = native(check, source), native(check, result)
    own, sample = source["format"], result["format"]["sample"]
    colours = own["channels"] - (1 if own["has_alpha"] else 0)
    assert same_bits(after[..., :colours], before[..., :colours], sample)
    opaque = in_depth(np.full(before.shape[:2], 255, np.uint8), sample)
    assert same_bits(after[..., colours], opaque, sample), "the copy's alpha changed"
    assert result["mask"] is not None, "no layer mask"
    mask = check.pixels(result["mask"])[..., 0]
    assert (mask == recrafts_alpha(check)).all(), "the mask is not Recraft's alpha"


def test_a_cutout_keeps_the_sources_opacity_and_mode(launch):
    check = launch.check("cutout_keeps_opacity_and_mode")
    assert_succeeded(check)
    result = check.value["result"]
    assert (result["opacity"], result["mode"]) == (70.0, "multiply")


# -- variations ---------------------------------------------------------------------------------


def _visible(layers: list) -> list[bool]:
    return [child["visible"] for child in layers[0]["children"]]


def _without_visibility(layers: list) -> list:
    """The layers with the group's children's visibility left out."""
    group, *rest = layers
    children = [{k: v for k, v in c.items() if k != "visible"} for c in group["children"]]
    return [{**group, "children": children}, *rest]


def test_flipping_variations_changes_which_one_shows_and_nothing_else(launch):
    """Three results in a group, #1 on top and the only one showing. Next and Previous
    variation, on the group, on a variation, on a variation's layer mask: exactly one shows,
    wrapping round; nothing else of the image changes. On a layer in no group of
    variations: refused, saying what to select."""
    got = launch.check("variations").value
    assert got["generate"]["status"] == "success", got["generate"]
    name = f"Recraft generate: {PROMPT}"
    assert got["names"] == [f"{name} #{k} of 3" for k in (1, 2, 3)], "#1 not on top"
    steps = got["steps"]
    assert _visible(steps[0]["layers"]) == [True, False, False]
    showing = [_visible(step["layers"]).index(True) + 1 for step in steps]
    assert showing == [1, 2, 3, 1, 3, 2]
    for step in steps:
        assert sum(_visible(step["layers"])) == 1
        assert _without_visibility(step["layers"]) == _without_visibility(steps[1]["layers"])
    for step, shown in zip(steps[1:], showing[1:], strict=True):
        assert step["call"]["status"] == "success", step
        assert step["call"]["values"] == [f"Variation {shown} of 3"]
    for what, refused in got["refused"].items():
        assert refused["status"] == "execution-error", (what, refused)
        assert "“photo” is not in a group of variations" in refused["message"]
        assert "Select a group" in refused["message"]


def test_keeping_a_variation_leaves_that_layer_in_the_groups_place(launch):
    """Keep this variation: the group goes, the variation that showed takes its place and
    its name (without "#2 of 3"), with its pixels, offsets, mask, opacity and mode."""
    got = launch.check("variations").value
    assert got["keep"]["status"] == "success", got["keep"]
    name = f"Recraft generate: {PROMPT}"
    before = got["before_keep"][0]["children"]
    (shown,) = [child for child in before if child["visible"]]
    assert shown["name"] == f"{name} #2 of 3"
    after = got["after_keep"]
    assert names(after) == [name, "photo", "Background"]
    kept = after[0]
    assert not kept["group"] and kept["visible"]
    for key in ("digest", "offsets", "size", "mask_digest", "opacity", "mode"):
        assert kept[key] == shown[key], key
    assert (kept["opacity"], kept["mode"]) == (60.0, "multiply")
    assert got["selected"] == [name]


# -- a selection that misses the layer ----------------------------------------------------------


@pytest.mark.parametrize("operation", ["inpaint", "erase-region"])
def test_a_selection_missing_the_layer_is_refused_before_anything_is_sent(launch, operation):
    check = launch.check(f"misses[{operation}]")
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    message = call["message"]
    assert "covers no pixels of the layer “photo”" in message, message
    assert "pick the layer to repaint" in message and "Krita" not in message, message
    assert check.requests == [], f"sent anyway: {check.paths()}"
    assert names(check.value["layers"]) == ["photo", "Background"]


# -- one Undo, in GIMP's GUI ---------------------------------------------------------------------

UNDO = {
    "inpaint": {"procedure": PREFIX + "inpaint", "args": {"prompt": PROMPT},
                "image": GRADIENT, "selection_shape": ELLIPSE, "feather": FEATHER},
    "cutout": {"procedure": PREFIX + "remove-background-layer",
               "precise": DEPTHS["rgb-u16-linear"]},
    "as_mask": {"procedure": PREFIX + "remove-background-as-mask"},
    "next": {"procedure": PREFIX + "next-variation", "on": "group",
             "setup": [PREFIX + "generate", {"prompt": PROMPT, "n": 3}]},
    "keep": {"procedure": PREFIX + "keep-variation", "on": "group",
             "setup": [PREFIX + "generate", {"prompt": PROMPT, "n": 3}]},
}  # fmt: skip
SHOTS = ("layer-mask", "variations", "next-variation")


def _undoer(screen: Screen, folder: Path, seen: dict, stop: threading.Event, widen: bool) -> None:
    """The user: Ctrl+Z in GIMP's window once each undo check says it is done (its marker),
    and GIMP's window grabbed at each stage of the screenshots check (with the docks
    widened first, where `widen`)."""
    try:
        for name in UNDO:
            marker = folder / name
            wait_for(marker, 300, stop)
            screen.key(window_id(screen), "ctrl+z")
            time.sleep(1.5)
            Path(f"{marker}.undone").write_text("")
        for k, _ in enumerate(SHOTS, 1):
            wait_for(folder / f"shown.{k}", 300, stop)
            window = screen.window("GIMP$", timeout=30, gone=stop)
            box = screen.geometry(window)
            if k == 1 and widen:
                _widen_the_docks(screen, box)
            time.sleep(2.5)
            seen[k] = screen.grab(box)
    except Exception as e:
        shown = [screen.xdotool("getwindowname", w).strip() for w in
                 screen.xdotool("search", "--onlyvisible", "--name", ".").split()]  # fmt: skip
        seen["error"] = f"{e!r}; windows shown: {shown}"
        for name in UNDO:  # GIMP's checks go on (and fail) rather than wait for it
            Path(f"{folder / name}.undone").write_text("")


def window_id(screen: Screen) -> str:
    return screen.window("GIMP$", timeout=30)


def _widen_the_docks(screen: Screen, box) -> None:
    """Drag the handle between the canvas and the docks on the right (the Layers dialog)
    to the left, as a user does to read the layers' names: on GIMP 3.0's fresh profile the
    docks are about 235 px wide, too narrow for them (3.2 lays its docks out otherwise)."""
    x, y, w, h = box
    handle = x + w - 236, y + h // 2
    screen.xdotool("mousemove", *handle, "sleep", "0.3", "mousedown", 1, "sleep", "0.3")
    screen.xdotool("mousemove", handle[0] - 120, handle[1], "sleep", "0.3")
    screen.xdotool("mousemove", handle[0] - 220, handle[1], "sleep", "0.3", "mouseup", 1)
    screen.key(window_id(screen), "shift+ctrl+j")  # View › Zoom › Fit Image in Window


@pytest.fixture(scope="session")
def undone(gimp_gui, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"{gimp_gui.editor}-undo")
    checks = [
        (name, "undo_one", {**args, "marker": str(folder / name)}) for name, args in UNDO.items()
    ]
    checks.append(
        ("shown", "shown", {"marker": str(folder / "shown"), "prompt": PROMPT, "holds": len(SHOTS)})
    )
    seen, stop = {}, threading.Event()
    widen = gimp_gui.editor.version.startswith("3.0")  # where the README's screenshot is
    args = (Screen(gimp_gui.display), folder, seen, stop, widen)
    user = threading.Thread(target=_undoer, args=args, daemon=True)
    user.start()
    try:
        launch = gimp_gui.launch("undo", checks)
    finally:
        stop.set()
        user.join(60)
    shots = {}
    for k, name in enumerate(SHOTS, 1):
        if k in seen:
            shots[name] = folder / f"gimp-{name}.png"
            Image.fromarray(seen[k]).save(shots[name])
    return launch, seen, shots


@pytest.mark.parametrize("case", UNDO)
def test_one_undo_takes_the_whole_change_away(undone, case):
    """One Ctrl+Z after an inpaint (the result and its mask), a cut-out, a flip, a keep: the
    image's layers are as they were before it, pixels, masks and visibility."""
    launch, seen, _ = undone
    assert "error" not in seen, seen["error"]
    got = launch.check(case).value
    assert got["call"]["status"] == "success", got["call"]
    assert got["after"] != got["before"], "the procedure changed nothing"
    assert got["undone"] == got["before"], "one undo did not take it all away"


def test_screenshot_of_a_result_with_its_mask(undone, gimp_gui):
    """GIMP's window with the Layers dialog: the inpainted result and its layer mask; then a
    group of three variations, #1 showing, and after Next variation, #2."""
    launch, seen, shots = undone
    assert "error" not in seen, seen["error"]
    got = launch.check("shown").value
    assert got["inpaint"]["status"] == "success", got["inpaint"]
    assert got["next-variation"]["status"] == "success", got["next-variation"]
    for name, shot in shots.items():
        pixels = np.asarray(Image.open(shot).convert("RGB"))
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500, name
    first, flipped = (np.asarray(Image.open(shots[n])) for n in SHOTS[1:])
    assert (first != flipped).any(axis=2).mean() > 0.05, "flipping showed nothing else"
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and gimp_gui.editor.version.startswith("3.0"):
        for name in ("layer-mask", "next-variation"):  # the README's
            shutil.copy(shots[name], ROOT / "docs" / "screenshots" / shots[name].name)
