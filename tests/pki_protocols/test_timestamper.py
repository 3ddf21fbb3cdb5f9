from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_timestamp
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko_certvalidator import ValidationContext

from pki.timestamper import InProcessTimeStamper
from pki.tsa import TsaConfig

from .conftest import Hierarchy, Tools

POLICY = "1.3.6.1.4.1.99999.1.2"


def _clock() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(scope="module")
def timestamper(pki: Hierarchy) -> InProcessTimeStamper:
    config = TsaConfig(
        cert=pki.tsa.cert,
        key=pki.tsa.signer,
        chain=[pki.root.cert],
        policy_oid=POLICY,
        accuracy=timedelta(seconds=1),
    )
    return InProcessTimeStamper(config=config, clock=_clock)


def _context(pki: Hierarchy) -> ValidationContext:
    return ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(pki.root.der)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


def test_token_validates_with_pyhanko(pki: Hierarchy, timestamper: InProcessTimeStamper) -> None:
    digest = hashlib.sha256(b"sealed contract").digest()
    token = asyncio.run(timestamper.async_timestamp(digest, "sha256"))
    status = asyncio.run(
        validate_tst_signed_data(
            token["content"], _context(pki), expected_tst_imprint=lambda _alg: digest
        )
    )
    assert status["intact"] and status["valid"]
    assert status["trust_problem_indic"] is None  # the path to our root was built and trusted
    assert status["signing_cert"].subject == asn1_x509.Certificate.load(pki.tsa.der).subject

    wrong = asyncio.run(
        validate_tst_signed_data(
            token["content"], _context(pki), expected_tst_imprint=lambda _alg: bytes(32)
        )
    )
    assert not wrong["intact"]


def test_token_verifies_with_openssl(
    pki: Hierarchy,
    tools: Tools,
    timestamper: InProcessTimeStamper,
    tmp_path: Path,
) -> None:
    digest = hashlib.sha384(b"sealed contract").digest()
    token = asyncio.run(timestamper.async_timestamp(digest, "sha384"))
    (tmp_path / "token.der").write_bytes(token.dump())
    trust = ["-CAfile", pki.root.pem, "-untrusted", pki.tsa.pem]
    common = ["-token_in", "-in", tmp_path / "token.der", *trust]
    ok = tools.run(tools.openssl, "ts", "-verify", "-digest", digest.hex(), *common)
    assert "Verification: OK" in ok.stdout
    bad = tools.run(tools.openssl, "ts", "-verify", "-digest", "00" * 48, *common, check=False)
    assert bad.returncode != 0


def test_rejection_surfaces_as_pyhanko_error(timestamper: InProcessTimeStamper) -> None:
    with pytest.raises(TimestampRequestError, match="bad_alg"):
        asyncio.run(timestamper.async_timestamp(hashlib.sha1(b"x").digest(), "sha1"))


def _blank_pdf() -> bytes:
    writer = PdfFileWriter()
    contents = writer.add_object(generic.StreamObject(stream_data=b""))
    writer.insert_page(PageObject(contents=contents, media_box=[0, 0, 595, 842]))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_document_timestamp(pki: Hierarchy, timestamper: InProcessTimeStamper) -> None:
    out = PdfTimeStamper(timestamper).timestamp_pdf(
        IncrementalPdfFileWriter(BytesIO(_blank_pdf())), "sha256"
    )
    reader = PdfFileReader(out)
    (embedded,) = reader.embedded_signatures
    status = validate_pdf_timestamp(embedded, validation_context=_context(pki))
    assert status.intact and status.valid and status.trusted
    assert status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
