"""Uploaded files: what they are (format, size, mode), the input limits, and mask statistics.

An ``Upload`` is both what the endpoint works on and what the request log keeps, so it is
filled in for every file part, even ones that are later rejected.

Pixels are decoded only after the format (PNG, JPEG or WEBP: nothing else is even handed to a
Pillow decoder) and the dimensions read from the file's header have passed the rules, so a small
file that claims a huge canvas (a decompression bomb) is refused without being decoded.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from . import catalog, svg
from .errors import ApiError
from .multipart import Part

_FORMAT_NAMES = {"PNG": "png", "JPEG": "jpeg", "MPO": "jpeg", "WEBP": "webp"}
_PIL_FORMATS = ("PNG", "JPEG", "WEBP")
_FORMAT_LABELS = {"png": "PNG", "jpeg": "JPG", "webp": "WEBP", "svg": "SVG"}
# Other formats are recognised by their magic bytes only, to name them in the error message.
_MAGIC = (
    (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"BM", "bmp"), (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"), (b"\x00\x00\x01\x00", "ico"), (b"8BPS", "psd"),
    (b"\x00\x00\x00\x0cjP  ", "jpeg2000"), (b"qoif", "qoi"), (b"%PDF", "pdf"),
)  # fmt: skip


class ItemAccess:
    """Read a dataclass's fields as keys too: ``rec["path"]`` is ``rec.path``."""

    def __getitem__(self, key: str):
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default)


@dataclass
class Upload(ItemAccess):
    field: str
    filename: str | None
    content_type: str | None
    size: int
    format: str | None = None
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    data: bytes = field(default=b"", repr=False)
    # Mask statistics, filled for the `mask` field only.
    values: list[int] | None = None
    white: int | None = None
    bbox: tuple[int, int, int, int] | None = None
    # Why the file could not be read, when it could not.
    problem: str | None = None
    svg: svg.SvgInfo | None = field(default=None, repr=False, compare=False)
    image: Image.Image | None = field(default=None, repr=False, compare=False)

    @property
    def is_svg(self) -> bool:
        return self.format == "svg"

    def release(self) -> None:
        """Drop decoded pixels once the request is answered; the log keeps only metadata."""
        self.image = None

    def drop_bytes(self) -> None:
        """Forget the file's bytes and parsed content (old log records); ``size`` stays."""
        self.data = b""
        self.image = None
        self.svg = None


def _sniff(data: bytes) -> str | None:
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    if data[4:8] == b"ftyp":
        return "heif/avif"
    return None


def describe(part: Part) -> Upload:
    up = Upload(
        field=part.name,
        filename=part.filename,
        content_type=part.content_type,
        size=len(part.data),
        data=part.data,
    )
    if svg.looks_like_svg(part.data):
        up.format = "svg"
        try:
            up.svg = svg.parse(part.data)
            up.width, up.height = up.svg.width, up.svg.height
        except svg.SvgError as exc:
            up.problem = str(exc)
        return up
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(part.data), formats=_PIL_FORMATS)  # reads the header only
    except Image.DecompressionBombError:
        up.problem = "has far more pixels than the 16 MP limit"
        return up
    except Exception:
        up.format = _sniff(part.data)
        return up
    up.format = _FORMAT_NAMES.get(img.format or "", (img.format or "").lower() or None)
    up.width, up.height = img.size
    up.mode = img.mode
    up.image = img
    if part.name == "mask" and _within(up.width, up.height, catalog.MAX_SIDE, catalog.MAX_PIXELS):
        _mask_stats(up)  # for the log, even when the mask is rejected later
    return up


def _within(width: int, height: int, max_side: int | None, max_pixels: int) -> bool:
    return (max_side is None or max(width, height) <= max_side) and width * height <= max_pixels


def _load(up: Upload) -> Image.Image | None:
    if up.image is None:
        return None
    try:
        up.image.load()
    except Exception as exc:
        up.problem = f"could not be decoded ({exc.__class__.__name__}: {exc})"
        return None
    return up.image


def _mask_stats(up: Upload) -> None:
    img = _load(up)
    if img is None:
        return
    gray = np.asarray(img if img.mode == "L" else img.convert("L"))
    up.values = [int(v) for v in np.unique(gray)]
    white = gray == 255
    up.white = int(white.sum())
    if up.white:
        rows = np.flatnonzero(white.any(axis=1))
        cols = np.flatnonzero(white.any(axis=0))
        up.bbox = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _formats_text(formats: tuple[str, ...]) -> str:
    labels = [_FORMAT_LABELS[f] for f in formats]
    return ", ".join(labels[:-1]) + " or " + labels[-1] if len(labels) > 1 else labels[0]


def bad_image(message: str) -> ApiError:
    return ApiError("invalid_image", message)


def check_file(up: Upload, formats: tuple[str, ...]) -> None:
    """Byte size, readability and format: everything known without looking at pixels."""
    name = up.field
    if up.size > catalog.MAX_FILE_BYTES:
        raise bad_image(
            f"{name} is {up.size} bytes; each file must be at most 10 MB "
            f"({catalog.MAX_FILE_BYTES} bytes)"
        )
    if up.size == 0:
        raise bad_image(f"{name} is an empty file")
    if up.format is None:
        raise bad_image(f"{name} is not a readable image; it must be {_formats_text(formats)}")
    if up.format not in formats:
        got = _FORMAT_LABELS.get(up.format, up.format.upper())
        raise bad_image(f"{name} must be {_formats_text(formats)} (got {got})")
    if up.problem:
        raise bad_image(f"{name} {up.problem}")


def decode(up: Upload) -> None:
    """Decode a raster upload's pixels (after its header passed every rule)."""
    if not up.is_svg and _load(up) is None:
        raise bad_image(f"{up.field} {up.problem}")


def check_image(
    up: Upload,
    formats: tuple[str, ...],
    min_side: int | None = catalog.MIN_SIDE,
    max_side: int | None = catalog.MAX_SIDE,
    max_pixels: int = catalog.MAX_PIXELS,
) -> None:
    """Apply the input-file rules, then decode; ``min_side``/``max_side`` None skip a check."""
    check_file(up, formats)
    check_dimensions(up.field, up.width or 0, up.height or 0, min_side, max_side, max_pixels)
    decode(up)


def check_dimensions(
    name: str,
    width: int,
    height: int,
    min_side: int | None,
    max_side: int | None = catalog.MAX_SIDE,
    max_pixels: int = catalog.MAX_PIXELS,
) -> None:
    if max_side is not None and max(width, height) > max_side:
        raise bad_image(
            f"{name} is {width}x{height}; the longest side must be at most {max_side} px"
        )
    if width * height > max_pixels:
        mp = f"{max_pixels / 1_000_000:g} MP ({max_pixels:,} pixels)"
        raise bad_image(f"{name} is {width}x{height} ({width * height:,} pixels); at most {mp}")
    if min_side is not None and min(width, height) < min_side:
        raise bad_image(
            f"{name} is {width}x{height}; the shortest side must be at least {min_side} px"
        )


def check_mask(mask: Upload, image: Upload) -> None:
    check_file(mask, catalog.RASTER_FORMATS)
    if mask.mode not in ("L", "1"):
        raise bad_image(
            f"mask must be a grayscale image (Pillow mode L or 1), got mode {mask.mode}"
        )
    if (mask.width, mask.height) != (image.width, image.height):
        raise bad_image(
            f"mask is {mask.width}x{mask.height} but image is {image.width}x{image.height}; "
            "they must be the same size"
        )
    # The image passed the size rules and the mask has its size, so decoding is bounded.
    decode(mask)
    if mask.values is None:
        _mask_stats(mask)
    stray = [v for v in mask.values or [] if v not in (0, 255)]
    if stray:
        shown = ", ".join(str(v) for v in stray[:5]) + (", ..." if len(stray) > 5 else "")
        raise bad_image(
            f"mask must contain only 0 (keep) and 255 (change); it also has the values {shown}"
        )
