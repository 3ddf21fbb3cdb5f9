"""Console fixtures: an organization with one console user per role (made through the API, as a
portal would), a cookie-keeping HTTPS TestClient per user, and Debian's Chromium driven by
Playwright against the live server."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_resident_id, make_uscc
from tests.support import documents

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "console password 12345"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
ROLES = ("org_admin", "signer", "approver", "auditor")


@dataclass
class ConsoleOrg:
    id: str
    name: str
    users: dict[str, str] = field(default_factory=dict)  # role -> username
    people: dict[str, str] = field(default_factory=dict)  # role -> person id


def make_console_org(client: TestClient, platform_key: str, name: str) -> ConsoleOrg:
    response = client.post(
        "/api/v1/organizations",
        json={"name": name, "uscc": make_uscc(), "legal_representative": "张伟"},
        headers=auth(platform_key),
    )
    assert response.status_code == 201, response.text
    org = ConsoleOrg(id=response.json()["id"], name=name)
    people = {"org_admin": "王敏", "signer": "李娜", "approver": "赵强", "auditor": "陈静"}
    for role in ROLES:
        username = f"{role.replace('_', '')}-{secrets.token_hex(3)}"
        created = client.post(
            f"/api/v1/organizations/{org.id}/members",
            json={
                "name": people[role],
                "resident_id": make_resident_id(),
                "roles": [role],
                "username": username,
                "password": PASSWORD,
            },
            headers=auth(platform_key),
        )
        assert created.status_code == 201, created.text
        org.users[role] = username
        org.people[role] = created.json()["person_id"]
    return org


def make_seal(
    client: TestClient,
    platform_key: str,
    org_id: str,
    name: str,
    *,
    kind: str = "contract",
    requires_approval: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    """An active seal of the organization (made through the API, as a portal would)."""
    response = client.post(
        f"/api/v1/organizations/{org_id}/seals",
        json={
            "kind": kind,
            "dpi": 150,
            "name": name,
            "requires_approval": requires_approval,
            **fields,
        },
        headers=auth(platform_key),
    )
    assert response.status_code == 201, response.text
    activated = client.post(
        f"/api/v1/seals/{response.json()['id']}/activate", headers=auth(platform_key)
    )
    assert activated.status_code == 200, activated.text
    return dict(activated.json())


def grant_person(client: TestClient, platform_key: str, seal_id: str, person_id: str) -> None:
    response = client.post(
        f"/api/v1/seals/{seal_id}/grants",
        json={"grantee_kind": "person", "grantee_id": person_id},
        headers=auth(platform_key),
    )
    assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def console_org(client: TestClient, platform_key: str) -> ConsoleOrg:
    return make_console_org(client, platform_key, "杭州青禾科技有限公司")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


@pytest.fixture()
def signed_in(app: Any, client: TestClient) -> Iterator[Callable[[str], TestClient]]:
    """A signed-in HTTPS TestClient for a username (cookies kept, as a browser would)."""
    opened: list[TestClient] = []

    def make(username: str) -> TestClient:
        browser = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
        browser.__enter__()
        opened.append(browser)
        form = browser.get("/console/login")
        response = browser.post(
            "/console/login",
            data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        return browser

    yield make
    for browser in opened:
        browser.__exit__(None, None, None)


# --- the real browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while
    it is open, and later tests call asyncio.run (signing, verification)."""
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: run scripts/system-deps.sh"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def signed_in_page(
    chromium: Any,
    live_server: str,
    username: str,
    *,
    width: int = 1360,
    lang: str = "zh-CN",
    timeout_ms: int = 20_000,
) -> tuple[Any, Any]:
    """A new browser context (own cookies) signed in as `username`, at the console home, and
    its page; the page collects the browser's console errors in ``page.console_errors``."""
    context = chromium.new_context(
        base_url=live_server,
        locale=lang,
        viewport={"width": width, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(timeout_ms)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/")
    return context, page


def upload_for_signing(
    browser: TestClient,
    *,
    filename: str = "采购合同.pdf",
    title: str = "采购合同",
    paragraphs: tuple[str, ...] = ("采购内容见附件。",),
    pages: int = 1,
) -> str:
    """Upload a contract on the sign page as the signed-in `browser`; the document's id."""
    pdf = documents.contract_pdf(pages, title=title, paragraphs=paragraphs)
    start = browser.get("/console/sign")
    uploaded = browser.post(
        "/console/sign/upload",
        data={"csrf_token": csrf_of(start.text)},
        files={"file": (filename, pdf, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    return str(uploaded.headers["location"].rsplit("/", 1)[1])


@pytest.fixture()
def open_page(chromium: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """A new browser context (own cookies) signed in as `username`, at the console home."""
    contexts: list[Any] = []

    def make(username: str, *, lang: str = "zh-CN") -> Any:
        context, page = signed_in_page(chromium, live_server, username, lang=lang)
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()
