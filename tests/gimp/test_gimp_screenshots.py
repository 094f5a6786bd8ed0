"""The README's GIMP screenshots, taken from GIMP's real GUI under Xvfb with the plug-in
installed: an image after Filters › Recraft › Inpaint selection, and the Inpaint dialog.

They land in the test's tmp folder; RECRAFT_SCREENSHOTS=1 also copies GIMP 3.0's to
docs/screenshots (as the Krita one), which is how the README's were made:

    RECRAFT_SCREENSHOTS=1 python3 -m pytest tests/gimp -k screenshot
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from editor_fixtures import unavailable
from PIL import Image
from xvfb import INSTALL_HINT, Xvfb

pytestmark = pytest.mark.timeout(600)
ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_of_an_inpaint(gimp, tmp_path):
    if not Xvfb.available():
        unavailable(f"Xvfb is not installed ({INSTALL_HINT})")
    with Xvfb() as display:  # a screen of its own: the screenshots grab all of it
        result, dialog, refused = gimp.screenshots(display, "a straw hat", tmp_path)
    done = json.loads((gimp.home / "screenshots" / "shown.1").read_text())
    assert done["status"] == "success", done
    sent = [r for r in gimp.server.requests if r.path.endswith("/images/inpaint")]
    assert len(sent) == 1 and sent[0].status == 200  # OK on an empty prompt sent nothing
    # It said so in the dialog, which stayed open with its values: red words appeared.
    assert gimp.dialog_open, "the dialog closed on a value Recraft would refuse"
    before = np.asarray(Image.open(dialog).convert("RGB")).astype(int)
    after = np.asarray(Image.open(refused).convert("RGB")).astype(int)
    red = (after[..., 0] > 180) & (after[..., 1] < 110) & (after[..., 2] < 110)
    was_red = (before[..., 0] > 180) & (before[..., 1] < 110) & (before[..., 2] < 110)
    assert (red & ~was_red).sum() > 200, "no error shown in the dialog"
    for shot in (result, dialog):
        pixels = np.asarray(Image.open(shot).convert("RGB"))
        # A real window, not a black or blank screen: many distinct colours.
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500, shot
    # The dialog adds pixels over the image window: the two screenshots differ.
    first = np.asarray(Image.open(result).convert("RGB"))
    second = np.asarray(Image.open(dialog).convert("RGB"))
    assert (first != second).any(axis=2).mean() > 0.02
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and gimp.editor.version.startswith("3.0"):
        for shot in (result, dialog, refused):
            shutil.copy(shot, ROOT / "docs" / "screenshots" / shot.name)
