"""How a checked request looks on the wire: a JSON body, or multipart fields and files."""

from __future__ import annotations

import json
import os
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

    def body(self) -> tuple[bytes | None, str | None]:
        """(the request body, its Content-Type), or (None, None) for a GET.

        Built here rather than by requests so that its upload can be counted and cancelled
        chunk by chunk.
        """
        if self.json is not None:
            return json.dumps(self.json).encode("utf-8"), "application/json"
        if not self.data and not self.files:
            return None, None
        boundary = os.urandom(16).hex()
        # Joined once: each file is copied into the body once, not once per concatenation.
        pieces = []
        for name, value in self.data:
            pieces += [_part_head(boundary, name), b"\r\n\r\n", value.encode("utf-8"), b"\r\n"]
        for name, upload in self.files:
            head = _part_head(boundary, name, upload.filename)
            head += f"\r\nContent-Type: {upload.info.mime}".encode()
            pieces += [head, b"\r\n\r\n", upload.data, b"\r\n"]
        pieces.append(f"--{boundary}--\r\n".encode())
        return b"".join(pieces), f"multipart/form-data; boundary={boundary}"

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


def _quoted(text: str) -> str:
    """A header parameter value: quotes and line breaks escaped as browsers do (WHATWG)."""
    return text.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


def _part_head(boundary: str, name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{_quoted(name)}"'
    if filename is not None:
        disposition += f'; filename="{_quoted(filename)}"'
    return f"--{boundary}\r\nContent-Disposition: {disposition}".encode()


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
