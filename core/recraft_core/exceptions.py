"""The errors recraft_core raises, by kind. A few narrower ones live beside what raises them:
GateClosed (a Cancelled: the transport's gate shut), PNGError and UnknownImage (results that
cannot be read), LibraryError, NothingToInsert (history), OffCanvas and MissesTheLayer
(ValidationErrors of workflow.upload, which an editor says in its own words).

    RecraftError
    ├── ValidationError          bad input, caught before any byte is sent
    │   └── NoToken                  no API token given, set or saved
    ├── Refused                  something to fix first, in an editor's own words
    ├── APIError                 the API answered with an error status
    │   ├── AuthenticationError      401 / 403
    │   ├── InsufficientCreditsError not enough API units
    │   ├── RateLimitError           429, after the retries ran out
    │   ├── ServerError              5xx, after the retries ran out
    │   └── ResultExpired            a result's download link had expired
    ├── ProtocolError            a 2xx answer we could not understand
    │   └── UnreadableAnswer         not JSON, or not a JSON object
    ├── TransportError           the request did not complete
    │   ├── ConnectionFailed         no connection: nothing was sent
    │   ├── ConnectionBroken         it broke after the request (or part of it) went out
    │   └── Timeout
    └── Cancelled                the caller's CancelToken fired

Messages never contain the API token: the transport blanks it out of every text it quotes from
the network (after JSON decoding), and the client blanks it out of a ProtocolError that quotes
an answer, its str, repr and attributes included (RecraftError.scrub).
`str(error)` is the technical detail, for logs; `error.user_message` is one or two plain
sentences for a person: what failed, whether it was charged, and what to do. Editors show the
latter.

Whether the call was charged is `error.charged`, when the transport or the client knows it:
CHARGED (Recraft answered, did the work and charged `error.cost` credits, when the answer said
how many, but the result was lost on the way), MAYBE_CHARGED (the request reached Recraft and
no usable answer came back: it may have been processed and charged) or NOT_CHARGED; None when
nothing is said. That is of the last try; `error.earlier` is the HTTP status of an earlier try
that failed on Recraft's side and may have been charged too. `error.may_have_cost` sums both
up: an editor refreshes the balance it shows when it is true. `error.attempts` is how many
times the request was sent (retries included).
"""

from __future__ import annotations

# RecraftError.charged: what is known of the charge for the call an error ended.
CHARGED = "charged"
MAYBE_CHARGED = "may have been charged"
NOT_CHARGED = "not charged"


class RecraftError(Exception):
    """Base class of every error raised by recraft_core."""

    advice = "Try again; if it keeps failing, report it with the details."
    charged: str | None = None  # CHARGED, MAYBE_CHARGED, NOT_CHARGED or None (nothing said)
    cost: int | None = None  # the credits a CHARGED call cost, when the answer said
    attempts: int = 1  # how many times the request was sent
    earlier: int | None = None  # the HTTP status of an earlier try that may have been charged

    def charge(self, charged: str | None, cost: int | None = None) -> RecraftError:
        """Say what is known of the charge for the call this error ended; returns the error."""
        self.charged = charged
        if cost is not None:
            self.cost = cost
        return self

    @property
    def detail(self) -> str:
        """The technical text of the error, without the note on its charge that str adds."""
        return Exception.__str__(self)

    @property
    def may_have_cost(self) -> bool:
        """True when the call may have cost credits (an editor refreshes the balance then)."""
        return self.charged in (CHARGED, MAYBE_CHARGED) or self.earlier is not None

    def __str__(self) -> str:
        text = self.detail
        if self.charged == CHARGED:
            cost = f" ({self.cost} credits)" if self.cost is not None else ""
            text += f"; the call itself succeeded and was charged{cost}"
        elif self.charged == MAYBE_CHARGED and "charged" not in text:
            text += "; it may have been charged"
        if self.earlier is not None:
            text += f"; an earlier try (HTTP {self.earlier}) may have been charged"
        return text

    @property
    def user_message(self) -> str:
        """What to show a person: what failed, whether it was charged, and what to do."""
        text = self._charged_message() if self.charged == CHARGED else self._message()
        if self.earlier is not None:
            text += (
                f" An earlier try failed on Recraft's side (HTTP {self.earlier}) and may have "
                "been charged: check your balance."
            )
        return text

    def _message(self) -> str:
        return f"{_sentence(self.detail)} {self.advice}"

    def _charged_message(self) -> str:
        """Recraft did the work and charged it, but its result was lost on the way here."""
        return (
            f"Recraft answered and {_paid(self.cost)}, but the result could not be read: "
            f"{_clause(self.detail)}. Try again; if it keeps happening, report it."
        )

    def scrub(self, clean) -> RecraftError:
        """Pass every text this error holds through `clean` (a function of a str), in place:
        its arguments (hence its str and repr) and its text attributes (message, body, code,
        field, rule...), from which user_message is made. Returns the error itself."""
        self.args = tuple(clean(a) if isinstance(a, str) else a for a in self.args)
        for name, value in vars(self).items():
            if isinstance(value, str) and name != "charged":
                setattr(self, name, clean(value))
        return self


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _clause(text: str) -> str:
    """`text` to stand inside a sentence: no closing full stop."""
    return text.strip().rstrip(".")


def _paid(cost: int | None) -> str:
    return f"charged {cost} credits" if cost is not None else "charged for the call"


def _times(attempts: int) -> str:
    return {1: "", 2: " twice"}.get(attempts, f" {attempts} times")


class ValidationError(RecraftError, ValueError):
    """A parameter breaks one of the API's documented rules."""

    def __init__(self, field: str, rule: str):
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")

    def _message(self) -> str:
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


class NoToken(ValidationError):
    """No API token was given, set in RECRAFT_API_TOKEN or saved."""

    def __init__(self) -> None:
        super().__init__(
            "token", "no API token: pass one, set RECRAFT_API_TOKEN or run `recraft login`"
        )


class Refused(RecraftError):
    """Something to fix before anything is sent, said whole in an editor's own words (which
    layer, which menu): shown as it is."""

    def _message(self) -> str:
        return self.detail


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

    def _message(self) -> str:
        return f"Recraft refused the request: {_sentence(self.message)} {self.advice}"

    def _charged_message(self) -> str:  # the download of a result failed
        return (
            f"Recraft answered and {_paid(self.cost)}, but its result file could not be "
            f"downloaded (HTTP {self.status}). Run it again to get a new one; if it keeps "
            "happening, report it."
        )


class AuthenticationError(APIError):
    """The token is missing, wrong or not allowed to do this (401/403)."""

    def _message(self) -> str:
        return "Your Recraft token was refused. Open Settings and paste a new one."


class InsufficientCreditsError(APIError):
    """The account has too few API units for this call."""

    def _message(self) -> str:
        return (
            "Your Recraft account does not have enough credits for this. "
            "Top up your API balance on recraft.ai, then run again."
        )


class RateLimitError(APIError):
    """Too many requests (429), still refused after the allowed retries."""

    def __init__(self, *args, retry_after: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after

    def _message(self) -> str:
        return (
            "Recraft is getting too many requests from this account. Wait a minute, then run again."
        )


class ServerError(APIError):
    """The API failed on its side (5xx), as often as the retries allowed.

    The transport says whether it may have been charged: a GET never is, nor a request only
    ever answered 503 (Recraft refused it for now); any other 5xx answer to a POST may come
    after the work was done (a gateway that gave up waiting, say), so each such try may have
    been charged."""

    def _message(self) -> str:
        failed = f"Recraft had a problem on its side (HTTP {self.status})"
        unchanged = "Nothing in your image was changed."
        if self.charged == MAYBE_CHARGED:
            if self.attempts > 1:
                failed += f" and failed{_times(self.attempts)}"
            each = ", once for each try" if self.attempts > 1 else ""
            return (
                f"{failed}. A request that fails this way may still have been charged{each}: "
                f"check your balance before running it again. {unchanged}"
            )
        if self.charged == NOT_CHARGED:
            tried = f", {self.attempts} tries" if self.attempts > 1 else ""
            failed = f"Recraft had a problem on its side (HTTP {self.status}{tried})"
            return f"{failed}. Nothing was charged. Wait a minute and try again. {unchanged}"
        return f"{failed}. Wait a minute and try again; nothing in your image was changed."


class ResultExpired(APIError):
    """A result's download link had expired (or was gone) when it was fetched: the call that
    made it succeeded and was charged."""

    def _message(self) -> str:
        if self.charged == NOT_CHARGED:  # a call that cost nothing
            return (
                "The result's download link expired before it was fetched. Nothing was "
                "charged; run it again to get a new one."
            )
        return self._charged_message()

    def _charged_message(self) -> str:
        cost = f" ({self.cost} credits)" if self.cost is not None else ""
        return (
            "The result's download link expired before it was fetched. The call succeeded and "
            f"was charged{cost}; run it again to get a new one."
        )


class ProtocolError(RecraftError):
    """The API answered 2xx with a body we could not read (bad JSON, missing data), or a
    result that is not a usable image. `body`: what the answer held, scrubbed, for logs."""

    def __init__(self, message: str, body: str = ""):
        self.body = body
        super().__init__(message)

    def _message(self) -> str:
        if self.charged == MAYBE_CHARGED:
            return (
                f"Recraft answered, but its answer could not be used ({self.detail}). The call "
                "may have been charged: check your balance before running it again."
            )
        if self.charged == NOT_CHARGED:
            return (
                f"Recraft's answer could not be used ({self.detail}). Nothing was charged; try "
                "again, and if it keeps happening, report it."
            )
        return (
            f"Recraft's answer could not be used ({self.detail}). "
            "Try again; if it keeps happening, report it."
        )


class UnreadableAnswer(ProtocolError):
    """The API's answer (2xx) is not JSON, or not a JSON object. `what` says which, in a
    few words; `status` is the answer's HTTP status; `body` the start of it, scrubbed."""

    def __init__(self, what: str, status: int, body: str = ""):
        self.what = what
        self.status = status
        super().__init__(f"the API's answer (HTTP {status}) is {what}", body)

    def _message(self) -> str:
        text = f"Recraft's answer could not be read ({self.what})."
        if self.charged == MAYBE_CHARGED:
            return (
                f"{text} Recraft took the request (HTTP {self.status}), so it may have been "
                "charged: check your balance before running it again; if it keeps happening, "
                "report it."
            )
        if self.charged == NOT_CHARGED:
            return f"{text} Nothing was charged; try again, and if it keeps happening, report it."
        return f"{text} Try again; if it keeps happening, report it."


class TransportError(RecraftError):
    """The request did not complete at the network level. `reason`: the cause in a few
    words, without the request it befell."""

    def __init__(self, message: str, reason: str = ""):
        self.reason = reason or message
        super().__init__(message)

    def _charged_message(self) -> str:  # the download of a result failed
        return (
            f"Recraft answered and {_paid(self.cost)}, but its result file could not be "
            f"downloaded ({_clause(self.reason)}). Check the internet connection, then run "
            "it again."
        )


class ConnectionFailed(TransportError):
    """No connection could be made: nothing was sent."""

    def _message(self) -> str:
        sent = " Nothing was sent, so nothing was charged." if self.charged == NOT_CHARGED else ""
        return (
            f"Could not reach Recraft ({self.detail}).{sent} "
            "Check the internet connection and the server address in Settings."
        )


class ConnectionBroken(TransportError):
    """The connection broke after the request, or part of it, went out: while it was being
    sent (`sent` False: it never arrived whole), while Recraft's answer was awaited, or while
    the answer was being read (`status`: its HTTP status, known once the answer had begun)."""

    def __init__(
        self, message: str, reason: str = "", *, sent: bool = True, status: int | None = None
    ):
        super().__init__(message, reason)
        self.sent = sent
        self.status = status

    def _message(self) -> str:
        reason = _clause(self.reason)
        if self.status is not None:
            text = (
                f"Recraft answered (HTTP {self.status}), but the connection broke before the "
                "whole answer arrived."
            )
        elif self.sent:
            text = (
                "The request was sent, but the connection broke before Recraft's answer "
                f"arrived ({reason})."
            )
        else:
            text = f"The connection broke while the request was being sent ({reason})."
        if self.charged == MAYBE_CHARGED:
            if self.status is not None and 200 <= self.status < 300:
                return (
                    f"{text} The call went through, so it was most likely charged, but its "
                    "answer was lost: check your balance before running it again."
                )
            return (
                f"{text} Recraft may have done the work and charged it: check your balance "
                "before running it again."
            )
        if self.charged == NOT_CHARGED:
            why = "Nothing" if self.sent else "It did not arrive whole, so nothing"
            return (
                f"{text} {why} was charged. Try again; if it keeps happening, check the "
                "internet connection."
            )
        return f"{text} Try again; if it keeps happening, check the internet connection."


class Timeout(TransportError):
    """The server did not answer within the timeout."""

    def _message(self) -> str:
        if self.charged == NOT_CHARGED:
            tried = f" ({self.attempts} tries)" if self.attempts > 1 else ""
            return (
                f"Recraft did not answer in time{tried}. Nothing was charged; check the "
                "internet connection and try again later."
            )
        return (
            "Recraft did not answer in time. It may still finish and charge the request: "
            "check your credits before running it again."
        )


class Cancelled(RecraftError):
    """The operation was cancelled by the caller."""

    def _message(self) -> str:
        if self.charged == MAYBE_CHARGED:
            return "Cancelled. The request had been sent and may still be charged."
        return "Cancelled."

    def _charged_message(self) -> str:
        return f"Cancelled. Recraft had already answered and {_paid(self.cost)}."
