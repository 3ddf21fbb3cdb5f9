"""Grants: who besides the seal's owner may use it, within which limits."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.schemas.seals import (
    GrantCreate,
    GrantPublic,
)
from app.security import Scope
from app.services import grants as grant_service
from seals import access
from seals.authorization import Caller

router = APIRouter(prefix="/api/v1", tags=["seals"])


def _grant(grant: access.GrantFacts) -> GrantPublic:
    return GrantPublic(
        id=grant.id,
        seal_id=grant.seal_id,
        grantee_kind=grant.grantee.kind,
        grantee_id=grant.grantee.id,
        document_types=list(grant.document_types) if grant.document_types is not None else None,
        not_before=grant.not_before,
        not_after=grant.not_after,
        max_uses=grant.max_uses,
        uses=grant.uses,
        created_by=grant.created_by,
        created_at=grant.created_at,
        revoked_at=grant.revoked_at,
        requires_established_type=grant.requires_established_type,
    )


# --- grants ------------------------------------------------------------------------------------


@router.post(
    "/seals/{seal_id}/grants",
    dependencies=needs(Scope.org_admin),
    status_code=status.HTTP_201_CREATED,
)
def create_grant(
    seal_id: str,
    body: GrantCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> GrantPublic:
    """Allow a member (person) or an API client of the organization to use the seal."""
    grant = grant_service.create_grant(
        session,
        services,
        principal=principal,
        seal_id=seal_id,
        grantee=Caller(body.grantee_kind, body.grantee_id),
        limits=access.GrantLimits(
            document_types=tuple(body.document_types) if body.document_types is not None else None,
            not_before=body.not_before,
            not_after=body.not_after,
            max_uses=body.max_uses,
            requires_established_type=body.requires_established_type,
        ),
    )
    return _grant(grant)


@router.get("/seals/{seal_id}/grants", dependencies=needs(Scope.seals_read))
def list_grants(
    seal_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    include_revoked: bool = False,
) -> list[GrantPublic]:
    grants = grant_service.list_grants(
        session, services, principal=principal, seal_id=seal_id, include_revoked=include_revoked
    )
    return [_grant(g) for g in grants]


@router.get("/grants/{grant_id}", dependencies=needs(Scope.seals_read))
def get_grant(
    grant_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> GrantPublic:
    return _grant(
        grant_service.get_grant(session, services, principal=principal, grant_id=grant_id)
    )


@router.post("/grants/{grant_id}/revoke", dependencies=needs(Scope.org_admin))
def revoke_grant(
    grant_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> GrantPublic:
    """Takes effect at once, also for a signer between authorisation and consumption."""
    grant = grant_service.revoke_grant(session, services, principal=principal, grant_id=grant_id)
    return _grant(grant)
