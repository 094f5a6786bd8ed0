"""The request log: one record per request, for tests to inspect what a client really sent.

Records never hold the API token or the Authorization header.  Records and the uploaded-file
records inside them can be read as attributes (``rec.path``) or as keys (``rec["path"]``).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .uploads import Upload

_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


@dataclass
class RequestRecord:
    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None  # "multipart" | "json" | None
    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[Upload]] = field(default_factory=dict)
    params: dict[str, Any] | None = None  # typed values after validation, defaults applied
    status: int | None = None
    fault: str | None = None
    authorized: bool = False
    error: dict | None = None  # {"code", "message"} of an error answer
    credits: int = 0  # what the call cost
    response: Any = None  # the JSON body of the answer, when it was JSON
    body_size: int = 0
    started: float = field(default_factory=time.time)
    duration: float | None = None

    def __getitem__(self, key: str):
        return getattr(self, key)

    def get(self, key: str, default=None):
        return getattr(self, key, default)


def public_headers(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}


class RequestLog:
    def __init__(self, maxlen: int | None = None) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=maxlen)

    def begin(self, method: str, path: str, query: str, headers) -> RequestRecord:
        record = RequestRecord(
            method=method, path=path, query=query, headers=public_headers(headers)
        )
        with self._lock:
            self._records.append(record)
        return record

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def last(self, path_substring: str | None = None) -> RequestRecord | None:
        with self._lock:
            for record in reversed(self._records):
                if path_substring is None or path_substring in record.path:
                    return record
        return None

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
