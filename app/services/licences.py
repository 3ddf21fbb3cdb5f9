"""The electronic business licence (电子营业执照) made with a registration: signed before the
registration's transaction and recorded in it; the holder's name and code are the
registration's own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.db import reading, unit_of_work
from app.models import Organization
from app.models_policy import EnterpriseLicence
from app.schemas.licences import LicenceReference
from app.security import Principal
from app.services import generation
from app.services.licence_holder import LicenceHolderMismatch
from app.services.seals import visible_seal
from app.wiring import Services
from pki.identifiers import validate_uscc
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


@dataclass(frozen=True)
class PendingLicence:
    """A licence rendered and signed before the registration's transaction, for `record`."""

    pending: generation.Pending
    holder: tuple[str, str]
    seal_id: str
    seal_code: str
    authority_id: str
    authority: str


def sign_for_registration(
    services: Services,
    *,
    principal: Principal,
    name: str,
    uscc: str,
    legal_representative: str,
    request: LicenceRequest,
) -> PendingLicence:
    """Render the licence of the enterprise about to be registered and certify it with the
    authority's seal through the staged signing path -- before the registration's write
    transaction, so no lock is held while it is signed (`record_with_registration` then
    records it in that transaction, all or nothing)."""
    holder = (name.strip(), validate_uscc(uscc))
    agree(request, name=holder[0], uscc=holder[1])
    with unit_of_work(reading(services.engine)) as session:
        seal = visible_seal(session, services, principal, request.seal_id)
        authority = session.get(Organization, seal.organization_id)
        assert authority is not None
        data = {
            "name": holder[0],
            "uscc": holder[1],
            "legal_representative": legal_representative.strip(),
            "entity_type": request.entity_type,
            "address": request.address,
            "business_scope": request.business_scope,
            "registration_authority": request.registration_authority or authority.name,
            "established_on": request.established_on.isoformat(),
            "issued_on": request.issued_on.isoformat(),
            "registered_capital": request.registered_capital,
            "operating_period": request.operating_period,
        }
        prepared = generation.prepare(
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
    pending = generation.sign_prepared(
        services, principal=principal, prepared=prepared, pdf=generation.render(services, prepared)
    )
    return PendingLicence(
        pending=pending,
        holder=holder,
        seal_id=seal.id,
        seal_code=seal.code,
        authority_id=authority.id,
        authority=authority.name,
    )


def record_with_registration(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization: Organization,
    licence: PendingLicence,
) -> IssuedLicence:
    """Record the signed licence in the registration's transaction, for the organization
    just registered (which must be the holder the licence was rendered for)."""
    if (organization.name, organization.uscc) != licence.holder:
        raise LicenceHolderMismatch(
            f"the licence was made for {licence.holder[0]} ({licence.holder[1]}), "
            f"the registration is {organization.name} ({organization.uscc})"
        )
    issued = generation.record(session, services, principal=principal, pending=licence.pending)
    session.add(
        EnterpriseLicence(
            organization_id=organization.id,
            document_id=issued.document_id,
            authority_organization_id=licence.authority_id,
            seal_id=licence.seal_id,
        )
    )
    session.flush()
    return IssuedLicence(
        document_id=issued.document_id,
        verify_url=generation.verify_url(services, issued.document_id),
        seal_id=licence.seal_id,
        seal_code=licence.seal_code,
        authority=licence.authority,
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
