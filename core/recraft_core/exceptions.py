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

Messages never contain the API token: the transport blanks it out of every text it quotes from
the network (after JSON decoding), and the client blanks it out of a ProtocolError that quotes
an answer, its str, repr and attributes included (RecraftError.scrub).
`str(error)` is the technical detail, for logs; `error.user_message` is one or two plain
sentences for a person: what failed and what to do. Editors show the latter.
"""

from __future__ import annotations


class RecraftError(Exception):
    """Base class of every error raised by recraft_core."""

    advice = "Try again; if it keeps failing, report it with the details."

    @property
    def user_message(self) -> str:
        return f"{_sentence(str(self))} {self.advice}"

    def scrub(self, clean) -> RecraftError:
        """Pass every text this error holds through `clean` (a function of a str), in place:
        its arguments (hence its str and repr) and its text attributes (message, body, code,
        field, rule...), from which user_message is made. Returns the error itself."""
        self.args = tuple(clean(a) if isinstance(a, str) else a for a in self.args)
        for name, value in vars(self).items():
            if isinstance(value, str):
                setattr(self, name, clean(value))
        return self


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class ValidationError(RecraftError, ValueError):
    """A parameter breaks one of the API's documented rules."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")

    @property
    def user_message(self) -> str:
        label = self.field.rpartition(".")[2].replace("_", " ").capitalize()
        rule = self.rule.strip()
        if rule.startswith(_READS_ON):  # "Prompt is required.", not "Prompt: Is required."
            text = _sentence(f"{label} {rule}")
        else:
            text = f"{label}: {_sentence(rule)}"
        # A rule with a colon says what to do after it; the others get the general advice.
        return text if ":" in rule else f"{text} Change it and run again."


# Rules worded to follow the field's name.
_READS_ON = ("is ", "are ", "must ", "has ", "have ", "cannot ", "needs ", "takes ")


class APIError(RecraftError):
    """The API answered with a non-2xx status."""

    def __init__(self, status: int, code: str | None, message: str, body: str = ""):
        self.status = status
        self.code = code
        self.message = message
        self.body = body
        label = f"HTTP {status}" + (f" {code}" if code else "")
        super().__init__(f"{label}: {message}")

    advice = "Check the settings and the inputs, then run again."

    @property
    def user_message(self) -> str:
        return f"Recraft refused the request: {_sentence(self.message)} {self.advice}"


class AuthenticationError(APIError):
    """The token is missing, wrong or not allowed to do this (401/403)."""

    @property
    def user_message(self) -> str:
        return "Your Recraft token was refused. Open Settings and paste a new one."


class InsufficientCreditsError(APIError):
    """The account has too few API units for this call."""

    @property
    def user_message(self) -> str:
        return (
            "Your Recraft account does not have enough credits for this. "
            "Top up your API balance on recraft.ai, then run again."
        )


class RateLimitError(APIError):
    """Too many requests (429), still refused after the allowed retries."""

    def __init__(self, *args, retry_after: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after

    @property
    def user_message(self) -> str:
        return (
            "Recraft is getting too many requests from this account. Wait a minute, then run again."
        )


class ServerError(APIError):
    """The API failed on its side (5xx)."""

    @property
    def user_message(self) -> str:
        return (
            f"Recraft had a problem on its side (HTTP {self.status}). "
            "Wait a minute and try again; nothing in your image was changed."
        )


class ProtocolError(RecraftError):
    """The API answered 2xx with a body we could not read (bad JSON, missing data)."""

    @property
    def user_message(self) -> str:
        return (
            f"Recraft's answer could not be used ({self}). "
            "Try again; if it keeps happening, report it."
        )


class TransportError(RecraftError):
    """The request did not complete at the network level."""


class ConnectionFailed(TransportError):
    """The connection could not be made or broke off."""

    @property
    def user_message(self) -> str:
        return (
            f"Could not reach Recraft ({self}). "
            "Check the internet connection and the server address in Settings."
        )


class Timeout(TransportError):
    """The server did not answer within the timeout."""

    @property
    def user_message(self) -> str:
        return (
            "Recraft did not answer in time. It may still finish and charge the request: "
            "check your credits before running it again."
        )


class Cancelled(RecraftError):
    """The operation was cancelled by the caller."""

    @property
    def user_message(self) -> str:
        charged = "charged" in str(self)
        return "Cancelled." + (
            " The request had been sent and may still be charged." if charged else ""
        )
