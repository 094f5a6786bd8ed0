"""Variations: n results of one job in one group, one showing at a time.

The layers are named "<name> #k of n" (k from 1), so that the editors, and the artist, can tell
a group of variations from any other group and say which one shows. The editors flip through
them with `flip` and keep one with `kept`; what a layer is lives in its name, as it is saved
with the document.
"""

from __future__ import annotations

import re

_LABEL = re.compile(r" #(\d+) of (\d+)$")

# What a flip or a keep says when it has nothing to work on, in every editor. {where}: where
# the editor lists layers (", in the Layers dialog"), or nothing.
NOT_A_GROUP = (
    "“{name}” is not in a group of variations. Select a group of Recraft results whose "
    "layers are named “… #1 of 3”, or one of its layers{where}."
)
NO_LAYER = "Select a group of variations, or one of its layers, first."
NONE_SHOWS = "No variation of “{name}” shows: pick one with Next variation first."


def label(name: str, index: int, count: int) -> str:
    """The name of variation `index` (from 0) of `count`."""
    return f"{name} #{index + 1} of {count}"


def number(name: str) -> tuple[int, int] | None:
    """(k, n) of a layer named as variation k of n, or None."""
    match = _LABEL.search(name)
    if match is None:
        return None
    k, n = int(match.group(1)), int(match.group(2))
    return (k, n) if 1 <= k <= n else None


def in_order(layers: list, name_of) -> list:
    """The variations by number (#1 first), `layers` given top first: those of one number
    stay top first."""
    return sorted(layers, key=lambda layer: number(name_of(layer))[0])


def is_group_of_variations(names: list[str]) -> bool:
    """Whether a group's children (by name) are variations of one result."""
    return len(names) > 1 and all(number(name) is not None for name in names)


def flip(visible: list[bool], step: int) -> list[bool]:
    """Which children show after moving `step` (+1 next, -1 previous) from the one showing
    (the first showing, when several do), wrapping round: exactly one shows."""
    if not visible:
        return []
    if any(visible):
        chosen = (visible.index(True) + step) % len(visible)
    else:  # none shows: forward starts at the first, backward at the last
        chosen = 0 if step > 0 else len(visible) - 1
    return [i == chosen for i in range(len(visible))]


def kept(name: str) -> str:
    """The name a kept variation takes when its group is flattened away: its group's name,
    without the "#k of n"."""
    return _LABEL.sub("", name)
