"""Every operation the docker offers, run in the real Krita through the plug-in's own entry
points (the docker's form and Run, the Tools › Recraft actions), checked on both sides: what
the local server received (fields, image and mask sizes) and what the document got. Also the
docker's place on Krita's first start, and its layout when squeezed.

The stories share one launch per Krita version (`operations`), as test_krita_workflows.py's
do; inpaint, erase, remove background, vectorize, crisp upscale, create style and generate
with n > 1 are in test_krita_workflows.py and test_krita_plugin.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from layer_checks import box_mask, names, paint_layers, rgba
from PIL import Image
from test_krita_workflows import run_stories, upload_pixels

from recraft_core.api import forms
from recraft_core.api.catalog import MODELS
from recraft_core.workflow.job import Options

pytestmark = pytest.mark.timeout(600)

PROMPT = "a straw hat"
GENERATE_PROMPT = "a lighthouse at dusk"
WIDTH, HEIGHT = 400, 320
LAYER_BOX = (40, 30, 300, 260)  # the photo layer's pixels on the canvas
SELECTION = (120, 100, 80, 60)
GROW, FEATHER = Options().grow, Options().feather
EXPAND = {"expand_left": 100, "expand_right": 50, "expand_bottom": 80}
SQUEEZED = 130  # px: a docker this short had Run below its fold
UPSCALE_BOX = (20, 10, 320, 256)  # small (its short side at the 256 px minimum): x4 here
RASTER_MODEL, VECTOR_MODEL = "recraftv4_1", "recraftv4_1_vector"
REMIX_SIZE = MODELS[RASTER_MODEL].family.resolve_size("2:1")  # the size menu's own value
CANVAS = {"width": WIDTH, "height": HEIGHT, "box": LAYER_BOX}


def docker_story(name, operation, values, **extra):
    return [name, "docker_operation", {"operation": operation, "values": values, **CANVAS, **extra}]


OPERATIONS = [
    # First, before anything shows the docker: where Krita's first start put it.
    ["first_start", "first_start", {"squeezed": SQUEEZED}],
    ["outpaint", "outpaint_grows", {**CANVAS, "prompt": PROMPT, "expand": EXPAND}],
    docker_story("image_to_image", "image_to_image", {"prompt": PROMPT, "strength": 0.4}),
    docker_story(
        "generate_background",
        "generate_background",
        {"prompt": PROMPT, "n": 1},
        selection=SELECTION,
    ),
    docker_story("replace_background", "replace_background", {"prompt": PROMPT, "n": 1}),
    docker_story("remix", "remix", {"size": REMIX_SIZE, "n": 1, "model": RASTER_MODEL}),
    [
        "remix_action",
        "action_operation",
        {"action": "recraft_remix", "width": WIDTH, "height": HEIGHT, "box": LAYER_BOX},
    ],
    [
        "creative_upscale",
        "action_operation",
        {
            "action": "recraft_creative_upscale",
            "width": WIDTH,
            "height": HEIGHT,
            "box": UPSCALE_BOX,
        },
    ],
    [
        "explore",
        "explore_then_similar",
        {"width": WIDTH, "height": HEIGHT, "prompt": GENERATE_PROMPT, "similarity": 4},
    ],
    ["improve", "improve_prompt", {"operation": "generate", "prompt": "a fox"}],
    docker_story(
        "generate_raster",
        "generate",
        {"prompt": GENERATE_PROMPT, "n": 1, "model": RASTER_MODEL, "size": None},
        source=False,
    ),
    docker_story(
        "generate_vector",
        "generate",
        {"prompt": GENERATE_PROMPT, "n": 1, "model": VECTOR_MODEL, "size": None},
        source=False,
    ),
]


@pytest.fixture
def operations(once, new_krita, recraft_server_session):
    def make():
        server = recraft_server_session
        server.reset()
        return run_stories(new_krita, server, "operations", OPERATIONS)

    return once("operations", make)


def only(launch, story, path):
    """The one request to exactly `path` (not a longer path it starts) during the story."""
    found = [r for r in launch.requests(story, path) if r.path.endswith(path)]
    assert len(found) == 1, f"{len(found)} requests to {path} during {story}"
    return found[0]


def sent_values(record) -> dict:
    """What the server read from the request: its typed parameters, else the raw fields."""
    return dict(record.params or record.fields)


def added(got) -> list[dict]:
    """The layers the story's run added (by name), in the document's order."""
    before = set(names(got["before"]))
    return [layer for layer in paint_layers(got["after"]) if layer["name"] not in before]


# -- the docker's place on the first start, and a short docker ---------------------------------


def test_first_start_shows_the_docker_with_room(operations):
    """Krita's first start with the plug-in: the docker shows, docked at the right, tabbed
    with Brush Presets (Krita 5.2 and later started it hidden; 5.1 squeezed it under Brush
    Presets, Run below its fold), tall enough for its form, inside the window, with Run,
    Cancel, the cost, the progress and a message in sight."""
    got = operations.story("first_start")
    assert got["same"], "api.docker() is not the docker Krita made"
    assert got["visible"] and not got["floating"], got
    assert got["area"] == 2, "not in the right dock area"  # Qt.RightDockWidgetArea
    assert "PresetDocker" in got["tabbed_with"], got["tabbed_with"]
    assert got["inside_window"], got
    height = got["geometry"][3]
    assert height >= 200, f"only {height} px high at first"
    assert got["first"] == {
        "height": height,
        "run": True,
        "cancel": True,
        "message": True,
        "cost": True,
        "progress": True,
    }, got["first"]
    window = Image.open(operations.folder("first_start") / "first-start.png")
    assert list(window.size) == got["shots"]["window"]


def test_a_short_docker_keeps_run_and_messages_in_sight(operations):
    """Squeezed to 130 px (about what Krita gave it under Brush Presets), the docker still
    shows Run, Cancel, the cost and the message whole: only the form scrolls."""
    got = operations.story("first_start")
    assert got["minimum"] <= SQUEEZED, f"the docker needs {got['minimum']} px"
    squeezed = got["squeezed"]
    assert squeezed["height"] == SQUEEZED
    assert {k: v for k, v in squeezed.items() if k != "height" and not v} == {}, squeezed
    picture = Image.open(operations.folder("first_start") / "squeezed.png")
    assert list(picture.size) == got["shots"]["squeezed"]
    assert picture.height == SQUEEZED


# -- outpaint: the canvas grows --------------------------------------------------------------------


def test_outpaint_grows_the_canvas_to_hold_the_result(operations):
    """Outpaint from the docker (Expand left 100, right 50, bottom 80) on a layer at an
    offset: the layer goes up as it is, with the expansions; the image grows to hold the
    whole result, its content keeping its place (every layer moves by the new origin), the
    result at the top left of the grown part, the photo's pixels unchanged inside it."""
    got = operations.story("outpaint")
    sent = only(operations, "outpaint", "/images/outpaint")
    assert sent.status == 200, got["message"]
    image = sent.files["image"][0]
    x, y, w, h = LAYER_BOX
    assert (image.width, image.height) == (w, h)
    values = sent_values(sent)
    assert {k: values.get(k) for k in EXPAND} == EXPAND
    assert values.get("expand_top") is None and values.get("prompt") == PROMPT

    left, right, bottom = EXPAND["expand_left"], EXPAND["expand_right"], EXPAND["expand_bottom"]
    # The result covers (x - left, y) to (x + w + right, y + h + bottom) in today's pixels.
    rx0, ry0, rx1, ry1 = x - left, y, x + w + right, y + h + bottom
    gx0, gy0 = min(0, rx0), min(0, ry0)
    grown = (max(WIDTH, rx1) - gx0, max(HEIGHT, ry1) - gy0)
    after = got["after"]
    assert after["size"] == list(grown), after["size"]
    name = f"Recraft outpaint: {PROMPT}"
    assert names(after["layers"]) == ["Background", "photo", name]
    photo, result = paint_layers(after["layers"])[1:]
    assert result["bounds"] == [rx0 - gx0, ry0 - gy0, rx1 - rx0, ry1 - ry0]
    assert photo["bounds"] == [x - gx0, y - gy0, w, h], "the photo did not keep its place"
    assert f"The image grew to {grown[0]}x{grown[1]} px" in got["message"], got["message"]

    folder = operations.folder("outpaint")
    source, moved = rgba(folder / "source.png"), rgba(folder / "moved.png")
    assert (moved == source).all(), "the photo's pixels changed"
    pixels = rgba(folder / "result.png")
    assert pixels.shape[:2] == (grown[1], grown[0])
    inside = box_mask(grown[0], grown[1], result["bounds"])
    assert (pixels[..., 3][inside] == 255).all() and (pixels[..., 3][~inside] == 0).all()
    # The local server keeps the sent image whole inside its result: where the photo lies.
    px, py = x - gx0, y - gy0
    assert (pixels[py : py + h, px : px + w] == source).all(), "the result is off the photo"


def test_outpaint_undo_steps(operations):
    """What Krita records (its Python API cannot group two steps): the canvas resize, then
    the layer, two rows in Undo History. The first Undo takes the layer away (the image
    stays grown), the next gives the image its size back, every layer where it was. The
    result inserted again from the strip lands where the first one did."""
    got = operations.story("outpaint")
    before, after = got["rows"]
    if before is None or after is None:
        pytest.skip("no Undo History docker found in this Krita")
    steps = after[len(before) :]
    assert len(steps) == 2, steps
    assert "size" in steps[0].lower(), steps  # "Resize Image" (the canvas), then the layer

    first = got["after"]
    assert got["strip"], "the result is not in the strip"
    again = got["again"]
    assert again["size"] == first["size"]
    copies = [x for x in paint_layers(again["layers"]) if x["name"] == first["layers"][-1]["name"]]
    assert len(copies) == 2 and copies[0]["bounds"] == copies[1]["bounds"], copies

    undo_copy, undo_layer, undo_size = got["undone"]
    assert undo_copy == first
    assert undo_layer["size"] == first["size"]
    assert names(undo_layer["layers"]) == names(got["before"])
    assert undo_size["size"] == [WIDTH, HEIGHT]
    assert undo_size["layers"] == got["before"], "one Undo too few or the layers moved"


# -- the other operations, each from the docker -------------------------------------------------


def test_image_to_image(operations):
    """Image to image from the docker: the layer goes up with the prompt and the strength;
    the result (the layer's size) lands exactly over it."""
    got = operations.story("image_to_image")
    sent = only(operations, "image_to_image", "/images/imageToImage")
    assert sent.status == 200, got["message"]
    image = sent.files["image"][0]
    assert (image.width, image.height) == LAYER_BOX[2:]
    values = sent_values(sent)
    assert float(values["strength"]) == 0.4 and values["prompt"] == PROMPT
    (made,) = added(got)
    assert made["name"] == f"Recraft image to image: {PROMPT}"
    assert made["bounds"] == list(LAYER_BOX)
    assert got["photo_unchanged"]


def test_generate_background_in_the_selection(operations):
    """Generate background in selection: the image and a mask of the grown selection go up;
    the result shows only around the selection."""
    got = operations.story("generate_background")
    sent = only(operations, "generate_background", "/images/generateBackground")
    assert sent.status == 200, got["message"]
    image, mask = sent.files["image"][0], sent.files["mask"][0]
    # A small canvas goes up whole, the photo where it lies (transparent around it).
    assert (image.width, image.height) == (mask.width, mask.height) == (WIDTH, HEIGHT)
    assert mask.values == [0, 255]
    grown = box_mask(WIDTH, HEIGHT, SELECTION, GROW)
    assert (upload_pixels(mask) == np.where(grown, 255, 0)).all()
    assert sent_values(sent)["prompt"] == PROMPT
    (made,) = added(got)
    assert made["name"] == f"Recraft generate background: {PROMPT}"
    alpha = rgba(operations.folder("generate_background") / "result.png")[..., 3]
    assert (alpha[box_mask(WIDTH, HEIGHT, SELECTION)] == 255).all()
    assert (alpha[~box_mask(WIDTH, HEIGHT, SELECTION, GROW + FEATHER)] == 0).all()
    assert got["photo_unchanged"]


def test_replace_background(operations):
    """Replace background from the docker: the layer goes up, the result lands over it."""
    got = operations.story("replace_background")
    sent = only(operations, "replace_background", "/images/replaceBackground")
    assert sent.status == 200, got["message"]
    image = sent.files["image"][0]
    assert (image.width, image.height) == LAYER_BOX[2:]
    assert sent_values(sent)["prompt"] == PROMPT
    (made,) = added(got)
    assert (made["name"], made["bounds"]) == (
        f"Recraft replace background: {PROMPT}",
        list(LAYER_BOX),
    )


def test_remix_keeps_its_own_proportions(operations):
    """Remix from the docker in 2:1 on a 300x260 layer: the size goes up as asked, and the
    2:1 result is centred on the layer in its own proportions (not squashed into it), as
    the docker says."""
    got = operations.story("remix")
    sent = only(operations, "remix", "/images/variateImage")
    assert sent.status == 200, got["message"]
    image = sent.files["image"][0]
    assert (image.width, image.height) == LAYER_BOX[2:]
    assert sent_values(sent)["size"] == REMIX_SIZE == "1536x768"
    (made,) = added(got)
    assert made["name"] == "Recraft remix"
    x, y, w, h = made["bounds"]
    assert abs(w / h - 2) < 0.02, made["bounds"]
    cx, cy = LAYER_BOX[0] + LAYER_BOX[2] / 2, LAYER_BOX[1] + LAYER_BOX[3] / 2
    assert abs(x + w / 2 - cx) <= 1 and abs(y + h / 2 - cy) <= 1, "not centred on the layer"
    assert "another shape than the layer" in got["message"], got["message"]


def test_remix_action_asks_the_size_nearest_the_image(operations):
    """Tools › Recraft › Remix: the size nearest the image's shape goes up; the result lands
    over the layer."""
    got = operations.story("remix_action")
    sent = only(operations, "remix_action", "/images/variateImage")
    assert sent.status == 200, got["message"]
    nearest = forms.nearest_size("remix", None, WIDTH, HEIGHT)
    assert sent_values(sent)["size"] in (nearest, nearest.replace("x", ":"))
    assert [x["name"] for x in added(got)] == ["Recraft remix"]
    assert got["new"] == []


def test_creative_upscale_action_opens_a_document(operations):
    """Tools › Recraft › Creative Upscale: the layer goes up, a new document four times its
    size opens (the local server's factor), the source document unchanged."""
    got = operations.story("creative_upscale")
    sent = only(operations, "creative_upscale", "/images/creativeUpscale")
    assert sent.status == 200, got["message"]
    image = sent.files["image"][0]
    w, h = UPSCALE_BOX[2:]
    assert (image.width, image.height) == (w, h)
    (new,) = got["new"]
    assert new["size"] == [4 * w, 4 * h]
    assert names(new["layers"]) == ["Recraft creative upscale"]
    assert got["after"] == got["before"]


def test_explore_then_explore_similar_from_a_layer_or_the_strip(operations):
    """Explore from the docker gives a group of results; Explore similar then starts from
    the active layer when Explore made it (its id filled in by itself), refuses and says so
    when it did not, and starts from a thumbnail of Explore's picked in the strip. The ids
    sent are those the server gave for those very images."""
    got = operations.story("explore")
    explore = only(operations, "explore", "/images/explore")
    assert explore.status == 200, got["explore"]["message"]
    assert sent_values(explore)["prompt"] == GENERATE_PROMPT
    ids = [item["image_id"] for item in explore.response["data"]]
    group = f"Recraft explore: {GENERATE_PROMPT}"
    tree = paint_layers(got["explore"]["layers"])
    assert names(tree) == ["Background", "photo", group]
    # Bottom to top: #1 on top (variations to flip through).
    assert [c["name"] for c in tree[2]["children"]] == [
        f"{group} #{i + 1} of {len(ids)}" for i in reversed(range(len(ids)))
    ]

    similar = [
        r for r in operations.requests("explore", "/images/explore/similar") if r.status is not None
    ]
    assert [r.status for r in similar] == [200, 200], [r.error for r in similar]
    from_layer, from_strip = (sent_values(r) for r in similar)
    assert got["from_layer"]["chosen"] == ids[1], "choosing Explore similar did not fill #2's id"
    assert from_layer["source_image_id"] == ids[1]
    assert int(from_layer["similarity"]) == 4

    refused = got["not_a_result"]
    assert not refused["ran"] and refused["field"] is None
    assert refused["message"].startswith("The active layer “photo” was not made by Explore"), (
        refused
    )

    strip = got["from_strip"]
    assert strip["field"] == ids[2] and not strip["inserted"], strip
    assert "“" + f"{group} #3 of {len(ids)}" + "”" in strip["message"]
    assert from_strip["source_image_id"] == ids[2]


def test_improve_prompt_button(operations):
    """The docker's Improve prompt: the prompt goes up, and Recraft's longer one replaces it
    in the form."""
    got = operations.story("improve")
    sent = only(operations, "improve", "/prompts/enhance")
    assert sent.status == 200, got["message"]
    assert sent_values(sent)["prompt"] == "a fox"
    assert got["shown"]
    assert got["prompt"] == sent.response["enhanced_prompt"] != "a fox"


def test_generate_into_an_open_image_with_a_raster_model(operations):
    """Generate from the docker with a raster model into an open image: one paint layer,
    the 1:1 picture scaled down to cover the canvas (centred), and the docker says so."""
    got = operations.story("generate_raster")
    sent = only(operations, "generate_raster", "/images/generations")
    assert sent.status == 200, got["message"]
    values = sent_values(sent)
    assert values["model"] == RASTER_MODEL and values["prompt"] == GENERATE_PROMPT
    (made,) = added(got)
    assert (made["name"], made["type"]) == (f"Recraft generate: {GENERATE_PROMPT}", "paintlayer")
    side = max(WIDTH, HEIGHT)
    assert made["bounds"] == [(WIDTH - side) // 2, (HEIGHT - side) // 2, side, side]
    assert "scaled to" in got["message"], got["message"]


def test_generate_into_an_open_image_with_a_vector_model(operations):
    """Generate with a vector model into an open image: a vector layer with shapes."""
    got = operations.story("generate_vector")
    sent = only(operations, "generate_vector", "/images/generations")
    assert sent.status == 200, got["message"]
    assert sent_values(sent)["model"] == VECTOR_MODEL
    (made,) = added(got)
    assert (made["name"], made["type"]) == (f"Recraft generate: {GENERATE_PROMPT}", "vectorlayer")
    assert got["shapes"].get(made["name"]), got["shapes"]


def test_operations_leave_no_trouble_on_stderr(operations):
    assert operations.trouble() == [], "Krita's stderr reports trouble"
