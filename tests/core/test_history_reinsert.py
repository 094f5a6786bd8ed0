"""Results from the library back into a canvas, and back into a form (workflow/history.py):
what Krita's History view and GIMP's History dialog do with an entry.

Entries are made as the editors make them: Jobs on a MemoryCanvas against the local server,
kept in a real Library; or recorded directly where a record must say something a job does
not write yet (the sent region's box).
"""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from PIL import Image

from recraft_core import Client, RecraftError, RetryPolicy
from recraft_core.api import forms
from recraft_core.api.operations import OPERATIONS
from recraft_core.imaging.png import Raster
from recraft_core.library import Library
from recraft_core.workflow import Job, MemoryCanvas, MemoryLayer, Outcome, history, variations
from recraft_core.workflow.upload import Options

W, H = 400, 320


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=RetryPolicy(0)) as c:
        yield c


@pytest.fixture
def library(private_library):
    with Library(private_library) as lib:
        yield lib


def scene(width: int, height: int) -> Raster:
    """Opaque RGBA with gradients: every row and column differs."""
    y, x = np.mgrid[0:height, 0:width]
    out = np.stack([x * 255 // width, y * 255 // height, (x + y) % 256, np.full_like(x, 255)], 2)
    return Raster(width, height, "RGBA", out.astype(np.uint8).tobytes())


def grey_square(width: int, height: int, square=(100, 80, 120, 90)) -> Raster:
    """Flat grey with a red square: what the local server's remove background keys on."""
    out = np.full((height, width, 4), (200, 200, 200, 255), np.uint8)
    x, y, w, h = square
    out[y : y + h, x : x + w] = (220, 30, 30, 255)
    return Raster(width, height, "RGBA", out.tobytes())


def pixels(layer: MemoryLayer) -> np.ndarray:
    image = layer.image
    return np.frombuffer(bytes(image.pixels), np.uint8).reshape(image.height, image.width, 4)


def decoded(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGBA"))


def made(client, library, operation, canvas, params=None):
    """A Krita-like job whose result the library keeps; the entry, and the job."""
    job = Job(client, operation, canvas, params or {}, front_end="krita", library=library)
    job.prepare()
    job.start().join(60)
    assert job.done and job.error is None, job.error
    job.apply()
    entry = library.get(job.entry_id)
    for _ in range(200 if canvas is not None else 0):
        if entry.inserted:  # told where it went, on a thread of its own: let that end first
            break
        time.sleep(0.02)
        entry = library.get(job.entry_id)
    return entry, job


def empty_canvas(width=W, height=H) -> MemoryCanvas:
    return MemoryCanvas(width, height, [MemoryLayer("background", scene(width, height))])


def insert(entry, canvas) -> Outcome:
    outcome = history.outcome(entry, canvas.size() if canvas is not None else None)
    outcome.insert_into(canvas, None)
    return outcome


# -- where results go -----------------------------------------------------------------------------


def test_a_result_goes_back_where_the_job_put_it_on_a_canvas_of_its_size(client, library):
    """A remove background of a layer covering the canvas, recorded by its job, inserted
    from the library into another canvas of that size: at (0, 0), Recraft's pixels exactly,
    named as the job named it, above the active layer."""
    source = MemoryCanvas(W, H, [MemoryLayer("photo", grey_square(W, H))])
    entry, job = made(client, library, "remove_background", source)
    canvas = empty_canvas()
    insert(entry, canvas)
    assert [layer.name for layer in canvas.layers] == ["background", job.outcome.layers[0].name]
    layer = canvas.layers[1]
    assert (layer.x, layer.y, layer.image.width, layer.image.height) == (0, 0, W, H)
    assert (pixels(layer) == decoded(entry.result_paths[0])).all()
    assert (pixels(layer) == pixels(source.layers[1])).all()  # as the job inserted it
    assert canvas.edits == 1


def test_on_a_canvas_of_another_size_a_result_is_centred(client, library):
    source = MemoryCanvas(W, H, [MemoryLayer("photo", grey_square(W, H))])
    entry, _ = made(client, library, "remove_background", source)
    canvas = empty_canvas(500, 400)
    insert(entry, canvas)
    layer = canvas.layers[1]
    assert (layer.x, layer.y, layer.image.width, layer.image.height) == (50, 40, W, H)
    assert (pixels(layer) == decoded(entry.result_paths[0])).all()


def test_a_picture_larger_than_the_canvas_is_scaled_down_to_cover_it(client, library):
    """A generated picture, from the CLI or an editor: as a job places it, centred and
    scaled down to cover the canvas, its proportions kept."""
    entry, _ = made(client, library, "generate", None, {"prompt": "a lighthouse"})
    side = decoded(entry.result_paths[0]).shape[1]
    canvas = empty_canvas()
    outcome = insert(entry, canvas)
    layer = canvas.layers[1]
    assert side > W and (layer.image.width, layer.image.height) == (W, W)
    assert (layer.x, layer.y) == (0, (H - W) // 2)
    assert any("scaled" in note for note in outcome.notes)


def test_the_recorded_box_puts_a_result_back_on_its_region(library):
    """A record that says which region went up (placement box, and the size it was sent
    at): the result covers that region again, scaled back from the size it came at."""
    result = scene(520, 460)  # the region 260 x 230, sent at twice its size
    entry_id = library.record(
        "remove_background",
        [result.to_png()],
        front_end="gimp",
        placement={"canvas": [W, H], "box": [40, 30, 300, 260], "sent": [520, 460]},
    )
    entry = library.get(entry_id)
    canvas = empty_canvas()
    insert(entry, canvas)
    layer = canvas.layers[1]
    assert (layer.x, layer.y, layer.image.width, layer.image.height) == (40, 30, 260, 230)
    # On a canvas of another size the region means nothing: centred.
    other = empty_canvas(600, 500)
    insert(entry, other)
    placed = other.layers[1]
    assert (placed.x, placed.y, placed.image.width, placed.image.height) == (40, 20, 520, 460)


def test_an_outpaint_goes_back_where_its_job_put_it_growing_the_canvas_as_it_did(client, library):
    source = MemoryCanvas(W, H, [MemoryLayer("photo", scene(W, H))])
    expand = {"prompt": "more sky", "expand_left": 100, "expand_top": 40, "expand_right": 20}
    entry, job = made(client, library, "outpaint", source, expand)
    canvas = empty_canvas()
    outcome = history.outcome(entry, canvas.size())
    want = job.outcome.layers[0]
    got = outcome.layers[0]
    assert (got.x, got.y, got.width, got.height) == (want.x, want.y, want.width, want.height)
    assert outcome.grow == job.outcome.grow is not None
    outcome.insert_into(canvas, None)
    assert (canvas.width, canvas.height) == (source.width, source.height)
    assert (canvas.layers[1].x, canvas.layers[1].y) == (source.layers[1].x, source.layers[1].y)


def test_vectors_go_back_as_vectors_and_upscales_as_documents(client, library):
    vector, _ = made(
        client, library, "vectorize", MemoryCanvas(W, H, [MemoryLayer("p", scene(W, H))])
    )
    canvas = empty_canvas()
    insert(vector, canvas)
    assert len(canvas.vectors) == 1 and canvas.vectors[0].svg.lstrip().startswith("<")
    assert canvas.vectors[0].size == (W, H)

    upscale, job = made(client, library, "crisp_upscale", empty_canvas())
    canvas = empty_canvas()
    insert(upscale, canvas)
    assert len(canvas.layers) == 1 and len(canvas.documents) == 1
    document = canvas.documents[0]
    assert (document.width, document.height) == (
        job.outcome.document.width,
        job.outcome.document.height,
    )
    assert (
        np.frombuffer(bytes(document.image.pixels), np.uint8)
        == decoded(upscale.result_paths[0]).ravel()
    ).all()


def test_with_no_image_open_results_open_as_a_new_image(client, library):
    entry, _ = made(client, library, "generate", None, {"prompt": "a lighthouse", "n": 2})
    outcome = history.outcome(entry, None)
    document = outcome.as_document()
    assert document is not None and len(document.layers) == 2
    assert document.group == "Recraft generate: a lighthouse"
    assert [n.name for n in document.layers] == [
        "Recraft generate: a lighthouse #1 of 2",
        "Recraft generate: a lighthouse #2 of 2",
    ]
    side = decoded(entry.result_paths[0]).shape[1]
    assert (document.width, document.height) == (side, side)


def test_several_results_go_back_as_the_group_of_variations_the_job_made(client, library):
    """An entry of 3 results inserted again: the same group a fresh job's results make, its
    layers named as variations ("#2 of 3", what Next/Previous/Keep variation look for), #1
    on top and the only one showing, each with the job's pixels and place."""
    fresh = empty_canvas()
    entry, job = made(client, library, "generate", fresh, {"prompt": "a lighthouse", "n": 3})
    canvas = empty_canvas()
    outcome = insert(entry, canvas)
    assert outcome.group == job.outcome.group == "Recraft generate: a lighthouse"

    def inserted(c: MemoryCanvas) -> list:
        return [
            (layer.name, layer.group, layer.visible, layer.box, pixels(layer).tobytes())
            for layer in c.layers[1:]
        ]

    assert inserted(canvas) == inserted(fresh)
    top_down = list(reversed(canvas.layers[1:]))
    names = [layer.name for layer in top_down]
    assert names == [f"Recraft generate: a lighthouse #{k} of 3" for k in (1, 2, 3)]
    assert variations.is_group_of_variations(names)
    assert [layer.visible for layer in top_down] == [True, False, False]


def test_a_damaged_or_foreign_result_is_left_out_and_said(library):
    good, bad = scene(64, 48).to_png(), scene(64, 48).to_png()
    entry = library.get(library.record("remove_background", [good, bad], front_end="cli"))
    entry.result_paths[1].write_bytes(bad[:-40])  # cut short on the disk
    outcome = history.outcome(entry, (64, 48))
    assert len(outcome.layers) == 1
    assert any("Result 2 is damaged" in note for note in outcome.notes), outcome.notes

    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(jpeg, "JPEG")
    only_jpeg = library.get(library.record("remove_background", [jpeg.getvalue()], front_end="cli"))
    with pytest.raises(history.NothingToInsert) as caught:
        history.outcome(only_jpeg, (64, 48))  # the core decodes PNG only: an editor's codec
    assert "decoded" in str(caught.value) and caught.value.user_message


def test_a_cancel_stops_it(library):
    entry = library.get(library.record("remove_background", [scene(64, 48).to_png()]))

    def cancelled():
        raise RecraftError("cancelled")

    with pytest.raises(RecraftError):
        history.outcome(entry, (64, 48), check=cancelled)


# -- "Use these settings" ---------------------------------------------------------------------


def test_use_these_settings_gives_the_form_every_field(client, library):
    params = {
        "prompt": "a red hat",
        "model": "recraftv3",
        "style": "digital_illustration",
        "n": 2,
        "negative_prompt": "blur",
        "controls": {"no_text": True},
    }
    source = MemoryCanvas(W, H, [MemoryLayer("photo", scene(W, H))])
    source.selection = bytes([255]) * (W * H)
    entry, _ = made(client, library, "inpaint", source, params)
    reuse = history.form_values(entry)
    assert reuse.operation == "inpaint"
    fields = forms.fields_for("inpaint", "recraftv3")
    assert list(reuse.values) == [f.name for f in fields]  # every field, in form order
    for name, value in params.items():
        if name == "controls":
            assert reuse.values["controls.no_text"] is True
        else:
            assert reuse.values[name] == value, name
    # What the job left to Recraft comes back unset (or the form's default), not as before.
    untouched = [f for f in fields if f.name not in params and not f.name.startswith("controls")]
    assert untouched and all(reuse.values[f.name] == f.default for f in untouched)
    assert reuse.dropped == ()
    # The form's own reading gives back what was sent.
    collected = forms.collect("inpaint", reuse.values)
    assert {name: collected.get(name) for name in params} == params


def test_use_these_settings_drops_what_the_form_cannot_take(library):
    entry = library.get(
        library.record(
            "generate_raster",  # the CLI's: the editors offer Generate for it
            [scene(64, 48).to_png()],
            params={
                "prompt": "a fox",
                "model": "no-such-model",
                "n": 99,
                "style": "not-a-style",
                "future_field": 1,
                "size": "1024x1024",
            },
        )
    )
    reuse = history.form_values(entry)
    generate = history.editor_operation("generate_raster")
    assert reuse.operation == generate.name and generate.offer is not None
    assert reuse.values["prompt"] == "a fox"
    assert reuse.values["model"] == OPERATIONS[reuse.operation].default_model
    assert reuse.values["n"] == 1  # 99 is out of range: the form's default
    assert reuse.values.get("style") is None
    assert set(reuse.dropped) == {"model", "n", "style", "future_field"}
    assert reuse.values["size"] == "1024x1024"


def test_use_these_settings_of_an_outpaint_gives_canvas_pixels(library):
    entry = library.get(
        library.record(
            "outpaint",
            [scene(64, 48).to_png()],
            params={"prompt": "sky", "expand_left": 50, "expand_bottom": 20},
            placement={"canvas": [800, 600], "box": [0, 0, 800, 600], "sent": [400, 300]},
        )
    )
    reuse = history.form_values(entry)
    assert (reuse.values["expand_left"], reuse.values["expand_bottom"]) == (100, 40)


def test_an_operation_no_editor_offers_has_no_settings_to_use(library):
    hidden = next(op for op in OPERATIONS.values() if history.editor_operation(op.name) is None)
    entry = library.get(library.record(hidden.name, [scene(8, 8).to_png()]))
    assert history.form_values(entry) is None


# -- the library's settings, in both editors' Settings dialogs ------------------------------------


def test_the_library_settings_are_rows_of_both_dialogs():
    from recraft_core import settings
    from recraft_core.library import DEFAULT_CAP

    rows = {entry.name: entry for entry in settings.ENTRIES}
    assert (rows["library_folder"].kind, rows["library_cap_gb"].kind) == ("folder", "gigabytes")
    assert rows["library_off"].kind == "switch"
    assert rows["library_cap_gb"].default * 1024**3 == DEFAULT_CAP
    assert rows["library_cap_gb"].unit == "GB" and rows["grow"].unit == "px"


def test_a_dialog_saves_the_library_settings(private_settings):
    from recraft_core import settings

    settings.save(settings.Settings("tok", grow=3))
    values = {"library_folder": " /srv/results ", "library_cap_gb": 12, "library_off": True}
    settings.save(settings.with_values(values))
    saved = settings.load()
    assert (saved.library_folder, saved.library_cap_gb, saved.library_off) == (
        "/srv/results",
        12,
        True,
    )
    assert (saved.token, saved.grow) == ("tok", 3)  # rows not given stay as saved
    # Left at its default, emptied, unticked: not set (the default follows the library's).
    values = {"library_folder": "", "library_cap_gb": 4, "library_off": False}
    settings.save(settings.with_values(values))
    saved = settings.load()
    assert (saved.library_folder, saved.library_cap_gb, saved.library_off) == (None, None, False)
    # A dialog that shows every row as text (GIMP's, until it has spin and check boxes).
    text = {"library_cap_gb": " 0 ", "library_off": "true", "grow": "20"}
    saved = settings.with_values(text)
    assert (saved.library_cap_gb, saved.library_off, saved.grow) == (0, True, 20)
    assert settings.with_values({"library_cap_gb": "lots"}).library_cap_gb is None


# -- a mask operation's soft edge (issue 21's masks, kept by the library) --------------------------


def soft_oval(width, height, cx, cy, rx, ry, feather=14.0) -> bytes:
    """Selection strengths 0..255: an oval, soft over `feather` px at its edge."""
    y, x = np.mgrid[0:height, 0:width]
    r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    inside = (1 - r) * min(rx, ry)
    return (np.clip(inside / feather + 0.5, 0, 1) * 255).round().astype(np.uint8).tobytes()


def soft_inpaint(client, library, width, height, edge_masks, operation="inpaint"):
    """A soft-selected inpaint as an editor runs it (the edge a mask, or baked), kept in
    the library; the entry, the job and the canvas it went into."""
    selection = soft_oval(width, height, width * 0.55, height * 0.45, width / 6, height / 5)
    canvas = MemoryCanvas(width, height, [MemoryLayer("photo", scene(width, height))], selection)
    options = Options(grow=10, feather=8, edge_masks=edge_masks)
    params = {"prompt": "a red hat"} if OPERATIONS[operation].field("prompt") else {}
    job = Job(
        client, operation, canvas, params, options=options, front_end="krita", library=library
    )
    job.prepare()
    job.start().join(60)
    assert job.done and job.error is None, job.error
    job.apply()
    entry = library.get(job.entry_id)
    for _ in range(200):
        if entry.inserted:  # told where it went, on a thread of its own: let that end first
            break
        time.sleep(0.02)
        entry = library.get(job.entry_id)
    return entry, job, canvas


def flatten(canvas: MemoryCanvas) -> np.ndarray:
    """What the canvas shows: each layer through its mask over the ones below."""
    out = np.zeros((canvas.height, canvas.width, 4))
    for layer in canvas.layers:
        src = pixels(layer).astype(float) / 255
        if layer.mask is not None:
            src[..., 3] *= np.frombuffer(layer.mask, np.uint8).reshape(src.shape[:2]) / 255
        x0, y0, x1, y1 = layer.box
        dst = out[y0:y1, x0:x1]
        a = src[..., 3:4]
        alpha = a + dst[..., 3:4] * (1 - a)
        color = (src[..., :3] * a + dst[..., :3] * dst[..., 3:4] * (1 - a)) / np.maximum(
            alpha, 1e-9
        )
        out[y0:y1, x0:x1] = np.concatenate([color, alpha], axis=2)
    return np.round(out * 255).astype(np.uint8)


def layers_of(canvas: MemoryCanvas) -> list:
    """Every inserted layer, byte for byte: name, place, pixels, mask."""
    return [
        (layer.name, layer.box, layer.image.mode, bytes(layer.image.pixels), layer.mask)
        for layer in canvas.layers[1:]
    ]


@pytest.mark.parametrize("edge_masks", [True, False], ids=["mask", "baked"])
@pytest.mark.parametrize(
    "size", [(W, H), (1800, 1300), (200, 150)], ids=["small", "large", "scaled"]
)
def test_a_soft_inpaint_goes_back_as_its_job_inserted_it(client, library, edge_masks, size):
    """Into a canvas of the source's size: the same layers, pixels and mask byte for byte as
    the job's first insertion (the model's pixels and the edge as a mask, or the patch with
    the edge baked in), not Recraft's whole frame. Three plans: a small canvas sent whole, a
    larger one where the patch is a small part of the frame, one scaled up to Recraft's
    smallest side (the edge then kept at the upload's size)."""
    width, height = size
    entry, _, first = soft_inpaint(client, library, width, height, edge_masks)
    # Each case the plan it means: sent as it is, or scaled up (the record says which).
    x0, y0, x1, y1 = entry.placement["box"]
    as_it_is = entry.placement["sent"] == [x1 - x0, y1 - y0]
    assert as_it_is == (size != (200, 150)), entry.placement
    edge = entry.edge
    assert edge is not None and edge["mask"] is edge_masks
    assert entry.edge_path.is_file() and entry.edge_path.name == "edge.png"
    assert entry.size == sum(
        p.stat().st_size for p in entry.folder.iterdir() if p.name != "record.json"
    )

    again = MemoryCanvas(width, height, [MemoryLayer("photo", scene(width, height))])
    outcome = insert(entry, again)
    assert layers_of(again) == layers_of(first)
    assert (again.layers[1].mask is not None) is edge_masks
    if not edge_masks:  # baked: the patch, faded out, not the opaque frame Recraft sent
        assert (pixels(again.layers[1])[..., 3] == 0).any()
    assert not any("edge" in note for note in outcome.notes), outcome.notes


def test_a_soft_edge_kept_as_a_mask_is_baked_where_the_editor_adds_no_masks(client, library):
    """Krita 5.1 adds no masks from Python: a mask entry goes in baked, looking the same,
    and the note says why."""
    entry, _, first = soft_inpaint(client, library, W, H, True)
    again = MemoryCanvas(W, H, [MemoryLayer("photo", scene(W, H))])
    outcome = history.outcome(entry, again.size(), masks=False)
    outcome.insert_into(again, None)
    layer = again.layers[1]
    assert layer.mask is None and layer.image.width * layer.image.height < W * H
    shown = flatten(again)
    assert np.abs(shown.astype(int) - flatten(first).astype(int)).max() <= 1
    assert any("baked" in note for note in outcome.notes), outcome.notes


def test_on_another_canvas_the_patch_is_centred_with_its_edge(client, library):
    """Another size: the patch, centred (the sent region's place), edge and all; a new image
    (no image open): the sent region's size, the same."""
    entry, _, first = soft_inpaint(client, library, W, H, True)
    other = MemoryCanvas(500, 400, [MemoryLayer("photo", scene(500, 400))])
    outcome = insert(entry, other)
    (want,), (got,) = first.layers[1:], other.layers[1:]
    assert (got.x, got.y) == (want.x + 50, want.y + 40)  # the whole 400 x 320 was sent
    assert bytes(got.image.pixels) == bytes(want.image.pixels) and got.mask == want.mask
    assert any("centred here, with its soft edge" in note for note in outcome.notes)

    document = history.outcome(entry, None).as_document()
    (layer,) = document.layers
    assert (document.width, document.height) == (W, H) and layer.mask == want.mask


def test_erase_region_keeps_its_edge_too(client, library):
    entry, _, first = soft_inpaint(client, library, W, H, False, operation="erase_region")
    again = MemoryCanvas(W, H, [MemoryLayer("photo", scene(W, H))])
    insert(entry, again)
    assert entry.edge is not None and layers_of(again) == layers_of(first)


def test_a_record_from_before_edges_were_kept_comes_back_whole(client, library):
    """No edge in the record (an older version wrote it): Recraft's whole frame over the
    region that was sent, as before. A damaged edge file: the same, and said."""
    entry, _, _ = soft_inpaint(client, library, W, H, True)
    record = entry.folder / "record.json"
    data = json.loads(record.read_text())
    del data["placement"]["edge"]
    record.write_text(json.dumps(data))
    entry.edge_path.unlink()
    old = library.get(entry.id)
    assert old.edge is None
    canvas = empty_canvas()
    outcome = insert(old, canvas)
    layer = canvas.layers[1]
    assert (layer.x, layer.y, layer.image.width, layer.image.height) == (0, 0, W, H)
    assert layer.mask is None and (pixels(layer) == decoded(old.result_paths[0])).all()
    assert outcome.notes == []

    entry, _, _ = soft_inpaint(client, library, W, H, True)
    entry.edge_path.write_bytes(entry.edge_path.read_bytes()[:-30])
    canvas = empty_canvas()
    outcome = insert(entry, canvas)
    assert canvas.layers[1].mask is None and canvas.layers[1].image.width == W
    assert any("soft edge could not be read" in note for note in outcome.notes), outcome.notes


def test_what_the_editors_say_after_inserting(client, library):
    fresh = empty_canvas()
    entry, _ = made(client, library, "generate", fresh, {"prompt": "a lighthouse", "n": 3})
    outcome = insert(entry, empty_canvas())
    assert history.said(outcome) == (
        "Inserted 3 variations of “Recraft generate: a lighthouse” as a group (#1 showing)."
    )
    assert history.said(outcome, opened=True) == (
        "Opened 3 variations of “Recraft generate: a lighthouse” as a new image."
    )
    one = library.get(library.record("remove_background", [scene(64, 48).to_png()]))
    outcome = history.outcome(one, (64, 48))
    assert history.said(outcome) == "Inserted “Recraft remove background” as a new layer."
