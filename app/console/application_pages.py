"""Console pages of seal production applications (制章申请): an organization applies and
resubmits; the registration authority (the platform) reviews in a queue. Every act goes
through `app.services.applications`, which checks the same scopes again."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import File, Form, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from app.access import console_needs
from app.api.applications import read_uploads
from app.console.web import Ctx, CtxDep, check_csrf, console_router, page
from app.downloads import attachment
from app.models import Organization
from app.models_agency import SealApplication
from app.security import Scope
from app.services import applications as service
from seals.kinds import KIND_SPECS, SealKind
from seals.lifecycle import TERMINAL, SealStatus
from seals.models import Seal
from seals.registry import PERSON_CERTIFIED_KINDS

router = console_router(prefix="/applications")

SIZE = 50
KINDS = [k for k in SealKind if k not in PERSON_CERTIFIED_KINDS]


def kind_label(lang: str, kind: str) -> str:
    spec = KIND_SPECS[SealKind(kind)]
    return spec.label_en if lang == "en" else spec.label_zh


def _names(ctx: Ctx, rows: list[SealApplication]) -> dict[str, str]:
    ids = {r.organization_id for r in rows}
    if not ids:
        return {}
    orgs = ctx.session.exec(select(Organization).where(col(Organization.id).in_(ids))).all()
    return {o.id: o.name for o in orgs}


def _live_seals(ctx: Ctx) -> list[Seal]:
    if ctx.org is None:
        return []
    return list(
        ctx.session.exec(
            select(Seal)
            .where(
                Seal.organization_id == ctx.org.id,
                col(Seal.status).notin_([s.value for s in TERMINAL]),
                col(Seal.kind).in_([k.value for k in KINDS]),
            )
            .order_by(col(Seal.created_at))
        ).all()
    )


@router.get("", dependencies=console_needs(Scope.seals_read, Scope.enterprises_register))
def applications(ctx: CtxDep) -> Response:
    reviewer = service.is_reviewer(ctx.principal)
    queue: list[SealApplication] = []
    mine: list[SealApplication] = []
    if reviewer:
        queue = service.queue(
            ctx.session,
            principal=ctx.principal,
            status=service.Status.submitted,
            offset=0,
            limit=SIZE,
        )
    if ctx.org is not None and ctx.can.seals_read:
        mine = service.list_for_organization(
            ctx.session,
            principal=ctx.principal,
            organization_id=ctx.org.id,
            status=None,
            offset=0,
            limit=SIZE,
        )
    return page(
        ctx,
        "applications.html",
        active="applications",
        reviewer=reviewer,
        queue=queue,
        mine=mine,
        names=_names(ctx, queue + mine),
        kinds=KINDS,
        purposes=list(service.Purpose),
        live_seals=_live_seals(ctx) if ctx.can.seals_write else [],
        kind_label=lambda k: kind_label(ctx.lang, k),
    )


@router.post("", dependencies=console_needs(Scope.seals_write))
async def apply(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(max_length=1000)],
    purpose: Annotated[service.Purpose, Form()] = service.Purpose.new,
    kind: Annotated[SealKind | None, Form()] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    inscription: Annotated[str | None, Form(max_length=60)] = None,
    replaces_seal_id: Annotated[str | None, Form(max_length=32)] = None,
    documents: Annotated[list[UploadFile], File()] = [],  # noqa: B006
) -> Response:
    check_csrf(ctx.user, csrf_token)
    uploads = [u for u in await read_uploads(documents) if u.data]  # skip empty file inputs
    app = service.submit(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        given=service.ApplicationInput(
            purpose=purpose,
            kind=None if purpose is not service.Purpose.new else kind,
            name=name,
            inscription=inscription,
            reason=reason,
            replaces_seal_id=(replaces_seal_id or None)
            if purpose is not service.Purpose.new
            else None,
        ),
        uploads=uploads,
    )
    return RedirectResponse(f"/console/applications/{app.id}", status_code=303)


@router.get(
    "/{application_id}", dependencies=console_needs(Scope.seals_read, Scope.enterprises_register)
)
def detail(application_id: str, ctx: CtxDep) -> Response:
    app = service.visible(ctx.session, ctx.principal, application_id)
    seal = ctx.session.get(Seal, app.seal_id) if app.seal_id else None
    replaced = ctx.session.get(Seal, app.replaces_seal_id) if app.replaces_seal_id else None
    return page(
        ctx,
        "application_detail.html",
        active="applications",
        app=app,
        documents=service.documents(ctx.session, app.id),
        organization=ctx.session.get(Organization, app.organization_id),
        seal=seal,
        replaced=replaced,
        filing=service.filing(ctx.session, seal.id) if seal else None,
        reviewer=service.is_reviewer(ctx.principal),
        applicant=ctx.principal.may_act_for(app.organization_id) and ctx.can.seals_write,
        kind_label=lambda k: kind_label(ctx.lang, k),
        seal_status=lambda s: SealStatus(s).value,
    )


@router.post("/{application_id}/decide", dependencies=console_needs(Scope.enterprises_register))
def decide(
    application_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    decision: Annotated[Literal["approve", "reject", "request_changes"], Form()],
    note: Annotated[str | None, Form(max_length=1000)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    service.review(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        application_id=application_id,
        decision=service.Decision(decision),
        note=note,
    )
    return RedirectResponse(f"/console/applications/{application_id}", status_code=303)


@router.post("/{application_id}/resubmit", dependencies=console_needs(Scope.seals_write))
async def resubmit(
    application_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str | None, Form(max_length=1000)] = None,
    inscription: Annotated[str | None, Form(max_length=60)] = None,
    documents: Annotated[list[UploadFile], File()] = [],  # noqa: B006
) -> Response:
    check_csrf(ctx.user, csrf_token)
    uploads = [u for u in await read_uploads(documents) if u.data]
    service.resubmit(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        application_id=application_id,
        reason=reason,
        inscription=inscription,
        uploads=uploads,
    )
    return RedirectResponse(f"/console/applications/{application_id}", status_code=303)


@router.get(
    "/{application_id}/documents/{document_id}",
    dependencies=console_needs(Scope.seals_read, Scope.enterprises_register),
)
def document(application_id: str, document_id: str, ctx: CtxDep) -> Response:
    row, data = service.document(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        application_id=application_id,
        doc_id=document_id,
    )
    return Response(
        data,
        media_type=row.media_type,
        headers={**attachment(), "Cache-Control": "private, no-store"},
    )
