"""What a job's answer becomes: results checked, decoded, blended and placed on the canvas.

`Placer.outcome(result)` turns the client's result into an `Outcome`: the layers, shapes or
document to insert, each with its canvas rectangle and name, or a style, a prompt, a balance.
It runs on the worker, or on the UI thread for a codec bound to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ..api.operations import Operation
from ..api.progress import Progress
from ..api.results import EnhancedPrompt, Image, ImageResult, Style, User
from ..imaging import masks, pixels, planning, svg
from ..imaging.png import Raster
from . import variations
from .canvas import Canvas, Codec, NewCutout, NewDocument, NewLayer, NewVector
from .upload import Upload

_NAME_PROMPT_CHARS = 40


@dataclass
class Outcome:
    """What a finished job produced, and what apply inserted."""

    layers: list[NewLayer] = field(default_factory=list)
    vectors: list[NewVector] = field(default_factory=list)
    document: NewDocument | None = None
    # The layers as cut-outs of the source (Options.cutout), one for each of `layers`, which
    # still hold Recraft's own pixels for wherever the source is gone (a new document).
    cutouts: list[NewCutout] = field(default_factory=list)
    group: str | None = None  # the group the layers went into (n > 1)
    style: Style | None = None
    prompt: str | None = None
    user: User | None = None
    credits: int | None = None
    notes: list[str] = field(default_factory=list)
    # The canvas box (x0, y0, x1, y1, in the canvas's pixels before it grows) the image grows
    # to, so that an outpainted result shows whole; None: the canvas stays as it is.
    grow: tuple[int, int, int, int] | None = None

    def insert_into(self, canvas: Canvas, select: list[int] | None, grouped: bool = True) -> None:
        """Insert the results into `canvas` (UI thread): all, or those at the `select`
        indexes; several in their group unless `grouped` is False (once more, from a strip)."""
        if self.document is not None:
            canvas.open_document(self.document)

        def chosen(items: list) -> list:
            return items if select is None else [items[i] for i in select if 0 <= i < len(items)]

        group = self.group if grouped and (select is None or len(select) > 1) else None
        if cutouts := chosen(self.cutouts):
            for cutout in cutouts:
                canvas.insert_cutout(cutout)
        elif layers := chosen(self.layers):
            if self.grow is not None and grouped:  # grown with the layers, as one step
                canvas.insert_layers(layers, group, grow=self.grow)
            else:
                canvas.insert_layers(layers, group)
        if vectors := chosen(self.vectors):
            canvas.insert_vectors(vectors, group)

    def as_document(self) -> NewDocument | None:
        """Everything this outcome holds as one new document, for results with no image to
        go into (none was open, or it was closed meanwhile): the layers where they were
        relative to one another, on a canvas just large enough for them. None when there is
        nothing to show."""
        if not self.layers and not self.vectors:
            return self.document
        boxes = [(n.x, n.y, n.x + n.width, n.y + n.height) for n in self.layers]
        # SVGs are laid out in their own canvas's pixels, from its (0, 0).
        boxes += [(0, 0, *v.size) for v in self.vectors if v.size]
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        layers = tuple(replace(n, x=n.x - x0, y=n.y - y0) for n in self.layers)
        first = (self.layers or self.vectors)[0]
        name = self.group or first.name
        return NewDocument(name, x1 - x0, y1 - y0, layers, tuple(self.vectors), self.group)


def layer_name(op: Operation, params: dict) -> str:
    """ "Recraft <operation>: <prompt, shortened> [seed]"."""
    name = f"Recraft {op.name.replace('_', ' ')}"
    prompt = " ".join(str(params.get("prompt") or "").split())
    if prompt:
        if len(prompt) > _NAME_PROMPT_CHARS:
            prompt = prompt[: _NAME_PROMPT_CHARS - 1].rstrip() + "…"
        name += f": {prompt}"
    if params.get("random_seed") is not None:
        name += f" [{params['random_seed']}]"
    return name


class Placer:
    """Places one job's results. `upload` is what was sent (None when nothing was read),
    `expansion` outpainting's geometry as sent, `canvas_size` the canvas when the job
    began (None: no image was open)."""

    def __init__(
        self,
        op: Operation,
        params: dict,
        codec: Codec,
        upload: Upload | None = None,
        expansion: planning.Expansion | None = None,
        canvas_size: tuple[int, int] | None = None,
    ) -> None:
        self.op, self.params, self.codec = op, params, codec
        self.upload, self.expansion, self.canvas_size = upload, expansion, canvas_size

    def outcome(self, result, check, report) -> Outcome:
        """Check, decode, blend and place every result. `check` raises when cancelled."""
        notes = list(self.upload.notes) if self.upload is not None else []
        out = Outcome(credits=getattr(result, "credits", None), notes=notes)
        if isinstance(result, Style):
            out.style = result
            return out
        if isinstance(result, EnhancedPrompt):
            out.prompt = result.prompt
            return out
        if isinstance(result, User):
            out.user = result
            return out
        assert isinstance(result, ImageResult)
        name = layer_name(self.op, self.params)
        many = len(result.images) > 1
        if many:
            out.group = name
        for i, image in enumerate(result.images):
            check()
            label = variations.label(name, i, len(result.images)) if many else name
            report(Progress("decoding", i, len(result.images)))
            self._place(image, label, out)
        report(Progress("decoding", len(result.images), len(result.images)))
        if self.expansion is not None and self.canvas_size is not None:
            out.grow = _grown(self.canvas_size, out.layers)
            if out.grow is not None:
                x0, y0, x1, y1 = out.grow
                out.notes.append(f"The image grew to {x1 - x0}x{y1 - y0} px to hold the result.")
        return out

    def _place(self, image: Image, name: str, out: Outcome) -> None:
        canvas_size = self.canvas_size
        if image.is_vector:
            drawing = svg.sanitize(image.data)
            box = self._box_for(drawing.width, drawing.height)
            size = canvas_size or (math.ceil(box.width), math.ceil(box.height))
            text = svg.place(drawing, (box.x, box.y, box.width, box.height), size)
            out.vectors.append(NewVector(name, text, image.image_id, size))
            return
        raster = self.codec.decode(image.data)
        if self.op.output == "document":
            w, h = raster.width, raster.height
            layer = NewLayer(name, raster, 0, 0, w, h, image.image_id)
            out.document = NewDocument(name, w, h, (layer,))
            return
        box = self._box_for(raster.width, raster.height)
        if self.upload is None and (box.width, box.height) != (raster.width, raster.height):
            note = (
                f"The {raster.width}x{raster.height} px result was scaled to {box.width}x"
                f"{box.height} px to cover the image."
            )
            if note not in out.notes:  # once for n alike results
                out.notes.append(note)
        plan = self.upload.plan if self.upload is not None else None
        if (
            plan
            and not self.expansion
            and not same_shape((raster.width, raster.height), (plan.width, plan.height))
        ):
            note = (
                f"Recraft made a {raster.width}x{raster.height} px picture, another shape than "
                "the layer: it is centred on the layer in its own proportions."
            )
            if note not in out.notes:
                out.notes.append(note)
        mask = None
        if self.upload is not None and self.upload.alpha is not None:  # a mask operation
            if self.upload.options.edge_masks:
                raster, mask = raster.with_alpha(), self._edge_mask(raster)
            else:
                raster, box = self._masked(raster, box)
        elif self.op.cuts_out and self.upload is not None and self.upload.options.cutout:
            out.cutouts.append(self._cutout(raster, box, name, image.image_id))
        out.layers.append(
            NewLayer(name, raster, box.x, box.y, box.width, box.height, image.image_id, mask)
        )

    def _edge_mask(self, raster: Raster) -> bytes:
        """The compositing alpha at the result's size: the mask beside an unfaded result."""
        plan = self.upload.plan
        alpha, (w, h) = self.upload.full_alpha(), (raster.width, raster.height)
        if (w, h) != (plan.width, plan.height):
            alpha = masks.resize_nearest(alpha, plan.width, plan.height, w, h)
        return alpha

    def _cutout(self, raster: Raster, box: planning.Placement, name: str, image_id) -> NewCutout:
        """Recraft's alpha over the canvas box the source was sent from, one byte a canvas
        pixel (the source's pixels are the editor's to read, in their own format)."""
        alpha = raster.with_alpha().pixels[3::4]
        if (raster.width, raster.height) != (box.width, box.height):
            alpha = masks.resize_nearest(
                bytes(alpha), raster.width, raster.height, box.width, box.height
            )
        as_mask = self.upload.options.cutout == "mask"
        return NewCutout(name, bytes(alpha), box.x, box.y, box.width, box.height, as_mask, image_id)

    def _masked(self, raster: Raster, box: planning.Placement):
        """The result faded by the compositing alpha, and where it goes. When it lies pixel
        for pixel on the canvas, only the part the alpha shows is kept: a small selection on
        a large canvas makes a small layer (less memory, undo data and work for the editor),
        not a canvas-sized one that is transparent nearly everywhere."""
        upload, plan = self.upload, self.upload.plan
        w, h = raster.width, raster.height
        raster = raster.with_alpha()
        if (box.width, box.height) == (w, h) == (plan.width, plan.height):
            ax0, ay0, ax1, ay1 = upload.alpha_box
            aw, ah = ax1 - ax0, ay1 - ay0
            shown = masks.bbox(upload.alpha, aw, ah) or (0, 0, aw, ah)
            sx0, sy0, sx1, sy1 = shown
            crop = (ax0 + sx0, ay0 + sy0, ax0 + sx1, ay0 + sy1)
            if crop != (0, 0, w, h):
                faded = pixels.set_alpha(
                    masks.crop(raster.pixels, w, 4, crop), masks.crop(upload.alpha, aw, 1, shown)
                )
                placed = planning.Placement(box.x + crop[0], box.y + crop[1], sx1 - sx0, sy1 - sy0)
                return Raster(sx1 - sx0, sy1 - sy0, raster.mode, faded), placed
        alpha = upload.full_alpha()
        if (w, h) != (plan.width, plan.height):
            alpha = masks.resize_nearest(alpha, plan.width, plan.height, w, h)
        if isinstance(raster.pixels, bytearray):  # the codec's own new buffer: use it
            faded = pixels.set_alpha_in_place(raster.pixels, alpha)
        else:
            faded = pixels.set_alpha(raster.pixels, alpha)
        return Raster(w, h, raster.mode, faded), box

    def _box_for(self, width: float, height: float) -> planning.Placement:
        """The canvas rectangle a result of this size covers."""
        plan = self.upload.plan if self.upload is not None else None
        if plan is not None and self.expansion is not None:
            return self.expansion.placement(plan, width, height)
        if plan is not None and same_shape((width, height), (plan.width, plan.height)):
            return plan.placement(width, height)  # the sent area, at whatever resolution
        if plan is not None:
            # Another shape than the source (a remix in another size): its own proportions,
            # at the source's scale, centred on the source, never squashed into its box.
            x0, y0, x1, y1 = plan.box
            k = (x1 - x0) / plan.width
            w, h = max(1, round(width * k)), max(1, round(height * k))
            return planning.Placement((x0 + x1 - w) // 2, (y0 + y1 - h) // 2, w, h)
        if self.canvas_size is None:
            return planning.Placement(0, 0, round(width), round(height))
        # A new picture (generate, explore): centred; one larger than the image is scaled
        # down to cover it (its proportions kept), never scaled up.
        cw, ch = self.canvas_size
        k = min(1.0, max(cw / width, ch / height))
        w, h = max(1, round(width * k)), max(1, round(height * k))
        return planning.Placement((cw - w) // 2, (ch - h) // 2, w, h)


def _grown(canvas_size: tuple[int, int], layers: list[NewLayer]):
    """The canvas box that holds the canvas and every layer; None when the canvas does."""
    boxes = [(0, 0, *canvas_size)] + [(n.x, n.y, n.x + n.width, n.y + n.height) for n in layers]
    box = (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    return None if box == boxes[0] else box


def same_shape(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """The same proportions, but for rounding (a side of one pixel in either)."""
    return abs(a[0] * b[1] - a[1] * b[0]) <= max(a[0], a[1], b[0], b[1])
