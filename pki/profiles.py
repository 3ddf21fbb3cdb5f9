"""Certificate profiles as data, and the one function that turns a profile into a certificate.

CA, TSA, OCSP, enterprise and personal certificates differ only by their `CertificateProfile`.
Published URLs follow the public contract: `{base}/pki/ca/{ca}.crt`, `{base}/pki/crl/{ca}.crl`
and `{base}/pki/ocsp`; publish them over http:// (RFC 5280 4.2.1.13, EN 319 412-2 GEN-4.3.11-4).

Seal (enterprise) and personal certificates follow ETSI EN 319 412-2/-3/-5 as checked by
pkilint's `lint_etsi_cert` (NCP-LEGAL-PERSON / NCP-NATURAL-PERSON): nonRepudiation alone, the
name split into surname/givenName (or a pseudonym) for people, and QCStatements stating the
certificate type and the semantics of the subject identifier. The one deliberate difference:
the TSA's EKU is critical as RFC 3161 requires (GEN-4.3.10-1 wants it non-critical).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from asn1crypto import keys
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from pki.keys import KeySigner, PublicKey
from pki.qcstatements import QcProfile, QcType, Semantics, qc_statements_extension
from pki.signatures import sign_certificate

POLICY_OID = x509.ObjectIdentifier("1.3.6.1.4.1.32473.1")
"""Default certificate policy: under RFC 5612's documentation enterprise number. A deployment
sets its own (ESEAL_POLICY_OID, under its IANA enterprise number); production refuses this one.
Short arcs on purpose: UUID-based 2.25 OIDs break pkilint, Go < 1.22 and older cryptography."""


class CaName(StrEnum):
    """Names of the authority's own keys/certificates (`CaRecord.name`)."""

    ROOT = "root"
    ORGANIZATION = "organization"
    PERSONAL = "personal"
    TSA = "tsa"
    OCSP_ORGANIZATION = "ocsp-organization"
    OCSP_PERSONAL = "ocsp-personal"
    # the SM2 hierarchy beside it (GM/T 0015 certificates, SM2-with-SM3; pki/sm2_ca.py)
    SM2_ROOT = "sm2-root"
    SM2_ORGANIZATION = "sm2-organization"
    SM2_PERSONAL = "sm2-personal"
    SM2_TSA = "sm2-tsa"
    SM2_OCSP_ORGANIZATION = "sm2-ocsp-organization"
    SM2_OCSP_PERSONAL = "sm2-ocsp-personal"


class ProfileName(StrEnum):
    ROOT_CA = "root-ca"
    ISSUING_CA = "issuing-ca"
    ENTERPRISE = "enterprise-signing"
    PERSONAL = "personal-signing"
    TSA = "tsa"
    OCSP = "ocsp-responder"


class KeyUsageBit(StrEnum):
    """Key usage bits, spelled as the keyword arguments of `x509.KeyUsage`."""

    DIGITAL_SIGNATURE = "digital_signature"
    CONTENT_COMMITMENT = "content_commitment"  # nonRepudiation
    KEY_ENCIPHERMENT = "key_encipherment"
    DATA_ENCIPHERMENT = "data_encipherment"
    KEY_AGREEMENT = "key_agreement"
    KEY_CERT_SIGN = "key_cert_sign"
    CRL_SIGN = "crl_sign"


@dataclass(frozen=True)
class CertificateProfile:
    """What a kind of certificate contains; lifetimes in days."""

    name: ProfileName
    lifetime_days: int
    max_lifetime_days: int
    key_usage: frozenset[KeyUsageBit]
    ca: bool = False
    path_length: int | None = None
    extended_key_usage: tuple[x509.ObjectIdentifier, ...] = ()
    extended_key_usage_critical: bool = False
    ocsp_no_check: bool = False
    policies: tuple[x509.ObjectIdentifier, ...] = (POLICY_OID,)
    crl_distribution_point: bool = True
    ocsp_url: bool = False
    ca_issuers_url: bool = True
    qc: QcProfile | None = None
    """QCStatements to carry (EN 319 412-5), None for none."""

    def with_lifetime(self, days: int) -> CertificateProfile:
        """A copy with another default lifetime (still bounded by `max_lifetime_days`)."""
        return dataclasses.replace(
            self, lifetime_days=days, max_lifetime_days=max(days, self.max_lifetime_days)
        )


_CA_USAGE = frozenset({KeyUsageBit.KEY_CERT_SIGN, KeyUsageBit.CRL_SIGN})
_SIGNING_USAGE = frozenset({KeyUsageBit.CONTENT_COMMITMENT})
"""nonRepudiation alone: seals and personal signatures commit their subject to a document's
content (EN 319 412-2 NAT-4.3.2-1 option a; 412-3 for legal persons). digitalSignature as well
would be "mixed key usage" (the certificate could then also authenticate, e.g. TLS clients),
which EN 319 412-2 and DSS's signing-certificate KeyUsage constraint (nonRepudiation) warn on."""

ROOT_CA = CertificateProfile(
    name=ProfileName.ROOT_CA,
    lifetime_days=7305,
    max_lifetime_days=9132,
    key_usage=_CA_USAGE,
    ca=True,
    policies=(),
    crl_distribution_point=False,
    ca_issuers_url=False,
)
ISSUING_CA = CertificateProfile(
    name=ProfileName.ISSUING_CA,
    lifetime_days=3653,
    max_lifetime_days=5479,
    key_usage=_CA_USAGE,
    ca=True,
    path_length=0,
)
ENTERPRISE_SIGNING = CertificateProfile(
    name=ProfileName.ENTERPRISE,
    lifetime_days=730,
    max_lifetime_days=1826,
    key_usage=_SIGNING_USAGE,
    ocsp_url=True,
    # An electronic seal of a legal person identified by NTRCN- (EN 319 412-1 semantics Legal).
    qc=QcProfile(qc_type=QcType.ESEAL, semantics=Semantics.LEGAL),
)
PERSONAL_SIGNING = dataclasses.replace(
    ENTERPRISE_SIGNING,
    name=ProfileName.PERSONAL,
    # An electronic signature of a natural person identified by IDCCN- (semantics Natural).
    qc=QcProfile(qc_type=QcType.ESIGN, semantics=Semantics.NATURAL),
)
TSA = CertificateProfile(
    name=ProfileName.TSA,
    lifetime_days=1826,
    max_lifetime_days=3653,
    key_usage=frozenset({KeyUsageBit.DIGITAL_SIGNATURE}),
    extended_key_usage=(ExtendedKeyUsageOID.TIME_STAMPING,),
    extended_key_usage_critical=True,  # RFC 3161 2.3; `openssl ts -verify` insists
)
OCSP_RESPONDER = CertificateProfile(
    name=ProfileName.OCSP,
    lifetime_days=365,
    max_lifetime_days=730,
    key_usage=frozenset({KeyUsageBit.DIGITAL_SIGNATURE}),
    extended_key_usage=(ExtendedKeyUsageOID.OCSP_SIGNING,),
    ocsp_no_check=True,  # RFC 6960 4.2.2.2.1: clients need not check the responder
    crl_distribution_point=False,
)


@dataclass(frozen=True)
class ProfileSet:
    """The profiles an `Authority` uses; replace one to change lifetimes."""

    root_ca: CertificateProfile = ROOT_CA
    issuing_ca: CertificateProfile = ISSUING_CA
    enterprise: CertificateProfile = ENTERPRISE_SIGNING
    personal: CertificateProfile = PERSONAL_SIGNING
    tsa: CertificateProfile = TSA
    ocsp: CertificateProfile = OCSP_RESPONDER

    def by_name(self, name: ProfileName | str) -> CertificateProfile:
        """The profile called `name` (KeyError when there is none)."""
        for f in dataclasses.fields(self):
            profile: CertificateProfile = getattr(self, f.name)
            if profile.name == name:
                return profile
        raise KeyError(name)

    def with_policy(self, *policies: x509.ObjectIdentifier) -> ProfileSet:
        """A copy whose profiles that carry certificate policies carry `policies` instead."""
        changes = {
            f.name: dataclasses.replace(getattr(self, f.name), policies=policies)
            for f in dataclasses.fields(self)
            if getattr(self, f.name).policies
        }
        return dataclasses.replace(self, **changes)

    def with_qualified(self, *, compliance: bool, sscd: bool) -> ProfileSet:
        """A copy whose QC profiles state EU qualified status / a QSCD as configured (only a
        deployment that is a qualified trust service with such devices may say so)."""
        changes = {
            f.name: dataclasses.replace(
                getattr(self, f.name),
                qc=dataclasses.replace(getattr(self, f.name).qc, compliance=compliance, sscd=sscd),
            )
            for f in dataclasses.fields(self)
            if getattr(self, f.name).qc is not None
        }
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class PublicationUrls:
    """Where relying parties fetch CA certificates, CRLs and OCSP answers."""

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def ca_certificate(self, ca: str) -> str:
        return f"{self.base_url}/pki/ca/{ca}.crt"

    def crl(self, ca: str) -> str:
        return f"{self.base_url}/pki/crl/{ca}.crl"

    @property
    def ocsp(self) -> str:
        return f"{self.base_url}/pki/ocsp"


@dataclass(frozen=True)
class CertificateTemplate:
    """Everything `build_certificate` needs besides the profile and the issuer key."""

    subject: x509.Name
    subject_public_key: PublicKey | bytes
    """A pyca key, or the DER SubjectPublicKeyInfo of a key pyca cannot load (SM2)."""
    issuer_name: x509.Name
    issuer_public_key: PublicKey | bytes
    issuer_ca: str
    serial_number: int
    not_before: datetime
    not_after: datetime
    urls: PublicationUrls
    self_signed: bool = field(default=False)
    extra_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = ()
    """Certificate-specific extensions (value, critical), e.g. the seal binding."""


def new_serial_number() -> int:
    """A random positive serial of at most 20 octets (159 random bits, never zero)."""
    while True:
        serial = x509.random_serial_number()
        if serial:
            return serial


def lifetime(profile: CertificateProfile, days: int | None) -> timedelta:
    """The requested lifetime, or the profile default; ValueError when out of bounds."""
    chosen = profile.lifetime_days if days is None else days
    if not 1 <= chosen <= profile.max_lifetime_days:
        raise ValueError(
            f"lifetime of {chosen} days is outside 1..{profile.max_lifetime_days} "
            f"for profile {profile.name}"
        )
    return timedelta(days=chosen)


def key_identifier(key: PublicKey | bytes) -> bytes:
    """RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (as pyca computes it)."""
    if isinstance(key, bytes):
        bits = keys.PublicKeyInfo.load(key)["public_key"].contents[1:]
        return hashlib.sha1(bits).digest()  # noqa: S324  (an identifier, not a signature)
    return x509.SubjectKeyIdentifier.from_public_key(key).digest


def _key_usage(bits: frozenset[KeyUsageBit]) -> x509.KeyUsage:
    flags = {bit.value: bit in bits for bit in KeyUsageBit}
    return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)


def certificate_extensions(
    *, profile: CertificateProfile, template: CertificateTemplate
) -> list[tuple[x509.ExtensionType, bool]]:
    """The extensions (value, critical) that `profile` puts into a certificate."""
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=profile.ca, path_length=profile.path_length), True),
        (_key_usage(profile.key_usage), True),
    ]
    if profile.extended_key_usage:
        extensions.append(
            (
                x509.ExtendedKeyUsage(list(profile.extended_key_usage)),
                profile.extended_key_usage_critical,
            )
        )
    ski = x509.SubjectKeyIdentifier(key_identifier(template.subject_public_key))
    extensions.append((ski, False))
    # Also in self-signed roots (RFC 5280 4.2.1.1 allows it; chain linters expect it).
    aki = x509.AuthorityKeyIdentifier(key_identifier(template.issuer_public_key), None, None)
    extensions.append((aki, False))
    if profile.policies:
        policies = [x509.PolicyInformation(oid, None) for oid in profile.policies]
        extensions.append((x509.CertificatePolicies(policies), False))
    if profile.crl_distribution_point:
        point = x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(template.urls.crl(template.issuer_ca))],
            relative_name=None,
            reasons=None,
            crl_issuer=None,
        )
        extensions.append((x509.CRLDistributionPoints([point]), False))
    access: list[x509.AccessDescription] = []
    if profile.ocsp_url:
        access.append(
            x509.AccessDescription(
                x509.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier(template.urls.ocsp),
            )
        )
    if profile.ca_issuers_url:
        access.append(
            x509.AccessDescription(
                x509.AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(template.urls.ca_certificate(template.issuer_ca)),
            )
        )
    if access:
        extensions.append((x509.AuthorityInformationAccess(access), False))
    if profile.ocsp_no_check:
        extensions.append((x509.OCSPNoCheck(), False))
    if profile.qc is not None:
        extensions.append((qc_statements_extension(profile.qc), False))
    extensions.extend(template.extra_extensions)
    return extensions


def build_certificate(
    *, profile: CertificateProfile, template: CertificateTemplate, issuer: KeySigner
) -> x509.Certificate:
    """Sign a certificate for `template` according to `profile` by `issuer`."""
    if isinstance(template.subject_public_key, bytes):
        raise TypeError("an SM2 subject key is certified by pki.sm2_ca, not pyca")
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(template.issuer_name)
        .public_key(template.subject_public_key)
        .serial_number(template.serial_number)
        .not_valid_before(template.not_before)
        .not_valid_after(template.not_after)
    )
    for value, critical in certificate_extensions(profile=profile, template=template):
        builder = builder.add_extension(value, critical=critical)
    return sign_certificate(builder, issuer)
