"""A participant applies its seal to the envelope's current revision: authorised in a read
transaction, signed in a seal worker with no transaction open, recorded under the envelope's
row lock (again on a newer revision when another seal made one meanwhile)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app import sealing
from app import sealing_staged as staged
from app.db import reading, unit_of_work
from app.errors import Conflict
from app.models import IdempotencyRecord
from app.security import Principal
from app.services import idempotency
from app.services.envelope_views import (
    EnvelopeView,
    audit_envelope,
    now_of,
    queue_webhook,
    view_of,
)
from app.services.envelopes import (
    EVENT_COMPLETED,
    acting_participant,
    locked_envelope,
    visible_envelope,
)
from app.wiring import Services
from seals import envelopes as domain
from seals.envelopes import EnvelopeAction, ParticipantStatus
from seals.errors import StaleRevisionError
from seals.models_envelopes import Envelope, EnvelopeParticipant, EnvelopeRevision
from seals.placement import placement_from_json
from seals.signing import PadesLevel


@dataclass(frozen=True)
class Signed:
    view: EnvelopeView
    revision: EnvelopeRevision
    replayed: bool


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


@dataclass(frozen=True)
class _Turn:
    """The participant whose turn it is, the revision it signs and when that was checked."""

    part: EnvelopeParticipant
    base: EnvelopeRevision
    now: datetime


def _turn(
    session: Session,
    services: Services,
    principal: Principal,
    envelope: Envelope,
    participant_id: str,
    expected_revision: int | None,
    idempotency_key: str | None,
) -> _Turn | Signed:
    """Every check before a signing (in the read transaction, and again under the row lock
    before recording it); or the earlier result of a retried Idempotency-Key."""
    part, rows = acting_participant(session, principal, envelope, participant_id)
    now = now_of(services)
    if idempotency_key:
        held = idempotency.held(session, actor=principal.actor, key=idempotency_key)
        if held is not None:
            return _replay_signed(session, principal, envelope, part, held, now)
    domain.check_may_act(envelope, part, rows, action=EnvelopeAction.SIGN, now=now)
    return _Turn(part=part, base=_current_revision(session, envelope, expected_revision), now=now)


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
        envelope = visible_envelope(session, principal, envelope_id)
        turn = _turn(
            session,
            services,
            principal,
            envelope,
            participant_id,
            expected_revision,
            idempotency_key,
        )
        if isinstance(turn, Signed):
            return turn
        part, base = turn.part, turn.base
        request = sealing.SealRequest(
            seal_id=part.seal_id,
            pdf=services.blobs.get(base.sha256),
            filename=envelope.filename,
            placement=placement_from_json(part.placement),
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
    envelope = locked_envelope(session, principal, envelope_id)
    turn = _turn(
        session, services, principal, envelope, participant_id, expected_revision, idempotency_key
    )
    if isinstance(turn, Signed):
        return turn
    part, base, now = turn.part, turn.base, turn.now
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
