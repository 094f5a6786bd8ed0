"""The editor workflow both plug-ins share: an editor implements `Canvas`, `Job` does the rest.

canvas      the Canvas and Codec protocols, and what a job inserts (NewLayer, NewVector, ...)
job         one operation's lifecycle: prepare (UI thread), run (worker), apply (UI thread)
upload      what a job sends: the source read within the limits, masks, files under 10 MB
placing     what its answer becomes: results decoded, blended and placed (Outcome)
editor      what an editor's Settings give a job: its Client, the results library
references  layers read small for create_style
variations  n results as one group, one showing at a time: names, flipping, keeping one
queue       many jobs at once: JobQueue, and Batch summaries
history     results from the library back into a canvas or a form (the History views)
styles      created styles kept in the library, offered again by name
similar     Explore similar: what it starts from, and what to say when that is missing
memory      a Canvas in memory: the example to follow and the tests' canvas
"""

from .canvas import (
    Canvas,
    Codec,
    NewCutout,
    NewDocument,
    NewLayer,
    NewVector,
    PurePythonCodec,
)
from .job import Job, Options, Outcome, editor_client, layer_name, missing_selection
from .memory import MemoryCanvas, MemoryLayer
from .references import REFERENCE_SIDE, read_reference

__all__ = [
    "REFERENCE_SIDE",
    "Canvas",
    "Codec",
    "Job",
    "MemoryCanvas",
    "MemoryLayer",
    "NewCutout",
    "NewDocument",
    "NewLayer",
    "NewVector",
    "Options",
    "Outcome",
    "PurePythonCodec",
    "editor_client",
    "layer_name",
    "missing_selection",
    "read_reference",
]
