"""Electronic signature data (签章数据, SES_Signature): build v4, read v1 and v4, verify.

The signer signs DER(TBS_Sign) = (version 4, the SESeal, the signing time, SM3 of the signed
bytes, a property string); the optional `timeStamp` is an RFC 3161 token over the signature
value. For a PDF the signed bytes are the two ByteRange pieces and the property string records
the ByteRange, so the structure says what it covers without the PDF around it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import core, x509

from seals.gbt38540 import asn1
from seals.gbt38540.checks import (
    CERT_LIST,
    DATA_HASH,
    SEAL_VALIDITY,
    SIGNATURE,
    SIGNER_CERT_VALIDITY,
    SesCheck,
    SesChecks,
)
from seals.gbt38540.seal import (
    ParsedSeal,
    SealSigner,
    SesFormatError,
    Verifier,
    cert_digest,
    parse_seal_value,
    sm2_check,
    sm2_verify,
    verify_seal,
)

_DIGESTS = {"SM3": "sm3", "SHA256": "sha256", "SHA-256": "sha256", "SHA1": "sha1"}


@dataclass(frozen=True)
class ParsedSignature:
    version: int  # 1 or 4 (v5 signatures share the v4 shape)
    seal: ParsedSeal
    time: datetime | None  # v4 GeneralizedTime; None when a v1 timeInfo is not a plain time
    time_info_raw: bytes  # v1: the BIT STRING bytes (a time or a time-stamp), v4: DER time
    data_hash: bytes
    property_info: str
    signer_certificate: bytes
    signature_algorithm: str
    signature: bytes
    time_stamp: bytes | None
    signed_bytes: bytes  # DER(TBS_Sign) as it appears in the file


def build_signature(
    *,
    seal_der: bytes,
    signed_data: bytes | None = None,
    data_hash: bytes | None = None,
    time: datetime,
    property_info: str,
    signer: SealSigner,
    signer_certificate: bytes,
    time_stamp: bytes | None = None,
) -> bytes:
    """DER SES_Signature v4 over `signed_data`, or over bytes whose SM3 is `data_hash`."""
    if (signed_data is None) == (data_hash is None):
        raise ValueError("give exactly one of signed_data and data_hash")
    if data_hash is None:
        data_hash = hashlib.new("sm3", signed_data or b"").digest()
    if time.tzinfo is None:
        raise ValueError("the signing time must be timezone-aware")
    tbs = asn1.TBSSignV4(
        {
            "version": 4,
            "eseal": asn1.SESealV4.load(seal_der),
            "time_info": core.GeneralizedTime(time.astimezone(UTC).replace(microsecond=0)),
            "data_hash": data_hash,
            "property_info": property_info,
        }
    )
    signature = signer.sign(tbs.dump(), "sm3")
    fields: dict[str, object] = {
        "to_sign": tbs,
        "cert": signer_certificate,
        "signature_alg_id": asn1.SM2_WITH_SM3,
        "signature": signature,
    }
    if time_stamp is not None:
        fields["time_stamp"] = time_stamp
    return asn1.SESSignatureV4(fields).dump()


def _parse_v4(der: bytes) -> ParsedSignature:
    value = asn1.SESSignatureV4.load(der, strict=True)
    tbs = value["to_sign"]
    ts = value["time_stamp"]
    time_info = tbs["time_info"]
    return ParsedSignature(
        version=4,
        seal=parse_seal_value(tbs["eseal"]),
        time=time_info.native.astimezone(UTC),
        time_info_raw=time_info.dump(),
        data_hash=tbs["data_hash"].native,
        property_info=tbs["property_info"].native,
        signer_certificate=value["cert"].native,
        signature_algorithm=value["signature_alg_id"].dotted,
        signature=value["signature"].native,
        time_stamp=None if isinstance(ts, core.Void) else ts.native,
        signed_bytes=tbs.dump(),
    )


def _v1_time(raw: bytes) -> datetime | None:
    """v1 timeInfo is a BIT STRING holding a UTCTime/GeneralizedTime (DER or its text)."""
    for kind in (core.UTCTime, core.GeneralizedTime):
        try:
            parsed = kind.load(raw, strict=True).native
        except (ValueError, TypeError):
            try:
                parsed = kind(raw.decode("ascii")).native
            except (ValueError, TypeError, UnicodeDecodeError):
                continue
        if isinstance(parsed, datetime):
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _parse_v1(der: bytes) -> ParsedSignature:
    value = asn1.SESSignatureV1.load(der, strict=True)
    tbs = value["to_sign"]
    raw_time = tbs["time_info"].native
    return ParsedSignature(
        version=1,
        seal=parse_seal_value(tbs["eseal"]),
        time=_v1_time(raw_time),
        time_info_raw=raw_time,
        data_hash=tbs["data_hash"].native,
        property_info=tbs["property_info"].native,
        signer_certificate=tbs["cert"].native,
        signature_algorithm=tbs["signature_algorithm"].dotted,
        signature=value["signature"].native,
        time_stamp=None,
        signed_bytes=tbs.dump(),
    )


def parse_signature(der: bytes) -> ParsedSignature:
    """Parse DER SES_Signature (v1: 2 elements, v4/v5: 4 or 5); SesFormatError if unreadable."""
    try:
        generic = core.Sequence.load(der, strict=True)
        count = len(generic)
        if count == 2:
            return _parse_v1(der)
        if count in (4, 5):
            return _parse_v4(der)
    except SesFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise SesFormatError(f"SES_Signature cannot be read: {exc}") from exc
    raise SesFormatError(f"SES_Signature with {count} elements is no known version")


def _cert_list_check(seal: ParsedSeal, certificate: bytes) -> SesCheck:
    if seal.cert_list_type == asn1.CERT_LIST_CERTS:
        listed = certificate in seal.certificates
        return SesCheck(
            CERT_LIST,
            listed,
            f"the signer certificate is {'one' if listed else 'none'} of the "
            f"{len(seal.certificates)} certificates the seal lists",
        )
    unknown = [kind for kind, _ in seal.cert_digests if kind.upper() not in _DIGESTS]
    for kind, value in seal.cert_digests:
        algorithm = _DIGESTS.get(kind.upper())
        if algorithm and hashlib.new(algorithm, certificate).digest() == value:
            return SesCheck(CERT_LIST, True, f"the signer certificate's {kind} digest is listed")
    if unknown:
        return SesCheck(CERT_LIST, None, f"certificate digests of unknown type {unknown}")
    return SesCheck(CERT_LIST, False, "the signer certificate's digest is not listed")


def _validity_check(certificate: bytes, at: datetime | None) -> SesCheck:
    try:
        validity = x509.Certificate.load(certificate)["tbs_certificate"]["validity"]
        start = validity["not_before"].native
        end = validity["not_after"].native
    except (ValueError, TypeError, KeyError) as exc:
        return SesCheck(SIGNER_CERT_VALIDITY, None, f"the signer certificate: {exc}")
    if at is None:
        return SesCheck(SIGNER_CERT_VALIDITY, None, "the signing time cannot be read")
    inside = start <= at <= end
    return SesCheck(
        SIGNER_CERT_VALIDITY,
        inside,
        f"signing time {at.isoformat()} {'within' if inside else 'outside'} the signer "
        f"certificate validity {start.isoformat()} .. {end.isoformat()}",
    )


def verify_signature(
    parsed: ParsedSignature, *, signed_data: bytes, verify: Verifier = sm2_verify
) -> SesChecks:
    """Every check of one SES_Signature over `signed_data`, each named (see checks.py).

    The seal is judged at the signing time the signature claims; whether that time is proven
    (time-stamp) and whether both certificates chain to trusted anchors are the caller's checks.
    """
    computed = hashlib.new("sm3", signed_data).digest()
    hash_ok = computed == parsed.data_hash
    checks = [
        SesCheck(
            DATA_HASH,
            hash_ok,
            "dataHash equals SM3 of the signed bytes"
            if hash_ok
            else "dataHash differs from SM3 of the signed bytes (the document was changed)",
        )
    ]
    if parsed.signature_algorithm not in (asn1.SM2_WITH_SM3, asn1.SM2_SIGN):
        checks.append(SesCheck(SIGNATURE, None, f"unknown algorithm {parsed.signature_algorithm}"))
    else:
        what = "the signer's signature over TBS_Sign (seal, time, dataHash, propertyInfo)"
        checks.append(
            sm2_check(
                SIGNATURE,
                verify,
                parsed.signer_certificate,
                parsed.signed_bytes,
                parsed.signature,
                what,
            )
        )
    checks.append(_cert_list_check(parsed.seal, parsed.signer_certificate))
    checks.append(_validity_check(parsed.signer_certificate, parsed.time))
    own = SesChecks(tuple(checks))
    if parsed.time is None:
        return own + SesChecks((SesCheck(SEAL_VALIDITY, None, "no readable signing time"),))
    return verify_seal(parsed.seal, at=parsed.time, verify=verify) + own


__all__ = [
    "ParsedSignature",
    "attach_time_stamp",
    "build_signature",
    "cert_digest",
    "parse_signature",
    "signature_value",
    "verify_signature",
]


def signature_value(signature_der: bytes) -> bytes:
    """The signature value of a v4 SES_Signature: what its optional time-stamp covers."""
    value: bytes = asn1.SESSignatureV4.load(signature_der)["signature"].native
    return value


def attach_time_stamp(signature_der: bytes, token: bytes) -> bytes:
    """The SES_Signature with `timeStamp` set to an RFC 3161 token over its signature value
    (unsigned by the signer: the token itself proves what it covers)."""
    value = asn1.SESSignatureV4.load(signature_der)
    value["time_stamp"] = token
    return value.dump(force=True)
