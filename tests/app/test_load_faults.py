"""Holding load: admission control answers 503 at once instead of stalling, a locked or
unreachable database is 503 with Retry-After, a full disk 507, OCSP/TSA/reads never wait for
the write lock, and /readyz and start-up say what is wrong."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as x509_ocsp
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from app.blobs import LocalBlobStore
from app.main import create_app
from app.models import AuditEvent, StoredDocument
from app.settings import Settings
from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.conftest import auth, make_uscc
from tests.seals_registry.util import audit_actions, make_org, rows

PROBLEM = "application/problem+json"


def _app(settings: Settings, **overrides: Any) -> Any:
    return create_app(settings.model_copy(update=overrides), migrate_on_start=False)


def _ocsp_request(client: TestClient) -> bytes:
    """An OCSP request for the organization CA's own responder certificate."""
    issuer = x509.load_der_x509_certificate(client.get("/pki/ca/organization.crt").content)
    root = x509.load_der_x509_certificate(client.get("/pki/ca/root.crt").content)
    request = x509_ocsp.OCSPRequestBuilder().add_certificate(issuer, root, hashes.SHA256())
    return request.build().public_bytes(Encoding.DER)


def _new_org(client: TestClient, key: str) -> httpx.Response:
    body = {"name": "宁波港城物流有限公司", "uscc": make_uscc(), "legal_representative": "李娜"}
    return client.post("/api/v1/organizations", json=body, headers=auth(key))


def test_a_full_class_answers_503_at_once_while_other_classes_are_served(
    settings: Settings, platform_key: str
) -> None:
    app = _app(
        settings,
        admission={"api": (1, 0), "pki": (4, 4)},
        admission_wait_seconds=30,
        retry_after_seconds=3,
    )
    release = threading.Event()

    def slow() -> dict[str, str]:
        release.wait(30)
        return {"done": "yes"}

    app.add_api_route("/api/v1/test-slow", slow)
    with TestClient(app, raise_server_exceptions=False) as client:
        holder: list[httpx.Response] = []
        thread = threading.Thread(target=lambda: holder.append(client.get("/api/v1/test-slow")))
        thread.start()
        deadline = time.monotonic() + 10
        while app.state.admission_gates["api"].active == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        refused = client.get("/api/v1/test-slow")
        assert time.monotonic() - started < 10  # at once, not after the 30 s wait
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith(PROBLEM)
        assert refused.headers["retry-after"] == "3"
        assert refused.json()["type"] == "urn:eseal:problem:overloaded"
        assert refused.json()["work_class"] == "api"
        # other classes of work keep their own slots
        ocsp = client.post("/pki/ocsp", content=_ocsp_request(client))
        assert ocsp.status_code == 200
        assert client.get("/readyz").status_code == 200
        release.set()
        thread.join(30)
        assert holder[0].status_code == 200
        assert client.get("/api/v1/test-slow").status_code == 200  # the slot came back


@pytest.fixture()
def write_lock_held(settings: Settings, client: TestClient) -> Iterator[None]:
    """(After the CRLs were issued once.) Another connection holds what a write needs:
    SQLite's write lock, or on PostgreSQL an exclusive lock on the audit table."""
    for ca in ("root", "organization", "personal"):
        assert client.get(f"/pki/crl/{ca}.crl").status_code == 200
    if settings.is_sqlite:
        import sqlite3

        path = settings.resolved_database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    from sqlalchemy import create_engine

    engine = create_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        conn.execute(text(f'LOCK TABLE "{AuditEvent.__tablename__}" IN ACCESS EXCLUSIVE MODE'))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def test_with_the_write_lock_held_reads_ocsp_and_tsa_answer_and_writes_get_503(
    settings: Settings, platform_key: str, write_lock_held: None
) -> None:
    app = _app(settings, db_busy_timeout_seconds=0.5, retry_after_seconds=2)
    with TestClient(app, raise_server_exceptions=False) as client:
        # authentication and reads: no write lock
        listed = client.get("/api/v1/organizations", headers=auth(platform_key))
        assert listed.status_code == 200, listed.text
        assert client.post("/pki/ocsp", content=_ocsp_request(client)).status_code == 200
        assert client.get("/pki/crl/root.crl").status_code == 200
        query = subprocess.run(
            ["openssl", "ts", "-query", "-digest", "00" * 32, "-sha256", "-cert"],
            capture_output=True,
            check=True,
        ).stdout
        stamped = client.post(
            "/pki/tsa", content=query, headers={"content-type": "application/timestamp-query"}
        )
        assert stamped.status_code == 200
        # a write waits the short busy timeout, then a clear 503
        started = time.monotonic()
        refused = _new_org(client, platform_key)
        assert time.monotonic() - started < 10
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "2"
        assert refused.json()["type"] == "urn:eseal:problem:database-unavailable"


def test_a_full_disk_is_507_and_nothing_is_half_written(
    client: TestClient, platform_key: str, new_org: Any, org_key: Any, engine: Any
) -> None:
    """Sealing stores the signed PDF before recording it: ENOSPC there is 507, and no
    document row, no use and no audit event is left behind."""
    org = make_org(client, new_org, org_key, platform_key)
    seal = org.seal()
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id)
    font = find_cjk_font()
    pdf = make_document(
        title="结算单",
        paragraphs=["本月结算。"],
        pages=1,
        font_path=font.path,
        font_number=font.index,
    )

    class FullDisk(LocalBlobStore):
        def put(self, data: bytes) -> str:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    services = client.app.state.services  # type: ignore[attr-defined]
    original = services.blobs
    services.blobs = FullDisk(original.root)
    try:
        answer = client.post(
            f"/api/v1/seals/{seal['id']}/sign",
            files={"file": ("a.pdf", pdf, "application/pdf")},
            data={"placement": json.dumps({"type": "invisible"}), "level": "B-B"},
            headers=auth(key),
        )
    finally:
        services.blobs = original
    assert answer.status_code == 507, answer.text
    assert answer.json()["type"] == "urn:eseal:problem:insufficient-storage"
    assert "seal.use" not in audit_actions(engine, seal["id"])
    assert (
        rows(
            engine, select(StoredDocument).where(StoredDocument.created_by == f"client:{client_id}")
        )
        == []
    )


def test_readiness_reports_low_disk_space(settings: Settings) -> None:
    app = _app(settings, min_free_bytes=2**62)
    with TestClient(app) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["disk"] == "low" and ready.json()["database"] == "ok"


def test_an_unreachable_database_is_503_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none",
        db_busy_timeout_seconds=1,
    )
    app = create_app(settings, migrate_on_start=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/organizations", headers=auth("esk_abc_def"))
        assert client.get("/readyz").json()["database"] == "unreachable"
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert answer.json()["type"] == "urn:eseal:problem:database-unavailable"


def _raw_request(sock: socket.socket, path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open connection; (status, headers block)."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(head.split(b" ")[1]), head


def test_keep_alive_survives_a_500_and_a_503(tmp_path: Path) -> None:
    """A crash inside a handler answers 500 problem+json and the same connection serves the
    next request (uvicorn used to drop it without `Connection: close`)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "ESEAL_DATA_DIR": str(tmp_path),
        "ESEAL_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "ESEAL_DB_BUSY_TIMEOUT_SECONDS": "1",
        "ESEAL_LOG_LEVEL": "CRITICAL",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.app.crash_server", str(port)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            status, head = _raw_request(sock, "/test-crash")
            assert status == 500 and b"problem+json" in head
            status, _ = _raw_request(sock, "/api/v1/organizations")  # DB down: 503
            assert status in (401, 503)
            status, _ = _raw_request(sock, "/healthz")  # same connection, still open
            assert status == 200
    finally:
        server.terminate()
        server.wait(30)


def test_an_unusable_data_folder_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    for data_dir in (not_a_folder, Path("/proc/eseal-data")):
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
            env={**os.environ, "ESEAL_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr
        assert lines[0].startswith("eseal: the data folder") and str(data_dir) in lines[0]
