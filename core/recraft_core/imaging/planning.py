"""How to bring a canvas region within the API's image limits, and how to map a result back.

An editor's image may be 8000 px wide, or 100 px tall; the API takes 256..4096 px a side and
at most 16 MP. A plan says which region of the canvas to send (the whole image, or for mask
operations on a large canvas a box around the selection with context) and the size to scale
it to. Its `placement` turns a result's size into the canvas rectangle the result covers, and
`describe` says in plain words what was done.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..exceptions import ValidationError
from . import limits

Box = tuple[int, int, int, int]  # x0, y0, x1, y1; end-exclusive


@dataclass(frozen=True)
class Limits:
    min_side: int = limits.MIN_SIDE
    max_side: int = limits.MAX_SIDE
    max_pixels: int = limits.MAX_PIXELS


@dataclass(frozen=True)
class Placement:
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class FitPlan:
    box: Box  # the canvas region to send
    width: int  # the size to scale it to before upload
    height: int

    @property
    def scale(self) -> float:
        """Upload pixels per canvas pixel, horizontally."""
        return self.width / (self.box[2] - self.box[0])

    def describe(self, canvas: tuple[int, int], scaled_back: bool = True) -> list[str]:
        """Plain words for the user on cropping and scaling, nothing when neither happened.
        `scaled_back`: whether the result is scaled to the sent area (False for a result that
        opens as it comes, an upscale)."""
        x0, y0, x1, y1 = self.box
        w, h = x1 - x0, y1 - y0
        notes = []
        if (w, h) != tuple(canvas):
            notes.append(
                f"Only the area around the selection was sent ({w}x{h} px at {x0},{y0}): "
                f"the {canvas[0]}x{canvas[1]} image is larger than Recraft accepts."
            )
        if not self.is_identity:
            way = "up" if self.width > w else "down"
            back = (
                "the result was scaled back" if scaled_back else "the result is as Recraft made it"
            )
            notes.append(
                f"It was scaled {way} to {self.width}x{self.height} px to fit Recraft's limits "
                f"(256 to 4096 px a side, at most 16 MP); {back}."
            )
        return notes

    @property
    def is_identity(self) -> bool:
        return (self.width, self.height) == (self.box[2] - self.box[0], self.box[3] - self.box[1])

    def placement(
        self, result_width: int, result_height: int, origin=None, content_scale: float = 1.0
    ) -> Placement:
        """The canvas rectangle a result covers.

        Without `origin` the result shows the sent region, at whatever resolution (an upscale
        is larger), and covers the box. With `origin` the result is at upload scale and the
        sent region's top-left corner lies at `origin` inside it, as with outpainting's
        (expand_left, expand_top); `content_scale` is how much the sent image was shrunk
        inside the result (outpainting's zoom out), so the canvas content keeps its size.
        """
        x0, y0, x1, y1 = self.box
        if origin is None:
            return Placement(x0, y0, x1 - x0, y1 - y0)
        kx = (x1 - x0) / self.width / content_scale
        ky = (y1 - y0) / self.height / content_scale
        return Placement(
            round(x0 - origin[0] * kx),
            round(y0 - origin[1] * ky),
            round(result_width * kx),
            round(result_height * ky),
        )


def _scaled_size(width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The size closest to width x height within the limits, aspect kept."""
    scale = 1.0
    if max(width, height) > limits.max_side:
        scale = limits.max_side / max(width, height)
    if width * height * scale * scale > limits.max_pixels:
        scale = min(scale, math.sqrt(limits.max_pixels / (width * height)))
    if min(width, height) * scale < limits.min_side:
        scale = limits.min_side / min(width, height)
        w, h = math.ceil(width * scale), math.ceil(height * scale)
    else:
        w, h = max(1, math.floor(width * scale)), max(1, math.floor(height * scale))
    if max(w, h) > limits.max_side or w * h > limits.max_pixels:
        raise ValidationError(
            "image",
            f"{width}x{height} cannot be scaled within the limits (sides {limits.min_side}.."
            f"{limits.max_side} px, at most {limits.max_pixels:,} pixels): "
            "its aspect ratio is too extreme; crop it first",
        )
    return w, h


def fit_image(width: int, height: int, limits: Limits = Limits()) -> FitPlan:
    """Send the whole image, scaled (up or down) only as far as the limits require."""
    if width <= 0 or height <= 0:
        raise ValidationError("image", f"size {width}x{height} is empty")
    return FitPlan((0, 0, width, height), *_scaled_size(width, height, limits))


def _grow(lo: int, hi: int, want: int, size: int) -> tuple[int, int]:
    """Widen [lo, hi) around its centre to `want`, kept inside [0, size)."""
    if hi - lo >= want:
        return lo, hi
    if want >= size:
        return 0, size
    lo = max(0, (lo + hi - want) // 2)
    hi = lo + want
    if hi > size:
        lo, hi = size - want, size
    return lo, hi


def within(width: int, height: int, limits: Limits = Limits()) -> bool:
    """True when an image this size may be sent as it is."""
    return (
        limits.min_side <= min(width, height)
        and max(width, height) <= limits.max_side
        and width * height <= limits.max_pixels
    )


def fit_selection(
    width: int,
    height: int,
    selection: Box,
    limits: Limits = Limits(),
    context: float = 1 / 16,
    min_context: int = 512,
) -> FitPlan:
    """What a mask operation sends for a selection on a `width` x `height` canvas.

    A canvas within the limits goes whole: the model sees everything and nothing is
    scaled. A larger one is cropped to the selection plus a margin on every side that grows
    with the canvas (`context` of its longest side, at least `min_context` px), clipped to
    the canvas and at least min_side a side where the canvas allows, then scaled within the
    limits if the crop is still too large. The model matches new pixels to what surrounds
    them, so the margin is generous; a fixed small margin gives visible seams.
    """
    x0, y0, x1, y1 = selection
    if not (0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height):
        raise ValidationError("mask", f"selection {selection} is empty or outside {width}x{height}")
    if max(width, height) <= limits.max_side and width * height <= limits.max_pixels:
        return fit_image(width, height, limits)
    pad = max(min_context, math.ceil(context * max(width, height)))
    x0, y0 = max(0, x0 - pad), max(0, y0 - pad)
    x1, y1 = min(width, x1 + pad), min(height, y1 + pad)
    x0, x1 = _grow(x0, x1, limits.min_side, width)
    y0, y1 = _grow(y0, y1, limits.min_side, height)
    return FitPlan((x0, y0, x1, y1), *_scaled_size(x1 - x0, y1 - y0, limits))


def shrink_for_upload(
    width: int, height: int, encoded_bytes: int, limit: int = limits.MAX_FILE_BYTES
) -> tuple[int, int] | None:
    """A smaller size whose encoding should come in under `limit`, or None if it already does.

    A large photo can pass every pixel limit and still encode to 10 MB or more. Encoded size
    grows about with the pixel count, so scale both sides by the square root of the ratio,
    with a margin; encode again and repeat if an unusual image still comes out too large.
    """
    if encoded_bytes < limit:
        return None
    scale = math.sqrt(limit * 0.9 / encoded_bytes)
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


SIDES = ("left", "right", "top", "bottom")


@dataclass(frozen=True)
class Expansion:
    """Outpainting's geometry: the sent image inside a larger result, placed by the
    expand_* pixels on each side, or centred for a size, or shrunk by a zoom out."""

    left: int | None = None
    right: int | None = None
    top: int | None = None
    bottom: int | None = None
    zoom: float | None = None  # zoom_out_percentage

    @classmethod
    def of(cls, params: dict) -> Expansion:
        return cls(
            *(params.get(f"expand_{side}") for side in SIDES), params.get("zoom_out_percentage")
        )

    @property
    def expands(self) -> bool:
        return any(getattr(self, side) is not None for side in SIDES)

    def room(self, plan: FitPlan, limits: Limits) -> FitPlan:
        """The result may be at most max_side a side: the plan that sends the source small
        enough for the expanded picture to fit, rather than refuse an expansion the user
        sized on the canvas."""
        x0, y0, x1, y1 = plan.box
        w, h = x1 - x0, y1 - y0
        grown_w = w + (self.left or 0) + (self.right or 0)
        grown_h = h + (self.top or 0) + (self.bottom or 0)
        room = min(limits.max_side / grown_w, limits.max_side / grown_h)
        if plan.width <= w * room and plan.height <= h * room:
            return plan
        width, height = math.floor(w * room), math.floor(h * room)
        if min(width, height) < limits.min_side:
            raise ValidationError(
                "expand_*",
                f"the image would become {grown_w}x{grown_h} px; Recraft makes at most "
                f"{limits.max_side} px a side: expand less",
            )
        return FitPlan(plan.box, width, height)

    def request(self, params: dict, plan: FitPlan | None) -> dict:
        """`params` as the API wants them: the expansions, given in canvas pixels, counted
        in upload pixels of the plan; a zero zoom (the default) left out, since some servers
        read any zoom as "centre the image"."""
        params = dict(params)
        if not params.get("zoom_out_percentage"):
            params.pop("zoom_out_percentage", None)
        if plan is None:
            return params
        kx = plan.width / (plan.box[2] - plan.box[0])
        ky = plan.height / (plan.box[3] - plan.box[1])
        for side, k in zip(SIDES, (kx, kx, ky, ky), strict=True):
            if params.get(f"expand_{side}") is not None:
                params[f"expand_{side}"] = max(0, round(params[f"expand_{side}"] * k))
        return params

    def placement(self, plan: FitPlan, width: float, height: float) -> Placement:
        """The canvas rectangle a result of this size covers (self: the expansion as sent,
        in upload pixels). The sent image lies at (expand_left, expand_top) inside it;
        centred for a size; shrunk and centred with a zoom."""
        scale = 1.0
        if self.zoom:
            scale = (100 - self.zoom) / 100
            w = math.floor(plan.width * scale + 0.5)
            h = math.floor(plan.height * scale + 0.5)
            origin = ((width - w) // 2, (height - h) // 2)
            scale = w / plan.width
        elif self.expands:
            origin = (self.left or 0, self.top or 0)
        else:
            origin = ((width - plan.width) // 2, (height - plan.height) // 2)
        return plan.placement(width, height, origin, scale)
