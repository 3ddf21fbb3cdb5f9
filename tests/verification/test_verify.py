"""Benign documents keep passing; trust, revocation, time-stamps and bad files are reported."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.writer import PdfFileWriter
from pyhanko.sign.fields import MDPPerm

from pki.trust import TrustStore
from seals.reports import (
    Coverage,
    Indication,
    ModificationsAfter,
    RevocationSource,
    RevocationStatus,
    SignatureKind,
    SubIndication,
)
from seals.verification import verify_pdf
from tests.verification.conftest import (
    RESIDENT_ID,
    Pki,
    Verify,
    add_foreign_dss,
    contents_span,
    incremental,
    make_pdf,
    sign,
)
from tests.verification.test_attacks import fill_amount

# --------------------------------------------------------------------------- benign


def test_single_seal_passes_with_full_report(verify: Verify, signed: bytes) -> None:
    report = verify(signed)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert report.document.page_count == 1
    assert report.document.signatures == 1
    assert not report.document.modified_after_last_signature
    (sig,) = report.signatures
    assert sig.integrity and sig.coverage is Coverage.ENTIRE_FILE
    assert sig.pades_level == "B-T"
    assert sig.timestamp_time is not None and sig.tsa == "eseal TSA"
    assert sig.trust_anchor_is_ours and sig.chain[-1] == sig.trust_anchor
    assert sig.revocation.status is RevocationStatus.GOOD
    assert sig.revocation.source is RevocationSource.SERVICE
    assert sig.seal is not None and sig.seal.code == "3301060000001"
    assert sig.signer is not None and sig.signer.credit_code == "91330106MA2GXXXX0A"
    assert sig.kind is SignatureKind.APPROVAL
    assert "验证通过" in report.verdict_zh and "Valid" in report.verdict_en
    json.dumps(report.to_json(), ensure_ascii=False)


def test_second_approval_signature_both_pass(pki: Pki, verify: Verify, signed: bytes) -> None:
    twice = sign(pki, signed, who=pki.person, field="Seal2", box=(60, 60, 180, 180))
    report = verify(twice)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    first, second = report.signatures
    assert first.coverage is Coverage.ENTIRE_REVISION
    assert first.modifications_after is ModificationsAfter.FORM_FILLING
    assert "later-signatures" in {f.code for f in first.findings}
    assert second.coverage is Coverage.ENTIRE_FILE
    assert second.signer is not None
    assert second.signer.resident_id_masked == "3301**********1231"
    assert RESIDENT_ID not in json.dumps(report.to_json(), ensure_ascii=False)


def test_form_filling_allowed_by_certification_passes(pki: Pki, verify: Verify) -> None:
    certified = sign(pki, make_pdf(with_field=True), certify=MDPPerm.FILL_FORMS)
    filled = incremental(certified, fill_amount)
    report = verify(filled)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    (sig,) = report.signatures
    assert sig.kind is SignatureKind.CERTIFICATION and sig.certification == "FILL_FORMS"
    assert sig.modifications_after is ModificationsAfter.FORM_FILLING
    assert "form-filled-allowed" in {f.code for f in sig.findings}
    assert report.document.modified_after_last_signature


def test_form_filling_forbidden_by_certification_fails(pki: Pki, verify: Verify) -> None:
    certified = sign(pki, make_pdf(with_field=True), certify=MDPPerm.NO_CHANGES)
    report = verify(incremental(certified, fill_amount))
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert report.sub_indication is SubIndication.FORMAT_FAILURE  # not a digest mismatch
    assert report.signatures[0].integrity is True


def test_lt_and_lta_stay_passed(pki: Pki, verify: Verify, base_pdf: bytes) -> None:
    lt = verify(sign(pki, base_pdf, lt=True))
    assert lt.indication is Indication.TOTAL_PASSED, lt.to_json()
    assert lt.signatures[0].pades_level == "B-LT"
    lta = verify(sign(pki, base_pdf, lta=True))
    assert lta.indication is Indication.TOTAL_PASSED, lta.to_json()
    sig = next(s for s in lta.signatures if s.kind is not SignatureKind.DOCUMENT_TIMESTAMP)
    doc_ts = next(s for s in lta.signatures if s.kind is SignatureKind.DOCUMENT_TIMESTAMP)
    assert sig.pades_level == "B-LTA"
    assert sig.modifications_after is ModificationsAfter.NONE
    assert doc_ts.indication is Indication.TOTAL_PASSED
    assert not lta.document.modified_after_last_signature


def test_b_b_without_timestamp_passes_at_current_time(
    pki: Pki, verify: Verify, base_pdf: bytes
) -> None:
    report = verify(sign(pki, base_pdf, timestamp=False))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert report.signatures[0].pades_level == "B-B"
    assert report.signatures[0].timestamp_time is None


# --------------------------------------------------------------------------- trust, revocation


def test_revoked_before_timestamped_signing_fails(
    pki: Pki, verify: Verify, base_pdf: bytes
) -> None:
    report = verify(sign(pki, base_pdf, who=pki.revoked_before))
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert report.sub_indication is SubIndication.REVOKED
    sig = report.signatures[0]
    assert sig.revocation.status is RevocationStatus.REVOKED
    assert sig.revocation.source is RevocationSource.SERVICE
    assert sig.findings[0].code == "revoked"


def test_revoked_after_timestamped_signing_stays_valid(
    pki: Pki, verify: Verify, base_pdf: bytes
) -> None:
    pdf = sign(pki, base_pdf, who=pki.revoked_after)
    report = verify(pdf, now=datetime.now(UTC) + timedelta(days=1))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    sig = report.signatures[0]
    assert sig.revocation.status is RevocationStatus.REVOKED_AFTER_SIGNING
    assert sig.revocation.revoked_at == pki.revoked_at[pki.revoked_after.cert.serial_number]
    assert "revoked-after-signing" in {f.code for f in sig.findings}


def test_revoked_without_timestamp_is_indeterminate(
    pki: Pki, verify: Verify, base_pdf: bytes
) -> None:
    report = verify(sign(pki, base_pdf, who=pki.revoked_before, timestamp=False))
    assert report.indication is Indication.INDETERMINATE, report.to_json()
    assert report.sub_indication is SubIndication.REVOKED_NO_POE


def test_unrecognised_ca_with_our_root_name_is_no_chain(
    pki: Pki, verify: Verify, base_pdf: bytes
) -> None:
    pdf = sign(pki, base_pdf, who=pki.rogue_leaf, issuer=pki.rogue_root)
    report = verify(pdf)
    assert report.indication is Indication.INDETERMINATE, report.to_json()
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND
    sig = report.signatures[0]
    assert sig.integrity and sig.seal is None and sig.trust_anchor is None


def test_recognised_foreign_ca_with_embedded_revocation_passes(
    pki: Pki, verify: Verify, base_pdf: bytes
) -> None:
    pdf = sign(pki, base_pdf, who=pki.foreign_leaf, issuer=pki.foreign_root)
    without = verify(pdf)
    assert without.indication is Indication.INDETERMINATE, without.to_json()
    assert without.sub_indication is SubIndication.TRY_LATER
    report = verify(add_foreign_dss(pki, pdf))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    sig = report.signatures[0]
    assert not sig.trust_anchor_is_ours
    assert sig.revocation.source is RevocationSource.EMBEDDED_DSS
    assert sig.seal is None


def test_without_revocation_service_our_signature_is_try_later(
    pki: Pki, trust: TrustStore, signed: bytes
) -> None:
    report = verify_pdf(pdf=signed, trust=trust, now=datetime.now(UTC), seal_lookup=None)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.TRY_LATER


def test_removing_our_root_makes_it_unrecognised(pki: Pki, signed: bytes) -> None:
    only_foreign = TrustStore(own_roots=[], recognised=[pki.foreign_root.cert])
    report = verify_pdf(pdf=signed, trust=only_foreign, now=datetime.now(UTC))
    assert report.sub_indication is SubIndication.NO_CERTIFICATE_CHAIN_FOUND


# --------------------------------------------------------------------------- bad documents


def _encrypted() -> bytes:
    w = PdfFileWriter()
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.writer import PageObject

    contents = w.add_object(generic.StreamObject(stream_data=b"BT ET"))
    w.insert_page(PageObject(contents=contents, media_box=(0, 0, 595, 842)))
    w.encrypt("owner", "user")
    out = BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("not a pdf", "not_pdf"),
        ("damaged", "damaged"),
        ("encrypted", "encrypted"),
        ("unsigned", "unsigned"),
        ("empty", "not_pdf"),
    ],
)
def test_bad_documents_are_reported_not_raised(
    name: str, status: str, verify: Verify, signed: bytes, base_pdf: bytes
) -> None:
    pdf = {
        "not a pdf": b"PK\x03\x04 this is a zip file",
        "damaged": signed[: len(signed) // 2],
        "encrypted": _encrypted(),
        "unsigned": base_pdf,
        "empty": b"",
    }[name]
    report = verify(pdf)
    assert report.indication is Indication.INDETERMINATE
    assert report.sub_indication is SubIndication.FORMAT_FAILURE
    assert report.document.status == status
    assert report.verdict_zh.startswith("无法验证")
    assert report.document.modifications


def test_one_page_single_signature_is_fast(verify: Verify, signed: bytes) -> None:
    verify(signed)  # warm-up
    started = time.perf_counter()
    for _ in range(5):
        report = verify(signed)
    per = (time.perf_counter() - started) / 5
    assert report.indication is Indication.TOTAL_PASSED
    assert per < 0.5, per


def test_trailing_bytes_after_eof_change_nothing(verify: Verify, signed: bytes) -> None:
    """Bytes after %%EOF that form no revision: not a modification, but not ENTIRE_FILE."""
    report = verify(signed + b"\n% trailing comment\n")
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert report.signatures[0].coverage is Coverage.ENTIRE_REVISION


def test_time_limit_gives_a_report_not_an_exception(trust: TrustStore, signed: bytes) -> None:
    report = verify_pdf(pdf=signed, trust=trust, now=datetime.now(UTC), max_seconds=1e-6)
    assert report.indication is Indication.INDETERMINATE
    assert "time-limit" in {f.code for f in report.document.modifications} | {
        f.code for s in report.signatures for f in s.findings
    }


def test_altered_certificate_inside_the_cms_is_a_failure_not_a_crash(
    pki: Pki, signed: bytes, verify: Verify
) -> None:
    """The certificates inside /Contents are not covered by the byte range: changing the
    signer's certificate there must fail the signature, never raise (found by fuzzing)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    start, end = contents_span(signed)
    cert_hex = pki.enterprise.cert.public_bytes(Encoding.DER).hex().encode()
    body = signed[start:end].lower()
    at = body.find(cert_hex)
    assert at >= 0
    position = start + at + len(cert_hex) // 2  # somewhere inside the certificate
    digit = signed[position : position + 1]
    flipped = b"1" if digit != b"1" else b"2"
    tampered = signed[:position] + flipped + signed[position + 1 :]
    report = verify(tampered)
    assert report.indication is not Indication.TOTAL_PASSED
