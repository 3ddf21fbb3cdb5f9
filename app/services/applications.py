"""Seal production applications (制章申请) and their review by the registration authority.

An organization applies for a new seal, or to re-issue (after loss), change (new
inscription) or cancel one of its seals, with supporting documents. A reviewer — the
platform or an agency holding `enterprises:register` — approves (optionally with a note),
rejects (with a reason) or asks for changes (the applicant resubmits). Approval makes the
seal through the registry's one creation path (`SealRegistry.create`, as registration does),
revokes the seal it replaces, and files it (备案: `SealFiling`, public through the seal
status). Applications from a trusted applicant for a standard-set kind are approved by
policy on submission. Every step writes an audit event in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography import x509
from sqlmodel import Session, col, select

from app import pdfwork
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Organization
from app.models_agency import SealApplication, SealApplicationDocument, SealFiling, TrustedApplicant
from app.security import Principal, Scope
from app.services import audit
from app.services.application_documents import MAX_DOCUMENTS, CheckedDocument, Upload, check
from app.services.seals import (
    STANDARD_SET,
    STANDARD_SET_DPI,
    audit_created,
    certificates_revoked,
    image_spec,
    registry,
)
from app.services.tenancy import require, visible_organization
from app.wiring import Services
from pki.authority import EnterpriseIdentity
from pki.models import CertificateRecord
from seals.authorization import SealFacts
from seals.kinds import SealKind
from seals.lifecycle import TERMINAL, SealAction, SealStatus
from seals.models import Seal
from seals.registry import PERSON_CERTIFIED_KINDS, NewSeal

POLICY_ACTOR = "policy:trusted-applicant"


class Purpose(StrEnum):
    new = "new"
    reissue = "reissue"  # after loss: the lost seal is revoked (keyCompromise)
    change = "change"  # new inscription or name: the old seal is revoked (superseded)
    cancel = "cancel"  # the seal is revoked, nothing is made


class Status(StrEnum):
    submitted = "submitted"
    changes_requested = "changes_requested"
    approved = "approved"
    rejected = "rejected"


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"
    request_changes = "request_changes"


class ApplicationStateError(Conflict):
    code = "application-state"


CERTIFICATE_REASON = {
    Purpose.reissue: x509.ReasonFlags.key_compromise,
    Purpose.change: x509.ReasonFlags.superseded,
    Purpose.cancel: x509.ReasonFlags.cessation_of_operation,
}


def is_reviewer(principal: Principal) -> bool:
    return principal.is_platform or Scope.enterprises_register in principal.scopes


def require_reviewer(principal: Principal) -> None:
    if not is_reviewer(principal):
        raise Forbidden("reviewing applications needs the scope 'enterprises:register'")


def _now() -> datetime:
    return datetime.now(UTC)


def _audit(
    session: Session, actor: str, action: str, app: SealApplication, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=f"seal_application.{action}",
        target_type="seal_application",
        target_id=app.id,
        organization_id=app.organization_id,
        details={"purpose": app.purpose, "kind": app.kind, "status": app.status, **details},
    )


# --- reading ---------------------------------------------------------------------------------


def visible(session: Session, principal: Principal, application_id: str) -> SealApplication:
    """The application for its organization's readers and for reviewers; else NotFound."""
    app = session.get(SealApplication, application_id)
    if app is None or not (is_reviewer(principal) or principal.may_act_for(app.organization_id)):
        raise NotFound(f"application {application_id} not found")
    if not is_reviewer(principal):
        require(principal, Scope.seals_read)
    return app


def documents(session: Session, application_id: str) -> list[SealApplicationDocument]:
    return list(
        session.exec(
            select(SealApplicationDocument)
            .where(SealApplicationDocument.application_id == application_id)
            .order_by(col(SealApplicationDocument.created_at), col(SealApplicationDocument.id))
        ).all()
    )


def document(
    session: Session, services: Services, *, principal: Principal, application_id: str, doc_id: str
) -> tuple[SealApplicationDocument, bytes]:
    visible(session, principal, application_id)
    row = session.get(SealApplicationDocument, doc_id)
    if row is None or row.application_id != application_id:
        raise NotFound(f"document {doc_id} not found")
    return row, services.blobs.get(row.sha256)


def list_for_organization(
    session: Session,
    *,
    principal: Principal,
    organization_id: str,
    status: Status | None,
    offset: int,
    limit: int,
) -> list[SealApplication]:
    if not is_reviewer(principal):
        visible_organization(session, principal, organization_id)
        require(principal, Scope.seals_read)
    query = select(SealApplication).where(SealApplication.organization_id == organization_id)
    if status is not None:
        query = query.where(SealApplication.status == status.value)
    query = query.order_by(col(SealApplication.submitted_at).desc(), col(SealApplication.id))
    return list(session.exec(query.offset(offset).limit(limit)).all())


def queue(
    session: Session, *, principal: Principal, status: Status, offset: int, limit: int
) -> list[SealApplication]:
    """The reviewer's list, oldest first (first come, first served)."""
    require_reviewer(principal)
    return list(
        session.exec(
            select(SealApplication)
            .where(SealApplication.status == status.value)
            .order_by(col(SealApplication.submitted_at), col(SealApplication.id))
            .offset(offset)
            .limit(limit)
        ).all()
    )


def filing(session: Session, seal_id: str) -> SealFiling | None:
    return session.get(SealFiling, seal_id)


# --- applying --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ApplicationInput:
    purpose: Purpose
    kind: SealKind | None
    name: str | None
    inscription: str | None
    reason: str
    replaces_seal_id: str | None


def _text(value: str | None, limit: int, what: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{what} is at most {limit} characters")
    return value


def _replaced(session: Session, organization_id: str, seal_id: str | None) -> Seal:
    if seal_id is None:
        raise InvalidInput("re-issue, change and cancellation name the seal (replaces_seal_id)")
    seal = session.get(Seal, seal_id)
    if seal is None or seal.organization_id != organization_id:
        raise NotFound(f"seal {seal_id} not found")
    if SealStatus(seal.status) in TERMINAL:
        raise ApplicationStateError(f"seal {seal.code} is already {seal.status}")
    return seal


def _kind(session: Session, org_id: str, given: ApplicationInput) -> tuple[SealKind, str | None]:
    if given.purpose is Purpose.new:
        if given.replaces_seal_id is not None:
            raise InvalidInput("a new seal replaces nothing; apply to re-issue or change instead")
        if given.kind is None:
            raise InvalidInput("say which kind of seal to make")
        kind = given.kind
        replaced = None
    else:
        seal = _replaced(session, org_id, given.replaces_seal_id)
        kind, replaced = SealKind(seal.kind), seal.id
        if given.kind is not None and given.kind is not kind:
            raise InvalidInput(f"seal {seal.code} is a {seal.kind} seal")
    if kind in PERSON_CERTIFIED_KINDS:
        raise InvalidInput("personal seals are enrolled by their owners, not applied for")
    return kind, replaced


def _store(
    session: Session, services: Services, app: SealApplication, docs: list[CheckedDocument], by: str
) -> None:
    for doc in docs:
        key = services.blobs.put(doc.data)
        session.add(
            SealApplicationDocument(
                application_id=app.id,
                filename=doc.filename,
                media_type=doc.media_type,
                size=len(doc.data),
                sha256=key,
                uploaded_by=by,
            )
        )
    session.flush()


def _checked(services: Services, uploads: list[Upload]) -> list[CheckedDocument]:
    if len(uploads) > MAX_DOCUMENTS:
        raise InvalidInput(f"at most {MAX_DOCUMENTS} supporting documents")
    return [
        check(u, page_count=lambda pdf: len(pdfwork.page_sizes(services, pdf))) for u in uploads
    ]


def submit(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    given: ApplicationInput,
    uploads: list[Upload],
) -> SealApplication:
    """File an application (documents checked before anything is stored)."""
    visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_write)
    reason = _text(given.reason, 1000, "the reason")
    if reason is None:
        raise InvalidInput("say why the seal is needed (reason)")
    kind, replaced = _kind(session, organization_id, given)
    docs = _checked(services, uploads)
    if not docs and given.purpose is not Purpose.cancel:
        raise InvalidInput("attach at least one supporting document (PDF, PNG or JPEG)")
    app = SealApplication(
        organization_id=organization_id,
        purpose=given.purpose.value,
        kind=kind.value,
        name=_text(given.name, 200, "the name"),
        inscription=_text(given.inscription, 60, "the inscription"),
        reason=reason,
        replaces_seal_id=replaced,
        status=Status.submitted.value,
        applicant=principal.actor,
        submitted_at=_now(),
    )
    session.add(app)
    session.flush()
    _store(session, services, app, docs, principal.actor)
    _audit(session, principal.actor, "submit", app, documents=[d.filename for d in docs])
    if _standard(app) and _trusted(session, organization_id):
        _approve(
            session,
            services,
            app,
            actor=POLICY_ACTOR,
            authority="trusted-applicant policy",
            note="approved by policy: trusted applicant, standard seal",
        )
    return app


def _standard(app: SealApplication) -> bool:
    """A seal of the standard set, new, with the standard inscription."""
    return (
        app.purpose == Purpose.new
        and SealKind(app.kind) in STANDARD_SET
        and app.inscription is None
        and app.name is None
    )


def _trusted(session: Session, organization_id: str) -> bool:
    return session.get(TrustedApplicant, organization_id) is not None


def resubmit(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    application_id: str,
    reason: str | None,
    inscription: str | None,
    uploads: list[Upload],
) -> SealApplication:
    """After a request for changes: new reason/inscription and documents, back in review."""
    app = _locked(session, application_id)
    visible_organization(session, principal, app.organization_id)
    require(principal, Scope.seals_write)
    if app.status != Status.changes_requested:
        raise ApplicationStateError(
            f"only an application sent back can be resubmitted ({app.status})"
        )
    docs = _checked(services, uploads)
    app.reason = _text(reason, 1000, "the reason") or app.reason
    if inscription is not None:
        app.inscription = _text(inscription, 60, "the inscription")
    app.status = Status.submitted.value
    app.submitted_at = _now()
    session.add(app)
    _store(session, services, app, docs, principal.actor)
    _audit(session, principal.actor, "resubmit", app, documents=[d.filename for d in docs])
    return app


def _locked(session: Session, application_id: str) -> SealApplication:
    app = session.get(SealApplication, application_id, with_for_update=True)
    if app is None:
        raise NotFound(f"application {application_id} not found")
    return app


# --- reviewing -------------------------------------------------------------------------------


def review(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    application_id: str,
    decision: Decision,
    note: str | None,
) -> SealApplication:
    require_reviewer(principal)
    app = _locked(session, application_id)
    if app.status != Status.submitted:
        raise ApplicationStateError(f"the application is {app.status}, not awaiting review")
    note = _text(note, 1000, "the note")
    if decision is Decision.approve:
        org = session.get(Organization, principal.organization_id or "")
        authority = org.name if org else services.settings.ca_organization_name
        _approve(session, services, app, actor=principal.actor, authority=authority, note=note)
        return app
    if note is None:
        raise InvalidInput("say why (a rejection or a request for changes needs a note)")
    app.status = (
        Status.rejected if decision is Decision.reject else Status.changes_requested
    ).value
    _decided(session, app, principal.actor, note)
    _audit(session, principal.actor, decision.value, app, note=note)
    return app


def _decided(session: Session, app: SealApplication, actor: str, note: str | None) -> None:
    app.reviewed_by, app.reviewed_at, app.review_note = actor, _now(), note
    session.add(app)
    session.flush()


def _approve(
    session: Session,
    services: Services,
    app: SealApplication,
    *,
    actor: str,
    authority: str,
    note: str | None,
) -> None:
    """Revoke what the application replaces, make and file the new seal, in this transaction."""
    purpose = Purpose(app.purpose)
    if app.replaces_seal_id is not None:
        _revoke(session, services, app, actor=actor, reason=CERTIFICATE_REASON[purpose])
    app.status = Status.approved.value
    _decided(session, app, actor, note)
    made: SealFacts | None = None
    if purpose is not Purpose.cancel:
        made = _make(session, services, app, actor=actor)
        app.seal_id = made.id
        session.add(
            SealFiling(
                seal_id=made.id,
                application_id=app.id,
                approved_by=actor,
                authority=authority,
                approved_at=app.reviewed_at or _now(),
            )
        )
        session.flush()
    _audit(
        session,
        actor,
        "approve",
        app,
        note=note,
        seal_id=made.id if made else None,
        seal_code=made.code if made else None,
        replaced_seal_id=app.replaces_seal_id,
    )
    if made is not None:
        audit.record(
            session,
            actor=actor,
            action="seal.file",
            target_type="seal",
            target_id=made.id,
            organization_id=app.organization_id,
            details={"code": made.code, "application_id": app.id, "authority": authority},
        )


def _make(session: Session, services: Services, app: SealApplication, *, actor: str) -> SealFacts:
    org = session.get(Organization, app.organization_id)
    assert org is not None
    kind = SealKind(app.kind)
    seal = registry(services).create(
        session,
        new=NewSeal(
            organization_id=org.id,
            kind=kind,
            identity=EnterpriseIdentity(name=org.name, uscc=org.uscc),
            image=image_spec(org, kind, person_name=None, inscription=app.inscription),
            name=app.name,
            activate=True,
            dpi=STANDARD_SET_DPI,
        ),
        created_by=actor,
    )
    record = session.get(CertificateRecord, seal.certificate_id)
    assert record is not None
    audit_created(session, actor, seal, record.serial, "rendered")
    return seal


def _revoke(
    session: Session,
    services: Services,
    app: SealApplication,
    *,
    actor: str,
    reason: x509.ReasonFlags,
) -> None:
    assert app.replaces_seal_id is not None
    done = registry(services).transition(
        session,
        seal_id=app.replaces_seal_id,
        action=SealAction.REVOKE,
        organization_id=app.organization_id,
        reason=f"{app.purpose} application {app.id}",
        certificate_reason=reason,
    )
    seal = done.seal
    audit.record(
        session,
        actor=actor,
        action="seal.revoke",
        target_type="seal",
        target_id=seal.id,
        organization_id=seal.organization_id,
        details={
            "code": seal.code,
            "from": done.previous.value,
            "to": seal.status.value,
            "reason": seal.revocation_reason,
            "application_id": app.id,
        },
    )
    certificates_revoked(session, services, actor, done, reason=reason.name)


# --- policy ----------------------------------------------------------------------------------


def set_trusted(
    session: Session, *, principal: Principal, organization_id: str, trusted: bool
) -> bool:
    """Let an organization's standard-set applications skip review (platform only)."""
    require(principal, Scope.platform)
    if session.get(Organization, organization_id) is None:
        raise NotFound(f"organization {organization_id} not found")
    row = session.get(TrustedApplicant, organization_id)
    if trusted and row is None:
        session.add(TrustedApplicant(organization_id=organization_id, granted_by=principal.actor))
    elif not trusted and row is not None:
        session.delete(row)
    else:
        return trusted
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="seal_application.policy_trust" if trusted else "seal_application.policy_untrust",
        target_type="organization",
        target_id=organization_id,
        organization_id=organization_id,
        details={"trusted": trusted},
    )
    return trusted
