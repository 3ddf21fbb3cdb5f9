"""Reports of uploaded documents kept for a short time, so the page can offer PDF and JSON
downloads without asking for the file again.

Keyed by a random token (not by the document's hash: knowing a hash must not reveal whether,
when or with what result someone verified that document). In process memory, bounded in
count and age; with several workers a download may land on another worker and find nothing,
and the page then asks to verify again.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from seals.reports import VerificationReport

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(frozen=True, slots=True)
class CachedReport:
    report: VerificationReport
    source: str | None
    stored_at: float


class ReportCache:
    def __init__(self, *, ttl_seconds: float = 900.0, max_entries: int = 512) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._items: OrderedDict[str, CachedReport] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, report: VerificationReport, *, source: str | None = None) -> str:
        token = secrets.token_urlsafe(16)  # 22 characters
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            self._items[token] = CachedReport(report=report, source=source, stored_at=now)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
        return token

    def get(self, token: str) -> CachedReport | None:
        if not TOKEN_PATTERN.match(token):
            return None
        with self._lock:
            self._expire(time.monotonic())
            return self._items.get(token)

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self, now: float) -> None:
        while self._items:
            token, first = next(iter(self._items.items()))
            if now - first.stored_at < self.ttl:
                break
            del self._items[token]
