"""Filters › Recraft › History… in the real GIMP, with the results library that Krita, GIMP and
the recraft command share (issue 20), against the local server.

One GIMP profile per version, with its GUI on Xvfb and RECRAFT_LIBRARY naming a folder of its
own, which the recraft command (run first) fills too. Launches, each a GIMP start of its own:
"earlier" runs remove background twice, the second time with the plug-in killed (SIGKILL) the
moment its result is kept in the library and before it is inserted; "again" starts GIMP anew
and brings results back through plug-in-recraft-history (as a script calls it, with an entry's
id) and through the History dialog itself, which the test grabs from the screen.

    RECRAFT_SCREENSHOTS=1 python3 -m pytest tests/gimp/test_gimp_history.py

also copies GIMP 3.0's History dialog to docs/screenshots/gimp-history.png.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fixtures_more import Screen, on_display, wait_for, x_display, xvfb_display
from PIL import Image

from recraft_core.library import Library

pytestmark = pytest.mark.timeout(900)
FIXTURES = (x_display, xvfb_display)  # for pytest, which finds them by name

PREFIX = "plug-in-recraft-"
ROOT = Path(__file__).resolve().parents[2]
CANVAS = (400, 320)
COVER = {"box": [0, 0, *CANVAS]}  # the photo layer covers the canvas
KILLED = {**COVER, "colour": [30, 60, 220]}  # a blue square: another picture than COVER's
CLI_PROMPT = "a lighthouse at dusk"
EXPLORED = "a red fox in the snow"  # an earlier GIMP session's Explore: four results
VARIED = "a kite over the dunes"  # an earlier GIMP session's Generate: three results
CLI_SIZE = "1024x1024"
BIG = {"width": 1200, "height": 1000, "box": [0, 0, 1200, 1000]}  # larger than the CLI's
ELSEWHERE = {"width": 600, "height": 500, "box": [0, 0, 600, 500]}  # not COVER's size
UNKNOWN_ID = "20200101-000000-abcdef"


@pytest.fixture(scope="session")
def history_gimp(gimp, gimp_pool, x_display, tmp_path_factory):
    """The version's GIMP with its GUI on the display, its own profile, and RECRAFT_LIBRARY
    naming a fresh folder; the recraft command has kept a generated picture there."""
    key = ("history", gimp.editor)
    if key not in gimp_pool:
        home = tmp_path_factory.mktemp(f"{gimp.editor}-history")
        on = on_display(gimp, x_display, home)
        on.library = home / "library"
        on.env["RECRAFT_LIBRARY"] = str(on.library)
        on.cli = _cli(gimp.server, on.library, home)
        gimp_pool[key] = on
    return gimp_pool[key]


def _cli(server, library: Path, cwd: Path) -> subprocess.CompletedProcess:
    """`recraft generate` against the local server, keeping its result in `library`."""
    env = dict(
        os.environ,
        RECRAFT_API_URL=server.base_url,
        RECRAFT_API_TOKEN=server.token,
        RECRAFT_LIBRARY=str(library),
        RECRAFT_CONFIG=str(cwd / "cli-settings.json"),
        PYTHONPATH=str(ROOT / "core"),
    )
    command = [sys.executable, "-m", "recraft_core", "generate", "--prompt", CLI_PROMPT]
    command += ["--size", CLI_SIZE, "-o", str(cwd / "lighthouse.png")]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def _entries(library: Path) -> list:
    with Library(library) as lib:
        return lib.list(limit=None)


def _operate(procedure, args=None, **kw) -> tuple:
    return ("operate", {"procedure": PREFIX + procedure, "args": args or {}, **kw})


@pytest.fixture(scope="session")
def earlier(history_gimp):
    """An earlier GIMP session: Explore, Generate of three, and remove background kept and
    inserted; then remove background again, killed between keeping and inserting."""
    killed = {"procedure": PREFIX + "remove-background", "image": KILLED}
    killed["library"] = str(history_gimp.library)
    checks = [
        ("explore", *_operate("explore", {"prompt": EXPLORED})),
        ("varied", *_operate("generate", {"prompt": VARIED, "n": 3})),
        ("cover", *_operate("remove-background", image=COVER)),
        ("killed", "killed_after_keeping", killed),
    ]
    return history_gimp.launch("earlier", checks)


@pytest.fixture(scope="session")
def again(history_gimp, earlier, x_display, tmp_path_factory):
    """GIMP started anew: entries brought back by id, then through the dialog (grabbed from
    the screen while it lists everything). The launch, the entries' ids by name, and the
    screenshot."""
    ids = _ids(history_gimp.library, earlier)
    folder = tmp_path_factory.mktemp(f"{history_gimp.editor}-history-shots")
    marker, menu = folder / "history.shown", folder / "menu.shown"
    dialog = {"search": "lighthouse", "insert": ids["killed"], "image": COVER}
    dialog.update(marker=str(marker), hold=4.0)

    def history(entry, args=None, **kw):
        return _operate("history", {"entry-id": ids.get(entry, entry), **(args or {})}, **kw)

    checks = [
        ("killed_inserted", *history("killed", image=COVER)),
        ("cover_elsewhere", *history("cover", image=ELSEWHERE)),
        ("cli_inserted", *history("cli", image=BIG)),
        ("cli_new_image", *history("cli", {"as-new-image": True}, image=COVER)),
        ("unknown", *history(UNKNOWN_ID)),
        ("varied_flipped", "history_variations", {"entry_id": ids["varied"], "image": COVER}),
        ("dialog", "history_dialog", dialog),
        # From the menu, as a user: Insert (its mnemonic, Alt+I), then Escape.
        ("menu", "interactive", {"procedure": PREFIX + "history", "marker": str(menu)}),
    ]
    seen, stop = {}, threading.Event()
    screen = Screen(x_display)

    def user() -> None:
        try:
            wait_for(marker, 600, stop)
            window = screen.window("^Recraft history", timeout=30, gone=stop)
            seen["shot"] = screen.grab(screen.geometry(window))
            wait_for(menu, 120, stop)
            window = screen.window("^Recraft history", timeout=30, gone=stop)
            time.sleep(2)  # the list is read on a worker
            screen.key(window, "alt+i")
            time.sleep(3)
            screen.key(window, "Escape")
        except Exception as e:
            seen["error"] = repr(e)

    grabber = threading.Thread(target=user, daemon=True)
    grabber.start()
    try:
        launch = history_gimp.launch("again", checks)
    finally:
        stop.set()
        grabber.join(60)
    assert "error" not in seen, seen["error"]
    shot = folder / "gimp-history.png"
    Image.fromarray(seen["shot"]).save(shot)
    return launch, ids, shot


def _ids(library: Path, earlier) -> dict:
    """The library's entries by what made them: the recraft command's, the killed job's (as
    the check saw its record appear) and the other GIMP job's."""
    earlier.check("cover")
    killed = earlier.check("killed").value["entry_id"]
    entries = _entries(library)
    (cli,) = [e.id for e in entries if e.front_end == "cli"]
    gimp = [e for e in entries if e.front_end == "gimp" and e.id != killed]
    (cover,) = [e.id for e in gimp if e.operation == "remove_background"]
    (varied,) = [e.id for e in gimp if e.operation == "generate"]
    return {"cli": cli, "cover": cover, "killed": killed, "varied": varied}


def _result(library: Path, entry_id: str) -> np.ndarray:
    """The entry's (first) result as Recraft sent it, RGBA."""
    with Library(library) as lib:
        data = lib.get(entry_id).result_paths[0].read_bytes()
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))


def _layer_pixels(check, node) -> np.ndarray:
    return check.pixels(node["pixels"])


def _assert_success(check) -> None:
    call = check.value["call"]
    assert call["status"] == "success", f"{check.name}: {call['message']}"


def _new_layer(check) -> dict:
    """The one layer the call added, on top."""
    before, after = check.value["before"]["layers"], check.value["after"]["layers"]
    assert len(after) == len(before) + 1, [n["name"] for n in after]
    return after[0]


# -- the tests ---------------------------------------------------------------------------------


def test_killed_before_inserting_the_result_is_in_the_library(history_gimp, earlier):
    """SIGKILL to the plug-in once its result is kept and before it is inserted: nothing in
    the image, and the entry whole in the library (its result file as the server sent it)."""
    check = earlier.check("killed")
    got = check.value
    assert got["killed"], "the plug-in was not killed"
    assert got["call"]["status"] != "success", got["call"]
    assert got["after"] == got["before"], "something was inserted before the kill"
    assert check.sent("/images/removeBackground").status == 200
    with Library(history_gimp.library) as lib:
        entry = lib.get(got["entry_id"])
    assert entry is not None and entry.operation == "remove_background"
    assert entry.front_end == "gimp"
    assert entry.result_paths[0].stat().st_size == entry.results[0].bytes
    assert "Traceback" not in earlier.output


def test_history_inserts_the_killed_result_after_a_restart(history_gimp, again):
    """GIMP started again: History (by the entry's id, as a script) inserts the result the
    killed plug-in never did, at its place: the image has the size of the one it was made
    in, so the layer covers it as the photo did, pixel for pixel as Recraft sent it."""
    launch, ids, _ = again
    check = launch.check("killed_inserted")
    _assert_success(check)
    new = _new_layer(check)
    assert new["name"] == "Recraft remove background"
    assert (new["offsets"], new["size"]) == ([0, 0], list(CANVAS))
    expected = _result(history_gimp.library, ids["killed"])
    assert (_layer_pixels(check, new) == expected).all(), "not the kept result's pixels"
    assert "Traceback" not in launch.output


@pytest.mark.parametrize(
    "case, entry, place",
    [
        # GIMP's result into an image of another size: centred on it, at its own size.
        ("cover_elsewhere", "cover", ([100, 90], list(CANVAS))),
        # The recraft command's 1024 px picture into a 1200 x 1000 image: centred, unscaled
        # (it is no larger than the image on both sides, so it is not scaled down to cover).
        ("cli_inserted", "cli", ([88, -12], [1024, 1024])),
    ],
)
def test_history_centres_a_result_elsewhere(history_gimp, again, case, entry, place):
    launch, ids, _ = again
    check = launch.check(case)
    _assert_success(check)
    new = _new_layer(check)
    assert (new["offsets"], new["size"]) == place
    assert (_layer_pixels(check, new) == _result(history_gimp.library, ids[entry])).all()
    assert check.requests == [], "History asked the server"


def test_history_opens_a_result_as_a_new_image(history_gimp, again):
    launch, ids, _ = again
    check = launch.check("cli_new_image")
    _assert_success(check)
    before, after = check.value["before"]["layers"], check.value["after"]["layers"]
    assert [n["name"] for n in after] == [n["name"] for n in before], "the image changed"
    (opened,) = check.value["opened"]
    assert opened["size"] == [1024, 1024]
    (layer,) = opened["layers"]
    assert layer["name"] == f"Recraft generate: {CLI_PROMPT}"
    assert (_layer_pixels(check, layer) == _result(history_gimp.library, ids["cli"])).all()
    assert check.value["call"]["values"] == [{"image": check.value["opened_ids"][0]}]


def _showing(layers: list) -> list[bool]:
    return [child["visible"] for child in layers[0]["children"]]


def test_history_inserts_several_results_as_variations_to_flip(again):
    """An entry of three results (an earlier session's Generate) inserted from History: the
    group a fresh job makes, named as variations, #1 on top and the only one showing; Next
    variation on the group then shows #2 alone, and nothing else changes."""
    launch, _, _ = again
    check = launch.check("varied_flipped")
    got = check.value
    assert got["insert"]["status"] == "success", got["insert"]
    name = f"Recraft generate: {VARIED}"
    group, *rest = got["inserted"]
    assert group["group"] and group["name"] == name
    assert [n["name"] for n in rest] == ["photo", "Background"]
    assert [c["name"] for c in group["children"]] == [f"{name} #{k} of 3" for k in (1, 2, 3)]
    assert _showing(got["inserted"]) == [True, False, False]
    (flip,) = got["flips"]
    assert flip["call"]["status"] == "success", flip["call"]
    assert flip["call"]["values"] == ["Variation 2 of 3"]
    assert _showing(flip["layers"]) == [False, True, False]

    def without_visibility(layers: list) -> list:
        group, *rest = layers
        children = [{k: v for k, v in c.items() if k != "visible"} for c in group["children"]]
        return [{**group, "children": children}, *rest]

    assert without_visibility(flip["layers"]) == without_visibility(got["inserted"])
    assert check.requests == [], "History asked the server"


def test_history_says_when_an_entry_is_not_there(again):
    check = again[0].check("unknown")
    call = check.value["call"]
    assert call["status"] == "execution-error", call
    assert UNKNOWN_ID in call["message"] and "recraft history" in call["message"], call
    assert check.value["opened"] == []


def test_history_dialog_lists_what_the_cli_and_an_earlier_gimp_kept(history_gimp, again):
    """The dialog lists the recraft command's picture and both earlier GIMP results (the
    killed one too), newest first, each with a thumbnail, its operation, where it came from
    and its credits; "Spent today" sums them; a search finds by the prompt; Insert puts the
    selected result into the image, Open as a new image opens it."""
    launch, ids, shot = again
    got = launch.check("dialog").value
    with Library(history_gimp.library) as lib:
        entries = lib.list(limit=None)
        spent = lib.spent()
    rows = got["all"]["rows"]
    assert [r["id"] for r in rows] == [e.id for e in entries]
    assert {ids["cli"], ids["cover"], ids["killed"]} <= {r["id"] for r in rows}
    assert all(r["thumbnail"] for r in rows), rows
    texts = {r["id"]: r["text"] for r in rows}
    assert "command line" in texts[ids["cli"]] and CLI_PROMPT in texts[ids["cli"]]
    assert "GIMP" in texts[ids["killed"]] and "Remove background" in texts[ids["killed"]]
    (explored,) = [e for e in entries if e.operation == "explore"]
    assert "4 images" in texts[explored.id] and EXPLORED in texts[explored.id]
    credits = {e.id: str(e.credits) for e in entries}
    assert {r["id"]: r["credits"] for r in rows} == credits
    assert got["all"]["spent"] == f"Spent today: {spent} credits"
    assert [r["id"] for r in got["searched"]["rows"]] == [ids["cli"]]

    assert got["insert_sensitive"]
    assert got["status_inserted"].startswith("Inserted “Recraft remove background”"), got
    top = got["after"]["layers"][0]
    assert top["name"] == "Recraft remove background"
    assert (top["offsets"], top["size"]) == ([0, 0], list(CANVAS))
    expected = _result(history_gimp.library, ids["killed"])
    assert (launch.check("dialog").pixels(top["pixels"]) == expected).all()
    assert got["status_new_image"].startswith("Opened “Recraft remove background”"), got
    assert len(got["opened"]) == 1 and got["opened"][0]["size"] == list(CANVAS)
    with Library(history_gimp.library) as lib:
        said = [i.where for i in lib.get(ids["killed"]).inserted]
    assert len(said) >= 3, said  # by id, then the dialog's two: each said where it went

    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200, "not a drawn dialog"
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and history_gimp.editor.version.startswith(
        "3.0"
    ):
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "gimp-history.png")


def test_history_from_the_menu_inserts_the_selected_result(again):
    """Filters › Recraft › History… on an image, as a user runs it: the newest result is
    selected, Insert as a new layer (Alt+I) puts it above the active layer, Escape closes."""
    got = again[0].check("menu").value
    assert got["call"]["status"] == "success", got["call"]
    names = [layer["name"] for layer in got["after"]["layers"]]
    assert names == ["Recraft remove background", "photo", "Background"], names


# -- a soft inpaint inserted again (its edge kept in the library) ---------------------------------

SOFT_SELECTION = ["ellipse", 120, 90, 180, 140]


@pytest.fixture(scope="session")
def soft(history_gimp, earlier):
    """A soft inpaint, then its entry inserted again (as a script does, by id); the dialog
    inserting the earlier session's three results, for what it says."""
    ids = _ids(history_gimp.library, earlier)
    soft = {"library": str(history_gimp.library), "prompt": "a red hat", "image": COVER}
    soft.update(selection_shape=SOFT_SELECTION, feather=24.0)
    dialog = {"search": VARIED, "insert": ids["varied"], "image": COVER}
    checks = [("soft", "history_soft", soft), ("dialog_varied", "history_dialog", dialog)]
    return history_gimp.launch("soft", checks)


def test_history_inserts_a_soft_inpaint_as_it_was_first_inserted(soft):
    """The entry of an inpaint through a soft selection, inserted again into an image of its
    size: the same layer (Recraft's pixels over the sent region), the same layer mask (the
    soft edge), and the same picture, byte for byte; not Recraft's whole frame over the
    photo."""
    check = soft.check("soft")
    got = check.value
    assert got["call"]["status"] == "success" and got["insert"]["status"] == "success", got
    first, again = got["first"]["layers"][0], got["again"]["layers"][0]
    assert first["name"] == again["name"] == "Recraft inpaint: a red hat"
    for key in ("offsets", "size", "digest", "mask_size", "mask_digest"):
        assert again.get(key) == first.get(key), key
    assert first["mask"] is not None, "GIMP's first insertion has no layer mask"
    mask = check.pixels(again["mask"])[..., 0]
    assert mask[0, 0] == 0 and mask.max() == 255 and ((mask > 0) & (mask < 255)).any()
    shown_first = check.pixels(got["first"]["composite"])
    shown_again = check.pixels(got["again"]["composite"])
    assert (shown_again == shown_first).all(), "the image shows something else"


def test_the_dialog_says_how_many_variations_it_inserted(soft):
    got = soft.check("dialog_varied").value
    name = f"Recraft generate: {VARIED}"
    said = f"Inserted 3 variations of “{name}” as a group (#1 showing). The 1152x896 px"
    assert got["status_inserted"].startswith(said), got["status_inserted"]
    opened = f"Opened 3 variations of “{name}” as a new image."
    assert got["status_new_image"].startswith(opened), got["status_new_image"]
