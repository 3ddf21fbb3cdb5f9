"""Applying a seal to a document, one module per signature format.

* `spec`: what a sealing asks for (`SealingSpec`, `PadesLevel`, `SignatureFormat`) and gives
  back (`SignedPdf`); `SigningIdentity` carries a `pki.keys.KeySigner`, never a private key.
* `formats.sign_document`: the dispatcher that picks the module by ``spec.format``.
* `pades`: PAdES (ETSI EN 319 142-1) by incremental update, with `checks` (inputs) and
  `widgets` (the seal's appearance); `keysigner`: pyhanko's `Signer` over a `KeySigner`.

This package re-exports the public names callers used from the former ``seals/signing.py``.
"""

from __future__ import annotations

from seals.errors import (
    CertificationNotFirstError,
    DamagedPdfError,
    DocumentLockedError,
    EncryptedPdfError,
    FieldNameTakenError,
    InvalidAppearanceError,
    InvalidPlacementError,
    KeywordNotFoundError,
    MissingInputError,
    NotAPdfError,
    PageOutOfRangeError,
    PlacementError,
    PlacementOutsidePageError,
    SignerNotValidError,
    SigningError,
    TimestampFailedError,
    UnsupportedFormatError,
)
from seals.placement import (
    CoordinatePlacement,
    CrossPagePlacement,
    InvisiblePlacement,
    KeywordPlacement,
    Placement,
)
from seals.signing.formats import sign_document
from seals.signing.pades import async_sign_pdf, sign_pdf
from seals.signing.spec import (
    DocMdpPermission,
    PadesLevel,
    SealAppearance,
    SealingSpec,
    SignatureFormat,
    SignedPdf,
    SigningIdentity,
    ValidationMaterial,
    signature_format,
)

__all__ = [
    "CertificationNotFirstError",
    "CoordinatePlacement",
    "CrossPagePlacement",
    "DamagedPdfError",
    "DocMdpPermission",
    "DocumentLockedError",
    "EncryptedPdfError",
    "FieldNameTakenError",
    "InvalidAppearanceError",
    "InvalidPlacementError",
    "InvisiblePlacement",
    "KeywordNotFoundError",
    "KeywordPlacement",
    "MissingInputError",
    "NotAPdfError",
    "PadesLevel",
    "PageOutOfRangeError",
    "Placement",
    "PlacementError",
    "PlacementOutsidePageError",
    "SealAppearance",
    "SealingSpec",
    "SignatureFormat",
    "SignedPdf",
    "SignerNotValidError",
    "SigningError",
    "SigningIdentity",
    "TimestampFailedError",
    "UnsupportedFormatError",
    "ValidationMaterial",
    "async_sign_pdf",
    "sign_document",
    "sign_pdf",
    "signature_format",
]
