"""SQLModel tables of the seal registry: seals, grants, usage requests (用印审批) and usages.

Portable across SQLite and PostgreSQL. Organization, person and API-client ids are plain
indexed strings (those tables live in `app/`); the certificate binding is a real foreign key
into the authority's table. Enumerations are stored as short strings.

The seal image (PNG, 5-100 KB) is stored in the row, next to its SHA-256: creating a seal is
then one transaction with its certificate, key and audit event, and a failed creation leaves
no orphan file behind; backups and replicas carry images without a second store.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pki.dbtypes import UtcDateTime


def new_id() -> str:
    return uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


class Seal(SQLModel, table=True):
    """One seal: image, owner, lifecycle state, and its own certificate and key."""

    __tablename__ = "seal"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    code: str = Field(max_length=32, unique=True, index=True)
    organization_id: str = Field(max_length=32, index=True)
    person_id: str | None = Field(default=None, max_length=32, index=True)
    """The owner of a personal seal (its certificate is that person's)."""
    kind: str = Field(sa_type=sa.String(32))
    name: str = Field(max_length=200)
    status: str = Field(sa_type=sa.String(16), index=True)
    image_png: bytes = Field(sa_type=sa.LargeBinary)
    image_sha256: str = Field(max_length=64)
    image_source: str = Field(sa_type=sa.String(16), description="'rendered' or 'uploaded'")
    image_dpi: int | None = None
    certificate_id: str = Field(foreign_key="pki_certificate.id", unique=True, max_length=32)
    key_id: str = Field(max_length=64)
    sm2_certificate_id: str | None = Field(
        default=None, foreign_key="pki_certificate.id", unique=True, max_length=32
    )
    """The SM2 (GM/T 0015) certificate beside the main one: the seal signs with either."""
    sm2_key_id: str | None = Field(default=None, max_length=64)
    valid_from: datetime = Field(sa_type=UtcDateTime)
    valid_until: datetime = Field(sa_type=UtcDateTime)
    requires_approval: bool = False
    pin_hash: str | None = Field(default=None, max_length=200)
    pin_failures: int = 0
    pin_locked_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    use_count: int = 0
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    status_changed_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    revocation_reason: str | None = Field(default=None, max_length=200)


class SealGrant(SQLModel, table=True):
    """Permission for one member (person) or API client to use one seal, with limits."""

    __tablename__ = "seal_grant"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    seal_id: str = Field(foreign_key="seal.id", index=True, max_length=32)
    organization_id: str = Field(max_length=32, index=True)
    grantee_kind: str = Field(sa_type=sa.String(16))
    grantee_id: str = Field(max_length=32, index=True)
    document_types: str | None = Field(
        default=None, max_length=1000, description="space-separated; NULL means any"
    )
    not_before: datetime | None = Field(default=None, sa_type=UtcDateTime)
    not_after: datetime | None = Field(default=None, sa_type=UtcDateTime)
    max_uses: int | None = None
    uses: int = 0
    requires_established_type: bool = Field(
        default=False,
        description="the document type must be established by the service (a template or an "
        "envelope), not merely declared by the caller",
    )
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_by: str | None = Field(default=None, max_length=120)

    @property
    def document_type_set(self) -> frozenset[str] | None:
        return frozenset(self.document_types.split()) if self.document_types else None


class SealUsageRequest(SQLModel, table=True):
    """A request to use a seal on exactly one document (用印申请) and its decision."""

    __tablename__ = "seal_usage_request"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    seal_id: str = Field(foreign_key="seal.id", index=True, max_length=32)
    organization_id: str = Field(max_length=32, index=True)
    requester_kind: str = Field(sa_type=sa.String(16))
    requester_id: str = Field(max_length=32, index=True)
    purpose: str = Field(max_length=500)
    document_sha256: str = Field(max_length=64, index=True)
    document_type: str | None = Field(default=None, max_length=64)
    copies: int = 1
    status: str = Field(sa_type=sa.String(16), index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    decided_by: str | None = Field(default=None, max_length=120)
    decided_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    decision_note: str | None = Field(default=None, max_length=500)
    consumed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class SealUsage(SQLModel, table=True):
    """One use of a seal (written when a signer consumes its authorisation)."""

    __tablename__ = "seal_usage"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    seal_id: str = Field(foreign_key="seal.id", index=True, max_length=32)
    organization_id: str = Field(max_length=32, index=True)
    user_kind: str = Field(sa_type=sa.String(16))
    user_id: str = Field(max_length=32)
    document_sha256: str = Field(max_length=64, index=True)
    document_type: str | None = Field(default=None, max_length=64)
    document_type_source: str | None = Field(
        default=None, max_length=16, description="'established' by the service or 'declared'"
    )
    grant_id: str | None = Field(default=None, foreign_key="seal_grant.id", max_length=32)
    approval_id: str | None = Field(
        default=None, foreign_key="seal_usage_request.id", unique=True, max_length=32
    )
    used_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
