"""Which seals the sign page offers: only those the signed-in person can use now (an
unrevoked grant in its time window with uses left, or their own personal seal), and for
the 申请用印 form those of them that need an approval for each document."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from seals.authorization import Caller, CallerKind, SealFacts
from seals.models import SealGrant


@dataclass(frozen=True)
class Choices:
    usable: list[SealFacts]
    """Offered for signing: the policies would let this caller use them (approval aside)."""
    to_request: list[SealFacts]
    """Usable seals that need an approved request for each document."""
    without_grant: list[SealFacts]
    """Active seals of the organization this caller holds no usable grant for."""


def _grant_usable(grant: SealGrant, now: datetime) -> bool:
    if grant.not_before is not None and now < grant.not_before:
        return False
    if grant.not_after is not None and now >= grant.not_after:
        return False
    return grant.max_uses is None or grant.uses < grant.max_uses


def choices(
    session: Session, caller: Caller, seals: Sequence[SealFacts], *, now: datetime | None = None
) -> Choices:
    now = now or datetime.now(UTC)
    active = [s for s in seals if s.status.value == "active"]
    ids = [s.id for s in active]
    granted: set[str] = set()
    if ids:
        grants = session.exec(
            select(SealGrant).where(
                col(SealGrant.seal_id).in_(ids),
                SealGrant.grantee_kind == caller.kind.value,
                SealGrant.grantee_id == caller.id,
                col(SealGrant.revoked_at).is_(None),
            )
        ).all()
        granted = {g.seal_id for g in grants if _grant_usable(g, now)}
    owner = caller.kind is CallerKind.PERSON

    def usable(seal: SealFacts) -> bool:
        own = owner and seal.kind.value == "personal" and seal.person_id == caller.id
        return seal.id in granted or own

    ok = [s for s in active if usable(s)]
    return Choices(
        usable=ok,
        to_request=[s for s in ok if s.requires_approval],
        without_grant=[s for s in active if not usable(s)],
    )
