"""The electronic business licence (电子营业执照) made with a registration, in its
transaction: the holder's name and code come from the registration itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.models import Organization
from app.models_policy import EnterpriseLicence
from app.schemas.licences import LicenceReference
from app.security import Principal
from app.services import generation
from app.services.licence_holder import LicenceHolderMismatch
from app.services.seals import visible_seal
from app.wiring import Services
from seals.signing import PadesLevel

LICENCE_TEMPLATE = "business-licence"


@dataclass(frozen=True)
class LicenceRequest:
    """What a registration adds to make the licence; the holder comes from the registration."""

    seal_id: str
    entity_type: str
    address: str
    business_scope: str
    established_on: date
    issued_on: date
    registration_authority: str | None = None
    registered_capital: str | None = None
    operating_period: str | None = None
    level: PadesLevel = PadesLevel.B_LT
    name: str | None = None
    uscc: str | None = None
    """Optional repeats of the holder; given, they must equal the registration's."""


@dataclass(frozen=True)
class IssuedLicence:
    document_id: str
    verify_url: str
    seal_id: str
    seal_code: str
    authority: str


def agree(request: LicenceRequest, *, name: str, uscc: str) -> None:
    """The licence's repeated holder, if given, is the registration's (checked before
    anything is rendered, and again on the registered row)."""
    if request.name is not None and request.name.strip() != name.strip():
        raise LicenceHolderMismatch(
            f"the licence names {request.name}, the registration {name}",
            errors=[{"loc": ["body", "licence", "name"], "msg": "differs from the registration"}],
        )
    if request.uscc is not None and request.uscc.strip().upper() != uscc.strip().upper():
        raise LicenceHolderMismatch(
            f"the licence carries {request.uscc}, the registration {uscc}",
            errors=[{"loc": ["body", "licence", "uscc"], "msg": "differs from the registration"}],
        )


def issue_with_registration(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization: Organization,
    request: LicenceRequest,
) -> IssuedLicence:
    """Render the licence for the enterprise just registered and certify it with the
    authority's seal, in the registration's transaction."""
    agree(request, name=organization.name, uscc=organization.uscc)
    seal = visible_seal(session, services, principal, request.seal_id)
    authority = session.get(Organization, seal.organization_id)
    assert authority is not None
    data = {
        "name": organization.name,
        "uscc": organization.uscc,
        "legal_representative": organization.legal_representative or "",
        "entity_type": request.entity_type,
        "address": request.address,
        "business_scope": request.business_scope,
        "registration_authority": request.registration_authority or authority.name,
        "established_on": request.established_on.isoformat(),
        "issued_on": request.issued_on.isoformat(),
        "registered_capital": request.registered_capital,
        "operating_period": request.operating_period,
    }
    issued = generation.issue(
        session,
        services,
        principal=principal,
        request=generation.GenerationRequest(
            template=LICENCE_TEMPLATE,
            data={k: v for k, v in data.items() if v is not None},
            seal_id=seal.id,
            level=request.level,
        ),
    )
    session.add(
        EnterpriseLicence(
            organization_id=organization.id,
            document_id=issued.document_id,
            authority_organization_id=authority.id,
            seal_id=seal.id,
        )
    )
    session.flush()
    return IssuedLicence(
        document_id=issued.document_id,
        verify_url=generation.verify_url(services, issued.document_id),
        seal_id=seal.id,
        seal_code=seal.code,
        authority=authority.name,
    )


def current_licence(session: Session, organization_id: str) -> EnterpriseLicence | None:
    return session.exec(
        select(EnterpriseLicence)
        .where(EnterpriseLicence.organization_id == organization_id)
        .order_by(col(EnterpriseLicence.issued_at).desc())
        .limit(1)
    ).first()


def public_reference(
    session: Session, services: Services, organization_id: str
) -> LicenceReference | None:
    """The enterprise's licence as a seal's public status shows it."""
    found = current_licence(session, organization_id)
    if found is None:
        return None
    authority = session.get(Organization, found.authority_organization_id)
    return LicenceReference(
        document_id=found.document_id,
        verify_url=generation.verify_url(services, found.document_id),
        authority=authority.name if authority else "",
    )
