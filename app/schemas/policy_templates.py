"""Data of the administrative templates at the HTTP edge: the law-enforcement record and the
medical-insurance settlement form. The issuing agency or hospital is the organization whose
seal is applied; the data may leave it out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from seals.templates.enforcement import EnforcementRecord, Officer
from seals.templates.settlement import SettlementForm, SettlementItem

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Number = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\s]+$"),
]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("999999999.99"), decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OfficerIn(_Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    certificate_number: Number = Field(description="执法证号")


class EnforcementRecordIn(_Strict):
    """现场检查笔录 or 行政处罚决定书 with two officers."""

    title: Literal["现场检查笔录", "行政处罚决定书"] = "现场检查笔录"
    record_number: Number
    party_name: Text
    party_uscc: Annotated[str, StringConstraints(min_length=18, max_length=18)] | None = None
    party_address: Text
    officers: list[OfficerIn] = Field(min_length=2, max_length=2)
    place: Text
    occurred_on: date
    findings: list[Paragraph] = Field(min_length=1, max_length=50)
    issued_on: date
    legal_basis: Paragraph | None = None

    def to_domain(self, *, agency: str) -> EnforcementRecord:
        first, second = (Officer(o.name, o.certificate_number) for o in self.officers)
        return EnforcementRecord(
            title=self.title,
            record_number=self.record_number,
            agency=agency,
            party_name=self.party_name,
            party_uscc=self.party_uscc,
            party_address=self.party_address,
            officers=(first, second),
            place=self.place,
            occurred_on=self.occurred_on,
            findings=tuple(self.findings),
            issued_on=self.issued_on,
            legal_basis=self.legal_basis,
        )


class SettlementItemIn(_Strict):
    category: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    amount: Money


class SettlementFormIn(_Strict):
    """医保结算单 of one stay or visit."""

    settlement_number: Number
    insured_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)
    ]
    insurance_number: Number
    insurance_type: Text = "职工基本医疗保险"
    department: Text | None = None
    admitted_on: date
    discharged_on: date
    items: list[SettlementItemIn] = Field(min_length=1, max_length=30)
    fund_paid: Money
    settled_on: date

    def to_domain(self, *, hospital: str) -> SettlementForm:
        return SettlementForm(
            settlement_number=self.settlement_number,
            hospital=hospital,
            insured_name=self.insured_name,
            insurance_number=self.insurance_number,
            insurance_type=self.insurance_type,
            department=self.department,
            admitted_on=self.admitted_on,
            discharged_on=self.discharged_on,
            items=tuple(SettlementItem(i.category, i.amount) for i in self.items),
            fund_paid=self.fund_paid,
            settled_on=self.settled_on,
        )
