"""Seal kinds, seals (create, upload, preview, image, lifecycle, PIN, use check) and the public
seal status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from app.access import authenticated, needs, public
from app.api.applications import filing_of
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.errors import InvalidInput
from app.schemas.seals import (
    KindPublic,
    PinSet,
    SealCreate,
    SealPreview,
    SealPublic,
    SealStatusPublic,
    SealTransition,
    SealUpdate,
    UseCheck,
    UseCheckPublic,
)
from app.security import Scope
from app.services import licences, seal_kinds
from app.services import seals as seal_service
from app.services.seal_codes import registry_of
from app.wiring import Services
from pki.keys import KeyAlgorithm
from seals.authorization import SealFacts
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
        eseal_url=f"/api/v1/public/seals/{seal.code}/eseal"
        if seal.sm2_certificate_id is not None
        else None,
    )
