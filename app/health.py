"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.db import ping
from app.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    try:
        ping(services.engine)
    except Exception:  # any database failure means "not ready", never a 500
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
