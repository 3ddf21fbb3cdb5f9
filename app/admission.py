"""Admission control: each class of work has a bounded number of requests in flight and a short
queue; beyond that the answer is an immediate `503 overloaded` with Retry-After.

A burst of sealing requests used to pile up behind SQLite's write lock and the connection pool
until nothing on any endpoint completed for 30 s. With a gate per class, sealing saturates its
own few slots while OCSP, time-stamps, verification and the console keep theirs. The limits are
per process (settings `admission`); they keep the number of transactions waiting for the
database well below the pool size, so no request waits out the pool or busy timeout.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Mapping

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.problem_handlers import problem_response

EXEMPT_PREFIXES = ("/healthz", "/readyz", "/static/", "/public-static/", "/docs", "/redoc")
_SEALING = re.compile(
    r"^/api/v1/(seals/[^/]+/sign|envelopes/.+/sign|templates/.+)$"
    r"|^/console/(sign/(?!upload$)[^/]+|envelopes/.+/sign)$"
)


def work_class(method: str, path: str) -> str | None:
    """Which gate a request passes (None: not gated, e.g. health and static files)."""
    if path.startswith(EXEMPT_PREFIXES) or path == "/openapi.json":
        return None
    if method == "POST" and _SEALING.match(path):
        return "sealing"
    if path in ("/api/v1/verify", "/verify") or path.startswith("/verify/"):
        return "verification"
    if path.startswith("/pki/"):
        return "pki"
    if path.startswith("/console"):
        return "console"
    return "api"


class Gate:
    """At most `limit` holders; at most `queue` waiting in arrival order; FIFO hand-over."""

    def __init__(self, limit: int, queue: int) -> None:
        self.limit = max(1, limit)
        self.queue = max(0, queue)
        self.active = 0
        self._waiters: deque[asyncio.Future[bool]] = deque()

    async def enter(self, timeout: float) -> bool:
        """True when admitted (call `leave` afterwards); False at once when the queue is full,
        or after `timeout` seconds of waiting."""
        if self.active < self.limit and not self._waiters:
            self.active += 1
            return True
        if len(self._waiters) >= self.queue:
            return False
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return False
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # the slot was handed over just as the client went away
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def leave(self) -> None:
        """Hand the slot to the longest waiter still waiting, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self.active -= 1


def gates_from(limits: Mapping[str, tuple[int, int]]) -> dict[str, Gate]:
    """One gate per class of work named in the settings (unnamed classes pass ungated)."""
    return {name: Gate(limit, queue) for name, (limit, queue) in limits.items()}


class AdmissionMiddleware:
    """Puts every request through the gate of its class of work."""

    def __init__(
        self, app: ASGIApp, *, gates: Mapping[str, Gate], wait_seconds: float, retry_after: int
    ) -> None:
        self.app = app
        self.gates = gates
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = work_class(scope.get("method", "GET"), scope.get("path", ""))
        gate = self.gates.get(name) if name else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        if not await gate.enter(self.wait_seconds):
            response = problem_response(
                Request(scope),
                status=503,
                code="overloaded",
                detail=f"too many {name} requests in progress; retry after {self.retry_after} s",
                extra={"work_class": name},
                headers={"Retry-After": str(self.retry_after)},
            )
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave()
