"""Built-in scenario documents: pure functions from validated data to PDF bytes, set in an
embedded CJK font, each with a QR code to the public verification page of the document.

A template is data: its name, what it is, how to render it, which number must be unique for
the issuing organization (a guarantee number), where the seal goes by default and whether the
seal certifies the document. The service (`app.services.generation`) chooses the document id first,
so the QR code can carry the verification link of the very document it is printed on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seals.placement import KeywordPlacement, Placement
from seals.signing import DocMdpPermission
from seals.templates import contract, enforcement, guarantee, licence, settlement
from seals.templates._base import (
    RenderContext,
    TemplateDataError,
    document_font,
)
from seals.templates.contract import TwoPartyContract, clause_number
from seals.templates.guarantee import BidGuarantee
from seals.templates.licence import BusinessLicence
from seals.templates.parties import Party

__all__ = [
    "TEMPLATES",
    "BidGuarantee",
    "BusinessLicence",
    "Party",
    "RenderContext",
    "TemplateDataError",
    "TemplateSpec",
    "TwoPartyContract",
    "clause_number",
    "document_font",
    "template",
]


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    title: str
    description: str
    data_type: type[Any]
    render: Callable[[Any, RenderContext], bytes]
    reference: Callable[[Any], str | None]
    """The document's own number (guarantee number, contract number), None when it has none."""
    reference_label: str | None
    unique_reference: bool
    """The number is unique per issuing organization (the service enforces it)."""
    default_placement: Placement
    default_certify: DocMdpPermission | None = None

    def render_checked(self, data: object, ctx: RenderContext) -> bytes:
        if not isinstance(data, self.data_type):
            raise TemplateDataError(
                f"template {self.name} renders {self.data_type.__name__}, not {type(data).__name__}"
            )
        return self.render(data, ctx)


TEMPLATES: dict[str, TemplateSpec] = {
    spec.name: spec
    for spec in (
        TemplateSpec(
            name="bid-guarantee",
            title="投标保函",
            description="Electronic letter of guarantee for a bid: the guarantor (a bank) "
            "guarantees the tenderer up to an amount (in figures and in Chinese capital "
            "numerals) for a validity period; sealed by the guarantor's contract seal.",
            data_type=BidGuarantee,
            render=guarantee.render,
            reference=guarantee.reference,
            reference_label="guarantee_number",
            unique_reference=True,
            default_placement=KeywordPlacement(
                keyword=guarantee.SIGNATURE_KEYWORD.rstrip("："), offset_x_mm=25.0
            ),
        ),
        TemplateSpec(
            name="business-licence",
            title="营业执照",
            description="Electronic business licence (or another administrative licence "
            "certificate with the same layout), sealed by the registration authority's "
            "official seal as a certification signature (no changes allowed).",
            data_type=BusinessLicence,
            render=licence.render,
            reference=licence.reference,
            reference_label=None,
            unique_reference=False,
            default_placement=licence.SEAL_PLACEMENT,
            default_certify=DocMdpPermission.NO_CHANGES,
        ),
        TemplateSpec(
            name="two-party-contract",
            title="合同",
            description="Contract between 甲方 and 乙方 with numbered clauses; the signature "
            "blocks carry the keywords 甲方（盖章） and 乙方（盖章） for the parties' seals.",
            data_type=TwoPartyContract,
            render=contract.render,
            reference=contract.reference,
            reference_label="contract_number",
            unique_reference=False,
            default_placement=KeywordPlacement(keyword=contract.PARTY_A_KEYWORD.rstrip("：")),
        ),
        TemplateSpec(
            name="enforcement-record",
            title="行政执法文书",
            description="Administrative law-enforcement record (现场检查笔录 or 行政处罚决定书): "
            "the agency's official seal at 执法机关（印章） (and as a riding seal across the "
            "pages), the two officers' personal signatures with PIN at 执法人员一/二（签名）; "
            "the record number is unique per agency.",
            data_type=enforcement.EnforcementRecord,
            render=enforcement.render,
            reference=enforcement.reference,
            reference_label="record_number",
            unique_reference=True,
            default_placement=enforcement.SEAL_PLACEMENT,
        ),
        TemplateSpec(
            name="medical-settlement",
            title="医保结算单",
            description="Medical-insurance settlement form (医疗保障基金结算清单): costs by "
            "category, fund and personal payment; sealed by the hospital's settlement seal "
            "(医保结算专用章) at 医疗机构（盖章）; the settlement number is unique per hospital.",
            data_type=settlement.SettlementForm,
            render=settlement.render,
            reference=settlement.reference,
            reference_label="settlement_number",
            unique_reference=True,
            default_placement=settlement.SEAL_PLACEMENT,
        ),
    )
}


def template(name: str) -> TemplateSpec:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise TemplateDataError(
            f"no template named {name!r}; templates: {', '.join(sorted(TEMPLATES))}"
        ) from None
