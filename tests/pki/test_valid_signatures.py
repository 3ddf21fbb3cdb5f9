"""The validator remembers valid signatures only: a forged or altered one fails every time,
and a remembered one is tied to its exact data, key and algorithm."""

from __future__ import annotations

import pytest
from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pki.sm2_validation import Sm2SignatureValidator

ECDSA_SHA256 = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})


def _key() -> tuple[ec.EllipticCurvePrivateKey, keys.PublicKeyInfo]:
    private = ec.generate_private_key(ec.SECP256R1())
    spki = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, keys.PublicKeyInfo.load(spki)


def test_valid_signatures_are_remembered_and_forgeries_never(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validator = Sm2SignatureValidator()
    private, public = _key()
    data = b"tbsCertificate"
    signature = private.sign(data, ec.ECDSA(hashes.SHA256()))
    validator.validate_signature(signature, data, public, ECDSA_SHA256)

    checks: list[bytes] = []
    original = Sm2SignatureValidator.__mro__[1].validate_signature

    def counted(self: object, sig: bytes, *args: object) -> None:
        checks.append(sig)
        original(self, sig, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Sm2SignatureValidator.__mro__[1], "validate_signature", counted)
    validator.validate_signature(signature, data, public, ECDSA_SHA256)
    assert checks == []  # remembered: not checked again

    for attempt in range(2):  # the same valid signature over other data, twice
        with pytest.raises(InvalidSignature):
            validator.validate_signature(signature, data + b"!", public, ECDSA_SHA256)
        assert len(checks) == attempt + 1
    _, other = _key()
    with pytest.raises(InvalidSignature):  # another key
        validator.validate_signature(signature, data, other, ECDSA_SHA256)
    forged = bytearray(signature)
    forged[-1] ^= 1
    for _ in range(2):
        with pytest.raises(InvalidSignature):
            validator.validate_signature(bytes(forged), data, public, ECDSA_SHA256)
    assert len(checks) == 5
