"""The PAdES CMS of one signer, assembled from DER that pyhanko produced once (issue 12).

For every seal pyhanko builds the SignedData as asn1crypto objects and encodes them again: the
certificate set, the signer identifier, the ESS signing-certificate-v2 attribute (a hash of
the certificate), the algorithm identifiers: 17–25% of a seal's CPU. For one signer and digest
algorithm all of that is constant; a PAdES signature's signed attributes differ only in the
message digest (no signing-time attribute in PAdES), and the SignerInfo only in the signed
attributes, the signature value and the unsigned attributes (the signature time-stamp).

`CmsTemplate.build` asks pyhanko's own `Signer` for the signed attributes (twice, with two
marker digests) and the packaged ContentInfo, cuts that DER into its constant pieces, and
proves that re-assembling the pieces gives pyhanko's bytes back for two different signed
attribute sets, with and without unsigned attributes. Anything unexpected (another attribute
that changes, a layout it does not know) and there is no template: the signer keeps using
pyhanko's assembly. So the output is byte for byte what pyhanko writes for the same inputs
(`tests/seals_signing/test_cms_template.py` compares whole signed documents).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, core, parser

_SET, _SEQUENCE, _OCTET_STRING = 0x31, 0x30, 0x04
_SIGNED_ATTRS, _UNSIGNED_ATTRS = 0xA0, 0xA1  # [0] / [1] IMPLICIT SET OF in a SignerInfo


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(raw),)) + raw


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag, definite length, content."""
    return bytes((tag,)) + _length(len(content)) + content


def _children(der: bytes) -> list[bytes]:
    """The encoded elements inside the constructed DER element `der` (definite lengths)."""
    _, _, _, _, contents, trailer = parser.parse(der, strict=True)
    if trailer:
        raise ValueError("indefinite length")
    out, at = [], 0
    while at < len(contents):
        _, _, _, head, body, tail = parser.parse(contents[at:])
        size = len(head) + len(body) + len(tail)
        out.append(contents[at : at + size])
        at += size
    return out


def _retag(der: bytes, tag: int) -> bytes:
    return bytes((tag,)) + der[1:]


@dataclass(frozen=True, slots=True)
class CmsTemplate:
    """The constant DER of one signer's PAdES CMS for one digest algorithm."""

    attrs_head: bytes
    """The signed attributes (a SET) up to the message digest's value ..."""
    attrs_tail: bytes
    """... and after it."""
    digest_size: int
    content_info_head: bytes
    """ContentInfo's contentType (id-signedData)."""
    signed_data_head: bytes
    """SignedData's version, digestAlgorithms, encapContentInfo and certificates."""
    signer_info_head: bytes
    """SignerInfo's version, sid and digestAlgorithm."""
    signature_algorithm: bytes

    def signed_attrs(self, message_digest: bytes) -> bytes:
        """The DER SET of signed attributes for a document digest."""
        if len(message_digest) != self.digest_size:
            raise ValueError("message digest of the wrong length")
        return self.attrs_head + message_digest + self.attrs_tail

    def content_info(
        self, signed_attrs: bytes, signature: bytes, unsigned_attrs: bytes | None
    ) -> bytes:
        """The whole ContentInfo (DER) around the signed attributes (a DER SET), the signature
        value and the unsigned attributes (a DER SET, or None)."""
        signer_info = tlv(
            _SEQUENCE,
            self.signer_info_head
            + _retag(signed_attrs, _SIGNED_ATTRS)
            + self.signature_algorithm
            + tlv(_OCTET_STRING, signature)
            + (b"" if unsigned_attrs is None else _retag(unsigned_attrs, _UNSIGNED_ATTRS)),
        )
        signed_data = tlv(_SEQUENCE, self.signed_data_head + tlv(_SET, signer_info))
        return tlv(_SEQUENCE, self.content_info_head + tlv(0xA0, signed_data))

    @classmethod
    async def build(
        cls, signer: Any, digest_algorithm: str, attr_settings: Any
    ) -> CmsTemplate | None:
        """The template for pyhanko `Signer` `signer` (pyhanko's own methods, not overrides),
        or None when its CMS does not have the layout this module assembles."""
        from pyhanko.sign.signers.pdf_cms import Signer

        size = hashlib.new(digest_algorithm).digest_size
        markers = (b"\xa5" * size, b"\x5a" * size)
        made = [
            await Signer.signed_attrs(
                signer, marker, digest_algorithm, attr_settings=attr_settings, use_pades=True
            )
            for marker in markers
        ]
        ders = [attrs.dump() for attrs in made]
        if ders[0].count(markers[0]) != 1:
            return None
        head, _, tail = ders[0].partition(markers[0])
        if head + markers[1] + tail != ders[1]:
            return None  # something besides the digest differs between two seals

        def packaged(attrs: Any, signature: bytes, unsigned: Any) -> bytes:
            return bytes(
                Signer._package_signature(
                    signer,
                    digest_algorithm=digest_algorithm,
                    cms_version="v1",
                    signed_attrs=attrs,
                    signature=signature,
                    unsigned_attrs=unsigned,
                    encap_content_info=None,
                ).dump()
            )

        reference = packaged(made[0], b"\x30" * 71, None)
        try:
            outer = _children(reference)
            signed_data = _children(_children(outer[1])[0])
            signer_infos = _children(signed_data[-1])
            fields = _children(signer_infos[0])
        except ValueError:
            return None
        if len(outer) != 2 or len(signer_infos) != 1 or len(fields) != 6:
            return None
        template = cls(
            attrs_head=head,
            attrs_tail=tail,
            digest_size=size,
            content_info_head=outer[0],
            signed_data_head=b"".join(signed_data[:-1]),
            signer_info_head=b"".join(fields[:3]),
            signature_algorithm=fields[4],
        )
        unsigned = cms.CMSAttributes(
            [
                cms.CMSAttribute(
                    {
                        "type": "signature_time_stamp_token",
                        "values": [cms.ContentInfo({"content_type": "data", "content": b"t"})],
                    }
                )
            ]
        )
        checks = (
            (made[0], b"\x30" * 71, None, reference),
            (made[1], b"\x02" * 300, unsigned, packaged(made[1], b"\x02" * 300, unsigned)),
        )
        for attrs, signature, extra, expected in checks:
            assembled = template.content_info(
                attrs.dump(), signature, None if extra is None else extra.dump()
            )
            if assembled != expected:
                return None
        return template


def loaded(der: bytes) -> Any:
    """The asn1crypto ContentInfo over `der`: parsed lazily, and `dump()` gives `der` back
    without encoding anything again."""
    info = cms.ContentInfo.load(der)
    assert isinstance(info, core.Sequence)
    return info
