"""HTTP to the Recraft API: one keep-alive session, timeouts, safe retries, cancellation.

Retries are only where a repeat cannot charge twice: 429 and 503 (the server refused the
request), and connections that failed before the request went out. A POST whose answer never
came (read timeout, reset) is not repeated: the image may be generated and paid for already.
GETs (account, result downloads) are idempotent and retry on any transient failure.
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
    APIError,
    AuthenticationError,
    Cancelled,
    ConnectionFailed,
    InsufficientCreditsError,
    ProtocolError,
    RateLimitError,
    RecraftError,
    ServerError,
    Timeout,
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
    once Recraft has done the work, so the request was charged."""
    note = "; the operation itself succeeded and was charged"
    if isinstance(error, APIError):
        return type(error)(error.status, error.code, error.message + note, error.body)
    return type(error)(f"{error}{note}")


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

    def _run(self, cancel: CancelToken, fn, *args, cancelled_note="cancelled", **kwargs):
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
                raise Cancelled(cancelled_note)
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
        """Send to the API and return the JSON answer; raises the matching RecraftError.

        `progress` gets a Progress for each chunk uploaded, then "waiting".
        """
        cancel = cancel or _NEVER
        report = progress or _silent
        url = self.base_url + path
        idempotent = method == "GET"
        headers = {"Authorization": f"Bearer {self._token}"}
        if content_type:
            headers["Content-Type"] = content_type
        note = "cancelled" if idempotent else "cancelled; it was sent and may still be charged"
        attempt = 0
        while True:
            cancel.check()
            started = time.monotonic()
            try:
                response = self._run(
                    cancel,
                    self.session.request,
                    method,
                    url,
                    cancelled_note=note,
                    headers=headers,
                    data=None if body is None else _Upload(body, cancel, report),
                    timeout=self.timeout,
                    # A redirect is refused below: followed, a 307/308 would send the spent
                    # upload again as an empty body with the full Content-Length (and wait
                    # for the read timeout), and a paid request would go where it was not sent.
                    allow_redirects=False,
                )
            except requests.RequestException as e:
                error = self._transport_error(e, method, path)
                retriable = (idempotent and _transient(e)) or (
                    isinstance(e, requests.ConnectionError) and _not_sent(e)
                )
                if retriable and attempt < self.retry.retries:
                    delay = self.retry.delay(attempt)
                    log.info("%s %s failed (%s); retrying in %.1f s", method, path, error, delay)
                    attempt += 1
                    cancel.sleep(delay)
                    continue
                raise error from None
            log.debug(
                "%s %s -> %s in %.2f s",
                method,
                path,
                response.status_code,
                time.monotonic() - started,
            )
            if response.is_redirect or 300 <= response.status_code < 400:
                raise self._redirect_error(response, path)
            if response.ok:
                return self._json(response)
            refused = response.status_code in (429, 503)
            if (
                refused or (idempotent and response.status_code >= 500)
            ) and attempt < self.retry.retries:
                wait = _retry_after(response)
                delay = self.retry.delay(attempt) if wait is None else wait
                if delay <= self.retry.max_retry_after:
                    log.info(
                        "%s %s -> %s; retrying in %.1f s", method, path, response.status_code, delay
                    )
                    attempt += 1
                    cancel.sleep(delay)
                    continue
            raise self._api_error(response)

    def download(self, url: str, cancel=None, progress=None) -> tuple[bytes, str]:
        """(bytes, content type) of a result URL. Result URLs expire: fetch them at once.

        The token is not sent: result files live on other hosts and need none. `progress`
        gets a Progress("downloading", bytes so far, Content-Length) for each chunk.
        """
        cancel = cancel or _NEVER
        report = progress or _silent
        host = self.scrub(urlsplit(without_credentials(url)).netloc)  # for messages only
        what = f"result file from {host}"
        for attempt in range(self.retry.retries + 1):
            cancel.check()
            try:
                return self._run(cancel, self._fetch, url, cancel, report)
            except requests.RequestException as e:
                error = self._transport_error(e, "GET", what, host)
                if not _transient(e):
                    raise _charged(error) from None
            except ServerError as e:
                error = e
            except (APIError, ProtocolError) as e:  # expired, or not something to download
                raise _charged(e) from None
            if attempt < self.retry.retries:
                cancel.sleep(self.retry.delay(attempt))
        raise _charged(error)

    def _fetch(self, url: str, cancel: CancelToken, report) -> tuple[bytes, str]:
        with self.session.get(url, timeout=self.timeout, stream=True) as response:
            if not response.ok:
                error = self._api_error(response)
                if response.status_code in (403, 404, 410):
                    error = APIError(
                        response.status_code,
                        error.code,
                        "the result URL has expired or is gone; results must be downloaded "
                        "right away: run the operation again",
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

    def _transport_error(self, e: requests.RequestException, method: str, what: str, host=None):
        if isinstance(e, requests.ConnectionError) and _not_sent(e):
            where = host or self.shown_url
            return ConnectionFailed(f"cannot connect to {where}: {self._reason(e)}")
        if isinstance(e, requests.Timeout):
            charged = "" if method == "GET" else "; it may still finish and be charged"
            return Timeout(f"{what}: no answer within {self.timeout[1]:g} s{charged}")
        if isinstance(
            e, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
        ):
            charged = "" if method == "GET" else "; the request was processed and may be charged"
            return ConnectionFailed(
                f"{what}: the connection broke while the answer was being read{charged}"
            )
        if isinstance(e, requests.ConnectionError):
            charged = "" if method == "GET" else "; the request may have been processed and charged"
            return ConnectionFailed(f"{what}: the connection broke ({self._reason(e)}){charged}")
        return ConnectionFailed(f"{what}: {self.scrub(type(e).__name__)}")

    def _reason(self, e: Exception) -> str:
        """A short cause without urllib3's object reprs."""
        text = str(e)
        for pattern in (
            r"\[Errno -?\d+\] [^'\")]+",
            r"Connection (?:refused|reset|aborted)[^'\")]*",
            r"timed out",
        ):
            m = re.search(pattern, text)
            if m:
                return self.scrub(m.group(0).strip(" .:"))
        return self.scrub(type(e).__name__)

    def _json(self, response: requests.Response) -> dict:
        try:
            body = response.json()
        except ValueError:
            snippet = self.scrub(response.text)[:120]
            raise ProtocolError(f"the API's answer is not valid JSON: {snippet!r}") from None
        if not isinstance(body, dict):
            raise ProtocolError(f"the API's answer is not a JSON object: {type(body).__name__}")
        return body

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
