"""Files real producers write that strict parsing refuses, and that must still verify."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import zlib
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import cms
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter

from seals.reports import Coverage, Indication, SubIndication
from tests.verification.conftest import (
    Pki,
    Verify,
    byte_range,
    contents_span,
    incremental,
    make_pdf,
    pyhanko_signer,
    sign,
    timestamper,
)
from tests.verification.test_indications import append_with_empty_xref


def _shrink_last_size(pdf: bytes, since: int, by: int) -> tuple[bytes, int]:
    """Declare a smaller /Size in the last revision's trailer (as some producers do); returns
    the file and the true size."""
    last = list(re.finditer(rb"/Size (\d+)", pdf[since:]))[-1]
    digits = last.group(1)
    smaller = str(int(digits) - by).rjust(len(digits), "0").encode()
    start = since + last.start(1)
    return pdf[:start] + smaller + pdf[start + len(digits) :], int(digits)


def _sign_after(pki: Pki, pdf: bytes, next_id: int) -> bytes:
    """A second seal by a producer that numbers new objects from the true size."""
    w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    w._lastobj_id = next_id  # the producer knows its highest object number
    fields.append_signature_field(
        w, fields.SigFieldSpec(sig_field_name="Seal2", on_page=0, box=(60, 60, 180, 180))
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Seal2", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    out = signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.enterprise), timestamper=timestamper(pki)
    )
    return out.getvalue()


def test_shrinking_xref_sizes_verify_with_both_signatures(pki: Pki, verify: Verify) -> None:
    """ "XRef section sizes must be nondecreasing" is a strict-mode rule, not the spec's: a
    two-signature file whose middle revision declares a smaller /Size is read tolerantly,
    both signatures pass, and the report says it was read tolerantly."""
    first = sign(pki, make_pdf())
    middle, size = _shrink_last_size(incremental(first, lambda w: w.update_root()), len(first), 3)
    both = _sign_after(pki, middle, size)
    report = verify(both)
    assert report.document.status == "ok", report.to_json()
    assert len(report.signatures) == 2
    assert all(s.indication is Indication.TOTAL_PASSED for s in report.signatures), report.to_json()
    assert "tolerant-parsing" in {f.code for f in report.document.modifications}


def test_tolerance_does_not_hide_objects_behind_an_empty_xref(pki: Pki, verify: Verify) -> None:
    """A bare `xref` keyword with no subsection, read tolerantly: the appended page is still a
    modification (every byte after a signed revision must be accounted for)."""
    signed = sign(pki, make_pdf())
    attacked = append_with_empty_xref(signed).replace(
        b"xref\n0 1\n0000000000 65535 f \ntrailer", b"xref\ntrailer"
    )
    report = verify(attacked)
    assert report.indication is not Indication.TOTAL_PASSED, report.to_json()
    codes = {f.code for s in report.signatures for f in s.findings}
    assert report.document.status == "damaged" or "unaccounted-bytes-after-signing" in codes


def hybrid_pdf() -> bytes:
    """A hybrid-reference file as Word writes them (ISO 32000-1 7.5.8.4): a classic xref table
    whose trailer's /XRefStm points at an xref stream listing the font, which lives in an
    object stream and is a free entry for readers that only know classic tables."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def obj(num: int, body: bytes) -> None:
        offsets[num] = len(out)
        out.extend(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")

    content = b"BT /F1 18 Tf 72 720 Td (Contract amount: 100 CNY) Tj ET"
    obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    obj(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    obj(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>")  # fmt: skip
    obj(4, b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objstm = b"5 0 " + b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    obj(6, b"<< /Type /ObjStm /N 1 /First 4 /Length %d >>\nstream\n" % len(objstm)
        + objstm + b"\nendstream")  # fmt: skip
    rows = zlib.compress(bytes([2, 0, 6, 0]))  # object 5: object stream 6, index 0 (W 1 2 1)
    obj(7, b"<< /Type /XRef /Size 8 /W [1 2 1] /Index [5 1] /Filter /FlateDecode "
        b"/Length %d >>\nstream\n" % len(rows) + rows + b"\nendstream")  # fmt: skip
    xref_at = len(out)
    out.extend(b"xref\n0 8\n0000000000 65535 f \n")
    for n in range(1, 8):
        free = n == 5
        out.extend(b"0000000000 65535 f \n" if free else b"%010d 00000 n \n" % offsets[n])
    out.extend(
        b"trailer\n<< /Size 8 /Root 1 0 R /XRefStm %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (offsets[7], xref_at)
    )
    return bytes(out)


def test_hybrid_reference_file_with_two_signatures_passes(
    pki: Pki, verify: Verify, tmp_path: Path
) -> None:
    base = hybrid_pdf()
    path = tmp_path / "hybrid.pdf"
    path.write_bytes(base)
    assert subprocess.run(["qpdf", "--check", str(path)], capture_output=True).returncode == 0
    one = sign(pki, base, strict=False)
    both = sign(pki, one, field="Seal2", box=(60, 60, 180, 180), strict=False)
    report = verify(both)
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )
    assert all(s.integrity is True for s in report.signatures)
    assert "tolerant-parsing" in {f.code for f in report.document.modifications}


def test_hybrid_file_changed_after_signing_still_fails(pki: Pki, verify: Verify) -> None:
    from tests.verification.test_attacks import change_content

    attacked = incremental(sign(pki, hybrid_pdf(), strict=False), change_content)
    report = verify(attacked)
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert report.signatures[0].integrity is True


def _with_second_signer_info(pki: Pki, pdf: bytes, *, valid: bool) -> bytes:
    """Re-sign the last signature with a CMS carrying two SignerInfos: the enterprise seal's
    and a second one by another signer (over the same bytes, or over other bytes)."""
    _, values = byte_range(pdf)
    a, b, c, d = values
    digest = hashlib.sha256(pdf[a : a + b] + pdf[c : c + d]).digest()
    other_digest = digest if valid else hashlib.sha256(b"something else").digest()
    first = asyncio.run(
        pyhanko_signer(pki, pki.person).async_sign(other_digest, "sha256", use_pades=True)
    )
    second = asyncio.run(
        pyhanko_signer(pki, pki.enterprise).async_sign(digest, "sha256", use_pades=True)
    )
    signed_data = first["content"]
    signed_data["signer_infos"] = cms.SignerInfos(
        [*signed_data["signer_infos"], *second["content"]["signer_infos"]]
    )
    signed_data["certificates"] = cms.CertificateSet(
        [*signed_data["certificates"], *second["content"]["certificates"]]
    )
    merged = cms.ContentInfo({"content_type": "signed_data", "content": signed_data})
    start, end = contents_span(pdf)
    hex_cms = merged.dump().hex().encode()
    assert len(hex_cms) <= end - start
    return pdf[:start] + hex_cms.ljust(end - start, b"0") + pdf[end:]


def test_a_cms_with_two_signer_infos_is_judged_by_the_one_that_signed(
    pki: Pki, verify: Verify
) -> None:
    """The first SignerInfo signed other bytes, the second signed the document: the second is
    judged (the seal passes), and the report says the CMS had two."""
    doc = _with_second_signer_info(pki, sign(pki, make_pdf(), timestamp=True), valid=False)
    report = verify(doc)
    sig = report.signatures[0]
    assert sig.integrity is True, report.to_json()
    assert "several-signer-infos" in {f.code for f in sig.findings}
    # the reduced CMS is shorter: coverage must still be measured on the file's /Contents
    assert sig.coverage is Coverage.ENTIRE_FILE, report.to_json()
    assert sig.indication is Indication.TOTAL_PASSED, report.to_json()
    assert sig.signer is not None and "杭州" in sig.signer.summary, sig.signer


def test_two_signer_infos_none_of_which_signed_fail(pki: Pki, verify: Verify) -> None:
    doc = _with_second_signer_info(pki, sign(pki, make_pdf()), valid=True)
    tampered = doc.replace(b"Contract amount: 100", b"Contract amount: 900", 1)
    report = verify(tampered)
    assert report.signatures[0].integrity is False, report.to_json()
    assert report.sub_indication is SubIndication.HASH_FAILURE


def _produced_by(tool: str, pdf: bytes, tmp: Path) -> bytes:
    """`pdf` rewritten by another producer."""
    src, dst = tmp / f"{tool}-in.pdf", tmp / f"{tool}-out.pdf"
    src.write_bytes(pdf)
    commands = {
        "qpdf-linearized": ["qpdf", "--linearize", str(src), str(dst)],
        "qpdf-object-streams": ["qpdf", "--object-streams=generate", str(src), str(dst)],
        "ghostscript": ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                        f"-sOutputFile={dst}", str(src)],
    }  # fmt: skip
    command = commands[tool]
    if shutil.which(command[0]) is None:
        message = f"{command[0]} is not installed (scripts/system-deps.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return dst.read_bytes()


@pytest.mark.parametrize("tool", ["qpdf-linearized", "qpdf-object-streams", "ghostscript"])
def test_documents_from_other_producers_sealed_twice_pass(
    tool: str, pki: Pki, verify: Verify, tmp_path: Path
) -> None:
    base = _produced_by(tool, make_pdf(), tmp_path)
    one = sign(pki, base, strict=False)
    both = sign(pki, one, field="Seal2", box=(60, 60, 180, 180), strict=False)
    report = verify(both)
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )
    assert not any(f.code.startswith("unaccounted") for f in report.document.modifications)
