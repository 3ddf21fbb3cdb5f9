"""Organizations, their members and their API clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.access import authenticated, needs
from app.deps import CurrentPrincipal, SessionDep
from app.models import ApiClient, Organization
from app.schemas.tenancy import (
    ApiClientCreate,
    ApiClientPublic,
    ApiClientWithKey,
    MemberCreate,
    MemberPublic,
    OrganizationCreate,
    OrganizationPublic,
)
from app.security import Scope
from app.services import tenancy
from pki.identifiers import mask_resident_id

router = APIRouter(prefix="/api/v1/organizations", tags=["organizations"])


def _org(org: Organization) -> OrganizationPublic:
    return OrganizationPublic.model_validate(org, from_attributes=True)


def _client(client: ApiClient) -> ApiClientPublic:
    return ApiClientPublic(
        id=client.id,
        organization_id=client.organization_id,
        name=client.name,
        key_prefix=client.key_prefix,
        scopes=sorted(client.scope_set),
        created_at=client.created_at,
        revoked_at=client.revoked_at,
    )


def _member(view: tenancy.MemberView) -> MemberPublic:
    rid = view.person.resident_id
    return MemberPublic(
        person_id=view.person.id,
        name=view.person.name,
        resident_id=mask_resident_id(rid) if rid else None,
        roles=view.roles,
        username=view.username,
        confirmed=view.confirmed,
    )


@router.post("", dependencies=needs(Scope.platform), status_code=status.HTTP_201_CREATED)
def create_organization(
    body: OrganizationCreate, session: SessionDep, principal: CurrentPrincipal
) -> OrganizationPublic:
    org = tenancy.create_organization(
        session,
        principal=principal,
        name=body.name,
        kind=body.kind,
        uscc=body.uscc,
        legal_representative=body.legal_representative,
    )
    return _org(org)


@router.get("", dependencies=authenticated("lists only the caller's own organization"))
def list_organizations(
    session: SessionDep,
    principal: CurrentPrincipal,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OrganizationPublic]:
    orgs = tenancy.list_organizations(session, principal, offset=offset, limit=limit)
    return [_org(o) for o in orgs]


@router.get(
    "/{organization_id}",
    dependencies=authenticated("the caller's own organization only (404 otherwise)"),
)
def get_organization(
    organization_id: str, session: SessionDep, principal: CurrentPrincipal
) -> OrganizationPublic:
    return _org(tenancy.visible_organization(session, principal, organization_id))


@router.post(
    "/{organization_id}/members",
    dependencies=needs(Scope.members_write),
    status_code=status.HTTP_201_CREATED,
)
def add_member(
    organization_id: str, body: MemberCreate, session: SessionDep, principal: CurrentPrincipal
) -> MemberPublic:
    view = tenancy.add_member(
        session,
        principal=principal,
        organization_id=organization_id,
        name=body.name,
        resident_id=body.resident_id,
        roles=body.roles,
        username=body.username,
        password=body.password,
    )
    return _member(view)


@router.get(
    "/{organization_id}/members", dependencies=needs(Scope.members_read, Scope.members_write)
)
def list_members(
    organization_id: str, session: SessionDep, principal: CurrentPrincipal
) -> list[MemberPublic]:
    views = tenancy.list_members(session, principal=principal, organization_id=organization_id)
    return [_member(v) for v in views]


@router.post(
    "/{organization_id}/clients",
    dependencies=needs(Scope.clients_write),
    status_code=status.HTTP_201_CREATED,
)
def create_client(
    organization_id: str, body: ApiClientCreate, session: SessionDep, principal: CurrentPrincipal
) -> ApiClientWithKey:
    client, key = tenancy.create_api_client(
        session,
        principal=principal,
        organization_id=organization_id,
        name=body.name,
        scopes=body.scopes,
    )
    return ApiClientWithKey(**_client(client).model_dump(), api_key=key.key)


@router.get(
    "/{organization_id}/clients", dependencies=needs(Scope.clients_read, Scope.clients_write)
)
def list_clients(
    organization_id: str, session: SessionDep, principal: CurrentPrincipal
) -> list[ApiClientPublic]:
    clients = tenancy.list_api_clients(
        session, principal=principal, organization_id=organization_id
    )
    return [_client(c) for c in clients]


@router.post(
    "/{organization_id}/clients/{client_id}/revoke", dependencies=needs(Scope.clients_write)
)
def revoke_client(
    organization_id: str, client_id: str, session: SessionDep, principal: CurrentPrincipal
) -> ApiClientPublic:
    client = tenancy.revoke_api_client(
        session, principal=principal, organization_id=organization_id, client_id=client_id
    )
    return _client(client)
