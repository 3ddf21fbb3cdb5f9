"""Shapes of organizations, members and API clients on the wire."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.models import OrganizationKind, Role


class OrganizationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["杭州青禾科技有限公司"])
    kind: OrganizationKind = OrganizationKind.enterprise
    uscc: str = Field(
        min_length=18,
        max_length=18,
        description="unified social credit code (GB 32100-2015)",
        examples=["91330106MA2B3C4D5D"],
    )
    legal_representative: str | None = Field(default=None, max_length=100, examples=["张伟"])


class OrganizationPublic(BaseModel):
    id: str
    name: str
    kind: OrganizationKind
    uscc: str
    legal_representative: str | None
    created_at: datetime


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    resident_id: str | None = Field(default=None, min_length=18, max_length=18)
    roles: list[Role] = Field(min_length=1)
    username: str | None = Field(default=None, min_length=3, max_length=100)
    password: str | None = Field(default=None, min_length=12, max_length=200)


class MemberPublic(BaseModel):
    person_id: str
    name: str
    resident_id: str | None = Field(description="masked")
    roles: list[Role]
    username: str | None
    confirmed: bool = Field(
        default=True,
        description="false while the person has not accepted this organization's invitation",
    )


class ApiClientCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)


class ApiClientPublic(BaseModel):
    id: str
    organization_id: str | None
    name: str
    key_prefix: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ApiClientWithKey(ApiClientPublic):
    api_key: str = Field(description="shown once; only its hash is kept")


class Page(BaseModel):
    offset: int
    limit: int
