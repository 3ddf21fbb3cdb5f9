"""Envelopes: one document sealed by several parties (possibly of different organizations),
in turn or in any order, every revision kept, the outcome reported by a signed webhook."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Header, Query, Request, Response, UploadFile
from pydantic import ValidationError
from sqlmodel import Session

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.errors import InvalidInput
from app.models import AuditEvent
from app.models_webhooks import WebhookAttempt, WebhookDelivery
from app.schemas.envelopes import (
    ENVELOPE_CREATE,
    CancelIn,
    DeclineIn,
    EnvelopePublic,
    EnvelopeSigned,
    EnvelopeSummary,
    ParticipantPublic,
    RevisionPublic,
    SignIn,
    TimelineEvent,
    WebhookAttemptPublic,
    WebhookDeliveryPublic,
)
from app.security import Scope
from app.services import directory, webhooks
from app.services import envelopes as service
from app.services.envelope_views import EnvelopeView
from app.services.envelopes import READ_SCOPES
from seals.envelopes import EnvelopeStatus, ParticipantStatus, Routing
from seals.models_envelopes import EnvelopeRevision

router = APIRouter(prefix="/api/v1/envelopes", tags=["envelopes"])

ENVELOPE_FIELD_DOC = (
    'JSON: {"title": "政府采购合同", "routing": "sequential" | "parallel", '
    '"participants": [{"organization_id": "...", "seal_id": "...", "placement": '
    '{"type": "keyword", "keyword": "乙方（盖章）"}, "level": "B-LT", "label": "乙方"}], '
    '"expires_at": "2026-12-31T00:00:00Z", "webhook": {"url": "https://...", '
    '"secret": "at least 16 characters"}, "send": true}. A party of another organization '
    'may be invited by credit code: {"organization_uscc": "91330106...", "seal_id": "..." '
    "(one of its seals listed in the directory; optional when it lists one)}"
)


def _revision(envelope_id: str, row: EnvelopeRevision) -> RevisionPublic:
    return RevisionPublic(
        number=row.number,
        sha256=row.sha256,
        size=row.size,
        participant_id=row.participant_id,
        created_at=row.created_at,
        download_url=f"/api/v1/envelopes/{envelope_id}/revisions/{row.number}",
    )


def _placement(raw: str) -> dict[str, Any]:
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}


def _public(view: EnvelopeView) -> EnvelopePublic:
    envelope = view.envelope
    current = next(r for r in view.revisions if r.number == envelope.current_revision)
    return EnvelopePublic(
        id=envelope.id,
        organization_id=envelope.organization_id,
        title=envelope.title,
        filename=envelope.filename,
        routing=Routing(envelope.routing),
        status=view.status,
        created_by=envelope.created_by,
        created_at=envelope.created_at,
        sent_at=envelope.sent_at,
        expires_at=envelope.expires_at,
        finished_at=envelope.finished_at,
        reason=envelope.reason,
        current_revision=envelope.current_revision,
        document_sha256=current.sha256,
        document_url=f"/api/v1/envelopes/{envelope.id}/document",
        webhook_url=view.webhook_url,
        participants=[
            ParticipantPublic(
                id=p.id,
                position=p.position,
                label=p.label,
                organization_id=p.organization_id,
                seal_id=p.seal_id,
                placement=_placement(p.placement),
                level=p.level,
                document_type=p.document_type,
                status=ParticipantStatus(p.status),
                may_sign_now=p.id in view.turn,
                acted_at=p.acted_at,
                revision=p.revision,
                decline_reason=p.decline_reason,
            )
            for p in view.participants
        ],
        revisions=[_revision(envelope.id, r) for r in view.revisions],
    )


def _wake_after_commit(request: Request, session: Session) -> None:
    worker: webhooks.Worker | None = getattr(request.app.state, "webhook_worker", None)
    if worker is not None:
        webhooks.wake_after_commit(session, worker.wake)


def _pdf(pdf: bytes, *, filename: str, sha256: str, revision: int) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **attachment(filename),
            "X-Eseal-Document-Sha256": sha256,
            "X-Eseal-Revision": str(revision),
        },
    )


@router.post(
    "", dependencies=needs(Scope.envelopes_write), status_code=201, response_model=EnvelopePublic
)
def create_envelope(
    file: Annotated[UploadFile, File(description="the PDF every participant seals")],
    envelope: Annotated[str, Form(description=ENVELOPE_FIELD_DOC)],
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> EnvelopePublic:
    """Create an envelope (org admin, or a client with `envelopes:write`). Every participant's
    seal and placement is checked against the document now, so no turn fails on them later."""
    envelope, invited = directory.resolve_invitations(session, principal, envelope)
    try:
        spec = ENVELOPE_CREATE.validate_json(envelope)
    except ValidationError as exc:
        raise InvalidInput(
            "the envelope is not valid",
            errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()],
        ) from exc
    created = service.create_envelope(
        session,
        services,
        principal=principal,
        pdf=file.file.read(),
        filename=file.filename or "document.pdf",
        spec=spec,
        idempotency_key=idempotency_key,
    )
    if invited and not created.replayed:
        directory.invite(
            session, principal=principal, envelope_id=created.view.envelope.id, positions=invited
        )
    response.headers["Location"] = f"/api/v1/envelopes/{created.view.envelope.id}"
    if created.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return _public(created.view)


@router.get("", dependencies=needs(*READ_SCOPES), response_model=list[EnvelopeSummary])
def list_envelopes(
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    status: EnvelopeStatus | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[EnvelopeSummary]:
    """Envelopes the caller's organization created or takes part in, newest first."""
    rows = service.list_envelopes(
        session, services, principal=principal, status=status, offset=offset, limit=limit
    )
    return [
        EnvelopeSummary(
            id=e.id,
            organization_id=e.organization_id,
            title=e.title,
            routing=Routing(e.routing),
            status=effective,
            created_at=e.created_at,
            expires_at=e.expires_at,
            current_revision=e.current_revision,
        )
        for e, effective in rows
    ]


@router.get("/{envelope_id}", dependencies=needs(*READ_SCOPES), response_model=EnvelopePublic)
def get_envelope(
    envelope_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> EnvelopePublic:
    return _public(
        service.get_envelope(session, services, principal=principal, envelope_id=envelope_id)
    )


@router.post(
    "/{envelope_id}/send", dependencies=needs(Scope.envelopes_write), response_model=EnvelopePublic
)
def send_envelope(
    envelope_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> EnvelopePublic:
    """A draft goes out: participants may sign."""
    return _public(
        service.send_envelope(session, services, principal=principal, envelope_id=envelope_id)
    )


@router.post(
    "/{envelope_id}/cancel",
    dependencies=needs(Scope.envelopes_write),
    response_model=EnvelopePublic,
)
def cancel_envelope(
    envelope_id: str,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Annotated[CancelIn | None, Body()] = None,
) -> EnvelopePublic:
    view = service.cancel_envelope(
        session,
        services,
        principal=principal,
        envelope_id=envelope_id,
        reason=body.reason if body else None,
    )
    _wake_after_commit(request, session)
    return _public(view)


@router.post(
    "/{envelope_id}/participants/{participant_id}/sign",
    dependencies=needs(Scope.seals_use, Scope.envelopes_write),
    response_model=EnvelopeSigned,
)
def sign(
    envelope_id: str,
    participant_id: str,
    request: Request,
    response: Response,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    body: Annotated[SignIn | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> EnvelopeSigned:
    """Seal the current revision as this participant (a client of the participant's
    organization holding a grant on its seal, with the approval for this revision's SHA-256
    when the seal needs one). Sequential routing: only in turn (else 409)."""
    args = body or SignIn()
    signed = service.sign_participant(
        session,
        services,
        principal=principal,
        envelope_id=envelope_id,
        participant_id=participant_id,
        pin=args.pin,
        reason=args.reason,
        location=args.location,
        expected_revision=args.expected_revision,
        idempotency_key=idempotency_key,
    )
    _wake_after_commit(request, session)
    if signed.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return EnvelopeSigned(
        envelope=_public(signed.view),
        revision=_revision(envelope_id, signed.revision),
        replayed=signed.replayed,
    )


@router.post(
    "/{envelope_id}/participants/{participant_id}/decline",
    dependencies=needs(Scope.seals_use, Scope.envelopes_write),
    response_model=EnvelopePublic,
)
def decline(
    envelope_id: str,
    participant_id: str,
    body: DeclineIn,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> EnvelopePublic:
    view = service.decline_participant(
        session,
        services,
        principal=principal,
        envelope_id=envelope_id,
        participant_id=participant_id,
        reason=body.reason,
    )
    _wake_after_commit(request, session)
    return _public(view)


@router.get(
    "/{envelope_id}/document",
    dependencies=needs(*READ_SCOPES),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "current revision"}},
)
def current_document(
    envelope_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> Response:
    """The current revision: the final document once the envelope is completed."""
    envelope, row, pdf = service.revision_pdf(
        session, services, principal=principal, envelope_id=envelope_id, number=None
    )
    final = envelope.status == "completed" and row.number == envelope.current_revision
    return _pdf(
        pdf, filename=revision_filename(envelope.filename, row.number, final=final),
        sha256=row.sha256, revision=row.number,
    )  # fmt: skip


@router.get(
    "/{envelope_id}/revisions/{number}",
    dependencies=needs(*READ_SCOPES),
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def revision_document(
    envelope_id: str,
    number: int,
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
) -> Response:
    envelope, row, pdf = service.revision_pdf(
        session, services, principal=principal, envelope_id=envelope_id, number=number
    )
    final = envelope.status == "completed" and row.number == envelope.current_revision
    return _pdf(
        pdf, filename=revision_filename(envelope.filename, row.number, final=final),
        sha256=row.sha256, revision=row.number,
    )  # fmt: skip


def revision_filename(filename: str, number: int, *, final: bool) -> str:
    """Each revision downloads under a name of its own: 合同-原件.pdf, 合同-第1版.pdf, …,
    合同-最终版.pdf (not three files called 合同.pdf)."""
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    if final:
        return f"{stem}-最终版.pdf"
    return f"{stem}-原件.pdf" if number == 0 else f"{stem}-第{number}版.pdf"


def _event(event: AuditEvent) -> TimelineEvent:
    details = json.loads(event.details)
    return TimelineEvent(
        seq=event.seq,
        occurred_at=event.occurred_at,
        action=event.action,
        actor=event.actor,
        organization_id=event.organization_id,
        details=details if isinstance(details, dict) else {},
    )


@router.get(
    "/{envelope_id}/timeline", dependencies=needs(*READ_SCOPES), response_model=list[TimelineEvent]
)
def timeline(
    envelope_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> list[TimelineEvent]:
    """The envelope's events in order, from the hash-chained audit log."""
    return [
        _event(e)
        for e in service.timeline(session, services, principal=principal, envelope_id=envelope_id)
    ]


def _delivery(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic(
        id=row.id,
        event=row.event,
        url=row.url,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at if row.status == webhooks.PENDING else None,
        delivered_at=row.delivered_at,
        log=[
            WebhookAttemptPublic(
                number=a.number,
                started_at=a.started_at,
                duration_ms=a.duration_ms,
                status_code=a.status_code,
                error=a.error,
                succeeded=a.succeeded,
            )
            for a in attempts
        ],
    )


@router.get(
    "/{envelope_id}/webhook-deliveries",
    dependencies=needs(*READ_SCOPES),
    response_model=list[WebhookDeliveryPublic],
)
def webhook_deliveries(
    envelope_id: str, session: SessionDep, services: ServicesDep, principal: CurrentPrincipal
) -> list[WebhookDeliveryPublic]:
    """The delivery log of the envelope's webhook (the creating organization only)."""
    return [
        _delivery(row, attempts)
        for row, attempts in service.webhook_log(
            session, services, principal=principal, envelope_id=envelope_id
        )
    ]
