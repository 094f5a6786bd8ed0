"""The editor workflow end to end: a Canvas in memory, Jobs, the local server over real HTTP.

Assertions are on what the server received (sizes, mask values, fields) and on the layers the
canvas ends up with (pixels composited as an editor would, offsets, names).
"""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
import requests
from PIL import Image, ImageDraw

from recraft_core import AuthenticationError, Client, RetryPolicy, ServerError, ValidationError
from recraft_core.imaging import masks
from recraft_core.imaging.png import Raster, swap_red_blue
from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer, Options

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=RetryPolicy(0)) as c:
        yield c


def photo(width: int, height: int, seed: int = 1, grain: int = 16) -> np.ndarray:
    """An opaque RGBA image with gradients and grain: every pixel differs from its neighbours."""
    rng = np.random.default_rng(seed)
    x = np.arange(width, dtype=np.uint32)[None, :]
    y = np.arange(height, dtype=np.uint32)[:, None]
    out = np.empty((height, width, 4), np.uint8)
    out[..., 0] = (x * 255) // max(1, width - 1)
    out[..., 1] = (y * 255) // max(1, height - 1)
    out[..., 2] = (x + y) % 256
    out[..., 3] = 255
    if grain:
        out[..., :3] += rng.integers(0, grain + 1, (height, width, 3), dtype=np.uint8)
    return out


def raster(array: np.ndarray) -> Raster:
    return Raster(array.shape[1], array.shape[0], "RGBA", array.tobytes())


def as_array(image: Raster) -> np.ndarray:
    return np.frombuffer(image.pixels, np.uint8).reshape(image.height, image.width, 4)


def ellipse(width, height, cx, cy, rx, ry, feather=0.0) -> np.ndarray:
    """Selection strengths 0..255: an ellipse, soft over `feather` px at its edge."""
    y, x = np.mgrid[0:height, 0:width]
    r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    inside = (1 - r) * min(rx, ry)  # about the distance to the edge, in px
    if feather:
        return (np.clip(inside / feather + 0.5, 0, 1) * 255).round().astype(np.uint8)
    return np.where(r <= 1, 255, 0).astype(np.uint8)


def flatten(canvas: MemoryCanvas, region=None) -> np.ndarray:
    """The canvas (or the `region` box of it) as an editor shows it: every visible layer,
    through its mask, composited over the ones below."""
    rx0, ry0, rx1, ry1 = region or (0, 0, canvas.width, canvas.height)
    out = np.zeros((ry1 - ry0, rx1 - rx0, 4), np.float64)
    for layer in canvas.layers:
        if not layer.visible:
            continue
        x0, y0 = max(rx0, layer.x), max(ry0, layer.y)
        x1 = min(rx1, layer.x + layer.image.width)
        y1 = min(ry1, layer.y + layer.image.height)
        if x0 >= x1 or y0 >= y1:
            continue
        src = as_array(layer.image)[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x]
        src = src.astype(np.float64) / 255
        if layer.mask is not None:
            mask = np.frombuffer(layer.mask, np.uint8).reshape(layer.image.height, -1)
            src[..., 3] *= mask[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x] / 255
        dst = out[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0]
        a = src[..., 3:4]
        alpha = a + dst[..., 3:4] * (1 - a)
        color = np.where(
            alpha > 0, (src[..., :3] * a + dst[..., :3] * dst[..., 3:4] * (1 - a)) / alpha, 0
        )
        out[y0 - ry0 : y1 - ry0, x0 - rx0 : x1 - rx0] = np.concatenate([color, alpha], axis=2)
    return np.round(out * 255).astype(np.uint8)


def placed(layer: MemoryLayer, width: int, height: int) -> np.ndarray:
    """The layer's RGBA where it lies on a width x height canvas, transparent elsewhere."""
    out = np.zeros((height, width, 4), np.uint8)
    image = as_array(layer.image)
    out[layer.y : layer.y + image.shape[0], layer.x : layer.x + image.shape[1]] = image
    return out


def received_png(record, name) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(record.files[name][0].data)))


def run(job: Job):
    """prepare and apply on this (the "UI") thread, run on a worker, as an editor does."""
    job.prepare()
    job.start().join(60)
    assert job.done
    return job.apply()


# -- mask operations ----------------------------------------------------------------------------


def test_inpaint_feathered_selection_on_offset_layer_of_a_canvas_over_16_mp(client, recraft_server):
    width, height = 5000, 4000  # 20 MP: only the area around the selection can go
    layer = MemoryLayer("paint", raster(photo(4600, 3700)), x=300, y=200)
    selection = ellipse(width, height, 2500, 2000, 300, 200, feather=24)
    canvas = MemoryCanvas(width, height, [layer], selection.tobytes())
    before = as_array(layer.image).copy()

    job = Job(client, "inpaint", canvas, {"prompt": "a red hat"}, options=Options(grow=16))
    outcome = run(job)

    assert job.error is None and job.state == "applied"
    sent = recraft_server.last("/images/inpaint")
    image, mask = received_png(sent, "image"), received_png(sent, "mask")
    # The crop: the selection (plus its grown edge) and 512 px of context on every side.
    ys, xs = np.nonzero(selection)
    box = (
        xs.min() - 16 - 512,
        ys.min() - 16 - 512,
        xs.max() + 1 + 16 + 512,
        ys.max() + 1 + 16 + 512,
    )
    assert image.shape[:2] == mask.shape == (box[3] - box[1], box[2] - box[0])
    assert set(np.unique(mask)) == {0, 255}  # pure black and white, though the selection is soft
    region = selection[box[1] : box[3], box[0] : box[2]]
    assert mask[region >= 8].min() == 255  # all that shows of the result was repainted
    assert mask[region == 0].mean() < 0.25 * 255  # and not much more
    assert any("Only the area around the selection" in n for n in outcome.notes)

    assert [layer.name for layer in canvas.layers] == ["paint", "Recraft inpaint: a red hat"]
    new = canvas.layers[1]
    # The new layer holds only what shows: the selection (soft, all of it shows), inside
    # the crop that went up.
    shown = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert (new.x, new.y, new.x + new.image.width, new.y + new.image.height) == shown
    assert canvas.edits == 1 and canvas.threads == {threading.current_thread().name}
    assert np.array_equal(as_array(layer.image), before)  # the source layer is untouched

    # Only the new layer's box can have changed; inside it, compare with the source.
    shown = flatten(canvas, box)
    source = before[box[1] - 200 : box[3] - 200, box[0] - 300 : box[2] - 300]
    outside = region == 0
    assert np.array_equal(shown[outside], source[outside])  # exactly the source's pixels
    inside = region == 255
    assert (shown[inside] != source[inside]).any(axis=1).mean() > 0.99  # the result shows
    # No hard step across the border: along the row through the centre, the new layer's
    # opacity climbs in small steps.
    opacity = placed(new, width, height)[2000, box[0] : box[2], 3].astype(int)
    assert opacity.max() == 255 and opacity.min() == 0
    assert np.abs(np.diff(opacity)).max() <= 32


def test_hard_selection_fades_out_over_the_feather(client, recraft_server):
    canvas = MemoryCanvas(
        800,
        600,
        [MemoryLayer("bg", raster(photo(800, 600)))],
        ellipse(800, 600, 400, 300, 120, 90).tobytes(),
    )
    outcome = run(Job(client, "erase_region", canvas, options=Options(grow=10, feather=8)))
    assert outcome is not None and canvas.layers[1].name == "Recraft erase region"
    mask = received_png(recraft_server.last("/images/eraseRegion"), "mask")
    assert mask.shape == (600, 800)  # a canvas within the limits goes whole
    alpha = placed(canvas.layers[1], 800, 600)[300, :, 3].astype(int)
    inside = int(np.nonzero(alpha == 255)[0].max())
    assert alpha[inside + 1 : inside + 9].tolist() == sorted(
        alpha[inside + 1 : inside + 9], reverse=True
    )
    assert 0 < alpha[inside + 1] < 255 and alpha[inside + 9] == 0  # 8 px of fade, then nothing

    hard = MemoryCanvas(
        800,
        600,
        [MemoryLayer("bg", raster(photo(800, 600)))],
        ellipse(800, 600, 400, 300, 120, 90).tobytes(),
    )
    run(Job(client, "erase_region", hard, options=Options(grow=10, feather=0)))
    assert set(np.unique(placed(hard.layers[1], 800, 600)[..., 3])) == {0, 255}


class SelectionReads(MemoryCanvas):
    """Counts the boxes the job reads the selection in."""

    def read_selection(self, box):
        self.selection_reads = [*getattr(self, "selection_reads", []), box]
        return super().read_selection(box)


def antialiased_ellipse(width, height, cx, cy, rx, ry) -> np.ndarray:
    """An ellipse as editors select one by default: its edge antialiased over about a pixel
    (drawn at 4 x 4 samples a pixel, then averaged)."""
    big = Image.new("L", (width * 4, height * 4))
    ImageDraw.Draw(big).ellipse((4 * (cx - rx), 4 * (cy - ry), 4 * (cx + rx), 4 * (cy + ry)), 255)
    return np.asarray(big.resize((width, height), Image.Resampling.BOX))


@pytest.mark.parametrize("edge", ["hard", "antialiased", "feathered"])
def test_masks_are_worked_out_only_as_far_as_they_reach(client, recraft_server, edge):
    """A small selection on a large canvas: the selection is read, and the masks worked out,
    only in its bounds grown by how far grow and feather reach; what goes up and what shows
    is what the whole canvas gives. An antialiased edge fades over Options.feather as a hard
    one does (it is no feather of the user's); a feathered one fades as it was drawn."""
    w, h = 1600, 1200
    soft = edge == "feathered"
    if edge == "antialiased":
        selection = antialiased_ellipse(w, h, 500, 400, 90, 60)
        assert len(np.unique(selection)) > 2  # grey at the edge: not a binary selection
    else:
        selection = ellipse(w, h, 500, 400, 90, 60, feather=10 if soft else 0)
    options = Options(grow=16, feather=12)
    canvas = SelectionReads(w, h, [MemoryLayer("bg", raster(photo(w, h)))], selection.tobytes())
    outcome = run(Job(client, "inpaint", canvas, {"prompt": "a hat"}, options=options))
    assert outcome is not None

    ys, xs = np.nonzero(selection)
    reach = 16
    assert canvas.selection_reads == [
        (xs.min() - reach, ys.min() - reach, xs.max() + 1 + reach, ys.max() + 1 + reach)
    ]
    whole = selection.tobytes()
    hard = masks.threshold(whole, 8 if soft else 128)
    expected_mask = np.frombuffer(masks.grow(hard, w, h, 16), np.uint8).reshape(h, w)
    mask = received_png(recraft_server.last("/images/inpaint"), "mask")
    assert np.array_equal(mask, expected_mask)
    alpha = np.frombuffer(whole if soft else masks.feather(hard, w, h, 12), np.uint8)
    alpha = alpha.reshape(h, w)
    new = canvas.layers[1]
    assert np.array_equal(placed(new, w, h)[..., 3], alpha)
    # The new layer is only as large as what shows of it.
    ys, xs = np.nonzero(alpha)
    shown = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert (new.x, new.y, new.x + new.image.width, new.y + new.image.height) == shown


def test_embed_places_a_mask_in_zeros():
    assert masks.embed(b"\xff\x01\x02\x03", 2, 2, 4, 3, (1, 1)) == bytes(
        [0, 0, 0, 0, 0, 255, 1, 0, 0, 2, 3, 0]
    )
    whole = b"\x05" * 6
    assert masks.embed(whole, 3, 2, 3, 2, (0, 0)) is whole
    with pytest.raises(ValueError, match="does not fit"):
        masks.embed(b"\0" * 4, 2, 2, 3, 3, (2, 0))
    with pytest.raises(ValueError, match="needs 4 bytes"):
        masks.embed(b"\0" * 3, 2, 2, 3, 3, (0, 0))


def test_mask_operation_without_a_selection_says_so_before_sending(client, recraft_server):
    canvas = MemoryCanvas(400, 400, [MemoryLayer("bg", raster(photo(400, 400)))])
    job = Job(client, "inpaint", canvas, {"prompt": "x"})
    with pytest.raises(ValidationError) as info:
        job.prepare()
    assert job.error is info.value and job.error.field == "selection"
    assert "select an area first" in job.error.user_message
    assert recraft_server.requests == [] and len(canvas.layers) == 1
    empty = MemoryCanvas(400, 400, [MemoryLayer("bg", raster(photo(400, 400)))], bytes(400 * 400))
    with pytest.raises(ValidationError, match="selection"):
        Job(client, "erase_region", empty).prepare()


# -- whole-layer operations ---------------------------------------------------------------------


def test_remove_background_of_an_offset_layer(client, recraft_server):
    art = np.zeros((300, 400, 4), np.uint8)
    art[..., :3], art[..., 3] = (250, 250, 250), 255  # a light background
    art[100:200, 150:250, :3] = (200, 0, 0)  # a red square
    canvas = MemoryCanvas(1000, 800, [MemoryLayer("art", raster(art), x=120, y=60)])
    outcome = run(Job(client, "remove_background", canvas))
    assert outcome.notes == []
    sent = received_png(recraft_server.last("/images/removeBackground"), "image")
    # Just the layer. Flat art keeps its opaque alpha (it deflates to nothing, and dropping
    # it would cost a pass over every pixel); a photo goes without it, a quarter less.
    assert sent.shape == (300, 400, 4) and (sent[..., 3] == 255).all()
    assert (sent[..., :3] == art[..., :3]).all()
    new = canvas.layers[1]
    assert (new.name, new.x, new.y) == ("Recraft remove background", 120, 60)
    alpha = as_array(new.image)[..., 3]
    assert alpha[150, 200] == 255 and alpha[10, 10] == 0


def test_an_opaque_photo_goes_up_without_its_alpha(client, recraft_server):
    picture = photo(400, 300)
    canvas = MemoryCanvas(400, 300, [MemoryLayer("photo", raster(picture))])
    run(Job(client, "remove_background", canvas))
    sent = received_png(recraft_server.last("/images/removeBackground"), "image")
    assert sent.shape == (300, 400, 3) and (sent == picture[..., :3]).all()


def test_an_applied_job_lets_go_of_its_source_and_answer_and_still_inserts_again(
    client, recraft_server
):
    """An editor keeps applied jobs for their results; not what only running needed."""
    import gc
    import weakref

    canvas = MemoryCanvas(600, 300, [MemoryLayer("wide", raster(photo(600, 300)))])
    job = Job(client, "remove_background", canvas)
    job.prepare()
    source = weakref.ref(job._upload)
    job.start().join(60)
    answer = weakref.ref(job._result)
    notes = job.notes
    job.apply()
    gc.collect()
    assert source() is None and answer() is None, "an applied job still holds them"
    assert job.notes == notes and job.outcome.layers
    job.insert(0)
    assert len(canvas.layers) == 3 and canvas.layers[2].image == canvas.layers[1].image


def test_a_layer_over_the_limits_is_scaled_down_and_back(client, recraft_server):
    canvas = MemoryCanvas(6000, 3000, [MemoryLayer("big", raster(photo(6000, 3000, grain=0)))])
    outcome = run(Job(client, "remove_background", canvas))
    sent = received_png(recraft_server.last("/images/removeBackground"), "image")
    assert sent.shape[:2] == (2048, 4096)
    assert any("scaled down to 4096x2048" in n for n in outcome.notes)
    new = canvas.layers[1]
    assert (new.x, new.y, new.image.width, new.image.height) == (0, 0, 6000, 3000)


def test_a_layer_that_encodes_over_10_mb_is_sent_smaller(client, recraft_server):
    canvas = MemoryCanvas(4000, 2000, [MemoryLayer("grain", raster(photo(4000, 2000, grain=255)))])
    outcome = run(Job(client, "remove_background", canvas))
    record = recraft_server.last("/images/removeBackground")
    assert len(record.files["image"][0].data) < 10 * 2**20
    height, width = received_png(record, "image").shape[:2]
    assert width < 4000 and abs(width / height - 2) < 0.01
    assert any("over Recraft's 10 MB limit" in n for n in outcome.notes)
    new = canvas.layers[1]
    assert (new.x, new.y, new.image.width, new.image.height) == (0, 0, 4000, 2000)


def test_crisp_upscale_opens_a_new_document(client, recraft_server):
    canvas = MemoryCanvas(300, 200, [MemoryLayer("small", raster(photo(300, 200)))])
    run(Job(client, "crisp_upscale", canvas))
    assert len(canvas.layers) == 1 and canvas.edits == 0
    (doc,) = canvas.documents
    assert (doc.image.width, doc.image.height) == (600, 400) and doc.name == "Recraft crisp upscale"
    assert np.array_equal(as_array(doc.image)[::2, ::2], photo(300, 200))


def test_outpaint_places_the_result_around_the_layer(client, recraft_server):
    source = photo(400, 300)
    canvas = MemoryCanvas(400, 300, [MemoryLayer("bg", raster(source))])
    params = {"prompt": "more sky", "expand_left": 100, "expand_top": 50}
    outcome = run(Job(client, "outpaint", canvas, params))
    # The image grows to hold the result, in the same step: the layer keeps its place on it.
    assert (canvas.width, canvas.height, canvas.edits) == (500, 350, 1)
    bg, new = canvas.layers
    assert (bg.x, bg.y) == (100, 50)
    assert (new.x, new.y, new.image.width, new.image.height) == (0, 0, 500, 350)
    assert np.array_equal(as_array(new.image)[50:, 100:], source)
    assert "The image grew to 500x350 px to hold the result." in outcome.notes


def test_vectorize_gives_svg_at_canvas_size(client, recraft_server):
    canvas = MemoryCanvas(900, 700, [MemoryLayer("logo", raster(photo(512, 256)), x=100, y=50)])
    run(Job(client, "vectorize", canvas))
    (vector,) = canvas.vectors
    root = ET.fromstring(vector.svg)
    assert (root.get("width"), root.get("height")) == ("900", "700")
    assert vector.name == "Recraft vectorize"
    assert canvas.edits == 1 and canvas.layers[1:] == []
    group = root.find(f"{SVG_NS}g")
    assert group is not None and "100" in group.get("transform") and "50" in group.get("transform")
    assert len(group.findall(f".//{SVG_NS}rect")) > 10


def test_a_hostile_svg_result_arrives_cleaned(client, recraft_server):
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/passwd">'
        b'<!ENTITY lol "lollollollollol">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        b'width="512" height="256" onload="alert(1)"><script>alert(2)</script>'
        b'<image xlink:href="http://evil.example/x.png" width="10" height="10"/>'
        b'<rect width="512" height="256" fill="url(http://evil.example/g#a)" onclick="x()"/>'
        b"<text>&secret;&lol;</text>"
        b'<circle cx="5" cy="5" r="4" fill="#123456"/></svg>'
    )
    recraft_server.fault("body", path="/files/", body=hostile, content_type="image/svg+xml")
    canvas = MemoryCanvas(512, 256, [MemoryLayer("logo", raster(photo(512, 256)))])
    job = Job(client, "vectorize", canvas)
    run(job)
    assert job.error is None, job.error
    (vector,) = canvas.vectors
    text = vector.svg
    for bad in ("script", "alert", "onload", "onclick", "evil.example", "passwd", "ENTITY", "lol"):
        assert bad not in text
    assert 'fill="#123456"' in text  # the drawing itself survives


def test_a_result_that_is_not_what_it_claims_fails_cleanly(client, recraft_server):
    recraft_server.fault(
        "body", path="/files/", body=b"<html>oops</html>", content_type="image/png"
    )
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)
    assert run(job) is None
    assert job.state == "failed" and "not an image" in str(job.error)
    assert len(canvas.layers) == 1


# -- new images -------------------------------------------------------------------------------


def test_generate_two_as_a_group(client, recraft_server):
    canvas = MemoryCanvas(2000, 1500, [MemoryLayer("bg", raster(photo(20, 15)))])
    params = {"prompt": "a lighthouse at dusk, oil on canvas", "n": 2, "random_seed": 7}
    job = Job(client, "generate", canvas, params)
    assert job.cost == 80
    outcome = run(job)
    assert outcome.group == "Recraft generate: a lighthouse at dusk, oil on canvas [7]"
    names = [layer.name for layer in canvas.layers[1:]]
    assert names == [f"{outcome.group} #2 of 2", f"{outcome.group} #1 of 2"], "#1 is not on top"
    assert [layer.visible for layer in canvas.layers[1:]] == [False, True], "not one at a time"
    assert {layer.group for layer in canvas.layers[1:]} == {outcome.group}
    assert canvas.edits == 1 and outcome.credits == 80
    first = canvas.layers[2]
    assert (first.x, first.y, first.image.width) == (488, 238, 1024)  # centred, native size


def test_long_prompts_are_shortened_in_layer_names(client, recraft_server):
    canvas = MemoryCanvas(256, 256, [MemoryLayer("bg", raster(photo(8, 8)))])
    run(Job(client, "generate", canvas, {"prompt": "a " * 60 + "fox"}))
    name = canvas.layers[1].name
    assert name.startswith("Recraft generate: a a") and name.endswith("…") and len(name) < 70


def test_prompt_style_and_account_results(client, recraft_server):
    job = Job(client, "enhance_prompt", None, {"prompt": "fox"})
    outcome = run(job)
    assert outcome.prompt and outcome.prompt != "fox"
    user = run(Job(client, "user", None)).user
    assert user.credits == recraft_server.credits
    refs = [raster(photo(300, 300, seed)) for seed in (1, 2)]
    style = run(Job(client, "create_style", None, {"style": "any"}, references=refs)).style
    assert style.id in recraft_server.style_ids
    assert len(recraft_server.last("/styles").files["images"]) == 2


def test_more_references_than_a_style_takes_are_refused_before_anything_is_sent(
    client, recraft_server
):
    sent = len(recraft_server.requests)
    refs = [raster(photo(40, 40, seed)) for seed in range(6)]
    job = Job(client, "create_style", None, {"style": "any"}, references=refs)
    with pytest.raises(ValidationError) as refused:
        job.prepare()
    assert refused.value.field == "images"
    assert "6 layers are chosen" in str(refused.value) and "at most 5" in str(refused.value)
    assert len(recraft_server.requests) == sent
    five = Job(client, "create_style", None, {"style": "any"}, references=refs[:5])
    assert run(five).style is not None


# -- cancel and failures ---------------------------------------------------------------------


class CancelWhileUploading(Job):
    """Presses Cancel as soon as the first chunk of the upload went out."""

    def _report(self, event):
        super()._report(event)
        if event.stage == "uploading" and event.done < event.total:
            self.seen = event
            self.cancel()


def test_cancel_during_upload_inserts_nothing(client, recraft_server):
    start = recraft_server.credits
    canvas = MemoryCanvas(2000, 2000, [MemoryLayer("bg", raster(photo(2000, 2000)))])
    job = CancelWhileUploading(client, "remove_background", canvas)
    assert run(job) is None
    assert job.state == "cancelled" and job.seen.done < job.seen.total
    assert job.error.user_message.startswith("Cancelled.")
    assert len(canvas.layers) == 1 and canvas.edits == 0
    assert recraft_server.credits == start


def test_cancel_after_the_run_applies_nothing(client, recraft_server):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)
    job.prepare()
    job.run()
    assert job.state == "finished"
    job.cancel()
    assert job.apply() is None and job.state == "cancelled" and len(canvas.layers) == 1


@pytest.mark.parametrize(
    "fault,error,words",
    [
        ({"kind": "status", "status": 500}, ServerError, "Recraft had a problem on its side"),
        (
            {"kind": "status", "status": 401},
            AuthenticationError,
            "Open Settings and paste a new one",
        ),
    ],
)
def test_server_errors_leave_the_canvas_untouched(client, recraft_server, fault, error, words):
    recraft_server.fault(**fault, path="/images/inpaint")
    canvas = MemoryCanvas(
        512,
        512,
        [MemoryLayer("bg", raster(photo(512, 512)))],
        ellipse(512, 512, 256, 256, 50, 50).tobytes(),
    )
    job = Job(client, "inpaint", canvas, {"prompt": "x"})
    assert run(job) is None
    assert isinstance(job.error, error) and words in job.error.user_message
    assert job.state == "failed" and len(canvas.layers) == 1 and canvas.edits == 0


def test_a_wrong_token_is_explained(recraft_server):
    with Client("wrong-token", base_url=recraft_server.base_url) as wrong:
        canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
        job = Job(wrong, "remove_background", canvas)
        assert run(job) is None
    assert (
        job.error.user_message
        == "Your Recraft token was refused. Open Settings and paste a new one."
    )


def test_bad_form_values_are_refused_at_prepare(client, recraft_server):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "image_to_image", canvas, {"prompt": "x", "strength": 2})
    with pytest.raises(ValidationError):
        job.prepare()
    assert job.error.field == "strength" and "Strength:" in job.error.user_message
    blank = MemoryCanvas(300, 300, [MemoryLayer("empty", Raster(300, 300, "RGBA", bytes(360000)))])
    with pytest.raises(ValidationError, match="empty"):
        Job(client, "remove_background", blank).prepare()
    assert recraft_server.requests == []


class Recorded(Job):
    """Keeps every progress event, as a progress bar polling often enough would see them."""

    def _report(self, event):
        super()._report(event)
        self.events = [*getattr(self, "events", []), event]


def test_progress_goes_through_the_stages(client, recraft_server):
    canvas = MemoryCanvas(600, 400, [MemoryLayer("bg", raster(photo(600, 400)))])
    canvas.selection = ellipse(600, 400, 300, 200, 100, 80).tobytes()
    job = Recorded(client, "inpaint", canvas, {"prompt": "a door", "n": 2})
    assert job.cost == 80
    run(job)
    stages = [e.stage for e in job.events]
    order = ["encoding", "uploading", "waiting", "downloading", "decoding", "placing", "done"]
    assert [s for s in order if s in stages] == order
    assert sorted(set(stages), key=stages.index) == order  # in that order, none missing
    uploads = [e for e in job.events if e.stage == "uploading"]
    assert uploads[-1].done == uploads[-1].total == recraft_server.last("/images/inpaint").body_size
    assert str(uploads[-1]) == "uploading 100%" and str(job.progress) == "done"


def test_a_small_canvas_is_scaled_up_and_the_result_back(client, recraft_server):
    canvas = MemoryCanvas(200, 150, [MemoryLayer("bg", raster(photo(200, 150)))])
    canvas.selection = ellipse(200, 150, 100, 75, 40, 30).tobytes()
    outcome = run(Job(client, "inpaint", canvas, {"prompt": "x"}, options=Options(grow=4)))
    sent = recraft_server.last("/images/inpaint")
    assert received_png(sent, "image").shape[:2] == received_png(sent, "mask").shape == (256, 342)
    assert any("scaled up to 342x256" in n for n in outcome.notes)
    new = canvas.layers[1]
    assert (new.x, new.y, new.image.width, new.image.height) == (0, 0, 200, 150)
    alpha = as_array(new.image)[..., 3]
    assert alpha[75, 100] == 255 and alpha[0, 0] == 0
    assert any("the result was scaled back" in n for n in outcome.notes)


def test_a_small_upscale_says_its_result_opens_as_recraft_made_it(client, recraft_server):
    """An upscale opens at Recraft's size, not scaled back to the small source: the note
    must not say otherwise (found by a new-user test on a 100 x 100 image)."""
    canvas = MemoryCanvas(100, 100, [MemoryLayer("bg", raster(photo(100, 100)))])
    outcome = run(Job(client, "creative_upscale", canvas, {}))
    assert outcome.document is not None and outcome.document.image.width > 256
    note = next(n for n in outcome.notes if "scaled up to 256x256" in n)
    assert "the result is as Recraft made it" in note and "scaled back" not in note


# -- what the review of the workflow found -------------------------------------------------------


class UIThreadCodec:
    """A codec that, like some editors' image APIs, may only run on the UI thread."""

    thread_safe = False

    def __init__(self):
        self.threads = []

    def encode_png(self, image, opaque=False):
        self.threads.append(threading.current_thread().name)
        return (image.without_alpha() if opaque else image).to_png()

    def decode(self, data):
        self.threads.append(threading.current_thread().name)
        return Raster(*Image.open(io.BytesIO(data)).convert("RGBA").size, "RGBA",
                      Image.open(io.BytesIO(data)).convert("RGBA").tobytes())  # fmt: skip


def test_a_codec_bound_to_the_ui_thread_never_runs_on_the_worker(client, recraft_server):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    canvas.codec = UIThreadCodec()
    run(Job(client, "remove_background", canvas))
    assert canvas.codec.threads == [threading.current_thread().name] * 2
    assert len(canvas.layers) == 2


def test_a_ui_thread_codec_with_nothing_to_encode(client, recraft_server):
    canvas = MemoryCanvas(1024, 1024, [MemoryLayer("bg", raster(photo(16, 16)))])
    canvas.codec = UIThreadCodec()
    run(Job(client, "generate", canvas, {"prompt": "fox"}))
    assert canvas.codec.threads == [threading.current_thread().name]  # the decode only
    assert len(canvas.layers) == 2


def test_a_job_with_no_canvas_decodes_with_the_codec_it_is_given(client, recraft_server):
    """Results with no image to go into (a new document) decode with the editor's codec, as
    those with an image do (Krita's: Qt's decoder, in C++)."""
    codec = UIThreadCodec()
    codec.thread_safe = True
    outcome = run(Job(client, "generate", None, {"prompt": "fox"}, codec=codec))
    assert [(n.image.width, n.image.height) for n in outcome.layers] == [(1024, 1024)]
    assert len(codec.threads) == 1  # the one result, decoded by the codec given


def bgra(image: Raster) -> Raster:
    return Raster(image.width, image.height, "BGRA", swap_red_blue(image.pixels))


class BGRACanvas(MemoryCanvas):
    """An editor whose pixels are BGRA in memory (Krita, QImage's ARGB32): it reads and
    decodes BGRA, and the core must neither mix up red and blue nor swap on its own."""

    class codec:
        thread_safe = True

        @staticmethod
        def encode_png(image, opaque=False):
            assert image.mode == "BGRA", image.mode
            return (image.without_alpha() if opaque else image).to_png()

        @staticmethod
        def decode(data):
            rgba = Image.open(io.BytesIO(data)).convert("RGBA")
            return bgra(Raster(*rgba.size, "RGBA", rgba.tobytes()))

    def read(self, box, size=None):
        return bgra(super().read(box, size))

    def insert_layers(self, layers, group):
        for layer in layers:
            assert layer.image.mode == "BGRA", layer.image.mode
        rgba = [replace(layer, image=layer.image.to_rgba()) for layer in layers]
        super().insert_layers(rgba, group)


@pytest.mark.parametrize("opaque", [True, False], ids=["opaque", "transparent"])
def test_an_editor_working_in_bgra_gets_the_same_result(client, recraft_server, opaque):
    source = photo(320, 240)
    if not opaque:
        source[:40, :, 3] = 0
    selection = ellipse(320, 240, 160, 120, 90, 60, feather=6).tobytes()
    results = []
    for kind in (MemoryCanvas, BGRACanvas):
        canvas = kind(320, 240, [MemoryLayer("bg", raster(source))], selection)
        run(Job(client, "inpaint", canvas, {"prompt": "a red hat"}))
        sent = recraft_server.last("/images/inpaint")
        results.append((received_png(sent, "image"), as_array(canvas.layers[1].image)))
    (plain_sent, plain_layer), (bgra_sent, bgra_layer) = results
    assert np.array_equal(bgra_sent, plain_sent)  # red stays red on the way out
    assert np.array_equal(bgra_layer, plain_layer)  # and on the way back
    assert plain_sent.shape[2] == (3 if opaque else 4)


def test_apply_before_the_job_ended_does_nothing(client, recraft_server):
    recraft_server.fault("delay", seconds=1, path="/images/removeBackground")
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)
    job.prepare()
    job.start()
    assert job.apply() is None and job.state == "running" and not job.done
    job.start()  # a second start must not send the request twice
    job.wait(30)
    assert job.apply() is not None and len(canvas.layers) == 2
    assert len([r for r in recraft_server.requests if r.path.endswith("removeBackground")]) == 1


class BrokenEditor(MemoryCanvas):
    def insert_layers(self, layers, group):
        raise RuntimeError("the document was closed")


def test_an_editor_failing_to_insert_is_a_message_not_a_traceback(client, recraft_server):
    canvas = BrokenEditor(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)
    assert run(job) is None
    assert job.state == "failed" and "could not insert the result" in job.error.user_message
    assert "the document was closed" in job.error.user_message


def test_outpaint_from_a_form_with_zero_zoom(client, recraft_server):
    source = photo(400, 300)
    canvas = MemoryCanvas(400, 300, [MemoryLayer("bg", raster(source))])
    params = {"prompt": "sky", "expand_left": 100, "expand_top": 50, "zoom_out_percentage": 0}
    run(Job(client, "outpaint", canvas, params))
    assert "zoom_out_percentage" not in recraft_server.last("/images/outpaint").fields
    new = canvas.layers[1]
    assert (new.x, new.y) == (0, 0) and (canvas.layers[0].x, canvas.layers[0].y) == (100, 50)
    assert np.array_equal(as_array(new.image)[50:, 100:], source)


def test_outpaint_with_zoom_keeps_the_canvas_content_in_place(client, recraft_server):
    canvas = MemoryCanvas(400, 300, [MemoryLayer("bg", raster(photo(400, 300, grain=0)))])
    run(Job(client, "outpaint", canvas, {"prompt": "sky", "zoom_out_percentage": 50}))
    new = canvas.layers[1]
    # The result is 400x300 with the source shrunk to 200x150 in its middle: scaled back up,
    # the layer is twice the canvas and centred on it; the canvas grew around it.
    assert (new.x, new.y, new.image.width, new.image.height) == (0, 0, 800, 600)
    assert (canvas.width, canvas.height) == (800, 600)
    assert (canvas.layers[0].x, canvas.layers[0].y) == (200, 150)


def test_outpaint_on_a_scaled_layer_scales_each_expansion_on_its_axis(client, recraft_server):
    canvas = MemoryCanvas(6000, 1500, [MemoryLayer("wide", raster(photo(6000, 1500, grain=0)))])
    params = {"prompt": "sky", "expand_right": 600, "expand_bottom": 300}
    job = Job(client, "outpaint", canvas, params)
    run(job)
    assert job.error is None, job.error
    sent = recraft_server.last("/images/outpaint")
    height, width = received_png(sent, "image").shape[:2]
    # Sent small enough that the expanded result fits 4096 px: 6600 px wide on the canvas.
    assert width == 4096 * 6000 // 6600 and height == width // 4
    right, bottom = int(sent.fields["expand_right"]), int(sent.fields["expand_bottom"])
    assert width + right <= 4096 and right == round(600 * width / 6000)
    assert bottom == round(300 * height / 1500)
    new = canvas.layers[1]
    assert (new.x, new.y) == (0, 0)
    assert abs(new.image.width - 6600) <= 2 and abs(new.image.height - 1800) <= 2
    assert (canvas.width, canvas.height) == (new.image.width, new.image.height)


def test_a_vector_model_cannot_fill_a_selection(client, recraft_server):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    canvas.selection = ellipse(300, 300, 150, 150, 50, 50).tobytes()
    job = Job(client, "inpaint", canvas, {"prompt": "x", "model": "recraftv3_vector"})
    with pytest.raises(ValidationError, match="raster model"):
        job.prepare()
    assert recraft_server.requests == []


class CancelWhileDownloading(Job):
    def _report(self, event):
        super()._report(event)
        if event.stage == "downloading":
            self.cancel()


def test_a_cancel_after_recraft_answered_says_it_was_charged(client, recraft_server):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = CancelWhileDownloading(client, "remove_background", canvas)
    assert run(job) is None and job.state == "cancelled"
    assert "charged" in job.error.user_message and len(canvas.layers) == 1


def test_results_can_be_inserted_one_by_one_later(client, recraft_server):
    canvas = MemoryCanvas(1024, 1024, [MemoryLayer("bg", raster(photo(16, 16)))])
    job = Job(client, "explore", canvas, {"prompt": "owls"})
    job.prepare()
    job.run()
    outcome = job.apply(select=[1])
    assert [layer.group for layer in canvas.layers[1:]] == [None]  # one result: no group
    assert len(outcome.layers) == 4 and all(layer.image_id for layer in outcome.layers)
    assert canvas.layers[1].name == outcome.layers[1].name
    job.insert(3)  # straight above the source, like every insertion
    assert canvas.layers[1].name == outcome.layers[3].name and canvas.edits == 2


def test_results_land_above_the_layer_they_were_made_from(client, recraft_server):
    photo_layer = MemoryLayer("photo", raster(photo(300, 300)))
    canvas = MemoryCanvas(300, 300, [photo_layer, MemoryLayer("sketch", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)
    job.prepare()
    job.run()
    canvas.layers.insert(0, MemoryLayer("added meanwhile", raster(photo(8, 8))))
    job.apply()
    assert [layer.name for layer in canvas.layers] == [
        "added meanwhile", "photo", "Recraft remove background", "sketch"
    ]  # fmt: skip


def test_editor_helpers_read_the_saved_settings(private_settings):
    from recraft_core import settings
    from recraft_core.workflow import editor_client

    assert Options.saved() == Options()
    with pytest.raises(ValidationError, match="open Tools › Recraft › Settings"):
        editor_client("Tools › Recraft › Settings")
    settings.save(settings.Settings("tok", "http://127.0.0.1:9/v1", grow=4, feather=0))
    assert Options.saved() == Options(grow=4, feather=0)
    assert editor_client("x").base_url == "http://127.0.0.1:9/v1"
    # Soft edges come as masks where the editor can insert them, unless Settings bake them.
    assert Options.saved(masks=True) == Options(grow=4, feather=0, edge_masks=True)
    settings.save(settings.with_values({"bake_edges": True}))
    assert settings.load().bake_edges and Options.saved(masks=True).edge_masks is False


# -- where results of another shape go (issue 18) -----------------------------------------------


def test_generate_into_a_smaller_image_covers_it_and_says_so(client, recraft_server):
    canvas = MemoryCanvas(451, 300, [MemoryLayer("bg", raster(photo(451, 300)))])
    outcome = run(Job(client, "generate", canvas, {"prompt": "a fox", "size": "1:1"}))
    new = canvas.layers[1]
    # 1024 x 1024 scaled to cover 451 x 300 in its own proportions: 451 x 451, centred.
    assert (new.x, new.y, new.image.width, new.image.height) == (0, (300 - 451) // 2, 451, 451)
    assert any("1024x1024 px result was scaled to 451x451" in note for note in outcome.notes)


def test_remix_in_another_shape_keeps_its_proportions(client, recraft_server):
    canvas = MemoryCanvas(451, 300, [MemoryLayer("bg", raster(photo(451, 300)))])
    outcome = run(Job(client, "remix", canvas, {"size": "2:1", "model": "recraftv4_1"}))
    new = canvas.layers[1]
    w, h = new.image.width, new.image.height
    assert (w, h) == (1536, 768)  # as Recraft made it: not squashed into 451 x 300
    assert (new.x + w // 2, new.y + h // 2) == (451 // 2, 300 // 2)  # centred on the layer
    assert any("another shape than the layer" in note for note in outcome.notes)


def test_an_image_to_image_result_of_the_same_shape_covers_the_layer(client, recraft_server):
    canvas = MemoryCanvas(451, 300, [MemoryLayer("bg", raster(photo(451, 300)))])
    outcome = run(Job(client, "image_to_image", canvas, {"prompt": "ink", "strength": 0.5}))
    new = canvas.layers[1]
    assert (new.x, new.y, new.image.width, new.image.height) == (0, 0, 451, 300)
    assert not any("another shape" in note for note in outcome.notes)


# -- refused before anything is sent ----------------------------------------------------------


def test_a_selection_that_misses_the_layer_is_refused_before_upload(client, recraft_server):
    half = np.zeros((300, 400, 4), np.uint8)
    half[:, :150] = photo(150, 300)  # pixels on the left only
    canvas = MemoryCanvas(400, 300, [MemoryLayer("left half", raster(half))])
    canvas.selection = ellipse(400, 300, 330, 150, 40, 60).tobytes()  # on the right
    for operation in ("inpaint", "erase_region", "generate_background"):
        params = {"prompt": "a hat"} if operation != "erase_region" else {}
        job = Job(client, operation, canvas, params)
        with pytest.raises(ValidationError, match="covers no pixels of the layer"):
            job.prepare()
    assert recraft_server.requests == [] and len(canvas.layers) == 1
    # Over the layer's pixels it goes.
    canvas.selection = ellipse(400, 300, 100, 150, 40, 60).tobytes()
    assert run(Job(client, "inpaint", canvas, {"prompt": "a hat"})) is not None


def test_a_layer_off_the_canvas_says_so_for_every_operation_that_reads_it(client, recraft_server):
    away = MemoryLayer("away", raster(photo(100, 100)), x=500, y=0)
    canvas = MemoryCanvas(300, 300, [away])
    canvas.selection = ellipse(300, 300, 150, 150, 50, 50).tobytes()
    for operation, params in (("inpaint", {"prompt": "a hat"}), ("remove_background", {})):
        with pytest.raises(ValidationError, match="has no pixels inside the image: move it"):
            Job(client, operation, canvas, params).prepare()
    assert recraft_server.requests == []


def test_a_result_that_fails_to_decode_says_it_was_charged(client, recraft_server):
    """The answer came and was paid for; the picture inside it is broken past its header."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 300, 300, 8, 6, 0, 0, 0)
    broken = (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"\x78\x9c" + b"\xff" * 64)
    )
    broken += chunk(b"IEND", b"")
    recraft_server.fault("body", path="/files/", body=broken, content_type="image/png")
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)
    assert run(job) is None
    assert job.state == "failed" and job.error.may_have_cost
    assert "charged" in job.error.user_message and len(canvas.layers) == 1


# -- the results library (issue 20) -------------------------------------------------------------


def test_a_paid_result_is_kept_in_the_library_before_it_is_inserted(
    client, recraft_server, private_library
):
    import time

    from recraft_core.library import Library

    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    canvas.selection = ellipse(300, 300, 150, 150, 60, 60).tobytes()
    job = Job(
        client, "inpaint", canvas, {"prompt": "a red hat"}, front_end="krita", document="cat.kra"
    )
    job.prepare()
    job.start().join(60)
    # Kept once Recraft answered, before apply: a crash now loses nothing paid for.
    entry = Library(private_library).get(job.entry_id)
    assert entry is not None and entry.operation == "inpaint" and entry.front_end == "krita"
    assert entry.prompt == "a red hat" and entry.document == "cat.kra" and entry.credits == 40
    served = recraft_server.last("/files/")
    origin = recraft_server.base_url.removesuffix("/v1")
    assert entry.result_paths[0].read_bytes() == requests.get(origin + served.path).content
    assert entry.thumbnail_paths[0] is not None and entry.source_thumbnail_path is not None
    assert "test-token" not in entry.folder.joinpath("record.json").read_text()
    job.apply()
    for _ in range(100):  # told where it went, on a thread of its own
        entry = Library(private_library).get(job.entry_id)
        if entry.inserted:
            break
        time.sleep(0.05)
    assert "cat.kra: Recraft inpaint: a red hat" in entry.inserted[0].where


def test_no_library_for_a_job_that_does_not_ask(client, recraft_server, private_library):
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas)  # not an editor: keeps nothing by default
    assert run(job) is not None and job.entry_id is None
    assert not private_library.exists() or not any(private_library.rglob("record.json"))


def test_a_broken_library_never_fails_the_job(client, recraft_server, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("RECRAFT_LIBRARY", str(blocker))
    canvas = MemoryCanvas(300, 300, [MemoryLayer("bg", raster(photo(300, 300)))])
    job = Job(client, "remove_background", canvas, front_end="gimp")
    assert run(job) is not None and job.error is None and len(canvas.layers) == 2
    assert job.entry_id is None


# -- non-destructive results (issue 21) ----------------------------------------------------------


def _inpainted(client, edge_masks: bool, feather: float):
    canvas = MemoryCanvas(
        700,
        500,
        [MemoryLayer("bg", raster(photo(700, 500)))],
        ellipse(700, 500, 350, 250, 110, 80, feather=feather).tobytes(),
    )
    options = Options(grow=10, feather=8, edge_masks=edge_masks)
    run(Job(client, "inpaint", canvas, {"prompt": "a red hat"}, options=options))
    return canvas


@pytest.mark.parametrize("feather", [0.0, 20.0])  # hard (faded by Soft edge), and soft
def test_an_edge_as_a_mask_looks_as_the_baked_edge_and_can_be_painted(client, feather):
    baked = _inpainted(client, False, feather)
    masked = _inpainted(client, True, feather)
    assert len(masked.layers) == 2 and masked.edits == 1
    result = masked.layers[1]
    assert result.mask is not None and len(result.mask) == result.image.width * result.image.height
    # The model's full pixels over the box that went up (the whole 700 x 500 canvas here).
    assert (result.x, result.y, result.image.width, result.image.height) == (0, 0, 700, 500)
    assert (as_array(result.image)[..., 3] == 255).all()
    # The first look is the baked one, pixel for pixel, and the mask is the baked alpha.
    assert np.array_equal(flatten(masked), flatten(baked))
    mask = np.frombuffer(result.mask, np.uint8).reshape(500, 700)
    assert np.array_equal(mask, placed(baked.layers[1], 700, 500)[..., 3])
    # Painting the mask white shows all of the result, also where the edge hid it.
    before = flatten(masked)
    result.mask = b"\xff" * len(result.mask)
    after = flatten(masked)
    assert np.array_equal(after, as_array(result.image))
    changed = (after != before).any(axis=2)
    assert changed[mask < 255].any() and not changed[mask == 255].any()


def _backdrop() -> np.ndarray:
    art = np.zeros((300, 400, 4), np.uint8)
    art[..., :3], art[..., 3] = (250, 250, 250), 255
    art[100:200, 150:250, :3] = (200, 0, 0)
    art[100:200, 150:250, 2] = np.arange(100, dtype=np.uint8)[None, :]  # colours Recraft
    return art  # would round differently in another depth: only the alpha may change


@pytest.mark.parametrize("kind", ["layer", "mask"])
def test_a_cutout_keeps_the_sources_pixels_and_takes_recrafts_alpha(client, recraft_server, kind):
    art = _backdrop()
    plain = MemoryCanvas(1000, 800, [MemoryLayer("art", raster(art), x=120, y=60)])
    run(Job(client, "remove_background", plain))
    recrafts = as_array(plain.layers[1].image)

    canvas = MemoryCanvas(1000, 800, [MemoryLayer("art", raster(art), x=120, y=60)])
    outcome = run(Job(client, "remove_background", canvas, options=Options(cutout=kind)))
    assert canvas.edits == 1 and len(canvas.layers) == 2
    assert len(outcome.cutouts) == 1 and len(outcome.layers) == 1
    new = canvas.layers[1]
    assert (new.name, new.x, new.y) == ("Recraft remove background", 120, 60)
    got = as_array(new.image)
    assert np.array_equal(got[..., :3], art[..., :3]), "a colour of the source changed"
    if kind == "layer":
        assert new.mask is None
        assert np.array_equal(got[..., 3], recrafts[..., 3])
    else:  # the source as it was, and Recraft's alpha as its mask
        assert np.array_equal(got, art)
        assert np.array_equal(np.frombuffer(new.mask, np.uint8).reshape(300, 400), recrafts[..., 3])
    assert canvas.layers[0].image.pixels == raster(art).pixels, "the source changed"


def test_a_cutout_whose_image_is_gone_opens_recrafts_pixels(client):
    canvas = MemoryCanvas(1000, 800, [MemoryLayer("art", raster(_backdrop()), x=120, y=60)])
    job = Job(client, "remove_background", canvas, options=Options(cutout="layer"))
    job.prepare()
    job.start().join(60)
    document = job.outcome.as_document() if job.outcome else None
    assert document is not None and len(document.layers) == 1
    assert document.layers[0].image.width == 400


def test_a_result_of_an_offset_layer_goes_back_to_its_place_from_the_library(
    client, recraft_server, private_library
):
    from recraft_core.library import Library
    from recraft_core.workflow import history

    art = _backdrop()
    canvas = MemoryCanvas(1000, 800, [MemoryLayer("art", raster(art), x=120, y=60)])
    job = Job(client, "remove_background", canvas, front_end="krita", document="a.kra")
    run(job)
    entry = Library(private_library).get(job.entry_id)
    assert entry.placement == {
        "canvas": [1000, 800],
        "box": [120, 60, 520, 360],
        "sent": [400, 300],
    }
    again = history.outcome(entry, (1000, 800))
    (layer,) = again.layers
    assert (layer.x, layer.y, layer.width, layer.height) == (120, 60, 400, 300)
