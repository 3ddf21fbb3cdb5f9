"""Refused seal uses as answers: a wrong PIN is counted (and may lock the seal) and a refused
use audited, each in a unit of work of its own after the request's transaction rolled back."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.errors import status_for
from app.problem_handlers import problem_response
from app.services import refusals
from app.services.pin_check import refuse_wrong_pin
from app.wiring import Services
from seals.errors import SealLockedError, UseRefusedError, WrongPinError


async def wrong_pin(request: Request, exc: Exception) -> JSONResponse:
    """Count the wrong PIN after the rollback, then answer from the counted state."""
    assert isinstance(exc, WrongPinError)
    services: Services = request.app.state.services
    refusal = await run_in_threadpool(refuse_wrong_pin, services, exc)
    return problem_response(
        request,
        status=refusal.status,
        code=refusal.code,
        detail=refusal.detail,
        extra=refusal.extra,
    )


async def refused_use(request: Request, exc: Exception) -> JSONResponse:
    """A refused use: audited (after the rollback) with its reason, then answered."""
    assert isinstance(exc, UseRefusedError | SealLockedError)
    await run_in_threadpool(refusals.record, request.app.state.services, exc)
    return problem_response(
        request, status=status_for(exc), code=exc.code, detail=exc.detail, extra=exc.extra
    )


def install_refusal_handlers(app: FastAPI) -> None:
    app.add_exception_handler(WrongPinError, wrong_pin)
    app.add_exception_handler(UseRefusedError, refused_use)
    app.add_exception_handler(SealLockedError, refused_use)
