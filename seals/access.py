"""Grants (who may use a seal, with limits) and usage requests with their approval (用印审批).

The service checks that grantees and requesters belong to the seal's organization (those
tables live in `app/`); this module enforces the rules of the seal itself. Decisions use a
conditional UPDATE so that two approvers racing on one request cannot both decide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from seals.authorization import (
    ApprovalStatus,
    Caller,
    CallerKind,
    normalize_document_type,
    normalize_sha256,
)
from seals.errors import (
    GrantNotFoundError,
    SealConflictError,
    SealInputError,
    SelfApprovalError,
    UsageRequestNotFoundError,
)
from seals.lifecycle import TERMINAL, effective_status
from seals.models import Seal, SealGrant, SealUsageRequest

MAX_GRANT_USES = 1_000_000
MAX_COPIES = 100


@dataclass(frozen=True)
class GrantLimits:
    """Optional limits of a grant: document types, a time window, a number of uses."""

    document_types: tuple[str, ...] | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    max_uses: int | None = None
    requires_established_type: bool = False


@dataclass(frozen=True)
class GrantFacts:
    id: str
    seal_id: str
    organization_id: str
    grantee: Caller
    document_types: tuple[str, ...] | None
    not_before: datetime | None
    not_after: datetime | None
    max_uses: int | None
    uses: int
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    requires_established_type: bool = False

    @classmethod
    def of(cls, grant: SealGrant) -> GrantFacts:
        types = grant.document_type_set
        return cls(
            id=grant.id,
            seal_id=grant.seal_id,
            organization_id=grant.organization_id,
            grantee=Caller(CallerKind(grant.grantee_kind), grant.grantee_id),
            document_types=tuple(sorted(types)) if types is not None else None,
            not_before=grant.not_before,
            not_after=grant.not_after,
            max_uses=grant.max_uses,
            uses=grant.uses,
            created_by=grant.created_by,
            created_at=grant.created_at,
            revoked_at=grant.revoked_at,
            requires_established_type=grant.requires_established_type,
        )


@dataclass(frozen=True)
class UsageRequestFacts:
    id: str
    seal_id: str
    organization_id: str
    requester: Caller
    purpose: str
    document_sha256: str
    document_type: str | None
    copies: int
    status: ApprovalStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    consumed_at: datetime | None

    @classmethod
    def of(cls, request: SealUsageRequest) -> UsageRequestFacts:
        return cls(
            id=request.id,
            seal_id=request.seal_id,
            organization_id=request.organization_id,
            requester=Caller(CallerKind(request.requester_kind), request.requester_id),
            purpose=request.purpose,
            document_sha256=request.document_sha256,
            document_type=request.document_type,
            copies=request.copies,
            status=ApprovalStatus(request.status),
            created_at=request.created_at,
            decided_by=request.decided_by,
            decided_at=request.decided_at,
            decision_note=request.decision_note,
            consumed_at=request.consumed_at,
        )


def _live_seal(seal: Seal, now: datetime, what: str) -> None:
    status = effective_status(seal.status, valid_until=seal.valid_until, now=now)
    if status in TERMINAL:
        raise SealConflictError(f"seal {seal.code} is {status.value}: {what} makes no sense")


# --- grants ------------------------------------------------------------------------------------


def create_grant(
    session: Session,
    *,
    seal: Seal,
    grantee: Caller,
    limits: GrantLimits,
    created_by: str,
    now: datetime,
) -> GrantFacts:
    _live_seal(seal, now, "a grant")
    types: tuple[str, ...] | None = None
    if limits.document_types is not None:
        normalized = {normalize_document_type(t) for t in limits.document_types}
        types = tuple(sorted(t for t in normalized if t))
        if not types:
            raise SealInputError("document_types, when given, lists at least one type")
    for moment in (limits.not_before, limits.not_after):
        if moment is not None and moment.tzinfo is None:
            raise SealInputError("grant times need a time zone (e.g. 2026-01-01T00:00:00+08:00)")
    if limits.not_after is not None:
        if limits.not_before is not None and limits.not_after <= limits.not_before:
            raise SealInputError("a grant's not_after must come after its not_before")
        if limits.not_after <= now:
            raise SealInputError("a grant's not_after is already in the past")
    if limits.max_uses is not None and not 1 <= limits.max_uses <= MAX_GRANT_USES:
        raise SealInputError(f"max_uses is between 1 and {MAX_GRANT_USES}")
    if limits.requires_established_type and types is None:
        raise SealInputError("requires_established_type needs document_types")
    grant = SealGrant(
        seal_id=seal.id,
        organization_id=seal.organization_id,
        grantee_kind=grantee.kind.value,
        grantee_id=grantee.id,
        document_types=" ".join(types) if types is not None else None,
        not_before=limits.not_before,
        not_after=limits.not_after,
        max_uses=limits.max_uses,
        requires_established_type=limits.requires_established_type,
        created_by=created_by,
        created_at=now,
    )
    session.add(grant)
    session.flush()
    return GrantFacts.of(grant)


def grant_row(session: Session, grant_id: str, *, organization_id: str | None) -> SealGrant:
    grant = session.get(SealGrant, grant_id)
    if grant is None or (organization_id is not None and grant.organization_id != organization_id):
        raise GrantNotFoundError(f"grant {grant_id} not found")
    return grant


def revoke_grant(
    session: Session, *, grant_id: str, organization_id: str | None, revoked_by: str, now: datetime
) -> GrantFacts:
    """Revoke at once: a signer that has not yet consumed its use is refused at `consume`."""
    grant = grant_row(session, grant_id, organization_id=organization_id)
    done = session.execute(
        sa.update(SealGrant)
        .where(col(SealGrant.id) == grant.id, col(SealGrant.revoked_at).is_(None))
        .values(revoked_at=now, revoked_by=revoked_by)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise SealConflictError(f"grant {grant_id} is already revoked")
    session.refresh(grant)
    return GrantFacts.of(grant)


def list_grants(
    session: Session, *, seal_id: str, include_revoked: bool = False
) -> list[GrantFacts]:
    query = select(SealGrant).where(SealGrant.seal_id == seal_id)
    if not include_revoked:
        query = query.where(col(SealGrant.revoked_at).is_(None))
    rows = session.exec(query.order_by(col(SealGrant.created_at), col(SealGrant.id))).all()
    return [GrantFacts.of(g) for g in rows]


# --- usage requests and approvals -------------------------------------------------------------


def file_request(
    session: Session,
    *,
    seal: Seal,
    requester: Caller,
    purpose: str,
    document_sha256: str,
    document_type: str | None,
    copies: int,
    now: datetime,
) -> UsageRequestFacts:
    _live_seal(seal, now, "a usage request")
    digest = normalize_sha256(document_sha256)
    text = purpose.strip()
    if not text or len(text) > 500:
        raise SealInputError("a purpose of 1 to 500 characters is required")
    if not 1 <= copies <= MAX_COPIES:
        raise SealInputError(f"copies is between 1 and {MAX_COPIES}")
    open_one = session.exec(
        select(SealUsageRequest.id).where(
            SealUsageRequest.seal_id == seal.id,
            SealUsageRequest.document_sha256 == digest,
            SealUsageRequest.requester_kind == requester.kind.value,
            SealUsageRequest.requester_id == requester.id,
            col(SealUsageRequest.status).in_(
                [ApprovalStatus.PENDING.value, ApprovalStatus.APPROVED.value]
            ),
        )
    ).first()
    if open_one is not None:
        raise SealConflictError(
            f"usage request {open_one} for this seal and document is already open",
            usage_request_id=open_one,
        )
    request = SealUsageRequest(
        seal_id=seal.id,
        organization_id=seal.organization_id,
        requester_kind=requester.kind.value,
        requester_id=requester.id,
        purpose=text,
        document_sha256=digest,
        document_type=normalize_document_type(document_type),
        copies=copies,
        status=ApprovalStatus.PENDING.value,
        created_at=now,
    )
    session.add(request)
    session.flush()
    return UsageRequestFacts.of(request)


def request_row(
    session: Session, request_id: str, *, organization_id: str | None
) -> SealUsageRequest:
    request = session.get(SealUsageRequest, request_id)
    if request is None or (
        organization_id is not None and request.organization_id != organization_id
    ):
        raise UsageRequestNotFoundError(f"usage request {request_id} not found")
    return request


def decide(
    session: Session,
    *,
    request_id: str,
    organization_id: str | None,
    approver: Caller,
    approve: bool,
    decided_by: str,
    note: str | None,
    now: datetime,
) -> UsageRequestFacts:
    """Approve or reject a pending request (never one's own)."""
    request = request_row(session, request_id, organization_id=organization_id)
    if Caller(CallerKind(request.requester_kind), request.requester_id) == approver:
        raise SelfApprovalError("a usage request cannot be decided by the one who filed it")
    if note is not None and len(note) > 500:
        raise SealInputError("a decision note is at most 500 characters")
    if approve:
        seal = session.get(Seal, request.seal_id)
        assert seal is not None
        _live_seal(seal, now, "approving its use")
    target = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    done = session.execute(
        sa.update(SealUsageRequest)
        .where(
            col(SealUsageRequest.id) == request.id,
            col(SealUsageRequest.status) == ApprovalStatus.PENDING.value,
        )
        .values(status=target.value, decided_by=decided_by, decided_at=now, decision_note=note)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(request)
        raise SealConflictError(
            f"usage request {request_id} is already {request.status}", status=request.status
        )
    session.refresh(request)
    return UsageRequestFacts.of(request)


def list_requests(
    session: Session,
    *,
    organization_id: str,
    seal_id: str | None = None,
    statuses: Sequence[ApprovalStatus] = (),
    offset: int = 0,
    limit: int = 50,
) -> list[UsageRequestFacts]:
    query = select(SealUsageRequest).where(SealUsageRequest.organization_id == organization_id)
    if seal_id is not None:
        query = query.where(SealUsageRequest.seal_id == seal_id)
    if statuses:
        query = query.where(col(SealUsageRequest.status).in_([s.value for s in statuses]))
    rows = session.exec(
        query.order_by(col(SealUsageRequest.created_at), col(SealUsageRequest.id))
        .offset(offset)
        .limit(limit)
    ).all()
    return [UsageRequestFacts.of(r) for r in rows]
