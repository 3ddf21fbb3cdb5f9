"""Parallel routing under a real race: two participants in two processes sign the same
envelope at the same moment. Both succeed, one after the other: the second signs the revision
the first made, so no signature is lost (PostgreSQL: SELECT ... FOR UPDATE on the envelope
row; SQLite: one writer at a time)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.db import unit_of_work
from app.security import Principal
from app.services.envelope_signing import sign_participant
from app.settings import Settings
from app.wiring import build_services
from tests.conftest import auth
from tests.seals_registry.util import sha
from tests.support.envelopes import two_party_envelope


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
    parties, envelope = two_party_envelope(
        client, new_org, org_key, platform_key,
        names=("某县审批局", "某市审批局"), routing="parallel", level="B-B",
    )  # fmt: skip

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
                    "id": party.client_id,
                    "name": "signer",
                    "organization_id": party.org.id,
                    "scopes": ["seals:read", "seals:use"],
                },
                envelope["id"],
                participant["id"],
                barrier,
                out,
            ),
        )
        for party, participant in zip(parties, envelope["participants"], strict=True)
    ]
    for w in workers:
        w.start()
    results = sorted(out.get(timeout=120) for _ in workers)
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    assert results == [("signed", 1), ("signed", 2)], results

    done = client.get(f"/api/v1/envelopes/{envelope['id']}", headers=auth(parties[1].org.admin))
    final = done.json()
    assert final["status"] == "completed" and final["current_revision"] == 2
    timeline = client.get(
        f"/api/v1/envelopes/{envelope['id']}/timeline", headers=auth(parties[0].org.admin)
    ).json()
    signs = [e["details"] for e in timeline if e["action"] == "envelope.sign"]
    assert [(s["base_revision"], s["revision"]) for s in signs] == [(0, 1), (1, 2)]
    assert signs[1]["base_sha256"] == signs[0]["sha256"]
    document = client.get(final["document_url"], headers=auth(parties[0].org.admin))
    assert sha(document.content) == final["document_sha256"]
    report = client.post("/api/v1/verify", content=document.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert len(report["signatures"]) == 2
    assert Path(plain["data_dir"]).is_dir()
