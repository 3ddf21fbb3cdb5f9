"""Pre-produced OCSP responses (RFC 5019): a nonce-less request is answered with the same signed
bytes until a status changes or the answer ages out; a nonce request is always signed anew; a
revocation retires the kept answers the moment it commits, in every process sharing the data
folder (the status epoch file)."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from fastapi.testclient import TestClient

from pki.ocsp_cache import PreProducedResponses
from pki.status_epoch import FileStatusEpoch, MemoryStatusEpoch
from tests.conftest import auth

HEADERS = {"content-type": "application/ocsp-request"}


def _request(leaf: x509.Certificate, issuer: x509.Certificate, *, nonce: bool) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA256())
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(os.urandom(16)), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def _status(der: bytes) -> str:
    answer = asn1_ocsp.OCSPResponse.load(der)
    assert answer["response_status"].native == "successful"
    single = answer.basic_ocsp_response["tbs_response_data"]["responses"][0]
    return str(single["cert_status"].name)


def _leaf(client: TestClient, new_org: Any, org_key: Any) -> tuple[dict[str, Any], str, Any]:
    org = new_org()
    key = org_key(org["id"])
    body = client.post(
        f"/api/v1/organizations/{org['id']}/certificates", json={}, headers=auth(key)
    ).json()
    issuer = x509.load_der_x509_certificate(client.get("/pki/ca/organization.crt").content)
    return body, key, (x509.load_pem_x509_certificate(body["pem"].encode()), issuer)


def test_same_signed_answer_until_revocation(
    client: TestClient, new_org: Any, org_key: Any
) -> None:
    body, key, (leaf, issuer) = _leaf(client, new_org, org_key)
    request = _request(leaf, issuer, nonce=False)
    first = client.post("/pki/ocsp", content=request, headers=HEADERS)
    again = client.post("/pki/ocsp", content=request, headers=HEADERS)
    assert first.headers["content-type"] == "application/ocsp-response"
    assert again.headers["content-type"] == "application/ocsp-response"
    assert "x-request-id" in again.headers and "content-security-policy" in again.headers
    assert _status(first.content) == "good"
    assert again.content == first.content  # pre-produced: the very same signature
    # nonce requests are signed fresh every time
    fresh = [
        client.post("/pki/ocsp", content=_request(leaf, issuer, nonce=True), headers=HEADERS)
        for _ in range(2)
    ]
    assert fresh[0].content != fresh[1].content
    assert all(_status(r.content) == "good" for r in fresh)

    revoked = client.post(
        f"/api/v1/certificates/{body['id']}/revoke",
        json={"reason": "keyCompromise"},
        headers=auth(key),
    )
    assert revoked.status_code == 200, revoked.text
    after = client.post("/pki/ocsp", content=request, headers=HEADERS)
    assert _status(after.content) == "revoked"  # the next request, not after a cache period
    encoded = base64.b64encode(request).decode()
    assert _status(client.get(f"/pki/ocsp/{encoded}").content) == "revoked"


def _sha1(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())  # SHA-1 CertIDs: what openssl sends
    digest.update(data)
    return digest.finalize()


def test_unknown_serials_are_not_kept(client: TestClient) -> None:
    """`unknown` turns `good` once the serial is issued, so it is never pre-produced."""
    issuer = x509.load_der_x509_certificate(client.get("/pki/ca/organization.crt").content)
    publisher = client.app.state.services.publisher  # type: ignore[attr-defined]
    point = issuer.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            issuer_name_hash=_sha1(issuer.subject.public_bytes()),
            issuer_key_hash=_sha1(point),
            serial_number=0x7FFF_FFFF_FFFF_FFFF_0001,
            algorithm=hashes.SHA1(),
        )
        .build()
        .public_bytes(Encoding.DER)
    )
    answer = client.post("/pki/ocsp", content=request, headers=HEADERS)
    assert _status(answer.content) == "unknown"
    assert publisher.pre_produced_ocsp(request) is None


def test_answers_age_out_and_epochs_retire_them(tmp_path: Path) -> None:
    now = [100.0]
    shared = FileStatusEpoch(tmp_path / "status-epoch")
    other_process_view = FileStatusEpoch(tmp_path / "status-epoch")
    kept = PreProducedResponses(epoch=shared, max_age=timedelta(seconds=60), clock=lambda: now[0])
    kept.put(b"request", b"signed", epoch=shared.current())
    assert kept.get(b"request") == b"signed"
    now[0] += 59
    assert kept.get(b"request") == b"signed"
    now[0] += 2
    assert kept.get(b"request") is None  # aged out: signed anew by the caller

    kept.put(b"request", b"signed", epoch=shared.current())
    other_process_view.bump()  # a revocation committed elsewhere
    assert shared.current() == other_process_view.current() == 1
    assert kept.get(b"request") is None

    tiny = PreProducedResponses(
        epoch=MemoryStatusEpoch(), max_age=timedelta(hours=1), max_entries=2
    )
    for i in range(3):
        tiny.put(bytes([i]), b"x", epoch=0)
    assert len(tiny) == 2 and tiny.get(b"\x00") is None and tiny.get(b"\x02") == b"x"
    off = PreProducedResponses(epoch=MemoryStatusEpoch(), max_age=timedelta(0))
    off.put(b"r", b"x", epoch=0)
    assert off.get(b"r") is None
