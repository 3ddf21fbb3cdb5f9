"""GB/T 38540 seals in PDFs: an SES_Signature in /Contents, verified by the PDF verifier.

Digest, coverage and modification analysis are the PAdES ones; the SES checks name what
failed (findings `ses-<check>`); both certificates (signer, seal maker) must chain to an SM2
anchor; the holder's revocation comes from an SM2-signed CRL.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import parser as asn1_parser
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSigner

from seals.gbt38540 import SealContent, SealPicture, build_seal, parse_signature
from seals.gbt38540.pdf import SesSealing, async_embed_ses
from seals.reports import Indication, RevocationStatus, SubIndication, VerificationReport
from seals.verification import verify_pdf
from tests.gbt38540 import openssl_tools
from tests.gbt38540.sm2pki import T0, Party, Sm2Pki, issue
from tests.verification.conftest import Pki, contents_span, make_pdf, timestamper

AT = T0 + timedelta(days=30)
WHEN = T0 + timedelta(days=20)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99="
    b"\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


class SesPki(Sm2Pki):
    def content(self, *holders: Party) -> SealContent:
        return SealContent(
            es_id="91310000MA1FL8XQ3B0001",
            seal_type=1,
            name="上海测试有限公司合同专用章",
            certificates=tuple(h.certificate for h in holders or (self.holder,)),
            created=T0,
            valid_start=T0,
            valid_end=T0 + timedelta(days=365),
            picture=SealPicture(image_type="png", data=PNG, width_mm=42, height_mm=42),
        )

    def seal(self, content: SealContent | None = None, maker: Party | None = None) -> bytes:
        maker = maker or self.maker
        return build_seal(
            content or self.content(),
            maker=maker.signer,
            maker_certificate=maker.certificate,
        )

    def sign(
        self,
        pdf: bytes,
        *,
        who: Party | None = None,
        seal: bytes | None = None,
        when: datetime = WHEN,
        tsa: Pki | None = None,
    ) -> bytes:
        who = who or self.holder
        w = IncrementalPdfFileWriter(BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name="Seal1", md_algorithm="sm3", subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED
        )
        pdf_signer = PdfSigner(
            meta,
            signer=self.pyhanko_signer(who),
            new_field_spec=fields.SigFieldSpec(
                sig_field_name="Seal1", on_page=0, box=(400, 60, 520, 180)
            ),
        )
        sealing = SesSealing(
            seal_der=seal or self.seal(),
            signer=who.signer,
            signer_certificate=who.certificate,
            time=when,
        )
        stamper = timestamper(tsa) if tsa is not None else None
        return asyncio.run(async_embed_ses(pdf_signer, w, sealing, timestamper=stamper))

    def verify(
        self, pdf: bytes, *, now: datetime = AT, tsa: Pki | None = None, root_crl: bool = True
    ) -> VerificationReport:
        extra = [tsa.root.cert] if tsa is not None else []
        lookup = self.lookup(root=root_crl)
        return verify_pdf(pdf=pdf, trust=self.trust(*extra), now=now, revocation_lookup=lookup)


@pytest.fixture(scope="module")
def ses() -> SesPki:
    return SesPki()


@pytest.fixture(scope="module")
def sealed(ses: SesPki) -> bytes:
    return ses.sign(make_pdf())


def _codes(report: VerificationReport) -> list[str]:
    return [f.code for f in report.signatures[0].findings]


def test_ses_sealed_pdf_passes(ses: SesPki, sealed: bytes) -> None:
    report = ses.verify(sealed)
    sig = report.signatures[0]
    assert report.indication is Indication.TOTAL_PASSED, sig.findings
    assert sig.integrity is True
    assert sig.claimed_signing_time == WHEN
    assert sig.chain[-1] == "CN=SM2 Root CA, C=CN" and sig.trust_anchor_is_ours
    assert sig.revocation.status is RevocationStatus.GOOD
    assert "ses-format" in _codes(report)
    assert not [c for c in _codes(report) if c.startswith("ses-maker")]
    assert "91310000MA1FL8XQ3B0001" in next(f.en for f in sig.findings if f.code == "ses-format")


def test_independent_checks_of_the_embedded_ses(ses: SesPki, sealed: bytes, tmp_path: Path) -> None:
    """ByteRange read by a regex, SM3 by hashlib, the SM2 signature by openssl."""
    a, b, c, d = (int(v) for v in re.findall(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)", sealed)[-1])
    assert c + d == len(sealed)
    der_hex = sealed[a + b + 1 : c - 1]
    padded = bytes.fromhex(der_hex.decode())
    _, _, _, header, contents, _ = asn1_parser.parse(padded)  # the TLV, without the zero padding
    der = padded[: len(header) + len(contents)]
    parsed = parse_signature(der)
    assert parsed.data_hash == hashlib.new("sm3", sealed[a : a + b] + sealed[c : c + d]).digest()
    assert parsed.property_info == f"PDF ByteRange [{a} {b} {c} {d}]"
    tbs = openssl_tools.first_child(der, tmp_path)
    assert openssl_tools.sm2_verify(ses.holder.certificate, tbs, parsed.signature, tmp_path)


def test_a_changed_document_fails_the_data_hash(ses: SesPki, sealed: bytes) -> None:
    i = sealed.index(b"Contract amount: 100")
    report = ses.verify(sealed[:i] + b"Contract amount: 900" + sealed[i + 20 :])
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    )
    assert _codes(report)[0] == "ses-data-hash"


def test_a_changed_ses_signature_fails(ses: SesPki, sealed: bytes) -> None:
    start, end = contents_span(sealed)
    der_hex = sealed[start:end].rstrip(b"0")
    at = start + len(der_hex) - 6  # inside the signer's signature value
    flipped = b"1" if sealed[at : at + 1] != b"1" else b"2"
    report = ses.verify(sealed[:at] + flipped + sealed[at + 1 :])
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED
    assert sig.sub_indication is SubIndication.SIG_CRYPTO_FAILURE
    assert "ses-signature" in _codes(report)


def test_a_holder_the_seal_does_not_list(ses: SesPki) -> None:
    report = ses.verify(ses.sign(make_pdf(), who=ses.other))
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.SIG_CONSTRAINTS_FAILURE,
    )
    assert _codes(report)[0] == "ses-cert-list"


def test_a_seal_forged_without_the_makers_key(ses: SesPki) -> None:
    """The holder re-signs, but the seal info (longer validity) was changed without the maker."""
    from seals.gbt38540 import asn1

    value = asn1.SESealV4.load(ses.seal())
    value["e_seal_info"]["property"]["valid_end"] = asn1.core.GeneralizedTime(
        T0 + timedelta(days=9999)
    )
    report = ses.verify(ses.sign(make_pdf(), seal=value.dump(force=True)))
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,
    )
    assert _codes(report)[0] == "ses-seal-signature"


def test_a_seal_made_by_an_unrecognised_maker(ses: SesPki) -> None:
    impostor = issue("Impostor Seal Maker", ca=False)
    report = ses.verify(ses.sign(make_pdf(), seal=ses.seal(maker=impostor)))
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
    )
    assert "ses-maker-untrusted" in _codes(report)


def test_sealing_outside_the_seal_validity(ses: SesPki) -> None:
    content = replace(ses.content(), valid_end=WHEN - timedelta(days=1))
    report = ses.verify(ses.sign(make_pdf(), seal=ses.seal(content)))
    sig = report.signatures[0]
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.EXPIRED)
    assert _codes(report)[0] == "ses-seal-validity"


def test_a_revoked_holder_is_not_passed(ses: SesPki) -> None:
    seal = ses.seal(ses.content(ses.revoked))
    sig = ses.verify(ses.sign(make_pdf(), who=ses.revoked, seal=seal)).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
    )


def test_content_added_after_an_ses_seal(ses: SesPki, sealed: bytes) -> None:
    w = IncrementalPdfFileWriter(BytesIO(sealed))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    stream = w.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 72 400 Td (PAID) Tj ET"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), stream])
    w.update_container(page)
    out = BytesIO()
    w.write(out)
    sig = ses.verify(out.getvalue()).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )


def test_an_unreadable_ses_is_a_format_failure(ses: SesPki, sealed: bytes) -> None:
    start, end = contents_span(sealed)
    junk = b"3006" + b"3004" + b"02020000"  # SEQUENCE { SEQUENCE { INTEGER } }
    forged = sealed[:start] + junk.ljust(end - start, b"0") + sealed[end:]
    sig = ses.verify(forged).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.FORMAT_FAILURE,
    )


def test_a_time_stamp_over_the_signature_value_is_the_proof_of_existence(
    ses: SesPki, pki: Pki
) -> None:
    now = datetime.now(UTC)
    content = replace(ses.content(), valid_end=now + timedelta(days=1))
    pdf = ses.sign(make_pdf(), seal=ses.seal(content), when=now, tsa=pki)
    sig = ses.verify(pdf, now=now + timedelta(minutes=1), tsa=pki).signatures[0]
    assert sig.timestamp_time is not None, sig.findings
    assert abs((sig.timestamp_time - now).total_seconds()) < 120
    assert sig.indication is Indication.TOTAL_PASSED, sig.findings


def test_a_seal_expired_since_needs_a_proof_of_existence(ses: SesPki) -> None:
    """Claimed time inside the seal's validity, verified after it ended, no time-stamp: the
    claim alone (which a holder could backdate) is not enough."""
    content = replace(ses.content(), valid_end=WHEN + timedelta(days=5))
    sig = ses.verify(ses.sign(make_pdf(), seal=ses.seal(content))).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.OUT_OF_BOUNDS_NO_POE,
    )
    assert sig.findings[0].code == "ses-seal-expired-no-poe"


def test_a_time_stamp_within_the_seal_validity_proves_it(ses: SesPki, pki: Pki) -> None:
    now = datetime.now(UTC)
    content = replace(ses.content(), valid_end=now + timedelta(hours=1))
    pdf = ses.sign(make_pdf(), seal=ses.seal(content), when=now, tsa=pki)
    later = ses.verify(pdf, now=now + timedelta(days=2), tsa=pki).signatures[0]
    assert later.indication is Indication.TOTAL_PASSED, later.findings


def test_a_maker_certificate_forged_under_our_roots_name(ses: SesPki) -> None:
    """Same issuer name as our SM2 root, signed by another key: a path can be built by names,
    but its signature does not verify, so the maker is not trusted."""
    fake_root = issue("SM2 Root CA", ca=True)
    forged_maker = issue("SM2 Seal Maker", issuer=fake_root)
    report = ses.verify(ses.sign(make_pdf(), seal=ses.seal(maker=forged_maker)))
    sig = report.signatures[0]
    assert sig.indication is Indication.INDETERMINATE
    assert "ses-maker-untrusted" in _codes(report)


def test_a_seal_made_with_a_revoked_makers_key_fails(ses: SesPki, pki: Pki) -> None:
    """The root's CRL revokes the seal maker before the time-stamped signing time."""
    now = datetime.now(UTC)
    content = replace(ses.content(), valid_end=now + timedelta(days=1))
    seal = ses.seal(content, maker=ses.revoked_maker)
    pdf = ses.sign(make_pdf(), seal=seal, when=now, tsa=pki)
    sig = ses.verify(pdf, now=now + timedelta(minutes=1), tsa=pki).signatures[0]
    assert sig.timestamp_time is not None, sig.findings
    assert (sig.indication, sig.sub_indication) == (Indication.TOTAL_FAILED, SubIndication.REVOKED)
    assert sig.findings[0].code == "ses-maker-revoked"
    assert "seal maker" in sig.findings[0].en and "制章者" in sig.findings[0].zh
    assert sig.revocation.status is RevocationStatus.GOOD  # the holder's own status


def test_a_revoked_maker_without_a_time_stamp_is_not_passed(ses: SesPki) -> None:
    seal = ses.seal(maker=ses.revoked_maker)
    sig = ses.verify(ses.sign(make_pdf(), seal=seal)).signatures[0]
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.REVOKED_NO_POE,
    )
    assert sig.findings[0].code == "ses-maker-revoked-no-poe"


def test_no_revocation_answer_for_the_maker_is_indeterminate(ses: SesPki, sealed: bytes) -> None:
    """The holder's CRL is there, the root answers nothing about the seal maker: not passed."""
    sig = ses.verify(sealed, root_crl=False).signatures[0]
    assert sig.revocation.status is RevocationStatus.GOOD
    assert (sig.indication, sig.sub_indication) == (
        Indication.INDETERMINATE,
        SubIndication.TRY_LATER,
    )
    assert sig.findings[0].code == "ses-maker-no-revocation-info"
