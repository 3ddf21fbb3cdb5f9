"""Seals: the gallery, creating one with a live preview, uploading a handwritten signature,
lifecycle (activate, suspend, reactivate, revoke), PIN, approval requirement and grants."""

from __future__ import annotations

import base64
from datetime import datetime, time
from typing import Annotated

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape

from app.access import console_needs
from app.console import queries
from app.console.web import DOMAIN_ERRORS, CtxDep, check_csrf, console_router, page, pager
from app.db import unit_of_work
from app.downloads import attachment
from app.errors import InvalidInput
from app.security import Scope
from app.services import grants as grant_service
from app.services import seal_data as seal_data_service
from app.services import seals as seal_service
from app.services import tenancy
from pki.keys import KeyAlgorithm
from seals import access
from seals.authorization import Caller, CallerKind
from seals.images import MAX_UPLOAD_BYTES
from seals.kinds import KIND_SPECS, SealKind
from seals.lifecycle import SealAction
from seals.report_text import LOCAL_TZ

router = console_router(prefix="/seals")

GALLERY_SIZE = 24
CONSOLE_SEAL_DPI = 300
"""Print quality at the seal's physical size; the API's 600 dpi costs ~2.5x the time."""
PREVIEW_DPI = 96
NAME_KINDS = (SealKind.PERSONAL, SealKind.LEGAL_REPRESENTATIVE)
SIMPLE_ACTIONS = {
    "activate": SealAction.ACTIVATE,
    "suspend": SealAction.SUSPEND,
    "reactivate": SealAction.REACTIVATE,
}


def _kind_label(lang: str, kind: SealKind | str) -> str:
    spec = KIND_SPECS[SealKind(kind)]
    return spec.label_en if lang == "en" else spec.label_zh


def _people(ctx: CtxDep) -> list[tenancy.MemberView]:
    return tenancy.list_members(ctx.session, principal=ctx.principal, organization_id=ctx.org_id)


@router.get("", dependencies=console_needs(Scope.seals_read))
def gallery(
    ctx: CtxDep,
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
    kind: SealKind | None = None,
) -> Response:
    rows = seal_service.list_seals(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        kind=kind,
        offset=(page_number - 1) * GALLERY_SIZE,
        limit=GALLERY_SIZE + 1,
    )
    shown, pages = pager(page_number, rows, GALLERY_SIZE)
    total = queries.count_seals(ctx.session, principal=ctx.principal, organization_id=ctx.org_id)
    people = _people(ctx) if ctx.can.seals_write else []
    return page(
        ctx,
        "seals.html",
        seals=shown,
        pager=pages,
        total=total,
        kind=kind,
        kinds=list(SealKind),
        kind_label=lambda k: _kind_label(ctx.lang, k),
        people=[p for p in people if p.person.resident_id],
    )


@router.get("/preview", dependencies=console_needs(Scope.seals_read))
def preview(
    ctx: CtxDep,
    kind: SealKind = SealKind.CONTRACT,
    inscription: Annotated[str, Query(max_length=40)] = "",
    person_name: Annotated[str, Query(max_length=40)] = "",
    print_code: str | None = None,
) -> HTMLResponse:
    """An <img> of how the seal would look, for htmx to swap in while the user types."""
    by_name = kind in NAME_KINDS
    try:
        png = seal_service.preview(
            ctx.session,
            ctx.services,
            principal=ctx.principal,
            organization_id=ctx.org_id,
            kind=kind,
            person_name=(person_name.strip() or None) if by_name else None,
            inscription=None if by_name else (inscription.strip() or None),
            print_code=print_code is not None,
            dpi=PREVIEW_DPI,
        )
    except DOMAIN_ERRORS as exc:
        ctx.session.rollback()
        detail = getattr(exc, "detail", str(exc))
        return HTMLResponse(f'<p class="error" role="status">{escape(detail)}</p>')
    data = base64.b64encode(png).decode()
    alt = escape(ctx.t("seal_service.preview"))
    label = escape(person_name if by_name else inscription)
    return HTMLResponse(
        f'<img id="seal-preview-img" class="seal-img" src="data:image/png;base64,{data}" '
        f'alt="{alt}" data-text="{label}">'
    )


@router.post("", dependencies=console_needs(Scope.seals_write))
def create(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    kind: Annotated[SealKind, Form()],
    name: Annotated[str | None, Form(max_length=200)] = None,
    inscription: Annotated[str | None, Form(max_length=40)] = None,
    person_name: Annotated[str | None, Form(max_length=40)] = None,
    person_id: Annotated[str | None, Form(max_length=32)] = None,
    print_code: Annotated[str | None, Form(max_length=5)] = None,
    requires_approval: Annotated[str | None, Form(max_length=5)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    by_name = kind in NAME_KINDS
    seal = seal_service.create_seal(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        kind=kind,
        name=(name or "").strip() or None,
        person_id=(person_id or None) if kind is SealKind.PERSONAL else None,
        person_name=((person_name or "").strip() or None)
        if kind is SealKind.LEGAL_REPRESENTATIVE
        else None,
        inscription=None if by_name else ((inscription or "").strip() or None),
        requires_approval=requires_approval is not None,
        print_code=print_code is not None,
        lifetime_days=None,
        key_algorithm=KeyAlgorithm.EC_P256,
        dpi=CONSOLE_SEAL_DPI,
    )
    return RedirectResponse(f"/console/seals/{seal.id}", status_code=303)


@router.post("/upload", dependencies=console_needs(Scope.seals_write))
def upload_signature(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    person_id: Annotated[str, Form(max_length=32)],
    image: Annotated[UploadFile, File()],
    name: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    data = image.file.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        raise InvalidInput("the uploaded image is empty")
    seal = seal_service.create_seal(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        kind=SealKind.PERSONAL,
        name=(name or "").strip() or None,
        person_id=person_id,
        person_name=None,
        inscription=None,
        requires_approval=False,
        print_code=False,
        lifetime_days=None,
        key_algorithm=KeyAlgorithm.EC_P256,
        dpi=CONSOLE_SEAL_DPI,
        upload=data,
    )
    return RedirectResponse(f"/console/seals/{seal.id}", status_code=303)


@router.get("/{seal_id}/image", dependencies=console_needs(Scope.seals_read))
def image(seal_id: str, ctx: CtxDep, request: Request) -> Response:
    seal = seal_service.get_seal(
        ctx.session, ctx.services, principal=ctx.principal, seal_id=seal_id
    )
    etag = f'"{seal.image_sha256}"'
    headers = {"Cache-Control": "private, max-age=300", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = seal_service.seal_image(
        ctx.session, ctx.services, principal=ctx.principal, seal_id=seal_id
    )
    return Response(data, media_type="image/png", headers=headers)


@router.get("/{seal_id}/eseal", dependencies=console_needs(Scope.seals_read))
def eseal(seal_id: str, ctx: CtxDep) -> Response:
    """The seal's GB/T 38540 seal data (.esl); made in its own short write the first time."""
    seal_service.get_seal(ctx.session, ctx.services, principal=ctx.principal, seal_id=seal_id)
    with unit_of_work(ctx.services.engine) as session:
        code, der = seal_data_service.seal_data_for(
            session, ctx.services, principal=ctx.principal, seal_id=seal_id
        )
    return Response(der, media_type="application/octet-stream", headers=attachment(f"{code}.esl"))


@router.get("/{seal_id}", dependencies=console_needs(Scope.seals_read))
def detail(seal_id: str, ctx: CtxDep) -> Response:
    seal = seal_service.get_seal(
        ctx.session, ctx.services, principal=ctx.principal, seal_id=seal_id
    )
    grants = grant_service.list_grants(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        include_revoked=False,
    )
    members = _people(ctx) if ctx.can.org_admin else []
    clients = (
        [
            c
            for c in tenancy.list_api_clients(
                ctx.session, principal=ctx.principal, organization_id=ctx.org_id
            )
            if c.revoked_at is None
        ]
        if ctx.can.org_admin
        else []
    )
    names = queries.names_of(ctx.session, {g.grantee for g in grants})
    is_owner = seal.person_id is not None and seal.person_id == ctx.user.account.person_id
    return page(
        ctx,
        "seal_detail.html",
        seal=seal,
        grants=grants,
        grantee_names=names,
        members=members,
        clients=clients,
        kind_label=_kind_label(ctx.lang, seal.kind),
        may_set_pin=seal.kind is SealKind.PERSONAL and (is_owner or ctx.can.seals_write),
    )


@router.post("/{seal_id}/action/{action}", dependencies=console_needs(Scope.org_admin))
def lifecycle(
    seal_id: str,
    action: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    if action not in SIMPLE_ACTIONS:
        raise InvalidInput(f"unknown action {action}")
    seal_service.transition(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        action=SIMPLE_ACTIONS[action],
        reason=None,
    )
    return RedirectResponse(f"/console/seals/{seal_id}", status_code=303)


@router.get("/{seal_id}/revoke", dependencies=console_needs(Scope.org_admin))
def confirm_revoke(seal_id: str, ctx: CtxDep) -> Response:
    seal = seal_service.get_seal(
        ctx.session, ctx.services, principal=ctx.principal, seal_id=seal_id
    )
    return page(ctx, "seal_revoke.html", seal=seal, kind_label=_kind_label(ctx.lang, seal.kind))


@router.post("/{seal_id}/revoke", dependencies=console_needs(Scope.org_admin))
def revoke(
    seal_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    reason: Annotated[str, Form(min_length=1, max_length=200)],
    confirm: Annotated[str, Form(max_length=10)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    if confirm != "yes":
        raise InvalidInput("confirm the revocation")
    seal_service.transition(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        action=SealAction.REVOKE,
        reason=reason,
    )
    return RedirectResponse(f"/console/seals/{seal_id}", status_code=303)


@router.post("/{seal_id}/approval", dependencies=console_needs(Scope.org_admin))
def set_approval(
    seal_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    required: Annotated[str, Form(max_length=5)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    seal_service.set_requires_approval(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        required=required == "yes",
    )
    return RedirectResponse(f"/console/seals/{seal_id}", status_code=303)


@router.post("/{seal_id}/pin", dependencies=console_needs(Scope.seals_write, Scope.seals_use))
def set_pin(
    seal_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    pin: Annotated[str, Form(max_length=64)],
    current_pin: Annotated[str | None, Form(max_length=64)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    seal_service.set_pin(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        pin=pin,
        current_pin=current_pin or None,
    )
    return RedirectResponse(f"/console/seals/{seal_id}", status_code=303)


def _end_of_day(day: str | None) -> datetime | None:
    if not day:
        return None
    try:
        parsed = datetime.strptime(day, "%Y-%m-%d").date()
    except ValueError as exc:
        raise InvalidInput("a date is written YYYY-MM-DD") from exc
    return datetime.combine(parsed, time.max, tzinfo=LOCAL_TZ)


@router.post("/{seal_id}/grants", dependencies=console_needs(Scope.org_admin))
def grant(
    seal_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    grantee: Annotated[str, Form(max_length=60)],
    max_uses: Annotated[int | None, Form(ge=1, le=access.MAX_GRANT_USES)] = None,
    not_after: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    kind, _, ident = grantee.partition(":")
    if kind not in ("person", "client") or not ident:
        raise InvalidInput("choose a member or an API client")
    grant_service.create_grant(
        ctx.session,
        ctx.services,
        principal=ctx.principal,
        seal_id=seal_id,
        grantee=Caller(CallerKind(kind), ident),
        limits=access.GrantLimits(max_uses=max_uses, not_after=_end_of_day(not_after)),
    )
    return RedirectResponse(f"/console/seals/{seal_id}#grants", status_code=303)


@router.post("/{seal_id}/grants/{grant_id}/revoke", dependencies=console_needs(Scope.org_admin))
def revoke_grant(
    seal_id: str,
    grant_id: str,
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    grant_service.revoke_grant(
        ctx.session, ctx.services, principal=ctx.principal, grant_id=grant_id
    )
    return RedirectResponse(f"/console/seals/{seal_id}#grants", status_code=303)
