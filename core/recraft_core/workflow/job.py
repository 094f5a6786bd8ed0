"""One Recraft operation on an editor's canvas, from the selection to the new layers.

    job = Job(client, "inpaint", canvas, {"prompt": "a red hat"})
    job.prepare()        # UI thread: checks the form, reads pixels and selection, plans
    job.start()          # a worker thread: masks, encoding, upload, wait, download, decoding
    ...                  # the UI polls job.progress and job.done; job.cancel() at any time
    job.apply()          # UI thread: inserts the results, unless cancelled or failed

A job never raises from `run` or `apply`: a failure is kept in `job.error` (a RecraftError
with a `user_message`), and the canvas is left untouched. Nothing is applied after a cancel.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field, replace

from .. import settings
from ..api import forms, validation
from ..api.catalog import MAX_FILE_BYTES
from ..api.client import Client
from ..api.operations import OPERATIONS, Operation
from ..api.progress import Progress
from ..api.results import EnhancedPrompt, Image, ImageResult, Style, User
from ..api.transport import CancelToken
from ..exceptions import Cancelled, RecraftError, ValidationError
from ..imaging import masks, pixels, planning, png, svg
from ..imaging.png import Raster
from .canvas import Canvas, NewDocument, NewLayer, NewVector, PurePythonCodec

# An estimate from a sample of rows is a guess: aim under the 10 MB limit with it. On nine
# of scikit-image's photographs at three sizes and grains, files came out between 94 % and
# 100.4 % of their estimate; a miss still goes up, after a second encode (Job._shrink).
ESTIMATE_MARGIN = 0.92
# How wide (masks.edge_width) a selection's soft edge may be and still count as hard: editors
# antialias the edges of ellipses and lassos over about a pixel, and such a selection fades
# over Options.feather like a hard one. Wider edges were feathered by the user: kept as drawn.
ANTIALIASING = 2.0

log = logging.getLogger("recraft_core.workflow")

_NAME_PROMPT_CHARS = 40


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

    @classmethod
    def saved(cls) -> Options:
        """The amounts saved in the editors' Settings, the defaults where none are saved."""
        saved, defaults = settings.load(), cls()
        return cls(
            grow=defaults.grow if saved.grow is None else saved.grow,
            feather=defaults.feather if saved.feather is None else saved.feather,
        )


def missing_selection(operation: str) -> ValidationError:
    """The error for an operation on a selection when nothing is selected: also for an
    editor to say before it asks for anything else (a prompt)."""
    title = OPERATIONS[operation].title
    return ValidationError(
        "selection", f"is missing: {title} changes only what is selected; select an area first"
    )


def editor_client(settings_menu: str) -> Client:
    """A Client for the saved token (RECRAFT_API_TOKEN and RECRAFT_API_URL win); without one,
    the error says where the editor's Settings are."""
    try:
        return Client()
    except ValidationError as e:
        if e.field == "token" and "no API token" in e.rule:
            raise ValidationError(
                "token", f"is not set yet: open {settings_menu} and paste your Recraft token"
            ) from None
        raise


@dataclass
class Outcome:
    """What a finished job produced, and what apply inserted."""

    layers: list[NewLayer] = field(default_factory=list)
    vectors: list[NewVector] = field(default_factory=list)
    document: NewDocument | None = None
    group: str | None = None  # the group the layers went into (n > 1)
    style: Style | None = None
    prompt: str | None = None
    user: User | None = None
    credits: int | None = None
    notes: list[str] = field(default_factory=list)

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


class Job:
    """One operation on one canvas. See the module docstring for the threads."""

    def __init__(
        self,
        client,
        operation: str,
        canvas: Canvas | None,
        params: dict | None = None,
        *,
        options: Options | None = None,
        references: list[Raster] | None = None,
    ) -> None:
        if operation not in OPERATIONS:
            raise ValidationError("operation", f"{operation!r} is not a Recraft operation")
        self.op = OPERATIONS[operation]
        self.client = client
        self.canvas = canvas
        self.params = dict(params or {})
        self.options = options or Options()
        self.references = list(references or [])
        self.codec = (getattr(canvas, "codec", None) if canvas else None) or PurePythonCodec()
        self.notes: list[str] = []
        self.error: RecraftError | None = None
        self.outcome: Outcome | None = None
        self._progress = Progress("preparing")
        self._cancel = CancelToken()
        self._done = threading.Event()
        self._state = "new"
        self._lock = threading.Lock()
        # Set by prepare:
        self._plan: planning.FitPlan | None = None
        self._image: Raster | None = None
        self._selection: bytes | None = None  # strengths in _mask_box
        self._mask_box: tuple[int, int, int, int] | None = None
        self._alpha: bytes | None = None  # how much of each result pixel shows (mask ops),
        self._alpha_box: tuple[int, int, int, int] | None = None  # in this box of the upload
        self._canvas_size: tuple[int, int] | None = None  # read on the UI thread, kept
        self._encoded: bytes | None = None  # the image, when the codec encodes on the UI thread
        self._upload_mask: bytes | None = None
        self._sent_params: dict = {}
        self._answered = False  # Recraft answered: a cancel from here on still costs
        self._result: object = None

    def __repr__(self) -> str:
        return f"<Job {self.op.name} {self._state}>"

    # -- what the UI reads -------------------------------------------------------------------

    @property
    def progress(self) -> Progress:
        return self._progress

    @property
    def state(self) -> str:
        """new, prepared, running, finished, failed, cancelled or applied."""
        return self._state

    @property
    def done(self) -> bool:
        """True once run ended, whatever the way."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def cost(self) -> int | None:
        """Credits by Recraft's price list, before the run; None when not known."""
        return forms.cost(self.op, self.params)

    def cancel(self) -> None:
        """Stop the job: the upload, the wait or the download ends within a moment, and
        apply inserts nothing. A request already sent may still be charged."""
        self._cancel.cancel()

    # -- UI thread: before -------------------------------------------------------------------

    def prepare(self) -> None:
        """Check the parameters and read what the operation needs from the canvas.

        Raises ValidationError (also kept in `error`) when something is missing or wrong,
        before anything is read or sent.
        """
        if self._state != "new":
            raise RecraftError(f"prepare() called on a {self._state} job; make a new Job")
        try:
            self._prepare()
            if self._image is not None and not self.codec.thread_safe:
                self._encoded = self._encode_image(self.codec)  # this codec stays on the UI thread
        except RecraftError as e:
            self._fail(e)
            raise
        self._state = "prepared"

    def _prepare(self) -> None:
        op = self.op
        validation.validate(op, self.params, cross_field=False)
        if self.canvas is not None:
            self._canvas_size = self.canvas.size()
        roles = {f.role for f in op.files}
        if "layers" in roles:
            if not self.references and not self.params.get("source_styles"):
                raise ValidationError("images", "choose at least one layer as a reference")
            return
        if "layer" not in roles:
            return  # generate, explore, prompts, account: nothing to read
        canvas = self._need_canvas()
        if "selection" in roles:
            model = validation.model_of(op, self.params)
            if model is not None and model.vector:
                raise ValidationError(
                    "model",
                    f"{model.name} redraws the whole image as shapes and cannot fill just the "
                    "selection; choose a raster model (recraftv3)",
                )
            self._prepare_masked(canvas)
        else:
            self._prepare_whole(canvas)
        if self._image.blank:
            raise ValidationError("layer", "is empty (fully transparent); pick a layer with pixels")
        self._fit_file_size(canvas)

    def _need_canvas(self) -> Canvas:
        if self.canvas is None:
            raise ValidationError("image", f"{self.op.title} needs an open image")
        return self.canvas

    def _prepare_masked(self, canvas: Canvas) -> None:
        bounds = canvas.selection_bounds()
        if bounds is None:
            raise missing_selection(self.op.name)
        width, height = canvas.size()
        x0, y0, x1, y1 = bounds
        # The selection plus its grown edge, within the canvas: what the model repaints.
        g = self.options.grow
        region = (max(0, x0 - g), max(0, y0 - g), min(width, x1 + g), min(height, y1 + g))
        plan = planning.fit_selection(width, height, region)
        self._plan = plan
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
        self._image = self._read(canvas, plan)
        self.notes += plan.describe((width, height))

    def _prepare_whole(self, canvas: Canvas) -> None:
        x0, y0, x1, y1 = canvas.source_bounds()
        if x1 <= x0 or y1 <= y0:
            raise ValidationError("layer", "has no pixels inside the image")
        limits = planning.Limits(min_side=self.op.min_side)
        w, h = x1 - x0, y1 - y0
        fit = planning.fit_image(w, h, limits)
        plan = planning.FitPlan((x0, y0, x1, y1), fit.width, fit.height)
        if self.op.name == "outpaint":
            plan = self._room_to_expand(plan, limits)
        self._plan = plan
        self._image = self._read(canvas, plan)
        self.notes += plan.describe((x1 - x0, y1 - y0), self.op.output != "document")

    def _fit_file_size(self, canvas: Canvas) -> None:
        """A source within the pixel limits may still encode to 10 MB or more (grain, noise).
        Its size is estimated from a sample of rows, and when it would be too big the editor
        reads it again smaller, with its own smooth scaling: one full encode, not one to find
        out and another after (Job._shrink stays the fallback)."""
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
            self._plan = planning.FitPlan(self._plan.box, *size)
            self._image = image = None  # not held beside the smaller read
            self._image = self._read(canvas, self._plan)
        if size is not None:
            self.notes.append(
                f"Sent at {size[0]}x{size[1]} px: at full size the image would be over "
                "Recraft's 10 MB limit."
            )

    def _room_to_expand(self, plan: planning.FitPlan, limits: planning.Limits):
        """Outpaint's result may be at most max_side a side: send the layer small enough that
        the expanded image fits, rather than refuse an expansion the user sized on the canvas."""
        x0, y0, x1, y1 = plan.box
        w, h = x1 - x0, y1 - y0
        grown_w = w + sum(self.params.get(f"expand_{s}") or 0 for s in ("left", "right"))
        grown_h = h + sum(self.params.get(f"expand_{s}") or 0 for s in ("top", "bottom"))
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
        return planning.FitPlan(plan.box, width, height)

    def _read(self, canvas: Canvas, plan: planning.FitPlan) -> Raster:
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

    def _request_params(self) -> dict:
        """The parameters as the API wants them: outpaint's expansions, given in canvas
        pixels, counted in upload pixels of the final plan; a zero zoom (the default) left
        out, since some servers read any zoom as "centre the image"."""
        params = dict(self.params)
        if self.op.name != "outpaint":
            return params
        if not params.get("zoom_out_percentage"):
            params.pop("zoom_out_percentage", None)
        plan = self._plan
        if plan is not None:
            kx = plan.width / (plan.box[2] - plan.box[0])
            ky = plan.height / (plan.box[3] - plan.box[1])
            for side, k in (("left", kx), ("right", kx), ("top", ky), ("bottom", ky)):
                if params.get(f"expand_{side}") is not None:
                    params[f"expand_{side}"] = max(0, round(params[f"expand_{side}"] * k))
        return params

    # -- worker thread -----------------------------------------------------------------------

    def start(self) -> threading.Thread:
        """Run on a daemon thread; poll `done` and `progress` from the UI."""
        thread = threading.Thread(target=self.run, name=f"recraft-{self.op.name}", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        """Masks, encoding, the call, checks, decoding and compositing. Never raises."""
        with self._lock:
            if self._state != "prepared":
                if self._state == "new":
                    self._fail(RecraftError("the job was not prepared (call prepare first)"))
                return  # already running, or over: never send twice
            self._state = "running"
        try:
            self._cancel.check()
            inputs = self._encode()
            # What was read is encoded now: not held through the upload and the decoding.
            self._image = self._encoded = self._selection = self._upload_mask = None
            self._sent_params = self._request_params()
            self._cancel.check()
            result = self.client.call(
                self.op.name,
                cancel=self._cancel,
                progress=self._report,
                **self._sent_params,
                **inputs,
            )
            inputs = None
            self._result = result
            self._cancel.check()
            if self.codec.thread_safe:
                self.outcome = self._build(result)
            with self._lock:
                self._cancel.check()
                self._state = "finished"
        except Cancelled as e:
            if self._answered and "charged" not in str(e):
                e = Cancelled("cancelled after Recraft answered; the request was charged")
            self._fail(e)
        except RecraftError as e:
            self._fail(e)
        except Exception as e:  # a bug must reach the user as a message, not a traceback
            log.exception("recraft job %s failed", self.op.name)
            self._fail(RecraftError(f"unexpected {type(e).__name__}: {e}"))
        finally:
            self._done.set()

    def _report(self, event: Progress) -> None:
        if event.stage == "downloading":
            self._answered = True  # from here on the request has been charged
        self._progress = event

    def _fail(self, error: RecraftError) -> None:
        """Keep the first error: it is the cause, and later ones follow from it."""
        if self.error is None:
            self.error = error
        self._state = "cancelled" if isinstance(self.error, Cancelled) else "failed"

    def _encode(self) -> dict:
        """The files to send, as PNG bytes (worker thread)."""
        if self.references:
            self._report(Progress("encoding", 0, len(self.references)))
            encoded = []
            for i, image in enumerate(self.references):
                self._cancel.check()
                encoded.append(self._png(image, self.codec))
                self._report(Progress("encoding", i + 1, len(self.references)))
            return {"images": encoded}
        if self._image is None:
            return {}
        self._report(Progress("encoding"))
        plan = self._plan
        files = {}
        if self._selection is not None:
            self._upload_mask, self._alpha = self._masks(plan)
            # As pixels: the client encodes it, and checks it without decoding it again.
            files["mask"] = Raster(plan.width, plan.height, "L", self._upload_mask)
        files["image"] = self._encoded or self._encode_image(self.codec)
        if len(files["image"]) >= MAX_FILE_BYTES:
            files = self._shrink(files)
        return files

    def _encode_image(self, codec) -> bytes:
        return self._png(self._image, codec)

    @staticmethod
    def _png(image: Raster, codec) -> bytes:
        return codec.encode_png(image, opaque=png.drops_alpha(image))

    def _masks(self, plan: planning.FitPlan) -> tuple[bytes, bytes]:
        """(upload mask, compositing alpha) at upload size, from the selection's strengths."""
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
            self._alpha_box = (at[0], at[1], at[0] + mw, at[1] + mh)
            return upload, alpha
        upload = masks.resize_nearest(upload, w, h, plan.width, plan.height)
        alpha = masks.embed(alpha, mw, mh, w, h, at)
        alpha = masks.resize_nearest(alpha, w, h, plan.width, plan.height)
        self._alpha_box = (0, 0, plan.width, plan.height)
        return upload, alpha

    def _full_alpha(self) -> bytes:
        """The compositing alpha over the whole upload (it is kept where it reaches only)."""
        x0, y0, x1, y1 = self._alpha_box
        size = (self._plan.width, self._plan.height)
        return masks.embed(self._alpha, x1 - x0, y1 - y0, *size, (x0, y0))

    def _shrink(self, files: dict) -> dict:
        """A layer can pass the pixel limits and still encode to 10 MB: send it smaller.

        Re-encoding happens here on the worker, so a codec bound to the UI thread is
        replaced by the pure-Python one for it."""
        plan = self._plan
        codec = self.codec if self.codec.thread_safe else PurePythonCodec()
        size = planning.shrink_for_upload(plan.width, plan.height, len(files["image"]))
        while size is not None:
            self._cancel.check()
            w, h = size
            channels = png.CHANNELS[self._image.mode]
            pixels = masks.resize_nearest(
                self._image.pixels, plan.width, plan.height, w, h, channels
            )
            files["image"] = self._png(Raster(w, h, self._image.mode, pixels), codec)
            size = planning.shrink_for_upload(w, h, len(files["image"]))
        if "mask" in files:
            mask = masks.resize_nearest(self._upload_mask, plan.width, plan.height, w, h)
            files["mask"] = Raster(w, h, "L", mask)
            self._alpha = masks.resize_nearest(self._full_alpha(), plan.width, plan.height, w, h)
            self._alpha_box = (0, 0, w, h)
        self._plan = planning.FitPlan(plan.box, w, h)
        self.notes.append(
            f"Sent at {w}x{h} px: at full size the image is over Recraft's 10 MB limit."
        )
        return files

    # -- results -----------------------------------------------------------------------------

    def _build(self, result) -> Outcome:
        """Check, decode, composite and place every result (worker, or UI for some codecs)."""
        out = Outcome(credits=getattr(result, "credits", None), notes=list(self.notes))
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
            self._cancel.check()
            label = f"{name} #{i + 1}" if many else name
            self._report(Progress("decoding", i, len(result.images)))
            self._place(image, label, out)
        self._report(Progress("decoding", len(result.images), len(result.images)))
        return out

    def _place(self, image: Image, name: str, out: Outcome) -> None:
        canvas_size = self._canvas_size
        if image.is_vector:
            drawing = svg.sanitize(image.data)
            box = self._box_for(drawing.width, drawing.height, canvas_size)
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
        box = self._box_for(raster.width, raster.height, canvas_size)
        if self._alpha is not None:  # a mask operation
            raster, box = self._masked(raster, box)
        out.layers.append(
            NewLayer(name, raster, box.x, box.y, box.width, box.height, image.image_id)
        )

    def _masked(self, raster: Raster, box: planning.Placement):
        """The result faded by the compositing alpha, and where it goes. When it lies pixel
        for pixel on the canvas, only the part the alpha shows is kept: a small selection on
        a large canvas makes a small layer (less memory, undo data and work for the editor),
        not a canvas-sized one that is transparent nearly everywhere."""
        w, h = raster.width, raster.height
        raster = raster.with_alpha()
        if (box.width, box.height) == (w, h) == (self._plan.width, self._plan.height):
            ax0, ay0, ax1, ay1 = self._alpha_box
            aw, ah = ax1 - ax0, ay1 - ay0
            shown = masks.bbox(self._alpha, aw, ah) or (0, 0, aw, ah)
            sx0, sy0, sx1, sy1 = shown
            crop = (ax0 + sx0, ay0 + sy0, ax0 + sx1, ay0 + sy1)
            if crop != (0, 0, w, h):
                faded = pixels.set_alpha(
                    masks.crop(raster.pixels, w, 4, crop), masks.crop(self._alpha, aw, 1, shown)
                )
                placed = planning.Placement(box.x + crop[0], box.y + crop[1], sx1 - sx0, sy1 - sy0)
                return Raster(sx1 - sx0, sy1 - sy0, raster.mode, faded), placed
        alpha = self._full_alpha()
        if (w, h) != (self._plan.width, self._plan.height):
            alpha = masks.resize_nearest(alpha, self._plan.width, self._plan.height, w, h)
        if isinstance(raster.pixels, bytearray):  # the codec's own new buffer: use it
            faded = pixels.set_alpha_in_place(raster.pixels, alpha)
        else:
            faded = pixels.set_alpha(raster.pixels, alpha)
        return Raster(w, h, raster.mode, faded), box

    def _box_for(self, width: float, height: float, canvas_size) -> planning.Placement:
        """The canvas rectangle a result of this size covers."""
        plan = self._plan
        if plan is not None and self.op.name == "outpaint":
            return plan.placement(width, height, *self._outpaint_origin(width, height))
        if plan is not None:
            return plan.placement(width, height)
        if canvas_size is None:
            return planning.Placement(0, 0, round(width), round(height))
        # A new image (generate, remix, explore): centred, scaled down to fit if larger.
        cw, ch = canvas_size
        k = min(1.0, cw / width, ch / height)
        w, h = max(1, round(width * k)), max(1, round(height * k))
        return planning.Placement((cw - w) // 2, (ch - h) // 2, w, h)

    def _outpaint_origin(self, width: float, height: float) -> tuple[tuple[float, float], float]:
        """Where the sent image lies inside an outpaint result, and how much it was shrunk:
        at (expand_left, expand_top); centred for a size; shrunk and centred with a zoom."""
        p, plan = self._sent_params, self._plan
        zoom = p.get("zoom_out_percentage")
        if zoom:
            scale = (100 - zoom) / 100
            w, h = math.floor(plan.width * scale + 0.5), math.floor(plan.height * scale + 0.5)
            return ((width - w) // 2, (height - h) // 2), w / plan.width
        if any(p.get(f"expand_{s}") is not None for s in ("left", "right", "top", "bottom")):
            return (p.get("expand_left") or 0, p.get("expand_top") or 0), 1.0
        return ((width - plan.width) // 2, (height - plan.height) // 2), 1.0

    # -- UI thread: after --------------------------------------------------------------------

    def apply(self, select: list[int] | None = None) -> Outcome | None:
        """Insert the results (UI thread): all of them, or those at the `select` indexes.

        Nothing happens unless the job finished: while it runs, after a cancel or after a
        failure, the canvas stays as it was and None is returned."""
        with self._lock:
            if not self.done:
                return None
            if self._state != "finished" or self._cancel.cancelled:
                if self._cancel.cancelled and self.error is None:
                    self._fail(Cancelled("cancelled after Recraft answered; it was charged"))
                return None
            self._state = "applying"
        try:
            if self.outcome is None:  # a codec that must run on the UI thread
                self.outcome = self._build(self._result)
            self._report(Progress("placing"))
            self._insert(self.outcome, select)
        except Exception as e:
            self._fail_apply(e)
            return None
        self._state = "applied"
        self._report(Progress("done"))
        return self.outcome

    def insert(self, index: int) -> None:
        """Insert result `index` once more (the results strip), as one undo step."""
        if self._state != "applied" or self.outcome is None:
            raise RecraftError("only the results of an applied job can be inserted again")
        try:
            self._insert(self.outcome, [index], grouped=False)
        except Exception as e:
            self._fail_apply(e)
            raise self.error from None

    def _fail_apply(self, error: Exception) -> None:
        if not isinstance(error, RecraftError):
            log.exception("inserting the results of %s failed", self.op.name)
            error = RecraftError(f"the editor could not insert the result: {error}")
        self.error = None
        self._fail(error)

    def _insert(self, out: Outcome, select: list[int] | None, grouped: bool = True) -> None:
        if self.canvas is None:
            return
        if out.document is not None:
            self.canvas.open_document(out.document)
        chosen = (
            (lambda items: items)
            if select is None
            else (lambda items: [items[i] for i in select if 0 <= i < len(items)])
        )
        group = out.group if grouped and (select is None or len(select) > 1) else None
        if out.layers:
            layers = chosen(out.layers)
            if layers:
                self.canvas.insert_layers(layers, group)
        if out.vectors:
            vectors = chosen(out.vectors)
            if vectors:
                self.canvas.insert_vectors(vectors, group)
