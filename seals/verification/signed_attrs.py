"""Signed attributes are checked over their DER encoding, as RFC 5652 says, not as given.

RFC 5652 5.3: "SignedAttributes MUST be DER encoded, even if the rest of the structure is BER
encoded"; 5.4: the message digest of the signed attributes is computed over "the DER encoding
of the SignedAttrs value" (with an EXPLICIT SET OF tag). A SET OF in DER lists its elements in
ascending order of their encodings (X.690 11.6). So the bytes a signature covers are the DER
encoding of the attributes, whatever order the CMS happens to list them in.

pyhanko verifies over the attributes' bytes as given (to tolerate signers that ignore DER), so
a signature computed over attributes in some other order passed; BouncyCastle, and with it EU
DSS, re-encodes them in DER and finds such a signature invalid (DSS's dss-818 vector
"Signature-P-IT_ADO-1 (HASH_FAILURE) (ECDSA).pdf": B-level not technically valid). We follow
the RFC and DSS: when a SignerInfo's attributes are not in DER order, this verification's own
in-memory copy of /Contents gets the same attributes in DER order (each attribute's bytes
kept, only their order changed), zero-padded to the original length like every rewrite in
`cms.py`; pyhanko then checks the signature over the DER encoding. A signature made over the
DER encoding (the RFC's) passes - the order in the file is only an encoding slip, reported as
finding `signed-attrs-not-der`; one made over the listed order fails as SIG_CRYPTO_FAILURE,
as in DSS. The digest of the document (ByteRange) is untouched by this: HASH_FAILURE stays
reserved for it.

Only the order of the attributes is normalised; an attribute whose own encoding is not DER is
left as it is (pyhanko's tolerance), as is a CMS that has no room for the rewrite.
"""

from __future__ import annotations

import logging

from asn1crypto import cms, core
from pyhanko.pdf_utils import generic

from seals.reports import Finding

logger = logging.getLogger(__name__)


def der_order(attrs: cms.CMSAttributes) -> list[bytes] | None:
    """The attributes' encodings in DER (X.690 11.6) order, or None when already in it."""
    given = [attr.dump() for attr in attrs]
    ordered = sorted(given)  # bytewise; a prefix sorts first, as zero-padding would
    return None if ordered == given else ordered


def _sorted_attrs(encodings: list[bytes]) -> cms.CMSAttributes:
    body = b"".join(encodings)
    return cms.CMSAttributes.load(b"\x31" + _der_length(len(body)) + body)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def signed_attrs_in_der_order(field: generic.PdfObject) -> Finding | None:
    """Put every SignerInfo's signed attributes in DER order in the field's in-memory CMS
    (see the module doc); a finding when any were not."""
    try:
        sig = field.get_object()["/V"]
        contents = bytes(sig["/Contents"])
        info = cms.ContentInfo.load(contents.rstrip(b"\x00") or contents)
        signed_data = info["content"]
        signer_infos = list(signed_data["signer_infos"])
        orders = [
            None if isinstance(si["signed_attrs"], core.Void) else der_order(si["signed_attrs"])
            for si in signer_infos
        ]
    except Exception:
        return None  # unreadable: the normal path reports it
    if all(order is None for order in orders):
        return None
    rewritten = []
    for si, order in zip(signer_infos, orders, strict=True):
        if order is not None:
            si = si.copy()
            si["signed_attrs"] = _sorted_attrs(order)
        rewritten.append(si)
    reduced = signed_data.copy()
    reduced["signer_infos"] = cms.SignerInfos(rewritten)
    new = cms.ContentInfo({"content_type": "signed_data", "content": reduced}).dump()
    if len(new) > len(contents):
        logger.info("no room to put the signed attributes in DER order; judged as given")
        return None
    sig[generic.NameObject("/Contents")] = generic.ByteStringObject(new.ljust(len(contents), b"\0"))
    return Finding(
        code="signed-attrs-not-der",
        zh="签名的已签署属性（signedAttrs）未按 DER 顺序编码；按 RFC 5652 的规定，"
        "已对其 DER 编码验证签名。",
        en="The signature's signed attributes are not in DER order; as RFC 5652 requires, the "
        "signature was checked over their DER encoding.",
    )
