"""Electronic letter of guarantee for a bid (投标保函): a bank guarantees the tenderer that the
bidder keeps its bid, up to an amount, for a validity period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from seals.numerals import AmountError, amount_in_words, format_amount
from seals.templates._base import (
    INDENT,
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
from seals.templates.parties import Party

SIGNATURE_KEYWORD = "保证人（盖章）："
MAX_VALID_DAYS = 3660


@dataclass(frozen=True, slots=True)
class BidGuarantee:
    """One letter of guarantee. ``guarantee_number`` is unique per guarantor (the service
    enforces it); the letter is valid from ``issued_on`` for ``valid_days`` days, both
    included."""

    guarantee_number: str
    guarantor: Party
    applicant: Party
    beneficiary: Party
    project_name: str
    amount: Decimal
    issued_on: date
    valid_days: int
    project_code: str | None = None

    @property
    def valid_until(self) -> date:
        return self.issued_on + timedelta(days=self.valid_days - 1)

    @property
    def amount_in_words(self) -> str:
        return amount_in_words(self.amount)


def validate(letter: BidGuarantee) -> None:
    require_text(letter.guarantee_number, "guarantee_number", max_length=64)
    require_text(letter.project_name, "project_name", max_length=200)
    if letter.project_code is not None:
        require_text(letter.project_code, "project_code", max_length=64)
    for what, party in (
        ("guarantor", letter.guarantor),
        ("applicant", letter.applicant),
        ("beneficiary", letter.beneficiary),
    ):
        party.validate(what)
    if letter.amount <= 0:
        raise TemplateDataError("the guaranteed amount must be positive", field="amount")
    try:
        letter.amount_in_words  # noqa: B018 - raises for amounts that cannot be written
    except AmountError as exc:
        raise TemplateDataError(str(exc), field="amount") from exc
    if not 1 <= letter.valid_days <= MAX_VALID_DAYS:
        raise TemplateDataError(
            f"valid_days must be between 1 and {MAX_VALID_DAYS}", field="valid_days"
        )


def reference(letter: BidGuarantee) -> str:
    return letter.guarantee_number.strip()


def _body(letter: BidGuarantee) -> list[str]:
    applicant = letter.applicant.name
    if letter.applicant.uscc:
        applicant += f"（统一社会信用代码：{letter.applicant.uscc}）"
    project = f"“{letter.project_name}”"
    if letter.project_code:
        project += f"（项目编号：{letter.project_code}）"
    figures = f"¥{format_amount(letter.amount)}"
    return [
        f"鉴于{applicant}（以下简称“投标人”）参加你方{project}的投标，"
        f"{letter.guarantor.name}（以下简称“我方”）受投标人委托，在此无条件地、不可撤销地"
        f"保证：一旦收到你方提出的下述任何一种事实的书面通知，在七日内无条件地向你方支付总额"
        f"不超过{figures}（大写：{letter.amount_in_words}）的任何你方要求的金额：",
        "一、投标人在规定的投标有效期内撤销或者修改其投标文件；",
        "二、投标人在收到中标通知书后无正当理由而未在规定期限内与你方签署合同；",
        "三、投标人在收到中标通知书后未能在招标文件规定期限内向你方提交招标文件所要求的履约担保。",
        f"本保函自{chinese_date(letter.issued_on)}起{letter.valid_days}日内有效，"
        f"至{chinese_date(letter.valid_until)}止。要求我方承担保证责任的通知应在本保函"
        "有效期内送达我方。保函失效后请将本保函交投标人退回我方注销。",
        "本保函项下的权利不得转让。本保函为电子保函，经我方加盖电子印章后生效，"
        "与纸质保函具有同等法律效力；其真实性与完整性可扫描右上角二维码或通过验证接口核验。",
    ]


def render(letter: BidGuarantee, ctx: RenderContext) -> bytes:
    """The letter as an A4 PDF; the guarantor's seal goes on the keyword line
    `SIGNATURE_KEYWORD`."""
    from fpdf.enums import WrapMode  # fpdf: only when rendering

    validate(letter)
    body = _body(letter)
    guarantor_lines = [f"{SIGNATURE_KEYWORD}{letter.guarantor.name}"]
    if letter.guarantor.address:
        guarantor_lines.append(f"地址：{letter.guarantor.address}")
    guarantor_lines.append(f"开立日期：{chinese_date(letter.issued_on)}")
    header = [
        "投标保函",
        f"保函编号：{letter.guarantee_number}",
        f"致：{letter.beneficiary.name}（招标人）",
    ]
    check_glyphs(ctx.font, [*header, *body, *guarantor_lines, "（电子）扫码验证真伪文件编号第页共"])

    pdf = new_pdf(ctx=ctx, title=f"投标保函 {letter.guarantee_number}", issued_on=letter.issued_on)
    pdf.add_page()
    verification_block(pdf, ctx=ctx, x_mm=pdf.w - MARGIN_MM - QR_SIZE_MM, y_mm=MARGIN_MM)
    width = pdf.w - 2 * MARGIN_MM
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 8)
    pdf.set_font("cjk", size=22)
    pdf.cell(width, 12, "投标保函", align="C")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 20)
    pdf.set_font("cjk", size=11)
    pdf.cell(width, 6, "（电子）", align="C")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 34)
    pdf.cell(width, 7, header[1], align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=12)
    pdf.multi_cell(width, 8, header[2], new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.ln(2)
    for paragraph in body:
        pdf.multi_cell(
            width, 7.5, INDENT + paragraph, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
        )
        pdf.ln(1.5)
    if pdf.get_y() > pdf.h - 90:
        pdf.add_page()
    pdf.ln(12)
    column = MARGIN_MM + width * 0.42
    for line in guarantor_lines:
        pdf.set_x(column)
        pdf.multi_cell(
            width - (column - MARGIN_MM),
            8,
            line,
            new_x="LMARGIN",
            new_y="NEXT",
            wrapmode=WrapMode.CHAR,
        )
        pdf.ln(6 if line.startswith(SIGNATURE_KEYWORD) else 0)
    return finish(pdf)
