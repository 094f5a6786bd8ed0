"""Recraft's image API for editors: operations, checks, masks, image-limit planning, workflow.

Needs only the standard library and requests, so it runs inside Krita's and GIMP's Pythons.
The parts, bottom up (each imports only those above it):

    exceptions, settings   errors; the saved token and the Settings dialogs' rows
    imaging/               PNG, image headers, masks, limit planning, SVG sanitising
    api/                   the operations table, forms, validation, transport, Client
    workflow/              the editor pipeline: Canvas, Job (upload, placing); a Canvas
                           in memory
    cli                    the `recraft` command

Names below are loaded on first use, so `import recraft_core.imaging.png` does not pay for
requests.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .exceptions import (
    APIError,
    AuthenticationError,
    Cancelled,
    ConnectionBroken,
    ConnectionFailed,
    InsufficientCreditsError,
    NoToken,
    ProtocolError,
    RateLimitError,
    RecraftError,
    Refused,
    ServerError,
    Timeout,
    TransportError,
    ValidationError,
)

_LAZY = {
    "Client": "api.client",
    "CancelToken": "api.transport",
    "RetryPolicy": "api.transport",
    "OPERATIONS": "api.operations",
    "Raster": "imaging.png",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'recraft_core' has no attribute {name!r}")


__all__ = [
    "OPERATIONS",
    "APIError",
    "AuthenticationError",
    "CancelToken",
    "Cancelled",
    "Client",
    "ConnectionBroken",
    "ConnectionFailed",
    "InsufficientCreditsError",
    "NoToken",
    "ProtocolError",
    "Raster",
    "RateLimitError",
    "RecraftError",
    "Refused",
    "RetryPolicy",
    "ServerError",
    "Timeout",
    "TransportError",
    "ValidationError",
    "__version__",
]
