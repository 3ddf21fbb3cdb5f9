"""iText writes its version mark /ITXT into the page tree root when it signs again (EU DSS's
pkcs7_sha1.pdf): the earlier signature still passes; anything else changed in the page tree
root by the same update - an inherited /Rotate turns every page - still fails."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from seals.reports import Indication
from tests.verification.conftest import Pki, Verify, make_pdf, sign, sign_as_seal2


def second_signature_marking_pages(pki: Pki, pdf: bytes, **extra: generic.PdfObject) -> bytes:
    """Seal2 added by an update that also writes /ITXT (and `extra` entries) into /Pages."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    pages = w.root["/Pages"]
    pages[pdf_name("/ITXT")] = generic.TextStringObject("5.0.0")
    for key, value in extra.items():
        pages[pdf_name(f"/{key}")] = value
    w.update_container(pages)
    return sign_as_seal2(pki, w)


def _seal1(report: Any) -> Any:
    return next(s for s in report.signatures if s.field_name == "Seal1")


def test_itext_version_mark_in_the_page_tree_passes(pki: Pki, verify: Verify) -> None:
    report = verify(second_signature_marking_pages(pki, sign(pki, make_pdf(pages=2))))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2


def test_page_tree_changed_beside_the_mark_fails(pki: Pki, verify: Verify) -> None:
    signed = sign(pki, make_pdf(pages=2))
    for extra in (
        {"Rotate": generic.NumberObject(90)},
        {"MediaBox": generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 200, 200)])},
    ):
        report = verify(second_signature_marking_pages(pki, signed, **extra))
        assert _seal1(report).indication is Indication.TOTAL_FAILED, (extra, report.to_json())


def test_a_mark_that_is_a_reference_fails(pki: Pki, verify: Verify) -> None:
    """Only a direct string or name counts as a mark."""
    signed = sign(pki, make_pdf())
    w = IncrementalPdfFileWriter(BytesIO(signed))
    pages = w.root["/Pages"]
    pages[pdf_name("/ITXT")] = w.add_object(generic.StreamObject(stream_data=b"q Q"))
    w.update_container(pages)
    out = BytesIO()
    w.write(out)
    report = verify(out.getvalue())
    assert _seal1(report).indication is Indication.TOTAL_FAILED, report.to_json()
