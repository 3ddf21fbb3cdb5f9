"""Shapes of envelopes on the wire: the create request (a JSON form field next to the PDF),
signing and declining, and the envelope, its participants, revisions, timeline and webhook
deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from app.schemas.signing import PlacementIn
from seals.envelopes import EnvelopeStatus, ParticipantStatus, Routing
from seals.signing import PadesLevel


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParticipantIn(_Strict):
    """One seal to apply: an organization (possibly not the creator's) and one of its seals
    (organization seal or personal signature), where and at which level."""

    organization_id: str = Field(min_length=1, max_length=32)
    seal_id: str = Field(min_length=1, max_length=32)
    placement: PlacementIn
    level: PadesLevel = PadesLevel.B_LT
    document_type: str | None = Field(default=None, max_length=64)
    label: str | None = Field(default=None, max_length=100, description="e.g. 乙方")


class WebhookIn(_Strict):
    url: str = Field(min_length=8, max_length=2000)
    secret: str = Field(
        min_length=16, max_length=200, description="HMAC-SHA256 key of X-Eseal-Signature"
    )


class EnvelopeCreate(_Strict):
    title: str = Field(min_length=1, max_length=200)
    routing: Routing = Routing.SEQUENTIAL
    participants: list[ParticipantIn] = Field(min_length=1, max_length=50)
    expires_at: AwareDatetime | None = None
    webhook: WebhookIn | None = None
    send: bool = Field(default=True, description="false: keep it a draft until /send")


ENVELOPE_CREATE = TypeAdapter(EnvelopeCreate)


class SignIn(_Strict):
    pin: str | None = Field(default=None, max_length=64, description="personal seals")
    reason: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    expected_revision: int | None = Field(
        default=None,
        ge=0,
        description="refuse (409) unless this is still the current revision: the one the "
        "signer reviewed and had approved",
    )


class DeclineIn(_Strict):
    reason: str = Field(min_length=1, max_length=500)


class CancelIn(_Strict):
    reason: str | None = Field(default=None, max_length=500)


class ParticipantPublic(BaseModel):
    id: str
    position: int
    label: str | None
    organization_id: str
    seal_id: str
    placement: dict[str, Any]
    level: str
    document_type: str | None
    status: ParticipantStatus
    may_sign_now: bool
    acted_at: datetime | None
    revision: int | None
    decline_reason: str | None


class RevisionPublic(BaseModel):
    number: int
    sha256: str
    size: int
    participant_id: str | None
    created_at: datetime
    download_url: str


class EnvelopePublic(BaseModel):
    id: str
    organization_id: str
    title: str
    filename: str
    routing: Routing
    status: EnvelopeStatus
    created_by: str
    created_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    finished_at: datetime | None
    reason: str | None
    current_revision: int
    document_sha256: str = Field(description="SHA-256 of the current (final) revision")
    document_url: str
    webhook_url: str | None = Field(description="shown to the creator only")
    participants: list[ParticipantPublic]
    revisions: list[RevisionPublic]


class EnvelopeSummary(BaseModel):
    id: str
    organization_id: str
    title: str
    routing: Routing
    status: EnvelopeStatus
    created_at: datetime
    expires_at: datetime | None
    current_revision: int


class EnvelopeSigned(BaseModel):
    envelope: EnvelopePublic
    revision: RevisionPublic
    replayed: bool


class TimelineEvent(BaseModel):
    seq: int
    occurred_at: datetime
    action: str
    actor: str
    organization_id: str | None
    details: dict[str, Any]


class WebhookAttemptPublic(BaseModel):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None
    succeeded: bool


class WebhookDeliveryPublic(BaseModel):
    id: str
    event: str
    url: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    log: list[WebhookAttemptPublic]
