"""One process at a time changes existing entries: a lock on a file, held by the system.

New entries need no lock (each writer makes a folder of its own). Rewriting a record (an
insertion, thumbnails), deleting, pruning and cleaning take this one, so two front ends never
rewrite the same record at once nor prune the same entries. The system releases the lock
when its holder dies, so a killed process never leaves the library locked.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

# Threads of one process take this first: simpler than relying on how each system treats
# two locks of one process on one file. Reentrant, and the file locked once however deep:
# a prune asks the index, which may sync, which takes the lock again.
_THREADS = threading.RLock()
_depth: dict[str, int] = {}  # lock file: how many `locked` of this process are inside


@contextmanager
def locked(path: Path):
    key = os.fspath(path)
    with _THREADS:
        if _depth.get(key):
            _depth[key] += 1
            try:
                yield
            finally:
                _depth[key] -= 1
            return
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock(fd)
            _depth[key] = 1
            try:
                yield
            finally:
                _depth[key] = 0
                _unlock(fd)
        finally:
            os.close(fd)


if os.name == "nt":
    import msvcrt

    def _lock(fd: int) -> None:
        # LK_LOCK gives up after ten tries a second apart; a holder only ever keeps it for a
        # prune or a rewrite, so keep trying.
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
