"""What the server remembers between requests: balance, styles, explore images, result files.

All of it sits behind one lock because handler threads run concurrently.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from .errors import ApiError

CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "svg": "image/svg+xml"}


@dataclass
class StoredFile:
    data: bytes | None  # None once expired: the name is kept so a late GET can say "expired"
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
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.credits = self.initial_credits
            self.url_ttl = self.initial_url_ttl
            self.styles: dict[str, StyleRecord] = {}
            self.explore_images: dict[str, ExploreImage] = {}
            self.files: dict[str, StoredFile] = {}

    # --- credits ---------------------------------------------------------------------------

    def charge(self, cost: int) -> None:
        """Take ``cost`` credits, or raise 402 and take nothing."""
        with self.lock:
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
            self._forget_expired(now)
            self.files[name] = StoredFile(data, CONTENT_TYPES[ext], now + self.url_ttl)
        return name

    def get_file(self, name: str) -> StoredFile:
        with self.lock:
            stored = self.files.get(name)
            if stored is None:
                raise ApiError("not_found", f"no such file: {name}")
            if stored.data is None or time.time() >= stored.expires_at:
                stored.data = None
                raise ApiError("expired", f"the URL of {name} has expired")
            # A copy: another thread may expire the stored entry while this one is answering.
            return StoredFile(stored.data, stored.content_type, stored.expires_at)

    def _forget_expired(self, now: float) -> None:
        for stored in self.files.values():
            if stored.data is not None and now >= stored.expires_at:
                stored.data = None
