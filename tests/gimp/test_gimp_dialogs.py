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

from recraft_core import settings
from recraft_core.api import catalog, forms
from recraft_core.api.operations import OPERATIONS
from recraft_server.testing import TEST_TOKEN as TOKEN

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


# -- dialogs as drawn: one-choice rows, Explore similar's source, the token check -------------

SHOTS = {  # check name -> the title of the window the test grabs while it holds
    "inpaint_drawn": "^Recraft: Inpaint",
    "similar_from_layer": "^Recraft: Explore similar",
    "similar_no_source": "^Recraft: Explore similar",
    "settings_checked": "^Recraft settings",
}
UNREACHABLE = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
CHECK_DELAY = 3  # seconds the server sits on the first token check


def _shooter(screen: Screen, markers: dict, seen: dict, stop: threading.Event) -> None:
    """Grabs each dialog of SHOTS when its check says it is shown (its marker file)."""
    try:
        for name, title in SHOTS.items():
            wait_for(markers[name], 300, stop)
            window = screen.window(title, timeout=30, gone=stop)
            seen[name] = screen.grab(screen.geometry(window))
    except Exception as e:
        seen["error"] = repr(e)


@pytest.fixture(scope="session")
def drawn(gimp_gui, x_display, tmp_path_factory):
    """One GUI launch: the Inpaint dialog (one model only), Explore similar's on a layer
    Explore made and on one it did not (OK pressed on each), and Settings checking four
    tokens; each dialog grabbed from the screen while it is shown."""
    folder = tmp_path_factory.mktemp(f"{gimp_gui.editor}-drawn")
    markers = {name: folder / f"{name}.shown" for name in SHOTS}
    hold = {"hold": 3.0}
    token, server = gimp_gui.server.token, gimp_gui.server.base_url
    cases = [
        {"token": token, "server": server},  # the server waits CHECK_DELAY s on this one
        {"token": "wrong-token", "server": server},
        {"token": token, "server": UNREACHABLE},
        {"token": token, "server": server},
    ]
    checks = [
        ("inpaint_drawn", "operation_dialog", {"procedure": PREFIX + "inpaint"}),
        (
            "similar_from_layer",
            "operation_dialog",
            {"procedure": PREFIX + "explore-similar", "layer": "explored", "press_ok": True},
        ),
        (
            "similar_no_source",
            "operation_dialog",
            {"procedure": PREFIX + "explore-similar", "press_ok": True},
        ),
        ("settings_checked", "settings_check", {"cases": cases}),
    ]
    for name, _, args in checks:
        args.update(hold, marker=str(markers[name]))
    seen, stop = {}, threading.Event()
    screen = Screen(x_display)
    shooter = threading.Thread(target=_shooter, args=(screen, markers, seen, stop), daemon=True)
    shooter.start()
    delay = {"kind": "delay", "seconds": CHECK_DELAY, "path": "/users/me"}
    try:
        launch = gimp_gui.launch("drawn", checks, faults=[delay])
    finally:
        stop.set()
        shooter.join(60)
    for name, picture in seen.items():
        if isinstance(picture, np.ndarray):
            Image.fromarray(picture).save(folder / f"{name}.png")
    return launch, seen, folder, gimp_gui.server.credits


def test_a_model_menu_of_one_choice_reads_as_a_line(drawn):
    """Inpaint can use one model only (the vector one cannot fill a selection): the dialog
    says "Model: Recraft V3" in words, not as a lone radio button (GIMP 3.2 draws a menu of
    three choices or fewer as radio buttons) nor as a menu offering nothing to choose."""
    launch, seen, folder, _ = drawn
    assert "error" not in seen, seen.get("error")
    got = launch.check("inpaint_drawn").value
    (only,) = [m for m in OPERATIONS["inpaint"].models if not catalog.MODELS[m].vector]
    assert f"Model: {catalog.MODELS[only].label}" in got["labels"], got["labels"]
    assert got["radio_buttons"] == 0, f"radio buttons drawn: {got}"
    assert "Model" not in got["labels"], "a Model row of GIMP's own is still drawn"
    assert (folder / "inpaint_drawn.png").exists()


def test_colour_fields_show_their_format_and_saved_style_leaves_no_gap(drawn):
    """Colors and Background color are text boxes: empty, they show an example of what to type
    (#rrggbb, the operations table's placeholder). Nothing under Saved style's entry until it
    has something to say: the next row follows at the spacing of the rows above."""
    launch, _seen, folder, _ = drawn
    got = launch.check("inpaint_drawn").value
    controls = {f.name: f for f in OPERATIONS["inpaint"].field("controls").parts}
    for name in ("colors", "background_color"):
        assert controls[name].placeholder in got["placeholders"], got["placeholders"]
    rows = got["rows"]
    spacing = rows["style"][0] - (rows["n"][0] + rows["n"][1])
    gap = rows["negative-prompt"][0] - (rows["style-id"][0] + rows["style-id"][1])
    assert gap <= spacing + 2, f"a gap of {gap} px under Saved style, rows {spacing} px apart"
    assert (folder / "inpaint_drawn.png").exists()


def test_explore_similar_dialog_takes_the_layers_image(drawn):
    """On a layer Explore made: the dialog says which layer it starts from, shows no id field
    to fill, and OK runs with that layer's id. On another layer: it says what to do before
    anything is sent, and OK with nothing pasted says it again and stays open."""
    launch = drawn[0]
    got = launch.check("similar_from_layer").value
    assert "#2" in got["layer"], got["layer"]
    name, advice = got["start"]
    assert name == got["layer"] and advice is None
    assert got["source_id"], "the layer's id was not taken"
    assert any(f"starts from the layer “{name}”" in text for text in got["labels"]), got
    assert got["entries"] == 0, "an id field is shown although the layer gave the id"
    assert got["ran"] is True

    got = launch.check("similar_no_source").value
    name, advice = got["start"]
    assert name is None and "was not made by Explore" in advice, got["start"]
    assert advice in got["labels"], "the dialog does not say what to do"
    assert got["source_id"] == ""
    assert got["ran"] is False and got["refusal"] == advice
    explored = [r for r in launch.requests if r.path.endswith("/images/explore/similar")]
    assert explored == [], "pressing OK sent something"


def test_settings_check_says_whether_the_token_works(drawn):
    """Check in Settings asks the server typed with the token typed: "Token works: N credits"
    (the server's balance), the wrong token and an unreachable server in plain words; the
    dialog keeps drawing while the server takes its time (a thread, then an idle callback)."""
    launch, _, folder, credits = drawn
    got = launch.check("settings_checked").value
    slow, wrong, unreachable, right = got["cases"]
    for case in got["cases"]:
        assert case["pressed"] < 0.1, f"pressing Check blocked the dialog: {case}"
        assert case["during"] == "Checking…"
        assert case["button_sensitive"]
    assert slow["seconds"] >= CHECK_DELAY - 0.5, slow
    assert slow["longest_turn"] < 0.1 and slow["turns"] > 50, f"the dialog froze: {slow}"
    assert slow["said"] == right["said"] == f"Token works: {credits} credits."
    assert wrong["said"].startswith("Wrong token: Recraft refused it."), wrong
    assert unreachable["said"].startswith("Cannot reach the server: "), unreachable
    assert "127.0.0.1:9" in unreachable["said"]
    assert not [c for c in got["cases"] if TOKEN in c["said"]], "the token shown"
    sent = [r for r in launch.requests if r.path.endswith("/users/me")]
    assert [r.authorized for r in sent] == [True, False, True]
    assert "Traceback" not in launch.output
    assert (folder / "settings_checked.png").exists()
    # Each row as its kind wants: numbers in spin boxes, the switch a check box.
    kinds = {"pixels": "int", "gigabytes": "int", "switch": "bool"}
    expected = {e.name: kinds.get(e.kind, "str") for e in settings.ENTRIES}
    assert got["kinds"] == expected
