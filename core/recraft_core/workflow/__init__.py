"""The editor workflow both plug-ins share: an editor implements `Canvas`, `Job` does the rest.

canvas   the Canvas and Codec protocols, and what a job inserts (NewLayer, NewVector, ...)
job      one operation: prepare (UI thread), run (worker), apply (UI thread)
memory   a Canvas in memory: the example to follow and the tests' canvas
references  layers read small for create_style
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
