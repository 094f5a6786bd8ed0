"""The shape of the code: what the operations table decides, nobody else decides by name."""

from __future__ import annotations

import ast
from pathlib import Path

from recraft_core.api import codegen
from recraft_core.api.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
# Where an operation's name must not be spelled: the adapters, the workflow and the CLI
# ask the table (op.offer, op.extends, op.output...), never `name == "outpaint"`.
OUTSIDE_THE_TABLE = [
    *sorted((ROOT / "krita_plugin").rglob("*.py")),
    *sorted((ROOT / "gimp_plugin").rglob("*.py")),
    *sorted((ROOT / "core/recraft_core/workflow").rglob("*.py")),
    *sorted((ROOT / "core/recraft_core/library").rglob("*.py")),
    *sorted((ROOT / "core/recraft_core").glob("*.py")),
]
NAMES = set(OPERATIONS) | {op.cli_name for op in OPERATIONS.values()}


def operation_literals(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(root)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NAMES
    ]


def test_no_operation_is_named_outside_the_api():
    assert len(OUTSIDE_THE_TABLE) > 10  # the adapters are where the test thinks
    found = [hit for path in OUTSIDE_THE_TABLE for hit in operation_literals(path)]
    assert found == []


def test_the_check_finds_a_name(tmp_path):
    """The test above can fail: a literal operation name is found."""
    sample = tmp_path / "sample_adapter.py"
    sample.write_text('if op.name == "outpaint":\n    pass\n', encoding="utf-8")
    assert operation_literals(sample, tmp_path) == ["sample_adapter.py:1: 'outpaint'"]


def test_client_methods_are_written_from_the_table():
    """methods.py is what codegen writes today: run `python -m recraft_core.api.codegen`
    after changing the table."""
    assert codegen.TARGET.read_text(encoding="utf-8") == codegen.source()


def test_every_operation_is_a_typed_client_method():
    from recraft_core import Client

    for name, op in OPERATIONS.items():
        method = Client.__dict__.get(name) or getattr(Client, name)
        assert method.__qualname__ == f"Methods.{name}", name
        assert op.help in method.__doc__


def test_results_start_only_an_operation_that_takes_their_ids():
    from recraft_core.api.operations import OPERATIONS, RESULT_ID, starting

    for op in OPERATIONS.values():
        if op.ids_start is not None:
            assert OPERATIONS[op.ids_start].field(RESULT_ID) is not None, op.name
    similar = [op for op in OPERATIONS.values() if op.field(RESULT_ID)]
    assert similar and all(starting(op) for op in similar), "nothing starts explore similar"
