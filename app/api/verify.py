"""The public verification endpoint: no login, size- and rate-limited."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.access import public
from app.deps import ServicesDep, check_rate, read_pdf
from app.downloads import attachment
from app.pdfwork import verify_isolated
from app.verification.report_pdf import (
    PDF_MEDIA_TYPE,
    render_report_pdf,
    report_filename,
)

router = APIRouter(prefix="/api/v1", tags=["verification"])


@router.post(
    "/verify",
    dependencies=public("anyone may verify a document; rate limited per address"),
    openapi_extra={"requestBody": {"content": {"application/pdf": {}}}},
    responses={200: {"content": {"application/json": {}, PDF_MEDIA_TYPE: {}}}},
)
async def verify(
    request: Request,
    services: ServicesDep,
    format: Annotated[
        Literal["json", "pdf"],
        Query(description="json (default): the report as JSON; pdf: a printable PDF report"),
    ] = "json",
) -> Response:
    """Verify every signature of a PDF. A failed signature is a 200 report, not an error."""
    check_rate(request, services)
    pdf = await read_pdf(request)

    def work() -> dict[str, Any]:
        return verify_isolated(services, pdf).to_json()

    def work_pdf() -> Response:
        report = verify_isolated(services, pdf)
        return Response(
            render_report_pdf(services, report),
            media_type=PDF_MEDIA_TYPE,
            headers=attachment(report_filename(report, "pdf")),
        )

    if format == "pdf":
        return await run_in_threadpool(work_pdf)
    return JSONResponse(await run_in_threadpool(work))
