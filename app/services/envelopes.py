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

from pydantic import ValidationError
from sqlmodel import Session, col, select

from app import sealing
from app import sealing_staged as staged
from app.db import reading, unit_of_work
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import AuditEvent, IdempotencyRecord, Organization, StoredDocument
from app.models_webhooks import WebhookAttempt, WebhookDelivery
from app.schemas.envelopes import EnvelopeCreate
from app.schemas.signing import PLACEMENT
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
from seals.envelopes import EnvelopeAction, EnvelopeStatus, ParticipantStatus
from seals.errors import EnvelopeInputError, EnvelopeNotFoundError, StaleRevisionError
from seals.models import Seal
from seals.models_envelopes import Envelope, EnvelopeParticipant, EnvelopeRevision
from seals.placement import InvisiblePlacement, Placement
from seals.signing import PadesLevel

EVENT_COMPLETED = "envelope.completed"
EVENT_DECLINED = "envelope.declined"
EVENT_EXPIRED = "envelope.expired"
EVENT_CANCELLED = "envelope.cancelled"
READ_SCOPES = (Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use)


def _placement(raw: str) -> Placement:
    try:
        return PLACEMENT.validate_json(raw).to_domain()
    except ValidationError as exc:  # pragma: no cover - validated when the envelope was made
        raise InvalidInput("the participant's stored placement is not valid") from exc


def _visible(session: Session, principal: Principal, envelope_id: str) -> Envelope:
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


def _locked(session: Session, principal: Principal, envelope_id: str) -> Envelope:
    _visible(session, principal, envelope_id)
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
    return view_of(session, principal, _visible(session, principal, envelope_id), now_of(services))


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


def _current_revision(
    session: Session, envelope: Envelope, expected_revision: int | None
) -> EnvelopeRevision:
    """The revision to sign: the current one, which must be the one the signer reviewed."""
    base = domain.current(session, envelope)
    if expected_revision is not None and expected_revision != base.number:
        raise StaleRevisionError(
            f"revision {expected_revision} is no longer current: revision {base.number} "
            f"(SHA-256 {base.sha256}) is; review it and sign that",
            current_revision=base.number,
            current_sha256=base.sha256,
        )
    return base


def _audit_signed(
    session: Session,
    principal: Principal,
    envelope: Envelope,
    part: EnvelopeParticipant,
    base: EnvelopeRevision,
    recorded: domain.SignatureRecorded,
    result: sealing.SealedDocument,
    now: datetime,
) -> None:
    """The signature's audit event; the completion's too, with its webhook, when it was the last."""
    audit_envelope(
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
        audit_envelope(
            session,
            principal.actor,
            "envelope.complete",
            envelope,
            organization_id=envelope.organization_id,
            details={"revisions": recorded.revision.number, "final_sha256": result.sha256},
        )
        queue_webhook(session, envelope, EVENT_COMPLETED, now)


_SIGN_ATTEMPTS = 3
"""How often a parallel signer re-signs after another seal made a new revision meanwhile."""


@dataclass(frozen=True)
class _Pending:
    """A participant's seal authorised (read transaction) on revision `base_number`."""

    base_number: int
    request: sealing.SealRequest
    authorised: staged.Authorised


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
    envelope.

    The staged signing path: the revision is read and the use authorised in a read
    transaction, signed in a seal worker with no transaction open, then recorded in
    ``session`` (which must not have begun) under the envelope's row lock. When another
    seal made a new revision meanwhile, this seal is applied again to that one, as the
    signer who waited for the lock did before -- unless the caller named the revision it
    reviewed (``expected_revision``): then the answer is `StaleRevisionError`."""
    staged.outside_transaction(session)
    for _attempt in range(_SIGN_ATTEMPTS):
        pending = _authorise_signing(
            services,
            principal=principal,
            envelope_id=envelope_id,
            participant_id=participant_id,
            wanted=(pin, reason, location),
            expected_revision=expected_revision,
            idempotency_key=idempotency_key,
        )
        if isinstance(pending, Signed):
            return pending  # a retried Idempotency-Key
        signed = staged.sign(services, pending.authorised)
        done = _record_signing(
            session,
            services,
            principal=principal,
            envelope_id=envelope_id,
            participant_id=participant_id,
            pending=pending,
            signed=signed,
            expected_revision=expected_revision,
            idempotency_key=idempotency_key,
        )
        if done is not None:
            return done
        session.rollback()  # nothing written: release the envelope's lock, sign the new one
    raise Conflict("the envelope kept changing while this seal was applied; retry")


def _authorise_signing(
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    participant_id: str,
    wanted: tuple[str | None, str | None, str | None],
    expected_revision: int | None,
    idempotency_key: str | None,
) -> _Pending | Signed:
    """Read transaction: may the participant sign now, and the seal's use on the current
    revision (or the earlier result of a retried Idempotency-Key)."""
    pin, reason, location = wanted
    with unit_of_work(reading(services.engine)) as session:
        envelope = _visible(session, principal, envelope_id)
        part, rows = _acting_participant(session, principal, envelope, participant_id)
        now = now_of(services)
        if idempotency_key:
            held = idempotency.held(session, actor=principal.actor, key=idempotency_key)
            if held is not None:
                return _replay_signed(session, principal, envelope, part, held, now)
        domain.check_may_act(envelope, part, rows, action=EnvelopeAction.SIGN, now=now)
        base = _current_revision(session, envelope, expected_revision)
        request = sealing.SealRequest(
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
        )
        authorised = staged.authorise(session, services, principal=principal, request=request)
    return _Pending(base_number=base.number, request=request, authorised=authorised)


def _record_signing(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    participant_id: str,
    pending: _Pending,
    signed: staged.Signed,
    expected_revision: int | None,
    idempotency_key: str | None,
) -> Signed | None:
    """Under the envelope's row lock: check again, record the seal and the new revision
    (None when another seal made a new revision meanwhile: sign that one)."""
    envelope = _locked(session, principal, envelope_id)
    part, rows = _acting_participant(session, principal, envelope, participant_id)
    now = now_of(services)
    if idempotency_key:
        held = idempotency.held(session, actor=principal.actor, key=idempotency_key)
        if held is not None:
            return _replay_signed(session, principal, envelope, part, held, now)
    domain.check_may_act(envelope, part, rows, action=EnvelopeAction.SIGN, now=now)
    base = _current_revision(session, envelope, expected_revision)
    if base.number != pending.base_number:
        return None
    result = staged.record(
        session,
        services,
        principal=principal,
        request=pending.request,
        authorised=pending.authorised,
        signed=signed,
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
    _audit_signed(session, principal, envelope, part, base, recorded, result, now)
    return Signed(
        view=view_of(session, principal, envelope, now), revision=recorded.revision, replayed=False
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
                view=view_of(session, principal, envelope, now), revision=made, replayed=True
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
