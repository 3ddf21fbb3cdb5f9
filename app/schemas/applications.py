"""HTTP models of seal production applications (制章申请) and filings (备案)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.services.applications import Decision, Purpose, Status


class ApplicationDocumentPublic(BaseModel):
    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    url: str
    created_at: datetime


class ApplicationPublic(BaseModel):
    id: str
    organization_id: str
    purpose: Purpose
    kind: str
    name: str | None
    inscription: str | None
    reason: str
    replaces_seal_id: str | None
    status: Status
    applicant: str
    submitted_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    seal_id: str | None
    documents: list[ApplicationDocumentPublic]


class ApplicationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    note: str | None = Field(
        default=None, max_length=1000, description="optional when approving; the reason otherwise"
    )


class FilingPublic(BaseModel):
    """备案: who approved the seal's making, and when (no personal data)."""

    seal_code: str
    application_id: str
    authority: str
    approved_at: datetime


class TrustedApplicantPublic(BaseModel):
    organization_id: str
    trusted: bool
