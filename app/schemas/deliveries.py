"""HTTP models of electronic deliveries (电子送达)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DeliveryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_id: str = Field(max_length=32, description="a stored (sealed) document")
    title: str = Field(min_length=1, max_length=200)
    recipient_organization_id: str | None = Field(default=None, max_length=32)
    recipient_name: str | None = Field(
        default=None, max_length=200, description="a person without an account: gets a link"
    )
    expires_days: int = Field(default=14, ge=1, le=90)
    webhook_url: str | None = Field(default=None, max_length=2000)
    webhook_secret: str | None = Field(default=None, max_length=200)


class ReceiptPublic(BaseModel):
    event: str
    record: str = Field(description="the canonical JSON the time-stamp covers (SHA-256)")
    timestamp_url: str = Field(description="the RFC 3161 TimeStampResp (DER)")
    created_at: datetime


class DeliveryPublic(BaseModel):
    id: str
    organization_id: str
    document_id: str
    document_sha256: str
    title: str
    recipient_organization_id: str | None
    recipient_name: str
    status: str
    sent_at: datetime
    opened_at: datetime | None
    acknowledged_at: datetime | None
    expires_at: datetime
    age_seconds: int = Field(description="time since sending")
    receipts: list[ReceiptPublic]


class DeliverySent(DeliveryPublic):
    link: str | None = Field(description="the person's one-time link: shown only now")
