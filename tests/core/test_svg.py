"""SVG results: sanitizing untrusted documents and placing them on a canvas."""

from __future__ import annotations

import dataclasses
import random
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
        'width="0.5" height="10"',
        'width="20000" height="10"',
        'width="16384" height="16384"',  # a side that passes, but 268 MP
        'width="1e6" height="1e6" viewBox="0 0 10 10"',
        'width="10" height="10" viewBox="0 0 1e-320 1e-320"',
        'width="10" height="10" viewBox="0 0 1e8 1e8"',
        'width="10" height="10" viewBox="1e300 0 10 10"',
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
    # The header check reads the same root the same way, without parsing the rest.
    assert svg.declared_size(doc("<rect/>", root_attrs).encode()) == size


@pytest.mark.parametrize(
    "text",
    [
        doc("<rect/>", 'width="1e6" height="1e6" viewBox="0 0 10 10"'),
        '<!-- <svg width="10" height="10"> -->' + doc("<rect/>", 'width="1000000" height="10"'),
    ],
)
def test_a_size_no_editor_can_open_is_refused_by_sanitize_and_the_header_check(text):
    with pytest.raises(ProtocolError, match=r"claims 1000000x10+ px, more than an editor"):
        svg.sanitize(text)
    with pytest.raises(ProtocolError, match="more than an editor"):
        svg.declared_size(text)


def test_the_header_check_reads_the_real_root_behind_a_decoy():
    decoy = '<!-- <svg width="1000000" height="1000000"> -->'
    text = decoy + doc("<rect/>", 'width="30" height="20"')
    assert svg.declared_size(text) == (30, 20)
    assert (svg.sanitize(text).width, svg.sanitize(text).height) == (30, 20)
    with pytest.raises(ProtocolError, match="not an SVG"):
        svg.declared_size('<!-- <svg width="3" height="3"/> --><html width="3" height="3"/>')


def test_the_header_check_reads_a_long_root_tag_in_linear_time():
    long_root = doc("<rect/>", 'width="30" height="20" data-x="' + "x" * (16 * 2**20) + '"')
    start = time.perf_counter()
    assert svg.declared_size(long_root) == (30, 20)
    assert time.perf_counter() - start < 2


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
    # Another text put in a sanitized Svg is cleaned too, not drawn from the old tree.
    cleaned = svg.sanitize(doc('<rect fill="red"/>'))
    swapped = dataclasses.replace(cleaned, text=forged.text)
    placed = svg.place(swapped, (0, 0, 10, 10), (10, 10))
    assert "alert" not in placed and "onclick" not in placed and "red" not in placed


def test_place_reuses_sanitize_s_tree_and_writes_what_a_second_parse_would():
    cleaned = svg.sanitize(RECRAFT_LIKE)
    plain = svg.Svg(cleaned.text, cleaned.width, cleaned.height, cleaned.view_box)
    assert plain == cleaned  # the tree is not part of the value
    box, canvas = (3, 4, 500, 250), (640, 480)
    assert svg.place(cleaned, box, canvas) == svg.place(plain, box, canvas)


@pytest.mark.parametrize(
    "view_box", [(0, 0, 1e-320, 1e-320), (0, 0, 0, 10), (0, 0, float("nan"), 1), (1e308, 0, 1, 1)]
)
def test_place_refuses_a_view_box_it_cannot_map_with_finite_numbers(view_box):
    forged = svg.Svg(doc("<rect/>"), 10, 10, view_box)
    with pytest.raises(ValueError, match="cannot be mapped"):
        svg.place(forged, (0, 0, 10, 10), (10, 10))


def test_a_tiny_view_box_is_refused_not_placed_as_inf():
    text = doc("<rect/>", 'width="10" height="10" viewBox="0 0 1e-320 1e-320"')
    with pytest.raises(ProtocolError, match="out of all proportion"):
        svg.sanitize(text)


# -- time and fan-out -----------------------------------------------------------------------


def one_token(megabytes: int) -> bytes:
    """A document that is one path whose `d` holds `megabytes` MB in a single token."""
    d = "M0 0" * (megabytes * 2**20 // 4)
    return doc(f'<path d="{d}"/>', 'width="10" height="10"').encode()


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def test_one_long_token_is_sanitized_and_placed_in_linear_time():
    """Fed to expat in 64 KiB pieces, a 31 MB token took 18 s (expat parses an unfinished
    token again on every feed) and place parsed it a second time. Now: one feed, one parse.
    Timed against an 8 MB one too, so a slow machine does not pass for a quadratic parse."""
    small, large = one_token(8), one_token(31)
    baseline = min(timed(svg.sanitize, small) for _ in range(2))
    start = time.perf_counter()
    cleaned = svg.sanitize(large)
    took = time.perf_counter() - start
    placed_in = timed(svg.place, cleaned, (0, 0, 10, 10), (10, 10))
    assert took < 2, f"{took:.2f} s"
    assert took < 8 * baseline + 0.2, f"{took:.2f} s for 31 MB, {baseline:.2f} s for 8 MB"
    assert placed_in < 1, f"place took {placed_in:.2f} s"
    assert len(cleaned.text) > 31 * 2**20


def use_chain(levels: int, fan: int = 5, href: str = "href") -> str:
    """<g id="a{n}"> holds `fan` <use>s of a{n-1}: the last one draws fan**levels rects."""
    body = '<g id="a0"><rect width="1" height="1"/></g>'
    for n in range(1, levels + 1):
        body += f'<g id="a{n}">' + f'<use {href}="#a{n - 1}"/>' * fan + "</g>"
    return doc(f"<defs>{body}</defs><use {href}='#a{levels}'/>", xlink=href == "xlink:href")


@pytest.mark.parametrize("href", ["href", "xlink:href"])
def test_a_chain_of_use_elements_that_draws_5_to_the_59_is_refused_quickly(href):
    start = time.perf_counter()
    with pytest.raises(ProtocolError, match="draws more than 2,000,000 elements"):
        svg.sanitize(use_chain(59, href=href))
    assert time.perf_counter() - start < 1


def test_a_chain_through_clip_paths_and_escaped_urls_is_refused():
    body = '<clipPath id="c0"><rect/></clipPath>'
    for n in range(1, 30):
        ref = f"url(#c{n - 1})" if n % 2 else f"url( '#\\63 {n - 1}' )"  # \63 is "c"
        body += f'<clipPath id="c{n}">' + f'<rect clip-path="{ref}"/>' * 3 + "</clipPath>"
    text = doc(f'<defs>{body}</defs><rect style="clip-path: url(#c29)"/>')
    with pytest.raises(ProtocolError, match="draws more than"):
        svg.sanitize(text)


@pytest.mark.parametrize(
    "body",
    [
        '<g id="a"><use href="#a"/></g>',
        '<g id="a"><rect/><g fill="url(#b)"/></g><pattern id="b"><use href="#a"/></pattern>',
    ],
)
def test_a_reference_loop_is_refused(body):
    with pytest.raises(ProtocolError, match="loop"):
        svg.sanitize(doc(body))


def drawn_by_expanding(text: str) -> int:
    """Elements drawn, counted the slow way: every reference expanded in place, recursively
    (a gradient or a missing target counts one). RecursionError for a loop."""
    root = ET.fromstring(text)
    ids: dict[str, ET.Element] = {}
    for element in root.iter():
        ids.setdefault(element.get("id"), element)
    paint = (NS + "linearGradient", NS + "radialGradient")

    def count(element: ET.Element, open_: frozenset) -> int:
        total = 1 + sum(count(child, open_) for child in element)
        href = element.get("href") or element.get(XLINK_HREF) or ""
        names = [href[1:]] if href.startswith("#") else []
        for value in element.attrib.values():
            names += re.findall(r"url\(#([^)]*)\)", value)
        for name in names:
            target = ids.get(name)
            if target is None or target.tag in paint:
                total += 1
            elif id(target) in open_:
                raise RecursionError(name)
            else:
                total += count(target, open_ | {id(target)})
        return total

    return count(root, frozenset({id(root)}))


def random_document(rng: random.Random) -> str:
    """Groups, clip paths, patterns and gradients nested at random, every element with an
    id, <use>s and clip-paths pointing at random ids (loops included, by chance)."""
    kinds = ["g", "g", "use", "rect", "linearGradient", "clipPath", "pattern"]
    n, made = rng.randint(1, 12), [0]

    def element(depth: int) -> str:
        kind, i = rng.choice(kinds), made[0]
        made[0] += 1
        attrs = f' id="e{i}"'
        if kind == "use":
            attrs += f' href="#e{rng.randrange(n)}"'
        elif rng.random() < 0.3:
            attrs += f' clip-path="url(#e{rng.randrange(n)})"'
        if kind in ("use", "rect") or depth > 3:
            return f"<{kind}{attrs}/>"
        children = "".join(element(depth + 1) for _ in range(rng.randint(0, 3)))
        return f"<{kind}{attrs}>{children}</{kind}>"

    return doc("".join(element(0) for _ in range(rng.randint(1, 4))))


def test_the_drawn_count_is_exact_on_random_documents():
    """The count sanitize keeps without walking the tree equals expanding every reference:
    a document passes with max_drawn at that number and is refused one below it, and a loop
    is refused exactly when expanding would never end."""
    rng = random.Random(19)
    for _ in range(400):
        text = random_document(rng)
        try:
            expected = drawn_by_expanding(text)
        except RecursionError:
            with pytest.raises(ProtocolError, match="loop"):
                svg.sanitize(text)
            continue
        svg.sanitize(text, max_drawn=expected)
        with pytest.raises(ProtocolError, match="draws more than"):
            svg.sanitize(text, max_drawn=expected - 1)


def test_reuse_within_the_bound_is_kept():
    cleaned = svg.sanitize(use_chain(7, fan=5))  # 5**7 = 78,125 rects, 6**7 elements drawn
    assert cleaned.text.count("<use") == 7 * 5 + 1
    # 193 elements drawn with 2 levels (root, defs, 104 defined, a2's 86 again and its
    # <use>), 979 with 3.
    svg.sanitize(use_chain(2, fan=5), max_drawn=193)
    with pytest.raises(ProtocolError, match="draws more than 192 elements"):
        svg.sanitize(use_chain(2, fan=5), max_drawn=192)
    with pytest.raises(ProtocolError, match="draws more than 200 elements"):
        svg.sanitize(use_chain(3, fan=5), max_drawn=200)
    # Missing targets and many references to a small gradient are no fan-out.
    body = '<use href="#nowhere"/>' + '<rect fill="url(#g)"/>' * 1000
    svg.sanitize(doc(f'<linearGradient id="g"><stop/><stop/></linearGradient>{body}'))


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
