"""Deterministic stand-ins for Recraft's models: every output follows a rule tests can check.

Pattern (what "generated" pixels are)
    ``digest = sha256(f"{prompt}\\x00{random_seed}\\x00{index}".encode("utf-8"))`` where
    ``random_seed`` is the decimal seed or ``none`` and ``index`` is the image's position in
    the answer (0-based).  Colours ``c0 = digest[0:3]``, ``c1 = digest[3:6]``,
    ``c2 = digest[6:9]`` (RGB), tile size ``t = 16 + digest[9] % 48``.  Pixel (x, y) is the
    horizontal gradient ``g = c0 + (c1 - c0) * x / (W - 1)``; on the checker cells where
    ``(x//t + y//t)`` is odd it is ``(g + c2) / 2``; values rounded half up.  The same
    inputs give the same bytes.  Vector results are an SVG of the same size (width, height and
    viewBox ``0 0 W H``) with a c0 background rect, a c1 circle and a c2 rect.
    Raster results are PNG (RGB for generations), or lossless WEBP with ``image_format=webp``.

Per operation (raster inputs are first normalised: modes L, LA, RGB, RGBA are kept; 1 -> L;
P -> RGBA if it has transparency, else RGB; anything else -> RGB):

generations, explore, variateImage
    Pattern of the requested size (default: the model's 1:1 size).  explore uses prompt and
    no seed; explore/similar uses ``prompt = f"{source_image_id}:{similarity}"`` at the source
    image's size and kind; variateImage uses ``prompt = sha256(image file bytes).hexdigest()``
    with its random_seed.
inpaint, eraseRegion, generateBackground
    Same size and mode as the input.  Pixels where the mask is 255 become the pattern of the
    prompt (eraseRegion: the empty prompt) converted to the input's mode (alpha 255); every
    other pixel is byte-identical to the input.  A masked pixel that would come out equal to
    the input gets its first channel XOR 0x80, so every masked pixel changes.
outpaint
    Canvas = input size + expand_* (or ``size``; or the input size with only a zoom).  The
    canvas is the prompt's pattern; the input is pasted unchanged at (expand_left,
    expand_top), or centred ((W-w)//2, (H-h)//2) with ``size``.  With zoom_out_percentage z
    the input is first resized (Lanczos) to round_half_up(w*(100-z)/100) x the same for h
    and centred in the canvas.
replaceBackground
    Keying rule as removeBackground; background pixels become the prompt's pattern (with the
    same always-changes guarantee), foreground pixels are byte-identical.
removeBackground
    RGBA PNG.  A pixel is background if its alpha is 0 or its RGB is within 32 (max channel
    difference, inclusive) of the top-left pixel's RGB.  Background -> alpha 0 (RGB kept),
    foreground -> its RGB with alpha 255.
crispUpscale / creativeUpscale
    2x / 4x width and height, nearest neighbour (each pixel becomes a 2x2 / 4x4 block), input
    mode kept.  The result's longest side is capped at 8192 px (``UPSCALE_MAX_SIDE``): when
    ``factor * max(W, H)`` would exceed it, the factor shrinks to ``8192 / max(W, H)`` and each
    side is rounded half up (still nearest neighbour), so the longest side is exactly 8192.
    Inputs up to 4096 px (crisp) / 2048 px (creative) keep exactly 2x / 4x.
vectorize
    SVG of the input's size; a grid of square cells of side ceil(max(W, H) / 32), each a rect
    filled with the cell's mean colour (rounded half up; fill-opacity when the mean alpha is
    below 255; fully transparent cells are left out).
imageToImage
    Input size; ``out = floor(input * (1 - strength) + pattern * strength + 0.5)`` on the
    colour channels, alpha kept; strength 0 returns the input's pixels.
Output format follows the model
    A vector model returns SVG, a raster model returns a raster image, whatever the input.
    A vector model applied to a raster input returns the raster result vectorized as above.
    An SVG input with a vector model returns an SVG: the original nested unchanged as an inner
    <svg> at its place (outpaint: at the paste position and scaled size), over a c0 background
    rect for outpaint/replaceBackground, under one c0 rect covering the mask's white bounding
    box for inpaint/generateBackground, under a c0 rect with opacity = strength for
    imageToImage.  An SVG input with a raster model is first rasterized (there is no real
    rasterizer): an opaque RGB image of the SVG's size filled with its background colour (the
    fill of the last top-level rect covering the whole canvas, given as #rgb, #rrggbb,
    rgb(r, g, b), white or black; white when there is none), then processed like a raster
    input.  variateImage uses only the file's bytes, so it follows the model as generations do.
    removeBackground and eraseRegion (no model) keep SVG in, SVG out: eraseRegion nests the
    SVG under one c0 rect (empty prompt) covering the mask's white bounding box;
    removeBackground drops top-level rects covering the whole canvas and scales an SVG whose
    shortest side is under 256 up so that side is 256 (rounded half up).
Image formats
    ``image_format=webp`` gives lossless WEBP up to WebP's 16383 px side limit; a larger result
    (none of the rules above makes one) would be PNG.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import svg
from .catalog import UPSCALE_MAX_SIDE
from .svg import SvgInfo, round_half_up  # the one rounding rule, shared with svg.py

KEY_TOLERANCE = 32
VECTORIZE_CELLS = 32
WEBP_MAX_SIDE = 16383
_BAND_ROWS = 256  # float work is done this many rows at a time


@dataclass
class Output:
    data: bytes
    ext: str  # "png" | "webp" | "svg"


# --- building blocks -------------------------------------------------------------------------


def digest(prompt: str, seed: int | None, index: int) -> bytes:
    seed_text = "none" if seed is None else str(seed)
    return hashlib.sha256(f"{prompt}\x00{seed_text}\x00{index}".encode()).digest()


def _colors(d: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.frombuffer(d[i : i + 3], np.uint8).astype(np.float32) for i in (0, 3, 6))


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb)


def pattern(width: int, height: int, d: bytes) -> np.ndarray:
    c0, c1, c2 = _colors(d)
    tile = 16 + d[9] % 48
    tx = np.arange(width, dtype=np.float64) / max(width - 1, 1)
    grad = c0 + (c1 - c0) * tx[:, None]  # (W, 3)
    odd_col = ((np.arange(width) // tile) % 2 == 1)[:, None]
    # Only two distinct rows exist (tile bands alternate), so build them once and repeat.
    rows = np.stack(
        [np.where(odd_col, (grad + c2) * 0.5, grad), np.where(odd_col, grad, (grad + c2) * 0.5)]
    )
    rows = np.floor(rows + 0.5).astype(np.uint8)
    return rows[(np.arange(height) // tile) % 2]


def pattern_svg(width: int, height: int, d: bytes) -> bytes:
    c0, c1, c2 = (_hex(c) for c in _colors(d))
    cx, cy = width * (0.25 + d[10] / 510), height * (0.25 + d[11] / 510)
    r = min(width, height) * (0.15 + d[12] / 2550)
    rx, ry = width * d[13] / 512, height * d[14] / 512
    body = (
        f'<rect width="{width}" height="{height}" fill="{c0}"/>'
        f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{c1}"/>'
        f'<rect x="{rx:.1f}" y="{ry:.1f}" width="{width / 3:.1f}" height="{height / 3:.1f}" '
        f'fill="{c2}"/>'
    )
    return svg.document(width, height, body)


def normalize(img: Image.Image) -> Image.Image:
    if img.mode in ("L", "LA", "RGB", "RGBA"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("P", "PA"):
        has_alpha = img.mode == "PA" or "transparency" in img.info
        return img.convert("RGBA" if has_alpha else "RGB")
    return img.convert("RGB")


def in_mode(rgb: np.ndarray, mode: str) -> np.ndarray:
    """An opaque RGB array converted to one of the kept modes."""
    if mode == "RGB":
        return rgb
    h, w = rgb.shape[:2]
    opaque = np.full((h, w, 1), 255, np.uint8)
    if mode == "RGBA":
        return np.concatenate([rgb, opaque], axis=2)
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    if mode == "L":
        return gray
    return np.concatenate([gray[..., None], opaque], axis=2)  # LA


def overwrite(base: np.ndarray, fill: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``fill`` where ``where`` is true, else ``base``; every overwritten pixel changes."""
    out = base.copy()
    out[where] = fill[where]
    same = (out == base) if base.ndim == 2 else (out == base).all(axis=-1)
    same &= where
    if same.any():
        if out.ndim == 2:
            out[same] ^= 0x80
        else:
            out[same, 0] ^= 0x80
    return out


def encode(img: Image.Image, image_format: str = "png") -> Output:
    """PNG, or lossless WEBP when asked for and within WebP's side limit (else PNG)."""
    buf = io.BytesIO()
    if image_format == "webp" and max(img.size) <= WEBP_MAX_SIDE:
        img.save(buf, "WEBP", lossless=True, exact=True, quality=100, method=0)
        return Output(buf.getvalue(), "webp")
    if img.mode in _PNG_COLOR_TYPES:
        return Output(png_bytes(np.asarray(img), img.mode), "png")
    img.save(buf, "PNG", compress_level=1)
    return Output(buf.getvalue(), "png")


_PNG_COLOR_TYPES = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}


def png_bytes(pixels: np.ndarray, mode: str) -> bytes:
    """An 8-bit PNG of `pixels` (rows x columns [x channels]) in one of _PNG_COLOR_TYPES' modes.

    The server shares the machine with what it serves (Recraft's CPU is not the artist's):
    Pillow's PNG writer tries five filters on every row, 0.13 s of CPU for a 1024 px RGBA
    result, two thirds of a removeBackground; three at once would be measuring it. Every row
    filtered Up (in numpy), deflated at level 1 with run-length matches: 0.035 s, and files
    about a tenth smaller than Pillow's at level 1. The pixels are the same, whatever the
    bytes."""
    height, width = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    rows = np.empty((height, 1 + width * channels), np.uint8)
    rows[:, 0] = 2  # Up: each byte less the one above it (the first row: less 0)
    body = rows[:, 1:]
    flat = pixels.reshape(height, width * channels)
    body[0] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=body[1:])  # uint8: wraps modulo 256, as PNG does
    deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 8, zlib.Z_RLE)
    data = deflate.compress(rows) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[mode], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def svg_output(data: bytes) -> Output:
    return Output(data, "svg")


# --- operations -------------------------------------------------------------------------------


def generate(width: int, height: int, d: bytes, vector: bool, image_format: str) -> Output:
    if vector:
        return svg_output(pattern_svg(width, height, d))
    return encode(Image.fromarray(pattern(width, height, d)), image_format)


def vectorize(img: Image.Image) -> bytes:
    rgba = np.asarray(normalize(img).convert("RGBA"))  # uint8; no float copy of the image
    h, w = rgba.shape[:2]
    cell = max(1, math.ceil(max(w, h) / VECTORIZE_CELLS))
    starts = np.arange(0, w, cell)
    widths = np.minimum(cell, w - starts)
    rects = []
    for y in range(0, h, cell):
        band = rgba[y : y + cell]
        bh = band.shape[0]
        # Integer block sums: one row of cells at a time, exact; mean rounded half up.
        sums = np.add.reduceat(band.sum(axis=0, dtype=np.int64), starts, axis=0)
        counts = (widths * bh).astype(np.int64)[:, None]
        means = (2 * sums + counts) // (2 * counts)
        cells = zip(starts.tolist(), widths.tolist(), means.tolist(), strict=True)
        for x, bw, (r, g, b, a) in cells:
            if a == 0:
                continue
            opacity = "" if a >= 255 else f' fill-opacity="{a / 255:.3f}"'
            rects.append(
                f'<rect x="{x}" y="{y}" width="{bw}" height="{bh}" '
                f'fill="{_hex((r, g, b))}"{opacity}/>'
            )
    return svg.document(w, h, '<g shape-rendering="crispEdges">' + "".join(rects) + "</g>")


def _raster_result(arr: np.ndarray, vector: bool, image_format: str) -> Output:
    img = Image.fromarray(arr)
    return svg_output(vectorize(img)) if vector else encode(img, image_format)


def masked_fill(
    image: Image.Image, mask: Image.Image, d: bytes, vector: bool, image_format: str
) -> Output:
    img = normalize(image)
    base = np.asarray(img)
    where = np.asarray(mask.convert("L")) == 255
    fill = in_mode(pattern(img.width, img.height, d), img.mode)
    return _raster_result(overwrite(base, fill, where), vector, image_format)


def masked_fill_svg(info: SvgInfo, bbox, d: bytes) -> Output:
    c0 = _hex(_colors(d)[0])
    body = svg.nested(info, 0, 0, info.width, info.height)
    if bbox is not None:
        x0, y0, x1, y1 = bbox
        body += f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" fill="{c0}"/>'
    return svg_output(svg.document(info.width, info.height, body))


def outpaint(
    image: Image.Image, canvas: tuple[int, int], place: tuple[int, int, int, int], d: bytes,
    vector: bool, image_format: str,
) -> Output:  # fmt: skip
    img = normalize(image)
    x, y, w, h = place
    if (w, h) != img.size:
        img = img.resize((w, h), Image.LANCZOS)
    out = Image.fromarray(in_mode(pattern(*canvas, d), img.mode))
    out.paste(img, (x, y))
    return _raster_result(np.asarray(out), vector, image_format)


def outpaint_svg(
    info: SvgInfo, canvas: tuple[int, int], place: tuple[int, int, int, int], d: bytes
) -> Output:
    c0 = _hex(_colors(d)[0])
    x, y, w, h = place
    body = f'<rect width="{canvas[0]}" height="{canvas[1]}" fill="{c0}"/>'
    body += svg.nested(info, x, y, w, h)
    return svg_output(svg.document(canvas[0], canvas[1], body))


def background_mask(rgba: np.ndarray) -> np.ndarray:
    """Transparent, or each channel within KEY_TOLERANCE of the top-left pixel's: compared
    in uint8 channel by channel, with no int16 copies of the image (a third of the time)."""
    near = rgba[..., 3] == 0
    keyed = np.ones(near.shape, bool)
    for channel, key in enumerate(rgba[0, 0, :3].tolist()):
        values = rgba[..., channel]
        keyed &= values >= max(0, key - KEY_TOLERANCE)
        keyed &= values <= min(255, key + KEY_TOLERANCE)
    return near | keyed


def replace_background(image: Image.Image, d: bytes, vector: bool, image_format: str) -> Output:
    img = normalize(image)
    where = background_mask(np.asarray(img.convert("RGBA")))
    fill = in_mode(pattern(img.width, img.height, d), img.mode)
    return _raster_result(overwrite(np.asarray(img), fill, where), vector, image_format)


def replace_background_svg(info: SvgInfo, d: bytes) -> Output:
    c0 = _hex(_colors(d)[0])
    body = f'<rect width="{info.width}" height="{info.height}" fill="{c0}"/>'
    body += svg.nested(info, 0, 0, info.width, info.height)
    return svg_output(svg.document(info.width, info.height, body))


def remove_background(image: Image.Image, image_format: str) -> Output:
    rgba = np.asarray(normalize(image).convert("RGBA")).copy()
    rgba[..., 3] = np.where(background_mask(rgba), 0, 255).astype(np.uint8)
    return encode(Image.fromarray(rgba), image_format)


def rasterize_svg(info: SvgInfo) -> Image.Image:
    """The stand-in rasterization: the SVG's size, filled with its background colour."""
    return Image.new("RGB", (info.width, info.height), svg.background_color(info))


def remove_background_svg(info: SvgInfo, size: tuple[int, int]) -> Output:
    return svg_output(svg.without_background(info, *size))


def svg_upscaled_size(width: int, height: int, min_side: int) -> tuple[int, int]:
    if min(width, height) >= min_side:
        return width, height
    scale = min_side / min(width, height)
    return (
        max(min_side, round_half_up(width * scale)),
        max(min_side, round_half_up(height * scale)),
    )


def upscaled_size(width: int, height: int, factor: int) -> tuple[int, int]:
    """``factor`` times each side, unless that passes UPSCALE_MAX_SIDE: then the factor shrinks
    so the longest side is exactly UPSCALE_MAX_SIDE."""
    longest = max(width, height)
    if longest * factor <= UPSCALE_MAX_SIDE:
        return width * factor, height * factor
    scale = UPSCALE_MAX_SIDE / longest
    return max(1, round_half_up(width * scale)), max(1, round_half_up(height * scale))


def upscale(image: Image.Image, factor: int, image_format: str) -> Output:
    img = normalize(image)
    return encode(img.resize(upscaled_size(*img.size, factor), Image.NEAREST), image_format)


def image_to_image(
    image: Image.Image, strength: float, d: bytes, vector: bool, image_format: str
) -> Output:
    img = normalize(image)
    base = np.asarray(img)
    gen = in_mode(pattern(img.width, img.height, d), img.mode)
    out = base.copy()
    # Colour channels only (alpha kept); done in bands so no full-size float array exists.
    colors = slice(None) if out.ndim == 2 else slice(0, 1 if img.mode == "LA" else 3)
    for y in range(0, img.height, _BAND_ROWS):
        rows = slice(y, y + _BAND_ROWS)
        mixed = base[rows, ..., colors] * (1.0 - strength) + gen[rows, ..., colors] * strength
        out[rows, ..., colors] = np.floor(mixed + 0.5).astype(np.uint8)
    return _raster_result(out, vector, image_format)


def image_to_image_svg(info: SvgInfo, strength: float, d: bytes) -> Output:
    c0 = _hex(_colors(d)[0])
    body = svg.nested(info, 0, 0, info.width, info.height)
    body += (
        f'<rect width="{info.width}" height="{info.height}" fill="{c0}" opacity="{strength:g}"/>'
    )
    return svg_output(svg.document(info.width, info.height, body))
