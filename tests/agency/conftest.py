"""Fixtures for the agency tests: an agency (registration authority) with a reviewer key,
an enterprise with an applicant key, and small real supporting documents."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.agency.util import uscc_in
from tests.conftest import auth
from tests.support.documents import contract_pdf


@dataclass
class Party:
    id: str
    name: str
    key: str


@pytest.fixture(scope="module")
def licence_pdf() -> bytes:
    return contract_pdf(
        1, title="营业执照（副本）", paragraphs=("统一社会信用代码及登记事项，供制章申请审核。",)
    )


@pytest.fixture(scope="module")
def id_card_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (230, 230, 240)).save(out, format="PNG")
    return out.getvalue()


def _org_with_key(
    client: TestClient, platform_key: str, name: str, kind: str, scopes: list[str]
) -> Party:
    made = client.post(
        "/api/v1/organizations",
        json={
            "name": name,
            "uscc": uscc_in("330106"),
            "legal_representative": "张伟",
            "kind": kind,
        },
        headers=auth(platform_key),
    )
    assert made.status_code == 201, made.text
    org_id = made.json()["id"]
    key = client.post(
        f"/api/v1/organizations/{org_id}/clients",
        json={"name": f"portal-{org_id[:8]}", "scopes": scopes},
        headers=auth(platform_key),
    )
    assert key.status_code == 201, key.text
    return Party(id=org_id, name=name, key=key.json()["api_key"])


@pytest.fixture()
def make_party(client: TestClient, platform_key: str) -> Callable[..., Party]:
    def make(
        name: str, kind: str = "enterprise", scopes: tuple[str, ...] = ("org:admin",)
    ) -> Party:
        return _org_with_key(client, platform_key, name, kind, list(scopes))

    return make


@pytest.fixture()
def agency(make_party: Callable[..., Party]) -> Party:
    return make_party("杭州市市场监督管理局", "agency", ("enterprises:register",))


def events(client: TestClient, platform_key: str, target_id: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/audit/events", params={"target_id": target_id}, headers=auth(platform_key)
    )
    assert response.status_code == 200, response.text
    found = list(response.json())
    for event in found:  # details are canonical JSON text
        if isinstance(event["details"], str):
            event["details"] = json.loads(event["details"])
    return found
