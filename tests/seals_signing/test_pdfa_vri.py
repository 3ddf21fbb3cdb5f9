"""A PDF/A-2b input stays PDF/A-consistent after sealing; the DSS carries /VRI when asked."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from seals.placement import InvisiblePlacement
from seals.signing import KeywordPlacement, PadesLevel, SealingSpec, sign_pdf
from tests.seals_signing.conftest import SealPki
from tests.seals_signing.tools import pdfsig, pdfsig_blocks, qpdf_check, signatures

pytestmark = pytest.mark.interop


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        message = f"{tool} is not installed (scripts/system-deps.sh installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def pdfa_contract(contract_pdf: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The contract converted to PDF/A-2b by ghostscript (a producer we did not write)."""
    _need("gs")
    work = tmp_path_factory.mktemp("pdfa")
    (work / "in.pdf").write_bytes(contract_pdf)
    subprocess.run(
        [
            "gs", "-q", "-dPDFA=2", "-dBATCH", "-dNOPAUSE", "-dPDFACompatibilityPolicy=1",
            "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite",
            f"-sOutputFile={work / 'out.pdf'}", str(work / "in.pdf"),
        ],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    data = (work / "out.pdf").read_bytes()
    assert b"pdfaid:part" in data
    return data


def _xmp(reader: PdfFileReader) -> bytes:
    return bytes(reader.root["/Metadata"].data)


def _xmp_value(xmp: bytes, name: bytes) -> str | None:
    match = re.search(name + rb"""(?:=['"]([^'"]*)['"]|>([^<]*)<)""", xmp)
    return (match.group(1) or match.group(2)).decode() if match else None


def test_sealing_keeps_pdfa_version_identification_and_metadata(
    pdfa_contract: bytes, pki: SealPki, timestamper, validation, seal, tmp_path: Path, nssdb
) -> None:
    sealed = sign_pdf(
        pdf=pdfa_contract,
        identity=pki.alice,
        timestamper=timestamper,
        validation=validation,
        spec=SealingSpec(
            placement=KeywordPlacement(keyword="乙方（盖章）"),
            level=PadesLevel.B_LT,
            appearance=seal,
        ),
    ).pdf
    assert sealed[:8] == pdfa_contract[:8] == b"%PDF-1.7"
    reader = PdfFileReader(BytesIO(sealed))
    assert "/Version" not in reader.root or str(reader.root["/Version"]) in ("/1.7", "1.7")
    assert "/Extensions" not in reader.root
    xmp = _xmp(reader)
    assert _xmp_value(xmp, b"pdfaid:part") == "2"
    assert _xmp_value(xmp, b"pdfaid:conformance") == "B"
    info_producer = str(reader.trailer["/Info"]["/Producer"])
    assert _xmp_value(xmp, b"pdf:Producer") == info_producer
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    assert qpdf_check(path).returncode == 0
    if nssdb is None:
        _need("pdfsig")
    blocks = pdfsig_blocks(pdfsig(path, nssdb))
    assert "Signature Validation: Signature is Valid." in blocks[0]


@pytest.mark.parametrize("level", [PadesLevel.B_LT, PadesLevel.B_LTA])
@pytest.mark.parametrize("vri", [True, False])
def test_vri_entry_in_the_dss(
    vri: bool, level: PadesLevel, contract_pdf: bytes, pki: SealPki, timestamper, validation
) -> None:
    """The /VRI key is the upper-case hex SHA-1 of the signature's /Contents (EN 319 142-1);
    written at B-LT and B-LTA unless switched off (ESEAL_PADES_VRI)."""
    sealed = sign_pdf(
        pdf=contract_pdf,
        identity=pki.alice,
        timestamper=timestamper,
        validation=validation,
        spec=SealingSpec(placement=InvisiblePlacement(), level=level, vri=vri),
    ).pdf
    dss = PdfFileReader(BytesIO(sealed)).root["/DSS"]
    if not vri:
        assert "/VRI" not in dss
        return
    key = "/" + hashlib.sha1(signatures(sealed)[0].contents).hexdigest().upper()
    entry = dss["/VRI"][key]
    assert "/OCSP" in entry or "/CRL" in entry
