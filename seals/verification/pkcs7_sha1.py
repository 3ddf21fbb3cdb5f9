"""Signatures with /SubFilter /adbe.pkcs7.sha1 (ISO 32000-1 12.8.3.3.1), which pyhanko refuses.

In this sub-filter the CMS is not detached: it encapsulates (eContent, type `data`) the SHA-1
digest of the bytes the ByteRange covers, and the SignerInfo signs that content - directly
when there are no signed attributes, through the messageDigest attribute when there are.
Old Acrobat versions and other producers wrote it; EU DSS validates it (its
pkcs7_sha1.pdf is intact there). The verification here is pyhanko's own signature
validation with the one step it cannot do swapped:

* the CMS signature is checked over its encapsulated content (pyhanko's
  `cms_basic_validation` without an external digest does exactly that);
* the encapsulated content must equal SHA-1 of the signed byte range - the document digest.

`intact` is true only when both the document digest matched the content and (with signed
attributes) the messageDigest matched the content; a CMS that encapsulates nothing cannot be
checked at all: the signature is INDETERMINATE with that reason and its integrity unknown,
never a digest mismatch. Coverage, difference analysis and the signature time-stamp are
pyhanko's, as for any signature. That SHA-1 is no longer an acceptable digest is judged
separately, by `seals.verification.weak_digests`, as EU DSS does (the digest matches; the
algorithm does not meet the cryptographic constraints).
"""

from __future__ import annotations

from typing import Any

from asn1crypto import cms
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import DiffPolicy
from pyhanko.sign.validation import EmbeddedPdfSignature, KeyUsageConstraints, generic_cms
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

SUBFILTER = "/adbe.pkcs7.sha1"


def encapsulated_content(signed_data: cms.SignedData) -> bytes | None:
    """The CMS's encapsulated content (type `data`), None when there is none."""
    eci = signed_data["encap_content_info"]
    if eci["content_type"].native != "data" or not eci["content"]:
        return None
    content = eci["content"].native
    return content if isinstance(content, bytes) else None


def signed_bytes_sha1(emb: EmbeddedPdfSignature) -> bytes:
    """SHA-1 of the bytes the signature's ByteRange covers."""
    return emb.compute_digest("sha1")


async def validate_pkcs7_sha1(
    emb: EmbeddedPdfSignature,
    *,
    signer_validation_context: Any,
    ts_validation_context: Any,
    diff_policy: DiffPolicy,
    key_usage_settings: KeyUsageConstraints,
) -> PdfSignatureStatus:
    """pyhanko's `async_validate_pdf_signature` for this sub-filter (see the module doc)."""
    algorithm = emb.md_algorithm
    try:
        get_pyca_cryptography_hash(algorithm)
    except (AttributeError, ValueError, KeyError):
        raise SignatureValidationError(
            f"the CMS names an unsupported digest algorithm ({algorithm})",
            ades_subindication=AdESIndeterminate.GENERIC,
        ) from None
    content = encapsulated_content(emb.signed_data)
    if content is None:
        raise SignatureValidationError(
            f"{SUBFILTER} signature whose CMS encapsulates no digest",
            ades_subindication=AdESFailure.FORMAT_FAILURE,
        )
    emb.compute_integrity_info(diff_policy=diff_policy)
    status_kwargs = emb.summarise_integrity_info()
    status_kwargs.update(
        await generic_cms.collect_timing_info(
            emb.signer_info, ts_validation_context, raw_digest=emb.compute_digest
        )
    )
    if "signer_reported_dt" not in status_kwargs and emb.self_reported_timestamp is not None:
        status_kwargs["signer_reported_dt"] = emb.self_reported_timestamp
    status_kwargs = await generic_cms.cms_basic_validation(
        emb.signed_data,
        raw_digest=None,  # verify the SignerInfo over the encapsulated content
        validation_context=signer_validation_context,
        status_kwargs=status_kwargs,
        key_usage_settings=PdfSignatureStatus.default_usage_constraints(key_usage_settings),
    )
    digest_matches = content == signed_bytes_sha1(emb)
    has_signed_attrs = bool(emb.signer_info["signed_attrs"])
    # without signed attributes pyhanko reports intact = valid (there is no messageDigest to
    # compare); here "intact" is the document digest, so a bad signature value over a
    # matching digest is SIG_CRYPTO_FAILURE, not HASH_FAILURE
    content_intact = status_kwargs["intact"] if has_signed_attrs else True
    status_kwargs["intact"] = digest_matches and content_intact
    return PdfSignatureStatus(**status_kwargs)
