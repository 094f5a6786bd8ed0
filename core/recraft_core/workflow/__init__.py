"""The editor workflow both plug-ins share: an editor implements `Canvas`, `Job` does the rest.

canvas      the Canvas and Codec protocols, and what a job inserts (NewLayer, NewVector, ...)
job         one operation's lifecycle: prepare (UI thread), run (worker), apply (UI thread)
upload      what a job sends: the source read within the limits, masks, files under 10 MB
placing     what its answer becomes: results decoded, blended and placed (Outcome)
editor      what an editor's Settings give a job: its Client, the results library
references  layers read small for create_style
memory      a Canvas in memory: the example to follow and the tests' canvas
"""

from .canvas import Canvas, Codec, NewDocument, NewLayer, NewVector, PurePythonCodec
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
