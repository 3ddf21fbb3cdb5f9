"""X.509 v2 certificate revocation lists (RFC 5280 §5): a pure builder.

Entries and issuer material in, DER out. Nothing here reads a database: the caller gathers
the revocations and keeps the CRL number monotonic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from pki import sm2
from pki.errors import CrlError
from pki.sm2_ca import certificate_spki
from pki.sm2_signer import Sm2KeySigner

__all__ = [
    "RevokedEntry",
    "SigningKey",
    "build_crl",
    "same_public_key",
    "sign_bytes",
    "signature_hash_for",
]

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
"""The private keys the protocol builders sign with (CRL, OCSP, TSA)."""
ProtocolKey = SigningKey | Sm2KeySigner
"""What OCSP responders and TSAs sign with: a pyca key, or an SM2 signer (SM2-with-SM3)."""

# RFC 5280 §5.2.3: the CRL number is a non-negative integer of at most 20 octets.
_MAX_CRL_NUMBER = (1 << 159) - 1


@dataclass(frozen=True, slots=True)
class RevokedEntry:
    """One revoked certificate: its serial, when it was revoked, and why (None: no reason code)."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags | None = None


def signature_hash_for(
    key: ProtocolKey,
) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | hashes.SM3:
    """The signature hash matched to the key: SHA-256/384/512 for P-256/384/521, SHA-256 for RSA,
    SM3 for SM2."""
    if isinstance(key, Sm2KeySigner):
        return hashes.SM3()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        size = key.curve.key_size
        if size >= 512:
            return hashes.SHA512()
        if size >= 384:
            return hashes.SHA384()
        return hashes.SHA256()
    if isinstance(key, rsa.RSAPrivateKey):
        return hashes.SHA256()
    raise CrlError(f"unsupported signing key type {type(key).__name__}")


def sign_bytes(key: ProtocolKey, data: bytes) -> tuple[bytes, str]:
    """Sign `data` with the hash matched to `key`; return the signature and its asn1crypto
    signature algorithm name (e.g. ``sha384_ecdsa``, ``sha256_rsa``, ``sm2_sm3``)."""
    if isinstance(key, Sm2KeySigner):
        return key.sign(data, "sm3"), sm2.ASN1_SM2_WITH_SM3
    algorithm = signature_hash_for(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm)), f"{algorithm.name}_ecdsa"
    assert isinstance(algorithm, hashes.SHA256)
    return key.sign(data, padding.PKCS1v15(), algorithm), f"{algorithm.name}_rsa"


def same_public_key(cert: x509.Certificate, key: ProtocolKey) -> bool:
    """Whether `key` is the private half of `cert`'s public key."""
    if isinstance(key, Sm2KeySigner):
        return key.public_key_info() == certificate_spki(
            cert.public_bytes(serialization.Encoding.DER)
        )
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    return cert.public_key().public_bytes(enc, fmt) == key.public_key().public_bytes(enc, fmt)


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
    issuer_key: SigningKey,
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

    digest = signature_hash_for(issuer_key)
    assert not isinstance(digest, hashes.SM3)  # SM2 CRLs: pki.sm2_ca.build_sm2_crl
    crl = builder.sign(private_key=issuer_key, algorithm=digest)
    return crl.public_bytes(serialization.Encoding.DER)
