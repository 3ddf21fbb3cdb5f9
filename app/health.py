"""Liveness and readiness."""

from __future__ import annotations

import shutil

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.access import public
from app.db import ping
from app.deps import ServicesDep

router = APIRouter(tags=["health"], dependencies=public("liveness and readiness probes"))


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the database answers and the data folder has `min_free_bytes` to spare
    (a full disk fails every seal with 507, so a load balancer should stop sending)."""
    body: dict[str, object] = {"status": "ok", "database": "ok", "disk": "ok"}
    try:
        ping(services.engine)
    except Exception:  # any database failure means "not ready", never a 500
        body["database"] = "unreachable"
    settings = services.settings
    try:
        free = shutil.disk_usage(settings.data_dir).free
        body["disk_free_bytes"] = free
        if free < settings.min_free_bytes:
            body["disk"] = "low"
    except OSError:
        body["disk"] = "unreachable"
    if body["database"] != "ok" or body["disk"] != "ok":
        body["status"] = "unavailable"
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse(body)
