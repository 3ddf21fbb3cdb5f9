"""Envelopes for the service: create, send, sign, decline, cancel, expire, read — each in the
caller's transaction, audited, with the envelope's webhook queued (never sent) there.

Signing a participant's step is the staged signing path (`app.sealing_staged`) on the
envelope's current revision — the same authorisation (grant, approval for exactly that
revision's SHA-256, PIN), signing in a seal worker, storage and audit as a single seal; the
result is recorded under the envelope's row lock, so parallel signers' revisions follow one
another (a signer whose revision moved on meanwhile signs the new one).

An organization sees an envelope only when it created it or takes part in it; to anyone
else it does not exist (404).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app import sealing
from app.errors import Conflict, Forbidden, NotFound
from app.models import AuditEvent, IdempotencyRecord, Organization, StoredDocument
from app.models_webhooks import WebhookAttempt, WebhookDelivery
from app.schemas.envelopes import EnvelopeCreate
from app.security import Principal, Scope
from app.services import idempotency, webhooks
from app.services.envelope_views import (
    EnvelopeView,
    audit_envelope,
    now_of,
    queue_webhook,
    view_of,
)
from app.wiring import Services
from seals import envelopes as domain
from seals.envelopes import EnvelopeStatus
from seals.errors import EnvelopeInputError, EnvelopeNotFoundError
from seals.models import Seal
from seals.models_envelopes import Envelope, EnvelopeParticipant, EnvelopeRevision
from seals.placement import InvisiblePlacement

EVENT_COMPLETED = "envelope.completed"
EVENT_DECLINED = "envelope.declined"
EVENT_EXPIRED = "envelope.expired"
EVENT_CANCELLED = "envelope.cancelled"
READ_SCOPES = (Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use)


def visible_envelope(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    """The envelope, when the caller's organization created it or takes part in it."""
    if not any(principal.has(s) for s in READ_SCOPES):
        raise Forbidden("reading envelopes needs the scope 'envelopes:read'")
    envelope = session.get(Envelope, envelope_id)
    if envelope is None or not (
        principal.is_platform
        or principal.organization_id in domain.organizations(session, envelope)
    ):
        raise EnvelopeNotFoundError(f"envelope {envelope_id} not found")
    return envelope


def locked_envelope(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    visible_envelope(session, principal, envelope_id)
    return domain.lock(session, envelope_id)


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
        raise EnvelopeInputError(
            f"participant {position}: organization {organization_id} has no seal {seal_id}",
            participant=position,
        )
    return seal


def _plan(
    session: Session, spec: EnvelopeCreate
) -> tuple[list[domain.PlannedSeal], list[domain.ParticipantSpec]]:
    """Each participant's seal, checked, with where and how large its seal will be drawn."""
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
    return planned, participants


def _audit_created(
    session: Session,
    principal: Principal,
    envelope: Envelope,
    document: StoredDocument,
    spec: EnvelopeCreate,
    url: str | None,
    participants: list[domain.ParticipantSpec],
) -> None:
    audit_envelope(
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
            "document_sha256": document.sha256,
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
    now = now_of(services)
    claimed: IdempotencyRecord | None = None
    if idempotency_key:
        fingerprint = hashlib.sha256(
            hashlib.sha256(pdf).hexdigest().encode()
            + filename.encode()
            + spec.model_dump_json().encode()
        ).hexdigest()
        held, ours = idempotency.claim(
            session, actor=principal.actor, key=idempotency_key, fingerprint=fingerprint
        )
        if not ours:
            return Created(
                view=_replay_created(session, principal, held, fingerprint, now), replayed=True
            )
        claimed = held
    url = webhooks.check_url(spec.webhook.url, settings=services.settings) if spec.webhook else None
    planned, participants = _plan(session, spec)
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
    if claimed is not None:
        claimed.document_id = document.id
        session.add(claimed)
    _audit_created(session, principal, envelope, document, spec, url, participants)
    return Created(view=view_of(session, principal, envelope, now), replayed=False)


def _replay_created(
    session: Session, principal: Principal, held: IdempotencyRecord, fingerprint: str, now: datetime
) -> EnvelopeView:
    document_id = idempotency.first_document(held, fingerprint)
    first = session.exec(
        select(EnvelopeRevision).where(
            EnvelopeRevision.document_id == document_id, EnvelopeRevision.number == 0
        )
    ).first()
    if first is None:
        raise Conflict("this Idempotency-Key was already used for a different request")
    return view_of(session, principal, domain.get(session, first.envelope_id), now)


# --- read --------------------------------------------------------------------------------------


def get_envelope(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> EnvelopeView:
    return view_of(
        session, principal, visible_envelope(session, principal, envelope_id), now_of(services)
    )


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
    now = now_of(services)
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
    envelope = visible_envelope(session, principal, envelope_id)
    row = domain.revision(
        session, envelope.id, envelope.current_revision if number is None else number
    )
    return envelope, row, services.blobs.get(row.sha256)


def timeline(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> list[AuditEvent]:
    """The envelope's own audit events, in order (created, sent, each signature, outcome)."""
    envelope = visible_envelope(session, principal, envelope_id)
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
    envelope = visible_envelope(session, principal, envelope_id)
    if not principal.may_act_for(envelope.organization_id):
        raise Forbidden("only the organization that created the envelope sees its webhook")
    return webhooks.deliveries(session, envelope.id)


# --- send, cancel ------------------------------------------------------------------------------


def _creator(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    envelope = locked_envelope(session, principal, envelope_id)
    if not principal.may_act_for(envelope.organization_id):
        raise Forbidden("only the organization that created the envelope may do this")
    if not principal.has(Scope.envelopes_write):
        raise Forbidden("this action needs the scope 'envelopes:write'")
    return envelope


def send_envelope(
    session: Session, services: Services, *, principal: Principal, envelope_id: str
) -> EnvelopeView:
    envelope = _creator(session, principal, envelope_id)
    now = now_of(services)
    domain.send(session, envelope=envelope, now=now)
    audit_envelope(
        session,
        principal.actor,
        "envelope.send",
        envelope,
        organization_id=envelope.organization_id,
        details={"status": envelope.status},
    )
    return view_of(session, principal, envelope, now)


def cancel_envelope(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    reason: str | None,
) -> EnvelopeView:
    envelope = _creator(session, principal, envelope_id)
    now = now_of(services)
    was = envelope.status
    domain.cancel(session, envelope=envelope, reason=reason, actor=principal.actor, now=now)
    audit_envelope(
        session,
        principal.actor,
        "envelope.cancel",
        envelope,
        organization_id=envelope.organization_id,
        details={"from": was, "reason": envelope.reason},
    )
    if was == EnvelopeStatus.IN_PROGRESS:
        queue_webhook(session, envelope, EVENT_CANCELLED, now)
    return view_of(session, principal, envelope, now)


# --- a participant's turn (signing: app.services.envelope_signing) -------------------------


def acting_participant(
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
    envelope = locked_envelope(session, principal, envelope_id)
    part, _ = acting_participant(session, principal, envelope, participant_id)
    if not (principal.has(Scope.seals_use) or principal.has(Scope.envelopes_write)):
        raise Forbidden("declining needs the scope 'seals:use' or 'envelopes:write'")
    now = now_of(services)
    domain.decline(
        session, envelope=envelope, participant=part, reason=reason, actor=principal.actor, now=now
    )
    audit_envelope(
        session,
        principal.actor,
        "envelope.decline",
        envelope,
        organization_id=part.organization_id,
        details={"participant_id": part.id, "position": part.position, "reason": envelope.reason},
    )
    queue_webhook(session, envelope, EVENT_DECLINED, now)
    return view_of(session, principal, envelope, now)
