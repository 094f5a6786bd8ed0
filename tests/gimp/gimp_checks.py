"""Checks that run inside GIMP (python-fu-eval), started by conftest.py's Gimp.launch.

main(spec) runs the checks the spec lists, in order, and rewrites the report after each one:
{"gimp", "python", "checks": {name: {"ok", "value" or "error", "started", "finished"}}}.

A check builds an image, calls one of the plug-in's procedures through the PDB in
NONINTERACTIVE mode and returns what GIMP ends up with: the procedure's status and message,
layer trees (name, offsets, size, type, children) before and after, the paths, images the call
opened, and pixel dumps: raw R'G'B'A u8 (or Y u8 for the selection) files in the work folder,
which the tests read with numpy.

GIMP's own Python runs this file: the standard library and gi only, nothing from the project.
"""

import json
import os
import sys
import time
import traceback
from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

RGBA = "R'G'B'A u8"
MASK = "Y u8"
WHITE = (255, 255, 255)


class Context:
    """Where a check writes its pixel dumps."""

    def __init__(self, work: str, name: str) -> None:
        self.work = work
        self.name = name
        self.count = 0

    def dump(self, drawable, box, fmt=RGBA) -> dict:
        """The drawable's pixels in box (x, y, w, h, in its own coordinates; transparent
        outside it) as a file; the tests read it back with Check.pixels."""
        x, y, w, h = box
        rect = Gegl.Rectangle.new(x, y, w, h)
        data = drawable.get_buffer().get(rect, 1.0, fmt, Gegl.AbyssPolicy.NONE)
        self.count += 1
        name = f"{self.name}.{self.count}.raw"
        with open(os.path.join(self.work, name), "wb") as f:
            f.write(bytes(data))
        return {"file": name, "width": w, "height": h}


# -- building images --------------------------------------------------------------------------


def _rows(width, height, fill, background, square, colour):
    """One layer's pixels, row by row: flat `background` with a `colour` square (x, y, w, h
    in the layer's pixels), or a gradient that differs at every pixel."""
    if fill == "gradient":
        for y in range(height):
            g = y * 255 // max(1, height - 1)
            yield b"".join(bytes((x * 255 // max(1, width - 1), g, 96, 255)) for x in range(width))
        return
    plain = bytes((*background, 255)) * width
    if not square:
        yield from (plain for _ in range(height))
        return
    sx, sy, sw, sh = square
    marked = plain[: 4 * sx] + bytes((*colour, 255)) * sw + plain[4 * (sx + sw) :]
    for y in range(height):
        yield marked if sy <= y < sy + sh else plain


def _write(layer, rows) -> None:
    buffer = layer.get_buffer()
    rect = Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height())
    buffer.set(rect, RGBA, b"".join(rows))
    buffer.flush()


def picture(
    width=400,
    height=320,
    base="RGB",
    precision="U8_NON_LINEAR",
    box=(40, 30, 300, 260),
    fill="flat",
    background=(128, 128, 128),
    square=(100, 80, 120, 90),
    colour=(220, 30, 30),
    group=None,
    indexed=False,
    alpha=True,
    mask=False,
):
    """An image of that base type and precision: a white "Background" of the canvas's size,
    under a "photo" layer at box (x, y, w, h) holding the pixels `_rows` describes; inside a
    layer group of that name if `group` names one; converted to indexed colour (a palette
    made of its few colours) when `indexed`. The photo layer has no alpha channel when
    `alpha` is false, and a white layer mask when `mask` (GIMP then selects the mask, as after
    Layer › Mask › Add Layer Mask)."""
    image = Gimp.Image.new_with_precision(
        width, height, getattr(Gimp.ImageBaseType, base), getattr(Gimp.Precision, precision)
    )
    kind = Gimp.ImageType.GRAYA_IMAGE if base == "GRAY" else Gimp.ImageType.RGBA_IMAGE
    under = Gimp.Layer.new(image, "Background", width, height, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(under, None, 0)
    _write(under, _rows(width, height, "flat", WHITE, None, None))
    parent = None
    if group:
        parent = Gimp.GroupLayer.new(image, group)
        image.insert_layer(parent, None, 0)
    x, y, w, h = box
    if not alpha:
        kind = Gimp.ImageType.GRAY_IMAGE if base == "GRAY" else Gimp.ImageType.RGB_IMAGE
    photo = Gimp.Layer.new(image, "photo", w, h, kind, 100.0, Gimp.LayerMode.NORMAL)
    image.insert_layer(photo, parent, 0)
    _write(photo, _rows(w, h, fill, background, square, colour))
    photo.set_offsets(x, y)
    if indexed:
        _to_indexed(image)
    if mask:
        photo.add_mask(photo.create_mask(Gimp.AddMaskType.WHITE))
    return image, photo


def _to_indexed(image) -> None:
    """Through the PDB, whose arguments are the same in GIMP 3.0 and 3.2."""
    procedure = Gimp.get_pdb().lookup_procedure("gimp-image-convert-indexed")
    config = procedure.create_config()
    config.set_property("image", image)
    config.set_property("dither-type", Gimp.ConvertDitherType.NONE)
    config.set_property("palette-type", Gimp.ConvertPaletteType.GENERATE)
    config.set_property("num-cols", 256)
    config.set_property("palette", "")  # a custom palette's name: unused, but not NULL
    result = procedure.run(config)
    if result.index(0) != Gimp.PDBStatusType.SUCCESS:
        raise RuntimeError(f"could not convert to indexed: {result.index(1)}")


def select(image, shape, feather=0.0) -> None:
    """shape: ["rectangle" | "ellipse", x, y, w, h] on the canvas; feather: its radius."""
    kind, x, y, w, h = shape
    op = Gimp.ChannelOps.REPLACE
    if kind == "ellipse":
        image.select_ellipse(op, x, y, w, h)
    else:
        image.select_rectangle(op, x, y, w, h)
    if feather:
        Gimp.Selection.feather(image, feather)


# -- reading what GIMP ends up with -----------------------------------------------------------


def layer_tree(ctx, item, pixels: bool) -> dict:
    _, x, y = item.get_offsets()
    w, h = item.get_width(), item.get_height()
    node = {
        "name": item.get_name(),
        "offsets": [x, y],
        "size": [w, h],
        "type": item.type().value_nick,
        "group": item.is_group(),
    }
    if node["group"]:
        node["children"] = [layer_tree(ctx, c, pixels) for c in item.get_children()]
    elif pixels:
        node["pixels"] = ctx.dump(item, (0, 0, w, h))
        if item.get_mask() is not None:  # a result's soft edge, say: what shows of it
            node["mask"] = ctx.dump(item.get_mask(), (0, 0, w, h), MASK)
    return node


def path_info(path) -> dict:
    xs, ys = [], []
    for stroke in path.get_strokes():
        _, points, _ = path.stroke_get_points(stroke)
        xs += points[0::2]
        ys += points[1::2]
    bounds = [min(xs), min(ys), max(xs), max(ys)] if xs else None
    return {"name": path.get_name(), "strokes": len(path.get_strokes()), "bounds": bounds}


def describe(ctx, image, pixels: bool = True) -> dict:
    return {
        "size": [image.get_width(), image.get_height()],
        "base": image.get_base_type().value_nick,
        "precision": image.get_precision().value_nick,
        "layers": [layer_tree(ctx, layer, pixels) for layer in image.get_layers()],
        "paths": [path_info(p) for p in image.get_paths()],
    }


def composite(ctx, image) -> dict:
    """What the visible layers show together, canvas-sized, transparent where nothing is."""
    copy = image.duplicate()
    try:
        merged = copy.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
        _, x, y = merged.get_offsets()
        return ctx.dump(merged, (-x, -y, image.get_width(), image.get_height()))
    finally:
        copy.delete()


def selection(ctx, image) -> dict:
    box = (0, 0, image.get_width(), image.get_height())
    return ctx.dump(image.get_selection(), box, MASK)


def _plain(value):
    """A return value as JSON: images by their id."""
    if isinstance(value, Gimp.Image):
        return {"image": value.get_id()}
    return value if value is None or isinstance(value, str | int | float) else repr(value)


def call(name, image, drawables, args, run_mode="NONINTERACTIVE") -> dict:
    """Run a procedure as a script does (or as a menu does: INTERACTIVE, WITH_LAST_VALS); its
    status and, on an error, GIMP's message."""
    procedure = Gimp.get_pdb().lookup_procedure(name)
    if procedure is None:
        raise LookupError(f"{name} is not registered (GIMP's output says why)")
    config = procedure.create_config()
    config.set_property("run-mode", getattr(Gimp.RunMode, run_mode))
    if image is not None:
        config.set_property("image", image)
    if drawables:
        config.set_core_object_array("drawables", drawables)
    for key, value in args.items():
        config.set_property(key, value)
    started = time.monotonic()
    values = procedure.run(config)
    status = values.index(0)
    rest = [values.index(i) for i in range(1, values.length())]
    if status != Gimp.PDBStatusType.SUCCESS:  # then GIMP's one value is the error message
        message, rest = (rest[0] if rest else None), []
    else:
        message = None
    return {
        "status": status.value_nick,
        "message": message,
        "values": [_plain(v) for v in rest],
        "seconds": round(time.monotonic() - started, 2),
    }


# -- the checks -------------------------------------------------------------------------------


def registered(ctx, names) -> dict:
    pdb = Gimp.get_pdb()
    return {name: pdb.lookup_procedure(name) is not None for name in names}


def operate(
    ctx,
    procedure,
    args=None,
    image=None,
    selection_shape=None,
    feather=0.0,
    with_composite=False,
    drawables="photo",
    kill_after=None,
    run_mode="NONINTERACTIVE",
    no_image=False,
) -> dict:
    """Build `picture(**image)`, select, call `procedure` on the photo layer (drawables
    "photo"), on its layer mask ("mask") or with no drawables (None), or with no image at all
    (`no_image`: as from an empty GIMP), and report the image before and after, and every
    image the call opened."""
    picture_, photo = picture(**(image or {}))
    known = {i.get_id() for i in Gimp.get_images()}
    try:
        if selection_shape:
            select(picture_, selection_shape, feather)
        got = {
            "before": describe(ctx, picture_),
            "selection": selection(ctx, picture_),
            "composite_before": composite(ctx, picture_) if with_composite else None,
            "images_before": len(known),
        }
        source = {"photo": [photo], "mask": [photo.get_mask()]}.get(drawables, [])
        if kill_after is not None:
            got["killed"] = _kill_plugin_later(kill_after)
        on = (None, []) if no_image else (picture_, source)
        got["call"] = call(procedure, *on, args or {}, run_mode)
        got["after"] = describe(ctx, picture_)
        got["composite_after"] = composite(ctx, picture_) if with_composite else None
        opened = [i for i in Gimp.get_images() if i.get_id() not in known]
        got["images_after"] = len(known) + len(opened)
        got["opened"] = [describe(ctx, i) for i in opened]
        got["opened_ids"] = [i.get_id() for i in opened]
        got["undo_enabled"] = picture_.undo_is_enabled()
        return got
    finally:  # nothing left for the next check to count, nor for GIMP to warn about
        for image_ in Gimp.get_images():
            if image_.get_id() not in known or image_.get_id() == picture_.get_id():
                image_.delete()


def show_off(ctx, prompt, marker) -> dict:
    """For the README's screenshots, in GIMP's GUI: an image inpainted on an elliptical
    selection, shown in a window (then `marker`.1 is written), then the Inpaint dialog open
    over it (`marker`.2 just before; the dialog blocks until the test ends GIMP)."""
    image, photo = picture(width=720, height=480, box=(0, 0, 720, 480), fill="gradient")
    select(image, ["ellipse", 250, 140, 220, 180], feather=16.0)
    done = call("plug-in-recraft-inpaint", image, [photo], {"prompt": prompt})
    Gimp.Display.new(image)
    Gimp.displays_flush()
    Path(marker + ".1").write_text(json.dumps(done))
    time.sleep(6)  # the test grabs the window meanwhile
    procedure = Gimp.get_pdb().lookup_procedure("plug-in-recraft-inpaint")
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [photo])
    Path(marker + ".2").write_text("")
    procedure.run(config)
    return done


def _kill_plugin_later(seconds: float) -> list:
    """What GIMP does when the user presses Cancel on a plug-in's progress bar: it kills the
    plug-in's process. Here a thread does it to the Recraft plug-in after `seconds`; the list
    gets the pids it killed."""
    import threading

    killed = []

    def kill() -> None:
        time.sleep(seconds)
        killed.extend(_kill_plugin())

    threading.Thread(target=kill, daemon=True).start()
    return killed


def _kill_plugin() -> list:
    """SIGKILL to the Recraft plug-in's process; the pids killed.

    Only this GIMP's plug-in: a child of the GIMP running this check (whose plug-in this
    check's process is too). The chroot shares the machine's processes, and killing every
    recraft.py there took down the plug-in of any other GIMP running meanwhile: another test
    run's, or a user's ("Plug-in crashed: recraft.py" with a dialog open, issue 18)."""
    import signal

    killed = []
    gimp = os.getppid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
            with open(f"/proc/{pid}/status") as f:
                parent = next(int(x.split()[1]) for x in f if x.startswith("PPid:"))
        except (OSError, StopIteration, ValueError):
            continue
        if b"recraft/recraft.py" in cmdline and parent == gimp:
            os.kill(int(pid), signal.SIGKILL)
            killed.append(int(pid))
    return killed


def decode_results(ctx, files) -> dict:
    """The installed plug-in's GimpCodec on result files (name: path), as a job in the
    plug-in's process runs it: each one's pixels dumped, and whether GdkPixbuf read it here
    or the codec fell back to GIMP's own loaders."""
    _plugin_on_path()
    import gimp_canvas

    def dump(raster) -> dict:
        ctx.count += 1
        name = f"{ctx.name}.{ctx.count}.raw"
        with open(os.path.join(ctx.work, name), "wb") as f:
            f.write(bytes(raster.pixels))
        return {"file": name, "width": raster.width, "height": raster.height, "mode": raster.mode}

    out = {}
    for name, path in files.items():
        with open(path, "rb") as f:
            data = f.read()
        raster = gimp_canvas.GimpCodec().decode(data)
        route = "gdkpixbuf" if gimp_canvas._pixbuf_raster(data) is not None else "gimp"
        # The fallback on every file, whether or not this GIMP's GdkPixbuf reads it.
        out[name] = {
            "route": route,
            "decoded": dump(raster),
            "by_gimp": dump(gimp_canvas._load_layer_raster(data)),
        }
    return out


def _plugin_on_path() -> None:
    """The installed plug-in's modules (and recraft_core, from its vendor folder) importable
    here, as the plug-in's own process has them."""
    plugin = os.path.join(os.environ["GIMP3_DIRECTORY"], "plug-ins", "recraft")
    if plugin not in sys.path:
        sys.path[:0] = [plugin, os.path.join(plugin, "vendor")]


def insert_rollback(ctx, kind, fail_at=2, count=3) -> dict:
    """The installed plug-in's GimpCanvas inserting `count` results (kind "layers": 8x8
    layers in a group; "vectors": SVGs, as paths and layers, in a group) above the photo
    layer, the `fail_at`-th failing midway (its layer cannot be made; its SVG is not an
    SVG). Reports the error raised and the image before and after."""
    _plugin_on_path()
    import gimp_canvas

    from recraft_core.imaging.png import Raster
    from recraft_core.workflow import NewLayer, NewVector

    image, photo = picture()
    try:
        canvas = gimp_canvas.GimpCanvas(image, photo)
        before = describe(ctx, image, pixels=False)
        made = []
        if kind == "layers":
            real = gimp_canvas.new_layer

            def new_layer(image_, new):
                made.append(new.name)
                if len(made) == fail_at:
                    raise RuntimeError("the test's failure")
                return real(image_, new)

            pixels = Raster(8, 8, "RGBA", bytes([200, 40, 40, 255]) * 64)
            results = [NewLayer(f"result #{i + 1}", pixels, 10 * i, 10, 8, 8) for i in range(count)]
            gimp_canvas.new_layer = new_layer
            try:
                canvas.insert_layers(results, "results")
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            else:
                error = None
            finally:
                gimp_canvas.new_layer = real
        else:
            w, h = image.get_width(), image.get_height()
            good = (
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">'
                f'<path d="M10 10 L100 10 L100 100 Z" fill="#c02020"/></svg>'
            )
            svgs = ["not an SVG" if i + 1 == fail_at else good for i in range(count)]
            results = [NewVector(f"result #{i + 1}", t, None, (w, h)) for i, t in enumerate(svgs)]
            try:
                canvas.insert_vectors(results, "results")
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
            else:
                error = None
        return {
            "error": error,
            "before": before,
            "after": describe(ctx, image, pixels=False),
            "undo_enabled": image.undo_is_enabled(),
        }
    finally:
        image.delete()


def dialog_texts(ctx, procedure, steps) -> dict:
    """The installed plug-in's dialog for `procedure` (its own OperationDialog, as the plug-in
    builds it), not run but driven: each step ({argument: value}) is set on the dialog's
    config as GIMP's widgets set it, the dialog's pending updates are let run, and its texts
    read: the about text (with the cost) and what OK would refuse. Also the models the
    procedure offers. Needs an X display (GIMP's GUI, or DISPLAY for its plug-ins)."""
    gi.require_version("GimpUi", "3.0")
    gi.require_version("Gtk", "3.0")
    from gi.repository import GimpUi, Gtk

    _plugin_on_path()
    import recraft

    GimpUi.init("recraft-checks")
    pdb_procedure = Gimp.get_pdb().lookup_procedure(procedure)
    op = recraft.procedures()[procedure][0]
    config = pdb_procedure.create_config()
    model = pdb_procedure.find_argument("model")
    models = Gimp.param_spec_choice_get_choice(model).list_nicks() if model else []
    dialog = recraft.OperationDialog(pdb_procedure, config, op)
    seen = []
    try:
        for step in [{}, *steps]:
            for name, value in step.items():
                config.set_property(name, value)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and Gtk.events_pending():
                Gtk.main_iteration_do(False)
            seen.append({"about": dialog.about.get_text(), "refusal": recraft._refusal(op, config)})
    finally:
        dialog.destroy()
    return {"models": list(models), "steps": seen}


def interactive(ctx, procedure, marker, args=None, image=None, selection_shape=None, feather=0.0):
    """Build `picture(**image)` shown in a window, select, write `marker`, then call
    `procedure` INTERACTIVE on the photo layer (a procedure that takes no image, Settings,
    with none): its dialog opens and waits for whoever drives the GUI (the test, with
    xdotool). The call's outcome once the dialog closed, and the image's layers then."""
    if image == "none":
        Path(marker).write_text("")
        return {"call": call(procedure, None, [], args or {}, "INTERACTIVE")}
    picture_, photo = picture(**(image or {}))
    try:
        if selection_shape:
            select(picture_, selection_shape, feather)
        Gimp.Display.new(picture_)
        Gimp.displays_flush()
        Path(marker).write_text("")
        done = call(procedure, picture_, [photo], args or {}, "INTERACTIVE")
        return {"call": done, "after": describe(ctx, picture_, pixels=False)}
    finally:
        picture_.clean_all()  # no "unsaved changes" question when GIMP quits
        picture_.delete()


# -- Explore, then Explore similar from its layer ----------------------------------------------

IMAGE_ID = "recraft-image-id"  # the parasite the plug-in puts on a result's layer


def image_id(layer):
    parasite = layer.get_parasite(IMAGE_ID)
    return bytes(parasite.get_data()).decode().strip("\0") if parasite is not None else None


def _layer_named(image, name):
    for layer in image.get_layers():
        if layer.get_name() == name:
            return layer
        for child in layer.get_children() if layer.is_group() else []:
            if child.get_name() == name:
                return child
    raise LookupError(f"no layer {name!r}")


def explore_then_similar(ctx, prompt, similarity=4) -> dict:
    """Explore (two results, in a group) on the photo layer, then Explore similar called on
    the second result's layer with no source id given, then on the photo layer and on the
    group (none carries an id: refused with what to do). The image saved as .xcf and opened
    again: the ids are still on the layers."""
    image, photo = picture()
    try:
        got = {"explore": call("plug-in-recraft-explore", image, [photo], {"prompt": prompt})}
        group = image.get_layers()[0]
        results = group.get_children()
        got["explored"] = {layer.get_name(): image_id(layer) for layer in results}
        got["group_id"] = image_id(group)
        second = results[1]
        got["started_from"] = second.get_name()
        args = {"similarity": similarity}
        got["similar"] = call("plug-in-recraft-explore-similar", image, [second], args)
        # Above the layer it started from: inside Explore's group.
        (made,) = [c for c in group.get_children() if c.get_name().startswith("Recraft explore s")]
        made = made.get_children() if made.is_group() else [made]
        got["similar_made"] = {layer.get_name(): image_id(layer) for layer in made}
        got["started"] = time.time()  # what follows must send nothing
        got["on_photo"] = call("plug-in-recraft-explore-similar", image, [photo], args)
        got["on_group"] = call("plug-in-recraft-explore-similar", image, [group], args)
        got["after"] = describe(ctx, image, pixels=False)
        path = os.path.join(ctx.work, f"{ctx.name}.xcf")
        file = Gio.File.new_for_path(path)
        if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, file, None):
            raise RuntimeError("could not save the .xcf")
        opened = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, file)
        try:
            got["reopened"] = {
                name: image_id(_layer_named(opened, name)) for name in got["explored"]
            }
        finally:
            opened.delete()
        return got
    finally:
        image.clean_all()
        image.delete()


# -- dialogs as they are drawn -----------------------------------------------------------------


def _gtk():
    gi.require_version("GimpUi", "3.0")
    gi.require_version("Gtk", "3.0")
    from gi.repository import GimpUi, Gtk

    GimpUi.init("recraft-checks")
    return Gtk


def _pump(Gtk, seconds: float) -> None:
    """Let GTK draw and run its callbacks for `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        while Gtk.events_pending():
            Gtk.main_iteration_do(False)
        time.sleep(0.02)


def _drawn(Gtk, widget) -> dict:
    """What a window shows: its visible labels' texts and how many radio buttons, menus and
    text entries it has."""
    seen = {"labels": [], "radio_buttons": 0, "combo_boxes": 0, "entries": 0, "placeholders": []}

    def walk(w) -> None:
        if not w.get_visible():
            return
        if isinstance(w, Gtk.Label) and w.get_text().strip():
            seen["labels"].append(w.get_text())
        seen["radio_buttons"] += isinstance(w, Gtk.RadioButton)
        seen["combo_boxes"] += isinstance(w, Gtk.ComboBox)
        seen["entries"] += isinstance(w, Gtk.Entry) and not isinstance(w, Gtk.SpinButton)
        if isinstance(w, Gtk.Entry) and w.get_placeholder_text():
            seen["placeholders"].append(w.get_placeholder_text())
        if isinstance(w, Gtk.Container):
            for child in w.get_children():
                walk(child)

    walk(widget)
    return seen


def _rows_drawn(dialog, names) -> dict:
    """Where the dialog draws the rows of these arguments: {name: [top, height]} in the
    dialog's window, for those it shows."""
    from gi.repository import GObject

    out = {}
    for name in names:
        widget = dialog.get_widget(name, GObject.TYPE_NONE)
        if widget is None or not widget.get_mapped():
            continue
        _x, top = widget.translate_coordinates(dialog, 0, 0)
        out[name] = [top, widget.get_allocated_height()]
    return out


def _hold(Gtk, marker, hold: float) -> None:
    """Write `marker` (the test grabs the screen) and keep drawing for `hold` seconds."""
    if marker:
        Path(marker).write_text("")
        _pump(Gtk, hold)


def operation_dialog(ctx, procedure, layer="photo", marker=None, hold=0.0, press_ok=False):
    """The installed plug-in's dialog for `procedure`, shown as a menu run shows it, on the
    photo layer or (layer "explored") on the second layer an Explore run here made; Explore
    similar's source taken as the plug-in takes it from the layer. Reports what the dialog
    draws; with `marker`, the test grabs it meanwhile. With `press_ok`, OK is pressed (and
    Cancel a moment later, for a dialog that stays open on a refusal): whether it ran, and
    the refusal it showed."""
    Gtk = _gtk()
    _plugin_on_path()
    import recraft

    image, photo = picture()
    try:
        source = photo
        if layer == "explored":
            call("plug-in-recraft-explore", image, [photo], {"prompt": "a lighthouse"})
            source = image.get_layers()[0].get_children()[1]
        pdb_procedure = Gimp.get_pdb().lookup_procedure(procedure)
        op = recraft.procedures()[procedure][0]
        config = pdb_procedure.create_config()
        start = (None, None)
        if op.field(recraft.SOURCE_ID):
            start = recraft._similar_source(config, source, Gimp.RunMode.INTERACTIVE)
        dialog = recraft.OperationDialog(pdb_procedure, config, op, *start)
        try:
            dialog.dialog.show_all()
            _pump(Gtk, 1.0)
            got = {"layer": source.get_name(), "start": list(start)}
            got.update(_drawn(Gtk, dialog.dialog))
            if op.field(recraft.SOURCE_ID):
                got["source_id"] = config.get_property(recraft._arg(recraft.SOURCE_ID))
            names = [recraft._arg(f.name) for f in recraft._fields(op)]
            got["rows"] = _rows_drawn(dialog.dialog, names)
            _hold(Gtk, marker, hold)
            if press_ok:
                from gi.repository import GLib

                GLib.timeout_add(300, dialog.dialog.response, Gtk.ResponseType.OK)
                GLib.timeout_add(1500, dialog.dialog.response, Gtk.ResponseType.CANCEL)
                got["ran"] = dialog.run()
                got["refusal"] = dialog.problem.get_text()
            return got
        finally:
            dialog.destroy()
    finally:
        image.clean_all()
        image.delete()


def settings_check(ctx, cases, marker=None, hold=0.0) -> dict:
    """The installed plug-in's Settings dialog, shown; for each case ({"token", "server"})
    the fields filled in and Check pressed, then GTK's loop run until the answer shows: how
    long pressing Check took, the longest any one turn of the loop took meanwhile (the dialog
    stays responsive), what it said while waiting and after. With `marker`, the test grabs
    the dialog after the last case."""
    Gtk = _gtk()
    _plugin_on_path()
    import settings_dialog

    dialog = settings_dialog.SettingsDialog()
    try:
        dialog.dialog.show_all()
        _pump(Gtk, 0.5)
        out = []
        for case in cases:
            dialog.widgets["token"].set_text(case["token"])
            dialog.widgets["base_url"].set_text(case["server"])
            began = time.monotonic()
            dialog.button.clicked()
            pressed = time.monotonic() - began
            during = dialog.status.get_text()
            longest = turns = 0
            while dialog.status.get_text() == during and time.monotonic() - began < 60:
                turn = time.monotonic()
                Gtk.main_iteration_do(False)
                longest = max(longest, time.monotonic() - turn)
                turns += 1
                time.sleep(0.005)
            out.append(
                {
                    "pressed": round(pressed, 3),
                    "during": during,
                    "said": dialog.status.get_text(),
                    "seconds": round(time.monotonic() - began, 2),
                    "longest_turn": round(longest, 3),
                    "turns": turns,
                    "button_sensitive": dialog.button.get_sensitive(),
                }
            )
        _hold(Gtk, marker, hold)
        kinds = {name: type(value).__name__ for name, value in dialog.values().items()}
        return {"cases": out, "drawn": _drawn(Gtk, dialog.dialog), "kinds": kinds}
    finally:
        dialog.destroy()


# -- the results library: killed before inserting, History ------------------------------------


def killed_after_keeping(ctx, procedure, library, args=None, image=None) -> dict:
    """Run `procedure` on `picture(**image)`'s photo layer and SIGKILL the plug-in the moment
    its result is kept in the library at `library` (its record.json appears), before it can
    be inserted. So that the moment is sure, not a race, this check holds the library index's
    write lock meanwhile: the plug-in writes the record, then waits to index it (sqlite's busy
    wait), and is killed there. Reports the entry's id and the image before and after."""
    import sqlite3
    import threading

    _plugin_on_path()
    from recraft_core.library import Library

    Library(library).close()  # its folder and index exist, as after any earlier job
    root = Path(library)
    before = set(root.rglob("record.json"))
    index = sqlite3.connect(str(root / "index.sqlite3"), isolation_level=None, timeout=5)
    index.execute("BEGIN EXCLUSIVE")
    found = {}

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "record" not in found:
            new = set(root.rglob("record.json")) - before
            if new:
                found["record"] = str(new.pop())
                found["killed"] = _kill_plugin()
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    picture_, photo = picture(**(image or {}))
    try:
        got = {"before": describe(ctx, picture_, pixels=False)}
        got["call"] = call(procedure, picture_, [photo], args or {})
        watcher.join(10)
        got["after"] = describe(ctx, picture_, pixels=False)
        got["killed"] = found.get("killed", [])
        got["entry_id"] = Path(found["record"]).parent.name if "record" in found else None
        return got
    finally:
        index.execute("ROLLBACK")
        index.close()
        picture_.delete()


def history_dialog(ctx, search, insert, marker=None, hold=0.0, image=None) -> dict:
    """The installed plug-in's History dialog, as Filters › Recraft › History… shows it over
    `picture(**image)` (its photo layer active): the rows it lists, then those a search for
    `search` leaves, then the entry `insert` inserted as a new layer and opened as a new image
    with its buttons. With `marker`, the test grabs the dialog (the whole list) first."""
    Gtk = _gtk()
    _plugin_on_path()
    import history_dialog as module

    image_, photo = picture(**(image or {}))
    known = {i.get_id() for i in Gimp.get_images()}
    dialog = module.HistoryDialog(image_, photo)
    try:
        dialog.dialog.show_all()

        def listed(what: str) -> dict:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and dialog._listing != dialog.shown:
                _pump(Gtk, 0.1)
            _pump(Gtk, 0.3)
            rows = [
                {
                    "id": row[4],
                    "text": row[1],
                    "when": row[2],
                    "credits": row[3],
                    "thumbnail": row[0] is not None,
                }
                for row in dialog.store
            ]
            return {
                "what": what,
                "rows": rows,
                "spent": dialog.spent.get_text(),
                "status": dialog.status.get_text(),
                "selected": dialog.selected().id if dialog.selected() else None,
            }

        got = {"all": listed("all")}
        got["drawn"] = _drawn(Gtk, dialog.dialog)
        _hold(Gtk, marker, hold)
        dialog.search.set_text(search)
        _pump(Gtk, 0.5)  # the search box waits a moment for more typing
        got["searched"] = listed(search)
        dialog.search.set_text("")
        _pump(Gtk, 0.5)
        listed("")
        for row in dialog.store:
            if row[4] == insert:
                dialog.view.get_selection().select_iter(row.iter)
        got["insert_sensitive"] = dialog.insert_button.get_sensitive()
        for new_image in (False, True):
            done = len(dialog.inserted)
            (dialog.open_button if new_image else dialog.insert_button).clicked()
            deadline = time.monotonic() + 30
            while len(dialog.inserted) == done and time.monotonic() < deadline:
                _pump(Gtk, 0.1)
            got["status_new_image" if new_image else "status_inserted"] = dialog.status.get_text()
        got["after"] = describe(ctx, image_)
        opened = [i for i in Gimp.get_images() if i.get_id() not in known | {image_.get_id()}]
        got["opened"] = [describe(ctx, i) for i in opened]
        return got
    finally:
        dialog.destroy()
        for image_ in Gimp.get_images():
            if image_.get_id() not in known:
                image_.clean_all()
                image_.delete()


CHECKS = {
    "registered": registered,
    "killed_after_keeping": killed_after_keeping,
    "history_dialog": history_dialog,
    "operation_dialog": operation_dialog,
    "settings_check": settings_check,
    "explore_then_similar": explore_then_similar,
    "operate": operate,
    "show_off": show_off,
    "decode_results": decode_results,
    "insert_rollback": insert_rollback,
    "dialog_texts": dialog_texts,
    "interactive": interactive,
}


def _more_checks() -> dict:
    """CHECKS of every checks_*.py beside this file (conftest copies them along), importable
    from here: they take their helpers from this file as the module gimp_checks."""
    import importlib

    folder = os.path.dirname(os.path.abspath(__file__))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    found = {}
    for path in sorted(Path(folder).glob("checks_*.py")):
        found.update(importlib.import_module(path.stem).CHECKS)
    return found


def main(spec_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
    CHECKS.update(_more_checks())
    report = {"gimp": Gimp.version(), "python": sys.version.split()[0], "checks": {}}
    for check in spec["checks"]:
        started = time.time()
        try:
            value = CHECKS[check["call"]](Context(spec["work"], check["name"]), **check["args"])
            entry = {"ok": True, "value": value}
        except Exception:
            entry = {"ok": False, "error": traceback.format_exc()}
        entry.update(started=started, finished=time.time())
        report["checks"][check["name"]] = entry
        partial = spec["report"] + ".part"
        with open(partial, "w") as f:
            json.dump(report, f)
        os.replace(partial, spec["report"])
