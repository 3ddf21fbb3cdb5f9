"""A key store in a PKCS#11 token (an HSM, or SoftHSM2 in tests and small installations).

Keys are generated inside the token as sensitive, non-extractable objects and sign there: the
private scalar never exists in this process. The database keeps a `TokenKeyRecord` per key
(token label, CKA_ID, public key) so every instance finds the same key and public-key lookups
need no token round trip. Keys created before the switch (AES-GCM rows in `pki_key`) keep
working through the software store given as `fallback` until they are re-keyed.

python-pkcs11 is used directly rather than pyhanko's PKCS#11 signer: the CA, OCSP and TSA sign
raw data (not CMS) through the same seam, and pyhanko's PKCS#11 support is itself built on it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pkcs11
from asn1crypto import algos
from cryptography.hazmat.primitives.asymmetric import rsa
from pkcs11.util.ec import (
    encode_ec_public_key,
    encode_ecdsa_signature,
    encode_named_curve_parameters,
)
from sqlmodel import Session

from pki.errors import KeyStoreError
from pki.keys import KeyAlgorithm, KeySigner, SoftwareKeyStore, spki_of
from pki.models import TokenKeyRecord

_CURVES = {KeyAlgorithm.EC_P256: "secp256r1", KeyAlgorithm.EC_P384: "secp384r1"}
_DIGESTS = {"sha256", "sha384", "sha512"}


@dataclass(frozen=True)
class Pkcs11Config:
    """Where the token is: the module (.so), the token's label and the user PIN."""

    module: Path
    token_label: str
    pin: str = field(repr=False)


def read_pin(*, pin: str | None, pin_file: Path | None) -> str:
    """The user PIN from the environment value or, failing that, a file (trailing newline cut)."""
    if pin:
        return pin
    if pin_file is None:
        raise KeyStoreError("the PKCS#11 key store needs a PIN (ESEAL_PKCS11_PIN or _PIN_FILE)")
    try:
        return pin_file.read_text().strip()
    except OSError as exc:
        raise KeyStoreError(f"cannot read the PKCS#11 PIN file {pin_file}: {exc}") from None


class _TokenSession:
    """One logged-in session per process (a forked worker opens its own), used under a lock."""

    def __init__(self, config: Pkcs11Config) -> None:
        self._config = config
        self._lock = threading.RLock()
        self._pid = 0
        self._session: Any = None
        self._handles: dict[str, Any] = {}

    def __enter__(self) -> Any:
        self._lock.acquire()
        try:
            if self._pid != os.getpid() or self._session is None:
                self._open()
            return self._session
        except BaseException:
            self._lock.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()

    def _open(self) -> None:
        try:
            lib = pkcs11.lib(str(self._config.module))
            token = lib.get_token(token_label=self._config.token_label)
            try:
                self._session = token.open(rw=True, user_pin=self._config.pin)
            except pkcs11.UserAlreadyLoggedIn:
                # login is per application: another store object of this process did it
                self._session = token.open(rw=True)
        except pkcs11.PKCS11Error as exc:
            raise KeyStoreError(
                f"cannot open PKCS#11 token {self._config.token_label!r}: {type(exc).__name__}"
            ) from None
        self._pid = os.getpid()
        self._handles = {}

    def private_key(self, object_id: str) -> Any:
        """The private-key object with CKA_ID `object_id` (caller holds the session)."""
        key = self._handles.get(object_id)
        if key is None:
            try:
                key = self._session.get_key(
                    object_class=pkcs11.ObjectClass.PRIVATE_KEY, id=bytes.fromhex(object_id)
                )
            except (pkcs11.NoSuchKey, pkcs11.MultipleObjectsReturned) as exc:
                raise KeyStoreError(
                    f"the token has no single private key {object_id}: {type(exc).__name__}"
                ) from None
            self._handles[object_id] = key
        return key


class Pkcs11KeySigner:
    """A token key that signs where it lives: hashing here, the private operation in the token."""

    def __init__(self, token: _TokenSession, record: TokenKeyRecord) -> None:
        self.key_id = record.id
        self.algorithm = KeyAlgorithm(record.algorithm)
        self._token = token
        self._object_id = record.object_id
        self._spki = bytes(record.public_key_info)

    def public_key_info(self) -> bytes:
        return self._spki

    def __repr__(self) -> str:
        return f"Pkcs11KeySigner(key_id={self.key_id!r}, algorithm={self.algorithm.value!r})"

    def sign(self, data: bytes, digest: str) -> bytes:
        if digest not in _DIGESTS:
            raise KeyStoreError(f"digest {digest!r} is not supported by the PKCS#11 store")
        hashed = hashlib.new(digest, data).digest()
        with self._token:
            key = self._token.private_key(self._object_id)
            if self.algorithm is KeyAlgorithm.RSA_3072:
                info = algos.DigestInfo(
                    {"digest_algorithm": {"algorithm": digest}, "digest": hashed}
                ).dump()
                return bytes(key.sign(info, mechanism=pkcs11.Mechanism.RSA_PKCS))
            raw = key.sign(hashed, mechanism=pkcs11.Mechanism.ECDSA)
        return encode_ecdsa_signature(raw)


class Pkcs11KeyStore:
    """New keys in the token; older database keys through `fallback` (until re-keyed), and
    SM2 keys there too (standard PKCS#11 has no SM2 mechanism)."""

    def __init__(self, config: Pkcs11Config, *, fallback: SoftwareKeyStore | None = None) -> None:
        self.config = config
        self.fallback = fallback
        self._token = _TokenSession(config)

    def __repr__(self) -> str:
        return f"Pkcs11KeyStore(token={self.config.token_label!r}, pin=<hidden>)"

    def create_key(self, session: Session, *, algorithm: KeyAlgorithm, label: str) -> str:
        algorithm = KeyAlgorithm(algorithm)
        if algorithm not in _CURVES and algorithm is not KeyAlgorithm.RSA_3072:
            # SM2 has no mechanism in standard PKCS#11 (vendors add their own, SoftHSM2 none):
            # such keys stay in the encrypted database, as `in_token` and the README say
            if self.fallback is None:
                raise KeyStoreError(f"{algorithm.value} keys cannot be made in this PKCS#11 token")
            return self.fallback.create_key(session, algorithm=algorithm, label=label)
        key_id = uuid4().hex
        object_id = key_id[:32]
        private_template = {
            pkcs11.Attribute.SENSITIVE: True,
            pkcs11.Attribute.EXTRACTABLE: False,
            pkcs11.Attribute.SIGN: True,
            pkcs11.Attribute.PRIVATE: True,
        }
        options: dict[str, Any] = {
            "id": bytes.fromhex(object_id),
            "label": label[:64],
            "store": True,
            "capabilities": pkcs11.MechanismFlag.SIGN | pkcs11.MechanismFlag.VERIFY,
            "private_template": private_template,
        }
        with self._token as token_session:
            try:
                if algorithm is KeyAlgorithm.RSA_3072:
                    public, _ = token_session.generate_keypair(pkcs11.KeyType.RSA, 3072, **options)
                    spki = _rsa_spki(public)
                else:
                    params = token_session.create_domain_parameters(
                        pkcs11.KeyType.EC,
                        {
                            pkcs11.Attribute.EC_PARAMS: encode_named_curve_parameters(
                                _CURVES[algorithm]
                            )
                        },
                        local=True,
                    )
                    public, _ = params.generate_keypair(**options)
                    spki = encode_ec_public_key(public)
            except pkcs11.PKCS11Error as exc:
                raise KeyStoreError(
                    f"the token refused to generate a key: {type(exc).__name__}"
                ) from None
        session.add(
            TokenKeyRecord(
                id=key_id,
                algorithm=algorithm.value,
                label=label,
                token_label=self.config.token_label,
                object_id=object_id,
                public_key_info=spki,
            )
        )
        session.flush()
        return key_id

    def signer(self, session: Session, key_id: str) -> KeySigner:
        """The token's signer for `key_id`, or the fallback store's for an older key."""
        record = session.get(TokenKeyRecord, key_id)
        if record is not None:
            return Pkcs11KeySigner(self._token, record)
        return self._fallback(key_id).signer(session, key_id)

    def public_key_info(self, session: Session, key_id: str) -> bytes:
        record = session.get(TokenKeyRecord, key_id)
        if record is not None:
            return bytes(record.public_key_info)
        return self._fallback(key_id).public_key_info(session, key_id)

    def in_token(self, session: Session, key_id: str) -> bool:
        return session.get(TokenKeyRecord, key_id) is not None

    def token_attributes(self, session: Session, key_id: str) -> dict[str, bool]:
        """What the token says of the private key: sensitive, extractable, ever extractable."""
        record = session.get(TokenKeyRecord, key_id)
        if record is None:
            raise KeyStoreError(f"key {key_id!r} is not in the token", key_id=key_id)
        with self._token:
            key = self._token.private_key(record.object_id)
            return {
                "sensitive": bool(key[pkcs11.Attribute.SENSITIVE]),
                "extractable": bool(key[pkcs11.Attribute.EXTRACTABLE]),
                "always_sensitive": bool(key[pkcs11.Attribute.ALWAYS_SENSITIVE]),
                "never_extractable": bool(key[pkcs11.Attribute.NEVER_EXTRACTABLE]),
            }

    def _fallback(self, key_id: str) -> SoftwareKeyStore:
        if self.fallback is None:
            raise KeyStoreError(f"no key with id {key_id!r}", key_id=key_id)
        return self.fallback


def _rsa_spki(public: Any) -> bytes:
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(public[pkcs11.Attribute.PUBLIC_EXPONENT], "big"),
        int.from_bytes(public[pkcs11.Attribute.MODULUS], "big"),
    )
    return spki_of(numbers.public_key())
