"""Naming and flipping variations: pure functions both editors use."""

import pytest

from recraft_core.workflow import variations


def test_names_say_which_of_how_many():
    assert variations.label("Recraft generate: a fox", 1, 4) == "Recraft generate: a fox #2 of 4"
    assert variations.number("Recraft generate: a fox #2 of 4") == (2, 4)
    assert variations.number("Recraft generate: a fox #2") is None
    assert variations.number("x #5 of 4") is None
    assert variations.kept("Recraft generate: a fox #2 of 4") == "Recraft generate: a fox"


def test_a_group_of_variations_is_told_by_its_childrens_names():
    names = [variations.label("g", i, 3) for i in range(3)]
    assert variations.is_group_of_variations(names)
    assert not variations.is_group_of_variations(names[:1])
    assert not variations.is_group_of_variations([*names, "Paint layer"])


@pytest.mark.parametrize(
    ("visible", "step", "after"),
    [
        ([True, False, False], 1, [False, True, False]),
        ([False, False, True], 1, [True, False, False]),  # wraps
        ([True, False, False], -1, [False, False, True]),
        ([False, True, True], 1, [False, False, True]),  # several: from the first showing
        ([False, False, False], 1, [True, False, False]),  # none: the first
        ([False, False, False], -1, [False, False, True]),
        ([], 1, []),
    ],
)
def test_flipping_shows_exactly_one(visible, step, after):
    assert variations.flip(visible, step) == after
