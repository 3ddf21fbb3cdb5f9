"""ASN.1 of the Chinese electronic seal structures, as asn1crypto schemas.

GB/T 38540-2020 ("v4", header version 4) is what we write; GM/T 0031-2014 ("v1") is read only;
GM/T 0031-2025 ("v5") is v4 plus an optional time-stamp on the seal and header version 5, read
with the v4 schemas. Field names follow the standards (and the ofdrw implementation that was
checked against them), so a reader can put the two side by side.

Traps handled here rather than at every use:
* `SES_CertList` is an *untagged* CHOICE of two SEQUENCE OFs: asn1crypto cannot tell them apart,
  so the field is `Any` and `cert_list(...)` decodes it by `certListType` (1 certs, 2 digests).
* BIT STRINGs that carry bytes (signature values, hashes) are `OctetBitString`.
* v1 dates are UTCTime, v4 dates GeneralizedTime; v1's `timeInfo` is a BIT STRING.
* OIDs are plain dotted `ObjectIdentifier`s: no global name registration is needed to read them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from asn1crypto import core

SM2_CURVE = "1.2.156.10197.1.301"
SM2_SIGN = "1.2.156.10197.1.301.1"
SM3 = "1.2.156.10197.1.401"
SM2_WITH_SM3 = "1.2.156.10197.1.501"

CERT_LIST_CERTS = 1
CERT_LIST_DIGESTS = 2


class SESHeader(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("id", core.IA5String),
        ("version", core.Integer),
        ("vid", core.IA5String),
    ]


class ExtData(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("extn_id", core.ObjectIdentifier),
        ("critical", core.Boolean, {"default": False}),
        ("extn_value", core.OctetString),
    ]


class ExtensionDatas(core.SequenceOf):
    _child_spec = ExtData


class SESPictureInfo(core.Sequence):
    """SES_ESPictrueInfo (sic in the standard): image type, bytes, display size in millimetres."""

    _fields: ClassVar[list[Any]] = [
        ("type", core.IA5String),
        ("data", core.OctetString),
        ("width", core.Integer),
        ("height", core.Integer),
    ]


class CertInfoList(core.SequenceOf):
    _child_spec = core.OctetString


class CertDigestObj(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("type", core.PrintableString),
        ("value", core.OctetString),
    ]


class CertDigestList(core.SequenceOf):
    _child_spec = CertDigestObj


class SESPropertyInfoV4(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list_type", core.Integer),
        ("cert_list", core.Any),
        ("create_date", core.GeneralizedTime),
        ("valid_start", core.GeneralizedTime),
        ("valid_end", core.GeneralizedTime),
    ]


class SESSealInfoV4(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESPropertyInfoV4),
        ("picture", SESPictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESealV4(core.Sequence):
    """GB/T 38540 SESeal; `time_stamp` only appears in GM/T 0031-2025 (v5) seals."""

    _fields: ClassVar[list[Any]] = [
        ("e_seal_info", SESSealInfoV4),
        ("cert", core.OctetString),
        ("sign_alg_id", core.ObjectIdentifier),
        ("signed_value", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


class TBSSignV4(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("version", core.Integer),
        ("eseal", SESealV4),
        ("time_info", core.GeneralizedTime),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("ext_datas", ExtensionDatas, {"explicit": 0, "optional": True}),
    ]


class SESSignatureV4(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("to_sign", TBSSignV4),
        ("cert", core.OctetString),
        ("signature_alg_id", core.ObjectIdentifier),
        ("signature", core.OctetBitString),
        ("time_stamp", core.OctetBitString, {"explicit": 0, "optional": True}),
    ]


# --- GM/T 0031-2014 (v1), read only ----------------------------------------------------------


class SESPropertyInfoV1(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("type", core.Integer),
        ("name", core.UTF8String),
        ("cert_list", CertInfoList),
        ("create_date", core.UTCTime),
        ("valid_start", core.UTCTime),
        ("valid_end", core.UTCTime),
    ]


class SESSealInfoV1(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("header", SESHeader),
        ("es_id", core.IA5String),
        ("property", SESPropertyInfoV1),
        ("picture", SESPictureInfo),
        ("ext_datas", ExtensionDatas, {"optional": True}),
    ]


class SESSignInfoV1(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
        ("sign_data", core.OctetBitString),
    ]


class SESealV1(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("eseal_info", SESSealInfoV1),
        ("sign_info", SESSignInfoV1),
    ]


class TBSSignV1(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("version", core.Integer),
        ("eseal", SESealV1),
        ("time_info", core.OctetBitString),
        ("data_hash", core.OctetBitString),
        ("property_info", core.IA5String),
        ("cert", core.OctetString),
        ("signature_algorithm", core.ObjectIdentifier),
    ]


class SESSignatureV1(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("to_sign", TBSSignV1),
        ("signature", core.OctetBitString),
    ]


def cert_list(property_info: SESPropertyInfoV4) -> CertInfoList | CertDigestList:
    """Decode the untagged `SES_CertList` CHOICE by `certListType`; ValueError if unknown."""
    kind = property_info["cert_list_type"].native
    raw = property_info["cert_list"].dump()
    if kind == CERT_LIST_CERTS:
        return CertInfoList.load(raw)
    if kind == CERT_LIST_DIGESTS:
        return CertDigestList.load(raw)
    raise ValueError(f"unknown certListType {kind}")
