"""GB/T 38540-2020 electronic seal structures (SESeal, SES_Signature); GM/T 0031-2014 read only.

`seal` builds and reads seal data (印章数据), `signature` the signature data (签章数据) put in a
PDF's /Contents, `checks` names every verification step. Signing goes through a `KeySigner`
(SM2 with SM3, the key stays in the key store); verifying takes an SM2 `verify` callable.
"""

from seals.gbt38540.checks import SesCheck, SesChecks
from seals.gbt38540.seal import (
    ParsedSeal,
    SealContent,
    SealPicture,
    SesFormatError,
    build_seal,
    differences,
    parse_seal,
    verify_seal,
)
from seals.gbt38540.signature import (
    ParsedSignature,
    build_signature,
    parse_signature,
    verify_signature,
)

__all__ = [
    "ParsedSeal",
    "ParsedSignature",
    "SealContent",
    "SealPicture",
    "SesCheck",
    "SesChecks",
    "SesFormatError",
    "build_seal",
    "build_signature",
    "differences",
    "parse_seal",
    "parse_signature",
    "verify_seal",
    "verify_signature",
]
