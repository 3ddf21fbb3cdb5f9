"""Bulk issuance: one request with N records -> N sealed documents, in the background.

State lives in the database (`app.models_jobs`): a restart loses nothing and resumes.

How a record is processed (`JobWorker.step`), in three short transactions:

1. **claim**: pick one ``pending`` record (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
   concurrent workers never pick the same one; SQLite serialises writers anyway) and mark it
   ``running`` with a fresh claim token and ``attempts + 1``;
2. **render** the PDF and **sign** it outside any transaction (the staged signing path,
   `app.sealing_staged`: authorised in a read transaction, signed in a seal worker process;
   on SQLite a write transaction holds the database's write lock);
3. **record**: lock the record, check the claim token is still ours, then store, consume,
   audit and mark the record ``done`` in one transaction. A failure rolls all of that back and
   marks the record ``failed`` with its RFC 9457 problem; the other records go on.

A crash between 1 and 3 leaves the record ``running``: `JobWorker.requeue_stale` (run when the
worker starts) puts it back to ``pending``, or fails it after `MAX_ATTEMPTS`. Because step 3
only commits under the claim token, a record re-queued while an old worker still holds it is
sealed by one of them, never by both; the record's document id is derived from (job, position)
and is the stored document's primary key, a second guard against a double seal.

**Embedded vs. at scale.** On the embedded default one worker thread per process
(`Settings.jobs_worker`, started by the app's lifespan) drains the table. A deployment at
scale runs the same `process_record` from an existing job queue instead: with PostgreSQL,
procrastinate (``@app.task`` wrapping `JobWorker.step`, or one task per record id deferred at
job creation, ``jobs_worker=false`` in the web processes); with Redis, Celery or Dramatiq. The
claim-token check and the database state stay as they are, so the queue only has to deliver
at least once. This module deliberately is not a distributed queue.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db import reading, unit_of_work
from app.errors import AppError, Conflict, InvalidInput, NotAuthenticated, NotFound, status_for
from app.errors import problem_type as problem_uri
from app.models import ApiClient, UserAccount
from app.models_jobs import BulkJob, BulkJobRecord, JobStatus, RecordStatus
from app.schemas.templates import DATA_MODELS
from app.security import Principal, Scope, client_principal, user_principal
from app.services import audit, generation
from app.services.seals import visible_seal
from app.services.tenancy import require
from app.wiring import Services
from pki.errors import PkiError
from seals.errors import SealError
from seals.placement import placement_from_json
from seals.signing import DocMdpPermission, PadesLevel

log = logging.getLogger("eseal.jobs")

MAX_ATTEMPTS = 3
SIGN_WAIT_SECONDS = 120.0
"""How long a record waits for a free seal worker: background work queues behind requests
instead of failing with `overloaded` as a request would."""
"""A record whose processing was interrupted this many times fails instead of re-queueing."""


def _now() -> datetime:
    return datetime.now(UTC)


# --- creating jobs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOptions:
    """How every record of a job is sealed (stored as JSON with the job)."""

    placement: dict[str, Any] | None
    level: str
    certify: str | None
    reason: str | None
    location: str | None

    def to_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JobOptions:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class NewJob:
    template: str
    seal_id: str
    records: list[dict[str, Any]]
    options: JobOptions


def _problem(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {"type": problem_uri(code), "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if k not in body})
    return body


def problem_of(exc: BaseException) -> dict[str, Any]:
    """The RFC 9457 problem a record failed with (what the HTTP API would have answered)."""
    if isinstance(exc, AppError | PkiError | SealError):
        extra = json.loads(json.dumps(exc.extra, default=str, ensure_ascii=False))
        return _problem(status_for(exc), exc.code, exc.detail, **extra)
    if isinstance(exc, IntegrityError):
        return _problem(409, "conflict", "the record conflicts with an existing resource")
    log.error("bulk record failed unexpectedly", exc_info=exc)
    return _problem(500, "internal-error", "an internal error occurred while sealing the record")


def _fingerprint(new: NewJob) -> str:
    body = {
        "template": new.template,
        "seal": new.seal_id,
        "records": new.records,
        "options": new.options.__dict__,
    }
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _job_of_key(
    session: Session, principal: Principal, key: str | None, fingerprint: str
) -> BulkJob | None:
    """The job a retry with the same Idempotency-Key asks for again (a different job under
    the key is a conflict). Jobs keep their key in their own row: they have no document."""
    if not key:
        return None
    existing = session.exec(
        select(BulkJob).where(BulkJob.created_by == principal.actor, BulkJob.idempotency_key == key)
    ).first()
    if existing is not None and existing.request_sha256 != fingerprint:
        raise Conflict("this Idempotency-Key was already used for a different job")
    return existing


def create_job(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    new: NewJob,
    idempotency_key: str | None = None,
) -> tuple[BulkJob, bool]:
    """The job and its records (a record whose data does not fit the template fails at once
    with its problem); (job, replayed). Nothing is sealed here."""
    if new.template not in DATA_MODELS:
        raise InvalidInput(
            f"no template named {new.template!r}",
            errors=[{"loc": ["body", "template"], "msg": "unknown template"}],
        )
    spec = generation.template_spec(new.template)
    require(principal, Scope.seals_use)
    seal = visible_seal(session, services, principal, new.seal_id)
    if seal.requires_approval:
        raise Conflict("this seal needs an approval for each document; bulk jobs cannot use it")
    if seal.person_id is not None:
        raise InvalidInput("personal seals need their owner's PIN for each use; not in bulk")
    fingerprint = _fingerprint(new)
    existing = _job_of_key(session, principal, idempotency_key, fingerprint)
    if existing is not None:
        return existing, True
    job = BulkJob(
        organization_id=seal.organization_id,
        template=spec.name,
        seal_id=seal.id,
        options=new.options.to_json(),
        principal_kind=principal.kind,
        principal_id=principal.id,
        principal_organization_id=principal.organization_id,
        created_by=principal.actor,
        idempotency_key=idempotency_key,
        request_sha256=fingerprint,
        total=len(new.records),
        status=JobStatus.running,
    )
    session.add(job)
    session.flush()
    invalid = 0
    for position, data in enumerate(new.records):
        record = BulkJobRecord(
            job_id=job.id,
            position=position,
            status=RecordStatus.pending,
            data=json.dumps(data, ensure_ascii=False, sort_keys=True, default=str),
        )
        try:
            model: BaseModel = generation.parse_data(spec.name, data)
            generation.check_data(session, model)
            record.reference = generation.data_reference(spec, model)
        except InvalidInput as exc:
            invalid += 1
            record.status = RecordStatus.failed
            record.problem = json.dumps(problem_of(exc), ensure_ascii=False)
            record.finished_at = _now()
        session.add(record)
    if invalid == len(new.records):
        job.status = JobStatus.completed
        job.finished_at = _now()
    audit.record(
        session,
        actor=principal.actor,
        action="job.create",
        target_type="bulk_job",
        target_id=job.id,
        organization_id=job.organization_id,
        details={
            "template": spec.name,
            "seal_code": seal.code,
            "records": len(new.records),
            "rejected": invalid,
            "request_sha256": fingerprint,
        },
    )
    session.flush()
    return job, False


# --- reading jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    job: BulkJob
    counts: dict[RecordStatus, int]

    @property
    def status(self) -> str:
        open_records = self.counts[RecordStatus.pending] + self.counts[RecordStatus.running]
        return JobStatus.running.value if open_records else JobStatus.completed.value


def visible_job(session: Session, *, principal: Principal, job_id: str) -> BulkJob:
    job = session.get(BulkJob, job_id)
    if job is None or not principal.may_act_for(job.organization_id):
        raise NotFound(f"job {job_id} not found")
    if not (principal.has(Scope.seals_use) or principal.has(Scope.seals_read)):
        raise NotFound(f"job {job_id} not found")
    return job


def counts(session: Session, job_id: str) -> dict[RecordStatus, int]:
    rows = session.exec(
        select(BulkJobRecord.status, func.count())
        .where(BulkJobRecord.job_id == job_id)
        .group_by(col(BulkJobRecord.status))
    ).all()
    found = {RecordStatus(status): int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in RecordStatus}


def progress(session: Session, *, principal: Principal, job_id: str) -> Progress:
    job = visible_job(session, principal=principal, job_id=job_id)
    return Progress(job=job, counts=counts(session, job.id))


def records(
    session: Session,
    *,
    principal: Principal,
    job_id: str,
    status: RecordStatus | None,
    offset: int,
    limit: int,
) -> list[BulkJobRecord]:
    job = visible_job(session, principal=principal, job_id=job_id)
    query = select(BulkJobRecord).where(BulkJobRecord.job_id == job.id)
    if status is not None:
        query = query.where(BulkJobRecord.status == status)
    query = query.order_by(col(BulkJobRecord.position)).offset(offset).limit(limit)
    return list(session.exec(query).all())


# --- processing ---------------------------------------------------------------------------------


def record_document_id(job_id: str, position: int) -> str:
    """The stored document id of a record: the same for every attempt, so the document
    table's primary key refuses a second seal of the same record."""
    return hashlib.sha256(f"job:{job_id}:{position}".encode()).hexdigest()[:32]


def job_principal(session: Session, job: BulkJob) -> Principal:
    """The caller who created the job, as they are now (a revoked key stops the job)."""
    if job.principal_kind == "client":
        client = session.get(ApiClient, job.principal_id)
        if client is None or client.revoked_at is not None:
            raise NotAuthenticated("the API client that created this job has been revoked")
        return client_principal(client)
    user = session.get(UserAccount, job.principal_id)
    if user is None:
        raise NotAuthenticated("the account that created this job no longer exists")
    return user_principal(session, user, job.principal_organization_id)


def _generation_request(job: BulkJob, record: BulkJobRecord) -> generation.GenerationRequest:
    options = JobOptions.from_json(job.options)
    placement = placement_from_json(options.placement) if options.placement is not None else None
    return generation.GenerationRequest(
        template=job.template,
        data=json.loads(record.data),
        seal_id=job.seal_id,
        placement=placement,
        level=PadesLevel(options.level),
        certify=DocMdpPermission(options.certify) if options.certify else None,
        reason=options.reason,
        location=options.location,
        document_id=record_document_id(job.id, record.position),
        job_id=job.id,
    )


@dataclass(frozen=True)
class Claim:
    record_id: str
    job_id: str
    token: str


class JobWorker:
    """Drains pending records, one per transaction. `step` is the unit a queue would run."""

    def __init__(self, services: Services, *, poll_seconds: float = 2.0) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _postgres(self) -> bool:
        return self.services.engine.dialect.name == "postgresql"

    # one record

    def claim(self) -> Claim | None:
        with unit_of_work(self.services.engine) as session:
            query = (
                select(BulkJobRecord.id, BulkJobRecord.job_id)
                .where(BulkJobRecord.status == RecordStatus.pending)
                .order_by(col(BulkJobRecord.position), col(BulkJobRecord.job_id))
                .limit(1)
            )
            if self._postgres:
                query = query.with_for_update(skip_locked=True)
            row = session.exec(query).first()
            if row is None:
                return None
            record_id, job_id = row
            token = secrets.token_hex(16)
            claimed = session.exec(
                update(BulkJobRecord)
                .where(
                    col(BulkJobRecord.id) == record_id,
                    col(BulkJobRecord.status) == RecordStatus.pending,
                )
                .values(
                    status=RecordStatus.running,
                    claim_token=token,
                    claimed_at=_now(),
                    worked_by=self.services.settings.instance_name[:64],
                    attempts=col(BulkJobRecord.attempts) + 1,
                )
            )
            if claimed.rowcount != 1:
                return None
            return Claim(record_id=record_id, job_id=job_id, token=token)

    def _held(self, session: Session, claim: Claim) -> BulkJobRecord | None:
        record = session.exec(
            select(BulkJobRecord).where(BulkJobRecord.id == claim.record_id).with_for_update()
        ).one()
        if record.status != RecordStatus.running or record.claim_token != claim.token:
            return None
        return record

    def process(self, claim: Claim) -> RecordStatus | None:
        """Seal the claimed record, or fail it with its problem; None if the claim was lost."""
        services = self.services
        try:
            with unit_of_work(reading(services.engine)) as session:
                job = session.get(BulkJob, claim.job_id)
                record = session.get(BulkJobRecord, claim.record_id)
                assert job is not None and record is not None
                principal = job_principal(session, job)
                request = _generation_request(job, record)
                prepared = generation.prepare(
                    session, services, principal=principal, request=request
                )
            pending = generation.sign_prepared(
                services,
                principal=principal,
                prepared=prepared,
                pdf=generation.render(services, prepared),
                wait_seconds=SIGN_WAIT_SECONDS,
            )
            with unit_of_work(services.engine) as session:
                held = self._held(session, claim)
                if held is None:
                    return None
                job = session.get(BulkJob, claim.job_id)
                assert job is not None
                principal = job_principal(session, job)
                issued = generation.record(session, services, principal=principal, pending=pending)
                held.status = RecordStatus.done
                held.document_id = issued.document_id
                held.reference = issued.reference
                held.claim_token = None
                held.finished_at = _now()
                session.add(held)
                self._complete_if_last(session, claim.job_id)
            return RecordStatus.done
        except Exception as exc:
            problem = problem_of(exc)
        with unit_of_work(services.engine) as session:
            held = self._held(session, claim)
            if held is None:
                return None
            held.status = RecordStatus.failed
            held.problem = json.dumps(problem, ensure_ascii=False)
            held.claim_token = None
            held.finished_at = _now()
            session.add(held)
            self._complete_if_last(session, claim.job_id)
        return RecordStatus.failed

    def _complete_if_last(self, session: Session, job_id: str) -> None:
        session.flush()
        job = session.exec(select(BulkJob).where(BulkJob.id == job_id).with_for_update()).one()
        still_open = session.exec(
            select(func.count())
            .select_from(BulkJobRecord)
            .where(
                BulkJobRecord.job_id == job_id,
                col(BulkJobRecord.status).in_([RecordStatus.pending, RecordStatus.running]),
            )
        ).one()
        if still_open == 0 and job.status != JobStatus.completed:
            job.status = JobStatus.completed
            job.finished_at = _now()
            session.add(job)

    def step(self) -> bool:
        """Claim and process one record; False when nothing was pending."""
        claim = self.claim()
        if claim is None:
            return False
        self.process(claim)
        return True

    def run_until_idle(self, *, limit: int | None = None) -> int:
        """Process records until none is pending (or `limit` were processed); how many."""
        done = 0
        while (limit is None or done < limit) and self.step():
            done += 1
        return done

    # recovery

    def requeue_stale(self, *, at_start: bool = False) -> int:
        """Claims left ``running`` by a stopped process go back to ``pending`` (or fail after
        `MAX_ATTEMPTS`). On SQLite (one process runs jobs) every claim found at start is stale.
        On PostgreSQL other instances hold live claims: only claims older than
        `jobs_stale_seconds` are taken back (checked at start and then every poll), and at
        start also this instance's own (same `instance_name`: the process that held them has
        stopped, so a restarted instance resumes at once); a claim still held elsewhere
        cannot be sealed twice anyway (the claim token)."""
        query = select(BulkJobRecord).where(BulkJobRecord.status == RecordStatus.running)
        if self._postgres:
            settings = self.services.settings
            cutoff = _now() - timedelta(seconds=settings.jobs_stale_seconds)
            old_claim = col(BulkJobRecord.claimed_at) < cutoff
            if at_start:
                own = col(BulkJobRecord.worked_by) == settings.instance_name[:64]
                old_claim = or_(old_claim, own)
            query = query.where(old_claim).with_for_update(skip_locked=True)
        with unit_of_work(self.services.engine) as session:
            stale = session.exec(query).all()
            for record in stale:
                record.claim_token = None
                if record.attempts >= MAX_ATTEMPTS:
                    record.status = RecordStatus.failed
                    record.finished_at = _now()
                    record.problem = json.dumps(
                        _problem(
                            500,
                            "processing-interrupted",
                            f"processing was interrupted {record.attempts} times",
                        )
                    )
                else:
                    record.status = RecordStatus.pending
                session.add(record)
            jobs = {record.job_id for record in stale}
            for job_id in jobs:
                self._complete_if_last(session, job_id)
            if stale:
                log.info("re-queued %d interrupted bulk record(s)", len(stale))
            return len(stale)

    # the embedded worker thread

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="eseal-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """New records were committed: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            self.requeue_stale(at_start=True)
        except Exception:
            log.exception("could not re-queue interrupted bulk records")
        while not self._stop.is_set():
            try:
                worked = self.step()
                if not worked and self._postgres:
                    worked = self.requeue_stale() > 0  # an instance that stopped mid-record
            except Exception:
                log.exception("bulk worker step failed")
                worked = False
            if not worked:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
