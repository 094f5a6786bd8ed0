"""The request log: one record per request, for tests to inspect what a client really sent.

Records never hold the API token or the Authorization header.  Records and the uploaded-file
records inside them can be read as attributes (``rec.path``) or as keys (``rec["path"]``).

Retention: the newest ``limit`` records (default ``DEFAULT_LIMIT``); uploaded files keep their
bytes only in the newest ``KEEP_BYTES`` finished records (older ones keep the metadata: size,
format, dimensions, mask statistics).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .uploads import ItemAccess, Upload

DEFAULT_LIMIT = 1000
KEEP_BYTES = 50
_SECRET_HEADERS = {"authorization", "cookie", "proxy-authorization"}


@dataclass
class RequestRecord(ItemAccess):
    method: str
    path: str
    query: str = ""
    epoch: int = 0  # the server state this request began in (see State.reset)
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
    duration: float | None = None  # set when the request is finished
    bytes_dropped: bool = field(default=False, repr=False)

    def drop_bytes(self) -> None:
        for ups in self.files.values():
            for up in ups:
                up.drop_bytes()
        self.bytes_dropped = True


def public_headers(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _SECRET_HEADERS}


class RequestLog:
    def __init__(self, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=limit or DEFAULT_LIMIT)

    @property
    def limit(self) -> int:
        return self._records.maxlen or DEFAULT_LIMIT

    def begin(self, method: str, path: str, query: str, headers) -> RequestRecord:
        record = RequestRecord(
            method=method, path=path, query=query, headers=public_headers(headers)
        )
        with self._lock:
            self._records.append(record)
        return record

    def finish(self, record: RequestRecord, duration: float) -> None:
        """Mark a record done; drop the upload bytes of finished records past the newest 50."""
        with self._lock:
            record.duration = duration
            for old in list(self._records)[: -KEEP_BYTES or None]:
                if old.duration is not None and not old.bytes_dropped:
                    old.drop_bytes()

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
