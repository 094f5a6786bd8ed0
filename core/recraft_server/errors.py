"""The one exception type the server turns into an HTTP error answer."""

from __future__ import annotations

# code -> default HTTP status.  Field problems are all 400 so a client can treat "4xx with one
# of these codes" as "fix the request"; the message names the field and the rule.
STATUS_BY_CODE = {
    "invalid_request_body": 400,
    "unsupported_content_type": 400,
    "missing_parameter": 400,
    "unknown_parameter": 400,
    "invalid_parameter": 400,
    "invalid_image": 400,
    "not_enough_credits": 402,
    "not_found": 404,
    "method_not_allowed": 405,
    "expired": 410,
    "payload_too_large": 413,
    "service_unavailable": 503,
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int | None = None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, 400)
        self.headers = dict(headers or {})

    def body(self) -> dict:
        return {"code": self.code, "message": self.message}


def invalid(field: str, rule: str) -> ApiError:
    """A 400 whose message starts with the field name, e.g. ``n must be between 1 and 6``."""
    return ApiError("invalid_parameter", f"{field} {rule}")
