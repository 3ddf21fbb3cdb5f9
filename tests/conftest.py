"""Shared fixtures: one migrated database and one app per test session, real HTTP through
Starlette's TestClient, and factories for valid organizations and API keys."""

from __future__ import annotations

import os
import random
import socket
import string
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.bootstrap import initialise
from app.db import make_engine, migrate, unit_of_work
from app.main import create_app
from app.services.tenancy import create_api_client
from app.settings import Settings
from pki.identifiers import resident_id_check_character, uscc_check_character
from tests.dbutil import drop_database, fresh_database_url
from tests.support import documents
from tests.support.servers import wait_until_ready

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(rng: random.Random | None = None) -> str:
    """A random but valid unified social credit code of an enterprise (prefix 91)."""
    rng = rng or random.Random()
    body = "91" + "330106" + "".join(rng.choice(USCC_CHARSET) for _ in range(9))
    return body + uscc_check_character(body)


def make_resident_id(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    birth = f"{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = "330106" + birth + "".join(rng.choice(string.digits) for _ in range(3))
    return body + resident_id_check_character(body)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = fresh_database_url(tmp_path_factory.mktemp("db"))
    yield url
    drop_database(url)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server_port() -> int:
    return _free_port()


@pytest.fixture(scope="session")
def settings(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, server_port: int
) -> Settings:
    # Certificates point their CRL/OCSP/CA URLs at the live server the interop tests start.
    return Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        database_url=database_url,
        public_base_url=f"http://127.0.0.1:{server_port}",
        max_body_bytes=1024 * 1024,
        outbound_allowed_hosts=["127.0.0.1"],  # the webhook receivers and CAs tests start
    )


@pytest.fixture(scope="session")
def live_server(app: Any, settings: Settings, server_port: int) -> Iterator[str]:
    """The same service (same database and master key) in a real uvicorn process."""
    env = {
        **os.environ,
        "ESEAL_DATABASE_URL": settings.resolved_database_url,
        "ESEAL_DATA_DIR": str(settings.data_dir),
        "ESEAL_PUBLIC_BASE_URL": settings.public_base_url,
        "ESEAL_LOG_LEVEL": "WARNING",
        # one bulk-job worker per test session (the in-process app's): a second instance on the
        # same database would take a share of every job's records, out of the tests' sight
        "ESEAL_JOBS_WORKER": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.main:app_from_environment",
            "--host",
            "127.0.0.1",
            "--port",
            str(server_port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = settings.public_base_url
    try:
        if not wait_until_ready(base, process, seconds=300):
            raise RuntimeError("the live server did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    initialise(settings)  # what `eseal init` does: schema, CA hierarchy, first admin
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def engine(client: TestClient, settings: Settings) -> Any:
    return client.app.state.services.engine  # type: ignore[attr-defined]


@pytest.fixture()
def session(engine: Any) -> Iterator[Session]:
    with unit_of_work(engine) as db_session:
        yield db_session


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def platform_key(engine: Any) -> str:
    with unit_of_work(engine) as db_session:
        _, key = create_api_client(
            db_session,
            principal=None,
            organization_id=None,
            name="tests-platform",
            scopes=["platform"],
        )
    return key.key


@pytest.fixture()
def new_org(client: TestClient, platform_key: str) -> Callable[..., dict[str, Any]]:
    """Creates an organization through the API and returns its JSON."""

    def make(name: str = "杭州青禾科技有限公司", **fields: Any) -> dict[str, Any]:
        body = {"name": name, "uscc": make_uscc(), "legal_representative": "张伟", **fields}
        response = client.post("/api/v1/organizations", json=body, headers=auth(platform_key))
        assert response.status_code == 201, response.text
        return response.json()

    return make


@pytest.fixture()
def org_key(client: TestClient, platform_key: str) -> Callable[..., str]:
    """An API key of the given organization with the given scopes (default: org admin)."""

    def make(org_id: str, scopes: tuple[str, ...] = ("org:admin",), name: str | None = None) -> str:
        response = client.post(
            f"/api/v1/organizations/{org_id}/clients",
            json={"name": name or f"portal-{random.randrange(10**9)}", "scopes": list(scopes)},
            headers=auth(platform_key),
        )
        assert response.status_code == 201, response.text
        return str(response.json()["api_key"])

    return make


@pytest.fixture()
def fresh_engine(tmp_path: Path) -> Iterator[Any]:
    """A separate, newly migrated database for tests that damage data (e.g. the audit chain)."""
    url = fresh_database_url(tmp_path)
    migrate(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()
    drop_database(url)


@pytest.fixture(scope="session", name="contract_pdf")
def contract_pdf_fixture() -> bytes:
    """The test contract (tests/support/documents.py), two pages."""
    return documents.contract_pdf()
