"""Documents uploaded in the console: kept for their organization (so their pages can be shown
and sealed) and read back by those who may see them. Their pages are rendered by `app.pdfpages`
in the PDF workers."""

from __future__ import annotations

from sqlmodel import Session

from app import pdfwork
from app.errors import InvalidInput, NotFound
from app.models import StoredDocument
from app.sealing import granted_on
from app.security import Principal, Scope
from app.services.tenancy import require, visible_organization
from app.wiring import Services


def store_upload(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    pdf: bytes,
    filename: str,
) -> StoredDocument:
    """Keep an uploaded PDF for the organization so its pages can be shown and sealed."""
    visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_use)
    if not pdf.startswith(b"%PDF-"):
        raise InvalidInput("the file is not a PDF")
    pdfwork.page_sizes(services, pdf)  # refuses what PDFium cannot open (in a worker)
    document = StoredDocument(
        organization_id=organization_id,
        sha256=services.blobs.put(pdf),
        size=len(pdf),
        filename=(filename or "document.pdf")[:255],
        created_by=principal.actor,
    )
    session.add(document)
    session.flush()
    return document


def visible_document(
    session: Session, services: Services, *, principal: Principal, document_id: str
) -> tuple[StoredDocument, bytes]:
    document = session.get(StoredDocument, document_id)
    if document is None or (
        principal.organization_id != document.organization_id and not principal.is_platform
    ):
        raise NotFound(f"document {document_id} not found")
    # As in the API (app.sealing.visible_document), plus approvers, who decide on documents.
    if not (
        principal.has(Scope.documents_read)
        or principal.has(Scope.approvals_write)
        or document.created_by == principal.actor
        or granted_on(session, principal, document)
    ):
        raise NotFound(f"document {document_id} not found")
    return document, services.blobs.get(document.sha256)
