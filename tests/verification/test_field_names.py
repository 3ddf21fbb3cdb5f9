"""Partial field names with periods (as Word and some signing tools write them) and filled
fields left untouched by a later signature: legitimate documents pass, a change of such a
field after signing still fails (seals/verification/formfields.py)."""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm

from seals.reports import Indication, SubIndication
from tests.verification.conftest import Pki, Verify, incremental, make_pdf, sign
from tests.verification.test_permitted import _sign_with_lock

DOTTED = "amount.total"


def dotted_form() -> bytes:
    """make_pdf's filled text field renamed (in an update before signing) to `amount.total`."""

    def rename(w: IncrementalPdfFileWriter) -> None:
        ref = w.root["/AcroForm"]["/Fields"].raw_get(0)
        ref.get_object()[pdf_name("/T")] = generic.TextStringObject(DOTTED)
        w.mark_update(ref)

    return incremental(make_pdf(with_field=True), rename)


def fill(name: str, value: str):
    """An incremental update that sets field `name`'s value and appearance (a form filler)."""

    def change(w: IncrementalPdfFileWriter) -> None:
        for ref in w.root["/AcroForm"]["/Fields"]:
            fld = ref.get_object()
            if str(fld.get("/T")) != name:
                continue
            fld[pdf_name("/V")] = generic.TextStringObject(value)
            old_ap = fld["/AP"]["/N"]
            ap = w.add_object(
                generic.StreamObject(
                    {
                        pdf_name("/Type"): pdf_name("/XObject"),
                        pdf_name("/Subtype"): pdf_name("/Form"),
                        pdf_name("/BBox"): old_ap["/BBox"],
                        pdf_name("/Resources"): old_ap["/Resources"],
                    },
                    stream_data=f"/Tx BMC BT /F1 14 Tf 2 8 Td ({value}) Tj ET EMC".encode(),
                )
            )
            fld[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): ap})
            w.mark_update(ref)
            return
        raise KeyError(name)

    return change


def second_seal(pki: Pki, pdf: bytes) -> bytes:
    return sign(pki, pdf, field="Seal2", box=(60, 60, 180, 180))


def test_a_dotted_field_name_and_a_second_signature_pass(pki: Pki, verify: Verify) -> None:
    """Was INDETERMINATE ("Partial names must not contain periods")."""
    report = verify(second_seal(pki, sign(pki, dotted_form())))
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )
    assert all(s.integrity is True for s in report.signatures)


def test_a_filled_field_left_alone_by_a_second_signature_passes(pki: Pki, verify: Verify) -> None:
    """pyhanko named an untouched filled field as changed whenever a later revision came:
    the first seal was INDETERMINATE ("form changed after signing") for a second seal."""
    report = verify(second_seal(pki, sign(pki, make_pdf(with_field=True))))
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )
    assert "form-changed-after-signing" not in {
        f.code for s in report.signatures for f in s.findings
    }


def test_a_locked_field_left_alone_by_a_second_signature_passes(pki: Pki, verify: Verify) -> None:
    lock = FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[DOTTED])
    report = verify(second_seal(pki, _sign_with_lock(pki, dotted_form(), lock)))
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )


def test_a_dotted_field_changed_after_signing_is_not_passed(pki: Pki, verify: Verify) -> None:
    report = verify(incremental(sign(pki, dotted_form()), fill(DOTTED, "999999")))
    sig = report.signatures[0]
    assert sig.indication is Indication.INDETERMINATE, report.to_json()
    assert sig.sub_indication is SubIndication.SIG_CONSTRAINTS_FAILURE
    assert sig.integrity is True
    assert "form-changed-after-signing" in {f.code for f in sig.findings}
    assert DOTTED in next(f.en for f in sig.findings if f.code == "form-changed-after-signing")


def test_a_locked_dotted_field_changed_after_signing_fails(pki: Pki, verify: Verify) -> None:
    lock = FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[DOTTED])
    signed = _sign_with_lock(pki, dotted_form(), lock)
    report = verify(incremental(signed, fill(DOTTED, "999999")))
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()


def test_a_dotted_field_changed_after_a_p1_certification_fails(pki: Pki, verify: Verify) -> None:
    certified = sign(pki, dotted_form(), certify=MDPPerm.NO_CHANGES)
    report = verify(incremental(certified, fill(DOTTED, "999999")))
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()


def test_a_dotted_field_filled_where_the_lock_leaves_it_open_passes(
    pki: Pki, verify: Verify
) -> None:
    lock = FieldMDPSpec(FieldMDPAction.EXCLUDE, fields=[DOTTED])
    signed = _sign_with_lock(pki, dotted_form(), lock)
    report = verify(incremental(signed, fill(DOTTED, "250")))
    assert report.signatures[0].indication is Indication.TOTAL_PASSED, report.to_json()
    assert "form-filled-allowed" in {f.code for f in report.signatures[0].findings}


def _shadow_field(w: IncrementalPdfFileWriter) -> None:
    """A new field `amount` with a kid `total`: the same qualified name as `amount.total`,
    showing 999999 over it."""
    page_ref = w.find_page_for_modification(0)[0]
    original = next(
        r.get_object()
        for r in w.root["/AcroForm"]["/Fields"]
        if str(r.get_object()["/T"]) == DOTTED
    )
    kid = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/T"): generic.TextStringObject("total"),
                pdf_name("/V"): generic.TextStringObject("999999"),
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name("/Widget"),
                pdf_name("/Rect"): original["/Rect"],
                pdf_name("/F"): generic.NumberObject(4),
                pdf_name("/P"): page_ref,
            }
        )
    )
    parent = w.add_object(
        generic.DictionaryObject(
            {
                pdf_name("/FT"): pdf_name("/Tx"),
                pdf_name("/T"): generic.TextStringObject("amount"),
                pdf_name("/Kids"): generic.ArrayObject([kid]),
            }
        )
    )
    kid.get_object()[pdf_name("/Parent")] = parent
    w.root["/AcroForm"]["/Fields"].append(parent)
    page = page_ref.get_object()
    page["/Annots"].append(kid)
    w.update_container(w.root["/AcroForm"]["/Fields"])
    w.mark_update(page_ref)
    w.update_root()


def test_a_field_that_clashes_with_a_dotted_name_fails(pki: Pki, verify: Verify) -> None:
    report = verify(incremental(sign(pki, dotted_form()), _shadow_field))
    assert report.signatures[0].indication is Indication.TOTAL_FAILED, report.to_json()


def dotted_signature_field() -> bytes:
    """An empty signature field whose partial name is `Sig.1` (as Word names them)."""
    w = IncrementalPdfFileWriter(BytesIO(make_pdf()))
    spec = fields.SigFieldSpec(sig_field_name="SigX1", on_page=0, box=(400, 60, 520, 180))
    fields.append_signature_field(w, spec)
    out = BytesIO()
    w.write(out)
    return out.getvalue().replace(b"(SigX1)", b"(Sig.1)")


def test_a_dotted_signature_field_then_a_second_signature_pass(pki: Pki, verify: Verify) -> None:
    first = sign(pki, dotted_signature_field(), field="Sig.1", box=None)
    report = verify(second_seal(pki, first))
    assert [s.field_name for s in report.signatures] == ["Sig.1", "Seal2"], report.to_json()
    assert [s.indication for s in report.signatures] == [Indication.TOTAL_PASSED] * 2, (
        report.to_json()
    )
