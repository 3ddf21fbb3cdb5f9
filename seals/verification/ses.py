"""GB/T 38540 electronic seals in a PDF: a `SES_Signature` in /Contents instead of a CMS.

The signature is opened without a CMS (`SesEmbeddedSignature` carries what pyhanko's coverage,
digest and difference analysis read), so the ByteRange coverage and the modification analysis
are the PAdES ones. Then the checks of `seals.gbt38540` (dataHash = SM3 of the ByteRange bytes,
the signer's SM2 signature over TBS_Sign, the seal maker's over SES_SealInfo, the signer in the
seal's certificate list, the seal and certificate validity at the signing time) and the trust of
both certificates (path to an SM2 anchor, revocation) through the verifier's own trust code.
A check that could not be made leaves the signature INDETERMINATE, never passed.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import EmbeddedPdfSignature
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.pdf_embedded import extract_contents
from pyhanko.sign.validation.status import TimestampSignatureStatus

from seals.gbt38540 import ParsedSignature, SesChecks, parse_signature, verify_signature
from seals.gbt38540 import checks as names
from seals.indications import FindingClass
from seals.reports import (
    Finding,
    Indication,
    SealInfo,
    SignatureKind,
    SignatureReport,
    SubIndication,
)
from seals.verification.findings import Acc, fmt, hidden_finding, msg, processing_failed, short
from seals.verification.modifications import modifications
from seals.verification.rules import DIFF_POLICY
from seals.verification.ses_maker import maker_revocation
from seals.verification.signature import (
    coverage_check,
    coverage_of,
    indication_of,
    judge_signature_timestamp,
    proof_of_existence,
)
from seals.verification.signer import signer_info, to_crypto
from seals.verification.state import SigCandidate, VerifierState
from seals.verification.trust import CertAssessment, assess_certificate

logger = logging.getLogger(__name__)

_SEQUENCE = 16
_OID = 6


def is_ses(contents: bytes) -> bool:
    """/Contents holding an SES_Signature (SEQUENCE first) rather than a CMS ContentInfo (OID)."""
    try:
        outer = core.Asn1Value.load(contents)
        if outer.class_ != 0 or outer.tag != _SEQUENCE:
            return False
        first = core.Asn1Value.load(outer.contents)
    except (ValueError, TypeError):
        return False
    return first.class_ == 0 and first.tag == _SEQUENCE


class SesEmbeddedSignature(EmbeddedPdfSignature):
    """A PDF signature whose /Contents is an SES_Signature: what pyhanko's coverage, ByteRange
    digest (SM3) and difference analysis read, set without parsing a CMS."""

    def __init__(
        self, reader: PdfFileReader, sig_field: generic.DictionaryObject, fq_name: str
    ) -> None:
        self.reader = reader
        if isinstance(sig_field, generic.IndirectObject):
            sig_field = sig_field.get_object()
        self.sig_field = sig_field
        sig_ref = sig_field.raw_get("/V")
        self.sig_object = sig_ref.get_object()
        self.byte_range = self.sig_object.raw_get("/ByteRange")
        self.pkcs7_content = extract_contents(self.sig_object)
        der = core.Asn1Value.load(self.pkcs7_content).dump()
        self.ses: ParsedSignature = parse_signature(der)
        self.signer_info = None
        self._sd_cert_info = None
        self.md_algorithm = self.external_md_algorithm = "sm3"
        self.signed_revision = reader.xrefs.get_last_change(sig_ref.reference)
        self.coverage = None
        self.external_digests = {}
        self._docmdp = None
        self._fieldmdp = None
        self._docmdp_queried = self._fieldmdp_queried = False
        self.tst_signature_digest = None
        self.diff_result = None
        self._integrity_checked = False
        self.fq_name = fq_name

    @property
    def signer_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.ses.signer_certificate)

    @property
    def maker_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.ses.seal.maker_certificate)

    @property
    def other_embedded_certs(self) -> list[asn1_x509.Certificate]:
        return []

    @property
    def embedded_attr_certs(self) -> list[cms.AttributeCertificateV2]:
        return []

    def signed_bytes(self, pdf: bytes) -> bytes:
        a, b, c, d = (int(v) for v in self.byte_range)
        return pdf[a : a + b] + pdf[c : c + d]


def open_ses(reader: PdfFileReader, cand: SigCandidate) -> SesEmbeddedSignature | None:
    """The SES signature of a candidate, None when /Contents is not one (a CMS); raises when
    /Contents looks like an SES_Signature that cannot be read (reported as unreadable)."""
    sig_object = cand.field.get_object().raw_get("/V").get_object()
    if not is_ses(extract_contents(sig_object)):
        return None
    return SesEmbeddedSignature(reader, cand.field, cand.field_name)


# --- judging the checks of seals.gbt38540 ---------------------------------------------------


_ZH = {
    names.DATA_HASH: "签章数据中的原文杂凑值与 ByteRange 字节的 SM3 杂凑值不一致："
    "文档在签章后被改动。",
    names.SIGNATURE: "签章者对签章信息（TBS_Sign）的 SM2 签名验证失败："
    "签章时间、原文杂凑或印章被改动。",
    names.SEAL_SIGNATURE: "制章者对印章信息（SES_SealInfo）的 SM2 签名验证失败："
    "印章图片、有效期或证书列表被改动。",
    names.CERT_LIST: "签章者证书不在印章的证书列表中：此证书无权使用该印章。",
    names.SEAL_VALIDITY: "签章时间不在印章有效期内。",
    names.SIGNER_CERT_VALIDITY: "签章时间不在签章者证书有效期内。",
    names.HEADER: "印章数据头不是 GB/T 38540 / GM/T 0031 格式。",
}
"""Chinese text per SES check; the English is the check's own detail (it names the values)."""


def _texts(name: str, detail: str) -> tuple[str, str]:
    return _ZH.get(name, "电子签章检查无法完成。"), detail


def _judge_check(acc: Acc, name: str, ok: bool | None, detail: str, ses: ParsedSignature) -> None:
    if ok is True:
        return
    code = f"ses-{name}"
    zh, en = _texts(name, detail)
    if ok is None:
        acc.indeterminate(
            SubIndication.GENERIC, msg(code, f"无法完成检查：{zh}", f"Not checked: {en}")
        )
    elif name == names.DATA_HASH:
        acc.apply(FindingClass.DIGEST_MISMATCH, msg(code, zh, en))
    elif name in (names.SIGNATURE, names.SEAL_SIGNATURE):
        acc.apply(FindingClass.SIGNATURE_INVALID, msg(code, zh, en))
    elif name == names.HEADER:
        acc.fail(SubIndication.FORMAT_FAILURE, msg(code, zh, en))
    elif name == names.CERT_LIST:
        acc.indeterminate(SubIndication.SIG_CONSTRAINTS_FAILURE, msg(code, zh, en))
    else:  # a validity window: before it NOT_YET_VALID, after it EXPIRED
        start = ses.seal.valid_start
        early = ses.time is not None and ses.time < start
        sub = SubIndication.NOT_YET_VALID if early else SubIndication.EXPIRED
        acc.fail(sub, msg(code, zh, en))


def judge_checks(acc: Acc, checks: SesChecks, ses: ParsedSignature) -> bool | None:
    """Findings for every failed or unmade check; returns the integrity (None: not computed)."""
    for check in checks.checks:
        _judge_check(acc, check.name, check.ok, check.detail, ses)
    digest = checks.get(names.DATA_HASH)
    signature = checks.get(names.SIGNATURE)
    if digest is None or signature is None or digest.ok is None or signature.ok is None:
        return None
    return digest.ok and signature.ok


def format_finding(ses: ParsedSignature) -> Finding:
    seal = ses.seal
    standard = {1: "GM/T 0031-2014", 4: "GB/T 38540-2020", 5: "GM/T 0031-2025"}[seal.version]
    return msg(
        "ses-format",
        f"电子签章（{standard} 签章数据）：印章编码 {seal.es_id}，印章名称 {seal.name}，"
        f"签章时间 {fmt(ses.time)}，印章有效期 {fmt(seal.valid_start)} 至 {fmt(seal.valid_end)}。",
        f"Electronic seal ({standard} signature data): seal code {seal.es_id}, seal name "
        f"{seal.name}, signed at {fmt(ses.time)}, seal valid {fmt(seal.valid_start)} to "
        f"{fmt(seal.valid_end)}.",
    )


async def ses_time_stamp(
    state: VerifierState, acc: Acc, ses: ParsedSignature
) -> tuple[datetime | None, str | None]:
    """The optional RFC 3161 token over the signature value: a proof of existence when intact
    and trusted; a broken one fails the signature, an unreadable one leaves it undetermined."""
    if ses.time_stamp is None:
        return None, None
    try:
        token = cms.ContentInfo.load(ses.time_stamp)
        signed_data = token["content"]
        certs = [c.chosen for c in signed_data["certificates"] or [] if c.name == "certificate"]
        context = state.trust.validation_context(
            moment=state.now,
            other_certs=certs,
            revocation=state.dss_material,
            require_revocation=False,
            fetcher_backend=state.backend,
        )
        kwargs = await validate_tst_signed_data(
            signed_data, context, lambda algorithm: hashlib.new(algorithm, ses.signature).digest()
        )
        status = TimestampSignatureStatus(**kwargs)
    except Exception as exc:
        acc.indeterminate(
            SubIndication.GENERIC,
            msg(
                "ses-timestamp-unreadable",
                f"签章数据中的时间戳无法验证：{short(exc)}",
                f"The time-stamp in the signature data cannot be verified: {short(exc)}",
            ),
        )
        return None, None
    return judge_signature_timestamp(acc, status)


def seal_window_at_poe(acc: Acc, ses: ParsedSignature, poe: datetime | None, now: datetime) -> None:
    """The seal's validity at the proven time: the claimed time is the signer's own word, so
    a seal that has expired since needs a proof of existence within its validity (else
    OUT_OF_BOUNDS_NO_POE, as for an expired certificate); a POE after it is EXPIRED."""
    seal = ses.seal
    if poe is not None:
        if poe > seal.valid_end:
            acc.fail(
                SubIndication.EXPIRED,
                msg(
                    "ses-seal-expired-at-poe",
                    f"签章的存在证明时间 {fmt(poe)} 晚于印章有效期截止 {fmt(seal.valid_end)}。",
                    f"The proof of existence ({fmt(poe)}) is after the seal's validity ended "
                    f"({fmt(seal.valid_end)}).",
                ),
            )
        return
    if now > seal.valid_end:
        acc.indeterminate(
            SubIndication.OUT_OF_BOUNDS_NO_POE,
            msg(
                "ses-seal-expired-no-poe",
                f"印章有效期已于 {fmt(seal.valid_end)} 截止，"
                "且没有时间戳证明签章时印章仍在有效期内。",
                f"The seal's validity ended at {fmt(seal.valid_end)} and no time-stamp proves "
                "the seal was applied while it was valid.",
            ),
        )


async def _maker_trusted(
    state: VerifierState, acc: Acc, emb: SesEmbeddedSignature, poe: datetime | None
) -> None:
    """The seal maker's certificate validates to a recognised anchor (signatures and validity
    along the path) at the time it made the seal, and is not revoked (`maker_revocation`)."""
    from pyhanko_certvalidator import CertificateValidator

    moment = min(emb.ses.seal.created, state.now)
    context = state.trust.validation_context(
        moment=moment, require_revocation=False, fetcher_backend=state.backend
    )
    try:
        path = await CertificateValidator(
            emb.maker_cert, validation_context=context
        ).async_validate_path()
    except Exception as exc:
        acc.indeterminate(
            SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
            msg(
                "ses-maker-untrusted",
                "制章者证书不能验证到受信任的根证书：无法确认印章由合法的制章系统制作。",
                "The seal maker's certificate does not validate to a recognised trust anchor: "
                f"the seal cannot be confirmed as made by a legitimate system ({short(exc)}).",
            ),
        )
        return
    await maker_revocation(state, acc, emb.maker_cert, path, made=moment, poe=poe)


async def _signer_and_seal(
    state: VerifierState, acc: Acc, emb: SesEmbeddedSignature, poe: datetime | None
) -> tuple[CertAssessment, SealInfo | None]:
    cert_result = await assess_certificate(
        state, acc, emb.signer_cert, other_certs=[], embedded=state.dss_material, poe=poe
    )
    await _maker_trusted(state, acc, emb, poe)
    seal = None
    if cert_result.anchor_ours and state.seal_lookup is not None:
        seal = state.seal_lookup(to_crypto(emb.signer_cert))
    return cert_result, seal


async def verify_ses_signature(
    state: VerifierState, cand: SigCandidate, emb: SesEmbeddedSignature
) -> SignatureReport:
    """One GB/T 38540 electronic seal: the SES checks, coverage, modifications, trust."""
    acc = Acc()
    for note in cand.notes:
        acc.add(note)
    ses = emb.ses
    acc.add(format_finding(ses))
    integrity: bool | None = None
    try:
        emb.compute_integrity_info(diff_policy=DIFF_POLICY)
        checks = verify_signature(ses, signed_data=emb.signed_bytes(state.pdf))
        integrity = judge_checks(acc, checks, ses)
    except Exception as exc:
        acc.apply(FindingClass.PROCESSING_FAILED, processing_failed(exc))
    if cand.hidden_since is not None:
        acc.apply(FindingClass.SIGNATURE_HIDDEN, hidden_finding(cand))
    mods = modifications(state, acc, emb, certification=None, is_timestamp=False)
    coverage_check(acc, emb)
    ts_time, tsa_name = await ses_time_stamp(state, acc, ses)
    poe = proof_of_existence(state, acc, emb, ts_time)
    seal_window_at_poe(acc, ses, poe, state.now)
    cert_result, seal = CertAssessment(), None
    if integrity:
        cert_result, seal = await _signer_and_seal(state, acc, emb, poe)
    indication = indication_of(acc)
    return SignatureReport(
        field_name=cand.field_name,
        kind=SignatureKind.APPROVAL,
        signer=signer_info(emb.signer_cert),
        seal=seal,
        claimed_signing_time=ses.time,
        timestamp_time=ts_time,
        tsa=tsa_name,
        pades_level=None,
        integrity=integrity,
        chain=cert_result.chain,
        trust_anchor=cert_result.anchor,
        trust_anchor_is_ours=cert_result.anchor_ours,
        revocation=cert_result.revocation,
        coverage=coverage_of(emb.coverage),
        modifications_after=mods,
        certification=None,
        signed_revision=emb.signed_revision,
        indication=indication if indication else Indication.INDETERMINATE,
        sub_indication=acc.sub,
        findings=acc.ordered(),
    )
