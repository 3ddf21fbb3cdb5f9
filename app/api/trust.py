"""Recognised foreign CAs (trust anchors for verification), managed by platform admins."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.access import authenticated, needs
from app.deps import CurrentPrincipal, SessionDep
from app.security import Scope
from app.services import trust_anchors
from pki.models import TrustAnchorRecord

router = APIRouter(prefix="/api/v1/trust-anchors", tags=["trust anchors"])


class TrustAnchorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200, examples=["某省电子认证中心 根CA"])
    certificate_pem: str = Field(min_length=1, max_length=50_000)


class TrustAnchorPublic(BaseModel):
    id: str
    label: str
    subject: str
    fingerprint_sha256: str
    not_after: datetime
    created_at: datetime
    kind: Literal["ca", "pinned_signer"] = Field(
        description="a CA, or a self-signed signer certificate trusted directly"
    )


def _public(record: TrustAnchorRecord) -> TrustAnchorPublic:
    return TrustAnchorPublic(
        id=record.id,
        label=record.label,
        subject=record.subject,
        fingerprint_sha256=record.fingerprint_sha256,
        not_after=record.not_after,
        created_at=record.created_at,
        kind="ca" if trust_anchors.anchor_kind(record.der) == "ca" else "pinned_signer",
    )


@router.post("", dependencies=needs(Scope.platform), status_code=status.HTTP_201_CREATED)
def add_trust_anchor(
    body: TrustAnchorCreate, session: SessionDep, principal: CurrentPrincipal
) -> TrustAnchorPublic:
    record = trust_anchors.add_anchor(
        session, principal=principal, label=body.label, certificate=body.certificate_pem.encode()
    )
    return _public(record)


@router.get(
    "", dependencies=authenticated("trust anchors are public certificates every verifier uses")
)
def list_trust_anchors(session: SessionDep, principal: CurrentPrincipal) -> list[TrustAnchorPublic]:
    return [_public(r) for r in trust_anchors.list_anchors(session)]


@router.delete(
    "/{anchor_id}", dependencies=needs(Scope.platform), status_code=status.HTTP_204_NO_CONTENT
)
def remove_trust_anchor(
    anchor_id: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    trust_anchors.remove_anchor(session, principal=principal, anchor_id=anchor_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
