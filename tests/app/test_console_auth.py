"""Console sign-in: argon2 passwords, Secure/HttpOnly session cookie, CSRF, lockout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db import unit_of_work
from app.models import AuditEvent, Person
from app.services.tenancy import create_account


@pytest.fixture()
def browser(app: Any, client: TestClient) -> Iterator[TestClient]:
    """A cookie-keeping client over https, as a browser would talk to a real deployment."""
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


@pytest.fixture()
def account(engine: Any) -> dict[str, str]:
    import secrets

    username = f"keeper-{secrets.token_hex(3)}"
    password = "a long enough password"
    with unit_of_work(engine) as session:
        person = Person(name="印章管理员")
        session.add(person)
        session.flush()
        created = create_account(session, person=person, username=username, password=password)
    return {"username": username, "password": password, "id": created.id}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_sign_in_and_out(browser: TestClient, account: dict[str, str]) -> None:
    form = browser.get("/console/login")
    assert form.status_code == 200 and "登录" in form.text
    response = browser.post(
        "/console/login",
        data={
            "username": account["username"],
            "password": account["password"],
            "csrf_token": _csrf(form.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "eseal_session=" in cookie
    assert (
        "HttpOnly" in cookie
        and "Secure" in cookie
        and "SameSite=lax" in cookie.replace("Lax", "lax")
    )
    home = browser.get("/console/")
    assert home.status_code == 200 and account["username"] in home.text
    assert "content-security-policy" in home.headers

    # Sign-out needs the session's CSRF token; without it nothing happens.
    refused = browser.post("/console/logout", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    assert browser.get("/console/", follow_redirects=False).status_code == 200
    out = browser.post(
        "/console/logout", data={"csrf_token": _csrf(home.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert browser.get("/console/", follow_redirects=False).status_code == 303


def test_login_without_csrf_token_is_refused(browser: TestClient, account: dict[str, str]) -> None:
    browser.get("/console/login")
    response = browser.post(
        "/console/login",
        data={
            "username": account["username"],
            "password": account["password"],
            "csrf_token": "not-the-cookie",
        },
    )
    assert response.status_code == 403
    assert response.json()["type"] == "urn:eseal:problem:forbidden"


def test_wrong_password_then_lockout(
    browser: TestClient, account: dict[str, str], settings: Any, engine: Any
) -> None:
    for _ in range(settings.login_max_failures):
        form = browser.get("/console/login")
        wrong = browser.post(
            "/console/login",
            data={
                "username": account["username"],
                "password": "wrong password!",
                "csrf_token": _csrf(form.text),
            },
        )
        assert wrong.status_code == 401
    form = browser.get("/console/login")
    locked = browser.post(
        "/console/login",
        data={
            "username": account["username"],
            "password": account["password"],
            "csrf_token": _csrf(form.text),
        },
    )
    # Held back from this address, with the same answer as a wrong password (issue 10).
    assert locked.status_code == 401 and "用户名或密码错误" in locked.text
    with unit_of_work(engine) as session:
        actions = session.exec(
            select(AuditEvent.action).where(AuditEvent.target_id == account["id"])
        ).all()
    assert "account.locked" in actions
