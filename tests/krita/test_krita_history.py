"""The docker's History page in the real Krita (every version found), over the results library
that Krita, GIMP and the recraft command share.

One scene per Krita version, in three steps sharing one library (RECRAFT_LIBRARY):

1. the recraft command generates a picture against the local server (it keeps it);
2. Krita runs Generate from the docker (inserted as usual: an earlier session's result),
   then Remove background, and is killed with SIGKILL once the library holds that result
   and before anything could insert it: the payload holds Krita's GUI thread from Run on,
   and Krita inserts results only on that thread, so the kill always falls between the two;
3. Krita again: History lists all three; each is inserted as a user does it (pixels and
   offsets checked against the files Recraft sent); Use these settings puts the earlier
   Generate back in the form; search; Delete. A picture of the page for the README.

The tests below read what each step left (`scene`).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from editor_harness import started
from krita_harness import LAUNCH_TIMEOUT, ROOT, launch
from layer_checks import names, rgba
from PIL import Image

pytestmark = pytest.mark.timeout(900)

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / "history_payloads.py"
WIDTH, HEIGHT = 400, 320
OTHER_SIZE = (500, 400)
SQUARE = (100, 80, 120, 90)
CLI_PROMPT = "a lighthouse from the cli"
GENERATE = {
    "operation": "generate",
    "values": {
        "prompt": "a red fox by the sea",
        "model": "recraftv3",
        "style": "digital_illustration",
        "n": 1,
        "size": "1024x1024",
        "random_seed": 7,
        "negative_prompt": "blur",
    },
}
VARIED = (40, 120, 200)  # the greys of the three results
SEEDED = 70  # entries in the library Settings moves to: more than two pages


class Scene:
    """What the three steps left: the library, the killed Krita's report, the restarted
    Krita's, and the server's records."""

    def __init__(self, library: Path, cli: dict, killed: dict, restart, requests):
        self.library = library
        self.cli = cli
        self.killed = killed
        self.restart = restart
        self.requests = requests

    @property
    def after(self) -> dict:
        return self.restart.value

    def record(self, operation: str) -> dict:
        found = [r for r in self.killed["records"] if r["operation"] == operation]
        assert len(found) == 1, [r["operation"] for r in self.killed["records"]]
        return found[0]

    def result_file(self, record: dict) -> Path:
        day = f"{record['id'][:4]}-{record['id'][4:6]}-{record['id'][6:8]}"
        return self.library / day / record["id"] / record["results"][0]["file"]


@pytest.fixture
def scene(once, new_krita, recraft_server_session, tmp_path_factory) -> Scene:
    return once("history", lambda: _play(new_krita, recraft_server_session, tmp_path_factory))


def _play(new_krita, server, tmp_path_factory) -> Scene:
    server.reset()
    krita = new_krita("history")
    library = krita.home / "recraft-library"
    env = dict(krita.env(), RECRAFT_LIBRARY=str(library))

    # 1. The recraft command, into the same library.
    work = tmp_path_factory.mktemp("cli")
    cli_env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "core"),
        RECRAFT_API_URL=server.base_url,
        RECRAFT_API_TOKEN=server.token,
        RECRAFT_LIBRARY=str(library),
        RECRAFT_CONFIG=str(work / "settings.json"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "recraft_core", "history", "--json", "--limit", "0"],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and json.loads(done.stdout) == [], done.stderr
    made = subprocess.run(
        [sys.executable, "-m", "recraft_core", "generate", "--prompt", CLI_PROMPT, "-o", "cli.png"],
        env=cli_env,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "recraft_core", "history", "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
    )
    cli = json.loads(listed.stdout)[0]
    cli["picture"] = Path(cli["result_paths"][0]).read_bytes()  # History deletes it later

    # 2. Krita, killed once the library holds its result.
    out = krita.out_dir / "killed"
    marker = out / "kept.json"
    args = {
        "width": WIDTH,
        "height": HEIGHT,
        "square": SQUARE,
        "generate": GENERATE,
        "library": str(library),
        "marker": str(marker),
    }
    killed = _killed(krita, env, out, "earlier_session_then_killed", args, marker)

    # Three results of one generate, as GIMP would record them: they come back as variations.
    three = _seed_variations(library)

    # Another library, for Settings to move to: more than a page of GIMP's results.
    elsewhere = krita.out_dir / "restart" / "elsewhere"
    _seed(elsewhere, SEEDED)

    # 3. Krita again.
    ids = {r["operation"]: r["id"] for r in killed["records"]}
    args = {
        "width": WIDTH,
        "height": HEIGHT,
        "square": SQUARE,
        "killed": ids["remove_background"],
        "cli": cli["id"],
        "earlier": ids["generate"],
        "three": three,
        "other_size": OTHER_SIZE,
        "elsewhere": str(elsewhere),
        "seeded": SEEDED,
    }
    restart = launch(
        krita.editor,
        krita.home,
        env,
        krita.out_dir / "restart",
        "history_after_restart",
        args,
        payloads=PAYLOADS,
    )
    assert restart.errors == [], "exceptions in Krita:\n" + "\n".join(restart.errors)
    assert restart.plugin_stderr() == [], "Krita's stderr reports trouble"
    return Scene(library, cli, killed, restart, list(server.requests))


def _seed(folder: Path, n: int) -> None:
    """n entries as GIMP would record them, a second apart, each costing 1 credit."""
    from recraft_core.imaging.png import Raster
    from recraft_core.library import Library

    with Library(folder) as library:
        for i in range(n):
            picture = Raster(64, 48, "RGBA", bytes([i * 3 % 256, 90, 160, 255]) * (64 * 48))
            library.record(
                "remove_background",
                [picture.to_png()],
                params={"prompt": f"seeded picture {i}"},
                front_end="gimp",
                credits=1,
                pixels=[picture],
            )


def _seed_variations(folder: Path) -> str:
    """A generate of three results (three greys) recorded in the library; its id."""
    from recraft_core.imaging.png import Raster
    from recraft_core.library import Library

    pictures = [Raster(256, 256, "RGBA", bytes([v, v, v, 255]) * (256 * 256)) for v in VARIED]
    with Library(folder) as library:
        return library.record(
            "generate",
            [p.to_png() for p in pictures],
            params={"prompt": "three greys", "n": 3},
            front_end="gimp",
            credits=3,
            pixels=pictures,
        )


def _killed(krita, env, out: Path, call: str, args: dict, marker: Path) -> dict:
    """Start Krita on `call`, wait for its marker, SIGKILL it; the marker's report, with
    how Krita ended."""
    out.mkdir(parents=True, exist_ok=True)
    copy = out / PAYLOADS.name
    shutil.copyfile(PAYLOADS, copy)
    env = dict(
        env,
        RECRAFT_PROBE_PAYLOAD=str(copy),
        RECRAFT_PROBE_CALL=call,
        RECRAFT_PROBE_ARGS=json.dumps(args),
        RECRAFT_PROBE_RESULT=str(out / f"{call}.result.json"),
        RECRAFT_PROBE_OUT=str(out),
    )
    log = out / f"{call}.stderr.txt"
    with started(krita.editor.argv("--nosplash"), log, env=env, cwd=out) as proc:
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while not marker.exists():
            failed = out / f"{call}.result.json"
            if failed.exists():  # the payload raised before it got there
                pytest.fail(f"{call} ended: {failed.read_text()}\n{log.read_text()[-3000:]}")
            assert proc.poll() is None, f"Krita exited {proc.returncode}\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no {marker.name} after {LAUNCH_TIMEOUT} s"
            time.sleep(0.05)
        report = json.loads(marker.read_text())
        time.sleep(0.5)  # long enough for any insertion to have happened, were one possible
        running = proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    report["running_when_killed"] = running
    report["returncode"] = proc.returncode
    return report


# -- the tests ------------------------------------------------------------------------------------


def test_a_result_kept_before_a_kill_is_listed_and_inserts_after_a_restart(scene):
    """SIGKILL after Recraft answered and the library kept the result, before Krita could
    insert it (the report written at that instant has no result layer); the next Krita's
    History lists it and inserts it where it was made: Recraft's pixels, at (0, 0), above
    the active layer."""
    killed = scene.killed
    assert killed["running_when_killed"] and killed["returncode"] == -signal.SIGKILL
    assert not any(n.startswith("Recraft remove background") for n in names(killed["layers"]))
    assert killed["busy"], "the job was not running any more when Krita was killed"
    record = scene.record("remove_background")
    assert record["front_end"] == "krita" and record["inserted"] == []
    assert record["placement"]["canvas"] == [WIDTH, HEIGHT]
    listed = {e["id"]: e for e in scene.after["listed"]}
    assert record["id"] in listed

    got = scene.after["killed"]
    assert [n["name"] for n in got["added"]] == ["Recraft remove background"] and got["above"]
    want = rgba(scene.result_file(record))
    pixels = rgba(scene.restart.out_dir / "killed.png")
    assert pixels.shape == want.shape == (HEIGHT, WIDTH, 4)
    assert (pixels[..., 3] == want[..., 3]).all()
    shown = want[..., 3] > 0
    assert shown.any() and (pixels[shown] == want[shown]).all()
    # The library was told where it went.
    entry = json.loads((scene.result_file(record).parent / "record.json").read_text())
    assert any("Recraft remove background" in i["where"] for i in entry["inserted"]), entry


def test_several_results_come_back_as_variations_to_flip(scene):
    """A three-result entry goes in as a fresh job's results do: one group, "#1 of 3" on top
    and the only one showing; Next variation then shows #2 alone."""
    three = scene.after["three"]
    (group,) = three["added"]
    assert group["type"] == "grouplayer", three["tree"]
    top_down = list(reversed(group["children"]))
    assert [c["name"].rsplit(" ", 3)[-3:] for c in top_down] == [
        ["#1", "of", "3"], ["#2", "of", "3"], ["#3", "of", "3"],
    ]  # fmt: skip
    assert [c["visible"] for c in top_down] == [True, False, False]
    picture = np.asarray(Image.open(scene.restart.out_dir / "three.png").convert("RGBA"))
    assert (picture[..., :3] == VARIED[0]).all()  # the group shows #1's grey
    assert three["next"] == ["Variation 2 of 3", False]
    after = list(reversed(three["after_next"]))
    assert [c["visible"] for c in after] == [False, True, False]
    assert [c["name"] for c in after] == [c["name"] for c in top_down]  # nothing else moved


def test_on_an_image_of_another_size_a_result_is_centred(scene):
    """The same result on a 500 x 400 image: its 400 x 320 pixels centred, unscaled (the
    whole image's pixels compared: the offset is (50, 40))."""
    record = scene.record("remove_background")
    w2, h2 = OTHER_SIZE
    pixels = rgba(scene.restart.out_dir / "centred.png")
    want = np.zeros((h2, w2, 4), np.uint8)
    x, y = (w2 - WIDTH) // 2, (h2 - HEIGHT) // 2
    want[y : y + HEIGHT, x : x + WIDTH] = rgba(scene.result_file(record))
    assert (pixels[..., 3] == want[..., 3]).all() and want[..., 3].any()
    shown = want[..., 3] > 0
    assert (pixels[shown] == want[shown]).all()


def test_history_lists_earlier_sessions_and_the_command_line(scene):
    """Newest first: the three greys GIMP made after the kill, the killed job, the earlier
    Generate, the command line's picture, each with a thumbnail; rows say the operation, the
    cost, the prompt, when and where."""
    listed = scene.after["listed"]
    assert [(e["operation"], e["front_end"]) for e in listed] == [
        ("generate", "gimp"),
        ("remove_background", "krita"),
        ("generate", "krita"),
        ("generate", "cli"),
    ]
    assert listed[3]["id"] == scene.cli["id"] and listed[3]["prompt"] == CLI_PROMPT
    assert listed[2]["prompt"] == GENERATE["values"]["prompt"]
    assert all(scene.after["icons"]), "a row without a thumbnail"
    rows = scene.after["rows"]
    assert rows[3].split("\n") == [
        f"Generate · {listed[3]['credits']} credits",
        CLI_PROMPT,
        rows[3].split("\n")[2],
    ]
    assert rows[3].split("\n")[2].startswith("today ") and rows[3].endswith("· command line")
    assert rows[1].endswith("· Krita") and rows[1].split("\n")[1] == "from kill"
    assert rows[0].endswith("· GIMP · 3 images") and rows[0].startswith("Generate · 3 credits")
    assert scene.after["count"] == "4 results"
    spent = sum(e["credits"] for e in listed)
    assert f"Spent today: {spent}" in scene.after["cost_label"], scene.after["cost_label"]
    assert scene.after["stall_ms"] < 250, f"the GUI thread stalled {scene.after['stall_ms']} ms"


def test_a_command_line_picture_is_centred_and_scaled_to_cover(scene):
    """1024 px square on a 400 x 320 image: 400 px square, centred (as a job places it)."""
    got = scene.after["cli"]
    assert got["added"][0]["name"] == f"Recraft generate: {CLI_PROMPT}"
    assert got["added"][0]["bounds"] == [0, (HEIGHT - WIDTH) // 2, WIDTH, WIDTH]
    source = Image.open(io.BytesIO(scene.cli["picture"]))
    want = np.asarray(source.convert("RGBA").resize((WIDTH, WIDTH), Image.Resampling.BILINEAR))
    pixels = rgba(scene.restart.out_dir / "cli.png").astype(int)
    assert np.abs(pixels - want.astype(int)).mean() < 4


def test_use_these_settings_restores_the_form(scene):
    got = scene.after["reuse"]
    assert got["operation"] == GENERATE["operation"] and got["page"] == 0
    assert got["values"] == GENERATE["values"], got
    assert "settings of that Generate are in the form" in got["message"]
    sent = [r for r in scene.requests if r.path.endswith("/images/generations")]
    assert len(sent) == 2  # the command line's and the earlier session's
    body = sent[-1].params or sent[-1].fields
    assert {k: body.get(k) for k in ("prompt", "model", "style")} == {
        k: GENERATE["values"][k] for k in ("prompt", "model", "style")
    }


def test_search_and_delete(scene):
    after = scene.after
    assert after["search"] == [scene.cli["id"]]
    assert after["asked"] == "Delete?" and after["kept_after_one_click"]
    assert scene.cli["id"] not in after["after_delete"] and len(after["after_delete"]) == 3
    gone = [p for p in scene.library.rglob("record.json") if scene.cli["id"] in str(p)]
    assert gone == []


def test_the_library_settings_are_in_settings_and_history_follows_them(scene):
    """Settings has the library's rows (a folder, a size in GB, a switch); saved from the
    docker's Settings… button, History shows the new folder's results (none), then says
    the library is off."""
    moved, off = scene.after["moved"], scene.after["off"]
    rows = moved["rows"]
    assert rows["library_folder"]["widget"] == "QLineEdit"
    assert rows["library_folder"]["placeholder"] == str(scene.library)  # the default, here
    assert (rows["library_cap_gb"]["widget"], rows["library_cap_gb"]["suffix"]) == (
        "QSpinBox",
        " GB",
    )
    assert rows["library_off"]["widget"] == "QCheckBox"
    labels = [rows[n]["label"].replace("&", "") for n in rows]  # Krita adds accelerators
    assert labels[-3:] == [
        "Library folder",
        "Library size",
        "Keep no results",
    ]
    elsewhere = str(scene.restart.out_dir / "elsewhere")
    assert moved["saved"]["library_folder"] == elsewhere and moved["saved"]["library_cap_gb"] == 12
    assert f"Spent today: {SEEDED}" in moved["cost_label"], moved["cost_label"]
    assert off["saved"]["library_off"] is True and off["saved"]["library_folder"] == elsewhere
    assert off["entries"] == 0 and not off["list_shown"]
    assert off["status"].startswith("The results library is off"), off["status"]
    assert "Spent today" not in off["cost_label"]


def test_history_loads_a_page_at_a_time_without_stalling_krita(scene):
    """A library of 70: the first page (30) at once, the next as the list is scrolled to
    its end; the GUI thread never held long meanwhile (the library is asked on a thread of
    its own)."""
    moved = scene.after["moved"]
    assert moved["pages"] == [30, 60, SEEDED], moved["pages"]
    assert moved["count"] == f"{SEEDED} results"
    # A page into the list on the GUI thread (its thumbnails read and decoded elsewhere).
    assert moved["arrival_ms"] < 50, f"a page took {moved['arrival_ms']} ms to show"
    # Anything at all that held the GUI thread meanwhile (the Settings dialog included);
    # loose: the machine runs other editors at once.
    assert moved["stall_ms"] < 250, f"the GUI thread stalled {moved['stall_ms']} ms"


def test_screenshot_of_the_history_page(scene):
    """The docker's History page as Krita first shows the docker. RECRAFT_SCREENSHOTS=1
    copies it to docs/screenshots/krita-history.png."""
    shot = scene.restart.out_dir / "krita-history.png"
    image = Image.open(shot)
    assert list(image.size) == scene.after["screenshot"]
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 24)) > 50, "a blank docker"
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots" / "krita-history.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


# -- a soft inpaint inserted again (its edge kept in the library) ---------------------------------

SOFT = {"selection": [150, 100, 140, 110], "feather": 18, "prompt": "a red hat"}


@pytest.fixture
def soft(once, new_krita, recraft_server_session) -> dict:
    def play():
        krita = new_krita("history-soft")
        library = krita.home / "recraft-library"
        three = _seed_variations(library)
        env = dict(krita.env(), RECRAFT_LIBRARY=str(library))
        args = dict(SOFT, width=WIDTH, height=HEIGHT, three=three)
        got = launch(
            krita.editor, krita.home, env, krita.out_dir, "soft_inpaint_again", args, PAYLOADS
        )
        assert got.errors == [], "exceptions in Krita:\n" + "\n".join(got.errors)
        assert got.plugin_stderr() == [], "Krita's stderr reports trouble"
        raw = {
            f"{tag}-{name}": (krita.out_dir / f"{tag}-{name}.raw").read_bytes()
            for tag in ("first", "again")
            for name in ("layer", "mask", "shown")
        }
        return {"value": got.value, "raw": raw, "library": library}

    return once("history-soft", play)


def test_a_soft_inpaint_goes_back_as_it_was_first_inserted(soft):
    """Inserted again from History into an image of its size: the same layer (Recraft's
    pixels), the same transparency mask where this Krita makes them (5.2 on; baked into the
    alpha in 5.1), and the same picture on the canvas, byte for byte; not Recraft's whole
    frame covering the photo."""
    got, raw = soft["value"], soft["raw"]
    first, again = got["first"], got["again"]
    assert first["masked"] is got["can_mask"] and again["masked"] is got["can_mask"]
    assert again["name"] == first["name"] == f"Recraft inpaint: {SOFT['prompt']}"
    assert again["children"] == first["children"] and again["bounds"] == first["bounds"]
    for name in ("layer", "mask", "shown"):
        assert raw[f"again-{name}"] == raw[f"first-{name}"], f"the {name} differs"
    # The photo shows around the patch: the result does not cover the canvas.
    layer = np.frombuffer(raw["again-layer"], np.uint8).reshape(HEIGHT, WIDTH, 4)
    if got["can_mask"]:
        mask = np.frombuffer(raw["again-mask"], np.uint8).reshape(HEIGHT, WIDTH)
        assert mask[0, 0] == 0 and mask[155, 220] == 255
    else:
        assert layer[0, 0, 3] == 0 and layer[155, 220, 3] == 255
    assert got["again_message"].startswith(f"Inserted “{first['name']}” as a new layer."), got


def test_the_docker_says_how_many_variations_came_back(soft):
    message = soft["value"]["three_message"]
    assert (
        message
        == "Inserted 3 variations of “Recraft generate: three greys” as a group (#1 showing)."
    ), message
