"""SQLModel tables of the certificate authority (keys, certificates, CAs, CRL state).

Portable across SQLite and PostgreSQL. Owner ids are plain indexed strings: the organization
and person tables live in `app/` and are not part of this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from pki.dbtypes import UtcDateTime


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class CertificateStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"


class KeyRecord(SQLModel, table=True):
    """A private key under envelope encryption (AES-256-GCM data key wrapped by the master key)."""

    __tablename__ = "pki_key"

    id: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=32)
    label: str = Field(default="", max_length=200)
    wrapped_key: bytes
    wrap_nonce: bytes
    nonce: bytes
    ciphertext: bytes
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class CertificateRecord(SQLModel, table=True):
    """Every certificate the authority issued (CA, TSA, OCSP and end-entity)."""

    __tablename__ = "pki_certificate"
    __table_args__ = (sa.UniqueConstraint("issuer_ca", "serial", name="uq_pki_certificate_serial"),)

    id: str = Field(default_factory=lambda: uuid4().hex, primary_key=True, max_length=32)
    serial: str = Field(max_length=64, index=True)
    issuer_ca: str = Field(max_length=64, index=True)
    profile: str = Field(max_length=64)
    subject: str = Field(max_length=1024)
    der: bytes
    fingerprint_sha256: str = Field(max_length=64, unique=True)
    not_before: datetime = Field(sa_type=UtcDateTime)
    not_after: datetime = Field(sa_type=UtcDateTime)
    key_id: str | None = Field(default=None, max_length=64)
    owner_org_id: str | None = Field(default=None, max_length=64, index=True)
    owner_person_id: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(default=CertificateStatus.VALID.value, max_length=16)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revocation_reason: str | None = Field(default=None, max_length=32)
    replaced_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class CaRecord(SQLModel, table=True):
    """A named CA or service identity: 'root', 'organization', 'personal', 'tsa', 'ocsp-*'."""

    __tablename__ = "pki_ca"

    name: str = Field(primary_key=True, max_length=64)
    certificate_id: str = Field(max_length=32)
    key_id: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class CrlState(SQLModel, table=True):
    """The CRL series of one issuing CA: last CRL number and the current CRL."""

    __tablename__ = "pki_crl_state"

    ca_name: str = Field(primary_key=True, max_length=64)
    crl_number: int = Field(default=0, sa_type=sa.BigInteger)
    crl_der: bytes | None = None
    this_update: datetime | None = Field(default=None, sa_type=UtcDateTime)
    next_update: datetime | None = Field(default=None, sa_type=UtcDateTime)


class TrustAnchorRecord(SQLModel, table=True):
    """A recognised foreign CA (mutual recognition between provinces): trusted for verification."""

    __tablename__ = "pki_trust_anchor"

    id: str = Field(default_factory=lambda: uuid4().hex, primary_key=True, max_length=32)
    label: str = Field(max_length=200)
    subject: str = Field(max_length=1024)
    fingerprint_sha256: str = Field(max_length=64, unique=True)
    der: bytes
    not_after: datetime = Field(sa_type=UtcDateTime)
    added_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class TokenKeyRecord(SQLModel, table=True):
    """A private key that lives in a PKCS#11 token: only where to find it and its public half.

    The token holds the key (non-extractable, sensitive); this row records the token label and
    the object's CKA_ID so any instance can find it, and the public key so lookups need no token.
    """

    __tablename__ = "pki_token_key"

    id: str = Field(primary_key=True, max_length=64)
    algorithm: str = Field(max_length=32)
    label: str = Field(default="", max_length=200)
    token_label: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    public_key_info: bytes
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
