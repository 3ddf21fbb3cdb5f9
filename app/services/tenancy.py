"""Organizations, people, memberships, console accounts and API clients.

Every change is audited in the caller's transaction; another organization's rows are
indistinguishable from missing ones (404), never readable.

Identity model (decided for issue 10, after a cross-tenant takeover): people are global
records -- one per resident ID number, because a certificate names the person, not a tenant
-- but each record *belongs* to the organization that created it (``Person.home_organization_id``).

- Only the home organization may give a person console credentials, and only while the
  person has no login yet and belongs to no other organization. A login can therefore never be
  attached to somebody another organization manages.
- Adding a person who already exists and belongs elsewhere is an *invitation*: the membership
  rows are written unconfirmed (``Membership.confirmed_at`` None) and give no roles, no
  organization in the console picker, no grants and no certificates until the person, signed
  in with their own login, accepts it in the console (``app.services.invitations``).
- Memberships in the person's home organization are confirmed at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    ApiClient,
    Membership,
    Organization,
    OrganizationKind,
    Person,
    Role,
    UserAccount,
)
from app.security import NewApiKey, Principal, Scope, hash_password, new_api_key
from app.services import audit
from pki.identifiers import mask_resident_id, validate_resident_id, validate_uscc


def visible_organization(
    session: Session, principal: Principal, organization_id: str
) -> Organization:
    """The organization if the caller may see it; otherwise NotFound (never Forbidden)."""
    org = session.get(Organization, organization_id)
    if org is None or not principal.may_act_for(organization_id):
        raise NotFound(f"organization {organization_id} not found")
    return org


def require(principal: Principal, scope: Scope) -> None:
    if not principal.has(scope):
        raise Forbidden(f"this action needs the scope '{scope.value}'")


def require_any(principal: Principal, *scopes: Scope) -> None:
    if not any(principal.has(scope) for scope in scopes):
        names = "' or '".join(s.value for s in scopes)
        raise Forbidden(f"this action needs the scope '{names}'")


def flush_or_conflict(session: Session, what: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


def create_organization(
    session: Session,
    *,
    principal: Principal,
    name: str,
    kind: OrganizationKind,
    uscc: str,
    legal_representative: str | None,
) -> Organization:
    require(principal, Scope.platform)
    code = validate_uscc(uscc)
    if session.exec(select(Organization.id).where(Organization.uscc == code)).first():
        raise Conflict(f"an organization with unified social credit code {code} already exists")
    org = Organization(
        name=name.strip(), kind=kind, uscc=code, legal_representative=legal_representative
    )
    session.add(org)
    flush_or_conflict(session, f"an organization with unified social credit code {code}")
    audit.record(
        session,
        actor=principal.actor,
        action="organization.create",
        target_type="organization",
        target_id=org.id,
        organization_id=org.id,
        details={"name": org.name, "kind": kind.value, "uscc": code},
    )
    return org


def list_organizations(
    session: Session, principal: Principal, *, offset: int, limit: int
) -> list[Organization]:
    query = select(Organization).order_by(col(Organization.created_at), col(Organization.id))
    if not principal.is_platform:
        query = query.where(Organization.id == principal.organization_id)
    return list(session.exec(query.offset(offset).limit(limit)).all())


@dataclass(frozen=True)
class MemberView:
    person: Person
    roles: list[Role]
    username: str | None
    confirmed: bool = True


def add_member(
    session: Session,
    *,
    principal: Principal,
    organization_id: str,
    name: str,
    resident_id: str | None,
    roles: list[Role],
    username: str | None,
    password: str | None,
) -> MemberView:
    """Add a person (new, or the same resident ID again) to an organization with roles.

    A person created elsewhere is only invited (see the module's identity model)."""
    org = visible_organization(session, principal, organization_id)
    require(principal, Scope.members_write)
    if not roles:
        raise InvalidInput("a member needs at least one role")
    if (username is None) != (password is None):
        raise InvalidInput("username and password come together")
    person = None
    if resident_id is not None:
        resident_id = validate_resident_id(resident_id)
        person = session.exec(select(Person).where(Person.resident_id == resident_id)).first()
        if person is not None and person.name != name:
            raise Conflict("this resident ID number is registered under another name")
    if person is None:
        person = Person(name=name.strip(), resident_id=resident_id, home_organization_id=org.id)
        session.add(person)
        flush_or_conflict(session, "a person with this resident ID number")
    if username is not None:
        _may_set_credentials(session, person, org.id)
    confirmed = person.home_organization_id == org.id or _is_confirmed_member(
        session, person.id, org.id
    )
    existing = {
        Role(role)
        for role in session.exec(
            select(Membership.role).where(
                Membership.organization_id == org.id, Membership.person_id == person.id
            )
        ).all()
    }
    now = datetime.now(UTC)
    for role in sorted(set(roles) - existing):
        session.add(
            Membership(
                organization_id=org.id,
                person_id=person.id,
                role=role,
                confirmed_at=now if confirmed else None,
            )
        )
    account = None
    if username is not None and password is not None:
        account = create_account(session, person=person, username=username, password=password)
    flush_or_conflict(session, "this membership")
    audit.record(
        session,
        actor=principal.actor,
        action="member.add" if confirmed else "member.invite",
        target_type="person",
        target_id=person.id,
        organization_id=org.id,
        details={
            "name": person.name,
            "resident_id": mask_resident_id(resident_id) if resident_id else None,
            "roles": sorted(r.value for r in roles),
            "username": username,
        },
    )
    return MemberView(
        person=person,
        roles=sorted(existing | set(roles)),
        username=account.username if account else None,
        confirmed=confirmed,
    )


def _may_set_credentials(session: Session, person: Person, organization_id: str) -> None:
    """Refuse credentials for anybody this organization does not solely manage."""
    if person.home_organization_id != organization_id:
        raise Forbidden(
            "console credentials can only be set for a person this organization created; "
            "invite an existing person instead (they accept with their own login)"
        )
    # Pending invitations do not count: only the person's own login could accept them.
    elsewhere = session.exec(
        select(Membership.id).where(
            Membership.person_id == person.id,
            Membership.organization_id != organization_id,
            col(Membership.confirmed_at).is_not(None),
        )
    ).first()
    if (
        elsewhere is not None
        or session.exec(select(UserAccount.id).where(UserAccount.person_id == person.id)).first()
    ):
        raise Forbidden(
            "this person already has a login or belongs to another organization; "
            "credentials cannot be set for them"
        )


def _is_confirmed_member(session: Session, person_id: str, organization_id: str) -> bool:
    return (
        session.exec(
            select(Membership.id).where(
                Membership.organization_id == organization_id,
                Membership.person_id == person_id,
                col(Membership.confirmed_at).is_not(None),
            )
        ).first()
        is not None
    )


def confirmed_member(session: Session, organization_id: str, person_id: str) -> Person | None:
    """The person if they are a confirmed member of the organization (invitations count not)."""
    person = session.get(Person, person_id)
    if person is None or not _is_confirmed_member(session, person_id, organization_id):
        return None
    return person


def list_members(
    session: Session, *, principal: Principal, organization_id: str
) -> list[MemberView]:
    org = visible_organization(session, principal, organization_id)
    require_any(principal, Scope.members_read, Scope.members_write)
    rows = session.exec(
        select(Person, Membership.role, Membership.confirmed_at)
        .join(Membership, col(Membership.person_id) == col(Person.id))
        .where(Membership.organization_id == org.id)
        .order_by(col(Person.created_at), col(Person.id))
    ).all()
    by_person: dict[str, MemberView] = {}
    for person, role, confirmed_at in rows:
        view = by_person.setdefault(
            person.id,
            MemberView(person=person, roles=[], username=None, confirmed=confirmed_at is not None),
        )
        view.roles.append(Role(role))
    # Only the home organization sees the login name of its own people.
    usernames = dict(
        session.exec(
            select(UserAccount.person_id, UserAccount.username)
            .join(Person, col(Person.id) == col(UserAccount.person_id))
            .where(
                col(UserAccount.person_id).in_(list(by_person)),
                Person.home_organization_id == org.id,
            )
        ).all()
    )
    return [
        MemberView(
            person=v.person,
            roles=sorted(v.roles),
            username=usernames.get(v.person.id),
            confirmed=v.confirmed,
        )
        for v in by_person.values()
    ]


def create_account(
    session: Session, *, person: Person, username: str, password: str, platform_admin: bool = False
) -> UserAccount:
    if len(password) < 12:
        raise InvalidInput("a console password needs at least 12 characters")
    if session.exec(select(UserAccount.id).where(UserAccount.username == username)).first():
        raise Conflict(f"the username {username!r} is taken")
    account = UserAccount(
        person_id=person.id,
        username=username,
        password_hash=hash_password(password),
        is_platform_admin=platform_admin,
    )
    session.add(account)
    flush_or_conflict(session, f"the username {username!r}")
    return account


def create_api_client(
    session: Session,
    *,
    principal: Principal | None,
    organization_id: str | None,
    name: str,
    scopes: list[str],
    created_by: str | None = None,
) -> tuple[ApiClient, NewApiKey]:
    """A new client and its key (returned once). ``principal`` None means the operator CLI."""
    wanted = set(scopes)
    unknown = wanted - {s.value for s in Scope}
    if unknown:
        raise InvalidInput(f"unknown scopes: {', '.join(sorted(unknown))}")
    if not wanted:
        raise InvalidInput("an API client needs at least one scope")
    if organization_id is None:
        if principal is not None and not principal.is_platform:
            raise Forbidden("only the platform may create platform clients")
        if wanted != {Scope.platform.value}:
            raise InvalidInput("a platform client carries exactly the scope 'platform'")
    else:
        if principal is not None:
            visible_organization(session, principal, organization_id)
            require(principal, Scope.clients_write)
        elif session.get(Organization, organization_id) is None:
            raise NotFound(f"organization {organization_id} not found")
        if Scope.platform.value in wanted:
            raise InvalidInput("an organization's client cannot carry the scope 'platform'")
        if Scope.enterprises_register.value in wanted and (
            principal is not None and not principal.is_platform
        ):
            raise Forbidden("only the platform grants the scope 'enterprises:register'")
    if session.exec(
        select(ApiClient.id).where(
            ApiClient.organization_id == organization_id, ApiClient.name == name
        )
    ).first():
        raise Conflict(f"an API client named {name!r} already exists")
    key = new_api_key()
    actor = principal.actor if principal else (created_by or "operator:cli")
    client = ApiClient(
        organization_id=organization_id,
        name=name,
        key_prefix=key.prefix,
        key_hash=key.key_hash,
        scopes=" ".join(sorted(wanted)),
        created_by=actor,
    )
    session.add(client)
    flush_or_conflict(session, f"an API client named {name!r}")
    audit.record(
        session,
        actor=actor,
        action="client.create",
        target_type="api_client",
        target_id=client.id,
        organization_id=organization_id,
        details={"name": name, "scopes": sorted(wanted)},
    )
    return client, key


def list_api_clients(
    session: Session, *, principal: Principal, organization_id: str
) -> list[ApiClient]:
    visible_organization(session, principal, organization_id)
    require_any(principal, Scope.clients_read, Scope.clients_write)
    return list(
        session.exec(
            select(ApiClient)
            .where(ApiClient.organization_id == organization_id)
            .order_by(col(ApiClient.created_at), col(ApiClient.id))
        ).all()
    )


def revoke_api_client(
    session: Session, *, principal: Principal, organization_id: str, client_id: str
) -> ApiClient:
    visible_organization(session, principal, organization_id)
    require(principal, Scope.clients_write)
    client = session.get(ApiClient, client_id)
    if client is None or client.organization_id != organization_id:
        raise NotFound(f"API client {client_id} not found")
    if client.revoked_at is not None:
        raise Conflict("this API client is already revoked")
    client.revoked_at = datetime.now(UTC)
    session.add(client)
    audit.record(
        session,
        actor=principal.actor,
        action="client.revoke",
        target_type="api_client",
        target_id=client.id,
        organization_id=organization_id,
        details={"name": client.name},
    )
    return client
