"""Hostile results: files that would make a decoder allocate, or an editor open, without bound.

A PNG with two IHDR chunks passed the result check (which read the first) while the
pure-Python decoder kept the last and allocated 60000*60000*4 bytes; an SVG that claims a
million pixels (in its width, or behind a decoy "<svg" in a comment) became a
1000000x1000000 document in Krita when none was open. Each is tried here through the whole
workflow with no document open, in a child process whose address space is capped (so that
without the fix it ends in a MemoryError, not in swapping the test machine to death).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib

import pytest

from recraft_core import ProtocolError
from recraft_core.api import results
from recraft_core.imaging import imageinfo, limits, png

MEMORY_CAP = 1 << 30  # the child's address space: far below 60000*60000*4 bytes


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(width: int, height: int, color_type: int = 6) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))


def chunks_of(data: bytes) -> list[bytes]:
    """The whole chunks of a PNG (length, type, data, CRC), in order."""
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        out.append(data[pos : pos + 12 + length])
        pos += 12 + length
    return out


def build(*parts: bytes) -> bytes:
    return png.SIGNATURE + b"".join(parts)


PIXELS = bytes(range(256)) * 4  # 16x16 RGBA
SMALL = png.encode(16, 16, "RGBA", PIXELS)
HEAD, *DATA, END = chunks_of(SMALL)  # IHDR, the IDAT chunk(s), IEND
TEXT = chunk(b"tEXt", b"Comment\0hostile")
PALETTE = chunk(b"PLTE", bytes(range(6)))
# Two halves of the image data, each its own IDAT chunk.
_STREAM = b"".join(c[8:-4] for c in DATA)
IDAT_A, IDAT_B = chunk(b"IDAT", _STREAM[:40]), chunk(b"IDAT", _STREAM[40:])

TWO_IHDR = build(HEAD, ihdr(60000, 60000), *DATA, END)
HUGE = build(ihdr(60000, 60000), *DATA, END)

# -- the PNG chunk order -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (TWO_IHDR, "second IHDR"),
        (build(HEAD, *DATA, HEAD, END), "second IHDR"),
        (build(TEXT, HEAD, *DATA, END), "first chunk is tEXt"),
        (build(HEAD, IDAT_A, TEXT, IDAT_B, END), "not one after another"),
        (build(HEAD, *DATA, PALETTE, END), "PLTE chunk comes after"),
        (build(HEAD, PALETTE, PALETTE, *DATA, END), "second PLTE"),
        (build(HEAD, chunk(b"ABCD", b""), *DATA, END), "unknown critical chunk ABCD"),
        (build(HEAD, chunk(b"tE1t", b""), *DATA, END), "not four letters"),
        (build(chunk(b"IHDR", HEAD[8:-4] + b"\0"), *DATA, END), "IHDR chunk has 14"),
        (build(HEAD, *DATA, chunk(b"IEND", b"x")), "IEND chunk has 1"),
    ],
    ids=[
        "second-ihdr",
        "ihdr-after-idat",
        "ihdr-not-first",
        "idat-split",
        "plte-after-idat",
        "two-plte",
        "unknown-critical",
        "bad-type",
        "long-ihdr",
        "iend-with-data",
    ],
)
def test_chunks_out_of_the_spec_s_order_are_refused_by_every_reader(data, said):
    with pytest.raises(imageinfo.UnknownImage, match=said):
        imageinfo.read(data)
    with pytest.raises(png.PNGError, match=said):
        png.header(data)
    with pytest.raises(png.PNGError, match=said):
        png.decode(data)
    with pytest.raises(ProtocolError, match=said):
        results.check_image(data, "image/png")


@pytest.mark.parametrize(
    "data",
    [
        SMALL,
        build(HEAD, TEXT, IDAT_A, IDAT_B, TEXT, END),  # ancillary chunks anywhere, IDATs split
        build(HEAD, PALETTE, *DATA, END),  # a suggested palette for an RGBA image
        build(HEAD, chunk(b"zzZz", b"private"), *DATA, END),  # an unknown ancillary chunk
    ],
)
def test_orders_the_spec_allows_are_read(data):
    assert png.decode(data) == (16, 16, "RGBA", PIXELS)
    info = results.check_image(data, "image/png")
    assert (info.width, info.height) == (16, 16)


def test_what_follows_iend_is_never_read_and_a_result_with_it_is_refused():
    """Decoders stop at IEND (libpng too), so a second IHDR after it changes nothing they
    see; a result file has nothing there, and one that does is refused."""
    decoy = SMALL + ihdr(60000, 60000) + END
    assert png.decode(decoy) == (16, 16, "RGBA", PIXELS)
    assert (imageinfo.read(decoy).width, png.header(decoy).height) == (16, 16)
    with pytest.raises(ProtocolError, match="bytes after its IEND"):
        results.check_image(decoy, "image/png")
    results.check_image(SMALL + b"\0" * 7, "image/png")  # zero padding, as before


def test_a_cut_short_png_still_has_a_header_and_is_refused_as_a_result():
    cut = SMALL[:-20]
    assert imageinfo.read(cut).width == 16  # the caller says "cut short", in its own words
    assert imageinfo.cut_short(cut, "png")
    with pytest.raises(ProtocolError, match="cut short"):
        results.check_image(cut, "image/png")


def test_the_decoder_refuses_a_size_beyond_its_limits_before_allocating():
    with pytest.raises(png.PNGError, match="16x16 pixels, beyond the 15 px a side"):
        png.decode(SMALL, max_side=15)
    with pytest.raises(png.PNGError, match=r"beyond the .* 255 pixels"):
        png.decode(SMALL, max_pixels=255)
    assert png.decode(SMALL, max_side=16, max_pixels=256)[:2] == (16, 16)
    # The default: what a result may be, the same bound the result check applies.
    with pytest.raises(png.PNGError, match="60000x60000"):
        png.decode(HUGE)
    with pytest.raises(ProtocolError, match="60000x60000"):
        results.check_image(HUGE, "image/png")


def test_result_limits_leave_room_for_the_largest_upscale():
    # The local server caps upscales at 8192 a side: such a result must pass.
    assert limits.MAX_RESULT_SIDE >= 8192 and limits.MAX_RESULT_PIXELS >= 8192 * 8192
    assert results.MAX_RESULT_PIXELS == limits.MAX_RESULT_PIXELS
    # ...and the largest it allows fits in memory an editor's Python can give it.
    assert limits.MAX_RESULT_PIXELS * 4 <= 2**29


# -- SVGs that claim a million pixels ------------------------------------------------------

SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'
MILLION = f'<svg {SVG_NS} width="1e6" height="1e6" viewBox="0 0 10 10"><rect/></svg>'.encode()
DECOY = (
    b'<?xml version="1.0"?>\n<!-- <svg width="10" height="10"> -->\n'
    + f'<svg {SVG_NS} width="1000000" height="1000000"><rect/></svg>'.encode()
)


@pytest.mark.parametrize("data", [MILLION, DECOY], ids=["width-1e6", "decoy-comment"])
def test_an_svg_claiming_a_million_pixels_is_refused(data):
    with pytest.raises(imageinfo.UnknownImage, match="1000000x1000000 px"):
        imageinfo.read(data)
    with pytest.raises(ProtocolError, match="more than an editor should open"):
        results.check_image(data, "image/svg+xml")


def test_the_size_is_read_from_the_real_root_not_a_decoy():
    small_behind_large = (
        b'<!-- <svg width="1000000" height="1000000"> --><!DOCTYPE svg [<!-- <svg width="9"'
        b' height="9"> -->]>' + f'<svg {SVG_NS} width="300" height="200"/>'.encode()
    )
    info = results.check_image(small_behind_large, "image/svg+xml")
    assert (info.width, info.height) == (300, 200)


# -- the whole workflow, no document open, in a capped address space -----------------------

CHILD = """
import json, resource, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from recraft_core import Client, RetryPolicy
from recraft_core.workflow import Job

with Client(sys.argv[3], base_url=sys.argv[2], retry=RetryPolicy(0)) as client:
    job = Job(client, "generate", None, {"prompt": "a lighthouse at dusk"})
    job.prepare()
    job.start().join(120)
    outcome = job.apply()
print(json.dumps({
    "state": job.state,
    "error": type(job.error).__name__ if job.error else None,
    "message": str(job.error) if job.error else None,
    "layers": [(l.image.width, l.image.height) for l in outcome.layers] if outcome else [],
    "vectors": [list(v.size) for v in outcome.vectors] if outcome else [],
}))
"""


def run_capped(recraft_server, checkout_env) -> dict:
    """A generate job with no document open, run as an editor runs it, in a child Python
    whose address space is capped at MEMORY_CAP."""
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(MEMORY_CAP), recraft_server.base_url,
         recraft_server.token],
        env=checkout_env(MALLOC_ARENA_MAX="2"),  # glibc's per-thread arenas reserve 64 MB each
        capture_output=True,
        text=True,
        timeout=180,
    )  # fmt: skip
    assert child.returncode == 0, child.stderr[-3000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_a_normal_result_fits_in_the_capped_child(recraft_server, checkout_env):
    """The control: the cap leaves room for an ordinary result, so a refusal below is the
    check's and not the cap's."""
    out = run_capped(recraft_server, checkout_env)
    assert out["state"] == "applied", out
    assert out["layers"] == [[1024, 1024]]


@pytest.mark.parametrize(
    ("body", "content_type", "said"),
    [
        (TWO_IHDR, "image/png", "second IHDR"),
        (HUGE, "image/png", "60000x60000"),
        (MILLION, "image/svg+xml", "1000000x1000000 px"),
        (DECOY, "image/svg+xml", "1000000x1000000 px"),
    ],
    ids=["png-two-ihdr", "png-huge", "svg-width-1e6", "svg-decoy"],
)
def test_a_hostile_result_is_refused_cleanly_with_no_document_open(
    recraft_server, checkout_env, body, content_type, said
):
    recraft_server.fault("body", path="/files/", body=body, content_type=content_type)
    out = run_capped(recraft_server, checkout_env)
    assert out["state"] == "failed", out
    assert out["error"] == "ProtocolError", out  # not "unexpected MemoryError"
    assert said in out["message"]
    assert out["layers"] == out["vectors"] == []
