"""Webhook tables: an envelope's callback (URL and encrypted secret), the deliveries queued
for it and a log row per delivery attempt. The queue lives in the database, so a restart
loses nothing: a pending delivery is picked up by whichever process runs the sender next."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models import new_id, utcnow
from pki.dbtypes import UtcDateTime


class EnvelopeWebhook(SQLModel, table=True):
    """Where to report an envelope's outcome; the secret is AES-256-GCM encrypted under a key
    derived from the master key (it must be recovered to sign bodies, so it is not hashed)."""

    __tablename__ = "envelope_webhook"

    envelope_id: str = Field(primary_key=True, foreign_key="envelope.id", max_length=32)
    url: str = Field(max_length=2000)
    secret_nonce: bytes = Field(sa_type=sa.LargeBinary)
    secret_ciphertext: bytes = Field(sa_type=sa.LargeBinary)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event to deliver; `body` is the exact JSON sent (and signed) on every attempt."""

    __tablename__ = "webhook_delivery"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    envelope_id: str | None = Field(
        default=None, foreign_key="envelope.id", index=True, max_length=32
    )
    delivery_id: str | None = Field(
        default=None,
        foreign_key="delivery.id",
        index=True,
        max_length=32,
        description="set instead of envelope_id for an electronic delivery's events",
    )
    event: str = Field(max_length=40)
    url: str = Field(max_length=2000)
    body: str = Field(sa_type=sa.Text)
    status: str = Field(sa_type=sa.String(16), index=True, description="pending/delivered/failed")
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UtcDateTime, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)


class WebhookAttempt(SQLModel, table=True):
    """The delivery log: one row per attempt, with the answer or the error."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "number"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", index=True, max_length=32)
    number: int
    started_at: datetime = Field(sa_type=UtcDateTime)
    duration_ms: int
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    succeeded: bool
