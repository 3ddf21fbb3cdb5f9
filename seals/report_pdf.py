"""The verification report as a PDF a person can file: `report_pdf(report, font=...) -> bytes`.

Pure report -> PDF with fpdf2: Chinese first, English second, times in a local time zone
(Asia/Shanghai by default), the text set in an embedded, subset CJK OpenType font (a Type0
font with a ToUnicode map, so the text can be searched and copied). It holds nothing the
report does not hold (identifiers are already masked in it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo
from pathlib import Path

from seals import report_text
from seals.errors import ReportPdfError
from seals.fonts import CjkFont, find_cjk_font
from seals.report_text import (
    LABELS,
    LOCAL_TZ,
    coverage_text,
    document_status_text,
    indication_label,
    integrity_text,
    local_time,
    modifications_text,
    revocation_text,
    seal_kind_label,
    seal_status_text,
    trust_anchor_text,
)
from seals.reports import (
    Finding,
    Indication,
    SignatureReport,
    VerificationReport,
)

__all__ = [
    "LOCAL_TZ",
    "REPORT_FONT_PATHS",
    "ReportPdfError",
    "coverage_text",
    "indication_label",
    "local_time",
    "modifications_text",
    "report_font",
    "report_pdf",
    "revocation_text",
    "seal_kind_label",
    "seal_status_text",
]

REPORT_FONT_PATHS: tuple[Path, ...] = tuple(
    Path(p)
    for p in (
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    )
)
"""A plain sans face reads better in a report than the bold serif chosen for seal text."""

_INDICATION_RGB: dict[Indication, tuple[int, int, int]] = {
    Indication.TOTAL_PASSED: (21, 128, 61),
    Indication.TOTAL_FAILED: (190, 18, 60),
    Indication.INDETERMINATE: (180, 83, 9),
}


def report_font(*, fallback: str | Path | None = None) -> CjkFont:
    """A regular CJK sans face when installed, else `fallback` (e.g. the configured seal
    font), else any CJK font `find_cjk_font` knows. Raises `FontUnavailableError`."""
    for candidate in REPORT_FONT_PATHS:
        if candidate.is_file():
            return find_cjk_font(path=candidate)
    return find_cjk_font(path=fallback)


def report_pdf(
    report: VerificationReport,
    *,
    font: CjkFont,
    zone: tzinfo = LOCAL_TZ,
    source: str | None = None,
) -> bytes:
    """An A4 PDF of `report`. `source` names where the document came from (e.g. a file
    name or a stored document id), shown as is. Raises `ReportPdfError` for an unusable font."""
    from fpdf.errors import FPDFException

    layout = _Layout(font=font, footer=f"验证时间 {local_time(report.validation_time, zone)}")
    layout.pdf.set_creation_date(report.validation_time)
    try:
        layout.pdf.add_page()
        layout.title()
        layout.verdict(report)
        _document(layout, report, zone=zone, source=source)
        for number, sig in enumerate(report.signatures, start=1):
            _signature(layout, number, sig, zone=zone)
        layout.pdf.ln(4)
        layout.text(
            "说明：本报告依据 ETSI EN 319 102-1 给出每个签名的结论（通过 / 失败 / 无法确定）。"
            "印章状态为验证时刻登记系统中的状态。身份证件号码已脱敏。",
            7.5,
            color=_GREY,
            h=4,
        )
        layout.text(
            "Note: indications follow ETSI EN 319 102-1. Seal status is the registry's status "
            "at validation time. Personal identifiers are masked.",
            7,
            color=_GREY,
            h=3.8,
        )
        return bytes(layout.pdf.output())
    except FPDFException as exc:
        raise ReportPdfError(f"the report cannot be laid out: {exc}") from exc


_GREY = (90, 90, 90)


class _Layout:
    """fpdf2 with the few building blocks the report uses."""

    LABEL_W = 44.0

    def __init__(self, *, font: CjkFont, footer: str) -> None:
        from fpdf import FPDF
        from fpdf.errors import FPDFException

        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_title("电子印章验证报告 Verification report")
        pdf.set_creator("eseal")
        pdf.set_margins(18, 16, 18)
        pdf.set_auto_page_break(auto=True, margin=18)
        try:
            pdf.add_font("cjk", fname=str(font.path), collection_font_number=font.index)
        except (FPDFException, OSError, ValueError, RuntimeError) as exc:
            raise ReportPdfError(f"font {font.path} cannot be used: {exc}") from exc
        footer_text = f"eseal 电子印章验证报告 · {footer}"

        def draw_footer() -> None:
            pdf.set_y(-12)
            pdf.set_font("cjk", size=7.5)
            pdf.set_text_color(110, 110, 110)
            pdf.cell(0, 5, f"{footer_text} · 第 {pdf.page_no()} 页 / 共 {{nb}} 页", align="C")
            pdf.set_text_color(0, 0, 0)

        pdf.footer = draw_footer  # type: ignore[method-assign]
        self.pdf = pdf
        self.width = pdf.w - pdf.l_margin - pdf.r_margin

    def text(
        self, value: str, size: float, *, color: tuple[int, int, int] = (0, 0, 0), h: float = 0
    ) -> None:
        from fpdf.enums import WrapMode, XPos, YPos

        pdf = self.pdf
        pdf.set_font("cjk", size=size)
        pdf.set_text_color(*color)
        pdf.multi_cell(
            self.width,
            h or size * 0.52,
            value,
            wrapmode=WrapMode.CHAR,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(0, 0, 0)

    def title(self) -> None:
        self.text("电子印章验证报告", 17, h=9)
        self.text("Electronic seal and signature verification report", 9.5, color=_GREY, h=5)
        self.pdf.ln(3)

    def verdict(self, report: VerificationReport) -> None:
        from fpdf.enums import WrapMode, XPos, YPos

        pdf, inner = self.pdf, self.width - 8
        rgb = _INDICATION_RGB[report.indication]
        zh, en = indication_label(report.indication)
        sub = f" / {report.sub_indication.value}" if report.sub_indication else ""
        top = pdf.get_y()
        pdf.set_text_color(*rgb)
        verdict_zh = report_text.split_library_text(report.verdict_zh)[0]
        for value, size, h in ((verdict_zh, 12.5, 6.5), (report.verdict_en, 9, 4.8)):
            pdf.set_x(pdf.l_margin + 5)
            pdf.set_font("cjk", size=size)
            pdf.multi_cell(
                inner, h, value, wrapmode=WrapMode.CHAR, new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        pdf.set_x(pdf.l_margin + 5)
        pdf.set_font("cjk", size=8)
        pdf.cell(
            inner,
            5,
            f"{zh} {en} · {report.indication.value}{sub}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_text_color(0, 0, 0)
        bottom = pdf.get_y() + 1.5
        pdf.set_draw_color(*rgb)
        pdf.set_fill_color(*rgb)
        pdf.set_line_width(0.5)
        pdf.rect(pdf.l_margin, top - 1.5, self.width, bottom - top + 1.5)
        pdf.rect(pdf.l_margin, top - 1.5, 2, bottom - top + 1.5, style="F")
        pdf.set_line_width(0.2)
        pdf.set_y(bottom + 2)

    def heading(self, value: str) -> None:
        from fpdf.enums import XPos, YPos

        pdf = self.pdf
        if pdf.get_y() > pdf.h - 50:
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font("cjk", size=11.5)
        pdf.cell(self.width, 7, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_draw_color(60, 60, 60)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + self.width, pdf.get_y())
        pdf.ln(1)

    def row(self, label: str, value: str) -> None:
        from fpdf.enums import WrapMode, XPos, YPos

        pdf = self.pdf
        if pdf.get_y() > pdf.h - 30:
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font("cjk", size=8.5)
        pdf.set_text_color(*_GREY)
        pdf.multi_cell(
            self.LABEL_W - 2, 5, label, wrapmode=WrapMode.WORD, new_x=XPos.RIGHT, new_y=YPos.NEXT
        )
        label_bottom = pdf.get_y()
        pdf.set_text_color(0, 0, 0)
        pdf.set_xy(pdf.l_margin + self.LABEL_W, y)
        pdf.multi_cell(
            self.width - self.LABEL_W,
            5,
            value or "—",
            wrapmode=WrapMode.CHAR,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_y(max(pdf.get_y(), label_bottom))
        pdf.set_draw_color(225, 225, 225)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + self.width, pdf.get_y())

    def findings(self, items: Iterable[Finding]) -> None:
        self.pdf.ln(1.5)
        for finding in items:
            self.text(f"• {report_text.finding_zh(finding)}", 8.5, h=4.6)
            self.text(f"  {finding.en}", 7.5, color=_GREY, h=4.0)


def _document(
    layout: _Layout, report: VerificationReport, *, zone: tzinfo, source: str | None
) -> None:
    doc, row = report.document, layout.row
    layout.heading(str(LABELS["document"]))
    if source:
        row(str(LABELS["source"]), source)
    row(str(LABELS["sha256"]), doc.sha256)
    row(str(LABELS["size"]), f"{doc.size:,} 字节 bytes")
    row(str(LABELS["status"]), document_status_text(doc.status))
    row(str(LABELS["pages"]), _num(doc.page_count))
    row(str(LABELS["revisions"]), _num(doc.revisions))
    row(str(LABELS["signatures"]), str(doc.signatures))
    row(str(LABELS["changed"]), report_text.document_changed_text(report))
    row(str(LABELS["validation_time"]), local_time(report.validation_time, zone))
    if doc.modifications:
        layout.findings(doc.modifications)


def _signature(layout: _Layout, number: int, sig: SignatureReport, *, zone: tzinfo) -> None:
    zh, en = indication_label(sig.indication)
    sub = f" / {sig.sub_indication.value}" if sig.sub_indication else ""
    label = LABELS["signature"]
    layout.heading(f"{label.zh} {number} {label.en} {number}：{sig.field_name}")

    def row(name: str, value: str) -> None:
        layout.row(str(LABELS[name]), value)

    row("indication", f"{zh} {en} · {sig.indication.value}{sub}")
    row("signer", sig.signer.summary if sig.signer else "—")
    kind = (sig.seal.kind_label or seal_kind_label(sig.seal.kind)) if sig.seal else None
    row("seal", report_text.seal_text(sig, kind_label=kind))
    row("claimed_time", local_time(sig.claimed_signing_time, zone))
    ts = local_time(sig.timestamp_time, zone)
    row("timestamp", f"{ts} · {sig.tsa}" if sig.tsa and sig.timestamp_time else ts)
    row("level", report_text.level_text(sig))
    row("integrity", integrity_text(sig.integrity))
    row("trust_anchor", trust_anchor_text(sig))
    row("revocation", revocation_text(sig, zone))
    row("coverage", coverage_text(sig))
    row("changes_after", modifications_text(sig))
    if sig.certification:
        row("certification", sig.certification)
    if sig.positions:
        pages = sorted({p.page_number for p in sig.positions})
        row("on_pages", "第 " + ", ".join(str(p) for p in pages) + " 页")
    if sig.findings:
        layout.findings(sig.findings)


def _num(value: int | None) -> str:
    return "—" if value is None else str(value)
