"""Seal production applications: apply with supporting documents, review (approve, reject,
ask for changes), resubmit; the trusted-applicant policy; a seal's public filing (备案).

Scopes: applying and resubmitting need `seals:write` in the organization, reading
`seals:read`; reviewing needs `enterprises:register` (an agency) or `platform`; the policy
is the platform's; the filing is public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from sqlmodel import Session

from app.access import authenticated, needs
from app.access import public as public_access
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.errors import NotFound
from app.models_agency import SealApplication
from app.schemas.applications import (
    ApplicationDecision,
    ApplicationDocumentPublic,
    ApplicationPublic,
    FilingPublic,
    TrustedApplicantPublic,
)
from app.security import Scope
from app.services import applications as service
from app.services.application_documents import MAX_DOCUMENT_BYTES, Upload
from app.services.seals import registry
from app.services.tenancy import require
from seals.kinds import SealKind
from seals.models import Seal

router = APIRouter(prefix="/api/v1", tags=["seal applications"])

Documents = Annotated[list[UploadFile], File(description="PDF, PNG or JPEG; recognised by content")]


async def read_uploads(files: list[UploadFile]) -> list[Upload]:
    """Each file read up to one byte past the limit (the check then refuses it by size)."""
    return [
        Upload(filename=f.filename or "document", data=await f.read(MAX_DOCUMENT_BYTES + 1))
        for f in files
    ]


def public(session: Session, app: SealApplication) -> ApplicationPublic:
    docs = service.documents(session, app.id)
    return ApplicationPublic(
        id=app.id,
        organization_id=app.organization_id,
        purpose=service.Purpose(app.purpose),
        kind=app.kind,
        name=app.name,
        inscription=app.inscription,
        reason=app.reason,
        replaces_seal_id=app.replaces_seal_id,
        status=service.Status(app.status),
        applicant=app.applicant,
        submitted_at=app.submitted_at,
        reviewed_by=app.reviewed_by,
        reviewed_at=app.reviewed_at,
        review_note=app.review_note,
        seal_id=app.seal_id,
        documents=[
            ApplicationDocumentPublic(
                id=d.id,
                filename=d.filename,
                media_type=d.media_type,
                size=d.size,
                sha256=d.sha256,
                url=f"/api/v1/seal-applications/{app.id}/documents/{d.id}",
                created_at=d.created_at,
            )
            for d in docs
        ],
    )


@router.post(
    "/organizations/{organization_id}/seal-applications",
    dependencies=needs(Scope.seals_write),
    status_code=status.HTTP_201_CREATED,
)
async def apply(
    organization_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    reason: Annotated[str, Form(max_length=1000)],
    purpose: Annotated[service.Purpose, Form()] = service.Purpose.new,
    kind: Annotated[SealKind | None, Form()] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    inscription: Annotated[str | None, Form(max_length=60)] = None,
    replaces_seal_id: Annotated[str | None, Form(max_length=32)] = None,
    documents: Documents = [],  # noqa: B006 (FastAPI copies defaults)
) -> ApplicationPublic:
    """Apply for a new seal, or to re-issue, change or cancel one (scope `seals:write`)."""
    require(principal, Scope.seals_write)
    uploads = await read_uploads(documents)
    app = service.submit(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        given=service.ApplicationInput(
            purpose=purpose,
            kind=kind,
            name=name,
            inscription=inscription,
            reason=reason,
            replaces_seal_id=replaces_seal_id or None,
        ),
        uploads=uploads,
    )
    return public(session, app)


@router.get(
    "/organizations/{organization_id}/seal-applications",
    dependencies=authenticated(
        "applicants see their own organization's applications, reviewers all"
    ),
)
def list_applications(
    organization_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    status: service.Status | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ApplicationPublic]:
    """The organization's applications, newest first (scope `seals:read`)."""
    rows = service.list_for_organization(
        session,
        principal=principal,
        organization_id=organization_id,
        status=status,
        offset=offset,
        limit=limit,
    )
    return [public(session, a) for a in rows]


@router.get("/seal-applications", dependencies=needs(Scope.enterprises_register))
def review_queue(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: service.Status = service.Status.submitted,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ApplicationPublic]:
    """Applications awaiting review, oldest first (scope `enterprises:register`)."""
    service.require_reviewer(principal)
    rows = service.queue(session, principal=principal, status=status, offset=offset, limit=limit)
    return [public(session, a) for a in rows]


@router.get(
    "/seal-applications/{application_id}",
    dependencies=authenticated("the applicant organization or a reviewer; the service narrows it"),
)
def get_application(
    application_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationPublic:
    return public(session, service.visible(session, principal, application_id))


@router.get(
    "/seal-applications/{application_id}/documents/{document_id}",
    dependencies=authenticated("the applicant organization or a reviewer; the service narrows it"),
    response_class=Response,
)
def get_document(
    application_id: str,
    document_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> Response:
    row, data = service.document(
        session, services, principal=principal, application_id=application_id, doc_id=document_id
    )
    return Response(
        data,
        media_type=row.media_type,
        headers={
            **attachment(),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/seal-applications/{application_id}/resubmit", dependencies=needs(Scope.seals_write))
async def resubmit(
    application_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    reason: Annotated[str | None, Form(max_length=1000)] = None,
    inscription: Annotated[str | None, Form(max_length=60)] = None,
    documents: Documents = [],  # noqa: B006
) -> ApplicationPublic:
    """Back into review after a request for changes (scope `seals:write`)."""
    require(principal, Scope.seals_write)
    uploads = await read_uploads(documents)
    app = service.resubmit(
        session,
        services,
        principal=principal,
        application_id=application_id,
        reason=reason,
        inscription=inscription,
        uploads=uploads,
    )
    return public(session, app)


@router.post(
    "/seal-applications/{application_id}/decision", dependencies=needs(Scope.enterprises_register)
)
def decide(
    application_id: str,
    body: ApplicationDecision,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> ApplicationPublic:
    """Approve (makes, binds and files the seal; revokes what it replaces), reject, or ask
    for changes (scope `enterprises:register`)."""
    service.require_reviewer(principal)
    app = service.review(
        session,
        services,
        principal=principal,
        application_id=application_id,
        decision=body.decision,
        note=body.note,
    )
    return public(session, app)


@router.put("/trusted-applicants/{organization_id}", dependencies=needs(Scope.platform))
def trust(
    organization_id: str, session: SessionDep, principal: CurrentPrincipal
) -> TrustedApplicantPublic:
    """Standard-set applications of this organization skip review (scope `platform`)."""
    require(principal, Scope.platform)
    service.set_trusted(session, principal=principal, organization_id=organization_id, trusted=True)
    return TrustedApplicantPublic(organization_id=organization_id, trusted=True)


@router.delete("/trusted-applicants/{organization_id}", dependencies=needs(Scope.platform))
def untrust(
    organization_id: str, session: SessionDep, principal: CurrentPrincipal
) -> TrustedApplicantPublic:
    require(principal, Scope.platform)
    service.set_trusted(
        session, principal=principal, organization_id=organization_id, trusted=False
    )
    return TrustedApplicantPublic(organization_id=organization_id, trusted=False)


def filing_of(session: Session, seal_id: str) -> FilingPublic | None:
    found = service.filing(session, seal_id)
    seal = session.get(Seal, seal_id) if found else None
    if found is None or seal is None:
        return None
    return FilingPublic(
        seal_code=seal.code,
        application_id=found.application_id,
        authority=found.authority,
        approved_at=found.approved_at,
    )


@router.get(
    "/public/seals/{code}/filing",
    dependencies=public_access("a seal's filing (备案) is part of its public status"),
    tags=["public"],
)
def public_filing(code: str, session: SessionDep, services: ServicesDep) -> FilingPublic:
    """备案: the approval behind a seal made on application (public, no login)."""
    seal = registry(services).find_by_code(session, code)
    found = filing_of(session, seal.id) if seal else None
    if found is None:
        raise NotFound(f"no filing for seal {code.strip()}")
    return found
