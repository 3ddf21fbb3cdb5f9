"""Findings 5 (login, client addresses, rate limits) of issue 10, replayed through HTTP:

- five wrong passwords locked any account (admin included) for everybody, with a faster,
  different answer that told which usernames exist;
- the verification rate limit was bypassed with a fresh X-Forwarded-For per request, and
  counted per worker process.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.db import unit_of_work
from app.models import AuditEvent, Person
from app.ratelimit_shared import SharedRateLimiter
from app.services.tenancy import create_account

PASSWORD = "the owner's long password"


def _address() -> str:
    """A fresh client address per test (the counts are shared by the session's app)."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


def _browser(app: Any, address: str) -> TestClient:
    return TestClient(
        app, base_url="https://testserver", raise_server_exceptions=False, client=(address, 50000)
    )


def _try(browser: TestClient, username: str, password: str, **headers: str) -> Any:
    form = browser.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    return browser.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        headers=headers,
        follow_redirects=False,
    )


@pytest.fixture()
def owner(engine: Any) -> dict[str, str]:
    import secrets

    username = f"owner-{secrets.token_hex(3)}"
    with unit_of_work(engine) as session:
        person = Person(name="账户所有人")
        session.add(person)
        session.flush()
        account = create_account(session, person=person, username=username, password=PASSWORD)
    return {"username": username, "id": account.id}


def test_guessing_holds_back_the_guesser_not_the_owner(
    app: Any, owner: dict[str, str], settings: Any, engine: Any
) -> None:
    attacker = _browser(app, _address())
    answers = [
        _try(attacker, owner["username"], f"wrong guess {i}")
        for i in range(settings.login_max_failures)
    ]
    held = _try(attacker, owner["username"], PASSWORD)  # right, but from the guessing address
    unknown = _try(attacker, "nobody-" + owner["username"], "whatever it is")
    bodies = {_message(r.text) for r in [*answers, held, unknown]}
    assert {r.status_code for r in [*answers, held, unknown]} == {401}
    assert len(bodies) == 1  # wrong, held back and unknown all read the same
    assert "锁定" not in held.text and "locked" not in held.text.lower()

    owner_browser = _browser(app, _address())
    signed = _try(owner_browser, owner["username"], PASSWORD)
    assert signed.status_code == 303, signed.text  # the owner, elsewhere, is never shut out
    with Session(engine) as session:
        actions = session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.target_id == owner["id"])
            .order_by(col(AuditEvent.seq))
        ).all()
    assert actions.count("account.login_failed") == settings.login_max_failures - 1
    assert actions[-3:] == ["account.locked", "account.login_held_back", "account.login"]


def _message(html: str) -> str:
    match = re.search(r'class="error"[^>]*>([^<]+)<', html) or re.search(
        r"(用户名或密码错误[^<]*)", html
    )
    assert match, html[:800]
    return match.group(1).strip()


def test_failed_sign_ins_are_throttled_per_address_whatever_it_claims(
    app: Any, settings: Any
) -> None:
    address = _address()
    browser = _browser(app, address)
    for i in range(settings.login_rate_per_minute):
        answer = _try(browser, f"ghost-{i}", "not a password", **{"X-Forwarded-For": f"1.2.3.{i}"})
        assert answer.status_code == 401
    throttled = _try(browser, "ghost-x", "not a password", **{"X-Forwarded-For": "9.9.9.9"})
    assert throttled.status_code == 429
    # Another address is not affected.
    assert _try(_browser(app, _address()), "ghost-y", "not a password").status_code == 401


def test_forwarded_addresses_count_only_from_a_trusted_proxy(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.services.verify_limiter, "limit", 3)
    spoofer = TestClient(app, client=(_address(), 40000))
    answers = [
        spoofer.post(
            "/api/v1/verify", content=b"not a pdf", headers={"X-Forwarded-For": f"8.8.{i}.1"}
        ).status_code
        for i in range(4)
    ]
    assert answers[-1] == 429 and 429 not in answers[:3]

    proxy = _address()
    monkeypatch.setattr(app.state.settings, "trusted_proxies", [f"{proxy}/32"])
    behind = TestClient(app, client=(proxy, 40000))
    for client_ip in (_address(), _address()):  # two real clients behind the proxy
        statuses = [
            behind.post(
                "/api/v1/verify",
                content=b"not a pdf",
                headers={"X-Forwarded-For": f"6.6.6.6, {client_ip}"},  # left part is forged
            ).status_code
            for _ in range(4)
        ]
        assert statuses[-1] == 429 and 429 not in statuses[:3]


def test_the_limit_holds_across_worker_processes(tmp_path: Path) -> None:
    path = tmp_path / "ratelimits.db"
    SharedRateLimiter(path, bucket="verify", limit=30)  # creates the 0600 file
    code = (
        "import sys; from pathlib import Path; from app.ratelimit_shared import SharedRateLimiter;"
        "l = SharedRateLimiter(Path(sys.argv[1]), bucket='verify', limit=30);"
        "print(sum(l.allow('203.0.113.5') is None for _ in range(25)))"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    allowed = [int(w.communicate(timeout=60)[0]) for w in workers]
    assert sum(allowed) == 30, allowed  # 50 tries in two processes, 30 allowed in all
    assert path.stat().st_mode & 0o777 == 0o600
