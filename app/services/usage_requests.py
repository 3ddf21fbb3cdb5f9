"""Usage requests (用印申请) for seals that need approval: filed by a would-be user, decided by
an approver, audited."""

from sqlmodel import Session

from app.security import Principal, Scope
from app.services.seals import audit_act, caller_of, registry, scope_of, visible_seal
from app.services.tenancy import require, visible_organization
from app.wiring import Services
from seals import access

# --- usage requests and approvals ------------------------------------------------------------


def file_usage_request(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    purpose: str,
    document_sha256: str,
    document_type: str | None,
    copies: int,
) -> access.UsageRequestFacts:
    seal = visible_seal(session, services, principal, seal_id)
    require(principal, Scope.seals_use)
    requester = caller_of(session, principal)
    request = access.file_request(
        session,
        seal=seal,
        requester=requester,
        purpose=purpose,
        document_sha256=document_sha256,
        document_type=document_type,
        copies=copies,
        now=registry(services).clock(),
    )
    audit_act(
        session,
        principal,
        "seal.usage_request",
        target_type="seal_usage_request",
        target_id=request.id,
        organization_id=seal.organization_id,
        details={
            "seal_code": seal.code,
            "document_sha256": request.document_sha256,
            "document_type": request.document_type,
            "copies": request.copies,
            "purpose": request.purpose,
        },
    )
    return request


def decide_usage_request(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    request_id: str,
    approve: bool,
    note: str | None,
) -> access.UsageRequestFacts:
    access.request_row(session, request_id, organization_id=scope_of(principal))
    require(principal, Scope.approvals_write)
    decided = access.decide(
        session,
        request_id=request_id,
        organization_id=scope_of(principal),
        approver=caller_of(session, principal),
        approve=approve,
        decided_by=principal.actor,
        note=note,
        now=registry(services).clock(),
    )
    audit_act(
        session,
        principal,
        "seal.usage_approve" if approve else "seal.usage_reject",
        target_type="seal_usage_request",
        target_id=decided.id,
        organization_id=decided.organization_id,
        details={
            "seal_id": decided.seal_id,
            "document_sha256": decided.document_sha256,
            "note": note,
        },
    )
    return decided


def get_usage_request(
    session: Session, services: Services, *, principal: Principal, request_id: str
) -> access.UsageRequestFacts:
    require(principal, Scope.seals_read)
    row = access.request_row(session, request_id, organization_id=scope_of(principal))
    return access.UsageRequestFacts.of(row)


def list_usage_requests(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    statuses: list[access.ApprovalStatus],
    offset: int,
    limit: int,
) -> list[access.UsageRequestFacts]:
    visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_read)
    return access.list_requests(
        session, organization_id=organization_id, statuses=statuses, offset=offset, limit=limit
    )
