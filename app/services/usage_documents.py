"""Usage requests (用印申请) that carry their document: the PDF is kept like any stored
document of the organization, so the approver sees the pages they approve, not only a hash."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app import pdfwork
from app.errors import InvalidInput, NotFound
from app.models import StoredDocument
from app.security import Principal
from app.services.seals import visible_seal
from app.services.usage_requests import file_usage_request, get_usage_request
from app.wiring import Services
from seals import access


@dataclass(frozen=True)
class FiledWithDocument:
    request: access.UsageRequestFacts
    document: StoredDocument
    page_count: int


def file_with_document(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    pdf: bytes,
    filename: str,
    purpose: str,
    document_type: str | None,
    copies: int,
) -> FiledWithDocument:
    """Store the PDF for the seal's organization and file the request for exactly it."""
    seal = visible_seal(session, services, principal, seal_id)
    if not pdf.startswith(b"%PDF-"):
        raise InvalidInput("the file is not a PDF")
    pages = pdfwork.page_sizes(services, pdf)  # refuses what PDFium cannot open (in a worker)
    digest = services.blobs.put(pdf)
    request = file_usage_request(
        session,
        services,
        principal=principal,
        seal_id=seal.id,
        purpose=purpose,
        document_sha256=digest,
        document_type=document_type,
        copies=copies,
    )
    document = StoredDocument(
        organization_id=seal.organization_id,
        sha256=digest,
        size=len(pdf),
        filename=(filename or "document.pdf")[:255],
        created_by=principal.actor,
    )
    session.add(document)
    session.flush()
    return FiledWithDocument(request=request, document=document, page_count=len(pages))


def request_document(
    session: Session, services: Services, *, principal: Principal, request_id: str
) -> tuple[access.UsageRequestFacts, StoredDocument, bytes]:
    """The document a request was filed for, to whoever may see the request."""
    request = get_usage_request(session, services, principal=principal, request_id=request_id)
    document = session.exec(
        select(StoredDocument)
        .where(
            StoredDocument.organization_id == request.organization_id,
            StoredDocument.sha256 == request.document_sha256,
        )
        .order_by(col(StoredDocument.created_at))
    ).first()
    if document is None:
        raise NotFound("this request was filed with its hash only; the document is not here")
    return request, document, services.blobs.get(document.sha256)


def request_page(
    session: Session, services: Services, *, principal: Principal, request_id: str, number: int
) -> bytes:
    _, document, pdf = request_document(
        session, services, principal=principal, request_id=request_id
    )
    return pdfwork.page_png(services, pdf, sha256=document.sha256, number=number)
