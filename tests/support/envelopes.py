"""Envelopes (多方签章) that tests open the same way: two organizations, each with an official
seal granted to an API client of its own, as the two participants of one envelope over a
one-page approval (seals side by side at 200 mm from the bottom)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.seals_registry.util import Org, make_org
from tests.support.documents import contract_pdf


@dataclass(frozen=True, slots=True)
class Party:
    """One participant: its organization, the seal it signs with and the client that may."""

    org: Org
    seal_id: str
    client_id: str
    key: str


def two_party_envelope(
    client: TestClient,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    *,
    names: tuple[str, str],
    routing: str,
    level: str,
) -> tuple[list[Party], dict[str, Any]]:
    """The parties (organizations named ``names``) and the envelope, created by the first
    party's admin with ``routing`` and every seal at ``level``."""
    pdf = contract_pdf(1, title="联合审批意见", paragraphs=("县、市两级共同审批。",))
    parties = []
    for name in names:
        org = make_org(client, new_org, org_key, platform_key, name=name)
        seal = org.seal("official")
        client_id, key = org.key("seals:read", "seals:use")
        org.grant(seal["id"], "client", client_id)
        parties.append(Party(org=org, seal_id=seal["id"], client_id=client_id, key=key))
    body = {
        "title": "联合审批意见",
        "routing": routing,
        "participants": [
            {
                "organization_id": party.org.id,
                "seal_id": party.seal_id,
                "placement": {"type": "coordinates", "page": 1, "x_mm": x, "y_mm": 200},
                "level": level,
            }
            for party, x in zip(parties, (60, 140), strict=True)
        ],
    }
    created = client.post(
        "/api/v1/envelopes",
        files={"file": ("审批.pdf", pdf, "application/pdf")},
        data={"envelope": json.dumps(body, ensure_ascii=False)},
        headers=auth(parties[0].org.admin),
    )
    assert created.status_code == 201, created.text
    return parties, created.json()
