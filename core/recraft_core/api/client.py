"""Client: every operation of the API as a method (methods.py, written from the table), over
one Transport."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from .. import settings
from ..exceptions import (
    CHARGED,
    NOT_CHARGED,
    Cancelled,
    NoToken,
    ProtocolError,
    RecraftError,
    ValidationError,
)
from . import results, validation, wire
from .methods import Methods
from .operations import OPERATIONS, Operation
from .progress import Progress
from .results import Image, ImageResult
from .transport import (
    DEFAULT_BASE_URL,
    CancelToken,
    RetryPolicy,
    Transport,
    without_credentials,
)


def _check_base_url(url: str) -> str:
    """Only https leaves this machine: the token must never cross a network in clear text."""
    shown = without_credentials(url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port out of range or not a number)
    except ValueError as e:
        raise ValidationError("base_url", f"{shown!r} is not a valid URL ({e})") from None
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback:
            return url
        raise ValidationError(
            "base_url", f"{shown} is plain http; only https is allowed off this machine"
        )
    raise ValidationError("base_url", f"{shown!r} is not an http(s) URL")


class Client(Methods):
    """A Recraft account.

    The token comes from the argument, RECRAFT_API_TOKEN or the saved settings (`recraft
    login`); the API base URL from the argument, RECRAFT_API_URL, the saved settings when the
    token came from them too, or https://external.api.recraft.ai/v1.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        base_url: str | None = None,
        timeout: tuple[float, float] = (10.0, 180.0),
        retry: RetryPolicy | None = None,
        session=None,
    ) -> None:
        token = token or os.environ.get("RECRAFT_API_TOKEN")
        saved = None if token else settings.load()
        token = (token or (saved and saved.token) or "").strip()
        if not token:
            raise NoToken()
        if not all("!" <= c <= "~" for c in token):
            # Said without the token itself: it must not reach a message.
            raise ValidationError("token", "has spaces, line breaks or non-ASCII characters")
        # A saved login is a token and the server it belongs to: its URL only goes with its token.
        saved_url = saved.base_url if saved else None
        base_url = _check_base_url(
            base_url or os.environ.get("RECRAFT_API_URL") or saved_url or DEFAULT_BASE_URL
        )
        self._transport = Transport(token, base_url, timeout, retry, session)

    def __repr__(self) -> str:
        return f"<recraft_core.Client {self._transport.shown_url}>"

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def gate(self):
        """The RateGate every request of this Client waits at: one 429 holds them all for
        the time Recraft asks; closing it stops what has not been sent (a batch's Ctrl+C)."""
        return self._transport.gate

    def close(self) -> None:
        self._transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def scrub(self, value):
        """`value` with this client's token blanked out wherever it stands: a text, or every
        string of a decoded JSON value (a result's raw answer, say, before it is printed)."""
        return self._transport.scrub(value)

    def prepare(self, operation: str, **params) -> wire.Prepared:
        """Check the parameters and build the request without sending it."""
        op = _operation(operation)
        files = {f.name: params.pop(f.name) for f in op.files if f.name in params}
        uploads = validation.load_files(op, files)
        return wire.build(op, validation.validate(op, params, uploads), uploads)

    def call(self, operation: str, *, cancel: CancelToken | None = None, progress=None, **params):
        """Run one operation: check, send, download the results, return them typed.

        `progress` is called with a Progress (stage, bytes done, total) from the calling
        thread or the download threads; `cancel` stops the call at the next chunk or wait.
        """
        op = _operation(operation)
        report = progress or (lambda event: None)
        prepared = self.prepare(op.name, **params)
        if cancel is not None:
            cancel.check()
        body, content_type = prepared.body()
        # The transport's errors have the token blanked out of what they quote from the network.
        answer = self._transport.request(
            prepared.method,
            prepared.path,
            body=body,
            content_type=content_type,
            cancel=cancel,
            progress=report,
        )
        try:
            return self._result(op, answer, cancel, report)
        except Cancelled as e:
            if prepared.method == "GET" or e.charged == CHARGED:
                raise
            cost = _cost(answer)
            if cost == 0:
                raise
            raise Cancelled(
                "cancelled while the results were downloading; Recraft had answered and the "
                "call was charged"
            ).charge(CHARGED, cost) from None
        except RecraftError as e:
            if isinstance(e, ProtocolError):
                # An answer that cannot be used is quoted (a URL, a field): never with the token.
                e.scrub(self._transport.scrub)
            # Recraft answered: a POST it took was done and charged, whatever went wrong with
            # its result here. The answer says how much (no credits: nothing was charged).
            cost = _cost(answer)
            if prepared.method == "GET" or cost == 0:
                e.charge(NOT_CHARGED)
            else:
                e.charge(CHARGED, cost)
            raise

    # -- results ------------------------------------------------------------------------------

    def _result(self, op: Operation, answer: dict, cancel, report):
        """The typed result of an answer, its images downloaded."""
        credits = results.credits_of(op.name, answer)
        if op.result in results.PARSERS:
            return results.PARSERS[op.result](op.name, answer)
        items = results.image_items(op.name, op.result, answer)
        images = self._images(items, cancel, report)
        return ImageResult(images, credits, answer.get("created"), answer.get("style_id"), answer)

    def _images(self, items: list[dict], cancel, report) -> list[Image]:
        received = [0] * len(items)
        totals: list[int | None] = [None] * len(items)
        lock = threading.Lock()

        def one(index: int, item: dict) -> Image:
            def counted(event: Progress) -> None:
                # Several downloads run at once: report their sum as one bar.
                with lock:
                    received[index], totals[index] = event.done, event.total
                    known = None if None in totals else sum(totals)
                    report(Progress("downloading", sum(received), known))

            b64, url = item.get("b64_json"), item.get("url")
            if b64:
                try:
                    data = base64.b64decode(b64, validate=True)
                except (binascii.Error, ValueError, TypeError):
                    raise ProtocolError("an image in the answer is not valid base64") from None
                header = ""
            elif url:
                if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                    raise ProtocolError(f"an image URL in the answer is not usable: {url!r}")
                data, header = self._transport.download(url, cancel, counted)
            else:
                raise ProtocolError("an image in the answer has neither url nor b64_json")
            info = results.check_image(data, header)
            return Image(data, info.mime, item.get("image_id"), url)

        report(Progress("downloading", 0, None))
        if len(items) == 1:
            return [one(0, items[0])]
        # URLs expire and each download waits on the network: fetch them side by side.
        with ThreadPoolExecutor(max_workers=min(len(items), 6)) as pool:
            futures = [pool.submit(one, i, item) for i, item in enumerate(items)]
            try:
                return [f.result() for f in futures]
            except Cancelled:
                for f in futures:
                    f.cancel()
                raise


def _cost(answer: dict) -> int | None:
    """The credits an answer says its call cost, if it says it in a number."""
    credits = answer.get("credits")
    if isinstance(credits, int) and not isinstance(credits, bool) and credits >= 0:
        return credits
    return None


def _operation(name: str) -> Operation:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise ValidationError(
            "operation", f"{name!r} is not one of: {', '.join(OPERATIONS)}"
        ) from None
