"""The SM2 `KeySigner`: an SM2 key unlocked in memory that signs SM2-with-SM3 where it lives.

Kept apart from pki/keys.py so a hardware signer (SDF/PKCS#11 devices of a 签名验签服务器)
can stand in with the same three members. The user ID is fixed per signer and always passed.
"""

from __future__ import annotations

from pki import sm2
from pki.errors import KeyStoreError
from pki.keys import KeyAlgorithm


class Sm2KeySigner:
    """Signs `data` as SM2-with-SM3 (GM/T 0009 Z with `user_id`); returns DER (r, s)."""

    algorithm = KeyAlgorithm.SM2

    def __init__(
        self, key_id: str, key: sm2.Sm2PrivateKey, user_id: bytes = sm2.DEFAULT_USER_ID
    ) -> None:
        self.key_id = key_id
        self._key = key
        self._user_id = user_id

    def __repr__(self) -> str:
        return f"Sm2KeySigner(key_id={self.key_id!r})"

    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo (id-ecPublicKey, named curve SM2)."""
        return self._key.public_key_info()

    def sign(self, data: bytes, digest: str) -> bytes:
        """SM2 signature of `data` hashed as SM3(Z || data); `digest` must be "sm3"."""
        if digest != "sm3":
            raise KeyStoreError(f"an SM2 key signs with SM3, not {digest}", key_id=self.key_id)
        return sm2.sign(self._key, data, self._user_id)
