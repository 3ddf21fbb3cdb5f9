"""SM2 signatures inside pyhanko-certvalidator and pyhanko: one `SignatureValidator` for both.

pyca/cryptography has no SM2, so certificate paths, CRLs, OCSP responses and CMS signatures made
with SM2-with-SM3 fail in pyhanko's default validator. Both libraries route every signature
check through a `SignatureValidator`; this one verifies SM2 (GM/T 0009 default user ID, passed
explicitly) through `pki.sm2` and hands everything else to the default. Because the same
validation context serves PAdES and SM2 signatures, the verifier's path building, revocation,
time-stamp and modification checks are reused as they are, not forked.

pyhanko-certvalidator also builds validation contexts of its own that take no validator (the
path of an OCSP responder certificate with id-pkix-ocsp-nocheck), so the library's
`DefaultSignatureValidator` is made SM2-aware too, once, at import (`_install_in_default`);
non-SM2 signatures go to the library's own code unchanged.

`Sm2SignatureValidator` remembers the signatures it found valid (issue 12): a verification
checks the same certificate, CRL and OCSP signatures in up to seven validation contexts, and
every verification of a document sealed by one of our seals checks the same ones again. The
key is everything the answer depends on - the signature, the SHA-256 of the signed data, the
public key, the algorithm and the context - so a hit is the same computation's answer; a
signature that fails is never remembered (checked every time).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from asn1crypto import algos, keys
from cryptography.exceptions import InvalidSignature
from pyhanko_certvalidator.errors import AlgorithmNotSupported
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from pki import sm2

_SM2_ALGORITHMS = frozenset({sm2.OID_SM2_WITH_SM3, sm2.OID_SM2_SIGN})


def is_sm2(public_key_info: keys.PublicKeyInfo, algorithm: algos.SignedDigestAlgorithm) -> bool:
    """An SM2 signature: its algorithm is SM2-with-SM3 / sm2sign, or its key is on the SM2 curve."""
    if algorithm["algorithm"].dotted in _SM2_ALGORITHMS:
        return True
    return sm2.is_sm2_public_key_info(public_key_info.dump())


def verify_sm2(
    signature: bytes,
    signed_data: bytes,
    public_key_info: keys.PublicKeyInfo,
    context: SignatureValidationContext,
) -> None:
    """Raise unless `signature` is a valid SM2-with-SM3 signature of `signed_data`."""
    if context.prehashed:  # SM2 signs SM3(Z || M): a bare digest cannot be checked
        raise AlgorithmNotSupported("SM2 signatures cannot be checked over a digest")
    if not sm2.verify(public_key_info.dump(), signed_data, signature, sm2.DEFAULT_USER_ID):
        raise InvalidSignature("SM2 signature does not verify")


class ValidSignatures:
    """The keys of signatures found valid, most recent last, at most `size` of them."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._keys: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext,
    ) -> bytes:
        parts = (
            signature,
            hashlib.sha256(signed_data).digest(),
            public_key_info.dump(),
            signature_algorithm.dump(),
            repr((context.contextual_md_algorithm, context.prehashed)).encode(),
        )
        digest = hashlib.sha256()
        for part in parts:
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
        return digest.digest()

    def __contains__(self, key: bytes) -> bool:
        return key in self._keys

    def add(self, key: bytes) -> None:
        with self._lock:
            self._keys[key] = None
            self._keys.move_to_end(key)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)


class Sm2SignatureValidator(DefaultSignatureValidator):
    """The default validator plus SM2-with-SM3; a failed SM2 check raises InvalidSignature.
    Valid signatures are remembered (`ValidSignatures`), failures checked every time."""

    def __init__(self, remembered: ValidSignatures | None = None) -> None:
        self.remembered = remembered if remembered is not None else ValidSignatures()

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        key = ValidSignatures.key(
            signature, signed_data, public_key_info, signature_algorithm, context
        )
        if key in self.remembered:
            return
        if is_sm2(public_key_info, signature_algorithm):
            verify_sm2(signature, signed_data, public_key_info, context)
        else:
            super().validate_signature(
                signature, signed_data, public_key_info, signature_algorithm, context
            )
        self.remembered.add(key)


def _install_in_default() -> None:
    """Make the library's default validator SM2-aware (idempotent)."""
    original: Callable[..., None] = DefaultSignatureValidator.validate_signature
    if getattr(original, "sm2_aware", False):
        return

    def validate_signature(
        self: Any,
        signature: bytes,
        signed_data: bytes,
        public_key_info: keys.PublicKeyInfo,
        signature_algorithm: algos.SignedDigestAlgorithm,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        if is_sm2(public_key_info, signature_algorithm):
            verify_sm2(signature, signed_data, public_key_info, context)
            return
        original(self, signature, signed_data, public_key_info, signature_algorithm, context)

    validate_signature.sm2_aware = True  # type: ignore[attr-defined]
    DefaultSignatureValidator.validate_signature = validate_signature  # type: ignore[method-assign]


_install_in_default()

SM2_AWARE_VALIDATOR = Sm2SignatureValidator()
