"""X.509 v2 certificate revocation lists (RFC 5280 §5): a pure builder.

Entries and issuer material in, DER out. Nothing here reads a database: the caller gathers
the revocations and keeps the CRL number monotonic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pki.errors import CrlError
from pki.keys import KeySigner
from pki.signatures import same_public_key, sign_crl

__all__ = ["RevokedEntry", "build_crl"]

# RFC 5280 §5.2.3: the CRL number is a non-negative integer of at most 20 octets.
_MAX_CRL_NUMBER = (1 << 159) - 1


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One revoked certificate: its serial, when it was revoked, and why (None: no reason code)."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags | None = None


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise CrlError(f"{what} must be timezone-aware")
    return value.astimezone(UTC)


def _authority_key_identifier(issuer_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def build_crl(
    *,
    issuer_cert: x509.Certificate,
    issuer_key: KeySigner,
    entries: Iterable[RevokedEntry],
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """Build and sign a v2 CRL (CRL number, AKI, a reason code per entry) and return its DER.

    A reason of None or `unspecified` is encoded without a reason code (RFC 5280 §5.3.1);
    `remove_from_crl` belongs to delta CRLs only and is refused, as are duplicate serials.
    """
    if not 0 <= number <= _MAX_CRL_NUMBER:
        raise CrlError(f"CRL number {number} is outside 0..2**159-1")
    this_update = _utc(this_update, "this_update")
    next_update = _utc(next_update, "next_update")
    if next_update <= this_update:
        raise CrlError("next_update must be after this_update")
    if not same_public_key(issuer_cert, issuer_key):
        raise CrlError("issuer_key does not match issuer_cert")

    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer_cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(_authority_key_identifier(issuer_cert), critical=False)
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    seen: set[int] = set()
    for entry in sorted(entries, key=lambda e: e.serial):
        if entry.serial <= 0:
            raise CrlError(f"serial {entry.serial} is not a positive integer")
        if entry.serial in seen:
            raise CrlError(f"serial {entry.serial:x} is listed twice")
        seen.add(entry.serial)
        if entry.reason is x509.ReasonFlags.remove_from_crl:
            raise CrlError("removeFromCRL is only meaningful in delta CRLs")
        revoked = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(_utc(entry.revoked_at, "revoked_at"))
        )
        if entry.reason is not None and entry.reason is not x509.ReasonFlags.unspecified:
            revoked = revoked.add_extension(x509.CRLReason(entry.reason), critical=False)
        builder = builder.add_revoked_certificate(revoked.build())

    crl = sign_crl(builder, issuer_key)
    return crl.public_bytes(serialization.Encoding.DER)
