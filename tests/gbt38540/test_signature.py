"""SES_Signature (GB/T 38540 v4): read back, checked by openssl, each tampering caught and named."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import core

from seals.gbt38540 import (
    SealContent,
    SesFormatError,
    asn1,
    build_seal,
    build_signature,
    differences,
    parse_seal,
    parse_signature,
    verify_signature,
)
from seals.gbt38540.checks import (
    CERT_LIST,
    DATA_HASH,
    SEAL_SIGNATURE,
    SEAL_VALIDITY,
    SIGNATURE,
    SIGNER_CERT_VALIDITY,
)
from tests.gbt38540 import openssl_tools
from tests.gbt38540.sm2pki import T0, Party, issue, v1_seal

DATA = b"%PDF-1.7 first ByteRange piece" + b"second ByteRange piece %%EOF"
WHEN = T0 + timedelta(days=10, hours=3, minutes=4, seconds=5)
PROPERTY = "pdf ByteRange 0 30 94 28"


def _sign(
    seal_der: bytes, signer: Party, *, when: datetime = WHEN, time_stamp: bytes | None = None
) -> bytes:
    return build_signature(
        seal_der=seal_der,
        signed_data=DATA,
        time=when,
        property_info=PROPERTY,
        signer=signer.signer,
        signer_certificate=signer.certificate,
        time_stamp=time_stamp,
    )


@pytest.fixture(scope="module")
def signature_der(seal_der: bytes, holder: Party) -> bytes:
    return _sign(seal_der, holder)


def test_signature_parses_back_with_the_values_put_in(
    signature_der: bytes, seal_der: bytes, holder: Party
) -> None:
    parsed = parse_signature(signature_der)
    assert parsed.version == 4
    assert parsed.time == WHEN
    assert parsed.data_hash == hashlib.new("sm3", DATA).digest()
    assert parsed.property_info == PROPERTY
    assert parsed.signer_certificate == holder.certificate
    assert parsed.signature_algorithm == "1.2.156.10197.1.501"
    assert parsed.time_stamp is None
    assert parsed.seal == parse_seal(seal_der)
    checks = verify_signature(parsed, signed_data=DATA)
    assert checks.passed, checks
    assert {c.name for c in checks.checks} >= {
        DATA_HASH,
        SIGNATURE,
        CERT_LIST,
        SIGNER_CERT_VALIDITY,
        SEAL_SIGNATURE,
        SEAL_VALIDITY,
    }


def test_openssl_verifies_the_signers_signature_over_tbs_sign(
    signature_der: bytes, holder: Party, tmp_path: Path
) -> None:
    tbs = openssl_tools.first_child(signature_der, tmp_path)
    text = openssl_tools.asn1parse(signature_der, tmp_path)
    assert PROPERTY in text and "GENERALIZEDTIME   :20260111030405Z" in text
    value = parse_signature(signature_der).signature
    assert openssl_tools.sm2_verify(holder.certificate, tbs, value, tmp_path)


def test_time_stamp_field_round_trips(seal_der: bytes, holder: Party) -> None:
    parsed = parse_signature(_sign(seal_der, holder, time_stamp=b"\x30\x03\x02\x01\x00"))
    assert parsed.time_stamp == b"\x30\x03\x02\x01\x00"


def test_changed_document_fails_the_data_hash_only(signature_der: bytes) -> None:
    checks = verify_signature(parse_signature(signature_der), signed_data=DATA + b" ")
    assert checks.failed == (DATA_HASH,)


def _edit(signature_der: bytes, field: str, value: object) -> bytes:
    """Change a TBS_Sign field without the signer's key (no re-signing)."""
    parsed = asn1.SESSignatureV4.load(signature_der)
    parsed["to_sign"][field] = value
    return parsed.dump(force=True)


def test_a_changed_data_hash_is_named(signature_der: bytes) -> None:
    forged = _edit(signature_der, "data_hash", hashlib.new("sm3", b"other").digest())
    checks = verify_signature(parse_signature(forged), signed_data=b"other")
    assert checks.failed == (SIGNATURE,)  # the hash now matches the other bytes, the signature not
    checks = verify_signature(parse_signature(forged), signed_data=DATA)
    assert checks.failed == (DATA_HASH, SIGNATURE)


def test_a_changed_time_is_named(signature_der: bytes) -> None:
    forged = _edit(signature_der, "time_info", core.GeneralizedTime(WHEN - timedelta(days=1)))
    assert parse_signature(forged).time == WHEN - timedelta(days=1)
    assert verify_signature(parse_signature(forged), signed_data=DATA).failed == (SIGNATURE,)


def test_a_time_outside_the_seal_validity_is_named_even_when_signed(
    seal_der: bytes, holder: Party, content: SealContent
) -> None:
    late = _sign(seal_der, holder, when=content.valid_end + timedelta(days=1))
    checks = verify_signature(parse_signature(late), signed_data=DATA)
    assert checks.failed == (SEAL_VALIDITY,)


def test_a_time_outside_the_signer_certificate_is_named(
    content: SealContent, maker: Party, maker_ca: Party
) -> None:
    short = issue("Short-lived holder", issuer=maker_ca, days=5)
    seal = build_seal(
        SealContent(**{**content.__dict__, "certificates": (short.certificate,)}),
        maker=maker.signer,
        maker_certificate=maker.certificate,
    )
    checks = verify_signature(parse_signature(_sign(seal, short)), signed_data=DATA)
    assert checks.failed == (SIGNER_CERT_VALIDITY,)


def test_a_signer_the_seal_does_not_list_is_named(seal_der: bytes, other_holder: Party) -> None:
    checks = verify_signature(parse_signature(_sign(seal_der, other_holder)), signed_data=DATA)
    assert checks.failed == (CERT_LIST,)


def test_a_seal_swapped_inside_the_signature_is_named(
    signature_der: bytes, seal_der: bytes, other_holder: Party
) -> None:
    """Add a certificate to the embedded seal's list: both signatures break, the diff names it."""
    value = asn1.SESSignatureV4.load(signature_der)
    prop = value["to_sign"]["eseal"]["e_seal_info"]["property"]
    listed = [c.native for c in asn1.cert_list(prop)] + [other_holder.certificate]
    prop["cert_list"] = core.Any.load(asn1.CertInfoList(listed).dump())
    parsed = parse_signature(value.dump(force=True))
    checks = verify_signature(parsed, signed_data=DATA)
    assert checks.failed == (SEAL_SIGNATURE, SIGNATURE)
    assert differences(parsed.seal, parse_seal(seal_der)) == ("cert-list",)


def test_a_changed_picture_inside_the_signature_is_named(
    signature_der: bytes, seal_der: bytes
) -> None:
    value = asn1.SESSignatureV4.load(signature_der)
    picture = value["to_sign"]["eseal"]["e_seal_info"]["picture"]
    picture["data"] = picture["data"].native[:-1] + b"\x00"
    parsed = parse_signature(value.dump(force=True))
    assert verify_signature(parsed, signed_data=DATA).failed == (SEAL_SIGNATURE, SIGNATURE)
    assert differences(parsed.seal, parse_seal(seal_der)) == ("picture",)


def test_a_signature_with_a_key_other_than_the_certificates_fails(
    seal_der: bytes, holder: Party, other_holder: Party
) -> None:
    """Sign with another key but claim the holder's certificate."""
    impostor = Party(signer=other_holder.signer, certificate=holder.certificate, name=holder.name)
    checks = verify_signature(parse_signature(_sign(seal_der, impostor)), signed_data=DATA)
    assert checks.failed == (SIGNATURE,)


def test_unknown_signature_algorithm_cannot_pass(signature_der: bytes) -> None:
    value = asn1.SESSignatureV4.load(signature_der)
    value["signature_alg_id"] = "1.2.840.10045.4.3.2"
    checks = verify_signature(parse_signature(value.dump(force=True)), signed_data=DATA)
    assert checks.unknown == (SIGNATURE,) and not checks.passed


def test_an_unreadable_signer_certificate_cannot_pass(signature_der: bytes) -> None:
    value = asn1.SESSignatureV4.load(signature_der)
    value["cert"] = b"\x30\x03\x02\x01\x05"
    checks = verify_signature(parse_signature(value.dump(force=True)), signed_data=DATA)
    assert SIGNATURE in checks.unknown and not checks.passed


def test_hand_built_v1_signature_parses_and_verifies(
    maker: Party, holder: Party, content: SealContent
) -> None:
    seal = v1_seal(
        maker, holder, content.picture.data,
        vendor="v1-vendor", es_id="V1-0002", seal_type=1, name="v1 seal", size=(40, 40),
    )  # fmt: skip
    tbs = asn1.TBSSignV1(
        {
            "version": 1,
            "eseal": seal,
            "time_info": core.UTCTime(WHEN).dump(),
            "data_hash": hashlib.new("sm3", DATA).digest(),
            "property_info": "v1 property",
            "cert": holder.certificate,
            "signature_algorithm": "1.2.156.10197.1.501",
        }
    )
    der = asn1.SESSignatureV1(
        {"to_sign": tbs, "signature": holder.signer.sign(tbs.dump(), "sm3")}
    ).dump()
    parsed = parse_signature(der)
    assert (parsed.version, parsed.seal.version, parsed.time) == (1, 1, WHEN)
    assert parsed.seal.es_id == "V1-0002" and parsed.property_info == "v1 property"
    assert verify_signature(parsed, signed_data=DATA).passed
    assert verify_signature(parsed, signed_data=b"x").failed == (DATA_HASH,)


@pytest.mark.parametrize("der", [b"", b"\x30\x00", b"\x30\x03\x02\x01\x01", b"%PDF"])
def test_garbage_is_a_format_error(der: bytes) -> None:
    with pytest.raises(SesFormatError):
        parse_signature(der)
