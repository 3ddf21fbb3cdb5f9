"""The ``sm2-cms`` format: adbe.pkcs7.detached CMS with SM3 and SM2-with-SM3 (GM/T 0009 ID).

Everything but the algorithms is the PAdES module's (`pades.async_sign_cms`): incremental
update, visible, keyword and riding seals as widgets, certification (DocMDP), time-stamp and
DSS levels. The CMS uses the standard PKCS#7 OIDs with the SM3 digest and SM2-with-SM3
signature OIDs (the form Chinese PDF verifiers read); the /SubFilter is adbe.pkcs7.detached
because ETSI.CAdES.detached is defined for the ETSI algorithm set.
"""

from __future__ import annotations

from typing import Any

from pki import sm2
from seals.errors import UnsupportedFormatError
from seals.signing.formats import blocking
from seals.signing.keysigner import PyhankoKeySigner
from seals.signing.pades import CmsProfile, async_sign_cms
from seals.signing.spec import (
    SealingSpec,
    SignedPdf,
    SigningIdentity,
    ValidationMaterial,
    asn1_cert,
)

__all__ = ["SM2_CMS_PROFILE", "Sm2PyhankoKeySigner", "async_sign_pdf", "sign_pdf", "sm2_identity"]

SM2_CMS_PROFILE = CmsProfile(md_algorithm="sm3", subfilter="ADOBE_PKCS7_DETACHED")
_SM2_SIGNATURE_BYTES = 72  # DER SEQUENCE of two INTEGERs of at most 33 bytes


class Sm2PyhankoKeySigner(PyhankoKeySigner):
    """pyhanko's `Signer` over an SM2 `KeySigner`: mechanism sm2_sm3, the key hashes with SM3."""

    def __init__(self, key: Any, *, signing_cert: Any, cert_registry: Any) -> None:
        from asn1crypto import algos

        super().__init__(key, signing_cert=signing_cert, cert_registry=cert_registry)
        self._signature_mechanism = algos.SignedDigestAlgorithm({"algorithm": "sm2_sm3"})

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:  # the size estimate: no use of the key
            return bytes(_SM2_SIGNATURE_BYTES)
        return await super().async_sign_raw(data, "sm3")


def sm2_identity(identity: SigningIdentity, fmt: str) -> bytes:
    """The SM2 certificate's SPKI; refuses an identity whose certificate or key is not SM2, or
    whose key is not the certificate's (`UnsupportedFormatError`, nothing signed)."""
    spki: bytes = asn1_cert(identity.certificate)["tbs_certificate"][
        "subject_public_key_info"
    ].dump()
    if not sm2.is_sm2_public_key_info(spki):
        raise UnsupportedFormatError(
            f"The {fmt} format needs an SM2 certificate; this seal's certificate is not SM2.",
            format=fmt,
        )
    if identity.signer.public_key_info() != spki:
        raise UnsupportedFormatError(
            f"The {fmt} format: the signing key is not the SM2 certificate's key.", format=fmt
        )
    return spki


def pyhanko_sm2_signer(identity: SigningIdentity) -> Sm2PyhankoKeySigner:
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return Sm2PyhankoKeySigner(
        identity.signer,
        signing_cert=asn1_cert(identity.certificate),
        cert_registry=SimpleCertificateStore.from_certs([asn1_cert(c) for c in identity.chain]),
    )


async def async_sign_pdf(
    *,
    pdf: bytes,
    identity: SigningIdentity | Any,
    spec: SealingSpec,
    timestamper: Any | None = None,
    validation: ValidationMaterial | None = None,
) -> SignedPdf:
    """Seal ``pdf`` with an SM2 CMS signature; see `sign_pdf`."""
    if isinstance(identity, SigningIdentity):
        sm2_identity(identity, "sm2-cms")
        signer: Any = pyhanko_sm2_signer(identity)
    else:  # a pyhanko Signer handed in directly (tests, tools)
        signer = identity
    return await async_sign_cms(
        pdf=pdf,
        signer=signer,
        spec=spec,
        timestamper=timestamper,
        validation=validation,
        profile=SM2_CMS_PROFILE,
    )


sign_pdf = blocking(async_sign_pdf)
"""Seal ``pdf`` with an adbe.pkcs7.detached SM2/SM3 CMS as ``spec`` says (levels, placement
and errors as `pades.sign_pdf`); the identity's certificate and key must be SM2."""
