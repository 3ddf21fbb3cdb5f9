"""Generate simple multi-page A4 documents with CJK text (test fixtures and scenario templates).

The text is set with fpdf2 in an embedded, subset CJK font: a Type0 font with Identity-H
encoding, a CIDFontType0 (CFF outlines, e.g. Noto CJK) or CIDFontType2 (TrueType outlines,
e.g. WenQuanYi Zen Hei) descendant and a ToUnicode CMap, as word processors produce them.
So the output can be searched for keywords such as ``甲方（盖章）`` the way real contracts are.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from seals.errors import DocumentError

__all__ = ["DEFAULT_SIGNATURE_LINES", "DocumentError", "make_document"]

DEFAULT_SIGNATURE_LINES = ("甲方（盖章）：", "乙方（盖章）：")

_A4 = "A4"
_MARGIN_MM = 25.0
_FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)


def make_document(
    *,
    title: str,
    paragraphs: Sequence[str],
    pages: int,
    font_path: str | Path,
    font_number: int = 0,
    signature_lines: Sequence[str] = DEFAULT_SIGNATURE_LINES,
    font_size: float = 12.0,
) -> bytes:
    """A ``pages``-page A4 PDF: the title on page 1, ``paragraphs`` spread over the pages,
    a footer "第 i 页 共 N 页" on each, and ``signature_lines`` (one per line, with room to
    seal under each) at the end of the last page.

    ``font_path`` is a TrueType/OpenType font or collection (``font_number`` picks the face
    in a .ttc). Output is deterministic for the same input (fixed creation date).
    """
    from fpdf import FPDF
    from fpdf.errors import FPDFException

    if pages < 1:
        raise DocumentError("A document has at least one page.")
    path = Path(font_path)
    if not path.is_file():
        raise DocumentError(f"Font file {path} not found.")

    pdf = FPDF(orientation="portrait", unit="mm", format=_A4)
    pdf.set_creation_date(_FIXED_DATE)
    pdf.set_title(title)
    pdf.set_margins(_MARGIN_MM, _MARGIN_MM, _MARGIN_MM)
    pdf.set_auto_page_break(auto=False)
    try:
        pdf.add_font("cjk", fname=str(path), collection_font_number=font_number)
    except (FPDFException, OSError, ValueError, RuntimeError) as exc:
        raise DocumentError(f"Font {path} cannot be used: {exc}") from exc

    per_page: list[list[str]] = [[] for _ in range(pages)]
    for index, paragraph in enumerate(paragraphs):
        per_page[min(index * pages // max(len(paragraphs), 1), pages - 1)].append(paragraph)

    width = pdf.w - 2 * _MARGIN_MM
    line_height = font_size * 0.3528 * 1.6  # pt -> mm, with 1.6 leading
    try:
        for number in range(1, pages + 1):
            pdf.add_page()
            if number == 1:
                pdf.set_font("cjk", size=font_size + 6)
                pdf.multi_cell(width, line_height * 1.6, title, align="C")
                pdf.ln(line_height)
            pdf.set_font("cjk", size=font_size)
            for paragraph in per_page[number - 1]:
                pdf.multi_cell(width, line_height, paragraph)
                pdf.ln(line_height / 2)
            if number == pages and signature_lines:
                pdf.ln(line_height)
                for line in signature_lines:
                    pdf.multi_cell(width, line_height, line)
                    pdf.ln(line_height * 3)  # room for a 40 mm seal spans lines around it
            pdf.set_y(pdf.h - _MARGIN_MM + 8)
            pdf.set_font("cjk", size=font_size - 3)
            pdf.cell(width, line_height, f"第 {number} 页 共 {pages} 页", align="C")
        return bytes(pdf.output())
    except (FPDFException, ValueError, KeyError) as exc:
        raise DocumentError(f"The document cannot be generated: {exc}") from exc
