"""What a job sends: the source read within Recraft's limits, its masks, and its PNG files.

    upload = Upload.read(op, canvas, params, options)   # UI thread: reads pixels, plans
    files = upload.files(codec, cancel, report)         # worker: masks, encoding, 10 MB

After `files`, the upload keeps only what placing the results needs: the plan (which canvas
box was sent, at what size) and the compositing alpha of a mask operation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .. import settings
from ..api.catalog import MAX_FILE_BYTES
from ..api.operations import OPERATIONS, Operation
from ..api.progress import Progress
from ..exceptions import RecraftError, Refused, ValidationError
from ..imaging import masks, planning, png
from ..imaging.png import Raster
from .canvas import Canvas, Codec

# An estimate from a sample of rows is a guess: aim under the 10 MB limit with it. On nine
# of scikit-image's photographs at three sizes and grains, files came out between 94 % and
# 100.4 % of their estimate; a miss still goes up, after a second encode (Upload._shrink).
ESTIMATE_MARGIN = 0.92
# How wide (masks.edge_width) a selection's soft edge may be and still count as hard: editors
# antialias the edges of ellipses and lassos over about a pixel, and such a selection fades
# over Options.feather like a hard one. Wider edges were feathered by the user: kept as drawn.
ANTIALIASING = 2.0


@dataclass(frozen=True)
class Options:
    """How results of mask operations blend in, in canvas pixels.

    The upload mask is the selection grown by `grow`, so the model repaints a little past
    its edge; the result then fades out over `feather` pixels beyond the selection's edge,
    so no seam shows. feather=0 gives a hard edge. A selection that is already soft
    (feathered in the editor, not just antialiased) fades as the editor's selection does
    instead.
    """

    grow: int = 16
    feather: int = 12
    # The fade as an editable mask beside the result (NewLayer.mask), not baked into its
    # alpha: for an editor whose Canvas inserts layer masks.
    edge_masks: bool = False
    # What a cut-out (remove background) inserts: "" Recraft's 8-bit pixels as a new layer;
    # "layer" the source's own pixels with Recraft's alpha; "mask" that alpha as a mask on a
    # copy of the source (NewCutout; for an editor whose Canvas has insert_cutout).
    cutout: str = ""

    @classmethod
    def saved(cls, masks: bool = False) -> Options:
        """The amounts saved in the editors' Settings, the defaults where none are saved.
        `masks`: the editor inserts layer masks, so soft edges come as masks unless the
        Settings say to bake them."""
        saved, defaults = settings.load(), cls()
        return cls(
            grow=defaults.grow if saved.grow is None else saved.grow,
            feather=defaults.feather if saved.feather is None else saved.feather,
            edge_masks=masks and not saved.bake_edges,
        )


def missing_selection(operation: str) -> ValidationError:
    """The error for an operation on a selection when nothing is selected: also for an
    editor to say before it asks for anything else (a prompt)."""
    title = OPERATIONS[operation].title
    return ValidationError(
        "selection", f"is missing: {title} changes only what is selected; select an area first"
    )


class OffCanvas(ValidationError):
    """The source layer has no pixels inside the image."""

    def __init__(self) -> None:
        super().__init__(
            "layer",
            "has no pixels inside the image: move it onto the canvas, or send the visible "
            "image instead",
        )

    def naming(self, layer: str, ways_out: str) -> Refused:
        """Said with the layer's name and the editor's ways out ("move it onto the canvas,
        or pick another layer")."""
        return Refused(
            f"The layer “{layer}” has no pixels inside the image: {ways_out}. Nothing was sent."
        )


class MissesTheLayer(ValidationError):
    """The selection covers no pixel of the source layer: sent, it would be charged for
    nothing."""

    def __init__(self) -> None:
        super().__init__(
            "selection",
            "covers no pixels of the layer: select where the layer has pixels, pick the layer "
            "to repaint, or send the visible image instead",
        )

    def naming(self, layer: str, ways_out: str) -> Refused:
        """Said with the layer's name and the editor's ways out."""
        return Refused(
            f"The selection covers no pixels of the layer “{layer}”: {ways_out}. Nothing was sent."
        )


def too_big(width: int, height: int) -> str:
    return (
        f"Sent at {width}x{height} px: at full size the image would be over Recraft's 10 MB limit."
    )


def png_of(image: Raster, codec: Codec) -> bytes:
    return codec.encode_png(image, opaque=png.drops_alpha(image))


class Upload:
    """The source of one job, read and planned; see the module docstring."""

    def __init__(self, op: Operation, options: Options) -> None:
        self.op = op
        self.options = options
        self.plan: planning.FitPlan | None = None
        self.notes: list[str] = []
        # What the compositing alpha covers of the upload (mask operations), and the alpha
        # itself: kept only as far as it reaches, until the results are placed.
        self.alpha: bytes | None = None
        self.alpha_box: tuple[int, int, int, int] | None = None
        self.preview: Raster | None = None  # the source, small: for the results library
        self._image: Raster | None = None
        self._encoded: bytes | None = None  # encoded early, by a codec bound to the UI thread
        self._selection: bytes | None = None  # strengths in _mask_box
        self._mask_box: tuple[int, int, int, int] | None = None

    # -- UI thread ---------------------------------------------------------------------------

    @classmethod
    def read(
        cls,
        op: Operation,
        canvas: Canvas,
        options: Options,
        expansion: planning.Expansion | None = None,
    ) -> Upload:
        """Read what `op` sends from the canvas, within Recraft's limits (ValidationError
        when there is nothing to send)."""
        upload = cls(op, options)
        x0, y0, x1, y1 = canvas.source_bounds()
        if x1 <= x0 or y1 <= y0:
            raise OffCanvas()
        if op.needs_selection:
            upload._read_masked(canvas)
        else:
            upload._read_whole(canvas, expansion)
        if upload._image.blank:
            raise ValidationError("layer", "is empty (fully transparent); pick a layer with pixels")
        if op.needs_selection and upload._misses_the_layer():
            raise MissesTheLayer()
        upload._fit_file_size(canvas)
        return upload

    def encode_now(self, codec: Codec) -> None:
        """Encode the image here and now: for a codec that may not leave the UI thread."""
        self._encoded = png_of(self._image, codec)

    def _read_masked(self, canvas: Canvas) -> None:
        bounds = canvas.selection_bounds()
        if bounds is None:
            raise missing_selection(self.op.name)
        width, height = canvas.size()
        x0, y0, x1, y1 = bounds
        # The selection plus its grown edge, within the canvas: what the model repaints.
        g = self.options.grow
        region = (max(0, x0 - g), max(0, y0 - g), min(width, x1 + g), min(height, y1 + g))
        plan = self.plan = planning.fit_selection(width, height, region)
        # Only the selection and as far as the masks reach from it are read and worked on:
        # the selection is empty beyond its bounds (on a 16 MP canvas, a region of a few MP
        # instead of 16 MB buffers, and less for the editor to read on its UI thread).
        reach = max(self.options.grow, self.options.feather)
        bx0, by0, bx1, by1 = plan.box
        self._mask_box = (
            max(bx0, x0 - reach),
            max(by0, y0 - reach),
            min(bx1, x1 + reach),
            min(by1, y1 + reach),
        )
        self._selection = canvas.read_selection(self._mask_box)
        self._image = _read(canvas, plan)
        self.notes += plan.describe((width, height))

    def _misses_the_layer(self) -> bool:
        """No pixel of the layer lies under the selection: nothing there to repaint."""
        x0, y0, x1, y1 = self.plan.box
        mx0, my0, mx1, my1 = self._mask_box
        if not self.plan.is_identity:  # the image was read scaled: its box in upload pixels
            kx, ky = self.plan.width / (x1 - x0), self.plan.height / (y1 - y0)
            mx0, mx1 = math.floor((mx0 - x0) * kx), math.ceil((mx1 - x0) * kx)
            my0, my1 = math.floor((my0 - y0) * ky), math.ceil((my1 - y0) * ky)
        else:
            mx0, mx1, my0, my1 = mx0 - x0, mx1 - x0, my0 - y0, my1 - y0
        image = self._image
        box = (max(0, mx0), max(0, my0), min(image.width, mx1), min(image.height, my1))
        if box[2] <= box[0] or box[3] <= box[1]:
            return True
        channels = png.CHANNELS[image.mode]
        under = masks.crop(image.pixels, image.width, channels, box)
        return Raster(box[2] - box[0], box[3] - box[1], image.mode, under).blank

    def _read_whole(self, canvas: Canvas, expansion: planning.Expansion | None) -> None:
        x0, y0, x1, y1 = canvas.source_bounds()
        limits = planning.Limits(min_side=self.op.min_side)
        fit = planning.fit_image(x1 - x0, y1 - y0, limits)
        plan = planning.FitPlan((x0, y0, x1, y1), fit.width, fit.height)
        if expansion is not None:
            plan = expansion.room(plan, limits)
        self.plan = plan
        self._image = _read(canvas, plan)
        self.notes += plan.describe((x1 - x0, y1 - y0), self.op.output != "document")

    def _fit_file_size(self, canvas: Canvas) -> None:
        """A source within the pixel limits may still encode to 10 MB or more (grain, noise).
        Its size is estimated from a sample of rows, and when it would be too big the editor
        reads it again smaller, with its own smooth scaling: one full encode, not one to find
        out and another after (_shrink is the fallback when the estimate missed)."""
        size = None
        for _ in range(3):  # a smaller read can compress worse per pixel: estimate it again
            image = self._image
            estimated = png.estimate(image, opaque=png.drops_alpha(image))
            smaller = planning.shrink_for_upload(
                image.width, image.height, estimated, int(ESTIMATE_MARGIN * MAX_FILE_BYTES)
            )
            if smaller is None or min(smaller) < max(1, self.op.min_side or 1):
                break
            size = smaller
            self.plan = planning.FitPlan(self.plan.box, *size)
            self._image = image = None  # not held beside the smaller read
            self._image = _read(canvas, self.plan)
        if size is not None:
            self.notes.append(too_big(*size))

    # -- worker thread -----------------------------------------------------------------------

    def files(
        self, codec: Codec, check: Callable[[], None], report: Callable[[Progress], None]
    ) -> dict:
        """The files to send: the image as PNG bytes, the mask as pixels (the client encodes
        it, and checks it without decoding it again). `check` raises when cancelled. What
        was read is dropped once encoded."""
        report(Progress("encoding"))
        files = {}
        upload_mask = None
        if self._selection is not None:
            upload_mask = self._masks()
            files["mask"] = Raster(self.plan.width, self.plan.height, "L", upload_mask)
        files["image"] = self._encoded or png_of(self._image, codec)
        if len(files["image"]) >= MAX_FILE_BYTES:
            files = self._shrink(files, upload_mask, codec, check)
        self.preview = preview(self._image)
        self._image = self._encoded = self._selection = None
        return files

    def _masks(self) -> bytes:
        """The upload mask at upload size, and the compositing alpha, from the selection's
        strengths."""
        plan = self.plan
        x0, y0, x1, y1 = plan.box
        w, h = x1 - x0, y1 - y0
        mx0, my0, mx1, my1 = self._mask_box
        mw, mh = mx1 - mx0, my1 - my0
        selection = self._selection
        soft = masks.edge_width(selection, mw, mh) > ANTIALIASING
        # A soft selection's faint outskirts still show some of the result: they are repainted
        # too. A hard one is cut at half, as editors draw its marching ants.
        hard = masks.threshold(selection, 8 if soft else 128)
        if masks.is_empty(hard):
            raise ValidationError("selection", "is empty: select the area to change")
        upload = masks.grow(hard, mw, mh, self.options.grow)
        alpha = selection if soft else masks.feather(hard, mw, mh, self.options.feather)
        at = (mx0 - x0, my0 - y0)
        upload = masks.embed(upload, mw, mh, w, h, at)
        if plan.is_identity:  # the alpha stays as far as it reaches, until compositing
            self.alpha, self.alpha_box = alpha, (at[0], at[1], at[0] + mw, at[1] + mh)
            return upload
        upload = masks.resize_nearest(upload, w, h, plan.width, plan.height)
        alpha = masks.embed(alpha, mw, mh, w, h, at)
        self.alpha = masks.resize_nearest(alpha, w, h, plan.width, plan.height)
        self.alpha_box = (0, 0, plan.width, plan.height)
        return upload

    def full_alpha(self) -> bytes:
        """The compositing alpha over the whole upload (it is kept where it reaches only)."""
        x0, y0, x1, y1 = self.alpha_box
        size = (self.plan.width, self.plan.height)
        return masks.embed(self.alpha, x1 - x0, y1 - y0, *size, (x0, y0))

    def _shrink(self, files: dict, upload_mask: bytes | None, codec: Codec, check) -> dict:
        """The estimate missed and the encoding is 10 MB or more: scale the read pixels
        down until it is not (here on the worker, with a thread-safe codec)."""
        plan, image = self.plan, self._image
        size = planning.shrink_for_upload(plan.width, plan.height, len(files["image"]))
        while size is not None:
            check()
            w, h = size
            channels = png.CHANNELS[image.mode]
            pixels = masks.resize_nearest(image.pixels, plan.width, plan.height, w, h, channels)
            files["image"] = png_of(Raster(w, h, image.mode, pixels), codec)
            size = planning.shrink_for_upload(w, h, len(files["image"]))
        if upload_mask is not None:
            mask = masks.resize_nearest(upload_mask, plan.width, plan.height, w, h)
            files["mask"] = Raster(w, h, "L", mask)
            self.alpha = masks.resize_nearest(self.full_alpha(), plan.width, plan.height, w, h)
            self.alpha_box = (0, 0, w, h)
        self.plan = planning.FitPlan(plan.box, w, h)
        self.notes.append(too_big(w, h))
        return files


def encode_references(
    references: list[Raster], codec: Codec, check, report: Callable[[Progress], None]
) -> dict:
    """Style references as PNG files (worker thread)."""
    report(Progress("encoding", 0, len(references)))
    encoded = []
    for i, image in enumerate(references):
        check()
        encoded.append(png_of(image, codec))
        report(Progress("encoding", i + 1, len(references)))
    return {"images": encoded}


def preview(image: Raster, side: int = 256) -> Raster:
    """`image` within side x side (nearest pixels: a thumbnail is made of it later)."""
    k = min(1.0, side / max(image.width, image.height))
    w, h = max(1, round(image.width * k)), max(1, round(image.height * k))
    if (w, h) == (image.width, image.height):
        return image
    channels = png.CHANNELS[image.mode]
    small = masks.resize_nearest(image.pixels, image.width, image.height, w, h, channels)
    return Raster(w, h, image.mode, small)


def _read(canvas: Canvas, plan: planning.FitPlan) -> Raster:
    size = None if plan.is_identity else (plan.width, plan.height)
    image = canvas.read(plan.box, size)
    want = size or (plan.box[2] - plan.box[0], plan.box[3] - plan.box[1])
    if (image.width, image.height) != want:
        raise RecraftError(
            f"the editor gave {image.width}x{image.height} pixels for a {want[0]}x{want[1]} "
            "read: a bug in the plug-in"
        )
    # RGB (an editor's layer without alpha) stays as it is: opaque, and ready to send.
    return image if image.mode == "RGB" else image.with_alpha()
