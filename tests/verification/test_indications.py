"""Indications per class of finding (ETSI EN 319 102-1 as EU DSS applies it; seals/indications.py).

Each row is a real document: signed with pyhanko, then changed the way the class describes.
HASH_FAILURE only where the digest was computed and differs; a change after signing whose
signed bytes are intact is FORMAT_FAILURE with `integrity` true; a signature that could not be
processed is INDETERMINATE with `integrity` unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm

from seals.indications import INDICATIONS, FindingClass
from seals.reports import Indication, SubIndication
from tests.verification.conftest import (
    Pki,
    Verify,
    incremental,
    make_pdf,
    replace_same_length,
    sign,
)
from tests.verification.test_attacks import (
    _byterange_partial_resigned,
    _cert_then_unlink,
    change_content,
    fill_amount,
)
from tests.verification.test_enveloping_cms import _enveloping, _signed_with_room
from tests.verification.test_overlaps import _links
from tests.verification.test_permitted import _COVER, _note
from tests.verification.test_signed_attrs import _out_of_order

PASSED, FAILED, INDET = Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE


def append_with_empty_xref(pdf: bytes) -> bytes:
    """A new page, page tree and content appended after the signature, then `xref` with no
    entries and a trailer: a strict reader sees no change, a repairing viewer shows the page."""
    from io import BytesIO

    reader = PdfFileReader(BytesIO(pdf), strict=False)
    pages_ref = reader.root.raw_get("/Pages").reference
    kids = [k.reference for k in reader.root["/Pages"]["/Kids"]]
    size = int(reader.trailer["/Size"])
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    page_id, content_id = size, size + 1
    content = b"BT /F1 24 Tf 72 720 Td (Appended: pay 999999 CNY) Tj ET"
    kid_refs = " ".join(f"{k.idnum} {k.generation} R" for k in kids)
    body = (
        f"\n{content_id} 0 obj\n<< /Length {len(content)} >>\nstream\n".encode()
        + content
        + b"\nendstream\nendobj\n"
        + f"{page_id} 0 obj\n<< /Type /Page /Parent {pages_ref.idnum} 0 R "
        f"/MediaBox [0 0 595 842] /Contents {content_id} 0 R >>\nendobj\n"
        f"{pages_ref.idnum} 0 obj\n<< /Type /Pages /Kids [{kid_refs} {page_id} 0 R] "
        f"/Count {len(kids) + 1} >>\nendobj\n".encode()
    )
    xref_at = len(pdf) + len(body)
    root = reader.trailer.raw_get("/Root").reference
    tail = (
        "xref\n0 1\n0000000000 65535 f \ntrailer\n"
        f"<< /Size {size + 2} /Root {root.idnum} 0 R /Prev {prev} >>\n"
        f"startxref\n{xref_at}\n%%EOF\n"
    ).encode()
    return pdf + body + tail


def flip_signed_byte(pdf: bytes) -> bytes:
    """One byte inside the signed range changed: the digest no longer matches."""
    at = pdf.index(b"Contract amount")
    return replace_same_length(pdf, at, at + 1, b"K")


def break_cms(pdf: bytes) -> bytes:
    """The CMS inside /Contents replaced by a structurally broken one of the same length."""
    start = pdf.rindex(b"/Contents <") + len(b"/Contents <")
    return replace_same_length(pdf, start, start + 8, b"30800201")


@dataclass(frozen=True)
class Row:
    name: str
    finding: FindingClass | None
    build: Callable[[Pki], bytes]
    integrity: bool | None
    code: str | None = None
    """The finding code when it is not the class's value."""


def _p3_filled(p: Pki) -> bytes:
    return incremental(sign(p, make_pdf(with_field=True), certify=MDPPerm.ANNOTATE), fill_amount)


ROWS = [
    Row("intact", None, lambda p: sign(p, make_pdf()), True),
    Row("digest mismatch", FindingClass.DIGEST_MISMATCH,
        lambda p: flip_signed_byte(sign(p, make_pdf())), False),
    Row("page content changed after signing", FindingClass.CONTENT_CHANGED,
        lambda p: incremental(sign(p, make_pdf()), change_content), True),
    Row("objects appended behind an empty xref section", FindingClass.UNACCOUNTED_BYTES,
        lambda p: append_with_empty_xref(sign(p, make_pdf())), True),
    Row("form value changed after an approval signature", FindingClass.FORM_CHANGED_UNPERMITTED,
        lambda p: incremental(sign(p, make_pdf(with_field=True)), fill_amount), True),
    Row("a second signature", FindingClass.LATER_SIGNATURES,
        lambda p: sign(p, sign(p, make_pdf()), field="Seal2", box=(60, 60, 180, 180)), True),
    Row("LTA data added", FindingClass.LTV_UPDATES,
        lambda p: sign(p, make_pdf(), lta=True), True),
    Row("CMS that cannot be processed", FindingClass.SIGNATURE_UNREADABLE,
        lambda p: break_cms(sign(p, make_pdf())), None),
    Row("signature value over other bytes", FindingClass.SIGNATURE_INVALID,
        lambda p: _out_of_order(p, signed_over="listed"), False),
    Row("ByteRange short of its revision", FindingClass.COVERAGE_ANOMALOUS,
        _byterange_partial_resigned, True),
    Row("CMS pyhanko refuses to process", FindingClass.PROCESSING_FAILED,
        lambda p: _enveloping(p, _signed_with_room(p), content=b"Pay 999999 CNY"), None,
        code="signature-malformed"),
    Row("certification hidden by unlinking its field", FindingClass.SIGNATURE_HIDDEN,
        _cert_then_unlink, True),
    Row("comment after a P2 certification", FindingClass.DOCMDP_VIOLATED,
        lambda p: incremental(sign(p, make_pdf(), certify=MDPPerm.FILL_FORMS),
                              _note((300, 300, 360, 340))), True),
    Row("comment painting over signed text", FindingClass.ANNOTATION_OVER_CONTENT,
        lambda p: incremental(sign(p, make_pdf()), _note((60, 700, 400, 750), _COVER,
                                                         "/FreeText")), True),
    Row("comment beside the signed text", FindingClass.ANNOTATIONS_ADDED,
        lambda p: incremental(sign(p, make_pdf()), _note((300, 300, 360, 340))), True),
    Row("form filled under a P3 certification", FindingClass.FORM_FILLED_PERMITTED,
        _p3_filled, True),
    Row("links overlapping one another", FindingClass.ANNOTATIONS_OVERLAP,
        lambda p: sign(p, incremental(make_pdf(), _links((72, 300, 200, 330),
                                                         (190, 300, 320, 330)))), True),
]  # fmt: skip

NOT_A_ROW = {
    FindingClass.CERTIFICATION_REMOVED: "a document-level finding (DOC_FATAL); "
    "test_attacks 'certification downgraded: /Perms removed'",
}
"""Classes without a row here, and where they are tested instead."""


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_indication_per_modification_class(row: Row, pki: Pki, verify: Verify) -> None:
    report = verify(row.build(pki))
    first = min(
        (s for s in report.signatures if s.kind.value != "document_timestamp"),
        key=lambda s: s.signed_revision or 0,
    )
    expected = INDICATIONS[row.finding] if row.finding is not None else None
    indication, sub = expected if expected is not None else (PASSED, None)
    assert (first.indication, first.sub_indication) == (indication, sub), report.to_json()
    assert first.integrity is row.integrity, report.to_json()
    if row.finding is not None:
        code = row.code or row.finding.value
        assert code in {f.code for f in first.findings}, report.to_json()
    if sub is not SubIndication.HASH_FAILURE:
        assert report.sub_indication is not SubIndication.HASH_FAILURE


def test_every_class_has_a_row() -> None:
    rows = {r.finding for r in ROWS}
    assert set(FindingClass) - rows == set(NOT_A_ROW), set(FindingClass) - rows - set(NOT_A_ROW)


def test_the_table_keeps_hash_failure_for_digests_only() -> None:
    hash_failures = [c for c, v in INDICATIONS.items() if v and v[1] is SubIndication.HASH_FAILURE]
    assert hash_failures == [FindingClass.DIGEST_MISMATCH]
