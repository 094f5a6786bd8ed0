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
from PIL import Image
from xvfb import Xvfb

pytestmark = pytest.mark.timeout(600)
ROOT = Path(__file__).resolve().parents[2]


def test_screenshot_of_an_inpaint(gimp, tmp_path):
    if not Xvfb.available():
        missing = "Xvfb is not installed (apt-get install xvfb)"
        pytest.fail(missing) if os.environ.get("CI") else pytest.skip(missing)
    with Xvfb() as display:
        result, dialog = gimp.screenshots(display, "a straw hat", tmp_path)
    done = json.loads((gimp.home / "screenshots" / "shown.1").read_text())
    assert done["status"] == "success", done
    sent = [r for r in gimp.server.requests if r.path.endswith("/images/inpaint")]
    assert sent and sent[0].status == 200
    for shot in (result, dialog):
        pixels = np.asarray(Image.open(shot).convert("RGB"))
        # A real window, not a black or blank screen: many distinct colours.
        assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 500, shot
    # The dialog adds pixels over the image window: the two screenshots differ.
    first = np.asarray(Image.open(result).convert("RGB"))
    second = np.asarray(Image.open(dialog).convert("RGB"))
    assert (first != second).any(axis=2).mean() > 0.02
    if os.environ.get("RECRAFT_SCREENSHOTS") == "1" and gimp.editor.version.startswith("3.0"):
        for shot in (result, dialog):
            shutil.copy(shot, ROOT / "docs" / "screenshots" / shot.name)
