"""The verification report as a PDF (CJK text embedded, valid per qpdf, verdict readable),
and the seal positions the report carries for each signature."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from seals.placement import PDFIUM_LOCK
from seals.report_pdf import local_time, report_font, report_pdf
from seals.report_text import split_library_text
from seals.reports import Finding, Indication, SealPosition, VerificationReport
from tests.verification.conftest import Verify, incremental, sign


@pytest.fixture(scope="module")
def font() -> Any:
    return report_font()


def pdf_text(data: bytes) -> str:
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        try:
            parts = []
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                parts.append(textpage.get_text_range())
                textpage.close()
                page.close()
            return "".join(parts)
        finally:
            document.close()


def squash(text: str) -> str:
    return "".join(text.split())


def qpdf_check(data: bytes, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, timeout=60)


def change_content(w: IncrementalPdfFileWriter) -> None:
    page = w.root["/Pages"]["/Kids"][0].get_object()
    page[pdf_name("/Contents")] = w.add_object(
        generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Pay 999999 CNY) Tj ET")
    )
    w.update_container(page)


@pytest.fixture(scope="module")
def reports(
    verify: Verify, pki: Any, signed: bytes, base_pdf: bytes
) -> dict[str, VerificationReport]:
    return {
        "passed": verify(signed),
        "failed": verify(incremental(signed, change_content)),
        "unsigned": verify(base_pdf),
        "garbage": verify(b"\x00garbage, not a PDF" * 10),
        "two": verify(sign(pki, signed, field="Seal2", box=(60, 60, 180, 180))),
    }


@pytest.mark.parametrize("case", ["passed", "failed", "unsigned", "garbage", "two"])
def test_report_pdf_is_valid_and_shows_the_verdict_in_chinese(
    reports: dict[str, VerificationReport], font: Any, tmp_path: Path, case: str
) -> None:
    report = reports[case]
    data = report_pdf(report, font=font, source="合同.pdf")
    assert data.startswith(b"%PDF-")
    check = qpdf_check(data, tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert b"/FontFile" in data and b"/ToUnicode" in data  # embedded CJK font, searchable
    text = squash(pdf_text(data))
    # the Chinese verdict as people read it: library text summarised (it stays in English)
    assert squash(split_library_text(report.verdict_zh)[0]) in text
    assert "电子印章验证报告" in text
    assert report.document.sha256 in text
    expected = {
        "passed": "验证通过",
        "failed": "验证失败",
        "unsigned": "无法验证",
        "garbage": "无法验证",
        "two": "验证通过",
    }[case]
    assert expected in text
    for sig in report.signatures:
        assert squash(sig.field_name) in text
        for finding in sig.findings[:3]:
            assert squash(split_library_text(finding.zh)[0])[:20] in text
    if report.signatures and report.signatures[0].claimed_signing_time:
        assert local_time(report.signatures[0].claimed_signing_time).split(" (")[0] in pdf_text(
            data
        )


def test_long_reports_wrap_and_paginate(
    verify: Verify, signed: bytes, font: Any, tmp_path: Path
) -> None:
    report = verify(signed)
    sig = report.signatures[0]
    many = tuple(
        Finding(code=f"x{i}", zh="很长的中文说明" * 20 + str(i), en="a long English reason " * 8)
        for i in range(40)
    )
    long_sig = replace(sig, field_name="签名域" * 60, findings=many)
    report = replace(report, signatures=(long_sig,) * 4)
    data = report_pdf(report, font=font)
    assert qpdf_check(data, tmp_path).returncode == 0
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(data)
        pages = len(document)
        document.close()
    assert pages > 5


# --------------------------------------------------------------------------- positions


def test_positions_of_visible_and_invisible_signatures(
    verify: Verify, pki: Any, signed: bytes, base_pdf: bytes
) -> None:
    report = verify(signed)
    assert report.signatures[0].positions == (SealPosition(page=0, rect=(400, 60, 520, 180)),)
    # the JSON counts pages from 1, as placements and every page shown to people do
    assert report.signatures[0].to_json()["positions"] == [{"page": 1, "rect": [400, 60, 520, 180]}]
    invisible = verify(sign(pki, base_pdf, box=None))
    assert invisible.indication is Indication.TOTAL_PASSED
    assert invisible.signatures[0].positions == ()

    two = verify(sign(pki, signed, field="Seal2", box=(60, 700, 180, 820)))
    by_name = {s.field_name: s.positions for s in two.signatures}
    assert by_name == {
        "Seal1": (SealPosition(page=0, rect=(400, 60, 520, 180)),),
        "Seal2": (SealPosition(page=0, rect=(60, 700, 180, 820)),),
    }


def test_positions_never_break_verification_of_odd_widgets(verify: Verify, signed: bytes) -> None:
    """A widget whose /Rect is nonsense just has no position; the verdict is unchanged."""

    def break_rect(w: IncrementalPdfFileWriter) -> None:
        form = w.root["/AcroForm"]
        field = form["/Fields"][0].get_object()
        field[pdf_name("/Rect")] = generic.ArrayObject([generic.NameObject("/Oops")])
        w.update_container(field)

    report = verify(incremental(signed, break_rect))
    assert report.signatures[0].positions == ()
    assert report.indication is not Indication.TOTAL_PASSED  # the signed widget was changed
