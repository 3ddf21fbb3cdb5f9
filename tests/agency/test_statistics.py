"""Statistics against hand-counted fixtures: enterprises registered through the API (and
with explicit timestamps next to Asia/Shanghai midnight), seals revoked through the API,
uses and a completed envelope written through the ORM at chosen instants; the figures are
read back through `GET /api/v1/statistics` as JSON and CSV, rolled up by county, city and
province. Province 65 is used by no other test, so its figures are exactly ours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import unit_of_work
from app.models import Organization, OrganizationKind
from app.services.stat_counters_rebuild import rebuild
from seals.models import SealUsage
from seals.models_envelopes import Envelope
from tests.agency.util import uscc_in
from tests.conftest import auth

WINDOW = {"from": "2025-03-01", "to": "2025-05-31", "region": "65"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _stats(client: TestClient, key: str, **params: str) -> dict[str, Any]:
    response = client.get("/api/v1/statistics", params=params, headers=auth(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def _series(report: dict[str, Any], metric: str) -> dict[str, int]:
    return {p: n for p, n in report["series"][metric].items() if n}


def _by_region(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["region"]: r for r in report["regions"]}


@pytest.fixture(scope="module")
def fixtures(client: TestClient, platform_key: str, engine: Any) -> dict[str, Any]:
    # Through the API: X and Y registered with the standard set (5 active seals each) in
    # 659001; all of Y's seals revoked; Z created without seals.
    made: dict[str, Any] = {}
    for label in ("X", "Y"):
        response = client.post(
            "/api/v1/enterprises",
            json={
                "name": f"伊犁{label}商贸有限公司",
                "uscc": uscc_in("659001"),
                "legal_representative": "张伟",
            },
            headers=auth(platform_key),
        )
        assert response.status_code == 201, response.text
        made[label] = response.json()
    for seal in made["Y"]["seals"]:
        revoked = client.post(f"/api/v1/seals/{seal['id']}/revoke", headers=auth(platform_key))
        assert revoked.status_code == 200, revoked.text
    response = client.post(
        "/api/v1/organizations",
        json={
            "name": "伊犁Z商贸有限公司",
            "uscc": uscc_in("659001"),
            "legal_representative": "李娜",
        },
        headers=auth(platform_key),
    )
    assert response.status_code == 201, response.text
    seals = {s["kind"]: s["id"] for s in made["X"]["seals"]}
    x_org = made["X"]["organization_id"]
    with unit_of_work(engine) as session:
        _orm_fixtures(session, x_org, seals)
    return made


def _orm_fixtures(session: Session, x_org: str, seals: dict[str, str]) -> None:
    # Four enterprises and one agency, created on chosen instants (UTC; +8 h is local).
    for division, created in (
        ("650102", "2025-03-31T15:59:59"),  # 2025-03-31 23:59:59 local
        ("650102", "2025-03-31T16:00:00"),  # 2025-04-01 00:00 local
        ("650203", "2025-04-30T16:00:00"),  # 2025-05-01 00:00 local
        ("654002", "2025-04-15T00:00:00"),  # 2025-04-15 08:00 local
    ):
        session.add(
            Organization(
                name=f"新疆{created}",
                kind=OrganizationKind.enterprise,
                uscc=uscc_in(division),
                created_at=_at(created),
            )
        )
    session.add(
        Organization(
            name="新疆某局",
            kind=OrganizationKind.agency,
            uscc=uscc_in("650102"),
            created_at=_at("2025-04-02T00:00:00"),
        )
    )
    # Uses of X's seals (division 659001).
    for kind, document_type, used in (
        ("contract", "contract", "2025-04-30T15:59:59"),  # April, local
        ("contract", "contract", "2025-04-30T16:00:00"),  # May, local
        ("official", "notice", "2025-05-10T02:00:00"),
        ("official", None, "2025-05-31T15:59:59"),  # the window's last local second
        ("official", None, "2025-05-31T16:00:00"),  # June: outside the window
    ):
        session.add(
            SealUsage(
                seal_id=seals[kind],
                organization_id=x_org,
                user_kind="client",
                user_id="c" * 32,
                document_sha256="0" * 64,
                document_type=document_type,
                used_at=_at(used),
            )
        )
    envelope = Envelope(
        organization_id=x_org,
        title="采购合同",
        filename="c.pdf",
        routing="sequential",
        status="in_progress",
        created_by="client:test",
    )
    session.add(envelope)
    session.flush()
    envelope.status = "completed"
    envelope.finished_at = _at("2025-03-31T16:00:01")  # April 1st, local
    session.add(envelope)
    session.flush()


def test_monthly_figures_by_city_match_the_hand_count(
    client: TestClient, platform_key: str, fixtures: dict[str, Any]
) -> None:
    report = _stats(client, platform_key, granularity="month", level="city", **WINDOW)
    assert report["periods"] == ["2025-03", "2025-04", "2025-05"]
    assert report["timezone"] == "Asia/Shanghai"
    assert _series(report, "enterprises_registered") == {"2025-03": 1, "2025-04": 2, "2025-05": 1}
    assert _series(report, "seal_uses") == {"2025-04": 1, "2025-05": 3}
    assert _series(report, "envelopes_completed") == {"2025-04": 1}
    regions = _by_region(report)
    assert set(regions) == {"6501", "6502", "6540", "6590"}
    assert regions["6501"]["enterprises_registered"] == 2  # the agency is not an enterprise
    assert regions["6501"]["enterprises"] == 2
    assert regions["6502"]["enterprises_registered"] == 1
    assert regions["6540"]["enterprises_registered"] == 1
    ili = regions["6590"]
    # registered today, outside the 2025 window, but counted in the current state
    assert ili["enterprises_registered"] == 0
    assert ili["enterprises"] == 3
    assert ili["enterprises_with_active_seal"] == 1  # X; Y's seals are revoked; Z has none
    assert ili["distribution_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert ili["seals"] == {
        kind: {"active": 1, "revoked": 1}
        for kind in ("official", "contract", "finance", "invoice", "legal_representative")
    }
    assert ili["seal_uses"] == 4
    only_ili = _stats(
        client, platform_key, granularity="month", level="city", **{**WINDOW, "region": "6590"}
    )
    assert only_ili["totals"]["uses_by_kind"] == {"contract": 2, "official": 2}
    assert only_ili["totals"]["uses_by_document_type"] == {"contract": 2, "notice": 1, "-": 1}
    assert only_ili["totals"]["seals_made"] == 0  # made today, outside the window
    totals = report["totals"]
    assert totals["enterprises"] == 7
    assert totals["enterprises_with_active_seal"] == 1
    assert totals["distribution_rate"] == pytest.approx(1 / 7, abs=1e-4)


def test_province_and_county_roll_ups_and_daily_boundaries(
    client: TestClient, platform_key: str, fixtures: dict[str, Any]
) -> None:
    province = _stats(client, platform_key, granularity="month", level="province", **WINDOW)
    assert [r["region"] for r in province["regions"]] == ["65"]
    assert province["regions"][0]["enterprises_registered"] == 4
    county = _stats(client, platform_key, granularity="month", level="county", **WINDOW)
    assert {r["region"] for r in county["regions"]} == {"650102", "650203", "654002", "659001"}
    city_only = _stats(
        client,
        platform_key,
        granularity="month",
        level="county",
        **{**WINDOW, "region": "6501"},
    )
    assert [r["region"] for r in city_only["regions"]] == ["650102"]
    days = _stats(
        client,
        platform_key,
        granularity="day",
        level="province",
        **{"from": "2025-03-31", "to": "2025-04-01", "region": "65"},
    )
    assert days["periods"] == ["2025-03-31", "2025-04-01"]
    assert days["series"]["enterprises_registered"] == {"2025-03-31": 1, "2025-04-01": 1}
    assert days["series"]["envelopes_completed"] == {"2025-03-31": 0, "2025-04-01": 1}
    last_day = _stats(
        client,
        platform_key,
        granularity="day",
        level="city",
        **{"from": "2025-04-30", "to": "2025-05-01", "region": "6590"},
    )
    assert last_day["series"]["seal_uses"] == {"2025-04-30": 1, "2025-05-01": 1}


def test_csv_lists_the_same_figures(
    client: TestClient, platform_key: str, fixtures: dict[str, Any]
) -> None:
    response = client.get(
        "/api/v1/statistics",
        params={"granularity": "month", "level": "city", "format": "csv", **WINDOW},
        headers=auth(platform_key),
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.split("\r\n")
    assert lines[0] == "period,region,metric,dim1,dim2,value"
    assert "2025-03,6501,enterprises_registered,,,1" in lines
    assert "2025-04,6501,enterprises_registered,,,1" in lines
    assert "2025-05,6590,seal_uses,official,notice,1" in lines
    assert "*,6590,seals,contract,revoked,1" in lines
    assert "*,6590,enterprises_with_active_seal,,,1" in lines


def test_verification_requests_are_counted(
    client: TestClient, platform_key: str, fixtures: dict[str, Any]
) -> None:
    def count() -> int:
        report = _stats(client, platform_key, granularity="month")
        return int(report["totals"]["verification_requests"])

    before = count()
    response = client.post(
        "/api/v1/verify",
        content=b"%PDF-1.7\nnot really",
        headers={"content-type": "application/pdf"},
    )
    assert response.status_code in (200, 422), response.text
    assert count() == before + 1


def test_only_agencies_read_statistics_and_bad_queries_are_problems(
    client: TestClient, platform_key: str, new_org: Any, org_key: Any
) -> None:
    org = new_org("杭州某公司")
    key = org_key(org["id"])
    refused = client.get("/api/v1/statistics", headers=auth(key))
    assert refused.status_code == 403
    assert refused.json()["type"] == "urn:eseal:problem:forbidden"
    for params in (
        {"from": "2025-05-01", "to": "2025-04-01"},
        {"region": "6x"},
        {"level": "province", "region": "6501"},
        {"granularity": "day", "from": "2020-01-01", "to": "2025-01-01"},
    ):
        bad = client.get("/api/v1/statistics", params=params, headers=auth(platform_key))
        assert bad.status_code == 422, (params, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")


def test_a_rebuild_from_the_acts_gives_the_maintained_figures(
    client: TestClient, platform_key: str, engine: Any, fixtures: dict[str, Any]
) -> None:
    """Every act of the whole test session so far was counted as it happened; recounting
    them all from their rows must give the same figures, for every region and period."""
    params = {"granularity": "day", "from": "2025-03-01", "to": "2026-04-01", "level": "county"}
    params_now = {"granularity": "month", "level": "county"}
    every = [params, params_now, {**params_now, "level": "city"}, {"level": "province"}]
    before = [_stats(client, platform_key, **p) for p in every]
    csv_params = {**params_now, "format": "csv"}
    csv_before = client.get("/api/v1/statistics", params=csv_params, headers=auth(platform_key))
    with unit_of_work(engine) as session:
        rebuild(session)
    after = [_stats(client, platform_key, **p) for p in every]
    assert after == before
    csv_after = client.get("/api/v1/statistics", params=csv_params, headers=auth(platform_key))
    assert csv_after.text == csv_before.text
    assert after[1]["totals"]["enterprises"] >= 7
