"""What the editors' bundled Pythons can load: recraft_core needs no Pillow, numpy, Qt or gi."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import recraft_core

BLOCKED = ("PIL", "numpy", "PyQt5", "PyQt6", "gi", "krita", "recraft_server")


def test_every_core_module_imports_without_editor_unavailable_packages(checkout_env):
    root = [str(Path(recraft_core.__file__).parent)]
    found = pkgutil.walk_packages(root, prefix="recraft_core.")
    modules = sorted(m.name.removeprefix("recraft_core.") for m in found)
    assert {"api.client", "imaging.masks", "imaging.planning", "settings"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {BLOCKED!r}:\n"
        "    sys.modules[name] = None  # any import of it now fails\n"
        f"for name in {modules!r}:\n"
        "    if name != '__main__':\n"
        "        importlib.import_module('recraft_core.' + name)\n"
        "print('ok')\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], env=checkout_env(), capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
