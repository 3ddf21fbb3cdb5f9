"""Public verification: a PDF in, an ETSI-style report out, with revocation for our own
certificates answered by our CA in process and seals looked up in the registry."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import bindparam, or_, select
from sqlmodel import Session, col

from app.db import reading, unit_of_work
from app.models import Organization, Person
from app.models_policy import CustomSealKind, SealCustomKind
from app.services.seals import owner_as_public_sees
from app.verification.cache import CRL_CHECK_SECONDS, EPOCH_KEY, cache_for
from app.wiring import Services
from pki.models import CertificateRecord
from seals.kinds import SealKind
from seals.lifecycle import effective_status
from seals.models import Seal
from seals.reports import SealInfo, VerificationReport


@contextmanager
def verification_session(services: Services) -> Iterator[Session]:
    """A read-only unit of work for verification. The CRLs it may hand out are brought up
    to date first in a short write transaction, so the verification itself never writes."""
    refresh_stale_crls(services)
    epoch = cache_for(services).epoch()  # before the session reads any status
    with unit_of_work(reading(services.engine)) as session:
        session.info[EPOCH_KEY] = epoch
        yield session


def refresh_stale_crls(services: Services) -> None:
    """Issue the CRLs that near their nextUpdate, in a short write transaction; when all are
    fresh (nearly always) only a read transaction is spent, and none at all for
    `CRL_CHECK_SECONDS` after a check found them fresh (they are re-issued hours before
    their nextUpdate, `PublicationPolicy.crl_refresh_before`; a revocation re-issues at once)."""
    cache = cache_for(services)
    if cache.crls_checked_until > time.monotonic():
        return
    with unit_of_work(reading(services.engine)) as session:
        stale = [
            ca
            for ca in services.publisher.crl_issuers(session)
            if services.publisher.stored_crl(session, ca) is None
        ]
    if stale:
        with unit_of_work(services.engine) as session:
            for ca in stale:
                services.publisher.current_crl(session, ca)
    cache.crls_checked_until = time.monotonic() + CRL_CHECK_SECONDS


def verify_document(session: Session, services: Services, *, pdf: bytes) -> VerificationReport:
    """Verify with the trust store and our own revocation answers kept by this process
    (app.verification.cache); the seal's current status is always read afresh."""
    from seals.verification import verify_pdf  # pyhanko's validation stack: on first use

    cache = cache_for(services)
    epoch = session.info.get(EPOCH_KEY)  # None (a caller's own session): nothing is kept
    snapshot = cache.trust(session)

    def revocation(issuer: x509.Certificate, certificate: x509.Certificate) -> bytes | None:
        return cache.revocation(
            session, snapshot, epoch=epoch, issuer=issuer, certificate=certificate
        )

    return verify_pdf(
        pdf=pdf,
        trust=snapshot.store,
        now=datetime.now(UTC),
        seal_lookup=lambda certificate: seal_info(session, services, certificate),
        revocation_lookup=revocation,
        max_seconds=services.settings.verify_max_seconds,
    )


_SEAL_OF_CERTIFICATE = (
    select(
        col(Seal.code),
        col(Seal.kind),
        col(Seal.status),
        col(Seal.valid_until),
        col(Seal.person_id),
        col(Person.name),
        col(Organization.name),
        col(CustomSealKind.label),
    )
    .select_from(CertificateRecord)
    .join(
        Seal,
        or_(
            col(CertificateRecord.id) == col(Seal.certificate_id),
            col(CertificateRecord.id) == col(Seal.sm2_certificate_id),
        ),
    )
    .outerjoin(Person, col(Person.id) == col(Seal.person_id))
    .outerjoin(Organization, col(Organization.id) == col(Seal.organization_id))
    .outerjoin(SealCustomKind, col(SealCustomKind.seal_id) == col(Seal.id))
    .outerjoin(CustomSealKind, col(CustomSealKind.id) == col(SealCustomKind.custom_kind_id))
    .where(col(CertificateRecord.fingerprint_sha256) == bindparam("fingerprint"))
    .limit(1)
)
"""The seal whose certificate (main or SM2) has this fingerprint, with what the report shows
of it, in one statement (it was three ORM round trips with whole rows: 7% of a verification)."""


def seal_info(
    session: Session, services: Services, certificate: x509.Certificate
) -> SealInfo | None:
    """The seal bound to this very certificate, with its current status (None: not ours):
    the owner as the public may see it (`owner_as_public_sees`), the custom
    kind's name (`app.services.seal_kinds.label_of`)."""
    fingerprint = hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()
    row = session.execute(_SEAL_OF_CERTIFICATE, {"fingerprint": fingerprint}).first()
    if row is None:
        return None
    code, kind, status, valid_until, person_id, person_name, org_name, label = row
    now = services.authority.clock()
    return SealInfo(
        code=code,
        kind=SealKind(kind).value,
        owner=owner_as_public_sees(person_id, person_name, org_name),
        status=effective_status(status, valid_until=valid_until, now=now).value,
        kind_label=label,
    )
