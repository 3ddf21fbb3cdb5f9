"""Who is calling: API clients (bearer keys), console accounts (argon2 passwords, server-side
sessions, CSRF tokens), roles and scopes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from app.errors import NotAuthenticated
from app.models import ApiClient, ConsoleSession, Membership, Role, UserAccount

KEY_PREFIX = "esk"
_hasher = PasswordHasher()


class Scope(StrEnum):
    """What an API client may do inside its organization ('platform' reaches every one)."""

    platform = "platform"
    org_admin = "org:admin"
    members_write = "members:write"
    clients_write = "clients:write"
    certificates_read = "certificates:read"
    certificates_write = "certificates:write"
    seals_read = "seals:read"
    seals_write = "seals:write"
    seals_use = "seals:use"
    approvals_write = "approvals:write"
    audit_read = "audit:read"
    enterprises_register = "enterprises:register"
    envelopes_read = "envelopes:read"
    envelopes_write = "envelopes:write"
    members_read = "members:read"
    clients_read = "clients:read"
    documents_read = "documents:read"


PLATFORM_GRANTED: frozenset[Scope] = frozenset({Scope.platform, Scope.enterprises_register})
"""Scopes that reach beyond one organization: only the platform grants them, and org:admin
does not imply them (an agency's portal registers enterprises; an org admin does not)."""


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.org_admin: frozenset(Scope) - PLATFORM_GRANTED,
    Role.seal_keeper: frozenset(
        {
            Scope.seals_read,
            Scope.seals_write,
            Scope.certificates_read,
            Scope.audit_read,
            Scope.members_read,  # personal seals are made for members
        }
    ),
    Role.signer: frozenset({Scope.seals_read, Scope.seals_use, Scope.certificates_read}),
    Role.approver: frozenset({Scope.seals_read, Scope.approvals_write}),
    Role.auditor: frozenset(
        {Scope.audit_read, Scope.seals_read, Scope.certificates_read, Scope.members_read}
    ),
}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    kind: str  # "client" or "user"
    id: str
    name: str
    organization_id: str | None
    scopes: frozenset[str]

    @property
    def is_platform(self) -> bool:
        return Scope.platform in self.scopes

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.kind}:{self.id}"

    def has(self, scope: Scope) -> bool:
        if self.is_platform or scope in self.scopes:
            return True
        return scope not in PLATFORM_GRANTED and Scope.org_admin in self.scopes

    def may_act_for(self, organization_id: str) -> bool:
        return self.is_platform or self.organization_id == organization_id


# --- API keys -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiKey:
    prefix: str
    key: str
    key_hash: str


def hash_api_key(key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough (no password stretching).
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> NewApiKey:
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(prefix=prefix, key=key, key_hash=hash_api_key(key))


def authenticate_api_key(session: Session, key: str) -> Principal:
    return authenticate_on(session.connection(), key)


def authenticate_on(connection: sa.Connection, key: str) -> Principal:
    """`authenticate_api_key` on a Core connection: one statement, so a caller that has no
    other reading to do needs no ORM session around it."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise NotAuthenticated("the API key is malformed")
    client = connection.execute(_KEY_LOOKUP, {"prefix": parts[1]}).first()
    if client is None or not hmac.compare_digest(client.key_hash, hash_api_key(key)):
        raise NotAuthenticated("the API key is not valid")
    if client.revoked_at is not None:
        raise NotAuthenticated("the API key has been revoked")
    return client_principal(client)


class _ClientFacts(Protocol):
    """What a principal is made of: an `ApiClient`, or the row `_KEY_LOOKUP` reads."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def organization_id(self) -> str | None: ...
    @property
    def scopes(self) -> str: ...


def client_principal(client: _ClientFacts) -> Principal:
    """The principal an API client acts as: its organization and its scopes."""
    return Principal(
        kind="client",
        id=client.id,
        name=client.name,
        organization_id=client.organization_id,
        scopes=frozenset(client.scopes.split()),
    )


_CLIENTS = ApiClient.__table__  # type: ignore[attr-defined]
_KEY_LOOKUP = sa.select(
    _CLIENTS.c.id,
    _CLIENTS.c.organization_id,
    _CLIENTS.c.name,
    _CLIENTS.c.key_hash,
    _CLIENTS.c.scopes,
    _CLIENTS.c.revoked_at,
).where(_CLIENTS.c.key_prefix == sa.bindparam("prefix"))
"""Every request's API key, read fresh (a revoked key fails at once): one Core statement,
built once, no ORM object."""


# --- console accounts ----------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class NewConsoleSession:
    token: str
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, *, user: UserAccount, hours: int) -> NewConsoleSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=hours)
    session.add(
        ConsoleSession(
            token_hash=_token_hash(token), user_id=user.id, csrf_token=csrf, expires_at=expires
        )
    )
    return NewConsoleSession(token=token, csrf_token=csrf, expires_at=expires)


def load_session(session: Session, token: str) -> tuple[ConsoleSession, UserAccount] | None:
    console = session.get(ConsoleSession, _token_hash(token))
    if console is None or console.expires_at <= datetime.now(UTC):
        return None
    user = session.get(UserAccount, console.user_id)
    return (console, user) if user else None


def close_session(session: Session, token: str) -> None:
    console = session.get(ConsoleSession, _token_hash(token))
    if console is not None:
        session.delete(console)


def user_principal(session: Session, user: UserAccount, organization_id: str | None) -> Principal:
    """A console user's principal within one of their organizations."""
    scopes: set[str] = set()
    if user.is_platform_admin:
        scopes.add(Scope.platform)
    if organization_id is not None:
        roles = session.exec(
            select(Membership.role).where(
                Membership.person_id == user.person_id,
                Membership.organization_id == organization_id,
                Membership.confirmed_at.is_not(None),  # type: ignore[union-attr]
            )
        ).all()
        for role in roles:
            scopes |= ROLE_SCOPES[Role(role)]
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        organization_id=organization_id,
        scopes=frozenset(scopes),
    )
