"""What operations return: typed results built from the API's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..exceptions import ProtocolError
from ..imaging import imageinfo, limits, png

# A result larger than this is not an image any model makes, nor one an editor should be
# asked to hold or to open as a document: refused from its header, before decoding.
MAX_RESULT_SIDE = limits.MAX_RESULT_SIDE
MAX_RESULT_PIXELS = limits.MAX_RESULT_PIXELS


@dataclass(frozen=True, repr=False)
class Image:
    data: bytes
    mime: str  # image/png, image/webp, image/svg+xml, ...
    image_id: str | None = None
    url: str | None = None

    def __repr__(self) -> str:
        return f"Image({self.mime}, {len(self.data)} B, id={self.image_id})"

    @property
    def is_vector(self) -> bool:
        return self.mime == "image/svg+xml"

    @property
    def extension(self) -> str:
        fmt = imageinfo.sniff(self.data)
        return imageinfo.EXTENSION.get(fmt, "bin") if fmt else "bin"

    @property
    def info(self) -> imageinfo.ImageInfo:
        return imageinfo.read(self.data)

    def save(self, path) -> None:
        with open(path, "wb") as f:
            f.write(self.data)


@dataclass(frozen=True)
class ImageResult:
    images: list[Image]
    credits: int | None = None
    created: int | None = None
    style_id: str | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def image(self) -> Image:
        return self.images[0]


@dataclass(frozen=True)
class Style:
    id: str
    style: str | None = None
    credits: int | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class EnhancedPrompt:
    prompt: str
    credits: int | None = None
    raw: dict = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class User:
    id: str
    credits: int
    name: str | None = None
    email: str | None = None
    raw: dict = field(default_factory=dict, repr=False)


def _text(op_name: str, body: dict, key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError(f"the API's answer to {op_name} has no {key}")
    return value


def credits_of(op_name: str, body: dict) -> int | None:
    credits = body.get("credits")
    if credits is not None and (isinstance(credits, bool) or not isinstance(credits, int)):
        raise ProtocolError(f"the API's answer to {op_name} has credits {credits!r}")
    return credits


def _user(op_name: str, body: dict) -> User:
    credits = credits_of(op_name, body)
    if credits is None:
        raise ProtocolError(f"the API's answer to {op_name} has no credits")
    return User(_text(op_name, body, "id"), credits, body.get("name"), body.get("email"), body)


# How each kind of answer (the table's `result`) reads; images are fetched by the client.
PARSERS = {
    "style": lambda op, body: Style(
        _text(op, body, "id"), body.get("style"), credits_of(op, body), body
    ),
    "prompt": lambda op, body: EnhancedPrompt(
        _text(op, body, "enhanced_prompt"), credits_of(op, body), body
    ),
    "user": _user,
}


def image_items(op_name: str, kind: str, body: dict) -> list[dict]:
    """The answer's image entries: `data` for several images, `image` for one."""
    items = body.get("data") if kind == "images" else [body.get("image")]
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise ProtocolError(f"the API's answer to {op_name} has no images")
    return items


def check_image(data: bytes, content_type: str = "") -> imageinfo.ImageInfo:
    """What a result file really is, refused unless it is a whole image of a sane size and
    the type the server claimed. Read from the header: no pixel is decoded here. The header
    is read as the decoders read it (imageinfo): a PNG with its chunks in the order the spec
    sets, so no decoder can find another IHDR than the one checked here; an SVG's size from
    its real root element, as the sanitiser reads it."""
    fmt = imageinfo.sniff(data)
    if fmt is None:
        raise ProtocolError(f"a result is not an image ({content_type or 'unknown type'})")
    claimed = content_type.split(";")[0].strip().lower()
    if claimed.startswith("image/") and claimed not in (imageinfo.MIME[fmt], "image/jpg"):
        raise ProtocolError(f"a result claims to be {claimed} but is {fmt.upper()}")
    try:
        info = imageinfo.read(data)
    except imageinfo.UnknownImage as e:
        raise ProtocolError(f"a result image cannot be used: {e}") from None
    if fmt == "png":
        _check_png_end(data)
    w, h = info.width, info.height
    if not (0 < w <= MAX_RESULT_SIDE and 0 < h <= MAX_RESULT_SIDE) or w * h > MAX_RESULT_PIXELS:
        raise ProtocolError(f"a result image is {w}x{h}, not a size any model makes")
    return info


def _check_png_end(data: bytes) -> None:
    """A result PNG ends with its IEND chunk, zero padding aside. Decoders stop at IEND and
    never read what follows, but a file Recraft encoded has nothing there: data after it
    (another IHDR, say) is refused rather than trusted to stay unread by every decoder."""
    end = png.end_offset(data)
    if end is None:
        raise ProtocolError("a result PNG is cut short (no IEND chunk)")
    if data.count(0, end) != len(data) - end:
        raise ProtocolError(f"a result PNG has {len(data) - end} bytes after its IEND chunk")
