"""Recraft's image API for editors: operations, checks, masks, image-limit planning.

Needs only the standard library and requests, so it runs inside Krita's and GIMP's Pythons.
"""

__version__ = "0.1.0"

from .client import Client
from .exceptions import (
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
    TransportError,
    ValidationError,
)
from .operations import OPERATIONS
from .png import Raster
from .transport import CancelToken, RetryPolicy

__all__ = [
    "OPERATIONS",
    "APIError",
    "AuthenticationError",
    "CancelToken",
    "Cancelled",
    "Client",
    "ConnectionFailed",
    "InsufficientCreditsError",
    "ProtocolError",
    "Raster",
    "RateLimitError",
    "RecraftError",
    "RetryPolicy",
    "ServerError",
    "Timeout",
    "TransportError",
    "ValidationError",
]
