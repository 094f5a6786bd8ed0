"""One Recraft operation on an editor's canvas, from the selection to the new layers.

    job = Job(client, "inpaint", canvas, {"prompt": "a red hat"})
    job.prepare()        # UI thread: checks the form, reads pixels and selection, plans
    job.encode_ahead()   # optional, a thread of the queue's while the job waits its turn
    job.start()          # a worker thread: masks, encoding, upload, wait, download, decoding
    ...                  # the UI polls job.progress and job.done; job.cancel() at any time
    job.apply()          # UI thread: inserts the results, unless cancelled or failed

A job never raises from `run` or `apply`: a failure is kept in `job.error` (a RecraftError
with a `user_message`), and the canvas is left untouched. Nothing is applied after a cancel.

The job is the lifecycle: states, threads, cancel, progress. What is sent is `upload`'s
business, what comes back `placing`'s, outpainting's geometry `planning.Expansion`'s.
"""

from __future__ import annotations

import logging
import threading

from ..api import catalog, forms, validation
from ..api.operations import OPERATIONS
from ..api.progress import Progress
from ..api.transport import CancelToken
from ..exceptions import CHARGED, NOT_CHARGED, Cancelled, RecraftError, ValidationError
from ..imaging import planning
from ..imaging.png import Raster
from .canvas import Canvas, PurePythonCodec
from .editor import SETTINGS, Keeper, editor_client
from .placing import Outcome, Placer, layer_name
from .upload import Options, Upload, encode_references, missing_selection

__all__ = ["Job", "Options", "Outcome", "editor_client", "layer_name", "missing_selection"]

log = logging.getLogger("recraft_core.workflow")


class Job:
    """One operation on one canvas. See the module docstring for the threads."""

    def __init__(
        self,
        client,
        operation: str,
        canvas: Canvas | None,
        params: dict | None = None,
        *,
        options: Options | None = None,
        references: list[Raster] | None = None,
        front_end: str | None = None,
        library=SETTINGS,
        document: str | None = None,
        reference_names: list[str] | None = None,
        codec=None,
    ) -> None:
        if operation not in OPERATIONS:
            raise ValidationError("operation", f"{operation!r} is not a Recraft operation")
        self.op = OPERATIONS[operation]
        self.client = client
        self.canvas = canvas
        self.params = dict(params or {})
        self.options = options or Options()
        self.references = list(references or [])
        # The results library: paid results are kept there as they arrive, before anything
        # can fail. An editor names itself (`front_end`) and gets the one its Settings ask
        # for; None: none; or a Library of the caller's.
        self.document = document
        # `reference_names`: the references' layer or file names, for a created style's
        # label in the forms that offer it.
        self._keeper = Keeper(library, front_end, document, reference_names or ())
        self.error: RecraftError | None = None
        self.outcome: Outcome | None = None
        # `codec`: the editor's own, for a job with no canvas (results that open a new
        # document) to decode as the canvas's would; else the canvas's; else pure Python.
        codec = codec or (getattr(canvas, "codec", None) if canvas else None) or PurePythonCodec()
        # Decided once: a codec bound to the UI thread encodes in prepare and decodes in
        # apply; the worker then has the pure-Python one (to re-encode a file over 10 MB).
        self._codec = codec
        self._codec_on_ui = not codec.thread_safe
        self._worker_codec = PurePythonCodec() if self._codec_on_ui else codec
        self._progress = Progress("preparing")
        self._cancel = CancelToken()
        self._done = threading.Event()
        self._state = "new"
        self._lock = threading.Lock()
        self._upload: Upload | None = None
        self._notes: list[str] = []  # the upload's, once it is let go
        # What run sends, when made before its turn (encode_ahead): made once, under the lock,
        # by whichever thread comes first; run takes it and lets it go once sent.
        self._inputs: dict | None = None
        self._inputs_lock = threading.Lock()
        self._encoded = False
        self._canvas_size: tuple[int, int] | None = None  # read on the UI thread, kept
        self._placer: Placer | None = None  # set when the request is sent
        self._result: object = None

    def __repr__(self) -> str:
        return f"<Job {self.op.name} {self._state}>"

    # -- what the UI reads -------------------------------------------------------------------

    @property
    def progress(self) -> Progress:
        return self._progress

    @property
    def state(self) -> str:
        """new, prepared, running, finished, failed, cancelled, applying or applied."""
        return self._state

    @property
    def done(self) -> bool:
        """True once run ended, whatever the way."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def entry_id(self) -> str | None:
        """The results' entry in the library, once they are kept there."""
        return self._keeper.entry_id

    @property
    def cost(self) -> int | None:
        """Credits by Recraft's price list, before the run; None when not known."""
        return forms.cost(self.op, self.params)

    @property
    def notes(self) -> list[str]:
        """What was done to the source to send it (cropped, scaled), in plain words."""
        return list(self._upload.notes) if self._upload is not None else list(self._notes)

    @property
    def encoded(self) -> bool:
        """Its files are made (before its turn, or by run): what is left is the network's
        wait, and Recraft's."""
        return self._encoded

    def cancel(self) -> None:
        """Stop the job: the upload, the wait or the download ends within a moment, and
        apply inserts nothing. A request already sent may still be charged. A job not yet
        started (waiting in a queue) ends at once: nothing was sent."""
        self._cancel.cancel()
        with self._lock:
            if self._state in ("new", "prepared"):
                self._fail(Cancelled("cancelled before it was sent").charge(NOT_CHARGED))
                self._done.set()

    # -- UI thread: before -------------------------------------------------------------------

    def prepare(self) -> None:
        """Check the parameters and read what the operation needs from the canvas.

        Raises ValidationError (also kept in `error`) when something is missing or wrong,
        before anything is read or sent.
        """
        if self._state != "new":
            raise RuntimeError(f"prepare() called on a {self._state} job; make a new Job")
        try:
            self._prepare()
        except RecraftError as e:
            self._fail(e)
            raise
        self._state = "prepared"

    def _prepare(self) -> None:
        op = self.op
        validation.validate(op, self.params, cross_field=False)
        if self.canvas is not None:
            self._canvas_size = self.canvas.size()
        if "layers" in op.roles:
            if not self.references and not self.params.get("source_styles"):
                raise ValidationError("images", "choose at least one layer as a reference")
            if len(self.references) > catalog.MAX_STYLE_IMAGES:
                raise ValidationError(
                    "images",
                    f"{len(self.references)} layers are chosen; a style is made from at most "
                    f"{catalog.MAX_STYLE_IMAGES}: choose {catalog.MAX_STYLE_IMAGES} or fewer",
                )
        if not op.reads_layer:
            return  # generate, explore, styles, prompts, account: nothing to read
        if self.canvas is None:
            raise ValidationError("image", f"{op.title} needs an open image")
        if op.needs_selection:
            model = validation.model_of(op, self.params)
            if model is not None and model.vector:
                raise ValidationError(
                    "model",
                    f"{model.label} redraws the whole image as shapes and cannot fill just the "
                    "selection; choose a raster model",
                )
        expansion = planning.Expansion.of(self.params) if op.extends else None
        self._upload = Upload.read(op, self.canvas, self.options, expansion)
        if self._codec_on_ui:
            self._upload.encode_now(self._codec)

    # -- worker thread -----------------------------------------------------------------------

    def encode_ahead(self) -> None:
        """Make the files run sends (masks, PNG encoding) now, on a thread of the caller's,
        while the job waits in a queue for its turn: the CPU work then falls in the seconds
        the running jobs wait for Recraft, and run sends at once. Nothing is sent here, so a
        job cancelled meanwhile costs nothing; a failure is left for run to meet and report.
        Never raises."""
        if self._state != "prepared" or self._cancel.cancelled:
            return
        try:
            self._files_once(lambda event: None)  # it still shows as waiting
        except RecraftError:
            pass  # cancelled, or a refusal: run makes the files again and reports it
        except Exception:
            log.exception("recraft job %s: encoding ahead failed", self.op.name)

    def _files_once(self, report) -> None:
        with self._inputs_lock:
            if not self._encoded:  # made once: run may have taken (and let go) them already
                self._inputs = self._files(report)
                self._encoded = True

    def _take_files(self) -> dict:
        self._files_once(self._report)
        with self._inputs_lock:
            inputs, self._inputs = self._inputs, None
        return inputs or {}

    def start(self) -> threading.Thread:
        """Run on a daemon thread; poll `done` and `progress` from the UI."""
        thread = threading.Thread(target=self.run, name=f"recraft-{self.op.name}", daemon=True)
        thread.start()
        return thread

    def run(self) -> None:
        """Masks, encoding, the call, checks, decoding and compositing. Never raises."""
        with self._lock:
            if self._state != "prepared":
                if self._state == "new":
                    self._fail(RecraftError("the job was not prepared (call prepare first)"))
                return  # already running, or over: never send twice
            self._state = "running"
        try:
            self._cancel.check()
            inputs = self._take_files()
            params = self._request_params()
            expansion = planning.Expansion.of(params) if self.op.extends else None
            self._placer = Placer(
                self.op, self.params, self._codec, self._upload, expansion, self._canvas_size
            )
            self._cancel.check()
            result = self.client.call(
                self.op.name, cancel=self._cancel, progress=self._report, **params, **inputs
            )
            inputs = None
            self._result = result
            # Paid for: kept before a cancel or a failure can lose it.
            self._keeper.keep(
                self.op, result, params, self._upload, self._canvas_size, self.references
            )
            self._cancel.check()
            if not self._codec_on_ui:
                self.outcome = self._placer.outcome(result, self._cancel.check, self._report)
                self._keeper.thumbnails(self.outcome)
            with self._lock:
                self._cancel.check()
                self._state = "finished"
        except RecraftError as e:  # cancelled too: charged, as _fail says, once answered
            self._fail(e)
        except Exception as e:  # a bug must reach the user as a message, not a traceback
            log.exception("recraft job %s failed", self.op.name)
            said = self.client.scrub(str(e))  # whatever it quotes, never the token
            self._fail(RecraftError(f"unexpected {type(e).__name__}: {said}"))
        finally:
            self._done.set()

    def _files(self, report) -> dict:
        if self.references:
            return encode_references(
                self.references, self._worker_codec, self._cancel.check, report
            )
        if self._upload is None:
            return {}
        return self._upload.files(self._worker_codec, self._cancel.check, report)

    def _request_params(self) -> dict:
        if not self.op.extends:
            return dict(self.params)
        plan = self._upload.plan if self._upload is not None else None
        return planning.Expansion.of(self.params).request(self.params, plan)

    def _report(self, event: Progress) -> None:
        self._progress = event

    def _fail(self, error: RecraftError) -> None:
        """Keep the first error: it is the cause, and later ones follow from it. Once Recraft
        answered, the call was charged whatever failed after: the error says so."""
        if self._result is not None and error.charged is None:
            error.charge(CHARGED, getattr(self._result, "credits", None))
        if self.error is None:
            self.error = error
        self._state = "cancelled" if isinstance(self.error, Cancelled) else "failed"

    # -- UI thread: after --------------------------------------------------------------------

    def apply(self, select: list[int] | None = None) -> Outcome | None:
        """Insert the results (UI thread): all of them, or those at the `select` indexes.

        Nothing happens unless the job finished: while it runs, after a cancel or after a
        failure, the canvas stays as it was and None is returned."""
        with self._lock:
            if not self.done:
                return None
            if self._state != "finished" or self._cancel.cancelled:
                if self._cancel.cancelled and self.error is None:
                    self._fail(Cancelled("cancelled after Recraft answered; it was charged"))
                return None
            self._state = "applying"
        try:
            if self.outcome is None:  # a codec that must run on the UI thread
                self.outcome = self._placer.outcome(self._result, self._cancel.check, self._report)
                self._keeper.thumbnails(self.outcome)
            self._report(Progress("placing"))
            if self.canvas is not None:
                self.outcome.insert_into(self.canvas, select)
        except Exception as e:
            self._fail_apply(e)
            return None
        if self.canvas is not None:
            self._keeper.inserted(self.outcome, select)
        self._state = "applied"
        self._let_go()
        self._report(Progress("done"))
        return self.outcome

    def _let_go(self) -> None:
        """What only running and placing needed: the source as read, the files, Recraft's
        answer. An editor keeps applied jobs for their results (a strip to insert again from);
        a 16 MP source and its answer are 100 MB it need not hold for a whole session."""
        if self._upload is not None:
            self._notes = list(self._upload.notes)
        self._upload = self._placer = self._result = self._inputs = None

    def insert(self, index: int) -> None:
        """Insert result `index` once more (the results strip), as one undo step."""
        if self._state != "applied" or self.outcome is None:
            raise RecraftError("only the results of an applied job can be inserted again")
        try:
            if self.canvas is not None:
                self.outcome.insert_into(self.canvas, [index], grouped=False)
        except Exception as e:
            self._fail_apply(e)
            raise self.error from None

    def _fail_apply(self, error: Exception) -> None:
        if not isinstance(error, RecraftError):
            log.exception("inserting the results of %s failed", self.op.name)
            error = RecraftError(f"the editor could not insert the result: {error}")
        self.error = None
        self._fail(error)
