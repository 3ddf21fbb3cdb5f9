"""What every console page shares: the signed-in user, their principal in the chosen
organization, the language, CSRF checks, page rendering and the error page."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlmodel import Session, col, select

from app.console.auth import SESSION_COOKIE, tokens_match
from app.console.i18n import LANG_COOKIE, LANGS, local_time, pick_lang, translator
from app.console.problem_pages import explain
from app.deps import ServicesDep, SessionDep
from app.errors import AppError, Forbidden, InvalidInput, status_for
from app.models import ConsoleSession, Membership, Organization, Person, UserAccount
from app.security import Principal, Scope, load_session, user_principal
from app.services import refusals
from app.services.envelopes import READ_SCOPES as ENVELOPE_READ_SCOPES
from app.services.pin_check import refuse_wrong_pin
from app.services.tenancy import list_organizations
from app.wiring import Services
from pki.errors import PkiError
from pki.identifiers import mask_resident_id
from seals.errors import SealError, WrongPinError

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["local"] = local_time
templates.env.filters["mask_id"] = mask_resident_id

ORG_COOKIE = "eseal_org"
PAGE_SIZE = 25
DOMAIN_ERRORS = (AppError, PkiError, SealError)


class ConsoleUser:
    def __init__(self, console: ConsoleSession, account: UserAccount, token: str) -> None:
        self.session = console
        self.account = account
        self.token = token


def current_user(request: Request, session: SessionDep) -> ConsoleUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    loaded = load_session(session, token)
    return ConsoleUser(loaded[0], loaded[1], token) if loaded else None


MaybeUser = Annotated[ConsoleUser | None, Depends(current_user)]


def check_csrf(user: ConsoleUser, given: str | None) -> None:
    if not tokens_match(user.session.csrf_token, given):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")


@dataclass(frozen=True)
class Can:
    """What the page may offer; the service functions enforce the same scopes again."""

    org_admin: bool
    members_write: bool
    clients_write: bool
    certificates_read: bool
    certificates_write: bool
    seals_read: bool
    seals_write: bool
    sign: bool
    approve: bool
    audit: bool
    platform: bool
    envelopes: bool
    envelopes_write: bool

    @classmethod
    def of(cls, principal: Principal) -> Can:
        in_org = principal.organization_id is not None

        def has(scope: Scope) -> bool:
            return in_org and principal.has(scope)

        return cls(
            org_admin=has(Scope.org_admin),
            members_write=has(Scope.members_write),
            clients_write=has(Scope.clients_write),
            certificates_read=has(Scope.certificates_read),
            certificates_write=has(Scope.certificates_write),
            seals_read=has(Scope.seals_read),
            seals_write=has(Scope.seals_write),
            sign=has(Scope.seals_use),
            approve=has(Scope.approvals_write),
            audit=principal.has(Scope.audit_read),
            platform=principal.is_platform,
            envelopes=any(has(s) for s in ENVELOPE_READ_SCOPES),
            envelopes_write=has(Scope.envelopes_write),
        )


@dataclass
class Ctx:
    """One console request: who, for which organization, in which language."""

    request: Request
    session: Session
    services: Services
    user: ConsoleUser
    principal: Principal
    org: Organization | None
    orgs: list[Organization]
    lang: str
    can: Can

    @property
    def csrf(self) -> str:
        return self.user.session.csrf_token

    @property
    def display_name(self) -> str:
        """The person's name for greetings (the login name when the person has none)."""
        person = self.session.get(Person, self.user.account.person_id)
        return person.name if person is not None and person.name else self.user.account.username

    @property
    def org_id(self) -> str:
        """The chosen organization (pages that need one are only reachable with one)."""
        if self.org is None:
            raise HTTPException(303, headers={"Location": "/console/"})
        return self.org.id

    def t(self, key: str, **values: object) -> str:
        return translator(self.lang)(key, **values)


def organizations_of(session: Session, account: UserAccount) -> list[Organization]:
    """The organizations a user may pick: their memberships, or (platform admin) all."""
    if account.is_platform_admin:
        platform = user_principal(session, account, None)
        return list_organizations(session, platform, offset=0, limit=200)
    ids = session.exec(
        select(Membership.organization_id)
        .where(
            Membership.person_id == account.person_id,
            col(Membership.confirmed_at).is_not(None),  # invitations are offered elsewhere
        )
        .distinct()
    ).all()
    if not ids:
        return []
    return list(
        session.exec(
            select(Organization)
            .where(col(Organization.id).in_(list(ids)))
            .order_by(col(Organization.name))
        ).all()
    )


def _chosen(
    session: Session, account: UserAccount, orgs: list[Organization], wanted: str | None
) -> Organization | None:
    for org in orgs:
        if org.id == wanted:
            return org
    if account.is_platform_admin:
        # The platform admin may open any organization, also one beyond the picker's list.
        return session.get(Organization, wanted) if wanted else None
    return orgs[0] if orgs else None


def console_ctx(
    request: Request, session: SessionDep, services: ServicesDep, user: MaybeUser
) -> Ctx:
    if user is None:
        target = quote(request.url.path)
        raise HTTPException(303, headers={"Location": f"/console/login?next={target}"})
    orgs = organizations_of(session, user.account)
    org = _chosen(session, user.account, orgs, request.cookies.get(ORG_COOKIE))
    principal = user_principal(session, user.account, org.id if org else None)
    lang = pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))
    return Ctx(
        request=request,
        session=session,
        services=services,
        user=user,
        principal=principal,
        org=org,
        orgs=orgs,
        lang=lang,
        can=Can.of(principal),
    )


CtxDep = Annotated[Ctx, Depends(console_ctx)]


def lang_of(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def render(
    request: Request, name: str, *, lang: str, status: int = 200, **context: Any
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request,
        name,
        {"t": translator(lang), "lang": lang, **context},
        status_code=status,
    )
    asked = request.query_params.get("lang")
    if asked in LANGS:
        response.set_cookie(
            LANG_COOKIE, asked, max_age=365 * 86400, samesite="lax", httponly=True, path="/"
        )
    return response


def page(ctx: Ctx, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    return render(
        ctx.request,
        name,
        lang=ctx.lang,
        status=status,
        ctx=ctx,
        user=ctx.user.account,
        display_name=ctx.display_name,
        csrf_token=ctx.csrf,
        can=ctx.can,
        org=ctx.org,
        **context,
    )


def failed(ctx: Ctx, error: Exception, *, seal_id: str | None = None) -> HTMLResponse:
    """A refused or failed action: nothing of it is kept, and the page says why in the
    reader's language, what to do next and where (the seal, approvals, sign-in). A refused
    use is audited and a wrong PIN counted here (after the rollback), so no console form can
    skip either."""
    ctx.session.rollback()
    refusals.record(ctx.services, error)
    status = status_for(error)
    if isinstance(error, WrongPinError):
        refusal = refuse_wrong_pin(ctx.services, error)
        error.extra.update(refusal.extra)
        status = refusal.status
    said = explain(
        ctx.session,
        error,
        lang=ctx.lang,
        organization_id=ctx.principal.organization_id,
        seal_id=seal_id,
    )
    return page(ctx, "error.html", status=status, detail=said["detail"], problem=said)


def _answer(error: Exception, arguments: dict[str, Any]) -> HTMLResponse | None:
    """The error page for a console route's `arguments` (None: the route has no context)."""
    ctx = next((value for value in arguments.values() if isinstance(value, Ctx)), None)
    if ctx is None:
        return None
    seal_id = arguments.get("seal_id")
    return failed(ctx, error, seal_id=seal_id if isinstance(seal_id, str) else None)


def answering_errors(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint`, with a domain error it raises answered by `failed` (the seal it named, if
    any, linked) instead of the API's problem+json: the one place the console turns errors into
    pages, so no route can forget to audit a refusal or count a wrong PIN."""
    if getattr(endpoint, "answers_errors", False):
        return endpoint  # already wrapped (a router included in another copies its routes)
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def answered_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await endpoint(*args, **kwargs)
            except DOMAIN_ERRORS as exc:
                answer = _answer(exc, kwargs)
                if answer is None:
                    raise
                return answer

        answered_async.answers_errors = True  # type: ignore[attr-defined]
        return answered_async

    @functools.wraps(endpoint)
    def answered(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        except DOMAIN_ERRORS as exc:
            answer = _answer(exc, kwargs)
            if answer is None:
                raise
            return answer

    answered.answers_errors = True  # type: ignore[attr-defined]
    return answered


class ConsoleRoute(APIRoute):
    """A console route: its endpoint's domain errors become the console's error page."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, answering_errors(endpoint), **kwargs)


def console_router(prefix: str = "", **kwargs: Any) -> APIRouter:
    """The router of a console module: every route a `ConsoleRoute`."""
    return APIRouter(prefix=prefix, route_class=ConsoleRoute, **kwargs)


def read_pdf_upload(ctx: Ctx, file: UploadFile) -> bytes:
    """An uploaded PDF, refused beyond the service's body limit (``max_body_bytes``)."""
    limit = ctx.services.settings.max_body_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"the PDF is larger than {limit // (1024 * 1024)} MiB")
    return data


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass(frozen=True)
class Pager:
    page: int
    has_next: bool
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def pager(page_number: int, rows: list[Any], size: int = PAGE_SIZE) -> tuple[list[Any], Pager]:
    """Rows fetched with limit size+1: the first `size` and whether a next page exists."""
    return rows[:size], Pager(page=page_number, has_next=len(rows) > size, size=size)


async def refused_page(request: Request, exc: Exception) -> HTMLResponse:
    """A console route's declared scope refused the user: the error page, not JSON."""
    detail = getattr(exc, "detail", None) or str(exc)
    return render(request, "error.html", lang=lang_of(request), status=403, detail=detail)
