"""The docker's Saved style offers the styles the artist made, by name (issue 18), in the real
Krita (every version found), against the local server.

The library (RECRAFT_LIBRARY, Krita's own) holds a style made earlier outside Krita: created over
HTTP by the core and kept as the recraft command keeps it (styles.keep, front end "cli", made
from a file "dunes.png"), and an older one. Krita's Generate form lists both, newest first, by
what they were made from; one is chosen in the list and Generate sends its id; an id typed in
by hand is sent as typed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from krita_harness import launch
from PIL import Image

from recraft_core import Client, RetryPolicy
from recraft_core.imaging.png import Raster
from recraft_core.library import Library
from recraft_core.workflow import styles

pytestmark = pytest.mark.timeout(900)

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / "payloads_styles.py"
TYPED = "8fa865c3-e43e-4233-947e-bf1a95210f1d"


def _png(colour) -> bytes:
    return Raster(64, 48, "RGB", bytes(colour) * (64 * 48)).to_png()


@pytest.fixture
def scene(once, new_krita, recraft_server_session):
    return once("styles", lambda: _play(new_krita, recraft_server_session))


def _play(new_krita, server):
    server.reset()
    krita = new_krita("styles")
    library = krita.home / "recraft-library"
    with Client(server.token, base_url=server.base_url, retry=RetryPolicy(0)) as client:
        older = client.create_style([_png((200, 120, 40))], style="digital_illustration")
        newer = client.create_style([_png((30, 120, 200))], style="realistic_image")
    with Library(library) as kept:
        styles.keep(kept, older, {"style": "digital_illustration"}, sources=["sunset.png"])
        styles.keep(kept, newer, {"style": "realistic_image"}, sources=["dunes.png"])
    env = dict(krita.env(), RECRAFT_LIBRARY=str(library))
    started = len(server.requests)
    result = launch(
        krita.editor,
        krita.home,
        env,
        krita.out_dir,
        "saved_styles",
        {"choose": 1, "typed": TYPED},
        payloads=PAYLOADS,
    )
    assert result.errors == [], "exceptions in Krita:\n" + "\n".join(result.errors)
    assert result.plugin_stderr() == [], "Krita's stderr reports trouble"
    return result, older, newer, server.requests[started:]


def test_saved_style_lists_the_styles_made_elsewhere(scene):
    result, older, newer, _ = scene
    got = result.value
    assert got["kind"] == "SavedStyleBox" and got["editable"]
    assert got["ids"] == [newer.id, older.id]
    dunes, sunset = got["items"]
    assert dunes.startswith("“dunes.png” · Realistic image · today "), dunes
    assert sunset.startswith("“sunset.png” · Digital illustration · today "), sunset
    assert got["before"] is None, "a style chosen before the artist chose one"


def test_choosing_a_style_sends_its_id(scene):
    result, older, _, requests = scene
    got = result.value
    assert got["shown"] == got["items"][1]
    assert got["value"] == got["sent_values"]["style_id"] == older.id
    generated = [r for r in requests if r.path.endswith("/images/generations")]
    assert len(generated) == 1, [r.path for r in requests]
    assert generated[0].fields["style_id"] == older.id
    assert generated[0].fields["model"] == "recraftv3"
    assert "error" not in got["message"].lower(), got["message"]
    assert got["typed"] == TYPED


def test_screenshot_of_the_list(scene):
    result = scene[0]
    got = result.value
    assert got["popup_visible"]
    shot = np.asarray(Image.open(result.out_dir / "krita-saved-style.png").convert("RGB"))
    assert len(np.unique(shot.reshape(-1, 3), axis=0)) > 50, "a blank screen"
