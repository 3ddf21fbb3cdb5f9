"""Finding 5 (files) of issue 10: the SQLite database and WAL were world-readable (0644)
while holding PIN hashes and full ID numbers, and the first administrator's password went
to the service log. Now: folder 0700 and database files 0600, fixed with a warning in
development and refused in production; the password goes to a 0600 file when no terminal
is there to show it."""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import InsecureSettingsError, Settings
from tests.console.conftest import csrf_of


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_development_fixes_loose_modes_with_a_warning(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    database = data / "eseal.db"
    database.touch()
    database.chmod(0o644)
    app = create_app(Settings(data_dir=data))  # its JSON log goes to stderr
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        with app.state.services.engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM organization").all()
            assert (data / "eseal.db-wal").exists()
            assert _mode(data / "eseal.db-wal") == 0o600  # SQLite copies the database's mode
    assert _mode(data) == 0o700 and _mode(database) == 0o600
    assert _mode(data / "master.key") == 0o600
    warnings = [line for line in capfd.readouterr().err.splitlines() if "eseal.files" in line]
    assert any("0755" in w for w in warnings) and any("0644" in w for w in warnings)


def test_a_fresh_database_is_created_0600(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    with TestClient(create_app(Settings(data_dir=data))) as client:
        assert client.get("/healthz").status_code == 200
    assert _mode(data) == 0o700 and _mode(data / "eseal.db") == 0o600


def test_production_refuses_a_world_readable_database(tmp_path: Path) -> None:
    data = tmp_path / "prod"
    data.mkdir(mode=0o700)
    (data / "eseal.db").touch()
    (data / "eseal.db").chmod(0o644)
    settings = Settings(
        environment="production",
        data_dir=data,
        master_key=base64.b64encode(os.urandom(32)).decode(),
        policy_oid="1.3.6.1.4.1.32473.99",
    )
    with pytest.raises(InsecureSettingsError, match=r"eseal\.db is mode 0644"):
        create_app(settings)
    assert _mode(data / "eseal.db") == 0o644  # left for an operator to look at


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_keeps_the_first_password_out_of_its_output(tmp_path: Path) -> None:
    data = tmp_path / "served"
    port = _free_port()
    env = {**os.environ, "ESEAL_DATA_DIR": str(data), "ESEAL_COOKIE_SECURE": "false"}
    env.pop("ESEAL_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        secret = data / "first-admin-password"
        assert _mode(secret) == 0o600
        password = re.search(r"password: (\S+)", secret.read_text())
        assert password
        with httpx.Client(base_url=base) as browser:
            form = browser.get("/console/login")
            signed = browser.post(
                "/console/login",
                data={
                    "username": "admin",
                    "password": password.group(1),
                    "csrf_token": csrf_of(form.text),
                },
            )
            assert signed.status_code in (200, 303), signed.text[:300]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert password.group(1) not in output
    assert "first-admin-password" in output
