"""How a checked request looks on the wire: a JSON body, or multipart fields and files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .operations import Operation
from .validation import Upload


@dataclass(frozen=True)
class Prepared:
    method: str
    path: str
    json: dict | None = None
    data: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, Upload]] = field(default_factory=list)

    def requests_files(self) -> list | None:
        """The files in the form requests' `files=` takes."""
        if not self.files:
            return None
        return [(name, (u.filename, u.data, u.info.mime)) for name, u in self.files]

    def describe(self) -> dict:
        """A JSON-able picture of the request, without file contents: for --dry-run."""
        out: dict = {"method": self.method, "path": self.path}
        if self.json is not None:
            out["json"] = self.json
        if self.data:
            out["fields"] = dict(self.data)
        if self.files:
            out["files"] = [
                {
                    "field": name,
                    "filename": u.filename,
                    "bytes": len(u.data),
                    "type": u.info.mime,
                    "size": f"{u.info.width}x{u.info.height}",
                }
                for name, u in self.files
            ]
        return out


def _form_value(value) -> str:
    """Multipart carries text: numbers as decimals, booleans as true/false, lists and
    objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def build(op: Operation, params: dict, uploads: dict) -> Prepared:
    if op.body == "json":
        return Prepared(op.method, op.path, json=dict(params))
    if op.body == "none":
        return Prepared(op.method, op.path)
    files = []
    for spec in op.files:
        value = uploads.get(spec.name)
        for upload in value if isinstance(value, list) else [value] if value else []:
            files.append((spec.name, upload))
    data = [(name, _form_value(value)) for name, value in params.items()]
    return Prepared(op.method, op.path, data=data, files=files)
