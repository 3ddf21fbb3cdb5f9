"""Administrative law-enforcement records (现场检查笔录, 行政处罚决定书): the agency, the
party, two enforcement officers with their certificate numbers, what was found, and the
signature lines — each officer signs at their own keyword with a personal signature (and
PIN); the agency's official seal goes at 执法机关（印章） and across the pages as a riding seal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from seals.placement import KeywordPlacement
from seals.templates._base import RenderContext, TemplateDataError, chinese_date, require_text
from seals.templates.forms import Form, render_form

TITLES = ("现场检查笔录", "行政处罚决定书")
AGENCY_KEYWORD = "执法机关（印章）"
OFFICER_KEYWORDS = ("执法人员一（签名）", "执法人员二（签名）")
PARTY_KEYWORD = "当事人（签名）"
SEAL_PLACEMENT = KeywordPlacement(keyword=AGENCY_KEYWORD, offset_x_mm=50.0)


@dataclass(frozen=True, slots=True)
class Officer:
    name: str
    certificate_number: str


@dataclass(frozen=True, slots=True)
class EnforcementRecord:
    title: str
    record_number: str
    agency: str
    party_name: str
    party_address: str
    officers: tuple[Officer, Officer]
    place: str
    occurred_on: date
    findings: tuple[str, ...]
    issued_on: date
    party_uscc: str | None = None
    legal_basis: str | None = None


def validate(record: EnforcementRecord) -> None:
    if record.title not in TITLES:
        raise TemplateDataError(f"title is one of {', '.join(TITLES)}", field="title")
    require_text(record.record_number, "record_number", max_length=64)
    require_text(record.agency, "agency", max_length=100)
    require_text(record.party_name, "party_name", max_length=200)
    require_text(record.party_address, "party_address", max_length=300)
    require_text(record.place, "place", max_length=300)
    if len(record.officers) != 2:
        raise TemplateDataError("an enforcement record names two officers", field="officers")
    for officer in record.officers:
        require_text(officer.name, "officers", max_length=20)
        require_text(officer.certificate_number, "officers", max_length=40)
    if not record.findings:
        raise TemplateDataError("the record states what was found", field="findings")
    for paragraph in record.findings:
        require_text(paragraph, "findings", max_length=2000)
    if record.issued_on < record.occurred_on:
        raise TemplateDataError("issued_on is before occurred_on", field="issued_on")


def reference(record: EnforcementRecord) -> str:
    return record.record_number.strip()


def render(record: EnforcementRecord, ctx: RenderContext) -> bytes:
    validate(record)
    first, second = record.officers
    rows = [
        ("执法机关", record.agency),
        ("当事人", record.party_name),
    ]
    if record.party_uscc:
        rows.append(("统一社会信用代码", record.party_uscc))
    rows += [
        ("地　　址", record.party_address),
        ("检查地点" if record.title == TITLES[0] else "违法地点", record.place),
        ("日　　期", chinese_date(record.occurred_on)),
        (
            "执法人员",
            f"{first.name}（执法证号 {first.certificate_number}）、"
            f"{second.name}（执法证号 {second.certificate_number}）",
        ),
    ]
    paragraphs = list(record.findings)
    if record.legal_basis:
        paragraphs.append(f"依据：{record.legal_basis}")
    paragraphs.append(
        "以上笔录经当事人核对无误。本文书经执法人员电子签名、执法机关加盖电子印章后生效。"
    )
    return render_form(
        Form(
            title=record.title,
            number=record.record_number,
            issued_on=record.issued_on,
            heading=record.agency,
            rows=rows,
            paragraphs=paragraphs,
            signature_lines=(
                f"{OFFICER_KEYWORDS[0]}：",
                f"{OFFICER_KEYWORDS[1]}：",
                f"{PARTY_KEYWORD}：",
                f"{AGENCY_KEYWORD}：",
                f"日期：{chinese_date(record.issued_on)}",
            ),
        ),
        ctx,
    )
