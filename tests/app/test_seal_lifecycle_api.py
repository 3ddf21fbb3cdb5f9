"""Seals through the API: creation bound to their own certificate and key, images, every
lifecycle transition (and the illegal ones), revocation reaching the CRL, audit events,
public status, and other organizations' seals answering 404."""

from __future__ import annotations

import io
from typing import Any

import pytest
from cryptography import x509
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from sqlmodel import select

from pki.authority import seal_code_of
from pki.models import CertificateRecord
from seals.codes import check_digit, is_valid_seal_code
from seals.models import Seal
from tests.conftest import auth
from tests.seals_registry.util import Org, audit_actions, make_org, one, problem_code, rows

POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.32473.1")


@pytest.fixture()
def org(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key)


def test_a_seal_gets_a_code_an_image_and_its_own_certificate_naming_it(
    client: TestClient, org: Org, engine: Engine
) -> None:
    seal = org.seal("contract", activate=False)
    assert seal["status"] == "pending" and is_valid_seal_code(seal["code"])
    assert seal["name"] == "杭州青禾科技有限公司合同专用章"
    cert = client.get(f"/api/v1/certificates/{seal['certificate_id']}", headers=auth(org.admin))
    assert cert.status_code == 200
    certificate = x509.load_pem_x509_certificate(cert.json()["pem"].encode())
    assert seal_code_of(certificate, policy=POLICY) == seal["code"]
    assert cert.json()["organization_id"] == org.id and cert.json()["key"] == "service-held"
    assert seal["valid_until"] == cert.json()["not_after"]
    other = org.seal("finance", activate=False)
    assert other["certificate_id"] != seal["certificate_id"]
    keys = rows(engine, select(Seal.key_id).where(Seal.organization_id == org.id))
    assert len(set(keys)) == 2

    image = client.get(seal["image_url"], headers=auth(org.admin))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    png = Image.open(io.BytesIO(image.content))
    assert png.mode == "RGBA" and png.size == (248, 248)  # 42 mm at 150 dpi
    assert image.headers["etag"] == f'"{seal["image_sha256"]}"'
    assert audit_actions(engine, seal["id"]) == ["seal.create"]
    assert audit_actions(engine, seal["certificate_id"]) == ["certificate.issue"]


def test_preview_renders_without_storing_anything(
    client: TestClient, org: Org, engine: Engine
) -> None:
    before = rows(engine, select(Seal.id).where(Seal.organization_id == org.id))
    response = client.post(
        f"/api/v1/organizations/{org.id}/seal-previews",
        json={"kind": "invoice", "dpi": 100},
        headers=auth(org.admin),
    )
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (157, 118)  # 40 x 30 mm
    after = rows(engine, select(Seal.id).where(Seal.organization_id == org.id))
    assert before == after


def test_every_transition_and_the_illegal_ones(
    client: TestClient, org: Org, engine: Engine
) -> None:
    seal = org.seal("finance", activate=False)
    sid = seal["id"]

    def act(action: str, expected: int, **body: Any) -> Any:
        response = client.post(
            f"/api/v1/seals/{sid}/{action}", json=body or None, headers=auth(org.admin)
        )
        assert response.status_code == expected, response.text
        return response

    for illegal in ("suspend", "reactivate"):
        assert problem_code(act(illegal, 409)) == "seal-illegal-transition"
    assert act("activate", 200).json()["status"] == "active"
    assert problem_code(act("activate", 409)) == "seal-illegal-transition"
    assert act("suspend", 200, reason="印章保管人变更").json()["status"] == "suspended"
    assert act("reactivate", 200).json()["status"] == "active"
    revoked = act("revoke", 200, reason="印章遗失").json()
    assert revoked["status"] == "revoked" and revoked["revocation_reason"] == "印章遗失"
    for again in ("activate", "suspend", "reactivate", "revoke"):
        response = act(again, 409)
        assert problem_code(response) == "seal-illegal-transition"
        assert "revoked is final" in response.json()["detail"]
    assert audit_actions(engine, sid) == [
        "seal.create",
        "seal.activate",
        "seal.suspend",
        "seal.reactivate",
        "seal.revoke",
    ]


def test_revoking_a_seal_revokes_its_certificate_and_the_crl_says_so(
    client: TestClient, org: Org, engine: Engine
) -> None:
    seal = org.seal("contract")
    response = client.post(f"/api/v1/seals/{seal['id']}/revoke", headers=auth(org.admin))
    assert response.status_code == 200
    record = one(engine, CertificateRecord, seal["certificate_id"])
    assert record is not None and record.status == "revoked"
    assert record.revocation_reason == "cessationOfOperation"
    crl = x509.load_der_x509_crl(client.get("/pki/crl/organization.crl").content)
    assert crl.get_revoked_certificate_by_serial_number(int(record.serial, 16)) is not None
    assert audit_actions(engine, seal["certificate_id"]) == [
        "certificate.issue",
        "certificate.revoke",
    ]


def test_pending_seals_can_be_revoked_and_a_seal_whose_certificate_was_revoked_too(
    client: TestClient, org: Org
) -> None:
    pending = org.seal("contract", activate=False)
    assert (
        client.post(f"/api/v1/seals/{pending['id']}/revoke", headers=auth(org.admin)).json()[
            "status"
        ]
        == "revoked"
    )
    seal = org.seal("finance")
    cert = client.post(
        f"/api/v1/certificates/{seal['certificate_id']}/revoke",
        json={"reason": "keyCompromise"},
        headers=auth(org.admin),
    )
    assert cert.status_code == 200
    # The seal went with its certificate (issue 10): already revoked, nothing left to do.
    seen = client.get(f"/api/v1/seals/{seal['id']}", headers=auth(org.admin)).json()
    assert seen["status"] == "revoked"
    response = client.post(f"/api/v1/seals/{seal['id']}/revoke", headers=auth(org.admin))
    assert response.status_code == 409


def test_transitions_need_an_org_admin(client: TestClient, org: Org) -> None:
    seal = org.seal("contract", activate=False)
    _, keeper = org.key("seals:read", "seals:write")
    response = client.post(f"/api/v1/seals/{seal['id']}/activate", headers=auth(keeper))
    assert response.status_code == 403 and problem_code(response) == "forbidden"
    # a seal keeper may create seals, though
    created = client.post(
        f"/api/v1/organizations/{org.id}/seals",
        json={"kind": "invoice", "dpi": 150},
        headers=auth(keeper),
    )
    assert created.status_code == 201, created.text


def test_one_live_official_seal_per_organization(client: TestClient, org: Org) -> None:
    first = org.seal("official")
    response = client.post(
        f"/api/v1/organizations/{org.id}/seals",
        json={"kind": "official", "dpi": 150},
        headers=auth(org.admin),
    )
    assert response.status_code == 409 and problem_code(response) == "seal-conflict"
    client.post(f"/api/v1/seals/{first['id']}/revoke", headers=auth(org.admin))
    org.seal("official", activate=False)


def test_other_organizations_seals_are_not_found(
    client: TestClient, org: Org, new_org: Any, org_key: Any, platform_key: str
) -> None:
    seal = org.seal("contract")
    other = make_org(client, new_org, org_key, platform_key, name="深圳某某贸易有限公司")
    sid = seal["id"]
    for method, path in (
        ("GET", f"/api/v1/seals/{sid}"),
        ("GET", f"/api/v1/seals/{sid}/image"),
        ("POST", f"/api/v1/seals/{sid}/suspend"),
        ("POST", f"/api/v1/seals/{sid}/revoke"),
        ("GET", f"/api/v1/seals/{sid}/grants"),
    ):
        response = client.request(method, path, headers=auth(other.admin))
        assert response.status_code == 404, (method, path, response.text)
    response = client.get(f"/api/v1/organizations/{org.id}/seals", headers=auth(other.admin))
    assert response.status_code == 404
    assert client.get(f"/api/v1/seals/{sid}", headers=auth(org.admin)).json()["status"] == "active"


def test_bad_input_is_a_problem_and_leaves_nothing(
    client: TestClient, org: Org, engine: Engine
) -> None:
    cases: list[tuple[dict[str, Any], int]] = [
        ({"kind": "stamp"}, 422),
        ({"kind": "contract", "inscription": "合同\u0000章"}, 422),
        ({"kind": "contract", "person_name": "张伟"}, 422),
        ({"kind": "legal_representative", "person_name": "张伟张伟张伟张伟张伟"}, 422),
        ({"kind": "personal"}, 422),
        ({"kind": "personal", "person_id": "0" * 32}, 404),
        ({"kind": "official", "lifetime_days": 5000}, 422),
        ({"kind": "contract", "name": ""}, 422),
    ]
    for body, expected in cases:
        response = client.post(
            f"/api/v1/organizations/{org.id}/seals",
            json={"dpi": 150, **body},
            headers=auth(org.admin),
        )
        assert response.status_code == expected, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert rows(engine, select(Seal.id).where(Seal.organization_id == org.id)) == []
    certs = rows(
        engine, select(CertificateRecord.id).where(CertificateRecord.owner_org_id == org.id)
    )
    assert certs == []


def test_public_status_by_code(client: TestClient, org: Org) -> None:
    seal = org.seal("contract")
    response = client.get(f"/api/v1/public/seals/{seal['code']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["owner"] == org.name and body["status"] == "active"
    assert body["kind"] == "contract" and body["kind_label"] == "合同专用章"
    assert body["valid_until"] == seal["valid_until"]
    assert org.uscc not in response.text and "pem" not in body
    client.post(f"/api/v1/seals/{seal['id']}/revoke", headers=auth(org.admin))
    assert client.get(f"/api/v1/public/seals/{seal['code']}").json()["status"] == "revoked"

    code = seal["code"]
    mistyped = code[:-1] + str((int(code[-1]) + 1) % 10)
    response = client.get(f"/api/v1/public/seals/{mistyped}")
    assert response.status_code == 422 and problem_code(response) == "invalid-seal-request"
    unknown = "100000000000" + check_digit("100000000000")
    assert client.get(f"/api/v1/public/seals/{unknown}").status_code == 404


def test_a_seals_certificate_is_not_renewed_apart_from_its_seal(
    client: TestClient, org: Org
) -> None:
    seal = org.seal("contract")
    response = client.post(
        f"/api/v1/certificates/{seal['certificate_id']}/renew", json={}, headers=auth(org.admin)
    )
    assert response.status_code == 409, response.text
    assert "seal" in response.json()["detail"]
