"""SQLModel tables of envelopes: one document signed by several parties in turn (or in any
order), every revision kept.

Organization ids, stored-document ids and API-client ids are plain indexed strings (those
tables live in `app/`); seals are a real foreign key. Enumerations are short strings. A
participant's placement is the JSON the caller sent, validated at the edge and kept verbatim.
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


class Envelope(SQLModel, table=True):
    """A signing flow over one document; the row every step locks."""

    __tablename__ = "envelope"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(max_length=32, index=True, description="the creator's")
    title: str = Field(max_length=200)
    filename: str = Field(max_length=255)
    routing: str = Field(sa_type=sa.String(16), description="'sequential' or 'parallel'")
    status: str = Field(sa_type=sa.String(16), index=True)
    current_revision: int = 0
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    finished_by: str | None = Field(default=None, max_length=120)
    reason: str | None = Field(
        default=None, max_length=500, description="why it was declined or cancelled"
    )


class EnvelopeParticipant(SQLModel, table=True):
    """One seal to apply: whose, with which seal, where and at which level."""

    __tablename__ = "envelope_participant"
    __table_args__ = (sa.UniqueConstraint("envelope_id", "position"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    envelope_id: str = Field(foreign_key="envelope.id", index=True, max_length=32)
    position: int = Field(description="1-based order of signing (sequential routing)")
    organization_id: str = Field(max_length=32, index=True)
    seal_id: str = Field(foreign_key="seal.id", max_length=32)
    label: str | None = Field(default=None, max_length=100, description="e.g. 乙方")
    placement: str = Field(max_length=2000, description="placement JSON as sent")
    level: str = Field(sa_type=sa.String(8))
    document_type: str | None = Field(default=None, max_length=64)
    status: str = Field(sa_type=sa.String(16), description="'waiting', 'signed', 'declined'")
    acted_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acted_by: str | None = Field(default=None, max_length=120)
    revision: int | None = Field(default=None, description="the revision its signature made")
    decline_reason: str | None = Field(default=None, max_length=500)


class EnvelopeRevision(SQLModel, table=True):
    """Revision 0 is the uploaded document; revision n the document after the n-th seal."""

    __tablename__ = "envelope_revision"
    __table_args__ = (sa.UniqueConstraint("envelope_id", "number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    envelope_id: str = Field(foreign_key="envelope.id", index=True, max_length=32)
    number: int
    document_id: str = Field(max_length=32, index=True)
    sha256: str = Field(max_length=64)
    size: int
    participant_id: str | None = Field(
        default=None, foreign_key="envelope_participant.id", max_length=32
    )
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
