"""/SubFilter /adbe.pkcs7.sha1 signatures (EU DSS pkcs7_sha1.pdf): the CMS encapsulates the
SHA-1 digest of the signed bytes. Verified (CMS over its content, content = SHA-1 of the byte
range), reported INDETERMINATE / CRYPTO_CONSTRAINTS_FAILURE_NO_POE because SHA-1 is past its
sunset (EU DSS's default policy), with integrity true; any tampering still fails."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from io import BytesIO
from types import SimpleNamespace
from typing import Any

from asn1crypto import algos, cms
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.cms_embedder import PdfCMSEmbedder, SigIOSetup, SigObjSetup
from pyhanko.sign.signers.pdf_byterange import SignatureObject

from seals.reports import Indication, SubIndication
from seals.verification.findings import Acc
from seals.verification.weak_digests import weak_digest_check
from tests.support.pki import Entity
from tests.verification.conftest import (
    Pki,
    Verify,
    contents_span,
    incremental,
    make_pdf,
    pyhanko_signer,
    replace_same_length,
)


def _cms_without_signed_attrs(
    pki: Pki, who: Entity, content: bytes, digest_oid: str = "sha1"
) -> cms.ContentInfo:
    """What old Acrobat writes: no signed attributes, the signature straight over the
    encapsulated digest (assembled with asn1crypto + cryptography)."""
    signature = who.key.sign(content, ec.ECDSA(hashes.SHA1()))
    sha1 = algos.DigestAlgorithm({"algorithm": digest_oid})
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": who.asn1.issuer, "serial_number": who.asn1.serial_number}
                    )
                }
            ),
            "digest_algorithm": sha1,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha1_ecdsa"}),
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [sha1],
            "encap_content_info": {"content_type": "data", "content": content},
            "certificates": [who.asn1, pki.issuing.asn1, pki.root.asn1],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})


def sign_pkcs7_sha1(
    pki: Pki,
    pdf: bytes,
    *,
    signed_attrs: bool,
    content: bytes | None = None,
    digest_oid: str = "sha1",
) -> bytes:
    """Sign `pdf` into a new field "Seal1" with /SubFilter /adbe.pkcs7.sha1 through pyhanko's
    low-level CMS embedder; the CMS encapsulates SHA-1 of the byte range (or `content`)."""
    w = IncrementalPdfFileWriter(BytesIO(pdf))
    spec = fields.SigFieldSpec(sig_field_name="Seal1", on_page=0, box=(400, 60, 520, 180))
    cms_writer = PdfCMSEmbedder(new_field_spec=spec).write_cms(field_name="Seal1", writer=w)
    next(cms_writer)
    sig_obj = SignatureObject(bytes_reserved=8192)
    sig_obj[pdf_name("/SubFilter")] = pdf_name("/adbe.pkcs7.sha1")
    cms_writer.send(SigObjSetup(sig_placeholder=sig_obj))
    prepared, output = cms_writer.send(SigIOSetup(md_algorithm="sha1"))
    digest = prepared.document_digest if content is None else content
    if signed_attrs:
        signer = pyhanko_signer(pki, pki.enterprise)
        ci = asyncio.run(signer.async_sign_general_data(digest, "sha1", detached=False))
    else:
        ci = _cms_without_signed_attrs(pki, pki.enterprise, digest, digest_oid)
    cms_writer.send(ci)
    return output.getvalue()


def _seal1(report: Any) -> Any:
    return next(s for s in report.signatures if s.field_name == "Seal1")


def test_pkcs7_sha1_signature_is_verified_and_sha1_is_judged_weak(pki: Pki, verify: Verify) -> None:
    for signed_attrs in (False, True):
        report = verify(sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=signed_attrs))
        seal = _seal1(report)
        assert seal.integrity is True, report.to_json()
        assert seal.indication is Indication.INDETERMINATE, report.to_json()
        assert seal.sub_indication is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE
        assert seal.findings[0].code == "weak-digest"
        assert seal.signer is not None and seal.trust_anchor_is_ours
        assert seal.modifications_after.value == "none"


def test_pkcs7_sha1_over_changed_bytes_is_a_hash_failure(pki: Pki, verify: Verify) -> None:
    signed = sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=False)
    at = signed.index(b"Contract amount")
    report = verify(replace_same_length(signed, at, at + 1, b"K"))
    seal = _seal1(report)
    assert (seal.indication, seal.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.HASH_FAILURE,
    ), report.to_json()
    assert seal.integrity is False


def test_pkcs7_sha1_encapsulating_another_digest_is_a_hash_failure(
    pki: Pki, verify: Verify
) -> None:
    """A valid CMS over the digest of other bytes: the signature value verifies, the document
    digest does not match."""
    other = hashlib.sha1(b"another document").digest()
    for signed_attrs in (False, True):
        report = verify(sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=signed_attrs, content=other))
        seal = _seal1(report)
        assert (seal.indication, seal.sub_indication, seal.integrity) == (
            Indication.TOTAL_FAILED,
            SubIndication.HASH_FAILURE,
            False,
        ), report.to_json()


def test_pkcs7_sha1_with_a_broken_signature_value_fails(pki: Pki, verify: Verify) -> None:
    signed = sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=False)
    start, end = contents_span(signed)
    cms_hex = signed[start:end].rstrip(b"0")
    ci = cms.ContentInfo.load(bytes.fromhex(cms_hex.decode() + "0" * (len(cms_hex) % 2)))
    value = bytearray(ci["content"]["signer_infos"][0]["signature"].native)
    value[-5] ^= 0x01
    ci["content"]["signer_infos"][0]["signature"] = bytes(value)
    new_hex = ci.dump(force=True).hex().encode()
    report = verify(replace_same_length(signed, start, end, new_hex.ljust(end - start, b"0")))
    seal = _seal1(report)
    assert (seal.indication, seal.sub_indication) == (
        Indication.TOTAL_FAILED,
        SubIndication.SIG_CRYPTO_FAILURE,  # the digest matched; the signature value does not
    ), report.to_json()
    assert seal.integrity is False


def test_pkcs7_sha1_then_page_content_changed_fails(pki: Pki, verify: Verify) -> None:
    from pyhanko.pdf_utils import generic

    def change(w: IncrementalPdfFileWriter) -> None:
        page = w.root["/Pages"]["/Kids"][0].get_object()
        page[pdf_name("/Contents")] = w.add_object(
            generic.StreamObject(stream_data=b"BT /F1 18 Tf 72 720 Td (Pay 999999 CNY) Tj ET")
        )
        w.update_container(page)

    report = verify(incremental(sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=False), change))
    assert _seal1(report).indication is Indication.TOTAL_FAILED, report.to_json()


def test_detached_signature_with_sha1_digest_is_judged_weak(pki: Pki, verify: Verify) -> None:
    """The same cryptographic constraint for a detached CMS whose digest is SHA-1 (EU DSS
    reports both signatures of pkcs7_sha1.pdf this way)."""
    w = IncrementalPdfFileWriter(BytesIO(make_pdf()))
    fields.append_signature_field(
        w, fields.SigFieldSpec(sig_field_name="Seal1", on_page=0, box=(400, 60, 520, 180))
    )
    meta = signers.PdfSignatureMetadata(
        field_name="Seal1", subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED, md_algorithm="sha1"
    )
    out = signers.sign_pdf(w, meta, signer=pyhanko_signer(pki, pki.enterprise)).getvalue()
    seal = _seal1(verify(out))
    assert (seal.indication, seal.sub_indication, seal.integrity) == (
        Indication.INDETERMINATE,
        SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
        True,
    )


def test_sha1_proven_to_exist_before_its_sunset_is_accepted() -> None:
    """EN 319 102-1 past signature validation: a proof of existence before SHA-1's sunset
    (2012-08-01 in DSS's policy) lifts the constraint; one after it does not."""
    emb: Any = SimpleNamespace(
        signer_info={
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha1"}),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha1_rsa"}),
        }
    )
    now = datetime.now(UTC)
    before, after = Acc(), Acc()
    weak_digest_check(before, emb, subfilter="", poe=datetime(2011, 1, 1, tzinfo=UTC), now=now)
    weak_digest_check(after, emb, subfilter="", poe=datetime(2013, 1, 1, tzinfo=UTC), now=now)
    assert before.indication is None and not before.findings
    assert after.sub is SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE


def test_pkcs7_sha1_whose_cms_encapsulates_nothing_is_undetermined(
    pki: Pki, verify: Verify
) -> None:
    """Nothing to compare the document digest with: integrity unknown, never false."""
    signed = sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=False)
    start, end = contents_span(signed)
    cms_hex = signed[start:end].rstrip(b"0")
    ci = cms.ContentInfo.load(bytes.fromhex(cms_hex.decode() + "0" * (len(cms_hex) % 2)))
    ci["content"]["encap_content_info"] = {"content_type": "data"}
    new_hex = ci.dump(force=True).hex().encode()
    report = verify(replace_same_length(signed, start, end, new_hex.ljust(end - start, b"0")))
    seal = _seal1(report)
    assert (seal.indication, seal.integrity) == (Indication.INDETERMINATE, None), report.to_json()


def test_pkcs7_sha1_naming_a_signature_algorithm_as_digest_is_undetermined(
    pki: Pki, verify: Verify
) -> None:
    """sha1WithRSAEncryption where the digest algorithm belongs (EU DSS wrong-digest-algo.pdf):
    no digest can be computed, so the signature is INDETERMINATE with integrity unknown."""
    pdf = sign_pkcs7_sha1(pki, make_pdf(), signed_attrs=False, digest_oid="1.2.840.113549.1.1.5")
    seal = _seal1(verify(pdf))
    assert (seal.indication, seal.integrity) == (Indication.INDETERMINATE, None)
    assert "unsupported digest algorithm" in seal.findings[0].en
