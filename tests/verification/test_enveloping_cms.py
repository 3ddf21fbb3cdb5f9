"""A CMS that embeds the bytes it signs (EU DSS's pades-enveloping-cms.pdf) is judged as the
detached signature it should have been - only when the embedded bytes are the signed ones."""

from __future__ import annotations

import asyncio
from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter

from seals.reports import Indication
from tests.verification.conftest import (
    Pki,
    Verify,
    byte_range,
    contents_span,
    make_pdf,
    pyhanko_signer,
)


def _signed_with_room(pki: Pki) -> bytes:
    """A seal with /Contents large enough to hold the document a second time."""
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    w = IncrementalPdfFileWriter(BytesIO(make_pdf()))
    signer = pyhanko_signer(pki, pki.enterprise)
    return signers.sign_pdf(w, meta, signer=signer, bytes_reserved=32768).getvalue()


def _enveloping(pki: Pki, pdf: bytes, *, content: bytes | None = None) -> bytes:
    """Replace the signature's CMS by one that encapsulates `content` (default: exactly the
    bytes its ByteRange covers), signed over that content."""
    _, (a, b, c, d) = byte_range(pdf)
    embedded = content if content is not None else pdf[a : a + b] + pdf[c : c + d]
    signer = pyhanko_signer(pki, pki.enterprise)
    info = asyncio.run(
        signer.async_sign_general_data(embedded, "sha256", detached=False, use_cades=True)
    )
    start, end = contents_span(pdf)
    hex_cms = info.dump().hex().encode()
    assert len(hex_cms) <= end - start
    return pdf[:start] + hex_cms.ljust(end - start, b"0") + pdf[end:]


def test_a_cms_embedding_exactly_the_signed_bytes_passes(pki: Pki, verify: Verify) -> None:
    report = verify(_enveloping(pki, _signed_with_room(pki)))
    sig = report.signatures[0]
    assert sig.integrity is True, report.to_json()
    assert "embedded-content" in {f.code for f in sig.findings}
    assert sig.indication is Indication.TOTAL_PASSED, report.to_json()


def test_a_cms_embedding_other_bytes_is_not_accepted(pki: Pki, verify: Verify) -> None:
    doc = _enveloping(pki, _signed_with_room(pki), content=b"Pay 999999 CNY")
    report = verify(doc)
    sig = report.signatures[0]
    assert sig.indication is not Indication.TOTAL_PASSED, report.to_json()
    assert "embedded-content" not in {f.code for f in sig.findings}
