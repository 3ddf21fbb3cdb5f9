"""A signature time-stamp that does not belong to its signature (copied from another one, as
in EU DSS's pades-two-sig-copied-tst.pdf) is ignored, not a HASH_FAILURE of the signature."""

from __future__ import annotations

import asyncio
import hashlib

from asn1crypto import cms

from seals.reports import Indication, SubIndication
from tests.verification.conftest import (
    Pki,
    Verify,
    byte_range,
    contents_span,
    make_pdf,
    pyhanko_signer,
    sign,
    timestamper,
)


def _with_foreign_timestamp(pki: Pki, pdf: bytes) -> bytes:
    """Re-sign the last signature with a CMS whose signature time-stamp token was issued for
    another signature value."""
    _, (a, b, c, d) = byte_range(pdf)
    digest = hashlib.sha256(pdf[a : a + b] + pdf[c : c + d]).digest()
    signed = asyncio.run(
        pyhanko_signer(pki, pki.enterprise).async_sign(digest, "sha256", use_pades=True)
    )
    other = hashlib.sha256(b"the value of some other signature").digest()
    token = asyncio.run(timestamper(pki).async_timestamp(other, "sha256"))
    signer_info = signed["content"]["signer_infos"][0]
    signer_info["unsigned_attrs"] = cms.CMSAttributes(
        [cms.CMSAttribute({"type": "signature_time_stamp_token", "values": [token]})]
    )
    start, end = contents_span(pdf)
    hex_cms = signed.dump().hex().encode()
    assert len(hex_cms) <= end - start
    return pdf[:start] + hex_cms.ljust(end - start, b"0") + pdf[end:]


def test_a_foreign_signature_timestamp_is_ignored_not_a_hash_failure(
    pki: Pki, verify: Verify
) -> None:
    doc = _with_foreign_timestamp(pki, sign(pki, make_pdf()))
    report = verify(doc)
    sig = report.signatures[0]
    assert sig.integrity is True, report.to_json()
    assert "timestamp-broken" in {f.code for f in sig.findings}
    assert sig.timestamp_time is None and sig.pades_level == "B-B"
    assert sig.sub_indication is not SubIndication.HASH_FAILURE, report.to_json()
    assert sig.indication is Indication.TOTAL_PASSED, report.to_json()


def test_the_same_signature_over_changed_bytes_still_fails(pki: Pki, verify: Verify) -> None:
    doc = _with_foreign_timestamp(pki, sign(pki, make_pdf()))
    tampered = doc.replace(b"Contract amount: 100", b"Contract amount: 900", 1)
    report = verify(tampered)
    assert report.signatures[0].sub_indication is SubIndication.HASH_FAILURE, report.to_json()
