"""Tables of the administrating agency's features: seal production applications (制章申请)
with their supporting documents and filing, the trusted-applicant policy, and the statistics
counters maintained in the same transaction as the acts they count."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models import new_id, utcnow
from pki.dbtypes import UtcDateTime


class SealApplication(SQLModel, table=True):
    """One application to make, re-issue, change or cancel a seal, and its review."""

    __tablename__ = "seal_application"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    purpose: str = Field(sa_type=sa.String(16), description="new/reissue/change/cancel")
    kind: str = Field(sa_type=sa.String(32))
    name: str | None = Field(default=None, max_length=200)
    inscription: str | None = Field(default=None, max_length=60)
    reason: str = Field(max_length=1000)
    replaces_seal_id: str | None = Field(default=None, foreign_key="seal.id", max_length=32)
    status: str = Field(sa_type=sa.String(20), index=True)
    applicant: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    submitted_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    reviewed_by: str | None = Field(default=None, max_length=120)
    reviewed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    review_note: str | None = Field(default=None, max_length=1000)
    seal_id: str | None = Field(
        default=None, foreign_key="seal.id", unique=True, max_length=32, description="made"
    )


class SealApplicationDocument(SQLModel, table=True):
    """A supporting document (PDF or image); the bytes live in blob storage by SHA-256."""

    __tablename__ = "seal_application_document"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    application_id: str = Field(foreign_key="seal_application.id", index=True, max_length=32)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=40)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class SealFiling(SQLModel, table=True):
    """备案: the public record that a seal was made on an approved application."""

    __tablename__ = "seal_filing"

    seal_id: str = Field(primary_key=True, foreign_key="seal.id", max_length=32)
    application_id: str = Field(foreign_key="seal_application.id", unique=True, max_length=32)
    approved_by: str = Field(max_length=120, description="the approver as the audit names it")
    authority: str = Field(max_length=200, description="the approving body, shown publicly")
    approved_at: datetime = Field(sa_type=UtcDateTime)


class TrustedApplicant(SQLModel, table=True):
    """An organization (an agency) whose standard-set applications skip review."""

    __tablename__ = "trusted_applicant"

    organization_id: str = Field(primary_key=True, foreign_key="organization.id", max_length=32)
    granted_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class StatCounter(SQLModel, table=True):
    """One figure for one region, period and breakdown.

    Every act is counted at each region level (province: 2 digits, city: 4, county: 6) and
    for both its Asia/Shanghai day (YYYY-MM-DD) and month (YYYY-MM), so a report reads only
    the rows of the level and periods it shows, however many acts and counties there are.
    Current state (seals by status, enterprises with an active seal) has the period '*'.
    `dim1`/`dim2` break a metric down (seal kind, document type, status); '' when unused.
    Updated by upserts in the transaction of the act.
    """

    __tablename__ = "stat_counter"
    __table_args__ = (sa.Index("ix_stat_counter_report", "metric", "level", "period", "division"),)

    metric: str = Field(primary_key=True, sa_type=sa.String(40))
    level: str = Field(primary_key=True, sa_type=sa.String(8))
    division: str = Field(primary_key=True, sa_type=sa.String(6))
    period: str = Field(primary_key=True, sa_type=sa.String(10))
    dim1: str = Field(primary_key=True, sa_type=sa.String(64))
    dim2: str = Field(primary_key=True, sa_type=sa.String(64))
    value: int = Field(sa_type=sa.BigInteger)


class Delivery(SQLModel, table=True):
    """电子送达: one sealed document sent to an organization or to a person (by link)."""

    __tablename__ = "delivery"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    document_id: str = Field(foreign_key="storeddocument.id", index=True, max_length=32)
    document_sha256: str = Field(max_length=64)
    title: str = Field(max_length=200)
    recipient_organization_id: str | None = Field(
        default=None, foreign_key="organization.id", index=True, max_length=32
    )
    recipient_name: str = Field(max_length=200)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    status: str = Field(sa_type=sa.String(16), index=True, description="sent/opened/acknowledged")
    sent_by: str = Field(max_length=120)
    sent_at: datetime = Field(sa_type=UtcDateTime, index=True)
    opened_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=200)


class DeliveryReceipt(SQLModel, table=True):
    """One state of a delivery, time-stamped by our TSA: `record` is the canonical JSON the
    RFC 3161 token's message imprint (SHA-256) covers."""

    __tablename__ = "delivery_receipt"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "event"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    delivery_id: str = Field(foreign_key="delivery.id", index=True, max_length=32)
    event: str = Field(max_length=20)
    record: str = Field(sa_type=sa.Text)
    timestamp_reply: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class DeliveryWebhook(SQLModel, table=True):
    """Where the sender hears of each state; the secret encrypted as envelopes' are."""

    __tablename__ = "delivery_webhook"

    delivery_id: str = Field(primary_key=True, foreign_key="delivery.id", max_length=32)
    url: str = Field(max_length=2000)
    secret_nonce: bytes = Field(sa_type=sa.LargeBinary)
    secret_ciphertext: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
