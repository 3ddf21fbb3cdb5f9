"""Evidence packages (存证) of a sealed document and of a completed envelope."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, WritingSessionDep
from app.downloads import attachment
from app.security import Scope
from app.services import evidence
from app.services.envelopes import READ_SCOPES

router = APIRouter(prefix="/api/v1", tags=["evidence"])
ZIP = "application/zip"


def _zip(package: evidence.Package) -> Response:
    return Response(
        package.data,
        media_type=ZIP,
        headers={
            **attachment(package.filename),
            "X-Eseal-Package-Sha256": package.sha256,
        },
    )


@router.get(
    "/documents/{document_id}/evidence",
    dependencies=needs(Scope.documents_read, Scope.seals_use),
    response_class=Response,
    responses={200: {"content": {ZIP: {}}, "description": "the evidence package"}},
)
def document_evidence(
    document_id: str, session: WritingSessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """One ZIP: the sealed PDF, its verification report (JSON and PDF), every audit event
    about it with its inclusion path into a fresh time-stamped checkpoint, the certificates,
    CRLs and OCSP responses used, and an RFC 3161 time-stamp over the manifest. Check it
    offline with `eseal evidence verify FILE`."""
    return _zip(
        evidence.for_document(session, services, principal=principal, document_id=document_id)
    )


@router.get(
    "/envelopes/{envelope_id}/evidence",
    dependencies=needs(*READ_SCOPES),
    response_class=Response,
    responses={200: {"content": {ZIP: {}}, "description": "the evidence package"}},
)
def envelope_evidence(
    envelope_id: str, session: WritingSessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """The evidence package of a completed envelope (its final revision)."""
    return _zip(
        evidence.for_envelope(session, services, principal=principal, envelope_id=envelope_id)
    )
