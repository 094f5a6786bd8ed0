"""Checks of results brought back from the library (issue 20) as variations (issue 21), run
inside GIMP as gimp_checks.py's are (its main() takes CHECKS from every checks_*.py beside it).
GIMP's own Python runs this file: the standard library and gi only.
"""

import glob
import json
import os

from checks_nondestructive import PREFIX, layers
from gimp_checks import call, composite, picture, select


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


def _newest(library, operation) -> str:
    """The id of the library's newest entry of `operation`, from the records on disk."""
    found = []
    for path in glob.glob(os.path.join(library, "*", "*", "record.json")):
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        if record["operation"] == operation:
            found.append((record["time"], record["id"]))
    return max(found)[1]


def history_soft(ctx, library, prompt, selection_shape, feather=0.0, image=None) -> dict:
    """An inpaint through a soft selection on `picture(**image)`'s photo layer, as inserted
    first; then its library entry inserted by plug-in-recraft-history into another such
    picture (no selection): the layers (dumped, with their masks) and what each image
    shows."""
    got = {}
    for run in ("first", "again"):
        image_, photo = picture(**(image or {}))
        try:
            if run == "first":
                select(image_, selection_shape, feather)
                got["call"] = call(PREFIX + "inpaint", image_, [photo], {"prompt": prompt})
                got["entry_id"] = _newest(library, "inpaint")
            else:
                args = {"entry-id": got["entry_id"]}
                got["insert"] = call(PREFIX + "history", image_, [photo], args)
            got[run] = {"layers": layers(ctx, image_), "composite": composite(ctx, image_)}
        finally:
            image_.delete()
    return got


CHECKS = {"history_variations": history_variations, "history_soft": history_soft}
