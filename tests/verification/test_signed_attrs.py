"""Signed attributes listed out of DER order: the signature is judged over their DER encoding
(RFC 5652 5.4), as BouncyCastle and EU DSS do (dss-818 Signature-P-IT_ADO-1).

The test documents are made here: a seal signed by pyhanko (whose attributes asn1crypto writes
in DER order), then its CMS rewritten with asn1crypto so that the same attributes are listed in
another order, and signed again with `cryptography` - once over the bytes as listed (what a
non-conforming signer does; DSS: not technically valid), once over their DER encoding (what the
RFC asks; only the listing is off)."""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from seals.reports import Indication, SubIndication
from seals.verification.signed_attrs import der_order
from tests.verification.conftest import Pki, Verify, contents_span, make_pdf, sign

_T = datetime(2026, 1, 1, tzinfo=UTC)


def _set_of(encodings: list[bytes]) -> bytes:
    """A SET OF holding `encodings` in exactly this order (asn1crypto would sort them)."""
    body = b"".join(encodings)
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    assert len(body) >= 0x80  # long form: 0x80 | number of length octets, then the octets
    return b"\x31" + bytes([0x80 | len(size)]) + size + body


def _out_of_order(pki: Pki, *, signed_over: str) -> bytes:
    """A seal whose signed attributes are listed in reverse DER order, its signature computed
    over the listed bytes (`signed_over="listed"`) or over their DER encoding ("der")."""
    pdf = sign(pki, make_pdf(), timestamp=False)
    start, end = contents_span(pdf)
    raw = bytes.fromhex(pdf[start:end].decode())
    info = cms.ContentInfo.load(raw)  # trailing zero padding is ignored; rstrip could cut the CMS
    signed_data = info["content"]
    si = signed_data["signer_infos"][0]
    der = sorted(attr.dump() for attr in si["signed_attrs"])
    assert len(der) >= 3
    listed = list(reversed(der))
    signed_bytes = _set_of(listed if signed_over == "listed" else der)
    si = si.copy()
    si["signed_attrs"] = cms.CMSAttributes.load(_set_of(listed))
    si["signature"] = pki.enterprise.key.sign(signed_bytes, ec.ECDSA(hashes.SHA256()))
    rewritten = signed_data.copy()
    rewritten["signer_infos"] = cms.SignerInfos([si])
    new = cms.ContentInfo({"content_type": "signed_data", "content": rewritten}).dump()
    # the attributes really are listed out of order in the file
    assert der_order(cms.ContentInfo.load(new)["content"]["signer_infos"][0]["signed_attrs"])
    hex_cms = new.hex().encode()
    assert len(hex_cms) <= end - start
    return pdf[:start] + hex_cms.ljust(end - start, b"0") + pdf[end:]


def test_a_signature_over_attributes_not_in_der_order_fails(pki: Pki, verify: Verify) -> None:
    report = verify(_out_of_order(pki, signed_over="listed"))
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_FAILED, report.to_json()
    assert sig.sub_indication is SubIndication.SIG_CRYPTO_FAILURE  # not HASH_FAILURE
    assert sig.integrity is False
    assert "signed-attrs-not-der" in {f.code for f in sig.findings}


def test_a_signature_over_their_der_encoding_passes(pki: Pki, verify: Verify) -> None:
    report = verify(_out_of_order(pki, signed_over="der"))
    sig = report.signatures[0]
    assert sig.integrity is True, report.to_json()
    assert sig.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "signed-attrs-not-der" in {f.code for f in sig.findings}


def test_attributes_in_der_order_are_not_reported(pki: Pki, verify: Verify) -> None:
    report = verify(sign(pki, make_pdf(), timestamp=False))
    sig = report.signatures[0]
    assert sig.indication is Indication.TOTAL_PASSED, report.to_json()
    assert "signed-attrs-not-der" not in {f.code for f in sig.findings}


def test_asn1crypto_writes_attributes_in_der_order() -> None:
    """Our own seals are signed by pyhanko over asn1crypto's encoding, which sorts a SET OF:
    the normalisation never touches them."""
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute(
                {"type": "signing_time", "values": [cms.Time(name="utc_time", value=_T)]}
            ),
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [b"\1" * 32]}),
        ]
    )
    assert [a["type"].native for a in attrs] == ["signing_time", "content_type", "message_digest"]
    assert der_order(cms.CMSAttributes.load(attrs.dump())) is None
