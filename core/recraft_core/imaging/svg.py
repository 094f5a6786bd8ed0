"""SVG results made safe for an editor, and placed on its canvas.

sanitize   untrusted SVG bytes to an `Svg`: a standalone document holding only static SVG
           (an allowlist of elements, no scripts, events, external references or DTD), and
           its size in px
place      an `Svg` re-drawn as a canvas-sized document, its view box mapped onto a box
declared_size
           the size in px an SVG's root element declares, read as sanitize reads it

Bounded in time as well as in size: the document is parsed once, fed to expat in pieces
that double in size (expat parses an unfinished token again on every feed, so a single
31 MB attribute fed in 64 KiB pieces took 18 s), and place() reuses the tree sanitize
built. Bounded in what it draws: a size an editor can open (limits.MAX_RESULT_*: a document
is made that large when none is open), a view box that maps onto it with finite numbers,
and a cap on the elements drawn once <use> and url(#id) references are followed (a chain
of them repeats a few elements 5^59 times).

Standard library only, and no `ElementTree.register_namespace`: this runs in Krita's and
GIMP's shared interpreters. The tree is built and written without recursion, so a deeply
nested document is refused by the depth cap, never by Python's recursion limit.
"""

from __future__ import annotations

import codecs
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache

from ..exceptions import ProtocolError
from . import limits

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_XML_NS = "http://www.w3.org/XML/1998/namespace"

# A drawing's size in px: an editor with no document open makes one this large for it.
MIN_SIDE = 1.0  # smaller rounds to an empty document
MAX_SIDE = limits.MAX_RESULT_SIDE
MAX_PIXELS = limits.MAX_RESULT_PIXELS
# How far the view box may be from the px grid it is drawn on: px per user unit (and units
# per px) at most this, and its origin within this many px. Beyond, the placing matrix holds
# numbers a renderer's float32 or fixed point cannot (a viewBox of 1e-320 wrote "inf").
_MAX_SCALE = 1e6
_MAX_ORIGIN_PX = 1e9
MAX_BYTES = 32 * 2**20
MAX_DEPTH = 64
MAX_ELEMENTS = 500_000
# Elements drawn once every <use> and url(#id) is followed: four times the element cap, room
# for a drawing that reuses its parts (each of 500,000 paths clipped by its own clip path),
# far below what a chain of references asks for. (librsvg's own cap is 500,000 references.)
MAX_DRAWN = 2_000_000
# A reference to these draws none of their elements (a gradient's stops are paint, not
# shapes) and cannot reach further: it counts as one.
_PAINT_ONLY = frozenset({"linearGradient", "radialGradient"})
# Expat is fed this much, then twice as much each time (see _feed): declared_size reads the
# root's start tag without parsing the rest, in linear time however long the tag is.
_FIRST_PIECE = 1 << 16

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


class _Chars:
    """A set of characters to look for in a value, the quickest way for its length: a regex
    class on a short value; on a long one (a 31 MB path) str's `in`, a memchr for each
    character, which is several times quicker than a regex class or a translate()."""

    _LONG = 1 << 12

    def __init__(self, chars: str) -> None:
        self.chars = chars
        self.regex = re.compile("[" + re.escape(chars) + "]")

    def found_in(self, text: str) -> bool:
        if len(text) < self._LONG:
            return self.regex.search(text) is not None
        return any(c in text for c in self.chars)


# Every unsafe pattern holds one of these, or a CSS escape that decodes to one.
_SUSPECT = _Chars("\\:(@")
_URL = re.compile(r"url\(")
_LOCAL_URL = re.compile(r"url\((['\"]?)#[^'\"()]*\1\)")
_URL_TARGET = re.compile(r"url\((['\"]?)#([^'\"()]*)\1\)", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_CSS_SPLIT = re.compile(r"([;{}])")


@dataclass(frozen=True, repr=False)
class Svg:
    """A sanitized SVG document and its size in px."""

    text: str
    width: float
    height: float
    view_box: tuple[float, float, float, float]
    # The tree sanitize wrote `text` from, so place() does not parse it a second time. Used
    # only while it belongs to this very `text` (replace() with another text drops it).
    _parsed: _Parsed | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        vb = " ".join(f"{v:g}" for v in self.view_box)
        return f"Svg({self.width:g}x{self.height:g} px, viewBox {vb}, {len(self.text)} chars)"


def sanitize(
    data: bytes | str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
    max_drawn: int = MAX_DRAWN,
) -> Svg:
    """A cleaned, standalone copy of an untrusted SVG; ProtocolError if it cannot be one:
    not well-formed, over one of the caps, or of a size an editor cannot open."""
    _check_bytes(data, max_bytes)
    builder = _build(_text(data), max_depth, max_elements)
    root, xlink = builder.root, builder.xlink
    width, height, view_box = _size(root.attrs)
    _check_drawn(builder, max_drawn)
    text = _write(root, xlink)
    return Svg(text, width, height, view_box, _Parsed(text, root, xlink))


def declared_size(data: bytes | str, max_bytes: int = MAX_BYTES) -> tuple[float, float]:
    """The size in px an SVG declares, read as sanitize reads it: from the start tag of its
    real root element (after the prolog, so a "<svg" in a comment or DOCTYPE before it is
    not taken for it), with the same rules and bounds, without parsing the rest.
    ProtocolError when it has no usable size."""
    _check_bytes(data, max_bytes)
    builder = _RootOnly(MAX_DEPTH, MAX_ELEMENTS)
    try:
        _feed(ET.XMLParser(target=builder), _prepared(_text(data)))
    except _RootRead:
        pass
    except ET.ParseError as e:
        raise ProtocolError(f"The SVG is not well-formed XML ({e}).") from None
    except UnicodeError:
        raise ProtocolError("The SVG holds characters that are not valid text.") from None
    if builder.root is None:
        raise ProtocolError("The SVG has no root element.")
    width, height, _ = _size(builder.root.attrs)
    return width, height


def unsafe_parts(data: bytes | str, max_bytes: int = MAX_BYTES) -> list[str]:
    """What in an SVG would run or load something (scripts, event handlers, links to other
    files, url() to other documents), in words; [] for a safe one. ProtocolError when it is
    not a usable SVG at all."""
    _check_bytes(data, max_bytes)
    return _build(_text(data), MAX_DEPTH, MAX_ELEMENTS).unsafe


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
    vx, vy, vw, vh = (float(v) for v in svg.view_box)
    sx, sy = box_w / vw if vw > 0 else math.inf, box_h / vh if vh > 0 else math.inf
    matrix = (sx, 0.0, 0.0, sy, x - sx * vx, y - sy * vy)
    if not all(math.isfinite(v) for v in matrix):
        # sanitize refuses view boxes that lead here; an Svg built by hand may hold one.
        raise ValueError(f"view box {svg.view_box!r} cannot be mapped onto box {box!r}")
    parsed = svg._parsed
    if isinstance(parsed, _Parsed) and parsed.text is svg.text:
        root, xlink = parsed.root, parsed.xlink  # sanitize's own tree of this very text
    else:
        # Cleaned again, not trusted: an Svg is a plain dataclass anyone can build. The caps
        # were applied by sanitize; cleaning is idempotent, so a sanitized text comes back
        # unchanged.
        builder = _build(svg.text, max_depth=2**62, max_elements=2**62)
        root, xlink = builder.root, builder.xlink
    attrs = {"transform": "matrix(" + " ".join(_num(v) for v in matrix) + ")"}
    attrs.update((k, v) for k, v in root.attrs.items() if k not in _VIEWPORT_ATTRS)
    group = _Node("g", attrs, root.children)
    size = {"width": str(canvas_w), "height": str(canvas_h)}
    return _write(_Node("svg", {**size, "viewBox": f"0 0 {canvas_w} {canvas_h}"}, [group]), xlink)


# -- reading --------------------------------------------------------------------------------


def _check_bytes(data: bytes | str, max_bytes: int) -> None:
    too_big = len(data) > max_bytes
    if not too_big and isinstance(data, str):
        too_big = len(data.encode("utf-8", "replace")) > max_bytes
    if too_big:
        raise ProtocolError(f"The SVG is larger than {max_bytes} bytes.")


def _text(data: bytes | str) -> str:
    return data if isinstance(data, str) else _decode(data)


def _prepared(text: str) -> str:
    """What expat is given: the document from its root element on, without named entities."""
    return _drop_named_entities(_strip_prolog(text))


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
    if "&" not in text:
        return text  # most drawings: one memchr instead of two passes
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


@dataclass(frozen=True, repr=False)  # no repr: `text` may be 32 MB
class _Parsed:
    """The cleaned tree `text` was written from, and whether it keeps an xlink:href."""

    text: str
    root: _Node
    xlink: bool


def _build(text: str, max_depth: int, max_elements: int) -> _Builder:
    """The cleaned tree, built by a _Builder, which applies the caps as it goes."""
    builder = _Builder(max_depth, max_elements)
    try:
        _feed(ET.XMLParser(target=builder), _prepared(text))
    except ET.ParseError as e:
        raise ProtocolError(f"The SVG is not well-formed XML ({e}).") from None
    except UnicodeError:
        raise ProtocolError("The SVG holds characters that are not valid text.") from None
    if builder.root is None:
        raise ProtocolError("The SVG has no root element.")
    return builder


def _feed(parser: ET.XMLParser, text: str) -> None:
    """`text` to `parser` in pieces that double in size (64 KiB, 128 KiB, ...), then closed.

    Expat parses a token that spans pieces again from its start on every piece: in equal
    pieces that is quadratic in a long token (one 31 MB path took 18 s in 64 KiB pieces).
    Doubling pieces cost at most twice the text, and a cap the target raises still stops the
    parse within twice what was read (one feed of the whole text would scan all 32 MB of an
    element bomb after its cap was passed)."""
    at, piece = 0, _FIRST_PIECE
    while at < len(text):
        parser.feed(text[at : at + piece])
        at, piece = at + piece, 2 * piece
    parser.close()


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
        # What _check_drawn needs, gathered as the tree is built: the first element of each
        # id (as renderers look them up), the ids drawn by reference (<use>, url(#id)) in
        # document order, and for each element with an id its size in elements and the
        # slice of `refs` made inside it.
        self.kept = 0  # elements in the tree
        self.ids: dict[str, _Node] = {}
        self.refs: list[str] = []
        self.spans: dict[int, tuple[int, int, int]] = {}  # id(node): (size, first, end)
        self.opened: list[tuple[int, int]] = []  # (kept, len(refs)) when each node started

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
        self.opened.append((self.kept, len(self.refs)))
        self.kept += 1
        if "id" in node.attrs:
            self.ids.setdefault(node.attrs["id"], node)
        self.refs += _targets(node.attrs)

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
        kept, first = self.opened.pop()
        if "id" in node.attrs:
            self.spans[id(node)] = (self.kept - kept, first, len(self.refs))
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


class _RootRead(Exception):
    """Raised by _RootOnly to stop the parse once the root element has started."""


class _RootOnly(_Builder):
    """A _Builder that stops at the root's start tag: the root exactly as sanitize keeps it."""

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        super().start(tag, attrib)
        raise _RootRead


def _targets(attrs: dict[str, str]) -> list[str]:
    """The ids an element draws by reference: a local href (<use>; a pattern's or
    gradient's template, counted alike) and every url(#id) in a value (fill, clip-path,
    mask, filter, marker; in style too). Read as a CSS parser reads them, escapes decoded,
    so an escaped id is followed as a renderer follows it."""
    out = []
    for key in ("href", "xlink:href"):
        value = attrs.get(key, "")
        if value.startswith("#"):  # the only links kept, but an image's data: URI
            out.append(value[1:])
    for value in attrs.values():
        if "(" in value:
            out += _url_targets(value) if len(value) < 256 else _url_targets.__wrapped__(value)
    return out


@lru_cache(maxsize=1024)
def _url_targets(value: str) -> tuple[str, ...]:
    """The ids of the url(#id)s in a value. Remembered for short values: a drawing repeats
    the same few (fill="url(#g0)") on thousands of elements."""
    plain = _CSS_ESCAPE.sub(_unescape, value) if "\\" in value else value
    return tuple(m.group(2) for m in _URL_TARGET.finditer(_INVISIBLE.sub("", plain)))


def _check_drawn(built: _Builder, limit: int) -> None:
    """Refuse a tree that draws more than `limit` elements once references are followed,
    or that refers to an element from inside it (a loop no renderer can draw).

    The tree draws its own elements, plus for each reference what its target draws: the
    target's elements and, in turn, what the references inside it draw (R below). A
    reference to a gradient, or to no element, counts one (see _PAINT_ONLY). R is counted
    once per target and remembered, from the sizes and slices of references the builder
    noted, without walking the tree. Every partial count is part of the total, so the count
    stops as soon as one passes `limit`, and so does the work (each reference looked at
    adds at least one to the total): the numbers stay small even for a chain of references
    that would draw 5^59 copies."""
    ids, refs, spans = built.ids, built.refs, built.spans
    drawn: dict[int, int] = {}  # id(target): R, once counted
    open_: set[int] = set()  # targets being counted: meeting one again is a loop
    # A frame: [target (None for the document), next reference, end, count so far].
    stack: list[list] = [[None, 0, len(refs), built.kept]]
    work = 0
    while stack:
        frame = stack[-1]
        target, k, end, total = frame
        while k < end and total <= limit:
            name = refs[k]
            k += 1
            work += 1
            node = ids.get(name)
            if node is None or node.tag in _PAINT_ONLY:
                total += 1
            elif id(node) in drawn:
                total += drawn[id(node)]
            elif id(node) in open_:
                raise ProtocolError(
                    f"The SVG refers to #{name} from inside it: a loop no editor can draw."
                )
            else:
                frame[1], frame[3] = k, total
                size, first, last = spans[id(node)]
                open_.add(id(node))
                stack.append([node, first, last, size])
                break
        else:
            stack.pop()
            if target is not None:
                open_.discard(id(target))
                drawn[id(target)] = total
                stack[-1][3] += total
            elif total <= limit:
                return
        # Each reference counted adds one at least to the total, and each is counted once
        # per target: more work than twice the limit means a total past it.
        if total > limit or (stack and stack[-1][3] > limit) or work > 2 * limit:
            raise ProtocolError(
                f"The SVG draws more than {limit:,} elements once its <use> and url(#…) "
                "references are followed: it repeats its parts too many times over."
            )


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


def _unescape(m: re.Match) -> str:
    if m.group(2) is not None:
        return m.group(2)
    code = int(m.group(1), 16)
    return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"


def _css_view(text: str) -> str:
    return _INVISIBLE.sub("", _CSS_ESCAPE.sub(_unescape, text)).lower()


def _safe(value: str) -> bool:
    """True when the value loads nothing and runs nothing; url() may only point at #id."""
    if not _SUSPECT.found_in(value):
        return True  # path data, colours, numbers: most values, checked at memchr speed
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
    """Width, height and view box of a root element's attributes, refused (ProtocolError)
    unless an editor can open a document that size and the view box maps onto it."""
    view_box = None
    if "viewBox" in attrs:
        numbers = attrs["viewBox"].replace(",", " ").split()
        if len(numbers) != 4 or not all(_VIEWBOX_NUMBER.fullmatch(v) for v in numbers):
            raise ProtocolError(f"The SVG's viewBox {attrs['viewBox'][:40]!r} is not 4 numbers.")
        view_box = tuple(float(v) for v in numbers)
        if not all(math.isfinite(v) for v in view_box) or min(view_box[2:]) <= 0:
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
    size = f"{_shown(width)}x{_shown(height)} px"
    # `not >=`, so that NaN is refused too.
    if not (width >= MIN_SIDE and height >= MIN_SIDE):
        raise ProtocolError(f"The SVG's size {size} is not usable: a side under {MIN_SIDE:g} px.")
    if not (width <= MAX_SIDE and height <= MAX_SIDE and width * height <= MAX_PIXELS):
        raise ProtocolError(
            f"The SVG claims {size}, more than an editor should open "
            f"(at most {MAX_SIDE} px a side and {MAX_PIXELS:,} pixels)."
        )
    if view_box is not None:
        _check_view_box(attrs["viewBox"], view_box, width, height)
    return width, height, view_box or (0.0, 0.0, width, height)


def _check_view_box(text: str, view_box: tuple[float, ...], width: float, height: float):
    """Refuse a view box whose mapping onto `width` x `height` px is degenerate: so small or
    so large that a user unit is more than _MAX_SCALE px or less than 1/_MAX_SCALE, or so
    far from the origin that it moves the drawing by more than _MAX_ORIGIN_PX."""
    vx, vy, vw, vh = view_box
    sx, sy = width / vw, height / vh
    if not all(1 / _MAX_SCALE <= s <= _MAX_SCALE for s in (sx, sy)):
        raise ProtocolError(
            f"The SVG's viewBox {text[:60]!r} is out of all proportion to its size "
            f"{_shown(width)}x{_shown(height)} px."
        )
    if not (abs(vx * sx) <= _MAX_ORIGIN_PX and abs(vy * sy) <= _MAX_ORIGIN_PX):
        raise ProtocolError(f"The SVG's viewBox {text[:60]!r} lies too far from the origin.")


def _shown(value: float) -> str:
    """A length for a message: 1000000, not 1e+06."""
    return f"{value:.0f}" if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def _px(value: str | None) -> float | None:
    m = _PX_LENGTH.fullmatch(value) if value is not None else None
    return float(m.group(1)) if m else None


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


_TEXT_SPECIAL = _Chars("&<>\r")
_ATTR_SPECIAL = _Chars('&<>"\t\n\r')


def _escape_text(text: str) -> str:
    return text.translate(_TEXT_ESCAPES) if _TEXT_SPECIAL.found_in(text) else text


def _escape_attr(value: str) -> str:
    return value.translate(_ATTR_ESCAPES) if _ATTR_SPECIAL.found_in(value) else value


def _num(value: float) -> str:
    return f"{value + 0.0:.12g}"  # + 0.0 turns -0.0 into 0
