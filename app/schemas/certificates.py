"""Shapes of certificates on the wire."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from pki.keys import KeyAlgorithm


class RevocationReason(StrEnum):
    """RFC 5280 reason codes a holder may state (removeFromCRL belongs to delta CRLs)."""

    unspecified = "unspecified"
    key_compromise = "keyCompromise"
    affiliation_changed = "affiliationChanged"
    superseded = "superseded"
    cessation_of_operation = "cessationOfOperation"
    certificate_hold = "certificateHold"
    privilege_withdrawn = "privilegeWithdrawn"


class CertificateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csr_pem: str | None = Field(
        default=None,
        max_length=20000,
        description="PKCS#10 request (the holder keeps the key); omit for a service-held key. "
        "Its subject is ignored: the verified identity is used.",
    )
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    lifetime_days: int | None = Field(default=None, ge=1, le=3650)


class CertificateRenew(BaseModel):
    model_config = ConfigDict(extra="forbid")

    csr_pem: str | None = Field(default=None, max_length=20000)


class CertificateRevoke(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RevocationReason = RevocationReason.unspecified


class CertificatePublic(BaseModel):
    id: str
    serial_number: str = Field(description="hexadecimal")
    subject: str
    issuer: str
    profile: str
    not_before: datetime
    not_after: datetime
    status: str
    revoked_at: datetime | None
    revocation_reason: str | None
    key: str = Field(description="'service-held' or 'holder' (issued from a CSR)")
    organization_id: str | None
    person_id: str | None
    replaced_by: str | None
    fingerprint_sha256: str
    pem: str
