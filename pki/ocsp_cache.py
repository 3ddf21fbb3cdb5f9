"""Pre-produced OCSP responses (RFC 5019 §2.1.1, §6): one signed answer per request, reused.

A request without a nonce asks "what is the status of this certificate"; the signed answer
stays true until that status changes, so the responder need not sign again for every client.
Responses are kept per request DER (the CertID encodings differ between clients, and the
response must echo the client's CertID byte for byte), and dropped when

* any certificate status changes (the shared `StatusEpoch` moves: a revocation or hold in any
  process of the installation is seen by the very next request), or
* they are older than `max_age` (re-signed, so thisUpdate never lags far behind), or
* the table is full (oldest first).

Requests with a nonce, requests naming a certificate we never issued (`unknown` turns `good`
when it is issued) and error answers are never kept: the caller decides with `cacheable`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from asn1crypto import ocsp

from pki.status_epoch import StatusEpoch

__all__ = ["PreProducedResponses", "has_nonce", "is_successful"]


@dataclass(frozen=True, slots=True)
class _Entry:
    epoch: int
    fresh_until: float
    der: bytes


class PreProducedResponses:
    """Signed responses by request DER; `get` costs a dictionary look-up and an epoch read."""

    def __init__(
        self,
        *,
        epoch: StatusEpoch,
        max_age: timedelta,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.epoch = epoch
        self.max_age = max_age.total_seconds()
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[bytes, _Entry] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_age > 0 and self.max_entries > 0

    def get(self, request_der: bytes) -> bytes | None:
        """The kept response for exactly this request, while still current; else None."""
        entry = self._entries.get(request_der)
        if entry is None:
            return None
        if entry.epoch != self.epoch.current() or entry.fresh_until <= self._clock():
            with self._lock:
                if self._entries.get(request_der) is entry:
                    del self._entries[request_der]
            return None
        return entry.der

    def put(self, request_der: bytes, response_der: bytes, *, epoch: int) -> None:
        """Keep a response built from statuses read after the epoch was `epoch`."""
        if not self.enabled:
            return
        entry = _Entry(epoch, self._clock() + self.max_age, response_der)
        with self._lock:
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[request_der] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def has_nonce(request_der: bytes) -> bool:
    """Whether a request carries a nonce (True also for anything undecodable: never kept)."""
    try:
        extensions = ocsp.OCSPRequest.load(request_der)["tbs_request"]["request_extensions"]
        return any(ext["extn_id"].native == "nonce" for ext in extensions or ())
    except Exception:  # untrusted bytes: not worth keeping whatever went wrong
        return True


def is_successful(response_der: bytes) -> bool:
    try:
        return bool(ocsp.OCSPResponse.load(response_der)["response_status"].native == "successful")
    except Exception:
        return False
