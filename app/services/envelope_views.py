"""What the service shows and records of an envelope: its view for the caller (status,
participants, whose turn, revisions), the outcome a webhook tells (queued in the caller's
transaction) and its audit events, at the authority's clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.models_webhooks import EnvelopeWebhook
from app.security import Principal
from app.services import audit, webhooks
from app.wiring import Services
from seals import envelopes as domain
from seals.envelopes import EnvelopeStatus
from seals.models_envelopes import Envelope, EnvelopeParticipant, EnvelopeRevision


@dataclass(frozen=True)
class EnvelopeView:
    envelope: Envelope
    status: EnvelopeStatus
    participants: list[EnvelopeParticipant]
    revisions: list[EnvelopeRevision]
    turn: list[str]
    webhook_url: str | None


def view_of(
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


def outcome_data(session: Session, envelope: Envelope) -> dict[str, Any]:
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


def queue_webhook(session: Session, envelope: Envelope, event: str, now: datetime) -> None:
    webhooks.enqueue(
        session,
        envelope_id=envelope.id,
        event=event,
        data=outcome_data(session, envelope),
        now=now,
    )


def now_of(services: Services) -> datetime:
    return services.authority.clock()


def audit_envelope(
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
