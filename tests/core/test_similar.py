"""Explore similar: what it starts from (the table's ids_start), and the words both editors use
when the active layer is not such a result."""

from recraft_core.api.operations import OPERATIONS, RESULT_ID
from recraft_core.workflow import similar

PICK = "select a layer {feeder} made, then run {similar} again."


def test_it_starts_from_the_results_the_table_says():
    start = similar.target()
    assert start is OPERATIONS["explore_similar"] and start.field(RESULT_ID)
    fed = sorted(op.name for op in OPERATIONS.values() if similar.feeds(op))
    assert fed == ["explore", "explore_similar"]
    assert similar.feeder() == OPERATIONS["explore"].title


def test_what_to_do_names_the_layer_and_the_editors_way_to_pick():
    do = f"select a layer {similar.feeder()} made, then run {similar.target().title} again."
    assert similar.not_a_result(None, False, PICK) == f"No layer is selected: {do}"
    assert similar.not_a_result("sky", False, PICK) == (
        f"The active layer “sky” was not made by {similar.feeder()}: {do}"
    )
    grouped = similar.not_a_result("tries", True, PICK)
    assert grouped.startswith(f"“tries” is a group of {similar.feeder()} results: select one")
