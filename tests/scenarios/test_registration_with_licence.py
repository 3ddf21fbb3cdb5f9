"""Scenario 1 in one call: an enterprise registered with its certificates, seal set and
electronic business licence (certified by the authority's official seal) in one
transaction; the licence and a contract sealed with one of its seals both verify; a licence
whose holder contradicts the registry is refused everywhere."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import col, select

from app.models import AuditEvent, Organization, StoredDocument
from seals.models import Seal
from tests.conftest import auth, make_uscc
from tests.scenarios.helpers import (
    Bureau,
    enterprise,
    licence_fields,
    make_bureau,
    register,
    sign,
    use_fast_font,
)
from tests.seals_registry.util import problem_code, rows
from tests.seals_templates.samples import licence_json
from tests.support.documents import contract_pdf


@pytest.fixture()
def bureau(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Bureau:
    use_fast_font(client, monkeypatch)
    return make_bureau(client, new_org, org_key, platform_key, "杭州市西湖区市场监督管理局")


def _counts(engine: Engine) -> tuple[int, ...]:
    return tuple(
        rows(engine, select(func.count()).select_from(model))[0]
        for model in (Organization, Seal, StoredDocument, AuditEvent)
    )


def test_registration_issues_the_licence_and_a_contract_seal_that_verifies(
    client: TestClient, bureau: Bureau, org_key: Any, platform_key: str
) -> None:
    uscc = make_uscc()
    response = register(
        client,
        bureau,
        "杭州禾木信息技术有限公司",
        uscc=uscc,
        licence=licence_fields(bureau.seal["id"]),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    licence = body["licence"]
    assert licence["seal_code"] == bureau.seal["code"]
    assert licence["authority"] == "杭州市西湖区市场监督管理局"
    assert licence["verify_url"].endswith(f"/verify?d={licence['document_id']}")
    assert {s["status"] for s in body["seals"]} == {"active"}

    pdf = client.get(licence["document_url"], headers=auth(bureau.key)).content
    report = client.post("/api/v1/verify", content=pdf).json()
    assert report["indication"] == "TOTAL_PASSED", report
    signature = report["signatures"][0]
    assert signature["seal"]["code"] == bureau.seal["code"]
    assert "certif" in str(signature).lower()
    page = client.get(f"/verify?d={licence['document_id']}")
    assert page.status_code == 200 and "杭州市西湖区市场监督管理局" in page.text

    # the public status of each of the enterprise's seals points at its licence
    contract_seal = next(s for s in body["seals"] if s["kind"] == "contract")
    public = client.get(f"/api/v1/public/seals/{contract_seal['code']}").json()
    assert public["licence"]["document_id"] == licence["document_id"]
    assert public["licence"]["authority"] == "杭州市西湖区市场监督管理局"
    other = client.get(f"/api/v1/public/seals/{bureau.seal['code']}").json()
    assert other["licence"] is None

    # the enterprise seals a contract with its new contract seal; it verifies
    company = enterprise(client, body, org_key, platform_key)
    client_id, key = company.key("seals:read", "seals:use")
    company.grant(contract_seal["id"], "client", client_id)
    signed = sign(client, key, contract_seal["id"], contract_pdf())
    assert signed.status_code == 200, signed.text
    report = client.post("/api/v1/verify", content=signed.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["seal"]["owner"] == "杭州禾木信息技术有限公司"


def test_a_licence_that_disagrees_with_the_registration_leaves_nothing(
    client: TestClient, bureau: Bureau, engine: Engine
) -> None:
    ungranted = bureau.org.seal("contract")
    before = _counts(engine)
    for changes in ({"name": "杭州甲乙科技有限公司"}, {"uscc": make_uscc()}):
        response = register(
            client,
            bureau,
            "杭州禾木信息技术有限公司",
            licence=licence_fields(bureau.seal["id"], **changes),
        )
        assert response.status_code == 422, response.text
        assert problem_code(response) == "licence-holder-mismatch"
    # a licence that cannot be sealed (the portal has no grant on this seal) undoes it all
    response = register(
        client, bureau, "杭州禾木信息技术有限公司", licence=licence_fields(ungranted["id"])
    )
    assert response.status_code == 403, response.text
    organizations, seals, documents, events = _counts(engine)
    assert (organizations, seals, documents) == before[:3]
    # the only trace is the refused use's own audit event (written after the rollback)
    assert events == before[3] + 1
    last = rows(engine, select(AuditEvent).order_by(col(AuditEvent.seq).desc()).limit(1))[0]
    assert last.action == "seal.use_refused" and last.target_id == ungranted["id"]


def test_templates_and_bulk_jobs_refuse_a_licence_under_another_holder(
    client: TestClient, bureau: Bureau
) -> None:
    registered = register(client, bureau, "杭州正源科技有限公司").json()
    uscc = registered["uscc"]
    wrong_name = licence_json(name="杭州甲乙科技有限公司", uscc=uscc)
    right = licence_json(name="杭州正源科技有限公司", uscc=uscc)
    for data in (wrong_name,):
        response = client.post(
            "/api/v1/templates/business-licence/documents",
            json={"seal_id": bureau.seal["id"], "level": "B-B", "data": data},
            headers=auth(bureau.key),
        )
        assert response.status_code == 422, response.text
        assert problem_code(response) == "licence-holder-mismatch"
    job = client.post(
        "/api/v1/jobs",
        json={
            "template": "business-licence",
            "seal_id": bureau.seal["id"],
            "level": "B-B",
            "records": [wrong_name, right, wrong_name],
        },
        headers=auth(bureau.key),
    )
    assert job.status_code == 202, job.text
    assert job.json()["failed"] == 2  # refused at once, before any seal is spent
    failed = client.get(
        f"/api/v1/jobs/{job.json()['id']}/records?status=failed", headers=auth(bureau.key)
    ).json()
    assert {r["position"] for r in failed} == {0, 2}
    assert {r["problem"]["type"] for r in failed} == {"urn:eseal:problem:licence-holder-mismatch"}
