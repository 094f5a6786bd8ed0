"""HTTP to the Recraft API: one keep-alive session, timeouts, retries, cancellation.

A 429 holds back every request of the Transport (RateGate), not only the one that got it:
threads that share a Client (a CLI batch, an editor's queue) then all wait out the
Retry-After instead of each spending one more request to learn it.

Retried, with backoff (or after the server's Retry-After): 429 and 503 (Recraft refused the
request for now: nothing was done) and connections that failed before the request went out, as
often as the policy allows; 500, 502 and 504 answers to a POST `server_error_retries` times
(once by default), as SDKs for similar APIs do: Recraft may have done the work before failing
(a gateway that gave up waiting, say), so each such try may be charged, and the final error
says so (`error.charged`). A POST whose answer never came whole (read timeout, reset, cut
short) is not repeated: the image may be generated and paid for already. GETs (account,
result downloads) are idempotent and retry on any transient failure.

Every error says what is known of the charge (RecraftError.charged): a connection never made
sent nothing; a request that broke before its upload went out whole cannot have been done; a
POST that reached Recraft and got no usable answer may have been charged; a result that could
not be downloaded was charged (the client adds how much).
"""

from __future__ import annotations

import email.utils
import html
import json as jsonlib
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3

from .._version import __version__
from ..exceptions import (
    CHARGED,
    MAYBE_CHARGED,
    NOT_CHARGED,
    APIError,
    AuthenticationError,
    Cancelled,
    ConnectionBroken,
    ConnectionFailed,
    InsufficientCreditsError,
    ProtocolError,
    RateLimitError,
    RecraftError,
    ResultExpired,
    ServerError,
    Timeout,
    UnreadableAnswer,
)
from .progress import Progress

log = logging.getLogger("recraft_core")

DEFAULT_BASE_URL = "https://external.api.recraft.ai/v1"


class CancelToken:
    """Set from any thread to stop an operation: waits, retries and downloads end promptly."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")

    def sleep(self, seconds: float) -> None:
        """Sleep, or raise Cancelled as soon as the token is set."""
        if self._event.wait(seconds):
            raise Cancelled("cancelled")


_NEVER = CancelToken()  # stands in when the caller passed none; nobody can set it


def _silent(progress: Progress) -> None:
    pass


class GateClosed(Cancelled):
    """The gate was closed before this request went out: this try was not sent (an earlier
    try of the same request may have been: `error.earlier` says when it may be charged)."""


class RateGate:
    """The moment before which no API request of one Transport is sent: set when one of them
    is answered 429, waited for by all of them, whichever thread sends.

    close() stops every request not yet sent for good (a CLI batch stopping on Ctrl+C, or
    on a failure every further file would meet): those waiting here and those still to come
    raise GateClosed, while those already sent go on to their answers and downloads (which
    do not pass the gate). close() only sets a flag, so a signal handler may call it."""

    POLL = 0.05  # seconds between looks at close() while a hold is waited out

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0  # time.monotonic()
        self._closed: str | None = None  # why, once closed

    def hold(self, seconds: float) -> None:
        """Send nothing for `seconds` from now (a longer hold already set stays)."""
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    @property
    def remaining(self) -> float:
        with self._lock:
            return max(0.0, self._until - time.monotonic())

    def close(self, reason: str = "stopped before it was sent") -> None:
        """Send nothing more: the requests waiting here and any to come raise GateClosed."""
        self._closed = reason

    def wait(self, cancel: CancelToken) -> None:
        """Return once the gate is open; Cancelled as soon as `cancel` is set, GateClosed as
        soon as the gate is closed."""
        # Looped: another thread may be answered 429 meanwhile and hold the gate longer.
        while True:
            if self._closed is not None:
                raise GateClosed(self._closed).charge(NOT_CHARGED)
            left = self.remaining
            if left <= 0:
                return
            cancel.sleep(min(left, self.POLL))


class _Upload:
    """A request body that requests streams chunk by chunk: each chunk is counted, and a
    cancel stops the upload between chunks instead of after the last byte."""

    CHUNK = 64 * 1024

    def __init__(self, data: bytes, cancel: CancelToken, report) -> None:
        self._view = memoryview(data)
        self._pos = 0
        self._cancel = cancel
        self._report = report

    def __len__(self) -> int:  # requests sends it as Content-Length
        return len(self._view)

    @property
    def whole(self) -> bool:
        """True once the last byte was handed to the connection. Until then the server cannot
        have the whole request, so it cannot have done (or charged) it."""
        return self._pos >= len(self._view)

    def read(self, size: int = -1) -> bytes:
        self._cancel.check()
        size = self.CHUNK if size is None or size < 0 else min(size, self.CHUNK)
        chunk = self._view[self._pos : self._pos + size]
        self._pos += len(chunk)
        total = len(self._view)
        if chunk:
            self._report(Progress("uploading", self._pos, total))
        if self._pos >= total:
            self._report(Progress("waiting"))
        return bytes(chunk)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # extra attempts after the first
    backoff: float = 0.5  # seconds before the first retry, doubling each time
    max_backoff: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is reported, not waited out
    # Extra attempts of a POST answered 500, 502 or 504 (within `retries`): each such try may
    # have been charged, so one retry gets past a passing failure without risking more.
    server_error_retries: int = 1

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so many clients do not retry in step."""
        ceiling = min(self.max_backoff, self.backoff * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _not_sent(error: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request went out."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(
        reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
    )


# 5xx answers a POST is retried after (`server_error_retries`); 503 is retried as 429 is.
_SERVER_FAILURES = (500, 502, 504)


def _transient(error: requests.RequestException) -> bool:
    """Failures a repeat may get past, unlike a malformed URL or header."""
    return isinstance(
        error,
        requests.ConnectionError | requests.Timeout | requests.exceptions.ChunkedEncodingError,
    )


# A Recraft result is at most 8192 x 8192 px; a PNG of that is under 64 MB unless it is noise.
# A bigger download is a broken or hostile server: refused before it fills the memory.
MAX_DOWNLOAD = 64 * 1024 * 1024


def _too_big(size: int, more: bool = False) -> ProtocolError:
    amount = f"{'more than ' if more else ''}{size / 1e6:.0f} MB"
    return ProtocolError(
        f"the result file is {amount}, over the {MAX_DOWNLOAD // (1024 * 1024)} MB a Recraft "
        "result can be; it was not downloaded"
    )


def _charged(error: RecraftError) -> RecraftError:
    """A download error, saying what the user most wants to know: a result URL exists only
    once Recraft has done the work, so the request was charged (the client adds how much)."""
    return error.charge(CHARGED)


def without_credentials(url: str) -> str:
    """The URL with any user:password in it blanked, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//***@", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def _blank(text: str, token: str) -> str:
    """`text` with every occurrence of `token` replaced by a mark that shares no character
    with it, so that no replacement can join its neighbours into the token again."""
    if not token or token not in text:
        return text
    mark = "***" if "*" not in token else "\u2022\u2022\u2022"  # tokens are ASCII only
    return text.replace(token, mark)


def _told(error: RecraftError, attempt: int, failed: int | None = None) -> RecraftError:
    """`error` with how often the request was sent and, when an earlier try failed on
    Recraft's side and may have been charged (`failed`, its status), that it did."""
    error.attempts = attempt + 1
    if failed is not None and not isinstance(error, ServerError):
        error.earlier = failed
    return error


_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\([\\/\"])")


def _unescape_json(text: str) -> str:
    """JSON's \\uXXXX, \\/, \\" and \\\\ escapes decoded, in a text that is not JSON as a whole."""
    return _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)) if m.group(1) else m.group(2), text)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


class Transport:
    """Sends requests to one API base URL with one token."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: tuple[float, float] = (10.0, 180.0),
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.shown_url = without_credentials(self.base_url)  # for messages and logs
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = f"recraft-editors/{__version__}"
        self.session = session
        self.gate = RateGate()  # shared by every thread that sends through this Transport

    def __repr__(self) -> str:
        return f"Transport({self.shown_url!r})"

    def scrub(self, value):
        """`value` with the token blanked out wherever it stands, whatever stands next to it
        (a server may echo it back: "Invalid token rk_....", in a URL, in quotes). A text is
        scrubbed as it is; a decoded JSON value in every string it holds, keys included, so
        that a token the server wrote JSON-escaped (\\u0072k_..., \\/) is caught once decoded.
        Other values (numbers, None) are returned as they are."""
        if isinstance(value, str):
            return _blank(value, self._token)
        if isinstance(value, dict):
            return {self.scrub(str(k)): self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        return value

    def close(self) -> None:
        self.session.close()

    # -- sending ------------------------------------------------------------------------------

    def _run(self, cancel: CancelToken, fn, *args, sent_may_cost=False, **kwargs):
        """Run fn on a worker thread so that cancel can interrupt the wait for its answer."""
        if cancel is _NEVER:
            return fn(*args, **kwargs)
        cancel.check()
        box: dict = {}
        done = threading.Event()

        def work():
            try:
                box["value"] = fn(*args, **kwargs)
            except BaseException as e:  # handed to the waiting thread below
                box["error"] = e
            finally:
                done.set()

        # On cancel the worker is left to finish on its own (a daemon thread, bounded by the
        # read timeout): requests cannot abort a call midway, but the caller is free at once.
        threading.Thread(target=work, name="recraft-request", daemon=True).start()
        while not done.wait(0.05):
            if cancel.cancelled:
                if sent_may_cost:
                    raise Cancelled("cancelled; it was sent and may still be charged").charge(
                        MAYBE_CHARGED
                    )
                raise Cancelled("cancelled")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        cancel=None,
        progress=None,
    ) -> dict:
        """Send to the API and return the JSON answer; raises the matching RecraftError, which
        says what is known of the charge (`charged`, `earlier`) and how often it was sent.

        `progress` gets a Progress for each chunk uploaded, then "waiting".
        """
        cancel = cancel or _NEVER
        report = progress or _silent
        url = self.base_url + path
        idempotent = method == "GET"
        headers = {"Authorization": f"Bearer {self._token}"}
        if content_type:
            headers["Content-Type"] = content_type
        attempt = 0
        failed = None  # the status of a try that failed on Recraft's side and may be charged
        server_failures = 0  # 500, 502 and 504 answers to this POST so far
        while True:
            cancel.check()
            try:
                self.gate.wait(cancel)
            except GateClosed as e:  # this try was not sent; an earlier one may have been
                error = _told(e, attempt, failed)
                error.attempts = attempt  # the tries that went out
                raise error from None
            started = time.monotonic()
            upload = None if body is None else _Upload(body, cancel, report)
            try:
                exchange = (self._exchange, method, url, headers, upload)
                response = self._run(cancel, *exchange, sent_may_cost=not idempotent)
            except requests.RequestException as e:
                error = self._transport_error(e, method, path, upload=upload)
                retriable = (idempotent and _transient(e)) or (
                    isinstance(e, requests.ConnectionError) and _not_sent(e)
                )
                if retriable and attempt < self.retry.retries:
                    delay = self.retry.delay(attempt)
                    log.info("%s %s failed (%s); retrying in %.1f s", method, path, error, delay)
                    attempt += 1
                    cancel.sleep(delay)
                    continue
                raise _told(error, attempt, failed) from None
            status = response.status_code
            log.debug("%s %s -> %s in %.2f s", method, path, status, time.monotonic() - started)
            if response.is_redirect or 300 <= status < 400:
                raise _told(self._redirect_error(response, path), attempt, failed)
            if response.ok:
                if failed is not None:
                    log.warning(
                        "%s %s succeeded on try %d; an earlier try failed with HTTP %s and may "
                        "have been charged too",
                        method,
                        path,
                        attempt + 1,
                        failed,
                    )
                try:
                    return self._json(response)
                except ProtocolError as e:
                    # Recraft took a POST (2xx): it may have done and charged the work.
                    e.charge(NOT_CHARGED if idempotent else MAYBE_CHARGED)
                    raise _told(e, attempt, failed) from None
            if not idempotent and status >= 500 and status != 503:
                failed = status  # it may have been done before it failed
                server_failures += status in _SERVER_FAILURES
            retry = (
                status in (429, 503)
                or (idempotent and status >= 500)
                or (
                    status in _SERVER_FAILURES
                    and server_failures <= self.retry.server_error_retries
                )
            )
            if retry and attempt < self.retry.retries:
                wait = _retry_after(response)
                delay = self.retry.delay(attempt) if wait is None else wait
                if delay <= self.retry.max_retry_after:
                    log.info("%s %s -> %s; retrying in %.1f s", method, path, status, delay)
                    attempt += 1
                    if status == 429:
                        # The account's limit, not this request's: the other threads wait too
                        # (the gate at the top of the loop).
                        self.gate.hold(delay)
                    else:
                        cancel.sleep(delay)
                    continue
            error = self._api_error(response)
            if isinstance(error, ServerError):
                error.charge(MAYBE_CHARGED if failed is not None else NOT_CHARGED)
            raise _told(error, attempt, failed)

    def _exchange(self, method: str, url: str, headers: dict, upload: _Upload | None):
        """One request and its whole answer. A failure while the answer is read carries the
        response (hence its status) as `error.response`: Recraft had answered."""
        response = self.session.request(
            method,
            url,
            headers=headers,
            data=upload,
            timeout=self.timeout,
            # A redirect is refused by the caller: followed, a 307/308 would send the spent
            # upload again as an empty body with the full Content-Length (and wait for the
            # read timeout), and a paid request would go where it was not sent.
            allow_redirects=False,
            stream=True,
        )
        try:
            response.content  # noqa: B018  (reads the whole answer, here on the worker)
        except requests.RequestException as e:
            response.close()
            e.response = response
            raise
        return response

    def download(self, url: str, cancel=None, progress=None) -> tuple[bytes, str]:
        """(bytes, content type) of a result URL. Result URLs expire: fetch them at once.

        The token is not sent: result files live on other hosts and need none. `progress`
        gets a Progress("downloading", bytes so far, Content-Length) for each chunk. Its
        errors say the call was charged (a result URL exists only once Recraft did the work).
        """
        cancel = cancel or _NEVER
        report = progress or _silent
        host = self.scrub(urlsplit(without_credentials(url)).netloc)  # for messages only
        what = f"the result file from {host}"
        for attempt in range(self.retry.retries + 1):
            cancel.check()
            try:
                return self._run(cancel, self._fetch, url, cancel, report)
            except requests.RequestException as e:
                error = self._transport_error(e, "GET", what, host, answer="the file")
                if not _transient(e):
                    raise _charged(_told(error, attempt)) from None
            except ServerError as e:
                error = e
            except (APIError, ProtocolError) as e:  # expired, or not something to download
                raise _charged(_told(e, attempt)) from None
            if attempt < self.retry.retries:
                cancel.sleep(self.retry.delay(attempt))
        raise _charged(_told(error, attempt))

    def _fetch(self, url: str, cancel: CancelToken, report) -> tuple[bytes, str]:
        with self.session.get(url, timeout=self.timeout, stream=True) as response:
            if not response.ok:
                error = self._api_error(response)
                if response.status_code in (403, 404, 410):
                    error = ResultExpired(
                        response.status_code,
                        error.code,
                        "the result's download link expired before it was fetched",
                        error.body,
                    )
                raise error
            chunks = []
            length = response.headers.get("Content-Length", "")
            total = int(length) if length.isdigit() else None
            if total is not None and total > MAX_DOWNLOAD:
                raise _too_big(total)
            received = 0
            for chunk in response.iter_content(64 * 1024):
                if cancel.cancelled:
                    raise Cancelled("cancelled")
                chunks.append(chunk)
                received += len(chunk)
                if received > MAX_DOWNLOAD:
                    raise _too_big(received, more=True)
                report(Progress("downloading", received, total))
            return b"".join(chunks), response.headers.get("Content-Type", "")

    # -- errors -------------------------------------------------------------------------------

    def _transport_error(
        self,
        e: requests.RequestException,
        method: str,
        what: str,
        host=None,
        upload: _Upload | None = None,
        answer: str = "the answer",
    ) -> RecraftError:
        """The error a failed exchange stands for, saying what is known of its charge: a GET
        is never charged; a connection never made sent nothing; a request that broke before
        its upload went out whole cannot have been done; any other POST may have been."""
        unpaid = NOT_CHARGED if method == "GET" else MAYBE_CHARGED
        where = host or self.shown_url
        if isinstance(e, requests.ConnectionError) and _not_sent(e):
            return ConnectionFailed(f"cannot connect to {where}: {self._reason(e)}").charge(
                NOT_CHARGED
            )
        if isinstance(e, requests.exceptions.SSLError):  # the handshake: nothing was sent
            reason = f"cannot connect securely to {where}: {self._reason(e)}"
            return ConnectionFailed(reason).charge(NOT_CHARGED)
        response = getattr(e, "response", None)
        if response is not None:  # the answer had begun: Recraft answered
            status = response.status_code
            reason = f"the connection broke while {answer} was being read"
            return ConnectionBroken(
                f"{what}: {reason} (HTTP {status})", reason, status=status
            ).charge(unpaid)
        if isinstance(e, requests.Timeout):
            reason = f"no answer within {self.timeout[1]:g} s"
            return Timeout(f"{what}: {reason}", reason).charge(unpaid)
        if isinstance(
            e, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
        ):
            reason = f"the connection broke while {answer} was being read"
            return ConnectionBroken(f"{what}: {reason}", reason).charge(unpaid)
        if isinstance(e, requests.ConnectionError):
            reason = self._reason(e)
            whole = upload is None or upload.whole
            error = ConnectionBroken(f"{what}: the connection broke ({reason})", reason, sent=whole)
            return error.charge(unpaid if whole else NOT_CHARGED)
        # A URL or header requests would not send: nothing went out.
        return ConnectionFailed(f"{what}: {self.scrub(type(e).__name__)}").charge(NOT_CHARGED)

    def _reason(self, e: Exception) -> str:
        """A short cause without urllib3's object reprs."""
        text = str(e)
        for pattern in (
            r"\[Errno -?\d+\] [^'\")]+",
            r"Connection (?:refused|reset)[^'\")]*",
            r"Remote end closed connection[^'\")]*",
            r"Connection aborted[^'\")]*",
            r"timed out",
        ):
            m = re.search(pattern, text)
            if m:
                return self.scrub(m.group(0).strip(" .:"))
        return self.scrub(type(e).__name__)

    def _json(self, response: requests.Response) -> dict:
        """The answer's JSON object. One that is not is said in a few words: its text stays in
        the error's `body` (scrubbed) for logs, never in what a person is shown."""
        try:
            body = response.json()
        except (ValueError, RecursionError):
            raise UnreadableAnswer(
                "not valid JSON", response.status_code, self._clean(response.text)[:2000]
            ) from None
        if not isinstance(body, dict):
            raise UnreadableAnswer(
                "not a JSON object", response.status_code, self._clean(response.text)[:2000]
            )
        return body

    def _clean(self, text: str) -> str:
        """A text from the network, to be kept for logs: scrubbed as it is and, should HTML
        entities or JSON escapes spell the token in it, once more with those decoded."""
        text = self.scrub(text)
        for decode in (html.unescape, _unescape_json):
            decoded = decode(text)
            if self.scrub(decoded) != decoded:
                text = self.scrub(decoded)
        return text

    def _redirect_error(self, response: requests.Response, path: str) -> APIError:
        """Recraft's API does not redirect: a 3xx is a wrong server address (or a proxy in the
        way), said as such instead of followed with the request and the token."""
        status = response.status_code
        location = self.scrub(response.headers.get("Location") or "")
        location = " ".join(without_credentials(location).split())[:300]
        to = f" to {location}" if location else ""
        message = (
            f"the server at {self.shown_url} redirects {path}{to} (HTTP {status}); Recraft's "
            "API does not redirect, so the request was not sent again: check the server address"
        )
        return APIError(status, None, message, self.scrub(response.text or "")[:2000])

    def _api_error(self, response: requests.Response) -> APIError:
        """The error an answer stands for, with the token blanked out of everything it holds:
        the body once decoded (so that JSON escapes cannot hide the token), the code, the
        message and the reason phrase that stands in for an empty body."""
        status = response.status_code
        raw = response.text or ""
        code = message = None
        try:
            body = self.scrub(jsonlib.loads(raw))
            text = self.scrub(jsonlib.dumps(body, ensure_ascii=False))
        except (ValueError, RecursionError):
            body, text = None, self.scrub(raw)
            # An HTML page may spell the token with entities (&#114;k_...): decoded then.
            decoded = html.unescape(text)
            if self.scrub(decoded) != decoded:
                text = self.scrub(decoded)
        if isinstance(body, dict):
            code = body.get("code")
            message = body.get("message") or body.get("error") or body.get("detail")
            if isinstance(message, dict | list):
                message = jsonlib.dumps(message, ensure_ascii=False)
        if not message:
            if "html" in response.headers.get("Content-Type", "") or text.lstrip().startswith("<"):
                title = _TITLE.search(text)
                brief = html.unescape(_TAGS.sub("", title.group(1))).strip() if title else ""
                message = "the server answered with an HTML page" + (f" ({brief})" if brief else "")
            else:
                message = " ".join(text.split())[:300] or response.reason or "no details"
        # A number or the reason phrase may hold the token too: every text is scrubbed last.
        message = self.scrub(str(message))
        code = self.scrub(str(code)) if code is not None else None
        body_text = text[:2000]
        kind = APIError
        if status in (401, 403):
            kind = AuthenticationError
        elif status == 402 or "credit" in (code or "").lower():
            kind = InsufficientCreditsError
        elif status == 429:
            return RateLimitError(
                status, code, message, body_text, retry_after=_retry_after(response)
            )
        elif status >= 500:
            kind = ServerError
        return kind(status, code, message, body_text)
