"""SVG results: sanitizing untrusted documents and placing them on a canvas."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest

from recraft_core import ProtocolError
from recraft_core.imaging import svg

NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
PNG_URI = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYAAAAAMAASsJ"
    "TYQAAAAASUVORK5CYII="
)

RECRAFT_LIKE = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="2048" height="1024"
     viewBox="0 0 2048 1024" fill="none">
<defs>
<linearGradient id="g0" x1="0" y1="0" x2="1" y2="1" gradientUnits="objectBoundingBox">
<stop offset="0" stop-color="#FF8800"/><stop offset="1" stop-color="#0044AA" stop-opacity="0.5"/>
</linearGradient>
<clipPath id="c0"><rect width="2048" height="1024"/></clipPath>
<path id="leaf" d="M0 0 L10 0 L5 8 Z"/>
</defs>
<g clip-path="url(#c0)" transform="translate(12.5 -3)">
<path d="M 0 0 L 2048 0 L 2048 1024 L 0 1024 Z" fill="url(#g0)"/>
<path fill="#1A1A1A" d="M5.5,6 C7,8 9,10 11.25,12 z" style="opacity:0.8;stroke-width:2"/>
<circle cx="100" cy="100" r="40" fill="#FFFFFF" stroke="#000" stroke-width="3"/>
<use href="#leaf" x="30" y="40"/>
<image x="0" y="0" width="1" height="1" href="{PNG_URI}"/>
<text x="10" y="20" font-family="Inter" xml:space="preserve">Tom &amp; Jerry &lt;3 "quoted"</text>
</g>
</svg>"""


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def tags(text: str) -> list[str]:
    return [el.tag.removeprefix(NS) for el in parse(text).iter()]


def find(text: str, name: str) -> list[ET.Element]:
    return list(parse(text).iter(NS + name))


def doc(body: str, root_attrs: str = 'width="100" height="100"', xlink: bool = False) -> str:
    ns = ' xmlns:xlink="http://www.w3.org/1999/xlink"' if xlink else ""
    return f'<svg xmlns="http://www.w3.org/2000/svg"{ns} {root_attrs}>{body}</svg>'


# -- benign documents -----------------------------------------------------------------------


def test_recraft_like_svg_round_trips_unchanged():
    original = parse(RECRAFT_LIKE)
    cleaned = svg.sanitize(RECRAFT_LIKE.encode())
    result = parse(cleaned.text)
    assert [(e.tag, e.attrib, e.text) for e in result.iter()] == [
        (e.tag, e.attrib, e.text) for e in original.iter()
    ]
    assert cleaned.text.startswith('<svg xmlns="http://www.w3.org/2000/svg" ')
    assert "xmlns:xlink" not in cleaned.text  # no xlink:href in the document
    assert not re.search(r"</?\w+:", cleaned.text)  # plain element names, no ns0: prefixes
    assert (cleaned.width, cleaned.height, cleaned.view_box) == (2048, 1024, (0, 0, 2048, 1024))


def test_sanitizing_is_idempotent():
    once = svg.sanitize(RECRAFT_LIKE)
    assert svg.sanitize(once.text) == once


def test_root_without_namespace_is_read_as_svg():
    cleaned = svg.sanitize('<svg width="10" height="20"><rect width="5" height="5"/></svg>')
    assert tags(cleaned.text) == ["svg", "rect"]
    assert parse(cleaned.text).tag == NS + "svg"


def test_escaping_survives_the_round_trip():
    attr = "a &quot;b&quot; &lt;c> &amp; d&#9;e&#10;f"
    text = doc(f'<rect aria-label="{attr}"/><text>x &lt; y &amp;&amp; z &gt; w</text>')
    cleaned = svg.sanitize(text)
    assert find(cleaned.text, "rect")[0].get("aria-label") == 'a "b" <c> & d\te\nf'
    assert find(cleaned.text, "text")[0].text == "x < y && z > w"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('<?xml version="1.0" encoding="ISO-8859-1"?>' + doc("<text>\xe9t\xe9</text>"), "latin-1"),
        (doc("<text>\xe9t\xe9</text>"), "utf-16"),
        (doc("<text>\xe9t\xe9</text>"), "utf-8-sig"),
    ],
)
def test_declared_and_bom_encodings_are_decoded(data, expected):
    cleaned = svg.sanitize(data.encode(expected))
    assert find(cleaned.text, "text")[0].text == "\xe9t\xe9"


def test_repr_is_short():
    cleaned = svg.sanitize(doc("<rect/>" * 5000))
    assert len(repr(cleaned)) < 80
    assert "100x100" in repr(cleaned)


# -- hostile content is cleaned -------------------------------------------------------------


def test_script_is_dropped_with_its_content():
    cleaned = svg.sanitize(doc('<script>alert("x")</script><rect width="1" height="1"/>'))
    assert tags(cleaned.text) == ["svg", "rect"]
    assert "alert" not in cleaned.text


def test_event_attributes_are_dropped_on_root_and_elements():
    text = doc(
        '<rect width="1" height="1" onclick="a()" OnMouseOver="b()"/>',
        'width="9" height="9" onload="c()"',
    )
    cleaned = svg.sanitize(text)
    root = parse(cleaned.text)
    assert root.attrib == {"width": "9", "height": "9"}
    assert find(cleaned.text, "rect")[0].attrib == {"width": "1", "height": "1"}


@pytest.mark.parametrize(
    "image",
    [
        '<image href="http://evil.example/x.png" width="1" height="1"/>',
        '<image xlink:href="file:///etc/passwd" width="1" height="1"/>',
        '<image href="data:text/html;base64,PHNjcmlwdD4=" width="1" height="1"/>',
        '<image href="data:image/svg+xml;base64,PHN2Zy8+" width="1" height="1"/>',
        '<image href="#other" width="1" height="1"/>',
        '<image width="1" height="1"/>',
        f'<image href="{PNG_URI}" xlink:href="http://evil.example/x.png"/>',
    ],
)
def test_image_without_an_embedded_raster_is_removed(image):
    cleaned = svg.sanitize(doc(image + '<rect width="1" height="1"/>', xlink=True))
    assert tags(cleaned.text) == ["svg", "rect"]
    assert "passwd" not in cleaned.text and "evil" not in cleaned.text


@pytest.mark.parametrize("attr", ["href", "xlink:href"])
def test_embedded_png_image_is_kept(attr):
    cleaned = svg.sanitize(doc(f'<image {attr}="{PNG_URI}" width="1" height="1"/>', xlink=True))
    (image,) = find(cleaned.text, "image")
    key = "href" if attr == "href" else XLINK_HREF
    assert image.get(key) == PNG_URI
    assert ("xmlns:xlink" in cleaned.text) == (attr == "xlink:href")


@pytest.mark.parametrize("attr", ["href", "xlink:href"])
def test_use_keeps_a_local_reference_and_loses_a_remote_one(attr):
    body = f'<rect id="a"/><use {attr}="http://x/y.svg#a"/><use {attr}="#a"/>'
    cleaned = svg.sanitize(doc(body, xlink=True))
    remote, local = find(cleaned.text, "use")
    key = "href" if attr == "href" else XLINK_HREF
    assert remote.attrib == {}
    assert local.get(key) == "#a"


def test_xlink_namespace_is_declared_only_while_an_xlink_href_remains():
    cleaned = svg.sanitize(doc('<use xlink:href="http://x/y.svg#a"/>', xlink=True))
    assert "xlink" not in cleaned.text


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("url(#g)", True),
        ("url( '#g' )", True),
        ("url(http://evil/x#g)", False),
        ("URL(http://evil/x)", False),
        (r"u\72l(http://evil/x)", False),
        ("url(#g) url(//evil/x)", False),
        ("url(data:image/png;base64,AAAA)", False),
        ("java\nscript:alert(1)", False),
        ("vbscript:x", False),
        ("image-set('http://evil/x.png' 1x)", False),
    ],
)
def test_attribute_urls_may_only_point_inside_the_document(value, kept):
    cleaned = svg.sanitize(doc(f'<rect fill="{value}" width="1" height="1"/>'))
    (rect,) = find(cleaned.text, "rect")
    assert (rect.get("fill") == value) == kept
    assert rect.get("width") == "1"


def test_style_element_keeps_only_safe_css():
    css = (
        "@import url(http://evil/a.css);@import 'http://evil/b.css';"
        ".a{fill:url(http://e);stroke:red}.b{fill:url(#g)}"
        ".c{background:expression(alert(1));-moz-binding:url(x.xml#b);behavior:url(x.htc)}"
        "@font-face{font-family:F;src:url(http://evil/f.woff)}"
    )
    cleaned = svg.sanitize(doc(f"<style>{css}</style>"))
    (style,) = find(cleaned.text, "style")
    for bad in ("@import", "evil", "http", "expression", "binding", "behavior"):
        assert bad not in style.text
    assert ".a{" in style.text and "stroke:red" in style.text
    assert ".b{fill:url(#g)}" in style.text
    assert "font-family:F" in style.text


def test_style_element_comment_cannot_hide_a_url():
    # A comment removed between "ur" and "l(" would have spliced a url() past the check.
    cleaned = svg.sanitize(doc("<style><![CDATA[.a{fill:ur/**/l(http://evil)}]]></style>"))
    assert "evil" not in cleaned.text


def test_style_attribute_keeps_only_safe_declarations():
    style = "fill:url(http://evil/x);stroke:blue;background:expression(1);opacity:.5"
    cleaned = svg.sanitize(doc(f'<rect style="{style}"/><circle style="fill:url(http://e)"/>'))
    assert find(cleaned.text, "rect")[0].get("style") == ";stroke:blue;;opacity:.5"
    assert find(cleaned.text, "circle")[0].attrib == {}


def test_foreign_object_with_html_is_dropped():
    body = (
        '<foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml">'
        '<iframe src="http://evil"/>secret</div></foreignObject><rect/>'
    )
    cleaned = svg.sanitize(doc(body))
    assert tags(cleaned.text) == ["svg", "rect"]
    assert "secret" not in cleaned.text


@pytest.mark.parametrize(
    "element",
    [
        "iframe",
        "embed",
        "object",
        "audio",
        "video",
        "feImage",
        "animate",
        "set",
        "animateTransform",
        "animateMotion",
        "metadata",
        "handler",
        "listener",
        "discard",
    ],
)
def test_elements_outside_the_allowlist_are_dropped_with_their_subtree(element):
    body = f'<{element} href="#a"><rect id="inner"/>text</{element}><rect id="outer"/>'
    cleaned = svg.sanitize(doc(body))
    assert tags(cleaned.text) == ["svg", "rect"]
    assert find(cleaned.text, "rect")[0].get("id") == "outer"


def test_text_around_a_dropped_element_is_kept_in_order():
    body = "<text>Hello <script>x()</script>world<tspan>!</tspan> bye<set/>.</text>"
    (text,) = find(svg.sanitize(doc(body)).text, "text")
    assert text.text == "Hello world"
    assert [(t.tag, t.text, t.tail) for t in text] == [(NS + "tspan", "!", " bye.")]


def test_elements_inside_style_title_and_desc_are_dropped_and_their_text_kept():
    body = (
        "<style>.a{fill:red}<rect/>.b{stroke:blue}<g>.c{}</g></style>"
        "<title>T<rect/>itle</title><desc>D<g/>esc</desc>"
    )
    cleaned = svg.sanitize(doc(body))
    assert tags(cleaned.text) == ["svg", "style", "title", "desc"]
    assert find(cleaned.text, "style")[0].text == ".a{fill:red}.b{stroke:blue}"
    assert find(cleaned.text, "title")[0].text == "Title"
    assert find(cleaned.text, "desc")[0].text == "Desc"


def test_link_is_unwrapped_into_a_group_and_loses_its_href():
    body = (
        '<a href="javascript:alert(1)" target="_blank" fill="red"><rect width="1" height="1"/>'
        '</a><text>go <a xlink:href="http://x">here</a></text>'
    )
    cleaned = svg.sanitize(doc(body, xlink=True))
    assert tags(cleaned.text) == ["svg", "g", "rect", "text", "tspan"]
    assert find(cleaned.text, "g")[0].attrib == {"fill": "red"}
    assert find(cleaned.text, "tspan")[0].text == "here"
    assert "javascript" not in cleaned.text and "http://x" not in cleaned.text


def test_foreign_namespaces_are_dropped_but_xml_space_stays():
    text = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="5" height="5"'
        ' xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"'
        ' xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd">'
        '<sodipodi:namedview inkscape:zoom="1"><rect/></sodipodi:namedview>'
        '<inkscape:rect width="1" height="1"/><x:g xmlns:x="http://example.com/x"><rect/></x:g>'
        '<g inkscape:label="Layer 1" inkscape:groupmode="layer" xml:space="preserve"><rect/></g>'
        "</svg>"
    )
    cleaned = svg.sanitize(text)
    assert tags(cleaned.text) == ["svg", "g", "rect"]
    assert find(cleaned.text, "g")[0].attrib == {
        "{http://www.w3.org/XML/1998/namespace}space": "preserve"
    }
    assert "inkscape" not in cleaned.text and "sodipodi" not in cleaned.text


def test_comments_and_processing_instructions_are_dropped():
    text = '<?xml-stylesheet href="http://evil/x.css"?><!-- a -->' + doc(
        "<!-- secret --><?php echo 1 ?><rect/>"
    )
    cleaned = svg.sanitize(text)
    assert (
        cleaned.text
        == '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><rect/></svg>'
    )


def test_billion_laughs_is_defused_quickly():
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    ]
    text = f"<?xml version='1.0'?><!DOCTYPE svg [{''.join(entities)}]>" + doc(
        "<text>&lol9;</text><rect/>"
    )
    start = time.perf_counter()
    cleaned = svg.sanitize(text)
    assert time.perf_counter() - start < 1
    assert "lol" not in cleaned.text
    assert len(cleaned.text) < 200
    assert tags(cleaned.text) == ["svg", "text", "rect"]


def test_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    text = (
        f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{secret.as_uri()}">'
        f'<!ENTITY % p SYSTEM "{secret.as_uri()}"> %p;]>' + doc("<text>&x;</text>")
    )
    cleaned = svg.sanitize(text)
    assert "SECRET" not in cleaned.text
    assert find(cleaned.text, "text")[0].text is None


def test_doctype_with_brackets_and_quotes_in_its_subset_is_removed_whole():
    text = '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x>y" [<!ENTITY a "]>"> <!-- ]> -->]>'
    cleaned = svg.sanitize(text + doc("<rect/>"))
    assert tags(cleaned.text) == ["svg", "rect"]


def test_dtd_never_reaches_the_parser():
    # Expat applies attribute defaults from an internal subset: proof the subset was read.
    text = '<!DOCTYPE svg [<!ATTLIST rect class CDATA "injected">]>' + doc("<rect/>")
    cleaned = svg.sanitize(text)
    assert find(cleaned.text, "rect")[0].attrib == {}


def test_unknown_named_entities_vanish_and_character_references_stay():
    cleaned = svg.sanitize(doc("<text>a&nbsp;b&#233;&#xE9;&amp;&lt;</text>"))
    assert find(cleaned.text, "text")[0].text == "ab\xe9\xe9&<"


# -- refusals -------------------------------------------------------------------------------


def nested(depth: int, tag: str = "g") -> str:
    return doc(f"<{tag}>" * depth + f"</{tag}>" * depth)


@pytest.mark.parametrize("tag", ["g", "foreignObject"])
def test_deep_nesting_is_refused_without_recursion_error(tag):
    with pytest.raises(ProtocolError, match="deeper than 64"):
        svg.sanitize(nested(10_000, tag))


def test_deep_nesting_within_the_cap_is_processed_without_recursion():
    cleaned = svg.sanitize(nested(10_000), max_depth=10_001)
    assert cleaned.text.count("<g") == 10_000
    placed = svg.place(cleaned, (0, 0, 10, 10), (10, 10))
    assert placed.count("<g") == 10_001  # and the placing group


def test_depth_cap_is_exact():
    svg.sanitize(nested(9), max_depth=10)
    with pytest.raises(ProtocolError):
        svg.sanitize(nested(10), max_depth=10)


def test_too_many_elements_are_refused():
    body = "<rect/>" * 99
    svg.sanitize(doc(body), max_elements=100)
    with pytest.raises(ProtocolError, match="more than 100 elements"):
        svg.sanitize(doc(body + "<script/>"), max_elements=100)


def test_oversize_input_is_refused():
    data = doc("<rect/>").encode()
    svg.sanitize(data, max_bytes=len(data))
    with pytest.raises(ProtocolError, match="larger than"):
        svg.sanitize(data, max_bytes=len(data) - 1)
    with pytest.raises(ProtocolError, match="larger than"):
        svg.sanitize(doc("<text>\xe9</text>"), max_bytes=len(doc("<text>\xe9</text>")))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"not xml at all",
        doc("<rect>").encode(),
        doc("<rect/>").encode() + b"<svg/>",
        doc("<text>caf\xe9</text>").encode("latin-1"),
        b'<?xml version="1.0" encoding="x-nope"?><svg/>',
        b"<!DOCTYPE svg [<!ENTITY a 'b'>",
        doc("<!DOCTYPE svg><rect/>").encode(),
        doc("<rect x='1 & 2'/>").encode(),
    ],
)
def test_not_xml_is_refused(data):
    with pytest.raises(ProtocolError):
        svg.sanitize(data)


@pytest.mark.parametrize(
    "text",
    [
        '<html xmlns="http://www.w3.org/1999/xhtml"><svg width="1" height="1"/></html>',
        '<svg xmlns="http://example.com/not-svg" width="1" height="1"/>',
        '<svg:svg xmlns:svg="http://example.com/x" width="1" height="1"/>',
        '<rect xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
    ],
)
def test_root_other_than_svg_is_refused(text):
    with pytest.raises(ProtocolError, match="not an SVG"):
        svg.sanitize(text)


@pytest.mark.parametrize(
    "root_attrs",
    [
        "",
        'width="100"',
        'width="100%" height="100%"',
        'width="10mm" height="10mm"',
        'width="0" height="10"',
        'width="-5" height="10"',
        'width="2e6" height="10"',
        'width="1e999" height="10"',
        'viewBox="0 0 0 10"',
        'viewBox="0 0 10"',
        'viewBox="0 0 nan 10"',
        'viewBox="0 0 10 2000000"',
        'width="10" height="10" viewBox="0 0 a b"',
    ],
)
def test_no_usable_size_is_refused(root_attrs):
    with pytest.raises(ProtocolError):
        svg.sanitize(doc("<rect/>", root_attrs))


# -- size -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("root_attrs", "size", "view_box"),
    [
        ('width="100" height="50"', (100, 50), (0, 0, 100, 50)),
        ('width="100px" height=" 50.5px "', (100, 50.5), (0, 0, 100, 50.5)),
        ('viewBox="0 0 300 200"', (300, 200), (0, 0, 300, 200)),
        ('width="100%" height="100%" viewBox="-5,10 30 20"', (30, 20), (-5, 10, 30, 20)),
        ('width="64" height="32" viewBox="0 0 2048 1024"', (64, 32), (0, 0, 2048, 1024)),
        ('width="60" viewBox="0 0 30 20"', (60, 40), (0, 0, 30, 20)),
        ('height="40" viewBox="0 0 30 20"', (60, 40), (0, 0, 30, 20)),
        ('height="5cm" width="1.5e2" viewBox="0 0 30 20"', (150, 100), (0, 0, 30, 20)),
    ],
)
def test_size_is_read_from_width_height_or_view_box(root_attrs, size, view_box):
    cleaned = svg.sanitize(doc("<rect/>", root_attrs))
    assert (cleaned.width, cleaned.height) == size
    assert cleaned.view_box == view_box


# -- placing --------------------------------------------------------------------------------


def matrix_of(transform: str) -> list[float]:
    m = re.fullmatch(r"matrix\(([^)]*)\)", transform)
    assert m, transform
    values = [float(v) for v in m.group(1).replace(",", " ").split()]
    assert len(values) == 6
    return values


def apply(matrix: list[float], x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


@pytest.mark.parametrize(
    ("root_attrs", "box", "canvas"),
    [
        ('width="100" height="50"', (0, 0, 100, 50), (100, 50)),
        ('width="1024" height="1024" viewBox="10 20 100 50"', (30.5, 40, 200, 300), (640, 480)),
        ('viewBox="-3 -7 2048 1024"', (1000, 2000, 1234.5678, 617.2839), (4096, 4096)),
        ('viewBox="0 0 3 3"', (0, 0, 1, 1), (7000, 9000)),
    ],
)
def test_place_maps_the_view_box_onto_the_box(root_attrs, box, canvas):
    cleaned = svg.sanitize(doc('<rect width="1" height="1"/>', root_attrs))
    placed = parse(svg.place(cleaned, box, canvas))
    w, h = canvas
    assert placed.attrib == {"width": str(w), "height": str(h), "viewBox": f"0 0 {w} {h}"}
    (group,) = list(placed)
    assert group.tag == NS + "g"
    matrix = matrix_of(group.get("transform"))
    vx, vy, vw, vh = cleaned.view_box
    x, y, bw, bh = box
    assert apply(matrix, vx, vy) == pytest.approx((x, y), abs=1e-6)
    assert apply(matrix, vx + vw, vy + vh) == pytest.approx((x + bw, y + bh), abs=1e-6)
    assert [child.tag for child in group] == [NS + "rect"]


def test_place_moves_presentation_attributes_onto_the_group():
    root_attrs = (
        'version="1.1" baseProfile="full" width="10" height="10" viewBox="0 0 10 10" x="3" y="4"'
        ' preserveAspectRatio="none" fill="#123456" stroke="red" opacity="0.5"'
        ' style="stroke-width:2" font-family="Inter" id="art" xml:space="preserve"'
    )
    body = '<use xlink:href="#r"/><rect id="r"/>'
    cleaned = svg.sanitize(doc(body, root_attrs, xlink=True))
    placed = svg.place(cleaned, (1, 2, 3, 4), (50, 60))
    group = parse(placed)[0]
    moved = dict(group.attrib)
    del moved["transform"]
    assert moved == {
        "fill": "#123456",
        "stroke": "red",
        "opacity": "0.5",
        "style": "stroke-width:2",
        "font-family": "Inter",
        "id": "art",
        "{http://www.w3.org/XML/1998/namespace}space": "preserve",
    }
    assert [child.tag for child in group] == [NS + "use", NS + "rect"]
    assert group[0].get(XLINK_HREF) == "#r"


def test_place_cleans_an_svg_it_did_not_get_from_sanitize():
    forged = svg.Svg(
        doc('<script>alert(1)</script><rect onclick="x()"/>'), 100, 100, (0, 0, 100, 100)
    )
    placed = svg.place(forged, (0, 0, 10, 10), (10, 10))
    assert "alert" not in placed and "onclick" not in placed


@pytest.mark.parametrize(
    ("box", "canvas"),
    [
        ((0, 0, 0, 10), (10, 10)),
        ((0, 0, 10, -1), (10, 10)),
        ((float("nan"), 0, 10, 10), (10, 10)),
        ((0, 0, 10, 10), (0, 10)),
        ((0, 0, 10, 10), (10.5, 10)),
    ],
)
def test_place_refuses_an_empty_box_or_canvas(box, canvas):
    cleaned = svg.sanitize(doc("<rect/>"))
    with pytest.raises(ValueError):
        svg.place(cleaned, box, canvas)
