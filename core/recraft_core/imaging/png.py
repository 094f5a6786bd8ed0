"""PNG encoding and decoding with the standard library only.

The editors' Pythons have no Pillow, so the plug-ins encode layers and masks here. Filters
run on whole rows held as big integers, and choose() picks the filter and zlib's settings on
a sample of rows. Decoding checks the masks a user hands us, and is the fallback for results
where an editor has no decoder of its own: 8-bit grey, grey+alpha, RGB and RGBA,
non-interlaced; Sub and Up are undone at C speed, Average and Paeth byte by byte. A file is
read only with its chunks in the order the spec sets (chunks(): one IHDR, the one every
reader sees), and refused before its pixels are allocated when it is larger than a result
may be (limits.MAX_RESULT_*).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate

from ..exceptions import RecraftError
from . import limits

# BGRA is how Krita's 8-bit layers and QImage's ARGB32 lie in memory: keeping it spares a
# plug-in two full byte swaps, which hold the GIL, between the editor and the PNG.
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "BGRA": 4}
_COLOR_TYPE = {"L": 0, "LA": 4, "RGB": 2, "RGBA": 6}
_MODE = {v: k for k, v in _COLOR_TYPE.items()}
SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Pixels per step of the whole-image copies below: a few milliseconds each.
BAND_PIXELS = 1 << 18


@dataclass(frozen=True, repr=False)
class Raster:
    """Raw 8-bit pixels, rows top to bottom: what an editor hands over before encoding."""

    width: int
    height: int
    mode: str  # L, LA, RGB, RGBA or BGRA
    pixels: bytes  # or a bytearray, for large images built in bands

    def __repr__(self) -> str:
        return f"Raster({self.width}x{self.height} {self.mode})"

    def to_png(self, level: int | None = None) -> bytes:
        plain = self.plain_sample if level is None else None
        return encode(self.width, self.height, self.mode, self.pixels, level, plain=plain)

    @cached_property
    def plain_sample(self) -> tuple[bool, int]:
        """Whether the sample rows choose() looks at deflate to almost nothing unfiltered,
        and their size so: asked by is_flat, estimate and to_png, deflated once."""
        bpp = CHANNELS[self.mode]
        return _flat_sample(self.pixels, self.width * bpp, _sample(self.height), bpp)

    # Cached: a job asks more than once, and each answer is a pass over the alpha bytes.
    # A Raster's pixels are not changed once it is made (the one exception, a job's freshly
    # decoded result taking its alpha in place, is wrapped in a new Raster afterwards).
    @cached_property
    def opaque(self) -> bool:
        """No pixel is even partly transparent."""
        return self._alpha_all(b"\xff", True)

    @cached_property
    def blank(self) -> bool:
        """Every pixel is fully transparent: an empty layer."""
        return self._alpha_all(b"\x00", False)

    def _alpha_all(self, value: bytes, if_no_alpha: bool) -> bool:
        """Every alpha byte is `value` (`if_no_alpha` for a mode without alpha); looked at in
        bands of 4 MB, so a 16 MP image never holds the GIL for long (an editor's GUI thread
        waits for it)."""
        if self.mode not in ("LA", "RGBA", "BGRA"):
            return if_no_alpha
        step = CHANNELS[self.mode]
        band = step * (1 << 20)
        pixels = self.pixels
        for start in range(0, len(pixels), band):
            if pixels[start + step - 1 : start + band : step].translate(None, value):
                return False
        return True

    def with_alpha(self) -> Raster:
        """Four channels with alpha last: RGBA or BGRA as they are, any other mode as RGBA
        (what compositing and an editor's native byte order both work on)."""
        return self if self.mode in ("RGBA", "BGRA") else self.to_rgba()

    def to_rgba(self) -> Raster:
        """The same pixels as RGBA, by slice assignment (C speed, no per-pixel loop)."""
        if self.mode == "RGBA":
            return self
        if self.mode == "BGRA":
            return Raster(self.width, self.height, "RGBA", swap_red_blue(self.pixels))
        n = self.width * self.height
        step = CHANNELS[self.mode]
        out = bytearray(b"\xff") * (n * 4)
        target, source = memoryview(out), memoryview(self.pixels)
        if self.mode in ("L", "LA"):
            grey = source[0::step]
            target[0::4] = target[1::4] = target[2::4] = grey
            if self.mode == "LA":
                target[3::4] = source[1::2]
        else:
            for c in range(3):
                target[c::4] = source[c::3]
        return Raster(self.width, self.height, "RGBA", out)

    def without_alpha(self) -> Raster:
        """RGBA or BGRA as RGB (the alpha dropped): a quarter less to encode and upload."""
        if self.mode not in ("RGBA", "BGRA"):
            return self
        n = self.width * self.height
        # Strided memoryviews copy channel by channel with no intermediate slice (half the
        # time of bytes slicing), a band at a time: one copy over 16 MP holds the GIL for
        # 50 ms, and an editor's GUI thread waits for it. The bands are joined at the end,
        # with the GIL let go (a whole bytearray made first is zero-filled holding it).
        source = memoryview(self.pixels)
        order = (0, 1, 2) if self.mode == "RGBA" else (2, 1, 0)
        parts = []
        for start in range(0, n, BAND_PIXELS):
            end = min(n, start + BAND_PIXELS)
            to, of = bytearray(3 * (end - start)), source[4 * start : 4 * end]
            for c, channel in enumerate(order):
                to[c::3] = of[channel::4]
            parts.append(bytes(to))
        return Raster(self.width, self.height, "RGB", bytearray().join(parts))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


class _Lanes:
    """Byte-wise arithmetic on a whole row at once, the row held as one big integer.

    Python's big integers do the work in C; masks keep carries and borrows inside each byte
    (SWAR). This is what lets the PNG filters below run without a per-pixel Python loop.
    """

    def __init__(self, n: int) -> None:
        self.high = int.from_bytes(b"\x80" * n, "big")
        self.low = int.from_bytes(b"\x7f" * n, "big")
        self.even = int.from_bytes(b"\xfe" * n, "big")

    def add(self, x: int, y: int) -> int:
        """(x + y) mod 256 in every byte."""
        return ((x & self.low) + (y & self.low)) ^ ((x ^ y) & self.high)

    def sub(self, x: int, y: int) -> int:
        """(x - y) mod 256 in every byte."""
        return ((x | self.high) - (y & self.low)) ^ (((x ^ y) & self.high) ^ self.high)

    def mean(self, x: int, y: int) -> int:
        """floor((x + y) / 2) in every byte."""
        return (x & y) + (((x ^ y) & self.even) >> 1)


def _filtered(kind: int, x: int, prev: int, bpp: int, lanes: _Lanes) -> int:
    """PNG filter `kind` (0 None, 1 Sub, 2 Up, 3 Average) of row x over the row above."""
    if kind == 0:
        return x
    left = x >> (8 * bpp)  # every byte moved one pixel right: its left neighbour
    if kind == 1:
        return lanes.sub(x, left)
    if kind == 2:
        return lanes.sub(x, prev)
    return lanes.sub(x, lanes.mean(left, prev))


def _rows(kind: int, pixels: bytes, stride: int, rows, bpp: int, lanes: _Lanes):
    """The filter byte, then the filtered row, for each row index in `rows`; unfiltered rows
    are views into `pixels`, not copies."""
    view = memoryview(pixels)
    tag = bytes((kind,))
    for y in rows:
        start = y * stride
        row = view[start : start + stride]
        yield tag
        if kind == 0:
            yield row
            continue
        x = int.from_bytes(row, "big")
        above = kind >= 2 and y  # Sub looks left only
        prev = int.from_bytes(view[start - stride : start], "big") if above else 0
        yield _filtered(kind, x, prev, bpp, lanes).to_bytes(stride, "big")


@dataclass(frozen=True)
class Method:
    """How to encode one image: a PNG filter for every row, and zlib's level and strategy."""

    filter: int
    level: int
    strategy: int


# Already this small unfiltered at level 1 (flat art, masks, screenshots): filtering would
# cost more time than it could save bytes.
_FLAT_SHARE = 0.02
_SAMPLE_ROWS = 48
_PLAIN = Method(0, 1, zlib.Z_DEFAULT_STRATEGY)


def _sample(height: int) -> range:
    return range(0, height, max(1, height // _SAMPLE_ROWS))


def _deflated(method: Method, pixels: bytes, stride, rows, bpp, lanes) -> int:
    co = zlib.compressobj(method.level, zlib.DEFLATED, 15, 8, method.strategy)
    data = b"".join(_rows(method.filter, pixels, stride, rows, bpp, lanes))
    return len(co.compress(data) + co.flush())


def choose(
    pixels: bytes, stride: int, height: int, bpp: int, lanes: _Lanes, rows=None, plain=None
) -> tuple[Method, int]:
    """The method for this image, picked on a sample of its rows, and the sample's deflated
    size with it. Flat images go unfiltered at level 1 (fast, and tiny anyway); others take
    the filter that deflates smallest with zlib's run-length strategy, which on photos is
    both faster than level 1 and smaller than level 6 (measured in bench/bench_prepare.py)."""
    rows = _sample(height) if rows is None else rows
    flat, size = plain or _flat_sample(pixels, stride, rows, bpp)
    if flat:
        return _PLAIN, size
    sizes = {
        method: _deflated(method, pixels, stride, rows, bpp, lanes)
        for method in (Method(kind, 1, zlib.Z_RLE) for kind in (1, 2, 3))
    }
    best = min(sizes, key=sizes.get)
    return best, sizes[best]


def drops_alpha(image: Raster) -> bool:
    """Whether an upload leaves the alpha channel out: when every pixel is opaque, unless the
    image is flat. A flat image's alpha deflates to nothing, and dropping it (or checking
    that it is all opaque) would cost a pass over every pixel."""
    return image.mode in ("RGBA", "BGRA") and not is_flat(image) and image.opaque


def is_flat(image: Raster) -> bool:
    """Deflates to almost nothing unfiltered (flat art, screenshots, masks), judged on the
    sample of rows choose() uses."""
    return image.plain_sample[0]


def _flat_sample(pixels: bytes, stride: int, rows, bpp: int) -> tuple[bool, int]:
    """Whether these rows deflate to almost nothing unfiltered, and their size so."""
    size = _deflated(_PLAIN, pixels, stride, rows, bpp, None)
    return size <= _FLAT_SHARE * len(rows) * (stride + 1), size


def estimate(image: Raster, opaque: bool = False) -> int:
    """About how many bytes encode() will make of this image, from the sample of rows it
    picks its method on: to scale an image down before the one full encode, not after.
    With `opaque`, of the image without its alpha channel, as it is uploaded. Only the
    sample rows are read, nothing is copied whole. Kept on the raster, as its other facts
    (its pixels do not change): an editor can work it out on a thread of its own right
    after reading, and the job, asking again on the editor's GUI thread, finds it there."""
    known = image.__dict__.setdefault("_estimates", {})  # frozen: not through setattr
    if opaque not in known:
        known[opaque] = _estimate(image, opaque)
    return known[opaque]


def _estimate(image: Raster, opaque: bool) -> int:
    width, height, mode, pixels = image.width, image.height, image.mode, image.pixels
    rows = _sample(height)
    scale = height / len(rows)
    plain = None
    if opaque and mode in ("RGBA", "BGRA"):
        # Each sample row after the row above it (Up and Average look there), as RGB.
        stride = 4 * width
        sample = bytearray()
        for y in rows:
            sample += pixels[(y - 1) * stride : y * stride] if y else bytes(stride)
            sample += pixels[y * stride : (y + 1) * stride]
        pixels = Raster(width, 2 * len(rows), mode, sample).without_alpha().pixels
        mode, height, rows = "RGB", 2 * len(rows), range(1, 2 * len(rows), 2)
    else:
        plain = image.plain_sample
    bpp = CHANNELS[mode]
    stride = width * bpp
    _, sampled = choose(pixels, stride, height, bpp, _Lanes(stride), rows, plain)
    return int(sampled * scale) + 100  # + the chunks around the data


def encode(
    width: int,
    height: int,
    mode: str,
    pixels: bytes,
    level: int | None = None,
    filter: int | None = None,
    plain: tuple[bool, int] | None = None,
) -> bytes:
    """PNG bytes for raw 8-bit pixels, rows top to bottom, channels in `mode` order.

    `filter` is a PNG filter type 0-3 for every row, or None to let choose() pick it and
    zlib's settings on a sample of rows (upload size matters, since the API refuses files of
    10 MB and more, and so does time). A `level` given is used as it is (0: stored).
    """
    if mode not in CHANNELS:
        raise ValueError(f"mode must be one of {', '.join(CHANNELS)}, not {mode!r}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, not {width}x{height}")
    bpp = CHANNELS[mode]
    stride = width * bpp
    if len(pixels) != stride * height:
        raise ValueError(
            f"{width}x{height} {mode} needs {stride * height} bytes, got {len(pixels)}"
        )
    if filter not in (None, 0, 1, 2, 3):
        raise ValueError(f"filter must be 0, 1, 2, 3 or None, not {filter!r}")
    if mode == "BGRA":
        mode, pixels = "RGBA", swap_red_blue(pixels)
    lanes = _Lanes(stride)
    chosen = filter is None
    if chosen:
        method, _ = choose(pixels, stride, height, bpp, lanes, plain=plain)
        if level is not None:
            method = Method(method.filter, level, zlib.Z_DEFAULT_STRATEGY)
    else:
        method = Method(filter, 6 if level is None else level, zlib.Z_DEFAULT_STRATEGY)
    stream = _Stream(method.level, method.strategy, stride)
    y = 0
    while y < height:
        run = _run(pixels, stride, y, height) if chosen else 0
        if run >= _LONG_RUN:
            stream.up_zero_rows(run)
        elif run and method.filter:
            # A few filtered rows that repeat the one above: Up, all zeros, without the
            # big-integer work. (Unfiltered, they go as they are: deflate matches them
            # whole, and a filter byte between zero rows would break up their runs.)
            for _ in range(run):
                stream.write(b"\x02")
                stream.write(stream.zeros)
        else:
            run = max(1, run)
            for part in _rows(method.filter, pixels, stride, range(y, y + run), bpp, lanes):
                stream.write(part)
        y += run
    parts = stream.finish()
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[mode], 0, 0, 0)
    # The IDAT chunk's checksum runs over the parts: the compressed data is copied once,
    # into the file, not also into a chunk and a concatenation first.
    crc = zlib.crc32(b"IDAT")
    for part in parts:
        crc = zlib.crc32(part, crc)
    idat_head = struct.pack(">I", sum(map(len, parts))) + b"IDAT"
    return b"".join(
        (SIGNATURE, _chunk(b"IHDR", header), idat_head, *parts, struct.pack(">I", crc),
         _chunk(b"IEND", b""))
    )  # fmt: skip


# A run of rows that each repeat the one above (flat art's backgrounds and bands, a mask's
# black outside the selection) goes as Up rows of zeros that are deflated once, for a few
# run lengths, and then copied: deflate blocks that end in a full flush (which also clears
# the history, so nothing refers across them) join into one valid stream. The zlib wrapper
# and its Adler-32 are written here, around raw deflate. A run costs a memcmp a row, not
# zlib's time over its bytes.
_LONG_RUN = 8
_RUN_PIECES = (64, 32, 16, 8, 4, 2, 1)
_ZLIB_HEADER = b"\x78\x01"  # deflate with a 32 KB window, no dictionary
_ADLER_BASE = 65521


def _run(pixels: bytes, stride: int, y: int, height: int) -> int:
    """How many rows from `y` on each equal the row above them."""
    if not y:
        return 0
    view, end = memoryview(pixels), y
    while end < height and pixels.startswith(view[(end - 1) * stride : end * stride], end * stride):
        end += 1
    return end - y


def adler32_combine(adler1: int, adler2: int, length2: int) -> int:
    """The Adler-32 of two pieces joined, from each one's and the second one's length (as
    zlib's adler32_combine)."""
    rem = length2 % _ADLER_BASE
    low = ((adler1 & 0xFFFF) + (adler2 & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    high = rem * (adler1 & 0xFFFF) + (adler1 >> 16) + (adler2 >> 16) + _ADLER_BASE - rem
    return low | (high % _ADLER_BASE) << 16


class _Stream:
    """A zlib stream written as raw deflate plus pre-deflated runs of Up rows of zeros."""

    def __init__(self, level: int, strategy: int, stride: int) -> None:
        self.level, self.strategy, self.stride = level, strategy, stride
        self.zeros = bytes(stride)  # an Up row that repeats the one above
        self.deflate = zlib.compressobj(level, zlib.DEFLATED, -15, 8, strategy)
        self.parts = [_ZLIB_HEADER]
        self.adler = 1
        self.pieces: dict[int, tuple[bytes, int, int]] = {}

    def write(self, data) -> None:
        self.adler = zlib.adler32(data, self.adler)
        self.parts.append(self.deflate.compress(data))

    def up_zero_rows(self, count: int) -> None:
        self.parts.append(self.deflate.flush(zlib.Z_FULL_FLUSH))
        for size in _RUN_PIECES:
            while count >= size:
                deflated, adler, length = self._piece(size)
                self.parts.append(deflated)
                self.adler = adler32_combine(self.adler, adler, length)
                count -= size

    def _piece(self, rows: int) -> tuple[bytes, int, int]:
        if rows not in self.pieces:
            data = (b"\x02" + self.zeros) * rows
            alone = zlib.compressobj(self.level, zlib.DEFLATED, -15, 8, zlib.Z_RLE)
            deflated = alone.compress(data) + alone.flush(zlib.Z_FULL_FLUSH)
            self.pieces[rows] = (deflated, zlib.adler32(data), len(data))
        return self.pieces[rows]

    def finish(self) -> list[bytes]:
        return [*self.parts, self.deflate.flush(), struct.pack(">I", self.adler)]


def swap_red_blue(pixels: bytes, channels: int = 4) -> bytearray:
    """BGRA to RGBA and back (or BGR/RGB): Krita's 8-bit layers and QImage's ARGB32 are BGRA
    in memory. Strided memoryviews run in C, not per pixel in Python; in bands, as in
    without_alpha, so the GIL passes between them, joined with the GIL let go."""
    source = memoryview(pixels)
    band = channels * BAND_PIXELS
    parts = []
    for start in range(0, len(pixels), band):
        of = source[start : start + band]
        to = bytearray(of)
        to[0::channels] = of[2::channels]
        to[2::channels] = of[0::channels]
        parts.append(bytes(to))
    return bytearray().join(parts)


class PNGError(RecraftError, ValueError):
    """The PNG is damaged."""


class UnsupportedPNG(PNGError):
    """A valid PNG of a kind this decoder does not read (not 8-bit, interlaced, palette)."""


_CRITICAL = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND"})
_MAX_CHUNK = 2**31 - 1  # the spec's largest chunk length


@dataclass(frozen=True)
class Header:
    """A PNG's IHDR: what its size and pixel layout are."""

    width: int
    height: int
    depth: int
    color_type: int
    compression: int
    filter: int
    interlace: int


def chunks(data: bytes):
    """(type, start, length) of each chunk's data, from the signature on, up to IEND.

    The order of the critical chunks is checked as the PNG spec sets it, so that every
    reader of this file sees the same image: IHDR first and once (a header reader keeps the
    first, a decoder may keep the last: two IHDRs let a 16x16 header pass a check while a
    decoder allocates 60000x60000), at most one PLTE and before the image data, the IDAT
    chunks one after another, and no critical chunk the spec does not define (a decoder
    must stop there). Anything else raises PNGError.

    The walk ends at IEND: what follows is not read, here or by libpng, which stops there
    too. It also ends, without an error, at a chunk the data holds only part of: the caller
    says the file is cut short, with its own words."""
    pos, seen, previous = 8, set(), None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if not kind.isalpha():  # bytes.isalpha: ASCII letters only
            raise PNGError(f"a chunk's type {kind!r} is not four letters")
        if length > _MAX_CHUNK:
            raise PNGError(f"the {kind.decode()} chunk claims {length} bytes")
        if pos + 12 + length > len(data):
            return  # cut short
        name = kind.decode()
        if previous is None and kind != b"IHDR":
            raise PNGError(f"the first chunk is {name}, not IHDR")
        if kind in seen and kind in (b"IHDR", b"PLTE"):
            raise PNGError(f"it has a second {name} chunk, where a PNG has only one")
        if kind[0:1].isupper() and kind not in _CRITICAL:
            raise PNGError(f"an unknown critical chunk {name}")
        if kind == b"PLTE" and b"IDAT" in seen:
            raise PNGError("the PLTE chunk comes after the image data")
        if kind == b"IDAT" and b"IDAT" in seen and previous != b"IDAT":
            raise PNGError("the IDAT chunks are not one after another")
        expected = {b"IHDR": 13, b"IEND": 0}.get(kind, length)
        if length != expected:
            raise PNGError(f"the {name} chunk has {length} bytes, not {expected}")
        seen.add(kind)
        previous = kind
        yield kind, pos + 8, length
        if kind == b"IEND":
            return
        pos += 12 + length


def header(data: bytes) -> Header:
    """The IHDR of a PNG whose chunks are in an order the spec allows (see chunks()), read
    without decoding a pixel. PNGError if there is none or the order is wrong."""
    if data[:8] != SIGNATURE:
        raise PNGError("not a PNG file")
    found = None
    for kind, start, _ in chunks(data):
        if kind == b"IHDR":
            found = Header(*struct.unpack(">IIBBBBB", data[start : start + 13]))
    if found is None:
        raise PNGError("no IHDR chunk")
    if not (0 < found.width <= _MAX_CHUNK and 0 < found.height <= _MAX_CHUNK):
        raise PNGError(f"the IHDR says {found.width}x{found.height} pixels")
    return found


def end_offset(data: bytes) -> int | None:
    """Where a PNG's IEND chunk ends, or None when the file is cut short before it (its
    chunks are checked as in chunks())."""
    for kind, start, length in chunks(data):
        if kind == b"IEND":
            return start + length + 4
    return None


def decode(
    data: bytes,
    max_side: int = limits.MAX_RESULT_SIDE,
    max_pixels: int = limits.MAX_RESULT_PIXELS,
) -> tuple[int, int, str, bytes]:
    """(width, height, mode, pixels) of an 8-bit non-interlaced PNG.

    Refused (PNGError) before anything its size is allocated when it is larger than
    `max_side` a side or `max_pixels` in all (by default what a result may be), or when its
    chunks are out of the order the spec sets (see chunks())."""
    if data[:8] != SIGNATURE:
        raise PNGError("not a PNG file")
    try:
        return _decode(data, max_side, max_pixels)
    except (struct.error, IndexError) as e:
        raise PNGError(f"damaged PNG ({e})") from None


def _decode(data: bytes, max_side: int, max_pixels: int) -> tuple[int, int, str, bytes]:
    # The header is read from the same walk that collects the image data: one pass, and
    # no IHDR but the first can ever be used.
    found, idat, source = None, [], memoryview(data)
    for kind, start, length in chunks(data):
        if kind == b"IHDR":
            found = Header(*struct.unpack(">IIBBBBB", data[start : start + 13]))
        elif kind == b"IDAT":
            idat.append(source[start : start + length])
    if found is None:
        raise PNGError("no IHDR chunk")
    width, height = found.width, found.height
    if not (0 < width <= max_side and 0 < height <= max_side) or width * height > max_pixels:
        raise PNGError(
            f"it claims {width}x{height} pixels, beyond the {max_side} px a side and "
            f"{max_pixels:,} pixels in all an image may have here"
        )
    depth, color_type = found.depth, found.color_type
    if found.compression or found.filter:
        raise PNGError("unknown compression or filter method in the IHDR")
    if depth != 8 or color_type not in _MODE or found.interlace:
        raise UnsupportedPNG(f"only 8-bit non-interlaced PNGs are read here (depth {depth})")
    mode = _MODE[color_type]
    bpp = CHANNELS[mode]
    stride = width * bpp
    out = bytearray(stride * height)
    view = memoryview(out)
    prev = bytes(stride)
    lanes = _Lanes(stride)
    try:
        for y, line in enumerate(_inflated(b"".join(idat), stride + 1, height)):
            row = _unfilter(line[0], line[1:], prev, bpp, lanes)
            view[y * stride : (y + 1) * stride] = row
            prev = row
    except zlib.error as e:
        raise PNGError(f"damaged image data ({e})") from None
    return width, height, mode, out


_CUT = "damaged image data (the compressed stream is cut short)"
_INPUT_PIECE = 1 << 16


def _inflated(data: bytes, length: int, count: int):
    """`count` lines of `length` bytes from zlib `data`, inflated a few at a time: the whole
    filtered image is never held beside the pixels. Input goes in 64 KB pieces, since a
    decompressobj copies all the input it has not used yet on every call (whole, that is
    quadratic: 0.7 s for a 6 MB PNG)."""
    inflate = zlib.decompressobj()
    source, at = memoryview(data), 0
    pending = bytearray()
    for _ in range(count):
        while len(pending) < length:
            if inflate.unconsumed_tail:
                piece = inflate.unconsumed_tail
            elif at < len(source) and not inflate.eof:
                piece, at = source[at : at + _INPUT_PIECE], at + _INPUT_PIECE
            else:
                raise PNGError(_CUT if not inflate.eof else "image data has the wrong length")
            pending += inflate.decompress(piece, max(8 * length, _INPUT_PIECE))
        line = bytes(pending[:length])
        del pending[:length]
        yield line
    rest = bytes(inflate.unconsumed_tail) + bytes(source[at:])
    if pending or (not inflate.eof and inflate.decompress(rest, 1)):
        raise PNGError("image data has the wrong length")
    if not inflate.eof:
        raise PNGError(_CUT)


def _add_byte(a: int, b: int) -> int:
    return (a + b) & 255


def _unfilter(kind: int, row: bytes, prev: bytes, bpp: int, lanes: _Lanes) -> bytes:
    if kind == 0:
        return row
    if kind == 2:
        total = lanes.add(int.from_bytes(row, "big"), int.from_bytes(prev, "big"))
        return total.to_bytes(len(row), "big")
    if kind == 1:
        # Sub is a running sum in each channel: one accumulate per channel, not per byte.
        out = bytearray(len(row))
        for c in range(bpp):
            out[c::bpp] = bytes(accumulate(row[c::bpp], _add_byte))
        return bytes(out)
    out = bytearray(row)
    for i in range(len(out)):
        left = out[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            out[i] = (out[i] + left) & 255
        elif kind == 3:
            out[i] = (out[i] + ((left + up) >> 1)) & 255
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            out[i] = (out[i] + pred) & 255
        else:
            raise PNGError(f"unknown filter type {kind}")
    return bytes(out)
