"""A results library entry back into GIMP: inserted into an image as new layers, or opened as
a new image. What Filters › Recraft › History… does with the entry picked, and what a script
gets from plug-in-recraft-history with an entry's id (`recraft history` lists them).

Placing is the core's (workflow.history, the same as Krita's History): an entry goes where its
job put it when the image has the size the job's had, else centred, as a new picture is.
Reading and decoding (`prepared`) may run on a worker; `put` runs on the main thread, where
GIMP may be called.
"""

from __future__ import annotations

import threading

from gimp_canvas import GimpCanvas, open_document

from recraft_core import settings
from recraft_core.api.operations import OPERATIONS
from recraft_core.exceptions import ValidationError
from recraft_core.library import Entry, LibraryError, open_library
from recraft_core.workflow import history, similar

SETTINGS_MENU = "Filters › Recraft › Settings…"


def library():
    """The library the Settings name (a stat of every record the first time: not on the main
    thread of a dialog). LibraryError saying why there is none."""
    opened = open_library()
    if opened is not None:
        return opened
    if settings.load().library_off:
        raise LibraryError(f"the results library is turned off ({SETTINGS_MENU}, Keep no results)")
    raise LibraryError("the results library could not be opened (GIMP's error console says why)")


def entry(lib, entry_id: str) -> Entry:
    entry_id = entry_id.strip()
    try:
        found = lib.get(entry_id)
    except ValueError:
        found = None
    if found is None:
        where = f"{entry_id!r} is not in the library in {lib.root}"
        raise ValidationError("entry id", f"{where} (`recraft history` lists what it holds)")
    return found


def prepared(found: Entry, canvas_size, codec=None):
    """The entry's results read, checked, decoded and placed for an image of `canvas_size`
    (None: for a new image of their own size). Disk and decoding: a worker may run it, with
    a codec that may run there."""
    return history.outcome(found, canvas_size, codec)


def put(found: Entry, outcome, image=None, layer=None, interactive: bool = False):
    """Insert `outcome` above `layer` in `image` (one undo step), or open it as a new image when
    there is no image to go into; returns the image opened, if one was. Main thread."""
    op = OPERATIONS.get(found.operation)
    keep_ids = op is not None and similar.feeds(op)  # Explore similar starts there
    if image is None or not image.is_valid():
        document = outcome.as_document()
        return open_document(document, interactive, keep_ids) if document is not None else None
    canvas = GimpCanvas(image, layer, interactive, keep_ids)
    outcome.insert_into(canvas, None)
    return canvas.opened


def by_id(entry_id: str, image=None, layer=None, new_image: bool = False):
    """What a script asks for: the entry `entry_id` inserted above `layer` in `image`, or
    opened as a new image (`new_image`, or no image); the image opened, if one was. All on
    the main thread: nobody waits at a dialog meanwhile."""
    if not entry_id.strip():
        raise ValidationError("entry id", "is required: `recraft history` lists the entries")
    lib = library()
    found = entry(lib, entry_id)
    image = None if new_image else image
    size = (image.get_width(), image.get_height()) if image is not None else None
    outcome = prepared(found, size, GimpCanvas.codec)
    opened = put(found, outcome, image, layer)
    where = "a new image" if opened is not None else image.get_name()
    mark(lib, found, f"{where}: {', '.join(names(outcome))}").join(5)
    return opened


def names(outcome) -> list[str]:
    items = outcome.layers or outcome.vectors
    if outcome.document is not None:
        return [outcome.document.name]
    return [outcome.group] if outcome.group else [item.name for item in items]


def mark(lib, found: Entry, where: str) -> threading.Thread:
    """Say in the entry's record where it went again, on a thread (disk work, and the
    library's lock another process may hold); the caller joins it before the plug-in ends."""

    def write() -> None:
        try:
            lib.mark_inserted(found.id, where)
        except (LibraryError, OSError, ValueError) as e:
            print(f"recraft: the library was not told where {found.id} went: {e}")

    thread = threading.Thread(target=write, name="recraft-library-mark", daemon=True)
    thread.start()
    return thread
