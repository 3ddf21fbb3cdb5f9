"""Bulk issuance jobs: N records of one template sealed in the background."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.models_jobs import BulkJobRecord, RecordStatus
from app.schemas.templates import JobIn, JobPublic, JobRecordPublic
from app.security import Scope
from app.services import jobs

router = APIRouter(prefix="/api/v1", tags=["jobs"])


def _public(progress: jobs.Progress) -> JobPublic:
    job, counts = progress.job, progress.counts
    return JobPublic(
        id=job.id,
        template=job.template,
        seal_id=job.seal_id,
        status=progress.status,
        total=job.total,
        pending=counts[RecordStatus.pending],
        running=counts[RecordStatus.running],
        done=counts[RecordStatus.done],
        failed=counts[RecordStatus.failed],
        created_at=job.created_at,
        finished_at=job.finished_at,
        records_url=f"/api/v1/jobs/{job.id}/records",
    )


def _record(record: BulkJobRecord) -> JobRecordPublic:
    return JobRecordPublic(
        position=record.position,
        status=record.status,
        reference=record.reference,
        document_id=record.document_id,
        document_url=f"/api/v1/documents/{record.document_id}" if record.document_id else None,
        problem=json.loads(record.problem) if record.problem else None,
        attempts=record.attempts,
        finished_at=record.finished_at,
    )


def _wake_worker(request: Request) -> None:
    worker = getattr(request.app.state, "job_worker", None)
    if worker is not None:
        worker.notify()


@router.post(
    "/jobs", dependencies=needs(Scope.seals_use), status_code=202, response_model=JobPublic
)
def create_job(
    body: JobIn,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JobPublic:
    """Accept N records (up to 1000) of one template to be rendered and sealed with one
    seal; 202 with the job. Records whose data does not fit the template fail at once with
    their problem; the others are sealed in the background, each authorised on its own
    (a grant's `max_uses` counts every record). Retrying with the same `Idempotency-Key`
    returns the same job."""
    job, replayed = jobs.create_job(
        session,
        services,
        principal=principal,
        new=jobs.NewJob(
            template=body.template,
            seal_id=body.seal_id,
            records=body.records,
            options=jobs.JobOptions(
                placement=body.placement.model_dump() if body.placement else None,
                level=body.level.value,
                certify=body.certify.value if body.certify else None,
                reason=body.reason,
                location=body.location,
            ),
        ),
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    background.add_task(_wake_worker, request)  # after the commit, so the worker sees it
    return _public(jobs.Progress(job=job, counts=jobs.counts(session, job.id)))


@router.get(
    "/jobs/{job_id}",
    dependencies=needs(Scope.seals_use, Scope.seals_read),
    response_model=JobPublic,
)
def get_job(job_id: str, session: SessionDep, principal: CurrentPrincipal) -> JobPublic:
    """Progress: how many records are pending, running, done and failed."""
    return _public(jobs.progress(session, principal=principal, job_id=job_id))


@router.get(
    "/jobs/{job_id}/records",
    dependencies=needs(Scope.seals_use, Scope.seals_read),
    response_model=list[JobRecordPublic],
)
def get_job_records(
    job_id: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    status: RecordStatus | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[JobRecordPublic]:
    """Per-record results in order: the document id, or the problem it failed with."""
    rows = jobs.records(
        session, principal=principal, job_id=job_id, status=status, offset=offset, limit=limit
    )
    return [_record(row) for row in rows]
