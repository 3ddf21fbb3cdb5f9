"""Console pages: sign in, sign out, home."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from app.console.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    new_csrf_token,
    sign_in,
    tokens_match,
)
from app.deps import SessionDep, SettingsDep
from app.errors import Forbidden
from app.models import ConsoleSession, UserAccount
from app.security import close_session, load_session

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(prefix="/console", include_in_schema=False)


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


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/login")
def login_form(request: Request, settings: SettingsDep) -> HTMLResponse:
    csrf = new_csrf_token()
    response = _page(request, "login.html", csrf_token=csrf, error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        csrf,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        path="/console",
    )
    return response


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    if not tokens_match(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise Forbidden("the sign-in form's CSRF token is missing or wrong; reload the page")
    outcome = sign_in(session, settings=settings, username=username, password=password)
    if not outcome.ok or outcome.session is None:
        return _page(request, "login.html", 401, csrf_token=csrf_token, error=outcome.message)
    response = RedirectResponse("/console/", status_code=303)
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


@router.post("/logout")
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
    return response


@router.get("/")
def home(request: Request, user: MaybeUser) -> Response:
    if user is None:
        return RedirectResponse("/console/login", status_code=303)
    return _page(request, "home.html", user=user.account, csrf_token=user.session.csrf_token)
