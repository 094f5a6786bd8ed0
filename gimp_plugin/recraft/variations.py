"""Variations in GIMP: which result of a group of variations shows, and keeping one.

A group of variations is a layer group whose layers are all named "<name> #k of n" (the core's
`variations`). Filters › Recraft › Next variation, Previous variation and Keep this variation
work on the selected layer when it is such a group, or on the group of the selected layer (or
of its layer mask, which GIMP selects after Add Layer Mask).

Each is one undo group: a flip hides one layer and shows another (GIMP records each eye as a
step; grouped, one Undo goes back one flip), and Keep moves the showing layer out of its group
above it, removes the group and gives the layer the group's name.
"""

from __future__ import annotations

import contextlib

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from recraft_core.exceptions import Refused  # noqa: E402
from recraft_core.workflow import variations as core  # noqa: E402

GROUP_MASK = (
    "“{name}” has a layer mask of its own, which its kept layer would lose: apply or delete "
    "it first (Layer › Mask)."
)


NotVariations = Refused  # the selection is no group of variations: what to select


def _layer_of(drawable):
    if drawable is not None and drawable.is_layer_mask():
        return Gimp.Layer.from_mask(drawable)
    return drawable


def is_group(layer) -> bool:
    return (
        layer is not None
        and layer.is_group()
        and core.is_group_of_variations([child.get_name() for child in layer.get_children()])
    )


def group_of(drawable):
    """The group of variations the drawable is, or is in; None when it is neither."""
    layer = _layer_of(drawable)
    if layer is None:
        return None
    if is_group(layer):
        return layer
    parent = layer.get_parent()
    return parent if is_group(parent) else None


def found(drawables) -> Gimp.Layer:
    """The group of variations of the first selected drawable, or NotVariations."""
    if not drawables:
        raise NotVariations(core.NO_LAYER)
    group = group_of(drawables[0])
    if group is None:
        name = _layer_of(drawables[0]).get_name()
        raise NotVariations(core.NOT_A_GROUP.format(name=name, where=", in the Layers dialog"))
    return group


def in_order(group) -> list:
    """The variations by number (#1 first); those of one number top first."""
    return core.in_order(group.get_children(), lambda layer: layer.get_name())


@contextlib.contextmanager
def _one_step(image):
    image.undo_group_start()
    try:
        yield
    finally:
        image.undo_group_end()
        Gimp.displays_flush()


def step(image, drawables, by: int) -> str:
    """Show the next (+1) or previous (-1) variation, wrapping round, and hide the one that
    showed; nothing else changes. What shows now, in words ("Variation 2 of 4")."""
    group = found(drawables)
    layers = in_order(group)
    showing = core.flip([layer.get_visible() for layer in layers], by)
    with _one_step(image):
        for layer, visible in zip(layers, showing, strict=True):
            if layer.get_visible() != visible:
                layer.set_visible(visible)
    k, n = core.number(layers[showing.index(True)].get_name())
    return f"Variation {k} of {n}"


def keep(image, drawables) -> Gimp.Layer:
    """The showing variation in place of its group, named as the group was without "#k of
    n", its pixels, offsets, mask, opacity and mode as they were: one undo group."""
    group = found(drawables)
    shown = [layer for layer in in_order(group) if layer.get_visible()]
    if not shown:
        raise NotVariations(core.NONE_SHOWS.format(name=group.get_name()))
    if group.get_mask() is not None:
        raise NotVariations(GROUP_MASK.format(name=group.get_name()))
    kept = shown[0]
    name = core.kept(kept.get_name())
    with _one_step(image):
        parent, position = group.get_parent(), image.get_item_position(group)
        home = image.get_item_position(kept)
        if not image.reorder_item(kept, parent, position):
            raise NotVariations(f"GIMP could not move “{kept.get_name()}” out of its group")
        try:
            if group.get_opacity() < 100:  # what showed through the group shows as it did
                kept.set_opacity(kept.get_opacity() * group.get_opacity() / 100)
            if not group.get_visible():
                kept.set_visible(False)
            if not image.remove_layer(group):
                raise NotVariations(f"GIMP could not remove the group “{group.get_name()}”")
        except BaseException:
            with contextlib.suppress(Exception):  # back where it was, the group whole
                image.reorder_item(kept, group, home)
            raise
        kept.set_name(name)  # once the group is gone: GIMP would number a second "name"
    image.set_selected_layers([kept])
    return kept
