"""Audit checkpoints (the chain's head time-stamped) and export of audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel
from sqlmodel import Session, col, select

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.errors import Forbidden, NotFound
from app.models import AuditEvent
from app.models_policy import AuditCheckpoint
from app.security import Principal, Scope
from app.services import checkpoints
from app.services.audit_export import MAX_EXPORT, render_export
from app.services.tenancy import require

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


class CheckpointPublic(BaseModel):
    id: str
    seq: int
    head_hash: str
    merkle_root: str
    created_at: datetime
    created_by: str
    token_url: str


class CheckpointCheckPublic(BaseModel):
    holds: bool
    checkpoint_seq: int | None
    checkpoint_at: str | None
    events: int
    reason: str | None


def _public(row: AuditCheckpoint) -> CheckpointPublic:
    return CheckpointPublic(
        id=row.id,
        seq=row.seq,
        head_hash=row.head_hash,
        merkle_root=row.merkle_root,
        created_at=row.created_at,
        created_by=row.created_by,
        token_url=f"/api/v1/audit/checkpoints/{row.id}/token",
    )


@router.post(
    "/checkpoints", dependencies=needs(Scope.platform), status_code=status.HTTP_201_CREATED
)
def create_checkpoint(
    session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> CheckpointPublic:
    """Time-stamp the chain's head now (the last checkpoint again if nothing was added).
    The platform's: a checkpoint hashes the whole chain."""
    if not principal.is_platform:
        raise Forbidden("checkpoints are made by the platform (and periodically)")
    return _public(checkpoints.create(session, services, actor=principal.actor))


@router.get("/checkpoints", dependencies=needs(Scope.audit_read))
def list_checkpoints(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[CheckpointPublic]:
    require(principal, Scope.audit_read)
    rows = session.exec(
        select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq).desc()).limit(limit)
    ).all()
    return [_public(r) for r in rows]


@router.get(
    "/checkpoints/{checkpoint_id}/token",
    dependencies=needs(Scope.audit_read),
    response_class=Response,
    responses={200: {"content": {"application/timestamp-token": {}}}},
)
def checkpoint_token(
    checkpoint_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """The RFC 3161 token (DER) over the checkpoint's canonical bytes."""
    require(principal, Scope.audit_read)
    row = session.get(AuditCheckpoint, checkpoint_id)
    if row is None:
        raise NotFound(f"checkpoint {checkpoint_id} not found")
    return Response(row.timestamp_token, media_type="application/timestamp-token")


@router.get("/checkpoints/verify", dependencies=needs(Scope.audit_read))
def verify_against_checkpoint(
    session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> CheckpointCheckPublic:
    """The chain link by link, then against its last checkpoint: a removed or rewritten tail
    shows here even when every remaining link holds."""
    require(principal, Scope.audit_read)
    check = checkpoints.verify(session, services)
    return CheckpointCheckPublic(**check.__dict__)


def export_rows(
    session: Session,
    principal: Principal,
    *,
    action: str | None,
    actor: str | None,
    target_type: str | None,
    target_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after_seq: int,
    limit: int,
) -> list[AuditEvent]:
    """The caller's events (every one, for the platform) matching the filters, by seq."""
    require(principal, Scope.audit_read)
    query = select(AuditEvent).where(col(AuditEvent.seq) > after_seq)
    if not principal.is_platform:
        query = query.where(AuditEvent.organization_id == principal.organization_id)
    for column, value in (
        (AuditEvent.action, action),
        (AuditEvent.actor, actor),
        (AuditEvent.target_type, target_type),
        (AuditEvent.target_id, target_id),
    ):
        if value:
            query = query.where(column == value)
    if since is not None:
        query = query.where(col(AuditEvent.occurred_at) >= since)
    if until is not None:
        query = query.where(col(AuditEvent.occurred_at) < until)
    return list(session.exec(query.order_by(col(AuditEvent.seq)).limit(limit)).all())


@router.get(
    "/export",
    dependencies=needs(Scope.audit_read),
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    format: Literal["csv", "json"] = "csv",
    action: str | None = None,
    actor: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_seq: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT)] = MAX_EXPORT,
) -> Response:
    """Audit events as CSV or JSON with filters; each row keeps its chain hashes so the
    export can be checked against the chain. A full page sets X-Eseal-Next-After-Seq."""
    rows = export_rows(
        session,
        principal,
        action=action,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        after_seq=after_seq,
        limit=limit,
    )
    body, media_type = render_export(rows, format)
    headers = attachment(f"audit-events.{format}")
    if len(rows) == limit:
        headers["X-Eseal-Next-After-Seq"] = str(rows[-1].seq)
    return Response(body, media_type=media_type, headers=headers)
