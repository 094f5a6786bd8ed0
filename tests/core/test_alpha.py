"""Cut-out alpha in native pixel formats: only alpha bytes change, and they match the mask."""

import random
import struct

import pytest

from recraft_core.imaging import alpha
from recraft_core.imaging.alpha import Layout

KINDS = ["u8", "u16", "u32", "f16", "f32", "f64"]  # every sample kind of GIMP's precisions
FLOATS = ("f16", "f32", "f64")


def _pixels(layout: Layout, n: int, alphas, rng) -> bytes:
    """n pixels of random colour samples and the given alpha values."""
    size, fmt = alpha.SAMPLES[layout.sample][:2]
    out = bytearray()
    for a in alphas:
        for _ in range(layout.channels - 1):
            if layout.sample in FLOATS:
                out += struct.pack(f"={fmt}", rng.uniform(-0.5, 4.0))  # HDR, negatives too
            else:
                out += struct.pack(f"={fmt}", rng.randrange(256**size))
        out += struct.pack(f"={fmt}", a)
    return bytes(out)


def _split(data: bytes, layout: Layout):
    """(colour bytes, alpha values)"""
    size, fmt = alpha.SAMPLES[layout.sample][:2]
    stride, first = layout.pixel_bytes, (layout.channels - 1) * size
    colours = b"".join(data[i : i + first] for i in range(0, len(data), stride))
    alphas = [
        struct.unpack(f"={fmt}", data[i + first : i + stride])[0]
        for i in range(0, len(data), stride)
    ]
    return colours, alphas


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channels", [2, 4, 5])  # grey, RGB or Lab, CMYK
def test_an_opaque_source_keeps_its_colours_and_takes_the_mask(kind, channels):
    rng = random.Random(1)
    layout = Layout(channels, kind)
    full = alpha.SAMPLES[kind][2]
    mask = bytes(range(256)) * 3
    source = _pixels(layout, len(mask), [full] * len(mask), rng)
    out = alpha.multiply(source, layout, mask)
    colours, alphas = _split(bytes(out), layout)
    assert colours == _split(source, layout)[0], "a colour byte changed"
    if kind == "u8":
        assert alphas == list(mask)
    elif kind == "u16":
        assert alphas == [m * 257 for m in mask]
    elif kind == "u32":
        assert alphas == [m * 16843009 for m in mask]  # (2**32 - 1) / 255: exact
    elif kind == "f64":
        assert alphas == [m / 255 for m in mask]  # as GEGL's double is: the nearest
    else:
        tolerance = 1e-3 if kind == "f16" else 1e-7
        assert all(abs(a - m / 255) <= tolerance for a, m in zip(alphas, mask, strict=True))
        assert alphas[0] == 0 and alphas[255] == 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_a_source_with_its_own_transparency_is_multiplied(kind):
    rng = random.Random(2)
    layout = Layout(4, kind)
    full = alpha.SAMPLES[kind][2]
    n = 600
    if kind in FLOATS:
        old = [rng.choice([0.0, 0.25, 0.5, 1.0]) for _ in range(n)]
    else:
        old = [rng.randrange(full + 1) for _ in range(n)]
    mask = bytes(rng.randrange(256) for _ in range(n))
    source = _pixels(layout, n, old, rng)
    out = alpha.multiply(source, layout, mask)
    colours, alphas = _split(bytes(out), layout)
    assert colours == _split(source, layout)[0]
    for a, m, got in zip(old, mask, alphas, strict=True):
        if kind not in FLOATS:
            assert got == round(a * m / 255), (a, m, got)
        elif kind == "f64":
            assert got == a * m / 255
        else:
            assert got == pytest.approx(a * m / 255, abs=2e-3 if kind == "f16" else 1e-7)


@pytest.mark.parametrize("kind", ["u16", "u32", "f64"])
def test_bands_meet_without_a_seam(monkeypatch, kind):
    monkeypatch.setattr(alpha, "BAND_PIXELS", 7)
    layout = Layout(4, kind)
    full = alpha.SAMPLES[kind][2]
    mask = bytes(range(50))
    # Opaque but for one pixel in the third band: that band alone takes the slow way.
    old = [full] * 50
    old[17] = full // 2 if kind != "f64" else 0.5
    source = _pixels(layout, 50, old, random.Random(3))
    got = _split(bytes(alpha.multiply(source, layout, mask)), layout)[1]
    if kind == "f64":
        assert got == [a * m / 255 for a, m in zip(old, mask, strict=True)]
    else:
        assert got == [round(a * m / 255) for a, m in zip(old, mask, strict=True)]


def test_a_buffer_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="need 32 bytes of 4 x u16"):
        alpha.multiply(bytes(30), Layout(4, "u16"), bytes(4))
    with pytest.raises(ValueError, match="unknown sample kind"):
        Layout(4, "u64")  # no editor stores 64-bit integers
