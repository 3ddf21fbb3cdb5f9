"""An organization's own business seal kinds and their seals."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.models_policy import CustomSealKind
from app.security import Scope
from app.services import seal_kinds
from pki.keys import KeyAlgorithm

router = APIRouter(prefix="/api/v1/organizations/{organization_id}/seal-kinds", tags=["seals"])


class SealKindCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=2, max_length=12, examples=["医保结算专用章"])
    label_en: str | None = Field(default=None, max_length=60)


class SealKindPublic(BaseModel):
    id: str
    organization_id: str
    label: str
    label_en: str | None
    created_at: datetime


class KindSealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requires_approval: bool = False
    lifetime_days: int | None = Field(default=None, ge=1, le=3650)
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    dpi: int = Field(default=600, ge=150, le=1200)


class KindSealPublic(BaseModel):
    id: str
    code: str
    kind: str
    kind_label: str
    name: str
    status: str
    certificate_id: str


def _kind(row: CustomSealKind) -> SealKindPublic:
    return SealKindPublic.model_validate(row, from_attributes=True)


@router.post("", dependencies=needs(Scope.seals_write), status_code=status.HTTP_201_CREATED)
def add_kind(
    organization_id: str, body: SealKindCreate, session: SessionDep, principal: CurrentPrincipal
) -> SealKindPublic:
    """Name a business seal kind (2-12 Chinese characters ending in 章)."""
    return _kind(
        seal_kinds.add_kind(
            session,
            principal=principal,
            organization_id=organization_id,
            label=body.label,
            label_en=body.label_en,
        )
    )


@router.get("", dependencies=needs(Scope.seals_read))
def list_kinds(
    organization_id: str, session: SessionDep, principal: CurrentPrincipal
) -> list[SealKindPublic]:
    rows = seal_kinds.list_kinds(session, principal=principal, organization_id=organization_id)
    return [_kind(r) for r in rows]


@router.post(
    "/{kind_id}/seals", dependencies=needs(Scope.seals_write), status_code=status.HTTP_201_CREATED
)
def create_seal(
    organization_id: str,
    kind_id: str,
    body: KindSealCreate,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> KindSealPublic:
    """A pending seal of this kind, its name as the inscription in the standard layout
    (activate it like any seal)."""
    seal, kind = seal_kinds.create_seal_of_kind(
        session,
        services,
        principal=principal,
        organization_id=organization_id,
        kind_id=kind_id,
        requires_approval=body.requires_approval,
        lifetime_days=body.lifetime_days,
        key_algorithm=body.key_algorithm,
        dpi=body.dpi,
    )
    return KindSealPublic(
        id=seal.id,
        code=seal.code,
        kind=seal.kind.value,
        kind_label=kind.label,
        name=seal.name,
        status=seal.status.value,
        certificate_id=seal.certificate_id,
    )
