"""References to objects that did not exist yet, and rewritten /VRI entries
(seals/verification/reader.py, seals/verification/filerules.py): what PDFBox, Acrobat and
DSS write passes; the same mechanisms used to change signed content fail."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter

from seals.reports import Indication
from tests.verification.conftest import (
    Pki,
    Verify,
    incremental,
    make_pdf,
    pyhanko_signer,
    sign,
    timestamper,
)

LATER = 100  # the object number a later update will use


def _refer_to_later(where: str):
    """An update that makes the document refer to object LATER before it exists: from the
    /Info dictionary (a trailer-level leftover, as PDFBox copies them) or from page 1's
    content array (a planted reference: it shows nothing until defined)."""

    def change(w: IncrementalPdfFileWriter) -> None:
        later = generic.IndirectObject(LATER, 0, w)
        if where == "info":
            info_ref = w.trailer.raw_get("/Info")
            info_ref.get_object()[pdf_name("/Source")] = later
            w.mark_update(info_ref)
        else:
            page_ref = w.root["/Pages"]["/Kids"].raw_get(0)
            page = page_ref.get_object()
            page[pdf_name("/Contents")] = generic.ArrayObject([page.raw_get("/Contents"), later])
            w.mark_update(page_ref)

    return change


def _seal_numbered_from(pki: Pki, pdf: bytes, first_id: int) -> bytes:
    """A second seal by a producer whose new objects start at `first_id`."""
    w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    w._lastobj_id = first_id - 1
    spec = fields.SigFieldSpec(sig_field_name="Seal2", on_page=0, box=(60, 60, 180, 180))
    fields.append_signature_field(w, spec)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal2", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.enterprise), timestamper=timestamper(pki)
    ).getvalue()


def test_a_leftover_reference_that_a_later_seal_defines_passes(pki: Pki, verify: Verify) -> None:
    """Was INDETERMINATE ("Object ... not found in the current context")."""
    base = incremental(make_pdf(), _refer_to_later("info"))
    first = sign(pki, base)
    assert b"/Source %d 0 R" % LATER in first[len(base) :]  # still there when sealed
    both = _seal_numbered_from(pki, first, LATER)
    assert b"\n%d 0 obj" % LATER in both[len(first) :]
    report = verify(both)
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )


def _define_as_dss_certificate(w: IncrementalPdfFileWriter) -> None:
    """Define object LATER as a content stream ("Pay 999999") and list it as a DSS
    certificate - a new stream the DSS rule approves - so page 1 now draws it."""
    w._lastobj_id = LATER - 1
    stream = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 600 Td (Pay 999999 CNY) Tj ET")
    )
    assert stream.idnum == LATER
    w.root[pdf_name("/DSS")] = generic.DictionaryObject(
        {pdf_name("/Certs"): generic.ArrayObject([stream])}
    )
    w.update_root()


def test_a_planted_reference_defined_after_signing_fails(pki: Pki, verify: Verify) -> None:
    signed = sign(pki, incremental(make_pdf(), _refer_to_later("page")))
    attacked = incremental(signed, _define_as_dss_certificate)
    page = PdfFileReader(BytesIO(attacked)).root["/Pages"]["/Kids"][0]
    assert len(page["/Contents"]) == 2  # the signed page now draws the new stream
    report = verify(attacked)
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()
    assert any("before it existed" in f.en for f in report.signatures[0].findings)


def _rewrite_vri(*, with_type: bool = False, target_page: bool = False):
    """An LTV refresh as DSS and Acrobat make it: the existing /VRI entry rewritten with a
    new /OCSP array (or, an attack, pointing at the page object)."""

    def change(w: IncrementalPdfFileWriter) -> None:
        dss = w.root["/DSS"]
        vri = dss["/VRI"]
        key = next(k for k in vri if k != "/Type")
        entry = generic.DictionaryObject(vri[key])
        if target_page:
            entry[pdf_name("/OCSP")] = generic.ArrayObject([w.root["/Pages"]["/Kids"].raw_get(0)])
        else:
            fresh = w.add_object(generic.StreamObject(stream_data=b"0"))
            entry[pdf_name("/OCSP")] = generic.ArrayObject([fresh])
        vri[pdf_name(key)] = w.add_object(entry)
        if with_type:
            vri[pdf_name("/Type")] = pdf_name("/VRI")
        vri_raw = dss.raw_get("/VRI")
        if isinstance(vri_raw, generic.IndirectObject):
            w.mark_update(vri_raw)
        dss_raw = w.root.raw_get("/DSS")
        if isinstance(dss_raw, generic.IndirectObject):
            w.mark_update(dss_raw)
        else:
            w.update_root()

    return change


def test_a_rewritten_vri_entry_passes(pki: Pki, verify: Verify) -> None:
    """Was "VRI key ... was modified or deleted": the signature called modified."""
    lt = sign(pki, make_pdf(), lt=True)
    assert b"/VRI" in lt
    sealed_after = sign(pki, lt, field="Seal2", box=(60, 60, 180, 180))  # signs the VRI entry
    for change in (_rewrite_vri(), _rewrite_vri(with_type=True)):
        report = verify(incremental(sealed_after, change))
        assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
            report.to_json()
        )


def test_a_vri_entry_pointing_at_a_page_fails(pki: Pki, verify: Verify) -> None:
    lt = sign(pki, make_pdf(), lt=True)
    sealed_after = sign(pki, lt, field="Seal2", box=(60, 60, 180, 180))
    report = verify(incremental(sealed_after, _rewrite_vri(target_page=True)))
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_FAILED] * 2, (
        report.to_json()
    )


def _doc_timestamp_typed(
    pki: Pki, pdf: bytes, sig_type: str | None, monkeypatch: pytest.MonkeyPatch
) -> bytes:
    """A document time-stamp (SubFilter /ETSI.RFC3161) whose dictionary says /Type /Sig, or
    has no /Type, as some PDFBox-based tools write them."""
    from pyhanko.sign.signers import pdf_byterange
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    original = pdf_byterange.DocumentTimestamp.__init__

    def retyped(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if sig_type is None:
            del self["/Type"]
        else:
            self[pdf_name("/Type")] = pdf_name(sig_type)

    monkeypatch.setattr(pdf_byterange.DocumentTimestamp, "__init__", retyped)
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    return PdfTimeStamper(timestamper(pki)).timestamp_pdf(w, "sha256").getvalue()


@pytest.mark.parametrize("sig_type", ["/Sig", None])
def test_a_document_timestamp_typed_as_a_signature_is_read_as_one(
    pki: Pki, verify: Verify, sig_type: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was TOTAL_FAILED/FORMAT_FAILURE ("/ETSI.RFC3161 is not a recognized SubFilter type in
    signatures")."""
    stamped = _doc_timestamp_typed(pki, sign(pki, make_pdf()), sig_type, monkeypatch)
    last = PdfFileReader(BytesIO(stamped)).embedded_signatures[-1].sig_object
    assert last.get("/Type") == sig_type and last["/SubFilter"] == "/ETSI.RFC3161"
    report = verify(stamped)
    assert [s.kind.value for s in report.signatures] == ["approval", "document_timestamp"]
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )


def test_a_retyped_document_timestamp_over_changed_bytes_fails(
    pki: Pki, verify: Verify, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamped = _doc_timestamp_typed(pki, sign(pki, make_pdf()), "/Sig", monkeypatch)
    tampered = stamped.replace(b"Contract amount: 100", b"Contract amount: 900", 1)
    report = verify(tampered)
    ts = report.signatures[-1]
    assert ts.kind.value == "document_timestamp"
    assert ts.integrity is False and ts.indication is Indication.TOTAL_FAILED, report.to_json()


def _append_free_entry(pdf: bytes, *, number: int | None, generation: int) -> bytes:
    """An update whose xref section only frees one object number: by default the next unused
    number with generation 65535 (what Acrobat lists in every update), or `number`."""
    import re

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    size = int(reader.trailer["/Size"])
    root = reader.trailer.raw_get("/Root").reference
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    freed = size if number is None else number
    xref_at = len(pdf) + 1
    tail = (
        f"\nxref\n0 1\n0000000000 65535 f \n{freed} 1\n0000000000 {generation:05d} f \n"
        f"trailer\n<< /Size {max(size, freed + 1)} /Root {root.idnum} 0 R /Prev {prev} >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return pdf + tail


def test_a_free_entry_for_an_unused_number_passes(pki: Pki, verify: Verify) -> None:
    """Was "The refs ... were freed ... policy does not allow object freeing"."""
    report = verify(_append_free_entry(sign(pki, make_pdf()), number=None, generation=65535))
    assert report.signatures[0].indication is Indication.TOTAL_PASSED, report.to_json()


@pytest.mark.parametrize("generation", [1, 65535])
def test_freeing_an_object_of_the_signed_revision_fails(
    pki: Pki, verify: Verify, generation: int
) -> None:
    """Also with generation 65535: viewers then drop object n, pyhanko still reads n 0 R."""
    signed = sign(pki, make_pdf())
    page = PdfFileReader(BytesIO(signed)).root["/Pages"]["/Kids"][0]
    content = page.raw_get("/Contents").reference  # the signed page's text, deleted
    report = verify(_append_free_entry(signed, number=content.idnum, generation=generation))
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()
    assert any("was deleted" in f.en for f in report.signatures[0].findings), report.to_json()


def _encrypted_open(pki: Pki, *, user: str) -> bytes:
    """A one-page PDF encrypted with owner password 'owner' and user password `user`, then
    sealed (the sealer authenticates as the owner, as Acrobat does for such files)."""
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    w = PdfFileWriter()
    contents = w.add_object(generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td ET"))
    w.insert_page(PageObject(contents=contents, media_box=(0, 0, 595, 842)))
    w.encrypt("owner", user)
    out = BytesIO()
    w.write(out)
    iw = IncrementalPdfFileWriter(out)
    iw.encrypt("owner")
    spec = fields.SigFieldSpec(sig_field_name="Seal1", on_page=0, box=(400, 60, 520, 180))
    fields.append_signature_field(iw, spec)
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    return signers.sign_pdf(
        iw, meta, signer=pyhanko_signer(pki, pki.enterprise), timestamper=timestamper(pki)
    ).getvalue()


def test_an_encrypted_pdf_anyone_can_open_is_verified(pki: Pki, verify: Verify) -> None:
    """Was status 'encrypted', nothing verified (EU DSS's encrypted.pdf)."""
    report = verify(_encrypted_open(pki, user=""))
    assert report.document.status == "ok", report.to_json()
    assert "encrypted-open" in {f.code for f in report.document.modifications}
    assert report.signatures[0].indication is Indication.TOTAL_PASSED, report.to_json()


def test_an_encrypted_pdf_needing_a_password_is_still_not_verified(
    pki: Pki, verify: Verify
) -> None:
    report = verify(_encrypted_open(pki, user="secret"))
    assert report.document.status == "encrypted", report.to_json()


def test_an_encrypted_pdf_anyone_can_open_changed_after_signing_fails(
    pki: Pki, verify: Verify
) -> None:
    from tests.verification.test_attacks import change_content

    w = IncrementalPdfFileWriter(BytesIO(_encrypted_open(pki, user="")))
    w.encrypt("owner")
    change_content(w)
    out = BytesIO()
    w.write(out)
    report = verify(out.getvalue())
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()
