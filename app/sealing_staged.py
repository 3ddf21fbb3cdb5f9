"""Sealing through the API in three stages, so the write lock is held for milliseconds:

1. a read transaction authorises the use (nothing spent);
2. a seal worker process (app.pdfpool) checks the document's structural limits, unlocks the
   key from the key store itself, gathers time-stamper and validation data and signs; the PDF
   is stored with no transaction open;
3. one short write transaction claims the Idempotency-Key, spends the use (conditional
   updates, so a concurrent spender makes it fail cleanly), records the document and the audit
   event.

Signing inside one long IMMEDIATE transaction (`sealing.seal_document`, still used by
envelopes, templates and jobs) held SQLite's write lock for the whole signature, and 40
concurrent callers froze every endpoint. Two concurrent requests with the same key may both
sign; only the first one's result is recorded and both callers receive it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import select

from app.db import reading, unit_of_work
from app.models import IdempotencyRecord
from app.pdfwork import sign_isolated
from app.sealing import (
    SealedDocument,
    SealRequest,
    _claim_key,
    _replay,
    keep_sealed,
    seal_appearance,
    signing_identity,
    timestamper,
    validation_material,
)
from app.security import Principal
from app.services.seals import authorize_use, registry
from app.verification.verify import refresh_stale_crls
from app.wiring import Services
from seals.pdflimits import check_structure
from seals.signing import SealingSpec, SignedPdf, sign_document


@dataclass(frozen=True)
class SignJob:
    """What a seal worker needs to sign: the document and request, and which certificate and
    key to use (by id: the worker unlocks the key from the key store itself, so no private
    key ever crosses the pipe)."""

    pdf: bytes
    spec: SealingSpec
    certificate_id: str
    key_id: str
    issuer_ca: str


def sign_job(services: Services, job: SignJob) -> SignedPdf:
    """Stage 2, inside a seal worker: the structural limits, then signer, time-stamper and
    validation data from this process's own read transaction, then the signature."""
    check_structure(job.pdf, services.pdf_pool.limits)
    level = job.spec.level
    if level.needs_validation:
        refresh_stale_crls(services)  # the root CRL is embedded; keep the reads read-only
    with unit_of_work(reading(services.engine)) as session:
        identity = signing_identity(
            session, services, certificate_id=job.certificate_id, key_id=job.key_id
        )
        stamper = timestamper(session, services) if level.needs_timestamp else None
        validation = (
            validation_material(session, services, identity=identity, issuer_ca=job.issuer_ca)
            if level.needs_validation
            else None
        )
    return sign_document(
        pdf=job.pdf, identity=identity, spec=job.spec, timestamper=stamper, validation=validation
    )


def seal_document_staged(
    services: Services, *, principal: Principal, request: SealRequest
) -> SealedDocument:
    """Authorise (reads), sign (in a seal worker, no transaction), record (one short write)."""
    fingerprint = request.fingerprint()
    document_sha256 = hashlib.sha256(request.pdf).hexdigest()
    with unit_of_work(reading(services.engine)) as session:
        if request.idempotency_key:
            earlier = session.exec(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.principal == principal.actor,
                    IdempotencyRecord.key == request.idempotency_key,
                )
            ).first()
            if earlier is not None:
                return _replay(session, services, earlier, fingerprint)
        use = authorize_use(
            session,
            services,
            principal=principal,
            seal_id=request.seal_id,
            document_sha256=document_sha256,
            document_type=request.document_type,
            pin=request.pin,
        )
        seal = registry(services).row(session, use.seal.id)
        job = SignJob(
            pdf=request.pdf,
            spec=request.spec(seal_appearance(seal), vri=services.settings.pades_vri),
            certificate_id=use.certificate_id,
            key_id=use.key_id,
            issuer_ca=services.authority.get(session, use.certificate_id).issuer_ca,
        )
    signed = sign_isolated(services, job)
    stored_sha256 = services.blobs.put(signed.pdf)
    with unit_of_work(services.engine) as session:
        claimed = None
        if request.idempotency_key:
            claimed, ours = _claim_key(
                session, principal=principal, key=request.idempotency_key, fingerprint=fingerprint
            )
            if not ours:  # a concurrent request with this key was recorded first
                return _replay(session, services, claimed, fingerprint)
        return keep_sealed(
            session,
            principal=principal,
            request=request,
            use=use,
            signed=signed,
            stored_sha256=stored_sha256,
            claimed=claimed,
        )
