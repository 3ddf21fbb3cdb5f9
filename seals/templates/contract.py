"""Two-party contract (甲方 / 乙方): parties, numbered clauses, and the signature blocks
whose lines ``甲方（盖章）：`` and ``乙方（盖章）：`` are the keywords the seals are placed on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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

PARTY_A_KEYWORD = "甲方（盖章）："
PARTY_B_KEYWORD = "乙方（盖章）："
MAX_CLAUSES = 200
_SIGNATURE_BLOCK_MM = 70.0
"""Room the signature blocks need below the last clause: a 42 mm seal centred on the
keyword line must stay on the page."""

_CN_DIGITS = "零一二三四五六七八九"


def clause_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五 (clause numbering)."""
    if not 0 < n < 1000:
        raise ValueError("clause numbers run from 1 to 999")
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _CN_DIGITS[hundreds] + "百"
        if rest and tens == 0:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else _CN_DIGITS[tens]) + "十"
    if ones:
        out += _CN_DIGITS[ones]
    return out


@dataclass(frozen=True, slots=True)
class TwoPartyContract:
    title: str
    contract_number: str
    party_a: Party
    party_b: Party
    clauses: tuple[str, ...]
    signed_on: date
    amount: Decimal | None = None
    signed_at: str | None = None


def validate(contract: TwoPartyContract) -> None:
    require_text(contract.title, "title", max_length=100)
    require_text(contract.contract_number, "contract_number", max_length=64)
    contract.party_a.validate("party_a")
    contract.party_b.validate("party_b")
    if not contract.clauses:
        raise TemplateDataError("a contract has at least one clause", field="clauses")
    if len(contract.clauses) > MAX_CLAUSES:
        raise TemplateDataError(f"at most {MAX_CLAUSES} clauses", field="clauses")
    for index, clause in enumerate(contract.clauses):
        require_text(clause, f"clauses[{index}]", max_length=5000)
    if contract.signed_at is not None:
        require_text(contract.signed_at, "signed_at", max_length=100)
    if contract.amount is not None:
        if contract.amount <= 0:
            raise TemplateDataError("the contract amount must be positive", field="amount")
        try:
            amount_in_words(contract.amount)
        except AmountError as exc:
            raise TemplateDataError(str(exc), field="amount") from exc


def reference(contract: TwoPartyContract) -> str:
    return contract.contract_number.strip()


def _party_lines(role: str, party: Party) -> list[str]:
    lines = [f"{role}：{party.name}"]
    if party.uscc:
        lines.append(f"统一社会信用代码：{party.uscc}")
    if party.address:
        lines.append(f"住所：{party.address}")
    if party.representative:
        lines.append(f"法定代表人：{party.representative}")
    return lines


def _clauses(contract: TwoPartyContract) -> list[str]:
    clauses = list(contract.clauses)
    if contract.amount is not None:
        clauses.insert(
            0,
            f"合同金额：¥{format_amount(contract.amount)}"
            f"（大写：{amount_in_words(contract.amount)}）。",
        )
    return [f"第{clause_number(i)}条　{text}" for i, text in enumerate(clauses, start=1)]


def render(contract: TwoPartyContract, ctx: RenderContext) -> bytes:
    """The contract on as many A4 pages as it needs; the signature blocks keep together on the
    last page with room for both seals."""
    from fpdf.enums import WrapMode  # fpdf: only when rendering

    validate(contract)
    head = [
        *_party_lines("甲方", contract.party_a),
        *_party_lines("乙方", contract.party_b),
    ]
    preamble = "甲乙双方本着平等自愿、诚实信用的原则，经友好协商，就下列事项订立本合同，共同遵守。"
    clauses = _clauses(contract)
    blocks = [
        (PARTY_A_KEYWORD, contract.party_a),
        (PARTY_B_KEYWORD, contract.party_b),
    ]
    place = f"签订地点：{contract.signed_at}" if contract.signed_at else ""
    check_glyphs(
        ctx.font,
        [
            contract.title,
            contract.contract_number,
            *head,
            preamble,
            *clauses,
            place,
            *(keyword + party.name for keyword, party in blocks),
            "合同编号（以下无正文）法定代表人或授权代表（签字）日期扫码验证真伪文件编号第页共",
        ],
    )
    pdf = new_pdf(ctx=ctx, title=contract.title, issued_on=contract.signed_on)
    pdf.add_page()
    width = pdf.w - 2 * MARGIN_MM
    verification_block(pdf, ctx=ctx, x_mm=pdf.w - MARGIN_MM - QR_SIZE_MM, y_mm=MARGIN_MM)
    pdf.set_xy(MARGIN_MM, MARGIN_MM + 10)
    pdf.set_font("cjk", size=20)
    pdf.multi_cell(width - QR_SIZE_MM - 4, 10, contract.title, align="C", wrapmode=WrapMode.CHAR)
    pdf.set_xy(MARGIN_MM, MARGIN_MM + QR_SIZE_MM + 10)
    pdf.set_font("cjk", size=10.5)
    pdf.cell(width, 6, f"合同编号：{contract.contract_number}", align="R")
    pdf.set_xy(MARGIN_MM, MARGIN_MM + QR_SIZE_MM + 18)
    pdf.set_font("cjk", size=11.5)
    for line in head:
        pdf.multi_cell(width, 7, line, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)
    pdf.ln(3)
    pdf.multi_cell(
        width, 7, INDENT + preamble, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
    )
    pdf.ln(2)
    for clause in clauses:
        pdf.multi_cell(
            width, 7, INDENT + clause, new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
        )
        pdf.ln(1.5)
    pdf.multi_cell(
        width, 7, "（以下无正文）", align="C", new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
    )
    if pdf.get_y() > pdf.h - MARGIN_MM - 10 - _SIGNATURE_BLOCK_MM:
        pdf.add_page()
    pdf.ln(10)
    top = pdf.get_y()
    half = width / 2
    for column, (keyword, party) in enumerate(blocks):
        x = MARGIN_MM + column * half
        lines = (
            (0.0, keyword),
            (8.0, party.name),
            (30.0, "法定代表人或授权代表（签字）："),
            (38.0, f"日期：{chinese_date(contract.signed_on)}"),
        )
        for dy, text in lines:
            pdf.set_xy(x, top + dy)
            pdf.cell(half - 4, 8, text)
    if place:
        pdf.set_xy(MARGIN_MM, top + 62)
        pdf.cell(width, 7, place)
    return finish(pdf)
