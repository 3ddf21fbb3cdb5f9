"""待我签署: the envelopes waiting for the signed-in person now — their organization's turn,
on a seal they can use (a grant, or their own personal seal) — oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from seals.authorization import Caller, CallerKind
from seals.envelopes import whose_turn
from seals.models import Seal, SealGrant
from seals.models_envelopes import Envelope, EnvelopeParticipant

LIMIT = 20


@dataclass(frozen=True)
class Waiting:
    envelope: Envelope
    participant: EnvelopeParticipant
    seal: Seal


def _may_use(session: Session, caller: Caller, seal: Seal, now: datetime) -> bool:
    if caller.kind is CallerKind.PERSON and seal.person_id == caller.id:
        return True
    for grant in session.exec(
        select(SealGrant).where(
            SealGrant.seal_id == seal.id,
            SealGrant.grantee_kind == caller.kind.value,
            SealGrant.grantee_id == caller.id,
            col(SealGrant.revoked_at).is_(None),
        )
    ).all():
        started = grant.not_before is None or grant.not_before <= now
        running = grant.not_after is None or now < grant.not_after
        left = grant.max_uses is None or grant.uses < grant.max_uses
        if started and running and left:
            return True
    return False


def waiting_for(
    session: Session, *, caller: Caller, organization_id: str, now: datetime | None = None
) -> list[Waiting]:
    now = now or datetime.now(UTC)
    mine = session.exec(
        select(EnvelopeParticipant, Envelope)
        .join(Envelope, col(Envelope.id) == col(EnvelopeParticipant.envelope_id))
        .where(
            EnvelopeParticipant.organization_id == organization_id,
            EnvelopeParticipant.status == "waiting",
            Envelope.status == "in_progress",
        )
        .order_by(col(Envelope.created_at), col(EnvelopeParticipant.position))
        .limit(200)
    ).all()
    found: list[Waiting] = []
    for participant, envelope in mine:
        if envelope.expires_at is not None and envelope.expires_at <= now:
            continue
        everyone = session.exec(
            select(EnvelopeParticipant).where(EnvelopeParticipant.envelope_id == envelope.id)
        ).all()
        if participant.id not in whose_turn(envelope.routing, everyone):
            continue
        seal = session.get(Seal, participant.seal_id)
        if seal is not None and _may_use(session, caller, seal, now):
            found.append(Waiting(envelope=envelope, participant=participant, seal=seal))
        if len(found) >= LIMIT:
            break
    return found
