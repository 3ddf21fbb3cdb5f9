"""The one signing path, in three stages, so no write transaction is open while a document is
signed and the write lock is held for milliseconds:

1. `authorise`, in a read transaction: may this caller apply this seal to this document now
   (nothing spent), and the `SignJob` for it; `replayed` first answers a retried
   Idempotency-Key with its recorded result;
2. `sign`, with no transaction open: a seal worker process (app.pdfpool) checks the
   document's structural limits, unlocks the key from the key store itself, gathers
   time-stamper and validation data and signs; the PDF is stored;
3. `record`, in one short write transaction: claims the Idempotency-Key, spends the use
   (conditional updates, so a concurrent spender makes it fail cleanly), records the document
   and the audit event (`sealing.keep_sealed`).

`seal_document` runs the three for the plain API; envelopes, templates, bulk jobs, licences
and the console compose the same stages with their own checks and records around them.
Signing inside one long IMMEDIATE transaction held SQLite's write lock for the whole
signature, and 40 concurrent callers froze every endpoint. Two concurrent requests with the
same key may both sign; only the first one's result is recorded and both callers receive it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from sqlmodel import Session

from app.db import reading, unit_of_work
from app.pdfwork import sign_isolated
from app.sealing import (
    SM2_FORMATS,
    SealedDocument,
    SealRequest,
    certificate_for,
    keep_sealed,
    replay,
    seal_appearance,
    signing_identity,
    timestamper,
    validation_material,
)
from app.security import Principal
from app.services import idempotency
from app.services.seals import authorize_use, registry
from app.verification.verify import refresh_stale_crls
from app.wiring import Services
from seals.authorization import SealUse
from seals.models_eseal import SealData
from seals.pdflimits import check_structure
from seals.signing import SealingSpec, SignatureFormat, SignedPdf, sign_document


@dataclass(frozen=True)
class SignJob:
    """What a seal worker needs to sign: the document and the spec, and which certificate
    and key to use (by id: the worker unlocks the key from the key store itself, so no
    private key ever crosses the pipe)."""

    pdf: bytes
    spec: SealingSpec
    certificate_id: str
    key_id: str
    issuer_ca: str
    eseal: bytes | None = None
    """The seal's GB/T 38540 seal data, for the gbt38540 format."""


@dataclass(frozen=True)
class Authorised:
    """A use the caller may make (not spent yet) and the job that signs for it."""

    use: SealUse
    job: SignJob
    actor: str = "system"
    """Who asked (the audit actor when the seal's GB/T 38540 data is made for this job)."""


@dataclass(frozen=True)
class Signed:
    """The signed document, already in the blob store under `stored_sha256`."""

    pdf: SignedPdf
    stored_sha256: str


def sign_job(services: Services, job: SignJob) -> SignedPdf:
    """Stage 2, inside a seal worker: the structural limits, then signer, time-stamper and
    validation data from this process's own read transaction, then the signature."""
    check_structure(job.pdf, services.pdf_pool.limits)
    level = job.spec.level
    if level.needs_validation:
        refresh_stale_crls(services)  # the root CRL is embedded; keep the reads read-only
    with unit_of_work(reading(services.engine)) as session:
        identity = signing_identity(
            session,
            services,
            certificate_id=job.certificate_id,
            key_id=job.key_id,
            eseal=job.eseal,
        )
        sm2 = job.spec.format in SM2_FORMATS
        stamper = timestamper(session, services, sm2=sm2) if level.needs_timestamp else None
        validation = (
            validation_material(session, services, identity=identity, issuer_ca=job.issuer_ca)
            if level.needs_validation
            else None
        )
    return sign_document(
        pdf=job.pdf, identity=identity, spec=job.spec, timestamper=stamper, validation=validation
    )


def replayed(
    session: Session, services: Services, *, principal: Principal, request: SealRequest
) -> SealedDocument | None:
    """The recorded result of an earlier request with this Idempotency-Key (a `Conflict` when
    the key was used for another request); None when the key is new or absent."""
    if not request.idempotency_key:
        return None
    earlier = idempotency.held(session, actor=principal.actor, key=request.idempotency_key)
    return None if earlier is None else replay(session, services, earlier, request.fingerprint())


def authorise(
    session: Session, services: Services, *, principal: Principal, request: SealRequest
) -> Authorised:
    """Stage 1 (reads only): the use, checked now and spent in `record`, and its job."""
    use = authorize_use(
        session,
        services,
        principal=principal,
        seal_id=request.seal_id,
        document_sha256=hashlib.sha256(request.pdf).hexdigest(),
        document_type=request.document_type,
        pin=request.pin,
        document_type_established=request.document_type_established,
    )
    seal = registry(services).row(session, use.seal.id)
    certificate_id, key_id = certificate_for(session, use, request.format)
    job = SignJob(
        pdf=request.pdf,
        spec=request.spec(seal_appearance(seal), vri=services.settings.pades_vri),
        certificate_id=certificate_id,
        key_id=key_id,
        issuer_ca=services.authority.get(session, certificate_id).issuer_ca,
        eseal=stored_seal_data(session, seal.id, certificate_id),
    )
    return Authorised(use=use, job=job, actor=principal.actor)


def stored_seal_data(session: Session, seal_id: str, certificate_id: str) -> bytes | None:
    """The seal's stored GB/T 38540 data listing this certificate (reads only), or None."""
    row = session.get(SealData, seal_id)
    return row.der if row is not None and row.sm2_certificate_id == certificate_id else None


def _seal_data(services: Services, actor: str, seal_id: str) -> bytes:
    """The seal's GB/T 38540 seal data, made in one short write transaction (first use)."""
    from app.services.seal_data import seal_data

    with unit_of_work(services.engine) as session:
        seal = registry(services).row(session, seal_id)
        return seal_data(session, services, seal, actor=actor)


def release(session: Session) -> None:
    """Commit what the caller's session did so far (the console's began when it loaded the
    signed-in user), so that no lock is held while a document is signed."""
    if session.in_transaction():
        session.commit()


def outside_transaction(session: Session) -> None:
    """Refuse to sign for a caller whose session already holds a transaction: on SQLite it
    may hold the write lock for the whole signature, which is what this path avoids."""
    if session.in_transaction():
        raise RuntimeError("signing must start with the caller's session outside a transaction")


def sign(
    services: Services, authorised: Authorised, *, wait_seconds: float | None = None
) -> Signed:
    """Stage 2: sign in a seal worker and store the result; call with no transaction open.
    ``wait_seconds``: how long to wait for a free worker (default: the admission wait)."""
    job = authorised.job
    if job.spec.format is SignatureFormat.GBT38540 and job.eseal is None:
        job = replace(job, eseal=_seal_data(services, authorised.actor, authorised.use.seal.id))
    signed = sign_isolated(services, job, wait_seconds=wait_seconds)
    return Signed(pdf=signed, stored_sha256=services.blobs.put(signed.pdf))


def record(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    request: SealRequest,
    authorised: Authorised,
    signed: Signed,
) -> SealedDocument:
    """Stage 3, in the caller's short write transaction: claim the key (or return the result
    a concurrent request with it recorded first), spend the use, store and audit."""
    claimed = None
    if request.idempotency_key:
        claimed, ours = idempotency.claim(
            session,
            actor=principal.actor,
            key=request.idempotency_key,
            fingerprint=request.fingerprint(),
        )
        if not ours:  # a concurrent request with this key was recorded first
            return replay(session, services, claimed, request.fingerprint())
    return keep_sealed(
        session,
        principal=principal,
        request=request,
        use=authorised.use,
        signed=signed.pdf,
        stored_sha256=signed.stored_sha256,
        claimed=claimed,
    )


def seal_document(
    services: Services, *, principal: Principal, request: SealRequest
) -> SealedDocument:
    """Authorise (reads), sign (in a seal worker, no transaction), record (one short write)."""
    with unit_of_work(reading(services.engine)) as session:
        earlier = replayed(session, services, principal=principal, request=request)
        if earlier is not None:
            return earlier
        authorised = authorise(session, services, principal=principal, request=request)
    signed = sign(services, authorised)
    with unit_of_work(services.engine) as session:
        return record(
            session,
            services,
            principal=principal,
            request=request,
            authorised=authorised,
            signed=signed,
        )


seal_document_staged = seal_document  # the name the API used before every caller came here
