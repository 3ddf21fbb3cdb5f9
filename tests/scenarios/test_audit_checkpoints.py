"""Audit checkpoints: the chain's head time-stamped on demand and periodically; a removed or
re-hashed tail, invisible to the link-by-link check, is caught against the last checkpoint.
Export of audit events as CSV and JSON with filters."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import col, select

from app.bootstrap import initialise
from app.db import unit_of_work
from app.main import create_app
from app.models import AuditEvent
from app.services import audit, checkpoints
from app.services.tenancy import create_api_client
from app.settings import Settings
from tests.conftest import auth, make_uscc
from tests.console.conftest import signed_in as signed_in  # the fixture
from tests.dbutil import drop_database, fresh_database_url


@pytest.fixture()
def own_service(tmp_path: Path) -> Iterator[tuple[TestClient, str, Any]]:
    """A service on its own database (these tests damage the chain): client, platform key,
    engine."""
    url = fresh_database_url(tmp_path)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        jobs_worker=False,
        audit_checkpoint_minutes=0,  # no background checkpoint between the test's steps
    )
    initialise(settings)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        engine = app.state.services.engine
        with unit_of_work(engine) as session:
            _, key = create_api_client(
                session, principal=None, organization_id=None, name="p", scopes=["platform"]
            )
        yield client, key.key, engine
    drop_database(url)


def _orgs(client: TestClient, key: str, n: int) -> None:
    for i in range(n):
        response = client.post(
            "/api/v1/organizations",
            json={"name": f"杭州审计{i}号有限公司", "uscc": make_uscc()},
            headers=auth(key),
        )
        assert response.status_code == 201


def _check(client: TestClient, key: str) -> dict[str, Any]:
    response = client.get("/api/v1/audit/checkpoints/verify", headers=auth(key))
    assert response.status_code == 200
    return dict(response.json())


def _rehash_from(engine: Any, seq: int) -> None:
    """Re-link every event from ``seq`` on, as someone with database access would."""
    with unit_of_work(engine) as session:
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.seq) >= seq - 1).order_by(col(AuditEvent.seq))
        ).all()
        previous = events[0].hash
        for event in events[1:]:
            event.prev_hash = previous
            event.hash = audit.event_hash(event)
            previous = event.hash
            session.add(event)


def test_a_removed_tail_is_caught_against_the_checkpoint(
    own_service: tuple[TestClient, str, Any],
) -> None:
    client, key, engine = own_service
    _orgs(client, key, 4)
    made = client.post("/api/v1/audit/checkpoints", headers=auth(key))
    assert made.status_code == 201, made.text
    checkpoint = made.json()
    assert _check(client, key)["holds"] is True
    # nothing new: asking again returns the same checkpoint
    again = client.post("/api/v1/audit/checkpoints", headers=auth(key)).json()
    assert again["id"] == checkpoint["id"]
    token = client.get(checkpoint["token_url"], headers=auth(key))
    assert token.status_code == 200 and token.content[:1] == b"\x30"

    # cut off the last two events: every remaining link still holds
    with unit_of_work(engine) as session:
        session.execute(text("DELETE FROM auditevent WHERE seq > :n"), {"n": checkpoint["seq"] - 2})
    chain = client.get("/api/v1/audit/verify", headers=auth(key)).json()
    assert chain["intact"] is True
    check = _check(client, key)
    assert check["holds"] is False
    assert "tail was removed" in check["reason"], check


def test_a_rewritten_and_relinked_tail_is_caught(
    own_service: tuple[TestClient, str, Any],
) -> None:
    client, key, engine = own_service
    _orgs(client, key, 3)
    checkpoint = client.post("/api/v1/audit/checkpoints", headers=auth(key)).json()
    _orgs(client, key, 2)  # events after the checkpoint are fine
    assert _check(client, key)["holds"] is True
    with unit_of_work(engine) as session:
        session.execute(
            text("UPDATE auditevent SET details = :d WHERE seq = :n"),
            {"d": '{"name":"伪造"}', "n": checkpoint["seq"] - 1},
        )
    _rehash_from(engine, checkpoint["seq"] - 1)
    assert client.get("/api/v1/audit/verify", headers=auth(key)).json()["intact"] is True
    check = _check(client, key)
    assert check["holds"] is False
    assert f"event {checkpoint['seq']} is not the one checkpointed" in check["reason"]


def test_checkpoints_are_made_periodically(
    own_service: tuple[TestClient, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, key, engine = own_service
    services = client.app.state.services  # type: ignore[attr-defined]
    assert checkpoints.periodic_task(services)() is None  # 0 minutes: only on demand
    monkeypatch.setattr(services.settings, "audit_checkpoint_minutes", 60)
    task = checkpoints.periodic_task(services)
    _orgs(client, key, 1)
    first = task()
    assert isinstance(first, int) and first >= 1
    _orgs(client, key, 1)
    assert task() is None  # the last one is younger than the interval (60 minutes)
    with unit_of_work(engine) as session:
        session.execute(text("UPDATE audit_checkpoint SET created_at = :t"), {"t": "2000-01-01"})
    assert task() == first + 1
    with unit_of_work(engine) as session:
        assert checkpoints.verify(session, services).holds


def test_export_as_csv_and_json_with_filters(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    mine = new_org("导出甲有限公司")
    theirs = new_org("导出乙有限公司")
    key = org_key(mine["id"], scopes=("audit:read",))
    org_key(mine["id"])  # a second event of mine: client.create
    as_json = client.get("/api/v1/audit/export", params={"format": "json"}, headers=auth(key))
    assert as_json.status_code == 200
    assert as_json.headers["content-type"].startswith("application/json")
    events = as_json.json()
    assert {e["organization_id"] for e in events} == {mine["id"]}
    assert theirs["id"] not in as_json.text
    assert {"organization.create", "client.create"} <= {e["action"] for e in events}
    # each row keeps its chain hash: recomputing it from the row gives the same value
    from seals.evidence import event_hash

    assert all(event_hash(e) == e["hash"] for e in events)

    as_csv = client.get(
        "/api/v1/audit/export",
        params={"format": "csv", "action": "organization.create"},
        headers=auth(key),
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert len(rows) == 1 and rows[0]["target_id"] == mine["id"]
    assert json.loads(rows[0]["details"])["name"] == "导出甲有限公司"

    page = client.get(
        "/api/v1/audit/export", params={"format": "json", "limit": 1}, headers=auth(key)
    )
    assert len(page.json()) == 1
    assert page.headers["x-eseal-next-after-seq"] == str(page.json()[0]["seq"])
    everyone = client.get(
        "/api/v1/audit/export",
        params={"format": "json", "target_id": theirs["id"]},
        headers=auth(platform_key),
    ).json()
    assert [e["action"] for e in everyone] == ["organization.create"]
    assert client.get("/api/v1/audit/export").status_code == 401
    no_scope = org_key(mine["id"], scopes=("seals:read",))
    assert client.get("/api/v1/audit/export", headers=auth(no_scope)).status_code == 403
    # an organization's auditor checks against checkpoints but does not make them
    assert client.post("/api/v1/audit/checkpoints", headers=auth(key)).status_code == 403
    assert client.get("/api/v1/audit/checkpoints/verify", headers=auth(key)).status_code == 200


def test_the_console_exports_the_filtered_audit_log(
    client: TestClient, platform_key: str, signed_in: Any
) -> None:
    from tests.console.conftest import make_console_org

    org = make_console_org(client, platform_key, "杭州导出审计有限公司")
    browser = signed_in(org.users["auditor"])
    page = browser.get("/console/audit?action=member.add")
    assert page.status_code == 200 and "/console/audit/export?" in page.text
    exported = browser.get("/console/audit/export?format=csv&action=member.add")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 4 and {r["action"] for r in rows} == {"member.add"}
    as_json = browser.get("/console/audit/export?format=json").json()
    assert {e["organization_id"] for e in as_json} == {org.id}
    assert [e["seq"] for e in as_json] == sorted(e["seq"] for e in as_json)
