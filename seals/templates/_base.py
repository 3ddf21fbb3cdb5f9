"""What every scenario template shares: the render context (font, document id, verification
link), an A4 page set in an embedded CJK font, the verification QR code drawn as vectors,
checks on the data, and the error the templates raise."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from seals.errors import TemplateDataError
from seals.fonts import CjkFont, describe_characters, find_cjk_font, missing_glyphs

if TYPE_CHECKING:
    from fpdf import FPDF

PREFERRED_DOCUMENT_FONTS: tuple[Path, ...] = tuple(
    Path(p)
    for p in (
        # a regular Song (serif) face for body text; bold is kept for seal images
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-serif-cjk-fonts/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    )
)

MARGIN_MM = 20.0
INDENT = "\u3000\u3000"
"""Two ideographic spaces: the first-line indent of a Chinese paragraph."""
QR_SIZE_MM = 24.0


def document_font(configured: str | Path | None = None) -> CjkFont:
    """The configured font, else a regular CJK face, else any CJK face `find_cjk_font` finds."""
    if configured is not None:
        return find_cjk_font(path=configured)
    for candidate in PREFERRED_DOCUMENT_FONTS:
        if candidate.is_file():
            return find_cjk_font(path=candidate)
    return find_cjk_font()


@dataclass(frozen=True, slots=True)
class RenderContext:
    """Everything a template needs besides its data.

    ``document_id`` is the id the sealed document will be stored under, chosen before the
    document is rendered, so the QR code and the printed number can name it; ``verify_url``
    is the public verification page for that id.
    """

    font: CjkFont
    document_id: str
    verify_url: str


def require_text(value: str, what: str, *, max_length: int = 500) -> str:
    text = value.strip()
    if not text:
        raise TemplateDataError(f"{what} is empty", field=what)
    if len(text) > max_length:
        raise TemplateDataError(f"{what} is longer than {max_length} characters", field=what)
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise TemplateDataError(f"{what} contains control characters", field=what)
    return text


def check_glyphs(font: CjkFont, texts: Iterable[str]) -> None:
    """Refuse text the font cannot draw rather than print boxes in its place."""
    missing = missing_glyphs(font=font, text="".join(texts).replace("\n", ""))
    if missing:
        raise TemplateDataError(
            f"the document font has no glyph for {describe_characters(missing)}",
            characters=list(missing),
        )


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


@functools.cache
def _template_pdf() -> Callable[[RenderContext], FPDF]:
    """The page set's class, made on first use (fpdf is imported only to render)."""
    from fpdf import FPDF

    class TemplatePdf(FPDF):
        """An A4 page set whose every page ends with the page number and the document number."""

        def __init__(self, ctx: RenderContext) -> None:
            super().__init__(orientation="portrait", unit="mm", format="A4")
            self.ctx = ctx

        def footer(self) -> None:
            self.set_font("cjk", size=8)
            self.set_text_color(90, 90, 90)
            self.set_xy(MARGIN_MM, self.h - MARGIN_MM + 4)
            self.cell(
                self.w - 2 * MARGIN_MM,
                4,
                f"文件编号 {self.ctx.document_id}　第 {self.page_no()} 页 共 {{nb}} 页",
                align="C",
            )
            self.set_text_color(0, 0, 0)

    return TemplatePdf


def new_pdf(*, ctx: RenderContext, title: str, issued_on: date) -> FPDF:
    """An A4 document in the context's font, dated by the data (so output is deterministic);
    every page ends with the page number and the document number."""
    from fpdf.errors import FPDFException

    pdf = _template_pdf()(ctx)
    pdf.set_creation_date(datetime(issued_on.year, issued_on.month, issued_on.day, tzinfo=UTC))
    pdf.set_title(title)
    pdf.set_creator("eseal")
    pdf.set_margins(MARGIN_MM, MARGIN_MM, MARGIN_MM)
    pdf.set_auto_page_break(auto=True, margin=MARGIN_MM + 10)
    try:
        pdf.add_font("cjk", fname=str(ctx.font.path), collection_font_number=ctx.font.index)
    except (FPDFException, OSError, ValueError, RuntimeError) as exc:
        raise TemplateDataError(f"font {ctx.font.path} cannot be used: {exc}") from exc
    pdf.set_font("cjk", size=11)
    return pdf


def draw_qr(pdf: FPDF, *, data: str, x_mm: float, y_mm: float, size_mm: float) -> None:
    """A QR code (error correction M) of ``data`` as filled vector squares, quiet zone
    included in ``size_mm``; runs of dark modules on a row are one rectangle."""
    import segno

    code = segno.make(data, error="m", micro=False)
    rows = [list(row) for row in code.matrix_iter(scale=1, border=4)]
    module = size_mm / len(rows)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x_mm, y_mm, size_mm, size_mm, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x_mm + start * module, y_mm + r * module, (c - start) * module, module, "F")


def verification_block(pdf: FPDF, *, ctx: RenderContext, x_mm: float, y_mm: float) -> None:
    """The QR code to the verification page, with the document number under it."""
    draw_qr(pdf, data=ctx.verify_url, x_mm=x_mm, y_mm=y_mm, size_mm=QR_SIZE_MM)
    pdf.set_font("cjk", size=6.5)
    pdf.set_xy(x_mm - 8, y_mm + QR_SIZE_MM + 0.5)
    pdf.cell(QR_SIZE_MM + 16, 3, "扫码验证真伪", align="C")
    pdf.set_xy(x_mm - 8, y_mm + QR_SIZE_MM + 3.5)
    pdf.cell(QR_SIZE_MM + 16, 3, ctx.document_id, align="C")


def finish(pdf: FPDF) -> bytes:
    from fpdf.errors import FPDFException

    try:
        return bytes(pdf.output())
    except (FPDFException, ValueError, KeyError) as exc:
        raise TemplateDataError(f"the document cannot be generated: {exc}") from exc
