"""The public verification page: upload a PDF (or follow a document's QR link), see the
verdict, each signature with its seal, and the pages with the seal positions marked.

Routes (no login, not in the OpenAPI schema):
  GET  /verify                     the upload form; ``?d=<document id>`` verifies a stored
                                   document (the QR link printed on generated documents)
  POST /verify                     multipart upload (field ``file``) -> the report page
  GET  /verify/reports/{token}.pdf|.json   downloads of an upload's report (kept 15 minutes)
  GET  /verify/report.pdf|.json?d=<id>     downloads of a stored document's report
Static files under /public-static. Verification shares the API's per-address rate limit.

No CSRF token: the form changes nothing and needs no session. Cross-site posts are refused
(Origin / Sec-Fetch-Site), pages are ``no-store`` and ``noindex``, and the CSP of the whole
service (no inline script or style, form-action 'self') applies.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.access import public
from app.db import unit_of_work
from app.deps import ServicesDep, check_rate, read_pdf
from app.downloads import attachment
from app.errors import InvalidInput, PayloadTooLarge, RateLimited
from app.models import StoredDocument
from app.pdfwork import verify_isolated
from app.public.cache import ReportCache
from app.public.view import ReportView, build_view
from app.verification.report_pdf import (
    JSON_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    render_report_json,
    render_report_pdf,
    report_filename,
)
from app.verification.verify import verification_session
from app.wiring import Services
from seals.report_text import LABELS
from seals.reports import VerificationReport

HERE = Path(__file__).parent
STATIC_PREFIX = "/public-static"
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(
    include_in_schema=False,
    dependencies=public("the public verification page; sealed documents and reports only"),
)

DOCUMENT_ID = re.compile(r"^[0-9a-f]{32}$")
STORED_SOURCE = "平台存档文档 / document stored on this platform"
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
_DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _cache(request: Request) -> ReportCache:
    cache: ReportCache = request.app.state.public_reports
    return cache


def _page(
    request: Request, services: Services, *, status: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("view", None)
    context.setdefault("error", None)
    context.setdefault("downloads", None)
    context.setdefault("source", None)
    context["max_mb"] = max(1, services.settings.max_body_bytes // (1024 * 1024))
    context["static"] = STATIC_PREFIX
    context["L"] = LABELS  # the report's row names, shared with the PDF report
    headers = dict(_PAGE_HEADERS)
    if status == 429 and "retry_after" in context:
        headers["Retry-After"] = str(context["retry_after"])
    return templates.TemplateResponse(
        request, "verify.html", context, status_code=status, headers=headers
    )


def _error(
    request: Request, services: Services, status: int, zh: str, en: str, **extra: Any
) -> HTMLResponse:
    return _page(request, services, status=status, error={"zh": zh, "en": en}, **extra)


def _rate_limited(request: Request, services: Services, exc: RateLimited) -> HTMLResponse:
    return _error(
        request,
        services,
        429,
        "验证请求过于频繁，请稍后再试。",
        "Too many verification requests from this address; try again shortly.",
        retry_after=exc.extra.get("retry_after", 60),
    )


def _not_found(request: Request, services: Services) -> HTMLResponse:
    return _error(
        request,
        services,
        404,
        "未找到该文档：链接可能有误，或文档不在本平台存档。请上传文件进行验证。",
        "Document not found: the link may be wrong, or the document is not stored here. "
        "Upload the file to verify it.",
    )


def _cross_site(request: Request, services: Services) -> bool:
    """A post from another site's page (a browser tells us with Origin / Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    netloc = urlsplit(origin).netloc.lower()
    allowed = {
        request.headers.get("host", "").lower(),
        urlsplit(services.settings.public_base_url).netloc.lower(),
    }
    return netloc not in allowed


def _verify_and_render(
    services: Services, pdf: bytes, *, thumbnail_seconds: float
) -> tuple[VerificationReport, ReportView]:
    report = verify_isolated(services, pdf)
    with verification_session(services) as session:
        view = build_view(session, report, pdf=pdf, thumbnail_seconds=thumbnail_seconds)
    return report, view


def _thumbnail_seconds(services: Services) -> float:
    return min(5.0, services.settings.verify_max_seconds)


def _stored_pdf(services: Services, document_id: str) -> bytes | None:
    if not DOCUMENT_ID.match(document_id):
        return None
    with unit_of_work(services.engine) as session:
        document = session.get(StoredDocument, document_id)
        # Only what the service sealed (it records the source): never a draft or an upload.
        if document is None or document.source_sha256 is None:
            return None
        sha256 = document.sha256
    try:
        return services.blobs.get(sha256)
    except (KeyError, OSError):
        return None


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(
    request: Request,
    services: ServicesDep,
    d: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The upload form, or the report of a stored document (``?d=``)."""
    if d is None or not d.strip():
        return _page(request, services)
    document_id = d.strip().lower()
    pdf = await run_in_threadpool(_stored_pdf, services, document_id)
    if pdf is None:
        return _not_found(request, services)
    try:
        check_rate(request, services)
    except RateLimited as exc:
        return _rate_limited(request, services, exc)
    _report, view = await run_in_threadpool(
        _verify_and_render, services, pdf, thumbnail_seconds=_thumbnail_seconds(services)
    )
    downloads = {
        "pdf": f"/verify/report.pdf?d={document_id}",
        "json": f"/verify/report.json?d={document_id}",
    }
    return _page(request, services, view=view, downloads=downloads, source=STORED_SOURCE)


@router.post("/verify", response_class=HTMLResponse)
async def verify_upload(request: Request, services: ServicesDep) -> HTMLResponse:
    """Verify an uploaded PDF and show the report."""
    if _cross_site(request, services):
        return _error(
            request,
            services,
            403,
            "请在本站页面上传文件进行验证。",
            "Upload the file from this site's own verification page.",
        )
    try:
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise InvalidInput("the page posts the PDF as the multipart field 'file'")
        check_rate(request, services)
        pdf = await read_pdf(request)
    except RateLimited as exc:
        return _rate_limited(request, services, exc)
    except (PayloadTooLarge, StarletteHTTPException) as exc:
        if isinstance(exc, StarletteHTTPException) and exc.status_code != 413:
            raise
        return _error(
            request,
            services,
            413,
            "文件过大，无法验证。",
            "The file is too large to verify.",
        )
    except InvalidInput:
        return _error(
            request,
            services,
            422,
            "请选择一个 PDF 文件后再点击“验证”。",
            "Choose a PDF file, then press Verify.",
        )
    report, view = await run_in_threadpool(
        _verify_and_render, services, pdf, thumbnail_seconds=_thumbnail_seconds(services)
    )
    filename = _upload_name(await request.form())
    token = _cache(request).put(report, source=filename)
    downloads = {
        "pdf": f"/verify/reports/{token}.pdf",
        "json": f"/verify/reports/{token}.json",
    }
    return _page(request, services, view=view, downloads=downloads, source=filename)


def _upload_name(form: FormData) -> str | None:
    """The uploaded file's name as the browser sent it (shown back to the uploader only)."""
    name = getattr(form.get("file"), "filename", None)
    if not isinstance(name, str) or not name.strip():
        return None
    cleaned = "".join(c for c in name if c.isprintable())
    return cleaned[-120:] or None


def _download(
    services: Services, report: VerificationReport, kind: str, source: str | None
) -> Response:
    if kind == "pdf":
        body = render_report_pdf(services, report, source=source)
        media = PDF_MEDIA_TYPE
    else:
        body = render_report_json(report)
        media = JSON_MEDIA_TYPE
    return Response(
        body,
        media_type=media,
        headers={**_DOWNLOAD_HEADERS, **attachment(report_filename(report, kind))},
    )


@router.get("/verify/reports/{token}.{kind}")
async def upload_report(
    request: Request,
    services: ServicesDep,
    token: Annotated[str, PathParam(max_length=64)],
    kind: Annotated[str, PathParam(pattern="^(pdf|json)$")],
) -> Response:
    """The report of a recent upload, as PDF or JSON."""
    cached = _cache(request).get(token)
    if cached is None:
        return _error(
            request,
            services,
            404,
            "报告已过期或不存在，请重新上传文件进行验证。",
            "The report has expired or does not exist; upload the file again.",
        )
    return await run_in_threadpool(_download, services, cached.report, kind, cached.source)


@router.get("/verify/report.{kind}")
async def stored_report(
    request: Request,
    services: ServicesDep,
    kind: Annotated[str, PathParam(pattern="^(pdf|json)$")],
    d: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The report of a stored document (verified again now), as PDF or JSON."""
    document_id = d.strip().lower()
    pdf = await run_in_threadpool(_stored_pdf, services, document_id)
    if pdf is None:
        return _not_found(request, services)
    try:
        check_rate(request, services)
    except RateLimited as exc:
        return _rate_limited(request, services, exc)

    def work() -> Response:
        report = verify_isolated(services, pdf)
        return _download(services, report, kind, STORED_SOURCE)

    return await run_in_threadpool(work)
