"""Certificates and CRLs signed through a `KeySigner`: the same to-be-signed bytes the builder
makes with the key in hand, a signature that verifies, and a refusal of a bad signer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from pki.errors import KeyStoreError
from pki.keys import MemoryKeySigner, PrivateKey
from pki.signatures import sign_certificate, sign_crl

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "签名测试 CA")])


def _builder(key: PrivateKey) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(NAME)
        .issuer_name(NAME)
        .public_key(key.public_key())
        .serial_number(1234)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
    )


@pytest.mark.parametrize(
    ("key", "hash_name"),
    [
        (ec.generate_private_key(ec.SECP256R1()), "sha256"),
        (ec.generate_private_key(ec.SECP384R1()), "sha384"),
        (rsa.generate_private_key(public_exponent=65537, key_size=3072), "sha256"),
    ],
    ids=["p256", "p384", "rsa3072"],
)
def test_same_tbs_as_the_builder_and_a_valid_signature(key: PrivateKey, hash_name: str) -> None:
    signer = MemoryKeySigner(key)
    ours = sign_certificate(_builder(key), signer)
    theirs = _builder(key).sign(key, hashes.SHA384() if hash_name == "sha384" else hashes.SHA256())
    assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes
    assert ours.signature_algorithm_oid == theirs.signature_algorithm_oid
    ours.verify_directly_issued_by(ours)  # self-signed: raises if the signature is wrong
    crl = sign_crl(
        x509.CertificateRevocationListBuilder()
        .issuer_name(NAME)
        .last_update(NOW)
        .next_update(NOW + timedelta(days=1)),
        signer,
    )
    assert crl.is_signature_valid(key.public_key())  # type: ignore[arg-type]


def test_a_signer_whose_signature_does_not_verify_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    other = MemoryKeySigner(ec.generate_private_key(ec.SECP256R1()))

    class Liar(MemoryKeySigner):
        def sign(self, data: bytes, digest: str) -> bytes:
            return other.sign(data, digest)

    with pytest.raises(KeyStoreError, match="does not verify"):
        sign_certificate(_builder(key), Liar(key))
