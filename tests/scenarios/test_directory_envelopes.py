"""Counterparties by credit code: a supplier lists its contract seal; the buyer finds it by
credit code, invites it into an envelope, the supplier accepts (or declines) and both seal;
the completed envelope's evidence package checks offline."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from seals.evidence_check import check_package
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code
from tests.support.documents import contract_pdf

A_KEYWORD = {"type": "coordinates", "page": 1, "x_mm": 60, "y_mm": 240}
B_KEYWORD = {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240}


def _party(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, name: str
) -> tuple[Org, dict[str, Any], str]:
    org = make_org(client, new_org, org_key, platform_key, name=name)
    seal = org.seal("contract")
    client_id, key = org.key("seals:read", "seals:use", "envelopes:write", "envelopes:read")
    org.grant(seal["id"], "client", client_id)
    return org, seal, key


def _envelope(client: TestClient, key: str, participants: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/envelopes",
        files={"file": ("采购合同.pdf", contract_pdf(), "application/pdf")},
        data={
            "envelope": json.dumps(
                {"title": "设备采购合同", "routing": "sequential", "participants": participants},
                ensure_ascii=False,
            )
        },
        headers=auth(key),
    )


def test_an_envelope_between_two_organizations_found_by_credit_code(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    buyer, buyer_seal, buyer_key = _party(
        client, new_org, org_key, platform_key, "杭州市某采购中心"
    )
    supplier, supplier_seal, supplier_key = _party(
        client, new_org, org_key, platform_key, "深圳某设备有限公司"
    )
    # before listing, the supplier cannot be found
    found = client.get(
        "/api/v1/directory/organizations", params={"uscc": supplier.uscc}, headers=auth(buyer_key)
    )
    assert found.status_code == 200 and found.json() == []
    listed = client.put(
        f"/api/v1/seals/{supplier_seal['id']}/directory-listing", headers=auth(supplier.admin)
    )
    assert listed.status_code == 200, listed.text
    # another organization cannot list the supplier's seal
    assert client.put(
        f"/api/v1/seals/{supplier_seal['id']}/directory-listing", headers=auth(buyer.admin)
    ).status_code == 404  # fmt: skip

    by_code = client.get(
        "/api/v1/directory/organizations", params={"uscc": supplier.uscc}, headers=auth(buyer_key)
    ).json()
    assert [e["name"] for e in by_code] == ["深圳某设备有限公司"]
    assert [s["code"] for s in by_code[0]["seals"]] == [supplier_seal["code"]]
    assert by_code[0]["seals"][0]["kind_label"] == "合同专用章"
    by_name = client.get(
        "/api/v1/directory/organizations", params={"name": "某设备"}, headers=auth(buyer_key)
    ).json()
    assert supplier.id in [e["organization_id"] for e in by_name]
    too_short = client.get(
        "/api/v1/directory/organizations", params={"name": "某"}, headers=auth(buyer_key)
    )
    assert too_short.status_code == 422
    anonymous = client.get("/api/v1/directory/organizations", params={"uscc": supplier.uscc})
    assert anonymous.status_code == 401

    created = _envelope(
        client,
        buyer_key,
        [
            {"organization_uscc": supplier.uscc, "placement": B_KEYWORD, "label": "乙方"},
            {"organization_id": buyer.id, "seal_id": buyer_seal["id"], "placement": A_KEYWORD,
             "label": "甲方"},
        ],
    )  # fmt: skip
    assert created.status_code == 201, created.text
    envelope = created.json()
    supplier_part = envelope["participants"][0]
    assert (supplier_part["organization_id"], supplier_part["seal_id"]) == (
        supplier.id,
        supplier_seal["id"],
    )
    invitations = client.get("/api/v1/invitations", headers=auth(supplier_key)).json()
    assert [i["envelope_id"] for i in invitations] == [envelope["id"]]
    assert client.get("/api/v1/invitations", headers=auth(buyer_key)).json() == []
    # only the invited organization answers
    base = f"/api/v1/envelopes/{envelope['id']}/participants/{supplier_part['id']}/invitation"
    assert client.post(f"{base}/accept", headers=auth(buyer_key)).status_code == 403
    accepted = client.post(f"{base}/accept", headers=auth(supplier_key))
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert client.post(f"{base}/accept", headers=auth(supplier_key)).status_code == 409

    for key, part in ((supplier_key, supplier_part), (buyer_key, envelope["participants"][1])):
        signed = client.post(
            f"/api/v1/envelopes/{envelope['id']}/participants/{part['id']}/sign",
            headers=auth(key),
        )
        assert signed.status_code == 200, signed.text
    done = client.get(f"/api/v1/envelopes/{envelope['id']}", headers=auth(buyer_key)).json()
    assert done["status"] == "completed"

    package = client.get(f"/api/v1/envelopes/{envelope['id']}/evidence", headers=auth(supplier_key))
    assert package.status_code == 200, package.text
    report = check_package(package.content)
    assert report.valid, report
    assert report.subject["type"] == "envelope"
    import io
    import zipfile

    events = json.loads(zipfile.ZipFile(io.BytesIO(package.content)).read("audit/events.json"))
    actions = [e["action"] for e in events]
    assert "envelope.invite" in actions and "envelope.invitation.accept" in actions
    assert actions.count("seal.use") == 2, actions


def test_a_declined_invitation_ends_the_envelope(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    buyer, buyer_seal, buyer_key = _party(client, new_org, org_key, platform_key, "杭州市某学校")
    supplier, supplier_seal, supplier_key = _party(
        client, new_org, org_key, platform_key, "宁波某印刷有限公司"
    )
    client.put(
        f"/api/v1/seals/{supplier_seal['id']}/directory-listing", headers=auth(supplier.admin)
    )
    unknown = _envelope(
        client, buyer_key, [{"organization_uscc": buyer.uscc[:-1] + "X", "placement": B_KEYWORD}]
    )
    assert unknown.status_code in (404, 422)
    created = _envelope(
        client,
        buyer_key,
        [
            {"organization_uscc": supplier.uscc, "placement": B_KEYWORD},
            {"organization_id": buyer.id, "seal_id": buyer_seal["id"], "placement": A_KEYWORD},
        ],
    ).json()
    part = created["participants"][0]
    declined = client.post(
        f"/api/v1/envelopes/{created['id']}/participants/{part['id']}/invitation/decline",
        json={"reason": "价格未谈妥"},
        headers=auth(supplier_key),
    )
    assert declined.status_code == 200, declined.text
    envelope = client.get(f"/api/v1/envelopes/{created['id']}", headers=auth(buyer_key)).json()
    assert envelope["status"] == "declined"
    # no evidence for an envelope that did not complete
    refused = client.get(f"/api/v1/envelopes/{created['id']}/evidence", headers=auth(buyer_key))
    assert refused.status_code == 409 and problem_code(refused) == "conflict"
