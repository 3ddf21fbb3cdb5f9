"""Usage requests carry the document: the approver sees the pages they approve (API and
console), and the approval still binds exactly that document."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.console.conftest import grant_person, make_console_org, make_seal
from tests.console.conftest import signed_in as signed_in  # the fixture
from tests.scenarios.helpers import sign
from tests.seals_registry.util import problem_code
from tests.support.documents import contract_pdf


def test_the_approver_sees_the_document_and_the_approval_binds_it(
    client: TestClient, platform_key: str, signed_in: Any, org_key: Any
) -> None:
    org = make_console_org(client, platform_key, "杭州禾风贸易有限公司")
    seal = make_seal(client, platform_key, org.id, "合同章", requires_approval=True)
    grant_person(client, platform_key, seal["id"], org.people["approver"])
    signer = org_key(org.id, scopes=("seals:read", "seals:use"))
    client_id = client.get(
        f"/api/v1/organizations/{org.id}/clients", headers=auth(platform_key)
    ).json()[-1]["id"]
    client.post(
        f"/api/v1/seals/{seal['id']}/grants",
        json={"grantee_kind": "client", "grantee_id": client_id},
        headers=auth(platform_key),
    )
    pdf = contract_pdf(pages=3)
    filed = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests/with-document",
        files={"file": ("供货合同.pdf", pdf, "application/pdf")},
        data={"purpose": "供货合同盖章", "copies": "1"},
        headers=auth(signer),
    )
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["document"]["page_count"] == 3
    assert body["document"]["filename"] == "供货合同.pdf"
    request_id = body["request"]["id"]

    approver = org_key(org.id, scopes=("seals:read", "approvals:write"))
    document = client.get(body["document"]["document_url"], headers=auth(approver))
    assert document.status_code == 200 and document.content == pdf
    page = client.get(f"/api/v1/usage-requests/{request_id}/pages/2.png", headers=auth(approver))
    assert page.status_code == 200 and page.content.startswith(b"\x89PNG")
    outsider = org_key(make_console_org(client, platform_key, "别家公司").id)
    assert client.get(body["document"]["document_url"], headers=auth(outsider)).status_code == 404

    # the console's approvals inbox shows the first page instead of "not uploaded"
    browser = signed_in(org.users["approver"])
    inbox = browser.get("/console/approvals")
    assert inbox.status_code == 200
    assert f"/console/documents/{body['document']['id']}/pages/1.png" in inbox.text

    decided = client.post(
        f"/api/v1/usage-requests/{request_id}/approve", json={}, headers=auth(approver)
    )
    assert decided.status_code == 200, decided.text
    other = sign(client, signer, seal["id"], contract_pdf(pages=2))
    assert other.status_code == 403  # the approval is for the uploaded document only
    signed = sign(client, signer, seal["id"], pdf)
    assert signed.status_code == 200, signed.text


def test_a_file_that_is_not_a_pdf_is_refused(
    client: TestClient, platform_key: str, org_key: Any
) -> None:
    org = make_console_org(client, platform_key, "杭州禾雨贸易有限公司")
    seal = make_seal(client, platform_key, org.id, "合同章", requires_approval=True)
    key = org_key(org.id, scopes=("seals:read", "seals:use"))
    response = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests/with-document",
        files={"file": ("x.pdf", b"not a pdf", "application/pdf")},
        data={"purpose": "盖章"},
        headers=auth(key),
    )
    assert response.status_code == 422 and problem_code(response) == "invalid-input"
