"""The verification report as a download: PDF (with CJK text) or JSON, with file names."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from app.wiring import Services
from seals.fonts import CjkFont
from seals.report_pdf import report_font, report_pdf
from seals.reports import VerificationReport

PDF_MEDIA_TYPE = "application/pdf"
JSON_MEDIA_TYPE = "application/json"


@lru_cache(maxsize=4)
def _font(fallback: Path | None) -> CjkFont:
    return report_font(fallback=fallback)


def render_report_pdf(
    services: Services, report: VerificationReport, *, source: str | None = None
) -> bytes:
    """The report as an A4 PDF in the service's time zone (Asia/Shanghai)."""
    return report_pdf(report, font=_font(services.settings.seal_font), source=source)


def render_report_json(report: VerificationReport) -> bytes:
    """The same JSON as ``POST /api/v1/verify`` answers, UTF-8, pretty-printed."""
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2).encode()


def report_filename(report: VerificationReport, extension: str) -> str:
    """``verification-<first 12 hex of the document's SHA-256>.<extension>`` (ASCII only)."""
    return f"verification-{report.document.sha256[:12]}.{extension}"
