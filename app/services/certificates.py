"""Certificates of organizations and their people: issue, renew, revoke, look up.

Each act is authorised against the caller's organization, audited in the same transaction,
and a revocation refreshes the issuer's CRL in that transaction too. An issuance is checked,
its key made and its certificate signed in a read transaction (`pki.issuance.prepare`); the
request's own transaction then re-reads the organization (and person), which takes SQLite's
write lock, and only inserts the key, the certificate and the audit event before it commits.
"""

from __future__ import annotations

import sqlalchemy as sa
from cryptography import x509
from sqlmodel import Session, col, select

from app.db import reading, unit_of_work
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Person
from app.security import Principal, Scope
from app.services import audit
from app.services.seals import certificates_revoked, registry
from app.services.tenancy import confirmed_member, require, visible_organization
from app.wiring import Services
from pki import issuance
from pki.authority import EnterpriseIdentity, IssuedCertificate, PersonIdentity
from pki.errors import CertificateNotFoundError
from pki.identifiers import mask_resident_id
from pki.keys import KeyAlgorithm
from pki.models import CertificateRecord
from seals.lifecycle import TERMINAL, SealAction
from seals.models import Seal


def _sm2_allowed(services: Services, key_algorithm: KeyAlgorithm) -> None:
    if KeyAlgorithm(key_algorithm) is KeyAlgorithm.SM2 and not services.settings.sm2_enabled:
        raise InvalidInput("SM2 certificates are not enabled on this service (ESEAL_SM2_ENABLED)")


def issue_enterprise(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    csr_pem: bytes | None,
    key_algorithm: KeyAlgorithm,
    lifetime_days: int | None,
) -> IssuedCertificate:
    with unit_of_work(reading(services.engine)) as read:
        org = visible_organization(read, principal, organization_id)
        require(principal, Scope.certificates_write)
        _sm2_allowed(services, key_algorithm)
        prepared = issuance.prepare(
            services.authority,
            read,
            issuance.IssueRequest(
                identity=EnterpriseIdentity(name=org.name, uscc=org.uscc),
                owner_org_id=org.id,
                csr_pem=csr_pem,
                key_algorithm=key_algorithm,
                lifetime_days=lifetime_days,
            ),
        )
    visible_organization(session, principal, organization_id)  # takes the write lock
    issued = issuance.record(services.authority, session, prepared)
    _audit_issue(session, principal, issued, org.id, {"uscc": org.uscc})
    return issued


def issue_personal(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    person_id: str,
    csr_pem: bytes | None,
    key_algorithm: KeyAlgorithm,
    lifetime_days: int | None,
) -> IssuedCertificate:
    with unit_of_work(reading(services.engine)) as read:
        org = visible_organization(read, principal, organization_id)
        require(principal, Scope.certificates_write)
        _sm2_allowed(services, key_algorithm)
        person = _certified_person(read, org.id, person_id)
        prepared = issuance.prepare(
            services.authority,
            read,
            issuance.IssueRequest(
                identity=PersonIdentity(name=person.name, resident_id=person.resident_id or ""),
                owner_org_id=org.id,
                owner_person_id=person.id,
                csr_pem=csr_pem,
                key_algorithm=key_algorithm,
                lifetime_days=lifetime_days,
            ),
        )
    visible_organization(session, principal, organization_id)  # takes the write lock
    _certified_person(session, org.id, person_id)
    issued = issuance.record(services.authority, session, prepared)
    _audit_issue(
        session,
        principal,
        issued,
        org.id,
        {"resident_id": mask_resident_id(person.resident_id or "")},
    )
    return issued


def _certified_person(session: Session, organization_id: str, person_id: str) -> Person:
    """A confirmed member with a resident ID number (NotFound / InvalidInput otherwise)."""
    person = confirmed_member(session, organization_id, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found in this organization")
    if not person.resident_id:
        raise InvalidInput("a personal certificate needs the person's resident ID number")
    return person


def _audit_issue(
    session: Session,
    principal: Principal,
    issued: IssuedCertificate,
    organization_id: str,
    identity: dict[str, str],
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action="certificate.issue",
        target_type="certificate",
        target_id=issued.certificate_id,
        organization_id=organization_id,
        details={
            "serial": format(issued.serial_number, "x"),
            "profile": issued.profile,
            "issuer": issued.issuer_ca,
            "key": "service-held" if issued.key_id else "csr",
            **identity,
        },
    )


def visible_certificate(
    session: Session, services: Services, principal: Principal, certificate_id: str
) -> IssuedCertificate:
    """The certificate if it belongs to the caller's organization; NotFound otherwise."""
    try:
        issued = services.authority.get(session, certificate_id)
    except CertificateNotFoundError as exc:
        raise NotFound(f"certificate {certificate_id} not found") from exc
    if issued.owner_org_id is None or not principal.may_act_for(issued.owner_org_id):
        raise NotFound(f"certificate {certificate_id} not found")
    return issued


def list_certificates(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    offset: int,
    limit: int,
) -> list[IssuedCertificate]:
    visible_organization(session, principal, organization_id)
    require(principal, Scope.certificates_read)
    ids = session.exec(
        select(CertificateRecord.id)
        .where(CertificateRecord.owner_org_id == organization_id)
        .order_by(col(CertificateRecord.created_at), col(CertificateRecord.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return [services.authority.get(session, i) for i in ids]


def revoke(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    certificate_id: str,
    reason: x509.ReasonFlags,
) -> IssuedCertificate:
    issued = visible_certificate(session, services, principal, certificate_id)
    require(principal, Scope.certificates_write)
    if (
        reason is x509.ReasonFlags.certificate_hold
        and session.exec(select(Seal.id).where(_is_seal_certificate(certificate_id))).first()
    ):
        # A hold cannot be released here, while a suspended seal can be reactivated.
        raise Conflict("this certificate belongs to a seal: suspend the seal instead")
    revoked = services.authority.revoke(session, certificate_id=certificate_id, reason=reason)
    services.publisher.after_revocation(session, revoked.issuer_ca)
    audit.record(
        session,
        actor=principal.actor,
        action="certificate.revoke",
        target_type="certificate",
        target_id=certificate_id,
        organization_id=issued.owner_org_id,
        details={"serial": format(revoked.serial_number, "x"), "reason": reason.value},
    )
    _revoke_its_seal(session, services, principal, certificate_id, reason)
    return services.authority.get(session, certificate_id)


def _is_seal_certificate(certificate_id: str) -> sa.ColumnElement[bool]:
    """A seal's main or SM2 certificate (both are bound to it)."""
    return sa.or_(
        col(Seal.certificate_id) == certificate_id, col(Seal.sm2_certificate_id) == certificate_id
    )


def _revoke_its_seal(
    session: Session,
    services: Services,
    principal: Principal,
    certificate_id: str,
    reason: x509.ReasonFlags,
) -> None:
    """A seal whose certificate is revoked is revoked with it, in the same transaction, so
    the public status, the console and the signer agree (issue 10, finding 4)."""
    seal_id = session.exec(select(Seal.id).where(_is_seal_certificate(certificate_id))).first()
    if seal_id is None:
        return
    reg = registry(services)
    if reg.get(session, seal_id).status in TERMINAL:
        return
    done = reg.transition(
        session,
        seal_id=seal_id,
        action=SealAction.REVOKE,
        reason=f"certificate revoked ({reason.value})",
        certificate_reason=reason,
    )
    # the seal's other certificate (main or SM2), revoked with it
    certificates_revoked(session, services, principal, done, reason=reason.value)
    audit.record(
        session,
        actor=principal.actor,
        action="seal.revoke",
        target_type="seal",
        target_id=seal_id,
        organization_id=done.seal.organization_id,
        details={
            "code": done.seal.code,
            "from": done.previous.value,
            "to": done.seal.status.value,
            "via": "certificate.revoke",
        },
    )


def renew(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    certificate_id: str,
    csr_pem: bytes | None,
) -> IssuedCertificate:
    old = visible_certificate(session, services, principal, certificate_id)
    require(principal, Scope.certificates_write)
    if session.exec(select(Seal.id).where(_is_seal_certificate(certificate_id))).first():
        # a renewal here would drop the seal binding and leave the seal on the old certificate
        raise Conflict("this certificate belongs to a seal; it is renewed with its seal")
    new = services.authority.renew(session, certificate_id=certificate_id, csr_pem=csr_pem)
    audit.record(
        session,
        actor=principal.actor,
        action="certificate.renew",
        target_type="certificate",
        target_id=new.certificate_id,
        organization_id=old.owner_org_id,
        details={"replaces": certificate_id, "serial": format(new.serial_number, "x")},
    )
    return new
