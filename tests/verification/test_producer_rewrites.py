"""Rewrites other producers make when they sign or comment after a signature (EU DSS's
Signature-P-DE_SCI-4 and pades-signed-annot-added vectors) pass; the same mechanisms used to
change what is shown, run code or carry files still fail."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

from seals.reports import Indication
from tests.verification.conftest import (
    Pki,
    Verify,
    incremental,
    pyhanko_signer,
    sign,
    sign_as_seal2,
    timestamper,
)


def _font(w: PdfFileWriter | IncrementalPdfFileWriter, base: str) -> generic.IndirectObject:
    return w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name(base),
            }
        )
    )


def indirect_resources_pdf() -> bytes:
    """One page whose /Resources is an indirect object (as the Signature-P-DE files have)."""
    w = PdfFileWriter()
    fonts = generic.DictionaryObject({pdf_name("/F1"): _font(w, "/Helvetica")})
    resources = w.add_object(generic.DictionaryObject({pdf_name("/Font"): fonts}))
    content = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Contract amount: 100 CNY) Tj ET")
    )
    page = PageObject(contents=content, media_box=(0, 0, 595, 842))
    page[pdf_name("/Resources")] = resources
    w.insert_page(page)
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def second_signature_copying_resources(pki: Pki, pdf: bytes, *, other_font: bool) -> bytes:
    """A second signature whose update also replaces the page's /Resources by a new object:
    an identical copy, or (`other_font`) one whose /F1 is another font."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    old = page["/Resources"]
    copy = generic.DictionaryObject({k: old.raw_get(k) for k in old})
    if other_font:
        copy[pdf_name("/Font")] = generic.DictionaryObject({pdf_name("/F1"): _font(w, "/Courier")})
    page[pdf_name("/Resources")] = w.add_object(copy)
    w.update_container(page)
    return sign_as_seal2(pki, w)


def _first(report):  # type: ignore[no-untyped-def]
    return next(s for s in report.signatures if s.field_name == "Seal1")


def test_resources_replaced_by_an_identical_object_passes(pki: Pki, verify: Verify) -> None:
    signed = sign(pki, indirect_resources_pdf())
    report = verify(second_signature_copying_resources(pki, signed, other_font=False))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2


def test_resources_replaced_by_a_different_object_fails(pki: Pki, verify: Verify) -> None:
    signed = sign(pki, indirect_resources_pdf())
    report = verify(second_signature_copying_resources(pki, signed, other_font=True))
    assert _first(report).indication is Indication.TOTAL_FAILED, report.to_json()


def _add_names(key: str):  # type: ignore[no-untyped-def]
    """An update adding a catalog /Names with one name tree `key` holding one new object."""

    def change(w: IncrementalPdfFileWriter) -> None:
        if key == "/AP":
            value = w.add_object(
                generic.StreamObject(
                    {
                        pdf_name("/Type"): pdf_name("/XObject"),
                        pdf_name("/Subtype"): pdf_name("/Form"),
                        pdf_name("/BBox"): generic.ArrayObject(
                            [generic.NumberObject(n) for n in (0, 0, 40, 20)]
                        ),
                    },
                    stream_data=b"1 0 0 RG 1 1 38 18 re S",
                )
            )
        elif key == "/JavaScript":
            value = w.add_object(
                generic.DictionaryObject(
                    {
                        pdf_name("/S"): pdf_name("/JavaScript"),
                        pdf_name("/JS"): generic.TextStringObject("app.alert('paid');"),
                    }
                )
            )
        else:  # /EmbeddedFiles
            data = w.add_object(generic.StreamObject(stream_data=b"amount=999999"))
            value = w.add_object(
                generic.DictionaryObject(
                    {
                        pdf_name("/Type"): pdf_name("/Filespec"),
                        pdf_name("/F"): generic.TextStringObject("invoice.txt"),
                        pdf_name("/EF"): generic.DictionaryObject({pdf_name("/F"): data}),
                    }
                )
            )
        tree = w.add_object(
            generic.DictionaryObject(
                {pdf_name("/Names"): generic.ArrayObject([generic.TextStringObject("x"), value])}
            )
        )
        names = generic.DictionaryObject({pdf_name(key): tree})
        w.root[pdf_name("/Names")] = w.add_object(names)
        w.update_root()

    return change


def test_a_names_dictionary_of_named_appearances_passes(pki: Pki, verify: Verify) -> None:
    from tests.verification.conftest import make_pdf

    report = verify(incremental(sign(pki, make_pdf()), _add_names("/AP")))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()


def test_javascript_or_files_added_in_names_still_fail(pki: Pki, verify: Verify) -> None:
    from tests.verification.conftest import make_pdf

    signed = sign(pki, make_pdf())
    for key in ("/JavaScript", "/EmbeddedFiles"):
        report = verify(incremental(signed, _add_names(key)))
        assert report.indication is Indication.TOTAL_FAILED, (key, report.to_json())


def _empty_field_off_page(w: IncrementalPdfFileWriter) -> None:
    """An empty signature field "Seal2" whose widget no page lists in /Annots yet."""
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    widget = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Sig"),
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/F"): generic.NumberObject(132),
                pdf_name("/T"): generic.TextStringObject("Seal2"),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (60, 60, 180, 120)]
                ),
                pdf_name("/P"): page_ref,
            }
        )
    )
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {pdf_name("/Fields"): generic.ArrayObject([widget])}
    )
    w.update_root()


def fill_existing_field(pki: Pki, pdf: bytes, *, also_edit_page: bool = False) -> bytes:
    """Sign into "Seal2", listing its widget on the page in the same update (as the tool that
    wrote DSS's timestamped-fields.pdf does); `also_edit_page` also swaps the page content."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    widget = next(
        f for f in w.root["/AcroForm"]["/Fields"] if str(f.get_object().get("/T")) == "Seal2"
    )
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(widget)
    page[pdf_name("/Annots")] = annots
    if also_edit_page:
        page[pdf_name("/Contents")] = w.add_object(
            generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Pay 999999 CNY) Tj ET")
        )
    w.update_container(page)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal2", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.person), timestamper=timestamper(pki)
    ).getvalue()


def test_signing_an_existing_field_put_on_the_page_passes(pki: Pki, verify: Verify) -> None:
    from tests.verification.conftest import make_pdf

    signed = sign(pki, incremental(make_pdf(), _empty_field_off_page))
    report = verify(fill_existing_field(pki, signed))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2


def test_the_same_update_changing_page_content_fails(pki: Pki, verify: Verify) -> None:
    from tests.verification.conftest import make_pdf

    signed = sign(pki, incremental(make_pdf(), _empty_field_off_page))
    report = verify(fill_existing_field(pki, signed, also_edit_page=True))
    assert _first(report).indication is Indication.TOTAL_FAILED, report.to_json()
