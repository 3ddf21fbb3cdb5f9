"""Tables of generated documents and bulk issuance jobs.

A job and each of its records live in the database, so a restart loses nothing: a record is
``pending`` until a worker claims it (``running``, with a claim token) and then ``done``
(with its document) or ``failed`` (with an RFC 9457 problem). Sealing a record and marking it
done commit in one transaction, and only while the worker's claim token is still the
record's, so a record is sealed at most once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models import new_id, utcnow
from pki.dbtypes import UtcDateTime


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable)


class GeneratedDocument(SQLModel, table=True):
    """A document rendered from a template and sealed; its id is the stored document's id.

    ``unique_reference`` is set for templates whose number must be unique per issuing
    organization (a guarantee number per guarantor); the unique constraint enforces it.
    """

    __tablename__ = "generated_document"
    __table_args__ = (UniqueConstraint("organization_id", "template", "unique_reference"),)

    id: str = Field(primary_key=True, foreign_key="storeddocument.id", max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    template: str = Field(max_length=40)
    reference: str | None = Field(default=None, max_length=64)
    unique_reference: str | None = Field(default=None, max_length=64)
    data_sha256: str = Field(max_length=64)
    job_id: str | None = Field(default=None, max_length=32, index=True)
    created_by: str = Field(max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class JobStatus(StrEnum):
    running = "running"
    completed = "completed"


class RecordStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


class BulkJob(SQLModel, table=True):
    """N documents from one template, sealed with one seal, on behalf of the caller who
    created the job (re-authorised for every record)."""

    __tablename__ = "bulk_job"
    __table_args__ = (UniqueConstraint("created_by", "idempotency_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    organization_id: str = Field(foreign_key="organization.id", index=True, max_length=32)
    template: str = Field(max_length=40)
    seal_id: str = Field(max_length=32)
    options: str = Field(sa_column=Column(Text, nullable=False), description="canonical JSON")
    principal_kind: str = Field(max_length=10)
    principal_id: str = Field(max_length=32)
    principal_organization_id: str | None = Field(default=None, max_length=32)
    created_by: str = Field(max_length=120)
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_sha256: str = Field(max_length=64)
    total: int
    status: JobStatus = Field(sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class BulkJobRecord(SQLModel, table=True):
    __tablename__ = "bulk_job_record"
    __table_args__ = (
        UniqueConstraint("job_id", "position"),
        Index("ix_bulk_job_record_claim", "status", "position", "job_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    job_id: str = Field(foreign_key="bulk_job.id", max_length=32)
    position: int
    status: RecordStatus = Field(sa_type=String(16))
    data: str = Field(sa_column=Column(Text, nullable=False), description="the record's JSON")
    document_id: str | None = Field(default=None, max_length=32)
    reference: str | None = Field(default=None, max_length=64)
    problem: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True), description="problem JSON"
    )
    attempts: int = 0
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    worked_by: str | None = Field(
        default=None, max_length=64, description="the instance that claimed it last"
    )
    finished_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
