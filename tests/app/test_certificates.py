"""Certificates through the API: issuance (service-held and CSR), download, renewal,
revocation, tenancy, and no private key in the database in clear."""

from __future__ import annotations

import base64
import sqlite3
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, select
from sqlmodel import Session

from pki.cert_der import CertificateDer
from pki.keys import KeyAlgorithm
from pki.models import KeyRecord
from tests.conftest import auth, make_resident_id

ORG_ID_OID = x509.ObjectIdentifier("2.5.4.97")
CHAIN_LOCK = 0x65_73_65_61_6C  # app/services/audit.py: the audit chain's advisory lock


def _csr(key: ec.EllipticCurvePrivateKey, cn: str = "伪造的名字") -> str:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, cn),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Evil Corp"),
                ]
            )
        )
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture()
def org_with_key(new_org: Any, org_key: Any) -> tuple[dict[str, Any], str]:
    org = new_org("杭州青禾科技有限公司")
    return org, org_key(org["id"])


def test_enterprise_certificate_carries_the_verified_identity(
    client: TestClient, org_with_key: tuple[dict[str, Any], str]
) -> None:
    org, key = org_with_key
    response = client.post(
        f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(key)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["key"] == "service-held" and body["status"] == "valid"
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == org["name"]
    assert subject.get_attributes_for_oid(ORG_ID_OID)[0].value == f"NTRCN-{org['uscc']}"
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    assert format(cert.serial_number, "x") == body["serial_number"]


def test_csr_subject_is_replaced_and_the_key_is_the_holders(
    client: TestClient, org_with_key: tuple[dict[str, Any], str]
) -> None:
    org, key = org_with_key
    holder_key = ec.generate_private_key(ec.SECP256R1())
    response = client.post(
        f"/api/v1/organizations/{org['id']}/certificates",
        json={"csr_pem": _csr(holder_key)},
        headers=auth(key),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    cert = x509.load_pem_x509_certificate(body["pem"].encode())
    assert body["key"] == "holder"
    assert "Evil Corp" not in cert.subject.rfc4514_string()
    assert "伪造" not in cert.subject.rfc4514_string()
    assert cert.public_key().public_numbers() == holder_key.public_key().public_numbers()


def test_csr_with_broken_signature_is_refused(
    client: TestClient, org_with_key: tuple[dict[str, Any], str]
) -> None:
    org, key = org_with_key
    pem = _csr(ec.generate_private_key(ec.SECP256R1()))
    der = bytearray(x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 0xFF  # inside the signature value
    broken = (
        "-----BEGIN CERTIFICATE REQUEST-----\n"
        + base64.encodebytes(bytes(der)).decode()
        + "-----END CERTIFICATE REQUEST-----\n"
    )
    for csr in (broken, "not a CSR"):
        response = client.post(
            f"/api/v1/organizations/{org['id']}/certificates",
            json={"csr_pem": csr},
            headers=auth(key),
        )
        assert response.status_code == 422, response.text
        assert response.json()["type"] == "urn:eseal:problem:invalid-certificate-request"


def test_personal_certificate_for_a_member(
    client: TestClient, org_with_key: tuple[dict[str, Any], str]
) -> None:
    org, key = org_with_key
    rid = make_resident_id()
    member = client.post(
        f"/api/v1/organizations/{org['id']}/members",
        json={"name": "张伟", "resident_id": rid, "roles": ["signer"]},
        headers=auth(key),
    ).json()
    response = client.post(
        f"/api/v1/organizations/{org['id']}/members/{member['person_id']}/certificates",
        json={},
        headers=auth(key),
    )
    assert response.status_code == 201, response.text
    cert = x509.load_pem_x509_certificate(response.json()["pem"].encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张伟"
    serial = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert serial == f"IDCCN-{rid}"
    assert response.json()["issuer"] == "personal"


def test_download_formats_and_chain(
    client: TestClient, org_with_key: tuple[dict[str, Any], str]
) -> None:
    org, key = org_with_key
    cert_id = client.post(
        f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(key)
    ).json()["id"]
    pem = client.get(f"/api/v1/certificates/{cert_id}/download", headers=auth(key))
    der = client.get(
        f"/api/v1/certificates/{cert_id}/download", params={"format": "der"}, headers=auth(key)
    )
    chain = client.get(
        f"/api/v1/certificates/{cert_id}/download", params={"format": "chain"}, headers=auth(key)
    )
    leaf = x509.load_pem_x509_certificate(pem.content)
    assert x509.load_der_x509_certificate(der.content) == leaf
    certs = x509.load_pem_x509_certificates(chain.content)
    assert certs[0] == leaf and len(certs) == 3
    root = client.get("/pki/ca/root.crt")
    assert root.headers["content-type"] == "application/pkix-cert"
    assert x509.load_der_x509_certificate(root.content) == certs[-1]
    issuing = x509.load_der_x509_certificate(client.get("/pki/ca/organization.crt").content)
    assert issuing == certs[1]
    leaf.verify_directly_issued_by(issuing)


def test_revoke_then_revoke_again_and_renew(
    client: TestClient, org_with_key: tuple[dict[str, Any], str]
) -> None:
    org, key = org_with_key
    first = client.post(
        f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(key)
    ).json()
    renewed = client.post(f"/api/v1/certificates/{first['id']}/renew", json={}, headers=auth(key))
    assert renewed.status_code == 201, renewed.text
    new = renewed.json()
    assert new["subject"] == first["subject"] and new["serial_number"] != first["serial_number"]
    assert new["pem"] != first["pem"]
    old = client.get(f"/api/v1/certificates/{first['id']}", headers=auth(key)).json()
    assert old["replaced_by"] == new["id"]

    revoked = client.post(
        f"/api/v1/certificates/{new['id']}/revoke",
        json={"reason": "keyCompromise"},
        headers=auth(key),
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revocation_reason"] == "keyCompromise"
    again = client.post(f"/api/v1/certificates/{new['id']}/revoke", json={}, headers=auth(key))
    assert again.status_code == 409
    assert again.json()["type"] == "urn:eseal:problem:certificate-already-revoked"
    bad_reason = client.post(
        f"/api/v1/certificates/{first['id']}/revoke",
        json={"reason": "removeFromCRL"},
        headers=auth(key),
    )
    assert bad_reason.status_code == 422
    crl = x509.load_der_x509_crl(client.get("/pki/crl/organization.crl").content)
    entry = crl.get_revoked_certificate_by_serial_number(int(new["serial_number"], 16))
    assert entry is not None


def test_another_organizations_certificate_is_404(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    mine, theirs = new_org("证书甲"), new_org("证书乙")
    their_key = org_key(theirs["id"])
    their_cert = client.post(
        f"/api/v1/organizations/{theirs['id']}/certificates", json={}, headers=auth(their_key)
    ).json()
    my_key = org_key(mine["id"])
    for method, path in (
        ("GET", f"/api/v1/certificates/{their_cert['id']}"),
        ("GET", f"/api/v1/certificates/{their_cert['id']}/download"),
        ("POST", f"/api/v1/certificates/{their_cert['id']}/revoke"),
        ("POST", f"/api/v1/organizations/{theirs['id']}/certificates"),
    ):
        response = client.request(method, path, json={}, headers=auth(my_key))
        assert response.status_code == 404, (method, path, response.text)
    still = client.get(f"/api/v1/certificates/{their_cert['id']}", headers=auth(their_key))
    assert still.json()["status"] == "valid"


def test_read_only_client_cannot_issue(client: TestClient, new_org: Any, org_key: Any) -> None:
    org = new_org()
    reader = org_key(org["id"], scopes=("certificates:read",))
    response = client.post(
        f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(reader)
    )
    assert response.status_code == 403


def test_no_private_key_in_clear_anywhere_in_the_database(
    client: TestClient, org_with_key: tuple[dict[str, Any], str], engine: Any, app: Any
) -> None:
    org, key = org_with_key
    client.post(f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(key))
    keystore = app.state.services.keystore
    with Session(engine) as session:
        key_ids = [k.id for k in session.exec(select(KeyRecord)).scalars()]  # type: ignore[call-overload]
        secrets: list[bytes] = []
        for key_id in key_ids:
            if keystore.algorithm(session, key_id) is KeyAlgorithm.SM2:  # not a pyca key
                pkcs8 = keystore._unlock(session, key_id)[1]
                info = asn1_keys.PrivateKeyInfo.load(pkcs8)
                scalar = info["private_key"].parsed["private_key"].native
                secrets += [pkcs8, scalar.to_bytes(32, "big")]
                continue
            private = keystore.private_key(session, key_id)
            pkcs8 = private.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            numbers = private.private_numbers()
            scalar = numbers.private_value if hasattr(numbers, "private_value") else numbers.d
            raw = scalar.to_bytes((scalar.bit_length() + 7) // 8, "big")
            secrets += [pkcs8, raw, raw.hex().encode(), base64.b64encode(raw)]
        metadata = MetaData()
        metadata.reflect(bind=session.connection())
        dump = bytearray()
        for table in metadata.sorted_tables:
            for row in session.connection().execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        dump += bytes(value)
                    elif value is not None:
                        dump += str(value).encode()
    assert len(key_ids) >= 13  # six CA/service keys, six SM2 ones, an enterprise key
    for secret in secrets:
        assert bytes(secret) not in dump


def _write_lock_free(engine: Any) -> bool:
    """Whether another writer could start now, without waiting: on SQLite, BEGIN IMMEDIATE
    on a connection of its own (timeout 0); on PostgreSQL, the audit chain's lock."""
    if engine.dialect.name != "sqlite":
        with engine.connect() as conn:
            taken = conn.exec_driver_sql(f"SELECT pg_try_advisory_lock({CHAIN_LOCK})").scalar()
            conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
            return bool(taken)
    other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


@pytest.mark.parametrize("who", ["enterprise", "personal"])
def test_issuance_signs_before_it_takes_the_write_lock(
    client: TestClient,
    engine: Any,
    org_with_key: tuple[dict[str, Any], str],
    monkeypatch: pytest.MonkeyPatch,
    who: str,
) -> None:
    """Key generation and signing run outside the write transaction (issue 12): other
    writers are not held up while a certificate is made, and the issuance still lands."""
    org, key = org_with_key
    path = f"/api/v1/organizations/{org['id']}/certificates"
    if who == "personal":
        person = client.post(
            f"/api/v1/organizations/{org['id']}/members",
            json={"name": "王小明", "resident_id": make_resident_id(), "roles": ["signer"]},
            headers=auth(key),
        )
        assert person.status_code == 201, person.text
        path = (
            f"/api/v1/organizations/{org['id']}/members/{person.json()['person_id']}/certificates"
        )
    seen: list[bool] = []
    original = CertificateDer.sign

    def watched(self: CertificateDer, tbs: bytes) -> bytes:
        seen.append(_write_lock_free(engine))
        return original(self, tbs)

    monkeypatch.setattr(CertificateDer, "sign", watched)
    response = client.post(path, json={}, headers=auth(key))
    assert response.status_code == 201, response.text
    assert seen == [True]
    listed = client.get(f"/api/v1/organizations/{org['id']}/certificates", headers=auth(key))
    assert response.json()["id"] in {c["id"] for c in listed.json()}
