"""The counterparty directory and envelope invitations."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.access import authenticated, needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.models_policy import EnvelopeInvitation
from app.security import Scope
from app.services import directory
from app.services.envelopes import READ_SCOPES

router = APIRouter(prefix="/api/v1", tags=["directory"])


class ListedSealPublic(BaseModel):
    id: str
    code: str
    kind: str
    kind_label: str
    name: str


class DirectoryEntryPublic(BaseModel):
    organization_id: str
    name: str
    uscc: str
    seals: list[ListedSealPublic] = Field(description="seals that accept envelope invitations")


class ListingPublic(BaseModel):
    seal_id: str
    listed: bool


class InvitationPublic(BaseModel):
    envelope_id: str
    participant_id: str
    organization_id: str
    status: str
    invited_by: str
    invited_at: datetime
    decided_at: datetime | None


class InvitationDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


def _invitation(row: EnvelopeInvitation) -> InvitationPublic:
    return InvitationPublic.model_validate(row, from_attributes=True)


@router.get(
    "/directory/organizations",
    dependencies=authenticated("the directory shows only what organizations chose to list"),
)
def search_directory(
    session: SessionDep,
    principal: CurrentPrincipal,
    uscc: str | None = None,
    name: str | None = None,
) -> list[DirectoryEntryPublic]:
    """Organizations by exact unified social credit code, or by a name fragment, with the
    seals they list as accepting envelope invitations."""
    return [
        DirectoryEntryPublic(
            organization_id=e.organization_id,
            name=e.name,
            uscc=e.uscc,
            seals=[ListedSealPublic(**s.__dict__) for s in e.seals],
        )
        for e in directory.search(session, uscc=uscc, name=name)
    ]


@router.put("/seals/{seal_id}/directory-listing", dependencies=needs(Scope.seals_write))
def list_seal(
    seal_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> ListingPublic:
    """List an active organization seal: others may find it and invite it to envelopes."""
    seal = directory.list_seal(session, services, principal=principal, seal_id=seal_id)
    return ListingPublic(seal_id=seal.id, listed=True)


@router.delete("/seals/{seal_id}/directory-listing", dependencies=needs(Scope.seals_write))
def unlist_seal(
    seal_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> ListingPublic:
    directory.unlist_seal(session, services, principal=principal, seal_id=seal_id)
    return ListingPublic(seal_id=seal_id, listed=False)


@router.get("/invitations", dependencies=needs(*READ_SCOPES))
def pending_invitations(session: SessionDep, principal: CurrentPrincipal) -> list[InvitationPublic]:
    """Envelope invitations addressed to the caller's organization, not yet answered."""
    return [_invitation(r) for r in directory.pending(session, principal=principal)]


@router.post(
    "/envelopes/{envelope_id}/participants/{participant_id}/invitation/accept",
    dependencies=needs(Scope.envelopes_write),
    status_code=status.HTTP_200_OK,
)
def accept_invitation(
    envelope_id: str,
    participant_id: str,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> InvitationPublic:
    return _invitation(
        directory.decide(
            session,
            services,
            principal=principal,
            envelope_id=envelope_id,
            participant_id=participant_id,
            accept=True,
            reason=None,
        )
    )


@router.post(
    "/envelopes/{envelope_id}/participants/{participant_id}/invitation/decline",
    dependencies=needs(Scope.envelopes_write),
)
def decline_invitation(
    envelope_id: str,
    participant_id: str,
    body: InvitationDecision,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> InvitationPublic:
    """Decline: the envelope ends, declined, as when the participant declines to seal."""
    return _invitation(
        directory.decide(
            session,
            services,
            principal=principal,
            envelope_id=envelope_id,
            participant_id=participant_id,
            accept=False,
            reason=body.reason,
        )
    )
