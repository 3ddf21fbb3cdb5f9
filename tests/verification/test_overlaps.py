"""Annotations overlapping one another: a warning (finding `annotations-overlap`), never a
failure - EU DSS's PdfAnnotationOverlap check, WARN in its default policy
(pades-multiple-pages-annots-overlap.pdf). Documents made here with pyhanko."""

from __future__ import annotations

import time
from collections.abc import Callable
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from seals.indications import INDICATIONS, FindingClass
from seals.reports import Indication, VerificationReport
from seals.verification.overlaps import MAX_ANNOTS, MAX_ANNOTS_PER_PAGE, overlaps
from tests.verification.conftest import Pki, Verify, incremental, make_pdf, sign


def _links(*rects: tuple[int, int, int, int]) -> Callable[[IncrementalPdfFileWriter], None]:
    """Link annotations at `rects` on page 1 (as a producer writes them for hyperlinks)."""

    def change(w: IncrementalPdfFileWriter) -> None:
        page_ref = w.find_page_for_modification(0)[0]
        page = page_ref.get_object()
        annots = generic.ArrayObject(list(page.get("/Annots", generic.ArrayObject())))
        for rect in rects:
            link = generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name("/Link"),
                    pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in rect]),
                    pdf_name("/Border"): generic.ArrayObject([generic.NumberObject(0)] * 3),
                    pdf_name("/A"): generic.DictionaryObject(
                        {
                            pdf_name("/S"): pdf_name("/URI"),
                            pdf_name("/URI"): generic.TextStringObject("https://example.com/"),
                        }
                    ),
                }
            )
            annots.append(w.add_object(link))
        page[pdf_name("/Annots")] = annots
        w.update_container(page)

    return change


def _codes(report: VerificationReport, index: int = 0) -> set[str]:
    sig = sorted(report.signatures, key=lambda s: s.signed_revision or 0)[index]
    return {f.code for f in sig.findings}


def test_links_overlapping_when_signed_warn_and_pass(pki: Pki, verify: Verify) -> None:
    doc = incremental(make_pdf(), _links((72, 700, 200, 730), (190, 700, 320, 730)))
    report = verify(sign(pki, doc))
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_PASSED, report.to_json()
    overlap = next(f for f in sig.findings if f.code == "annotations-overlap")
    assert "page 1" in overlap.en and "present when signed" in overlap.en


def test_a_second_seal_laid_over_the_first_warns_and_passes(pki: Pki, verify: Verify) -> None:
    first = sign(pki, make_pdf(), box=(400, 60, 520, 180))
    both = sign(pki, first, field="Seal2", box=(450, 100, 570, 220))
    report = verify(both)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert all(s.indication is Indication.TOTAL_PASSED for s in report.signatures)
    first_sig = sorted(report.signatures, key=lambda s: s.signed_revision or 0)[0]
    overlap = next(f for f in first_sig.findings if f.code == "annotations-overlap")
    assert "added after signing" in overlap.en


def test_seals_side_by_side_do_not_warn(pki: Pki, verify: Verify) -> None:
    first = sign(pki, make_pdf(), box=(400, 60, 520, 180))
    both = sign(pki, first, field="Seal2", box=(60, 60, 180, 180))
    doc = incremental(both, _links((72, 300, 200, 330), (200, 300, 320, 330)))  # edges touch
    report = verify(doc)
    assert "annotations-overlap" not in _codes(report, 0) | _codes(report, 1)


def test_an_overlap_is_only_a_warning_in_the_table() -> None:
    assert INDICATIONS[FindingClass.ANNOTATIONS_OVERLAP] is None


def _many_pages_sharing_annotations(pages: int, annots: int) -> bytes:
    """`pages` pages that all list the same `annots` overlapping annotations (a hostile file:
    a few objects that cost pages x annots^2 comparisons if nothing bounds the check)."""
    w = PdfFileWriter()
    shared = generic.ArrayObject(
        w.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name("/Square"),
                    pdf_name("/Rect"): generic.ArrayObject(
                        [generic.NumberObject(n) for n in (100 + i % 7, 100, 300, 300)]
                    ),
                }
            )
        )
        for i in range(annots)
    )
    shared_ref = w.add_object(shared)
    for _ in range(pages):
        page = PageObject(
            contents=w.add_object(generic.StreamObject(stream_data=b"")), media_box=(0, 0, 595, 842)
        )
        page[pdf_name("/Annots")] = shared_ref
        w.insert_page(page)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def test_the_overlap_check_is_bounded_on_a_hostile_file() -> None:
    doc = _many_pages_sharing_annotations(pages=100, annots=MAX_ANNOTS_PER_PAGE)
    reader = PdfFileReader(BytesIO(doc))
    started = time.process_time()
    found = overlaps(reader)
    assert time.process_time() - started < 20
    examined = {o.page for o in found}
    assert examined and len(examined) <= MAX_ANNOTS // MAX_ANNOTS_PER_PAGE
