"""A relying party trusts a signer directly: a self-signed end-entity certificate pinned
through POST /api/v1/trust-anchors (same body as a CA)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from pki.keys import MemoryKeySigner
from seals.documents import make_document
from seals.fonts import find_cjk_font
from seals.placement import InvisiblePlacement
from seals.signing import PadesLevel, SealingSpec, SigningIdentity, sign_pdf
from tests.conftest import auth

_NON_REPUDIATION = x509.KeyUsage(
    digital_signature=False, content_commitment=True, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=False,
    crl_sign=False, encipher_only=False, decipher_only=False,
)  # fmt: skip


def _self_signed_signer() -> SigningIdentity:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.COMMON_NAME, "自签名的签署者"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_NON_REPUDIATION, critical=True)
        .sign(key, hashes.SHA256())
    )
    return SigningIdentity(certificate=cert, chain=(), signer=MemoryKeySigner(key))


def _verify(client: TestClient, pdf: bytes) -> dict[str, Any]:
    response = client.post(
        "/api/v1/verify", content=pdf, headers={"content-type": "application/pdf"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_pinned_signer_passes_with_revocation_not_applicable(
    client: TestClient, platform_key: str
) -> None:
    font = find_cjk_font()
    pdf = make_document(
        title="个人声明",
        paragraphs=["本人确认。"],
        pages=1,
        font_path=font.path,
        font_number=font.index,
    )
    identity = _self_signed_signer()
    signed = sign_pdf(
        pdf=pdf,
        identity=identity,
        spec=SealingSpec(placement=InvisiblePlacement(), level=PadesLevel.B_B),
    ).pdf
    before = _verify(client, signed)
    assert before["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND", before

    pem = identity.certificate.public_bytes(Encoding.PEM).decode()
    added = client.post(
        "/api/v1/trust-anchors",
        json={"label": "固定的签署者", "certificate_pem": pem},
        headers=auth(platform_key),
    )
    assert added.status_code == 201, added.text
    assert added.json()["kind"] == "pinned_signer"
    try:
        during = _verify(client, signed)
        sig = during["signatures"][0]
        assert (during["indication"], sig["indication"]) == ("TOTAL_PASSED", "TOTAL_PASSED")
        assert sig["revocation"]["status"] == "not_applicable", sig["revocation"]
        assert "trusted-pinned" in [f["code"] for f in sig["findings"]]
    finally:
        client.delete(f"/api/v1/trust-anchors/{added.json()['id']}", headers=auth(platform_key))
    after = _verify(client, signed)
    assert after["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND"


def test_a_leaf_issued_by_a_ca_is_not_pinnable(client: TestClient, platform_key: str) -> None:
    """Only self-signed end-entity certificates are pinned: a leaf under some CA still needs
    its CA recognised (422 with the reason)."""
    signer = _self_signed_signer()
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(signer.certificate.subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Some CA")]))
        .public_key(signer.certificate.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(signer.certificate.not_valid_before_utc)
        .not_valid_after(signer.certificate.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    refused = client.post(
        "/api/v1/trust-anchors",
        json={"label": "x", "certificate_pem": leaf.public_bytes(Encoding.PEM).decode()},
        headers=auth(platform_key),
    )
    assert refused.status_code == 422
    assert "self-signed" in refused.json()["detail"]
