"""Fault injection: queued misbehaviours the HTTP layer applies to matching requests.

A fault applies to the next ``times`` requests whose path contains ``path``.  Without a
``path`` it applies to any /v1/ request, except "expire" which applies to result-file GETs
(/files/...).  Result files are never hit by a fault whose ``path`` does not target them.
The first queued fault that matches a request is the one used, and each hit consumes one of
its ``times``.  An API request without a valid token never takes a fault (it gets its 401).

Kinds: ``status`` (a JSON error answer), ``html`` (an HTML error page, as a proxy sends),
``invalid_json`` (200 with a broken JSON body), ``delay`` (sleep, then answer normally),
``reset`` (read up to ``body_bytes`` of the upload, then close with a TCP RST), ``expire``
(410 for a result file), ``body`` (answer ``status`` with the given ``body`` bytes and
``content_type``, and ``reason`` as the status line's reason phrase when given: a hostile or
broken result file with ``path="/files/"``, or any API answer at all), ``redirect`` (answer
``status``, 307 by default, with an empty body and ``Location: location``; without a
``location``, the request's own URL on this server), and ``truncate``: the request is handled
for real (charged and stored like any other) and its real answer is sent with its full
Content-Length but only the first half of the body, then the connection is closed.

``handled`` (``status``, ``html`` and ``reset``, e.g. ``status=504,handled=1``): the request is
first handled for real, charged and stored like any other, and then the error answer (or the
reset, after the whole upload was read) replaces its real answer: Recraft did the work and a
gateway failed on the way back. The request log shows the charge (``RequestRecord.credits``).
Without it those faults answer before anything is done, and nothing is charged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# kind -> (allowed params, defaults)
KINDS: dict[str, tuple[tuple[str, ...], dict]] = {
    "status": (("status", "retry_after", "code", "message", "handled"), {"status": 500}),
    "delay": (("seconds",), {}),
    "reset": (("body_bytes", "handled"), {"body_bytes": 1024}),
    "truncate": ((), {}),
    "invalid_json": ((), {}),
    "html": (("status", "retry_after", "handled"), {"status": 502}),
    "expire": ((), {}),
    "body": (
        ("body", "content_type", "status", "reason"),
        {"content_type": "image/png", "status": 200},
    ),
    "redirect": (("status", "location"), {"status": 307}),
}


@dataclass
class Fault:
    kind: str
    times: int
    path: str | None
    params: dict = field(default_factory=dict)

    def matches(self, request_path: str) -> bool:
        is_file = request_path.startswith("/files/")
        if self.kind == "expire" and not is_file:
            return False
        if self.path is not None:
            return self.path in request_path
        return is_file if self.kind == "expire" else request_path.startswith("/v1/")


class FaultQueue:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, times: int = 1, path: str | None = None, **params) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of: {', '.join(KINDS)})")
        allowed, defaults = KINDS[kind]
        unknown = set(params) - set(allowed)
        if unknown:
            raise TypeError(
                f"fault {kind!r} takes {allowed or 'no parameters'}, got {sorted(unknown)}"
            )
        if kind == "delay" and "seconds" not in params:
            raise TypeError("fault 'delay' needs seconds=...")
        if kind == "body" and not isinstance(params.get("body"), bytes | str):
            raise TypeError("fault 'body' needs body=bytes or str")
        if kind == "redirect" and not 300 <= params.get("status", 307) <= 399:
            raise ValueError("fault 'redirect' takes a 3xx status")
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(kind, times, path, {**defaults, **params})
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, request_path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(request_path):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


_TEXT_PARAMS = ("path", "body", "message", "code", "content_type", "reason", "location")


def parse_spec(text: str) -> tuple[str, dict]:
    """A fault written on a command line: ``KIND[=VALUE][,key=value...]`` -> (kind, keyword
    arguments of FaultQueue.add). VALUE is the kind's first parameter, so
    ``status=503,path=/images/inpaint,times=2`` is a 503 on the next two inpaints and
    ``delay=5`` a five-second delay on the next request. Numbers become int or float."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ValueError("empty fault: write KIND[=VALUE][,key=value...]")
    kind, _, value = items[0].partition("=")
    if kind not in KINDS:
        raise ValueError(f"unknown fault kind {kind!r} (one of: {', '.join(KINDS)})")
    args: dict = {}
    if value:
        allowed = KINDS[kind][0]
        if not allowed:
            raise ValueError(f"fault {kind!r} takes no value")
        args[allowed[0]] = _number(value)
    for item in items[1:]:
        key, eq, raw = item.partition("=")
        if not eq:
            raise ValueError(f"{item!r}: write key=value")
        key = key.strip()
        args[key] = raw if key in _TEXT_PARAMS else _number(raw)
    return kind, args


def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
