"""The operator's command line: init is idempotent, client create prints a working key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
