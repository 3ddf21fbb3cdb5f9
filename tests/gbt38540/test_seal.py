"""SESeal (GB/T 38540 v4) built, read back, checked by openssl; v1 and v5 read; tampering named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from asn1crypto import core

from seals.gbt38540 import (
    SealContent,
    SesFormatError,
    asn1,
    build_seal,
    differences,
    parse_seal,
    verify_seal,
)
from seals.gbt38540.checks import HEADER, SEAL_SIGNATURE, SEAL_VALIDITY
from seals.gbt38540.seal import cert_digest
from tests.gbt38540 import openssl_tools
from tests.gbt38540.sm2pki import T0, Party, issue, v1_seal

INSIDE = T0 + timedelta(days=10)


def test_v4_seal_parses_back_with_the_values_put_in(
    seal_der: bytes, content: SealContent, maker: Party
) -> None:
    seal = parse_seal(seal_der)
    assert (seal.version, seal.header_id, seal.vendor_id) == (4, "ES", "eseal")
    assert seal.es_id == content.es_id
    assert (seal.seal_type, seal.name) == (1, "上海测试有限公司合同专用章")
    assert seal.cert_list_type == 1 and seal.certificates == content.certificates
    assert (seal.created, seal.valid_start, seal.valid_end) == (
        content.created,
        content.valid_start,
        content.valid_end,
    )
    assert seal.picture == content.picture
    assert seal.maker_certificate == maker.certificate
    assert seal.signature_algorithm == "1.2.156.10197.1.501"
    assert seal.der == seal_der
    checks = verify_seal(seal, at=INSIDE)
    assert checks.passed, checks
    assert [c.name for c in checks.checks] == [HEADER, SEAL_SIGNATURE, SEAL_VALIDITY]


def test_openssl_reads_the_seal_and_verifies_the_makers_signature(
    seal_der: bytes, maker: Party, tmp_path: Path
) -> None:
    text = openssl_tools.asn1parse(seal_der, tmp_path)
    assert ":ES" in text and ":eseal" in text and ":91310000MA1FL8XQ3B0001" in text
    assert "GENERALIZEDTIME" in text and "BIT STRING" in text
    info = openssl_tools.first_child(seal_der, tmp_path)
    signature = parse_seal(seal_der).signature
    assert openssl_tools.sm2_verify(maker.certificate, info, signature, tmp_path)
    assert not openssl_tools.sm2_verify(maker.certificate, info + b"\0", signature, tmp_path)


def test_digest_list_seal(content: SealContent, maker: Party, holder: Party) -> None:
    der = build_seal(
        SealContent(**{**content.__dict__, "cert_list_type": asn1.CERT_LIST_DIGESTS}),
        maker=maker.signer,
        maker_certificate=maker.certificate,
    )
    seal = parse_seal(der)
    assert seal.cert_list_type == 2 and seal.certificates == ()
    assert seal.cert_digests == (("SM3", cert_digest(holder.certificate)),)
    assert verify_seal(seal, at=INSIDE).passed


def _tampered(seal_der: bytes, edit: Callable[[asn1.SESSealInfoV4], None]) -> bytes:
    """Change a signed field of the seal without the maker's key (no re-signing)."""
    value = asn1.SESealV4.load(seal_der)
    edit(value["e_seal_info"])
    return value.dump(force=True)


def _set_picture(info: asn1.SESSealInfoV4) -> None:
    info["picture"]["data"] = info["picture"]["data"].native + b"\0"


def _set_validity(info: asn1.SESSealInfoV4) -> None:
    info["property"]["valid_end"] = core.GeneralizedTime(T0 + timedelta(days=9000))


def _set_name(info: asn1.SESSealInfoV4) -> None:
    info["property"]["name"] = "另一家公司公章"


def _cert_list_editor(extra: bytes) -> Callable[[asn1.SESSealInfoV4], None]:
    def edit(info: asn1.SESSealInfoV4) -> None:
        listed = asn1.cert_list(info["property"])
        info["property"]["cert_list"] = core.Any.load(
            asn1.CertInfoList([*(c.native for c in listed), extra]).dump()
        )

    return edit


@pytest.mark.parametrize(
    ("field", "edit"),
    [("picture", _set_picture), ("validity", _set_validity), ("name", _set_name)],
)
def test_tampering_a_seal_field_breaks_the_makers_signature_and_is_named(
    seal_der: bytes, field: str, edit: Callable[[asn1.SESSealInfoV4], None]
) -> None:
    forged = parse_seal(_tampered(seal_der, edit))
    checks = verify_seal(forged, at=INSIDE)
    assert checks.failed == (SEAL_SIGNATURE,)
    assert differences(forged, parse_seal(seal_der)) == (field,)


def test_adding_a_certificate_to_the_list_is_caught(seal_der: bytes, other_holder: Party) -> None:
    forged = parse_seal(_tampered(seal_der, _cert_list_editor(other_holder.certificate)))
    assert other_holder.certificate in forged.certificates
    assert verify_seal(forged, at=INSIDE).failed == (SEAL_SIGNATURE,)
    assert differences(forged, parse_seal(seal_der)) == ("cert-list",)


def test_a_seal_re_signed_by_another_maker_is_named(
    content: SealContent, seal_der: bytes, maker_ca: Party
) -> None:
    impostor = issue("Impostor maker", issuer=None)
    der = build_seal(content, maker=impostor.signer, maker_certificate=impostor.certificate)
    assert verify_seal(parse_seal(der), at=INSIDE).passed  # self-consistent: trust decides
    assert differences(parse_seal(der), parse_seal(seal_der)) == ("maker-certificate",)


def test_validity_window(seal_der: bytes, content: SealContent) -> None:
    seal = parse_seal(seal_der)
    before = verify_seal(seal, at=content.valid_start - timedelta(seconds=1))
    after = verify_seal(seal, at=content.valid_end + timedelta(seconds=1))
    assert before.failed == (SEAL_VALIDITY,) and after.failed == (SEAL_VALIDITY,)
    assert verify_seal(seal, at=content.valid_end).passed


def test_unknown_signature_algorithm_is_not_passed(seal_der: bytes) -> None:
    value = asn1.SESealV4.load(seal_der)
    value["sign_alg_id"] = "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
    checks = verify_seal(parse_seal(value.dump(force=True)), at=INSIDE)
    assert checks.unknown == (SEAL_SIGNATURE,) and not checks.passed


def test_hand_built_v1_seal_parses_and_verifies(
    maker: Party, holder: Party, content: SealContent
) -> None:
    """GM/T 0031-2014: nested SES_SignInfo, no certListType, UTCTime dates."""
    der = v1_seal(
        maker, holder, content.picture.data,
        vendor="other-vendor", es_id="V1-0001", seal_type=2, name="张三", size=(20, 10),
    ).dump()  # fmt: skip
    seal = parse_seal(der)
    assert (seal.version, seal.vendor_id, seal.es_id, seal.seal_type) == (
        1,
        "other-vendor",
        "V1-0001",
        2,
    )
    assert seal.name == "张三" and seal.certificates == (holder.certificate,)
    assert (seal.valid_start, seal.valid_end) == (T0, T0 + timedelta(days=100))
    assert (seal.picture.width_mm, seal.picture.height_mm) == (20, 10)
    assert verify_seal(seal, at=T0 + timedelta(days=1)).passed
    assert verify_seal(seal, at=T0 + timedelta(days=101)).failed == (SEAL_VALIDITY,)


def test_v5_seal_with_time_stamp_reads_as_version_5(content: SealContent, maker: Party) -> None:
    value = asn1.SESealV4.load(
        build_seal(content, maker=maker.signer, maker_certificate=maker.certificate)
    )
    info = value["e_seal_info"]
    info["header"]["version"] = 5
    value["signed_value"] = maker.signer.sign(info.dump(force=True), "sm3")
    value["time_stamp"] = b"token"
    seal = parse_seal(value.dump(force=True))
    assert seal.version == 5 and verify_seal(seal, at=INSIDE).passed


@pytest.mark.parametrize(
    "der",
    [b"", b"\x30\x00", b"not der", b"\x30\x03\x02\x01\x01", b"\x04\x02ab"],
)
def test_garbage_is_a_format_error(der: bytes) -> None:
    with pytest.raises(SesFormatError):
        parse_seal(der)


def test_seal_data_of_a_registry_seal(maker: Party, holder: Party, content: SealContent) -> None:
    from seals.gbt38540.making import seal_content

    made = seal_content(
        code="3301060000001",
        name="张三",
        personal=True,
        certificates=(holder.certificate,),
        image_png=content.picture.data,
        width_mm=22.4,
        height_mm=21.6,
        valid_from=T0,
        valid_until=T0 + timedelta(days=30),
        created=T0,
    )
    seal = parse_seal(build_seal(made, maker=maker.signer, maker_certificate=maker.certificate))
    assert (seal.es_id, seal.seal_type, seal.name) == ("3301060000001", 2, "张三")
    assert (seal.picture.width_mm, seal.picture.height_mm) == (22, 22)
    assert seal.certificates == (holder.certificate,) and seal.vendor_id == "eseal"
    with pytest.raises(ValueError):  # esID is an IA5String
        seal_content(
            code="印章一号",
            name="x",
            personal=False,
            certificates=(holder.certificate,),
            image_png=b"",
            width_mm=1,
            height_mm=1,
            valid_from=T0,
            valid_until=T0,
            created=T0,
        )
