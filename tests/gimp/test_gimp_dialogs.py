"""The plug-in's dialogs in GIMP's GUI under Xvfb: what they show as the user changes them,
what they offer and refuse, and that clicking them many times on a busy machine does not
crash the plug-in (issue 18's "Plug-in crashed: recraft.py" with the Inpaint dialog open).

The dialog checks build the plug-in's own OperationDialog in GIMP (gimp_checks.dialog_texts)
and set its values as GIMP's widgets do; the click test drives the real dialog of a menu run
with xdotool, as a user does. Needs Xvfb and xdotool (fixtures_more.py).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from fixtures_more import (
    Screen,
    busy,
    gimp_gui,
    spin_buttons,
    wait_for,
    x_display,
    xvfb_display,
)
from PIL import Image

from recraft_core.api import catalog, forms

pytestmark = pytest.mark.timeout(900)
FIXTURES = (gimp_gui, x_display, xvfb_display)  # for pytest, which finds them by name

PREFIX = "plug-in-recraft-"
STYLE_ID = "8fa865c3-e43e-4233-947e-bf1a95210f1d"
# Generate's dialog as a user changes it: Images, then Model, then Images again.
COST_STEPS = [{"n": 3}, {"model": "recraftv4_1_pro"}, {"n": 6}, {"model": "recraftv3_vector"}]
# Values Recraft would refuse, each said in the dialog's own words.
REFUSED_STEPS = [
    {"prompt": "a fox", "model": "recraftv4_1", "size": "2048x1024"},  # a V3 size
    {"size": "none", "model": "recraftv3", "style": "any", "style-id": STYLE_ID},
    {"style-id": "", "model": "recraftv4_1", "style": "realistic_image"},  # V3 styles only
    {"style": "none", "size": "1536x768"},  # V4.1's 2:1: fine
]
DIALOGS = {
    "generate_cost": {"procedure": PREFIX + "generate", "steps": COST_STEPS},
    "inpaint": {"procedure": PREFIX + "inpaint", "steps": [{"n": 4}]},
    "generate_refused": {"procedure": PREFIX + "generate", "steps": REFUSED_STEPS},
}
# The click test: Images + and − this many times each, in bursts of three.
CLICK_ROUNDS = 40
PICTURE = {"width": 720, "height": 480, "box": [0, 0, 720, 480], "fill": "gradient"}
ELLIPSE = ["ellipse", 250, 140, 220, 180]


@pytest.fixture(scope="session")
def dialogs(gimp_gui):
    checks = [(name, "dialog_texts", args) for name, args in DIALOGS.items()]
    return gimp_gui.launch("dialogs", checks)


def _cost(op: str, values: dict) -> str:
    return f"Cost: about {forms.cost(op, values)} credits."


def test_cost_follows_images_and_model(dialogs):
    """The cost line changes with every change of Images and Model: V4.1 Pro with 6 images
    is 1500 credits, not the 40 of one image of the default model."""
    steps = dialogs.check("generate_cost").value["steps"]
    values, expected = {}, [_cost("generate", {})]
    for step in COST_STEPS:
        values.update(step)
        expected.append(_cost("generate", values))
    assert expected[3] == "Cost: about 1500 credits."
    shown = [next(line for line in s["about"].splitlines() if "Cost" in line) for s in steps]
    assert shown == expected


def test_inpaint_offers_only_models_that_fill_a_selection(dialogs):
    """A vector model redraws the whole picture and is refused for a selection: the Inpaint
    dialog does not offer one (and its cost follows Images too)."""
    got = dialogs.check("inpaint").value
    assert got["models"], "no Model argument"
    assert not [m for m in got["models"] if catalog.MODELS[m].vector], got["models"]
    assert "recraftv3" in got["models"]
    assert [s["about"].splitlines()[-1] for s in got["steps"]] == [
        _cost("inpaint", {}),
        _cost("inpaint", {"n": 4}),
    ]


def test_refusals_use_the_dialogs_words(dialogs):
    """What OK would refuse names fields and models as the dialog shows them, and a size the
    chosen model does not make is refused there (not after a call)."""
    refused = [s["refusal"] for s in dialogs.check("generate_refused").value["steps"]]
    assert refused[0] == "Prompt is required. Change it and run again."
    size, both, style, fine = refused[1:]
    assert size.startswith("Size: 2048x1024 is not supported by Recraft V4.1 "), size
    assert both.startswith("Saved style cannot be given together with style"), both
    assert style.startswith("Style is for V2/V3 models only, not Recraft V4.1"), style
    assert fine is None
    for text in refused[:-1]:
        assert not any(model in text for model in catalog.MODELS), text


def _user(screen: Screen, marker, title: str, seen: dict, stop: threading.Event) -> None:
    """What the user does with the Inpaint dialog: Images + twice and − twice (pictures taken
    meanwhile), then many quick clicks on both while the machine is busy, then Escape."""
    window = None
    try:
        wait_for(marker, 240, stop)
        window = screen.window(title, gone=stop)
        box = screen.geometry(window)
        seen["first"] = screen.grab(box)
        plus, minus = spin_buttons(seen["first"])
        x, y = box[:2]
        for button, label in ((plus, "at 3"), (minus, "back at 1")):
            for _ in range(2):
                screen.click(x + button[0], y + button[1])
            time.sleep(1.5)
            seen[label] = screen.grab(box)
        seen["plus"] = plus
        clicks = 0
        with busy(2):
            for _ in range(CLICK_ROUNDS):
                for button in (plus, plus, plus, minus, minus, minus):
                    screen.click(x + button[0], y + button[1])
                    clicks += 1
                if not screen.exists(window):
                    break
        seen["clicks"] = clicks
        time.sleep(1)
        seen["alive"] = screen.exists(window)
    except Exception as e:
        seen["error"] = repr(e)
    finally:
        for found in screen.xdotool("search", "--onlyvisible", "--name", title).split():
            screen.key(found, "Escape")


def test_inpaint_dialog_takes_many_clicks_on_a_busy_machine(gimp_gui, x_display, tmp_path):
    """Filters › Recraft › Inpaint selection… on a feathered selection, then Images + and −
    clicked hundreds of times while two processes keep the CPUs busy: the plug-in lives on
    (the dialog stays, Escape cancels it), and the cost line followed Images meanwhile."""
    screen, seen, stop = Screen(x_display), {}, threading.Event()
    marker = tmp_path / "dialog-open"
    title = "^Recraft: Inpaint"
    user = threading.Thread(target=_user, args=(screen, marker, title, seen, stop), daemon=True)
    user.start()
    args = {"procedure": PREFIX + "inpaint", "marker": str(marker), "args": {"prompt": "a hat"}}
    args.update(image=PICTURE, selection_shape=ELLIPSE, feather=16.0)
    try:
        launch = gimp_gui.launch("clicks", [("clicks", "interactive", args)])
    finally:
        stop.set()
        user.join(60)
        print("the user:", {k: v for k, v in seen.items() if not isinstance(v, np.ndarray)})
    assert "error" not in seen, seen.get("error")
    call = launch.check("clicks").value["call"]
    assert seen["alive"], f"the dialog went away after {seen['clicks']} clicks: {call}"
    assert seen["clicks"] == CLICK_ROUNDS * 6
    assert call["status"] == "cancel", call
    assert "crashed" not in launch.output.lower()
    for name in ("first", "at 3"):
        Image.fromarray(seen[name]).save(tmp_path / f"inpaint-dialog-{name.replace(' ', '-')}.png")
    # Above the Images row: the about text with its cost, Model and Prompt. It changed at
    # 3 images (120 credits, not 40) and was as before once back at 1.
    top = seen["plus"][1] - 25
    first, at_3, back = (seen[k][:top] for k in ("first", "at 3", "back at 1"))
    assert (first != at_3).any(), "the cost line did not follow Images"
    assert (first == back).all(), "back at 1 image, the dialog shows something else"


def test_settings_dialog_opens_and_cancels(gimp_gui, x_display, tmp_path):
    """Filters › Recraft › Settings…: its rows come from the settings the core describes
    (token, server, grow selection, soft edge, each with what it does); Escape saves
    nothing."""
    screen, seen, stop = Screen(x_display), {}, threading.Event()
    marker = tmp_path / "settings-open"

    def user() -> None:
        try:
            wait_for(marker, 240, stop)
            window = screen.window("^Recraft settings", gone=stop)
            seen["shot"] = screen.grab(screen.geometry(window))
        except Exception as e:
            seen["error"] = repr(e)
        finally:
            for found in screen.xdotool("search", "--onlyvisible", "--name", "^Recraft").split():
                screen.key(found, "Escape")

    thread = threading.Thread(target=user, daemon=True)
    thread.start()
    args = {"procedure": PREFIX + "settings", "marker": str(marker), "image": "none"}
    try:
        launch = gimp_gui.launch("settings", [("settings", "interactive", args)])
    finally:
        stop.set()
        thread.join(60)
    assert "error" not in seen, seen.get("error")
    assert launch.check("settings").value["call"]["status"] == "success"
    shot = seen["shot"]
    Image.fromarray(shot).save(tmp_path / "settings-dialog.png")
    # A real dialog: four rows of widgets and words, many colours, well taller than wide/4.
    assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 50
    assert not (gimp_gui.home / "recraft" / "settings.json").exists(), "Escape saved"
