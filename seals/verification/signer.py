"""Who signed: the signer's names and identifiers read from certificates (ID numbers masked)."""

from __future__ import annotations

import hashlib
import logging

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.sign.validation import EmbeddedPdfSignature
from pyhanko_certvalidator.path import ValidationPath

from pki.identifiers import mask_resident_id
from seals.reports import SignerInfo
from seals.verification.findings import safe

logger = logging.getLogger(__name__)


ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")


def has_cert(emb: EmbeddedPdfSignature) -> bool:
    try:
        return emb.signer_cert is not None
    except Exception:
        return False


def to_crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def signer_info(cert: asn1_x509.Certificate) -> SignerInfo:
    crypto = to_crypto(cert)
    subject = crypto.subject

    def attr(oid: x509.ObjectIdentifier) -> str | None:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else None

    cn = attr(x509.NameOID.COMMON_NAME)
    org = attr(x509.NameOID.ORGANIZATION_NAME)
    org_id = attr(ORGANIZATION_IDENTIFIER)
    serial_attr = attr(x509.NameOID.SERIAL_NUMBER)
    credit = org_id[len("NTRCN-") :] if org_id and org_id.startswith("NTRCN-") else None
    resident = (
        mask_resident_id(serial_attr[len("IDCCN-") :])
        if serial_attr and serial_attr.startswith("IDCCN-")
        else None
    )
    if org and credit:
        summary = f"{org}（统一社会信用代码 {credit}）"
        if cn and cn != org:
            summary = f"{cn} / {summary}"
    elif resident:
        summary = f"{cn or ''}（身份证 {resident}）"
    else:
        summary = cn or org or masked_dn(crypto.subject)
    return SignerInfo(
        summary=summary,
        common_name=cn,
        organization=org,
        credit_code=credit,
        resident_id_masked=resident,
        certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        certificate_serial=format(crypto.serial_number, "x"),
        issuer=crypto.issuer.rfc4514_string(),
        not_before=safe(lambda: crypto.not_valid_before_utc),
        not_after=safe(lambda: crypto.not_valid_after_utc),
    )


_SHORT_NAMES = {
    x509.NameOID.COMMON_NAME: "CN",
    x509.NameOID.ORGANIZATION_NAME: "O",
    x509.NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    x509.NameOID.COUNTRY_NAME: "C",
    x509.NameOID.STATE_OR_PROVINCE_NAME: "ST",
    x509.NameOID.LOCALITY_NAME: "L",
    x509.NameOID.SERIAL_NUMBER: "serialNumber",
    ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


def masked_dn(name: x509.Name) -> str:
    """`CN=..., O=..., C=...` most specific first; resident ID numbers masked."""
    parts = []
    for attribute in reversed(list(name)):
        value = str(attribute.value)
        if attribute.oid == x509.NameOID.SERIAL_NUMBER and value.startswith("IDCCN-"):
            value = "IDCCN-" + mask_resident_id(value[6:])
        label = _SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
        parts.append(f"{label}={value}")
    return ", ".join(parts)


def chain_subjects(path: ValidationPath | None) -> tuple[str, ...]:
    if path is None:
        return ()
    try:
        certs = list(path.iter_certs(include_root=True))
    except Exception:
        return ()
    out = []
    for cert in reversed(certs):
        out.append(masked_dn(to_crypto(cert).subject))
    return tuple(out)


def anchor_subject(path: ValidationPath | None) -> str | None:
    if path is None:
        return None
    try:
        return masked_dn(to_crypto(path.trust_anchor.certificate).subject)  # type: ignore[attr-defined]
    except Exception:
        return None
