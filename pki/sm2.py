"""SM2 signatures with SM3 (GB/T 32918, GM/T 0009) and the SM3 hash (GB/T 32905).

pyca/cryptography has SM3 but no SM2, so the curve arithmetic runs in tongsuopy (Tongsuo,
an OpenSSL fork with SM2). The user ID is never left to a library default: we compute
Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) and e = SM3(Z || M) here, then let
Tongsuo sign or verify the digest e itself (EVP_PKEY_sign/verify on an SM2 context signs its
input as e, with no Z of its own). Signatures are DER SEQUENCE { r, s } (GM/T 0009).

Keys are PKCS#8 DER with id-ecPublicKey and the named curve 1.2.156.10197.1.301, the form
OpenSSL and Tongsuo read, so the AES-GCM `SoftwareKeyStore` stores them like any other key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import algos, keys
from cryptography.hazmat.primitives import hashes as _c_hashes

from pki.errors import KeyStoreError

DEFAULT_USER_ID = b"1234567812345678"
"""GM/T 0009-2012 section 10: the user ID when none is agreed. Always passed explicitly."""

OID_SM2_CURVE = "1.2.156.10197.1.301"
OID_SM2_SIGN = "1.2.156.10197.1.301.1"
OID_SM3 = "1.2.156.10197.1.401"
OID_SM2_WITH_SM3 = "1.2.156.10197.1.501"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"

ASN1_SM3 = "sm3"
ASN1_SM2_WITH_SM3 = "sm2_sm3"
ASN1_SM2_SIGN = "sm2sign"
ASN1_SM2_CURVE = "sm2p256v1"


@dataclass(frozen=True)
class Curve:
    """Short Weierstrass curve parameters (a, b over GF(p), base point G of order n)."""

    p: int
    a: int
    b: int
    n: int
    gx: int
    gy: int

    @property
    def size(self) -> int:
        return (self.p.bit_length() + 7) // 8


SM2P256V1 = Curve(
    p=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF,
    a=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC,
    b=0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93,
    n=0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123,
    gx=0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7,
    gy=0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0,
)
"""The recommended curve of GB/T 32918.5-2017."""


def register_asn1crypto_names() -> None:
    """Teach asn1crypto the GM OIDs (idempotent) so certificates and CMS name them."""
    for cls, oid, name in (
        (algos.DigestAlgorithmId, OID_SM3, ASN1_SM3),
        (algos.SignedDigestAlgorithmId, OID_SM2_WITH_SM3, ASN1_SM2_WITH_SM3),
        (algos.SignedDigestAlgorithmId, OID_SM2_SIGN, ASN1_SM2_SIGN),
    ):
        cls._map[oid] = name
        if cls._reverse_map is not None:
            cls._reverse_map[name] = oid
    if keys.NamedCurve._map.get(OID_SM2_CURVE) != ASN1_SM2_CURVE:
        keys.NamedCurve.register(ASN1_SM2_CURVE, OID_SM2_CURVE, 32)


register_asn1crypto_names()


def sm3(data: bytes) -> bytes:
    """SM3 digest (GB/T 32905); OpenSSL's when hashlib has it, else pyca/cryptography's."""
    try:
        return hashlib.new("sm3", data).digest()
    except ValueError:  # an OpenSSL built without SM3
        digest = _c_hashes.Hash(_c_hashes.SM3())
        digest.update(data)
        return digest.finalize()


def _int_bytes(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def z_value(public_point: bytes, user_id: bytes, curve: Curve = SM2P256V1) -> bytes:
    """Z_A of GB/T 32918.2 section 5.5 for an uncompressed point (04 || x || y)."""
    size = curve.size
    if len(public_point) != 1 + 2 * size or public_point[0] != 4:
        raise ValueError("the public key must be an uncompressed point")
    if len(user_id) * 8 > 0xFFFF:
        raise ValueError("the user ID is longer than 8191 bytes")
    material = b"".join(
        (
            (len(user_id) * 8).to_bytes(2, "big"),
            user_id,
            _int_bytes(curve.a, size),
            _int_bytes(curve.b, size),
            _int_bytes(curve.gx, size),
            _int_bytes(curve.gy, size),
            public_point[1:],
        )
    )
    return sm3(material)


def message_digest(public_point: bytes, data: bytes, user_id: bytes) -> bytes:
    """e = SM3(Z_A || M): what the SM2 signature actually signs."""
    return sm3(z_value(public_point, user_id) + data)


# --- keys -------------------------------------------------------------------------------------


def _tongsuo() -> tuple[Any, Any]:
    from tongsuopy.backends.tongsuo.backend import backend
    from tongsuopy.crypto.asymciphers import ec

    return backend, ec


class Sm2PrivateKey:
    """An SM2 private key held by Tongsuo (never printed, never pickled)."""

    __slots__ = ("_key", "_point")

    def __init__(self, key: Any) -> None:
        self._key = key
        numbers = key.public_key().public_numbers()
        self._point = b"\x04" + _int_bytes(numbers.x, 32) + _int_bytes(numbers.y, 32)

    def __repr__(self) -> str:
        return "Sm2PrivateKey(<hidden>)"

    def __reduce__(self) -> Any:
        raise TypeError("SM2 private keys are not pickled")

    def pkcs8_der(self) -> bytes:
        """Unencrypted PKCS#8 DER, for the key store to encrypt at rest."""
        from tongsuopy.crypto import serialization as ser

        der: bytes = self._key.private_bytes(
            ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption()
        )
        return der

    def public_point(self) -> bytes:
        """The public key as an uncompressed point 04 || x || y."""
        return self._point

    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo: id-ecPublicKey, namedCurve SM2."""
        return spki_from_point(self.public_point())

    def sign_digest(self, e: bytes) -> bytes:
        """SM2 signature (DER) over a ready e = SM3(Z || M); callers use `sign`."""
        return _pkey_op(self._key._evp_pkey, e, None)


def generate_private_key() -> Sm2PrivateKey:
    """A fresh SM2 key on the recommended curve (Tongsuo's CSPRNG)."""
    _backend, ec = _tongsuo()
    return Sm2PrivateKey(ec.generate_private_key(ec.SM2()))


def load_private_key(pkcs8_der: bytes) -> Sm2PrivateKey:
    """Read PKCS#8 DER; `KeyStoreError` unless it is an SM2 key."""
    _backend, ec = _tongsuo()
    from tongsuopy.crypto import serialization as ser

    try:
        key = ser.load_der_private_key(pkcs8_der, password=None)
    except Exception:
        raise KeyStoreError("not a readable PKCS#8 private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SM2):
        raise KeyStoreError("not an SM2 private key")
    return Sm2PrivateKey(key)


def spki_from_point(point: bytes) -> bytes:
    """SubjectPublicKeyInfo DER for an uncompressed SM2 point."""
    return keys.PublicKeyInfo(
        {
            "algorithm": {
                "algorithm": "ec",
                "parameters": keys.ECDomainParameters("named", ASN1_SM2_CURVE),
            },
            "public_key": point,
        }
    ).dump()


def point_from_spki(public_key_info_der: bytes) -> bytes:
    """The uncompressed point of an SM2 SubjectPublicKeyInfo; ValueError otherwise.

    Accepts id-ecPublicKey with the SM2 named curve, and the SM2 OID as the algorithm
    (some GM issuers write that); the point must be uncompressed.
    """
    info = keys.PublicKeyInfo.load(public_key_info_der, strict=True)
    algorithm = info["algorithm"]
    oid = algorithm["algorithm"].dotted
    params = algorithm["parameters"]
    if oid == OID_EC_PUBLIC_KEY:
        if params.name != "named" or params.chosen.dotted != OID_SM2_CURVE:
            raise ValueError("not an SM2 public key: the curve is not SM2")
    elif oid != OID_SM2_CURVE:
        raise ValueError(f"not an SM2 public key: algorithm {oid}")
    point = bytes(info["public_key"])
    if len(point) != 65 or point[0] != 4:
        raise ValueError("the SM2 public key is not an uncompressed point")
    return point


def is_sm2_public_key_info(public_key_info_der: bytes) -> bool:
    """True when the SPKI is an SM2 key (so verifiers pick this module)."""
    try:
        point_from_spki(public_key_info_der)
    except ValueError:
        return False
    return True


# --- sign / verify ----------------------------------------------------------------------------


def _pkey_op(evp_pkey: Any, e: bytes, signature: bytes | None) -> Any:
    """EVP_PKEY_sign (signature None) or EVP_PKEY_verify over the digest e."""
    backend, _ec = _tongsuo()
    lib, ffi = backend._lib, backend._ffi
    if len(e) != 32:
        raise ValueError("e must be a 32-byte SM3 digest")
    ctx = lib.EVP_PKEY_CTX_new(evp_pkey, ffi.NULL)
    backend.openssl_assert(ctx != ffi.NULL)
    ctx = ffi.gc(ctx, lib.EVP_PKEY_CTX_free)
    if signature is None:
        backend.openssl_assert(lib.EVP_PKEY_sign_init(ctx) == 1)
        size = ffi.new("size_t *")
        backend.openssl_assert(lib.EVP_PKEY_sign(ctx, ffi.NULL, size, e, len(e)) == 1)
        buf = ffi.new("unsigned char[]", size[0])
        if lib.EVP_PKEY_sign(ctx, buf, size, e, len(e)) != 1:
            backend._consume_errors()
            raise ValueError("SM2 signing failed")
        return bytes(ffi.buffer(buf)[: size[0]])
    backend.openssl_assert(lib.EVP_PKEY_verify_init(ctx) == 1)
    result = lib.EVP_PKEY_verify(ctx, signature, len(signature), e, len(e))
    backend._consume_errors()
    return result == 1


def sign(private_key: Sm2PrivateKey, data: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
    """SM2-with-SM3 signature of `data` (DER r, s) under `user_id` (GM/T 0009 Z value)."""
    e = message_digest(private_key.public_point(), data, user_id)
    return private_key.sign_digest(e)


def _canonical_signature(signature: bytes) -> bool:
    """DER SEQUENCE of two positive INTEGERs, nothing before or after (no malleability)."""
    try:
        parsed = algos.DSASignature.load(signature, strict=True)
        r, s = parsed["r"].native, parsed["s"].native
    except (ValueError, TypeError):
        return False
    return parsed.dump(force=True) == signature and 0 < r < SM2P256V1.n and 0 < s < SM2P256V1.n


def verify(
    public_key_info_der: bytes,
    data: bytes,
    signature: bytes,
    user_id: bytes = DEFAULT_USER_ID,
) -> bool:
    """True only when `signature` (DER) is a valid SM2-with-SM3 signature of `data`."""
    try:
        point = point_from_spki(public_key_info_der)
    except ValueError:
        return False
    if not _canonical_signature(signature):
        return False
    _backend, ec = _tongsuo()
    from tongsuopy.crypto import serialization as ser

    try:
        public = ser.load_der_public_key(spki_from_point(point))
    except Exception:  # a point not on the curve
        return False
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(public.curve, ec.SM2):
        return False
    e = message_digest(point, data, user_id)
    return bool(_pkey_op(public._evp_pkey, e, signature))


def raw_signature(signature_der: bytes) -> bytes:
    """r || s (64 bytes) of a DER signature: the form gmssl and some SDF devices use."""
    parsed = algos.DSASignature.load(signature_der)
    return _int_bytes(parsed["r"].native, 32) + _int_bytes(parsed["s"].native, 32)


def der_signature(raw: bytes) -> bytes:
    """DER SEQUENCE { r, s } of a 64-byte r || s signature."""
    if len(raw) != 64:
        raise ValueError("a raw SM2 signature is 64 bytes")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return algos.DSASignature({"r": r, "s": s}).dump()


def signature_algorithm() -> algos.SignedDigestAlgorithm:
    """AlgorithmIdentifier sm2-with-sm3, parameters absent (as OpenSSL and GM/T 0015 write it)."""
    return algos.SignedDigestAlgorithm({"algorithm": ASN1_SM2_WITH_SM3})
