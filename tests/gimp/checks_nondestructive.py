"""Checks of non-destructive results (issue 21) and of runs on several layers (issue 22), run
inside GIMP as gimp_checks.py's are (its main() takes CHECKS from every checks_*.py beside it).

Layers are described with what these results are about: visibility, opacity, mode, the layer
mask, and the layer's pixels in GIMP's own format (babl's, unconverted: `native` dumps) where
bits matter. GIMP's own Python runs this file: the standard library and gi only.
"""

import hashlib
import json
import os
import struct
import time
from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Babl", "0.1")
from gi.repository import Babl, Gegl, Gimp  # noqa: E402
from gimp_checks import MASK, RGBA, _write, call, composite, picture, select  # noqa: E402

SAMPLES = {"u8": "u8", "u16": "u16", "half": "f16", "float": "f32", "u32": "u32", "double": "f64"}


def native_format(drawable) -> dict:
    fmt = drawable.get_format()
    return {
        "name": Babl.get_name(fmt),
        "channels": Babl.format_get_n_components(fmt),
        "sample": SAMPLES[Babl.get_name(Babl.format_get_type(fmt, 0))],
        "has_alpha": bool(Babl.format_has_alpha(fmt)),
    }


def _bytes(drawable, fmt=RGBA) -> bytes:
    w, h = drawable.get_width(), drawable.get_height()
    rect = Gegl.Rectangle.new(0, 0, w, h)
    return bytes(drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.NONE))


def tree(ctx, item, dumps: bool = True) -> dict:
    """A layer (and its children): place, size, visibility, opacity, mode, its mask; its
    pixels (8-bit RGBA) and mask (Y u8) dumped for the test, or only digested."""
    _, x, y = item.get_offsets()
    w, h = item.get_width(), item.get_height()
    node = {
        "name": item.get_name(),
        "offsets": [x, y],
        "size": [w, h],
        "group": item.is_group(),
        "visible": item.get_visible(),
        "opacity": round(item.get_opacity(), 3),
        "mode": item.get_mode().value_nick,
        "mask": None,
    }
    mask = item.get_mask()
    if mask is not None:
        node["mask_size"] = [mask.get_width(), mask.get_height()]
        node["mask_digest"] = hashlib.md5(_bytes(mask, MASK)).hexdigest()
        if dumps:
            node["mask"] = ctx.dump(mask, (0, 0, mask.get_width(), mask.get_height()), MASK)
    if node["group"]:
        node["children"] = [tree(ctx, child, dumps) for child in item.get_children()]
    else:
        node["digest"] = hashlib.md5(_bytes(item, None)).hexdigest()
        if dumps:
            node["pixels"] = ctx.dump(item, (0, 0, w, h))
    return node


def layers(ctx, image, dumps: bool = True) -> list:
    return [tree(ctx, layer, dumps) for layer in image.get_layers()]


def _size(image) -> tuple[int, int]:
    return image.get_width(), image.get_height()


def _settings(**values) -> str | None:
    """Change the plug-in's saved settings (RECRAFT_CONFIG, which its process reads); the
    file's text before, to put back."""
    path = Path(os.environ["RECRAFT_CONFIG"])
    before = path.read_text() if path.exists() else None
    saved = json.loads(before) if before else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**saved, **values}))
    return before


def _restore(before: str | None) -> None:
    path = Path(os.environ["RECRAFT_CONFIG"])
    if before is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(before)


# -- edges as layer masks ---------------------------------------------------------------------


def edge_masks(ctx, procedure, args=None, image=None, selection_shape=None, feather=0.0):
    """`procedure` on `picture(**image)`'s photo layer with the selection, as saved Settings
    give it (edges as masks); its mask then painted white from here (what shows, then); and
    the same again with Settings' Bake soft edges on (as before). What each image shows
    and holds."""
    got = {}
    for run in ("masked", "baked"):
        before = _settings(bake_edges=True) if run == "baked" else None
        image_, photo = picture(**(image or {}))
        try:
            if selection_shape:
                select(image_, selection_shape, feather)
            strength = ctx.dump(image_.get_selection(), (0, 0, *_size(image_)), MASK)
            done = call(procedure, image_, [photo], args or {})
            got[run] = {
                "selection": strength,
                "call": done,
                "layers": layers(ctx, image_),
                "composite": composite(ctx, image_),
                "selected": [d.get_name() for d in image_.get_selected_drawables()],
            }
            result = image_.get_layers()[0]
            mask = result.get_mask()
            if run == "masked" and mask is not None:
                w, h = mask.get_width(), mask.get_height()
                buffer = mask.get_buffer()
                buffer.set(Gegl.Rectangle.new(0, 0, w, h), MASK, b"\xff" * (w * h))
                buffer.flush()
                got["painted"] = composite(ctx, image_)
        finally:
            image_.delete()
            if run == "baked":
                _restore(before)
    return got


# -- cut-outs in the source's own format -------------------------------------------------------


def _float_rows(width, height, channels, square, colour, background):
    """Pixels as native-order floats, perceptual, with a fine ripple under one 8-bit step
    (every pixel differs from its neighbours, and a trip through 8 bits would show)."""
    sx, sy, sw, sh = square
    for y in range(height):
        row = []
        for x in range(width):
            base = colour if sx <= x < sx + sw and sy <= y < sy + sh else background
            ripple = ((x * 7 + y * 13) % 17 - 8) * 0.0002
            values = [min(1.0, max(0.0, v + ripple)) for v in base]
            row += values[: channels - 1] if channels in (2, 4) else values[:channels]
            if channels in (2, 4):
                row.append(1.0)
        yield struct.pack(f"={len(row)}f", *row)


def precise_picture(
    base="RGB",
    precision="U8_NON_LINEAR",
    alpha=True,
    profile=None,
    box=(40, 30, 300, 260),
    square=(100, 80, 120, 90),
    colour=(0.86, 0.12, 0.12),
    background=(0.5, 0.52, 0.48),
):
    """A 400x320 image (with Adobe RGB as its profile when `profile` is "adobe"), a white
    Background, and a "photo" layer at box whose pixels have more precision than 8 bits
    where the image does: written as floats with a ripple finer than an 8-bit step."""
    image = Gimp.Image.new_with_precision(
        400, 320, getattr(Gimp.ImageBaseType, base), getattr(Gimp.Precision, precision)
    )
    if profile == "adobe":
        image.set_color_profile(Gimp.ColorProfile.new_rgb_adobe())
    grey = base == "GRAY"
    kind = Gimp.ImageType.GRAYA_IMAGE if grey else Gimp.ImageType.RGBA_IMAGE
    under = Gimp.Layer.new(image, "Background", 400, 320, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(under, None, 0)
    _write(under, (bytes((255, 255, 255, 255)) * 400 for _ in range(320)))
    if not alpha:
        kind = Gimp.ImageType.GRAY_IMAGE if grey else Gimp.ImageType.RGB_IMAGE
    x, y, w, h = box
    photo = Gimp.Layer.new(image, "photo", w, h, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(photo, None, 0)
    fmt = ("Y'" if grey else "R'G'B'") + ("A" if alpha else "") + " float"
    channels = (1 if grey else 3) + (1 if alpha else 0)
    if grey:
        colour, background = (sum(colour) / 3,), (sum(background) / 3,)
    rows = _float_rows(w, h, channels, square, colour, background)
    buffer = photo.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, w, h), fmt, b"".join(rows))
    buffer.flush()
    photo.set_offsets(x, y)
    return image, photo


def _native(ctx, layer) -> dict:
    w, h = layer.get_width(), layer.get_height()
    _, x, y = layer.get_offsets()
    out = {
        "name": layer.get_name(),
        "offsets": [x, y],
        "size": [w, h],
        "format": native_format(layer),
        "native": ctx.dump(layer, (0, 0, w, h), None),
        "opacity": round(layer.get_opacity(), 3),
        "mode": layer.get_mode().value_nick,
        "mask": None,
    }
    if layer.get_mask() is not None:
        out["mask"] = ctx.dump(layer.get_mask(), (0, 0, w, h), MASK)
    return out


def cutout(ctx, procedure, image=None, opacity=None, mode=None):
    """`procedure` (remove background, as a layer or as a mask) on `precise_picture(**image)`'s
    photo layer (given that opacity and mode): the source's and the result's own bytes and
    formats, and the names of the layers after."""
    image_, photo = precise_picture(**(image or {}))
    try:
        if opacity is not None:
            photo.set_opacity(opacity)
        if mode is not None:
            photo.set_mode(getattr(Gimp.LayerMode, mode))
        source = _native(ctx, photo)
        done = call(procedure, image_, [photo], {})
        got = {"call": done, "source": source, "names": [x.get_name() for x in image_.get_layers()]}
        got["source_after"] = _native(ctx, photo)
        if done["status"] == "success":
            got["result"] = _native(ctx, image_.get_layers()[0])
        got["precision"] = image_.get_precision().value_nick
        return got
    finally:
        image_.delete()


# -- variations ---------------------------------------------------------------------------------

PREFIX = "plug-in-recraft-"


def _layer_of(drawable):
    return Gimp.Layer.from_mask(drawable) if drawable.is_layer_mask() else drawable


def _find(image, name):
    for layer in image.get_layers():
        if layer.get_name() == name:
            return layer
        for child in layer.get_children() if layer.is_group() else []:
            if child.get_name() == name:
                return child
    raise LookupError(name)


def variations_cycle(ctx, prompt, n=3) -> dict:
    """Generate `n` results (a group of variations), then flip through them from the group,
    from a variation, from a variation's mask; the flips refused on a layer outside any
    group; then one variation given a mask, an opacity and a mode, shown, and kept: the
    layers (digested) after each step."""
    image, photo = picture()
    try:
        got = {"generate": call(PREFIX + "generate", image, [photo], {"prompt": prompt, "n": n})}
        group = image.get_layers()[0]
        names = [child.get_name() for child in group.get_children()]
        got["names"] = names
        second = _find(image, names[1])
        second.add_mask(second.create_mask(Gimp.AddMaskType.WHITE))
        got["steps"] = [{"what": "start", "layers": layers(ctx, image, False)}]
        # On the group, on a variation, on a variation's mask; backwards across #1.
        for what, on in (
            ("next", "group"), ("next", 1), ("next", "mask"), ("previous", "group"),
            ("previous", 0),
        ):  # fmt: skip
            if on == "group":
                drawable = group
            elif on == "mask":
                drawable = second.get_mask()
            else:
                drawable = _find(image, names[on])
            done = call(f"{PREFIX}{what}-variation", image, [drawable], {})
            got["steps"].append(
                {"what": what, "on": on, "call": done, "layers": layers(ctx, image, False)}
            )
        got["refused"] = {
            what: call(f"{PREFIX}{what}-variation", image, [photo], {})
            for what in ("next", "previous", "keep")
        }
        # The second one, masked, at 60 % in Multiply, made to show, then kept.
        second.set_opacity(60.0)
        second.set_mode(Gimp.LayerMode.MULTIPLY)
        while not second.get_visible():
            call(PREFIX + "next-variation", image, [group], {})
        got["before_keep"] = layers(ctx, image, False)
        got["keep"] = call(PREFIX + "keep-variation", image, [group], {})
        got["after_keep"] = layers(ctx, image, False)
        got["selected"] = [_layer_of(d).get_name() for d in image.get_selected_drawables()]
        return got
    finally:
        image.delete()


# -- a selection that misses the layer ---------------------------------------------------------


def misses_the_layer(ctx, procedure, args=None) -> dict:
    """A selection on the canvas where the photo layer has no pixels, nor within the reach
    of its grown and soft edge (16 px; the layer lies at (40, 30), 300x260, on a 400x320
    canvas): `procedure` is refused before anything is sent."""
    image, photo = picture()
    try:
        select(image, ["rectangle", 370, 0, 30, 320])
        started = time.time()
        done = call(procedure, image, [photo], args or {})
        return {"call": done, "started": started, "layers": layers(ctx, image, False)}
    finally:
        image.delete()


# -- one undo step (GIMP's GUI: the test presses Ctrl+Z) ----------------------------------------


def undo_one(ctx, marker, procedure, args=None, image=None, selection_shape=None, feather=0.0,
             setup=None, on="photo", precise=None):  # fmt: skip
    """In GIMP's GUI: `picture(**image)` (or `precise_picture(**precise)`) shown, `setup`
    (procedure, args) run on the photo layer first, then `procedure` on the photo layer (or
    on "group": the top layer); `marker` written, and once the test has pressed Ctrl+Z in
    the window and written `marker`.undone, the layers again. Each state's layers digested."""
    if precise is not None:
        image_, photo = precise_picture(**precise)
    else:
        image_, photo = picture(**(image or {}))
    display = Gimp.Display.new(image_)
    try:
        if selection_shape:
            select(image_, selection_shape, feather)
        got = {}
        if setup:
            got["setup"] = call(setup[0], image_, [photo], setup[1])
        Gimp.displays_flush()
        got["before"] = layers(ctx, image_, False)
        drawable = image_.get_layers()[0] if on == "group" else photo
        got["call"] = call(procedure, image_, [drawable], args or {})
        Gimp.displays_flush()
        got["after"] = layers(ctx, image_, False)
        Path(marker).write_text("")
        deadline = time.monotonic() + 120
        while not Path(marker + ".undone").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        got["undone"] = layers(ctx, image_, False)
        return got
    finally:
        image_.clean_all()
        display.delete()  # its last display: the image goes with it


def shown(ctx, marker, prompt, holds) -> dict:
    """For the README: in GIMP's GUI, a picture inpainted on a feathered ellipse (a result
    with its edge as a layer mask), then generate 3 (a group of variations), then Next
    variation; `marker`.k written at each of the `holds` stages and held for the test's
    screenshots."""
    # Generate's results of the image's size: they cover it as they are, with no note of
    # their scaling popping up over the screenshot.
    image, photo = picture(width=1024, height=1024, box=(0, 0, 1024, 1024), fill="gradient")
    display = Gimp.Display.new(image)
    got = {}
    try:
        select(image, ["ellipse", 360, 380, 320, 240], feather=24.0)
        got["inpaint"] = call(PREFIX + "inpaint", image, [photo], {"prompt": prompt})
        Gimp.Selection.none(image)
        generate = {"prompt": prompt, "n": 3, "size": "1024x1024"}
        stages = [None, ("generate", generate), ("next-variation", {})]
        for k, stage in enumerate(stages[:holds], 1):
            if stage is not None:
                top = image.get_layers()[0]  # results go above it
                got[stage[0]] = call(PREFIX + stage[0], image, [top], stage[1])
            Gimp.displays_flush()
            time.sleep(1)
            Path(f"{marker}.{k}").write_text("")
            time.sleep(10)  # the test grabs the screen meanwhile
        got["layers"] = layers(ctx, image, False)
        return got
    finally:
        image.clean_all()
        display.delete()


CHECKS = {
    "edge_masks": edge_masks,
    "cutout": cutout,
    "variations_cycle": variations_cycle,
    "misses_the_layer": misses_the_layer,
    "undo_one": undo_one,
    "shown": shown,
}


# -- every selected layer (issue 22) ------------------------------------------------------------

# name: (x, y, w, h, square colour, in a group); "logo" is a strip too thin to be sent.
SEVERAL = {
    "a": (10, 10, 150, 120, (220, 30, 30), False),
    "b": (200, 20, 180, 140, (30, 30, 220), False),
    "c": (50, 170, 160, 130, (30, 200, 30), True),
    "logo": (10, 304, 380, 8, (200, 200, 30), False),
}


def several_layers(names):
    """A 400x320 image: a white Background and a layer for each of `names` (SEVERAL: grey
    with a square of its colour in its middle; "c" inside a group)."""
    image = Gimp.Image.new(400, 320, Gimp.ImageBaseType.RGB)
    kind = Gimp.ImageType.RGBA_IMAGE
    under = Gimp.Layer.new(image, "Background", 400, 320, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(under, None, 0)
    _write(under, (bytes((255, 255, 255, 255)) * 400 for _ in range(320)))
    made = {}
    for name in names:
        x, y, w, h, colour, grouped = SEVERAL[name]
        parent = None
        if grouped:
            parent = Gimp.GroupLayer.new(image, f"group of {name}")
            image.insert_layer(parent, None, 0)
        layer = Gimp.Layer.new(image, name, w, h, kind, 100.0, Gimp.LayerMode.NORMAL)
        image.insert_layer(layer, parent, 0)
        sx, sy, sw, sh = w // 4, h // 4, w // 2, max(1, h // 2)
        plain = bytes((128, 128, 128, 255))
        rows = []
        for row in range(h):
            inside = sy <= row < sy + sh
            rows.append(
                plain * sx + (bytes((*colour, 255)) if inside else plain) * sw
                + plain * (w - sx - sw)
            )  # fmt: skip
        _write(layer, rows)
        layer.set_offsets(x, y)
        made[name] = layer
    return image, made


def on_each(ctx, procedure, names, args=None) -> dict:
    """`procedure` called with every layer of `names` selected (several_layers): the call,
    and the layers after (each result above its own layer)."""
    image, made = several_layers(names)
    known = {i.get_id() for i in Gimp.get_images()}
    try:
        image.set_selected_layers(list(made.values()))
        got = {"call": call(procedure, image, list(made.values()), args or {})}
        got["layers"] = layers(ctx, image)
        opened = [i for i in Gimp.get_images() if i.get_id() not in known]
        got["opened"] = [[tree(ctx, layer, False) for layer in i.get_layers()] for i in opened]
        return got
    finally:
        for image_ in Gimp.get_images():
            if image_.get_id() not in known:
                image_.delete()
        image.delete()


def undo_each(ctx, marker, procedure, names) -> dict:
    """In GIMP's GUI: `procedure` on every layer of `names` (several_layers), shown; then
    `marker` written and, once the test has pressed Ctrl+Z and written `marker`.undone, the
    layers again (digested)."""
    image, made = several_layers(names)
    display = Gimp.Display.new(image)
    try:
        got = {"before": layers(ctx, image, False)}
        got["call"] = call(procedure, image, list(made.values()), {})
        Gimp.displays_flush()
        got["after"] = layers(ctx, image, False)
        Path(marker).write_text("")
        deadline = time.monotonic() + 120
        while not Path(marker + ".undone").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        got["undone"] = layers(ctx, image, False)
        return got
    finally:
        image.clean_all()
        display.delete()


def each_cost(ctx, procedure, count) -> dict:
    """The installed plug-in's dialog for `procedure` as it opens for `count` selected
    layers: its about text (with the cost of them all). Needs GIMP's GUI."""
    gi.require_version("GimpUi", "3.0")
    from gi.repository import GimpUi
    from gimp_checks import _plugin_on_path

    _plugin_on_path()
    import recraft

    GimpUi.init("recraft-checks")
    pdb_procedure = Gimp.get_pdb().lookup_procedure(procedure)
    op = recraft.procedures()[procedure][0]
    config = pdb_procedure.create_config()
    dialog = recraft.OperationDialog(pdb_procedure, config, op, layers=count)
    try:
        return {"about": dialog.about.get_text(), "one": recraft._cost_text(op, config)}
    finally:
        dialog.destroy()


CHECKS.update(on_each=on_each, undo_each=undo_each, each_cost=each_cost)
