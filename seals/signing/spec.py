"""What a sealing asks for and what it gives back, independent of the signature format.

`SealingSpec` is the one frozen description of a seal to apply (where, at which level, how it
looks, as what kind of signature); the format modules (`pades` today) take it with the
document, the signer's identity and the material the level needs (time-stamper, validation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pki.keys import KeySigner
from pki.sm2_validation import SM2_AWARE_VALIDATOR
from seals.errors import UnsupportedFormatError
from seals.placement import Placement


class SignatureFormat(StrEnum):
    """The signature formats eseal can produce; each has its module in `seals.signing`."""

    PADES = "pades"
    SM2_CMS = "sm2-cms"
    """adbe.pkcs7.detached CMS with SM3 and SM2-with-SM3 (`sm2cms.py`)."""
    GBT38540 = "gbt38540"
    """A GB/T 38540 SES_Signature in /Contents (`gbt38540.py`); the identity carries the seal."""


def signature_format(value: str | SignatureFormat) -> SignatureFormat:
    """`value` as a `SignatureFormat`, or `UnsupportedFormatError` naming what is supported."""
    try:
        return SignatureFormat(value)
    except ValueError:
        supported = ", ".join(f.value for f in SignatureFormat)
        raise UnsupportedFormatError(
            f"The signature format {value!r} is not supported (supported: {supported}).",
            format=str(value),
        ) from None


class PadesLevel(StrEnum):
    """PAdES baseline levels (ETSI EN 319 142-1)."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def needs_timestamp(self) -> bool:
        """B-T and above carry a signature time-stamp."""
        return self is not PadesLevel.B_B

    @property
    def needs_validation(self) -> bool:
        """B-LT and above embed chains, OCSP responses and CRLs (/DSS)."""
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)

    @property
    def is_lta(self) -> bool:
        """B-LTA ends with a document time-stamp over the whole file."""
        return self is PadesLevel.B_LTA


class DocMdpPermission(StrEnum):
    """What a certification signature still allows (ISO 32000-1 §12.8.2.2, /P 1..3)."""

    NO_CHANGES = "no-changes"
    FORM_FILLING = "form-filling"
    ANNOTATIONS = "annotations"


def asn1_cert(certificate: x509.Certificate) -> Any:
    """The asn1crypto form of a certificate (what pyhanko speaks)."""
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True, slots=True)
class SigningIdentity:
    """A signer's certificate, the chain above it (issuing CAs, root optional) and the
    `KeySigner` of its key: the private key stays where the key store keeps it.
    ``eseal``: the seal's GB/T 38540 seal data (DER SESeal), needed by the ``gbt38540`` format."""

    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signer: KeySigner
    eseal: bytes | None = None
    _pyhanko: list[Any] = field(default_factory=list, init=False, repr=False, compare=False)

    def pyhanko_signer(self) -> Any:
        """A pyhanko `Signer` that signs through the `KeySigner`; made once per identity, so an
        identity a seal worker keeps does not re-encode its certificates for every seal."""
        if not self._pyhanko:
            from pyhanko_certvalidator.registry import SimpleCertificateStore

            from seals.signing.keysigner import PyhankoKeySigner

            self._pyhanko.append(
                PyhankoKeySigner(
                    self.signer,
                    signing_cert=asn1_cert(self.certificate),
                    cert_registry=SimpleCertificateStore.from_certs(
                        [asn1_cert(c) for c in self.chain]
                    ),
                )
            )
        return self._pyhanko[0]


KEPT_CONTEXT_SECONDS = 60.0
"""How long `ValidationMaterial.kept_context` serves one context: it validates at the moment it
was made, so a kept context is at most this stale (a seal worker renews the material itself
at least this often, and on every certificate status change)."""


@dataclass(frozen=True, slots=True)
class ValidationMaterial:
    """Everything needed to validate the signer's and TSA's certificates, without fetching.

    ``certificates``: intermediates not in the signer's chain (e.g. the TSA's issuer).
    ``ocsp_responses``: DER OCSPResponse; ``crls``: DER CertificateList.
    """

    trust_roots: tuple[x509.Certificate, ...]
    certificates: tuple[x509.Certificate, ...] = ()
    ocsp_responses: tuple[bytes, ...] = ()
    crls: tuple[bytes, ...] = ()
    _kept: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def validation_context(self) -> Any:
        """A pyhanko-certvalidator `ValidationContext` that never fetches and requires
        revocation information for every non-root certificate."""
        from asn1crypto import crl as asn1_crl
        from asn1crypto import ocsp as asn1_ocsp
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(
            trust_roots=[asn1_cert(c) for c in self.trust_roots],
            other_certs=[asn1_cert(c) for c in self.certificates],
            ocsps=[asn1_ocsp.OCSPResponse.load(r) for r in self.ocsp_responses],
            crls=[asn1_crl.CertificateList.load(c) for c in self.crls],
            allow_fetching=False,
            revocation_mode="require",
            signature_validator=SM2_AWARE_VALIDATOR,
        )

    def kept_context(self) -> tuple[Any, dict[Any, Any]]:
        """A `validation_context` made at most `KEPT_CONTEXT_SECONDS` ago, and a dictionary for
        what was validated with it (dropped with it): a seal worker keeps one material for
        many seals, and parsing it and validating the same paths again is most of a B-LT
        seal's extra cost."""
        now = time.monotonic()
        kept = self._kept.get("context")
        if kept is None or kept[0] <= now:
            kept = self._kept["context"] = (
                now + KEPT_CONTEXT_SECONDS,
                self.validation_context(),
                {},
            )
        return kept[1], kept[2]

    def kept_for(self, context: Any) -> dict[Any, Any] | None:
        """The dictionary `kept_context` gave with `context`, or None when that context is no
        longer the kept one (renewed meanwhile)."""
        kept = self._kept.get("context")
        return kept[2] if kept is not None and kept[1] is context else None


@dataclass(frozen=True, slots=True)
class SealAppearance:
    """The seal image (PNG/any Pillow-readable image; transparency is kept) and its
    physical size in millimetres (e.g. 42 x 42 for an official round seal)."""

    image: bytes
    width_mm: float
    height_mm: float


@dataclass(frozen=True, slots=True)
class SealingSpec:
    """One seal to apply, in every format: where it shows (a visible `placement` needs an
    ``appearance``), the level, and the signature's own fields.

    ``certify``: a certification (author) signature with this DocMDP permission, which must be
    the document's first signature. ``signing_time``: the claimed time (/M; default now).
    ``vri``: write the signature's /VRI entry in the DSS at B-LT/B-LTA (for older validators).
    """

    placement: Placement
    level: PadesLevel = PadesLevel.B_B
    appearance: SealAppearance | None = None
    certify: DocMdpPermission | None = None
    field_name: str | None = None
    reason: str | None = None
    location: str | None = None
    signing_time: datetime | None = None
    vri: bool = True
    format: SignatureFormat = SignatureFormat.PADES

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", PadesLevel(self.level))
        object.__setattr__(self, "format", signature_format(self.format))
        if self.certify is not None:
            object.__setattr__(self, "certify", DocMdpPermission(self.certify))


@dataclass(frozen=True, slots=True)
class SignedPdf:
    """The signed document and what was done to it."""

    pdf: bytes
    field_name: str
    level: PadesLevel
    sha256: str  # hex digest of ``pdf``
    widget_count: int = 0
