"""Certificates of one issuer and profile assembled from DER pieces (RFC 5280 §4.1).

Issue 12's profile of an issuance: pyca's `CertificateBuilder`, the stand-in signature that
fixes its to-be-signed bytes and the asn1crypto round trip that swaps the real signature in
(pki/signatures.py) cost several times the signature itself, while most of a TBSCertificate
is the same for every certificate one CA issues under one profile: version, signature
algorithm, issuer name and every extension but the subject key identifier (and any
certificate-specific one such as the seal binding). So `CertificateDer.of` takes those pieces
from a probe certificate that the full builder (`pki.profiles.build_certificate`) signs once
per issuer, and each certificate is then a few concatenations around the serial, validity,
subject, key, key identifier and extra extensions, plus one signature. The bytes are those the
full builder writes for the same inputs (tests/pki/test_cert_der.py compares them, and
pkilint and `openssl verify` check the certificates), and every signature is still verified
against the issuer's public key before the certificate is used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from asn1crypto import core
from cryptography import x509

from pki.errors import KeyStoreError, PkiError
from pki.keys import KeySigner, PublicKey, load_public_key, signature_digest
from pki.signatures import verify_signature
from pki.tsa_der import tlv

__all__ = ["CertificateDer", "der_elements"]

_SEQUENCE, _OCTETS, _BIT_STRING = 0x30, 0x04, 0x03
_EXTENSIONS_TAG = 0xA3  # [3] EXPLICIT Extensions
_SKI_OID = b"\x06\x03\x55\x1d\x0e"  # id-ce-subjectKeyIdentifier, DER
_CRITICAL = b"\x01\x01\xff"
_TBS_FIELDS = 8  # version, serial, signature, issuer, validity, subject, spki, extensions


def der_elements(der: bytes) -> list[bytes]:
    """The complete TLVs inside one constructed DER element (definite lengths only)."""
    header, _ = _header(der, 0)
    items, at = [], header
    while at < len(der):
        head, length = _header(der, at)
        items.append(der[at : at + head + length])
        at += head + length
    if at != len(der):
        raise PkiError("malformed DER: an element overruns its container")
    return items


def _header(der: bytes, at: int) -> tuple[int, int]:
    """(header length, content length) of the element starting at `at`."""
    first = der[at + 1]
    if first < 0x80:
        return 2, first
    size = first & 0x7F
    return 2 + size, int.from_bytes(der[at + 2 : at + 2 + size], "big")


def _content(element: bytes) -> bytes:
    head, _ = _header(element, 0)
    return element[head:]


def _integer(value: int) -> bytes:
    size = value.bit_length() // 8 + 1  # serials are positive: a leading 0 bit always fits
    return tlv(0x02, value.to_bytes(size, "big"))


def _time(value: datetime) -> bytes:
    """UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds
    (pyca drops the microseconds too)."""
    value = value.astimezone(UTC)
    if 1950 <= value.year < 2050:
        return tlv(0x17, value.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return tlv(0x18, value.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


@cache
def _oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def _extension(value: x509.ExtensionType, critical: bool) -> bytes:
    """One Extension as pyca encodes it (critical omitted when FALSE, its DER default)."""
    body = _oid(value.oid.dotted_string) + (_CRITICAL if critical else b"")
    return tlv(_SEQUENCE, body + tlv(_OCTETS, value.public_bytes()))


def key_identifier_of_spki(spki: bytes) -> bytes:
    """SHA-1 of the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1, as pyca computes it)."""
    bits = der_elements(spki)[1]
    return hashlib.sha1(_content(bits)[1:]).digest()  # noqa: S324  (an identifier)


@dataclass(frozen=True, slots=True)
class CertificateDer:
    """The constant parts of the certificates `signer` issues under one profile."""

    version: bytes
    signature_algorithm: bytes
    issuer: bytes
    extensions_before_ski: bytes
    extensions_after_ski: bytes
    signer: KeySigner
    issuer_key: PublicKey
    digest: str

    @classmethod
    def of(cls, probe: x509.Certificate, signer: KeySigner) -> CertificateDer:
        """The template behind `probe`, a certificate the full builder made for this issuer
        and profile with no extra extensions."""
        fields = der_elements(probe.tbs_certificate_bytes)
        if len(fields) != _TBS_FIELDS or fields[7][0] != _EXTENSIONS_TAG:
            raise PkiError("the probe certificate has an unexpected TBSCertificate shape")
        extensions = der_elements(_content(fields[7]))
        ski = [i for i, ext in enumerate(extensions) if der_elements(ext)[0] == _SKI_OID]
        if len(ski) != 1:
            raise PkiError("the probe certificate has no subject key identifier")
        return cls(
            version=fields[0],
            signature_algorithm=fields[2],
            issuer=fields[3],
            extensions_before_ski=b"".join(extensions[: ski[0]]),
            extensions_after_ski=b"".join(extensions[ski[0] + 1 :]),
            signer=signer,
            issuer_key=load_public_key(signer.public_key_info()),
            digest=signature_digest(signer.algorithm),
        )

    def tbs(
        self,
        *,
        serial_number: int,
        not_before: datetime,
        not_after: datetime,
        subject: x509.Name,
        subject_spki: bytes,
        extra_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    ) -> bytes:
        """The TBSCertificate the full builder would write for these values."""
        ski = tlv(_OCTETS, tlv(_OCTETS, key_identifier_of_spki(subject_spki)))
        extensions = (
            self.extensions_before_ski
            + tlv(_SEQUENCE, _SKI_OID + ski)
            + self.extensions_after_ski
            + b"".join(_extension(value, critical) for value, critical in extra_extensions)
        )
        return tlv(
            _SEQUENCE,
            self.version
            + _integer(serial_number)
            + self.signature_algorithm
            + self.issuer
            + tlv(_SEQUENCE, _time(not_before) + _time(not_after))
            + subject.public_bytes()
            + subject_spki
            + tlv(_EXTENSIONS_TAG, tlv(_SEQUENCE, extensions)),
        )

    def sign(self, tbs: bytes) -> bytes:
        """The certificate: `tbs`, the algorithm and the issuer's signature, checked against
        the issuer's public key before it is handed out (as `pki.signatures` does)."""
        signature = self.signer.sign(tbs, self.digest)
        if not verify_signature(self.issuer_key, signature, tbs, self.digest):
            raise KeyStoreError(
                f"key {self.signer.key_id!r} produced a signature that does not verify"
            )
        bits = tlv(_BIT_STRING, b"\x00" + signature)
        return tlv(_SEQUENCE, tbs + self.signature_algorithm + bits)
