"""Electronic seal data (印章数据, SESeal): build ours (GB/T 38540 v4), read v1, v4 and v5.

The seal binds a picture and the holders' certificates to a seal code (esID) and a validity
window, signed by the platform's seal-making key. `build_seal` signs DER(SES_SealInfo) through
any `KeySigner`-shaped object (the key stays in the key store); `parse_seal` returns the values
together with the exact bytes that were signed (the file's own encoding, never a re-encoding);
`verify_seal` names each check it made (see checks.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from asn1crypto import core, x509

from pki import sm2
from seals.errors import SesFormatError
from seals.gbt38540 import asn1
from seals.gbt38540.checks import HEADER, SEAL_SIGNATURE, SEAL_VALIDITY, SesCheck, SesChecks

VENDOR_ID = "eseal"
SEAL_TYPE_ORGANIZATION = 1
SEAL_TYPE_PERSONAL = 2
_SM2_SIGNATURE_OIDS = frozenset({asn1.SM2_WITH_SM3, asn1.SM2_SIGN})

# verify(spki_der, data, signature) -> bool; the SM2 backend with the GM/T 0009 default user ID.
Verifier = Callable[[bytes, bytes, bytes], bool]


def sm2_verify(public_key_info: bytes, data: bytes, signature: bytes) -> bool:
    """The default `Verifier`: SM2-with-SM3 under the GM/T 0009 default user ID, explicitly."""
    return sm2.verify(public_key_info, data, signature, sm2.DEFAULT_USER_ID)


class SealSigner(Protocol):
    """The part of pki's `KeySigner` the seal needs: SM2 signing where the key lives."""

    def sign(self, data: bytes, digest: str) -> bytes: ...


@dataclass(frozen=True)
class SealPicture:
    image_type: str  # "png", "jpg", "gif", "ofd", "svg" (GB/T 38540 names the format)
    data: bytes
    width_mm: int
    height_mm: int


@dataclass(frozen=True)
class SealContent:
    """What the seal maker asserts: the fields of SES_SealInfo."""

    es_id: str
    seal_type: int
    name: str
    certificates: tuple[bytes, ...]  # DER of the holder certificates allowed to use the seal
    created: datetime
    valid_start: datetime
    valid_end: datetime
    picture: SealPicture
    cert_list_type: int = asn1.CERT_LIST_CERTS  # or CERT_LIST_DIGESTS (SM3 of each cert)
    vendor_id: str = VENDOR_ID


@dataclass(frozen=True)
class ParsedSeal:
    version: int  # 1 (GM/T 0031-2014), 4 (GB/T 38540), 5 (GM/T 0031-2025)
    header_id: str
    vendor_id: str
    es_id: str
    seal_type: int
    name: str
    cert_list_type: int
    certificates: tuple[bytes, ...]  # when cert_list_type == 1
    cert_digests: tuple[tuple[str, bytes], ...]  # (algorithm, digest) when cert_list_type == 2
    created: datetime
    valid_start: datetime
    valid_end: datetime
    picture: SealPicture
    maker_certificate: bytes
    signature_algorithm: str
    signature: bytes
    signed_bytes: bytes  # DER(SES_SealInfo) exactly as it appears in the seal
    der: bytes


def _time(value: datetime) -> core.GeneralizedTime:
    if value.tzinfo is None:
        raise ValueError("seal dates must be timezone-aware")
    return core.GeneralizedTime(value.astimezone(UTC).replace(microsecond=0))


def cert_digest(certificate: bytes) -> bytes:
    """SM3 of a certificate's DER, the form of a `CertDigestObj` value."""
    return hashlib.new("sm3", certificate).digest()


def _cert_list(content: SealContent) -> core.Asn1Value:
    if content.cert_list_type == asn1.CERT_LIST_CERTS:
        return asn1.CertInfoList(list(content.certificates))
    if content.cert_list_type == asn1.CERT_LIST_DIGESTS:
        return asn1.CertDigestList(
            [{"type": "SM3", "value": cert_digest(c)} for c in content.certificates]
        )
    raise ValueError(f"unknown certListType {content.cert_list_type}")


def seal_info(content: SealContent) -> asn1.SESSealInfoV4:
    """The SES_SealInfo of a v4 seal, the part the seal maker signs."""
    if not content.certificates:
        raise ValueError("a seal lists at least one certificate")
    picture = content.picture
    return asn1.SESSealInfoV4(
        {
            "header": {"id": "ES", "version": 4, "vid": content.vendor_id},
            "es_id": content.es_id,
            "property": {
                "type": content.seal_type,
                "name": content.name,
                "cert_list_type": content.cert_list_type,
                "cert_list": core.Any.load(_cert_list(content).dump()),
                "create_date": _time(content.created),
                "valid_start": _time(content.valid_start),
                "valid_end": _time(content.valid_end),
            },
            "picture": {
                "type": picture.image_type,
                "data": picture.data,
                "width": picture.width_mm,
                "height": picture.height_mm,
            },
        }
    )


def build_seal(content: SealContent, *, maker: SealSigner, maker_certificate: bytes) -> bytes:
    """DER SESeal v4: SES_SealInfo signed SM2-with-SM3 by the seal-making key."""
    info = seal_info(content)
    signed = info.dump()
    signature = maker.sign(signed, "sm3")
    return asn1.SESealV4(
        {
            "e_seal_info": info,
            "cert": maker_certificate,
            "sign_alg_id": asn1.SM2_WITH_SM3,
            "signed_value": signature,
        }
    ).dump()


def seal_version(value: core.Sequence) -> int:
    """Version by shape, as ofdrw's VersionParser: 2 elements v1; 4-5 with header 4 or 5."""
    count = len(value)
    if count == 2:
        return 1
    if count in (4, 5):
        info = core.Sequence.load(value[0].dump())
        header = asn1.SESHeader.load(info[0].dump())
        version = header["version"].native
        if version in (4, 5):
            return int(version)
        raise SesFormatError(f"SESeal header version {version} is not 4 or 5")
    raise SesFormatError(f"SESeal with {count} elements is no known version")


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _picture(p: asn1.SESPictureInfo) -> SealPicture:
    return SealPicture(
        image_type=p["type"].native,
        data=p["data"].native,
        width_mm=p["width"].native,
        height_mm=p["height"].native,
    )


def _parse_v4(seal: asn1.SESealV4, version: int, der: bytes) -> ParsedSeal:
    info = seal["e_seal_info"]
    prop = info["property"]
    listed = asn1.cert_list(prop)
    certs: tuple[bytes, ...] = ()
    digests: tuple[tuple[str, bytes], ...] = ()
    if isinstance(listed, asn1.CertInfoList):
        certs = tuple(c.native for c in listed)
    else:
        digests = tuple((d["type"].native, d["value"].native) for d in listed)
    return ParsedSeal(
        version=version,
        header_id=info["header"]["id"].native,
        vendor_id=info["header"]["vid"].native,
        es_id=info["es_id"].native,
        seal_type=prop["type"].native,
        name=prop["name"].native,
        cert_list_type=prop["cert_list_type"].native,
        certificates=certs,
        cert_digests=digests,
        created=_as_utc(prop["create_date"].native),
        valid_start=_as_utc(prop["valid_start"].native),
        valid_end=_as_utc(prop["valid_end"].native),
        picture=_picture(info["picture"]),
        maker_certificate=seal["cert"].native,
        signature_algorithm=seal["sign_alg_id"].dotted,
        signature=seal["signed_value"].native,
        signed_bytes=info.dump(),
        der=der,
    )


def _parse_v1(seal: asn1.SESealV1, der: bytes) -> ParsedSeal:
    info = seal["eseal_info"]
    prop = info["property"]
    sign_info = seal["sign_info"]
    return ParsedSeal(
        version=1,
        header_id=info["header"]["id"].native,
        vendor_id=info["header"]["vid"].native,
        es_id=info["es_id"].native,
        seal_type=prop["type"].native,
        name=prop["name"].native,
        cert_list_type=asn1.CERT_LIST_CERTS,
        certificates=tuple(c.native for c in prop["cert_list"]),
        cert_digests=(),
        created=_as_utc(prop["create_date"].native),
        valid_start=_as_utc(prop["valid_start"].native),
        valid_end=_as_utc(prop["valid_end"].native),
        picture=_picture(info["picture"]),
        maker_certificate=sign_info["cert"].native,
        signature_algorithm=sign_info["signature_algorithm"].dotted,
        signature=sign_info["sign_data"].native,
        signed_bytes=info.dump(),
        der=der,
    )


def parse_seal_value(value: core.Asn1Value) -> ParsedSeal:
    """Parse an SESeal already decoded as a generic value (inside an SES_Signature)."""
    der = value.dump()
    try:
        generic = core.Sequence.load(der, strict=True)
        version = seal_version(generic)
        if version == 1:
            parsed = _parse_v1(asn1.SESealV1.load(der, strict=True), der)
        else:
            parsed = _parse_v4(asn1.SESealV4.load(der, strict=True), version, der)
    except SesFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise SesFormatError(f"SESeal cannot be read: {exc}") from exc
    return parsed


def parse_seal(der: bytes) -> ParsedSeal:
    """Parse DER SESeal bytes of any known version; SesFormatError names what is wrong."""
    try:
        value = core.Sequence.load(der, strict=True)
    except (ValueError, TypeError) as exc:
        raise SesFormatError(f"SESeal is not DER: {exc}") from exc
    return parse_seal_value(value)


def certificate_spki(certificate: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of a certificate (its own encoding, the key not interpreted)."""
    tbs = x509.Certificate.load(certificate, strict=True)["tbs_certificate"]
    spki: bytes = tbs["subject_public_key_info"].dump()
    return spki


def sm2_check(
    name: str, verify: Verifier, certificate: bytes, data: bytes, sig: bytes, what: str
) -> SesCheck:
    """One SM2 signature check; a certificate or key that cannot be read is `ok=None`."""
    try:
        spki = certificate_spki(certificate)
    except (ValueError, TypeError, KeyError) as exc:
        return SesCheck(name, None, f"{what}: the certificate cannot be read ({exc})")
    try:
        valid = verify(spki, data, sig)
    except (ValueError, TypeError) as exc:
        return SesCheck(name, None, f"{what}: the key cannot be used for SM2 ({exc})")
    if valid:
        return SesCheck(name, True, f"{what} verifies")
    return SesCheck(name, False, f"{what} does not verify (a signed field was changed)")


def verify_seal(seal: ParsedSeal, *, at: datetime, verify: Verifier = sm2_verify) -> SesChecks:
    """Header, the seal maker's signature over SES_SealInfo, and `at` within the validity.

    Whether the maker's certificate chains to a trusted seal-making CA is the caller's check
    (the trust store lives in the PDF verifier).
    """
    header_ok = seal.header_id == "ES" and seal.version in (1, 4, 5)
    checks = [
        SesCheck(HEADER, header_ok, f"header {seal.header_id!r} version {seal.version}"),
    ]
    if seal.signature_algorithm not in _SM2_SIGNATURE_OIDS:
        checks.append(
            SesCheck(SEAL_SIGNATURE, None, f"unknown algorithm {seal.signature_algorithm}")
        )
    else:
        what = "the seal maker's signature over SES_SealInfo (esID, property, picture)"
        checks.append(
            sm2_check(
                SEAL_SIGNATURE,
                verify,
                seal.maker_certificate,
                seal.signed_bytes,
                seal.signature,
                what,
            )
        )
    inside = seal.valid_start <= at <= seal.valid_end
    window = f"{seal.valid_start.isoformat()} .. {seal.valid_end.isoformat()}"
    checks.append(
        SesCheck(
            SEAL_VALIDITY,
            inside,
            f"{at.isoformat()} {'within' if inside else 'outside'} the seal validity {window}",
        )
    )
    return SesChecks(tuple(checks))


def differences(seal: ParsedSeal, registered: ParsedSeal) -> tuple[str, ...]:
    """Fields in which a seal differs from the registered one: names what was tampered with."""
    pairs = {
        "es-id": (seal.es_id, registered.es_id),
        "type": (seal.seal_type, registered.seal_type),
        "name": (seal.name, registered.name),
        "cert-list": (
            (seal.cert_list_type, seal.certificates, seal.cert_digests),
            (registered.cert_list_type, registered.certificates, registered.cert_digests),
        ),
        "created": (seal.created, registered.created),
        "validity": (
            (seal.valid_start, seal.valid_end),
            (registered.valid_start, registered.valid_end),
        ),
        "picture": (seal.picture, registered.picture),
        "maker-certificate": (seal.maker_certificate, registered.maker_certificate),
    }
    return tuple(name for name, (a, b) in pairs.items() if a != b)
