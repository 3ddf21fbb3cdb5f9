"""SM2 certificates and CRLs: asn1crypto structures signed SM2-with-SM3 (GM/T 0015 shape).

pyca/cryptography cannot sign or load SM2 keys, so the TBSCertificate and TBSCertList are
built here; the extensions come from the same `CertificateProfile` machinery as the ECDSA
hierarchy (pki/profiles.py), so policies, CRL distribution points, AIA and the seal binding
are identical. GM/T 0015-2012 differences: signing certificates carry digitalSignature and
nonRepudiation (Chinese verifiers check digitalSignature), no EU QCStatements, and the
identity extensions of GM/T 0015 section 7.3.2 (1.2.156.10260.4.1.x).

The signature AlgorithmIdentifier is sm2-with-sm3 (1.2.156.10197.1.501) with parameters absent,
as OpenSSL and Tongsuo write it; signatures use the default user ID 1234567812345678.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from asn1crypto import core
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from pki import sm2
from pki.errors import CrlError, InvalidRequestError, KeyStoreError
from pki.profiles import (
    CaName,
    CertificateProfile,
    CertificateTemplate,
    KeyUsageBit,
    ProfileSet,
    certificate_extensions,
    key_identifier,
)

SM2_CAS = frozenset(
    {
        CaName.SM2_ROOT,
        CaName.SM2_ORGANIZATION,
        CaName.SM2_PERSONAL,
        CaName.SM2_TSA,
        CaName.SM2_OCSP_ORGANIZATION,
        CaName.SM2_OCSP_PERSONAL,
    }
)
SM2_ISSUING_CA = {
    CaName.ORGANIZATION: CaName.SM2_ORGANIZATION,
    CaName.PERSONAL: CaName.SM2_PERSONAL,
}
"""The SM2 issuing CA beside each ECDSA one: dual certificates come from the pair."""

# GM/T 0015-2012 7.3.2 identity extensions (all non-critical)
OID_IDENTIFY_CODE = "1.2.156.10260.4.1.1"
"""IdentifyCode ::= CHOICE { residenterCardNumber [0] PrintableString, ... } (ID number)."""
OID_IC_REGISTRATION_NUMBER = "1.2.156.10260.4.1.3"
"""ICRegistrationNumber ::= PrintableString: the business registration number, which the
unified social credit code (GB 32100-2015) replaced; we write the USCC."""
OID_ORGANIZATION_CODE = "1.2.156.10260.4.1.4"
"""OrganizationCode ::= PrintableString: the 9-character organisation code (GB 11714), which
is characters 9-17 of the USCC."""

_UTC_TIME_END = datetime(2050, 1, 1, tzinfo=UTC)


class Sm2Signer(Protocol):
    """What this module needs of a `KeySigner` holding an SM2 key."""

    def public_key_info(self) -> bytes: ...

    def sign(self, data: bytes, digest: str) -> bytes: ...


def is_sm2_ca(name: str) -> bool:
    """Whether CA (or service identity) `name` belongs to the SM2 hierarchy."""
    return name in {ca.value for ca in SM2_CAS}


def gm_profiles(profiles: ProfileSet) -> ProfileSet:
    """The SM2 variants of `profiles`: GM/T 0015 signing key usage, no EU QCStatements."""
    usage = frozenset({KeyUsageBit.DIGITAL_SIGNATURE, KeyUsageBit.CONTENT_COMMITMENT})
    return dataclasses.replace(
        profiles,
        enterprise=dataclasses.replace(profiles.enterprise, key_usage=usage, qc=None),
        personal=dataclasses.replace(profiles.personal, key_usage=usage, qc=None),
    )


def _printable(text: str) -> bytes:
    return core.PrintableString(text).dump()


def enterprise_extensions(uscc: str) -> tuple[tuple[x509.ExtensionType, bool], ...]:
    """GM/T 0015 identity extensions of an organisation with unified social credit code."""
    return (
        (
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier(OID_IC_REGISTRATION_NUMBER), _printable(uscc)
            ),
            False,
        ),
        (
            x509.UnrecognizedExtension(
                x509.ObjectIdentifier(OID_ORGANIZATION_CODE), _printable(uscc[8:17])
            ),
            False,
        ),
    )


def person_extensions(resident_id: str) -> tuple[tuple[x509.ExtensionType, bool], ...]:
    """GM/T 0015 IdentifyCode with the resident identity card number ([0] PrintableString)."""
    choice = core.PrintableString(resident_id, implicit=0).dump()
    return ((x509.UnrecognizedExtension(x509.ObjectIdentifier(OID_IDENTIFY_CODE), choice), False),)


def _time(value: datetime) -> asn1_x509.Time:
    """UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5)."""
    value = value.astimezone(UTC).replace(microsecond=0)
    if value < _UTC_TIME_END:
        return asn1_x509.Time(name="utc_time", value=value)
    return asn1_x509.Time(name="general_time", value=value)


def _name(name: x509.Name) -> asn1_x509.Name:
    return asn1_x509.Name.load(name.public_bytes())


def _extensions(
    profile: CertificateProfile, template: CertificateTemplate
) -> list[asn1_x509.Extension]:
    return [
        asn1_x509.Extension(
            {
                "extn_id": value.oid.dotted_string,
                "critical": critical,
                "extn_value": core.ParsableOctetString(value.public_bytes()),
            }
        )
        for value, critical in certificate_extensions(profile=profile, template=template)
    ]


def _checked_signature(signer: Sm2Signer, tbs: bytes) -> bytes:
    """The signer's SM2 signature over `tbs`, verified before it is published (a faulty
    device or a wrong key must not yield a certificate or CRL that does not verify)."""
    signature = signer.sign(tbs, "sm3")
    if not sm2.verify(signer.public_key_info(), tbs, signature):
        raise KeyStoreError("the SM2 signer produced a signature that does not verify")
    return signature


def build_sm2_certificate(
    *, profile: CertificateProfile, template: CertificateTemplate, signer: Sm2Signer
) -> bytes:
    """DER certificate for `template` under `profile`, signed by the issuer's SM2 signer."""
    if not isinstance(template.subject_public_key, bytes):
        raise InvalidRequestError("an SM2 certificate certifies an SM2 SubjectPublicKeyInfo")
    sm2.point_from_spki(template.subject_public_key)  # ValueError for a non-SM2 key
    if signer.public_key_info() != template.issuer_public_key:
        raise InvalidRequestError("the signer does not hold the issuer's key")
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": template.serial_number,
            "signature": sm2.signature_algorithm(),
            "issuer": _name(template.issuer_name),
            "validity": {
                "not_before": _time(template.not_before),
                "not_after": _time(template.not_after),
            },
            "subject": _name(template.subject),
            "subject_public_key_info": asn1_x509.PublicKeyInfo.load(template.subject_public_key),
            "extensions": _extensions(profile, template),
        }
    )
    signature = _checked_signature(signer, tbs.dump())
    return asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": sm2.signature_algorithm(),
            "signature_value": signature,
        }
    ).dump()


def certificate_spki(der: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of a certificate (pyca cannot load SM2 keys)."""
    return bytes(
        asn1_x509.Certificate.load(der)["tbs_certificate"]["subject_public_key_info"].dump()
    )


def verify_certificate_signature(certificate_der: bytes, issuer_spki: bytes) -> bool:
    """Whether the certificate's SM2-with-SM3 signature verifies under `issuer_spki`."""
    cert = asn1_x509.Certificate.load(certificate_der)
    if cert["signature_algorithm"]["algorithm"].dotted != sm2.OID_SM2_WITH_SM3:
        return False
    tbs = cert["tbs_certificate"].dump()
    return sm2.verify(issuer_spki, tbs, bytes(cert["signature_value"]))


def build_sm2_crl(
    *,
    issuer_der: bytes,
    signer: Sm2Signer,
    entries: Iterable[tuple[int, datetime, x509.ReasonFlags | None]],
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """An X.509 v2 CRL (CRL number, AKI, reason codes) signed SM2-with-SM3; DER."""
    if number < 0 or number.bit_length() > 159:
        raise CrlError(f"CRL number {number} is outside 0..2**159-1")
    if this_update.tzinfo is None or next_update.tzinfo is None or next_update <= this_update:
        raise CrlError("the CRL times must be timezone-aware and next_update after this_update")
    issuer = asn1_x509.Certificate.load(issuer_der)
    spki = issuer["tbs_certificate"]["subject_public_key_info"].dump()
    if signer.public_key_info() != spki:
        raise CrlError("the signer does not hold the CRL issuer's key")
    revoked = []
    seen: set[int] = set()
    for serial, revoked_at, reason in sorted(entries, key=lambda e: e[0]):
        if serial <= 0 or serial in seen:
            raise CrlError(f"serial {serial:x} is not positive or listed twice")
        seen.add(serial)
        entry: dict[str, object] = {
            "user_certificate": serial,
            "revocation_date": _time(revoked_at),
        }
        if reason is not None and reason is not x509.ReasonFlags.unspecified:
            if reason is x509.ReasonFlags.remove_from_crl:
                raise CrlError("removeFromCRL is only meaningful in delta CRLs")
            code = x509.CRLReason(reason).public_bytes()
            reason_code = asn1_crl.CRLReason.load(code)
            entry["crl_entry_extensions"] = [
                {"extn_id": "crl_reason", "critical": False, "extn_value": reason_code}
            ]
        revoked.append(asn1_crl.RevokedCertificate(entry))
    aki = asn1_x509.AuthorityKeyIdentifier({"key_identifier": key_identifier(spki)})
    tbs_data: dict[str, object] = {
        "version": "v2",
        "signature": sm2.signature_algorithm(),
        "issuer": issuer["tbs_certificate"]["subject"],
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            {"extn_id": "authority_key_identifier", "critical": False, "extn_value": aki},
            {"extn_id": "crl_number", "critical": False, "extn_value": number},
        ],
    }
    if revoked:
        tbs_data["revoked_certificates"] = revoked
    tbs = asn1_crl.TbsCertList(tbs_data)
    signature = _checked_signature(signer, tbs.dump())
    return asn1_crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": sm2.signature_algorithm(),
            "signature": signature,
        }
    ).dump()


def ocsp_request(certificate_der: bytes, issuer_der: bytes) -> bytes:
    """An OCSP request (SHA-256 CertID) for a certificate whose issuer key pyca cannot load."""
    issuer = asn1_x509.Certificate.load(issuer_der)
    key_bits = issuer["tbs_certificate"]["subject_public_key_info"]["public_key"].contents[1:]
    serial = asn1_x509.Certificate.load(certificate_der).serial_number
    cert_id = asn1_ocsp.CertId(
        {
            "hash_algorithm": {"algorithm": "sha256"},
            "issuer_name_hash": hashlib.sha256(
                issuer["tbs_certificate"]["subject"].dump()
            ).digest(),
            "issuer_key_hash": hashlib.sha256(key_bits).digest(),
            "serial_number": serial,
        }
    )
    request = asn1_ocsp.TBSRequest({"request_list": [{"req_cert": cert_id}]})
    return asn1_ocsp.OCSPRequest({"tbs_request": request}).dump()
