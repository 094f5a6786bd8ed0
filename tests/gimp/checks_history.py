"""Checks of results brought back from the library (issue 20) as variations (issue 21), run
inside GIMP as gimp_checks.py's are (its main() takes CHECKS from every checks_*.py beside it).
GIMP's own Python runs this file: the standard library and gi only.
"""

from checks_nondestructive import PREFIX, layers
from gimp_checks import call, picture


def history_variations(ctx, entry_id, image=None, flips=("next",)) -> dict:
    """The library entry `entry_id` (several results) inserted into `picture(**image)` by
    plug-in-recraft-history on its photo layer, as a script does; then each of `flips` ("next"
    or "previous" variation) called on the top layer (the group the results went into). The
    layers (digested, with their visibility) after the insert and after each flip."""
    image_, photo = picture(**(image or {}))
    try:
        got = {"insert": call(PREFIX + "history", image_, [photo], {"entry-id": entry_id})}
        got["inserted"] = layers(ctx, image_, False)
        got["flips"] = []
        for what in flips:
            group = image_.get_layers()[0]
            done = call(f"{PREFIX}{what}-variation", image_, [group], {})
            got["flips"].append({"what": what, "call": done, "layers": layers(ctx, image_, False)})
        return got
    finally:
        image_.delete()


CHECKS = {"history_variations": history_variations}
