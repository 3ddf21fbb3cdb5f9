"""Faults of the machine as clear answers: a database that is down, locked or out of pool
slots is `503 database-unavailable` with Retry-After, a full disk is `507`, an unwritable data
folder `503 storage-unavailable` — never `500 internal-error`. And no answer, not even a 500,
costs the client its keep-alive connection.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problem_handlers import problem_response

log = logging.getLogger("eseal.faults")

_DISK_FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


@dataclass(frozen=True)
class Fault:
    status: int
    code: str
    detail: str


DATABASE_UNAVAILABLE = Fault(
    503, "database-unavailable", "the database is busy or unreachable; retry shortly"
)
DISK_FULL = Fault(507, "insufficient-storage", "the service has no storage space left")
NOT_WRITABLE = Fault(
    503, "storage-unavailable", "the service cannot write to its storage; retry later"
)


def classify(error: BaseException) -> Fault | None:
    """The fault behind `error`, or None when it is not a fault of the machine."""
    if isinstance(error, sa_exc.TimeoutError):  # no pool slot within the timeout
        return DATABASE_UNAVAILABLE
    if isinstance(error, sa_exc.DBAPIError) and not isinstance(error, sa_exc.IntegrityError):
        original = error.orig
        text = str(original).lower()
        sqlstate = getattr(original, "sqlstate", None) or ""
        if "disk is full" in text or sqlstate.startswith("53"):  # 53100 disk_full
            return DISK_FULL
        if "readonly database" in text or "unable to open database" in text:
            return NOT_WRITABLE
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return DATABASE_UNAVAILABLE
        if error.connection_invalidated or sqlstate.startswith(("08", "57")):
            return DATABASE_UNAVAILABLE
        return None
    if isinstance(error, OSError):
        if error.errno in _DISK_FULL:
            return DISK_FULL
        if error.errno in _NOT_WRITABLE:
            return NOT_WRITABLE
    return None


def fault_response(request: Request | None, fault: Fault, retry_after: int) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if fault.status == 503 else None
    return problem_response(
        request, status=fault.status, code=fault.code, detail=fault.detail, headers=headers
    )


def install_fault_handlers(app: FastAPI, *, retry_after: int) -> None:
    """Handlers for database and storage errors (answered inside the app, so the connection
    stays open); anything unrecognised is the ordinary 500."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        fault = classify(exc)
        if fault is None:
            log.exception("unhandled error", exc_info=exc)
            return problem_response(
                request,
                status=500,
                code="internal-error",
                detail="an internal error occurred; quote the request id when reporting it",
            )
        log.warning("%s: %s", fault.code, type(exc).__name__)
        return fault_response(request, fault, retry_after)

    for cls in (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError):
        app.add_exception_handler(cls, handle)


class ProblemOnCrashMiddleware:
    """Answers any exception that escaped the handlers with a problem, instead of letting it
    reach the server: Starlette re-raises after its own 500, and uvicorn then drops the
    keep-alive connection without `Connection: close`, so the client's next request fails."""

    def __init__(self, app: ASGIApp, *, retry_after: int) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # half an answer is out: only closing the connection is honest
            request = Request(scope)
            fault = classify(exc)
            if fault is None:
                log.exception("unhandled error")
                fault = Fault(
                    500,
                    "internal-error",
                    "an internal error occurred; quote the request id when reporting it",
                )
            response = fault_response(request, fault, self.retry_after)
            await response(scope, receive, send)
