"""A form document shared by administrative templates: a title, a number, labelled rows, a
table, paragraphs and signature lines (each line a keyword where a seal or signature goes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from seals.templates._base import (
    INDENT,
    MARGIN_MM,
    QR_SIZE_MM,
    RenderContext,
    check_glyphs,
    finish,
    new_pdf,
    verification_block,
)


@dataclass(frozen=True, slots=True)
class Form:
    title: str
    number: str
    issued_on: date
    rows: Sequence[tuple[str, str]]
    paragraphs: Sequence[str] = ()
    table_header: Sequence[str] = ()
    table: Sequence[Sequence[str]] = ()
    signature_lines: Sequence[str] = ()
    heading: str | None = None
    """A line above the rows (e.g. who issues it)."""


def render_form(form: Form, ctx: RenderContext) -> bytes:
    from fpdf.enums import WrapMode  # fpdf: only when rendering

    texts = [
        form.title,
        form.number,
        form.heading or "",
        *(label + value for label, value in form.rows),
        *form.paragraphs,
        *form.table_header,
        *(cell for row in form.table for cell in row),
        *form.signature_lines,
        "编号（电子）扫码验证真伪文件第页共",
    ]
    check_glyphs(ctx.font, texts)
    pdf = new_pdf(ctx=ctx, title=f"{form.title} {form.number}", issued_on=form.issued_on)
    pdf.add_page()
    verification_block(pdf, ctx=ctx, x_mm=pdf.w - MARGIN_MM - QR_SIZE_MM, y_mm=MARGIN_MM)
    width = pdf.w - 2 * MARGIN_MM
    if form.heading:
        pdf.set_xy(MARGIN_MM, MARGIN_MM + 2)
        pdf.set_font("cjk", size=12)
        pdf.cell(width - QR_SIZE_MM, 7, form.heading, align="C")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 10)
    pdf.set_font("cjk", size=20)
    pdf.cell(width, 12, form.title, align="C")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 24)
    pdf.set_font("cjk", size=10.5)
    pdf.cell(width - QR_SIZE_MM, 6, f"编号：{form.number}", align="C")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 36)
    label_width = 34.0
    for label, value in form.rows:
        y = pdf.get_y()
        pdf.set_font("cjk", size=11)
        pdf.cell(label_width, 7, label)
        pdf.set_xy(MARGIN_MM + label_width, y)
        pdf.multi_cell(
            width - label_width, 7, value, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
        )
    if form.table_header:
        _table(pdf, form, width)
    pdf.ln(3)
    for paragraph in form.paragraphs:
        pdf.multi_cell(
            width, 7, INDENT + paragraph, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
        )
        pdf.ln(1)
    if form.signature_lines and pdf.get_y() > pdf.h - 20 - 18 * len(form.signature_lines) - 40:
        pdf.add_page()
    pdf.ln(8)
    column = MARGIN_MM + width * 0.08
    for line in form.signature_lines:
        pdf.set_x(column)
        pdf.cell(width * 0.9, 8, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(12)
    return finish(pdf)


def _table(pdf: object, form: Form, width: float) -> None:
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    pdf.ln(3)
    pdf.set_font("cjk", size=10)
    columns = len(form.table_header)
    first = width * 0.4
    rest = (width - first) / max(1, columns - 1)
    widths = [first] + [rest] * (columns - 1)
    for header, w in zip(form.table_header, widths, strict=True):
        pdf.cell(w, 7, header, border=1, align="C")
    pdf.ln(7)
    for row in form.table:
        for i, (cell, w) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(w, 7, cell, border=1, align="L" if i == 0 else "R")
        pdf.ln(7)
    pdf.set_font("cjk", size=11)
