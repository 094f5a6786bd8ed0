"""The GIMP 3 plug-in in the real GIMP, called through the PDB as scripts call it, against the
local server. Three launches per GIMP version carry every check (see conftest.py): one with the
right token, one with a wrong token, one whose result files come back broken. The checks
themselves are in gimp_checks.py; here is what they must find."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from recraft_core.api import forms
from recraft_core.workflow.job import Options

# The first test of a version builds the plug-in folder and starts GIMP cold.
pytestmark = pytest.mark.timeout(600)

PREFIX = "plug-in-recraft-"
OPERATIONS = (
    "generate", "image-to-image", "inpaint", "outpaint", "replace-background",
    "generate-background", "erase-region", "remove-background", "crisp-upscale",
    "creative-upscale", "vectorize", "remix", "explore", "explore-similar", "create-style",
    "enhance-prompt",
)  # fmt: skip
PROCEDURES = [PREFIX + name for name in (*OPERATIONS, "remove-background-layer", "settings")]

# The picture every check starts from (gimp_checks.picture): a 400x320 canvas, a white
# Background, and a 300x260 "photo" layer at (40, 30), flat grey with a red 120x90 square at
# (100, 80) of its own pixels. Sizes over Recraft's 256 px minimum, so nothing is rescaled.
CANVAS = (400, 320)
BOX = (40, 30, 300, 260)
SQUARE = (100, 80, 120, 90)
GREY, RED = (128, 128, 128), (220, 30, 30)
PROMPT = "a straw hat"
RECTANGLE = ["rectangle", 150, 120, 60, 50]  # canvas pixels, inside the photo layer
ELLIPSE = ["ellipse", 130, 100, 130, 100]
FEATHER = 24.0
GRADIENT = {"fill": "gradient"}  # every pixel differs: a misplaced read or result shows

DEPTHS = {
    "rgb-u16-linear": {"base": "RGB", "precision": "U16_LINEAR"},
    "rgb-float-linear": {"base": "RGB", "precision": "FLOAT_LINEAR"},
    "gray-u8": {"base": "GRAY", "background": GREY, "colour": (40, 40, 40)},
    "gray-u16-linear": {
        "base": "GRAY", "precision": "U16_LINEAR", "background": GREY, "colour": (40, 40, 40)
    },
    "rgb-float-perceptual": {"base": "RGB", "precision": "FLOAT_NON_LINEAR"},
    "indexed": {"indexed": True},
    # A layer without an alpha channel (a photo opened in GIMP is one): read as RGB.
    "rgb-no-alpha": {"alpha": False},
    "gray-no-alpha": {"base": "GRAY", "alpha": False, "background": GREY, "colour": (40, 40, 40)},
}  # fmt: skip
# Where users find results misplaced: a source inside a layer group; one hanging off the canvas.
OFF_CANVAS = {"box": [-50, -40, 400, 340]}
PLACES = {"in-a-group": {"group": "folder"}, "off-the-canvas": OFF_CANVAS}
NEEDS_SELECTION = {"inpaint": {"prompt": PROMPT}, "erase-region": {}}
# Over 16 MP: only the selection and its context go up (see test_large_canvas_sends_a_crop).
LARGE = {
    "width": 5000,
    "height": 4000,
    "box": [2000, 1600, 800, 600],
    "square": [300, 200, 200, 200],
}
LARGE_SELECTION = ["rectangle", 2350, 1850, 100, 80]


def operate(procedure, args=None, **kw) -> tuple:
    return ("operate", {"procedure": PREFIX + procedure, "args": args or {}, **kw})


MAIN = {
    "registered": ("registered", {"names": PROCEDURES}),
    "remove_background": operate("remove-background"),
    "remove_background_layer": operate("remove-background-layer"),
    **{
        f"remove_background[{depth}]": operate("remove-background", image=image)
        for depth, image in {**DEPTHS, **PLACES}.items()
    },
    "inpaint_rectangle": operate(
        "inpaint", {"prompt": PROMPT}, image=GRADIENT, selection_shape=RECTANGLE,
        with_composite=True,
    ),
    "inpaint_ellipse": operate(
        "inpaint", {"prompt": PROMPT}, image=GRADIENT, selection_shape=ELLIPSE,
        with_composite=True,
    ),
    "inpaint_feathered": operate(
        "inpaint", {"prompt": PROMPT}, image=GRADIENT, selection_shape=ELLIPSE,
        feather=FEATHER, with_composite=True,
    ),
    **{f"no_selection[{name}]": operate(name, args) for name, args in NEEDS_SELECTION.items()},
    "generate_two": operate("generate", {"prompt": PROMPT, "n": 2}),
    "generate_controls": operate(
        "generate",
        {"prompt": PROMPT, "model": "recraftv3", "controls-artistic-level": "3",
         "controls-colors": "#ff8800, #2040c0", "random-seed": 7, "size": "1024x1024"},
    ),
    "vectorize": operate("vectorize"),
    "crisp_upscale": operate("crisp-upscale"),
    "large_inpaint": operate(
        "inpaint", {"prompt": PROMPT}, image=LARGE, selection_shape=LARGE_SELECTION
    ),
    # GIMP selects a layer's mask after Add Layer Mask: the layer is meant.
    "remove_background_on_mask": operate(
        "remove-background", image={"mask": True}, drawables="mask"
    ),
    # From the menu (INTERACTIVE) with nothing selected: said before any dialog opens (this
    # GIMP has no display: a dialog could not open at all).
    **{
        f"no_selection_from_menu[{name}]": operate(name, args, run_mode="INTERACTIVE")
        for name, args in NEEDS_SELECTION.items()
    },
    # Filters › Recraft › Repeat runs with the last values, and no dialog: what came back is
    # shown, not only returned.
    "improve_prompt_from_menu": operate(
        "enhance-prompt", {"prompt": PROMPT}, drawables=None, run_mode="WITH_LAST_VALS"
    ),
    "create_style_from_menu": operate(
        "create-style", image=OFF_CANVAS, run_mode="WITH_LAST_VALS"
    ),
    # With no image open: the results open as one new image (a group for several).
    "generate_no_image": operate("generate", {"prompt": PROMPT, "n": 2}, no_image=True),
    "generate_vector_no_image": operate(
        "generate", {"prompt": PROMPT, "model": "recraftv4_1_vector"}, no_image=True
    ),
    "insert_rollback[layers]": ("insert_rollback", {"kind": "layers"}),
    "insert_rollback[vectors]": ("insert_rollback", {"kind": "vectors"}),
}  # fmt: skip
FAILING = {
    "inpaint": operate("inpaint", {"prompt": PROMPT}, selection_shape=RECTANGLE),
    "generate_two": operate("generate", {"prompt": PROMPT, "n": 2}),
    "remove_background": operate("remove-background"),
}
# The broken launch: the first two result files are not images. Inpaint's one, then the
# first of generate's two: the second is fine, and nothing of it may show either.
BROKEN_FILES = {"kind": "body", "path": "/files/", "times": 2, "body": b"this is not an image"}
# And Recraft failing outright on erase region, as often as the client retries.
SERVER_ERROR = {"kind": "status", "status": 500, "path": "/images/eraseRegion", "times": 20}
# Recraft sitting on an answer long enough for the progress bar's Cancel (see "cancelled").
SLOW_ANSWER = {"kind": "delay", "seconds": 10, "path": "/images/replaceBackground"}


def _checks(table: dict) -> list[tuple]:
    return [(name, call, args) for name, (call, args) in table.items()]


@pytest.fixture(scope="session")
def main_launch(gimp):
    return gimp.launch("main", _checks(MAIN))


@pytest.fixture(scope="session")
def refused_launch(gimp):
    return gimp.launch("wrong-token", _checks(FAILING), token="wrong")


@pytest.fixture(scope="session")
def broken_launch(gimp):
    table = {k: v for k, v in FAILING.items() if k != "remove_background"}
    table["server_error"] = operate("erase-region", selection_shape=RECTANGLE)
    table["cancelled"] = operate("replace-background", {"prompt": PROMPT}, kill_after=3.0)
    faults = [BROKEN_FILES, SERVER_ERROR, SLOW_ANSWER]
    return gimp.launch("broken-results", _checks(table), faults=faults)


# -- helpers ----------------------------------------------------------------------------------


def shape(tree: list[dict]) -> list[dict]:
    """A layer tree without its pixel and mask dumps, to compare structure."""
    out = []
    for node in tree:
        node = {k: v for k, v in node.items() if k not in ("pixels", "mask")}
        if "children" in node:
            node["children"] = shape(node["children"])
        out.append(node)
    return out


def names(tree: list[dict]) -> list[str]:
    return [node["name"] for node in tree]


def nodes(tree: list[dict]):
    for node in tree:
        yield node
        yield from nodes(node.get("children", []))


def layer(tree: list[dict], name: str) -> dict:
    """The one layer of that name, in groups too."""
    found = [node for node in nodes(tree) if node["name"] == name]
    assert len(found) == 1, f"{len(found)} layers named {name!r} in {names(tree)}"
    return found[0]


def on_canvas(check, node: dict, size=CANVAS) -> np.ndarray:
    """A layer's pixels where they sit on the canvas; transparent elsewhere."""
    out = np.zeros((size[1], size[0], 4), np.uint8)
    (x, y), pixels = node["offsets"], check.pixels(node["pixels"])
    h, w = pixels.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(size[0], x + w), min(size[1], y + h)
    out[y0:y1, x0:x1] = pixels[y0 - y : y1 - y, x0 - x : x1 - x]
    return out


def shown_alpha(check, node: dict, size=CANVAS) -> np.ndarray:
    """A layer's alpha where it sits on the canvas, times its layer mask where it has one
    (a mask operation's soft edge comes as one): how much of it shows."""
    alpha = on_canvas(check, node, size)[..., 3].astype(int)
    if node.get("mask") is None:
        return alpha
    mask = on_canvas(check, {**node, "pixels": node["mask"]}, size)[..., 0].astype(int)
    return (alpha * mask + 127) // 255


def box_mask(box, pad=0, size=CANVAS) -> np.ndarray:
    """True inside box (x, y, w, h) grown by pad on every side, clipped to the canvas."""
    x, y, w, h = box
    mask = np.zeros((size[1], size[0]), bool)
    mask[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad] = True
    return mask


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Every pixel within Chebyshev distance `radius` of a True one (a square dilation)."""
    h, w = mask.shape
    padded = np.pad(mask, radius)
    rows = np.zeros((h + 2 * radius, w), bool)
    for dx in range(2 * radius + 1):
        rows |= padded[:, dx : dx + w]
    out = np.zeros((h, w), bool)
    for dy in range(2 * radius + 1):
        out |= rows[dy : dy + h]
    return out


def upload(record, name: str) -> np.ndarray:
    data = record.files[name][0].data
    assert data, f"the server dropped the bytes of {name}"
    return np.asarray(Image.open(io.BytesIO(data)))


def photo_pixels(check, when: str = "before") -> np.ndarray:
    return check.pixels(layer(check.value[when]["layers"], "photo")["pixels"])


def assert_sent_the_canvas(check, sent) -> None:
    """A small canvas goes up whole: the layer's pixels where they sit, transparent around."""
    image = upload(sent, "image")
    photo = on_canvas(check, layer(check.value["before"]["layers"], "photo"))
    assert image.shape == (CANVAS[1], CANVAS[0], 4), "not the canvas, transparent off the layer"
    assert (image == photo).all(), "not the layer's pixels at their place on the canvas"


def assert_succeeded(check) -> None:
    call = check.value["call"]
    assert call["status"] == "success", f"{check.name}: {call['message']}\n{check.paths()}"


def assert_nothing_added(check) -> None:
    got = check.value
    assert shape(got["after"]["layers"]) == shape(got["before"]["layers"])
    assert got["after"]["paths"] == got["before"]["paths"]
    assert got["opened"] == [], "the plug-in left an image behind"
    for before, after in zip(got["before"]["layers"], got["after"]["layers"], strict=True):
        assert (check.pixels(before["pixels"]) == check.pixels(after["pixels"])).all()


def assert_source_untouched(check) -> None:
    got = check.value
    before, after = got["before"]["layers"], got["after"]["layers"]
    assert shape(after)[-2:] == shape(before), f"{names(after)} after {names(before)}"
    assert (photo_pixels(check, "after") == photo_pixels(check)).all(), "the source changed"
    assert got["opened"] == [], "the plug-in left an image behind (a scratch image?)"


# -- registration -----------------------------------------------------------------------------


def test_procedures_registered(main_launch):
    got = main_launch.check("registered").value
    missing = [name for name, found in got.items() if not found]
    assert missing == [], f"not registered: {missing}\n{main_launch.tail()}"


LAUNCHES = ("main_launch", "refused_launch", "broken_launch")


@pytest.mark.parametrize("launch", LAUNCHES)
def test_no_python_errors(gimp, request, launch):
    """The plug-in prints a traceback only for a failure it did not expect: a bug."""
    lines = request.getfixturevalue(launch).output.splitlines()
    found = [i for i, line in enumerate(lines) if "Traceback" in line]
    assert not found, "\n".join(lines[found[0] : found[0] + 30]) if found else ""


# -- remove background ------------------------------------------------------------------------


@pytest.mark.parametrize("check", ["remove_background", "remove_background_layer"])
def test_remove_background_on_offset_layer(main_launch, check):
    """A layer smaller than the canvas and offset on it: its own pixels go up, the result is
    a new layer right above it, at its place, transparent where the background was."""
    check = main_launch.check(check)
    assert_succeeded(check)
    sent = check.sent("/images/removeBackground")
    source = photo_pixels(check)
    assert (upload(sent, "image")[..., :3] == source[..., :3]).all(), "not the layer's pixels"

    after = check.value["after"]["layers"]
    assert names(after) == ["Recraft remove background", "photo", "Background"]
    assert_source_untouched(check)
    new = after[0]
    assert (new["offsets"], new["size"]) == (list(BOX[:2]), list(BOX[2:]))
    assert new["type"] == "rgba-image"
    pixels = check.pixels(new["pixels"])
    red = box_mask(SQUARE, size=BOX[2:])
    assert (pixels[..., 3] == np.where(red, 255, 0)).all(), "alpha is not the red square"
    assert (pixels[red][:, :3] == RED).all()


@pytest.mark.parametrize("depth", DEPTHS)
def test_remove_background_other_depths(main_launch, depth):
    """16-bit and 32-bit float (linear and perceptual), grayscale, indexed: read as 8-bit
    sRGB, and the result written in the image's own kind."""
    check = main_launch.check(f"remove_background[{depth}]")
    assert_succeeded(check)
    got, image = check.value, DEPTHS[depth]
    sent = upload(check.sent("/images/removeBackground"), "image")
    source = photo_pixels(check)
    assert sent.shape[:2] == source.shape[:2]
    assert (np.atleast_3d(sent)[..., :3] == source[..., :3]).all(), "not the layer's pixels"
    if image.get("alpha") is False:  # read as RGB, sent as RGB
        assert sent.ndim == 3 and sent.shape[2] == 3

    after = got["after"]
    kind = ("base", "precision")
    assert [after[k] for k in kind] == [got["before"][k] for k in kind], "the image changed kind"
    assert names(after["layers"]) == ["Recraft remove background", "photo", "Background"]
    assert_source_untouched(check)
    new = after["layers"][0]
    kind = "indexeda" if image.get("indexed") else image.get("base", "RGB").lower() + "a"
    assert new["type"] == kind + "-image"
    assert (new["offsets"], new["size"]) == (list(BOX[:2]), list(BOX[2:]))
    pixels = check.pixels(new["pixels"]).astype(int)
    red = box_mask(SQUARE, size=BOX[2:])
    assert (pixels[..., 3] == np.where(red, 255, 0)).all(), "alpha is not the square"
    colour = image.get("colour", RED)
    assert np.abs(pixels[red][:, :3] - colour).max() <= 1


@pytest.mark.parametrize("place", PLACES)
def test_remove_background_placement(main_launch, place):
    """In a group, the result goes into the group right above the source; of a layer hanging
    off the canvas, the part on it goes up and the result comes back over that part."""
    check = main_launch.check(f"remove_background[{place}]")
    assert_succeeded(check)
    image = PLACES[place]
    x, y, w, h = image.get("box", BOX)
    x0, y0, x1, y1 = max(0, x), max(0, y), min(CANVAS[0], x + w), min(CANVAS[1], y + h)
    on_it = photo_pixels(check)[y0 - y : y1 - y, x0 - x : x1 - x]
    sent = upload(check.sent("/images/removeBackground"), "image")
    assert sent.shape[:2] == on_it.shape[:2]
    assert (sent[..., :3] == on_it[..., :3]).all(), "not the layer's pixels on the canvas"

    after = check.value["after"]["layers"]
    siblings = layer(after, image["group"])["children"] if "group" in image else after
    assert names(siblings)[:2] == ["Recraft remove background", "photo"]
    new = siblings[0]
    assert (new["offsets"], new["size"]) == ([x0, y0], [x1 - x0, y1 - y0])
    sx, sy, sw, sh = SQUARE
    red = box_mask((x + sx, y + sy, sw, sh))
    assert (on_canvas(check, new)[..., 3] == np.where(red, 255, 0)).all(), "misplaced"
    assert (photo_pixels(check, "after") == photo_pixels(check)).all(), "the source changed"
    assert check.value["opened"] == []


# -- inpaint ----------------------------------------------------------------------------------


def test_inpaint_rectangle_on_offset_layer(main_launch):
    """The mask is the grown selection in pure black and white over the whole (small) canvas,
    the image is the layer where it sits on it; the result is a new layer that covers the
    selection and fades out within `feather` pixels, so the rest of the picture is as it was."""
    check = main_launch.check("inpaint_rectangle")
    assert_succeeded(check)
    got = check.value
    sent = check.sent("/images/inpaint")
    assert sent.params["prompt"] == PROMPT
    assert sent.files["mask"][0].values == [0, 255]
    mask = upload(sent, "mask")
    selection = box_mask(RECTANGLE[1:])
    assert mask.shape == (CANVAS[1], CANVAS[0])
    assert (mask == np.where(box_mask(RECTANGLE[1:], Options().grow), 255, 0)).all()
    assert_sent_the_canvas(check, sent)

    after = got["after"]["layers"]
    assert names(after) == [f"Recraft inpaint: {PROMPT}", "photo", "Background"]
    assert_source_untouched(check)
    alpha = shown_alpha(check, after[0])
    assert (alpha[selection] == 255).all()
    outside = ~box_mask(RECTANGLE[1:], Options().feather)
    assert (alpha[outside] == 0).all(), "the result covers more than the selection's border"
    before, now = check.pixels(got["composite_before"]), check.pixels(got["composite_after"])
    assert (now[outside] == before[outside]).all(), "the picture changed off the selection"
    assert (now[selection] != before[selection]).any(axis=-1).all(), "not inpainted"


def test_inpaint_antialiased_ellipse_fades_like_a_hard_selection(main_launch):
    """GIMP antialiases an ellipse's edge over a pixel: that is no feather of the user's, so
    the result fades out over Soft edge beyond it, as from a rectangle, not in one pixel."""
    check = main_launch.check("inpaint_ellipse")
    assert_succeeded(check)
    got = check.value
    strength = check.pixels(got["selection"])[..., 0]
    assert ((strength > 0) & (strength < 255)).any(), "GIMP did not antialias the ellipse"
    half = strength >= 128
    mask = upload(check.sent("/images/inpaint"), "mask")
    assert (mask == np.where(dilate(half, Options().grow), 255, 0)).all()
    alpha = shown_alpha(check, got["after"]["layers"][0])
    assert (alpha[half] == 255).all()
    ring = dilate(half, Options().feather // 2) & ~dilate(half, 1)
    assert (alpha[ring] > 0).all() and (alpha[ring] < 255).any(), "no soft edge beyond it"
    assert (alpha[~dilate(half, Options().feather)] == 0).all()


def test_inpaint_feathered_selection_on_offset_layer(main_launch):
    """A soft selection: the mask still holds only 0 and 255 and covers what is selected; the
    result fades as the selection does, and nothing changes where nothing is selected."""
    check = main_launch.check("inpaint_feathered")
    assert_succeeded(check)
    got = check.value
    strength = check.pixels(got["selection"])[..., 0]
    assert ((strength > 0) & (strength < 255)).any(), "the test's selection is not soft"
    sent = check.sent("/images/inpaint")
    assert sent.files["mask"][0].values == [0, 255]
    mask = upload(sent, "mask")
    assert mask.shape == (CANVAS[1], CANVAS[0])
    white = mask == 255
    assert white[strength >= 128].all(), "the mask misses part of the selection"
    assert not white[~dilate(strength > 0, Options().grow)].any(), "the mask is too large"
    assert_sent_the_canvas(check, sent)

    after = got["after"]["layers"]
    assert names(after) == [f"Recraft inpaint: {PROMPT}", "photo", "Background"]
    assert_source_untouched(check)
    alpha = shown_alpha(check, after[0])
    unselected = strength == 0
    assert (alpha[unselected] == 0).all(), "the result shows where nothing is selected"
    assert (alpha[strength == 255] == 255).all()
    before, now = check.pixels(got["composite_before"]), check.pixels(got["composite_after"])
    assert (now[unselected] == before[unselected]).all(), "changed outside the selection"
    full = strength == 255
    assert (now[full] != before[full]).any(axis=-1).all(), "not inpainted"


@pytest.mark.parametrize("operation", NEEDS_SELECTION)
def test_needs_a_selection(main_launch, operation):
    check = main_launch.check(f"no_selection[{operation}]")
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    assert "select" in call["message"].lower(), call["message"]
    assert_nothing_added(check)
    assert check.requests == [], f"asked Recraft anyway: {check.paths()}"


# -- generate, vectorize, upscale -------------------------------------------------------------


def test_arguments_reach_the_api_as_its_parameters(main_launch):
    check = main_launch.check("generate_controls")
    assert_succeeded(check)
    sent = check.sent("/images/generations").params
    assert sent["model"] == "recraftv3" and sent["random_seed"] == 7 and sent["size"] == "1024x1024"
    assert sent["controls"] == {
        "artistic_level": 3,
        "colors": [{"rgb": [255, 136, 0]}, {"rgb": [32, 64, 192]}],
    }
    assert "negative_prompt" not in sent and "style" not in sent  # left at "(default)"


def test_generate_two_gives_a_group(main_launch):
    """Into an open image with no size chosen: the model's size nearest the image's shape
    (400x320, 1.25: V4.1's 5:4, 1152x896), not 1:1; two results in a group, #1 on top."""
    check = main_launch.check("generate_two")
    assert_succeeded(check)
    sent = check.sent("/images/generations")
    assert (sent.params["prompt"], sent.params["n"]) == (PROMPT, 2)
    size = forms.nearest_size("generate", None, *CANVAS)
    assert sent.params.get("size") == size == "1152x896"

    after = check.value["after"]["layers"]
    name = f"Recraft generate: {PROMPT}"
    assert names(after) == [name, "photo", "Background"]
    assert_source_untouched(check)
    group = after[0]
    assert group["group"], f"{name} is not a layer group"
    children = group["children"]
    assert names(children) == [f"{name} #1 of 2", f"{name} #2 of 2"], "#1 is not on top"
    width, height = map(int, size.split("x"))
    images = []
    for child in children:
        (x, y), (w, h) = child["offsets"], child["size"]
        assert x <= 0 and y <= 0 and x + w >= CANVAS[0] and y + h >= CANVAS[1], "a gap"
        assert abs(w / h - width / height) < 0.01, f"{w}x{h} is not the 5:4 result's shape"
        pixels = check.pixels(child["pixels"])
        assert (pixels[..., 3] == 255).all()
        images.append(pixels)
    assert (images[0] != images[1]).any(), "the two results are the same picture"


def test_vectorize_gives_paths_and_a_layer(main_launch):
    """The layer's own pixels go up; the SVG comes back as paths and as a layer drawing it,
    both where the layer sits on the canvas."""
    check = main_launch.check("vectorize")
    assert_succeeded(check)
    source = photo_pixels(check)
    sent = upload(check.sent("/images/vectorize"), "image")
    assert (sent[..., :3] == source[..., :3]).all(), "not the layer's pixels"

    got = check.value
    name = "Recraft vectorize"
    paths = got["after"]["paths"]
    assert paths, "no paths"
    x, y, w, h = BOX
    for path in paths:
        assert path["name"] == name and path["strokes"] > 0, path
        x0, y0, x1, y1 = path["bounds"]
        assert x - 0.5 <= x0 and y - 0.5 <= y0 and x1 <= x + w + 0.5 and y1 <= y + h + 0.5, (
            f"path outside the source layer {BOX}: {path}"
        )
    after = got["after"]["layers"]
    assert names(after) == [name, "photo", "Background"]
    assert_source_untouched(check)
    drawn = on_canvas(check, after[0])
    assert (drawn[~box_mask(BOX, 1)][..., 3] == 0).all(), "drawn outside the source layer"
    # The server draws square cells of the cell's mean colour, side ceil(longest side / 32):
    # 10 px here, on whose lines the red square's edges lie. Their centres show the source.
    cell = -(-max(w, h) // 32)
    centres = np.arange(cell // 2, w, cell), np.arange(cell // 2, h, cell)
    cx, cy = np.meshgrid(*centres)
    wrong = np.abs(drawn[y + cy, x + cx].astype(int) - source[cy, cx]).max(axis=-1) > 1
    assert not wrong.any(), f"{wrong.sum()} of {wrong.size} cells differ from the source"


def test_crisp_upscale_opens_an_image_twice_the_size(main_launch):
    check = main_launch.check("crisp_upscale")
    assert_succeeded(check)
    got = check.value
    assert upload(check.sent("/images/crispUpscale"), "image").shape[:2] == (BOX[3], BOX[2])
    assert got["images_after"] == got["images_before"] + 1
    assert len(got["opened"]) == 1
    assert got["call"]["values"] == [{"image": got["opened_ids"][0]}]  # returned to the caller
    opened = got["opened"][0]
    assert opened["size"] == [2 * BOX[2], 2 * BOX[3]]
    assert len(opened["layers"]) == 1
    pixels = check.pixels(opened["layers"][0]["pixels"])
    source = photo_pixels(check)
    assert (pixels == source.repeat(2, axis=0).repeat(2, axis=1)).all()
    # The source image is as it was.
    assert_nothing_added(replace(check, value={**got, "opened": []}))


# -- failures leave the image as it was -------------------------------------------------------


@pytest.mark.parametrize("name", FAILING)
def test_wrong_token(refused_launch, name):
    """Recraft refuses the token: an error that says so, and nothing added."""
    check = refused_launch.check(name)
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    assert "token" in call["message"].lower(), call["message"]
    assert any(r.status == 401 for r in check.requests), check.paths()
    assert_nothing_added(check)


@pytest.mark.parametrize("name", [k for k in FAILING if k != "remove_background"])
def test_broken_result_adds_nothing(broken_launch, name):
    """A result file that is not an image: an error, and no partial layer or group (for
    generate, the other result was fine)."""
    check = broken_launch.check(name)
    call = check.value["call"]
    assert any(r.fault == "body" for r in check.requests), check.paths()
    assert call["status"] == "execution-error", call
    assert_nothing_added(check)


def test_cancel_on_the_progress_bar_inserts_nothing(broken_launch):
    """Cancel on GIMP's progress bar makes GIMP kill the plug-in's process (GIMP's own
    behaviour for every plug-in); done here while Recraft works on a replace background: the
    call ends at once as cancelled or failed, GIMP carries on, the image is as it was."""
    check = broken_launch.check("cancelled")
    got = check.value
    assert got["killed"], "the plug-in's process was not found to kill"
    assert got["call"]["status"] in ("cancel", "execution-error", "calling-error"), got["call"]
    assert got["call"]["seconds"] < 9, "the call waited for Recraft's answer"
    assert_nothing_added(check)


def test_the_release_zip_unpacked_into_a_profile_works(zipped_gimp):
    """recraft-gimp-*.zip from install.py --zip, unpacked into an empty plug-ins folder: GIMP
    registers every procedure and Remove Background runs against the server."""
    table = {k: MAIN[k] for k in ("registered", "remove_background")}
    launch = zipped_gimp.launch("zip", _checks(table))
    found = launch.check("registered").value
    assert [name for name, ok in found.items() if not ok] == [], launch.tail()
    check = launch.check("remove_background")
    assert_succeeded(check)
    assert names(check.value["after"]["layers"]) == [
        "Recraft remove background", "photo", "Background"
    ]  # fmt: skip


def test_server_error_leaves_the_image_unchanged(broken_launch):
    """Recraft answers 500 (every retry too): an error in plain words, nothing added."""
    check = broken_launch.check("server_error")
    call = check.value["call"]
    assert any(r.status == 500 for r in check.requests), check.paths()
    assert call["status"] == "execution-error", call
    assert "Recraft had a problem" in call["message"], call["message"]
    assert "Traceback" not in call["message"]
    assert_nothing_added(check)


def test_large_canvas_sends_a_crop(main_launch):
    """A 5000 x 4000 canvas (20 MP, over Recraft's 16 MP) with a small selection: the
    selection grown by the blending margin plus 512 px of context goes up at full
    resolution, and what shows of the result goes back at exactly its place."""
    check = main_launch.check("large_inpaint")
    assert_succeeded(check)
    sent = check.sent("/images/inpaint")
    _, x, y, w, h = LARGE_SELECTION
    grow, context = Options().grow, 512
    x0, y0 = x - grow - context, y - grow - context
    x1, y1 = x + w + grow + context, y + h + grow + context
    image, mask = upload(sent, "image"), upload(sent, "mask")
    assert image.shape[:2] == mask.shape == (y1 - y0, x1 - x0)
    assert set(np.unique(mask)) == {0, 255}
    # The crop's pixels are the canvas's: the photo layer where it lies, transparent beyond.
    photo = layer(check.value["before"]["layers"], "photo")
    px, py = photo["offsets"]
    layer_pixels = check.pixels(photo["pixels"])
    crop = np.zeros((y1 - y0, x1 - x0, 4), np.uint8)
    ax0, ay0 = max(x0, px), max(y0, py)
    ax1, ay1 = min(x1, px + layer_pixels.shape[1]), min(y1, py + layer_pixels.shape[0])
    crop[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0] = layer_pixels[
        ay0 - py : ay1 - py, ax0 - px : ax1 - px
    ]
    assert (np.atleast_3d(image) == crop[..., : np.atleast_3d(image).shape[2]]).all()
    # The new layer holds the result over the crop that went up, at exactly its place, and
    # shows only the selection and its feathered edge: its layer mask is white only there.
    new = layer(check.value["after"]["layers"], f"Recraft inpaint: {PROMPT}")
    f = Options().feather
    assert (new["offsets"], new["size"]) == ([x0, y0], [x1 - x0, y1 - y0])
    rows, columns = np.nonzero(check.pixels(new["mask"])[..., 0])
    shows = (x0 + columns.min(), y0 + rows.min(), x0 + columns.max() + 1, y0 + rows.max() + 1)
    assert shows == (x - f, y - f, x + w + f, y + h + f)
    assert_source_untouched(check)


def test_results_decode_pixel_exact(gimp):
    """Results are read in the plug-in's process by GdkPixbuf (about 0.8x Pillow's time, where
    GIMP's file loader and the GEGL round trip took 2.3x: bench/bench_editor_decode.py), and
    by GIMP's own loaders where GdkPixbuf has none (WEBP in GIMP 3.0's Debian; 3.2's reads it
    through glycin); either way the pixels are Pillow's, to the byte."""
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (37, 53, 3), np.uint8)  # odd sizes: padded rows
    rgba = np.dstack([rgb, rng.integers(0, 256, (37, 53), np.uint8)])
    grey = rng.integers(0, 256, (20, 31), np.uint8)
    cases = {
        "png-rgb": (rgb, "PNG", {}),
        "png-rgba": (rgba, "PNG", {}),
        "png-every-filter": (rgb, "PNG", {"optimize": True}),
        "png-grey": (grey, "PNG", {}),
        "webp-lossless": (rgba, "WEBP", {"lossless": True, "exact": True}),
    }
    files, expected = {}, {}
    for name, (array, fmt, options) in cases.items():
        path = gimp.home / f"result-{name}"
        Image.fromarray(array).save(path, fmt, **options)
        files[name] = str(path)
        with Image.open(path) as im:
            expected[name] = np.asarray(im.convert("RGBA"))
    check = gimp.launch("codec", [("decode", "decode_results", {"files": files})]).check("decode")
    for name, got in check.value.items():
        for way in ("decoded", "by_gimp"):
            assert got[way]["mode"] == "RGBA", (name, way)
            assert (check.pixels(got[way]) == expected[name]).all(), (name, way)
    routes = {name: got["route"] for name, got in check.value.items()}
    assert {routes[n] for n in cases if n.startswith("png")} == {"gdkpixbuf"}, routes


@pytest.mark.parametrize("launch", LAUNCHES)
def test_undo_left_consistent(gimp, request, launch):
    """A plug-in that leaves an undo group open gets it closed by GIMP, which says so; and
    undo stays enabled on the image."""
    launch = request.getfixturevalue(launch)
    said = [line for line in launch.output.splitlines() if "inconsistent state" in line]
    assert said == []
    for name, entry in launch.report["checks"].items():
        if entry["ok"] and "undo_enabled" in entry["value"]:
            assert entry["value"]["undo_enabled"], name


# -- from the menus: what GIMP hands over, what the user is shown ------------------------------


def test_layer_mask_stands_for_its_layer(main_launch):
    """Remove background with the layer's mask active (GIMP selects it after Add Layer Mask):
    the layer's pixels go up, never the mask's (white), and the result lands above the layer."""
    check = main_launch.check("remove_background_on_mask")
    assert_succeeded(check)
    sent = upload(check.sent("/images/removeBackground"), "image")
    source = photo_pixels(check)
    assert sent.shape[:2] == source.shape[:2]
    assert (sent[..., :3] == source[..., :3]).all(), "not the layer's pixels (the mask's?)"
    after = check.value["after"]["layers"]
    assert names(after) == ["Recraft remove background", "photo", "Background"]
    assert_source_untouched(check)


@pytest.mark.parametrize("operation", NEEDS_SELECTION)
def test_no_selection_is_said_before_the_dialog(main_launch, operation):
    """From the menu with nothing selected: "Selection is missing" straight away, not after
    a dialog was filled in (here no dialog could even open: GIMP has no display)."""
    check = main_launch.check(f"no_selection_from_menu[{operation}]")
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    assert call["message"].startswith("Selection is missing"), call["message"]
    assert_nothing_added(check)
    assert check.requests == [], f"asked Recraft anyway: {check.paths()}"


def _messages(launch) -> str:
    """What the plug-in showed with Gimp.message: GIMP's console prints it as a warning."""
    return launch.output


def test_improve_prompt_from_the_menu_shows_the_prompt(main_launch):
    check = main_launch.check("improve_prompt_from_menu")
    assert_succeeded(check)
    (prompt,) = check.value["call"]["values"]
    assert prompt and prompt != PROMPT
    check.sent("/prompts/enhance")
    assert prompt in _messages(main_launch), "the improved prompt was not shown"


def test_create_style_from_the_menu_shows_the_style_and_sends_whole_layers(main_launch):
    """The style id is shown (a style costs 40 credits); each reference is the whole layer,
    also what lies off the canvas (400x340 at (-50, -40) on a 400x320 canvas)."""
    check = main_launch.check("create_style_from_menu")
    assert_succeeded(check)
    (style_id,) = check.value["call"]["values"]
    assert style_id
    shown = _messages(main_launch)
    assert style_id in shown and "Saved style" in shown, "the style id was not shown"
    sent = check.sent("/styles")
    image = upload(sent, "images")
    w, h = OFF_CANVAS["box"][2:]
    assert image.shape[:2] == (h, w), "not the whole layer"
    assert (image[..., :3] == photo_pixels(check)[..., :3]).all()
    assert_nothing_added(check)


@pytest.mark.parametrize("kind", ["layers", "vectors"])
def test_insertion_failing_midway_leaves_nothing(main_launch, kind):
    """The second of three results cannot be inserted: the group and the first result,
    already in the image, are removed again; the error goes on to the caller."""
    got = main_launch.check(f"insert_rollback[{kind}]").value
    assert got["error"], "the failure did not reach the caller"
    assert shape(got["after"]["layers"]) == shape(got["before"]["layers"]), "left behind"
    assert got["after"]["paths"] == got["before"]["paths"], "paths left behind"
    assert got["undo_enabled"]


def test_generate_with_no_image_open_opens_one(main_launch):
    """From an empty GIMP: one new image of the results' size holding them in a group, #1 on
    top, returned to the caller; nothing else changes."""
    check = main_launch.check("generate_no_image")
    assert_succeeded(check)
    got = check.value
    assert len(got["opened"]) == 1, "not one new image"
    assert got["call"]["values"] == [{"image": got["opened_ids"][0]}]
    opened = got["opened"][0]
    name = f"Recraft generate: {PROMPT}"
    assert names(opened["layers"]) == [name]
    group = opened["layers"][0]
    assert group["group"] and names(group["children"]) == [f"{name} #1 of 2", f"{name} #2 of 2"]
    for child in group["children"]:
        assert (child["offsets"], child["size"]) == ([0, 0], opened["size"])
    assert_nothing_added(replace(check, value={**got, "opened": []}))


def test_generate_vector_with_no_image_open_gives_paths(main_launch):
    """A vector result with no image open: a new image of the SVG's size with its paths and
    a layer drawing them."""
    check = main_launch.check("generate_vector_no_image")
    assert_succeeded(check)
    (opened,) = check.value["opened"]
    name = f"Recraft generate: {PROMPT}"
    assert names(opened["layers"]) == [name]
    assert opened["paths"] and all(p["name"] == name for p in opened["paths"])
    assert opened["layers"][0]["size"] == opened["size"]


def test_paid_results_are_kept_in_the_library(main_launch, gimp):
    """Every paid result of the launch is in the results library, marked as GIMP's (issue 20)."""
    main_launch.check("registered")  # the launch has run
    records = list((gimp.home / ".local/share/recraft/library").rglob("record.json"))
    kept = [json.loads(path.read_text()) for path in records]
    assert {"remove_background", "inpaint", "generate"} <= {r["operation"] for r in kept}
    assert {r["front_end"] for r in kept} == {"gimp"}
    assert all(r.get("credits") is not None for r in kept)


MORE = {
    "outpaint": operate("outpaint", {"prompt": PROMPT, "expand-left": 100, "expand-bottom": 80}),
    "image_to_image": operate("image-to-image", {"prompt": PROMPT, "strength": 0.4}),
    "generate_background": operate(
        "generate-background", {"prompt": PROMPT}, selection_shape=RECTANGLE
    ),
    "creative_upscale": operate("creative-upscale"),
    "remix": operate("remix", {"size": "1536x768", "model": "recraftv4_1"}),
    "explore": operate("explore", {"prompt": PROMPT}),
    # Explore, then Explore similar from one of its layers: the server must know the id it
    # starts from, so both run in this launch (the server forgets its images on a reset).
    "explore_similar": ("explore_then_similar", {"prompt": PROMPT}),
}


@pytest.fixture(scope="session")
def outpaint_launch(gimp):
    # A launch of its own: the server keeps the uploads of its last 50 requests only, which
    # the main launch's checks already use.
    return gimp.launch("more", _checks(MORE))


def test_more_operations_reach_the_api_and_the_image(outpaint_launch):
    """Operations run through their procedures as a user runs them: what the server got and
    what the image got."""
    x, y, w, h = BOX
    check = outpaint_launch.check("image_to_image")
    assert_succeeded(check)
    sent = check.sent("/images/imageToImage")
    assert upload(sent, "image").shape[:2] == (h, w) and sent.fields["strength"] == "0.4"
    new = check.value["after"]["layers"][0]
    assert (new["offsets"], new["size"]) == ([x, y], [w, h])

    check = outpaint_launch.check("generate_background")
    assert_succeeded(check)
    sent = check.sent("/images/generateBackground")
    mask = upload(sent, "mask")
    assert mask.shape[:2] == upload(sent, "image").shape[:2] and set(np.unique(mask)) <= {0, 255}
    assert check.value["after"]["layers"][0]["name"].startswith("Recraft generate background")

    check = outpaint_launch.check("creative_upscale")
    assert_succeeded(check)
    assert upload(check.sent("/images/creativeUpscale"), "image").shape[:2] == (h, w)
    assert len(check.value["opened"]) == 1 and check.value["opened"][0]["size"][0] > w

    check = outpaint_launch.check("remix")
    assert_succeeded(check)
    assert check.sent("/images/variateImage").fields["size"] == "1536x768"
    new = check.value["after"]["layers"][0]
    assert new["size"][0] == 2 * new["size"][1], "a 2:1 remix keeps its proportions"

    check = outpaint_launch.check("explore")
    assert_succeeded(check)
    assert check.sent("/images/explore").fields["prompt"] == PROMPT
    assert check.value["after"]["layers"][0]["name"].startswith("Recraft explore")


def test_outpaint_grows_the_image_to_hold_the_result(outpaint_launch):
    """Expand the offset layer left 100 and down 80: the result covers the layer and the
    expansion, and the image grows to hold it in the same undo group, every layer keeping
    its place on the picture."""
    check = outpaint_launch.check("outpaint")
    assert_succeeded(check)
    sent = check.sent("/images/outpaint")
    assert (sent.fields["expand_left"], sent.fields["expand_bottom"]) == ("100", "80")
    x, y, w, h = BOX
    before, after = check.value["before"], check.value["after"]
    width, height = before["size"]
    shift = max(0, 100 - x)  # how far the image grew on the left
    assert after["size"] == [width + shift, max(height, y + h + 80)]
    new = after["layers"][0]
    assert new["name"].startswith("Recraft outpaint")
    assert (new["offsets"], new["size"]) == ([x - 100 + shift, y], [w + 100, h + 80])
    moved = {layer["name"]: layer["offsets"] for layer in after["layers"][1:]}
    for layer in before["layers"]:
        lx, ly = layer["offsets"]
        assert moved[layer["name"]] == [lx + shift, ly]


def _answers(check, path: str) -> list:
    """The requests of the check to exactly this path (explore's is the start of explore
    similar's)."""
    return [r for r in check.requests if r.path.endswith(path)]


def test_explore_similar_starts_from_the_layer_explore_made(outpaint_launch):
    """Each Explore result's layer carries the id Recraft gave that image (saved in the .xcf
    too); Explore similar run on the second one, with no id typed or passed, sends that id.
    On a layer Explore did not make (or on the group of its results) it says what to select,
    and sends nothing."""
    check = outpaint_launch.check("explore_similar")
    got = check.value
    assert got["explore"]["status"] == "success", got["explore"]
    (explored,) = _answers(check, "/images/explore")
    given = [d["image_id"] for d in explored.response["data"]]
    assert list(got["explored"].values()) == given, "each layer its own image's id, in order"
    assert "#2" in got["started_from"] and got["explored"][got["started_from"]] == given[1]
    assert got["group_id"] is None
    assert got["reopened"] == got["explored"], "the ids did not survive a save as .xcf"

    assert got["similar"]["status"] == "success", got["similar"]
    (similar,) = _answers(check, "/images/explore/similar")
    assert similar.status == 200 and similar.fields["source_image_id"] == given[1]
    made = [d["image_id"] for d in similar.response["data"]]
    assert list(got["similar_made"].values()) == made, "its results carry their ids too"

    for case, words in (("on_photo", "was not made by Explore"), ("on_group", "is a group of")):
        refused = got[case]
        assert refused["status"] == "execution-error", refused
        assert words in refused["message"], refused["message"]
        assert "select" in refused["message"], refused["message"]
    assert "Filters › Recraft › Explore…" in got["on_photo"]["message"]
    late = [f"{r.method} {r.path}" for r in check.requests if r.started >= got["started"]]
    assert late == [], "refused, yet sent"


# -- a server that quotes the token back ------------------------------------------------------

QUOTED = {
    "json_body": operate("remove-background"),
    "reason_phrase": operate("vectorize"),
}


def _quoting(token: str) -> list[dict]:
    """Recraft refusing with the token in its answer: in a JSON error's message, and (no body)
    in the status line's reason phrase."""
    message = {"code": "invalid_token", "message": f"Invalid token {token}, check it."}
    return [
        {
            "kind": "body", "path": "/images/removeBackground", "status": 400,
            "content_type": "application/json", "body": json.dumps(message),
        },
        {
            "kind": "body", "path": "/images/vectorize", "status": 400,
            "content_type": "text/plain", "body": "", "reason": f"Bad token {token}",
        },
    ]  # fmt: skip


@pytest.fixture(scope="session")
def quoting_launch(gimp):
    return gimp.launch("token-quoted", _checks(QUOTED), faults=_quoting(gimp.server.token))


@pytest.mark.parametrize("case", QUOTED)
def test_a_server_quoting_the_token_is_shown_without_it(quoting_launch, gimp, case):
    """The message GIMP gets names the failure (Recraft refused, with what it said) but not
    the token; nor does anything GIMP or the plug-in printed (the harness keeps both)."""
    token = gimp.server.token
    check = quoting_launch.check(case)
    assert any(r.fault == "body" and r.status == 400 for r in check.requests), check.paths()
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    assert call["message"].startswith("Recraft refused the request"), call["message"]
    assert "***" in call["message"], call["message"]
    assert token not in call["message"]
    assert_nothing_added(check)
    assert token not in quoting_launch.output, "the token in GIMP's or the plug-in's output"
