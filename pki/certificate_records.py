"""Certificates as the CA stores and hands them out, and the lookups over its records
(`Authority` inherits them; the SM2 CA in pki/sm2_authority.py uses them too)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from sqlmodel import Session, col, select

from pki.errors import CertificateNotFoundError, HierarchyMissingError, PkiError
from pki.keys import KeySigner, KeyStore
from pki.models import CaRecord, CertificateRecord, CertificateStatus

if TYPE_CHECKING:
    from pki.profiles import CertificateProfile

_RFC4514_NAMES = {NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier"}


@dataclass(frozen=True)
class IssuedCertificate:
    """A stored certificate with its current status."""

    certificate_id: str
    certificate: x509.Certificate
    issuer_ca: str
    profile: str
    subject: str
    key_id: str | None
    owner_org_id: str | None
    owner_person_id: str | None
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str
    status: CertificateStatus
    revoked_at: datetime | None = None
    revocation_reason: x509.ReasonFlags | None = None
    replaced_by: str | None = None

    @property
    def serial_number(self) -> int:
        return self.certificate.serial_number

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class RevokedCertificate:
    """The outcome of a revocation."""

    certificate_id: str
    serial_number: int
    issuer_ca: str
    revoked_at: datetime
    reason: x509.ReasonFlags


@dataclass(frozen=True)
class CertificateStatusInfo:
    """What OCSP/CRL builders need to know about one serial number."""

    status: CertificateStatus
    not_after: datetime
    revoked_at: datetime | None
    reason: x509.ReasonFlags | None


@dataclass(frozen=True)
class RevokedSerial:
    """One revoked certificate of an issuer (fields match `pki.crl.RevokedEntry`, plus expiry)."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags
    not_after: datetime


def serial_to_hex(serial: int) -> str:
    """The stored form of a serial number: lower-case hex without leading zeros."""
    return format(serial, "x")


def _to_issued(
    record: CertificateRecord, certificate: x509.Certificate | None = None
) -> IssuedCertificate:
    return IssuedCertificate(
        certificate_id=record.id,
        certificate=certificate or x509.load_der_x509_certificate(record.der),
        issuer_ca=record.issuer_ca,
        profile=record.profile,
        subject=record.subject,
        key_id=record.key_id,
        owner_org_id=record.owner_org_id,
        owner_person_id=record.owner_person_id,
        not_before=record.not_before,
        not_after=record.not_after,
        fingerprint_sha256=record.fingerprint_sha256,
        status=CertificateStatus(record.status),
        revoked_at=record.revoked_at,
        revocation_reason=(
            x509.ReasonFlags(record.revocation_reason) if record.revocation_reason else None
        ),
        replaced_by=record.replaced_by,
    )


def store_issued(
    session: Session,
    certificate: x509.Certificate,
    *,
    issuer_ca: str,
    profile: CertificateProfile,
    key_id: str | None,
    owner_org_id: str | None,
    owner_person_id: str | None,
    created_at: datetime,
) -> IssuedCertificate:
    """Records a certificate just signed, by either hierarchy (added and flushed in the
    caller's transaction)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    record = CertificateRecord(
        serial=serial_to_hex(certificate.serial_number),
        issuer_ca=issuer_ca,
        profile=profile.name.value,
        subject=certificate.subject.rfc4514_string(_RFC4514_NAMES),
        der=der,
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_id=key_id,
        owner_org_id=owner_org_id,
        owner_person_id=owner_person_id,
        created_at=created_at,
    )
    session.add(record)
    session.flush()
    return _to_issued(record, certificate)


class CertificateLookups:
    """Reads of the CA's records; `Authority` provides the key store."""

    keystore: KeyStore

    def get(self, session: Session, certificate_id: str) -> IssuedCertificate:
        """A certificate with its current status (CertificateNotFoundError)."""
        return _to_issued(self._record(session, certificate_id))

    def chain(self, session: Session, certificate_id: str) -> list[x509.Certificate]:
        """The certificate and its issuers, leaf first, root last."""
        record = self._record(session, certificate_id)
        chain = [x509.load_der_x509_certificate(record.der)]
        for _ in range(8):
            ca = self._ca_record(session, record.issuer_ca)
            if ca.certificate_id == record.id:
                return chain
            record = self._record(session, ca.certificate_id)
            chain.append(x509.load_der_x509_certificate(record.der))
        raise PkiError(f"the chain of {certificate_id} does not end at a self-signed CA")

    def ca_certificate(self, session: Session, name: str) -> x509.Certificate:
        """The current certificate of CA (or TSA/OCSP identity) `name`."""
        ca = self._ca_record(session, name)
        return x509.load_der_x509_certificate(self._record(session, ca.certificate_id).der)

    def ca_signer(self, session: Session, name: str) -> KeySigner:
        """The signer of CA (or TSA/OCSP identity) `name`: its key stays in the key store."""
        return self.keystore.signer(session, self._ca_record(session, name).key_id)

    def lookup_status(
        self, session: Session, *, issuer_ca: str, serial: int
    ) -> CertificateStatusInfo | None:
        """The status of `serial` issued by `issuer_ca`, or None when we never issued it."""
        record = session.exec(
            select(CertificateRecord).where(
                CertificateRecord.issuer_ca == issuer_ca,
                CertificateRecord.serial == serial_to_hex(serial),
            )
        ).first()
        if record is None:
            return None
        issued = _to_issued(record)
        return CertificateStatusInfo(
            status=issued.status,
            not_after=issued.not_after,
            revoked_at=issued.revoked_at,
            reason=issued.revocation_reason,
        )

    def revoked_entries(self, session: Session, issuer_ca: str) -> list[RevokedSerial]:
        """Every revoked certificate of `issuer_ca`, oldest revocation first."""
        records = session.exec(
            select(CertificateRecord)
            .where(
                CertificateRecord.issuer_ca == issuer_ca,
                CertificateRecord.status == CertificateStatus.REVOKED.value,
            )
            .order_by(col(CertificateRecord.revoked_at), col(CertificateRecord.serial))
        ).all()
        entries = []
        for record in records:
            assert record.revoked_at is not None and record.revocation_reason is not None
            entries.append(
                RevokedSerial(
                    serial=int(record.serial, 16),
                    revoked_at=record.revoked_at,
                    reason=x509.ReasonFlags(record.revocation_reason),
                    not_after=record.not_after,
                )
            )
        return entries

    # -- helpers --------------------------------------------------------------------------

    def _record(self, session: Session, certificate_id: str) -> CertificateRecord:
        record = session.get(CertificateRecord, certificate_id)
        if record is None:
            raise CertificateNotFoundError(
                f"no certificate with id {certificate_id!r}", certificate_id=certificate_id
            )
        return record

    def _ca_record(self, session: Session, name: str) -> CaRecord:
        ca = session.get(CaRecord, name)
        if ca is None:
            raise HierarchyMissingError(
                f"CA {name!r} does not exist; initialise the hierarchy (eseal init)", ca=name
            )
        return ca
