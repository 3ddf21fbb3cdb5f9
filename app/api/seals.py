"""Seal kinds, seals (create, upload, preview, image, lifecycle, PIN), grants, usage requests
and approvals, enterprise registration, and the public seal status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app import licences, refusals, seal_kinds, seal_service
from app.access import authenticated, needs, public
from app.api.applications import filing_of
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.errors import InvalidInput, problem_response, status_for
from app.pin_check import count_wrong_pin, refusal_detail
from app.schemas.licences import LicencePublic
from app.schemas.seals import (
    Decision,
    EnterpriseRegister,
    EnterpriseRegistered,
    GrantCreate,
    GrantPublic,
    KindPublic,
    PinSet,
    RegisteredSeal,
    SealCreate,
    SealPreview,
    SealPublic,
    SealStatusPublic,
    SealTransition,
    SealUpdate,
    UsageRequestCreate,
    UsageRequestPublic,
    UsageRequestStatus,
    UseCheck,
    UseCheckPublic,
)
from app.seal_codes import registry_of
from app.security import Scope
from app.wiring import Services
from pki.keys import KeyAlgorithm
from seals import access
from seals.authorization import ApprovalStatus, Caller, SealFacts
from seals.errors import SealLockedError, UseRefusedError, WrongPinError
from seals.images import MAX_UPLOAD_BYTES
from seals.kinds import KIND_SPECS, SealKind
from seals.lifecycle import SealAction
from seals.registry import PERSON_CERTIFIED_KINDS

router = APIRouter(prefix="/api/v1", tags=["seals"])
public_router = APIRouter(
    prefix="/api/v1/public",
    tags=["public"],
    dependencies=public("a seal's public status, looked up by its code"),
)

PNG = "image/png"


def _seal(seal: SealFacts) -> SealPublic:
    return SealPublic(
        id=seal.id,
        code=seal.code,
        organization_id=seal.organization_id,
        person_id=seal.person_id,
        kind=seal.kind,
        name=seal.name,
        status=seal.status.value,
        valid_from=seal.valid_from,
        valid_until=seal.valid_until,
        requires_approval=seal.requires_approval,
        certificate_id=seal.certificate_id,
        sm2_certificate_id=seal.sm2_certificate_id,
        image_sha256=seal.image_sha256,
        image_url=f"/api/v1/seals/{seal.id}/image",
        pin_set=seal.pin_set,
        pin_locked_until=seal.pin_locked_until,
        use_count=seal.use_count,
        created_at=seal.created_at,
        status_changed_at=seal.status_changed_at,
        revocation_reason=seal.revocation_reason,
    )


def _grant(grant: access.GrantFacts) -> GrantPublic:
    return GrantPublic(
        id=grant.id,
        seal_id=grant.seal_id,
        grantee_kind=grant.grantee.kind,
        grantee_id=grant.grantee.id,
        document_types=list(grant.document_types) if grant.document_types is not None else None,
        not_before=grant.not_before,
        not_after=grant.not_after,
        max_uses=grant.max_uses,
        uses=grant.uses,
        created_by=grant.created_by,
        created_at=grant.created_at,
        revoked_at=grant.revoked_at,
        requires_established_type=grant.requires_established_type,
    )


def _request(request: access.UsageRequestFacts) -> UsageRequestPublic:
    return UsageRequestPublic(
        id=request.id,
        seal_id=request.seal_id,
        requester_kind=request.requester.kind,
        requester_id=request.requester.id,
        purpose=request.purpose,
        document_sha256=request.document_sha256,
        document_type=request.document_type,
        copies=request.copies,
        status=UsageRequestStatus(request.status.value),
        created_at=request.created_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
        consumed_at=request.consumed_at,
    )


def _png(data: bytes, *, sha256: str | None = None) -> Response:
    headers = {"Cache-Control": "private, max-age=60"}
    if sha256:
        headers["ETag"] = f'"{sha256}"'
    return Response(data, media_type=PNG, headers=headers)


# --- kinds and seals ---------------------------------------------------------------------------


@router.get(
    "/seal-kinds",
    dependencies=authenticated("the catalogue of seal kinds is the same for everyone"),
)
def list_kinds(principal: CurrentPrincipal) -> list[KindPublic]:
    """The seal kinds and their standard forms (sizes in millimetres)."""
    return [
        KindPublic(
            kind=spec.kind,
            shape=spec.shape,
            width_mm=spec.width_mm,
            height_mm=spec.height_mm,
            holder="person" if spec.kind in PERSON_CERTIFIED_KINDS else "organization",
            label_zh=spec.label_zh,
            label_en=spec.label_en,
            inscription=spec.inscription,
            has_star=spec.has_star,
            shows_seal_code=spec.accepts_seal_code,
            accepts_uploaded_image=spec.accepts_uploaded_image,
            certificate="personal" if spec.kind in PERSON_CERTIFIED_KINDS else "enterprise",
        )
        for spec in KIND_SPECS.values()
    ]


@router.post(
    "/organizations/{organization_id}/seals",
    dependencies=needs(Scope.seals_write),
    status_code=status.HTTP_201_CREATED,
)
def create_seal(
    organization_id: str,
    body: SealCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> SealPublic:
    """A new seal (pending until an org admin activates it) with its own key and certificate;
    the image is rendered from the organization's (or person's) verified data."""
    seal = seal_service.create_seal(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        kind=body.kind,
        name=body.name,
        person_id=body.person_id,
        person_name=body.person_name,
        inscription=body.inscription,
        requires_approval=body.requires_approval,
        print_code=body.print_code,
        lifetime_days=body.lifetime_days,
        key_algorithm=body.key_algorithm,
        dpi=body.dpi,
    )
    return _seal(seal)


@router.post(
    "/organizations/{organization_id}/seals/upload",
    dependencies=needs(Scope.seals_write),
    status_code=status.HTTP_201_CREATED,
)
async def upload_seal(
    organization_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    image: Annotated[UploadFile, File(description="PNG or JPEG of a handwritten signature")],
    person_id: Annotated[str, Form(max_length=32)],
    kind: Annotated[SealKind, Form()] = SealKind.PERSONAL,
    name: Annotated[str | None, Form(max_length=200)] = None,
    requires_approval: Annotated[bool, Form()] = False,
    lifetime_days: Annotated[int | None, Form(ge=1, le=3650)] = None,
    key_algorithm: Annotated[KeyAlgorithm, Form()] = KeyAlgorithm.EC_P256,
) -> SealPublic:
    """A personal seal from an uploaded signature image (PNG/JPEG; white becomes transparent)."""
    data = await image.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise InvalidInput("the uploaded image is empty")
    seal = await run_in_threadpool(
        lambda: seal_service.create_seal(
            session,
            services,
            principal=principal,
            organization_id=organization_id,
            kind=kind,
            name=name,
            person_id=person_id,
            person_name=None,
            inscription=None,
            requires_approval=requires_approval,
            print_code=False,
            lifetime_days=lifetime_days,
            key_algorithm=key_algorithm,
            dpi=600,
            upload=data,
        )
    )
    return _seal(seal)


@router.post(
    "/organizations/{organization_id}/seal-previews",
    dependencies=needs(Scope.seals_read),
    response_class=Response,
    responses={200: {"content": {PNG: {}}}},
)
def preview_seal(
    organization_id: str,
    body: SealPreview,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> Response:
    """How a seal would look (a placeholder code of zeros stands for the seal code)."""
    png = seal_service.preview(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        kind=body.kind,
        person_name=body.person_name,
        inscription=body.inscription,
        print_code=body.print_code,
        dpi=body.dpi,
    )
    return _png(png)


@router.get("/organizations/{organization_id}/seals", dependencies=needs(Scope.seals_read))
def list_seals(
    organization_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    kind: SealKind | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[SealPublic]:
    seals = seal_service.list_seals(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        kind=kind,
        offset=offset,
        limit=limit,
    )
    return [_seal(s) for s in seals]


@router.get("/seals/{seal_id}", dependencies=needs(Scope.seals_read))
def get_seal(
    seal_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> SealPublic:
    return _seal(seal_service.get_seal(session, services, principal=principal, seal_id=seal_id))


@router.get(
    "/seals/{seal_id}/image",
    dependencies=needs(Scope.seals_read),
    response_class=Response,
    responses={200: {"content": {PNG: {}}}},
)
def seal_image(
    seal_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """The seal's stored image (PNG, transparent background)."""
    data = seal_service.seal_image(session, services, principal=principal, seal_id=seal_id)
    seal = seal_service.get_seal(session, services, principal=principal, seal_id=seal_id)
    return _png(data, sha256=seal.image_sha256)


@router.patch("/seals/{seal_id}", dependencies=needs(Scope.org_admin))
def update_seal(
    seal_id: str,
    body: SealUpdate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> SealPublic:
    """Whether each use needs an approved usage request (用印审批)."""
    seal = seal_service.set_requires_approval(
        session, services, principal=principal, seal_id=seal_id, required=body.requires_approval
    )
    return _seal(seal)


def _transition(
    action: SealAction,
    seal_id: str,
    body: SealTransition | None,
    session: SessionDep,
    services: Services,
    principal: CurrentPrincipal,
) -> SealPublic:
    done = seal_service.transition(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        action=action,
        reason=body.reason if body else None,
    )
    return _seal(done.seal)


@router.post("/seals/{seal_id}/activate", dependencies=needs(Scope.org_admin))
def activate_seal(
    seal_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> SealPublic:
    return _transition(SealAction.ACTIVATE, seal_id, None, session, services, principal)


@router.post("/seals/{seal_id}/suspend", dependencies=needs(Scope.org_admin))
def suspend_seal(
    seal_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: SealTransition | None = None,
) -> SealPublic:
    return _transition(SealAction.SUSPEND, seal_id, body, session, services, principal)


@router.post("/seals/{seal_id}/reactivate", dependencies=needs(Scope.org_admin))
def reactivate_seal(
    seal_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> SealPublic:
    return _transition(SealAction.REACTIVATE, seal_id, None, session, services, principal)


@router.post("/seals/{seal_id}/revoke", dependencies=needs(Scope.org_admin))
def revoke_seal(
    seal_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: SealTransition | None = None,
) -> SealPublic:
    """Final: the seal's certificate is revoked with it and the CRL reissued."""
    return _transition(SealAction.REVOKE, seal_id, body, session, services, principal)


@router.put("/seals/{seal_id}/pin", dependencies=needs(Scope.seals_write, Scope.seals_use))
def set_pin(
    seal_id: str,
    body: PinSet,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> SealPublic:
    """Set a personal seal's signing PIN (6-12 digits); changing it needs `current_pin`."""
    seal = seal_service.set_pin(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        pin=body.pin,
        current_pin=body.current_pin,
    )
    return _seal(seal)


@router.post("/seals/{seal_id}/use-check", dependencies=needs(Scope.seals_use))
def check_use(
    seal_id: str,
    body: UseCheck,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> UseCheckPublic:
    """Would this caller be allowed to apply the seal to this document now? Nothing is spent;
    a refusal is a problem naming the reason (a wrong PIN counts as a failed attempt)."""
    use = seal_service.authorize_use(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        document_sha256=body.document_sha256,
        document_type=body.document_type,
        pin=body.pin,
    )
    return UseCheckPublic(
        seal_id=use.seal.id,
        seal_code=use.seal.code,
        certificate_id=use.certificate_id,
        grant_id=use.evidence.grant_id,
        approval_id=use.evidence.approval_id,
        checks=list(use.checks),
    )


# --- grants ------------------------------------------------------------------------------------


@router.post(
    "/seals/{seal_id}/grants",
    dependencies=needs(Scope.org_admin),
    status_code=status.HTTP_201_CREATED,
)
def create_grant(
    seal_id: str,
    body: GrantCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> GrantPublic:
    """Allow a member (person) or an API client of the organization to use the seal."""
    grant = seal_service.create_grant(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        grantee=Caller(body.grantee_kind, body.grantee_id),
        limits=access.GrantLimits(
            document_types=tuple(body.document_types) if body.document_types is not None else None,
            not_before=body.not_before,
            not_after=body.not_after,
            max_uses=body.max_uses,
            requires_established_type=body.requires_established_type,
        ),
    )
    return _grant(grant)


@router.get("/seals/{seal_id}/grants", dependencies=needs(Scope.seals_read))
def list_grants(
    seal_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    include_revoked: bool = False,
) -> list[GrantPublic]:
    grants = seal_service.list_grants(
        session, services, principal=principal, seal_id=seal_id, include_revoked=include_revoked
    )
    return [_grant(g) for g in grants]


@router.get("/grants/{grant_id}", dependencies=needs(Scope.seals_read))
def get_grant(
    grant_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> GrantPublic:
    return _grant(seal_service.get_grant(session, services, principal=principal, grant_id=grant_id))


@router.post("/grants/{grant_id}/revoke", dependencies=needs(Scope.org_admin))
def revoke_grant(
    grant_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> GrantPublic:
    """Takes effect at once, also for a signer between authorisation and consumption."""
    grant = seal_service.revoke_grant(session, services, principal=principal, grant_id=grant_id)
    return _grant(grant)


# --- usage requests and approvals --------------------------------------------------------------


@router.post(
    "/seals/{seal_id}/usage-requests",
    dependencies=needs(Scope.seals_use),
    status_code=status.HTTP_201_CREATED,
)
def file_usage_request(
    seal_id: str,
    body: UsageRequestCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> UsageRequestPublic:
    """Ask to use the seal on exactly one document (by its SHA-256)."""
    request = seal_service.file_usage_request(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        purpose=body.purpose,
        document_sha256=body.document_sha256,
        document_type=body.document_type,
        copies=body.copies,
    )
    return _request(request)


@router.get("/organizations/{organization_id}/usage-requests", dependencies=needs(Scope.seals_read))
def list_usage_requests(
    organization_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    status_filter: Annotated[list[UsageRequestStatus] | None, Query(alias="status")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[UsageRequestPublic]:
    requests = seal_service.list_usage_requests(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        statuses=[ApprovalStatus(s.value) for s in status_filter or []],
        offset=offset,
        limit=limit,
    )
    return [_request(r) for r in requests]


@router.get("/usage-requests/{request_id}", dependencies=needs(Scope.seals_read))
def get_usage_request(
    request_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> UsageRequestPublic:
    request = seal_service.get_usage_request(
        session, services, principal=principal, request_id=request_id
    )
    return _request(request)


@router.post("/usage-requests/{request_id}/approve", dependencies=needs(Scope.approvals_write))
def approve_usage_request(
    request_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Decision | None = None,
) -> UsageRequestPublic:
    """Allow exactly one use of the seal on exactly that document."""
    decided = seal_service.decide_usage_request(
        session,
        services,
        principal=principal,
        request_id=request_id,
        approve=True,
        note=body.note if body else None,
    )
    return _request(decided)


@router.post("/usage-requests/{request_id}/reject", dependencies=needs(Scope.approvals_write))
def reject_usage_request(
    request_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Decision | None = None,
) -> UsageRequestPublic:
    decided = seal_service.decide_usage_request(
        session,
        services,
        principal=principal,
        request_id=request_id,
        approve=False,
        note=body.note if body else None,
    )
    return _request(decided)


# --- enterprise registration ---------------------------------------------------------------------


@router.post(
    "/enterprises",
    dependencies=needs(Scope.enterprises_register),
    status_code=status.HTTP_201_CREATED,
    tags=["registration"],
)
def register_enterprise(
    body: EnterpriseRegister,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> EnterpriseRegistered:
    """Register an enterprise in one call: the organization, a certificate and key per seal,
    and the active standard seal set (公章, 合同专用章, 财务专用章, 发票专用章, 法定代表人名章);
    with `licence`, also the electronic business licence certified by the authority's seal
    (the caller needs `seals:use` and a grant on it). All or nothing."""
    wanted = licences.LicenceRequest(**body.licence.model_dump()) if body.licence else None
    if wanted is not None:
        licences.agree(wanted, name=body.name, uscc=body.uscc)
    done = seal_service.register_enterprise(
        session,
        services,
        principal=principal,
        name=body.name,
        uscc=body.uscc,
        legal_representative=body.legal_representative,
        lifetime_days=body.lifetime_days,
        key_algorithm=body.key_algorithm,
    )
    org = done.organization
    licence = None
    if wanted is not None:
        issued = licences.issue_with_registration(
            session, services, principal=principal, organization=org, request=wanted
        )
        licence = LicencePublic(
            document_id=issued.document_id,
            document_url=f"/api/v1/documents/{issued.document_id}",
            verify_url=issued.verify_url,
            seal_id=issued.seal_id,
            seal_code=issued.seal_code,
            authority=issued.authority,
        )
    return EnterpriseRegistered(
        organization_id=org.id,
        name=org.name,
        uscc=org.uscc,
        legal_representative=org.legal_representative or "",
        seals=[
            RegisteredSeal(
                id=s.id,
                code=s.code,
                kind=s.kind,
                name=s.name,
                status=s.status.value,
                certificate_id=s.certificate_id,
                certificate_serial=done.serials[s.id],
                sm2_certificate_id=s.sm2_certificate_id,
                valid_until=s.valid_until,
            )
            for s in done.seals
        ],
        licence=licence,
    )


# --- public --------------------------------------------------------------------------------------


@public_router.get("/seals/{code}")
def public_seal_status(code: str, session: SessionDep, services: ServicesDep) -> SealStatusPublic:
    """Anyone can check a seal by its code: kind, owner, status and validity."""
    found = seal_service.public_status(session, services, code=code)
    seal = found.seal
    return SealStatusPublic(
        code=seal.code,
        kind=seal.kind,
        kind_label=seal_kinds.label_of(session, seal.id) or KIND_SPECS[seal.kind].label_zh,
        owner=found.owner,
        organization=found.organization,
        status=seal.status.value,
        valid_from=seal.valid_from,
        valid_until=seal.valid_until,
        status_changed_at=seal.status_changed_at,
        certificate_serial=found.certificate_serial,
        certificate_fingerprint_sha256=found.certificate_fingerprint_sha256,
        licence=licences.public_reference(session, services, seal.organization_id),
        registry=registry_of(seal.code, services.settings.public_base_url),
        filing=filing_of(session, seal.id),
    )


# --- wrong PINs ----------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Routers, and the handler that counts a wrong PIN after the request rolled back."""

    async def wrong_pin(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, WrongPinError)
        services: Services = request.app.state.services

        failure = await run_in_threadpool(count_wrong_pin, services, exc)
        if failure.locked_until is not None:
            return problem_response(
                request,
                status=423,
                code="seal-locked",
                detail=refusal_detail(failure),
                extra={**exc.extra, "locked_until": failure.locked_until.isoformat()},
            )
        return problem_response(
            request,
            status=403,
            code=exc.code,
            detail=refusal_detail(failure),
            extra={**exc.extra, "attempts_left": failure.attempts_left},
        )

    app.include_router(router)
    app.include_router(public_router)
    app.add_exception_handler(WrongPinError, wrong_pin)

    async def refused_use(request: Request, exc: Exception) -> JSONResponse:
        """A refused use: audited (after the rollback) with its reason, then answered."""
        assert isinstance(exc, UseRefusedError | SealLockedError)
        await run_in_threadpool(refusals.record, request.app.state.services, exc)
        return problem_response(
            request, status=status_for(exc), code=exc.code, detail=exc.detail, extra=exc.extra
        )

    app.add_exception_handler(UseRefusedError, refused_use)
    app.add_exception_handler(SealLockedError, refused_use)
