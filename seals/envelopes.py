"""Envelopes: several parties seal one document, each on the revision the previous one left.

The state machine is data (`TRANSITIONS`); who may sign now follows from the routing:
`sequential` — the waiting participant with the lowest position; `parallel` — every waiting
participant, in any order. Signatures are incremental updates, so even in parallel routing
they are applied one after another: each step locks the envelope row (`lock`) and signs the
current revision, never a revision someone else has already built on.

No signing happens here: the service signs through its one signing path and reports the new
revision with `record_signature`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, or_, select

from seals.errors import (
    EnvelopeExpiredError,
    EnvelopeInputError,
    EnvelopeNotFoundError,
    EnvelopeStateError,
    NotYourTurnError,
)
from seals.models_envelopes import Envelope, EnvelopeParticipant, EnvelopeRevision
from seals.placement import Placement, PlacementError, page_geometries, resolve_placement
from seals.signing.checks import check_lock, open_writer

MAX_PARTICIPANTS = 50


class EnvelopeStatus(StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Routing(StrEnum):
    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"


class ParticipantStatus(StrEnum):
    WAITING = "waiting"
    SIGNED = "signed"
    DECLINED = "declined"


class EnvelopeAction(StrEnum):
    SEND = "send"
    SIGN = "sign"
    COMPLETE = "complete"
    DECLINE = "decline"
    EXPIRE = "expire"
    CANCEL = "cancel"


TRANSITIONS: dict[tuple[EnvelopeStatus, EnvelopeAction], EnvelopeStatus] = {
    (EnvelopeStatus.DRAFT, EnvelopeAction.SEND): EnvelopeStatus.IN_PROGRESS,
    (EnvelopeStatus.DRAFT, EnvelopeAction.CANCEL): EnvelopeStatus.CANCELLED,
    (EnvelopeStatus.DRAFT, EnvelopeAction.EXPIRE): EnvelopeStatus.EXPIRED,
    (EnvelopeStatus.IN_PROGRESS, EnvelopeAction.SIGN): EnvelopeStatus.IN_PROGRESS,
    (EnvelopeStatus.IN_PROGRESS, EnvelopeAction.COMPLETE): EnvelopeStatus.COMPLETED,
    (EnvelopeStatus.IN_PROGRESS, EnvelopeAction.DECLINE): EnvelopeStatus.DECLINED,
    (EnvelopeStatus.IN_PROGRESS, EnvelopeAction.EXPIRE): EnvelopeStatus.EXPIRED,
    (EnvelopeStatus.IN_PROGRESS, EnvelopeAction.CANCEL): EnvelopeStatus.CANCELLED,
}
TERMINAL = frozenset(
    {
        EnvelopeStatus.COMPLETED,
        EnvelopeStatus.DECLINED,
        EnvelopeStatus.EXPIRED,
        EnvelopeStatus.CANCELLED,
    }
)


# --- errors ----------------------------------------------------------------------------------


# --- specs and pure rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantSpec:
    organization_id: str
    seal_id: str
    placement: str
    level: str
    document_type: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class EnvelopeSpec:
    organization_id: str
    title: str
    filename: str
    routing: Routing
    participants: tuple[ParticipantSpec, ...]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class InitialDocument:
    document_id: str
    sha256: str
    size: int


def next_status(status: EnvelopeStatus | str, action: EnvelopeAction) -> EnvelopeStatus:
    """The status after `action`, or `EnvelopeStateError` naming why it is not allowed."""
    current = EnvelopeStatus(status)
    after = TRANSITIONS.get((current, action))
    if after is None:
        raise EnvelopeStateError(
            f"an envelope that is {current.value} does not allow '{action.value}'",
            status=current.value,
        )
    return after


def is_past_expiry(envelope: Envelope, now: datetime) -> bool:
    return envelope.expires_at is not None and envelope.expires_at <= now


def effective_status(envelope: Envelope, now: datetime) -> EnvelopeStatus:
    """What the envelope is now: an open one past its expiry is expired even before the
    sweeper has recorded it."""
    status = EnvelopeStatus(envelope.status)
    if status not in TERMINAL and is_past_expiry(envelope, now):
        return EnvelopeStatus.EXPIRED
    return status


def whose_turn(routing: Routing | str, participants: Sequence[EnvelopeParticipant]) -> list[str]:
    """Ids of the participants who may sign now (ignoring the envelope's own status)."""
    if any(p.status == ParticipantStatus.DECLINED for p in participants):
        return []
    waiting = sorted(
        (p for p in participants if p.status == ParticipantStatus.WAITING),
        key=lambda p: p.position,
    )
    if Routing(routing) is Routing.PARALLEL:
        return [p.id for p in waiting]
    return [waiting[0].id] if waiting else []


def _open(envelope: Envelope, action: EnvelopeAction, now: datetime) -> EnvelopeStatus:
    if is_past_expiry(envelope, now) and EnvelopeStatus(envelope.status) not in TERMINAL:
        raise EnvelopeExpiredError(
            f"envelope {envelope.id} expired at {envelope.expires_at:%Y-%m-%dT%H:%M:%SZ}",
            status=EnvelopeStatus.EXPIRED.value,
        )
    return next_status(envelope.status, action)


def check_may_act(
    envelope: Envelope,
    participant: EnvelopeParticipant,
    participants: Sequence[EnvelopeParticipant],
    *,
    action: EnvelopeAction,
    now: datetime,
) -> None:
    """May `participant` sign or decline now? Raises the reason when not."""
    _open(envelope, action, now)
    if participant.status != ParticipantStatus.WAITING:
        raise EnvelopeStateError(
            f"participant {participant.position} has already {participant.status}",
            participant_status=participant.status,
        )
    turn = whose_turn(envelope.routing, participants)
    if action is EnvelopeAction.SIGN and participant.id not in turn:
        waiting_for = [p.position for p in participants if p.id in turn]
        raise NotYourTurnError(
            f"participant {participant.position} signs after participant "
            f"{', '.join(map(str, waiting_for))} (sequential routing)",
            waiting_for=waiting_for,
        )


# --- database functions --------------------------------------------------------------------


def create(
    session: Session,
    *,
    spec: EnvelopeSpec,
    document: InitialDocument,
    created_by: str,
    send: bool,
    now: datetime,
) -> Envelope:
    """A new envelope (draft, or in progress when `send`) with revision 0 = `document`."""
    if not spec.participants:
        raise EnvelopeInputError("an envelope needs at least one participant")
    if len(spec.participants) > MAX_PARTICIPANTS:
        raise EnvelopeInputError(f"an envelope has at most {MAX_PARTICIPANTS} participants")
    if spec.expires_at is not None and spec.expires_at <= now:
        raise EnvelopeInputError("expires_at is in the past")
    title = spec.title.strip()
    if not title:
        raise EnvelopeInputError("an envelope needs a title")
    envelope = Envelope(
        organization_id=spec.organization_id,
        title=title,
        filename=spec.filename,
        routing=spec.routing.value,
        status=(EnvelopeStatus.IN_PROGRESS if send else EnvelopeStatus.DRAFT).value,
        created_by=created_by,
        created_at=now,
        sent_at=now if send else None,
        expires_at=spec.expires_at,
    )
    session.add(envelope)
    session.flush()
    for position, part in enumerate(spec.participants, start=1):
        session.add(
            EnvelopeParticipant(
                envelope_id=envelope.id,
                position=position,
                organization_id=part.organization_id,
                seal_id=part.seal_id,
                label=part.label,
                placement=part.placement,
                level=part.level,
                document_type=part.document_type,
                status=ParticipantStatus.WAITING.value,
            )
        )
    session.add(
        EnvelopeRevision(
            envelope_id=envelope.id,
            number=0,
            document_id=document.document_id,
            sha256=document.sha256,
            size=document.size,
            created_by=created_by,
            created_at=now,
        )
    )
    session.flush()
    return envelope


def get(session: Session, envelope_id: str) -> Envelope:
    envelope = session.get(Envelope, envelope_id)
    if envelope is None:
        raise EnvelopeNotFoundError(f"envelope {envelope_id} not found")
    return envelope


def lock(session: Session, envelope_id: str) -> Envelope:
    """The envelope row, locked until the end of the transaction (SELECT ... FOR UPDATE on
    PostgreSQL; SQLite transactions already hold the one write lock). Every step that changes
    an envelope starts here, so two signers never build on the same revision."""
    envelope = session.exec(
        select(Envelope)
        .where(Envelope.id == envelope_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if envelope is None:
        raise EnvelopeNotFoundError(f"envelope {envelope_id} not found")
    return envelope


def participants(session: Session, envelope_id: str) -> list[EnvelopeParticipant]:
    return list(
        session.exec(
            select(EnvelopeParticipant)
            .where(EnvelopeParticipant.envelope_id == envelope_id)
            .order_by(col(EnvelopeParticipant.position))
            .execution_options(populate_existing=True)
        ).all()
    )


def participant(rows: Sequence[EnvelopeParticipant], participant_id: str) -> EnvelopeParticipant:
    for row in rows:
        if row.id == participant_id:
            return row
    raise EnvelopeNotFoundError(f"participant {participant_id} not found in this envelope")


def revisions(session: Session, envelope_id: str) -> list[EnvelopeRevision]:
    return list(
        session.exec(
            select(EnvelopeRevision)
            .where(EnvelopeRevision.envelope_id == envelope_id)
            .order_by(col(EnvelopeRevision.number))
        ).all()
    )


def revision(session: Session, envelope_id: str, number: int) -> EnvelopeRevision:
    row = session.exec(
        select(EnvelopeRevision).where(
            EnvelopeRevision.envelope_id == envelope_id, EnvelopeRevision.number == number
        )
    ).first()
    if row is None:
        raise EnvelopeNotFoundError(f"envelope {envelope_id} has no revision {number}")
    return row


def current(session: Session, envelope: Envelope) -> EnvelopeRevision:
    return revision(session, envelope.id, envelope.current_revision)


def organizations(session: Session, envelope: Envelope) -> set[str]:
    """The creator's organization and every participant's."""
    rows = session.exec(
        select(EnvelopeParticipant.organization_id).where(
            EnvelopeParticipant.envelope_id == envelope.id
        )
    ).all()
    return {envelope.organization_id, *rows}


def list_for(
    session: Session,
    *,
    organization_id: str | None,
    status: EnvelopeStatus | None,
    offset: int,
    limit: int,
) -> list[Envelope]:
    """Envelopes `organization_id` created or takes part in (None: every one)."""
    query = select(Envelope)
    if organization_id is not None:
        taking_part = select(EnvelopeParticipant.envelope_id).where(
            EnvelopeParticipant.organization_id == organization_id
        )
        query = query.where(
            or_(
                Envelope.organization_id == organization_id,
                col(Envelope.id).in_(taking_part),
            )
        )
    if status is not None:
        query = query.where(Envelope.status == status.value)
    query = query.order_by(col(Envelope.created_at).desc(), col(Envelope.id))
    return list(session.exec(query.offset(offset).limit(limit)).all())


def send(session: Session, *, envelope: Envelope, now: datetime) -> None:
    envelope.status = _open(envelope, EnvelopeAction.SEND, now).value
    envelope.sent_at = now
    session.add(envelope)
    session.flush()


@dataclass(frozen=True)
class SignatureRecorded:
    revision: EnvelopeRevision
    completed: bool


def record_signature(
    session: Session,
    *,
    envelope: Envelope,
    participant: EnvelopeParticipant,
    document_id: str,
    sha256: str,
    size: int,
    actor: str,
    now: datetime,
) -> SignatureRecorded:
    """The participant's seal made the next revision; the envelope completes with the last."""
    rows = participants(session, envelope.id)
    check_may_act(envelope, participant, rows, action=EnvelopeAction.SIGN, now=now)
    number = envelope.current_revision + 1
    made = EnvelopeRevision(
        envelope_id=envelope.id,
        number=number,
        document_id=document_id,
        sha256=sha256,
        size=size,
        participant_id=participant.id,
        created_by=actor,
        created_at=now,
    )
    session.add(made)
    participant.status = ParticipantStatus.SIGNED.value
    participant.acted_at = now
    participant.acted_by = actor
    participant.revision = number
    session.add(participant)
    envelope.current_revision = number
    completed = all(p.status == ParticipantStatus.SIGNED for p in rows)
    if completed:
        envelope.status = next_status(envelope.status, EnvelopeAction.COMPLETE).value
        envelope.finished_at = now
        envelope.finished_by = actor
    session.add(envelope)
    session.flush()
    return SignatureRecorded(revision=made, completed=completed)


def decline(
    session: Session,
    *,
    envelope: Envelope,
    participant: EnvelopeParticipant,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """The participant refuses: the whole envelope stops, declined."""
    text = reason.strip()
    if not text:
        raise EnvelopeInputError("declining needs a reason")
    rows = participants(session, envelope.id)
    check_may_act(envelope, participant, rows, action=EnvelopeAction.DECLINE, now=now)
    participant.status = ParticipantStatus.DECLINED.value
    participant.acted_at = now
    participant.acted_by = actor
    participant.decline_reason = text[:500]
    session.add(participant)
    envelope.status = next_status(envelope.status, EnvelopeAction.DECLINE).value
    envelope.finished_at = now
    envelope.finished_by = actor
    envelope.reason = text[:500]
    session.add(envelope)
    session.flush()


def cancel(
    session: Session, *, envelope: Envelope, reason: str | None, actor: str, now: datetime
) -> None:
    envelope.status = _open(envelope, EnvelopeAction.CANCEL, now).value
    envelope.finished_at = now
    envelope.finished_by = actor
    envelope.reason = (reason or "").strip()[:500] or None
    session.add(envelope)
    session.flush()


def expire_due(session: Session, *, now: datetime, limit: int = 100) -> list[Envelope]:
    """Mark open envelopes past their expiry as expired (rows another transaction holds are
    skipped and left for the next sweep)."""
    open_states = [EnvelopeStatus.DRAFT.value, EnvelopeStatus.IN_PROGRESS.value]
    due = session.exec(
        select(Envelope)
        .where(
            col(Envelope.status).in_(open_states),
            col(Envelope.expires_at).is_not(None),
            col(Envelope.expires_at) <= now,
        )
        .order_by(col(Envelope.expires_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for envelope in due:
        envelope.status = next_status(envelope.status, EnvelopeAction.EXPIRE).value
        envelope.finished_at = now
        envelope.finished_by = "system:expiry"
        session.add(envelope)
    session.flush()
    return list(due)


# --- checking the document before anyone signs ---------------------------------------------


@dataclass(frozen=True)
class PlannedSeal:
    """One participant's placement and the physical size of its seal (None: invisible)."""

    position: int
    placement: Placement
    seal_size_mm: tuple[float, float] | None


def preflight(*, pdf: bytes, planned: Sequence[PlannedSeal]) -> None:
    """Refuse up front what would fail at a participant's turn: not a PDF, damaged,
    encrypted, certified against changes, a page out of range, a keyword not in the text.

    Later revisions only add signatures (incremental updates), so pages and text stay what
    they are now.
    """
    writer = open_writer(pdf)
    check_lock(writer.prev, certify=None)
    pages = page_geometries(writer.prev)
    for plan in planned:
        try:
            resolve_placement(
                placement=plan.placement, pages=pages, seal_size_mm=plan.seal_size_mm, pdf=pdf
            )
        except PlacementError as exc:
            raise type(exc)(
                f"participant {plan.position}: {exc.detail}", **exc.extra, participant=plan.position
            ) from exc
