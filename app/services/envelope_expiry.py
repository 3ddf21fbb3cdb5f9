"""Envelopes past their expiry: the background worker records each one's expiry, audited,
with its webhook queued, in one short transaction per pass."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from app.db import unit_of_work
from app.services import envelopes
from app.services.envelope_views import (
    audit_envelope,
    now_of,
    queue_webhook,
)
from app.wiring import Services
from seals import envelopes as domain


def expire_due(session: Session, services: Services) -> list[str]:
    """Record the expiry of open envelopes past their time; ids of those expired."""
    now = now_of(services)
    expired = domain.expire_due(session, now=now)
    for envelope in expired:
        audit_envelope(
            session,
            "system:expiry",
            "envelope.expire",
            envelope,
            organization_id=envelope.organization_id,
            details={
                "expires_at": envelope.expires_at.isoformat() if envelope.expires_at else None
            },
        )
        queue_webhook(session, envelope, envelopes.EVENT_EXPIRED, now)
    return [e.id for e in expired]


def expiry_task(services: Services) -> Callable[[], object]:
    """The worker's periodic task: one short transaction per pass."""

    def run() -> object:
        with unit_of_work(services.engine) as session:
            return expire_due(session, services)

    return run
