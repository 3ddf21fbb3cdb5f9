"""Public verification over HTTP: documents sealed with our certificates, revocation after
signing, an unrecognised provincial CA before and after it becomes a trust anchor."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel, create_engine

from app import sealing
from app.db import unit_of_work
from app.main import create_app
from pki.authority import Authority, EnterpriseIdentity
from pki.hierarchy import HierarchyConfig, ensure_hierarchy
from pki.keys import SoftwareKeyStore
from pki.publication import Publisher
from pki.timestamper import InProcessTimeStamper
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.placement import InvisiblePlacement
from seals.signing import PadesLevel, SealingSpec, SigningIdentity, ValidationMaterial, sign_pdf
from tests.conftest import auth, make_uscc


@pytest.fixture(scope="module")
def contract() -> bytes:
    font = find_cjk_font()
    return make_document(
        title="政府采购合同",
        paragraphs=["甲方与乙方就道路改造工程施工达成如下协议。"],
        pages=2,
        font_path=font.path,
        font_number=font.index,
    )


def _seal_with_our_certificate(
    client: TestClient, app: Any, new_org: Any, org_key: Any, pdf: bytes, level: PadesLevel
) -> tuple[bytes, str, str]:
    org = new_org("杭州青禾科技有限公司")
    key = org_key(org["id"])
    cert = client.post(
        f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(key)
    ).json()
    services = app.state.services
    with unit_of_work(services.engine) as session:
        issued = services.authority.get(session, cert["id"])
        assert issued.key_id is not None
        identity = sealing.signing_identity(
            session, services, certificate_id=cert["id"], key_id=issued.key_id
        )
        signed = sign_pdf(
            pdf=pdf,
            identity=identity,
            timestamper=sealing.timestamper(session, services),
            validation=sealing.validation_material(
                session, services, identity=identity, issuer_ca="organization"
            ),
            spec=SealingSpec(placement=InvisiblePlacement(), level=level),
        )
    return signed.pdf, cert["id"], key


def _verify(client: TestClient, pdf: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/verify", content=pdf, headers={"content-type": "application/pdf"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_sealed_contract_passes_then_stays_valid_after_later_revocation(
    client: TestClient, app: Any, new_org: Any, org_key: Any, contract: bytes
) -> None:
    pdf, cert_id, key = _seal_with_our_certificate(
        client, app, new_org, org_key, contract, PadesLevel.B_LT
    )
    report = _verify(client, pdf)
    assert report["indication"] == "TOTAL_PASSED", report
    signature = report["signatures"][0]
    assert signature["pades_level"] == "B-LT"
    assert signature["signer"]["organization"] == "杭州青禾科技有限公司"
    assert report["verdict_en"].startswith("Valid") and report["verdict_zh"]

    time.sleep(1.1)  # revocation times are whole seconds, like the time-stamp's genTime
    client.post(f"/api/v1/certificates/{cert_id}/revoke", json={}, headers=auth(key))
    after = _verify(client, pdf)
    assert after["indication"] == "TOTAL_PASSED", after
    assert after["signatures"][0]["revocation"]["status"] == "revoked_after_signing"


def test_changed_document_fails(
    client: TestClient, app: Any, new_org: Any, org_key: Any, contract: bytes
) -> None:
    pdf, _, _ = _seal_with_our_certificate(client, app, new_org, org_key, contract, PadesLevel.B_T)
    start = pdf.index(b"/Length") + 20  # a byte inside the first signed stream
    tampered = pdf[:start] + bytes([pdf[start] ^ 0x01]) + pdf[start + 1 :]
    report = _verify(client, tampered)
    assert report["indication"] == "TOTAL_FAILED", report


def test_not_a_pdf_and_empty_bodies(client: TestClient) -> None:
    report = _verify(client, b"hello, I am not a PDF")
    assert (report["indication"], report["sub_indication"]) == ("INDETERMINATE", "FORMAT_FAILURE")
    empty = client.post("/api/v1/verify", content=b"")
    assert empty.status_code == 422
    assert empty.json()["type"] == "urn:eseal:problem:invalid-input"


def test_multipart_upload(
    client: TestClient, app: Any, new_org: Any, org_key: Any, contract: bytes
) -> None:
    pdf, _, _ = _seal_with_our_certificate(client, app, new_org, org_key, contract, PadesLevel.B_T)
    response = client.post("/api/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})
    assert response.status_code == 200
    assert response.json()["indication"] == "TOTAL_PASSED"


@dataclass
class ForeignCa:
    authority: Authority
    publisher: Publisher
    engine: Any


def build_foreign_ca(directory: Path, base_url: str) -> ForeignCa:
    """A neighbouring province's CA, built with the same code on its own database."""
    engine = create_engine(f"sqlite:///{directory / 'ca.sqlite'}")
    SQLModel.metadata.create_all(engine)
    authority = Authority(keystore=SoftwareKeyStore(os.urandom(32)), base_url=base_url)
    with Session(engine) as session:
        ensure_hierarchy(
            session,
            authority=authority,
            config=HierarchyConfig(
                organization_name="某省数字证书认证中心",
                root_common_name="某省数字证书认证中心 根CA",
            ),
        )
        session.commit()
    return ForeignCa(authority, Publisher(authority=authority), engine)


@pytest.fixture(scope="module")
def foreign_ca(tmp_path_factory: pytest.TempPathFactory) -> ForeignCa:
    return build_foreign_ca(tmp_path_factory.mktemp("province"), "http://ca.province.example")


def _sign_with_foreign(
    foreign: ForeignCa, pdf: bytes, level: PadesLevel = PadesLevel.B_LT
) -> bytes:
    with Session(foreign.engine) as session:
        issued = foreign.authority.issue(
            session, identity=EnterpriseIdentity(name="邻省建设集团有限公司", uscc=make_uscc())
        )
        assert issued.key_id is not None
        chain = foreign.authority.chain(session, issued.certificate_id)
        identity = SigningIdentity(
            certificate=chain[0],
            chain=tuple(chain[1:]),
            signer=foreign.authority.keystore.signer(session, issued.key_id),
        )
        data = foreign.publisher.revocation_data(
            session, certificate=chain[0], issuer_ca="organization"
        )
        signed = sign_pdf(
            pdf=pdf,
            identity=identity,
            timestamper=InProcessTimeStamper(
                config=foreign.publisher.tsa_config(session), clock=foreign.authority.clock
            ),
            validation=ValidationMaterial(
                trust_roots=(chain[-1],),
                certificates=data.certificates,
                ocsp_responses=data.ocsp_responses,
                crls=data.crls,
            ),
            spec=SealingSpec(placement=InvisiblePlacement(), level=level),
        )
        session.commit()
    return signed.pdf


def test_mutual_recognition_of_a_provincial_ca(
    client: TestClient,
    platform_key: str,
    new_org: Any,
    org_key: Any,
    foreign_ca: ForeignCa,
    contract: bytes,
) -> None:
    pdf = _sign_with_foreign(foreign_ca, contract)
    before = _verify(client, pdf)
    assert (before["indication"], before["sub_indication"]) == (
        "INDETERMINATE",
        "NO_CERTIFICATE_CHAIN_FOUND",
    ), before

    with Session(foreign_ca.engine) as session:
        root_pem = foreign_ca.authority.ca_certificate(session, "root").public_bytes(Encoding.PEM)
    org_admin = org_key(new_org()["id"])
    refused = client.post(
        "/api/v1/trust-anchors",
        json={"label": "邻省CA", "certificate_pem": root_pem.decode()},
        headers=auth(org_admin),
    )
    assert refused.status_code == 403
    added = client.post(
        "/api/v1/trust-anchors",
        json={"label": "邻省CA", "certificate_pem": root_pem.decode()},
        headers=auth(platform_key),
    )
    assert added.status_code == 201, added.text
    anchor_id = added.json()["id"]
    try:
        listed = client.get("/api/v1/trust-anchors", headers=auth(platform_key)).json()
        assert anchor_id in [a["id"] for a in listed]
        during = _verify(client, pdf)
        assert during["indication"] == "TOTAL_PASSED", during
        assert during["signatures"][0]["revocation"]["source"] == "embedded-dss"
    finally:
        removed = client.delete(f"/api/v1/trust-anchors/{anchor_id}", headers=auth(platform_key))
    assert removed.status_code == 204
    after = _verify(client, pdf)
    assert after["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_trust_anchor_input_is_checked(client: TestClient, platform_key: str, app: Any) -> None:
    bad = client.post(
        "/api/v1/trust-anchors",
        json={"label": "x", "certificate_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n"},
        headers=auth(platform_key),
    )
    assert bad.status_code == 422
    services = app.state.services
    with unit_of_work(services.engine) as session:
        leafish = services.authority.ca_certificate(session, "tsa")
    not_ca = client.post(
        "/api/v1/trust-anchors",
        json={"label": "tsa", "certificate_pem": leafish.public_bytes(Encoding.PEM).decode()},
        headers=auth(platform_key),
    )
    assert not_ca.status_code == 422 and "CA" in not_ca.json()["detail"]


class BlackHole:
    """A loopback TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


def test_network_fetching_is_off_by_default_and_bounded_when_on(
    client: TestClient,
    settings: Any,
    platform_key: str,
    contract: bytes,
    tmp_path: Path,
) -> None:
    """A recognised foreign CA whose document carries no revocation data: by default nothing
    is fetched; switched on, the fetch to its (unanswering) OCSP/CRL URLs gives up in time."""
    hole = BlackHole()
    try:
        foreign = build_foreign_ca(tmp_path, f"http://127.0.0.1:{hole.port}")
        pdf = _sign_with_foreign(foreign, contract, level=PadesLevel.B_T)
        with Session(foreign.engine) as session:
            root = foreign.authority.ca_certificate(session, "root").public_bytes(Encoding.PEM)
        added = client.post(
            "/api/v1/trust-anchors",
            json={"label": "无应答的CA", "certificate_pem": root.decode()},
            headers=auth(platform_key),
        ).json()
        try:
            offline = _verify(client, pdf)
            assert offline["indication"] == "INDETERMINATE", offline
            assert hole.connections == []

            online = settings.model_copy(
                update={"verify_network_fetching": True, "verify_network_timeout_seconds": 1.0}
            )
            with TestClient(create_app(online, migrate_on_start=False)) as fetching:
                started = time.monotonic()
                report = _verify(fetching, pdf)
                elapsed = time.monotonic() - started
            assert report["indication"] == "INDETERMINATE", report
            assert hole.connections, "fetching was switched on but nothing was fetched"
            assert elapsed < 20, f"the network timeout was not honoured ({elapsed:.1f} s)"
        finally:
            client.delete(f"/api/v1/trust-anchors/{added['id']}", headers=auth(platform_key))
    finally:
        hole.close()
