"""PAdES signing through a `KeySigner`: the key signs exactly once, and the CMS carries the
same signature mechanism as pyhanko's in-memory `SimpleSigner` (so validators see no change)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pki.keys import KeyAlgorithm, MemoryKeySigner, PrivateKey
from seals.signing import (
    InvisiblePlacement,
    SealingSpec,
    SigningIdentity,
    sign_pdf,
)
from seals.signing.spec import asn1_cert
from tests.seals_signing.conftest import SealPki
from tests.support.pki import Entity, issue, name

ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"


class CountingSigner:
    """A `KeySigner` that counts its signatures (a token would be asked this often)."""

    def __init__(self, inner: MemoryKeySigner) -> None:
        self.inner = inner
        self.key_id = inner.key_id
        self.algorithm: KeyAlgorithm = inner.algorithm
        self.calls: list[str] = []

    def public_key_info(self) -> bytes:
        return self.inner.public_key_info()

    def sign(self, data: bytes, digest: str) -> bytes:
        self.calls.append(digest)
        return self.inner.sign(data, digest)


def _simple_signer(identity: SigningIdentity, key: PrivateKey) -> Any:
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SimpleSigner(
        signing_cert=asn1_cert(identity.certificate),
        signing_key=asn1_keys.PrivateKeyInfo.load(pkcs8),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in identity.chain]),
    )


def _embedded(pdf: bytes) -> Any:
    (signature,) = PdfFileReader(BytesIO(pdf)).embedded_signatures
    return signature


@pytest.mark.parametrize(
    ("make_key", "oid"),
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), ECDSA_SHA256),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=3072), SHA256_WITH_RSA),
    ],
    ids=["ec-p256", "rsa-3072"],
)
def test_keysigner_output_matches_the_in_memory_signer(
    pki: SealPki, contract_pdf: bytes, make_key: Any, oid: str
) -> None:
    key = make_key()
    cert = issue(
        name("适配器测试 合同专用章"), issuer=Entity(pki.ca, pki.ca_key), ca=False, key=key
    ).cert
    counting = CountingSigner(MemoryKeySigner(key))
    identity = SigningIdentity(certificate=cert, chain=(pki.ca, pki.root), signer=counting)
    spec = SealingSpec(placement=InvisiblePlacement())
    ours = _embedded(sign_pdf(pdf=contract_pdf, identity=identity, spec=spec).pdf)
    reference = _embedded(
        sign_pdf(pdf=contract_pdf, identity=_simple_signer(identity, key), spec=spec).pdf
    )
    assert counting.calls == ["sha256"], "one real signature; the size estimate is a dry run"
    for embedded in (ours, reference):
        assert embedded.signer_info["signature_algorithm"]["algorithm"].dotted == oid
        assert embedded.signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    context = ValidationContext(trust_roots=[asn1_cert(pki.root)], allow_fetching=False)
    status = validate_pdf_signature(ours, context)
    assert status.intact and status.valid, status.pretty_print_details()
