"""Payload for test_krita_nondestructive.py: results as editable masks, cut-outs that keep
the source's own pixels, and variations with one showing, in one Krita launch. Runs inside
Krita like payloads.py (krita_harness.launch copies payloads.py beside this file, whose helpers it
borrows)."""

import hashlib
import os
import sys
from dataclasses import replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from krita import Krita, Selection
from payloads import (
    LAYOUTS,
    _values,
    arrange,
    attached_layer,
    docker_ready,
    grey_with_square,
    idle,
    run_in_docker,
    soft_selection,
    stories,
)
from recraft_probe.helpers import (
    find_node,
    layers_view,
    new_document,
    open_document,
    screenshot,
    set_active_node,
    settle,
    spin,
    write_rgba,
)

from recraft_core import settings

PROMPT = "a straw hat"


def digest(data) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()[:16]


def bake(on: bool) -> None:
    settings.save(replace(settings.load(), bake_edges=on))


def children(node) -> list:
    return [(c.name(), c.type()) for c in node.childNodes() if c.type() != "selectionmask"]


def soft_inpaint(width, height, box, selection, feather, name):
    """A feathered inpaint from the docker: (document, the result layer)."""
    doc = new_document(width, height, name)
    source = attached_layer(doc, "photo", box)
    settle(doc)
    yield
    soft_selection(doc, selection, feather)
    settle(doc)
    assert set_active_node(doc, source)
    panel = docker_ready("inpaint", {"prompt": PROMPT, "n": 1})
    yield from run_in_docker(panel, doc)
    return doc, find_node(doc, f"Recraft inpaint: {PROMPT}"), panel


def masks_story(out_dir, width, height, box, selection, feather):
    """The same soft inpaint twice: baked (Settings' Bake soft edges) and as a mask."""
    k = Krita.instance()
    bake(True)
    baked_doc, baked, _ = yield from soft_inpaint(width, height, box, selection, feather, "baked")
    baked_doc.waitForDone()
    baked_look = digest(baked_doc.pixelData(0, 0, width, height))
    baked_alpha = bytes(_values(baked, 0, 0, width, height)[3::4])
    baked_children = children(baked)
    bake(False)
    doc, result, panel = yield from soft_inpaint(width, height, box, selection, feather, "masked")
    strengths = bytes(doc.selection().pixelData(0, 0, width, height))
    masks = [c for c in result.childNodes() if c.type() == "transparencymask"]
    mask = bytes(masks[0].selection().pixelData(0, 0, width, height)) if masks else b""
    layer_alpha = bytes(_values(result, 0, 0, width, height)[3::4])
    doc.waitForDone()
    look = digest(doc.pixelData(0, 0, width, height))
    shot = None
    if masks:
        arrange(panel)
        set_active_node(doc, result)
        yield 0.5
        tree_view = layers_view()
        tree_view.expandAll()
        yield 0.3
        dock = tree_view.window()
        box_widget = tree_view.parent()
        while box_widget is not None and box_widget.objectName() != "KisLayerBox":
            box_widget = box_widget.parent()
        target = box_widget if box_widget is not None else dock
        shot = screenshot(os.path.join(out_dir, "krita-mask.png"), target)
    names_before_undo = [n.name() for n in doc.rootNode().childNodes()]
    k.action("edit_undo").trigger()
    settle(doc)
    yield
    names_after_undo = [n.name() for n in doc.rootNode().childNodes()]
    k.action("edit_redo").trigger()  # the result back, to paint its mask
    settle(doc)
    yield
    result = find_node(doc, f"Recraft inpaint: {PROMPT}")
    masks = [c for c in result.childNodes() if c.type() == "transparencymask"] if result else []
    # Painting the mask (here: filling it) reveals more of the result.
    painted = None
    if masks:
        full = Selection()
        full.select(0, 0, width, height, 255)
        masks[0].setSelection(full)
        doc.refreshProjection()
        doc.waitForDone()
        painted = digest(doc.pixelData(0, 0, width, height))
    from recraft_krita import layered

    return {
        "can_mask": layered.can_mask(),
        "baked_children": baked_children,
        "children": children(result) if result is not None else None,
        "baked_look": baked_look,
        "look": look,
        "painted": painted,
        "mask_is_baked_alpha": mask == baked_alpha,
        "mask_nonzero": sum(1 for v in mask if v),
        "mask_where_selected": all(
            (m > 0) <= (s > 0) for m, s in zip(mask, strengths, strict=False)
        ),
        "layer_alpha_full": min(layer_alpha[i] for i, m in enumerate(mask) if m) if mask else None,
        "names_before_undo": names_before_undo,
        "names_after_undo": names_after_undo,
        "screenshot": shot,
    }


def cutout_story(out_dir, model, depth, profile, width, height, box, square):
    """Remove background (the action, and as a mask) in a document of another colour space:
    the cut-out keeps the source's bytes but its alpha; the mask variant's mask is Recraft's."""
    k = Krita.instance()
    doc = k.createDocument(width, height, f"{model}-{depth}", "RGBA", "U8", "", 72.0)
    doc.setBatchmode(True)
    open_document(doc)
    x, y, w, h = box
    source = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(source, None)
    write_rgba(source, 0, 0, w, h, grey_with_square(w, h, square))
    source.move(x, y)
    settle(doc)
    doc.setColorSpace(model, depth, profile)
    settle(doc)
    yield
    assert set_active_node(doc, source)
    channels, alpha_at, _ = LAYOUTS[(model, depth)]
    before = _values(source, 0, 0, width, height)
    from recraft_krita import api

    idle(api)
    k.action("recraft_remove_background").trigger()
    idle(api)
    settle(doc)
    yield
    cut = find_node(doc, "Recraft remove background")
    assert set_active_node(doc, source)
    k.action("recraft_remove_background_mask").trigger()
    idle(api)
    settle(doc)
    yield
    known = {source.uniqueId().toString(), cut.uniqueId().toString() if cut else None}
    others = [
        n
        for n in doc.rootNode().childNodes()
        if n.type() == "paintlayer" and n.uniqueId().toString() not in known
    ]
    copy = others[-1] if len(others) > 1 else None  # the Background is one of them
    from recraft_krita import layered

    out = {
        "names": [n.name() for n in doc.rootNode().childNodes()],
        "can_mask": layered.can_mask(),
        "message": api.docker().message if api.docker() is not None else None,
    }
    if cut is not None:
        got = _values(cut, 0, 0, width, height)
        out["space"] = [cut.colorModel(), cut.colorDepth()]
        differ = [
            i // channels
            for i in range(len(got))
            if i % channels != alpha_at and got[i] != before[i]
        ]
        alphas = got[alpha_at::channels]
        out["colour_same"] = not differ
        # Where the cut-out shows at all (alpha above 0): what an artist can see.
        out["colour_same_shown"] = not [p for p in differ if alphas[p] != 0]
        out["differ"] = [len(differ), sorted({alphas[p] for p in differ})[:5]]
        out["cut_alpha"] = got[alpha_at::channels][::1]
    if copy is not None:
        masks = [c for c in copy.childNodes() if c.type() == "transparencymask"]
        out["copy_name"] = copy.name()
        out["copy_same"] = _values(copy, 0, 0, width, height) == before
        out["copy_masks"] = len(masks)
        if masks:
            out["mask"] = list(bytes(masks[0].selection().pixelData(0, 0, width, height)))
    return out


def variations_story(out_dir, width, height):
    doc = new_document(width, height, "variations")
    attached_layer(doc, "photo", (0, 0, width, height))
    settle(doc)
    yield
    from recraft_krita import api

    panel = docker_ready("generate", {"prompt": "a lighthouse", "n": 3})
    before = digest(doc.rootNode().projectionPixelData(0, 0, width, height))
    panel.run()
    idle(api)
    # What the canvas shows once Krita is done, with no refresh of the test's own.
    doc.waitForDone()
    spin(0.5)
    doc.waitForDone()
    shown = digest(doc.rootNode().projectionPixelData(0, 0, width, height))
    settle(doc)  # composed again from the layers: what it should show
    composed = digest(doc.rootNode().projectionPixelData(0, 0, width, height))
    yield
    groups = [n for n in doc.rootNode().childNodes() if n.type() == "grouplayer"]
    if not groups:
        return {"groups": 0}
    kids = list(reversed(groups[0].childNodes()))  # top first
    return {
        "groups": len(groups),
        "names": [n.name() for n in kids],
        "visible": [n.visible() for n in kids],
        "changed": composed != before,
        "shown_is_composed": shown == composed,
    }


def nondestructive(out_dir, masks, cutouts, variations):
    return (
        yield from stories(
            [
                ("masks", lambda: masks_story(out_dir, **masks)),
                *[
                    (f"cutout-{c['model']}-{c['depth']}", lambda c=c: cutout_story(out_dir, **c))
                    for c in cutouts
                ],
                ("variations", lambda: variations_story(out_dir, **variations)),
            ]
        )
    )
