"""Key storage: the `KeyStore` seam and a software store with AES-256-GCM envelope encryption.

Each private key (PKCS#8 DER) is encrypted under a fresh 256-bit data key; the data key is
encrypted under the 32-byte master key. Both encryptions bind the key id as associated data,
so a row copied under another id does not decrypt. The caller owns the session/transaction.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeAlias
from uuid import uuid4

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlmodel import Session

from pki import sm2
from pki.errors import KeyStoreError
from pki.models import KeyRecord

if TYPE_CHECKING:
    from pki.sm2_signer import Sm2KeySigner

PrivateKey: TypeAlias = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey: TypeAlias = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

MASTER_KEY_BYTES = 32
_NONCE_BYTES = 12


class KeyAlgorithm(StrEnum):
    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"
    RSA_3072 = "rsa-3072"
    SM2 = "sm2"
    """GB/T 32918 on the recommended curve; signs SM2-with-SM3 through `Sm2KeySigner`."""


def generate_private_key(algorithm: KeyAlgorithm) -> PrivateKey:
    """A fresh private key of `algorithm` (SM2 keys: `pki.sm2.generate_private_key`)."""
    match KeyAlgorithm(algorithm):
        case KeyAlgorithm.EC_P256:
            return ec.generate_private_key(ec.SECP256R1())
        case KeyAlgorithm.EC_P384:
            return ec.generate_private_key(ec.SECP384R1())
        case KeyAlgorithm.RSA_3072:
            return rsa.generate_private_key(public_exponent=65537, key_size=3072)
        case KeyAlgorithm.SM2:
            raise KeyStoreError("SM2 keys are not pyca/cryptography keys (pki.sm2)")


def new_pkcs8(algorithm: KeyAlgorithm) -> bytes:
    """A fresh private key of `algorithm` as unencrypted PKCS#8 DER (to be encrypted)."""
    if KeyAlgorithm(algorithm) is KeyAlgorithm.SM2:
        return sm2.generate_private_key().pkcs8_der()
    return generate_private_key(algorithm).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def algorithm_of(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    """The `KeyAlgorithm` of a key, or `KeyStoreError` for an unsupported one."""
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return KeyAlgorithm.EC_P256
        if isinstance(key.curve, ec.SECP384R1):
            return KeyAlgorithm.EC_P384
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and key.key_size == 3072:
        return KeyAlgorithm.RSA_3072
    raise KeyStoreError("unsupported key type or size")


class KeySigner(Protocol):
    """A private key that signs where it lives (memory, HSM token, ...): the key never leaves."""

    key_id: str
    algorithm: KeyAlgorithm

    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo."""
        ...

    def sign(self, data: bytes, digest: str) -> bytes:
        """A DER ECDSA (or PKCS#1 v1.5 for RSA) signature over `data`, hashed with `digest`
        ("sha256" | "sha384" | "sha512"; "sm3" for SM2, DER SM2 signature): the signer
        hashes."""
        ...


class KeyStore(Protocol):
    """Where the authority's and the signers' private keys live."""

    def create_key(self, session: Session, *, algorithm: KeyAlgorithm, label: str) -> str:
        """Generate and store a key; return its id."""
        ...

    def signer(self, session: Session, key_id: str) -> KeySigner:
        """A signer for `key_id` (KeyStoreError when missing or not unlockable)."""
        ...

    def public_key_info(self, session: Session, key_id: str) -> bytes:
        """The DER SubjectPublicKeyInfo of `key_id`."""
        ...


_DIGESTS: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | hashes.SM3]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sm3": hashes.SM3,  # message digests next to SM2 signatures (SM2 keys hash themselves)
}


def digest_hash(digest: str) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | hashes.SM3:
    """The `cryptography` hash named by `digest` (KeyStoreError for any other name)."""
    try:
        return _DIGESTS[digest]()
    except KeyError:
        raise KeyStoreError(f"unsupported signature digest {digest!r}") from None


def signature_digest(algorithm: KeyAlgorithm) -> str:
    """The digest matched to a key: SHA-384 for P-384, SHA-256 for P-256 and RSA-3072, SM3
    for SM2."""
    if KeyAlgorithm(algorithm) is KeyAlgorithm.SM2:
        return "sm3"
    return "sha384" if KeyAlgorithm(algorithm) is KeyAlgorithm.EC_P384 else "sha256"


def load_public_key(spki: bytes) -> PublicKey:
    """A DER SubjectPublicKeyInfo as a `cryptography` EC or RSA public key."""
    key = serialization.load_der_public_key(spki)
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise KeyStoreError("unsupported public key type")
    return key


def public_key_of(signer: KeySigner) -> PublicKey:
    """The signer's public key as a `cryptography` object."""
    return load_public_key(signer.public_key_info())


def spki_of(key: PublicKey) -> bytes:
    """The DER SubjectPublicKeyInfo of a public key."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class MemoryKeySigner:
    """A `KeySigner` over a private key unlocked in this process's memory (the software store's
    signer; tests wrap their own keys with it). The key is not exposed and never printed."""

    __slots__ = ("_key", "algorithm", "key_id")

    def __init__(self, key: PrivateKey, *, key_id: str = "memory") -> None:
        self._key = key
        self.key_id = key_id
        self.algorithm = algorithm_of(key)

    def __repr__(self) -> str:
        return f"MemoryKeySigner(key_id={self.key_id!r}, algorithm={self.algorithm.value!r})"

    def public_key_info(self) -> bytes:
        return spki_of(self._key.public_key())

    def sign(self, data: bytes, digest: str) -> bytes:
        if digest == "sm3":
            raise KeyStoreError("SM3 is the digest of SM2 keys, not of ECDSA/RSA ones")
        algorithm = digest_hash(digest)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        return self._key.sign(data, padding.PKCS1v15(), algorithm)


class SoftwareKeyStore:
    """Keys encrypted in the database under a 32-byte master key (AES-256-GCM envelope)."""

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, bytes) or len(master_key) != MASTER_KEY_BYTES:
            raise KeyStoreError(f"the master key must be {MASTER_KEY_BYTES} bytes")
        self._master = AESGCM(master_key)

    def __repr__(self) -> str:
        return "SoftwareKeyStore(master_key=<hidden>)"

    def create_key(self, session: Session, *, algorithm: KeyAlgorithm, label: str) -> str:
        if KeyAlgorithm(algorithm) is KeyAlgorithm.SM2:
            record = self._sealed(algorithm, label, new_pkcs8(algorithm))
        else:
            record, _ = self.new_key_record(algorithm=algorithm, label=label)
        session.add(record)
        session.flush()
        return record.id

    def new_key_record(self, *, algorithm: KeyAlgorithm, label: str) -> tuple[KeyRecord, bytes]:
        """A new pyca key's encrypted record, not yet added to any session, and its DER
        SubjectPublicKeyInfo: the issuer signs before it writes (pki/issuance.py), and reading
        the public key back would decrypt the key again."""
        key = generate_private_key(algorithm)
        plaintext = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return self._sealed(algorithm, label, plaintext), spki_of(key.public_key())

    def _sealed(self, algorithm: KeyAlgorithm, label: str, plaintext: bytes) -> KeyRecord:
        """`plaintext` (PKCS#8 DER) encrypted under a fresh data key, as a new record."""
        key_id = uuid4().hex
        aad = key_id.encode()
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_BYTES)
        wrap_nonce = os.urandom(_NONCE_BYTES)
        return KeyRecord(
            id=key_id,
            algorithm=KeyAlgorithm(algorithm).value,
            label=label,
            ciphertext=AESGCM(data_key).encrypt(nonce, plaintext, aad),
            nonce=nonce,
            wrapped_key=self._master.encrypt(wrap_nonce, data_key, aad),
            wrap_nonce=wrap_nonce,
        )

    def signer(self, session: Session, key_id: str) -> KeySigner:
        if self.algorithm(session, key_id) is KeyAlgorithm.SM2:
            return self.sm2_signer(session, key_id)
        return MemoryKeySigner(self.private_key(session, key_id), key_id=key_id)

    def public_key_info(self, session: Session, key_id: str) -> bytes:
        return self.signer(session, key_id).public_key_info()

    def algorithm(self, session: Session, key_id: str) -> KeyAlgorithm:
        """The algorithm recorded for `key_id` (no decryption)."""
        record = session.get(KeyRecord, key_id)
        if record is None:
            raise KeyStoreError(f"no key with id {key_id!r}", key_id=key_id)
        return KeyAlgorithm(record.algorithm)

    def sm2_signer(self, session: Session, key_id: str) -> Sm2KeySigner:
        """An SM2 key unlocked in memory behind the `KeySigner` members."""
        from pki.sm2_signer import Sm2KeySigner

        record, plaintext = self._unlock(session, key_id)
        if record.algorithm != KeyAlgorithm.SM2.value:
            raise KeyStoreError(f"key {key_id!r} is not an SM2 key", key_id=key_id)
        return Sm2KeySigner(key_id, sm2.load_private_key(plaintext))

    def private_key(self, session: Session, key_id: str) -> PrivateKey:
        """The unlocked key (KeyStoreError when missing or not unlockable). Only for this
        module's signers and the store's own tests: callers sign through `signer`."""
        record, plaintext = self._unlock(session, key_id)
        if record.algorithm == KeyAlgorithm.SM2.value:
            raise KeyStoreError(f"key {key_id!r} is an SM2 key: sign through its signer")
        key = serialization.load_der_private_key(plaintext, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError(f"key {key_id!r} has an unsupported type", key_id=key_id)
        if algorithm_of(key).value != record.algorithm:
            raise KeyStoreError(f"key {key_id!r} does not match its algorithm", key_id=key_id)
        return key

    def _unlock(self, session: Session, key_id: str) -> tuple[KeyRecord, bytes]:
        """The record and its decrypted PKCS#8 DER (kept in memory only)."""
        record = session.get(KeyRecord, key_id)
        if record is None:
            raise KeyStoreError(f"no key with id {key_id!r}", key_id=key_id)
        aad = key_id.encode()
        try:
            data_key = self._master.decrypt(record.wrap_nonce, record.wrapped_key, aad)
            plaintext = AESGCM(data_key).decrypt(record.nonce, record.ciphertext, aad)
        except InvalidTag:
            raise KeyStoreError(
                f"key {key_id!r} cannot be unlocked: wrong master key or tampered record",
                key_id=key_id,
            ) from None
        return record, plaintext


def master_key_from_env(value: str) -> bytes:
    """Decode a base64 (standard or URL-safe) master key of exactly 32 bytes."""
    text = value.strip()
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyStoreError("the master key is not valid base64") from None
    if len(raw) != MASTER_KEY_BYTES:
        raise KeyStoreError(
            f"the master key must decode to {MASTER_KEY_BYTES} bytes, got {len(raw)}"
        )
    return raw


def load_or_create_master_key(path: Path) -> bytes:
    """Read the 32-byte master key file, or create it (mode 0600) with random bytes.

    Refuses a file readable or writable by group or others, or of the wrong size.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_master_key(path)
    key = secrets.token_bytes(MASTER_KEY_BYTES)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def _read_master_key(path: Path) -> bytes:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise KeyStoreError(f"master key {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyStoreError(
            f"master key {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
            "it must not be accessible to group or others (chmod 600)"
        )
    raw = path.read_bytes()
    if len(raw) != MASTER_KEY_BYTES:
        raise KeyStoreError(f"master key {path} must hold {MASTER_KEY_BYTES} bytes")
    return raw
