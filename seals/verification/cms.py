"""A CMS with more than one SignerInfo: judge the one that signed the document (and, in
`detach_embedded_content`, a CMS that embeds exactly the bytes it signs).

ISO 32000 expects exactly one SignerInfo in a PDF signature, and pyhanko refuses anything else
("signer_infos should contain exactly one entry"), so such a signature was reported as
malformed although producers exist that add a second (e.g. a counter-signer or a copy). What a
relying party needs to know is whether the document bytes were signed, by whom: the verifier
picks the SignerInfo whose messageDigest matches the ByteRange digest and whose signature value
verifies with its certificate, and validates the signature as if that were the only one
(finding `several-signer-infos`, reported). When none matches, the first is judged, and the
digest check fails as it should.

The reduced CMS replaces /Contents only in this verification's own in-memory copy of the
signature dictionary, zero-padded to the original length (the coverage check measures it);
the ByteRange digest is computed from the file's bytes as always.
"""

from __future__ import annotations

import hashlib
import logging

from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.sign.validation.generic_cms import validate_sig_integrity

from seals.reports import Finding

logger = logging.getLogger(__name__)


def _byte_range_digest(pdf: bytes, byte_range: list[int], algorithm: str) -> bytes | None:
    if len(byte_range) != 4:
        return None
    a, b, c, d = byte_range
    try:
        h = hashlib.new(algorithm)
    except ValueError:
        return None
    h.update(pdf[a : a + b])
    h.update(pdf[c : c + d])
    return h.digest()


def _certificate_for(signed_data: cms.SignedData, signer_info: cms.SignerInfo) -> object | None:
    sid = signer_info["sid"]
    for choice in signed_data["certificates"] or []:
        if choice.name != "certificate":
            continue
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number":
            isn = sid.chosen
            if cert.issuer == isn["issuer"] and cert.serial_number == isn["serial_number"].native:
                return cert
        elif sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    return None


def _signed(pdf: bytes, byte_range: list[int], sd: cms.SignedData, si: cms.SignerInfo) -> bool:
    algorithm = si["digest_algorithm"]["algorithm"].native
    digest = _byte_range_digest(pdf, byte_range, algorithm)
    cert = _certificate_for(sd, si)
    if digest is None or cert is None:
        return False
    try:
        intact, valid = validate_sig_integrity(si, cert, "data", digest)
    except Exception as exc:
        logger.info("SignerInfo cannot be checked: %s", exc)
        return False
    return bool(intact and valid)


def keep_the_signer_info_that_signed(pdf: bytes, field: generic.PdfObject) -> Finding | None:
    """Reduce the field's CMS to one SignerInfo when it has several (see the module doc)."""
    try:
        sig = field.get_object()["/V"]
        contents = bytes(sig["/Contents"])
        byte_range = [int(v) for v in sig["/ByteRange"]]
        info = cms.ContentInfo.load(contents.rstrip(b"\x00") or contents)
        signed_data = info["content"]
        signer_infos = signed_data["signer_infos"]
        count = len(signer_infos)
    except Exception:
        return None  # unreadable: the normal path reports it
    if count <= 1:
        return None
    chosen = next(
        (i for i in range(count) if _signed(pdf, byte_range, signed_data, signer_infos[i])), 0
    )
    reduced = signed_data.copy()
    reduced["signer_infos"] = cms.SignerInfos([signer_infos[chosen]])
    new = cms.ContentInfo({"content_type": "signed_data", "content": reduced}).dump()
    # same length as the original, zero-padded as /Contents always is: pyhanko derives the
    # signature's coverage (is the ByteRange gap exactly /Contents?) from this length
    new = new.ljust(len(contents), b"\x00")
    sig[generic.NameObject("/Contents")] = generic.ByteStringObject(new)
    return Finding(
        code="several-signer-infos",
        zh=f"签名的 CMS 中有 {count} 个签署者信息（SignerInfo），"
        f"已验证签署了文档的第 {chosen + 1} 个。",
        en=f"The signature's CMS carries {count} SignerInfos; the one that signed the document "
        f"(number {chosen + 1}) was verified.",
    )


def detach_embedded_content(pdf: bytes, field: generic.PdfObject) -> Finding | None:
    """A CMS that also embeds the data it signs, read as the detached signature it must be.

    PAdES (ETSI EN 319 142-1 6.3) wants the CMS detached, and pyhanko refuses one with
    encapsulated content; some producers embed the signed bytes anyway (EU DSS's
    pades-enveloping-cms.pdf, validated as intact there). When the embedded content is
    byte for byte what the ByteRange covers, the embedded and the detached reading sign the
    same data, so the content is dropped from this verification's in-memory copy of
    /Contents (zero-padded to its length, as above) and the signature judged as usual
    (finding `embedded-content`). Any other embedded content is left for pyhanko to refuse."""
    try:
        sig = field.get_object()["/V"]
        contents = bytes(sig["/Contents"])
        a, b, c, d = (int(v) for v in sig["/ByteRange"])
        info = cms.ContentInfo.load(contents.rstrip(b"\x00") or contents)
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        if encap["content_type"].native != "data" or not encap["content"]:
            return None
        embedded = encap["content"].native
    except Exception:
        return None  # unreadable or nothing embedded: the normal path reports it
    if embedded != pdf[a : a + b] + pdf[c : c + d]:
        return None
    detached = signed_data.copy()
    detached["encap_content_info"] = {"content_type": "data"}
    new = cms.ContentInfo({"content_type": "signed_data", "content": detached}).dump()
    sig[generic.NameObject("/Contents")] = generic.ByteStringObject(new.ljust(len(contents), b"\0"))
    return Finding(
        code="embedded-content",
        zh="签名的 CMS 内嵌了所签署的文档字节（PAdES 要求分离式签名）；内嵌内容与签名范围一致，"
        "已按分离式签名验证。",
        en="The signature's CMS embeds the signed document bytes (PAdES wants a detached "
        "CMS); the embedded content equals the signed byte range and the signature was "
        "verified as detached.",
    )
