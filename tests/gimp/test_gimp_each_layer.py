"""One-click operations on every selected layer in the real GIMP (issue 22): a job a layer, run
a few at once, each result above its own layer, one summary; a layer that cannot be sent
fails alone. The checks are checks_nondestructive.py's (on_each); one launch per version,
with Recraft answering remove background slowly enough to see the jobs overlap."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures_more import Screen, gimp_gui, wait_for, x_display, xvfb_display
from test_gimp_plugin import PREFIX, _checks

pytestmark = pytest.mark.timeout(600)
FIXTURES = (gimp_gui, x_display, xvfb_display)  # for pytest, which finds them by name

# checks_nondestructive.SEVERAL: where each layer lies, and its size.
PLACES = {"a": (10, 10, 150, 120), "b": (200, 20, 180, 140), "c": (50, 170, 160, 130)}
DELAY = 2.0  # seconds Recraft sits on each of the first three remove background calls
RESULT = "Recraft remove background"


def on_each(procedure, names, args=None) -> tuple:
    return ("on_each", {"procedure": PREFIX + procedure, "names": names, "args": args or {}})


EACH = {
    "three": on_each("remove-background-layer", ["a", "b", "c"]),
    "with_logo": on_each("remove-background", ["a", "b", "c", "logo"]),
    "vectorize": on_each("vectorize", ["a", "b"]),
    "crisp_upscale": on_each("crisp-upscale", ["a", "b"]),
    "remix": on_each("remix", ["a", "b"]),
}


@pytest.fixture(scope="session")
def launch(gimp):
    slow = {"kind": "delay", "seconds": DELAY, "path": "/images/removeBackground", "times": 3}
    return gimp.launch("each-layer", _checks(EACH), faults=[slow])


def _flat(layers: list) -> list:
    out = []
    for node in layers:
        out.append(node)
        out += _flat(node.get("children", []))
    return out


def _above(layers: list, name: str) -> dict:
    """The layer right above `name` among its siblings."""
    for siblings in [layers] + [n["children"] for n in _flat(layers) if n.get("children")]:
        names = [n["name"] for n in siblings]
        if name in names:
            at = names.index(name)
            assert at > 0, f"nothing above {name}: {names}"
            return siblings[at - 1]
    raise AssertionError(f"no layer {name}")


def _each_result_on_its_layer(check, names) -> None:
    layers = check.value["layers"]
    for name in names:
        x, y, w, h = PLACES[name]
        result = _above(layers, name)
        assert result["name"].startswith(RESULT), (name, result["name"])
        assert (result["offsets"], result["size"]) == ([x, y], [w, h]), name
        pixels = check.pixels(result["pixels"])
        square = np.zeros((h, w), bool)
        square[h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2] = True
        assert (pixels[..., 3] == np.where(square, 255, 0)).all(), f"{name}: not its cut-out"


def test_remove_background_on_three_layers_puts_each_result_on_its_layer(launch):
    check = launch.check("three")
    assert check.value["call"]["status"] == "success", check.value["call"]
    sent = [r for r in check.requests if r.path.endswith("/images/removeBackground")]
    assert len(sent) == 3 and all(r.status == 200 for r in sent)
    _each_result_on_its_layer(check, ["a", "b", "c"])
    # At most three at once, and here all three: each waited DELAY s while the others ran.
    starts = sorted(r.started for r in sent)
    ends = sorted(r.started + r.duration for r in sent)
    assert starts[-1] < ends[0], "the layers' jobs ran one after another"


def test_a_layer_that_cannot_be_sent_fails_alone_with_its_reason(launch):
    """Four layers, one a strip too thin to scale within Recraft's limits: the other three
    results are in, and the error is one summary naming the layer and why."""
    check = launch.check("with_logo")
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    message = call["message"]
    assert message.startswith("Recraft remove background: 3 done, 1 failed: layer 'logo': ")
    assert "aspect ratio is too extreme" in message, message
    sent = [r for r in check.requests if r.path.endswith("/images/removeBackground")]
    assert len(sent) == 3, "the thin layer was sent, or another was not"
    _each_result_on_its_layer(check, ["a", "b", "c"])
    assert check.value["layers"][0]["name"] == "logo", "something above the layer that failed"


def test_vectorize_upscale_and_remix_run_on_each_layer(launch):
    check = launch.check("vectorize")
    assert check.value["call"]["status"] == "success", check.value["call"]
    assert len([r for r in check.requests if r.path.endswith("/images/vectorize")]) == 2
    for name in ("a", "b"):
        assert _above(check.value["layers"], name)["name"].startswith("Recraft vectorize")

    check = launch.check("crisp_upscale")
    assert check.value["call"]["status"] == "success", check.value["call"]
    assert len(check.value["opened"]) == 2, "not an image for each layer"
    sizes = sorted(tuple(image[0]["size"]) for image in check.value["opened"])
    assert sizes == sorted((2 * w, 2 * h) for (_, _, w, h) in (PLACES["a"], PLACES["b"]))

    check = launch.check("remix")
    assert check.value["call"]["status"] == "success", check.value["call"]
    sent = [r for r in check.requests if r.path.endswith("/images/variateImage")]
    assert len(sent) == 2
    for name in ("a", "b"):
        assert _above(check.value["layers"], name)["name"].startswith("Recraft remix")


def test_no_python_errors(launch):
    lines = launch.output.splitlines()
    found = [i for i, line in enumerate(lines) if "Traceback" in line]
    assert not found, "\n".join(lines[found[0] : found[0] + 30]) if found else ""


# -- in GIMP's GUI: one Undo a layer, the cost of them all -------------------------------------


@pytest.fixture(scope="session")
def gui(gimp_gui, tmp_path_factory):
    """Remove background on three layers, then one Ctrl+Z (pressed here, as a user does);
    and remix's dialog as it opens for three layers."""
    folder = tmp_path_factory.mktemp(f"{gimp_gui.editor}-each")
    marker = folder / "done"
    seen, stop = {}, threading.Event()

    def user() -> None:
        try:
            wait_for(marker, 300, stop)
            screen = Screen(gimp_gui.display)
            screen.key(screen.window("GIMP$", timeout=30, gone=stop), "ctrl+z")
            time.sleep(1.5)
            Path(f"{marker}.undone").write_text("")
        except Exception as e:
            seen["error"] = repr(e)

    thread = threading.Thread(target=user, daemon=True)
    thread.start()
    checks = [
        ("undo", "undo_each", {"marker": str(marker), "procedure": PREFIX + "remove-background",
                               "names": ["a", "b", "c"]}),
        ("cost", "each_cost", {"procedure": PREFIX + "remix", "count": 3}),
    ]  # fmt: skip
    try:
        return gimp_gui.launch("each-layer-gui", checks), seen
    finally:
        stop.set()
        thread.join(60)


def test_one_undo_takes_one_layers_result_away(gui):
    """Each layer's result is an undo group of its own: one Ctrl+Z takes the last one away,
    the others stay."""
    launch, seen = gui
    assert "error" not in seen, seen["error"]
    got = launch.check("undo").value
    assert got["call"]["status"] == "success", got["call"]
    results = [sum(n["name"].startswith(RESULT) for n in _flat(got[k])) for k in ("before",
               "after", "undone")]  # fmt: skip
    assert results == [0, 3, 2]


def test_the_dialog_says_the_cost_of_every_layer(gui):
    launch, _ = gui
    got = launch.check("cost").value
    one = int(got["one"].split("about ")[1].split()[0])
    assert f"Cost: about {3 * one} credits ({one} for each of 3 layers)." in got["about"]
    assert "It runs on each of the 3 selected layers." in got["about"]
