"""What the editors' bundled Pythons can load: recraft_core needs no Pillow, numpy, Qt or gi."""

from __future__ import annotations

import ast
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


# Each part imports only the parts below it: a reader can take the layers one at a time.
LAYERS = ["exceptions", "settings", "_version", "imaging", "library", "api", "workflow", "cli"]


def _layer(module: str) -> int:
    head = module.split(".")[0]
    return LAYERS.index(head if head in LAYERS else "cli")


def test_imports_go_one_way():
    root = Path(recraft_core.__file__).parent
    wrong = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root).with_suffix("")
        parts = [p for p in relative.parts if p != "__init__"]
        if not parts or parts[0] == "__main__":
            continue
        package = parts[:-1] if path.name != "__init__.py" else parts
        here = _layer(".".join(parts))
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, node.module] if node.module else base)
            names = (
                [target] if node.module else [f"{target}.{a.name}".strip(".") for a in node.names]
            )
            for name in names:
                if name and _layer(name) > here:
                    wrong.append(f"{'.'.join(parts)} imports {name}")
    assert wrong == []
