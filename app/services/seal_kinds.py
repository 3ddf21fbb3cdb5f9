"""Business seal kinds an organization names itself (人事专用章, 医保结算专用章, 执法专用章 …).

A seal of such a kind is a `SealKind.BUSINESS` seal rendered in the contract seal's layout
with the kind's name as its inscription, linked to the kind so that the registry, the
public status and verification reports show it under its own name, not as 合同专用章.
"""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from app.errors import Conflict, InvalidInput, NotFound
from app.models_policy import CustomSealKind, SealCustomKind
from app.security import Principal, Scope
from app.services import audit
from app.services.seals import create_seal
from app.services.tenancy import require, visible_organization
from app.wiring import Services
from pki.keys import KeyAlgorithm
from seals.authorization import SealFacts
from seals.kinds import SealKind, kind_spec

_LABEL = re.compile(r"^[\u4e00-\u9fff（）()]{2,12}$")


def add_kind(
    session: Session,
    *,
    principal: Principal,
    organization_id: str,
    label: str,
    label_en: str | None,
) -> CustomSealKind:
    org = visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_write)
    label = label.strip()
    if not _LABEL.fullmatch(label) or not label.endswith("章"):
        raise InvalidInput(
            "a seal kind's name is 2-12 Chinese characters ending in 章 (e.g. 人事专用章)",
            errors=[{"loc": ["body", "label"], "msg": "not a seal kind name"}],
        )
    standard = {kind_spec(k).label_zh for k in SealKind}
    if label in standard:
        raise Conflict(f"{label} is a standard seal kind; create it as such")
    if session.exec(
        select(CustomSealKind.id).where(
            CustomSealKind.organization_id == org.id, CustomSealKind.label == label
        )
    ).first():
        raise Conflict(f"{org.name} already has the seal kind {label}")
    kind = CustomSealKind(
        organization_id=org.id, label=label, label_en=label_en, created_by=principal.actor
    )
    session.add(kind)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="seal_kind.create",
        target_type="seal_kind",
        target_id=kind.id,
        organization_id=org.id,
        details={"label": label, "label_en": label_en},
    )
    return kind


def list_kinds(
    session: Session, *, principal: Principal, organization_id: str
) -> list[CustomSealKind]:
    org = visible_organization(session, principal, organization_id)
    return list(
        session.exec(
            select(CustomSealKind)
            .where(CustomSealKind.organization_id == org.id)
            .order_by(col(CustomSealKind.created_at))
        ).all()
    )


def create_seal_of_kind(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    kind_id: str,
    requires_approval: bool,
    lifetime_days: int | None,
    key_algorithm: KeyAlgorithm,
    dpi: int,
) -> tuple[SealFacts, CustomSealKind]:
    """A new (pending) business seal of the organization's own kind."""
    org = visible_organization(session, principal, organization_id)
    kind = session.get(CustomSealKind, kind_id)
    if kind is None or kind.organization_id != org.id:
        raise NotFound(f"seal kind {kind_id} not found")
    seal = create_seal(
        session,
        services,
        principal=principal,
        organization_id=org.id,
        kind=SealKind.BUSINESS,
        name=f"{org.name}{kind.label}",
        person_id=None,
        person_name=None,
        inscription=kind.label,
        requires_approval=requires_approval,
        print_code=True,
        lifetime_days=lifetime_days,
        key_algorithm=key_algorithm,
        dpi=dpi,
    )
    session.add(SealCustomKind(seal_id=seal.id, custom_kind_id=kind.id))
    session.flush()
    return seal, kind


def label_of(session: Session, seal_id: str) -> str | None:
    """The custom kind's name of a business seal (None for every other seal)."""
    return session.exec(
        select(CustomSealKind.label)
        .join(SealCustomKind, col(SealCustomKind.custom_kind_id) == col(CustomSealKind.id))
        .where(SealCustomKind.seal_id == seal_id)
    ).first()
