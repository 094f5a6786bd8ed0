"""SVG results made safe for an editor, and placed on its canvas.

sanitize   untrusted SVG bytes to an `Svg`: a standalone document holding only static SVG
           (an allowlist of elements, no scripts, events, external references or DTD), and
           its size in px
place      an `Svg` re-drawn as a canvas-sized document, its view box mapped onto a box

Standard library only, and no `ElementTree.register_namespace`: this runs in Krita's and
GIMP's shared interpreters. The tree is built and written without recursion, so a deeply
nested document is refused by the depth cap, never by Python's recursion limit.
"""

from __future__ import annotations

import codecs
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..exceptions import ProtocolError

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

MAX_SIZE = 1e6  # px; anything larger is not a drawing an editor can open
_FEED_CHARS = 1 << 16  # small feeds, so the caps stop a hostile document early

# Static SVG only: no scripting, embedding, animation or external loading elements.
_ALLOWED = frozenset(
    {
        *("svg", "g", "defs", "symbol", "use", "switch", "title", "desc", "style", "image"),
        *("path", "rect", "circle", "ellipse", "line", "polyline", "polygon"),
        *("text", "tspan", "textPath", "linearGradient", "radialGradient", "stop"),
        *("clipPath", "mask", "pattern", "marker", "filter"),
        *("feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix"),
        *("feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood"),
        *("feFuncA", "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feMerge", "feMergeNode"),
        *("feMorphology", "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight"),
        *("feTile", "feTurbulence"),
    }
)
_TEXT_CONTENT = frozenset({"text", "tspan", "textPath"})
# Dropped elements worth naming to a user: they run code or pull in other documents.
_ACTIVE = frozenset(
    {"script", "foreignObject", "iframe", "object", "embed", "handler", "listener", "set"}
)
# An <a> becomes a plain group: these only made sense on the link.
_LINK_ATTRS = frozenset({"target", "download", "ping", "rel", "hreflang", "referrerpolicy", "type"})
# Root attributes that describe the viewport, which place() replaces; the rest style the drawing.
_VIEWPORT_ATTRS = frozenset(
    {
        *("version", "baseProfile", "width", "height", "viewBox", "x", "y"),
        *("preserveAspectRatio", "transform", "zoomAndPan", "contentScriptType"),
        "contentStyleType",
    }
)

# Unambiguous, so a long run of digits cannot make the match backtrack quadratically.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PX_LENGTH = re.compile(rf"\s*({_NUMBER})\s*(?:px)?\s*")
_VIEWBOX_NUMBER = re.compile(_NUMBER)
_FRAGMENT = re.compile(r"#[^\s'\"()<>\\#]+")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|webp|gif);base64,[A-Za-z0-9+/=\s]*", re.I)
_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Named references other than the five XML ones: without their DTD they mean nothing.
_NAMED_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)(?!#)[^\s&;<>\"'#]*;")

# Checks run on a value as a CSS parser would read it: escapes decoded, whitespace, controls
# and invisible characters gone (a browser skips them inside a URL scheme), lower case.
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})[ \t\n\r\f]?|(.))", re.S)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u00ad\u200b-\u200f\u2028\u2029\u2060\ufeff]+")
_UNSAFE = re.compile(
    r"javascript:|vbscript:|data:|expression\(|-moz-binding|behavior:|@import"
    r"|(?:image|image-set|src|element|cross-fade)\("  # CSS functions that load like url()
)
# Every unsafe pattern holds one of these, or a CSS escape that decodes to one.
_SUSPECT = re.compile(r"[\\:(@]")
_URL = re.compile(r"url\(")
_LOCAL_URL = re.compile(r"url\((['\"]?)#[^'\"()]*\1\)")
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_CSS_SPLIT = re.compile(r"([;{}])")


@dataclass(frozen=True, repr=False)
class Svg:
    """A sanitized SVG document and its size in px."""

    text: str
    width: float
    height: float
    view_box: tuple[float, float, float, float]

    def __repr__(self) -> str:
        vb = " ".join(f"{v:g}" for v in self.view_box)
        return f"Svg({self.width:g}x{self.height:g} px, viewBox {vb}, {len(self.text)} chars)"


def sanitize(
    data: bytes | str,
    *,
    max_bytes: int = 32 * 2**20,
    max_depth: int = 64,
    max_elements: int = 500_000,
) -> Svg:
    """A cleaned, standalone copy of an untrusted SVG; ProtocolError if it cannot be one."""
    too_big = len(data) > max_bytes
    if not too_big and isinstance(data, str):
        too_big = len(data.encode("utf-8", "replace")) > max_bytes
    if too_big:
        raise ProtocolError(f"The SVG is larger than {max_bytes} bytes.")
    text = data if isinstance(data, str) else _decode(data)
    root, xlink = _parse(text, max_depth, max_elements)
    width, height, view_box = _size(root.attrs)
    return Svg(_write(root, xlink), width, height, view_box)


def unsafe_parts(data: bytes | str, max_bytes: int = 32 * 2**20) -> list[str]:
    """What in an SVG would run or load something (scripts, event handlers, links to other
    files, url() to other documents), in words; [] for a safe one. ProtocolError when it is
    not a usable SVG at all."""
    if len(data) > max_bytes:
        raise ProtocolError(f"The SVG is larger than {max_bytes} bytes.")
    text = data if isinstance(data, str) else _decode(data)
    return _build(text, max_depth=64, max_elements=500_000).unsafe


def place(svg: Svg, box: tuple[float, float, float, float], canvas: tuple[int, int]) -> str:
    """A canvas-sized SVG document with `svg`'s view box drawn onto `box` (x, y, w, h).

    The drawing is stretched to fill the box exactly (sx and sy independent), as a raster
    result would be; the root's presentation attributes move onto the placing group.
    """
    x, y, box_w, box_h = (float(v) for v in box)
    if not all(math.isfinite(v) for v in (x, y, box_w, box_h)) or box_w <= 0 or box_h <= 0:
        raise ValueError(f"box {box!r} needs a finite position and a positive size")
    canvas_w, canvas_h = canvas
    if not all(isinstance(v, int) and v > 0 for v in canvas):
        raise ValueError(f"canvas {canvas!r} needs two positive whole pixel counts")
    vx, vy, vw, vh = svg.view_box
    # Cleaned again, not trusted: an Svg is a plain dataclass anyone can build. The caps were
    # applied by sanitize; cleaning is idempotent, so a sanitized text comes back unchanged.
    root, xlink = _parse(svg.text, max_depth=2**62, max_elements=2**62)
    sx, sy = box_w / vw, box_h / vh
    matrix = (sx, 0.0, 0.0, sy, x - sx * vx, y - sy * vy)
    attrs = {"transform": "matrix(" + " ".join(_num(v) for v in matrix) + ")"}
    attrs.update((k, v) for k, v in root.attrs.items() if k not in _VIEWPORT_ATTRS)
    group = _Node("g", attrs, root.children)
    size = {"width": str(canvas_w), "height": str(canvas_h)}
    return _write(_Node("svg", {**size, "viewBox": f"0 0 {canvas_w} {canvas_h}"}, [group]), xlink)


# -- reading --------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        m = _ENCODING.match(data)
        encoding = m.group(1).decode("ascii") if m else "utf-8"
    try:
        return data.decode(encoding)
    except LookupError:
        raise ProtocolError(f"The SVG declares an unknown encoding {encoding!r}.") from None
    except UnicodeDecodeError:
        raise ProtocolError(f"The SVG is not valid {encoding} text.") from None


def _strip_prolog(text: str) -> str:
    """The document from its root element on: declaration, PIs, comments and DOCTYPE gone.

    Dropping the DOCTYPE with its internal subset is what defuses entity tricks (billion
    laughs, external entities): expat never sees a declaration. A DOCTYPE anywhere else is
    not well-formed and makes the parse fail.
    """
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in "\ufeff \t\r\n":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            i = end + 2 if end >= 0 else n
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = end + 3 if end >= 0 else n
        elif text[i : i + 9].upper() == "<!DOCTYPE":
            i = _doctype_end(text, i + 9)
        else:
            return text[i:]


def _doctype_end(text: str, i: int) -> int:
    """The index after the DOCTYPE's closing `>`, skipping quoted strings and comments."""
    n, brackets = len(text), 0
    while i < n:
        c = text[i]
        if c in "\"'":
            end = text.find(c, i + 1)
            i = end + 1 if end >= 0 else n
            continue
        if text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = end + 3 if end >= 0 else n
            continue
        if c == "[":
            brackets += 1
        elif c == "]":
            brackets -= 1
        elif c == ">" and brackets <= 0:
            return i + 1
        i += 1
    raise ProtocolError("The SVG is not well-formed XML: its DOCTYPE never ends.")


def _drop_named_entities(text: str) -> str:
    # CDATA sections are literal text: a `&name;` in them is not a reference. Found with
    # str.find, not a lazy regex, which would rescan the rest for every unclosed "<![CDATA[".
    parts, i = [], 0
    while (start := text.find("<![CDATA[", i)) >= 0:
        end = text.find("]]>", start)
        end = len(text) if end < 0 else end + 3
        parts += (_NAMED_ENTITY.sub("", text[i:start]), text[start:end])
        i = end
    parts.append(_NAMED_ENTITY.sub("", text[i:]))
    return "".join(parts)


class _Node:
    __slots__ = ("attrs", "children", "tag")

    def __init__(self, tag: str, attrs: dict[str, str], children: list | None = None):
        self.tag = tag
        self.attrs = attrs
        self.children: list[_Node | str] = [] if children is None else children


def _parse(text: str, max_depth: int, max_elements: int) -> tuple[_Node, bool]:
    """The cleaned tree, and whether it keeps an xlink:href."""
    builder = _build(text, max_depth, max_elements)
    return builder.root, builder.xlink


def _build(text: str, max_depth: int, max_elements: int) -> _Builder:
    builder = _Builder(max_depth, max_elements)
    parser = ET.XMLParser(target=builder)
    text = _drop_named_entities(_strip_prolog(text))
    try:
        for start in range(0, len(text), _FEED_CHARS):
            parser.feed(text[start : start + _FEED_CHARS])
        parser.close()
    except ET.ParseError as e:
        raise ProtocolError(f"The SVG is not well-formed XML ({e}).") from None
    except UnicodeError:
        raise ProtocolError("The SVG holds characters that are not valid text.") from None
    if builder.root is None:
        raise ProtocolError("The SVG has no root element.")
    return builder


class _Builder:
    """An ElementTree parser target that keeps only what the policy allows, as it parses."""

    def __init__(self, max_depth: int, max_elements: int):
        self.max_depth = max_depth
        self.max_elements = max_elements
        self.depth = 0
        self.elements = 0
        self.skipping = 0  # depth inside a dropped subtree; 0 when keeping
        self.stack: list[_Node] = []
        self.text: list[str] = []  # character data not yet added to stack[-1]
        self.root: _Node | None = None
        self.svg_ns: str | None = None
        self.xlink = False
        self.unsafe: list[str] = []  # what was dropped because it runs or loads something

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.depth > self.max_depth:
            raise ProtocolError(f"The SVG nests elements deeper than {self.max_depth} levels.")
        if self.elements > self.max_elements:
            raise ProtocolError(f"The SVG has more than {self.max_elements} elements.")
        if self.skipping:
            self.skipping += 1
            return
        ns, _, local = tag[1:].rpartition("}") if tag[0] == "{" else ("", "", tag)
        if self.root is None:
            if local != "svg" or ns not in ("", SVG_NS):
                raise ProtocolError(f"The document is not an SVG: its root is <{local}>.")
            self.svg_ns = ns  # a root without namespace makes every unqualified name SVG
        node = self._node(ns, local, attrib)
        if node is None:
            self.skipping = 1
            return
        if self.root is None:
            self.root = node
        else:
            self._flush()
            self.stack[-1].children.append(node)
        self.stack.append(node)

    def _node(self, ns: str, local: str, attrib: dict[str, str]) -> _Node | None:
        parent = self.stack[-1].tag if self.stack else None
        if ns != self.svg_ns or parent in ("style", "title", "desc"):
            return None
        if local == "a":
            # The link goes, its drawing stays; inside text a group would not render.
            tag = "tspan" if parent in _TEXT_CONTENT else "g"
            attrs = _attributes("a", attrib, self.unsafe)
            return _Node(tag, {k: v for k, v in attrs.items() if k not in _LINK_ATTRS})
        if local not in _ALLOWED:
            if local in _ACTIVE:
                self.unsafe.append(f"a <{local}> element")
            return None
        attrs = _attributes(local, attrib, self.unsafe)
        if local == "image" and not ("href" in attrs or "xlink:href" in attrs):
            return None  # _attributes found no embedded raster to show
        if "xlink:href" in attrs:
            self.xlink = True
        return _Node(local, attrs)

    def end(self, tag: str) -> None:
        self.depth -= 1
        if self.skipping:
            self.skipping -= 1
            return
        self._flush()
        node = self.stack.pop()
        if node.tag == "style":
            css = _clean_css("".join(node.children))
            node.children = [css] if css.strip() else []

    def data(self, text: str) -> None:
        # Buffered and joined once: expat hands over text a line at a time, and appending
        # to a str held in a list copies it every time.
        if not self.skipping and self.stack:
            self.text.append(text)

    def _flush(self) -> None:
        if self.text:
            self.stack[-1].children.append("".join(self.text))
            self.text = []

    def close(self) -> _Node | None:
        return self.root


def _attributes(
    element: str, attrib: dict[str, str], unsafe: list[str] | None = None
) -> dict[str, str]:
    """The attributes the policy keeps, by their output names; an image's bad href drops all.
    What is dropped because it would run or load something is said in `unsafe`."""
    unsafe = [] if unsafe is None else unsafe
    out: dict[str, str] = {}
    for key, value in attrib.items():
        if key[0] == "{":
            ns, _, local = key[1:].rpartition("}")
            if ns == _XML_NS and local == "space":
                out["xml:space"] = value
                continue
            if ns != XLINK_NS or local != "href":
                continue
            name = "xlink:href"
        else:
            local = name = key
        if local.lower().startswith("on"):
            unsafe.append(f"an event handler ({local} on <{element}>)")
            continue
        if local == "href":
            link = value.strip()
            if element == "image":
                if not _DATA_IMAGE.fullmatch(link):
                    unsafe.append(f"a link to another file ({link[:60]!r} on <image>)")
                    return {}  # the caller drops an image left without a source
                out[name] = link
            elif element != "a" and _FRAGMENT.fullmatch(link):
                out[name] = link
            elif element != "a":
                unsafe.append(f"a link to another file ({link[:60]!r} on <{element}>)")
            continue
        if local == "style":
            cleaned = _clean_css(value)
            if cleaned != _CSS_COMMENT.sub("", value):
                unsafe.append(f"style that loads or runs something (on <{element}>)")
            if cleaned.strip(" \t\r\n;"):
                out[name] = cleaned
            continue
        if _safe(value):
            out[name] = value
        else:
            unsafe.append(f"a value that loads or runs something ({local} on <{element}>)")
    return out


def _css_view(text: str) -> str:
    def unescape(m: re.Match) -> str:
        if m.group(2) is not None:
            return m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"

    return _INVISIBLE.sub("", _CSS_ESCAPE.sub(unescape, text)).lower()


def _safe(value: str) -> bool:
    """True when the value loads nothing and runs nothing; url() may only point at #id."""
    if not _SUSPECT.search(value):
        return True  # path data, colours, numbers: most values, checked in one C pass
    seen = _css_view(value)
    if _UNSAFE.search(seen):
        return False
    return len(_URL.findall(seen)) == len(_LOCAL_URL.findall(seen))


def _clean_css(css: str) -> str:
    """The CSS with every unsafe rule head or declaration removed, the rest untouched.

    Comments go first, so what is checked is exactly what is written. The text is cut at
    `;`, `{` and `}`; no dangerous token can span one of those, so keeping only the pieces
    that are safe on their own keeps the whole safe (at worst some CSS stops parsing).
    """
    pieces = _CSS_SPLIT.split(_CSS_COMMENT.sub("", css))
    return "".join(p for p in pieces if p in (";", "{", "}") or _safe(p))


def _size(attrs: dict[str, str]) -> tuple[float, float, tuple[float, float, float, float]]:
    view_box = None
    if "viewBox" in attrs:
        numbers = attrs["viewBox"].replace(",", " ").split()
        if len(numbers) != 4 or not all(_VIEWBOX_NUMBER.fullmatch(v) for v in numbers):
            raise ProtocolError(f"The SVG's viewBox {attrs['viewBox'][:40]!r} is not 4 numbers.")
        view_box = tuple(float(v) for v in numbers)
        if not (_usable(view_box[2]) and _usable(view_box[3])) or not all(
            math.isfinite(v) for v in view_box[:2]
        ):
            raise ProtocolError("The SVG's viewBox has no usable size.")
    width, height = (_px(attrs.get(name)) for name in ("width", "height"))
    if view_box is not None:
        # A side that is missing or relative (100%) follows the view box's aspect ratio.
        if width is None and height is None:
            width, height = view_box[2], view_box[3]
        elif width is None:
            width = height * view_box[2] / view_box[3]
        elif height is None:
            height = width * view_box[3] / view_box[2]
    if width is None or height is None:
        raise ProtocolError("The SVG has no size: neither width and height in px nor a viewBox.")
    if not (_usable(width) and _usable(height)):
        raise ProtocolError(f"The SVG's size {width:g}x{height:g} is not usable.")
    return width, height, view_box or (0.0, 0.0, width, height)


def _px(value: str | None) -> float | None:
    m = _PX_LENGTH.fullmatch(value) if value is not None else None
    return float(m.group(1)) if m else None


def _usable(side: float) -> bool:
    return 0 < side <= MAX_SIZE


# -- writing --------------------------------------------------------------------------------


def _write(root: _Node, xlink: bool) -> str:
    namespaces = {"xmlns": SVG_NS, **({"xmlns:xlink": XLINK_NS} if xlink else {})}
    out: list[str] = []
    stack: list[_Node | str] = [_Node(root.tag, {**namespaces, **root.attrs}, root.children)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        attrs = "".join(f' {k}="{_escape_attr(v)}"' for k, v in item.attrs.items())
        if not item.children:
            out.append(f"<{item.tag}{attrs}/>")
            continue
        out.append(f"<{item.tag}{attrs}>")
        stack.append(f"</{item.tag}>")
        stack.extend(
            c if isinstance(c, _Node) else _escape_text(c) for c in reversed(item.children)
        )
    return "".join(out)


_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
# Tabs and newlines too: a parser would turn them into spaces inside an attribute value.
_ATTR_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


def _escape_text(text: str) -> str:
    return text.translate(_TEXT_ESCAPES)


def _escape_attr(value: str) -> str:
    return value.translate(_ATTR_ESCAPES)


def _num(value: float) -> str:
    return f"{value + 0.0:.12g}"  # + 0.0 turns -0.0 into 0
