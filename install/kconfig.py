"""Reading and setting one entry of a KConfig file (kritarc) line by line, on bytes.

configparser would rewrite the whole file: it lower-cases keys, drops comments, chokes on
KConfig's `[$e]` markers and duplicate keys, and changes spacing. Krita rewrites kritarc itself
but keeps what we add, so every line we do not own must come back byte for byte.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_ESCAPES = {"\\": "\\", "s": " ", "t": "\t", "n": "\n", "r": "\r", ";": ";", ",": ","}


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _group_of(line: bytes) -> str | None:
    stripped = line.strip()
    if stripped.startswith(b"[") and stripped.endswith(b"]"):
        return stripped[1:-1].decode("utf-8", "replace")
    return None


def _key_pattern(key: str) -> re.Pattern[bytes]:
    # `key[$i]=` and `key[de]=` are the same key with a flag or a locale.
    return re.compile(rb"^\s*" + re.escape(key.encode()) + rb"\s*(\[[^\]]*\])*\s*=")


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", value[i + 2 : i + 4]):
                out.append(chr(int(value[i + 2 : i + 4], 16)))
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def read_entry(data: bytes, group: str, key: str) -> str | None:
    """The value of `key` in `group` ("" is the entries above the first group); the last wins."""
    pattern, current, value = _key_pattern(key), "", None
    for line in _lines(data):
        header = _group_of(line)
        if header is not None:
            current = header
        elif current == group and pattern.match(line):
            raw = line.split(b"=", 1)[1].strip().decode("utf-8", "replace")
            value = _unescape(raw)
    return value


def set_entry(data: bytes, group: str, key: str, value: str) -> tuple[bytes, str]:
    """`data` with `key=value` under `[group]`, exactly once; and what changed, in words.

    Every other line is kept as it was. A duplicate of the key in the group goes: KConfig
    would let the last one win, which makes the file say two things.
    """
    lines = _lines(data)
    newline = next((ln[len(ln.rstrip(b"\r\n")) :] for ln in lines if ln.endswith(b"\n")), b"\n")
    entry = f"{key}={value}".encode() + newline
    pattern = _key_pattern(key)

    groups, current = [], ""
    for line in lines:
        current = _group_of(line) or current
        groups.append(current)
    headers = [i for i, line in enumerate(lines) if _group_of(line) == group]
    hits = [
        i
        for i, line in enumerate(lines)
        if groups[i] == group and i not in headers and pattern.match(line)
    ]

    if hits:
        first = hits[0]
        if len(hits) == 1 and lines[first].rstrip(b"\r\n") == entry.rstrip(b"\r\n"):
            return data, f"{key}={value} was already set under [{group}]"
        out = [entry if i == first else line for i, line in enumerate(lines) if i not in hits[1:]]
        return b"".join(out), f"set {key}={value} under [{group}]"

    out = list(lines)
    if headers:
        # After the last non-blank line of the group's first block, so it reads as one.
        at = headers[0] + 1
        for i in range(headers[0] + 1, len(lines)):
            if _group_of(lines[i]) is not None:
                break
            if lines[i].strip():
                at = i + 1
        if not out[at - 1].endswith(b"\n"):
            out[at - 1] += newline
        out.insert(at, entry)
        return b"".join(out), f"added {key}={value} under [{group}]"

    if out and not out[-1].endswith(b"\n"):
        out[-1] += newline
    if out and out[-1].strip():
        out.append(newline)
    out += [f"[{group}]".encode() + newline, entry]
    return b"".join(out), f"added [{group}] with {key}={value}"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file in one step, keeping its mode; a symlinked file stays a symlink."""
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
