"""A sliding-window rate limiter shared by every worker process of one installation.

The counts live in a small SQLite file of their own in the data folder (``ratelimits.db``,
0600), not in the service's database: on SQLite that database has one writer at a time and
its write lock must stay free for sealing and audit (issue 11 keeps reads and sign-in off
it), and on PostgreSQL short-lived counters would only churn its WAL. All workers of one
installation share the data folder, so they share the counts; each check is one short
``BEGIN IMMEDIATE`` transaction. Several machines behind one balancer share them through
Redis instead (`app.ratelimit_redis`, ESEAL_REDIS_URL).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.settings import Settings

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS hit (bucket TEXT NOT NULL, key TEXT NOT NULL, at REAL NOT NULL)"
)
_INDEX = "CREATE INDEX IF NOT EXISTS hit_key ON hit (bucket, key, at)"


def _prepare(connection: sqlite3.Connection, attempts: int = 50) -> None:
    """WAL mode and the table. Switching the journal mode takes an exclusive lock that
    SQLite's busy timeout does not wait for, so two processes opening a new file at once
    retry here instead of failing with "database is locked"."""
    for attempt in range(attempts):
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
            connection.execute(_INDEX)
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


class SharedRateLimiter:
    """At most ``limit`` events per ``window_seconds`` per key, across processes."""

    def __init__(
        self, path: Path, *, bucket: str, limit: int, window_seconds: float = 60.0
    ) -> None:
        self.path = path
        self.bucket = bucket
        self.limit = limit
        self.window = window_seconds
        self._local = threading.local()
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))

    def sibling(self, *, bucket: str, limit: int, window_seconds: float) -> SharedRateLimiter:
        """Another bucket in the same file."""
        return SharedRateLimiter(
            self.path, bucket=bucket, limit=limit, window_seconds=window_seconds
        )

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            _prepare(connection)
            self._local.connection = connection
        return connection

    def allow(self, key: str) -> float | None:
        """None if allowed now (and counted); else the seconds until the next is allowed."""
        if self.limit <= 0:
            return None
        now = time.time()
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "DELETE FROM hit WHERE bucket = ? AND key = ? AND at <= ?",
                (self.bucket, key, now - self.window),
            )
            count, oldest = db.execute(
                "SELECT count(*), min(at) FROM hit WHERE bucket = ? AND key = ?",
                (self.bucket, key),
            ).fetchone()
            if count >= self.limit:
                db.execute("COMMIT")
                return max(0.0, self.window - (now - oldest))
            db.execute(
                "INSERT INTO hit (bucket, key, at) VALUES (?, ?, ?)", (self.bucket, key, now)
            )
            if count == 0:  # now and then, forget keys nobody used for a window
                db.execute(
                    "DELETE FROM hit WHERE bucket = ? AND at <= ?",
                    (self.bucket, now - self.window),
                )
            db.execute("COMMIT")
            return None
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def count(self, key: str) -> int:
        """Events of ``key`` inside the window (nothing is counted by asking)."""
        row = (
            self._connection()
            .execute(
                "SELECT count(*) FROM hit WHERE bucket = ? AND key = ? AND at > ?",
                (self.bucket, key, time.time() - self.window),
            )
            .fetchone()
        )
        return int(row[0])

    def hit(self, key: str) -> None:
        """Count one event of ``key``."""
        self._connection().execute(
            "INSERT INTO hit (bucket, key, at) VALUES (?, ?, ?)", (self.bucket, key, time.time())
        )

    def reset(self, key: str) -> None:
        db = self._connection()
        db.execute("DELETE FROM hit WHERE bucket = ? AND key = ?", (self.bucket, key))

    def reset_prefix(self, prefix: str) -> None:
        """Forget every key that starts with ``prefix`` (an account's failures from any
        address, when an operator resets its password)."""
        db = self._connection()
        db.execute(
            "DELETE FROM hit WHERE bucket = ? AND substr(key, 1, ?) = ?",
            (self.bucket, len(prefix), prefix),
        )


class Limiter(Protocol):
    """What the sign-in throttles need of a limiter (this file's or Redis's)."""

    limit: int

    def allow(self, key: str) -> float | None: ...
    def count(self, key: str) -> int: ...
    def hit(self, key: str) -> None: ...
    def reset(self, key: str) -> None: ...
    def reset_prefix(self, prefix: str) -> None: ...
    def sibling(self, *, bucket: str, limit: int, window_seconds: float) -> Limiter: ...


@dataclass(frozen=True)
class Throttles:
    """Failed sign-ins per address (a minute) and per account and address (the lockout)."""

    address: Limiter
    account: Limiter

    @classmethod
    def of(cls, address: Limiter, settings: Settings) -> Throttles:
        account = address.sibling(
            bucket="login-account",
            limit=settings.login_max_failures,
            window_seconds=settings.login_lockout_minutes * 60.0,
        )
        return cls(address=address, account=account)
