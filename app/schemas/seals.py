"""Shapes of seals, grants, usage requests and enterprise registration on the wire."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.applications import FilingPublic
from app.schemas.licences import LicenceIn, LicencePublic, LicenceReference
from pki.keys import KeyAlgorithm
from seals.authorization import CallerKind
from seals.kinds import SealKind, SealShape


class KindPublic(BaseModel):
    kind: SealKind
    shape: SealShape
    width_mm: float
    height_mm: float
    holder: str
    label_zh: str
    label_en: str
    inscription: str | None
    has_star: bool
    shows_seal_code: bool
    accepts_uploaded_image: bool
    certificate: str = Field(description="'enterprise' or 'personal'")


class SealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SealKind
    name: str | None = Field(default=None, max_length=200, description="default: owner + kind")
    person_id: str | None = Field(
        default=None, max_length=32, description="personal seals: the member who owns it"
    )
    person_name: str | None = Field(
        default=None,
        max_length=20,
        description="legal-representative seals: the name shown (default: the organization's "
        "legal representative)",
    )
    inscription: str | None = Field(default=None, max_length=20)
    requires_approval: bool = False
    print_code: bool = Field(default=True, description="draw the seal code on the bottom arc")
    lifetime_days: int | None = Field(default=None, ge=1, le=3650)
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    dpi: int = Field(default=600, ge=150, le=1200)


class SealPreview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SealKind
    person_name: str | None = Field(default=None, max_length=20)
    inscription: str | None = Field(default=None, max_length=20)
    print_code: bool = True
    dpi: int = Field(default=300, ge=72, le=1200)


class SealUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requires_approval: bool


class SealTransition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=200)


class PinSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pin: str = Field(min_length=1, max_length=32)
    current_pin: str | None = Field(default=None, max_length=32)


class SealPublic(BaseModel):
    id: str
    code: str
    organization_id: str
    person_id: str | None
    kind: SealKind
    name: str
    status: str
    valid_from: datetime
    valid_until: datetime
    requires_approval: bool
    certificate_id: str
    sm2_certificate_id: str | None = Field(
        default=None,
        description="the SM2 (GM/T 0015) certificate beside the main one; the seal signs with "
        "either (null: main certificate only)",
    )
    image_sha256: str
    image_url: str
    pin_set: bool
    pin_locked_until: datetime | None
    use_count: int
    created_at: datetime
    status_changed_at: datetime
    revocation_reason: str | None


class SealRegistryPublic(BaseModel):
    """Which registry holds a seal code: its region (from a structured code) and where."""

    region: str | None = Field(description="6-digit division code; None for a legacy code")
    region_name: str | None = Field(description="province-level name of the region")
    url: str = Field(description="the registry that answered (this service)")
    structured_code: bool


class SealStatusPublic(BaseModel):
    """What anyone may learn about a seal from its code (no personal data, no secrets)."""

    code: str
    kind: SealKind
    kind_label: str
    owner: str = Field(description="organization name; a personal seal's owner is masked")
    organization: str
    status: str
    valid_from: datetime
    valid_until: datetime
    status_changed_at: datetime
    certificate_serial: str
    certificate_fingerprint_sha256: str
    licence: LicenceReference | None = Field(
        default=None, description="the owner's electronic business licence, when issued here"
    )
    registry: SealRegistryPublic | None = None
    filing: FilingPublic | None = Field(
        default=None, description="备案: the approval of the application it was made on"
    )
    eseal_url: str | None = Field(
        default=None,
        description="its GB/T 38540 seal data (DER SESeal, .esl) when it has an SM2 certificate",
    )


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grantee_kind: CallerKind
    grantee_id: str = Field(max_length=32)
    document_types: list[str] | None = Field(default=None, max_length=50)
    not_before: datetime | None = None
    not_after: datetime | None = None
    max_uses: int | None = Field(default=None, ge=1)
    requires_established_type: bool = Field(
        default=False,
        description="accept only document types the service established (templates, "
        "envelopes), not a caller's own document_type",
    )


class GrantPublic(BaseModel):
    id: str
    seal_id: str
    grantee_kind: CallerKind
    grantee_id: str
    document_types: list[str] | None
    not_before: datetime | None
    not_after: datetime | None
    max_uses: int | None
    uses: int
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    requires_established_type: bool = False


class UsageRequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=1, max_length=500)
    document_sha256: str = Field(min_length=64, max_length=64)
    document_type: str | None = Field(default=None, max_length=64)
    copies: int = Field(default=1, ge=1, le=100)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)


class UsageRequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    consumed = "consumed"


class UsageRequestPublic(BaseModel):
    id: str
    seal_id: str
    requester_kind: CallerKind
    requester_id: str
    purpose: str
    document_sha256: str
    document_type: str | None
    copies: int
    status: UsageRequestStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    consumed_at: datetime | None


class UseCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_sha256: str = Field(min_length=64, max_length=64)
    document_type: str | None = Field(default=None, max_length=64)
    pin: str | None = Field(default=None, max_length=32)


class UseCheckPublic(BaseModel):
    """The seal may be used on this document by this caller now (nothing was spent)."""

    allowed: bool = True
    seal_id: str
    seal_code: str
    certificate_id: str
    grant_id: str | None
    approval_id: str | None
    checks: list[str]


class EnterpriseRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    uscc: str = Field(min_length=18, max_length=18)
    legal_representative: str = Field(min_length=1, max_length=20)
    lifetime_days: int | None = Field(default=None, ge=1, le=1826)
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    licence: LicenceIn | None = Field(
        default=None,
        description="issue the electronic business licence in the same transaction",
    )


class RegisteredSeal(BaseModel):
    id: str
    code: str
    kind: SealKind
    name: str
    status: str
    certificate_id: str
    certificate_serial: str
    sm2_certificate_id: str | None = Field(
        default=None, description="the SM2 certificate issued beside the main one"
    )
    valid_until: datetime


class EnterpriseRegistered(BaseModel):
    organization_id: str
    name: str
    uscc: str
    legal_representative: str
    seals: list[RegisteredSeal]
    licence: LicencePublic | None = None
