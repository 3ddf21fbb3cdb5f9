"""The sm2-cms and gbt38540 formats through `sign_document`, verified by our verifier and
independently (SM3 by hashlib, SM2 by openssl dgst -sigopt distid, the CMS by asn1crypto)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, core
from cryptography import x509

from seals.errors import SignerNotValidError, UnsupportedFormatError
from seals.gbt38540 import parse_signature
from seals.placement import CoordinatePlacement, CrossPagePlacement
from seals.reports import Indication, VerificationReport
from seals.signing import (
    DocMdpPermission,
    PadesLevel,
    SealAppearance,
    SealingSpec,
    sign_document,
)
from seals.verification import verify_pdf
from tests.gbt38540 import openssl_tools
from tests.gbt38540.sm2pki import Sm2Pki
from tests.seals_signing.conftest import LocalTimeStamper, SealPki

NOW = datetime.now(UTC).replace(microsecond=0)


class Sm2Seals(Sm2Pki):
    def verify(self, pdf: bytes, *extra_roots: x509.Certificate) -> VerificationReport:
        return verify_pdf(
            pdf=pdf,
            trust=self.trust(*extra_roots),
            now=NOW + timedelta(minutes=1),
            revocation_lookup=self.lookup(),
        )


@pytest.fixture(scope="module")
def sm2() -> Sm2Seals:
    return Sm2Seals()


def _spec(seal: SealAppearance, fmt: str, **kw: object) -> SealingSpec:
    placement = kw.pop("placement", CoordinatePlacement(page=1, x_mm=150, y_mm=240))
    return SealingSpec(placement=placement, appearance=seal, format=fmt, **kw)  # type: ignore[arg-type]


def _byte_range(pdf: bytes) -> tuple[int, int, int, int]:
    found = re.findall(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)", pdf)[-1]
    a, b, c, d = (int(v) for v in found)
    return a, b, c, d


def _contents(pdf: bytes) -> bytes:
    a, b, c, _d = _byte_range(pdf)
    return core.Asn1Value.load(bytes.fromhex(pdf[a + b + 1 : c - 1].decode())).dump()


def test_sm2_cms_seal(
    sm2: Sm2Seals, seal: SealAppearance, contract_pdf: bytes, tmp_path: Path
) -> None:
    signed = sign_document(pdf=contract_pdf, identity=sm2.identity(), spec=_spec(seal, "sm2-cms"))
    assert signed.widget_count == 1 and b"/adbe.pkcs7.detached" in signed.pdf
    report = sm2.verify(signed.pdf)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].findings
    # independently: the CMS names SM3 and SM2-with-SM3, messageDigest = SM3(ByteRange), and
    # openssl verifies the SM2 signature over the DER SET of signed attributes
    signer_info = cms.ContentInfo.load(_contents(signed.pdf))["content"]["signer_infos"][0]
    assert signer_info["digest_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.401"
    assert signer_info["signature_algorithm"]["algorithm"].dotted == "1.2.156.10197.1.501"
    a, b, c, d = _byte_range(signed.pdf)
    sm3 = hashlib.new("sm3", signed.pdf[a : a + b] + signed.pdf[c : c + d]).digest()
    attrs = signer_info["signed_attrs"]
    digest = next(x["values"][0].native for x in attrs if x["type"].native == "message_digest")
    assert digest == sm3
    raw = attrs.dump()
    assert raw[0] == 0xA0
    signed_attrs = b"\x31" + raw[1:]  # [0] IMPLICIT -> the SET OF that was signed
    sig = signer_info["signature"].native
    assert openssl_tools.sm2_verify(sm2.holder.certificate, signed_attrs, sig, tmp_path)


def test_sm2_cms_b_t_and_riding_seal(
    sm2: Sm2Seals,
    seal: SealAppearance,
    contract_pdf: bytes,
    pki: SealPki,
    timestamper: LocalTimeStamper,
) -> None:
    spec = _spec(seal, "sm2-cms", placement=CrossPagePlacement(), level=PadesLevel.B_T)
    signed = sign_document(
        pdf=contract_pdf, identity=sm2.identity(), spec=spec, timestamper=timestamper
    )
    assert signed.widget_count == 3
    sig = sm2.verify(signed.pdf, pki.root).signatures[0]
    assert sig.indication is Indication.TOTAL_PASSED, sig.findings
    assert sig.timestamp_time is not None


def test_gbt38540_seal(sm2: Sm2Seals, seal: SealAppearance, contract_pdf: bytes) -> None:
    eseal = sm2.eseal()
    spec = _spec(seal, "gbt38540", placement=CrossPagePlacement())
    signed = sign_document(pdf=contract_pdf, identity=sm2.identity(eseal=eseal), spec=spec)
    assert signed.widget_count == 3 and signed.level is PadesLevel.B_B
    parsed = parse_signature(_contents(signed.pdf))
    assert parsed.seal.der == eseal
    a, b, c, d = _byte_range(signed.pdf)
    assert (
        parsed.data_hash
        == hashlib.new("sm3", signed.pdf[a : a + b] + signed.pdf[c : c + d]).digest()
    )
    report = sm2.verify(signed.pdf)
    assert report.indication is Indication.TOTAL_PASSED, report.signatures[0].findings


def test_gbt38540_b_t(
    sm2: Sm2Seals,
    seal: SealAppearance,
    contract_pdf: bytes,
    pki: SealPki,
    timestamper: LocalTimeStamper,
) -> None:
    spec = _spec(seal, "gbt38540", level=PadesLevel.B_T)
    identity = sm2.identity(eseal=sm2.eseal())
    signed = sign_document(pdf=contract_pdf, identity=identity, spec=spec, timestamper=timestamper)
    assert signed.level is PadesLevel.B_T
    assert parse_signature(_contents(signed.pdf)).time_stamp is not None
    sig = sm2.verify(signed.pdf, pki.root).signatures[0]
    assert sig.indication is Indication.TOTAL_PASSED, sig.findings
    assert sig.timestamp_time is not None


def test_sm2_formats_refuse_an_ecdsa_identity(
    seal: SealAppearance, contract_pdf: bytes, pki: SealPki
) -> None:
    for fmt in ("sm2-cms", "gbt38540"):
        with pytest.raises(UnsupportedFormatError):
            sign_document(pdf=contract_pdf, identity=pki.alice, spec=_spec(seal, fmt))


def test_gbt38540_refusals(sm2: Sm2Seals, seal: SealAppearance, contract_pdf: bytes) -> None:
    with pytest.raises(UnsupportedFormatError):  # no seal data
        sign_document(pdf=contract_pdf, identity=sm2.identity(), spec=_spec(seal, "gbt38540"))
    listed_other = sm2.identity(eseal=sm2.eseal(sm2.other))
    with pytest.raises(SignerNotValidError):
        sign_document(pdf=contract_pdf, identity=listed_other, spec=_spec(seal, "gbt38540"))
    expired = sm2.identity(eseal=sm2.eseal(valid_end=NOW - timedelta(days=1)))
    with pytest.raises(SignerNotValidError):
        sign_document(pdf=contract_pdf, identity=expired, spec=_spec(seal, "gbt38540"))
    good = sm2.identity(eseal=sm2.eseal())
    for spec in (
        _spec(seal, "gbt38540", level=PadesLevel.B_LT),
        _spec(seal, "gbt38540", certify=DocMdpPermission.NO_CHANGES),
    ):
        with pytest.raises(UnsupportedFormatError):
            sign_document(pdf=contract_pdf, identity=good, spec=spec)


def test_a_key_that_is_not_the_certificates_is_refused(
    sm2: Sm2Seals, seal: SealAppearance, contract_pdf: bytes
) -> None:
    wrong = replace(sm2.identity(), signer=sm2.other.signer)
    with pytest.raises(UnsupportedFormatError):
        sign_document(pdf=contract_pdf, identity=wrong, spec=_spec(seal, "sm2-cms"))
