"""Changes the signers permitted, made the way real producers make them, must pass; the same
mechanisms used on signed content must still fail."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigSeedSubFilter

from seals.reports import Indication, ModificationsAfter
from tests.verification.conftest import (
    Pki,
    Verify,
    incremental,
    make_pdf,
    pyhanko_signer,
    sign,
    timestamper,
)
from tests.verification.test_attacks import fill_amount


def _font(w: PdfFileWriter, base: str) -> generic.IndirectObject:
    return w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type1"),
                pdf_name("/BaseFont"): pdf_name(base),
            }
        )
    )


def acrobat_form(*, shared_font: bool = False) -> bytes:
    """A one-page form as Acrobat writes it: /AcroForm /DR /Font /Helv for form fields, the page
    text in its own font (or, with `shared_font`, the same font object as /Helv)."""
    w = PdfFileWriter()
    helv = _font(w, "/Helvetica")
    page_font = helv if shared_font else _font(w, "/Times-Roman")
    content = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Contract amount: 100 CNY) Tj ET")
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): page_font})}
    )
    w.insert_page(PageObject(contents=content, media_box=(0, 0, 595, 842), resources=resources))
    w.root[pdf_name("/AcroForm")] = generic.DictionaryObject(
        {
            pdf_name("/Fields"): generic.ArrayObject(),
            pdf_name("/DR"): generic.DictionaryObject(
                {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/Helv"): helv})}
            ),
            pdf_name("/DA"): generic.TextStringObject("/Helv 0 Tf 0 g"),
        }
    )
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def certified_with_empty_approval_field(pki: Pki, pdf: bytes) -> bytes:
    """Certified with DocMDP P2; the field for the later approval is created up front."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    fields.append_signature_field(
        w, fields.SigFieldSpec(sig_field_name="Approval", on_page=0, box=(60, 60, 180, 120))
    )
    out = BytesIO()
    w.write(out)
    return sign(pki, out.getvalue(), certify=MDPPerm.FILL_FORMS, field="Certify")


def acrobat_approval(pki: Pki, pdf: bytes) -> bytes:
    """Acrobat's approval: in the signature's own incremental update the /DR font /Helv is
    rewritten with an /Encoding reference (a new encoding dictionary)."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    helv_ref = w.root["/AcroForm"]["/DR"]["/Font"].raw_get("/Helv").reference
    helv = helv_ref.get_object()
    encoding = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Encoding"),
                pdf_name("/Differences"): generic.ArrayObject(
                    [generic.NumberObject(24), pdf_name("/breve"), pdf_name("/caron")]
                ),
            }
        )
    )
    helv[pdf_name("/Encoding")] = encoding
    w.mark_update(helv_ref)
    meta = signers.PdfSignatureMetadata(
        field_name="Approval", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    out = signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.person), timestamper=timestamper(pki)
    )
    return out.getvalue()


def test_acrobat_approval_after_p2_certification_passes(pki: Pki, verify: Verify) -> None:
    doc = acrobat_approval(pki, certified_with_empty_approval_field(pki, acrobat_form()))
    report = verify(doc)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2


def test_the_same_rewrite_of_a_font_the_page_uses_fails(pki: Pki, verify: Verify) -> None:
    """When the /DR font is also the page's font, the new encoding changes signed text."""
    shared = certified_with_empty_approval_field(pki, acrobat_form(shared_font=True))
    report = verify(acrobat_approval(pki, shared))
    certification = next(s for s in report.signatures if s.field_name == "Certify")
    assert certification.indication is Indication.TOTAL_FAILED, report.to_json()


_FRAME = "1 0 0 RG 2 w 1 1 {w} {h} re S"
_COVER = "1 1 1 rg 0 0 {w} {h} re f 0 0 0 rg BT /Helv 18 Tf 12 20 Td (999999 CNY) Tj ET"
_HIGHLIGHT = "/GS0 gs 1 1 0 rg 0 0 {w} {h} re f"


def _note(rect: tuple[int, int, int, int], drawing: str = _FRAME, subtype: str = "/Square"):
    """A comment with its own appearance (as Acrobat and Foxit write them): by default a red
    frame; `_COVER` paints a white box with new text; `_HIGHLIGHT` is a multiply-blended
    yellow highlight."""

    def change(w: IncrementalPdfFileWriter) -> None:
        page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
        page = page_ref.get_object()
        ap = appearance_stream(w, rect, drawing)
        annot = w.add_object(
            generic.DictionaryObject(
                {
                    pdf_name("/Type"): pdf_name("/Annot"),
                    pdf_name("/Subtype"): pdf_name(subtype),
                    pdf_name("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in rect]),
                    pdf_name("/Contents"): generic.TextStringObject("已阅"),
                    pdf_name("/F"): generic.NumberObject(4),
                    pdf_name("/P"): page_ref,
                    pdf_name("/AP"): generic.DictionaryObject({pdf_name("/N"): ap}),
                }
            )
        )
        annots = page.get("/Annots", generic.ArrayObject())
        annots.append(annot)
        page[pdf_name("/Annots")] = annots
        w.update_container(page)

    return change


def test_a_comment_beside_the_signed_text_passes_and_is_reported(pki: Pki, verify: Verify) -> None:
    doc = incremental(sign(pki, make_pdf()), _note((300, 300, 360, 340)))
    report = verify(doc)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    sig = report.signatures[0]
    assert sig.modifications_after is ModificationsAfter.ANNOTATIONS
    assert "annotations-after-signing" in {f.code for f in sig.findings}


def appearance_stream(
    w: IncrementalPdfFileWriter, rect: tuple[float, float, float, float], drawing: str
) -> generic.IndirectObject:
    """A form XObject the size of `rect` painting `drawing` (formatted with its w and h)."""
    x1, y1, x2, y2 = rect
    return w.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, x2 - x1, y2 - y1)]
                ),
                pdf_name("/Resources"): _appearance_resources(),
            },
            stream_data=drawing.format(w=x2 - x1 - 2, h=y2 - y1 - 2).encode(),
        )
    )


def _appearance_resources() -> generic.DictionaryObject:
    font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
        }
    )
    multiply = generic.DictionaryObject({pdf_name("/BM"): pdf_name("/Multiply")})
    return generic.DictionaryObject(
        {
            pdf_name("/Font"): generic.DictionaryObject({pdf_name("/Helv"): font}),
            pdf_name("/ExtGState"): generic.DictionaryObject({pdf_name("/GS0"): multiply}),
        }
    )


def test_a_comment_painting_over_the_signed_text_fails(pki: Pki, verify: Verify) -> None:
    """A white box with other words, painted by the annotation's own appearance."""
    doc = incremental(sign(pki, make_pdf()), _note((60, 700, 400, 750), _COVER, "/FreeText"))
    report = verify(doc)
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert "annotation-over-content" in {f.code for f in report.signatures[0].findings}


def test_a_highlight_over_the_signed_text_passes(pki: Pki, verify: Verify) -> None:
    """A multiply-blended highlight leaves every signed glyph visible (reported only)."""
    doc = incremental(sign(pki, make_pdf()), _note((60, 712, 400, 742), _HIGHLIGHT, "/Highlight"))
    report = verify(doc)
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "annotations-after-signing" in {f.code for f in report.signatures[0].findings}


def test_a_comment_after_a_p2_certification_exceeds_it(pki: Pki, verify: Verify) -> None:
    """DocMDP P2 permits form filling and signing, not comments (stricter than DSS's WARN)."""
    certified = sign(pki, make_pdf(), certify=MDPPerm.FILL_FORMS)
    report = verify(incremental(certified, _note((300, 300, 360, 340))))
    assert report.indication is Indication.TOTAL_FAILED, report.to_json()
    assert "docmdp-violated" in {f.code for f in report.signatures[0].findings}


def _sign_with_lock(pki: Pki, pdf: bytes, lock: FieldMDPSpec) -> bytes:
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    spec = fields.SigFieldSpec(
        sig_field_name="Seal1", on_page=0, box=(400, 60, 520, 180), field_mdp_spec=lock
    )
    fields.append_signature_field(w, spec)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.enterprise), timestamper=timestamper(pki)
    ).getvalue()


def test_form_filling_the_sigfieldlock_leaves_open_passes(pki: Pki, verify: Verify) -> None:
    """The signer locked everything but `amount` (SigFieldLock /Exclude): filling it passes."""
    lock = FieldMDPSpec(FieldMDPAction.EXCLUDE, fields=["amount"])
    signed = _sign_with_lock(pki, make_pdf(with_field=True), lock)
    report = verify(incremental(signed, fill_amount))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "form-filled-allowed" in {f.code for f in report.signatures[0].findings}


def test_form_filling_a_locked_field_fails(pki: Pki, verify: Verify) -> None:
    lock = FieldMDPSpec(FieldMDPAction.INCLUDE, fields=["amount"])
    signed = _sign_with_lock(pki, make_pdf(with_field=True), lock)
    report = verify(incremental(signed, fill_amount))
    assert report.indication is not Indication.TOTAL_PASSED, report.to_json()


def tagged_pdf() -> bytes:
    """A tagged one-page PDF: Document > P (MCID 0), with a ParentTree."""
    w = PdfFileWriter()
    font = _font(w, "/Helvetica")
    content = w.add_object(
        generic.StreamObject(
            stream_data=b"/P <</MCID 0>> BDC BT /F1 18 Tf 72 720 Td "
            b"(Contract amount: 100 CNY) Tj ET EMC"
        )
    )
    resources = generic.DictionaryObject(
        {pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font})}
    )
    page = PageObject(contents=content, media_box=(0, 0, 595, 842), resources=resources)
    page[pdf_name("/StructParents")] = generic.NumberObject(0)
    page_ref = w.insert_page(page)
    root = w.add_object(generic.DictionaryObject({pdf_name("/Type"): pdf_name("/StructTreeRoot")}))
    doc = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/StructElem"),
                pdf_name("/S"): pdf_name("/Document"),
                pdf_name("/P"): root,
            }
        )
    )
    para = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/StructElem"),
                pdf_name("/S"): pdf_name("/P"),
                pdf_name("/P"): doc,
                pdf_name("/Pg"): page_ref,
                pdf_name("/K"): generic.NumberObject(0),
            }
        )
    )
    doc.get_object()[pdf_name("/K")] = generic.ArrayObject([para])
    parent_tree = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Nums"): generic.ArrayObject(
                    [generic.NumberObject(0), generic.ArrayObject([para])]
                )
            }
        )
    )
    root_dict = root.get_object()
    root_dict[pdf_name("/K")] = doc
    root_dict[pdf_name("/ParentTree")] = parent_tree
    root_dict[pdf_name("/ParentTreeNextKey")] = generic.NumberObject(1)
    w.root[pdf_name("/StructTreeRoot")] = root
    w.root[pdf_name("/MarkInfo")] = generic.DictionaryObject(
        {pdf_name("/Marked"): generic.BooleanObject(True)}
    )
    out = BytesIO()
    w.write(out)
    return out.getvalue()


def sign_and_tag(
    pki: Pki, pdf: bytes, *, also_edit_text: bool = False, parent_tree: str = "update"
) -> bytes:
    """A second signature whose update also tags its widget (Form > OBJR), as Acrobat does.

    `parent_tree`: "update" the /ParentTree in place; "rebuild" it as a new object with the
    same entries plus the new one (as PDFBox does); "remap": rebuild it with key 0 pointing
    at a new paragraph element whose /ActualText differs (an attack on what is read aloud)."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    fields.append_signature_field(
        w, fields.SigFieldSpec(sig_field_name="Seal2", on_page=0, box=(60, 60, 180, 120))
    )
    widget = next(
        f for f in w.root["/AcroForm"]["/Fields"] if str(f.get_object().get("/T")) == "Seal2"
    )
    page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
    tree_ref = w.root.raw_get("/StructTreeRoot")
    tree = tree_ref.get_object()
    doc_ref = tree.raw_get("/K")
    doc = doc_ref.get_object()
    form = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/StructElem"),
                pdf_name("/S"): pdf_name("/Form"),
                pdf_name("/P"): doc_ref,
                pdf_name("/Pg"): page_ref,
                pdf_name("/K"): generic.DictionaryObject(
                    {
                        pdf_name("/Type"): pdf_name("/OBJR"),
                        pdf_name("/Obj"): widget,
                        pdf_name("/Pg"): page_ref,
                    }
                ),
            }
        )
    )
    doc["/K"].append(form)
    w.mark_update(doc_ref)
    nums_ref = tree.raw_get("/ParentTree")
    if parent_tree == "update":
        nums_ref.get_object()["/Nums"].extend([generic.NumberObject(1), form])
        w.mark_update(nums_ref)
    else:
        first = nums_ref.get_object()["/Nums"][1]
        if parent_tree == "remap":
            fake = w.add_object(generic.DictionaryObject(first[0].get_object()))
            fake.get_object()[pdf_name("/ActualText")] = generic.TextStringObject("999999 CNY")
            first = generic.ArrayObject([fake])
        entries = [generic.NumberObject(0), w.add_object(generic.ArrayObject(list(first)))]
        rebuilt = generic.DictionaryObject(
            {pdf_name("/Nums"): generic.ArrayObject([*entries, generic.NumberObject(1), form])}
        )
        tree[pdf_name("/ParentTree")] = w.add_object(rebuilt)
    tree[pdf_name("/ParentTreeNextKey")] = generic.NumberObject(2)
    w.mark_update(tree_ref)
    widget.get_object()[pdf_name("/StructParent")] = generic.NumberObject(1)
    w.mark_update(widget)
    if also_edit_text:
        para_ref = doc["/K"].raw_get(0)
        para_ref.get_object()[pdf_name("/ActualText")] = generic.TextStringObject("999999 CNY")
        w.mark_update(para_ref)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal2", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.person), timestamper=timestamper(pki)
    ).getvalue()


def test_structure_tree_update_by_a_later_signature_passes(pki: Pki, verify: Verify) -> None:
    report = verify(sign_and_tag(pki, sign(pki, tagged_pdf())))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()
    assert len(report.signatures) == 2


def test_a_rebuilt_parent_tree_with_the_same_entries_passes(pki: Pki, verify: Verify) -> None:
    """PDFBox writes a new /ParentTree rather than updating the old one (EU DSS's
    pdf-structtreeroot-changes.pdf); was 'modified after signing'."""
    report = verify(sign_and_tag(pki, sign(pki, tagged_pdf()), parent_tree="rebuild"))
    assert report.indication is Indication.TOTAL_PASSED, report.to_json()


def test_a_rebuilt_parent_tree_that_remaps_signed_content_fails(pki: Pki, verify: Verify) -> None:
    report = verify(sign_and_tag(pki, sign(pki, tagged_pdf()), parent_tree="remap"))
    first = next(s for s in report.signatures if s.field_name == "Seal1")
    assert first.indication is Indication.TOTAL_FAILED, report.to_json()


def test_structure_tree_rewrite_of_signed_text_fails(pki: Pki, verify: Verify) -> None:
    """The same update also giving the signed paragraph a different /ActualText."""
    report = verify(sign_and_tag(pki, sign(pki, tagged_pdf()), also_edit_text=True))
    first = next(s for s in report.signatures if s.field_name == "Seal1")
    assert first.indication is Indication.TOTAL_FAILED, report.to_json()
