"""The attack corpus: documents we signed, manipulated the way the RUB PDF-signature attacks do.

Every manipulated document must get a non-passing indication with a reason a person can read;
the benign updates (second signature, permitted form filling, LTV/LTA data) must keep passing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.writer import PageObject
from pyhanko.sign.fields import MDPPerm

from seals.reports import Indication, SubIndication, VerificationReport
from tests.verification.conftest import (
    Pki,
    Verify,
    byte_range,
    contents_span,
    incremental,
    make_pdf,
    resign_over,
    set_byte_range,
    sign,
)

FAILED = Indication.TOTAL_FAILED
INDET = Indication.INDETERMINATE


# --------------------------------------------------------------------------- manipulations


def _first_field(
    w: IncrementalPdfFileWriter, name: str
) -> tuple[generic.Reference, generic.DictionaryObject]:
    for ref in w.root["/AcroForm"]["/Fields"]:
        fld = ref.get_object()
        if str(fld.get("/T")) == name:
            return ref.reference, fld
    raise KeyError(name)


def _page(w: IncrementalPdfFileWriter, index: int = 0):
    ref = w.root["/Pages"]["/Kids"].raw_get(index)
    return ref, ref.get_object()


def change_content(w: IncrementalPdfFileWriter) -> None:
    """Incremental-saving attack: a new content stream for page 1."""
    _, page = _page(w)
    new = w.add_object(
        generic.StreamObject(
            stream_data=b"BT /F1 18 Tf 72 720 Td (Contract amount: 999999 CNY) Tj ET"
        )
    )
    page[pdf_name("/Contents")] = new
    w.update_container(page)


def redefine_content_object(w: IncrementalPdfFileWriter) -> None:
    """Hide-and-replace: the SAME object number as the signed content stream, redefined."""
    _, page = _page(w)
    ref = page.raw_get("/Contents").reference
    w.objects[(ref.generation, ref.idnum)] = generic.StreamObject(
        stream_data=b"BT /F1 18 Tf 72 720 Td (Contract amount: 999999 CNY) Tj ET"
    )


def reveal_hidden_content(w: IncrementalPdfFileWriter) -> None:
    """Shadow 'hide': the cover XObject prepared before signing is emptied afterwards."""
    _, page = _page(w)
    cover = page["/Resources"]["/XObject"].raw_get("/Cover").reference
    old = cover.get_object()
    w.objects[(cover.generation, cover.idnum)] = generic.StreamObject(
        {k: v for k, v in old.items() if k not in ("/Length", "/Filter")}, stream_data=b""
    )


def replace_font(w: IncrementalPdfFileWriter) -> None:
    """Shadow 'replace' via font: the font object redefined with a glyph remapping."""
    _, page = _page(w)
    font_ref = page["/Resources"]["/Font"].raw_get("/F1").reference
    w.objects[(font_ref.generation, font_ref.idnum)] = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type1"),
            pdf_name("/BaseFont"): pdf_name("/Helvetica"),
            pdf_name("/Encoding"): generic.DictionaryObject(
                {
                    pdf_name("/Differences"): generic.ArrayObject(
                        [generic.NumberObject(49), pdf_name("/nine"), pdf_name("/nine")]
                    )
                }
            ),
        }
    )


def fill_amount(w: IncrementalPdfFileWriter) -> None:
    """Shadow 'replace' via form: the value (and appearance) of field `amount` changed."""
    ref, fld = _first_field(w, "amount")
    fld[pdf_name("/V")] = generic.TextStringObject("999999")
    ap = w.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 200, 30)]
                ),
                pdf_name("/Resources"): fld["/AP"]["/N"]["/Resources"],
            },
            stream_data=b"/Tx BMC BT /F1 14 Tf 2 8 Td (999999) Tj ET EMC",
        )
    )
    fld[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ap})
    w.mark_update(ref)


def add_page(w: IncrementalPdfFileWriter) -> None:
    contents = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Annex: all rights waived) Tj ET")
    )
    _, first = _page(w)
    page = PageObject(contents=contents, media_box=(0, 0, 595, 842), resources=first["/Resources"])
    w.insert_page(page)


def remove_last_page(w: IncrementalPdfFileWriter) -> None:
    pages = w.root["/Pages"]
    kids = pages["/Kids"]
    del kids[len(kids) - 1]
    pages[pdf_name("/Count")] = generic.NumberObject(len(kids))
    w.update_container(pages)


def override_seal_appearance(w: IncrementalPdfFileWriter) -> None:
    ref, fld = _first_field(w, "Seal1")
    ap = w.add_object(
        generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Form"),
                pdf_name("/BBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 120, 120)]
                ),
            },
            stream_data=b"1 0 0 rg 0 0 120 120 re f",
        )
    )
    fld[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ap})
    w.mark_update(ref)


def edit_sig_dict(key: str, value: generic.PdfObject) -> Callable[[IncrementalPdfFileWriter], None]:
    def change(w: IncrementalPdfFileWriter) -> None:
        _, fld = _first_field(w, "Seal1")
        sig_ref = fld.raw_get("/V").reference
        sig = sig_ref.get_object()
        sig[pdf_name(key)] = value
        w.mark_update(sig_ref)

    return change


def unlink_certification(w: IncrementalPdfFileWriter) -> None:
    """Hide a certification: drop /Perms, the field from /AcroForm /Fields and /Annots."""
    root = w.root
    del root["/Perms"]
    form = root["/AcroForm"]
    form[pdf_name("/Fields")] = generic.ArrayObject(
        [r for r in form["/Fields"] if str(r.get_object().get("/T")) != "Seal1"]
    )
    _, page = _page(w)
    page[pdf_name("/Annots")] = generic.ArrayObject(
        [r for r in page["/Annots"] if str(r.get_object().get("/T")) != "Seal1"]
    )
    w.update_root()
    w.update_container(form)
    w.update_container(page)


def drop_perms(w: IncrementalPdfFileWriter) -> None:
    del w.root["/Perms"]
    w.update_root()


def add_overlay_annotation(w: IncrementalPdfFileWriter) -> None:
    """A FreeText annotation painted over the amount after signing."""
    page_ref, page = _page(w)
    annot = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/FreeText"),
                pdf_name("/Rect"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (60, 700, 500, 750)]
                ),
                pdf_name("/Contents"): generic.TextStringObject("Contract amount: 999999 CNY"),
                pdf_name("/DA"): generic.TextStringObject("/Helv 18 Tf 0 g"),
                pdf_name("/P"): page_ref,
            }
        )
    )
    annots = page.get("/Annots", generic.ArrayObject())
    annots.append(annot)
    page[pdf_name("/Annots")] = annots
    w.update_container(page)


def replace_catalog_pages(w: IncrementalPdfFileWriter) -> None:
    """Point the catalog at a brand-new page tree (a whole new document)."""
    contents = w.add_object(
        generic.StreamObject(
            stream_data=b"BT /F1 18 Tf 72 720 Td (Totally different contract) Tj ET"
        )
    )
    pages_ref = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Pages"),
                pdf_name("/Count"): generic.NumberObject(1),
                pdf_name("/Kids"): generic.ArrayObject(),
            }
        )
    )
    _, first = _page(w)
    page = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Page"),
                pdf_name("/Parent"): pages_ref,
                pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 595, 842)]
                ),
                pdf_name("/Contents"): contents,
                pdf_name("/Resources"): first["/Resources"],
            }
        )
    )
    pages_ref.get_object()["/Kids"].append(page)
    w.root[pdf_name("/Pages")] = pages_ref
    w.update_root()


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Pki], bytes]
    indication: Indication
    subs: frozenset[SubIndication]
    finding: str
    """A finding code expected on the failing signature (or the document)."""


def _signed(pki: Pki, **doc: object) -> bytes:
    return sign(pki, make_pdf(**doc))  # type: ignore[arg-type]


def _usf_zeroed(pki: Pki) -> bytes:
    pdf = _signed(pki)
    start, end = contents_span(pdf)
    return pdf[:start] + b"0" * (end - start) + pdf[end:]


def _usf_empty(pki: Pki) -> bytes:
    pdf = _signed(pki)
    start, end = contents_span(pdf)
    return pdf[: start - 1] + b"<>" + b" " * (end - start) + pdf[end + 1 :]


def _usf_no_byterange(pki: Pki) -> bytes:
    pdf = _signed(pki)
    m, _ = byte_range(pdf)
    return pdf[: m.start()] + b"/ByteRangX" + pdf[m.start() + len(b"/ByteRange") :]


def _byterange_altered(pki: Pki) -> bytes:
    pdf = _signed(pki)
    _, (a, b, c, d) = byte_range(pdf)
    return set_byte_range(pdf, [a, b, c, d - 100])


def _byterange_partial_resigned(pki: Pki) -> bytes:
    """A valid CMS over a ByteRange that stops short of the revision's xref/trailer."""
    pdf = _signed(pki)
    _, (a, b, c, d) = byte_range(pdf)
    return resign_over(pki, pdf, [a, b, c, d - 200])


def _byterange_gap_resigned(pki: Pki) -> bytes:
    """Signature wrapping: a valid CMS, but 40 unsigned bytes after /Contents."""
    pdf = _signed(pki)
    _, (a, b, c, d) = byte_range(pdf)
    return resign_over(pki, pdf, [a, b, c + 40, d - 40])


def _byterange_elsewhere(pki: Pki) -> bytes:
    """ByteRange not starting at 0: the header and first objects left unsigned."""
    pdf = _signed(pki)
    _, (a, b, c, d) = byte_range(pdf)
    return resign_over(pki, pdf, [a + 9, b - 9, c, d])


def _cert_then_unlink(pki: Pki) -> bytes:
    pdf = sign(pki, make_pdf(), certify=MDPPerm.NO_CHANGES)
    return incremental(pdf, unlink_certification)


def _cert_unlink_resign(pki: Pki) -> bytes:
    return sign(
        pki, _cert_then_unlink(pki), who=pki.person, field="Attacker", box=(60, 60, 180, 180)
    )


CASES = [
    Case(
        "incremental-saving: page content replaced",
        lambda p: incremental(_signed(p), change_content),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "hide-and-replace: same object id redefined",
        lambda p: incremental(_signed(p), redefine_content_object),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "shadow hide: cover XObject emptied",
        lambda p: incremental(_signed(p, with_overlay=True), reveal_hidden_content),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "shadow replace: font redefined",
        lambda p: incremental(_signed(p), replace_font),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "shadow replace: form value changed after approval",
        lambda p: incremental(_signed(p, with_field=True), fill_amount),
        INDET,
        frozenset({SubIndication.SIG_CONSTRAINTS_FAILURE}),
        "form-changed-after-signing",
    ),
    Case(
        "page added after signing",
        lambda p: incremental(_signed(p), add_page),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "page removed after signing",
        lambda p: incremental(_signed(p, pages=2), remove_last_page),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "new page tree in catalog",
        lambda p: incremental(_signed(p), replace_catalog_pages),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "annotation painted over content",
        lambda p: incremental(_signed(p), add_overlay_annotation),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "annotation-over-content",
    ),
    Case(
        "seal appearance overridden",
        lambda p: incremental(_signed(p), override_seal_appearance),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "signature dictionary /Reason edited",
        lambda p: incremental(
            _signed(p), edit_sig_dict("/Reason", generic.TextStringObject("作废"))
        ),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "coverage-anomalous",
    ),
    Case(
        "signature dictionary /M edited",
        lambda p: incremental(
            _signed(p), edit_sig_dict("/M", generic.TextStringObject("D:20200101000000Z"))
        ),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "coverage-anomalous",
    ),
    Case(
        "certification hidden by unlinking its field",
        _cert_then_unlink,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "signature-hidden",
    ),
    Case(
        "certification unlinked, then attacker signs",
        _cert_unlink_resign,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "signature-hidden",
    ),
    Case(
        "certification downgraded: /Perms removed",
        lambda p: incremental(sign(p, make_pdf(), certify=MDPPerm.FILL_FORMS), drop_perms),
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "modified-after-signing",
    ),
    Case(
        "USF: /Contents zeroed",
        _usf_zeroed,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "signature-unreadable",
    ),
    Case(
        "USF: /Contents empty",
        _usf_empty,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "signature-unreadable",
    ),
    Case(
        "USF: /ByteRange missing",
        _usf_no_byterange,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "signature-unreadable",
    ),
    Case(
        "ByteRange altered",
        _byterange_altered,
        FAILED,
        frozenset({SubIndication.HASH_FAILURE}),
        "digest-mismatch",
    ),
    Case(
        "ByteRange short of the revision (valid CMS)",
        _byterange_partial_resigned,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "coverage-anomalous",
    ),
    Case(
        "signature wrapping: gap after /Contents (valid CMS)",
        _byterange_gap_resigned,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "coverage-anomalous",
    ),
    Case(
        "ByteRange not starting at 0 (valid CMS)",
        _byterange_elsewhere,
        FAILED,
        frozenset({SubIndication.FORMAT_FAILURE}),
        "coverage-anomalous",
    ),
]


@pytest.fixture(scope="module")
def corpus(pki: Pki) -> dict[str, bytes]:
    return {case.name: case.build(pki) for case in CASES}


def _codes(report: VerificationReport) -> set[str]:
    codes = {f.code for f in report.document.modifications}
    for sig in report.signatures:
        codes |= {f.code for f in sig.findings}
    return codes


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_attack_is_caught(case: Case, corpus: dict[str, bytes], verify: Verify) -> None:
    report = verify(corpus[case.name])
    assert report.indication is not Indication.TOTAL_PASSED
    assert report.indication is case.indication, report.to_json()
    assert report.sub_indication in case.subs, report.to_json()
    assert case.finding in _codes(report), report.to_json()
    assert report.verdict_zh and report.verdict_en
    failing = [s for s in report.signatures if s.indication is not Indication.TOTAL_PASSED]
    assert failing and all(s.findings for s in failing)
    # the reason a person reads first is the one that decided
    assert failing[0].findings[0].zh and failing[0].findings[0].en
