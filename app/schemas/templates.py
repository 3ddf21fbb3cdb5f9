"""Shapes of template data, generation requests and bulk jobs at the HTTP edge."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.schemas.policy_templates import EnforcementRecordIn, SettlementFormIn
from app.schemas.signing import PlacementIn
from seals.signing import DocMdpPermission, PadesLevel
from seals.templates import BidGuarantee, BusinessLicence, Party, TwoPartyContract

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Number = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[^\s]+$"),
]
Uscc = Annotated[str, StringConstraints(strip_whitespace=True, min_length=18, max_length=18)]
Amount = Annotated[Decimal, Field(gt=0, le=Decimal("9999999999999999.99"), decimal_places=2)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(_Strict):
    name: Text
    uscc: Uscc | None = None
    address: Text | None = None
    representative: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None

    def to_domain(self) -> Party:
        return Party(
            name=self.name,
            uscc=self.uscc,
            address=self.address,
            representative=self.representative,
        )


class BidGuaranteeIn(_Strict):
    """电子投标保函. ``guarantor`` may be left out: it is the organization whose seal is used."""

    guarantee_number: Number
    guarantor: PartyIn | None = None
    applicant: PartyIn = Field(description="the bidder (投标人)")
    beneficiary: PartyIn = Field(description="the tenderer (招标人)")
    project_name: Text
    project_code: Number | None = None
    amount: Amount = Field(description="yuan, at most two decimals, e.g. 500000.00")
    issued_on: date
    valid_days: int = Field(ge=1, le=3660)

    def to_domain(self, *, guarantor: Party) -> BidGuarantee:
        return BidGuarantee(
            guarantee_number=self.guarantee_number,
            guarantor=guarantor,
            applicant=self.applicant.to_domain(),
            beneficiary=self.beneficiary.to_domain(),
            project_name=self.project_name,
            project_code=self.project_code,
            amount=self.amount,
            issued_on=self.issued_on,
            valid_days=self.valid_days,
        )


class BusinessLicenceIn(_Strict):
    """营业执照 (or an administrative licence certificate with ``title`` and ``holder_label``)."""

    name: Text
    uscc: Uscc
    entity_type: Text
    legal_representative: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    address: Text
    business_scope: LongText
    registration_authority: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    established_on: date
    issued_on: date
    registered_capital: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = (
        None
    )
    operating_period: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    title: Annotated[str, StringConstraints(min_length=2, max_length=20)] = "营业执照"
    holder_label: Annotated[str, StringConstraints(min_length=2, max_length=10)] = "法定代表人"

    def to_domain(self) -> BusinessLicence:
        return BusinessLicence(**self.model_dump())


class TwoPartyContractIn(_Strict):
    title: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    contract_number: Number
    party_a: PartyIn = Field(description="甲方")
    party_b: PartyIn = Field(description="乙方")
    clauses: list[Annotated[str, StringConstraints(min_length=1, max_length=5000)]] = Field(
        min_length=1, max_length=200
    )
    signed_on: date
    amount: Amount | None = None
    signed_at: Text | None = None

    def to_domain(self) -> TwoPartyContract:
        return TwoPartyContract(
            title=self.title,
            contract_number=self.contract_number,
            party_a=self.party_a.to_domain(),
            party_b=self.party_b.to_domain(),
            clauses=tuple(self.clauses),
            signed_on=self.signed_on,
            amount=self.amount,
            signed_at=self.signed_at,
        )


DATA_MODELS: dict[str, type[BaseModel]] = {
    "bid-guarantee": BidGuaranteeIn,
    "business-licence": BusinessLicenceIn,
    "two-party-contract": TwoPartyContractIn,
    "enforcement-record": EnforcementRecordIn,
    "medical-settlement": SettlementFormIn,
}


class SealOptionsIn(_Strict):
    """How the generated document is sealed; left out: the template's defaults."""

    seal_id: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    placement: PlacementIn | None = None
    level: PadesLevel = PadesLevel.B_LT
    certify: DocMdpPermission | None = Field(
        default=None, description="default: the template's (the licence certifies)"
    )
    reason: Annotated[str, StringConstraints(max_length=200)] | None = None
    location: Annotated[str, StringConstraints(max_length=200)] | None = None


class GenerateIn(SealOptionsIn):
    data: dict[str, Any] = Field(description="the template's data (see GET /api/v1/templates)")
    pin: Annotated[str, StringConstraints(max_length=64)] | None = None


class TemplatePublic(BaseModel):
    name: str
    title: str
    description: str
    document_type: str
    unique_reference: str | None = Field(
        description="the data field whose value must be unique per issuing organization"
    )
    default_placement: dict[str, Any]
    default_certify: DocMdpPermission | None
    data_schema: dict[str, Any]


class JobIn(SealOptionsIn):
    template: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    records: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class JobPublic(BaseModel):
    id: str
    template: str
    seal_id: str
    status: str
    total: int
    pending: int
    running: int
    done: int
    failed: int
    created_at: datetime
    finished_at: datetime | None
    records_url: str


class JobRecordPublic(BaseModel):
    position: int
    status: str
    reference: str | None
    document_id: str | None
    document_url: str | None
    problem: dict[str, Any] | None
    attempts: int
    finished_at: datetime | None
