"""Administrative templates: an enforcement record signed by two officers (personal
signatures with PIN) and sealed by the agency (at its line and as a riding seal, B-LTA);
a bulk job of 100 medical-insurance settlement forms sealed by the hospital's 医保结算专用章."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from seals.placement import find_keyword
from tests.conftest import auth
from tests.scenarios.helpers import use_fast_font
from tests.seals_registry.util import TEST_DPI, make_org, problem_code


@pytest.fixture(autouse=True)
def fast_font(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_font(client, monkeypatch)


def _record(**changes: Any) -> dict[str, Any]:
    findings = [
        f"第{i}项：执法人员出示执法证件，告知当事人检查事项。经查，当事人经营场所内存放的"
        "预包装食品标签不符合食品安全国家标准，涉及货值人民币叁仟元整。当事人对检查情况无异议。"
        for i in range(1, 16)
    ]
    return {
        "title": "现场检查笔录",
        "record_number": "杭西市监现检〔2026〕15号",
        "party_name": "杭州某某食品有限公司",
        "party_uscc": "91330106MA2B3C4D5D",
        "party_address": "浙江省杭州市西湖区某路8号",
        "officers": [
            {"name": "王刚", "certificate_number": "33010620001"},
            {"name": "李丽", "certificate_number": "33010620002"},
        ],
        "place": "当事人经营场所",
        "occurred_on": "2026-05-06",
        "findings": findings,
        "issued_on": "2026-05-06",
        **changes,
    }


def _sign(client: TestClient, key: str, seal_id: str, pdf: bytes, placement: dict[str, Any],
          level: str, **fields: str) -> Any:  # fmt: skip
    return client.post(
        f"/api/v1/seals/{seal_id}/sign",
        files={"file": ("笔录.pdf", pdf, "application/pdf")},
        data={"placement": json.dumps(placement, ensure_ascii=False), "level": level, **fields},
        headers=auth(key),
    )


def test_an_enforcement_record_with_two_officers_and_the_agency_riding_seal(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    agency = make_org(client, new_org, org_key, platform_key, name="杭州市西湖区市场监督管理局")
    official = agency.seal("official")
    portal_id, portal = agency.key("seals:read", "seals:use", "seals:write")
    agency.grant(official["id"], "client", portal_id)
    officers = []
    for name, pin in (("王刚", "613579"), ("李丽", "246802")):
        seal = agency.seal("personal", person_id=agency.member(name))
        agency.grant(seal["id"], "client", portal_id)
        put = client.put(f"/api/v1/seals/{seal['id']}/pin", json={"pin": pin}, headers=auth(portal))
        assert put.status_code == 200, put.text
        officers.append((seal, pin))

    generated = client.post(
        "/api/v1/templates/enforcement-record/documents",
        json={"seal_id": official["id"], "level": "B-LT", "data": _record()},
        headers=auth(portal),
    )
    assert generated.status_code == 200, generated.text
    assert generated.headers["x-eseal-verify-url"].endswith(
        generated.headers["x-eseal-document-id"]
    )
    pdf = generated.content
    assert find_keyword(pdf=pdf, keyword="执法人员二（签名）")

    for (seal, pin), keyword in zip(
        officers, ("执法人员一（签名）", "执法人员二（签名）"), strict=True
    ):
        placement = {"type": "keyword", "keyword": keyword, "offset_x_mm": 45}
        without = _sign(client, portal, seal["id"], pdf, placement, "B-LT")
        assert problem_code(without) == "seal-pin-required"
        signed = _sign(client, portal, seal["id"], pdf, placement, "B-LT", pin=pin)
        assert signed.status_code == 200, signed.text
        pdf = signed.content
    riding = _sign(client, portal, official["id"], pdf, {"type": "cross_page"}, "B-LTA")
    assert riding.status_code == 200, riding.text

    report = client.post("/api/v1/verify", content=riding.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    signatures = [s for s in report["signatures"] if s["seal"] is not None]
    assert len(signatures) == 4  # and the B-LTA document time-stamp
    assert len(report["signatures"]) == 5
    assert [s["seal"]["kind"] for s in signatures] == [
        "official", "personal", "personal", "official"
    ]  # fmt: skip
    assert {s["seal"]["owner"] for s in signatures[1:3]} == {"王*", "李*"}
    assert signatures[-1]["pades_level"] == "B-LTA"

    # the record number is the agency's own: a second record under it is refused
    again = client.post(
        "/api/v1/templates/enforcement-record/documents",
        json={"seal_id": official["id"], "level": "B-B", "data": _record()},
        headers=auth(portal),
    )
    assert again.status_code == 409 and problem_code(again) == "document-number-taken"
    one_officer = client.post(
        "/api/v1/templates/enforcement-record/documents",
        json={
            "seal_id": official["id"],
            "data": _record(record_number="X-2", officers=_record()["officers"][:1]),
        },
        headers=auth(portal),
    )
    assert one_officer.status_code == 422


def _settlement(i: int) -> dict[str, Any]:
    return {
        "settlement_number": f"JS-2026-{i:06d}",
        "insured_name": "张三" if i % 2 else "李四",
        "insurance_number": f"33010019800101{i:04d}",
        "department": "心内科",
        "admitted_on": "2026-06-01",
        "discharged_on": "2026-06-08",
        "items": [
            {"category": "西药费", "amount": "1520.40"},
            {"category": "检查费", "amount": "860.00"},
            {"category": "床位费", "amount": "420.00"},
        ],
        "fund_paid": "2100.30",
        "settled_on": "2026-06-08",
    }


def test_a_bulk_job_of_100_settlement_forms_sealed_by_the_settlement_seal(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    hospital = make_org(client, new_org, org_key, platform_key, name="杭州市某人民医院")
    kind = client.post(
        f"/api/v1/organizations/{hospital.id}/seal-kinds",
        json={"label": "医保结算专用章"},
        headers=auth(hospital.admin),
    ).json()
    seal = client.post(
        f"/api/v1/organizations/{hospital.id}/seal-kinds/{kind['id']}/seals",
        json={"dpi": TEST_DPI},
        headers=auth(hospital.admin),
    ).json()
    assert client.post(
        f"/api/v1/seals/{seal['id']}/activate", headers=auth(hospital.admin)
    ).status_code == 200  # fmt: skip
    client_id, key = hospital.key("seals:read", "seals:use")
    hospital.grant(seal["id"], "client", client_id, document_types=["medical-settlement"])

    started = time.perf_counter()
    job = client.post(
        "/api/v1/jobs",
        json={
            "template": "medical-settlement",
            "seal_id": seal["id"],
            "level": "B-B",
            "records": [_settlement(i) for i in range(100)],
        },
        headers=auth(key),
    )
    assert job.status_code == 202, job.text
    job_id = job.json()["id"]
    deadline = time.monotonic() + 600
    while True:
        state = client.get(f"/api/v1/jobs/{job_id}", headers=auth(key)).json()
        if state["status"] == "completed" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    print(f"\n100 settlement forms: {time.perf_counter() - started:.1f} s")
    assert (state["status"], state["done"], state["failed"]) == ("completed", 100, 0), state

    records = client.get(f"/api/v1/jobs/{job_id}/records?status=done&limit=3", headers=auth(key))
    first = records.json()[0]
    pdf = client.get(first["document_url"], headers=auth(key)).content
    assert find_keyword(pdf=pdf, keyword="医疗机构（盖章）")
    report = client.post("/api/v1/verify", content=pdf).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["seal"]["kind_label"] == "医保结算专用章"
    assert first["reference"] == "JS-2026-000000"
