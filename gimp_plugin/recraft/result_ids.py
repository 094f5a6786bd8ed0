"""Recraft's id for a result, kept on the layer it went into, so that Explore similar can start
from the active layer with nothing typed.

The id is a GIMP parasite on the layer: saved in .xcf (PERSISTENT) and taken away and given
back with the layer by Undo and Redo (UNDOABLE), inside the insertion's undo group.
"""

from __future__ import annotations

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp  # noqa: E402

from recraft_core.workflow import similar  # noqa: E402

PARASITE = "recraft-image-id"
MENU = "Filters › Recraft"


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
    return similar.not_a_result(
        layer.get_name() if layer is not None else None,
        layer is not None
        and layer.is_group()
        and any(image_id_of(child) for child in layer.get_children()),
        f"run {MENU} › {{feeder}}… first, select one of the layers it adds, then run "
        "{similar} again (or paste a Recraft image id).",
    )
