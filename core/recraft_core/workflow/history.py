"""Results from the library back into an editor: inserted again, opened as a new image, or their
settings put back into a form. Editor-independent: Krita's History view and GIMP's History
dialog both call it.

    outcome = history.outcome(entry, canvas.size(), codec)   # a worker: reads and decodes
    outcome.insert_into(canvas, None)                        # UI thread: new layers
    canvas.open_document(outcome.as_document())              # or: a new image
    reuse = history.form_values(entry)                       # "Use these settings"
    form.choose(reuse.operation); form.set_values(reuse.values)

Placing is `placing.Placer`'s, as for a job's own results: an entry's results go where the job
put them when the canvas still has the size it had then (the record's `placement`), else
centred on the canvas (one larger than the canvas scaled down to cover it), as a generated
picture is. What a record says of its place, in `Entry.placement`:

    canvas   [w, h]            the canvas when the job began (every editor job records it)
    box      [x0, y0, x1, y1]  the canvas region that was sent
    sent     [w, h]            the size it was sent at (Recraft's limits may scale it)

Without `box` the region is taken to be the whole canvas when the result has the canvas's
shape (a layer or the visible image covering it, the common case), and the result is centred
otherwise.

A mask operation (inpaint, erase region, generate background) blended its result through the
selection's soft edge; the job kept that blend beside the result (`edge`):

    edge     {"file": "edge.png", "box": [x0, y0, x1, y1], "mask": true}
             grey pixels over `box` of the upload (`sent` pixels, from the sent region's
             corner), and whether the job inserted them as a mask (else baked into alpha)

With it, a result goes back as the job inserted it, pixel for pixel on a canvas of the source's
size: the patch, its edge a mask or baked as it was (baked where the editor cannot add masks,
Krita 5.1). On another canvas, or into a new image, the same patch is centred, edge and all
(a layer covering the whole canvas would hide everything below it). Records from before edges
were kept bring the result back whole, over the region that was sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..api import forms
from ..api.operations import OPERATIONS, Operation, offered
from ..api.results import Image, ImageResult, check_image
from ..exceptions import ProtocolError, RecraftError
from ..imaging import imageinfo, masks, planning, png
from ..library import Entry
from . import variations
from .canvas import Codec, PurePythonCodec
from .placing import Outcome, Placer, layer_name, same_shape
from .upload import Options


def _go_on() -> None:
    """A `check` that never stops."""


def _unreported(event) -> None:
    """Progress nobody shows: decoding a few results from the disk takes moments."""


class NothingToInsert(RecraftError):
    """None of an entry's results can be read or decoded here."""

    advice = "Export it with `recraft history export ID` and open the file in the editor."


# -- inserting again ------------------------------------------------------------------------------


def outcome(
    entry: Entry,
    canvas_size: tuple[int, int] | None,
    codec: Codec | None = None,
    check: Callable[[], None] | None = None,
    masks: bool = True,
) -> Outcome:
    """The entry's results read from the library, checked as Recraft's answers are, decoded
    and placed for a canvas of `canvas_size` (None: no image is open; insert the outcome's
    `as_document()`). Disk and decoding: call it off the UI thread, with a codec that may run
    there (`codec.thread_safe`; None: the core's own, PNG and SVG only). `check` raises to
    stop (a cancel). `masks`: whether the canvas inserts layer masks (NewLayer.mask); if not,
    an edge the job inserted as a mask is baked into the alpha. Results that cannot be used
    are left out and said in `notes`; NothingToInsert when none can."""
    codec = codec or PurePythonCodec()
    op = OPERATIONS.get(entry.operation)
    if op is None:
        raise NothingToInsert(f"{entry.operation!r} is not an operation this version knows")
    check = check or _go_on
    images, skipped = _read(entry)
    if not images:
        raise NothingToInsert(" ".join(skipped) or f"entry {entry.id} holds no results")
    sent = _sent(op, entry, canvas_size, images)
    said = []
    if entry.edge is not None and op.needs_selection:
        sent, said = _with_edge(entry, sent, canvas_size, masks)
    expansion = planning.Expansion.of(entry.params) if op.extends and sent is not None else None
    placer = Placer(op, entry.params, codec, sent, expansion, canvas_size)
    out = Outcome(credits=entry.credits)
    kept = []
    for image in images:
        check()
        try:
            one = placer.outcome(ImageResult([image]), check, _unreported)
        except ProtocolError as e:
            skipped.append(f"A result could not be decoded here ({e}).")
            continue
        kept.append(one)
    if not kept:
        raise NothingToInsert(" ".join(skipped))
    for one in kept:
        out.layers += one.layers
        out.vectors += one.vectors
        out.document = out.document or one.document
        out.notes += [n for n in one.notes if n not in out.notes]
        if one.grow is not None:  # the union of what each result needs the canvas to grow to
            out.grow = _union(out.grow, one.grow)
    out.notes += said + skipped
    _name(out, op, entry)
    return out


def said(outcome: Outcome, opened: bool = False) -> str:
    """What an editor says once it inserted an entry's results (`opened`: as a new image):
    "Inserted 3 variations of “Recraft inpaint: a hat” as a group (#1 showing).", or
    "Inserted “Recraft inpaint: a hat” as a new layer."."""
    items = outcome.layers or outcome.vectors
    if outcome.document is not None:
        return f"Opened “{outcome.document.name}” as a new image."
    many = outcome.group is not None and len(items) > 1
    if opened:
        what = f"{len(items)} variations of “{outcome.group}”" if many else f"“{items[0].name}”"
        return f"Opened {what} as a new image."
    if many:
        return f"Inserted {len(items)} variations of “{outcome.group}” as a group (#1 showing)."
    return f"Inserted “{items[0].name}” as a new layer."


@dataclass
class _Sent:
    """What placing needs of the upload a job made (upload.Upload), rebuilt from the record:
    the plan (which canvas region went up, at what size), and for a mask operation whose
    record kept it, the compositing alpha over `alpha_box` of the upload and whether it went
    in as a mask. Never a cut-out of the source: the editor may no longer have it."""

    plan: planning.FitPlan
    notes: list = field(default_factory=list)
    alpha: bytes | None = None
    alpha_box: tuple[int, int, int, int] | None = None
    options: Options = field(default_factory=Options)

    def full_alpha(self) -> bytes:
        """The alpha over the whole upload, as Upload.full_alpha gives it."""
        x0, y0, x1, y1 = self.alpha_box
        size = (self.plan.width, self.plan.height)
        return masks.embed(self.alpha, x1 - x0, y1 - y0, *size, (x0, y0))


def _sent(op: Operation, entry: Entry, canvas_size, images: list[Image]) -> _Sent | None:
    """The region the job sent, when the canvas is the one it was sent from (same size);
    None: place the results as new pictures (centred)."""
    place = entry.placement if isinstance(entry.placement, dict) else {}
    recorded = _ints(place.get("canvas"), 2)
    if canvas_size is None or recorded is None or tuple(recorded) != tuple(canvas_size):
        return None
    if not (op.reads_layer or op.extends):
        return None  # a new picture (generate, explore): centred, as the job placed it
    try:
        info = imageinfo.read(images[0].data)
    except imageinfo.UnknownImage:
        return None
    box = _ints(place.get("box"), 4)
    size = _ints(place.get("sent"), 2) or _sent_size(op, entry.params, info)
    if box is None:
        w, h = canvas_size
        shape = size or (info.width, info.height)
        if not same_shape(shape, (w, h)):
            return None  # a region of the canvas, but which one the record does not say
        box = (0, 0, w, h)
    x0, y0, x1, y1 = box
    if not (x1 > x0 and y1 > y0):
        return None
    if size is None:
        if op.extends:
            return None  # the result's origin inside it needs the size sent
        size = (x1 - x0, y1 - y0)
    return _Sent(planning.FitPlan(tuple(box), *size))


def _with_edge(
    entry: Entry, sent: _Sent | None, canvas_size, can_mask: bool
) -> tuple[_Sent | None, list[str]]:
    """`sent` with the edge the record kept, for the Placer to blend as the job's did; on a
    canvas of another size (or none), a plan for the sent region centred on it instead, so
    that the patch comes with its edge rather than as a whole opaque frame. What was done,
    in words. `sent` unchanged when the record's edge cannot be used."""
    place, edge = entry.placement, entry.edge
    box, size, edge_box = (
        _ints(place.get("box"), 4),
        _ints(place.get("sent"), 2),
        _ints(edge.get("box"), 4),
    )
    if box is None or size is None or edge_box is None:
        return sent, []
    ex0, ey0, ex1, ey1 = edge_box
    if not (0 <= ex0 < ex1 <= size[0] and 0 <= ey0 < ey1 <= size[1]):
        return sent, []
    try:
        w, h, mode, alpha = png.decode(entry.edge_path.read_bytes())
    except (OSError, png.PNGError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else e
        return sent, [f"The result's soft edge could not be read ({why}): it comes back whole."]
    if (w, h, mode) != (ex1 - ex0, ey1 - ey0, "L"):
        return sent, ["The result's soft edge in the library is damaged: it comes back whole."]
    notes = []
    as_mask = bool(edge.get("mask")) and can_mask
    if edge.get("mask") and not can_mask:
        notes.append("Its soft edge is baked into the layer: this editor adds no masks here.")
    if sent is None:
        bw, bh = box[2] - box[0], box[3] - box[1]
        if canvas_size is None:  # a new image of the sent region's size
            placed = (0, 0, bw, bh)
        else:
            cw, ch = canvas_size
            k = min(1.0, max(cw / bw, ch / bh))
            pw, ph = max(1, round(bw * k)), max(1, round(bh * k))
            x, y = (cw - pw) // 2, (ch - ph) // 2
            placed = (x, y, x + pw, y + ph)
            rw, rh = _ints(place.get("canvas"), 2) or (bw, bh)
            notes.append(
                f"It was made on a {rw}x{rh} px image: centred here, with its soft edge"
                + (f", scaled to {pw}x{ph} px." if (pw, ph) != (bw, bh) else ".")
            )
        sent = _Sent(planning.FitPlan(placed, *size))
    return replace(
        sent, alpha=alpha, alpha_box=edge_box, options=Options(edge_masks=as_mask)
    ), notes


def _sent_size(op: Operation, params: dict, info) -> tuple[int, int] | None:
    """The size an outpaint sent, from its result and its expansions (sent in upload
    pixels): the result is the sent image plus them. None where it cannot be told."""
    if not op.extends:
        return None
    grow = planning.Expansion.of(params)
    if not grow.expands or grow.zoom:
        return None
    w = info.width - (grow.left or 0) - (grow.right or 0)
    h = info.height - (grow.top or 0) - (grow.bottom or 0)
    return (w, h) if w > 0 and h > 0 else None


def _read(entry: Entry) -> tuple[list[Image], list[str]]:
    """The entry's result files, whole and checked as the client checks Recraft's answers;
    what was left out, in words."""
    images, skipped = [], []
    for i, (result, path) in enumerate(zip(entry.results, entry.result_paths, strict=True)):
        which = f"Result {i + 1}" if len(entry.results) > 1 else "The result"
        if result.format not in imageinfo.MIME:
            skipped.append(f"{which} is not a picture the editor can take ({result.file}).")
            continue
        try:
            data = path.read_bytes()
        except OSError as e:
            skipped.append(f"{which} cannot be read from the library ({e.strerror or e}).")
            continue
        if len(data) != result.bytes:
            skipped.append(f"{which} is damaged in the library ({len(data)} of {result.bytes} B).")
            continue
        try:
            info = check_image(data)
        except ProtocolError as e:
            skipped.append(f"{which} cannot be used: {e}.")
            continue
        images.append(Image(data, info.mime, result.image_id))
    return images, skipped


def _name(out: Outcome, op: Operation, entry: Entry) -> None:
    """Names as the job gave them: one layer "Recraft inpaint: a hat", several as variations
    ("#2 of 3") in a group of that name, which the canvas inserts as it does a job's (#1 on
    top, the only one showing) and Next/Previous/Keep variation then take for theirs. Each
    result was placed on its own (the Placer saw one image at a time), so the numbering is
    done here, over the results that could be read."""
    name = layer_name(op, entry.params)
    items = out.layers or out.vectors
    if len(items) > 1:
        out.group = name
        count = len(items)
        named = [
            replace(item, name=variations.label(name, i, count)) for i, item in enumerate(items)
        ]
    else:
        named = [replace(item, name=name) for item in items]
    if out.layers:
        out.layers = named
    else:
        out.vectors = named


def _union(a, b):
    if a is None:
        return b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _ints(value, n: int) -> tuple[int, ...] | None:
    ok = isinstance(value, (list, tuple)) and len(value) == n
    if not ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    return tuple(value)


# -- "Use these settings" -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reuse:
    """An entry's job as a form takes it: the operation to choose, a value for each of its
    fields (for the recorded model; None where the job left a field to the API), and the
    parameters that were dropped because the form has no place for them now."""

    operation: str
    values: dict
    dropped: tuple[str, ...] = ()


def editor_operation(name: str) -> Operation | None:
    """The operation an editor offers for an entry's: itself, or the offered one it is a
    variant of (the CLI's raster-only and vector-only generate: paths below Generate's);
    None when no editor offers it."""
    op = OPERATIONS.get(name)
    if op is None:
        return None
    if op.offer is not None:
        return op
    parents = [o for o in offered() if op.path.startswith(o.path + "/")]
    return max(parents, key=lambda o: len(o.path)) if parents else None


def form_values(entry: Entry) -> Reuse | None:
    """The entry's operation and parameters as form values (forms.fields_for), or None when
    no editor offers its operation. Values the form would refuse now (a model, a style or a
    size it no longer offers, a number out of range) are dropped, as are parameters the form
    does not show; outpaint's expansions, sent in upload pixels, come back in canvas pixels
    when the record says how the upload was scaled."""
    op = editor_operation(entry.operation)
    if op is None:
        return None
    params = dict(entry.params)
    dropped = []
    model = params.pop("model", None) or entry.model
    if model is not None and model not in op.models:
        dropped.append("model")
        model = None
    if op.extends:
        params = _canvas_expansion(params, entry.placement)
    flat = {}
    for name, value in params.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{part}": item for part, item in value.items()})
        else:
            flat[name] = value
    hidden = {f.name for f in op.fields if f.hidden}
    values: dict = {}
    for f in forms.fields_for(op, model):
        if f.name == "model":
            values["model"] = model or f.default
            continue
        if f.name in flat and _fits(f, flat[f.name]):
            values[f.name] = flat.pop(f.name)
        else:
            values[f.name] = f.default
    dropped += [name for name in flat if name.partition(".")[0] not in hidden]
    return Reuse(op.name, values, tuple(dropped))


def _fits(f: forms.FormField, value) -> bool:
    """Whether the form's widget can hold `value` as it stands."""
    if value is None:
        return True
    if f.type == "choice":
        return value in f.choices
    if f.type == "bool":
        return isinstance(value, bool)
    if f.type in ("int", "float"):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or (f.type == "int" and not isinstance(value, int)):
            return False
        highest = f.highest
        return (f.low is None or value >= f.low) and (highest is None or value <= highest)
    return True


def _canvas_expansion(params: dict, placement) -> dict:
    """Expansions as the form takes them (canvas pixels) from the record's (upload pixels)."""
    place = placement if isinstance(placement, dict) else {}
    box, sent = _ints(place.get("box"), 4), _ints(place.get("sent"), 2)
    if box is None or sent is None:
        return params  # sent unscaled, as small images are, or the record does not say
    kx = (box[2] - box[0]) / sent[0]
    ky = (box[3] - box[1]) / sent[1]
    out = dict(params)
    for side, k in zip(planning.SIDES, (kx, kx, ky, ky), strict=True):
        key = f"expand_{side}"
        if isinstance(out.get(key), int):
            out[key] = round(out[key] * k)
    return out
