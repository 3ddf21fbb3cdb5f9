"""Refused seal uses leave an audit event with the reason (issue 10, finding "refused uses
leave no trace").

A refusal happens inside the request's transaction, which then rolls back -- an event
written there would vanish, and on SQLite a second writer opened meanwhile would wait on the
first. So `authorize_use` only *notes* the refusal on the exception (`note`), and whoever
answers the caller (the API's exception handler, the console's error page) writes the event
in a short unit of work of its own after the rollback (`record`).
"""

from __future__ import annotations

from typing import Any

from app.db import unit_of_work
from app.services import audit
from app.wiring import Services
from seals.errors import SealError, WrongPinError

ATTR = "eseal_refusal"


def note(
    error: SealError,
    *,
    actor: str,
    seal_id: str,
    organization_id: str | None,
    document_sha256: str,
    document_type: str | None,
) -> None:
    """Attach what the audit event will say (wrong PINs are counted and audited apart)."""
    if isinstance(error, WrongPinError):
        return
    setattr(
        error,
        ATTR,
        {
            "actor": actor,
            "seal_id": seal_id,
            "organization_id": organization_id,
            "details": {
                "reason": error.code,
                "detail": str(getattr(error, "detail", error))[:500],
                "document_sha256": document_sha256,
                "document_type": document_type,
            },
        },
    )


def record(services: Services, error: BaseException) -> bool:
    """Write the noted refusal (if any) as `seal.use_refused`; True when one was written."""
    noted: dict[str, Any] | None = getattr(error, ATTR, None)
    if noted is None:
        return False
    with unit_of_work(services.engine) as session:
        audit.record(
            session,
            actor=noted["actor"],
            action="seal.use_refused",
            target_type="seal",
            target_id=noted["seal_id"],
            organization_id=noted["organization_id"],
            details=noted["details"],
        )
    delattr(error, ATTR)  # once, even if two layers see the same exception
    return True
