"""Synchronous enterprise registration (scenario 1): organization, certificates and the
standard seal set in one call and one transaction; any failure leaves nothing behind."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography import x509
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from app.models import AuditEvent, Organization
from pki.authority import seal_code_of
from pki.models import CertificateRecord, KeyRecord
from seals.models import Seal
from tests.conftest import auth, make_uscc
from tests.seals_registry.util import make_org, problem_code, rows

POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.32473.1")
STANDARD = ["official", "contract", "finance", "invoice", "legal_representative"]


@pytest.fixture()
def bureau_key(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> str:
    """The registration portal of a market-regulation bureau (an agency)."""
    bureau = make_org(client, new_org, org_key, platform_key, name="杭州市市场监督管理局")
    _, key = bureau.key("enterprises:register")
    return key


def _counts(engine: Engine) -> dict[str, int]:
    return {
        name: rows(engine, select(func.count()).select_from(model))[0]
        for name, model in (
            ("organizations", Organization),
            ("seals", Seal),
            ("certificates", CertificateRecord),
            ("keys", KeyRecord),
            ("audit", AuditEvent),
        )
    }


def test_registration_creates_the_enterprise_and_its_active_standard_seals(
    client: TestClient, bureau_key: str, engine: Engine
) -> None:
    uscc = make_uscc()
    started = time.perf_counter()
    response = client.post(
        "/api/v1/enterprises",
        json={"name": "杭州青禾科技有限公司", "uscc": uscc, "legal_representative": "张伟"},
        headers=auth(bureau_key),
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 201, response.text
    print(f"\nsynchronous registration: {elapsed:.2f} s")
    assert elapsed < 10
    body = response.json()
    assert body["uscc"] == uscc and body["legal_representative"] == "张伟"
    assert [s["kind"] for s in body["seals"]] == STANDARD
    assert {s["status"] for s in body["seals"]} == {"active"}
    assert len({s["certificate_id"] for s in body["seals"]}) == 5
    names = [s["name"] for s in body["seals"]]
    assert names[0] == "杭州青禾科技有限公司公章"
    assert names[4] == "杭州青禾科技有限公司法定代表人名章（张伟）"
    for seal in body["seals"]:
        der = rows(
            engine,
            select(CertificateRecord.der).where(CertificateRecord.id == seal["certificate_id"]),
        )[0]
        certificate = x509.load_der_x509_certificate(der)
        assert seal_code_of(certificate, policy=POLICY) == seal["code"]
        assert f"NTRCN-{uscc}" in certificate.subject.rfc4514_string(
            {x509.ObjectIdentifier("2.5.4.97"): "organizationIdentifier"}
        )
        public = client.get(f"/api/v1/public/seals/{seal['code']}").json()
        assert public["status"] == "active" and public["owner"] == "杭州青禾科技有限公司"
    org_id = body["organization_id"]
    events = rows(engine, select(AuditEvent.action).where(AuditEvent.organization_id == org_id))
    assert events.count("organization.register") == 1
    assert events.count("seal.create") == 5
    assert events.count("certificate.issue") == 10  # an ECDSA and an SM2 certificate each


def test_any_failure_leaves_nothing_behind(
    client: TestClient, bureau_key: str, engine: Engine
) -> None:
    before = _counts(engine)
    # the legal representative's seal comes last: four seals, certificates and keys exist
    # when its name (a private-use character the font cannot draw) fails to render
    response = client.post(
        "/api/v1/enterprises",
        json={
            "name": "杭州某某科技有限公司",
            "uscc": make_uscc(),
            "legal_representative": "张\ue000",
        },
        headers=auth(bureau_key),
    )
    assert response.status_code == 422, response.text
    assert problem_code(response) == "seal-render-failed"
    assert _counts(engine) == before

    uscc = make_uscc()
    first = client.post(
        "/api/v1/enterprises",
        json={"name": "杭州某某科技有限公司", "uscc": uscc, "legal_representative": "李强"},
        headers=auth(bureau_key),
    )
    assert first.status_code == 201
    after_first = _counts(engine)
    duplicate = client.post(
        "/api/v1/enterprises",
        json={"name": "另一家公司", "uscc": uscc, "legal_representative": "李强"},
        headers=auth(bureau_key),
    )
    assert duplicate.status_code == 409 and problem_code(duplicate) == "conflict"
    bad_code = client.post(
        "/api/v1/enterprises",
        json={
            "name": "另一家公司",
            "uscc": uscc[:-1] + ("0" if uscc[-1] != "0" else "1"),  # a wrong check character
            "legal_representative": "李强",
        },
        headers=auth(bureau_key),
    )
    assert bad_code.status_code == 422
    assert _counts(engine) == after_first


def test_only_registration_portals_and_the_platform_register(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    org = make_org(client, new_org, org_key, platform_key)
    body = {"name": "杭州某某科技有限公司", "uscc": make_uscc(), "legal_representative": "李强"}
    response = client.post("/api/v1/enterprises", json=body, headers=auth(org.admin))
    assert response.status_code == 403  # org:admin does not imply enterprises:register
    minted = client.post(
        f"/api/v1/organizations/{org.id}/clients",
        json={"name": "sneaky", "scopes": ["enterprises:register"]},
        headers=auth(org.admin),
    )
    assert minted.status_code == 403
    assert (
        client.post("/api/v1/enterprises", json=body, headers=auth(platform_key)).status_code == 201
    )
