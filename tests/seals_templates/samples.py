"""Sample data of the scenario documents (SCENARIOS.md identifiers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from seals.templates import BidGuarantee, BusinessLicence, Party, TwoPartyContract

BANK = "中国某银行股份有限公司杭州分行"


def guarantee(**changes: Any) -> BidGuarantee:
    fields: dict[str, Any] = {
        "guarantee_number": "BH-2026-000123",
        "guarantor": Party(name=BANK, address="杭州市上城区某路1号"),
        "applicant": Party(name="杭州青禾科技有限公司", uscc="91330106MA2B3C4D5D"),
        "beneficiary": Party(name="杭州市某建设管理中心", uscc="123301000024938516"),
        "project_name": "杭州市某道路改造工程施工",
        "project_code": "HZ-2026-0042",
        "amount": Decimal("500000.00"),
        "issued_on": date(2026, 3, 1),
        "valid_days": 90,
        **changes,
    }
    return BidGuarantee(**fields)


def licence(**changes: Any) -> BusinessLicence:
    fields: dict[str, Any] = {
        "name": "杭州青禾科技有限公司",
        "uscc": "91330106MA2B3C4D5D",
        "entity_type": "有限责任公司（自然人投资或控股）",
        "legal_representative": "张伟",
        "address": "浙江省杭州市西湖区文三路100号5层501室",
        "business_scope": "一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；"
        "软件开发（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）。",
        "registration_authority": "杭州市西湖区市场监督管理局",
        "established_on": date(2026, 3, 1),
        "issued_on": date(2026, 3, 1),
        "registered_capital": "壹佰万元整",
        "operating_period": "长期",
        **changes,
    }
    return BusinessLicence(**fields)


def contract(**changes: Any) -> TwoPartyContract:
    fields: dict[str, Any] = {
        "title": "政府采购合同",
        "contract_number": "ZC-2026-0007",
        "party_a": Party(name="杭州市某采购中心", uscc="123301000024938516"),
        "party_b": Party(
            name="深圳某建设有限公司", uscc="91440300MA5F6G7H8B", representative="王强"
        ),
        "clauses": ("乙方按照甲方要求提供货物及服务，质量符合国家标准。",) * 3,
        "signed_on": date(2026, 4, 1),
        "amount": Decimal("1680.32"),
        "signed_at": "杭州市",
        **changes,
    }
    return TwoPartyContract(**fields)


def licence_json(**changes: Any) -> dict[str, Any]:
    """A licence as the API takes it."""
    return {
        "name": "杭州青禾科技有限公司",
        "uscc": "91330106MA2B3C4D5D",
        "entity_type": "有限责任公司（自然人投资或控股）",
        "legal_representative": "张伟",
        "address": "浙江省杭州市西湖区文三路100号5层501室",
        "business_scope": "一般项目：技术服务、技术开发、软件开发。",
        "registration_authority": "杭州市西湖区市场监督管理局",
        "established_on": "2026-03-01",
        "issued_on": "2026-03-01",
        **changes,
    }


def guarantee_json(**changes: Any) -> dict[str, Any]:
    return {
        "guarantee_number": "BH-2026-000123",
        "applicant": {"name": "杭州青禾科技有限公司", "uscc": "91330106MA2B3C4D5D"},
        "beneficiary": {"name": "杭州市某建设管理中心"},
        "project_name": "杭州市某道路改造工程施工",
        "amount": "500000.00",
        "issued_on": "2026-03-01",
        "valid_days": 90,
        **changes,
    }
