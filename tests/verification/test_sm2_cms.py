"""SM2 CMS signatures (adbe.pkcs7.detached, SM3, SM2-with-SM3) through the same verifier as PAdES.

The SM2-aware `SignatureValidator` lets pyhanko and pyhanko-certvalidator check SM2 CMS
signatures, SM2 certificate paths and SM2-signed CRLs; digest, coverage and modification
analysis are the PAdES ones. Documents are signed by pyhanko with an SM2 signer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter

from seals.reports import (
    Indication,
    RevocationSource,
    RevocationStatus,
    SubIndication,
    VerificationReport,
)
from seals.verification import verify_pdf
from tests.gbt38540.sm2pki import T0, Party, Sm2Pki, issue
from tests.verification.conftest import contents_span, make_pdf

AT = T0 + timedelta(days=30)


class CmsPki(Sm2Pki):
    def sign(self, pdf: bytes, who: Party | None = None, field: str = "Seal1") -> bytes:
        w = IncrementalPdfFileWriter(BytesIO(pdf))
        fields.append_signature_field(
            w, fields.SigFieldSpec(sig_field_name=field, on_page=0, box=(400, 60, 520, 180))
        )
        meta = signers.PdfSignatureMetadata(
            field_name=field, md_algorithm="sm3", subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED
        )
        signer = self.pyhanko_signer(who or self.holder)
        return signers.sign_pdf(w, meta, signer=signer).getvalue()

    def verify(self, pdf: bytes, now: datetime = AT) -> VerificationReport:
        return verify_pdf(pdf=pdf, trust=self.trust(), now=now, revocation_lookup=self.lookup())


@pytest.fixture(scope="module")
def sm2pki() -> CmsPki:
    return CmsPki()


@pytest.fixture(scope="module")
def sealed(sm2pki: CmsPki) -> bytes:
    return sm2pki.sign(make_pdf())


def test_sm2_cms_seal_passes_with_chain_and_revocation(sm2pki: CmsPki, sealed: bytes) -> None:
    report = sm2pki.verify(sealed)
    sig = report.signatures[0]
    assert report.indication is Indication.TOTAL_PASSED, sig.findings
    assert sig.integrity is True
    assert sig.chain == (
        "CN=SM2 Seal Holder, C=CN",
        "CN=SM2 Organization CA, C=CN",
        "CN=SM2 Root CA, C=CN",
    )
    assert sig.trust_anchor_is_ours
    assert sig.revocation.status is RevocationStatus.GOOD
    assert sig.revocation.source is RevocationSource.CRL


def test_a_changed_sm2_signature_value_fails(sm2pki: CmsPki, sealed: bytes) -> None:
    start, end = contents_span(sealed)
    cms_hex = sealed[start:end].rstrip(b"0")
    # the SM2 signature value ends the SignerInfo: flip a nibble near its end
    at = start + len(cms_hex) - 4
    flipped = b"1" if sealed[at : at + 1] != b"1" else b"2"
    report = sm2pki.verify(sealed[:at] + flipped + sealed[at + 1 :])
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED
    assert sig.sub_indication is SubIndication.SIG_CRYPTO_FAILURE


def test_a_changed_document_fails_the_sm3_digest(sm2pki: CmsPki, sealed: bytes) -> None:
    i = sealed.index(b"Contract amount: 100")
    forged = sealed[:i] + b"Contract amount: 900" + sealed[i + 20 :]
    sig = sm2pki.verify(forged).signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED
    assert sig.sub_indication is SubIndication.HASH_FAILURE


def test_an_unrecognised_sm2_root_has_no_chain(sm2pki: CmsPki) -> None:
    sig = sm2pki.verify(sm2pki.sign(make_pdf(), who=sm2pki.rogue)).signatures[0]
    assert sig.indication is Indication.INDETERMINATE
    assert sig.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


def test_a_certificate_forged_under_our_issuer_name_has_no_chain(sm2pki: CmsPki) -> None:
    """Same issuer name as our SM2 CA, signed by another key: the SM2 check of the path fails."""
    impostor_ca = issue("SM2 Organization CA", ca=True)  # same subject as ours, other key
    forged = issue("SM2 Seal Holder", issuer=impostor_ca)
    sig = sm2pki.verify(sm2pki.sign(make_pdf(), who=forged)).signatures[0]
    assert sig.indication is Indication.INDETERMINATE
    assert sig.sub_indication is SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE
    assert any("signature" in f.en for f in sig.findings), sig.findings


def test_a_revoked_sm2_certificate_is_not_passed(sm2pki: CmsPki) -> None:
    sig = sm2pki.verify(sm2pki.sign(make_pdf(), who=sm2pki.revoked)).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
    )
    assert sig.revocation.status is RevocationStatus.REVOKED


def test_without_revocation_data_an_sm2_seal_is_not_passed(sm2pki: CmsPki, sealed: bytes) -> None:
    report = verify_pdf(pdf=sealed, trust=sm2pki.trust(), now=AT)
    assert report.signatures[0].sub_indication is SubIndication.TRY_LATER


def test_content_added_after_an_sm2_seal_is_caught(sm2pki: CmsPki, sealed: bytes) -> None:
    from pyhanko.pdf_utils import generic

    w = IncrementalPdfFileWriter(BytesIO(sealed))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    stream = w.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 400 Td (PAID) Tj ET"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), stream])
    w.update_container(page)
    out = BytesIO()
    w.write(out)
    sig = sm2pki.verify(out.getvalue()).signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED


def test_the_librarys_default_validator_checks_sm2_too(sm2pki: CmsPki) -> None:
    """pyhanko-certvalidator builds contexts of its own (an OCSP responder with nocheck): its
    default validator verifies SM2 after pki.sm2_validation is imported, and refuses a forgery."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.exceptions import InvalidSignature
    from pyhanko_certvalidator.sig_validate import DefaultSignatureValidator

    import pki.sm2_validation  # noqa: F401

    cert = asn1_x509.Certificate.load(sm2pki.holder.certificate)
    issuer = asn1_x509.Certificate.load(sm2pki.issuing.certificate)
    args = (cert["tbs_certificate"].dump(), issuer.public_key, cert["signature_algorithm"])
    DefaultSignatureValidator().validate_signature(cert["signature_value"].native, *args)
    other = asn1_x509.Certificate.load(sm2pki.root.certificate)
    with pytest.raises(InvalidSignature):
        DefaultSignatureValidator().validate_signature(
            cert["signature_value"].native, args[0], other.public_key, args[2]
        )
