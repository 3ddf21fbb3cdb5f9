"""Real `eseal` processes for multi-instance tests: same PostgreSQL, same master key, database
blob store, each with its own data folder and port (as on two machines)."""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import auth, make_uscc
from tests.dbutil import POSTGRES_URL, drop_database, fresh_database_url
from tests.support.servers import wait_until_ready

FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eseal_binary() -> str:
    found = shutil.which("eseal", path=str(Path(os.sys.executable).parent))
    assert found, "the eseal command is not installed in this environment"
    return found


@contextmanager
def postgres_database(tmp: Path) -> Iterator[str]:
    """A fresh PostgreSQL database. In the suite's SQLite run the test is skipped: it runs in
    the PostgreSQL run (`.ci/run` runs both), since several instances share one PostgreSQL."""
    if not POSTGRES_URL.startswith("postgresql"):
        pytest.skip("runs in the suite's PostgreSQL run (ESEAL_TEST_DATABASE_URL)")
    url = fresh_database_url(tmp)
    try:
        yield url
    finally:
        drop_database(url)


@dataclass
class Installation:
    """The environment every instance of one installation shares."""

    database_url: str
    root: Path
    pki_port: int = field(default_factory=free_port)
    master_key: str | None = field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
    blob_store: str = "database"
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, name: str, port: int) -> dict[str, str]:
        data = self.root / name
        env = {
            **os.environ,
            "ESEAL_DATABASE_URL": self.database_url,
            "ESEAL_DATA_DIR": str(data),
            "ESEAL_BLOB_STORE": self.blob_store,
            "ESEAL_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "ESEAL_PKI_BASE_URL": f"http://127.0.0.1:{self.pki_port}",
            "ESEAL_OUTBOUND_ALLOWED_HOSTS": '["127.0.0.1"]',
            "ESEAL_INSTANCE_NAME": name,
            "ESEAL_LOG_LEVEL": "WARNING",
            **self.extra,
        }
        if self.master_key:
            env["ESEAL_MASTER_KEY"] = self.master_key
        if FAST_FONT.is_file():
            env["ESEAL_DOCUMENT_FONT"] = str(FAST_FONT)
        return env

    def attempt(self, *args: str, name: str = "cli") -> tuple[int, str]:
        """`eseal ARGS` as an operator runs it on machine `name` of this installation."""
        done = subprocess.run(
            [eseal_binary(), *args],
            env=self.env(name, self.pki_port),
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    def run(self, *args: str, name: str = "cli") -> str:
        code, out = self.attempt(*args, name=name)
        assert code == 0, f"eseal {' '.join(args)}: {out}"
        return out

    def platform_key(self, name: str = "cli") -> str:
        out = self.run(
            "client", "create", "--org", "platform", "--name", "ops", "--scopes", "platform",
            name=name,
        )  # fmt: skip
        return next(word for word in out.split() if word.startswith("esk_"))

    @contextmanager
    def serve(self, name: str, port: int | None = None) -> Iterator[str]:
        """`eseal serve` on `port` until the block ends; yields its base URL."""
        port = port or free_port()
        log = (self.root / f"{name}.log").open("w")
        process = subprocess.Popen(
            [eseal_binary(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env(name, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            # a cold start on a loaded machine
            if not wait_until_ready(base, process, seconds=300):
                tail = (self.root / f"{name}.log").read_text()[-3000:]
                raise RuntimeError(f"instance {name} did not start: {tail}")
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def expect(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def agency_with_seal(api: httpx.Client, platform: str) -> tuple[str, str, str]:
    """An agency with an active official seal and a key that may use it and send deliveries."""
    org = expect(
        api.post(
            "/api/v1/organizations",
            json={"name": "杭州市西湖区市场监督管理局", "uscc": make_uscc(),
                  "legal_representative": "张伟", "kind": "agency"},
            headers=auth(platform),
        ),
        201,
    )  # fmt: skip
    seal = expect(
        api.post(
            f"/api/v1/organizations/{org['id']}/seals",
            json={"kind": "official", "dpi": 150},
            headers=auth(platform),
        ),
        201,
    )
    expect(api.post(f"/api/v1/seals/{seal['id']}/activate", headers=auth(platform)))
    user = expect(
        api.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": "portal", "scopes": ["seals:use", "seals:read", "envelopes:write"]},
            headers=auth(platform),
        ),
        201,
    )
    expect(
        api.post(
            f"/api/v1/seals/{seal['id']}/grants",
            json={"grantee_kind": "client", "grantee_id": user["id"]},
            headers=auth(platform),
        ),
        201,
    )
    return org["id"], seal["id"], user["api_key"]


def wait_job(api: httpx.Client, key: str, job_id: str, timeout: float = 900) -> dict[str, Any]:
    """The bulk job once completed (polled through `api`)."""
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = expect(api.get(f"/api/v1/jobs/{job_id}", headers=auth(key)))
        if state["status"] == "completed":
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.5)
