"""SVG inputs and outputs: size detection, safety checks, and composition of result documents.

Size of an SVG: the root ``width``/``height`` attributes (unitless, px, or an absolute unit
converted at 96 dpi); a missing or relative (%, em) one comes from the ``viewBox``, keeping the
viewBox's aspect ratio when only one side is given.  Sizes are rounded half up to whole pixels;
a width, height or viewBox number that is not finite (``1e999``, ``nan``, ``inf``) is rejected.

Rejected before anything else looks at the tree (it is read with an iterative parser, so no
recursion can run away): documents nested deeper than ``MAX_DEPTH`` levels or with more than
``MAX_ELEMENTS`` elements.

Unsafe SVGs (rejected): entity declarations, ``<script>`` and ``<foreignObject>`` elements,
``on*`` event attributes, ``javascript:`` anywhere in an attribute value or a ``<style>``
element (checked after decoding character references and removing whitespace and control
characters, so ``&#106;avascript:`` or ``java&#10;script:`` are caught too), ``href`` /
``xlink:href`` / ``src`` values other than a local fragment (``#id``) or a ``data:image/`` URI,
and animation elements (``animate``, ``set``, ...) whose ``attributeName`` is ``href`` or ``src``.
"""

from __future__ import annotations

import copy
import html
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

MAX_DEPTH = 256
MAX_ELEMENTS = 100_000
WHITE = (255, 255, 255)

_UNITS = {"": 1.0, "px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z%]*)\s*")
_FEED_CHARS = 1 << 16
_ANIMATIONS = {"animate", "set", "animatemotion", "animatetransform", "animatecolor"}
_LINK_ATTRS = {"href", "src"}
# Whitespace, C0/C1 controls and invisible format characters a browser may skip in a URL.
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]+")
_HEX_COLOR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_RGB_COLOR = re.compile(r"rgb\(\s*([0-9]{1,3})\s*,\s*([0-9]{1,3})\s*,\s*([0-9]{1,3})\s*\)")
_NAMED_COLORS = {"white": (255, 255, 255), "black": (0, 0, 0)}


class SvgError(ValueError):
    pass


@dataclass
class SvgInfo:
    root: ET.Element
    width: int
    height: int
    viewbox: tuple[float, float, float, float] | None


def round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"<") and b"<svg" in data[:65536]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _finite(what: str, value: float) -> float:
    if not math.isfinite(value):
        raise SvgError(f"SVG {what} is not a finite number")
    return value


def _length(value: str | None, what: str = "length") -> float | None:
    if value is None:
        return None
    m = _LENGTH.fullmatch(value)
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return _finite(f"{what} {value.strip()[:40]!r}", float(m.group(1)) * _UNITS[m.group(2).lower()])


def _viewbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        nums = [float(v) for v in re.split(r"[\s,]+", value.strip())]
    except ValueError:
        return None
    for num in nums:
        _finite(f"viewBox {value.strip()[:60]!r}", num)
    if len(nums) != 4 or nums[2] <= 0 or nums[3] <= 0:
        return None
    return nums[0], nums[1], nums[2], nums[3]


def _read_tree(text: str) -> ET.Element:
    """Parse with an iterative parser, refusing deep or huge documents as they stream in."""
    parser = ET.XMLPullParser(events=("start", "end"))
    root, depth, count = None, 0, 0
    try:
        for start in range(0, len(text), _FEED_CHARS):
            parser.feed(text[start : start + _FEED_CHARS])
            for event, el in parser.read_events():
                if event == "end":
                    depth -= 1
                    continue
                if root is None:
                    root = el
                depth += 1
                count += 1
                if depth > MAX_DEPTH:
                    raise SvgError(f"SVG is nested too deeply (more than {MAX_DEPTH} levels)")
                if count > MAX_ELEMENTS:
                    raise SvgError(f"SVG has too many elements (more than {MAX_ELEMENTS})")
        parser.close()
    except ET.ParseError as exc:
        raise SvgError(f"SVG is not well-formed XML ({exc})") from exc
    if root is None:
        raise SvgError("SVG is not well-formed XML (no root element)")
    return root


def _normalized(value: str) -> str:
    return _INVISIBLE.sub("", html.unescape(value)).lower()


def _check_safe(root: ET.Element) -> None:
    for el in root.iter():
        tag = _local(str(el.tag)).lower()
        if tag == "script":
            raise SvgError("unsafe SVG: <script> elements are not allowed")
        if tag == "foreignobject":
            raise SvgError("unsafe SVG: <foreignObject> elements are not allowed")
        if tag == "style" and "javascript:" in _normalized(el.text or ""):
            raise SvgError("unsafe SVG: javascript: URLs are not allowed")
        if tag in _ANIMATIONS:
            target = _normalized(el.get("attributeName", "")).rsplit(":", 1)[-1]
            if target in _LINK_ATTRS:
                raise SvgError(f"unsafe SVG: <{_local(str(el.tag))}> may not animate {target}")
        for attr, value in el.attrib.items():
            name = _local(attr).lower()
            if name.startswith("on"):
                raise SvgError(f"unsafe SVG: event attribute {name!r} is not allowed")
            norm = _normalized(value)
            if "javascript:" in norm:
                raise SvgError("unsafe SVG: javascript: links are not allowed")
            if name in _LINK_ATTRS and not norm.startswith(("#", "data:image/")):
                raise SvgError(
                    f"unsafe SVG: {name}={value[:60]!r} is not allowed (only local #id "
                    "references and data:image/ URIs)"
                )


def parse(data: bytes) -> SvgInfo:
    """Parse and size an SVG, raising SvgError with a human-readable reason."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SvgError("SVG is not valid UTF-8") from exc
    if "<!ENTITY" in text:
        raise SvgError("unsafe SVG: entity declarations are not allowed")
    root = _read_tree(text)
    if _local(str(root.tag)) != "svg":
        raise SvgError(f"the XML root element is <{_local(str(root.tag))}>, not <svg>")
    _check_safe(root)
    vb = _viewbox(root.get("viewBox"))
    w, h = _length(root.get("width"), "width"), _length(root.get("height"), "height")
    if vb is not None:
        if w is None and h is None:
            w, h = vb[2], vb[3]
        elif w is None:
            w = h * vb[2] / vb[3]
        elif h is None:
            h = w * vb[3] / vb[2]
    if w is None or h is None:
        raise SvgError("SVG size unknown: the root has no usable width/height or viewBox")
    _finite("size", w * h)
    width, height = round_half_up(w), round_half_up(h)
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


def _is_background(info: SvgInfo, el: ET.Element) -> bool:
    """A top-level <rect> covering the whole canvas."""
    if _local(str(el.tag)) != "rect":
        return False
    vx, vy, vw, vh = info.viewbox or (0.0, 0.0, float(info.width), float(info.height))
    try:
        x = _length(el.get("x", "0")) or 0.0
        y = _length(el.get("y", "0")) or 0.0
        full_w = el.get("width", "").strip() == "100%" or _length(el.get("width")) == vw
        full_h = el.get("height", "").strip() == "100%" or _length(el.get("height")) == vh
    except SvgError:
        return False
    return x <= vx and y <= vy and full_w and full_h


def without_background(info: SvgInfo, width: int, height: int) -> bytes:
    """Drop top-level <rect>s that cover the whole canvas (the SVG's 'background')."""
    root = _sized_copy(info, width, height)
    for el in list(root):
        if _is_background(info, el):
            root.remove(el)
    return ET.tostring(root, encoding="unicode").encode()


def _color(value: str | None) -> tuple[int, int, int] | None:
    value = (value or "").strip().lower()
    m = _HEX_COLOR.fullmatch(value)
    if m:
        digits = m.group(1)
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    m = _RGB_COLOR.fullmatch(value)
    if m:
        return tuple(min(255, int(v)) for v in m.groups())  # type: ignore[return-value]
    return _NAMED_COLORS.get(value)


def background_color(info: SvgInfo) -> tuple[int, int, int]:
    """The fill of the last top-level full-canvas <rect> whose ``fill`` attribute is #rgb,
    #rrggbb, rgb(r, g, b), white or black; white when there is none."""
    found = WHITE
    for el in info.root:
        if _is_background(info, el):
            found = _color(el.get("fill")) or found
    return found
