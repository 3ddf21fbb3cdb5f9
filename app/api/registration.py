"""Enterprise registration in one call: organization, certificates, standard seal set, licence."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.schemas.licences import LicencePublic
from app.schemas.seals import (
    EnterpriseRegister,
    EnterpriseRegistered,
    RegisteredSeal,
)
from app.security import Scope
from app.services import licences, registration

router = APIRouter(prefix="/api/v1", tags=["registration"])


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
    signed_licence = None
    if wanted is not None:  # signed before the registration's transaction begins
        signed_licence = licences.sign_for_registration(
            services,
            principal=principal,
            name=body.name,
            uscc=body.uscc,
            legal_representative=body.legal_representative,
            request=wanted,
        )
    done = registration.register_enterprise(
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
    if signed_licence is not None:
        issued = licences.record_with_registration(
            session, services, principal=principal, organization=org, licence=signed_licence
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
