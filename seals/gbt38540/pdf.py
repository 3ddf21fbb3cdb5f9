"""Put a GB/T 38540 `SES_Signature` into a PDF's /Contents (an incremental update).

pyhanko prepares the signed revision (signature field, widgets and appearance, placeholder) and
computes SM3 over the ByteRange bytes; that digest is the SES `dataHash`, the signer signs
DER(TBS_Sign) with SM2, and the DER goes into the reserved /Contents in place of a CMS. No
standard names a PDF SubFilter for this form: the dictionary says /adbe.pkcs7.detached, as the
published Chinese implementations do (readers that only know CMS report it as unreadable; our
verifier recognises the SES by its structure). The property string records the ByteRange.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfSigner, PdfTBSDocument
from pyhanko.sign.timestamps import TimeStamper

from seals.gbt38540.seal import SealSigner
from seals.gbt38540.signature import attach_time_stamp, build_signature, signature_value

TIME_STAMP_RESERVE = 8192
"""Bytes kept for an RFC 3161 token over the signature value (a token with its TSA chain)."""


@dataclass(frozen=True)
class SesSealing:
    """Who seals with which seal, and when (the time signed into TBS_Sign)."""

    seal_der: bytes
    signer: SealSigner
    signer_certificate: bytes
    time: datetime


def reserve_for(sealing: SesSealing, *, time_stamp: bool) -> int:
    """Hex characters to reserve in /Contents for the SES_Signature DER."""
    estimate = len(sealing.seal_der) + len(sealing.signer_certificate) + 1024
    return 2 * (estimate + (TIME_STAMP_RESERVE if time_stamp else 0))


def property_info(byte_range: tuple[int, int, int, int]) -> str:
    """What TBS_Sign.propertyInfo says for a PDF: the bytes the dataHash covers."""
    return "PDF ByteRange [{} {} {} {}]".format(*byte_range)


async def ses_for(
    prepared: PreparedByteRangeDigest,
    output: IO[bytes],
    sealing: SesSealing,
    *,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """The SES_Signature DER for a revision pyhanko prepared (`prepared.document_digest` is SM3
    of the ByteRange bytes), time-stamped over its signature value when `timestamper` is given."""
    total = _size(output)
    byte_range = (
        0,
        prepared.reserved_region_start,
        prepared.reserved_region_end,
        total - prepared.reserved_region_end,
    )
    der = build_signature(
        seal_der=sealing.seal_der,
        data_hash=prepared.document_digest,
        time=sealing.time,
        property_info=property_info(byte_range),
        signer=sealing.signer,
        signer_certificate=sealing.signer_certificate,
    )
    if timestamper is not None:
        imprint = hashlib.sha256(signature_value(der)).digest()
        token = await timestamper.async_timestamp(imprint, "sha256")
        der = attach_time_stamp(der, token.dump())
    reserved = prepared.reserved_region_end - prepared.reserved_region_start - 2
    if 2 * len(der) > reserved:
        raise ValueError(f"the SES_Signature ({len(der)} bytes) exceeds the reserved space")
    return der


async def async_embed_ses(
    pdf_signer: PdfSigner,
    writer: IncrementalPdfFileWriter,
    sealing: SesSealing,
    *,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """The sealed PDF: the revision pyhanko prepared, with the SES_Signature in /Contents.

    `pdf_signer` must digest with SM3 (`md_algorithm="sm3"`); its pyhanko signer only serves the
    field set-up, the SM2 signature is made by `sealing.signer`.
    """
    if pdf_signer.signature_meta.md_algorithm != "sm3":
        raise ValueError("GB/T 38540 seals digest the ByteRange with SM3")
    reserved = reserve_for(sealing, time_stamp=timestamper is not None)
    prepared, _tbs, output = await pdf_signer.async_digest_doc_for_signing(
        writer, bytes_reserved=reserved
    )
    der = await ses_for(prepared, output, sealing, timestamper=timestamper)
    await PdfTBSDocument.async_finish_signing(output, prepared, der)
    output.seek(0)
    data = output.read()
    return bytes(data)


def _size(output: IO[bytes]) -> int:
    position = output.tell()
    output.seek(0, 2)
    size = output.tell()
    output.seek(position)
    return size
