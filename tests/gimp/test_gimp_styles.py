"""Styles made with Create style offered by name in Saved style (issue 18: a style cost 40
credits for an id GIMP's UI never showed), in the real GIMP's GUI under Xvfb, against the
local server.

One GIMP profile per version with RECRAFT_LIBRARY naming a folder of its own, where the
recraft command's core has kept a style first (as `recraft create-style` made elsewhere).
One launch (checks_styles.py): Create style through the plug-in's procedure on two layers,
then Generate's dialog, its Saved style menu opened (the test grabs the screen) and a style
chosen from it, and Generate run with what that put in the config; then the same with Keep
no results in the Settings.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from fixtures_more import Screen, on_display, wait_for, x_display, xvfb_display
from PIL import Image

from recraft_core import Client, RetryPolicy
from recraft_core.library import Library
from recraft_core.workflow import styles

pytestmark = pytest.mark.timeout(900)
FIXTURES = (x_display, xvfb_display)  # for pytest, which finds them by name
PREFIX = "plug-in-recraft-"


@pytest.fixture(scope="session")
def styled(gimp, gimp_pool, x_display, tmp_path_factory):
    """The launch, what the screen showed with the menu open, and the CLI's style."""
    key = ("styles", gimp.editor)
    if key in gimp_pool:
        return gimp_pool[key]
    home = tmp_path_factory.mktemp(f"{gimp.editor}-styles")
    on = on_display(gimp, x_display, home)
    library = home / "library"
    on.env["RECRAFT_LIBRARY"] = str(library)
    server = gimp.server
    with Client(server.token, base_url=server.base_url, retry=RetryPolicy(0)) as client:
        earlier = client.create_style([_png()], style="realistic_image")
    styles.keep(Library(library), earlier, {"style": "realistic_image"}, sources=["dunes.png"])
    marker = home / "menu-open"
    seen, stop = {}, threading.Event()
    screen = Screen(x_display)

    def shooter() -> None:
        try:
            wait_for(marker, 300, stop)
            seen["shot"] = screen.grab()
        except Exception as e:
            seen["error"] = repr(e)

    thread = threading.Thread(target=shooter, daemon=True)
    thread.start()
    checks = [
        ("on", "styles_offered", {"marker": str(marker), "hold": 3.0}),
        ("off", "styles_offered", {"library_off": True}),
    ]
    try:
        launch = on.launch("styles", checks)
    finally:
        stop.set()
        thread.join(60)
    shot = home / "generate-saved-style-menu.png"
    if "shot" in seen:
        picture = Image.fromarray(seen["shot"])
        picture.crop(picture.getbbox()).save(shot)
    gimp_pool[key] = (launch, seen, shot, earlier, library)
    return gimp_pool[key]


def _png() -> bytes:
    from recraft_core.imaging.png import Raster

    return Raster(64, 48, "RGB", bytes([30, 120, 200]) * (64 * 48)).to_png()


def test_created_style_is_offered_and_sent(styled):
    """Create style on the layers "photo" and "sky", then Generate's Saved style: its arrow lists it
    first, by the layers it was made from, then the style the recraft command made; choosing
    it puts its id in the dialog's config, and Generate sends that id."""
    launch, _, _, earlier, library = styled
    check = launch.check("on")
    got = check.value
    assert got["created"]["status"] == "success", got["created"]
    (made,) = got["created"]["values"]
    assert [i for i, _ in got["offered"]] == [made, earlier.id]
    mine, cli = (label for _, label in got["offered"])
    assert mine.startswith("“photo”, “sky” · "), mine
    assert "Digital illustration" in mine and "today " in mine
    assert cli.startswith("“dunes.png” · Realistic image · today "), cli
    assert got["icon"] == "pan-down-symbolic" and got["menu_shown"]
    assert got["menu_items"] == ["No saved style", mine, cli]
    assert got["line_before"] == "2 saved styles: the arrow lists them."
    assert got["chose"] == mine
    assert got["style_id"] == got["entry_text"] == made
    assert got["line_after"] == mine
    assert got["refusal"] is None
    assert got["note"].endswith(
        f"(the arrow at the field's end; with Recraft V3 or another "
        f"model that takes it), listed as: {mine}"
    ), got["note"]
    assert got["generated"]["status"] == "success", got["generated"]
    assert check.sent("/images/generations").fields["style_id"] == made
    # Kept once, by GIMP, with the layers' names: what the CLI and Krita list too.
    (entry,) = [s for s in styles.offered(Library(library)) if s.id == made]
    assert entry.sources == ("photo", "sky") and entry.base == "digital_illustration"


def test_menu_open_on_screen(styled):
    """The Generate dialog with Saved style's menu open, as the screen shows it."""
    _, seen, shot, _, _ = styled
    assert "error" not in seen, seen.get("error")
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, "a blank screen"


def test_library_off_offers_nothing_and_typed_ids_work(styled):
    """Keep no results: the style is made and said, nothing is kept or offered, and the menu
    says why (a pasted id is what works)."""
    launch, _, _, _, library = styled
    got = launch.check("off").value
    assert got["created"]["status"] == "success"
    assert got["library_off"] is True and got["offered"] == []
    assert got["choices"] == [
        ["The results library is off (Settings): paste a style id", "", False]
    ]
    assert got["style_id"] == "" and "generated" not in got
    assert "Paste it into Saved style" in got["note"]
    made = got["created"]["values"][0]
    assert made not in [s.id for s in styles.offered(Library(library))]
