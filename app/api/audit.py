"""The audit log: events of the caller's organization, and the whole chain's check."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from app.access import needs
from app.deps import CurrentPrincipal, SessionDep
from app.models import AuditEvent
from app.security import Scope
from app.services import audit
from app.services.tenancy import require

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class AuditEventPublic(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    organization_id: str | None
    action: str
    target_type: str
    target_id: str
    details: str
    hash: str


class ChainCheck(BaseModel):
    intact: bool
    events: int
    first_broken_seq: int | None
    reason: str | None


@router.get("/events", dependencies=needs(Scope.audit_read))
def list_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    action: str | None = None,
    actor: str | None = None,
    target_id: str | None = None,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEventPublic]:
    require(principal, Scope.audit_read)
    query = select(AuditEvent).where(col(AuditEvent.seq) > after_seq)
    if not principal.is_platform:
        query = query.where(AuditEvent.organization_id == principal.organization_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    rows = session.exec(query.order_by(col(AuditEvent.seq)).limit(limit)).all()
    return [AuditEventPublic.model_validate(r, from_attributes=True) for r in rows]


@router.get("/verify", dependencies=needs(Scope.audit_read))
def verify_chain(session: SessionDep, principal: CurrentPrincipal) -> ChainCheck:
    """Check every link of the whole chain; names the first broken one."""
    require(principal, Scope.audit_read)
    report = audit.verify_chain(session)
    return ChainCheck(
        intact=report.intact,
        events=report.events,
        first_broken_seq=report.first_broken_seq,
        reason=report.reason,
    )
