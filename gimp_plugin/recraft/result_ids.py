"""Recraft's id for a result, kept on the layer it went into, so that Explore similar can start
from the active layer with nothing typed.

The id is a GIMP parasite on the layer: saved in .xcf (PERSISTENT) and taken away and given
back with the layer by Undo and Redo (UNDOABLE), inside the insertion's undo group.
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from recraft_core.api.operations import offered  # noqa: E402

PARASITE = "recraft-image-id"
SOURCE_ID = "source_image_id"  # the field of an operation that starts from a result's id
MENU = "Filters › Recraft"


def similar():
    """The operation that starts from an earlier result (Explore similar), if offered."""
    return next((op for op in offered() if op.field(SOURCE_ID)), None)


def feeds_similar(op) -> bool:
    """Whether `op`'s results can start `similar()` (the table's ids_start)."""
    start = similar()
    return start is not None and op.ids_start == start.name


def feeders() -> str:
    """The titles of the operations whose layers `similar()` starts from, for messages."""
    start = similar()
    titles = [op.title for op in offered() if op is not start and feeds_similar(op)]
    return " or ".join(titles) or "Explore"


def tag(layer, image_id: str) -> None:
    flags = Gimp.PARASITE_PERSISTENT | Gimp.PARASITE_UNDOABLE
    layer.attach_parasite(Gimp.Parasite.new(PARASITE, flags, list(image_id.encode("utf-8"))))


def image_id_of(layer) -> str | None:
    """The id a result's layer carries, or None (not a result, or a group)."""
    if layer is None:
        return None
    parasite = layer.get_parasite(PARASITE)
    if parasite is None:
        return None
    text = bytes(parasite.get_data()).decode("utf-8", "replace").strip("\0 ")
    return text or None


def not_a_result(layer) -> str:
    """Why Explore similar cannot start from `layer`, and what to do."""
    start = similar()
    title = start.title if start is not None else "Explore similar"
    feeder = feeders()
    do = (
        f"run {MENU} › {feeder}… first, select one of the layers it adds, then run {title} "
        "again (or paste a Recraft image id)."
    )
    if layer is None:
        return f"No layer is selected: {do}"
    if layer.is_group() and any(image_id_of(child) for child in layer.get_children()):
        return (
            f"“{layer.get_name()}” is a group of {feeder} results: select one of the layers "
            f"inside it, then run {title} again."
        )
    return f"The active layer “{layer.get_name()}” was not made by {feeder}: {do}"
