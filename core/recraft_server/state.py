"""What the server remembers between requests: balance, styles, explore images, result files.

All of it sits behind one lock because handler threads run concurrently.  Expired result files
are dropped from memory at the next request; only their names are kept (the newest
``EXPIRED_NAMES_KEPT``) so that a late GET still says 410 expired rather than 404.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from .errors import ApiError

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "svg": "image/svg+xml"}
EXPIRED_NAMES_KEPT = 100_000


@dataclass
class StoredFile:
    data: bytes
    content_type: str
    expires_at: float


@dataclass
class StyleRecord:
    id: str
    style: str
    creation_time: str
    is_private: bool
    model: str | None


@dataclass
class ExploreImage:
    model: str
    size: tuple[int, int]


class State:
    def __init__(self, credits: int, url_ttl: float):
        self.lock = threading.RLock()
        self.initial_credits = credits
        self.initial_url_ttl = url_ttl
        self.epoch = 0
        self.reset()

    def reset(self) -> None:
        with self.lock:
            # Requests begun before a reset (a test's slow or cancelled call) must not charge
            # or store anything in the next test's fresh state.
            self.epoch += 1
            self.credits = self.initial_credits
            self.url_ttl = self.initial_url_ttl
            self.styles: dict[str, StyleRecord] = {}
            self.explore_images: dict[str, ExploreImage] = {}
            self.files: dict[str, StoredFile] = {}
            self.expired: OrderedDict[str, None] = OrderedDict()  # names of dropped files

    # --- credits ---------------------------------------------------------------------------

    def charge(self, cost: int, epoch: int) -> None:
        """Take ``cost`` credits, or raise 402 and take nothing. ``epoch`` is the state the
        request began in: after a reset it gets a 503 and changes nothing."""
        with self.lock:
            if epoch != self.epoch:
                raise ApiError(
                    "service_unavailable", "the server was reset while this request waited"
                )
            if cost > self.credits:
                raise ApiError(
                    "not_enough_credits",
                    f"this call costs {cost} credits but the balance is {self.credits}",
                )
            self.credits -= cost

    def refund(self, cost: int) -> None:
        with self.lock:
            self.credits += cost

    # --- result files ----------------------------------------------------------------------

    def store_file(self, data: bytes, ext: str) -> str:
        """Keep a result for ``url_ttl`` seconds; returns its file name ``<uuid>.<ext>``."""
        name = f"{uuid.uuid4()}.{ext}"
        now = time.time()
        with self.lock:
            self.files[name] = StoredFile(data, CONTENT_TYPES[ext], now + self.url_ttl)
        return name

    def get_file(self, name: str) -> StoredFile:
        with self.lock:
            self.forget_expired()
            if name in self.expired:
                raise ApiError("expired", f"the URL of {name} has expired")
            stored = self.files.get(name)
            if stored is None:
                raise ApiError("not_found", f"no such file: {name}")
            return stored  # never changed once stored, so safe to read after the lock

    def forget_expired(self) -> None:
        """Drop the bytes of every expired result file, keeping its name for a 410."""
        now = time.time()
        with self.lock:
            for name in [n for n, f in self.files.items() if now >= f.expires_at]:
                del self.files[name]
                self.expired[name] = None
            while len(self.expired) > EXPIRED_NAMES_KEPT:
                self.expired.popitem(last=False)
