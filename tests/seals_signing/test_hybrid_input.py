"""Sealing a hybrid-reference input (a classic xref table plus an xref stream, as Word and
Acrobat write them): accepted, and the output passes pdfsig, qpdf and our verifier."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from pki.trust import TrustStore
from seals.reports import Indication
from seals.signing import (
    DamagedPdfError,
    InvisiblePlacement,
    PadesLevel,
    SealAppearance,
    SealingSpec,
    sign_pdf,
)
from seals.verification import verify_pdf
from tests.seals_signing.tools import pdfsig, pdfsig_blocks, qpdf_check
from tests.verification.test_tolerant import hybrid_pdf


def _is_hybrid(pdf: bytes) -> bool:
    from io import BytesIO

    return PdfFileReader(BytesIO(pdf), strict=True).xrefs.hybrid_xrefs_present


def test_a_hybrid_reference_input_is_sealed_twice_and_passes_every_checker(
    pki, seal: SealAppearance, timestamper, nssdb, tmp_path: Path
) -> None:
    base = hybrid_pdf()
    assert _is_hybrid(base)

    first = sign_pdf(
        pdf=base,
        identity=pki.alice,
        spec=SealingSpec(placement=InvisiblePlacement(), level=PadesLevel.B_T),
        timestamper=timestamper,
    )
    both = sign_pdf(
        pdf=first.pdf,
        identity=pki.bob,
        spec=SealingSpec(placement=InvisiblePlacement(), level=PadesLevel.B_LT),
        timestamper=timestamper,
        validation=pki.validation_material(),
    )
    assert both.pdf.startswith(first.pdf) and first.pdf.startswith(base)
    path = tmp_path / "hybrid-sealed.pdf"
    path.write_bytes(both.pdf)
    assert qpdf_check(path).returncode == 0, qpdf_check(path).stdout
    if nssdb is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdfsig/certutil missing (scripts/system-deps.sh installs them)")
    else:
        blocks = pdfsig_blocks(pdfsig(path, nssdb))
        assert len(blocks) == 2
        assert all("Signature Validation: Signature is Valid." in b for b in blocks), blocks
    trust = TrustStore(own_roots=[pki.root], intermediates=[pki.ca])
    report = verify_pdf(pdf=both.pdf, trust=trust, now=datetime.now(UTC))
    assert report.document.status == "ok", report.to_json()
    assert [s.integrity for s in report.signatures] == [True, True], report.to_json()
    assert all(s.indication is not Indication.TOTAL_FAILED for s in report.signatures)
    assert "modified-after-signing" not in {
        f.code for s in report.signatures for f in s.findings
    }, report.to_json()


def test_a_damaged_hybrid_file_is_still_refused(pki) -> None:
    """Tolerance is for the hybrid layout only: a table that strict parsing refuses for any
    other reason (here a table with more entries than its trailer's /Size) is still refused
    before anything is signed."""
    base = hybrid_pdf()
    broken = base.replace(b"trailer\n<< /Size 8", b"trailer\n<< /Size 7")
    assert broken != base
    with pytest.raises(DamagedPdfError):
        sign_pdf(pdf=broken, identity=pki.alice, spec=SealingSpec(placement=InvisiblePlacement()))
