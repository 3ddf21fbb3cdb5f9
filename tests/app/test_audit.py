"""The audit chain: written with the act, checked end to end, tampering detected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import unit_of_work
from app.services import audit
from tests.conftest import auth


def test_acts_are_audited_and_the_chain_is_intact(
    client: TestClient, new_org: Any, platform_key: str
) -> None:
    org = new_org()
    events = client.get(
        "/api/v1/audit/events",
        params={"target_id": org["id"], "action": "organization.create"},
        headers=auth(platform_key),
    ).json()
    assert len(events) == 1
    assert json.loads(events[0]["details"])["uscc"] == org["uscc"]
    check = client.get("/api/v1/audit/verify", headers=auth(platform_key)).json()
    assert check["intact"] is True and check["events"] >= 1


def test_failed_act_leaves_no_event(client: TestClient, platform_key: str) -> None:
    before = client.get("/api/v1/audit/verify", headers=auth(platform_key)).json()["events"]
    client.post(
        "/api/v1/organizations",
        json={"name": "坏", "uscc": "91330106MA2B3C4D5X"},
        headers=auth(platform_key),
    )
    after = client.get("/api/v1/audit/verify", headers=auth(platform_key)).json()["events"]
    assert after == before


def test_organization_sees_only_its_own_events(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    mine, theirs = new_org("审计甲"), new_org("审计乙")
    key = org_key(mine["id"], scopes=("audit:read",))
    events = client.get("/api/v1/audit/events", headers=auth(key)).json()
    assert events and {e["organization_id"] for e in events} == {mine["id"]}
    assert theirs["id"] not in json.dumps(events)


def _seed(engine: Any, n: int) -> None:
    for i in range(n):
        with unit_of_work(engine) as session:
            audit.record(
                session,
                actor="test",
                action="thing.do",
                target_type="thing",
                target_id=str(i),
                details={"i": i, "name": "印章"},
            )


def test_tampered_row_breaks_the_chain_at_that_row(fresh_engine: Any) -> None:
    _seed(fresh_engine, 5)
    with unit_of_work(fresh_engine) as session:
        assert audit.verify_chain(session).intact
        session.execute(text("UPDATE auditevent SET details = :d WHERE seq = 3"), {"d": '{"i":99}'})
    with unit_of_work(fresh_engine) as session:
        report = audit.verify_chain(session)
    assert not report.intact
    assert report.first_broken_seq == 3
    assert report.events == 2


def test_deleted_row_and_relinked_hash_are_detected(fresh_engine: Any) -> None:
    _seed(fresh_engine, 4)
    with unit_of_work(fresh_engine) as session:
        session.execute(text("DELETE FROM auditevent WHERE seq = 2"))
    with unit_of_work(fresh_engine) as session:
        report = audit.verify_chain(session)
    assert (report.intact, report.first_broken_seq) == (False, 2)


def test_rewritten_hash_still_breaks_the_next_link(fresh_engine: Any) -> None:
    _seed(fresh_engine, 4)
    with unit_of_work(fresh_engine) as session:
        session.execute(text("UPDATE auditevent SET actor = 'mallory' WHERE seq = 2"))
        session.execute(text("UPDATE auditevent SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
    with unit_of_work(fresh_engine) as session:
        report = audit.verify_chain(session)
    assert (report.intact, report.first_broken_seq) == (False, 2)


def test_cli_audit_verify_reports_the_broken_link(fresh_engine: Any, tmp_path: Any) -> None:
    _seed(fresh_engine, 3)
    env = {
        **os.environ,
        "ESEAL_DATABASE_URL": fresh_engine.url.render_as_string(hide_password=False),
        "ESEAL_DATA_DIR": str(tmp_path),
    }
    ok = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "intact: 3 events" in ok.stdout
    with unit_of_work(fresh_engine) as session:
        session.execute(text("UPDATE auditevent SET target_id = 'x' WHERE seq = 2"))
    broken = subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode == 1 and "BROKEN at event 2" in broken.stdout
