"""GB/T 38540 seal data per seal over HTTP: `/api/v1/seals/{id}/eseal` (the organization) and
`/api/v1/public/seals/{code}/eseal` (anyone), made once by the platform's seal maker; SM2
sealing through the sign API in both SM2 formats, verified by `/api/v1/verify`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from pki.models import CertificateRecord
from pki.sm2_ca import certificate_spki, verify_certificate_signature
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.gbt38540 import parse_seal, verify_seal
from seals.models import Seal
from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code


@pytest.fixture()
def org(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key, name="福州印章数据科技有限公司")


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="采购合同",
        paragraphs=["甲方与乙方就办公设备采购达成如下协议。"],
        pages=1,
        font_path=font.path,
        font_number=font.index,
    )


def _der_of(engine: Engine, certificate_id: str) -> bytes:
    with Session(engine) as session:
        record = session.get(CertificateRecord, certificate_id)
        assert record is not None
        return record.der


def test_seal_data_of_a_seal(client: TestClient, org: Org, engine: Engine) -> None:
    seal = org.seal("contract")
    response = client.get(f"/api/v1/seals/{seal['id']}/eseal", headers=auth(org.admin))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    assert f'filename="{seal["code"]}.esl"' in response.headers["content-disposition"]
    parsed = parse_seal(response.content)
    assert (parsed.version, parsed.header_id, parsed.es_id) == (4, "ES", seal["code"])
    assert parsed.seal_type == 1 and parsed.name == seal["name"]
    assert parsed.certificates == (_der_of(engine, seal["sm2_certificate_id"]),)
    assert parsed.picture.image_type == "png" and parsed.picture.width_mm == 42
    assert verify_seal(parsed, at=datetime.now(UTC)).passed
    sm2_org_ca = client.get("/pki/ca/sm2-organization.crt").content
    assert verify_certificate_signature(parsed.maker_certificate, certificate_spki(sm2_org_ca))
    again = client.get(f"/api/v1/seals/{seal['id']}/eseal", headers=auth(org.admin))
    assert again.content == response.content, "made once, then served as stored"
    public = client.get(f"/api/v1/public/seals/{seal['code']}/eseal")
    assert public.status_code == 200 and public.content == response.content
    status = client.get(f"/api/v1/public/seals/{seal['code']}").json()
    assert status["eseal_url"] == f"/api/v1/public/seals/{seal['code']}/eseal"


def test_a_seal_without_an_sm2_certificate_has_no_seal_data(
    client: TestClient, org: Org, engine: Engine
) -> None:
    seal = org.seal("contract")
    with Session(engine) as session:  # a seal made before SM2 was switched on
        row = session.get(Seal, seal["id"])
        assert row is not None
        row.sm2_certificate_id = row.sm2_key_id = None
        session.add(row)
        session.commit()
    response = client.get(f"/api/v1/seals/{seal['id']}/eseal", headers=auth(org.admin))
    assert (response.status_code, problem_code(response)) == (404, "seal-data-not-found")
    public = client.get(f"/api/v1/public/seals/{seal['code']}/eseal")
    assert (public.status_code, problem_code(public)) == (404, "seal-data-not-found")
    assert client.get(f"/api/v1/public/seals/{seal['code']}").json()["eseal_url"] is None


def test_a_revoked_seal_keeps_its_data_but_gets_none_new(client: TestClient, org: Org) -> None:
    made = org.seal("contract")
    first = client.get(f"/api/v1/seals/{made['id']}/eseal", headers=auth(org.admin))
    assert first.status_code == 200
    never = org.seal("contract")
    for seal in (made, never):
        revoked = client.post(
            f"/api/v1/seals/{seal['id']}/revoke", json={"reason": "测试"}, headers=auth(org.admin)
        )
        assert revoked.status_code == 200, revoked.text
    kept = client.get(f"/api/v1/public/seals/{made['code']}/eseal")
    assert kept.status_code == 200 and kept.content == first.content
    refused = client.get(f"/api/v1/public/seals/{never['code']}/eseal")
    assert (refused.status_code, problem_code(refused)) == (404, "seal-data-not-found")


def test_another_organizations_seal_data_is_not_found(
    client: TestClient, org: Org, new_org: Any, org_key: Any, platform_key: str
) -> None:
    other = make_org(client, new_org, org_key, platform_key, name="福州他人科技有限公司")
    seal = other.seal("contract")
    response = client.get(f"/api/v1/seals/{seal['id']}/eseal", headers=auth(org.admin))
    assert (response.status_code, problem_code(response)) == (404, "seal-not-found")
    anonymous = client.get(f"/api/v1/seals/{seal['id']}/eseal")
    assert anonymous.status_code == 401


def _sign(
    client: TestClient, key: str, seal_id: str, pdf: bytes, fmt: str, level: str = "B-T"
) -> httpx.Response:
    return client.post(
        f"/api/v1/seals/{seal_id}/sign",
        files={"file": ("合同.pdf", pdf, "application/pdf")},
        data={
            "placement": json.dumps({"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240}),
            "level": level,
            "format": fmt,
        },
        headers=auth(key),
    )


@pytest.mark.parametrize(("fmt", "level"), [("sm2-cms", "B-LT"), ("gbt38540", "B-T")])
def test_sealing_with_sm2_through_the_api(
    client: TestClient, org: Org, contract_pdf: bytes, fmt: str, level: str
) -> None:
    """The seal's SM2 certificate signs, the SM2 TSA time-stamps (SM2-with-SM3 token), and
    /api/v1/verify passes it with the chain to our SM2 root and the seal found by its
    SM2 certificate."""
    seal = org.seal("contract")
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id)
    signed = _sign(client, key, seal["id"], contract_pdf, fmt, level)
    assert signed.status_code == 200, signed.text
    report = client.post("/api/v1/verify", content=signed.content).json()
    sig = report["signatures"][0]
    assert report["indication"] == "TOTAL_PASSED", json.dumps(sig, ensure_ascii=False)[:3000]
    assert sig["seal"]["code"] == seal["code"]
    assert sig["trust_anchor"].startswith("CN=eseal SM2 Root CA")
    assert "SM2" in sig["tsa"], sig["tsa"]
    assert sig["timestamp_time"] is not None
    if fmt == "gbt38540":
        assert any(f["code"] == "ses-format" for f in sig["findings"])
        assert b"/adbe.pkcs7.detached" in signed.content
    else:
        assert sig["revocation"]["status"] == "good"


def test_an_sm2_format_needs_an_sm2_certificate(
    client: TestClient, org: Org, engine: Engine, contract_pdf: bytes
) -> None:
    seal = org.seal("contract")
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id, max_uses=1)
    with Session(engine) as session:  # a seal made before SM2 was switched on
        row = session.get(Seal, seal["id"])
        assert row is not None
        row.sm2_certificate_id = row.sm2_key_id = None
        session.add(row)
        session.commit()
    for fmt in ("sm2-cms", "gbt38540"):
        refused = _sign(client, key, seal["id"], contract_pdf, fmt)
        assert (refused.status_code, problem_code(refused)) == (
            422,
            "unsupported-signature-format",
        )
    pades = _sign(client, key, seal["id"], contract_pdf, "pades")
    assert pades.status_code == 200, "the refusals must not have used up the grant"


def test_a_self_signed_sm2_signer_can_be_pinned(client: TestClient, platform_key: str) -> None:
    """A self-signed SM2 end-entity certificate is accepted as a pinned signer (its SM2
    self-signature checked by pki.sm2_ca, pyca cannot); one with a broken signature is not."""
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509 as crypto_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.gbt38540.sm2pki import issue

    signer = issue("自签 SM2 签署者")  # self-signed, basicConstraints cA=false
    pem = crypto_x509.load_der_x509_certificate(signer.certificate).public_bytes(Encoding.PEM)
    added = client.post(
        "/api/v1/trust-anchors",
        json={"label": "SM2 固定签署者", "certificate_pem": pem.decode()},
        headers=auth(platform_key),
    )
    assert added.status_code == 201, added.text
    assert added.json()["kind"] == "pinned_signer"
    client.delete(f"/api/v1/trust-anchors/{added.json()['id']}", headers=auth(platform_key))
    broken = asn1_x509.Certificate.load(signer.certificate)
    broken["signature_value"] = issue("另一把密钥").signer.sign(b"other", "sm3")
    bad_pem = crypto_x509.load_der_x509_certificate(broken.dump(force=True)).public_bytes(
        Encoding.PEM
    )
    refused = client.post(
        "/api/v1/trust-anchors",
        json={"label": "坏签名", "certificate_pem": bad_pem.decode()},
        headers=auth(platform_key),
    )
    assert (refused.status_code, problem_code(refused)) == (422, "invalid-input")


def test_the_seal_makers_revocation_comes_from_our_sm2_ca(
    client: TestClient, org: Org, engine: Engine, contract_pdf: bytes
) -> None:
    """The service's own revocation lookup answers for the platform's seal-maker certificate
    (issued by the SM2 organization CA); without that answer the seal is not passed."""
    from cryptography import x509 as crypto_x509

    from app.services.trust_anchors import trust_store
    from seals.verification import verify_pdf

    seal = org.seal("contract")
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", client_id)
    signed = _sign(client, key, seal["id"], contract_pdf, "gbt38540")
    assert signed.status_code == 200, signed.text
    esl = client.get(f"/api/v1/public/seals/{seal['code']}/eseal").content
    maker = crypto_x509.load_der_x509_certificate(parse_seal(esl).maker_certificate)
    services = client.app.state.services  # type: ignore[attr-defined]
    asked: dict[crypto_x509.Certificate, bytes | None] = {}
    with Session(engine) as session:

        def ours(issuer: crypto_x509.Certificate, cert: crypto_x509.Certificate) -> bytes | None:
            answer = services.publisher.revocation_for(session, issuer=issuer, certificate=cert)
            asked[cert] = answer
            return answer

        def not_for_the_maker(
            issuer: crypto_x509.Certificate, cert: crypto_x509.Certificate
        ) -> bytes | None:
            return None if cert == maker else ours(issuer, cert)

        trust, now = trust_store(session, services), datetime.now(UTC)
        passed = verify_pdf(pdf=signed.content, trust=trust, now=now, revocation_lookup=ours)
        unknown = verify_pdf(
            pdf=signed.content, trust=trust, now=now, revocation_lookup=not_for_the_maker
        )
    assert passed.indication.value == "TOTAL_PASSED", passed.signatures[0].findings
    assert asked.get(maker) is not None, "the SM2 CA answered for the seal maker"
    sig = unknown.signatures[0]
    assert sig.indication.value == "INDETERMINATE"
    assert sig.findings[0].code == "ses-maker-no-revocation-info"
