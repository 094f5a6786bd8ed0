"""The GIMP plug-in's source, read without GIMP: it decides nothing by an operation's name.
What each operation is, where GIMP offers it and what it takes comes from recraft_core's
operations table (issue 17), so a new operation needs no change here."""

from __future__ import annotations

import ast
from pathlib import Path

from recraft_core.api.operations import OPERATIONS

PLUGIN = Path(__file__).resolve().parents[2] / "gimp_plugin" / "recraft"


def test_no_string_names_an_operation():
    names = set(OPERATIONS) | {op.cli_name for op in OPERATIONS.values()}
    found = []
    sources = sorted(PLUGIN.glob("*.py"))
    assert {p.name for p in sources} >= {"recraft.py", "gimp_canvas.py"}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == [], "operations named in the plug-in instead of read from the table"
