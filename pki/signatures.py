"""Signing X.509 and protocol structures through a `KeySigner`: the key never leaves its store.

`cryptography`'s builders only sign with an in-memory private key. To sign with any
`KeySigner` (software store today, an HSM token tomorrow) a builder is first signed with a
throw-away stand-in key of the same family, which fixes the to-be-signed bytes including the
signature algorithm identifier; those bytes are then signed by the real signer and the
structure is reassembled. The result is byte-for-byte what the builder would have produced
with the real key, and its signature is checked against the signer's public key before use.
"""

from __future__ import annotations

from functools import cache

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from pki import sm2
from pki.errors import KeyStoreError
from pki.keys import (
    KeyAlgorithm,
    KeySigner,
    PrivateKey,
    PublicKey,
    digest_hash,
    public_key_of,
    signature_digest,
    spki_of,
)

__all__ = [
    "same_public_key",
    "sign_bytes",
    "sign_certificate",
    "sign_crl",
    "signature_digest",
    "verify_signature",
]


def sign_bytes(signer: KeySigner, data: bytes) -> tuple[bytes, str]:
    """Sign `data` with the digest matched to the signer's key; return the signature and its
    asn1crypto signature algorithm name (e.g. ``sha384_ecdsa``, ``sha256_rsa``, ``sm2_sm3``)."""
    if signer.algorithm is KeyAlgorithm.SM2:
        return signer.sign(data, "sm3"), sm2.ASN1_SM2_WITH_SM3
    digest = signature_digest(signer.algorithm)
    family = "rsa" if signer.algorithm is KeyAlgorithm.RSA_3072 else "ecdsa"
    return signer.sign(data, digest), f"{digest}_{family}"


def same_public_key(cert: x509.Certificate, signer: KeySigner) -> bool:
    """Whether `signer` holds the private half of `cert`'s public key."""
    if signer.algorithm is KeyAlgorithm.SM2:  # pyca cannot load an SM2 public key
        spki = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        return spki["tbs_certificate"]["subject_public_key_info"].dump() == signer.public_key_info()
    return spki_of(cert.public_key()) == signer.public_key_info()  # type: ignore[arg-type]


def verify_signature(key: PublicKey, signature: bytes, data: bytes, digest: str) -> bool:
    """Whether `signature` over `data` verifies with `key` (ECDSA or PKCS#1 v1.5)."""
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest_hash(digest)))
        else:
            key.verify(signature, data, padding.PKCS1v15(), digest_hash(digest))
    except InvalidSignature:
        return False
    return True


def _sha(digest: str) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    """The pyca hash for a builder (SM2 structures are built by pki.sm2_ca, not pyca)."""
    algorithm = digest_hash(digest)
    if isinstance(algorithm, hashes.SM3):
        raise KeyStoreError("SM2 certificates and CRLs are built by pki.sm2_ca")
    return algorithm


@cache
def _stand_in(rsa_family: bool) -> PrivateKey:
    """A throw-away key that only fixes the signature algorithm identifier (never published)."""
    if rsa_family:
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - its signature is discarded
    return ec.generate_private_key(ec.SECP256R1())


def _signed(signer: KeySigner, tbs: bytes, digest: str) -> bytes:
    signature = signer.sign(tbs, digest)
    if not verify_signature(public_key_of(signer), signature, tbs, digest):
        raise KeyStoreError(f"key {signer.key_id!r} produced a signature that does not verify")
    return signature


def sign_certificate(builder: x509.CertificateBuilder, signer: KeySigner) -> x509.Certificate:
    """The certificate `builder` describes, signed by `signer` with its matched digest."""
    digest = signature_digest(signer.algorithm)
    stand_in = builder.sign(_stand_in(signer.algorithm is KeyAlgorithm.RSA_3072), _sha(digest))
    parsed = asn1_x509.Certificate.load(stand_in.public_bytes(serialization.Encoding.DER))
    signature = _signed(signer, stand_in.tbs_certificate_bytes, digest)
    der = asn1_x509.Certificate(
        {
            "tbs_certificate": parsed["tbs_certificate"],
            "signature_algorithm": parsed["signature_algorithm"],
            "signature_value": signature,
        }
    ).dump()
    return x509.load_der_x509_certificate(der)


def sign_crl(
    builder: x509.CertificateRevocationListBuilder, signer: KeySigner
) -> x509.CertificateRevocationList:
    """The CRL `builder` describes, signed by `signer` with its matched digest."""
    digest = signature_digest(signer.algorithm)
    stand_in = builder.sign(_stand_in(signer.algorithm is KeyAlgorithm.RSA_3072), _sha(digest))
    parsed = asn1_crl.CertificateList.load(stand_in.public_bytes(serialization.Encoding.DER))
    signature = _signed(signer, stand_in.tbs_certlist_bytes, digest)
    der = asn1_crl.CertificateList(
        {
            "tbs_cert_list": parsed["tbs_cert_list"],
            "signature_algorithm": parsed["signature_algorithm"],
            "signature": signature,
        }
    ).dump()
    return x509.load_der_x509_crl(der)
