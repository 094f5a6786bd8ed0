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
from gi.repository import Gegl, Gimp  # noqa: E402

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
    gets the pids it killed.

    Only this GIMP's plug-in: a child of the GIMP running this check (whose plug-in this
    check's process is too). The chroot shares the machine's processes, and killing every
    recraft.py there took down the plug-in of any other GIMP running meanwhile: another test
    run's, or a user's ("Plug-in crashed: recraft.py" with a dialog open, issue 18)."""
    import signal
    import threading

    killed = []
    gimp = os.getppid()

    def kill() -> None:
        time.sleep(seconds)
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

    threading.Thread(target=kill, daemon=True).start()
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
    xdotool). The call's outcome once the dialog closed."""
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
        return {"call": call(procedure, picture_, [photo], args or {}, "INTERACTIVE")}
    finally:
        picture_.clean_all()  # no "unsaved changes" question when GIMP quits
        picture_.delete()


CHECKS = {
    "registered": registered,
    "operate": operate,
    "show_off": show_off,
    "decode_results": decode_results,
    "insert_rollback": insert_rollback,
    "dialog_texts": dialog_texts,
    "interactive": interactive,
}


def main(spec_path: str) -> None:
    with open(spec_path) as f:
        spec = json.load(f)
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
