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

from sqlalchemy import bindparam
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app.db import reading, unit_of_work
from app.models import Organization, OrganizationKind
from app.pdfwork import sign_isolated
from app.sealing import (
    SM2_FORMATS,
    SealedDocument,
    SealRequest,
    certificate_for,
    keep_sealed,
    replay,
    seal_appearance,
    store_document,
    unstore_document,
)
from app.security import Principal
from app.services import idempotency
from app.services.regions import division_of
from app.services.sealing_cache import cache_for
from app.services.seals import authorize_use, registry
from app.verification.verify import refresh_stale_crls
from app.wiring import Services
from pki.models import CertificateRecord
from seals.authorization import SealUse
from seals.models import Seal
from seals.models_eseal import SealData
from seals.pdflimits import check_structure
from seals.placement import InvisiblePlacement
from seals.signing import (
    SealAppearance,
    SealingSpec,
    SignatureFormat,
    SignedPdf,
    sign_document,
)


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
    division: str | None = None
    """The organization's statistics division, read with the seal (None: read in `record`)."""


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
    kept = cache_for(services)  # signer, time-stamper and B-LT material between sealings
    epoch = kept.epoch()
    with unit_of_work(reading(services.engine)) as session:
        identity = kept.identity(
            session,
            epoch=epoch,
            certificate_id=job.certificate_id,
            key_id=job.key_id,
            eseal=job.eseal,
        )
        sm2 = job.spec.format in SM2_FORMATS
        stamper = kept.timestamper(session, sm2=sm2) if level.needs_timestamp else None
        validation = (
            kept.validation(session, epoch=epoch, identity=identity, issuer_ca=job.issuer_ca)
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
    """Stage 1 (reads only): the use, checked now and spent in `record`, and its job.

    The seal (its image left unread), its certificate and its organization's statistics
    division come from one joined query and stay in the session while the policies and this
    function look them up by key, so each is read once per request, never kept between
    requests. The seal image is needed only for a visible seal; its appearance is kept per
    image digest (images never change; a new image is a new digest)."""
    kept = _read_seal(session, request.seal_id)  # holds the rows while they are looked up
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
    certificate = session.get(CertificateRecord, certificate_id)
    assert certificate is not None  # the use policies (or certificate_for) read it
    shown = not isinstance(request.placement, InvisiblePlacement)
    fmt = request.format
    job = SignJob(
        pdf=request.pdf,
        spec=request.spec(_appearance(seal) if shown else None, vri=services.settings.pades_vri),
        certificate_id=certificate_id,
        key_id=key_id,
        issuer_ca=certificate.issuer_ca,
        eseal=stored_seal_data(session, seal.id, certificate_id)
        if fmt is SignatureFormat.GBT38540
        else None,
    )
    division = kept[2] if kept is not None else None
    return Authorised(use=use, job=job, actor=principal.actor, division=division)


def _read_seal(session: Session, seal_id: str) -> tuple[Seal, CertificateRecord, str] | None:
    """The seal row without its image, its certificate row (both now in the session) and the
    organization's statistics division ("" for an agency), in one query."""
    row = session.exec(_SEAL_READ, params={"seal_id": seal_id}).first()
    if row is None:
        return None
    seal, certificate, kind, uscc = row
    return seal, certificate, division_of(uscc) if kind == OrganizationKind.enterprise else ""


_SEAL_READ = (
    select(Seal, CertificateRecord, Organization.kind, Organization.uscc)
    .join(CertificateRecord, col(CertificateRecord.id) == col(Seal.certificate_id))
    .join(Organization, col(Organization.id) == col(Seal.organization_id))
    .where(col(Seal.id) == bindparam("seal_id"))
    .options(defer(Seal.image_png))  # type: ignore[arg-type]
)
"""Built once: building the joined select and its cache key on every request cost more than
running it (the statement object keeps its cache key; only the parameter changes)."""

_APPEARANCES: dict[tuple[str, int | None, str], SealAppearance] = {}


def _appearance(seal: Seal) -> SealAppearance:
    """The seal's appearance, kept by its image digest (the image is read on a miss only)."""
    key = (seal.image_sha256, seal.image_dpi, seal.kind)
    appearance = _APPEARANCES.get(key)
    if appearance is None:
        if len(_APPEARANCES) >= 256:
            _APPEARANCES.clear()
        appearance = _APPEARANCES[key] = seal_appearance(seal)
    return appearance


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
    """Stage 3, in the caller's short write transaction: store the document's row, claim the
    Idempotency-Key for it (or return the result a request with that key recorded first),
    spend the use, count and audit it."""
    document_id = store_document(
        session,
        principal=principal,
        request=request,
        use=authorised.use,
        signed=signed.pdf,
        stored_sha256=signed.stored_sha256,
    )
    key = request.idempotency_key
    if key:
        fingerprint = request.fingerprint()
        if not idempotency.bind(
            session,
            actor=principal.actor,
            key=key,
            fingerprint=fingerprint,
            document_id=document_id,
        ):  # a request with this key was recorded first: its result, nothing spent
            unstore_document(session, document_id)
            earlier = idempotency.held(session, actor=principal.actor, key=key)
            assert earlier is not None
            return replay(session, services, earlier, fingerprint)
    return keep_sealed(
        session,
        principal=principal,
        request=request,
        use=authorised.use,
        signed=signed.pdf,
        document_id=document_id,
        division=authorised.division,
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
