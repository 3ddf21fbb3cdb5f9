"""Envelopes (多方签章): the list of those the chosen organization created or takes part in, one
envelope with its participants (whose turn), revisions, pages and timeline, the actions each
role may take there (sign the organization's step — with the PIN of a personal seal and the
approval for the current revision when the seal needs one —, decline, send, cancel), and a
simple form to create one. Every act is the same `app.services.envelopes` call the API makes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import pdfwork
from app import sealing_staged as staged
from app.access import console_needs
from app.console import queries
from app.console.envelope_forms import (
    MAX_FORM_ROWS,
    PLACEMENT_TYPES,
    FormRow,
    spec_from_form,
)
from app.console.web import (
    Ctx,
    CtxDep,
    check_csrf,
    console_router,
    page,
    pager,
    read_pdf_upload,
)
from app.downloads import attachment
from app.errors import InvalidInput
from app.models import AuditEvent
from app.security import Scope
from app.services import envelopes as service
from app.services import seals as seal_service
from app.services import usage_requests, webhooks
from app.services.envelope_views import EnvelopeView
from app.services.envelopes import READ_SCOPES as ENVELOPE_READ_SCOPES
from seals.envelopes import EnvelopeStatus, Routing
from seals.kinds import SealKind
from seals.models import Seal, SealUsageRequest
from seals.models_envelopes import EnvelopeParticipant
from seals.signing import PadesLevel

router = console_router(prefix="/envelopes")

LIST_SIZE = 20
FORM_ROWS = 2
PAGES_SHOWN = 6
OPEN = (EnvelopeStatus.DRAFT, EnvelopeStatus.IN_PROGRESS)


def _wake_webhooks(request: Request, session: Session) -> None:
    """Deliver the envelope's webhook (queued in this transaction) once it commits."""
    worker: webhooks.Worker | None = getattr(request.app.state, "webhook_worker", None)
    if worker is not None:
        webhooks.wake_after_commit(session, worker.wake)


# --- list -----------------------------------------------------------------------------------


@router.get("", dependencies=console_needs(*ENVELOPE_READ_SCOPES))
def list_envelopes(
    ctx: CtxDep,
    status: EnvelopeStatus | None = None,
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    rows = service.list_envelopes(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        status=status,
        offset=(page_number - 1) * LIST_SIZE,
        limit=LIST_SIZE + 1,
    )
    shown, pages = pager(page_number, rows, LIST_SIZE)
    return page(
        ctx,
        "envelopes.html",
        envelopes=shown,
        pager=pages,
        chosen=status,
        statuses=list(EnvelopeStatus),
        org_names=queries.organization_names(ctx.session, {e.organization_id for e, _ in shown}),
        query={"status": status.value} if status else {},
    )


# --- create ---------------------------------------------------------------------------------


def _form_page(ctx: Ctx, rows: int) -> Response:
    seals = seal_service.list_seals(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        kind=None,
        offset=0,
        limit=200,
    )
    count = max(1, min(rows, MAX_FORM_ROWS))
    return page(
        ctx,
        "envelope_new.html",
        rows=[FormRow(index=i, organization_id=ctx.org_id if i == 0 else "") for i in range(count)],
        next_index=count,
        max_rows=MAX_FORM_ROWS,
        own_seals=queries.usable_seals(seals),
        placement_types=PLACEMENT_TYPES,
        levels=[level.value for level in PadesLevel],
    )


@router.get("/new", dependencies=console_needs(Scope.envelopes_write))
def new_form(
    ctx: CtxDep, rows: Annotated[int, Query(ge=1, le=MAX_FORM_ROWS)] = FORM_ROWS
) -> Response:
    return _form_page(ctx, rows)


@router.get("/new/row", dependencies=console_needs(Scope.envelopes_write))
def new_row(ctx: CtxDep, index: Annotated[int, Query(ge=0, lt=MAX_FORM_ROWS)]) -> Response:
    """One more participant row (htmx appends it; the add button comes back pointing on)."""
    return page(
        ctx,
        "_envelope_row.html",
        row=FormRow(index=index),
        next_index=index + 1,
        max_rows=MAX_FORM_ROWS,
        placement_types=PLACEMENT_TYPES,
        levels=[level.value for level in PadesLevel],
        oob=True,
    )


@router.post("", dependencies=console_needs(Scope.envelopes_write))
def create(
    request: Request,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    file: Annotated[UploadFile, File()],
    title: Annotated[str, Form(max_length=200)],
    routing: Annotated[Routing, Form()] = Routing.SEQUENTIAL,
    send: Annotated[str | None, Form(max_length=5)] = None,
    expires_on: Annotated[str, Form(max_length=10)] = "",
    p_org: Annotated[list[str] | None, Form(max_length=32)] = None,
    p_seal: Annotated[list[str] | None, Form(max_length=32)] = None,
    p_label: Annotated[list[str] | None, Form(max_length=100)] = None,
    p_placement: Annotated[list[str] | None, Form(max_length=20)] = None,
    p_keyword: Annotated[list[str] | None, Form(max_length=100)] = None,
    p_page: Annotated[list[str] | None, Form(max_length=10)] = None,
    p_x: Annotated[list[str] | None, Form(max_length=10)] = None,
    p_y: Annotated[list[str] | None, Form(max_length=10)] = None,
    p_level: Annotated[list[str] | None, Form(max_length=8)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    data = read_pdf_upload(ctx, file)
    spec = spec_from_form(
        title=title,
        routing=routing.value,
        send=send is not None,
        expires_on=expires_on,
        organization_ids=p_org or [],
        seal_ids=p_seal or [],
        labels=p_label or [],
        placements=p_placement or [],
        keywords=p_keyword or [],
        pages=p_page or [],
        xs=p_x or [],
        ys=p_y or [],
        levels=p_level or [],
    )
    created = service.create_envelope(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        pdf=data,
        filename=file.filename or "document.pdf",
        spec=spec,
        idempotency_key=None,
    )
    _wake_webhooks(request, ctx.session)
    return RedirectResponse(f"/console/envelopes/{created.view.envelope.id}", status_code=303)


# --- one envelope -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantRow:
    """A participant as the page shows it, with what the signed-in user may do there."""

    part: EnvelopeParticipant
    organization: str
    seal: Seal | None  # only the chosen organization's own seals are looked up
    placement: dict[str, Any]
    turn: bool
    mine: bool
    may_act: bool
    needs_pin: bool
    needs_approval: bool
    requests: list[SealUsageRequest]

    @property
    def approved(self) -> bool:
        return any(r.status == "approved" for r in self.requests)

    @property
    def pending(self) -> bool:
        return any(r.status == "pending" for r in self.requests)


@dataclass(frozen=True)
class TimelineRow:
    event: AuditEvent
    actor: str
    organization: str
    details: dict[str, Any]


def _details(event: AuditEvent) -> dict[str, Any]:
    try:
        value = json.loads(event.details)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _placement_of(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _participant_rows(
    ctx: Ctx,
    view: EnvelopeView,
    own_seals: dict[str, Seal],
    requests: list[SealUsageRequest],
    names: dict[str, str],
) -> list[ParticipantRow]:
    """Each participant as the page shows it: whose turn, and what this reader may do."""
    org_id = ctx.org.id if ctx.org else None
    in_progress = view.status is EnvelopeStatus.IN_PROGRESS
    rows = []
    for p in view.participants:
        seal = own_seals.get(p.seal_id)
        is_mine = p.organization_id == org_id
        turn = p.id in view.turn
        rows.append(
            ParticipantRow(
                part=p,
                organization=names.get(p.organization_id, p.organization_id),
                seal=seal,
                placement=_placement_of(p.placement),
                turn=turn,
                mine=is_mine,
                may_act=is_mine and turn and in_progress and ctx.can.sign,
                needs_pin=seal is not None and seal.kind == SealKind.PERSONAL.value,
                needs_approval=seal is not None and seal.requires_approval,
                requests=[r for r in requests if r.seal_id == p.seal_id],
            )
        )
    return rows


def _detail_page(ctx: Ctx, envelope_id: str) -> Response:
    view = service.get_envelope(
        ctx.session, ctx.services, principal=ctx.principal, envelope_id=envelope_id
    )
    events = service.timeline(
        ctx.session, ctx.services, principal=ctx.principal, envelope_id=envelope_id
    )
    _, current, pdf = service.revision_pdf(
        ctx.session, ctx.services, principal=ctx.principal, envelope_id=envelope_id, number=None
    )
    pages = pdfwork.page_sizes(ctx.services, pdf)
    envelope = view.envelope
    org_id = ctx.org.id if ctx.org else None
    mine = [p for p in view.participants if p.organization_id == org_id]
    own_seals = (
        queries.seals_by_id(
            ctx.session,
            principal=ctx.principal,
            organization_id=org_id,
            ids={p.seal_id for p in mine},
        )
        if org_id and mine
        else {}
    )
    requests: list[SealUsageRequest] = []
    if org_id and ctx.can.sign and any(s.requires_approval for s in own_seals.values()):
        requests = queries.requests_for_document(
            ctx.session,
            principal=ctx.principal,
            organization_id=org_id,
            me=seal_service.caller_of(ctx.session, ctx.principal),
            seal_ids={s.id for s in own_seals.values() if s.requires_approval},
            document_sha256=current.sha256,
        )
    names = queries.organization_names(
        ctx.session,
        {envelope.organization_id}
        | {p.organization_id for p in view.participants}
        | {e.organization_id for e in events if e.organization_id},
    )
    rows = _participant_rows(ctx, view, own_seals, requests, names)
    actors = queries.actor_names(ctx.session, {e.actor for e in events})
    timeline = [
        TimelineRow(
            event=e,
            actor=actors.get(e.actor, e.actor),
            organization=names.get(e.organization_id or "", ""),
            details=_details(e),
        )
        for e in events
    ]
    is_creator = org_id == envelope.organization_id and ctx.can.envelopes_write
    return page(
        ctx,
        "envelope_detail.html",
        view=view,
        envelope=envelope,
        state=view.status,
        creator=names.get(envelope.organization_id, envelope.organization_id),
        participants=rows,
        positions={p.id: p.position for p in view.participants},
        revisions=view.revisions,
        current=current,
        timeline=timeline,
        pages=pages[:PAGES_SHOWN],
        page_count=len(pages),
        pages_shown=PAGES_SHOWN,
        may_send=is_creator and view.status is EnvelopeStatus.DRAFT,
        may_cancel=is_creator and view.status in OPEN,
    )


@router.get("/{envelope_id}", dependencies=console_needs(*ENVELOPE_READ_SCOPES))
def detail(envelope_id: str, ctx: CtxDep) -> Response:
    return _detail_page(ctx, envelope_id)


def _pdf_response(pdf: bytes, filename: str, sha256: str, revision: int) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            **attachment(filename),
            "X-Eseal-Document-Sha256": sha256,
            "X-Eseal-Revision": str(revision),
        },
    )


def _revision_name(filename: str, number: int, final: bool) -> str:
    stem = filename[:-4] if filename.lower().endswith(".pdf") else filename
    return f"{stem}-{'最终版' if final else f'第{number}版'}.pdf"


@router.get("/{envelope_id}/document", dependencies=console_needs(*ENVELOPE_READ_SCOPES))
def current_document(envelope_id: str, ctx: CtxDep) -> Response:
    """The current revision: the final document once the envelope is completed."""
    return _revision(ctx, envelope_id, None)


@router.get("/{envelope_id}/revisions/{number}", dependencies=console_needs(*ENVELOPE_READ_SCOPES))
def revision_document(envelope_id: str, number: int, ctx: CtxDep) -> Response:
    return _revision(ctx, envelope_id, number)


def _revision(ctx: Ctx, envelope_id: str, number: int | None) -> Response:
    envelope, row, pdf = service.revision_pdf(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        envelope_id=envelope_id,
        number=number,
    )
    final = envelope.status == EnvelopeStatus.COMPLETED and row.number == envelope.current_revision
    name = _revision_name(envelope.filename, row.number, final)
    return _pdf_response(pdf, name, row.sha256, row.number)


@router.get(
    "/{envelope_id}/revisions/{number}/pages/{page_number}.png",
    dependencies=console_needs(*ENVELOPE_READ_SCOPES),
)
def revision_page(envelope_id: str, number: int, page_number: int, ctx: CtxDep) -> Response:
    _, row, pdf = service.revision_pdf(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        envelope_id=envelope_id,
        number=number,
    )
    png = pdfwork.page_png(ctx.services, pdf, sha256=row.sha256, number=page_number)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


# --- actions ----------------------------------------------------------------------------------


def _back(envelope_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/console/envelopes/{envelope_id}{anchor}", status_code=303)


@router.post("/{envelope_id}/send", dependencies=console_needs(Scope.envelopes_write))
def send(
    envelope_id: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    check_csrf(ctx.user, csrf_token)
    service.send_envelope(
        ctx.session, ctx.services, principal=ctx.principal, envelope_id=envelope_id
    )
    return _back(envelope_id)


@router.post("/{envelope_id}/cancel", dependencies=console_needs(Scope.envelopes_write))
def cancel(
    envelope_id: str,
    request: Request,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    service.cancel_envelope(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        envelope_id=envelope_id,
        reason=(reason or "").strip() or None,
    )
    _wake_webhooks(request, ctx.session)
    return _back(envelope_id)


@router.post(
    "/{envelope_id}/participants/{participant_id}/sign",
    dependencies=console_needs(Scope.seals_use, Scope.envelopes_write),
)
def sign(
    envelope_id: str,
    participant_id: str,
    request: Request,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    expected_revision: Annotated[int | None, Form(ge=0)] = None,
    pin: Annotated[str | None, Form(max_length=64)] = None,
    reason: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    staged.release(ctx.session)
    service.sign_participant(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        envelope_id=envelope_id,
        participant_id=participant_id,
        pin=pin or None,
        reason=(reason or "").strip() or None,
        location=None,
        expected_revision=expected_revision,
        idempotency_key=None,
    )
    _wake_webhooks(request, ctx.session)
    return _back(envelope_id, f"#p-{participant_id}")


@router.post(
    "/{envelope_id}/participants/{participant_id}/decline",
    dependencies=console_needs(Scope.seals_use, Scope.envelopes_write),
)
def decline(
    envelope_id: str,
    participant_id: str,
    request: Request,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    service.decline_participant(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        envelope_id=envelope_id,
        participant_id=participant_id,
        reason=reason.strip(),
    )
    _wake_webhooks(request, ctx.session)
    return _back(envelope_id)


@router.post(
    "/{envelope_id}/participants/{participant_id}/request",
    dependencies=console_needs(Scope.seals_use, Scope.envelopes_write),
)
def request_approval(
    envelope_id: str,
    participant_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    purpose: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    """File the usage request (用印申请) for this participant's seal and exactly the current
    revision: the one this participant will seal."""
    check_csrf(ctx.user, csrf_token)
    view = service.get_envelope(
        ctx.session, ctx.services, principal=ctx.principal, envelope_id=envelope_id
    )
    part = next((p for p in view.participants if p.id == participant_id), None)
    if part is None:
        raise InvalidInput(f"participant {participant_id} is not in this envelope")
    current = next(r for r in view.revisions if r.number == view.envelope.current_revision)
    usage_requests.file_usage_request(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=part.seal_id,
        purpose=purpose.strip(),
        document_sha256=current.sha256,
        document_type=part.document_type,
        copies=1,
    )
    return _back(envelope_id, f"#p-{participant_id}")
