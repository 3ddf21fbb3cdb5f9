"""Scenario documents through the API: templates listed with their schema; a guarantee sealed
by the bank's contract seal at B-LT (scenario 2) and a licence certified by the bureau's
official seal (scenario 1), both verified; guarantee numbers unique per guarantor; bad data
is a problem and spends nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.models import AuditEvent
from seals.placement import find_keyword
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code, rows
from tests.seals_templates.samples import BANK, guarantee_json, licence_json

FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@pytest.fixture(autouse=True)
def fast_font(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    if FAST_FONT.is_file():
        settings = client.app.state.services.settings  # type: ignore[attr-defined]
        monkeypatch.setattr(settings, "document_font", FAST_FONT)


@pytest.fixture()
def bank(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key, name=BANK)


def _signer(org: Org, seal_id: str, **limits: Any) -> str:
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal_id, "client", client_id, **limits)
    return key


def _generate(client: TestClient, key: str, name: str, **body: Any) -> Any:
    return client.post(f"/api/v1/templates/{name}/documents", json=body, headers=auth(key))


def test_templates_are_listed_with_their_schema(client: TestClient, bank: Org) -> None:
    response = client.get("/api/v1/templates", headers=auth(bank.admin))
    assert response.status_code == 200
    by_name = {t["name"]: t for t in response.json()}
    assert {"bid-guarantee", "business-licence", "two-party-contract"} <= set(by_name)
    guarantee = by_name["bid-guarantee"]
    assert guarantee["unique_reference"] == "guarantee_number"
    assert "amount" in guarantee["data_schema"]["properties"]
    assert guarantee["default_placement"]["type"] == "keyword"
    assert by_name["business-licence"]["default_certify"] == "no-changes"
    assert client.get("/api/v1/templates").status_code == 401


def test_scenario_2_guarantee_sealed_by_the_bank_at_b_lt(client: TestClient, bank: Org) -> None:
    seal = bank.seal("contract")
    key = _signer(bank, seal["id"], max_uses=2)
    response = _generate(
        client, key, "bid-guarantee", seal_id=seal["id"], level="B-LT", data=guarantee_json()
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    document_id = response.headers["x-eseal-document-id"]
    assert response.headers["x-eseal-verify-url"].endswith(f"/verify?d={document_id}")
    pdf = response.content
    assert find_keyword(pdf=pdf, keyword="保证人（盖章）")

    report = client.post("/api/v1/verify", content=pdf).json()
    assert report["indication"] == "TOTAL_PASSED", report
    signature = report["signatures"][0]
    assert signature["pades_level"] == "B-LT"
    assert signature["seal"]["code"] == seal["code"]
    assert signature["seal"]["owner"] == BANK

    stored = client.get(f"/api/v1/documents/{document_id}", headers=auth(key))
    assert stored.content == pdf
    events = rows(
        client.app.state.services.engine,  # type: ignore[attr-defined]
        select(AuditEvent.action).where(AuditEvent.target_id == document_id),
    )
    assert events == ["document.generate"]

    # the same guarantee number again: refused before anything is signed or spent
    again = _generate(
        client, key, "bid-guarantee", seal_id=seal["id"], level="B-B", data=guarantee_json()
    )
    assert again.status_code == 409
    assert problem_code(again) == "document-number-taken"
    other = _generate(
        client,
        key,
        "bid-guarantee",
        seal_id=seal["id"],
        level="B-B",
        data=guarantee_json(guarantee_number="BH-2026-000124"),
    )
    assert other.status_code == 200, other.text  # the grant's second use was not spent


def test_guarantee_numbers_are_per_guarantor(
    client: TestClient, bank: Org, new_org: Any, org_key: Any, platform_key: str
) -> None:
    other_bank = make_org(client, new_org, org_key, platform_key, name="某商业银行杭州分行")
    for org in (bank, other_bank):
        seal = org.seal("contract")
        response = _generate(
            client,
            _signer(org, seal["id"]),
            "bid-guarantee",
            seal_id=seal["id"],
            level="B-B",
            data=guarantee_json(guarantee_number="BH-SAME-1"),
        )
        assert response.status_code == 200, response.text


def test_the_guarantor_is_the_sealing_organization(client: TestClient, bank: Org) -> None:
    seal = bank.seal("contract")
    key = _signer(bank, seal["id"])
    response = _generate(
        client,
        key,
        "bid-guarantee",
        seal_id=seal["id"],
        level="B-B",
        data=guarantee_json(guarantor={"name": "别的银行"}),
    )
    assert response.status_code == 422
    assert problem_code(response) == "invalid-input"


def test_scenario_1_licence_certified_by_the_bureau(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    bureau = make_org(client, new_org, org_key, platform_key, name="杭州市西湖区市场监督管理局")
    seal = bureau.seal("official")
    key = _signer(bureau, seal["id"])
    response = _generate(
        client, key, "business-licence", seal_id=seal["id"], level="B-LT", data=licence_json()
    )
    assert response.status_code == 200, response.text
    report = client.post("/api/v1/verify", content=response.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["seal"]["code"] == seal["code"]
    assert "certif" in str(report["signatures"][0]).lower()
    # a certified licence takes no further seal
    again = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("l.pdf", response.content, "application/pdf")},
        data={"placement": '{"type": "invisible"}', "level": "B-B"},
        headers=auth(key),
    )
    assert again.status_code == 409


def test_contract_sealed_on_its_keyword_and_retry_is_idempotent(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    buyer = make_org(client, new_org, org_key, platform_key, name="杭州市某采购中心")
    seal = buyer.seal("contract")
    key = _signer(buyer, seal["id"], max_uses=1)
    data = {
        "title": "政府采购合同",
        "contract_number": "ZC-2026-0007",
        "party_a": {"name": "杭州市某采购中心"},
        "party_b": {"name": "深圳某建设有限公司", "uscc": "91440300MA5F6G7H8B"},
        "clauses": ["乙方按期交付。", "甲方按期付款。"],
        "amount": "1680.32",
        "signed_on": "2026-04-01",
    }
    headers = {**auth(key), "Idempotency-Key": "contract-7"}
    body = {"seal_id": seal["id"], "level": "B-T", "data": data}
    first = client.post(
        "/api/v1/templates/two-party-contract/documents", json=body, headers=headers
    )
    assert first.status_code == 200, first.text
    retry = client.post(
        "/api/v1/templates/two-party-contract/documents", json=body, headers=headers
    )
    assert retry.status_code == 200, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    report = client.post("/api/v1/verify", content=first.content).json()
    assert report["indication"] == "TOTAL_PASSED", report


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("bid-guarantee", guarantee_json(amount="-5"), 422),
        ("bid-guarantee", guarantee_json(amount="1.005"), 422),
        ("bid-guarantee", guarantee_json(valid_days=0), 422),
        ("bid-guarantee", {"guarantee_number": "x"}, 422),
        ("business-licence", licence_json(uscc="91330106MA2B3C4D5X"), 422),
        ("business-licence", licence_json(issued_on="2020-01-01"), 422),
        ("business-licence", licence_json(name="张\ue000"), 422),
        ("no-such-template", {}, 404),
    ],
)
def test_bad_data_is_a_problem_and_spends_nothing(
    client: TestClient, bank: Org, name: str, data: dict[str, Any], status: int
) -> None:
    seal = bank.seal("contract")
    key = _signer(bank, seal["id"], max_uses=1)
    response = _generate(client, key, name, seal_id=seal["id"], level="B-B", data=data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    ok = _generate(
        client,
        key,
        "bid-guarantee",
        seal_id=seal["id"],
        level="B-B",
        data=guarantee_json(guarantee_number=f"BH-{name}-{status}-{len(str(data))}"),
    )
    assert ok.status_code == 200, ok.text
