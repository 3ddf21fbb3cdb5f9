"""Files real producers write that strict parsing refuses, and that must still verify."""

from __future__ import annotations

import re
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
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
from tests.verification.test_indications import append_with_empty_xref


def _shrink_last_size(pdf: bytes, since: int, by: int) -> tuple[bytes, int]:
    """Declare a smaller /Size in the last revision's trailer (as some producers do); returns
    the file and the true size."""
    last = list(re.finditer(rb"/Size (\d+)", pdf[since:]))[-1]
    digits = last.group(1)
    smaller = str(int(digits) - by).rjust(len(digits), "0").encode()
    start = since + last.start(1)
    return pdf[:start] + smaller + pdf[start + len(digits) :], int(digits)


def _sign_after(pki: Pki, pdf: bytes, next_id: int) -> bytes:
    """A second seal by a producer that numbers new objects from the true size."""
    w = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    w._lastobj_id = next_id  # the producer knows its highest object number
    fields.append_signature_field(
        w, fields.SigFieldSpec(sig_field_name="Seal2", on_page=0, box=(60, 60, 180, 180))
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Seal2", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    out = signers.sign_pdf(
        w, meta, signer=pyhanko_signer(pki, pki.enterprise), timestamper=timestamper(pki)
    )
    return out.getvalue()


def test_shrinking_xref_sizes_verify_with_both_signatures(pki: Pki, verify: Verify) -> None:
    """ "XRef section sizes must be nondecreasing" is a strict-mode rule, not the spec's: a
    two-signature file whose middle revision declares a smaller /Size is read tolerantly,
    both signatures pass, and the report says it was read tolerantly."""
    first = sign(pki, make_pdf())
    middle, size = _shrink_last_size(incremental(first, lambda w: w.update_root()), len(first), 3)
    both = _sign_after(pki, middle, size)
    report = verify(both)
    assert report.document.status == "ok", report.to_json()
    assert len(report.signatures) == 2
    assert all(s.indication is Indication.TOTAL_PASSED for s in report.signatures), report.to_json()
    assert "tolerant-parsing" in {f.code for f in report.document.modifications}


def test_tolerance_does_not_hide_objects_behind_an_empty_xref(pki: Pki, verify: Verify) -> None:
    """A bare `xref` keyword with no subsection, read tolerantly: the appended page is still a
    modification (every byte after a signed revision must be accounted for)."""
    signed = sign(pki, make_pdf())
    attacked = append_with_empty_xref(signed).replace(
        b"xref\n0 1\n0000000000 65535 f \ntrailer", b"xref\ntrailer"
    )
    report = verify(attacked)
    assert report.indication is not Indication.TOTAL_PASSED, report.to_json()
    codes = {f.code for s in report.signatures for f in s.findings}
    assert report.document.status == "damaged" or "unaccounted-bytes-after-signing" in codes
