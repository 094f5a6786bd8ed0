"""A small multipart/form-data parser (RFC 7578) and header-parameter helper.

The standard library's ``cgi`` module is gone in Python 3.13 and ``email`` is awkward for binary
parts, so this parses the body directly.  It is strict about structure (boundary, CRLF, closing
delimiter) because a malformed body from the client is exactly what the tests should catch.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from .errors import ApiError


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def is_file(self) -> bool:
        # A part is a file when it carries a filename, or when it declares a non-text type
        # (some encoders drop the filename for in-memory uploads).
        if self.filename is not None:
            return True
        if self.content_type is None:
            return False
        media = self.content_type.split(";", 1)[0].strip().lower()
        return not (media.startswith("text/") or media == "application/json")


def parse_header_value(value: str) -> tuple[str, dict[str, str]]:
    """Split ``form-data; name="a"; filename="b.png"`` into ("form-data", {...})."""
    items: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == '"':
            current.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    main = items[0].strip().lower()
    params: dict[str, str] = {}
    for item in items[1:]:
        key, sep, val = item.strip().partition("=")
        if not sep:
            continue
        key = key.strip().lower()
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if key.endswith("*"):  # RFC 5987: charset'lang'percent-encoded
            charset, _, rest = val.partition("'")
            _, _, encoded = rest.partition("'")
            try:
                val = unquote(encoded, encoding=charset or "utf-8", errors="strict")
            except (LookupError, UnicodeDecodeError):
                continue
            key = key[:-1]
        params[key] = val
    return main, params


def _bad(message: str) -> ApiError:
    return ApiError("invalid_request_body", f"malformed multipart/form-data body: {message}")


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    _, params = parse_header_value(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise _bad("the Content-Type header has no boundary parameter")
    if not (len(boundary) <= 70 and boundary.isascii() and boundary.isprintable()):
        raise _bad(
            f"the boundary {boundary[:80]!r} is not 1 to 70 printable ASCII characters (RFC 2046)"
        )
    delim = b"--" + boundary.encode("ascii")
    pos = body.find(delim)
    if pos < 0:
        raise _bad("the boundary never appears in the body")
    parts: list[Part] = []
    while True:
        pos += len(delim)
        if body[pos : pos + 2] == b"--":
            return parts
        eol = body.find(b"\r\n", pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):
            raise _bad("a boundary line is not followed by CRLF")
        start = eol + 2
        end = body.find(b"\r\n" + delim, start)
        if end < 0:
            raise _bad("the closing boundary is missing (body cut short?)")
        parts.append(_parse_part(body[start:end]))
        pos = end + 2


def _parse_part(raw: bytes) -> Part:
    if raw.startswith(b"\r\n"):
        head, content = b"", raw[2:]
    else:
        head, sep, content = raw.partition(b"\r\n\r\n")
        if not sep:
            raise _bad("a part has no blank line between its headers and its content")
    headers: dict[str, str] = {}
    for line in head.split(b"\r\n"):
        if not line:
            continue
        key, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep:
            raise _bad(f"bad part header line {line[:60]!r}")
        headers[key.strip().lower()] = value.strip()
    disposition = headers.get("content-disposition")
    if disposition is None:
        raise _bad("a part has no Content-Disposition header")
    kind, params = parse_header_value(disposition)
    if kind != "form-data" or "name" not in params:
        raise _bad(f"a part's Content-Disposition is not form-data with a name: {disposition!r}")
    return Part(
        name=params["name"],
        filename=params.get("filename"),
        content_type=headers.get("content-type"),
        data=content,
    )
