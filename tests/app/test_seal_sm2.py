"""Dual certificates: enterprise registration gives every seal an SM2 certificate beside its
ECDSA one (ESEAL_SM2_ENABLED, default on), in the same transaction; revoking the seal revokes
both and the SM2 CA's CRL lists it; the SM2 hierarchy is published like the main one."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp, tsp
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.bootstrap import initialise
from app.db import unit_of_work
from app.models import AuditEvent
from app.settings import Settings
from app.verification.verify import refresh_stale_crls
from app.wiring import build_services
from pki import sm2
from pki.authority import seal_code_of
from pki.models import CaRecord, CertificateRecord
from pki.sm2_ca import certificate_spki, ocsp_request, verify_certificate_signature
from pki.tsa import TimeStampResp
from seals.models import Seal
from tests.conftest import auth, make_uscc
from tests.seals_registry.util import make_org, rows

POLICY = x509.ObjectIdentifier("1.3.6.1.4.1.32473.1")


@pytest.fixture()
def bureau_key(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> str:
    bureau = make_org(client, new_org, org_key, platform_key, name="福州市市场监督管理局")
    _, key = bureau.key("enterprises:register")
    return key


def _record(engine: Engine, certificate_id: str) -> CertificateRecord:
    with Session(engine) as session:
        record = session.get(CertificateRecord, certificate_id)
        assert record is not None
        return record


def test_registration_issues_an_sm2_certificate_for_every_seal(
    client: TestClient, bureau_key: str, engine: Engine
) -> None:
    uscc = make_uscc()
    response = client.post(
        "/api/v1/enterprises",
        json={"name": "福州双证科技有限公司", "uscc": uscc, "legal_representative": "陈明"},
        headers=auth(bureau_key),
    )
    assert response.status_code == 201, response.text
    seals = response.json()["seals"]
    assert len(seals) == 5
    sm2_org_ca = client.get("/pki/ca/sm2-organization.crt")
    assert sm2_org_ca.status_code == 200
    issuer_spki = certificate_spki(sm2_org_ca.content)
    for seal in seals:
        assert seal["sm2_certificate_id"] and seal["sm2_certificate_id"] != seal["certificate_id"]
        main = _record(engine, seal["certificate_id"])
        dual = _record(engine, seal["sm2_certificate_id"])
        assert main.issuer_ca == "organization" and dual.issuer_ca == "sm2-organization"
        assert dual.owner_org_id == main.owner_org_id == response.json()["organization_id"]
        certificate = x509.load_der_x509_certificate(dual.der)
        assert seal_code_of(certificate, policy=POLICY) == seal["code"]
        assert sm2.is_sm2_public_key_info(certificate_spki(dual.der))
        assert verify_certificate_signature(dual.der, issuer_spki)
        row = rows(engine, select(Seal).where(Seal.id == seal["id"]))[0]
        assert row.sm2_key_id == dual.key_id and row.sm2_key_id != row.key_id
        detail = client.get(f"/api/v1/seals/{seal['id']}", headers=auth(bureau_key))
        if detail.status_code == 200:
            assert detail.json()["sm2_certificate_id"] == seal["sm2_certificate_id"]


def test_revoking_the_seal_revokes_both_and_the_sm2_crl_says_so(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Engine
) -> None:
    org = make_org(client, new_org, org_key, platform_key, name="福州吊销科技有限公司")
    created = client.post(
        f"/api/v1/organizations/{org.id}/seals",
        json={"kind": "contract"},
        headers=auth(org.admin),
    )
    assert created.status_code == 201, created.text
    seal = created.json()
    revoked = client.post(
        f"/api/v1/seals/{seal['id']}/revoke",
        json={"reason": "测试吊销"},
        headers=auth(org.admin),
    )
    assert revoked.status_code == 200, revoked.text
    dual = _record(engine, seal["sm2_certificate_id"])
    assert dual.status == "revoked" and _record(engine, seal["certificate_id"]).status == "revoked"
    audited = rows(
        engine,
        select(AuditEvent.target_id).where(AuditEvent.action == "certificate.revoke"),
    )
    assert seal["certificate_id"] in audited and seal["sm2_certificate_id"] in audited
    crl = client.get("/pki/crl/sm2-organization.crl")
    assert crl.status_code == 200
    parsed = asn1_crl.CertificateList.load(crl.content)
    listed = {e["user_certificate"].native for e in parsed["tbs_cert_list"]["revoked_certificates"]}
    assert int(dual.serial, 16) in listed
    issuer_spki = certificate_spki(client.get("/pki/ca/sm2-organization.crt").content)
    assert sm2.verify(issuer_spki, parsed["tbs_cert_list"].dump(), bytes(parsed["signature"]))


def test_sm2_root_is_published_and_unknown_names_are_404(client: TestClient) -> None:
    root = client.get("/pki/ca/sm2-root.crt")
    assert root.status_code == 200
    assert (
        x509.load_der_x509_certificate(root.content)
        .subject.rfc4514_string()
        .startswith("CN=eseal SM2 Root CA")
    )
    assert client.get("/pki/ca/sm2-tsa.crt").status_code == 404
    assert client.get("/pki/crl/sm2-root.crl").status_code == 200


def test_sm2_disabled_means_no_sm2_hierarchy_and_no_sm2_certificates(
    settings: Settings, tmp_path: Any
) -> None:
    off = settings.model_copy(
        update={
            "sm2_enabled": False,
            "data_dir": tmp_path / "data",
            "database_url": f"sqlite:///{tmp_path / 'off.sqlite'}",
        }
    )
    result = initialise(off)
    assert not any("sm2-root" in line for line in result.changed)
    services = build_services(off)
    try:
        with unit_of_work(services.engine) as session:
            assert session.get(CaRecord, "sm2-root") is None
            assert session.get(CaRecord, "root") is not None
            assert services.publisher.crl_issuers(session) == ["root", "organization", "personal"]
        refresh_stale_crls(services)  # verification's CRL refresh skips the absent SM2 CAs
        on = off.model_copy(update={"sm2_enabled": True})
        again = initialise(on)  # an existing installation gains the SM2 hierarchy on init
        assert any("sm2-root" in line for line in again.changed)
        with unit_of_work(services.engine) as session:
            assert session.get(CaRecord, "sm2-organization") is not None
            assert len(services.publisher.crl_issuers(session)) == 6
        refresh_stale_crls(services)
    finally:
        services.engine.dispose()


def test_sm2_ocsp_and_tsa_over_http(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Engine
) -> None:
    org = make_org(client, new_org, org_key, platform_key, name="福州应答科技有限公司")
    created = client.post(
        f"/api/v1/organizations/{org.id}/seals", json={"kind": "finance"}, headers=auth(org.admin)
    )
    assert created.status_code == 201, created.text
    dual = _record(engine, created.json()["sm2_certificate_id"])
    issuer = client.get("/pki/ca/sm2-organization.crt").content
    answer = client.post(
        "/pki/ocsp",
        content=ocsp_request(dual.der, issuer),
        headers={"content-type": "application/ocsp-request"},
    )
    basic = ocsp.OCSPResponse.load(answer.content)["response_bytes"]["response"].parsed
    assert basic["tbs_response_data"]["responses"][0]["cert_status"].name == "good"
    responder = basic["certs"][0].dump()
    assert sm2.verify(
        certificate_spki(responder), basic["tbs_response_data"].dump(), bytes(basic["signature"])
    )
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sm3"},
                "hashed_message": b"\1" * 32,
            },
            "cert_req": True,
        }
    )
    reply = client.post(
        "/pki/tsa/sm2",
        content=query.dump(),
        headers={"content-type": "application/timestamp-query"},
    )
    assert reply.status_code == 200
    token = TimeStampResp.load(reply.content)["time_stamp_token"]
    signer = token["content"]["signer_infos"][0]
    assert signer["signature_algorithm"]["algorithm"].dotted == sm2.OID_SM2_WITH_SM3


def test_sm2_standalone_certificates_and_no_sm2_main_seal_key(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    org = make_org(client, new_org, org_key, platform_key, name="福州单证科技有限公司")
    issued = client.post(
        f"/api/v1/organizations/{org.id}/certificates",
        json={"key_algorithm": "sm2"},
        headers=auth(org.admin),
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["issuer"] == "sm2-organization" and body["key"] == "service-held"
    der = x509.load_pem_x509_certificate(body["pem"].encode()).public_bytes(Encoding.DER)
    assert sm2.is_sm2_public_key_info(certificate_spki(der))
    refused = client.post(
        f"/api/v1/organizations/{org.id}/seals",
        json={"kind": "contract", "key_algorithm": "sm2"},
        headers=auth(org.admin),
    )
    assert refused.status_code == 422, refused.text


def test_revoking_the_sm2_certificate_revokes_the_seal_and_its_main_certificate(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, engine: Engine
) -> None:
    org = make_org(client, new_org, org_key, platform_key, name="福州证书吊销有限公司")
    seal = client.post(
        f"/api/v1/organizations/{org.id}/seals", json={"kind": "invoice"}, headers=auth(org.admin)
    ).json()
    done = client.post(
        f"/api/v1/certificates/{seal['sm2_certificate_id']}/revoke",
        json={"reason": "keyCompromise"},
        headers=auth(org.admin),
    )
    assert done.status_code == 200, done.text
    status = client.get(f"/api/v1/seals/{seal['id']}", headers=auth(org.admin)).json()["status"]
    assert status == "revoked"
    assert _record(engine, seal["certificate_id"]).status == "revoked"
    audited = rows(
        engine,
        select(AuditEvent.target_id).where(AuditEvent.action == "certificate.revoke"),
    )
    assert seal["certificate_id"] in audited and seal["sm2_certificate_id"] in audited
    crl = asn1_crl.CertificateList.load(client.get("/pki/crl/organization.crl").content)
    listed = {e["user_certificate"].native for e in crl["tbs_cert_list"]["revoked_certificates"]}
    assert int(_record(engine, seal["certificate_id"]).serial, 16) in listed
