"""Signatures in linearized files (ISO 32000-1 Annex F), made with qpdf --linearize.

A linearized file has two cross-reference sections written in one save; pyhanko counted them
as two revisions, so a signature written inside the linearized file (EU DSS's
pades-ocsp-archiveCutOff-invalid.pdf) was called anomalous coverage, FORMAT_FAILURE, once a
later signature followed. A signature made inside, and a later one after it, pass; content
appended after a signature inside a linearized file still fails. (Files linearized first and
then sealed incrementally: test_tolerant's qpdf-linearized producer test.)
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from seals.reports import Coverage, Indication
from tests.verification.conftest import (
    Pki,
    Verify,
    incremental,
    make_pdf,
    pyhanko_signer,
    sign,
    timestamper,
)
from tests.verification.test_indications import append_with_empty_xref


@pytest.fixture(autouse=True)
def _qpdf() -> None:
    if shutil.which("qpdf") is None:
        message = "qpdf is not installed (scripts/system-deps.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


PLACEHOLDER = 10**9  # ten digits wide: the real ByteRange is written over it


def linearize(pdf: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d, "in.pdf"), Path(d, "out.pdf")
        src.write_bytes(pdf)
        subprocess.run(["qpdf", "--linearize", str(src), str(dst)], check=True)
        out = dst.read_bytes()
    assert b"/Linearized" in out[:1024]
    return out


def _with_signature_placeholder(pages: int) -> bytes:
    """A PDF whose signature field "Seal1" (on the last page) already holds a signature
    dictionary with a zero /Contents and a placeholder /ByteRange, written in full."""
    w = PdfFileWriter()
    font = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            }
        )
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
    )
    for i in range(pages):
        body = f"BT /F1 18 Tf 72 720 Td (Contract amount: 100 CNY - page {i + 1}) Tj ET"
        contents = w.add_object(generic.StreamObject(stream_data=body.encode()))
        w.insert_page(
            PageObject(contents=contents, media_box=(0, 0, 595, 842), resources=resources)
        )
    sig = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Sig"),
                pdf_name("/Filter"): pdf_name("/Adobe.PPKLite"),
                pdf_name("/SubFilter"): pdf_name("/ETSI.CAdES.detached"),
                pdf_name("/ByteRange"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, *[PLACEHOLDER] * 3)]
                ),
                pdf_name("/Contents"): generic.ByteStringObject(b"\0" * 8192),
            }
        )
    )
    page_ref = w.find_page_for_modification(pages - 1)[0]
    widget = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Sig"),
                pdf_name("/T"): generic.TextStringObject("Seal1"),
                pdf_name("/V"): sig,
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/F"): generic.NumberObject(132),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 0, 0)]
                ),
                pdf_name("/P"): page_ref,
            }
        )
    )
    page_ref.get_object()[pdf_name("/Annots")] = generic.ArrayObject([widget])
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {
            pdf_name("/Fields"): generic.ArrayObject([widget]),
            pdf_name("/SigFlags"): generic.NumberObject(3),
        }
    )
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def _xref_tables(pdf: bytes) -> list[tuple[int, int, int]]:
    """(first object number, count, offset of the first entry) of each one-subsection
    cross-reference table, in file order (qpdf writes one subsection per section)."""
    return [
        (int(m.group(1)), int(m.group(2)), m.end())
        for m in re.finditer(rb"xref\s+(\d+) (\d+)\s*\n", pdf)
    ]


def _into_main_section(pdf: bytes, num: int) -> bytes:
    """Renumber object `num` (listed in the first-page section) with a main-section object
    of as many digits, so that the main section lists it - where DSS's producer put the
    signature dictionary; qpdf puts whatever /AcroForm reaches in the first-page section.
    Same-width numbers and swapped xref offsets: every other byte stays where qpdf put it."""
    (first, first_n, first_at), (main, main_n, main_at) = _xref_tables(pdf)[:2]
    assert first <= num < first + first_n and main == 0
    other = next(n for n in range(main_n - 1, 0, -1) if len(str(n)) == len(str(num)))

    def swap(m: re.Match[bytes]) -> bytes:
        n = int(m.group(1))
        return str({num: other, other: num}[n]).encode() + m.group(2)

    pattern = rb"(?<![0-9])(%d|%d)( 0 (?:obj|R))\b" % (num, other)
    pdf = re.sub(pattern, swap, pdf)
    a = first_at + 20 * (num - first)
    b = main_at + 20 * other
    offset_a, offset_b = pdf[a : a + 10], pdf[b : b + 10]
    pdf = pdf[:a] + offset_b + pdf[a + 10 :]
    return pdf[:b] + offset_a + pdf[b + 10 :]


def signed_inside_linearized(pki: Pki, *, pages: int = 3) -> bytes:
    """A linearized file whose own save holds the signature (as the producer of DSS's
    pades-ocsp-archiveCutOff-invalid.pdf writes it): the placeholder file is linearized by
    qpdf, its signature dictionary moved into the main section, then the ByteRange and a
    CMS over it are written into the signature dictionary."""
    pdf = linearize(_with_signature_placeholder(pages))
    headers = list(re.finditer(rb"(?<![0-9])(\d+) 0 obj", pdf[: pdf.index(b"/ByteRange")]))
    pdf = _into_main_section(pdf, int(headers[-1].group(1)))  # the signature dictionary
    contents = re.search(rb"/Contents\s*<(0+)>", pdf)
    assert contents is not None, "qpdf kept /Contents as a hex string"
    gap_start, gap_end = contents.start(1) - 1, contents.end(1) + 1
    values = [0, gap_start, gap_end, len(pdf) - gap_end]
    array = re.search(rb"/ByteRange\s*\[[^\]]*\]", pdf)
    assert array is not None
    text = b"/ByteRange [" + b" ".join(str(v).encode() for v in values) + b"]"
    pdf = pdf[: array.start()] + text.ljust(array.end() - array.start()) + pdf[array.end() :]
    digest = hashlib.sha256(pdf[:gap_start] + pdf[gap_end:]).digest()
    signer = pyhanko_signer(pki, pki.enterprise)
    cms = asyncio.run(
        signer.async_sign(digest, "sha256", use_pades=True, timestamper=timestamper(pki))
    )
    hex_cms = cms.dump().hex().encode()
    assert len(hex_cms) <= gap_end - gap_start - 2
    return pdf[: gap_start + 1] + hex_cms.ljust(gap_end - gap_start - 2, b"0") + pdf[gap_end - 1 :]


def _seal1(report):  # type: ignore[no-untyped-def]
    return next(s for s in report.signatures if s.field_name == "Seal1")


def test_signature_inside_a_linearized_file_passes(pki: Pki, verify: Verify) -> None:
    report = verify(signed_inside_linearized(pki))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert report.document.revisions == 1
    seal = _seal1(report)
    assert (seal.integrity, seal.coverage) == (True, Coverage.ENTIRE_FILE)


def test_a_later_signature_after_one_inside_a_linearized_file_passes(
    pki: Pki, verify: Verify
) -> None:
    pdf = sign(pki, signed_inside_linearized(pki), field="Seal2", box=(60, 60, 180, 120))
    report = verify(pdf)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2
    assert _seal1(report).coverage is Coverage.ENTIRE_REVISION


def _replace_last_page_content(w: IncrementalPdfFileWriter) -> None:
    page = w.root["/Pages"]["/Kids"][0].get_object()
    page[pdf_name("/Contents")] = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Pay 999999 CNY) Tj ET")
    )
    w.update_container(page)


def test_content_changed_after_a_signature_inside_a_linearized_file_fails(
    pki: Pki, verify: Verify
) -> None:
    report = verify(incremental(signed_inside_linearized(pki), _replace_last_page_content))
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert _seal1(report).indication is Indication.TOTAL_FAILED


def test_a_page_appended_behind_an_empty_xref_after_a_linearized_signature_fails(
    pki: Pki, verify: Verify
) -> None:
    """New page, page tree and content after the signed linearized file, then an `xref`
    listing nothing: a repairing viewer shows the page, so it is a modification."""
    report = verify(append_with_empty_xref(signed_inside_linearized(pki)))
    assert report.indication is not Indication.TOTAL_PASSED, report.to_json()
    assert _seal1(report).indication is not Indication.TOTAL_PASSED
    codes = {f.code for f in _seal1(report).findings}
    assert "unaccounted-bytes-after-signing" in codes, report.to_json()


def test_linearized_with_xref_streams_is_one_revision_and_sealed_twice_passes(
    pki: Pki, verify: Verify
) -> None:
    """qpdf --linearize --object-streams=generate: both sections are xref streams; folded
    into one revision, the two incremental seals make three."""
    with tempfile.TemporaryDirectory() as d:
        src, dst = Path(d, "in.pdf"), Path(d, "out.pdf")
        src.write_bytes(make_pdf(pages=3))
        subprocess.run(
            ["qpdf", "--linearize", "--object-streams=generate", str(src), str(dst)], check=True
        )
        linearized = dst.read_bytes()
    one = sign(pki, linearized)
    two = sign(pki, one, field="Seal2", who=pki.person, box=(60, 60, 180, 120))
    report = verify(two)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert report.document.revisions == 3
