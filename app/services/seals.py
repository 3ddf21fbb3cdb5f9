"""Seals for the service: who may create, move and use a seal, its PIN and its public status,
and the audit trail of each act, in the caller's transaction.

Another organization's seals are indistinguishable from missing ones. Grants, usage requests
and enterprise registration build on this module (`app.services.grants`, `.usage_requests`,
`.registration`). Signing code calls `authorize_use` (or `SealRegistry.load_for_use`
directly) and, in the transaction that stores the signed document, `record_use`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.errors import InvalidInput, NotFound
from app.models import Organization, Person, UserAccount
from app.security import Principal, Scope
from app.services import audit, refusals, stat_counters
from app.services.tenancy import confirmed_member, require, visible_organization
from app.wiring import Services
from pki.authority import EnterpriseIdentity, PersonIdentity
from pki.identifiers import division_code
from pki.keys import KeyAlgorithm
from pki.models import CertificateRecord
from seals.authorization import Caller, CallerKind, SealFacts, SealUse, UsageReceipt
from seals.codes import SEAL_CODE_LENGTH
from seals.errors import SealLockedError, UseRefusedError, WrongPinError
from seals.kinds import SealKind, kind_spec
from seals.lifecycle import SealAction
from seals.models import Seal
from seals.pin import PinFailure
from seals.registry import NewSeal, SealRegistry, Transition, UploadedImage
from seals.render import SealImageSpec

STANDARD_SET: tuple[SealKind, ...] = (
    SealKind.OFFICIAL,
    SealKind.CONTRACT,
    SealKind.FINANCE,
    SealKind.INVOICE,
    SealKind.LEGAL_REPRESENTATIVE,
)
STANDARD_SET_DPI = 300
"""Registration renders at 300 dpi (print quality at the seal's physical size; 600 dpi costs
~2.5x the time for the five images). Seals created one by one default to 600 dpi."""
PREVIEW_CODE = "0" * SEAL_CODE_LENGTH


def registry(services: Services) -> SealRegistry:
    return SealRegistry(
        authority=services.authority,
        font_path=services.settings.seal_font,
        code_region=services.settings.seal_code_region,
        sm2=services.settings.sm2_enabled,
    )


def scope_of(principal: Principal) -> str | None:
    """The organization whose rows the caller sees (None: every one, for the platform)."""
    if principal.is_platform:
        return None
    if principal.organization_id is None:
        raise NotFound("not found")
    return principal.organization_id


def caller_of(session: Session, principal: Principal) -> Caller:
    """An API client acts as itself; a console user as their person."""
    if principal.kind == "user":
        account = session.get(UserAccount, principal.id)
        if account is None:
            raise NotFound("the signed-in account no longer exists")
        return Caller(CallerKind.PERSON, account.person_id)
    return Caller(CallerKind.CLIENT, principal.id)


def visible_seal(session: Session, services: Services, principal: Principal, seal_id: str) -> Seal:
    return registry(services).row(session, seal_id, organization_id=scope_of(principal))


def audit_act(
    session: Session,
    principal: Principal | str,
    action: str,
    *,
    target_type: str,
    target_id: str,
    organization_id: str | None,
    details: dict[str, object],
) -> None:
    audit.record(
        session,
        actor=principal if isinstance(principal, str) else principal.actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        organization_id=organization_id,
        details=details,
    )


def certificates_revoked(
    session: Session, services: Services, actor: Principal | str, done: Transition, *, reason: str
) -> None:
    """CRLs and audit events for the certificates a seal's revocation revoked with it (its
    main certificate and its SM2 one)."""
    seal = done.seal
    revoked: list[tuple[str, str]] = []
    if done.certificate_revoked and done.issuer_ca is not None:
        revoked.append((seal.certificate_id, done.issuer_ca))
    if done.sm2_issuer_ca is not None and seal.sm2_certificate_id is not None:
        revoked.append((seal.sm2_certificate_id, done.sm2_issuer_ca))
    for certificate_id, issuer in revoked:
        services.publisher.after_revocation(session, issuer)
        audit_act(
            session,
            actor,
            "certificate.revoke",
            target_type="certificate",
            target_id=certificate_id,
            organization_id=seal.organization_id,
            details={
                "serial": certificate_serial(session, certificate_id),
                "reason": reason,
                "seal_code": seal.code,
            },
        )


def audit_created(
    session: Session, actor: Principal | str, seal: SealFacts, serial: str, source: str
) -> None:
    audit_act(
        session,
        actor,
        "certificate.issue",
        target_type="certificate",
        target_id=seal.certificate_id,
        organization_id=seal.organization_id,
        details={"serial": serial, "seal_code": seal.code, "key": "service-held"},
    )
    if seal.sm2_certificate_id is not None:
        audit_act(
            session,
            actor,
            "certificate.issue",
            target_type="certificate",
            target_id=seal.sm2_certificate_id,
            organization_id=seal.organization_id,
            details={
                "serial": certificate_serial(session, seal.sm2_certificate_id),
                "seal_code": seal.code,
                "key": "service-held",
                "algorithm": "sm2",
            },
        )
    audit_act(
        session,
        actor,
        "seal.create",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={
            "code": seal.code,
            "kind": seal.kind.value,
            "name": seal.name,
            "status": seal.status.value,
            "certificate_id": seal.certificate_id,
            "sm2_certificate_id": seal.sm2_certificate_id,
            "image_sha256": seal.image_sha256,
            "image": source,
            "requires_approval": seal.requires_approval,
        },
    )


def certificate_serial(session: Session, certificate_id: str) -> str:
    record = session.get(CertificateRecord, certificate_id)
    assert record is not None
    return record.serial


# --- creating seals ----------------------------------------------------------------------------


def _member_person(session: Session, organization_id: str, person_id: str | None) -> Person:
    if person_id is None:
        raise InvalidInput("a personal seal needs person_id (a member of the organization)")
    person = confirmed_member(session, organization_id, person_id)
    if person is None:
        raise NotFound(f"person {person_id} not found in this organization")
    return person


def image_spec(
    org: Organization,
    kind: SealKind,
    *,
    person_name: str | None,
    inscription: str | None,
) -> SealImageSpec:
    if kind is SealKind.PERSONAL:
        return SealImageSpec(kind=kind, person_name=person_name)
    if kind is SealKind.LEGAL_REPRESENTATIVE:
        name = person_name or org.legal_representative
        if not name:
            raise InvalidInput("the organization has no legal representative on record")
        return SealImageSpec(kind=kind, person_name=name)
    if person_name is not None:
        raise InvalidInput(f"a {kind.value} seal shows the organization, not a person")
    return SealImageSpec(
        kind=kind,
        organization_name=org.name,
        inscription=inscription,
        taxpayer_number=org.uscc if kind is SealKind.INVOICE else None,
    )


def create_seal(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    kind: SealKind,
    name: str | None,
    person_id: str | None,
    person_name: str | None,
    inscription: str | None,
    requires_approval: bool,
    print_code: bool,
    lifetime_days: int | None,
    key_algorithm: KeyAlgorithm,
    dpi: int,
    upload: bytes | None = None,
) -> SealFacts:
    """A new (pending) seal with its own key and certificate, from data or an upload."""
    org = visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_write)
    identity: EnterpriseIdentity | PersonIdentity
    image: SealImageSpec | UploadedImage
    owner = None
    if kind is SealKind.PERSONAL:
        person = _member_person(session, org.id, person_id)
        if not person.resident_id:
            raise InvalidInput("a personal seal needs the person's resident ID number")
        identity = PersonIdentity(name=person.name, resident_id=person.resident_id)
        owner = person.id
        image = (
            UploadedImage(upload)
            if upload is not None
            else image_spec(org, kind, person_name=person.name, inscription=inscription)
        )
    else:
        if person_id is not None:
            raise InvalidInput(f"a {kind.value} seal belongs to the organization, not a person")
        if upload is not None:
            raise InvalidInput(f"a {kind.value} seal is rendered from the organization's data")
        identity = EnterpriseIdentity(name=org.name, uscc=org.uscc)
        image = image_spec(org, kind, person_name=person_name, inscription=inscription)
    seal = registry(services).create(
        session,
        new=NewSeal(
            organization_id=org.id,
            kind=kind,
            identity=identity,
            image=image,
            name=name,
            person_id=owner,
            requires_approval=requires_approval,
            lifetime_days=lifetime_days,
            key_algorithm=key_algorithm,
            print_code=print_code,
            dpi=dpi,
            code_region=division_code(org.uscc),
        ),
        created_by=principal.actor,
    )
    source = "uploaded" if upload is not None else "rendered"
    audit_created(
        session, principal, seal, certificate_serial(session, seal.certificate_id), source
    )
    return seal


def preview(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    kind: SealKind,
    person_name: str | None,
    inscription: str | None,
    print_code: bool,
    dpi: int,
) -> bytes:
    """How a seal of `kind` for this organization would look (nothing is stored)."""
    org = visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_read)
    if kind is SealKind.PERSONAL and person_name is None:
        raise InvalidInput("a personal seal preview needs person_name")
    spec = image_spec(org, kind, person_name=person_name, inscription=inscription)
    if print_code and kind_spec(kind).accepts_seal_code:
        spec = SealImageSpec(
            kind=spec.kind,
            organization_name=spec.organization_name,
            inscription=spec.inscription,
            seal_code=PREVIEW_CODE,
        )
    return registry(services).preview(spec=spec, dpi=dpi)


def list_seals(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    kind: SealKind | None,
    offset: int,
    limit: int,
) -> list[SealFacts]:
    visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_read)
    return registry(services).list_seals(
        session, organization_id=organization_id, kind=kind, offset=offset, limit=limit
    )


def get_seal(
    session: Session, services: Services, *, principal: Principal, seal_id: str
) -> SealFacts:
    require(principal, Scope.seals_read)
    return registry(services).get(session, seal_id, organization_id=scope_of(principal))


def seal_image(
    session: Session, services: Services, *, principal: Principal, seal_id: str
) -> bytes:
    require(principal, Scope.seals_read)
    return visible_seal(session, services, principal, seal_id).image_png


# --- lifecycle ---------------------------------------------------------------------------------


def transition(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    action: SealAction,
    reason: str | None,
) -> Transition:
    """Activate, suspend, reactivate or revoke (org admin). Revocation revokes the seal's
    certificate and refreshes the CRL in this transaction."""
    visible_seal(session, services, principal, seal_id)
    require(principal, Scope.org_admin)
    if action is SealAction.EXPIRE:
        raise InvalidInput("seals expire by themselves at the end of their validity")
    done = registry(services).transition(
        session, seal_id=seal_id, action=action, organization_id=scope_of(principal), reason=reason
    )
    seal = done.seal
    audit_act(
        session,
        principal,
        f"seal.{action.value}",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={
            "code": seal.code,
            "from": done.previous.value,
            "to": seal.status.value,
            "reason": reason,
        },
    )
    certificates_revoked(session, services, principal, done, reason="cessationOfOperation")
    return done


def set_requires_approval(
    session: Session, services: Services, *, principal: Principal, seal_id: str, required: bool
) -> SealFacts:
    visible_seal(session, services, principal, seal_id)
    require(principal, Scope.org_admin)
    seal = registry(services).set_requires_approval(
        session, seal_id=seal_id, organization_id=scope_of(principal), required=required
    )
    audit_act(
        session,
        principal,
        "seal.update",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={"code": seal.code, "requires_approval": required},
    )
    return seal


def set_pin(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    pin: str,
    current_pin: str | None,
) -> SealFacts:
    """The owner (or the organization's enrolment portal, for the first PIN) sets it;
    changing it always needs the current PIN."""
    row = visible_seal(session, services, principal, seal_id)
    caller = caller_of(session, principal)
    is_owner = row.person_id is not None and caller == Caller(CallerKind.PERSON, row.person_id)
    if not is_owner:
        require(principal, Scope.seals_write)
    first = row.pin_hash is None
    seal = registry(services).set_pin(
        session,
        seal_id=seal_id,
        organization_id=scope_of(principal),
        pin=pin,
        current_pin=current_pin,
    )
    audit_act(
        session,
        principal,
        "seal.pin_set" if first else "seal.pin_change",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={"code": seal.code, "by_owner": is_owner},
    )
    return seal


def record_pin_failure(session: Session, services: Services, error: WrongPinError) -> PinFailure:
    """Count a wrong PIN in `session` (a fresh unit of work: the refused request's own
    transaction has rolled back) and audit it, and the lock when it comes."""
    reg = registry(services)
    failure = reg.record_pin_failure(session, seal_id=error.seal_id)
    seal = reg.row(session, error.seal_id)
    details: dict[str, object] = {"code": seal.code, "failures": failure.failures}
    audit_act(
        session,
        "system:pin-check",
        "seal.pin_failure",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details=details,
    )
    if failure.locked_until is not None:
        audit_act(
            session,
            "system:pin-check",
            "seal.lock",
            target_type="seal",
            target_id=seal.id,
            organization_id=seal.organization_id,
            details={"code": seal.code, "locked_until": failure.locked_until.isoformat()},
        )
    return failure


# --- use -------------------------------------------------------------------------------------


def authorize_use(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    document_sha256: str,
    document_type: str | None,
    pin: str | None,
    document_type_established: bool = False,
) -> SealUse:
    """May this caller apply this seal to this document now? Spends nothing. The document
    type counts as established only when the service itself knows it (templates, envelopes);
    otherwise it is the caller's declaration, and recorded so."""
    require(principal, Scope.seals_use)
    try:
        return registry(services).load_for_use(
            session,
            seal_id=seal_id,
            caller=caller_of(session, principal),
            document_sha256=document_sha256,
            document_type=document_type,
            pin=pin,
            organization_id=scope_of(principal),
            document_type_established=document_type_established,
        )
    except (UseRefusedError, SealLockedError) as refused:
        refusals.note(
            refused,
            actor=principal.actor,
            seal_id=seal_id,
            organization_id=principal.organization_id,
            document_sha256=document_sha256,
            document_type=document_type,
        )
        raise


def record_use(
    session: Session,
    *,
    principal: Principal,
    use: SealUse,
    details: dict[str, object] | None = None,
    division: str | None = None,
) -> UsageReceipt:
    """Spend `use` (counted for the statistics) and audit it, in the transaction that stores
    the signed document. `division`: the organization's statistics division when the caller
    read it already (`authorise` does, in its joined read); else the counting reads it."""
    if division is not None:
        known = session.info.setdefault(stat_counters.DIVISIONS, {})
        known[use.seal.organization_id] = division
    receipt = use.consume(session)  # counted for the statistics by stat_counters' listener
    audit_act(
        session,
        principal,
        "seal.use",
        target_type="seal",
        target_id=use.seal.id,
        organization_id=use.seal.organization_id,
        details={
            "code": use.seal.code,
            "usage_id": receipt.usage_id,
            "document_sha256": receipt.document_sha256,
            "document_type": receipt.document_type,
            "document_type_source": use.document_type_source,
            "grant_id": receipt.grant_id,
            "approval_id": receipt.approval_id,
            **(details or {}),
        },
    )
    return receipt


# --- public status ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicStatus:
    seal: SealFacts
    owner: str
    organization: str
    certificate_serial: str
    certificate_fingerprint_sha256: str


def mask_name(name: str) -> str:
    """张伟 -> 张*, 欧阳娜娜 -> 欧***: enough to recognise, not to identify."""
    return name[:1] + "*" * max(1, len(name) - 1)


def public_owner(session: Session, seal: SealFacts) -> str:
    """Who a seal belongs to, as the public may see it: the organization's name, or a
    person's masked name for personal seals."""
    if seal.person_id is not None:
        person = session.get(Person, seal.person_id)
        return owner_as_public_sees(seal.person_id, person.name if person else None, None)
    org = session.get(Organization, seal.organization_id)
    return owner_as_public_sees(None, None, org.name if org else None)


def owner_as_public_sees(
    person_id: str | None, person_name: str | None, organization_name: str | None
) -> str:
    """`public_owner` from names already read: a person's seal shows the masked name, any
    other the organization's name ("*" for a row that is gone)."""
    if person_id is not None:
        return mask_name(person_name) if person_name is not None else "*"
    return organization_name if organization_name is not None else "*"


def public_status(session: Session, services: Services, *, code: str) -> PublicStatus:
    seal = registry(services).find_by_code(session, code)
    if seal is None:
        raise NotFound(f"no seal with code {code.strip()}")
    org = session.get(Organization, seal.organization_id)
    record = session.get(CertificateRecord, seal.certificate_id)
    assert org is not None and record is not None
    return PublicStatus(
        seal=seal,
        owner=public_owner(session, seal),
        organization=org.name,
        certificate_serial=record.serial,
        certificate_fingerprint_sha256=record.fingerprint_sha256,
    )
