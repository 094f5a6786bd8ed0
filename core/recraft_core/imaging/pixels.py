"""Raw RGBA 8-bit helpers for compositing results; no Pillow.

Buffers are RGBA, four bytes a pixel, rows top to bottom; a mask is one byte a pixel. As in
masks.py, whole buffers go through slicing and big-integer arithmetic, which run in C: an
editor's Python must not loop over sixteen million pixels.

Rounding: each result is the exact value rounded to the nearest integer. The exact value is
an integer over 255 and never halfway between two integers (twice its numerator, an even
number, would have to equal 255 times an odd one), so there are no ties to break: floor(x +
0.5), round() and any other correct rounding all agree with these results.
"""

from __future__ import annotations

from functools import lru_cache

from .masks import is_full

# Mask bytes to run flags (1 in a run, 0 outside), so that bytes.find, a memchr, finds each
# run's ends. Soft runs, neither 0 nor 255, are a feather band: usually a thin ring.
_SOFT_FLAGS = bytes([0]) + bytes([1]) * 254 + bytes([0])
_FULL_FLAGS = bytes(255) + bytes([1])

# Below one soft pixel in this many, only the soft runs are mixed; above it, the per-run cost
# of gathering them could outweigh mixing everything, so the whole buffer goes through _mix.
_SOFT_SHARE = 16
# Copying runs by slices costs about a microsecond a run: past one run in this many pixels,
# one big-integer expression over the whole buffer is cheaper.
_RUN_SHARE = 64

_MIX_CHUNK = 1 << 15  # bytes a _mix step handles: its 16-bit-lane integers stay in cache


def _bytes(data) -> bytes:
    return data if isinstance(data, bytes) else bytes(data)


def _spread(data: bytes, times: int) -> bytes:
    """Each byte repeated `times` times: one mask byte for every channel of its pixel."""
    if times == 1:
        return data
    out = bytearray(len(data) * times)
    for k in range(times):
        out[k::times] = data
    return bytes(out)


def _lanes(data: bytes) -> int:
    """The bytes as one big int with a 16-bit lane each, the byte in the low half: room for a
    product of two bytes without spilling into the next lane."""
    wide = bytearray(2 * len(data))
    wide[1::2] = data
    return int.from_bytes(wide, "big")


@lru_cache(maxsize=4)
def _lane_constants(n: int) -> tuple[int, int, int]:
    """0x0001, 0x00ff and 0x0080 in each of n lanes."""
    ones = int.from_bytes(b"\x00\x01" * n, "big")
    return ones, ones * 255, ones * 128


def _mix_chunk(base: bytes | None, top: bytes, weight: bytes) -> bytes:
    ones, low, half = _lane_constants(len(weight))
    t, m = _lanes(top), _lanes(weight)
    b = 0 if base is None else _lanes(base)
    differ = b ^ t
    # b * (255 - m) + t * m, bit by bit of m: where bit j of m is set the lane adds t << j,
    # where it is clear b << j, as the bits of 255 - m are those of m flipped. Lanes never
    # exceed 255 * 255, so nothing carries into the next one.
    total = half  # + 128: rounds the division below to nearest
    for bit in range(8):
        pick = ((m >> bit) & ones) * 255
        total += (b ^ (differ & pick)) << bit
    # floor(x / 255) as (x + (x >> 8)) >> 8, exact for these x (<= 65153); the masks keep
    # each lane's high byte from sliding into its neighbour.
    total = ((total + ((total >> 8) & low)) >> 8) & low
    return total.to_bytes(2 * len(weight), "big")[1::2]


def _mix(base: bytes | None, top: bytes, weight: bytes) -> bytes:
    """round((b * (255 - m) + t * m) / 255) for each byte b of `base` (0 if None), t of `top`,
    m of `weight`: equal to b + (t - b) * m / 255 rounded, exactly b at 0 and t at 255."""
    step = _MIX_CHUNK
    return b"".join(
        _mix_chunk(
            None if base is None else base[i : i + step], top[i : i + step], weight[i : i + step]
        )
        for i in range(0, len(weight), step)
    )


def _soft_pixels(mask: bytes) -> int:
    return len(mask) - mask.count(0) - mask.count(255)


def _runs(flags: bytes, limit: int) -> list[tuple[int, int]] | None:
    """(start, end) of each run of 1s in a 0/1 buffer, or None past `limit` runs."""
    spans, find, size = [], flags.find, len(flags)
    start = find(1)
    while start >= 0:
        if len(spans) >= limit:
            return None
        end = find(0, start)
        end = size if end < 0 else end
        spans.append((start, end))
        start = find(1, end)
    return spans


def _mix_soft_runs(
    out: bytearray, base: bytes | None, top: bytes, mask: bytes, channels: int
) -> None:
    """Overwrite `out` with _mix results where the mask is neither 0 nor 255.

    The soft runs are gathered into one buffer, mixed in one go, and scattered back: the
    Python loop is per run, not per pixel, and callers come here only when soft pixels, so
    runs, are few.
    """
    spans = _runs(mask.translate(_SOFT_FLAGS), len(mask))
    c = channels
    view_m, view_t = memoryview(mask), memoryview(top)
    weight = b"".join([view_m[s:e] for s, e in spans])
    tops = b"".join([view_t[c * s : c * e] for s, e in spans])
    bases = None
    if base is not None:
        view_b = memoryview(base)
        bases = b"".join([view_b[c * s : c * e] for s, e in spans])
    mixed = memoryview(_mix(bases, tops, _spread(weight, c)))
    pos = 0
    for s, e in spans:
        size = c * (e - s)
        out[c * s : c * e] = mixed[pos : pos + size]
        pos += size


# Pixels a band of the banded operations below holds: each C-level step on a band takes a few
# milliseconds, so the GIL passes to an editor's GUI thread between them (one step over a
# 16 MP image holds it for 50 ms and more, and the GUI stalls that long).
BAND_PIXELS = 1 << 18


def set_alpha(rgba: bytes, alpha: bytes) -> bytes:
    """set_alpha_band over bands of BAND_PIXELS. A large result is a bytearray grown band by
    band: one fresh 64 MB buffer, allocated or copied in a single step, costs 50 ms of page
    faults with the GIL held."""
    n = _checked(rgba, alpha)
    if n <= BAND_PIXELS:
        return set_alpha_band(rgba, alpha)
    out = bytearray()
    view_rgba, view_alpha = memoryview(rgba), memoryview(alpha)
    for start in range(0, n, BAND_PIXELS):
        end = min(n, start + BAND_PIXELS)
        out += set_alpha_band(view_rgba[4 * start : 4 * end], view_alpha[start:end])
    return out


def set_alpha_in_place(rgba: bytearray, alpha: bytes) -> bytearray:
    """set_alpha into `rgba` itself, band by band: for a result just decoded, which nothing
    else holds, so no second image-sized buffer is made."""
    n = _checked(rgba, alpha)
    view_rgba, view_alpha = memoryview(rgba), memoryview(alpha)
    for start in range(0, n, BAND_PIXELS):
        end = min(n, start + BAND_PIXELS)
        channel = view_rgba[4 * start + 3 : 4 * end : 4]
        channel[:] = multiply_alpha_bytes(channel.tobytes(), bytes(view_alpha[start:end]))
    return rgba


def _checked(rgba: bytes, alpha: bytes) -> int:
    n = len(alpha)
    if len(rgba) != 4 * n:
        raise ValueError(f"{n} mask bytes need {4 * n} RGBA bytes, got {len(rgba)}")
    return n


def set_alpha_band(rgba: bytes, alpha: bytes) -> bytes:
    """RGBA (or BGRA) pixels whose alpha a becomes round(a * m / 255) for the pixel's mask
    byte m. Colour bytes are kept."""
    rgba, alpha = _bytes(rgba), _bytes(alpha)
    _checked(rgba, alpha)
    out = bytearray(rgba)
    out[3::4] = multiply_alpha_bytes(rgba[3::4], alpha)
    return bytes(out)


def multiply_alpha_bytes(old: bytes, alpha: bytes) -> bytes:
    """round(a * m / 255) for each alpha byte a and mask byte m. An opaque layer just takes
    the mask; otherwise the 0 and 255 mask bytes act as bit masks on the alpha bytes (one
    big-integer AND) and only the soft pixels are multiplied."""
    if is_full(old):
        return alpha  # round(255 * m / 255) is m
    n = len(alpha)
    soft = _soft_pixels(alpha)
    if soft * _SOFT_SHARE > n:
        return _mix(None, old, alpha)
    new = bytearray((int.from_bytes(old, "big") & int.from_bytes(alpha, "big")).to_bytes(n, "big"))
    if soft:
        _mix_soft_runs(new, None, old, alpha, 1)
    return new


def blend(base: bytes, top: bytes, alpha: bytes) -> bytes:
    """RGBA `top` mixed over RGBA `base` by the mask: each of the four channels becomes
    round(b + (t - b) * m / 255) for mask byte m, so exactly `base` where m is 0 and exactly
    `top` where m is 255.

    This is a cross-fade by the mask, not alpha compositing: the layers' own alpha channels
    are mixed like the colours. Where the mask is 0 or 255 whole runs are copied by slices
    (or, for a mask of many short runs, selected with one big-integer expression); only the
    soft pixels are multiplied.
    """
    base, top, alpha = _bytes(base), _bytes(top), _bytes(alpha)
    n = len(alpha)
    if len(base) != 4 * n or len(top) != 4 * n:
        raise ValueError(
            f"{n} mask bytes need {4 * n} bytes in each image, got {len(base)} and {len(top)}"
        )
    soft = _soft_pixels(alpha)
    if soft * _SOFT_SHARE > n:
        return _mix(base, top, _spread(alpha, 4))
    if not soft and b"\xff" not in alpha:
        return base
    if not soft and is_full(alpha):
        return top
    tops = _runs(alpha.translate(_FULL_FLAGS), n // _RUN_SHARE + 1)
    if tops is None:  # a busy mask: select every byte at once, 0xff mask bytes as bit masks
        b = int.from_bytes(base, "big")
        pick = int.from_bytes(_spread(alpha, 4), "big")
        out = bytearray((b ^ ((b ^ int.from_bytes(top, "big")) & pick)).to_bytes(4 * n, "big"))
    else:
        out = bytearray(base)
        for s, e in tops:
            out[4 * s : 4 * e] = top[4 * s : 4 * e]
    if soft:
        _mix_soft_runs(out, base, top, alpha, 4)
    return bytes(out)
