"""Public verification: a PDF in, an ETSI-style report out, with revocation for our own
certificates answered by our CA in process and seals looked up in the registry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cryptography import x509
from sqlmodel import Session

from app.db import reading, unit_of_work
from app.services.seal_kinds import label_of
from app.services.seals import public_owner, registry
from app.verification.cache import CRL_CHECK_SECONDS, EPOCH_KEY, cache_for
from app.wiring import Services
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


def seal_info(
    session: Session, services: Services, certificate: x509.Certificate
) -> SealInfo | None:
    """The seal bound to this very certificate, with its current status (None: not ours)."""
    seal = registry(services).find_by_certificate(session, certificate)
    if seal is None:
        return None
    return SealInfo(
        code=seal.code,
        kind=seal.kind.value,
        owner=public_owner(session, seal),
        status=seal.status.value,
        kind_label=label_of(session, seal.id),
    )
