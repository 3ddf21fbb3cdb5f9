"""A granted TimeStampResp assembled from DER pieces (RFC 3161 §2.4.2, RFC 5652 §5).

Building the token through asn1crypto's object model cost about five times the signature
itself (issue 12's profile: `Asn1Value.dump`, `Sequence._set_contents`), while all but four
values -- serial, genTime, the client's imprint and nonce -- are the same for every token of
one TSA. So the constant parts are encoded once per TSA (`TokenTemplate`, from asn1crypto),
and each token is a few concatenations, one hash and one signature. The output is byte for
byte what the asn1crypto builder produced (tests/pki_protocols/test_tsa_der.py compares
them) and `openssl ts -verify` accepts it (tests/interop).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, cms, core, tsp

__all__ = ["TokenTemplate", "tlv"]


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: tag octet, definite length, contents."""
    return bytes((tag,)) + _length(len(content)) + content


def _integer(value: int) -> bytes:
    """INTEGER, minimal two's complement (what asn1crypto writes)."""
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def _generalized_time(value: datetime) -> bytes:
    value = value.astimezone(UTC)
    fraction = "." + str(value.microsecond).zfill(6).rstrip("0") if value.microsecond else ""
    return tlv(0x18, (value.strftime("%Y%m%d%H%M%S") + fraction + "Z").encode("ascii"))


def _utc_time(value: datetime) -> bytes:
    return tlv(0x17, value.astimezone(UTC).strftime("%y%m%d%H%M%SZ").encode("ascii"))


def _oid(dotted: str) -> bytes:
    return core.ObjectIdentifier(dotted).dump()


def _attribute(oid: bytes, value: bytes) -> bytes:
    return tlv(0x30, oid + tlv(0x31, value))


_SEQUENCE, _SET, _OCTETS = 0x30, 0x31, 0x04
_CONTEXT_0, _CONTEXT_0_IMPLICIT = 0xA0, 0xA0
_OID_SIGNED_DATA = _oid("1.2.840.113549.1.7.2")
_OID_TST_INFO = _oid("1.2.840.113549.1.9.16.1.4")
_OID_MESSAGE_DIGEST = _oid("1.2.840.113549.1.9.4")
_OID_SIGNING_TIME = _oid("1.2.840.113549.1.9.5")
_GRANTED = tlv(_SEQUENCE, _integer(0))


@dataclass(frozen=True, slots=True)
class TokenTemplate:
    """Everything of a token that does not change between tokens of one TSA."""

    accuracy: bytes  # Accuracy SEQUENCE, or b"" for none
    tsa_name: bytes  # [0] EXPLICIT GeneralName, or b""
    sid: bytes
    digest_algorithm: bytes  # DigestAlgorithmIdentifier
    signature_algorithm: bytes  # SignatureAlgorithmIdentifier
    content_type_attribute: bytes
    signing_certificate_attribute: bytes
    certificates: bytes  # [0] IMPLICIT CertificateSet
    digest: Callable[[bytes], bytes]
    sign: Callable[[bytes], bytes]
    policies: dict[str, bytes]  # dotted policy OID -> its DER

    @classmethod
    def of(
        cls,
        *,
        accuracy: tsp.Accuracy | None,
        tsa_name: bytes | None,
        sid: bytes,
        digest_name: str,
        signature_algorithm: str,
        signing_certificate_attribute: bytes,
        certificates: Sequence[bytes],
        policies: Sequence[str],
        digest: Callable[[bytes], bytes],
        sign: Callable[[bytes], bytes],
    ) -> TokenTemplate:
        return cls(
            accuracy=accuracy.dump() if accuracy is not None else b"",
            tsa_name=tlv(_CONTEXT_0, tsa_name) if tsa_name is not None else b"",
            sid=sid,
            digest_algorithm=algos.DigestAlgorithm({"algorithm": digest_name}).dump(),
            signature_algorithm=algos.SignedDigestAlgorithm(
                {"algorithm": signature_algorithm}
            ).dump(),
            content_type_attribute=cms.CMSAttribute(
                {"type": "content_type", "values": ["tst_info"]}
            ).dump(),
            signing_certificate_attribute=signing_certificate_attribute,
            certificates=tlv(_CONTEXT_0_IMPLICIT, b"".join(certificates)),
            digest=digest,
            sign=sign,
            policies={p: _oid(p) for p in policies},
        )

    def response(
        self,
        *,
        policy: str,
        message_imprint: bytes,
        serial: int,
        gen_time: datetime,
        signing_time: datetime,
        nonce: int | None,
        with_certificates: bool,
    ) -> bytes:
        """A granted TimeStampResp DER; `message_imprint` is the request's own DER."""
        tst_info = tlv(
            _SEQUENCE,
            _integer(1)
            + (self.policies.get(policy) or _oid(policy))
            + message_imprint
            + _integer(serial)
            + _generalized_time(gen_time)
            + self.accuracy
            + (_integer(nonce) if nonce is not None else b"")
            + self.tsa_name,
        )
        attributes = sorted(
            (
                self.content_type_attribute,
                _attribute(_OID_SIGNING_TIME, _utc_time(signing_time.replace(microsecond=0))),
                _attribute(_OID_MESSAGE_DIGEST, tlv(_OCTETS, self.digest(tst_info))),
                self.signing_certificate_attribute,
            )
        )
        attributes_content = b"".join(attributes)
        signature = self.sign(tlv(_SET, attributes_content))
        signer_info = tlv(
            _SEQUENCE,
            _integer(1)
            + self.sid
            + self.digest_algorithm
            + tlv(_CONTEXT_0_IMPLICIT, attributes_content)
            + self.signature_algorithm
            + tlv(_OCTETS, signature),
        )
        signed_data = tlv(
            _SEQUENCE,
            _integer(3)
            + tlv(_SET, self.digest_algorithm)
            + tlv(_SEQUENCE, _OID_TST_INFO + tlv(_CONTEXT_0, tlv(_OCTETS, tst_info)))
            + (self.certificates if with_certificates else b"")
            + tlv(_SET, signer_info),
        )
        content_info = tlv(_SEQUENCE, _OID_SIGNED_DATA + tlv(_CONTEXT_0, signed_data))
        return tlv(_SEQUENCE, _GRANTED + content_info)


def accuracy_of(value: timedelta) -> tsp.Accuracy | None:
    """The Accuracy structure for a timedelta (None when zero)."""
    micros_total = value // timedelta(microseconds=1)
    seconds, rest = divmod(micros_total, 1_000_000)
    millis, micros = divmod(rest, 1000)
    parts = {"seconds": seconds, "millis": millis, "micros": micros}
    present = {k: v for k, v in parts.items() if v}
    return tsp.Accuracy(present) if present else None
