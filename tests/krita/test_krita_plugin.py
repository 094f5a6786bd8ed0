"""The Krita plug-in in the real Krita, installed by install/install.py, against the local
server. Each test starts Krita once; the payloads it runs are in payloads.py."""

import ast
import io
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from layer_checks import box_mask, names, paint_layers, rgba
from PIL import Image

from recraft_core import settings
from recraft_core.api import forms
from recraft_core.api.operations import offered
from recraft_core.workflow.job import Options

ROOT = Path(__file__).resolve().parents[2]
# The first test also warms the profile: two launches of up to 180 s each.
pytestmark = pytest.mark.timeout(420)

PROMPT = "a straw hat"
PLUGIN = ROOT / "krita_plugin" / "recraft_krita"
# Tools › Recraft as it has always been: the ids are where Krita saves users' shortcuts.
ACTIONS = {
    "recraft_remove_background": "Remove Background",
    "recraft_remove_background_mask": "Remove Background as Mask",
    "recraft_crisp_upscale": "Crisp Upscale",
    "recraft_creative_upscale": "Creative Upscale",
    "recraft_vectorize": "Vectorize",
    "recraft_erase_selection": "Erase Selection",
    "recraft_inpaint_selection": "Inpaint Selection…",
    "recraft_remix": "Remix",
    "recraft_next_variation": "Next variation",
    "recraft_previous_variation": "Previous variation",
    "recraft_keep_variation": "Keep this variation",
    "recraft_settings": "Settings…",
}
# The docker's operations, in the order they have always had.
DOCKER = [
    "inpaint",
    "erase_region",
    "generate_background",
    "replace_background",
    "remove_background",
    "outpaint",
    "image_to_image",
    "remix",
    "generate",
    "explore",
    "explore_similar",
    "crisp_upscale",
    "creative_upscale",
    "vectorize",
    "create_style",
]


def test_harness_helpers(krita):
    """The probe's helpers work on this Krita (what the other tests stand on)."""
    result = krita.run("harness", clean=False)  # it raises in a slot on purpose
    got = result.value
    assert got["active"] == {"setActiveNode": True, "layers_docker": True}
    # Image coordinates include the layer's offset; 8-bit BGRA comes back as RGBA.
    assert got["pixels"] == [255, 0, 0, 255, 0, 0, 255, 128, 0, 0, 0, 0]
    first = got["layers"][1]
    assert names(got["layers"]) == ["Background", "first", "second"]
    assert (first["position"], first["bounds"]) == ([10, 5], [10, 5, 2, 1])
    assert got["fired"] == ["fired"]
    assert "nothing" in got["timeout"]
    assert len(got["caught"]) == 1 and "ValueError: raised in a slot" in got["caught"][0]
    width, height = got["screenshot"]
    assert Image.open(result.out_dir / "harness.png").size == (width, height)


def test_modal_dialog_is_reported(krita):
    """A modal dialog would wait forever for a click: the probe ends the run and names it. The
    Settings action opens one."""
    with pytest.raises(AssertionError, match="a modal dialog blocked the payload: 'Recraft setti"):
        krita.run("open_settings")


def test_plugin_loads(krita):
    """Installed and enabled by the installer, the plug-in registers its docker and actions,
    runs on what it vendors, and nothing raises."""
    got = krita.run("plugin_loads").value
    assert got["docker_in_window"], "no dock widget with id recraft_docker"
    assert got["docker"] == "recraft_docker", "api.docker() is not that docker"
    assert got["docker_api"] == [], "the docker lacks these"
    assert got["busy"] is False
    assert {k: v for k, v in got["actions"].items() if not v} == {}, "actions missing"
    assert got["actions"] == ACTIONS
    # Tools › Recraft lists them in the order they were made, the operations table's (the
    # docker's) then Settings, where Krita keeps that order (5.1, 5.2); 5.3 and 6.0 sort it.
    in_order = [op.offer.action for op in offered() if op.offer.action]
    variations = [ACTIONS[f"recraft_{k}_variation"] for k in ("next", "previous", "keep")]
    mask = ACTIONS["recraft_remove_background_mask"]
    made = [*in_order, mask, *variations, ACTIONS["recraft_settings"]]
    assert got["menu"] in (made, sorted(made)), got["menu"]
    assert sorted(got["menu"]) == sorted(ACTIONS.values())
    # The docker: the same operations in the same order; Improve prompt where the form has a
    # prompt to improve (not a style's), Source where a layer is sent.
    assert list(got["operations"]) == DOCKER
    for name, seen in got["operations"].items():
        prompt = any(f.name == "prompt" for f in forms.fields_for(name))
        improve = prompt and name != "create_style"
        source = name not in ("generate", "explore", "explore_similar", "create_style")
        assert (seen["improve"], seen["source"]) == (improve, source), name
    # Krita's Python here has no requests: the plug-in must bring its own.
    pykrita = str(krita.pykrita)
    for module, path in got["modules"].items():
        assert path and path.startswith(pykrita), f"{module} from {path}"


def test_remove_background_action(krita, recraft_server):
    """The menu action on a layer whose pixels sit at an offset: the layer's own pixels go up,
    the result comes back as a new layer at the same place, background transparent."""
    # Sizes over Recraft's 256 px minimum side, so the layer goes up as it is, unscaled.
    width, height = 400, 320
    box = (40, 30, 300, 260)  # the layer's pixels on the canvas
    square = (100, 80, 120, 90)  # red, in the layer's own pixels; the rest is flat grey
    got = krita.run("remove_background", width=width, height=height, box=box, square=square).value

    sent = recraft_server.last("/images/removeBackground")
    assert sent is not None and sent.status == 200, got["message"]
    image = sent.files["image"][0]
    assert (image.width, image.height) == box[2:]

    assert names(got["after"]) == ["Background", "photo", "Recraft remove background"]
    assert got["after"][:2] == got["before"]
    x, y, w, h = got["after"][2]["bounds"]
    bx, by, bw, bh = box
    assert bx <= x and by <= y and x + w <= bx + bw and y + h <= by + bh, "outside the source"

    pixels = rgba(krita.out_dir / "result.png")
    red = box_mask(width, height, (bx + square[0], by + square[1], *square[2:]))
    assert (pixels[..., 3] == np.where(red, 255, 0)).all(), "alpha off the red square"
    assert (pixels[red][:, :3] == (220, 30, 30)).all()

    # The paid result is in the results library, as Recraft sent it (issue 20).
    records = list((krita.home / ".local/share/recraft/library").rglob("record.json"))
    assert len(records) == 1, records
    record = json.loads(records[0].read_text())
    assert (record["operation"], record["front_end"]) == ("remove_background", "krita")
    kept = records[0].parent / record["results"][0]["file"]
    assert kept.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_inpaint_selection_via_docker(krita, recraft_server):
    """Inpaint from the docker: the mask is the grown selection in pure black and white, and
    the result is a new layer above the source, which stays as it was."""
    width, height = 320, 256  # over Recraft's 256 px minimum side: sent unscaled
    selection = (120, 96, 64, 48)
    got = krita.run(
        "inpaint_via_docker", width=width, height=height, selection=selection, prompt=PROMPT
    ).value

    sent = recraft_server.last("/images/inpaint")
    assert sent is not None and sent.status == 200, got["message"]
    upload = sent.files["mask"][0]
    assert upload.values == [0, 255]
    mask = np.asarray(Image.open(io.BytesIO(upload.data)).convert("L"))
    grown = box_mask(width, height, selection, Options().grow)
    assert mask.shape == (height, width)  # a small canvas goes up whole
    assert (mask == np.where(grown, 255, 0)).all(), "white is not exactly the grown selection"
    assert sent.fields.get("prompt") == PROMPT

    assert names(got["after"]) == ["Background", "photo", f"Recraft inpaint: {PROMPT}"]
    assert paint_layers(got["after"])[:2] == paint_layers(got["before"])
    assert got["source_unchanged"]
    assert got["busy"] is False

    alpha = rgba(krita.out_dir / "result.png")[..., 3]
    assert (alpha[box_mask(width, height, selection)] == 255).all()
    far = ~box_mask(width, height, selection, Options().grow + Options().feather)
    assert (alpha[far] == 0).all(), "the result covers more than the selection's surroundings"


def test_wrong_token_leaves_document_unchanged(krita, recraft_server):
    """Recraft refuses the token: nothing changes in the document, and the docker says what
    to do about it."""
    got = krita.run(
        "inpaint_via_docker",
        token="wrong",
        width=128,
        height=96,
        selection=(32, 24, 40, 30),
        prompt=PROMPT,
    ).value
    sent = recraft_server.last("/images/inpaint")
    assert sent is not None and sent.status == 401
    assert "token" in got["message"].lower(), got["message"]
    assert got["after"] == got["before"]
    assert got["image_unchanged"] and got["source_unchanged"]
    assert got["busy"] is False


def test_screenshot_inpaint(krita, recraft_server):
    """A picture of the plug-in at work, for the README: the main window with the docker and
    an inpainted image. RECRAFT_SCREENSHOTS=1 copies it to docs/screenshots/."""
    name = "krita-inpaint.png"
    got = krita.run(
        "inpaint_via_docker",
        width=960,
        height=640,
        selection=(520, 100, 200, 170),
        prompt="a hot air balloon",
        screenshot_name=name,
    ).value
    assert names(got["after"])[-1] == "Recraft inpaint: a hot air balloon"
    shot = krita.out_dir / name
    image = Image.open(shot)
    assert list(image.size) == got["screenshot"]
    assert image.width >= 1024 and image.height >= 600
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 100, "a blank window"
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


def test_plugin_modules_import_no_circle():
    """The plug-in's modules import one another without a circle, and none of them imports
    api.py, which is for scripts and tests."""
    modules = {p.stem: p for p in PLUGIN.glob("*.py")}
    imports = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        imports[name] = found & set(modules)
    assert [name for name, found in imports.items() if "api" in found] == []

    def reach(start, seen=()):
        for other in imports[start]:
            if other in seen:
                continue
            yield other
            yield from reach(other, (*seen, other))

    circles = {name for name in imports if name in set(reach(name))}
    assert circles == set(), {name: sorted(imports[name]) for name in circles}


def test_settings_dialog(krita):
    """The Settings dialog has one row per settings.ENTRIES, in order, with its words and
    range, the saved values (none yet: the defaults) and the note; Save writes what was typed,
    empty text as not set. Pictures of it and of the docker: settings-dialog.png, docker.png."""
    values = {
        "token": "  pasted-token ",
        "base_url": "",
        "grow": 20,
        "feather": 0,
        "bake_edges": True,
    }
    got = krita.run("settings_dialog", values=values).value
    assert got["order"] == [entry.name for entry in settings.ENTRIES]
    defaults = Options()
    for entry in settings.ENTRIES:
        row = got["rows"][entry.name]
        assert row["label"] == entry.label
        assert row["tip"].lower() == entry.help.lower()
        if entry.kind in ("pixels", "gigabytes"):
            assert (row["low"], row["high"]) == (entry.low, entry.high)
            default = getattr(defaults, entry.name) if entry.default is None else entry.default
            assert row["value"] == default
            assert row["suffix"] == f" {entry.unit}"
        elif entry.kind == "switch":
            assert row["checked"] is False
        else:
            library = str(krita.home / ".local" / "share" / "recraft" / "library")
            assert row["placeholder"] == (library if entry.kind == "folder" else entry.placeholder)
            assert row["text"] == ""
            assert row["hidden"] == (entry.kind == "secret")
    assert got["notes"] == [settings.NOTE]
    assert got["saved"] == {"token": "pasted-token", "grow": 20, "feather": 0, "bake_edges": True}
    saved = json.loads((krita.home / ".config" / "recraft" / "settings.json").read_text())
    assert saved == got["saved"]
    for name, size in got["screenshots"].items():
        picture = krita.out_dir / ("settings-dialog.png" if name == "dialog" else "docker.png")
        image = Image.open(picture)
        assert list(image.size) == size and min(size) > 100, name
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 20, f"{name}: blank"
