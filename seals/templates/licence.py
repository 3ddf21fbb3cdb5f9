"""Electronic business licence (营业执照) or another administrative licence certificate with
the same layout: the holder's particulars in a framed table, the registration authority and
the date at the bottom right, where the authority's official seal goes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from seals.placement import CoordinatePlacement
from seals.templates._base import (
    MARGIN_MM,
    QR_SIZE_MM,
    RenderContext,
    TemplateDataError,
    check_glyphs,
    chinese_date,
    finish,
    new_pdf,
    require_text,
    verification_block,
)
from seals.templates.parties import checked_uscc

AUTHORITY_X_MM = 150.0
AUTHORITY_Y_MM = 246.0
SEAL_PLACEMENT = CoordinatePlacement(page=1, x_mm=AUTHORITY_X_MM, y_mm=AUTHORITY_Y_MM)
"""Where the authority's seal goes: centred on the authority's name and the date."""


@dataclass(frozen=True, slots=True)
class BusinessLicence:
    name: str
    uscc: str
    entity_type: str
    legal_representative: str
    address: str
    business_scope: str
    registration_authority: str
    established_on: date
    issued_on: date
    registered_capital: str | None = None
    operating_period: str | None = None
    title: str = "营业执照"
    holder_label: str = "法定代表人"


def validate(licence: BusinessLicence) -> None:
    require_text(licence.title, "title", max_length=20)
    require_text(licence.name, "name", max_length=200)
    checked_uscc(licence.uscc, "uscc")
    require_text(licence.entity_type, "entity_type", max_length=100)
    require_text(licence.legal_representative, "legal_representative", max_length=100)
    require_text(licence.holder_label, "holder_label", max_length=10)
    require_text(licence.address, "address", max_length=300)
    require_text(licence.business_scope, "business_scope", max_length=2000)
    require_text(licence.registration_authority, "registration_authority", max_length=100)
    for what, value in (
        ("registered_capital", licence.registered_capital),
        ("operating_period", licence.operating_period),
    ):
        if value is not None:
            require_text(value, what, max_length=100)
    if licence.issued_on < licence.established_on:
        raise TemplateDataError("issued_on cannot be before established_on", field="issued_on")


def reference(licence: BusinessLicence) -> None:
    """Licences carry no number of their own: the USCC is the holder's, and a licence is
    reissued (changes, replacement) under the same code."""
    return None


def _rows(licence: BusinessLicence) -> list[tuple[str, str]]:
    rows = [
        ("名　　称", licence.name),
        ("类　　型", licence.entity_type),
        (licence.holder_label, licence.legal_representative),
    ]
    if licence.registered_capital:
        rows.append(("注册资本", licence.registered_capital))
    rows.append(("成立日期", chinese_date(licence.established_on)))
    if licence.operating_period:
        rows.append(("营业期限", licence.operating_period))
    rows += [("住　　所", licence.address), ("经营范围", licence.business_scope)]
    return rows


def render(licence: BusinessLicence, ctx: RenderContext) -> bytes:
    """One A4 page; the authority's seal belongs at `SEAL_PLACEMENT` (as a certification
    signature: the licence must not change after it is issued)."""
    from fpdf.enums import WrapMode  # fpdf: only when rendering

    validate(licence)
    rows = _rows(licence)
    spaced_title = " ".join(licence.title)
    check_glyphs(
        ctx.font,
        [
            spaced_title,
            licence.uscc,
            licence.registration_authority,
            chinese_date(licence.issued_on),
            *(label + value for label, value in rows),
            "统一社会信用代码登记机关（电子）扫码验证真伪文件编号第页共",
        ],
    )
    pdf = new_pdf(ctx=ctx, title=f"{licence.title} {licence.name}", issued_on=licence.issued_on)
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN_MM
    # a double frame, as the printed licence has
    pdf.set_draw_color(160, 30, 30)
    pdf.set_line_width(1.2)
    pdf.rect(MARGIN_MM - 8, MARGIN_MM - 8, width + 16, pdf.h - 2 * MARGIN_MM + 10)
    pdf.set_line_width(0.3)
    pdf.rect(MARGIN_MM - 6, MARGIN_MM - 6, width + 12, pdf.h - 2 * MARGIN_MM + 6)
    pdf.set_draw_color(0, 0, 0)

    verification_block(pdf, ctx=ctx, x_mm=pdf.w - MARGIN_MM - QR_SIZE_MM, y_mm=MARGIN_MM)
    pdf.set_font("cjk", size=10)
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 2)
    pdf.cell(90, 5, "统一社会信用代码", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    pdf.cell(90, 6, licence.uscc)
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 30)
    pdf.set_font("cjk", size=30)
    pdf.cell(width, 16, spaced_title, align="C")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 47)
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 6, "（电子）", align="C")

    label_width = 28.0
    value_width = width - label_width - 10
    y = MARGIN_MM + 66
    for label, value in rows:
        pdf.set_font("cjk", size=12)
        pdf.set_xy(MARGIN_MM + 5, y)
        pdf.cell(label_width, 8, label)
        pdf.set_xy(MARGIN_MM + 5 + label_width, y)
        size = 12 if label != "经营范围" or len(value) < 300 else 9
        pdf.set_font("cjk", size=size)
        pdf.multi_cell(
            value_width,
            8 if size == 12 else 6,
            value,
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=WrapMode.CHAR,
        )
        y = pdf.get_y() + 2
    if y > AUTHORITY_Y_MM - 26:
        raise TemplateDataError(
            "the licence particulars do not fit on one page (shorten the business scope)",
            field="business_scope",
        )
    pdf.set_font("cjk", size=12)
    pdf.set_xy(AUTHORITY_X_MM - 45, AUTHORITY_Y_MM - 8)
    pdf.cell(26, 8, "登记机关")
    pdf.set_xy(AUTHORITY_X_MM - 19, AUTHORITY_Y_MM - 8)
    pdf.multi_cell(60, 8, licence.registration_authority, wrapmode=WrapMode.CHAR)
    pdf.set_xy(AUTHORITY_X_MM - 19, AUTHORITY_Y_MM + 2)
    pdf.cell(60, 8, chinese_date(licence.issued_on))
    return finish(pdf)
