"""Tables of the policy scenarios: the electronic business licence issued with a
registration, time-stamped checkpoints of the audit chain's head, custom seal kinds and the
counterparty directory with its envelope invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models import new_id, utcnow
from pki.dbtypes import UtcDateTime


def _ts() -> Column[datetime]:
    return Column(UtcDateTime(), nullable=False)


class EnterpriseLicence(SQLModel, table=True):
    """The electronic business licence an enterprise received at registration: the sealed
    document (kept by the registration authority that sealed it) and the seal used."""

    __tablename__ = "enterprise_licence"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    document_id: str = Field(foreign_key="storeddocument.id", max_length=32)
    authority_organization_id: str = Field(foreign_key="organization.id", max_length=32)
    seal_id: str = Field(max_length=32)
    issued_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AuditCheckpoint(SQLModel, table=True):
    """The audit chain's head at one moment (``seq``, ``head_hash``), time-stamped by our TSA
    over SHA-256 of `app.services.checkpoints.checkpoint_bytes`: a chain that later ends before
    ``seq`` or has another hash there was truncated or rewritten."""

    __tablename__ = "audit_checkpoint"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    seq: int = Field(index=True)
    head_hash: str = Field(max_length=64)
    merkle_root: str = Field(max_length=64)
    timestamp_token: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CustomSealKind(SQLModel, table=True):
    """A business seal kind an organization named itself (人事专用章, 医保结算专用章 …): its
    seals are rendered with this inscription and shown and verified under this name."""

    __tablename__ = "custom_seal_kind"
    __table_args__ = (UniqueConstraint("organization_id", "label"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    label: str = Field(max_length=12)
    label_en: str | None = Field(default=None, max_length=60)
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class SealCustomKind(SQLModel, table=True):
    """Which custom kind a business seal is (one row per such seal)."""

    __tablename__ = "seal_custom_kind"

    seal_id: str = Field(primary_key=True, foreign_key="seal.id", max_length=32)
    custom_kind_id: str = Field(foreign_key="custom_seal_kind.id", index=True, max_length=32)


class DirectoryListing(SQLModel, table=True):
    """An organization seal listed in the counterparty directory: others may find it by the
    organization's credit code or name and invite it into their envelopes."""

    __tablename__ = "directory_listing"

    seal_id: str = Field(primary_key=True, foreign_key="seal.id", max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    listed_by: str = Field(max_length=120)
    listed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class EnvelopeInvitation(SQLModel, table=True):
    """A participant invited from another organization (found by credit code): it accepts
    or declines before its turn."""

    __tablename__ = "envelope_invitation"

    participant_id: str = Field(
        primary_key=True, foreign_key="envelope_participant.id", max_length=32
    )
    envelope_id: str = Field(foreign_key="envelope.id", index=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    status: str = Field(max_length=16, description="'invited', 'accepted' or 'declined'")
    invited_by: str = Field(max_length=120)
    invited_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decided_by: str | None = Field(default=None, max_length=120)
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UtcDateTime(), nullable=True)
    )
