"""The checks of one signature or document time-stamp, each producing a `SignatureReport`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.validation import EmbeddedPdfSignature, KeyUsageConstraints
from pyhanko.sign.validation.pdf_embedded import (
    async_validate_pdf_signature,
    async_validate_pdf_timestamp,
)
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
    TimestampSignatureStatus,
)

from pki.trust import RevocationMaterial
from seals.indications import FindingClass
from seals.reports import (
    Coverage,
    Finding,
    Indication,
    ModificationsAfter,
    RevocationInfo,
    RevocationSource,
    RevocationStatus,
    SealInfo,
    SignatureKind,
    SignatureReport,
    SignerInfo,
    SubIndication,
)
from seals.verification.certpool import intern, interned
from seals.verification.document import is_certification_ref
from seals.verification.findings import (
    Acc,
    finding,
    hidden_finding,
    msg,
    network_finding,
    processing_failed,
    safe,
    short,
)
from seals.verification.modifications import modifications
from seals.verification.pkcs7_sha1 import SUBFILTER as PKCS7_SHA1
from seals.verification.pkcs7_sha1 import validate_pkcs7_sha1
from seals.verification.rules import DIFF_POLICY
from seals.verification.signer import (
    anchor_subject,
    chain_subjects,
    has_cert,
    signer_info,
    to_crypto,
)
from seals.verification.state import DocTsRecord, SigCandidate, VerifierState
from seals.verification.trust import CertAssessment, anchor_is_ours, assess_certificate, cms_revinfo
from seals.verification.weak_digests import weak_digest_check

logger = logging.getLogger(__name__)


def unreadable(state: VerifierState, cand: SigCandidate, exc: Exception) -> SignatureReport:
    acc = Acc()
    acc.fail(
        SubIndication.FORMAT_FAILURE,
        msg(
            "signature-unreadable",
            "签名数据无法读取（/Contents 为空、被清零或不是 CMS 签名，或缺少 /ByteRange）："
            "这是伪造签名的典型特征。",
            "The signature value cannot be read (/Contents empty, zeroed or not a CMS "
            "signature, or /ByteRange missing): a hallmark of a forged signature. "
            f"({short(exc)})",
        ),
    )
    if cand.hidden_since is not None:
        acc.apply(FindingClass.SIGNATURE_HIDDEN, hidden_finding(cand))
    return bare_report(cand.field_name, acc.indication, acc.sub, *acc.ordered())


async def verify_doc_timestamp(
    state: VerifierState, cand: SigCandidate, emb: EmbeddedPdfSignature
) -> SignatureReport:
    acc = Acc()
    tsa_vc = ts_context(state, emb)
    status: DocumentTimestampStatus | None = None
    try:
        status = await async_validate_pdf_timestamp(
            emb, validation_context=tsa_vc, diff_policy=DIFF_POLICY
        )
    except Exception as exc:
        acc.apply(FindingClass.PROCESSING_FAILED, processing_failed(exc))
    coverage = coverage_of(emb.coverage)
    mods = ModificationsAfter.NONE
    if status is not None:
        integrity(acc, status.intact, status.valid)
        mods = modifications(state, acc, emb, certification=None, is_timestamp=True)
        if not status.trusted:
            acc.indeterminate(
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                finding("tsa-untrusted"),
            )
    coverage_check(acc, emb)
    if cand.hidden_since is not None:
        acc.apply(FindingClass.SIGNATURE_HIDDEN, hidden_finding(cand))
    ok = acc.indication is None
    ts_time = status.timestamp if status is not None else None
    if ts_time is not None:
        state.doc_timestamps.append(DocTsRecord(revision=emb.signed_revision, time=ts_time, ok=ok))
    if ok:
        acc.add(finding("doc-timestamp-ok"))
    signer = signer_info(emb.signer_cert) if has_cert(emb) else None
    return SignatureReport(
        field_name=cand.field_name,
        kind=SignatureKind.DOCUMENT_TIMESTAMP,
        signer=signer,
        seal=None,
        claimed_signing_time=None,
        timestamp_time=ts_time,
        tsa=signer.summary if signer else None,
        pades_level=None,
        integrity=integrity_of(status),
        chain=chain_subjects(status.validation_path) if status else (),
        trust_anchor=anchor_subject(status.validation_path) if status else None,
        trust_anchor_is_ours=anchor_is_ours(state, status.validation_path if status else None),
        revocation=RevocationInfo(
            status=RevocationStatus.NOT_CHECKED, source=RevocationSource.NONE
        ),
        coverage=coverage,
        modifications_after=mods,
        certification=None,
        signed_revision=emb.signed_revision,
        indication=acc.indication or Indication.TOTAL_PASSED,
        sub_indication=acc.sub,
        findings=acc.ordered(),
    )


async def verify_signature(
    state: VerifierState, cand: SigCandidate, emb: EmbeddedPdfSignature
) -> SignatureReport:
    """One approval or certification signature: pyhanko's validation, then our own checks."""
    acc = Acc()
    for note in cand.notes:
        acc.add(note)
    subfilter = str(emb.sig_object.get("/SubFilter", ""))
    docmdp = safe(lambda: emb.docmdp_level)
    is_certification = is_certification_ref(state.reader, cand.sig_ref) or (
        cand.hidden_since is not None and docmdp is not None
    )
    embedded_material = state.dss_material + cms_revinfo(emb)
    other_certs = interned([*emb.other_embedded_certs, *embedded_material.certs])
    status = await validate_with_pyhanko(state, acc, emb, other_certs)
    if cand.hidden_since is not None:
        acc.apply(FindingClass.SIGNATURE_HIDDEN, hidden_finding(cand))
    mods = ModificationsAfter.NONE
    ts_time: datetime | None = None
    tsa_name: str | None = None
    claimed: datetime | None = safe(lambda: emb.self_reported_timestamp)
    if status is not None:
        integrity(acc, status.intact, status.valid)
        mods = modifications(
            state, acc, emb, certification=docmdp if is_certification else None, is_timestamp=False
        )
        claimed = status.signer_reported_dt or claimed
        ts_time, tsa_name = judge_signature_timestamp(acc, status.timestamp_validity)
    coverage_check(acc, emb)
    subfilter_check(acc, subfilter)
    poe = proof_of_existence(state, acc, emb, ts_time)
    if status is not None and status.intact and status.valid:
        weak_digest_check(acc, emb, subfilter=subfilter, poe=poe, now=state.now)
    signer, seal, cert_result = await check_signer(
        state, acc, emb, status, other_certs=other_certs, embedded=embedded_material, poe=poe
    )
    level = pades_level(
        state,
        subfilter=subfilter,
        has_ts=ts_time is not None,
        signed_revision=emb.signed_revision,
        embedded_leaf_revinfo=cert_result.embedded_revinfo_for_leaf,
    )
    indication = indication_of(acc)
    return SignatureReport(
        field_name=cand.field_name,
        kind=SignatureKind.CERTIFICATION if is_certification else SignatureKind.APPROVAL,
        signer=signer,
        seal=seal,
        claimed_signing_time=claimed,
        timestamp_time=ts_time,
        tsa=tsa_name,
        pades_level=level,
        integrity=integrity_of(status),
        chain=cert_result.chain,
        trust_anchor=cert_result.anchor,
        trust_anchor_is_ours=cert_result.anchor_ours,
        revocation=cert_result.revocation,
        coverage=coverage_of(emb.coverage),
        modifications_after=mods,
        certification=docmdp.name if (is_certification and docmdp is not None) else None,
        signed_revision=emb.signed_revision,
        indication=indication,
        sub_indication=acc.sub,
        findings=acc.ordered(),
    )


async def validate_with_pyhanko(
    state: VerifierState,
    acc: Acc,
    emb: EmbeddedPdfSignature,
    other_certs: list[asn1_x509.Certificate],
) -> PdfSignatureStatus | None:
    """pyhanko's validation (digest, CMS signature, time-stamp, diff analysis); a network
    failure while fetching is 'try later', any other failure a malformed signature."""
    status: PdfSignatureStatus | None = None
    validate = (
        validate_pkcs7_sha1
        if emb.sig_object.get("/SubFilter") == PKCS7_SHA1
        else async_validate_pdf_signature
    )
    try:
        status = await validate(
            emb,
            signer_validation_context=state.trust.validation_context(
                moment=state.now, other_certs=other_certs, require_revocation=False
            ),
            ts_validation_context=ts_context(state, emb),
            diff_policy=DIFF_POLICY,
            key_usage_settings=KeyUsageConstraints(
                key_usage={"digital_signature", "non_repudiation"},
                match_all_key_usages=False,
            ),
        )
    except Exception as exc:
        if is_network_failure(exc):
            acc.indeterminate(SubIndication.TRY_LATER, network_finding(exc))
        else:
            acc.apply(FindingClass.PROCESSING_FAILED, processing_failed(exc))
    return status


def judge_signature_timestamp(
    acc: Acc, tsv: TimestampSignatureStatus | None
) -> tuple[datetime | None, str | None]:
    """The signature time-stamp's time, kept only when it is intact and trusted, and its TSA."""
    ts_time: datetime | None = None
    tsa_name: str | None = None
    if tsv is not None:
        ts_time = tsv.timestamp
        tsa_name = signer_info(tsv.signing_cert).summary
        if not (tsv.intact and tsv.valid):
            # ETSI EN 319 102-1 5.5: a signature time-stamp that fails validation is ignored
            # (no proof of time), it does not fail the signature - its imprint covers the
            # signature value, not the signed data, so HASH_FAILURE would be untrue; EU DSS
            # reports it the same way. Anyone can add one to a CMS's unsigned attributes.
            acc.add(finding("timestamp-broken"))
            ts_time = None
        elif not tsv.trusted:
            acc.add(finding("timestamp-untrusted"))
            ts_time = None
    return ts_time, tsa_name


def subfilter_check(acc: Acc, subfilter: str) -> None:
    if subfilter not in ("/ETSI.CAdES.detached", "/adbe.pkcs7.detached", PKCS7_SHA1):
        acc.fail(
            SubIndication.FORMAT_FAILURE,
            msg(
                "unsupported-subfilter",
                f"不支持的签名格式 {subfilter or '(无)'}。",
                f"Unsupported signature format {subfilter or '(none)'}.",
            ),
        )


def proof_of_existence(
    state: VerifierState, acc: Acc, emb: EmbeddedPdfSignature, ts_time: datetime | None
) -> datetime | None:
    """Proof of existence: the signature time-stamp, else a later valid document time-stamp."""
    poe = ts_time
    if poe is None:
        later = [d for d in state.doc_timestamps if d.ok and d.revision > emb.signed_revision]
        if later:
            poe = min(d.time for d in later)
            acc.add(finding("poe-doc-timestamp"))
    return poe


async def check_signer(
    state: VerifierState,
    acc: Acc,
    emb: EmbeddedPdfSignature,
    status: PdfSignatureStatus | None,
    *,
    other_certs: list[asn1_x509.Certificate],
    embedded: RevocationMaterial,
    poe: datetime | None,
) -> tuple[SignerInfo | None, SealInfo | None, CertAssessment]:
    """Who signed; trust in their certificate (only for an intact, valid signature); the seal
    it belongs to when our CA issued it."""
    signer: SignerInfo | None = None
    seal: SealInfo | None = None
    cert_result = CertAssessment()
    if has_cert(emb):
        signer_cert = intern(emb.signer_cert)
        signer = signer_info(signer_cert)
        if status is not None and status.intact and status.valid:
            cert_result = await assess_certificate(
                state,
                acc,
                signer_cert,
                other_certs=other_certs,
                embedded=embedded,
                poe=poe,
            )
            if cert_result.anchor_ours and state.seal_lookup is not None:
                seal = state.seal_lookup(to_crypto(signer_cert))
                if seal is not None and seal.status not in ("active", "ACTIVE"):
                    acc.add(
                        msg(
                            "seal-status",
                            f"印章当前状态：{seal.status}（不影响签署时的有效性）。",
                            f"The seal's current status is {seal.status} (this does not "
                            "change validity at signing time).",
                        )
                    )
    else:
        acc.indeterminate(
            SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
            finding("no-signer-cert"),
        )
    return signer, seal, cert_result


def indication_of(acc: Acc) -> Indication:
    """The signature's indication; a passed signature's findings open by saying so."""
    indication = acc.indication or Indication.TOTAL_PASSED
    if indication is Indication.TOTAL_PASSED:
        acc.findings.insert(
            0,
            finding("signature-ok"),
        )
    return indication


def integrity(acc: Acc, intact: bool, valid: bool) -> None:
    if not intact:
        acc.apply(
            FindingClass.DIGEST_MISMATCH,
            finding("digest-mismatch"),
        )
    elif not valid:
        acc.apply(
            FindingClass.SIGNATURE_INVALID,
            finding("signature-invalid"),
        )


def coverage_check(acc: Acc, emb: EmbeddedPdfSignature) -> None:
    level = emb.coverage
    if level is None:
        return
    if level < SignatureCoverageLevel.ENTIRE_REVISION:
        acc.fail(
            SubIndication.FORMAT_FAILURE,
            finding("coverage-anomalous"),
        )


def ts_context(state: VerifierState, emb: EmbeddedPdfSignature) -> Any:
    material = state.dss_material + cms_revinfo(emb)
    return state.trust.validation_context(
        moment=state.now,
        other_certs=interned([*emb.other_embedded_certs, *material.certs]),
        revocation=material,
        require_revocation=False,
        fetcher_backend=state.backend,
    )


def pades_level(
    state: VerifierState,
    *,
    subfilter: str,
    has_ts: bool,
    signed_revision: int,
    embedded_leaf_revinfo: bool,
) -> str | None:
    if subfilter != "/ETSI.CAdES.detached":
        return None
    later_ts = [d for d in state.doc_timestamps if d.ok and d.revision > signed_revision]
    if not (has_ts or later_ts):
        return "B-B"
    if not (embedded_leaf_revinfo and state.dss_revision is not None):
        return "B-T"
    if later_ts:
        return "B-LTA"
    return "B-LT"


def bare_report(
    name: str, indication: Indication | None, sub: SubIndication | None, *findings: Finding
) -> SignatureReport:
    return SignatureReport(
        field_name=name,
        kind=SignatureKind.APPROVAL,
        signer=None,
        seal=None,
        claimed_signing_time=None,
        timestamp_time=None,
        tsa=None,
        pades_level=None,
        integrity=None,
        chain=(),
        trust_anchor=None,
        trust_anchor_is_ours=False,
        revocation=RevocationInfo(
            status=RevocationStatus.NOT_CHECKED, source=RevocationSource.NONE
        ),
        coverage=Coverage.ANOMALOUS,
        modifications_after=ModificationsAfter.OTHER,
        certification=None,
        signed_revision=None,
        indication=indication or Indication.INDETERMINATE,
        sub_indication=sub,
        findings=findings,
    )


def integrity_of(status: PdfSignatureStatus | DocumentTimestampStatus | None) -> bool | None:
    """True/false only when the digest was computed; None when validation never got there."""
    if status is None:
        return None
    return bool(status.intact and status.valid)


def is_network_failure(exc: BaseException) -> bool:
    """A timeout or connection failure while fetching validation data (fetching switched on):
    the answer is 'try later', never a verdict on the document."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError | ConnectionError) or type(seen).__module__.startswith(
            "aiohttp"
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def coverage_of(level: SignatureCoverageLevel | None) -> Coverage:
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return Coverage.ENTIRE_FILE
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return Coverage.ENTIRE_REVISION
    return Coverage.ANOMALOUS
