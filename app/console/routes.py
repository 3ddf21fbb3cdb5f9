"""Console pages: sign in, sign out, organization choice, language, and the overview
(members, API clients, trust anchors). The other pages live in their own modules and are
included here, so the application mounts one router."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.access import console_needs, public, signed_in
from app.clientaddr import client_address
from app.console import (
    application_pages,
    approval_pages,
    audit_pages,
    certificate_pages,
    delivery_pages,
    envelope_pages,
    invitation_pages,
    my_turn,
    platform_pages,
    seal_pages,
    sign_pages,
    statistics_pages,
)
from app.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    new_csrf_token,
    sign_in,
    tokens_match,
)
from app.console.i18n import LANG_COOKIE, LANGS
from app.console.web import (
    ORG_COOKIE,
    ConsoleUser,
    CtxDep,
    MaybeUser,
    check_csrf,
    console_router,
    current_user,
    lang_of,
    page,
    render,
)
from app.deps import ServicesDep, SessionDep, SettingsDep
from app.errors import Forbidden
from app.models import Role
from app.ratelimit_shared import Throttles
from app.security import PLATFORM_GRANTED, Scope, close_session
from app.services import seals as seal_service
from app.services import tenancy, trust_anchors

router = console_router(prefix="/console", include_in_schema=False)

__all__ = ["ConsoleUser", "check_csrf", "current_user", "router"]

ORG_SCOPES = [s.value for s in Scope if s not in PLATFORM_GRANTED]


def _safe_next(target: str | None) -> str:
    """Only a console path (never another site) after signing in."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


@router.get("/login", dependencies=public("the sign-in form"))
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> HTMLResponse:
    csrf = new_csrf_token()
    response = render(
        request,
        "login.html",
        lang=lang_of(request),
        csrf_token=csrf,
        error=None,
        next=_safe_next(next),
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/console",
    )
    return response


@router.post("/login", dependencies=public("signing in; throttled per address and account"))
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise Forbidden("the sign-in form's CSRF token is missing or wrong; reload the page")
    outcome = sign_in(
        session,
        settings=settings,
        username=username,
        password=password,
        address=client_address(request, settings.trusted_proxies),
        throttles=Throttles.of(services.login_limiter, settings)
        if services.login_limiter
        else None,
    )
    if not outcome.ok or outcome.session is None:
        return render(
            request,
            "login.html",
            lang=lang_of(request),
            status=429 if outcome.throttled else 401,
            csrf_token=csrf_token,
            error=outcome.message,
            next=_safe_next(next),
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.session.token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout", dependencies=signed_in("ends the caller's own session"))
def logout(
    session: SessionDep,
    user: MaybeUser,
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    if user is not None:
        check_csrf(user, csrf_token)
        close_session(session, user.token)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(ORG_COOKIE, path="/")
    return response


@router.post("/org", dependencies=signed_in("only organizations the user confirmed membership of"))
def switch_org(
    ctx: CtxDep,
    settings: SettingsDep,
    organization_id: Annotated[str, Form(max_length=32)],
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    allowed = {o.id for o in ctx.orgs}
    if organization_id and organization_id not in allowed and not ctx.can.platform:
        raise Forbidden("you are not a member of that organization")
    response = RedirectResponse("/console/", status_code=303)
    if organization_id:
        response.set_cookie(
            ORG_COOKIE,
            organization_id,
            httponly=True,
            secure=settings.cookie_secure,
            samesite="lax",
            path="/",
        )
    else:
        response.delete_cookie(ORG_COOKIE, path="/")
    return response


@router.get("/lang", dependencies=public("sets a language cookie"))
def switch_lang(to: str, back: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(back), status_code=303)
    if to in LANGS:
        response.set_cookie(
            LANG_COOKIE, to, max_age=365 * 86400, samesite="lax", httponly=True, path="/"
        )
    return response


# --- overview --------------------------------------------------------------------------------


def _overview(ctx: CtxDep, **extra: Any) -> HTMLResponse:
    members = clients = []
    if ctx.org is not None:
        if ctx.principal.has(Scope.members_read) or ctx.principal.has(Scope.members_write):
            members = tenancy.list_members(
                ctx.session, principal=ctx.principal, organization_id=ctx.org.id
            )
        if ctx.can.clients_write:
            clients = tenancy.list_api_clients(
                ctx.session, principal=ctx.principal, organization_id=ctx.org.id
            )
    anchors = trust_anchors.list_anchors(ctx.session) if ctx.can.platform else []
    waiting: list[my_turn.Waiting] = []
    if ctx.org is not None and ctx.can.sign:
        caller = seal_service.caller_of(ctx.session, ctx.principal)
        waiting = my_turn.waiting_for(ctx.session, caller=caller, organization_id=ctx.org.id)
    return page(
        ctx,
        "home.html",
        my_turn=waiting,
        members=members,
        clients=clients,
        anchors=anchors,
        roles=list(Role),
        org_scopes=ORG_SCOPES,
        **extra,
    )


@router.get("/", dependencies=signed_in("the overview shows only what the roles allow"))
def home(ctx: CtxDep) -> Response:
    return _overview(ctx)


@router.post("/members", dependencies=console_needs(Scope.members_write))
def add_member(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    roles: Annotated[list[Role], Form()],
    resident_id: Annotated[str | None, Form(max_length=18)] = None,
    username: Annotated[str | None, Form(max_length=100)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    check_csrf(ctx.user, csrf_token)
    tenancy.add_member(
        ctx.session,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        name=name,
        resident_id=resident_id or None,
        roles=roles,
        username=username or None,
        password=password or None,
    )
    return RedirectResponse("/console/#members", status_code=303)


@router.post("/clients", dependencies=console_needs(Scope.clients_write))
def create_client(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    name: Annotated[str, Form(min_length=1, max_length=100)],
    scopes: Annotated[list[str], Form()],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    client, key = tenancy.create_api_client(
        ctx.session,
        principal=ctx.principal,
        organization_id=ctx.org_id,
        name=name,
        scopes=scopes,
    )
    response = page(ctx, "client_created.html", client=client, api_key=key.key)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/clients/{client_id}/revoke", dependencies=console_needs(Scope.clients_write))
def revoke_client(
    client_id: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    check_csrf(ctx.user, csrf_token)
    tenancy.revoke_api_client(
        ctx.session, principal=ctx.principal, organization_id=ctx.org_id, client_id=client_id
    )
    return RedirectResponse("/console/#clients", status_code=303)


@router.post("/trust-anchors", dependencies=console_needs(Scope.platform))
def add_anchor(
    ctx: CtxDep,
    csrf_token: Annotated[str, Form(max_length=100)],
    label: Annotated[str, Form(min_length=1, max_length=200)],
    certificate: Annotated[UploadFile, File()],
) -> Response:
    check_csrf(ctx.user, csrf_token)
    data = certificate.file.read(64 * 1024)
    trust_anchors.add_anchor(ctx.session, principal=ctx.principal, label=label, certificate=data)
    return RedirectResponse("/console/#anchors", status_code=303)


@router.post("/trust-anchors/{anchor_id}/remove", dependencies=console_needs(Scope.platform))
def remove_anchor(
    anchor_id: str, ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    check_csrf(ctx.user, csrf_token)
    trust_anchors.remove_anchor(ctx.session, principal=ctx.principal, anchor_id=anchor_id)
    return RedirectResponse("/console/#anchors", status_code=303)


for _module in (
    certificate_pages,
    seal_pages,
    approval_pages,
    sign_pages,
    envelope_pages,
    audit_pages,
    invitation_pages,
    application_pages,
    statistics_pages,
    delivery_pages,
    platform_pages,
):
    router.include_router(_module.router)
