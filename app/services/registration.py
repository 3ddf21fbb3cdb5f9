"""Synchronous enterprise registration: the organization, its certificates and the standard
seal set in one transaction."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.errors import Conflict, Forbidden, InvalidInput
from app.models import Organization, OrganizationKind
from app.security import Principal, Scope
from app.services.seals import (
    STANDARD_SET,
    STANDARD_SET_DPI,
    audit_act,
    audit_created,
    certificate_serial,
    image_spec,
    registry,
)
from app.services.tenancy import flush_or_conflict
from app.wiring import Services
from pki.authority import EnterpriseIdentity
from pki.identifiers import validate_uscc
from pki.keys import KeyAlgorithm
from seals.authorization import SealFacts
from seals.registry import NewSeal

# --- synchronous enterprise registration -----------------------------------------------------


@dataclass(frozen=True)
class RegisteredEnterprise:
    organization: Organization
    seals: list[SealFacts]
    serials: dict[str, str]


def register_enterprise(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    name: str,
    uscc: str,
    legal_representative: str,
    lifetime_days: int | None,
    key_algorithm: KeyAlgorithm,
) -> RegisteredEnterprise:
    """Organization, certificates and the standard seal set (active) in the caller's one
    transaction: any failure (duplicate credit code, a name that cannot be rendered, ...)
    raises and the caller's rollback leaves nothing behind."""
    if not (principal.is_platform or Scope.enterprises_register in principal.scopes):
        raise Forbidden("registering enterprises needs the scope 'enterprises:register'")
    code = validate_uscc(uscc)
    org_name = name.strip()
    rep = legal_representative.strip()
    if not org_name or not rep:
        raise InvalidInput("name and legal_representative are required")
    if session.exec(select(Organization.id).where(Organization.uscc == code)).first():
        raise Conflict(f"an organization with unified social credit code {code} already exists")
    org = Organization(
        name=org_name, kind=OrganizationKind.enterprise, uscc=code, legal_representative=rep
    )
    session.add(org)
    flush_or_conflict(session, f"an organization with unified social credit code {code}")
    audit_act(
        session,
        principal,
        "organization.register",
        target_type="organization",
        target_id=org.id,
        organization_id=org.id,
        details={"name": org.name, "uscc": code, "legal_representative": rep},
    )
    reg = registry(services)
    identity = EnterpriseIdentity(name=org.name, uscc=code)
    seals: list[SealFacts] = []
    serials: dict[str, str] = {}
    for kind in STANDARD_SET:
        image = image_spec(org, kind, person_name=None, inscription=None)
        seal = reg.create(
            session,
            new=NewSeal(
                organization_id=org.id,
                kind=kind,
                identity=identity,
                image=image,
                lifetime_days=lifetime_days,
                key_algorithm=key_algorithm,
                activate=True,
                dpi=STANDARD_SET_DPI,
            ),
            created_by=principal.actor,
        )
        serial = certificate_serial(session, seal.certificate_id)
        audit_created(session, principal, seal, serial, "rendered")
        seals.append(seal)
        serials[seal.id] = serial
    return RegisteredEnterprise(organization=org, seals=seals, serials=serials)
