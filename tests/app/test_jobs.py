"""Bulk issuance: a job of N records runs in the background, one bad record does not stop the
others, and a job interrupted by a restart resumes without sealing any record twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.bootstrap import initialise
from app.db import unit_of_work
from app.main import create_app
from app.models import AuditEvent, StoredDocument
from app.models_jobs import BulkJobRecord, GeneratedDocument, RecordStatus
from app.services.jobs import JobWorker
from app.services.tenancy import create_api_client
from app.settings import Settings
from seals.models import SealUsage
from tests.conftest import auth, make_uscc
from tests.dbutil import drop_database, fresh_database_url
from tests.seals_registry.util import Org, make_org, problem_code
from tests.seals_templates.samples import licence_json

FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def _records(n: int, *, bad: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    records = [licence_json(name=f"杭州青禾科技第{i}分公司", uscc=make_uscc()) for i in range(n)]
    for i in bad:
        records[i] = licence_json(uscc="91330106MA2B3C4D5X") if i % 2 else {"name": 5}
    return records


def _wait(client: TestClient, key: str, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=auth(key)).json()
        if job["status"] == "completed" or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.2)


def _bureau(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key, name="杭州市西湖区市场监督管理局")


def _signer(org: Org, seal_id: str, **limits: Any) -> str:
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal_id, "client", client_id, **limits)
    return key


@pytest.fixture()
def fast_font(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    if FAST_FONT.is_file():
        settings = client.app.state.services.settings  # type: ignore[attr-defined]
        monkeypatch.setattr(settings, "document_font", FAST_FONT)


def test_thirty_records_two_invalid(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, fast_font: None
) -> None:
    bureau = _bureau(client, new_org, org_key, platform_key)
    seal = bureau.seal("official")
    key = _signer(bureau, seal["id"])
    response = client.post(
        "/api/v1/jobs",
        json={
            "template": "business-licence",
            "seal_id": seal["id"],
            "level": "B-B",
            "records": _records(30, bad=(7, 20)),
        },
        headers=auth(key),
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["total"] == 30 and job["failed"] == 1  # the malformed one, at once
    assert response.headers["location"] == f"/api/v1/jobs/{job['id']}"

    done = _wait(client, key, job["id"])
    assert (done["status"], done["done"], done["failed"]) == ("completed", 28, 2), done
    assert done["finished_at"] is not None

    failed = client.get(f"/api/v1/jobs/{job['id']}/records?status=failed", headers=auth(key))
    problems = {r["position"]: r["problem"] for r in failed.json()}
    assert set(problems) == {7, 20}
    assert all(p["status"] == 422 for p in problems.values())
    assert problems[7]["type"] == "urn:eseal:problem:invalid-template-data"
    assert problems[7]["field"] == "uscc"
    assert problems[20]["type"] == "urn:eseal:problem:invalid-input"
    assert problems[20]["errors"]

    records = client.get(
        f"/api/v1/jobs/{job['id']}/records?status=done&limit=5", headers=auth(key)
    ).json()
    assert len(records) == 5 and [r["position"] for r in records] == [0, 1, 2, 3, 4]
    pdf = client.get(records[0]["document_url"], headers=auth(key)).content
    report = client.post("/api/v1/verify", content=pdf).json()
    assert report["indication"] == "TOTAL_PASSED", report

    outsider = org_key(new_org("别的公司")["id"])
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=auth(outsider)).status_code == 404


def test_a_grant_limit_fails_the_records_beyond_it(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, fast_font: None
) -> None:
    bureau = _bureau(client, new_org, org_key, platform_key)
    seal = bureau.seal("official")
    key = _signer(bureau, seal["id"], max_uses=3)
    body = {
        "template": "business-licence",
        "seal_id": seal["id"],
        "level": "B-B",
        "records": _records(5),
    }
    response = client.post(
        "/api/v1/jobs", json=body, headers={**auth(key), "Idempotency-Key": "k1"}
    )
    assert response.status_code == 202, response.text
    retry = client.post("/api/v1/jobs", json=body, headers={**auth(key), "Idempotency-Key": "k1"})
    assert retry.json()["id"] == response.json()["id"]
    done = _wait(client, key, response.json()["id"])
    assert (done["done"], done["failed"]) == (3, 2), done
    failed = client.get(
        f"/api/v1/jobs/{done['id']}/records?status=failed", headers=auth(key)
    ).json()
    assert {r["problem"]["type"] for r in failed} == {"urn:eseal:problem:seal-grant-exhausted"}


def test_job_requests_that_cannot_run_are_refused_whole(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    bureau = _bureau(client, new_org, org_key, platform_key)
    seal = bureau.seal("official")
    key = _signer(bureau, seal["id"])
    for body, status in (
        ({"template": "nope", "seal_id": seal["id"], "records": [{}]}, 422),
        ({"template": "business-licence", "seal_id": seal["id"], "records": []}, 422),
        ({"template": "business-licence", "seal_id": "missing", "records": [{}]}, 404),
        ({"template": "business-licence", "seal_id": seal["id"], "records": "x"}, 422),
    ):
        response = client.post("/api/v1/jobs", json=body, headers=auth(key))
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    approval_seal = bureau.seal("contract", requires_approval=True)
    response = client.post(
        "/api/v1/jobs",
        json={"template": "business-licence", "seal_id": approval_seal["id"], "records": [{}]},
        headers=auth(key),
    )
    assert response.status_code == 409 and problem_code(response) == "conflict"


# --- restart ------------------------------------------------------------------------------------


@pytest.fixture()
def own_database(tmp_path: Path) -> Iterator[Settings]:
    url = fresh_database_url(tmp_path)
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        jobs_worker=False,
        document_font=FAST_FONT if FAST_FONT.is_file() else None,
    )
    initialise(settings)
    yield settings
    drop_database(url)


def test_a_restarted_service_resumes_the_job_and_seals_each_record_once(
    own_database: Settings,
) -> None:
    settings = own_database
    first_app = create_app(settings)
    with TestClient(first_app, raise_server_exceptions=False) as client:
        engine = first_app.state.services.engine
        with unit_of_work(engine) as session:
            _, platform = create_api_client(
                session, principal=None, organization_id=None, name="p", scopes=["platform"]
            )
        org = client.post(
            "/api/v1/organizations",
            json={"name": "某医院", "uscc": make_uscc()},
            headers=auth(platform.key),
        ).json()
        admin = client.post(
            f"/api/v1/organizations/{org['id']}/clients",
            json={"name": "admin", "scopes": ["org:admin"]},
            headers=auth(platform.key),
        ).json()["api_key"]
        bureau = Org(client, org["id"], org["name"], org["uscc"], admin, platform.key)
        seal = bureau.seal("finance")
        key = _signer(bureau, seal["id"])
        job = client.post(
            "/api/v1/jobs",
            json={
                "template": "business-licence",
                "seal_id": seal["id"],
                "level": "B-B",
                "records": _records(8),
            },
            headers=auth(key),
        ).json()
        worker = JobWorker(first_app.state.services)
        assert worker.run_until_idle(limit=3) == 3
        interrupted = worker.claim()  # the process dies while sealing this record
        assert interrupted is not None
        progress = client.get(f"/api/v1/jobs/{job['id']}", headers=auth(key)).json()
        assert (progress["done"], progress["running"], progress["pending"]) == (3, 1, 4)

    second_app = create_app(settings.model_copy(update={"jobs_worker": True}))
    with TestClient(second_app, raise_server_exceptions=False) as client:
        done = _wait(client, key, job["id"])
        assert (done["done"], done["failed"], done["status"]) == (8, 0, "completed"), done
        # the old worker's claim is gone: it cannot seal the record any more
        assert worker.process(interrupted) is None

    with Session(engine) as session:
        records = session.exec(select(BulkJobRecord).where(BulkJobRecord.job_id == job["id"])).all()
        assert all(r.status == RecordStatus.done for r in records)
        assert sorted(r.attempts for r in records) == [1] * 7 + [2]
        ids = {r.document_id for r in records}
        assert len(ids) == 8
        uses = session.exec(
            select(func.count()).select_from(SealUsage).where(SealUsage.seal_id == seal["id"])
        ).one()
        assert uses == 8
        audited = session.exec(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "seal.use", AuditEvent.target_id == seal["id"])
        ).one()
        assert audited == 8
        stored = session.exec(
            select(func.count()).select_from(StoredDocument).where(col(StoredDocument.id).in_(ids))
        ).one()
        assert stored == 8
        generated = session.exec(
            select(func.count())
            .select_from(GeneratedDocument)
            .where(GeneratedDocument.job_id == job["id"])
        ).one()
        assert generated == 8
    engine.dispose()
