"""Structured seal codes: the region (division code from the owner's credit code, or the
registry's setting) as prefix, a random serial and a check digit; legacy 13-digit codes keep
working; the public status says which registry holds a code."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import unit_of_work
from pki.identifiers import division_code, province_of, uscc_check_character
from seals.codes import check_digit, is_valid_seal_code, new_seal_code, region_of
from tests.conftest import make_uscc
from tests.seals_registry.util import make_org, problem_code


def test_codes_carry_the_region_of_the_owner_and_verify_their_check_digit(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    body = "91440300" + make_uscc()[8:17]
    uscc = body + uscc_check_character(body)
    org = make_org(client, lambda name: new_org(name, uscc=uscc), org_key, platform_key,
                   name="深圳某电子有限公司")  # fmt: skip
    seal = org.seal("contract")
    assert len(seal["code"]) == 15 and seal["code"].startswith("440300")
    assert is_valid_seal_code(seal["code"])
    personal = org.seal("personal", person_id=org.member("周杰"))
    assert personal["code"].startswith("440300")

    public = client.get(f"/api/v1/public/seals/{seal['code']}").json()
    assert public["registry"]["region"] == "440300"
    assert public["registry"]["region_name"] == "广东省"
    assert public["registry"]["structured_code"] is True
    assert public["registry"]["url"].startswith("http")

    mistyped = seal["code"][:7] + str((int(seal["code"][7]) + 1) % 10) + seal["code"][8:]
    response = client.get(f"/api/v1/public/seals/{mistyped}")
    assert response.status_code == 422, response.text
    assert problem_code(response) == "invalid-seal-request"


def test_a_legacy_13_digit_code_keeps_working(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Any
) -> None:
    org = make_org(client, new_org, org_key, platform_key, name="杭州老码科技有限公司")
    seal = org.seal("contract")
    legacy = new_seal_code()
    assert len(legacy) == 13 and region_of(legacy) is None
    with unit_of_work(engine) as session:
        session.execute(
            text("UPDATE seal SET code = :c WHERE id = :i"), {"c": legacy, "i": seal["id"]}
        )
    public = client.get(f"/api/v1/public/seals/{legacy}")
    assert public.status_code == 200, public.text
    assert public.json()["registry"] == {
        "region": None,
        "region_name": None,
        "url": public.json()["registry"]["url"],
        "structured_code": False,
    }


def test_the_registry_setting_sets_every_region(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    monkeypatch.setattr(settings, "seal_code_region", "330100")
    org = make_org(client, new_org, org_key, platform_key, name="杭州设置科技有限公司")
    assert org.seal("finance")["code"].startswith("330100")


def test_the_division_code_helper() -> None:
    assert division_code("91330106MA2B3C4D5D") == "330106"
    assert province_of("330106") == "浙江省" and province_of("100000") == "全国"
    code = new_seal_code("330106")
    assert code.startswith("330106") and check_digit(code[:-1]) == code[-1]
    for i in range(15):  # every single-digit change is caught
        digit = str((int(code[i]) + 1) % 10)
        assert not is_valid_seal_code(code[:i] + digit + code[i + 1 :])
