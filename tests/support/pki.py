"""The test PKI's certificates, built directly with `cryptography`: independent of `pki/`, so
the tests of the CA protocols, of signing and of the verifier do not trust what they test.

`issue` makes one certificate (a CA, or a leaf with optional EKU, OCSP no-check and an OCSP
address) signed by its issuer's key; `name` the CN/O/C subjects the tests use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pki.keys import MemoryKeySigner

NOW = datetime.now(UTC).replace(microsecond=0)
"""Real time: openssl and the verifier check freshness against the wall clock."""

_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


@dataclass(frozen=True)
class Entity:
    """A certificate and its private key (and, when written, its PEM file)."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    pem: Path | None = None

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.der)

    @property
    def signer(self) -> MemoryKeySigner:
        """The key as a `KeySigner`, the way the service signs."""
        return MemoryKeySigner(self.key)


def name(
    cn: str, *, org: str | None = "eseal test", extra: Sequence[x509.NameAttribute] = ()
) -> x509.Name:
    """C=CN, O=`org` (none when None), `extra` attributes, CN=`cn`."""
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if org:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attributes.extend(extra)
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attributes)


def _key_usage(*, ca: bool, eku: Sequence[x509.ObjectIdentifier]) -> x509.KeyUsage:
    """A CA signs certificates and CRLs; a leaf signs, with non-repudiation unless it has an
    EKU (OCSP responder, TSA)."""
    flags = dict.fromkeys(_USAGES, False)
    if ca:
        flags.update(key_cert_sign=True, crl_sign=True)
    else:
        flags.update(digital_signature=True, content_commitment=not eku)
    return x509.KeyUsage(**flags)


def issue(
    subject: x509.Name,
    *,
    issuer: Entity | None,
    ca: bool,
    key: ec.EllipticCurvePrivateKey | None = None,
    curve: ec.EllipticCurve | None = None,
    path_length: int | None = None,
    eku: Sequence[x509.ObjectIdentifier] = (),
    eku_critical: bool = False,
    ocsp_nocheck: bool = False,
    ocsp_url: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Entity:
    """One certificate for `subject` (self-signed when `issuer` is None). The signature hash
    follows the issuer's curve: SHA-384 for P-384, else SHA-256. Valid from a day ago for ten
    years (a CA) or two (a leaf) unless told otherwise."""
    key = key or ec.generate_private_key(curve or ec.SECP256R1())
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=1))
        .not_valid_after(not_after or NOW + timedelta(days=365 * (10 if ca else 2)))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), False
        )
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=ca, eku=eku), critical=True)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=eku_critical)
    if ocsp_nocheck:
        builder = builder.add_extension(x509.OCSPNoCheck(), critical=False)
    if ocsp_url:
        access = x509.AccessDescription(
            x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
        )
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    p384 = isinstance(signing_key.curve, ec.SECP384R1)
    return Entity(
        cert=builder.sign(signing_key, hashes.SHA384() if p384 else hashes.SHA256()), key=key
    )


def write_pem(path: Path, *certificates: x509.Certificate) -> Path:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return path
