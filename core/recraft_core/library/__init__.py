"""The results library: every paid result kept on disk as it arrives, shared by the editors
and the CLI, searchable, with what it cost.

    from recraft_core.library import Library
    lib = Library()                       # ~/.local/share/recraft/library, or RECRAFT_LIBRARY
    entry_id = lib.record("generate", result.images, params=params, front_end="cli",
                          credits=result.credits)
    for entry in lib.list(search="lighthouse"):
        print(entry.id, entry.operation, entry.prompt, entry.result_paths)

The parts, bottom up:

    location     where the library lives by default; the default size cap
    records      Entry and its record.json; search words, filters, order, cost sums
    thumbnails   small PNGs from pixels the front end already decoded
    store        the files: a folder per entry, written atomically, record last
    locking      one process at a time rewrites or removes entries
    index        sqlite (WAL, FTS5) over the records, or a scan of them where no sqlite
    library      Library, the API the front ends call
"""

from __future__ import annotations

from .library import Library, LibraryError, open_library
from .location import DEFAULT_CAP, default_root
from .records import FRONT_END_NAMES, FRONT_ENDS, Cost, Entry, Insertion, ResultFile, today, when

__all__ = [
    "DEFAULT_CAP",
    "FRONT_ENDS",
    "FRONT_END_NAMES",
    "Cost",
    "Entry",
    "Insertion",
    "Library",
    "LibraryError",
    "ResultFile",
    "default_root",
    "open_library",
    "today",
    "when",
]
