"""Explore similar starts from an earlier result's image id: which operation that is, which
results carry ids it can start from (the table's `ids_start`), and what to tell an artist
whose active layer is not one of those results. Both editors say it in these words, with their
own way of picking a result."""

from __future__ import annotations

from ..api.operations import RESULT_ID, Operation, offered, starting


def target() -> Operation | None:
    """The offered operation that starts from a result's image id, or None."""
    return next((op for op in offered() if op.field(RESULT_ID)), None)


def feeds(op: Operation) -> bool:
    """Whether the layers `op`'s results go into carry ids `target()` starts from."""
    start = target()
    return start is not None and op.ids_start == start.name


def feeder() -> str:
    """The titles of the operations whose results it starts from, itself left out ("Explore")."""
    start = target()
    titles = [op.title for op in starting(start) if op is not start] if start else []
    return " or ".join(titles) or "Explore"


def not_a_result(layer: str | None, group_of_results: bool, pick: str) -> str:
    """Why it cannot start from the active layer (named `layer`; None: no layer selected), and
    what to do: `pick` is the editor's way to pick a result, with {feeder} and {similar} in it
    ("select a layer {feeder} made, then run {similar} again")."""
    start = target()
    words = {"feeder": feeder(), "similar": start.title if start else "Explore similar"}
    do = pick.format(**words)
    if layer is None:
        return f"No layer is selected: {do}"
    if group_of_results:
        return (
            f"“{layer}” is a group of {words['feeder']} results: select one of the layers "
            f"inside it, then run {words['similar']} again."
        )
    return f"The active layer “{layer}” was not made by {words['feeder']}: {do}"
