"""Shared steps of the policy-scenario tests: a registration authority with a granted
official seal, an enterprise registered with its licence, a contract sealed by it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import auth, make_uscc
from tests.seals_registry.util import Org, make_org

FAST_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def use_fast_font(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    if FAST_FONT.is_file():
        settings = client.app.state.services.settings  # type: ignore[attr-defined]
        monkeypatch.setattr(settings, "document_font", FAST_FONT)


@dataclass
class Bureau:
    org: Org
    seal: dict[str, Any]
    key: str
    """enterprises:register + seals:use, granted the official seal."""


def make_bureau(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, name: str
) -> Bureau:
    org = make_org(client, new_org, org_key, platform_key, name=name)
    seal = org.seal("official")
    client_id, key = org.key("enterprises:register", "seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id)
    return Bureau(org=org, seal=seal, key=key)


def licence_fields(seal_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "seal_id": seal_id,
        "entity_type": "有限责任公司（自然人投资或控股）",
        "address": "浙江省杭州市西湖区文三路100号5层501室",
        "business_scope": "一般项目：技术服务、技术开发、软件开发。",
        "established_on": "2026-03-01",
        "issued_on": "2026-03-01",
        "registered_capital": "壹佰万元整",
        "operating_period": "长期",
        **changes,
    }


def register(
    client: TestClient,
    bureau: Bureau,
    name: str,
    *,
    uscc: str | None = None,
    licence: dict[str, Any] | None = None,
) -> Any:
    body: dict[str, Any] = {
        "name": name,
        "uscc": uscc or make_uscc(),
        "legal_representative": "张伟",
    }
    if licence is not None:
        body["licence"] = licence
    return client.post("/api/v1/enterprises", json=body, headers=auth(bureau.key))


def enterprise(client: TestClient, registered: dict[str, Any], org_key: Any, platform: str) -> Org:
    return Org(
        client=client,
        id=registered["organization_id"],
        name=registered["name"],
        uscc=registered["uscc"],
        admin=org_key(registered["organization_id"]),
        platform=platform,
    )


def sign(
    client: TestClient,
    key: str,
    seal_id: str,
    pdf: bytes,
    placement: dict[str, Any] | None = None,
    level: str = "B-LT",
    **fields: str,
) -> Any:
    return client.post(
        f"/api/v1/seals/{seal_id}/sign",
        files={"file": ("合同.pdf", pdf, "application/pdf")},
        data={
            "placement": json.dumps(
                placement or {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240}
            ),
            "level": level,
            **fields,
        },
        headers=auth(key),
    )
