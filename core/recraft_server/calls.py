"""What the server's tables are made of: an ``Endpoint`` (one POST route) and a ``Call`` (one
request to it, validated). ``endpoints`` fills the table, ``rules`` checks a request against it
and makes the Call, ``service`` runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import catalog
from .state import State
from .uploads import Upload

JSON, MULTIPART = "json", "multipart"
IMAGES, IMAGE, STYLE, ENHANCE = "images", "image", "style", "enhance"  # response shapes


@dataclass(frozen=True)
class Endpoint:
    path: str
    bodies: tuple[str, ...]
    fields: tuple[str, ...]  # documented fields
    run: Callable[[Call], Any]
    price: Callable[[Call], int]
    response: str = IMAGES
    extras: tuple[str, ...] = ()  # spec-only fields: accepted, checked for type, ignored
    extra_files: tuple[str, ...] = ()  # spec-only file fields: accepted and ignored
    required: tuple[str, ...] = ()
    files: tuple[str, ...] = ()  # file fields; ("*",) = any field name
    image_formats: tuple[str, ...] = catalog.RASTER_AND_SVG
    min_side: int | None = catalog.MIN_SIDE  # None: no minimum side
    svg_scaled_up: bool = False  # small SVGs are scaled up instead of rejected
    models: tuple[str, ...] = ()
    default_model: str | None = None
    default_size: bool = False
    style_families: tuple[str, ...] | None = None  # None: style does not depend on the model
    negative_prompt_families: tuple[str, ...] | None = None  # None: any model
    prompt_max_chars: int | None = None  # a character limit instead of the model's byte limit
    check: Callable[[Call], None] | None = None  # cross-field rule
    on_result: Callable[[Call, list[str]], None] | None = None  # sees the new image ids
    hints: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    """A validated request: typed parameters with defaults applied, plus its uploads."""

    endpoint: Endpoint
    params: dict[str, Any]
    files: dict[str, list[Upload]]
    state: State
    model: str | None = None
    size: tuple[int, int] | None = None
    n: int = 1
    plan: dict[str, Any] = field(default_factory=dict)  # endpoint-specific derived values

    def get(self, name: str, default=None):
        return self.params.get(name, default)

    def file(self, name: str) -> Upload:
        return self.files[name][0]

    @property
    def image_format(self) -> str:
        return self.params.get("image_format") or "png"
