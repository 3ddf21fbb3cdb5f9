"""Usage requests filed with their document, and the document's pages for the approver."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Response, UploadFile, status
from pydantic import BaseModel

from app.access import needs
from app.api.usage_requests import request_public
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.schemas.seals import UsageRequestPublic
from app.security import Scope
from app.services import usage_documents

router = APIRouter(prefix="/api/v1", tags=["seals"])


class RequestDocumentPublic(BaseModel):
    id: str
    filename: str
    sha256: str
    size: int
    page_count: int
    document_url: str
    first_page_url: str


class UsageRequestWithDocument(BaseModel):
    request: UsageRequestPublic
    document: RequestDocumentPublic


@router.post(
    "/seals/{seal_id}/usage-requests/with-document",
    dependencies=needs(Scope.seals_use),
    status_code=status.HTTP_201_CREATED,
)
def file_with_document(
    seal_id: str,
    file: Annotated[UploadFile, File(description="the PDF to be sealed")],
    purpose: Annotated[str, Form(min_length=1, max_length=500)],
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    document_type: Annotated[str | None, Form(max_length=64)] = None,
    copies: Annotated[int, Form(ge=1, le=100)] = 1,
) -> UsageRequestWithDocument:
    """File a usage request (用印申请) with the document itself: it is kept for the seal's
    organization, so the approver sees its pages; the request binds its SHA-256 as usual."""
    filed = usage_documents.file_with_document(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        pdf=file.file.read(),
        filename=file.filename or "document.pdf",
        purpose=purpose,
        document_type=document_type,
        copies=copies,
    )
    request_id = filed.request.id
    return UsageRequestWithDocument(
        request=request_public(filed.request),
        document=RequestDocumentPublic(
            id=filed.document.id,
            filename=filed.document.filename,
            sha256=filed.document.sha256,
            size=filed.document.size,
            page_count=filed.page_count,
            document_url=f"/api/v1/usage-requests/{request_id}/document",
            first_page_url=f"/api/v1/usage-requests/{request_id}/pages/1.png",
        ),
    )


@router.get(
    "/usage-requests/{request_id}/document",
    dependencies=needs(Scope.seals_read),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def request_document(
    request_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """The document the request was filed with (404 when it was filed by hash only)."""
    _, document, pdf = usage_documents.request_document(
        session, services, principal=principal, request_id=request_id
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"X-Eseal-Document-Sha256": document.sha256},
    )


@router.get(
    "/usage-requests/{request_id}/pages/{number}.png",
    dependencies=needs(Scope.seals_read),
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def request_page(
    request_id: str,
    number: Annotated[int, Path(ge=1, le=10000)],
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> Response:
    """One page of the request's document as a PNG (1-based)."""
    png = usage_documents.request_page(
        session, services, principal=principal, request_id=request_id, number=number
    )
    return Response(png, media_type="image/png")
