"""Two `eseal serve` processes on one PostgreSQL behave as one service: a bulk job split across
both seals every record exactly once, a suspension through one is obeyed by the other at once,
and webhooks are delivered once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import auth, make_uscc
from tests.instances import Installation, agency_with_seal, expect, postgres_database
from tests.redis_server import redis_server
from tests.seals_templates.samples import licence_json

RECORDS = 200
SECRET = "two-instances-webhook-secret-0123456789"


class Hooks:
    """A webhook receiver counting deliveries by their payload id."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.lock = threading.Lock()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                with hooks.lock:
                    hooks.ids[json.loads(body)["id"]] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    root = tmp_path_factory.mktemp("two")
    with postgres_database(root) as url:
        installation = Installation(database_url=url, root=root)
        installation.run("init")
        yield installation


def run_bulk_job(a: httpx.Client, b: httpx.Client, seal_id: str, key: str) -> dict[str, Any]:
    """A job of RECORDS licences submitted through A and followed through B to completion."""
    records = [
        licence_json(name=f"杭州青禾科技第{i}分公司", uscc=make_uscc()) for i in range(RECORDS)
    ]
    job = expect(
        a.post(
            "/api/v1/jobs",
            json={"template": "business-licence", "seal_id": seal_id, "level": "B-B",
                  "records": records},
            headers=auth(key),
        ),
        202,
    )  # fmt: skip
    deadline = time.monotonic() + 900
    while (state := expect(b.get(f"/api/v1/jobs/{job['id']}", headers=auth(key))))[
        "status"
    ] != "completed":
        assert time.monotonic() < deadline, state
        time.sleep(1)
    assert (state["done"], state["failed"]) == (RECORDS, 0), state
    return dict(job)


def send_deliveries(
    a: httpx.Client, b: httpx.Client, org_id: str, key: str, done: list[Any], hooks: Hooks
) -> None:
    """Four deliveries with webhooks, alternately through A and B."""
    for i, record in enumerate(done[:2] + done[:2]):
        api = (a, b)[i % 2]
        expect(
            api.post(
                f"/api/v1/organizations/{org_id}/deliveries",
                json={"document_id": record["document_id"], "title": f"营业执照 {i}",
                      "recipient_name": "王小明", "webhook_url": hooks.url,
                      "webhook_secret": SECRET},
                headers=auth(key),
            ),
            201,
        )  # fmt: skip


def check_suspension_is_shared(
    a: httpx.Client, b: httpx.Client, seal_id: str, key: str, platform: str, pdf: bytes
) -> None:
    """A suspension through A is obeyed by B on its next request, use-check and signing alike."""
    body = {"document_sha256": "ab" * 32}
    assert (
        b.post(f"/api/v1/seals/{seal_id}/use-check", json=body, headers=auth(key)).status_code
        == 200
    )
    expect(
        a.post(
            f"/api/v1/seals/{seal_id}/suspend",
            json={"reason": "印章遗失"},
            headers=auth(platform),
        )
    )
    refused = b.post(f"/api/v1/seals/{seal_id}/use-check", json=body, headers=auth(key))
    assert refused.status_code == 409 or refused.status_code == 403, refused.text
    assert "not-active" in refused.json()["type"] or "suspended" in refused.json()["type"], (
        refused.text
    )
    signed = b.post(
        f"/api/v1/seals/{seal_id}/sign",
        files={"file": ("x.pdf", pdf, "application/pdf")},
        data={"placement": '{"type": "invisible"}', "level": "B-B"},
        headers=auth(key),
    )
    assert signed.status_code == refused.status_code, signed.text
    assert signed.json()["type"] == refused.json()["type"]


def check_each_record_sealed_once(database_url: str, job_id: str, seal_id: str) -> None:
    """From the database: both instances worked the job, every record has its own document
    and the seal was used once per record."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        per_instance = dict(
            conn.execute(
                text(
                    "select worked_by, count(*) from bulk_job_record where job_id = :j"
                    " group by worked_by"
                ),
                {"j": job_id},
            ).all()
        )
        documents = conn.execute(
            text(
                "select count(distinct document_id), count(*) from bulk_job_record"
                " where job_id = :j"
            ),
            {"j": job_id},
        ).one()
        uses = conn.execute(
            text("select count(*) from seal_usage where seal_id = :s"), {"s": seal_id}
        ).scalar_one()
    engine.dispose()
    print(f"records sealed per instance: {per_instance}")
    assert set(per_instance) == {"A", "B"} and sum(per_instance.values()) == RECORDS, per_instance
    assert min(per_instance.values()) >= RECORDS // 10, per_instance  # really split
    assert tuple(documents) == (RECORDS, RECORDS)
    assert uses == RECORDS  # one seal use per record: none sealed twice


def test_two_instances_one_service(installation: Installation) -> None:
    platform = installation.platform_key()
    hooks = Hooks()
    with (
        installation.serve("A", installation.pki_port) as base_a,
        installation.serve("B") as base_b,
        httpx.Client(base_url=base_a, timeout=120) as a,
        httpx.Client(base_url=base_b, timeout=120) as b,
    ):
        org_id, seal_id, key = agency_with_seal(a, platform)
        job = run_bulk_job(a, b, seal_id, key)

        # a document sealed by either instance is served by the other (shared blob store)
        done = expect(
            b.get(f"/api/v1/jobs/{job['id']}/records?status=done&limit=3", headers=auth(key))
        )
        pdf = a.get(done[0]["document_url"], headers=auth(key)).content
        assert expect(b.post("/api/v1/verify", content=pdf))["indication"] == "TOTAL_PASSED"

        # webhooks: deliveries sent through both instances, each delivered once
        send_deliveries(a, b, org_id, key, done, hooks)
        check_suspension_is_shared(a, b, seal_id, key, platform, pdf)

        deadline = time.monotonic() + 60
        while sum(hooks.ids.values()) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(5)  # time for a duplicate to arrive, if there were one
    assert len(hooks.ids) == 4 and set(hooks.ids.values()) == {1}, hooks.ids
    check_each_record_sealed_once(installation.database_url, job["id"], seal_id)


def test_rate_limits_are_shared_through_redis(installation: Installation, tmp_path: Path) -> None:
    """With ESEAL_REDIS_URL two instances count one budget: 3 verifications a minute from
    one address, whichever instance answers."""
    with redis_server(tmp_path) as url:
        installation.extra = {"ESEAL_REDIS_URL": url, "ESEAL_VERIFY_RATE_PER_MINUTE": "3"}
        try:
            with (
                installation.serve("A", installation.pki_port) as base_a,
                installation.serve("B") as base_b,
            ):
                answers = [
                    httpx.post(f"{base}/api/v1/verify", content=b"%PDF-1.7 not really", timeout=60)
                    for base in (base_a, base_b, base_a, base_b)
                ]
        finally:
            installation.extra = {}
    assert all(r.status_code != 429 for r in answers[:3]), [r.text for r in answers]
    assert answers[3].status_code == 429, answers[3].text
    assert int(answers[3].headers["retry-after"]) > 0
