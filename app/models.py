"""Service tables: tenancy (organizations, people, memberships), access (API clients,
console accounts and sessions) and the hash-chained audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from pki.dbtypes import UtcDateTime


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class OrganizationKind(StrEnum):
    enterprise = "enterprise"
    agency = "agency"


class Role(StrEnum):
    org_admin = "org_admin"
    seal_keeper = "seal_keeper"
    signer = "signer"
    approver = "approver"
    auditor = "auditor"


class Organization(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    kind: OrganizationKind = Field(sa_type=String(20))
    uscc: str = Field(max_length=18, unique=True, index=True)
    legal_representative: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Person(SQLModel, table=True):
    """A natural person. The record (and its console login) belongs to the organization that
    created it (``home_organization_id``; None for the platform's own people): only that
    organization may give it credentials, and only while the person belongs to no other."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    resident_id: str | None = Field(default=None, max_length=18, unique=True)
    home_organization_id: str | None = Field(
        default=None, foreign_key="organization.id", index=True, max_length=32
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("organization_id", "person_id", "role"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", index=True, max_length=32)
    role: Role = Field(sa_type=String(20))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    confirmed_at: datetime | None = Field(
        default=None,
        sa_column=_ts(nullable=True),
        description="None while an invitation from another organization awaits the person's "
        "acceptance; such a membership gives no access",
    )


class UserAccount(SQLModel, table=True):
    """A console login for a person (or the platform administrator)."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    person_id: str = Field(foreign_key="person.id", unique=True, max_length=32)
    username: str = Field(max_length=100, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    is_platform_admin: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class ConsoleSession(SQLModel, table=True):
    """A server-side console session; the cookie carries a token whose hash is the key."""

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="useraccount.id", index=True, max_length=32)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    expires_at: datetime = Field(sa_column=_ts())


class ApiClient(SQLModel, table=True):
    """A government portal or script; its key is shown once and stored only as a hash."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str | None = Field(
        default=None, foreign_key="organization.id", index=True, max_length=32
    )
    name: str = Field(max_length=100)
    key_prefix: str = Field(max_length=16, unique=True, index=True)
    key_hash: str = Field(max_length=64)
    scopes: str = Field(max_length=1000, description="space-separated scopes")
    created_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    revoked_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())


class AuditEvent(SQLModel, table=True):
    """One link of the append-only audit chain."""

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    occurred_at: datetime = Field(sa_column=_ts(index=True))
    actor: str = Field(max_length=120, index=True)
    organization_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=80, index=True)
    target_type: str = Field(max_length=40)
    target_id: str = Field(max_length=80, index=True)
    details: str = Field(description="canonical JSON")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class StoredDocument(SQLModel, table=True):
    """A sealed (or uploaded) PDF kept for its organization; the bytes live in blob storage."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    sha256: str = Field(max_length=64, index=True)
    size: int
    filename: str = Field(max_length=255)
    source_sha256: str | None = Field(default=None, max_length=64)
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class IdempotencyRecord(SQLModel, table=True):
    """The first result of a request sent with an Idempotency-Key; retries get it again."""

    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    principal: str = Field(max_length=120)
    key: str = Field(max_length=200)
    request_sha256: str = Field(max_length=64)
    document_id: str | None = Field(
        default=None,
        foreign_key="storeddocument.id",
        max_length=32,
        description="set when the first request completes (in the same transaction)",
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
