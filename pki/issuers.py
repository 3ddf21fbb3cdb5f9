"""The issuing CAs as an `Authority` keeps them between issuances: certificate, unlocked
signer and one DER template per profile (pki/cert_der.py).

Each issuance still reads the CA's record (`CaRecord`, one primary-key read), and an entry is
used only while that record names the same certificate and key: a CA re-keyed or re-certified
by any process is picked up at its next issuance. What is kept is what the key store and the
CA's certificate would give again (no status, no authorisation), like the TSA's and the OCSP
responder's unlocked keys.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from sqlmodel import Session

from pki.cert_der import CertificateDer
from pki.certificate_records import CertificateLookups
from pki.errors import PkiError
from pki.keys import KeySigner, load_public_key
from pki.profiles import (
    CertificateProfile,
    CertificateTemplate,
    PublicationUrls,
    build_certificate,
)

log = logging.getLogger(__name__)


@dataclass
class Issuer:
    """One CA's certificate and signer, with its templates per profile (None: none fits)."""

    name: str
    certificate_id: str
    key_id: str
    certificate: x509.Certificate
    signer: KeySigner
    templates: dict[CertificateProfile, CertificateDer | None] = field(default_factory=dict)

    def check_validity(self, now: datetime) -> None:
        """PkiError outside the CA's validity (no certificate is issued then)."""
        cert = self.certificate
        if not cert.not_valid_before_utc <= now < cert.not_valid_after_utc:
            raise PkiError(f"CA {self.name!r} is not within its validity period")

    def template(self, profile: CertificateProfile, urls: PublicationUrls) -> CertificateDer | None:
        """The DER template of `profile`, made once from a probe the full builder signs, and
        kept only when it reproduces that probe byte for byte."""
        if profile not in self.templates:
            self.templates[profile] = self._new_template(profile, urls)
        return self.templates[profile]

    def _new_template(
        self, profile: CertificateProfile, urls: PublicationUrls
    ) -> CertificateDer | None:
        now = self.certificate.not_valid_before_utc
        issuer_key = load_public_key(self.signer.public_key_info())
        probe = CertificateTemplate(
            subject=self.certificate.subject,
            subject_public_key=issuer_key,
            issuer_name=self.certificate.subject,
            issuer_public_key=issuer_key,
            issuer_ca=self.name,
            serial_number=0x7F3A_9C21_55E0_1B44,
            not_before=now,
            not_after=now + timedelta(days=1),
            urls=urls,
        )
        made = build_certificate(profile=profile, template=probe, issuer=self.signer)
        template = CertificateDer.of(made, self.signer)
        again = template.tbs(
            serial_number=probe.serial_number,
            not_before=probe.not_before,
            not_after=probe.not_after,
            subject=probe.subject,
            subject_spki=self.signer.public_key_info(),
        )
        if again != made.tbs_certificate_bytes:
            log.warning("no DER template for %s/%s: the full builder is used", self.name, profile)
            return None
        return template


class Issuers:
    """The kept issuers of one `Authority` (thread-safe; a miss only costs a rebuild)."""

    def __init__(self, lookups: CertificateLookups) -> None:
        self._lookups = lookups
        self._kept: dict[str, Issuer] = {}
        self._lock = threading.Lock()

    def current(self, session: Session, name: str) -> Issuer:
        """CA `name` as its record names it now (unlocked once per certificate and key)."""
        ca = self._lookups._ca_record(session, name)
        kept = self._kept.get(name)
        if kept is not None and (kept.certificate_id, kept.key_id) == (
            ca.certificate_id,
            ca.key_id,
        ):
            return kept
        issuer = Issuer(
            name=name,
            certificate_id=ca.certificate_id,
            key_id=ca.key_id,
            certificate=self._lookups.ca_certificate(session, name),
            signer=self._lookups.keystore.signer(session, ca.key_id),
        )
        with self._lock:
            self._kept[name] = issuer
        return issuer
