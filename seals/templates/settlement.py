"""Medical-insurance settlement form (医保结算单): a hospital's statement of one settled stay
or visit — what was spent by category, what the fund paid and what the insured person paid
— sealed by the hospital's settlement seal (医保结算专用章) at the keyword line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from seals.numerals import format_amount
from seals.placement import KeywordPlacement
from seals.templates._base import RenderContext, TemplateDataError, chinese_date, require_text
from seals.templates.forms import Form, render_form

SEAL_KEYWORD = "医疗机构（盖章）："
SEAL_PLACEMENT = KeywordPlacement(keyword="医疗机构（盖章）", offset_x_mm=40.0)


@dataclass(frozen=True, slots=True)
class SettlementItem:
    category: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SettlementForm:
    settlement_number: str
    hospital: str
    insured_name: str
    insurance_number: str
    insurance_type: str
    admitted_on: date
    discharged_on: date
    items: tuple[SettlementItem, ...]
    fund_paid: Decimal
    settled_on: date
    department: str | None = None

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal(0))

    @property
    def personal_paid(self) -> Decimal:
        return self.total - self.fund_paid


def validate(form: SettlementForm) -> None:
    require_text(form.settlement_number, "settlement_number", max_length=64)
    require_text(form.hospital, "hospital", max_length=100)
    require_text(form.insured_name, "insured_name", max_length=50)
    require_text(form.insurance_number, "insurance_number", max_length=40)
    require_text(form.insurance_type, "insurance_type", max_length=40)
    if not form.items:
        raise TemplateDataError("a settlement lists at least one item", field="items")
    for item in form.items:
        require_text(item.category, "items", max_length=40)
        if item.amount < 0:
            raise TemplateDataError("an item's amount cannot be negative", field="items")
    if form.discharged_on < form.admitted_on:
        raise TemplateDataError("discharged_on is before admitted_on", field="discharged_on")
    if not 0 <= form.fund_paid <= form.total:
        raise TemplateDataError("fund_paid must lie between 0 and the total", field="fund_paid")


def reference(form: SettlementForm) -> str:
    return form.settlement_number.strip()


def render(form: SettlementForm, ctx: RenderContext) -> bytes:
    validate(form)
    rows = [
        ("参保人姓名", form.insured_name),
        ("医保编号", form.insurance_number),
        ("险种类型", form.insurance_type),
        ("就诊科室", form.department or "—"),
        ("就诊日期", f"{chinese_date(form.admitted_on)} 至 {chinese_date(form.discharged_on)}"),
    ]
    table = [(item.category, format_amount(item.amount)) for item in form.items]
    table.append(("医疗费用总额", format_amount(form.total)))
    table.append(("医保基金支付", format_amount(form.fund_paid)))
    table.append(("个人支付", format_amount(form.personal_paid)))
    return render_form(
        Form(
            title="医疗保障基金结算清单",
            number=form.settlement_number,
            issued_on=form.settled_on,
            heading=form.hospital,
            rows=rows,
            table_header=("费用类别", "金额（元）"),
            table=table,
            paragraphs=(
                "本结算单由定点医疗机构通过电子印章签章生效，与纸质结算单具有同等效力；"
                "可扫描右上角二维码核验真伪。",
            ),
            signature_lines=(
                f"{SEAL_KEYWORD}{form.hospital}",
                f"结算日期：{chinese_date(form.settled_on)}",
            ),
        ),
        ctx,
    )
