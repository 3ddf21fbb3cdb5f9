"""Invitations: a person who belongs to another organization joins this one only by accepting,
signed in with their own login (see the identity model in ``app.services.tenancy``).

Until then the membership rows exist unconfirmed and give no access; declining deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import Membership, Organization, Role, UserAccount
from app.services import audit


@dataclass(frozen=True)
class Invitation:
    organization: Organization
    roles: list[Role]


def _pending(
    session: Session, account: UserAccount, organization_id: str | None = None
) -> list[Membership]:
    query = select(Membership).where(
        Membership.person_id == account.person_id, col(Membership.confirmed_at).is_(None)
    )
    if organization_id is not None:
        query = query.where(Membership.organization_id == organization_id)
    return list(session.exec(query).all())


def pending_invitations(session: Session, account: UserAccount) -> list[Invitation]:
    """The organizations waiting for this person's answer, with the roles they offer."""
    by_org: dict[str, list[Role]] = {}
    for row in _pending(session, account):
        by_org.setdefault(row.organization_id, []).append(Role(row.role))
    if not by_org:
        return []
    orgs = session.exec(select(Organization).where(col(Organization.id).in_(list(by_org)))).all()
    return [Invitation(organization=o, roles=sorted(by_org[o.id])) for o in orgs]


def answer_invitation(
    session: Session, account: UserAccount, organization_id: str, *, accept: bool
) -> None:
    """Accept (confirm every pending role) or decline (delete them); audited either way."""
    rows = _pending(session, account, organization_id)
    if not rows:
        raise NotFound("no pending invitation from this organization")
    now = datetime.now(UTC)
    for row in rows:
        if accept:
            row.confirmed_at = now
            session.add(row)
        else:
            session.delete(row)
    audit.record(
        session,
        actor=f"user:{account.id}",
        action="member.accept" if accept else "member.decline",
        target_type="person",
        target_id=account.person_id,
        organization_id=organization_id,
        details={"roles": sorted(r.role for r in rows)},
    )
