"""Parallel routing under a real race: two participants in two processes sign the same
envelope at the same moment. Both succeed, one after the other: the second signs the revision
the first made, so no signature is lost (PostgreSQL: SELECT ... FOR UPDATE on the envelope
row; SQLite: one writer at a time)."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.db import unit_of_work
from app.security import Principal
from app.services.envelopes import sign_participant
from app.settings import Settings
from app.wiring import build_services
from seals.documents import make_document
from seals.fonts import find_cjk_font
from tests.conftest import auth
from tests.seals_registry.util import make_org, sha


def _sign_in_process(
    settings: dict[str, Any],
    principal: dict[str, Any],
    envelope_id: str,
    participant_id: str,
    barrier: Any,
    out: Any,
) -> None:
    services = build_services(Settings(**settings))
    who = Principal(**{**principal, "scopes": frozenset(principal["scopes"])})
    barrier.wait()
    try:
        with unit_of_work(services.engine) as session:
            signed = sign_participant(
                session,
                services,
                principal=who,
                envelope_id=envelope_id,
                participant_id=participant_id,
                pin=None,
                reason=None,
                location=None,
                expected_revision=None,
                idempotency_key=None,
            )
            number = signed.revision.number
        out.put(("signed", number))
    except Exception as exc:  # reported to the test, which fails on it
        out.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        services.engine.dispose()


def test_two_parallel_signers_at_once_both_land_on_successive_revisions(
    client: TestClient,
    settings: Settings,
    new_org: Any,
    org_key: Any,
    platform_key: str,
) -> None:
    font = find_cjk_font()
    pdf = make_document(
        title="联合审批意见", paragraphs=["县、市两级共同审批。"], pages=1,
        font_path=font.path, font_number=font.index,
    )  # fmt: skip
    parties = []
    for name in ("某县审批局", "某市审批局"):
        org = make_org(client, new_org, org_key, platform_key, name=name)
        seal = org.seal("official")
        client_id, _ = org.key("seals:read", "seals:use")
        org.grant(seal["id"], "client", client_id)
        parties.append((org, seal["id"], client_id))
    body = {
        "title": "联合审批意见",
        "routing": "parallel",
        "participants": [
            {
                "organization_id": org.id,
                "seal_id": seal_id,
                "placement": {"type": "coordinates", "page": 1, "x_mm": x, "y_mm": 200},
                "level": "B-B",
            }
            for (org, seal_id, _), x in zip(parties, (60, 140), strict=True)
        ],
    }
    created = client.post(
        "/api/v1/envelopes",
        files={"file": ("审批.pdf", pdf, "application/pdf")},
        data={"envelope": json.dumps(body, ensure_ascii=False)},
        headers=auth(parties[0][0].admin),
    )
    assert created.status_code == 201, created.text
    envelope = created.json()

    plain = {
        "data_dir": str(settings.data_dir),
        "database_url": settings.resolved_database_url,
        "public_base_url": settings.public_base_url,
    }
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    workers = [
        ctx.Process(
            target=_sign_in_process,
            args=(
                plain,
                {
                    "kind": "client",
                    "id": client_id,
                    "name": "signer",
                    "organization_id": org.id,
                    "scopes": ["seals:read", "seals:use"],
                },
                envelope["id"],
                participant["id"],
                barrier,
                out,
            ),
        )
        for (org, _, client_id), participant in zip(parties, envelope["participants"], strict=True)
    ]
    for w in workers:
        w.start()
    results = sorted(out.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    assert results == [("signed", 1), ("signed", 2)], results

    done = client.get(f"/api/v1/envelopes/{envelope['id']}", headers=auth(parties[1][0].admin))
    final = done.json()
    assert final["status"] == "completed" and final["current_revision"] == 2
    timeline = client.get(
        f"/api/v1/envelopes/{envelope['id']}/timeline", headers=auth(parties[0][0].admin)
    ).json()
    signs = [e["details"] for e in timeline if e["action"] == "envelope.sign"]
    assert [(s["base_revision"], s["revision"]) for s in signs] == [(0, 1), (1, 2)]
    assert signs[1]["base_sha256"] == signs[0]["sha256"]
    document = client.get(final["document_url"], headers=auth(parties[0][0].admin))
    assert sha(document.content) == final["document_sha256"]
    report = client.post("/api/v1/verify", content=document.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert len(report["signatures"]) == 2
    assert Path(plain["data_dir"]).is_dir()
