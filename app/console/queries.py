"""Read-only look-ups the pages need beyond the service functions: counts, names for ids, the
audit search and the console's uploaded documents. Each is scoped to what the principal may
see, the same way the service functions scope theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.errors import NotFound
from app.models import ApiClient, AuditEvent, Organization, Person, StoredDocument, UserAccount
from app.security import Principal, Scope
from app.services.tenancy import require, visible_organization
from seals.authorization import Caller, SealFacts
from seals.models import Seal, SealUsageRequest
from seals.report_text import LOCAL_TZ

KNOWN_ACTIONS = (
    "account.login",
    "account.login_failed",
    "account.locked",
    "certificate.issue",
    "certificate.revoke",
    "client.create",
    "client.revoke",
    "member.add",
    "organization.create",
    "seal.create",
    "seal.activate",
    "seal.suspend",
    "seal.reactivate",
    "seal.revoke",
    "seal.rekey",
    "seal.grant",
    "seal.grant_revoke",
    "seal.usage_request",
    "seal.usage_approve",
    "seal.usage_reject",
    "seal.use",
    "trust_anchor.add",
    "trust_anchor.remove",
    "envelope.create",
    "envelope.send",
    "envelope.sign",
    "envelope.complete",
    "envelope.decline",
    "envelope.cancel",
    "envelope.expire",
)


def count_seals(session: Session, *, principal: Principal, organization_id: str) -> int:
    visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_read)
    return int(
        session.exec(
            select(func.count()).select_from(Seal).where(Seal.organization_id == organization_id)
        ).one()
    )


def seals_by_id(
    session: Session, *, principal: Principal, organization_id: str, ids: set[str]
) -> dict[str, Seal]:
    """Name and code for seals shown next to requests (only this organization's)."""
    visible_organization(session, principal, organization_id)
    if not ids:
        return {}
    rows = session.exec(
        select(Seal).where(col(Seal.id).in_(list(ids)), Seal.organization_id == organization_id)
    ).all()
    return {s.id: s for s in rows}


def names_of(session: Session, callers: set[Caller]) -> dict[str, str]:
    """Display names for callers as 'person:<id>' / 'client:<id>' strings."""
    person_ids = [c.id for c in callers if c.kind.value == "person"]
    client_ids = [c.id for c in callers if c.kind.value == "client"]
    names: dict[str, str] = {}
    if person_ids:
        for pid, name in session.exec(
            select(Person.id, Person.name).where(col(Person.id).in_(person_ids))
        ).all():
            names[f"person:{pid}"] = name
    if client_ids:
        for cid, name in session.exec(
            select(ApiClient.id, ApiClient.name).where(col(ApiClient.id).in_(client_ids))
        ).all():
            names[f"client:{cid}"] = name
    return names


def my_requests(
    session: Session,
    *,
    principal: Principal,
    organization_id: str,
    me: Caller,
    offset: int,
    limit: int,
) -> list[SealUsageRequest]:
    visible_organization(session, principal, organization_id)
    return list(
        session.exec(
            select(SealUsageRequest)
            .where(
                SealUsageRequest.organization_id == organization_id,
                SealUsageRequest.requester_kind == me.kind.value,
                SealUsageRequest.requester_id == me.id,
            )
            .order_by(col(SealUsageRequest.created_at).desc(), col(SealUsageRequest.id))
            .offset(offset)
            .limit(limit)
        ).all()
    )


def requests_for_document(
    session: Session,
    *,
    principal: Principal,
    organization_id: str,
    me: Caller,
    seal_ids: set[str],
    document_sha256: str,
) -> list[SealUsageRequest]:
    """The caller's usage requests for these seals and exactly this document, newest first."""
    visible_organization(session, principal, organization_id)
    if not seal_ids:
        return []
    return list(
        session.exec(
            select(SealUsageRequest)
            .where(
                SealUsageRequest.organization_id == organization_id,
                SealUsageRequest.requester_kind == me.kind.value,
                SealUsageRequest.requester_id == me.id,
                SealUsageRequest.document_sha256 == document_sha256,
                col(SealUsageRequest.seal_id).in_(list(seal_ids)),
            )
            .order_by(col(SealUsageRequest.created_at).desc(), col(SealUsageRequest.id))
            .limit(50)
        ).all()
    )


def organization_names(session: Session, ids: set[str]) -> dict[str, str]:
    """Names of organizations the caller already knows the ids of (an envelope's parties)."""
    if not ids:
        return {}
    rows = session.exec(
        select(Organization.id, Organization.name).where(col(Organization.id).in_(list(ids)))
    ).all()
    return dict(rows)


def usable_seals(seals: list[SealFacts]) -> list[SealFacts]:
    return [s for s in seals if s.status.value == "active"]


# --- documents uploaded through the console -------------------------------------------------


def recent_documents(
    session: Session, *, principal: Principal, organization_id: str, limit: int = 10
) -> list[StoredDocument]:
    visible_organization(session, principal, organization_id)
    return list(
        session.exec(
            select(StoredDocument)
            .where(StoredDocument.organization_id == organization_id)
            .order_by(col(StoredDocument.created_at).desc(), col(StoredDocument.id))
            .limit(limit)
        ).all()
    )


def documents_by_sha(
    session: Session, *, organization_id: str, digests: set[str]
) -> dict[str, StoredDocument]:
    if not digests:
        return {}
    rows = session.exec(
        select(StoredDocument).where(
            StoredDocument.organization_id == organization_id,
            col(StoredDocument.sha256).in_(list(digests)),
        )
    ).all()
    return {d.sha256: d for d in rows}


# --- audit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    target: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _local_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def resolve_actor(session: Session, text: str) -> str:
    """'user:<id>' / 'client:<id>' as given, or a username turned into 'user:<id>'."""
    text = text.strip()
    if ":" in text:
        return text
    account_id = session.exec(select(UserAccount.id).where(UserAccount.username == text)).first()
    return f"user:{account_id}" if account_id else f"user:{text}"


def resolve_target(session: Session, text: str) -> str:
    """A target id as given, or a seal code turned into the seal's id."""
    text = text.strip()
    seal_id = session.exec(select(Seal.id).where(Seal.code == text)).first()
    return seal_id or text


def search_audit(
    session: Session, *, principal: Principal, where: AuditFilter, offset: int, limit: int
) -> list[AuditEvent]:
    """Newest first; a member sees their organization's events, the platform every event."""
    require(principal, Scope.audit_read)
    query = select(AuditEvent)
    if not principal.is_platform:
        if principal.organization_id is None:
            raise NotFound("not found")
        query = query.where(AuditEvent.organization_id == principal.organization_id)
    elif principal.organization_id is not None:
        query = query.where(AuditEvent.organization_id == principal.organization_id)
    if where.actor:
        query = query.where(AuditEvent.actor == resolve_actor(session, where.actor))
    if where.target:
        query = query.where(AuditEvent.target_id == resolve_target(session, where.target))
    if where.action:
        query = query.where(AuditEvent.action == where.action)
    if where.date_from:
        query = query.where(col(AuditEvent.occurred_at) >= _local_day_start(where.date_from))
    if where.date_to:
        end = _local_day_start(where.date_to + timedelta(days=1))
        query = query.where(col(AuditEvent.occurred_at) < end)
    return list(
        session.exec(query.order_by(col(AuditEvent.seq).desc()).offset(offset).limit(limit)).all()
    )


def actor_names(session: Session, actors: set[str]) -> dict[str, str]:
    """Usernames and client names for the actors on one audit page."""
    users = [a.split(":", 1)[1] for a in actors if a.startswith("user:")]
    clients = [a.split(":", 1)[1] for a in actors if a.startswith("client:")]
    names: dict[str, str] = {}
    if users:
        for uid, username in session.exec(
            select(UserAccount.id, UserAccount.username).where(col(UserAccount.id).in_(users))
        ).all():
            names[f"user:{uid}"] = username
    if clients:
        for cid, name in session.exec(
            select(ApiClient.id, ApiClient.name).where(col(ApiClient.id).in_(clients))
        ).all():
            names[f"client:{cid}"] = name
    return names
