"""Envelopes for the service: create, send, sign, decline, cancel, expire, read — each in the
caller's transaction, audited, with the envelope's webhook queued (never sent) there.

Signing a participant's step is `app.sealing.seal_document` on the envelope's current
revision — the same authorisation (grant, approval for exactly that revision's SHA-256,
PIN), signing, storage and audit as a single seal, under the envelope's row lock so that
parallel signers apply their seals one after another.

An organization sees an envelope only when it created it or takes part in it; to anyone
else it does not exist (404).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import sealing
from app.db import unit_of_work
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import AuditEvent, IdempotencyRecord, Organization, StoredDocument
from app.models_webhooks import EnvelopeWebhook, WebhookAttempt, WebhookDelivery
from app.schemas.envelopes import EnvelopeCreate
from app.schemas.signing import PLACEMENT
from app.security import Principal, Scope
from app.services import audit, webhooks
from app.wiring import Services
from seals import envelopes as domain
from seals.envelopes import EnvelopeAction, EnvelopeStatus, ParticipantStatus
from seals.models import Seal
from seals.models_envelopes import Envelope, EnvelopeParticipant, EnvelopeRevision
from seals.placement import InvisiblePlacement, Placement
from seals.signing import PadesLevel

EVENT_COMPLETED = "envelope.completed"
EVENT_DECLINED = "envelope.declined"
EVENT_EXPIRED = "envelope.expired"
EVENT_CANCELLED = "envelope.cancelled"
READ_SCOPES = (Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use)


def _now(services: Services) -> datetime:
    return services.authority.clock()


# --- views -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnvelopeView:
    envelope: Envelope
    status: EnvelopeStatus
    participants: list[EnvelopeParticipant]
    revisions: list[EnvelopeRevision]
    turn: list[str]
    webhook_url: str | None


def _view(
    session: Session, principal: Principal, envelope: Envelope, now: datetime
) -> EnvelopeView:
    status = domain.effective_status(envelope, now)
    rows = domain.participants(session, envelope.id)
    hook = session.get(EnvelopeWebhook, envelope.id)
    return EnvelopeView(
        envelope=envelope,
        status=status,
        participants=rows,
        revisions=domain.revisions(session, envelope.id),
        turn=domain.whose_turn(envelope.routing, rows)
        if status is EnvelopeStatus.IN_PROGRESS
        else [],
        webhook_url=hook.url if hook and principal.may_act_for(envelope.organization_id) else None,
    )


def _placement(raw: str) -> Placement:
    try:
        return PLACEMENT.validate_json(raw).to_domain()
    except ValidationError as exc:  # pragma: no cover - validated when the envelope was made
        raise InvalidInput("the participant's stored placement is not valid") from exc


def _audit(
    session: Session,
    actor: str,
    action: str,
    envelope: Envelope,
    *,
    organization_id: str | None,
    details: dict[str, object],
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="envelope",
        target_id=envelope.id,
        organization_id=organization_id,
        details=details,
    )


def _outcome_data(session: Session, envelope: Envelope) -> dict[str, Any]:
    """What a webhook tells: the envelope's outcome, its parties and its final document."""
    current = domain.current(session, envelope)
    return {
        "envelope": {
            "id": envelope.id,
            "title": envelope.title,
            "status": envelope.status,
            "routing": envelope.routing,
            "current_revision": envelope.current_revision,
            "document_sha256": current.sha256,
            "document_url": f"/api/v1/envelopes/{envelope.id}/document",
            "reason": envelope.reason,
            "finished_at": envelope.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            if envelope.finished_at
            else None,
            "participants": [
                {
                    "id": p.id,
                    "position": p.position,
                    "label": p.label,
                    "organization_id": p.organization_id,
                    "status": p.status,
                    "revision": p.revision,
                }
                for p in domain.participants(session, envelope.id)
            ],
        }
    }


def _queue(session: Session, envelope: Envelope, event: str, now: datetime) -> None:
    webhooks.enqueue(
        session,
        envelope_id=envelope.id,
        event=event,
        data=_outcome_data(session, envelope),
        now=now,
    )


def _visible(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    """The envelope, when the caller's organization created it or takes part in it."""
    if not any(principal.has(s) for s in READ_SCOPES):
        raise Forbidden("reading envelopes needs the scope 'envelopes:read'")
    envelope = session.get(Envelope, envelope_id)
    if envelope is None or not (
        principal.is_platform
        or principal.organization_id in domain.organizations(session, envelope)
    ):
        raise domain.EnvelopeNotFoundError(f"envelope {envelope_id} not found")
    return envelope


def _locked(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    _visible(session, principal, envelope_id)
    return domain.lock(session, envelope_id)


# --- idempotency -------------------------------------------------------------------------------


def _idempotency_record(
    session: Session, principal: Principal, key: str
) -> IdempotencyRecord | None:
    return session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == principal.actor, IdempotencyRecord.key == key
        )
    ).first()


def _claim(
    session: Session, principal: Principal, key: str, fingerprint: str
) -> IdempotencyRecord | None:
    """Reserve the key in this transaction, or the record that already holds it."""
    held = _idempotency_record(session, principal, key)
    if held is not None:
        return held
    try:
        with session.begin_nested():
            session.add(
                IdempotencyRecord(principal=principal.actor, key=key, request_sha256=fingerprint)
            )
            session.flush()
    except IntegrityError:
        return _idempotency_record(session, principal, key)
    return None


# --- create ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    view: EnvelopeView
    replayed: bool


def _participant_seal(session: Session, position: int, organization_id: str, seal_id: str) -> Seal:
    """The seal, when it is one of that organization's (one answer for every failure, so the
    check tells nothing about other organizations' seals)."""
    org = session.get(Organization, organization_id)
    seal = session.get(Seal, seal_id)
    if org is None or seal is None or seal.organization_id != organization_id:
        raise domain.EnvelopeInputError(
            f"participant {position}: organization {organization_id} has no seal {seal_id}",
            participant=position,
        )
    return seal


def create_envelope(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    pdf: bytes,
    filename: str,
    spec: EnvelopeCreate,
    idempotency_key: str | None,
) -> Created:
    """A new envelope over `pdf` (revision 0), checked so that no participant's turn can fail
    on the document or its placement; sent at once unless `spec.send` is false."""
    if not principal.has(Scope.envelopes_write):
        raise Forbidden("creating envelopes needs the scope 'envelopes:write'")
    if principal.organization_id is None:
        raise Forbidden("an envelope is created by an organization's client")
    now = _now(services)
    if idempotency_key:
        fingerprint = hashlib.sha256(
            hashlib.sha256(pdf).hexdigest().encode()
            + filename.encode()
            + spec.model_dump_json().encode()
        ).hexdigest()
        held = _claim(session, principal, idempotency_key, fingerprint)
        if held is not None:
            return Created(
                view=_replay_created(session, principal, held, fingerprint, now), replayed=True
            )
    url = webhooks.check_url(spec.webhook.url, settings=services.settings) if spec.webhook else None
    planned = []
    participants = []
    for position, part in enumerate(spec.participants, start=1):
        seal = _participant_seal(session, position, part.organization_id, part.seal_id)
        placement = part.placement.to_domain()
        size = None
        if not isinstance(placement, InvisiblePlacement):
            appearance = sealing.seal_appearance(seal)
            size = (appearance.width_mm, appearance.height_mm)
        planned.append(
            domain.PlannedSeal(position=position, placement=placement, seal_size_mm=size)
        )
        participants.append(
            domain.ParticipantSpec(
                organization_id=part.organization_id,
                seal_id=part.seal_id,
                placement=part.placement.model_dump_json(),
                level=part.level.value,
                document_type=part.document_type,
                label=part.label,
            )
        )
    domain.preflight(pdf=pdf, planned=planned)
    digest = services.blobs.put(pdf)
    document = StoredDocument(
        organization_id=principal.organization_id,
        sha256=digest,
        size=len(pdf),
        filename=filename[:255] or "document.pdf",
        created_by=principal.actor,
    )
    session.add(document)
    session.flush()
    envelope = domain.create(
        session,
        spec=domain.EnvelopeSpec(
            organization_id=principal.organization_id,
            title=spec.title,
            filename=document.filename,
            routing=spec.routing,
            participants=tuple(participants),
            expires_at=spec.expires_at,
        ),
        document=domain.InitialDocument(document_id=document.id, sha256=digest, size=len(pdf)),
        created_by=principal.actor,
        send=spec.send,
        now=now,
    )
    if spec.webhook is not None and url is not None:
        webhooks.subscribe(
            session,
            webhooks.secret_box(services.settings),
            envelope_id=envelope.id,
            url=url,
            secret=spec.webhook.secret,
        )
    if idempotency_key:
        record = _idempotency_record(session, principal, idempotency_key)
        assert record is not None
        record.document_id = document.id
        session.add(record)
    _audit(
        session,
        principal.actor,
        "envelope.create",
        envelope,
        organization_id=principal.organization_id,
        details={
            "title": envelope.title,
            "routing": envelope.routing,
            "status": envelope.status,
            "document_id": document.id,
            "document_sha256": digest,
            "expires_at": spec.expires_at.isoformat() if spec.expires_at else None,
            "webhook": url,
            "participants": [
                {
                    "position": i,
                    "organization_id": p.organization_id,
                    "seal_id": p.seal_id,
                    "level": p.level,
                    "label": p.label,
                }
                for i, p in enumerate(participants, start=1)
            ],
        },
    )
    return Created(view=_view(session, principal, envelope, now), replayed=False)


def _replay_created(
    session: Session, principal: Principal, held: IdempotencyRecord, fingerprint: str, now: datetime
) -> EnvelopeView:
    if held.request_sha256 != fingerprint:
        raise Conflict("this Idempotency-Key was already used for a different request")
    if held.document_id is None:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    first = session.exec(
        select(EnvelopeRevision).where(
            EnvelopeRevision.document_id == held.document_id, EnvelopeRevision.number == 0
        )
    ).first()
    if first is None:
        raise Conflict("this Idempotency-Key was already used for a different request")
    return _view(session, principal, domain.get(session, first.envelope_id), now)


# --- read --------------------------------------------------------------------------------------


def get_envelope(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> EnvelopeView:
    return _view(session, principal, _visible(session, principal, envelope_id), _now(services))


def list_envelopes(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    status: EnvelopeStatus | None,
    offset: int,
    limit: int,
) -> list[tuple[Envelope, EnvelopeStatus]]:
    if not any(principal.has(s) for s in READ_SCOPES):
        raise Forbidden("reading envelopes needs the scope 'envelopes:read'")
    if principal.organization_id is None and not principal.is_platform:
        raise NotFound("not found")
    now = _now(services)
    rows = domain.list_for(
        session,
        organization_id=None if principal.is_platform else principal.organization_id,
        status=status,
        offset=offset,
        limit=limit,
    )
    return [(row, domain.effective_status(row, now)) for row in rows]


def revision_pdf(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    number: int | None,
) -> tuple[Envelope, EnvelopeRevision, bytes]:
    """A revision's PDF (None: the current one, which is the final one once completed)."""
    envelope = _visible(session, principal, envelope_id)
    row = domain.revision(
        session, envelope.id, envelope.current_revision if number is None else number
    )
    return envelope, row, services.blobs.get(row.sha256)


def timeline(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> list[AuditEvent]:
    """The envelope's own audit events, in order (created, sent, each signature, outcome)."""
    envelope = _visible(session, principal, envelope_id)
    return list(
        session.exec(
            select(AuditEvent)
            .where(AuditEvent.target_type == "envelope", AuditEvent.target_id == envelope.id)
            .order_by(col(AuditEvent.seq))
        ).all()
    )


def webhook_log(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """Deliveries and their attempts: the creating organization's business only."""
    envelope = _visible(session, principal, envelope_id)
    if not principal.may_act_for(envelope.organization_id):
        raise Forbidden("only the organization that created the envelope sees its webhook")
    return webhooks.deliveries(session, envelope.id)


# --- send, cancel ------------------------------------------------------------------------------


def _creator(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    envelope = _locked(session, principal, envelope_id)
    if not principal.may_act_for(envelope.organization_id):
        raise Forbidden("only the organization that created the envelope may do this")
    if not principal.has(Scope.envelopes_write):
        raise Forbidden("this action needs the scope 'envelopes:write'")
    return envelope


def send_envelope(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> EnvelopeView:
    envelope = _creator(session, principal, envelope_id)
    now = _now(services)
    domain.send(session, envelope=envelope, now=now)
    _audit(
        session,
        principal.actor,
        "envelope.send",
        envelope,
        organization_id=envelope.organization_id,
        details={"status": envelope.status},
    )
    return _view(session, principal, envelope, now)


def cancel_envelope(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    reason: str | None,
) -> EnvelopeView:
    envelope = _creator(session, principal, envelope_id)
    now = _now(services)
    was = envelope.status
    domain.cancel(session, envelope=envelope, reason=reason, actor=principal.actor, now=now)
    _audit(
        session,
        principal.actor,
        "envelope.cancel",
        envelope,
        organization_id=envelope.organization_id,
        details={"from": was, "reason": envelope.reason},
    )
    if was == EnvelopeStatus.IN_PROGRESS:
        _queue(session, envelope, EVENT_CANCELLED, now)
    return _view(session, principal, envelope, now)


# --- a participant's turn --------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    view: EnvelopeView
    revision: EnvelopeRevision
    replayed: bool


def _acting_participant(
    session: Session, principal: Principal, envelope: Envelope, participant_id: str
) -> tuple[EnvelopeParticipant, list[EnvelopeParticipant]]:
    rows = domain.participants(session, envelope.id)
    part = domain.participant(rows, participant_id)
    if not principal.may_act_for(part.organization_id):
        raise Forbidden(
            f"participant {part.position} acts for organization {part.organization_id}; "
            "only that organization's clients may act for it"
        )
    return part, rows


def sign_participant(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    participant_id: str,
    pin: str | None,
    reason: str | None,
    location: str | None,
    expected_revision: int | None,
    idempotency_key: str | None,
) -> Signed:
    """Apply the participant's seal to the current revision (its turn, or any time in
    parallel routing); the new revision becomes current and the last one completes the
    envelope. The envelope row stays locked until commit: a concurrent signer waits and then
    signs the revision this one made."""
    envelope = _locked(session, principal, envelope_id)
    part, rows = _acting_participant(session, principal, envelope, participant_id)
    now = _now(services)
    if idempotency_key:
        held = _idempotency_record(session, principal, idempotency_key)
        if held is not None:
            return _replay_signed(session, principal, envelope, part, held, now)
    domain.check_may_act(envelope, part, rows, action=EnvelopeAction.SIGN, now=now)
    base = domain.current(session, envelope)
    if expected_revision is not None and expected_revision != base.number:
        raise domain.StaleRevisionError(
            f"revision {expected_revision} is no longer current: revision {base.number} "
            f"(SHA-256 {base.sha256}) is; review it and sign that",
            current_revision=base.number,
            current_sha256=base.sha256,
        )
    result = sealing.seal_document(
        session,
        services,
        principal=principal,
        request=sealing.SealRequest(
            seal_id=part.seal_id,
            pdf=services.blobs.get(base.sha256),
            filename=envelope.filename,
            placement=_placement(part.placement),
            level=PadesLevel(part.level),
            document_type=part.document_type,
            document_type_established=True,  # fixed with the envelope, not by the signer
            pin=pin,
            reason=reason,
            location=location,
            idempotency_key=idempotency_key,
        ),
    )
    if result.replayed:  # the key belongs to a signing outside this envelope
        raise Conflict("this Idempotency-Key was already used for a different request")
    recorded = domain.record_signature(
        session,
        envelope=envelope,
        participant=part,
        document_id=result.document_id,
        sha256=result.sha256,
        size=len(result.pdf),
        actor=principal.actor,
        now=now,
    )
    _audit(
        session,
        principal.actor,
        "envelope.sign",
        envelope,
        organization_id=part.organization_id,
        details={
            "participant_id": part.id,
            "position": part.position,
            "seal_id": part.seal_id,
            "level": part.level,
            "base_revision": base.number,
            "base_sha256": base.sha256,
            "revision": recorded.revision.number,
            "document_id": result.document_id,
            "sha256": result.sha256,
            "field": result.field_name,
        },
    )
    if recorded.completed:
        _audit(
            session,
            principal.actor,
            "envelope.complete",
            envelope,
            organization_id=envelope.organization_id,
            details={"revisions": recorded.revision.number, "final_sha256": result.sha256},
        )
        _queue(session, envelope, EVENT_COMPLETED, now)
    return Signed(
        view=_view(session, principal, envelope, now), revision=recorded.revision, replayed=False
    )


def _replay_signed(
    session: Session,
    principal: Principal,
    envelope: Envelope,
    part: EnvelopeParticipant,
    held: IdempotencyRecord,
    now: datetime,
) -> Signed:
    """A retry of a signing that already happened returns its result; nothing is signed."""
    if held.document_id is None:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    if part.status == ParticipantStatus.SIGNED and part.revision is not None:
        made = domain.revision(session, envelope.id, part.revision)
        if made.document_id == held.document_id:
            return Signed(
                view=_view(session, principal, envelope, now), revision=made, replayed=True
            )
    raise Conflict("this Idempotency-Key was already used for a different request")


def decline_participant(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    participant_id: str,
    reason: str,
) -> EnvelopeView:
    """The participant refuses to seal; the envelope ends, declined."""
    envelope = _locked(session, principal, envelope_id)
    part, _ = _acting_participant(session, principal, envelope, participant_id)
    if not (principal.has(Scope.seals_use) or principal.has(Scope.envelopes_write)):
        raise Forbidden("declining needs the scope 'seals:use' or 'envelopes:write'")
    now = _now(services)
    domain.decline(
        session, envelope=envelope, participant=part, reason=reason, actor=principal.actor, now=now
    )
    _audit(
        session,
        principal.actor,
        "envelope.decline",
        envelope,
        organization_id=part.organization_id,
        details={"participant_id": part.id, "position": part.position, "reason": envelope.reason},
    )
    _queue(session, envelope, EVENT_DECLINED, now)
    return _view(session, principal, envelope, now)


# --- expiry (the background worker) ---------------------------------------------------------


def expire_due(session: Session, services: Services) -> list[str]:
    """Record the expiry of open envelopes past their time; ids of those expired."""
    now = _now(services)
    expired = domain.expire_due(session, now=now)
    for envelope in expired:
        _audit(
            session,
            "system:expiry",
            "envelope.expire",
            envelope,
            organization_id=envelope.organization_id,
            details={
                "expires_at": envelope.expires_at.isoformat() if envelope.expires_at else None
            },
        )
        _queue(session, envelope, EVENT_EXPIRED, now)
    return [e.id for e in expired]


def expiry_task(services: Services) -> Callable[[], object]:
    """The worker's periodic task: one short transaction per pass."""

    def run() -> object:
        with unit_of_work(services.engine) as session:
            return expire_due(session, services)

    return run
