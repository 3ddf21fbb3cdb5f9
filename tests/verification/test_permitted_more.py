"""Permitted changes the issue lists that had no test of their own: form filling and comments
under a DocMDP P3 certification, and an XMP metadata update made by a later signature - each
passes, while the same change beyond the permission still fails."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

from seals.reports import Indication, VerificationReport
from tests.verification.conftest import (
    Pki,
    Verify,
    incremental,
    make_pdf,
    sign,
)
from tests.verification.test_attacks import change_content, fill_amount
from tests.verification.test_permitted import _COVER, _FRAME, _note, appearance_stream

XMP = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"><pdf:Producer>{producer}</pdf:Producer>
<xmp:MetadataDate>2026-12-07T05:00:00Z</xmp:MetadataDate></rdf:Description>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>"""


def _codes(report: VerificationReport, field: str) -> set[str]:
    return {f.code for s in report.signatures if s.field_name == field for f in s.findings}


def test_form_filling_after_a_p3_certification_passes(pki: Pki, verify: Verify) -> None:
    certified = sign(pki, make_pdf(with_field=True), certify=MDPPerm.ANNOTATE)
    report = verify(incremental(certified, fill_amount))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "form-filled-allowed" in _codes(report, "Seal1")


def test_a_comment_after_a_p3_certification_passes(pki: Pki, verify: Verify) -> None:
    """P3 permits comments (P2 does not: test_permitted.py)."""
    certified = sign(pki, make_pdf(), certify=MDPPerm.ANNOTATE)
    report = verify(incremental(certified, _note((300, 300, 360, 340))))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "annotations-after-signing" in _codes(report, "Seal1")


def test_page_content_changed_after_a_p3_certification_fails(pki: Pki, verify: Verify) -> None:
    certified = sign(pki, make_pdf(), certify=MDPPerm.ANNOTATE)
    report = verify(incremental(certified, change_content))
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()


class _RawMetadataWriter(IncrementalPdfFileWriter):
    """pyhanko's incremental writer without its own XMP bookkeeping (it would replace the
    stream written here by its own metadata)."""

    def _update_meta(self) -> None:
        return None


def _with_metadata(pdf: bytes, xmp: bytes) -> bytes:
    """An update that only replaces the catalog's /Metadata stream (what a producer re-saving
    the file writes: new producer, new metadata date)."""
    w = _RawMetadataWriter(BytesIO(pdf))
    stream = w.add_object(
        generic.StreamObject(
            {pdf_name("/Type"): pdf_name("/Metadata"), pdf_name("/Subtype"): pdf_name("/XML")},
            stream_data=xmp,
        )
    )
    w.root[pdf_name("/Metadata")] = stream
    w.update_root()
    out = BytesIO()
    w.write(out)
    assert PdfFileReader(out).root["/Metadata"].data == xmp
    return out.getvalue()


def _metadata_rewritten_in(pdf: bytes, revision: int) -> bool:
    resolver = PdfFileReader(BytesIO(pdf)).get_historical_resolver(revision)
    return resolver.root.raw_get("/Metadata").reference in resolver.explicit_refs_in_revision()


def test_metadata_updated_by_a_later_signature_passes(pki: Pki, verify: Verify) -> None:
    """pyhanko, like Acrobat, rewrites the XMP /Metadata in the update of every signature."""
    first = sign(pki, make_pdf())
    both = sign(pki, first, field="Seal2", box=(60, 60, 180, 180))
    assert _metadata_rewritten_in(both, 2)  # the later seal's own update rewrote it
    report = verify(both)
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2


def test_metadata_rewritten_by_another_producer_passes(pki: Pki, verify: Verify) -> None:
    xmp = XMP.format(producer="Adobe Acrobat Pro 2024").encode()
    report = verify(_with_metadata(sign(pki, make_pdf()), xmp))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()


def test_metadata_replaced_by_something_else_fails(pki: Pki, verify: Verify) -> None:
    """The rule lets well-formed XMP through, not an arbitrary stream in its place."""
    doc = _with_metadata(sign(pki, make_pdf()), b"BT /F1 18 Tf (x) Tj ET <not xml")
    report = verify(doc)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()


def _indirect_annots(w: IncrementalPdfFileWriter) -> None:
    """Page 1's /Annots as an array object of its own (holding one link), as many producers
    write it."""
    page = w.root["/Pages"]["/Kids"].raw_get(0).get_object()
    link = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Link"),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (72, 100, 200, 120)]
                ),
                pdf_name("/Border"): generic.ArrayObject([generic.NumberObject(0)] * 3),
            }
        )
    )
    page[pdf_name("/Annots")] = w.add_object(generic.ArrayObject([link]))
    w.update_container(page)


def _into_the_array(
    rect: tuple[int, int, int, int], drawing: str = _FRAME, *, drop_first: bool = False
) -> Callable[[IncrementalPdfFileWriter], None]:
    """A comment with its own appearance added by rewriting only the /Annots array object
    (the page object is left as signed); `drop_first` also removes the signed link."""

    def change(w: IncrementalPdfFileWriter) -> None:
        array_ref = w.root["/Pages"]["/Kids"].raw_get(0).get_object().raw_get("/Annots")
        array = array_ref.get_object()
        ap = appearance_stream(w, rect, drawing)
        note = w.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name("/FreeText"),
                    pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in rect]),
                    pdf_name("/F"): generic.NumberObject(4),
                    pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): ap}),
                }
            )
        )
        if drop_first:
            del array[0]
        array.append(note)
        w.mark_update(array_ref)

    return change


def _signed_with_indirect_annots(pki: Pki) -> bytes:
    return sign(pki, incremental(make_pdf(), _indirect_annots))


def test_a_comment_added_through_an_annots_array_object_passes(pki: Pki, verify: Verify) -> None:
    report = verify(
        incremental(_signed_with_indirect_annots(pki), _into_the_array((300, 300, 360, 340)))
    )
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "annotations-after-signing" in _codes(report, "Seal1")


def test_a_comment_over_signed_text_through_an_annots_array_object_fails(
    pki: Pki, verify: Verify
) -> None:
    """The overlap check sees annotations added this way (a white box with other words)."""
    doc = incremental(
        _signed_with_indirect_annots(pki), _into_the_array((60, 700, 400, 750), _COVER)
    )
    report = verify(doc)
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert "annotation-over-content" in _codes(report, "Seal1")


def test_a_signed_annotation_removed_from_the_array_object_fails(pki: Pki, verify: Verify) -> None:
    doc = incremental(
        _signed_with_indirect_annots(pki), _into_the_array((300, 300, 360, 340), drop_first=True)
    )
    report = verify(doc)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()


def _with_indirect_values(
    change: Callable[[IncrementalPdfFileWriter], None],
) -> Callable[[IncrementalPdfFileWriter], None]:
    """`change`, then the added comment's /Rect and /AP moved into objects of their own
    (legal PDF: viewers resolve them and draw the same)."""

    def wrapped(w: IncrementalPdfFileWriter) -> None:
        change(w)
        page = w.root["/Pages"]["/Kids"].raw_get(0).get_object()
        annot = page["/Annots"][-1]
        annot[pdf_name("/Rect")] = w.add_object(annot["/Rect"])
        annot[pdf_name("/AP")] = w.add_object(annot["/AP"])

    return wrapped


def test_a_comment_over_signed_text_with_an_indirect_rect_fails(pki: Pki, verify: Verify) -> None:
    """An indirect /Rect must not hide the comment from the over-content check."""
    cover = _with_indirect_values(_note((60, 700, 400, 750), _COVER, "/FreeText"))
    report = verify(incremental(sign(pki, make_pdf()), cover))
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert "annotation-over-content" in _codes(report, "Seal1")


def test_a_comment_beside_the_text_with_an_indirect_rect_passes(pki: Pki, verify: Verify) -> None:
    beside = _with_indirect_values(_note((300, 300, 360, 340)))
    report = verify(incremental(sign(pki, make_pdf()), beside))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()


def _form_with_indirect_kids(w: IncrementalPdfFileWriter) -> None:
    """Field `party` whose /Kids is an array object of its own holding the text field
    `party.name` (its widget on page 1)."""
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    parent = w.add_object(
        generic.DictionaryObject(
            {pdf_name("/T"): generic.TextStringObject("party"), pdf_name("/FT"): pdf_name("/Tx")}
        )
    )
    kid = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/T"): generic.TextStringObject("name"),
                pdf_name("/V"): generic.TextStringObject("A"),
                pdf_name("/Parent"): parent,
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (72, 400, 272, 430)]
                ),
                pdf_name("/P"): page_ref,
            }
        )
    )
    parent.get_object()[pdf_name("/Kids")] = w.add_object(generic.ArrayObject([kid]))
    page[pdf_name("/Annots")] = generic.ArrayObject([kid])
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {pdf_name("/Fields"): generic.ArrayObject([parent])}
    )
    w.update_container(page)
    w.update_root()


def _rename_party(w: IncrementalPdfFileWriter) -> None:
    parent = w.root["/AcroForm"]["/Fields"][0]
    kid_ref = parent["/Kids"].raw_get(0)
    kid_ref.get_object()[pdf_name("/V")] = generic.TextStringObject("B")
    w.mark_update(kid_ref)


def test_a_form_with_an_indirect_kids_array_sealed_twice_passes(pki: Pki, verify: Verify) -> None:
    one = sign(pki, incremental(make_pdf(), _form_with_indirect_kids))
    report = verify(sign(pki, one, field="Seal2", box=(60, 60, 180, 180)))
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )


def test_a_field_under_an_indirect_kids_array_changed_after_signing_fails(
    pki: Pki, verify: Verify
) -> None:
    one = sign(pki, incremental(make_pdf(), _form_with_indirect_kids))
    report = verify(incremental(one, _rename_party))
    sig = report.signatures[0]
    assert sig.indication is not Indication.TOTAL_PASSED, report.to_json()
    assert "form-changed-after-signing" in {f.code for f in sig.findings}
