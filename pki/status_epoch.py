"""A counter every process of one installation shares, bumped when a certificate status changes.

Pre-produced OCSP responses (pki/ocsp_cache.py) live in each worker process's memory. A
revocation committed by one process must be seen by the next OCSP request any process
answers, without a database read per request: the revoking process bumps this counter after
its commit, and every cached response remembers the value it was built under. Reading the
counter is one 8-byte read from a shared memory map (about a microsecond).

`FileStatusEpoch` keeps the counter in a file of the data folder (every worker and the CLI of
one installation share it); `MemoryStatusEpoch` is the one-process version.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import threading
from pathlib import Path
from typing import Protocol

__all__ = ["FileStatusEpoch", "MemoryStatusEpoch", "StatusEpoch"]

logger = logging.getLogger(__name__)
_COUNTER = struct.Struct("<Q")


class StatusEpoch(Protocol):
    def current(self) -> int:
        """The counter now; any change means some certificate status changed."""
        ...

    def bump(self) -> None:
        """Announce a committed status change to every process."""
        ...


class MemoryStatusEpoch:
    """One process's counter (tests, tools that run alone)."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def current(self) -> int:
        return self._value

    def bump(self) -> None:
        with self._lock:
            self._value += 1


class FileStatusEpoch:
    """The counter in an 8-byte file, mapped into memory; increments under `flock`.

    Opened on first use. When the file cannot be opened (a read-only folder) the process
    falls back to its own counter and says so once: responses it caches then expire by age.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._map: mmap.mmap | None = None
        self._fallback: MemoryStatusEpoch | None = None

    def _open(self) -> mmap.mmap | None:
        with self._lock:
            if self._map is not None or self._fallback is not None:
                return self._map
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                if os.fstat(fd).st_size < _COUNTER.size:
                    with _locked(fd):
                        if os.fstat(fd).st_size < _COUNTER.size:
                            os.ftruncate(fd, _COUNTER.size)
                self._map = mmap.mmap(fd, _COUNTER.size)
                self._fd = fd
            except OSError as exc:
                logger.warning("status epoch %s unusable (%s): per process only", self.path, exc)
                self._fallback = MemoryStatusEpoch()
            return self._map

    def current(self) -> int:
        shared = self._map or self._open()
        if shared is None:
            assert self._fallback is not None
            return self._fallback.current()
        return int(_COUNTER.unpack_from(shared)[0])

    def bump(self) -> None:
        shared = self._map or self._open()
        if shared is None:
            assert self._fallback is not None
            self._fallback.bump()
            return
        assert self._fd is not None
        with _locked(self._fd):
            _COUNTER.pack_into(shared, 0, _COUNTER.unpack_from(shared)[0] + 1)


class _locked:
    """An exclusive `flock` on `fd` for the block."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __enter__(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
