"""The counterparty directory: organizations found by exact credit code or by name, with the
seals they list as accepting envelope invitations; envelopes invite a party by credit code,
and the invited organization accepts or declines.

Only what an organization lists is shown (name, credit code, listed seals' codes and kinds):
the directory is how a stranger finds you, not a window into your registry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Organization
from app.models_policy import DirectoryListing, EnvelopeInvitation
from app.security import Principal, Scope
from app.services import audit
from app.services import envelopes as envelope_service
from app.services.seal_kinds import label_of
from app.services.seals import visible_seal
from app.services.tenancy import require
from app.wiring import Services
from pki.identifiers import validate_uscc
from seals import envelopes as domain
from seals.kinds import SealHolder, kind_spec
from seals.lifecycle import SealStatus
from seals.models import Seal

MAX_RESULTS = 20


def _listing_facts(
    session: Session, services: Services, principal: Principal, seal_id: str
) -> Seal:
    seal = visible_seal(session, services, principal, seal_id)
    require(principal, Scope.seals_write)
    if kind_spec(seal.kind).holder is not SealHolder.ORGANIZATION:
        raise InvalidInput("only organization seals are listed in the directory")
    return seal


def list_seal(session: Session, services: Services, *, principal: Principal, seal_id: str) -> Seal:
    seal = _listing_facts(session, services, principal, seal_id)
    if seal.status != SealStatus.ACTIVE.value:
        raise Conflict("only an active seal can accept invitations")
    if session.get(DirectoryListing, seal.id) is None:
        session.add(
            DirectoryListing(
                seal_id=seal.id, organization_id=seal.organization_id, listed_by=principal.actor
            )
        )
        audit.record(
            session,
            actor=principal.actor,
            action="directory.list",
            target_type="seal",
            target_id=seal.id,
            organization_id=seal.organization_id,
            details={"code": seal.code},
        )
    return seal


def unlist_seal(
    session: Session, services: Services, *, principal: Principal, seal_id: str
) -> None:
    seal = _listing_facts(session, services, principal, seal_id)
    listing = session.get(DirectoryListing, seal.id)
    if listing is not None:
        session.delete(listing)
        audit.record(
            session,
            actor=principal.actor,
            action="directory.unlist",
            target_type="seal",
            target_id=seal.id,
            organization_id=seal.organization_id,
            details={"code": seal.code},
        )


@dataclass(frozen=True)
class ListedSeal:
    id: str
    code: str
    kind: str
    kind_label: str
    name: str


@dataclass(frozen=True)
class Entry:
    organization_id: str
    name: str
    uscc: str
    seals: list[ListedSeal]


def search(session: Session, *, uscc: str | None, name: str | None) -> list[Entry]:
    """Exact credit code, or a name fragment of at least two characters; organizations with
    at least one listed active seal only."""
    query = select(Organization)
    if uscc:
        query = query.where(Organization.uscc == validate_uscc(uscc))
    elif name and len(name.strip()) >= 2:
        query = query.where(col(Organization.name).contains(name.strip()))
    else:
        raise InvalidInput("search by uscc (exact) or by name (at least two characters)")
    query = query.where(
        col(Organization.id).in_(select(DirectoryListing.organization_id))
    ).order_by(col(Organization.name))
    entries = []
    for org in session.exec(query.limit(MAX_RESULTS)).all():
        seals = session.exec(
            select(Seal)
            .join(DirectoryListing, col(DirectoryListing.seal_id) == col(Seal.id))
            .where(DirectoryListing.organization_id == org.id, Seal.status == "active")
            .order_by(col(Seal.kind))
        ).all()
        listed = [
            ListedSeal(
                id=s.id,
                code=s.code,
                kind=s.kind,
                kind_label=label_of(session, s.id) or kind_spec(s.kind).label_zh,
                name=s.name,
            )
            for s in seals
        ]
        if listed:
            entries.append(Entry(org.id, org.name, org.uscc, listed))
    return entries


def _listed_seal(session: Session, organization_id: str, seal_id: str | None, position: int) -> str:
    rows = session.exec(
        select(DirectoryListing.seal_id).where(DirectoryListing.organization_id == organization_id)
    ).all()
    if seal_id is not None and seal_id in rows:
        return seal_id
    if seal_id is None and len(rows) == 1:
        return rows[0]
    raise InvalidInput(
        f"participant {position}: give the seal_id of one of the organization's listed seals",
        participant=position,
    )


def resolve_invitations(session: Session, principal: Principal, raw: str) -> tuple[str, list[int]]:
    """Rewrite participants given by ``organization_uscc`` to organization and seal ids (the
    seal must be listed in the directory); the positions invited from other organizations."""
    try:
        spec = json.loads(raw)
        participants = spec["participants"]
        assert isinstance(participants, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        return raw, []  # the envelope's own validation reports it
    invited = []
    for position, part in enumerate(participants, start=1):
        if not isinstance(part, dict) or "organization_uscc" not in part:
            continue
        if "organization_id" in part:
            raise InvalidInput(
                f"participant {position}: give organization_id or organization_uscc, not both"
            )
        code = validate_uscc(str(part.pop("organization_uscc")))
        org = session.exec(select(Organization).where(Organization.uscc == code)).first()
        if org is None:
            raise NotFound(f"participant {position}: no organization with credit code {code}")
        part["organization_id"] = org.id
        part["seal_id"] = _listed_seal(session, org.id, part.get("seal_id"), position)
        if org.id != principal.organization_id:
            invited.append(position)
    return json.dumps(spec, ensure_ascii=False), invited


def invite(
    session: Session, *, principal: Principal, envelope_id: str, positions: list[int]
) -> None:
    rows = domain.participants(session, envelope_id)
    for part in rows:
        if part.position in positions:
            session.add(
                EnvelopeInvitation(
                    participant_id=part.id,
                    envelope_id=envelope_id,
                    organization_id=part.organization_id,
                    status="invited",
                    invited_by=principal.actor,
                )
            )
            audit.record(
                session,
                actor=principal.actor,
                action="envelope.invite",
                target_type="envelope",
                target_id=envelope_id,
                organization_id=part.organization_id,
                details={"participant_id": part.id, "position": part.position},
            )


def pending(session: Session, *, principal: Principal) -> list[EnvelopeInvitation]:
    if principal.organization_id is None:
        raise Forbidden("invitations are addressed to organizations")
    return list(
        session.exec(
            select(EnvelopeInvitation)
            .where(
                EnvelopeInvitation.organization_id == principal.organization_id,
                EnvelopeInvitation.status == "invited",
            )
            .order_by(col(EnvelopeInvitation.invited_at))
        ).all()
    )


def decide(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    envelope_id: str,
    participant_id: str,
    accept: bool,
    reason: str | None,
) -> EnvelopeInvitation:
    """Accept (the party will seal in its turn) or decline (the envelope ends, declined)."""
    envelope_service.get_envelope(session, services, principal=principal, envelope_id=envelope_id)
    invitation = session.get(EnvelopeInvitation, participant_id)
    if invitation is None or invitation.envelope_id != envelope_id:
        raise NotFound(f"no invitation for participant {participant_id}")
    if not principal.may_act_for(invitation.organization_id):
        raise Forbidden("only the invited organization answers its invitation")
    if invitation.status != "invited":
        raise Conflict(f"the invitation was already {invitation.status}")
    if not accept:
        envelope_service.decline_participant(
            session,
            services,
            principal=principal,
            envelope_id=envelope_id,
            participant_id=participant_id,
            reason=reason or "邀请被拒绝 / invitation declined",
        )
    invitation.status = "accepted" if accept else "declined"
    invitation.decided_by = principal.actor
    invitation.decided_at = datetime.now(UTC)
    session.add(invitation)
    audit.record(
        session,
        actor=principal.actor,
        action="envelope.invitation." + ("accept" if accept else "decline"),
        target_type="envelope",
        target_id=envelope_id,
        organization_id=invitation.organization_id,
        details={"participant_id": participant_id, "reason": reason},
    )
    return invitation
