"""Helpers for the server tests: an authenticated HTTP client, a raw-socket HTTP/1.1 client,
in-memory test images, and the OpenAPI response-schema check.  Everything talks real HTTP to
the `recraft_server` fixture."""

from __future__ import annotations

import base64
import io
import json
import pathlib
import socket
import struct
import xml.etree.ElementTree as ET
import zlib

import jsonschema
import numpy as np
import requests
from PIL import Image

SPEC_PATH = pathlib.Path(__file__).resolve().parents[1] / "data" / "recraft-openapi.json"
SVG_NS = "{http://www.w3.org/2000/svg}"


# --- images ---------------------------------------------------------------------------------------


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def scene(
    size=(320, 256), mode="RGB", bg=(255, 255, 255), fg=(200, 30, 40), box=None
) -> Image.Image:
    """A flat background with one solid rectangle (default: the middle third)."""
    w, h = size
    box = box or (w // 3, h // 3, 2 * w // 3, 2 * h // 3)
    if mode in ("L", "LA"):
        bg, fg = bg[0], fg[0]
    if mode in ("RGBA", "LA"):
        bg = (*bg, 255) if isinstance(bg, tuple) else (bg, 255)
        fg = (*fg, 255) if isinstance(fg, tuple) else (fg, 255)
    img = Image.new(mode, size, bg)
    img.paste(fg, box)
    return img


def noisy(size=(320, 256), mode="RGB", seed=1) -> Image.Image:
    """Random pixels, so that "unchanged" can only mean byte-identical."""
    rng = np.random.default_rng(seed)
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    arr = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.fromarray(arr[..., 0] if channels == 1 else arr)


def png(img: Image.Image | None = None, **kw) -> bytes:
    return encode(img if img is not None else scene(**kw), "PNG")


def mask(size=(320, 256), box=(40, 30, 120, 90), mode="L") -> Image.Image:
    m = Image.new("L", size, 0)
    if box is not None:
        m.paste(255, box)
    return m.convert(mode) if mode != "L" else m


def svg_doc(width=320, height=256, attrs=None, body=None) -> bytes:
    attrs = attrs if attrs is not None else f'width="{width}" height="{height}"'
    body = (
        body
        if body is not None
        else (
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>'
            f'<circle cx="{width // 2}" cy="{height // 2}" r="{min(width, height) // 4}" '
            'fill="#c81e28"/>'
        )
    )
    return f'<svg xmlns="http://www.w3.org/2000/svg" {attrs}>{body}</svg>'.encode()


def png_header_only(width: int, height: int, color_type: int = 2) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` but whose pixel data is cut short: it
    opens (size known) but cannot be decoded; a server must refuse it from the header alone."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)[:20]
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)


def open_image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def parse_svg(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag in ("svg", SVG_NS + "svg")
    return root


def svg_size(root: ET.Element) -> tuple[int, int]:
    w, h = int(float(root.get("width"))), int(float(root.get("height")))
    vb = [float(v) for v in root.get("viewBox").split()]
    assert vb == [0, 0, w, h]
    return w, h


# --- schema ---------------------------------------------------------------------------------------

_SPEC = json.loads(SPEC_PATH.read_text())


def check_schema(name: str, body) -> None:
    """Validate a JSON answer against components/schemas/<name> of Recraft's OpenAPI spec."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": _SPEC["components"]}
    jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(body)


# --- raw HTTP/1.1 ---------------------------------------------------------------------------------


def raw_request(method: str, path: str, headers=None, body: bytes = b"") -> bytes:
    """The bytes of one HTTP/1.1 request; Content-Length is added for a body unless chunked."""
    headers = {"Host": "127.0.0.1", **(headers or {})}
    if body and "Transfer-Encoding" not in headers:
        headers.setdefault("Content-Length", str(len(body)))
    head = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class RawConnection:
    """One TCP connection to the server, read and written by hand."""

    def __init__(self, server, timeout: float = 10):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_head(self) -> tuple[int, dict[str, str]]:
        """The status code and headers (names lower-cased) of the next answer."""
        status_line = self.reader.readline()
        assert status_line.startswith(b"HTTP/1.1 "), status_line
        headers = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """One whole answer, its body read by its Content-Length."""
        status, headers = self.read_head()
        body = self.reader.read(int(headers["content-length"]))
        return status, headers, body

    def read_to_close(self) -> bytes:
        return self.reader.read()


# --- client ---------------------------------------------------------------------------------------


class Api:
    """requests with the server's base URL and token filled in."""

    def __init__(self, server):
        self.server = server
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {server.token}"

    def post(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.session.post(self.server.base_url + path, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        return self.session.get(self.server.base_url + path, **kw)

    def upload(self, path: str, data=None, **files) -> requests.Response:
        """Multipart POST (even with no files); files given as name=bytes or name=(filename,
        bytes, type), text fields as data={name: str}."""
        parts = [(name, (None, value)) for name, value in (data or {}).items()]
        for name, value in files.items():
            if isinstance(value, bytes):
                value = (f"{name}.bin", value, "application/octet-stream")
            parts.append((name, value))
        return self.post(path, files=parts)

    def ok(self, response: requests.Response, schema: str | None = None) -> dict:
        assert response.status_code == 200, response.text
        body = response.json()
        if schema:
            check_schema(schema, body)
        return body

    def fetch(self, item: dict) -> bytes:
        """The bytes of one result item, from its URL or its b64_json."""
        if "b64_json" in item:
            return base64.b64decode(item["b64_json"])
        r = requests.get(item["url"], timeout=30)
        assert r.status_code == 200, r.text
        return r.content

    def fetch_image(self, item: dict) -> Image.Image:
        return open_image(self.fetch(item))


def assert_error(response: requests.Response, status: int, *words: str, code: str | None = None):
    """An error answer with the given status whose JSON message mentions every word."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message"}
    if code:
        assert body["code"] == code
    for word in words:
        assert word in body["message"], (word, body["message"])
    return body
