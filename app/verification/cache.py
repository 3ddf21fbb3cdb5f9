"""What a PDF worker keeps between verifications (issue 12), and when it lets go.

Kept, per worker process (the verification runs there, so the cache lives there):

* the trust store (our roots and issuing CAs, the recognised foreign CAs) with the map from
  our CA certificates to their names, keyed by the *trust version*: every CA record with its
  current certificate and every recognised anchor's fingerprint, read in two small queries per
  verification. A renewed CA certificate or an anchor added or removed makes a new version, and
  the next verification builds a new store;
* that every CRL was fresh, for `CRL_CHECK_SECONDS` (`verify.refresh_stale_crls`);
* our own revocation answers (the responder's OCSP answer for a seal certificate, the root's
  CRL for our issuing CAs), keyed by issuer and certificate, for one *status epoch* (the
  counter every process of the installation shares, pki/status_epoch.py, bumped when a
  revocation commits) and at most `ANSWER_SECONDS`. A revocation in any process is seen by
  the very next verification; a CRL re-issued without a status change within that time.

The epoch is read before the verification's session reads anything (`verification_session`
records it in `session.info`), so an answer is never kept under a newer epoch than the statuses
it was built from. Stable answers are also what lets `seals.verification.pathcache` reuse a
validated path: its key includes the exact revocation material.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import literal, select, union_all
from sqlmodel import Session, col

from app.services.trust_anchors import trust_store
from app.wiring import Services, per_services
from pki.crl_publishing import CRL_ISSUERS
from pki.models import CaRecord, TrustAnchorRecord
from pki.publication import OCSP_RESPONDERS, SM2_OCSP_RESPONDERS
from pki.trust import TrustStore

__all__ = [
    "ANSWER_SECONDS",
    "CRL_CHECK_SECONDS",
    "EPOCH_KEY",
    "TrustSnapshot",
    "VerificationCache",
    "cache_for",
    "trust_version",
]

ANSWER_SECONDS = 60.0
CRL_CHECK_SECONDS = 60.0
"""How long after finding every CRL fresh the next verification skips looking again."""
MAX_ANSWERS = 4096
EPOCH_KEY = "eseal.status_epoch"
"""`session.info` key: the status epoch read before the session began (verification_session)."""


@dataclass(frozen=True, slots=True)
class TrustSnapshot:
    version: tuple[tuple[str, str], ...]
    store: TrustStore
    our_cas: dict[bytes, str]
    """DER of each of our CA certificates that answer for what they issued -> the CA's name."""


@dataclass(frozen=True, slots=True)
class _Answer:
    der: bytes | None
    epoch: int
    until: float


class VerificationCache:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._trust: TrustSnapshot | None = None
        self._answers: dict[tuple[str, bytes], _Answer] = {}
        self.crls_checked_until = 0.0
        """`time.monotonic()` until which the CRLs are known to be fresh enough."""

    def epoch(self) -> int:
        return self.services.publisher.status_epoch.current()

    def trust(self, session: Session) -> TrustSnapshot:
        """The trust store of the current trust version (built again when it changed)."""
        version = trust_version(session)
        kept = self._trust
        if kept is not None and kept.version == version:
            return kept
        authority = self.services.authority
        our_cas = {
            authority.ca_certificate(session, ca).public_bytes(Encoding.DER): ca.value
            for ca in CRL_ISSUERS
            if session.get(CaRecord, ca) is not None
        }
        snapshot = TrustSnapshot(version, trust_store(session, self.services), our_cas)
        self._trust = snapshot
        self.crls_checked_until = 0.0  # a new CA's CRL is looked at by the next verification
        return snapshot

    def revocation(
        self,
        session: Session,
        snapshot: TrustSnapshot,
        *,
        epoch: int | None,
        issuer: x509.Certificate,
        certificate: x509.Certificate,
    ) -> bytes | None:
        """`Publisher.revocation_for`, kept for the status epoch `epoch` (read before the
        session began; None: unknown, so nothing is reused or kept) and at most
        `ANSWER_SECONDS`."""
        ca = snapshot.our_cas.get(issuer.public_bytes(Encoding.DER))
        if ca is None:
            return None
        key = (ca, certificate.public_bytes(Encoding.DER))
        kept = self._answers.get(key)
        now = time.monotonic()
        if kept is not None and kept.epoch == epoch == self.epoch() and kept.until > now:
            return kept.der
        publisher = self.services.publisher
        if ca in OCSP_RESPONDERS or ca in SM2_OCSP_RESPONDERS:
            der: bytes | None = publisher.ocsp_for(
                session, certificate=certificate, issuer_ca=ca, epoch=epoch
            )
        else:
            der = publisher.current_crl(session, ca)
        if epoch is None or (der is not None and says_unknown(der)):
            return der  # never kept: "unknown" turns "good" when the certificate is issued
        with self._lock:
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            self._answers[key] = _Answer(der, epoch, now + ANSWER_SECONDS)
        return der


def says_unknown(der: bytes) -> bool:
    """Whether an OCSP answer is not a verdict (unknown, or not an OCSP answer we can read
    as one); CRLs are verdicts."""
    try:
        response = asn1_ocsp.OCSPResponse.load(der)
        if response["response_status"].native != "successful":
            return True
        basic = response["response_bytes"]["response"].parsed
        return any(
            single["cert_status"].name == "unknown"
            for single in basic["tbs_response_data"]["responses"]
        )
    except Exception:  # a CRL does not parse as an OCSP response
        return False


_TRUST_VERSION = union_all(
    select(col(CaRecord.name), col(CaRecord.certificate_id)),
    select(literal("anchor"), col(TrustAnchorRecord.fingerprint_sha256)),
)
"""Both in one statement (two ORM round trips were 2.5% of a verification)."""


def trust_version(session: Session) -> tuple[tuple[str, str], ...]:
    """Every CA's current certificate and every recognised anchor: any change is a new version.
    (A CA is never named "anchor": CA names are 'root', 'organization', 'tsa', 'ocsp-*'...)"""
    return tuple(sorted((str(name), str(value)) for name, value in session.execute(_TRUST_VERSION)))


cache_for = per_services(VerificationCache)
"""The cache of this process's services (a PDF worker builds its services once)."""
