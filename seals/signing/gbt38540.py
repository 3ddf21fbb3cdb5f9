"""The ``gbt38540`` format: a GB/T 38540 electronic seal (SES_Signature) in /Contents.

The revision is prepared exactly as for PAdES (`pades`: input checks, the seal's widgets, the
signature field, incremental update); instead of a CMS, /Contents receives the SES_Signature
over SM3 of the ByteRange bytes, carrying the seal's GB/T 38540 seal data (`identity.eseal`).
The time signed into TBS_Sign is the signature dictionary's /M. From B-T up, an RFC 3161
time-stamp over the signature value fills the SES `timeStamp` field. There is no CMS, so
neither B-LT/B-LTA nor a certification (DocMDP) signature applies: both are refused.
Before anything is signed the seal data must list the signer's certificate and be valid now.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from seals.errors import (
    SignerNotValidError,
    SigningError,
    TimestampFailedError,
    UnsupportedFormatError,
)
from seals.gbt38540 import SesFormatError, parse_seal
from seals.gbt38540.pdf import SesSealing, reserve_for, ses_for
from seals.gbt38540.seal import cert_digest
from seals.signing import pades
from seals.signing.formats import blocking
from seals.signing.sm2cms import SM2_CMS_PROFILE, pyhanko_sm2_signer, sm2_identity
from seals.signing.spec import (
    PadesLevel,
    SealingSpec,
    SignedPdf,
    SigningIdentity,
    ValidationMaterial,
    asn1_cert,
)

__all__ = ["async_sign_pdf", "sign_pdf"]

_FORMAT = "gbt38540"


def _check(spec: SealingSpec, identity: SigningIdentity, timestamper: Any) -> bytes:
    """The seal data to embed, after every check that needs no document."""
    if spec.level.needs_validation:
        raise UnsupportedFormatError(
            f"The {_FORMAT} format carries no CMS: levels above B-T do not apply.", format=_FORMAT
        )
    if spec.certify is not None:
        raise UnsupportedFormatError(
            f"The {_FORMAT} format cannot certify a document (no DocMDP without a CMS).",
            format=_FORMAT,
        )
    pades._check_inputs(spec, timestamper, None)
    sm2_identity(identity, _FORMAT)
    if identity.eseal is None:
        raise UnsupportedFormatError(
            f"The {_FORMAT} format needs the seal's GB/T 38540 seal data.", format=_FORMAT
        )
    return identity.eseal


def _check_seal(eseal: bytes, certificate: bytes, now: datetime) -> None:
    """Refuse seal data that does not list the signer or is not valid now."""
    try:
        seal = parse_seal(eseal)
    except SesFormatError as exc:
        raise SigningError(f"The seal data cannot be read: {exc.detail}") from exc
    listed = certificate in seal.certificates or any(
        value == cert_digest(certificate) for _kind, value in seal.cert_digests
    )
    if not listed:
        raise SignerNotValidError("The seal data does not list the signer's certificate.")
    if not seal.valid_start <= now <= seal.valid_end:
        raise SignerNotValidError(
            f"The seal data is valid from {seal.valid_start} to {seal.valid_end}, not now."
        )


async def _session(
    pdf_signer: Any,
    prepared: Any,
    images: Any,
    spec: SealingSpec,
    make_sealing: Any,
    timestamper: Any,
) -> bytes:
    """pyhanko's session up to the hashed revision, then the SES_Signature into /Contents."""
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

    session = pdf_signer.init_signing_session(prepared.writer)
    if spec.signing_time is not None:
        session.system_time = spec.signing_time
    sealing: SesSealing = make_sealing(session.system_time)
    _check_seal(sealing.seal_der, sealing.signer_certificate, session.system_time)
    reserved = reserve_for(sealing, time_stamp=timestamper is not None)
    tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=reserved)
    images.add_the_others()
    output = BytesIO()
    digest, _ = tbs.digest_tbs_document(output=output)
    der = await ses_for(digest, output, sealing, timestamper=timestamper)
    await PdfTBSDocument.async_finish_signing(output, digest, der)
    return output.getvalue()


async def async_sign_pdf(
    *,
    pdf: bytes,
    identity: SigningIdentity | Any,
    spec: SealingSpec,
    timestamper: Any | None = None,
    validation: ValidationMaterial | None = None,
) -> SignedPdf:
    """Seal ``pdf`` with a GB/T 38540 electronic seal; see `sign_pdf`."""
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    if not isinstance(identity, SigningIdentity):
        raise UnsupportedFormatError(
            f"The {_FORMAT} format signs through a SigningIdentity.", format=_FORMAT
        )
    eseal = _check(spec, identity, timestamper)
    prepared, images, pdf_signer = pades.prepare_signature(
        pdf,
        spec,
        signer=pyhanko_sm2_signer(identity),
        timestamper=None,  # the SES time-stamp is over the signature value, not a CMS
        validation=None,
        profile=SM2_CMS_PROFILE,
    )
    certificate = asn1_cert(identity.certificate).dump()

    def make_sealing(time: datetime) -> SesSealing:
        return SesSealing(
            seal_der=eseal, signer=identity.signer, signer_certificate=certificate, time=time
        )

    stamper = timestamper if spec.level.needs_timestamp else None
    try:
        data = await _session(pdf_signer, prepared, images, spec, make_sealing, stamper)
    except TimestampRequestError as exc:
        raise TimestampFailedError(f"Time-stamping failed: {exc}") from exc
    return prepared.signed(data, PadesLevel.B_T if stamper is not None else PadesLevel.B_B)


sign_pdf = blocking(async_sign_pdf)
"""Seal ``pdf`` with a GB/T 38540 SES_Signature as ``spec`` says (placement, appearance,
field name, B-B or B-T); the identity's certificate and key must be SM2 and it must carry
seal data that lists its certificate. Raises a `SigningError` subclass on bad input."""
