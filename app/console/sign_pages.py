"""Signing a document: upload a PDF, see its pages, place the seal by clicking on a page (or by
keyword, or as a cross-page seal), choose the level, give the PIN of a personal seal, download
the result. Requests for approval are filed here too, for exactly this document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response

from app import pdfwork, sealing
from app import sealing_staged as staged
from app.access import console_needs
from app.console import queries, seal_choice
from app.console.web import Ctx, CtxDep, check_csrf, console_router, page, read_pdf_upload
from app.downloads import attachment
from app.errors import InvalidInput
from app.security import Scope
from app.services import documents, usage_requests
from app.services import seals as seal_service
from seals.authorization import SealFacts
from seals.kinds import kind_spec
from seals.placement import CoordinatePlacement, CrossPagePlacement, KeywordPlacement, Placement
from seals.signing import PadesLevel, SignatureFormat

router = console_router()

MAX_PAGES_SHOWN = 20
SEAL_CHOICES = 200


def _seal_choices(ctx: Ctx) -> list[SealFacts]:
    seals = seal_service.list_seals(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        kind=None,
        offset=0,
        limit=SEAL_CHOICES,
    )
    return list(queries.usable_seals(seals))


@router.get("/sign", dependencies=console_needs(Scope.seals_use))
def start(ctx: CtxDep) -> Response:
    recent = queries.recent_documents(
        ctx.session, principal=ctx.principal, organization_id=ctx.org_id
    )
    return page(ctx, "sign_start.html", recent=recent)


@router.post("/sign/upload", dependencies=console_needs(Scope.seals_use))
def upload(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    file: Annotated[UploadFile, File()],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    data = read_pdf_upload(ctx, file)
    document = documents.store_upload(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        pdf=data,
        filename=file.filename or "document.pdf",
    )
    return RedirectResponse(f"/console/sign/{document.id}", status_code=303)


def _document_page(ctx: Ctx, document_id: str, template: str) -> Response:
    document, pdf = documents.visible_document(
        ctx.session, ctx.services, principal=ctx.principal, document_id=document_id
    )
    pages = pdfwork.page_sizes(ctx.services, pdf)
    extra: dict[str, Any] = {}
    if template == "sign.html":
        me = seal_service.caller_of(ctx.session, ctx.principal)
        requests = [
            r
            for r in queries.my_requests(
                ctx.session,
                principal=ctx.principal,
                organization_id=ctx.org_id,
                me=me,
                offset=0,
                limit=50,
            )
            if r.document_sha256 == document.sha256
        ]
        offered = seal_choice.choices(ctx.session, me, _seal_choices(ctx) if ctx.can.sign else [])
        extra = {
            "seals": offered.usable,
            "request_seals": offered.to_request,
            "seals_without_grant": offered.without_grant,
            "requests": requests,
            "seal_names": queries.seals_by_id(
                ctx.session,
                principal=ctx.principal,
                organization_id=ctx.org_id,
                ids={r.seal_id for r in requests},
            ),
            "levels": [level.value for level in PadesLevel],
            "formats": [f.value for f in SignatureFormat],
            "seal_width": lambda seal: kind_spec(seal.kind).width_mm,
            "seal_height": lambda seal: kind_spec(seal.kind).height_mm,
        }
    return page(
        ctx,
        template,
        document=document,
        pages=pages[:MAX_PAGES_SHOWN],
        page_count=len(pages),
        max_pages=MAX_PAGES_SHOWN,
        **extra,
    )


@router.get("/sign/{document_id}", dependencies=console_needs(Scope.seals_use))
def sign_form(document_id: str, ctx: CtxDep) -> Response:
    return _document_page(ctx, document_id, "sign.html")


@router.get(
    "/documents/{document_id}",
    dependencies=console_needs(Scope.documents_read, Scope.seals_use, Scope.approvals_write),
)
def document_view(document_id: str, ctx: CtxDep) -> Response:
    return _document_page(ctx, document_id, "document.html")


@router.get(
    "/documents/{document_id}/pages/{number}.png",
    dependencies=console_needs(Scope.documents_read, Scope.seals_use, Scope.approvals_write),
)
def page_image(document_id: str, number: int, ctx: CtxDep) -> Response:
    document, pdf = documents.visible_document(
        ctx.session, ctx.services, principal=ctx.principal, document_id=document_id
    )
    png = pdfwork.page_png(ctx.services, pdf, sha256=document.sha256, number=number)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


@router.get(
    "/documents/{document_id}/download",
    dependencies=console_needs(Scope.documents_read, Scope.seals_use, Scope.approvals_write),
)
def download(document_id: str, ctx: CtxDep) -> Response:
    document, pdf = documents.visible_document(
        ctx.session, ctx.services, principal=ctx.principal, document_id=document_id
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **attachment(document.filename),
            "X-Eseal-Document-Sha256": document.sha256,
        },
    )


@router.post("/sign/{document_id}/request", dependencies=console_needs(Scope.seals_use))
def request_approval(
    document_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    seal_id: Annotated[str, Form(max_length=32)],
    purpose: Annotated[str, Form(min_length=1, max_length=500)],
    copies: Annotated[int, Form(ge=1, le=100)] = 1,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    document, _ = documents.visible_document(
        ctx.session, ctx.services, principal=ctx.principal, document_id=document_id
    )
    usage_requests.file_usage_request(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        purpose=purpose,
        document_sha256=document.sha256,
        document_type=None,
        copies=copies,
    )
    return RedirectResponse(f"/console/sign/{document_id}#requests", status_code=303)


def _placement(
    mode: str,
    page_number: int | None,
    x_mm: float | None,
    y_mm: float | None,
    keyword: str,
    offset: tuple[float, float] = (0.0, 0.0),
) -> Placement:
    if mode == "click":
        if page_number is None or x_mm is None or y_mm is None:
            raise InvalidInput("click on a page to choose where the seal goes")
        return CoordinatePlacement(page=page_number, x_mm=x_mm, y_mm=y_mm)
    if mode == "keyword":
        if not keyword.strip():
            raise InvalidInput("enter the keyword to place the seal on")
        return KeywordPlacement(
            keyword=keyword.strip(), offset_x_mm=offset[0], offset_y_mm=offset[1]
        )
    return CrossPagePlacement()


@router.post("/sign/{document_id}", dependencies=console_needs(Scope.seals_use))
def sign(
    document_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    seal_id: Annotated[str, Form(max_length=32)],
    mode: Annotated[Literal["click", "keyword", "cross"], Form()] = "click",
    page_number: Annotated[int | None, Form(alias="page", ge=1, le=100_000)] = None,
    x_mm: Annotated[float | None, Form(ge=0, le=5000)] = None,
    y_mm: Annotated[float | None, Form(ge=0, le=5000)] = None,
    keyword: Annotated[str, Form(max_length=100)] = "",
    offset_x_mm: Annotated[float, Form(ge=-500, le=500)] = 0.0,
    offset_y_mm: Annotated[float, Form(ge=-500, le=500)] = 0.0,
    level: Annotated[PadesLevel, Form()] = PadesLevel.B_LT,
    pin: Annotated[str | None, Form(max_length=64)] = None,
    format: Annotated[SignatureFormat, Form()] = SignatureFormat.PADES,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    document, pdf = documents.visible_document(
        ctx.session, ctx.services, principal=ctx.principal, document_id=document_id
    )
    staged.release(ctx.session)
    result = staged.seal_document(
        ctx.services,
        principal=ctx.principal,
        request=sealing.SealRequest(
            seal_id=seal_id,
            pdf=pdf,
            filename=_signed_name(document.filename),
            placement=_placement(
                mode, page_number, x_mm, y_mm, keyword, (offset_x_mm, offset_y_mm)
            ),
            level=level,
            pin=pin or None,
            format=format,
        ),
    )
    return RedirectResponse(f"/console/documents/{result.document_id}", status_code=303)


def _signed_name(filename: str) -> str:
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    return f"{stem}-已签章.pdf"
