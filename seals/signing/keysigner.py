"""pyhanko's `Signer` over a `KeySigner`: the CMS is assembled here, the raw signature is made
where the key lives (the software store's memory today, an HSM token tomorrow).

The signature mechanism is pyhanko's default for the certificate's key (``sha256_ecdsa``,
``sha384_ecdsa``, ``sha256_rsa`` = PKCS#1 v1.5), the same OIDs the in-memory `SimpleSigner`
wrote before, so validators see no difference.
"""

from __future__ import annotations

from typing import Any

from pyhanko.sign import signers

from pki.keys import KeyAlgorithm, KeySigner

# Longest signature per key algorithm, for pyhanko's size estimate (a dry run reserves room
# without asking the key to sign): DER ECDSA P-256 <= 72 bytes, P-384 <= 104, RSA-3072 = 384.
_MAX_SIGNATURE_BYTES = {
    KeyAlgorithm.EC_P256: 72,
    KeyAlgorithm.EC_P384: 104,
    KeyAlgorithm.RSA_3072: 384,
}


class PyhankoKeySigner(signers.Signer):
    """A pyhanko `Signer` whose raw signatures come from a `KeySigner`."""

    def __init__(self, key: KeySigner, *, signing_cert: Any, cert_registry: Any) -> None:
        super().__init__(signing_cert=signing_cert, cert_registry=cert_registry)
        self._key = key

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        """The raw signature over `data` (the key signer hashes with `digest_algorithm`)."""
        if dry_run:
            size = _MAX_SIGNATURE_BYTES.get(self._key.algorithm)
            if size is not None:
                return bytes(size)
        return self._key.sign(data, digest_algorithm)
