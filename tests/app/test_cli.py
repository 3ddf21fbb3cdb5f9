"""The operator's command line: init is idempotent, client create prints a working key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth, make_uscc
from tests.dbutil import drop_database, fresh_database_url


def _eseal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_help_lists_the_commands() -> None:
    result = _eseal(dict(os.environ), "--help")
    assert result.returncode == 0
    for command in ("init", "serve", "client", "audit"):
        assert command in result.stdout


def test_init_twice_then_a_platform_client(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    env = {**os.environ, "ESEAL_DATA_DIR": str(tmp_path / "var"), "ESEAL_DATABASE_URL": url}
    try:
        first = _eseal(env, "init")
        assert first.returncode == 0, first.stderr
        assert "administrator 'admin'" in first.stdout and "first-admin-password" in first.stdout
        second = _eseal(env, "init")
        assert second.returncode == 0
        assert "nothing changed" in second.stdout
        assert "password" not in second.stdout

        created = _eseal(
            env, "client", "create", "--org", "platform", "--name", "ops", "--scopes", "platform"
        )
        assert created.returncode == 0, created.stderr
        key = created.stdout.split("API key (shown once): ")[1].strip()
        bad = _eseal(
            env, "client", "create", "--org", "platform", "--name", "x", "--scopes", "seals:read"
        )
        assert bad.returncode == 2 and "platform" in bad.stderr

        settings = Settings(data_dir=tmp_path / "var", database_url=url)
        with TestClient(create_app(settings)) as client:
            response = client.post(
                "/api/v1/organizations",
                json={"name": "命令行企业", "uscc": make_uscc()},
                headers=auth(key),
            )
            assert response.status_code == 201
            org_id = response.json()["id"]
        org_client = _eseal(
            env,
            "client",
            "create",
            "--org",
            org_id,
            "--name",
            "portal",
            "--scopes",
            "seals:read,certificates:read",
        )
        assert org_client.returncode == 0, org_client.stderr
        assert "certificates:read seals:read" in org_client.stdout
    finally:
        drop_database(url)


def test_admin_password_is_argon2_hashed(tmp_path: Path) -> None:
    from sqlmodel import Session, select

    from app.db import make_engine
    from app.models import UserAccount

    url = fresh_database_url(tmp_path)
    env = {**os.environ, "ESEAL_DATA_DIR": str(tmp_path / "var"), "ESEAL_DATABASE_URL": url}
    try:
        out = _eseal(env, "init").stdout
        assert "password '" not in out  # not a terminal: the password goes to a 0600 file
        secret = tmp_path / "var" / "first-admin-password"
        assert secret.stat().st_mode & 0o777 == 0o600
        password = secret.read_text().split("password: ")[1].strip()
        engine: Any = make_engine(url)
        with Session(engine) as session:
            account = session.exec(select(UserAccount)).one()
        engine.dispose()
        assert account.password_hash.startswith("$argon2id$")
        assert password not in account.password_hash
    finally:
        drop_database(url)


def _console_login(client: TestClient, username: str, password: str) -> int:
    import re

    form = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, form.text[:300]
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    return response.status_code


def test_admin_reset_password_lets_the_admin_back_in(tmp_path: Path) -> None:
    """A forgotten or locked-out admin password: `eseal admin reset-password` on the server
    prints a new one, lifts the lockout and signs out every old session."""
    url = fresh_database_url(tmp_path)
    env = {**os.environ, "ESEAL_DATA_DIR": str(tmp_path / "var"), "ESEAL_DATABASE_URL": url}
    try:
        assert _eseal(env, "init").returncode == 0
        # not at a terminal: the first password is handed over in a 0600 file, never printed
        handed = (tmp_path / "var" / "first-admin-password").read_text()
        old = handed.split("password: ")[1].strip()
        settings = Settings(data_dir=tmp_path / "var", database_url=url)
        app = create_app(settings)
        with TestClient(app, base_url="https://testserver") as browser:
            assert _console_login(browser, "admin", old) == 303
            assert browser.get("/console/", follow_redirects=False).status_code == 200
            with TestClient(app, base_url="https://testserver") as other:
                for _ in range(settings.login_max_failures):
                    _console_login(other, "admin", "not the password")
                assert _console_login(other, "admin", old) != 303  # locked out now

                reset = _eseal(env, "admin", "reset-password")
                assert reset.returncode == 0, reset.stderr
                new = reset.stdout.split("New password (shown once): ")[1].strip()
                assert new != old and len(new) >= 12

                assert _console_login(other, "admin", old) != 303
                assert _console_login(other, "admin", new) == 303  # lockout lifted
            # the session opened with the old password is over
            assert browser.get("/console/", follow_redirects=False).status_code in (302, 303)

        chosen = subprocess.run(
            [sys.executable, "-m", "app.cli", "admin", "reset-password", "--password-stdin"],
            env=env,
            input="a chosen long password\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert chosen.returncode == 0 and "shown once" not in chosen.stdout
        unknown = _eseal(env, "admin", "reset-password", "--username", "nobody")
        assert unknown.returncode == 2 and "nobody" in unknown.stderr
        audit_ok = _eseal(env, "audit", "verify")
        assert audit_ok.returncode == 0, audit_ok.stdout
    finally:
        drop_database(url)


def test_serve_defaults_to_a_web_worker_per_core_sharing_the_cores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.cli import build_parser, share_cores

    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    for variable in ("ESEAL_PDF_WORKERS", "ESEAL_SEAL_WORKERS"):
        monkeypatch.delenv(variable, raising=False)
    assert build_parser().parse_args(["serve"]).workers is None
    assert share_cores(None) == 4
    assert os.environ["ESEAL_PDF_WORKERS"] == os.environ["ESEAL_SEAL_WORKERS"] == "1"
    monkeypatch.setenv("ESEAL_SEAL_WORKERS", "3")  # an operator's choice is kept
    monkeypatch.delenv("ESEAL_PDF_WORKERS")
    assert share_cores(2) == 2
    assert os.environ["ESEAL_PDF_WORKERS"] == "2" and os.environ["ESEAL_SEAL_WORKERS"] == "3"
