"""The electronic business licence on the wire: asked for with a registration, linked in
its answer and in a seal's public status."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from seals.signing import PadesLevel


class LicenceIn(BaseModel):
    """The licence's particulars; its holder (name, credit code, legal representative) is
    the registration's own. ``name``/``uscc`` may be repeated and must then agree."""

    model_config = ConfigDict(extra="forbid")

    seal_id: str = Field(
        min_length=1, max_length=32, description="the registration authority's official seal"
    )
    entity_type: str = Field(min_length=1, max_length=100, examples=["有限责任公司"])
    address: str = Field(min_length=1, max_length=300)
    business_scope: str = Field(min_length=1, max_length=2000)
    established_on: date
    issued_on: date
    registration_authority: str | None = Field(
        default=None, max_length=100, description="default: the sealing authority's name"
    )
    registered_capital: str | None = Field(default=None, min_length=1, max_length=100)
    operating_period: str | None = Field(default=None, min_length=1, max_length=100)
    level: PadesLevel = PadesLevel.B_LT
    name: str | None = Field(default=None, max_length=200)
    uscc: str | None = Field(default=None, max_length=18)


class LicencePublic(BaseModel):
    document_id: str
    document_url: str = Field(description="the sealed PDF (for the registration authority)")
    verify_url: str = Field(description="public verification page (the licence's QR code)")
    seal_id: str
    seal_code: str
    authority: str


class LicenceReference(BaseModel):
    """What the public status of an enterprise's seal says about its licence."""

    document_id: str
    verify_url: str
    authority: str
