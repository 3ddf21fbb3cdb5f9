"""Usage requests (用印申请) and their approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.schemas.seals import (
    Decision,
    UsageRequestCreate,
    UsageRequestPublic,
    UsageRequestStatus,
)
from app.security import Scope
from app.services import usage_requests
from seals import access
from seals.authorization import ApprovalStatus

router = APIRouter(prefix="/api/v1", tags=["seals"])


def request_public(request: access.UsageRequestFacts) -> UsageRequestPublic:
    return UsageRequestPublic(
        id=request.id,
        seal_id=request.seal_id,
        requester_kind=request.requester.kind,
        requester_id=request.requester.id,
        purpose=request.purpose,
        document_sha256=request.document_sha256,
        document_type=request.document_type,
        copies=request.copies,
        status=UsageRequestStatus(request.status.value),
        created_at=request.created_at,
        decided_by=request.decided_by,
        decided_at=request.decided_at,
        decision_note=request.decision_note,
        consumed_at=request.consumed_at,
    )


# --- usage requests and approvals --------------------------------------------------------------


@router.post(
    "/seals/{seal_id}/usage-requests",
    dependencies=needs(Scope.seals_use),
    status_code=status.HTTP_201_CREATED,
)
def file_usage_request(
    seal_id: str,
    body: UsageRequestCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> UsageRequestPublic:
    """Ask to use the seal on exactly one document (by its SHA-256)."""
    request = usage_requests.file_usage_request(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        purpose=body.purpose,
        document_sha256=body.document_sha256,
        document_type=body.document_type,
        copies=body.copies,
    )
    return request_public(request)


@router.get("/organizations/{organization_id}/usage-requests", dependencies=needs(Scope.seals_read))
def list_usage_requests(
    organization_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    status_filter: Annotated[list[UsageRequestStatus] | None, Query(alias="status")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[UsageRequestPublic]:
    requests = usage_requests.list_usage_requests(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        statuses=[ApprovalStatus(s.value) for s in status_filter or []],
        offset=offset,
        limit=limit,
    )
    return [request_public(r) for r in requests]


@router.get("/usage-requests/{request_id}", dependencies=needs(Scope.seals_read))
def get_usage_request(
    request_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> UsageRequestPublic:
    request = usage_requests.get_usage_request(
        session, services, principal=principal, request_id=request_id
    )
    return request_public(request)


def _decide(
    request_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Decision | None,
    *,
    approve: bool,
) -> UsageRequestPublic:
    decided = usage_requests.decide_usage_request(
        session,
        services,
        principal=principal,
        request_id=request_id,
        approve=approve,
        note=body.note if body else None,
    )
    return request_public(decided)


@router.post("/usage-requests/{request_id}/approve", dependencies=needs(Scope.approvals_write))
def approve_usage_request(
    request_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Decision | None = None,
) -> UsageRequestPublic:
    """Allow exactly one use of the seal on exactly that document."""
    return _decide(request_id, session, services, principal, body, approve=True)


@router.post("/usage-requests/{request_id}/reject", dependencies=needs(Scope.approvals_write))
def reject_usage_request(
    request_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Decision | None = None,
) -> UsageRequestPublic:
    return _decide(request_id, session, services, principal, body, approve=False)
