"""One signing path for every caller: bulk jobs, envelopes and templates sign in a seal worker
process (never in the service's own process) and never while a write transaction is open --
on SQLite, an independent connection can take the write lock at the moment of signing."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

import app.sealing_staged
from app.db import unit_of_work
from app.pdfpool import PdfWorkerPool
from app.settings import Settings
from tests.conftest import auth, make_uscc
from tests.seals_registry.util import make_org
from tests.seals_templates.samples import licence_json
from tests.support.envelopes import two_party_envelope

FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def _write_lock_free(settings: Settings) -> bool | None:
    """Whether another connection could take SQLite's write lock now (None: not SQLite)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    probe = sqlite3.connect(url.database, timeout=0, isolation_level=None)
    try:
        # another record's short commit may hold the lock for an instant; a caller signing
        # inside its own write transaction would hold it through every try
        for _ in range(20):
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return True
            except sqlite3.OperationalError:
                time.sleep(0.05)
        return False
    finally:
        probe.close()


@pytest.fixture()
def signings(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[int, bool | None]]:
    """(pid of the process that signs, write lock free?) for every signature from now on;
    signing in this process fails outright."""
    seen: list[tuple[int, bool | None]] = []

    def in_this_process(**_: Any) -> Any:
        raise AssertionError("a document was signed in the service's own process")

    monkeypatch.setattr(app.sealing_staged, "sign_document", in_this_process)
    exchange = PdfWorkerPool._exchange

    def watched(self: PdfWorkerPool, worker: Any, kind: str, payload: Any) -> Any:
        if kind == "sign":
            seen.append((worker.process.pid, _write_lock_free(settings)))
        return exchange(self, worker, kind, payload)

    monkeypatch.setattr(PdfWorkerPool, "_exchange", watched)
    if FAST_FONT.is_file():
        services = client.app.state.services  # type: ignore[attr-defined]
        monkeypatch.setattr(services.settings, "document_font", FAST_FONT)
    return seen


def _all_in_workers(seen: list[tuple[int, bool | None]], at_least: int) -> None:
    assert len(seen) >= at_least, seen
    assert all(pid != os.getpid() for pid, _ in seen), seen
    assert all(free is not False for _, free in seen), f"a write lock was held: {seen}"


def test_bulk_job_and_template_seals_are_signed_in_a_worker_without_a_write_lock(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    signings: list[tuple[int, bool | None]],
) -> None:
    bureau = make_org(client, new_org, org_key, platform_key, name="杭州市滨江区市场监督管理局")
    seal = bureau.seal("official")
    client_id, key = bureau.key("seals:read", "seals:use")
    bureau.grant(seal["id"], "client", client_id)
    records = [licence_json(name=f"滨江青禾第{i}分公司", uscc=make_uscc()) for i in range(3)]
    created = client.post(
        "/api/v1/jobs",
        json={"template": "business-licence", "seal_id": seal["id"], "level": "B-B",
              "records": records},
        headers=auth(key),
    )  # fmt: skip
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    deadline = time.monotonic() + 120
    job = created.json()
    while job["status"] != "completed" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(f"/api/v1/jobs/{job_id}", headers=auth(key)).json()
    assert (job["status"], job["done"], job["failed"]) == ("completed", 3, 0), job
    _all_in_workers(signings, 3)

    one = client.post(
        "/api/v1/templates/business-licence/documents",
        json={"seal_id": seal["id"], "level": "B-T",
              "data": licence_json(name="滨江青禾单份公司", uscc=make_uscc())},
        headers=auth(key),
    )  # fmt: skip
    assert one.status_code == 200, one.text
    _all_in_workers(signings, 4)


def test_envelope_seals_are_signed_in_a_worker_without_a_write_lock(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    signings: list[tuple[int, bool | None]],
) -> None:
    parties, envelope = two_party_envelope(
        client, new_org, org_key, platform_key,
        names=("某县行政审批局", "某市行政审批局"), routing="sequential", level="B-LT",
    )  # fmt: skip
    for party, participant in zip(parties, envelope["participants"], strict=True):
        signed = client.post(
            f"/api/v1/envelopes/{envelope['id']}/participants/{participant['id']}/sign",
            json={},
            headers=auth(party.key),
        )
        assert signed.status_code == 200, signed.text
    assert signed.json()["envelope"]["status"] == "completed"
    _all_in_workers(signings, 2)
    final = client.get(f"/api/v1/envelopes/{envelope['id']}/document", headers=auth(parties[1].key))
    assert final.status_code == 200, final.text
    report = client.post("/api/v1/verify", content=final.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert len(report["signatures"]) == 2


def test_the_probe_sees_a_write_transaction(client: TestClient, settings: Settings) -> None:
    """The check above can fail: while a unit of work writes, the probe finds the lock held."""
    if _write_lock_free(settings) is None:
        pytest.skip("PostgreSQL has no database-wide write lock to probe")
    services = client.app.state.services  # type: ignore[attr-defined]
    with unit_of_work(services.engine) as session:
        session.execute(text("SELECT 1"))  # the write engine begins IMMEDIATE
        assert _write_lock_free(settings) is False
    assert _write_lock_free(settings) is True
