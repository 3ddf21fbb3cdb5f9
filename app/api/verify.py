"""The public verification endpoint: no login, size- and rate-limited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.db import unit_of_work
from app.deps import ServicesDep
from app.errors import InvalidInput, RateLimited
from app.verify import verify_document

router = APIRouter(prefix="/api/v1", tags=["verification"])


async def read_pdf(request: Request) -> bytes:
    """The PDF from a multipart form field ``file`` or from a raw ``application/pdf`` body."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload: Any = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput("send the PDF as the form field 'file'")
        data: bytes = await upload.read()
    else:
        data = await request.body()
    if not data:
        raise InvalidInput("the request has no document; send a PDF")
    return data


def check_rate(request: Request, services: ServicesDep) -> None:
    client = request.client.host if request.client else "unknown"
    wait = services.verify_limiter.allow(client)
    if wait is not None:
        raise RateLimited(
            "too many verification requests from this address; try again shortly",
            retry_after=int(wait) + 1,
        )


@router.post("/verify", openapi_extra={"requestBody": {"content": {"application/pdf": {}}}})
async def verify(request: Request, services: ServicesDep) -> JSONResponse:
    """Verify every signature of a PDF. A failed signature is a 200 report, not an error."""
    check_rate(request, services)
    pdf = await read_pdf(request)

    def work() -> dict[str, Any]:
        with unit_of_work(services.engine) as session:
            return verify_document(session, services, pdf=pdf).to_json()

    return JSONResponse(await run_in_threadpool(work))
