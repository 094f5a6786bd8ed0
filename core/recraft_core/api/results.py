"""What operations return: typed results built from the API's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..imaging import imageinfo


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
