"""PAdES B-B, B-T, B-LT, B-LTA checked by poppler, qpdf, openssl and pyhanko's validator."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from seals.signing import KeywordPlacement, PadesLevel, SealingSpec, SignedPdf, sign_pdf
from tests.seals_signing.conftest import SealPki
from tests.seals_signing.tools import (
    openssl_cms_verify,
    pdfsig,
    pdfsig_blocks,
    qpdf_check,
    raw_contents,
    signatures,
)

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module", params=list(PadesLevel), ids=lambda level: str(level))
def signed(request, pki, timestamper, validation, seal, contract_pdf, tmp_path_factory):
    level: PadesLevel = request.param
    result = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        timestamper=timestamper,
        validation=validation,
        spec=SealingSpec(
            placement=KeywordPlacement(keyword="乙方（盖章）"),
            level=level,
            appearance=seal,
            reason="合同签署",
            location="杭州",
        ),
    )
    path = tmp_path_factory.mktemp(f"level-{level}") / "sealed.pdf"
    path.write_bytes(result.pdf)
    return result, path


def test_result_describes_the_output(signed: tuple[SignedPdf, Path]) -> None:
    result, _path = signed
    assert result.field_name == "Seal1"
    assert result.sha256 == hashlib.sha256(result.pdf).hexdigest()
    assert result.widget_count == 1
    assert result.pdf.startswith(b"%PDF-")


def test_pdfsig_says_valid_and_trusted(signed: tuple[SignedPdf, Path], nssdb: str | None) -> None:
    result, path = signed
    if nssdb is None:
        pytest.skip("pdfsig/certutil not installed")
    blocks = pdfsig_blocks(pdfsig(path, nssdb))
    expected = 2 if result.level is PadesLevel.B_LTA else 1
    assert len(blocks) == expected, blocks
    first = blocks[0]
    assert "Signature Validation: Signature is Valid." in first
    assert "Certificate Validation: Certificate is Trusted." in first
    assert "ETSI.CAdES.detached" in first
    if result.level in (PadesLevel.B_B, PadesLevel.B_T):
        assert "Total document signed" in first
    elif result.level is PadesLevel.B_LT:
        # the DSS revision follows the signature
        assert "Not total document signed" in first
    else:
        # the document time-stamp is the last revision and covers the whole file
        assert "Not total document signed" in first
        # poppler 22 lists the document time-stamp but cannot verify /ETSI.RFC3161
        # ("Unable to validate this type of signature"): openssl ts checks it below
        assert "Signer Certificate Common Name: eseal Test TSA" in blocks[1]
        assert "Total document signed" in blocks[1]
        assert "Not total document signed" not in blocks[1]


def test_qpdf_check_passes(signed: tuple[SignedPdf, Path]) -> None:
    _result, path = signed
    checked = qpdf_check(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout


def test_openssl_verifies_the_cms_and_rejects_one_changed_byte(
    signed: tuple[SignedPdf, Path], pki: SealPki, tmp_path: Path
) -> None:
    result, _path = signed
    data = result.pdf
    signature = signatures(data)[0]
    assert signature.sub_filter == "/ETSI.CAdES.detached"
    cms_der = raw_contents(data, signature)
    content = signature.signed_bytes(data)
    ca_file = pki.workdir / "chain.pem"
    assert openssl_cms_verify(tmp_path, cms_der, content, ca_file)
    # flip one byte inside the first signed range (in the page content, not the header)
    position = len(content) // 3
    tampered = content[:position] + bytes([content[position] ^ 0x01]) + content[position + 1 :]
    assert not openssl_cms_verify(tmp_path, cms_der, tampered, ca_file)


def _signer_info(result: SignedPdf) -> cms.SignerInfo:
    signature = signatures(result.pdf)[0]
    content_info = cms.ContentInfo.load(signature.contents)
    return content_info["content"]["signer_infos"][0]


def test_signature_time_stamp_token_from_b_t(signed: tuple[SignedPdf, Path]) -> None:
    result, _path = signed
    signer_info = _signer_info(result)
    signed_attrs = {attr["type"].native for attr in signer_info["signed_attrs"]}
    # PAdES: no signing-time attribute, ESS signing-certificate-v2 present
    assert "signing_time" not in signed_attrs
    assert "signing_certificate_v2" in signed_attrs
    unsigned = signer_info["unsigned_attrs"]
    tokens = [
        attr["values"][0]
        for attr in (unsigned if unsigned.native is not None else [])
        if attr["type"].native == "signature_time_stamp_token"
    ]
    if result.level is PadesLevel.B_B:
        assert tokens == []
        return
    assert len(tokens) == 1
    tst_info = tokens[0]["content"]["encap_content_info"]["content"].parsed
    assert isinstance(tst_info, tsp.TSTInfo)
    imprint = tst_info["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
    # RFC 3161 / CAdES: the imprint is over the signature value
    assert (
        imprint["hashed_message"].native == hashlib.sha256(signer_info["signature"].native).digest()
    )


def test_dss_from_b_lt(signed: tuple[SignedPdf, Path]) -> None:
    result, _path = signed
    reader = PdfFileReader(BytesIO(result.pdf))
    if result.level in (PadesLevel.B_B, PadesLevel.B_T):
        assert "/DSS" not in reader.root
        return
    dss = reader.root["/DSS"]
    assert len(dss["/OCSPs"]) >= 2  # signer + TSA
    assert len(dss["/CRLs"]) >= 1
    assert len(dss["/Certs"]) >= 3


def test_document_time_stamp_after_the_dss_for_b_lta(
    signed: tuple[SignedPdf, Path], pki: SealPki, tmp_path: Path
) -> None:
    result, _path = signed
    data = result.pdf
    found = signatures(data)
    if result.level is not PadesLevel.B_LTA:
        assert [s.sub_filter for s in found] == ["/ETSI.CAdES.detached"]
        return
    assert [s.sub_filter for s in found] == ["/ETSI.CAdES.detached", "/ETSI.RFC3161"]
    doc_ts = found[1]
    _a, _b, c, d = doc_ts.byte_range
    assert c + d == len(data)  # the time-stamp covers the whole file
    # the DSS was written before the time-stamp: it is inside the time-stamped bytes
    reader = PdfFileReader(BytesIO(data))
    dss_revision = reader.xrefs.get_introducing_revision(reader.root.raw_get("/DSS").reference)
    assert dss_revision < reader.xrefs.total_revisions - 1
    # an independent check of the document time-stamp with openssl ts
    token = tmp_path / "token.der"
    token.write_bytes(raw_contents(data, doc_ts))
    signed_bytes = tmp_path / "doc.bin"
    signed_bytes.write_bytes(doc_ts.signed_bytes(data))
    tsa_pem = tmp_path / "tsa.pem"
    from cryptography.hazmat.primitives import serialization

    tsa_pem.write_bytes(pki.tsa.public_bytes(serialization.Encoding.PEM))
    verified = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            str(signed_bytes),
            "-in",
            str(token),
            "-token_in",
            "-CAfile",
            str(pki.workdir / "chain.pem"),
            "-untrusted",
            str(tsa_pem),
        ],
        capture_output=True,
        text=True,
    )
    assert "Verification: OK" in verified.stdout, verified.stdout + verified.stderr


def test_pyhanko_validator_accepts(signed: tuple[SignedPdf, Path], pki: SealPki) -> None:
    result, _path = signed
    reader = PdfFileReader(BytesIO(result.pdf))
    embedded = reader.embedded_regular_signatures[0]
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    trust = [asn1_x509.Certificate.load(pki.root.public_bytes(serialization.Encoding.DER))]
    if result.level in (PadesLevel.B_B, PadesLevel.B_T):
        status = validate_pdf_signature(
            embedded,
            signer_validation_context=ValidationContext(trust_roots=trust, allow_fetching=False),
        )
        assert status.bottom_line, status.pretty_print_details()
        assert status.coverage.name == "ENTIRE_FILE"
        assert (status.timestamp_validity is not None) == (result.level is PadesLevel.B_T)
        return
    # Only the trust root comes from outside, nothing is fetched: the chains and the
    # revocation data (required for every certificate) must come from the document's DSS.
    dss = DocumentSecurityStore.read_dss(reader)
    context_kwargs = {"trust_roots": trust, "allow_fetching": False, "revocation_mode": "require"}
    status = validate_pdf_signature(
        embedded,
        signer_validation_context=dss.as_validation_context(context_kwargs),
        ts_validation_context=dss.as_validation_context(context_kwargs),
    )
    assert status.bottom_line, status.pretty_print_details()
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    if result.level is PadesLevel.B_LT:
        return
    # B-LTA: the AdES long-term validation (EN 319 102-1 §5.6.3) with the document
    # time-stamp chain as evidence record
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=trust),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )
    ades = asyncio.run(ades_lta_validation(embedded, spec))
    assert ades.ades_subindic is AdESPassed.OK, ades.failure_msg
    assert ades.oldest_evidence_record_timestamp is not None
