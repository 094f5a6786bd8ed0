"""Every error recraft_core raises.

    RecraftError
    ├── ValidationError          bad input, caught before any byte is sent
    ├── APIError                 the API answered with an error status
    │   ├── AuthenticationError      401 / 403
    │   ├── InsufficientCreditsError not enough API units
    │   ├── RateLimitError           429, after the retries ran out
    │   └── ServerError              5xx
    ├── ProtocolError            a 2xx answer we could not understand
    ├── TransportError           the request did not complete
    │   ├── ConnectionFailed
    │   └── Timeout
    └── Cancelled                the caller's CancelToken fired

Messages never contain the API token: the client scrubs every text that came from the network.
"""

from __future__ import annotations


class RecraftError(Exception):
    """Base class of every error raised by recraft_core."""


class ValidationError(RecraftError, ValueError):
    """A parameter breaks one of the API's documented rules."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class APIError(RecraftError):
    """The API answered with a non-2xx status."""

    def __init__(self, status: int, code: str | None, message: str, body: str = ""):
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        label = f"HTTP {status}" + (f" {code}" if code else "")
        super().__init__(f"{label}: {message}")


class AuthenticationError(APIError):
    """The token is missing, wrong or not allowed to do this (401/403)."""


class InsufficientCreditsError(APIError):
    """The account has too few API units for this call."""


class RateLimitError(APIError):
    """Too many requests (429), still refused after the allowed retries."""

    def __init__(self, *args, retry_after: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """The API failed on its side (5xx)."""


class ProtocolError(RecraftError):
    """The API answered 2xx with a body we could not read (bad JSON, missing data)."""


class TransportError(RecraftError):
    """The request did not complete at the network level."""


class ConnectionFailed(TransportError):
    """The connection could not be made or broke off."""


class Timeout(TransportError):
    """The server did not answer within the timeout."""


class Cancelled(RecraftError):
    """The operation was cancelled by the caller."""
