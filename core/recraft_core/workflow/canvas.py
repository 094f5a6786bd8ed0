"""What an editor provides to run Recraft operations on its document, and what it gets back.

An editor adapter implements `Canvas` (a handful of methods over its own API) and, where it
has a native PNG codec, a `Codec`. `Job` does everything else: planning, masks, encoding,
the call, checking, decoding, compositing, placing and naming.

Threads: every Canvas method is called on the editor's UI thread, from `Job.prepare` and
`Job.apply` only; none while the job runs. `Job.run`, on a worker thread, touches nothing of
the editor but the `Codec`, so a codec must be usable from any thread, or say
`thread_safe = False` to be called from `Job.apply` instead.

Coordinates are canvas (image) pixels, boxes are (x0, y0, x1, y1) with x1, y1 excluded.
Pixels are `Raster`s: 8-bit, rows top to bottom, RGBA unless said otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..exceptions import ProtocolError
from ..imaging import png
from ..imaging.png import Raster

Box = tuple[int, int, int, int]


@dataclass(frozen=True, repr=False)
class NewLayer:
    """A raster result to insert. `image` may be any size: the editor scales it to fill the
    rectangle (x, y, width, height), which may reach outside the canvas (outpainting)."""

    name: str
    image: Raster
    x: int
    y: int
    width: int
    height: int
    image_id: str | None = None  # Recraft's id (explore results feed explore_similar)
    # An editable mask for the layer (a transparency mask in Krita, a layer mask in GIMP):
    # one byte a pixel of `image`, 255 shows. The layer as inserted looks as if its alpha had
    # been multiplied by it, and painting it reveals or hides more of the result.
    mask: bytes | None = None

    def __repr__(self) -> str:
        where = f"{self.x},{self.y} {self.width}x{self.height}"
        masked = ", masked" if self.mask is not None else ""
        return f"NewLayer({self.name!r}, {self.image!r} at {where}{masked})"

    @property
    def scaled(self) -> bool:
        return (self.image.width, self.image.height) != (self.width, self.height)


@dataclass(frozen=True, repr=False)
class NewVector:
    """An SVG result, sanitised, whose user units are canvas pixels and whose size is the
    canvas's: the editor imports it as it is (a vector layer, or paths)."""

    name: str
    svg: str
    image_id: str | None = None
    size: tuple[int, int] | None = None  # the SVG's width and height, in pixels

    def __repr__(self) -> str:
        return f"NewVector({self.name!r}, {len(self.svg)} chars)"


@dataclass(frozen=True, repr=False)
class NewCutout:
    """A cut-out of the source: its own pixels inside the canvas box (x, y, width, height),
    in its own depth and colour model, whose alpha is multiplied by `alpha` (one byte a
    canvas pixel of the box, 255 keeps; imaging.alpha.multiply does it on native pixels).
    With `as_mask`, the source's pixels are copied untouched and `alpha` becomes the copy's
    editable mask instead."""

    name: str
    alpha: bytes
    x: int
    y: int
    width: int
    height: int
    as_mask: bool = False
    image_id: str | None = None

    def __repr__(self) -> str:
        kind = "mask" if self.as_mask else "alpha"
        return f"NewCutout({self.name!r}, {kind} at {self.x},{self.y} {self.width}x{self.height})"


@dataclass(frozen=True, repr=False)
class NewDocument:
    """Results that open as a document of their own: an upscale, or results with no image
    to go into (nothing was open, or it was closed while Recraft worked). The editor makes
    an empty width x height document and inserts `layers` and `vectors` into it as it would
    into any canvas (in a group named `group` when given)."""

    name: str
    width: int
    height: int
    layers: tuple[NewLayer, ...] = ()
    vectors: tuple[NewVector, ...] = ()
    group: str | None = None

    def __repr__(self) -> str:
        parts = f"{len(self.layers)} layers, {len(self.vectors)} vectors"
        return f"NewDocument({self.name!r}, {self.width}x{self.height}, {parts})"

    @property
    def image(self) -> Raster | None:
        """The one picture of a document that is a single result (an upscale)."""
        return self.layers[0].image if len(self.layers) == 1 and not self.vectors else None


@runtime_checkable
class Codec(Protocol):
    """PNG in and out, by the editor's own C code where it has some (Qt's QImage, GEGL)."""

    thread_safe: bool

    def encode_png(self, image: Raster, opaque: bool = False) -> bytes:
        """PNG bytes of an RGB, RGBA or BGRA raster; when `opaque` (every alpha byte is 255)
        without the alpha channel, a quarter less to upload. (The job says opaque where
        png.drops_alpha says so: not for flat images, whose alpha costs nothing.)"""

    def decode(self, data: bytes) -> Raster:
        """RGBA (or the editor's own BGRA) pixels of a PNG, and of JPEG or WEBP where the
        editor reads them. Pixels in a bytearray are the job's to change (it sets their
        alpha in place): return a new one each time, or bytes."""


@runtime_checkable
class Canvas(Protocol):
    """One document and one source layer, fixed when the adapter makes the Canvas for a job:
    the user may pick another layer or document while the job runs, and the results must
    still land above the layer they were made from. UI thread only.

    Each insert method is one undo step and either completes or leaves the document as it
    was (an editor that fails midway removes what it added)."""

    codec: Codec | None  # None: the pure-Python codec

    def size(self) -> tuple[int, int]:
        """The canvas's width and height."""

    def source_bounds(self) -> Box:
        """Where the source has pixels: the source layer's extent clipped to the canvas (or
        the whole canvas when the source is the visible image)."""

    def read(self, box: Box, size: tuple[int, int] | None = None) -> Raster:
        """RGBA (or BGRA) pixels of the source inside `box` (transparent where it has none),
        scaled by the editor to `size` when given. Any depth or colour model becomes 8-bit
        sRGB. RGB where the source has no alpha channel and covers the whole box: opaque
        by construction, so nothing has to drop the alpha again."""

    def selection_bounds(self) -> Box | None:
        """The selection's bounding box, or None when nothing is selected."""

    def read_selection(self, box: Box) -> bytes:
        """Selection strength 0..255 of each pixel in `box`, one byte a pixel."""

    def insert_layers(
        self, layers: list[NewLayer], group: str | None, grow: Box | None = None
    ) -> None:
        """Add the layers above the source layer (inside a new group named `group` when it
        is given, the first on top and the only one visible: variations to flip through;
        each with its `mask` when it has one), as one undo step. With `grow` (x0, y0, x1,
        y1 in today's canvas pixels, given only when it is larger than the canvas: an
        outpainted result), the canvas first grows to that box, its content keeping its
        place, in the same step where the editor can (the layers' x and y stay in today's
        pixels: minus x0, y0 after growing)."""

    def insert_cutout(self, cutout: NewCutout) -> None:
        """Add the cut-out above the source (see NewCutout), as one undo step. Only for a
        Canvas that has it: a job asks for cut-outs (Options.cutout) where it does."""

    def insert_vectors(self, vectors: list[NewVector], group: str | None) -> None:
        """Add each SVG as a vector layer (Krita) or as paths plus a layer (GIMP), above the
        source layer (in a group named `group` when given), as one undo step."""

    def open_document(self, document: NewDocument) -> None:
        """Open a new document holding the results (see NewDocument), as its own undo
        history."""


class PurePythonCodec:
    """The fallback codec: the standard library's zlib, PNG only."""

    thread_safe = True

    def encode_png(self, image: Raster, opaque: bool = False) -> bytes:
        return (image.without_alpha() if opaque else image).to_png()

    def decode(self, data: bytes) -> Raster:
        try:
            width, height, mode, pixels = png.decode(data)
        except png.UnsupportedPNG as e:
            raise ProtocolError(f"the result cannot be decoded here: {e}") from None
        except png.PNGError as e:
            raise ProtocolError(f"the result PNG is damaged: {e}") from None
        return Raster(width, height, mode, pixels).to_rgba()
