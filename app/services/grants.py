"""Grants of a seal to a member or an API client of its organization: create, revoke,
read, each audited."""

from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import ApiClient, Membership
from app.security import Principal, Scope
from app.services.seals import audit_act, registry, scope_of, visible_seal
from app.services.tenancy import require
from app.wiring import Services
from seals import access
from seals.authorization import Caller, CallerKind

# --- grants ------------------------------------------------------------------------------------


def _check_grantee(session: Session, organization_id: str, grantee: Caller) -> None:
    if grantee.kind is CallerKind.PERSON:
        found = session.exec(
            select(Membership.id).where(
                Membership.organization_id == organization_id,
                Membership.person_id == grantee.id,
                col(Membership.confirmed_at).is_not(None),
            )
        ).first()
    else:
        found = session.exec(
            select(ApiClient.id).where(
                ApiClient.organization_id == organization_id,
                ApiClient.id == grantee.id,
                ApiClient.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).first()
    if found is None:
        raise NotFound(f"{grantee.kind.value} {grantee.id} not found in this organization")


def create_grant(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    grantee: Caller,
    limits: access.GrantLimits,
) -> access.GrantFacts:
    seal = visible_seal(session, services, principal, seal_id)
    require(principal, Scope.org_admin)
    _check_grantee(session, seal.organization_id, grantee)
    grant = access.create_grant(
        session,
        seal=seal,
        grantee=grantee,
        limits=limits,
        created_by=principal.actor,
        now=registry(services).clock(),
    )
    audit_act(
        session,
        principal,
        "seal.grant",
        target_type="seal_grant",
        target_id=grant.id,
        organization_id=seal.organization_id,
        details={
            "seal_code": seal.code,
            "grantee": str(grantee),
            "document_types": list(grant.document_types) if grant.document_types else None,
            "not_before": grant.not_before.isoformat() if grant.not_before else None,
            "not_after": grant.not_after.isoformat() if grant.not_after else None,
            "max_uses": grant.max_uses,
        },
    )
    return grant


def revoke_grant(
    session: Session, services: Services, *, principal: Principal, grant_id: str
) -> access.GrantFacts:
    access.grant_row(session, grant_id, organization_id=scope_of(principal))
    require(principal, Scope.org_admin)
    grant = access.revoke_grant(
        session,
        grant_id=grant_id,
        organization_id=scope_of(principal),
        revoked_by=principal.actor,
        now=registry(services).clock(),
    )
    audit_act(
        session,
        principal,
        "seal.grant_revoke",
        target_type="seal_grant",
        target_id=grant.id,
        organization_id=grant.organization_id,
        details={"seal_id": grant.seal_id, "grantee": str(grant.grantee), "uses": grant.uses},
    )
    return grant


def get_grant(
    session: Session, services: Services, *, principal: Principal, grant_id: str
) -> access.GrantFacts:
    require(principal, Scope.seals_read)
    return access.GrantFacts.of(
        access.grant_row(session, grant_id, organization_id=scope_of(principal))
    )


def list_grants(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    seal_id: str,
    include_revoked: bool,
) -> list[access.GrantFacts]:
    seal = visible_seal(session, services, principal, seal_id)
    require(principal, Scope.seals_read)
    return access.list_grants(session, seal_id=seal.id, include_revoked=include_revoked)
