"""Writes `methods.py`: one typed Client method per operation of the table, so that IDEs,
type checkers and readers see `client.inpaint(image, mask, prompt=...)`.

    python -m recraft_core.api.codegen          # rewrite methods.py from the table

tests/core/test_operations.py checks that methods.py is what this would write.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from .operations import OPERATIONS, Field, FileInput, Operation

TARGET = Path(__file__).with_name("methods.py")

_TYPES = {
    "text": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "choice": "str",
    "uuid": "str",
    "color": "dict",
    "colors": "list",
    "object": "dict",
    "json": "Any",
}
_RESULTS = {
    "images": "ImageResult",
    "image": "ImageResult",
    "style": "Style",
    "prompt": "EnhancedPrompt",
    "user": "User",
}

_HEAD = '''"""Client methods, one per operation: written by `python -m recraft_core.api.codegen`
from the operations table. Do not edit; a test checks it matches the table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os

    from ..imaging.png import Raster
    from .progress import Progress
    from .results import EnhancedPrompt, ImageResult, Style, User
    from .transport import CancelToken

    FileLike = str | os.PathLike | bytes | bytearray | Raster  # a path, the bytes, or pixels


def _given(**values) -> dict:
    """The arguments passed: None is "leave it to the API"."""
    return {name: value for name, value in values.items() if value is not None}


class Methods:
    """Each operation of the table as a method; `Client.call` does the work."""

    def call(self, operation: str, **params) -> Any:
        raise NotImplementedError
'''


def _file(f: FileInput) -> str:
    kind = "list[FileLike]" if f.kind == "images" else "FileLike"
    return f"{f.name}: {kind}" + ("" if f.required else " | None = None")


def _field(f: Field) -> str:
    kind = _TYPES[f.type]
    return f"{f.name}: {kind}" + ("" if f.required else " | None = None")


def _method(op: Operation) -> str:
    files = list(op.files)
    required = [f for f in op.fields if f.required]
    optional = [f for f in op.fields if not f.required]
    args = ["self", *(_file(f) for f in files), "*"]
    args += [_field(f) for f in required + optional]
    if op.models:
        args.append("model: str | None = None")
    args += [
        "cancel: CancelToken | None = None",
        "progress: Callable[[Progress], None] | None = None",
    ]
    names = [f.name for f in files] + [f.name for f in required + optional]
    names += ["model"] if op.models else []
    doc = [op.help + ".", "", f"{op.method} {op.url_path}"]
    doc += [f"{f.name}: {f.help}" for f in files]
    doc += [f"{f.name}: {f.help}" + (" (required)" if f.required else "") for f in op.fields]
    if op.models:
        doc.append(f"model: one of {', '.join(op.models)}; default {op.default_model}")
    body = [
        f"def {op.name}(",
        *(f"    {a}," for a in args),
        f") -> {_RESULTS[op.result]}:",
        '    """' + "\n".join("    " + line if line else "" for line in _wrap(doc)).lstrip(),
        '    """',
        "    return self.call(",
        f'        "{op.name}",',
        "        cancel=cancel,",
        "        progress=progress,",
        "        **_given(",
        *(f"            {n}={n}," for n in names),
        "        ),",
        "    )",
    ]
    return textwrap.indent("\n".join(body), "    ")


def _wrap(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        out += textwrap.wrap(line, 88, subsequent_indent="    ") or [""]
    return out


def source() -> str:
    """methods.py as the table says it should be."""
    return _HEAD + "".join("\n" + _method(op) + "\n" for op in OPERATIONS.values())


if __name__ == "__main__":
    TARGET.write_text(source(), encoding="utf-8")
    print(f"wrote {TARGET}")
