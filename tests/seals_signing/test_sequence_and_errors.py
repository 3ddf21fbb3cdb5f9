"""Signers in turn, certification locks, and bad input refused before anything is produced."""

from __future__ import annotations

import os
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import read_certification_data, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from seals.documents import make_document
from seals.signing import (
    CrossPagePlacement,
    DocMdpPermission,
    InvisiblePlacement,
    KeywordPlacement,
    PadesLevel,
    SealAppearance,
    SealingSpec,
    SigningError,
    ValidationMaterial,
    sign_pdf,
)
from tests.seals_signing.conftest import NOTO_SANS
from tests.seals_signing.tools import pdfsig, pdfsig_blocks, qpdf_check


def _validate_all(pdf: bytes, pki) -> list:
    trust = [asn1_x509.Certificate.load(pki.root.public_bytes(serialization.Encoding.DER))]
    reader = PdfFileReader(BytesIO(pdf))
    return [
        validate_pdf_signature(
            sig,
            signer_validation_context=ValidationContext(trust_roots=trust, allow_fetching=False),
        )
        for sig in reader.embedded_regular_signatures
    ]


def test_two_parties_seal_in_turn_and_both_stay_valid(
    pki, seal, timestamper, contract_pdf, nssdb, tmp_path: Path
) -> None:
    # 乙方: contract seal at its keyword, then its riding seal; 甲方: its seal and riding seal
    step1 = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        timestamper=timestamper,
        spec=SealingSpec(
            placement=KeywordPlacement(keyword="乙方（盖章）"),
            level=PadesLevel.B_T,
            appearance=seal,
        ),
    )
    step2 = sign_pdf(
        pdf=step1.pdf,
        identity=pki.alice,
        spec=SealingSpec(placement=CrossPagePlacement(y_mm=100), appearance=seal),
    )
    step3 = sign_pdf(
        pdf=step2.pdf,
        identity=pki.bob,
        timestamper=timestamper,
        spec=SealingSpec(
            placement=KeywordPlacement(keyword="甲方（盖章）"),
            level=PadesLevel.B_T,
            appearance=seal,
        ),
    )
    step4 = sign_pdf(
        pdf=step3.pdf,
        identity=pki.bob,
        spec=SealingSpec(placement=CrossPagePlacement(y_mm=200), appearance=seal),
    )
    assert [s.field_name for s in (step1, step2, step3, step4)] == [
        "Seal1",
        "Seal2",
        "Seal3",
        "Seal4",
    ]
    assert step4.pdf.startswith(step3.pdf)  # incremental updates only
    statuses = _validate_all(step4.pdf, pki)
    assert len(statuses) == 4
    for status in statuses:
        assert status.bottom_line, status.pretty_print_details()
        # later seals (widgets of new signature fields) are allowed changes for earlier ones
        assert status.modification_level in (
            None,
            ModificationLevel.NONE,
            ModificationLevel.FORM_FILLING,
        )
    path = tmp_path / "contract.pdf"
    path.write_bytes(step4.pdf)
    assert qpdf_check(path).returncode == 0
    if nssdb is not None:
        blocks = pdfsig_blocks(pdfsig(path, nssdb))
        assert len(blocks) == 4
        assert all("Signature Validation: Signature is Valid." in b for b in blocks)
        assert "Total document signed" in blocks[-1]


def test_removing_a_page_after_a_riding_seal_is_detected(pki, seal, contract_pdf) -> None:
    signed = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        spec=SealingSpec(placement=CrossPagePlacement(), appearance=seal),
    ).pdf
    # drop page 2 in an incremental update (what a forger would do)
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(signed))
    pages = writer.root["/Pages"]
    kids = pages["/Kids"]
    del kids[1]
    pages["/Count"] = generic.NumberObject(2)
    writer.update_container(pages)
    out = BytesIO()
    writer.write(out)
    (status,) = _validate_all(out.getvalue(), pki)
    assert status.intact and status.valid  # the signed bytes are unchanged ...
    assert not status.bottom_line  # ... but the change after signing is not allowed


def test_no_changes_certification_locks_the_document(pki, seal, contract_pdf) -> None:
    certified = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        spec=SealingSpec(placement=InvisiblePlacement(), certify=DocMdpPermission.NO_CHANGES),
    )
    (status,) = _validate_all(certified.pdf, pki)
    assert status.bottom_line
    reader = PdfFileReader(BytesIO(certified.pdf))
    assert read_certification_data(reader).permission.name == "NO_CHANGES"
    with pytest.raises(SigningError) as caught:
        sign_pdf(
            pdf=certified.pdf,
            identity=pki.bob,
            spec=SealingSpec(placement=KeywordPlacement(keyword="甲方（盖章）"), appearance=seal),
        )
    assert caught.value.code == "document-locked"


def test_form_filling_certification_allows_an_approval(pki, contract_pdf) -> None:
    certified = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        spec=SealingSpec(placement=InvisiblePlacement(), certify=DocMdpPermission.FORM_FILLING),
    )
    approved = sign_pdf(
        pdf=certified.pdf, identity=pki.bob, spec=SealingSpec(placement=InvisiblePlacement())
    )
    assert all(s.bottom_line for s in _validate_all(approved.pdf, pki))


def test_certification_must_come_first(pki, contract_pdf) -> None:
    signed = sign_pdf(
        pdf=contract_pdf, identity=pki.alice, spec=SealingSpec(placement=InvisiblePlacement())
    )
    with pytest.raises(SigningError) as caught:
        sign_pdf(
            pdf=signed.pdf,
            identity=pki.bob,
            spec=SealingSpec(placement=InvisiblePlacement(), certify=DocMdpPermission.NO_CHANGES),
        )
    assert caught.value.code == "certification-not-first"


# ----------------------------------------------------------------------------- bad input


def _code(pki, pdf: bytes, **kwargs) -> str:
    with pytest.raises(SigningError) as caught:
        inputs = {k: kwargs.pop(k) for k in ("timestamper", "validation") if k in kwargs}
        spec = SealingSpec(**{"placement": InvisiblePlacement(), **kwargs})
        sign_pdf(pdf=pdf, identity=pki.alice, spec=spec, **inputs)
    return caught.value.code


def test_random_bytes_are_not_a_pdf(pki) -> None:
    assert _code(pki, os.urandom(4096)) == "not-a-pdf"
    assert _code(pki, b"") == "not-a-pdf"


def test_truncated_pdf_is_damaged(pki, contract_pdf) -> None:
    assert _code(pki, contract_pdf[: len(contract_pdf) // 2]) == "damaged-pdf"
    assert _code(pki, b"%PDF-1.7\n" + os.urandom(2000)) == "damaged-pdf"


def test_encrypted_pdf_is_refused(pki, contract_pdf, tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(contract_pdf)
    locked = tmp_path / "locked.pdf"
    subprocess.run(
        ["qpdf", "--encrypt", "", "owner-secret", "256", "--", str(plain), str(locked)],
        check=True,
    )
    assert _code(pki, locked.read_bytes()) == "encrypted-pdf"


def test_levels_need_their_inputs(pki, contract_pdf, timestamper) -> None:
    assert _code(pki, contract_pdf, level=PadesLevel.B_T) == "missing-signing-input"
    assert (
        _code(pki, contract_pdf, level=PadesLevel.B_LT, timestamper=timestamper)
        == "missing-signing-input"
    )


def test_b_lt_without_revocation_data_is_refused(pki, contract_pdf, timestamper) -> None:
    material = ValidationMaterial(trust_roots=(pki.root,), certificates=(pki.ca,))
    code = _code(
        pki, contract_pdf, level=PadesLevel.B_LT, timestamper=timestamper, validation=material
    )
    assert code == "signer-not-valid"


def test_bad_appearance_and_taken_field_name(pki, seal, contract_pdf) -> None:
    placement = KeywordPlacement(keyword="甲方（盖章）")
    broken = SealAppearance(image=b"not a png", width_mm=42, height_mm=42)
    assert _code(pki, contract_pdf, placement=placement, appearance=broken) == "invalid-appearance"
    zero = SealAppearance(image=seal.image, width_mm=0, height_mm=42)
    assert _code(pki, contract_pdf, placement=placement, appearance=zero) == "invalid-appearance"
    assert _code(pki, contract_pdf, placement=placement) == "invalid-placement"  # no image
    signed = sign_pdf(
        pdf=contract_pdf, identity=pki.alice, spec=SealingSpec(placement=InvisiblePlacement())
    )
    assert _code(pki, signed.pdf, field_name=signed.field_name) == "field-name-taken"


def test_generated_documents_embed_cjk_as_type0(contract_pdf, truetype_pdf) -> None:
    for pdf, descendant in ((contract_pdf, "/CIDFontType0"), (truetype_pdf, "/CIDFontType2")):
        reader = PdfFileReader(BytesIO(pdf))
        page = reader.find_page_for_modification(0)[0].get_object()
        fonts = page["/Resources"]["/Font"]
        font = next(iter(fonts.values())).get_object()
        assert font["/Subtype"] == "/Type0"
        encoding = font["/Encoding"]  # Identity-H, by name or as an embedded CMap
        assert encoding == "/Identity-H" or encoding["/Type"] == "/CMap"
        assert "/ToUnicode" in font
        assert font["/DescendantFonts"][0].get_object()["/Subtype"] == descendant
    again = make_document(
        title="政府采购合同",
        paragraphs=("甲方", "乙方"),
        pages=1,
        font_path=NOTO_SANS,
        font_number=2,
    )
    assert again == make_document(
        title="政府采购合同",
        paragraphs=("甲方", "乙方"),
        pages=1,
        font_path=NOTO_SANS,
        font_number=2,
    )
