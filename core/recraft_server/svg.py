"""SVG inputs and outputs: size detection, safety checks, and composition of result documents.

Size of an SVG: the root ``width``/``height`` attributes (unitless, px, or an absolute unit
converted at 96 dpi); a missing or relative (%, em) one comes from the ``viewBox``, keeping the
viewBox's aspect ratio when only one side is given.  Sizes are rounded half up to whole pixels.

Unsafe SVGs (rejected): entity declarations, ``<script>`` elements, ``on*`` event attributes,
and ``javascript:`` links.
"""

from __future__ import annotations

import copy
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z%]*)\s*")


class SvgError(ValueError):
    pass


@dataclass
class SvgInfo:
    root: ET.Element
    width: int
    height: int
    viewbox: tuple[float, float, float, float] | None


def looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") and b"<svg" in data[:65536]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _length(value: str | None) -> float | None:
    if value is None:
        return None
    m = _LENGTH.fullmatch(value)
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


def _viewbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        nums = [float(v) for v in re.split(r"[\s,]+", value.strip())]
    except ValueError:
        return None
    if len(nums) != 4 or nums[2] <= 0 or nums[3] <= 0:
        return None
    return nums[0], nums[1], nums[2], nums[3]


def _round(x: float) -> int:
    return math.floor(x + 0.5)


def parse(data: bytes) -> SvgInfo:
    """Parse and size an SVG, raising SvgError with a human-readable reason."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SvgError("SVG is not valid UTF-8") from exc
    if "<!ENTITY" in text:
        raise SvgError("unsafe SVG: entity declarations are not allowed")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise SvgError(f"SVG is not well-formed XML ({exc})") from exc
    if _local(root.tag) != "svg":
        raise SvgError(f"the XML root element is <{_local(root.tag)}>, not <svg>")
    for el in root.iter():
        if _local(str(el.tag)) == "script":
            raise SvgError("unsafe SVG: <script> elements are not allowed")
        for attr, value in el.attrib.items():
            name = _local(attr).lower()
            if name.startswith("on"):
                raise SvgError(f"unsafe SVG: event attribute {name!r} is not allowed")
            if name == "href" and value.strip().lower().startswith("javascript:"):
                raise SvgError("unsafe SVG: javascript: links are not allowed")
    vb = _viewbox(root.get("viewBox"))
    w, h = _length(root.get("width")), _length(root.get("height"))
    if vb is not None:
        if w is None and h is None:
            w, h = vb[2], vb[3]
        elif w is None:
            w = h * vb[2] / vb[3]
        elif h is None:
            h = w * vb[3] / vb[2]
    if w is None or h is None:
        raise SvgError("SVG size unknown: the root has no usable width/height or viewBox")
    width, height = _round(w), _round(h)
    if width < 1 or height < 1:
        raise SvgError(f"SVG size {w}x{h} is empty")
    return SvgInfo(root=root, width=width, height=height, viewbox=vb)


def document(width: int, height: int, body: str) -> bytes:
    return (
        f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{body}</svg>'
    ).encode()


def _sized_copy(info: SvgInfo, width: int, height: int) -> ET.Element:
    root = copy.deepcopy(info.root)
    if not str(root.tag).startswith("{"):
        root.set("xmlns", SVG_NS)  # an un-namespaced input must still come back as SVG
    if info.viewbox is None:
        root.set("viewBox", f"0 0 {info.width} {info.height}")
    root.set("width", str(width))
    root.set("height", str(height))
    return root


def nested(info: SvgInfo, x: int, y: int, width: int, height: int) -> str:
    """The input SVG as a nested <svg> element placed at (x, y) with the given size."""
    root = _sized_copy(info, width, height)
    root.set("x", str(x))
    root.set("y", str(y))
    return ET.tostring(root, encoding="unicode")


def without_background(info: SvgInfo, width: int, height: int) -> bytes:
    """Drop top-level <rect>s that cover the whole canvas (the SVG's 'background')."""
    root = _sized_copy(info, width, height)
    vx, vy, vw, vh = info.viewbox or (0.0, 0.0, float(info.width), float(info.height))
    for el in list(root):
        if _local(str(el.tag)) != "rect":
            continue
        x = _length(el.get("x", "0")) or 0.0
        y = _length(el.get("y", "0")) or 0.0
        full_w = el.get("width", "").strip() == "100%" or _length(el.get("width")) == vw
        full_h = el.get("height", "").strip() == "100%" or _length(el.get("height")) == vh
        if x <= vx and y <= vy and full_w and full_h:
            root.remove(el)
    return ET.tostring(root, encoding="unicode").encode()
