"""Verify the signatures and seals in a PDF for a third party: `verify_pdf(...) -> report`.

One `PdfFileReader` per document (strict mode, bounded stream decoding); every signature field
of every revision is examined, each signature is validated by pyhanko (ByteRange digest, CMS
signature, signature time-stamp, coverage, difference analysis against later revisions, DocMDP)
and then by our own checks where pyhanko's answer is not enough for a verdict people rely on:

* trust and revocation at the proven signing time (`_assess_certificate`): the path is built to
  the anchors of the `TrustStore`; revocation data for OUR certificates comes from the caller's
  `revocation_lookup` (our responder, in process), for others from the PDF (DSS and the CMS
  revocation-info attribute); network fetching only when the trust store switches it on. A
  signature time-stamp (or a later document time-stamp) is the proof of existence (POE):
  revoked before it -> TOTAL_FAILED/REVOKED; revoked after it -> passes, with a finding;
  revoked and no POE -> INDETERMINATE/REVOKED_NO_POE.
* modifications after signing: pyhanko's diff policy flags anything but signatures, form
  filling and LTV data as `OTHER`; on top of that, form-field values or annotations changed
  after an approval signature that no certification allowed are not accepted
  (INDETERMINATE/SIG_CONSTRAINTS_FAILURE) - this is the "shadow attack" family that the PDF
  standard technically permits but that changes what the page shows.
* signatures that existed in an earlier revision but are no longer reachable from the form
  (a certification or approval signature hidden by unlinking its field, /Perms /DocMDP
  removed, a signature dictionary replaced) are reported as failed signatures of their own.
* signature fields whose /Contents or /ByteRange cannot be read (universal signature forgery:
  empty or zeroed /Contents, no /ByteRange) are reported as TOTAL_FAILED/FORMAT_FAILURE, not
  silently skipped.

Indication mapping (ETSI EN 319 102-1, following EU DSS; the table and its reasons are in
seals/indications.py), first fatal finding wins:
  unreadable signature, unsupported format, ByteRange not covering its revision
      -> TOTAL_FAILED / FORMAT_FAILURE
  digest over the ByteRange differs -> TOTAL_FAILED / HASH_FAILURE (only then)
  CMS signature does not verify -> TOTAL_FAILED / SIG_CRYPTO_FAILURE
  content changed after signing (diff analysis `OTHER`, DocMDP violated, signature hidden,
      bytes after a signed revision that no parsed revision accounts for)
      -> TOTAL_FAILED / FORMAT_FAILURE (as DSS's format-checking modification checks)
  signature our parser cannot process -> INDETERMINATE / GENERIC, integrity unknown (None)
  revoked / expired / not yet valid before a proven signing time -> TOTAL_FAILED / REVOKED,
      EXPIRED, NOT_YET_VALID
  no chain to a recognised anchor -> INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND
  revoked or expired without POE -> INDETERMINATE / REVOKED_NO_POE, OUT_OF_BOUNDS_NO_POE
  no revocation data -> INDETERMINATE / TRY_LATER
  form filling / annotations after an approval signature without permission
      -> INDETERMINATE / SIG_CONSTRAINTS_FAILURE
  otherwise TOTAL_PASSED.

A document that is not a PDF, cannot be parsed, is encrypted or carries no signature yields a
report with INDETERMINATE / FORMAT_FAILURE and `document.status` telling which; `verify_pdf`
never raises for a bad document (only for a bad call: naive `now`, bad `max_seconds`).
Exceptions raised by the caller's own callables (`seal_lookup`, `revocation_lookup`) propagate.

Time budget: `max_seconds` is checked between steps (cooperatively); signatures not reached in
time are INDETERMINATE/GENERIC. Stream decoding is bounded by pyhanko's `DecodeLimits`. For
hard isolation against pathological files, run it in a worker process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import itertools
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.decode_limits import (
    DecodeLimits,
    DecodePurpose,
    DocumentDecodeBudget,
    StreamDecodeLimits,
)
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import (
    DiffResult,
    ModificationLevel,
    SuspiciousModification,
)
from pyhanko.sign.fields import MDPPerm, enumerate_sig_fields
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import (
    DocumentSecurityStore,
    EmbeddedPdfSignature,
    KeyUsageConstraints,
)
from pyhanko.sign.validation.errors import NoDSSFoundError
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
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.fetchers.api import FetcherBackend
from pyhanko_certvalidator.path import ValidationPath

from pki.identifiers import mask_resident_id
from pki.trust import (
    RevinfoKind,
    RevocationLookup,
    RevocationMaterial,
    TrustStore,
    classify_revinfo,
)
from seals.indications import INDICATIONS, MODIFIED, FindingClass
from seals.pinned import assess_pinned
from seals.reports import (
    Coverage,
    DocumentFindings,
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
    VerificationReport,
    overall_indication,
)
from seals.verification.annotations import judge_annotations
from seals.verification.bytes import unaccounted_finding, unaccounted_objects
from seals.verification.cms import keep_the_signer_info_that_signed
from seals.verification.positions import annotation_pages, page_count, widget_positions
from seals.verification.reader import open_reader
from seals.verification.rules import DIFF_POLICY

__all__ = ["SealLookup", "async_verify_pdf", "verify_pdf"]

logger = logging.getLogger(__name__)

SealLookup = Callable[[x509.Certificate], SealInfo | None]

_ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")
_MAX_SIGNATURES = 64
_DOC_FATAL = frozenset({"certification-removed", "signature-reused"})
"""Document-level findings that make the whole document fail even if every listed signature
passes (the evidence is a signature or certification the attacker took away)."""
_DECODE_LIMITS = DecodeLimits(
    per_stream=StreamDecodeLimits(max_output_size=64 * 1024 * 1024),
    document_budget=DocumentDecodeBudget(base_allowance=128 * 1024 * 1024, max_ratio=50),
)


# --------------------------------------------------------------------------- findings


def _f(code: str, zh: str, en: str) -> Finding:
    return Finding(code=code, zh=zh, en=en)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() > self._end


# --------------------------------------------------------------------------- public API


def verify_pdf(
    *,
    pdf: bytes,
    trust: TrustStore,
    now: datetime,
    seal_lookup: SealLookup | None = None,
    revocation_lookup: RevocationLookup | None = None,
    max_seconds: float = 30.0,
) -> VerificationReport:
    """Synchronous `async_verify_pdf` (runs its own event loop; safe inside a running one)."""
    coro_args: dict[str, Any] = {
        "pdf": pdf,
        "trust": trust,
        "now": now,
        "seal_lookup": seal_lookup,
        "revocation_lookup": revocation_lookup,
        "max_seconds": max_seconds,
    }
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(async_verify_pdf(**coro_args))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(async_verify_pdf(**coro_args))).result()


async def async_verify_pdf(
    *,
    pdf: bytes,
    trust: TrustStore,
    now: datetime,
    seal_lookup: SealLookup | None = None,
    revocation_lookup: RevocationLookup | None = None,
    max_seconds: float = 30.0,
) -> VerificationReport:
    """Verify every signature in `pdf` at validation time `now`; see the module docstring."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if max_seconds <= 0:
        raise ValueError("max_seconds must be positive")
    started = time.monotonic()
    deadline = _Deadline(max_seconds)
    backend = trust.network.backend()
    try:
        verifier = _Verifier(
            pdf=pdf,
            trust=trust,
            now=now,
            seal_lookup=seal_lookup,
            revocation_lookup=revocation_lookup,
            deadline=deadline,
            backend=backend,
        )
        try:
            report = await asyncio.wait_for(verifier.run(), timeout=max_seconds)
        except TimeoutError:
            report = verifier.timed_out_report()
    finally:
        if backend is not None:
            await backend.close()
    return _with_elapsed(report, time.monotonic() - started)


def _with_elapsed(report: VerificationReport, elapsed: float) -> VerificationReport:

    return replace(report, elapsed_seconds=round(elapsed, 4))


# --------------------------------------------------------------------------- the verifier


@dataclass
class _SigCandidate:
    field_name: str
    field: generic.DictionaryObject
    sig_ref: generic.Reference | None
    hidden_since: int | None = None
    """Revision from which this signature is no longer reachable from the form."""
    notes: list[Finding] = dataclass_field(default_factory=list)
    """Findings made before pyhanko opened the signature (e.g. several SignerInfos)."""


@dataclass
class _DocTsRecord:
    revision: int
    time: datetime
    ok: bool


@dataclass
class _Acc:
    """Accumulates the verdict of one signature: the first fatal reason wins the indication."""

    findings: list[Finding] = field(default_factory=list)
    indication: Indication | None = None
    sub: SubIndication | None = None
    decisive: Finding | None = None

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def fail(self, sub: SubIndication, finding: Finding) -> None:
        self.findings.append(finding)
        if self.indication is not Indication.TOTAL_FAILED:
            self.indication, self.sub, self.decisive = Indication.TOTAL_FAILED, sub, finding

    def indeterminate(self, sub: SubIndication, finding: Finding) -> None:
        self.findings.append(finding)
        if self.indication is None:
            self.indication, self.sub, self.decisive = Indication.INDETERMINATE, sub, finding

    def apply(self, cls: FindingClass, finding: Finding) -> None:
        """Record `finding` with the indication its class leads to (seals/indications.py)."""
        verdict = INDICATIONS[cls]
        if verdict is None:
            self.add(finding)
        elif verdict[0] is Indication.TOTAL_FAILED:
            self.fail(verdict[1], finding)
        else:
            self.indeterminate(verdict[1], finding)

    def ordered(self) -> tuple[Finding, ...]:
        """The finding that decided the indication first, then the rest in order."""
        if self.decisive is None:
            return tuple(self.findings)
        return (self.decisive, *(f for f in self.findings if f is not self.decisive))


@dataclass
class _CertAssessment:
    chain: tuple[str, ...] = ()
    anchor: str | None = None
    anchor_ours: bool = False
    revocation: RevocationInfo = field(
        default_factory=lambda: RevocationInfo(
            status=RevocationStatus.NOT_CHECKED, source=RevocationSource.NONE
        )
    )
    embedded_revinfo_for_leaf: bool = False


class _Verifier:
    def __init__(
        self,
        *,
        pdf: bytes,
        trust: TrustStore,
        now: datetime,
        seal_lookup: SealLookup | None,
        revocation_lookup: RevocationLookup | None,
        deadline: _Deadline,
        backend: FetcherBackend | None,
    ) -> None:
        self.pdf = pdf
        self.trust = trust
        self.now = now
        self.seal_lookup = seal_lookup
        self.revocation_lookup = revocation_lookup
        self.deadline = deadline
        self.backend = backend
        self.sha256 = hashlib.sha256(pdf).hexdigest()
        self.reader: PdfFileReader | None = None
        self.pages: int | None = None
        self.revisions: int | None = None
        self.candidates: list[_SigCandidate] = []
        self.reports: list[SignatureReport] = []
        self.doc_findings: list[Finding] = []
        self.dss_material = RevocationMaterial()
        self.dss_revision: int | None = None
        self.doc_timestamps: list[_DocTsRecord] = []
        self.certified_allows_forms = False
        self.certified_allows_annotations = False
        self.unaccounted: list[int] = []
        self.status = "ok"

    # ----------------------------------------------------------------- document level

    def _document_report(self, status: str, finding: Finding) -> VerificationReport:
        self.status = status
        self.doc_findings.append(finding)
        return self._finish()

    def timed_out_report(self) -> VerificationReport:
        self.doc_findings.append(
            _f(
                "time-limit",
                "验证超出时间限制，未完成的签名无法判定。",
                "Verification exceeded its time limit; unfinished signatures are undetermined.",
            )
        )
        done = {r.field_name for r in self.reports}
        for cand in self.candidates:
            if cand.field_name not in done:
                self.reports.append(self._timeout_sig(cand.field_name))
        if not self.reports:
            self.status = "timeout"
        return self._finish()

    def _timeout_sig(self, name: str) -> SignatureReport:
        return _bare_report(
            name,
            Indication.INDETERMINATE,
            SubIndication.GENERIC,
            _f(
                "time-limit",
                "验证超时，此签名未能完成验证。",
                "Verification of this signature did not finish within the time limit.",
            ),
        )

    async def run(self) -> VerificationReport:
        if b"%PDF-" not in self.pdf[:1024]:
            return self._document_report(
                "not_pdf",
                _f("not-a-pdf", "文件不是 PDF 文档。", "The file is not a PDF document."),
            )
        try:
            reader, tolerant = open_reader(self.pdf, limits=_DECODE_LIMITS)
            if tolerant is not None:
                self.doc_findings.append(tolerant)
            encrypted = reader.encrypted
            if not encrypted:
                self.revisions = reader.xrefs.total_revisions
                self.pages = page_count(reader)
        except Exception as exc:
            logger.info("unreadable PDF: %s", exc)
            return self._document_report(
                "damaged",
                _f(
                    "damaged",
                    f"PDF 文件已损坏或结构不合规，无法解析：{_short(exc)}",
                    f"The PDF is damaged or malformed and cannot be parsed: {_short(exc)}",
                ),
            )
        if encrypted:
            return self._document_report(
                "encrypted",
                _f(
                    "encrypted",
                    "PDF 文件已加密，无法验证其中的签名。",
                    "The PDF is encrypted; its signatures cannot be verified.",
                ),
            )
        self.reader = reader
        try:
            self.unaccounted = unaccounted_objects(self.pdf, reader, after=0)
        except Exception as exc:  # an xref structure we cannot walk: counted as unknown bytes
            logger.info("cannot account for the objects of the PDF: %s", exc)
            self.unaccounted = [0]
        try:
            self._collect_candidates(reader)
        except Exception as exc:
            logger.info("cannot enumerate signature fields: %s", exc)
            return self._document_report(
                "damaged",
                _f(
                    "damaged",
                    f"无法读取 PDF 的表单与签名域：{_short(exc)}",
                    f"The form and signature fields of the PDF cannot be read: {_short(exc)}",
                ),
            )
        if not self.candidates:
            return self._document_report(
                "unsigned",
                _f(
                    "no-signatures", "文件中没有签名或印章。", "The document carries no signatures."
                ),
            )
        self._read_dss(reader)
        self._read_certification(reader)

        embedded: list[tuple[_SigCandidate, EmbeddedPdfSignature]] = []
        for cand in self.candidates[:_MAX_SIGNATURES]:
            try:
                several = keep_the_signer_info_that_signed(self.pdf, cand.field)
                cand.notes.extend([several] if several is not None else [])
                emb = EmbeddedPdfSignature(reader, cand.field, cand.field_name)
            except Exception as exc:
                self.reports.append(self._unreadable(cand, exc))
                continue
            embedded.append((cand, emb))
        for cand in self.candidates[_MAX_SIGNATURES:]:
            self.reports.append(
                _bare_report(
                    cand.field_name,
                    Indication.INDETERMINATE,
                    SubIndication.GENERIC,
                    _f(
                        "too-many-signatures",
                        "签名数量超过上限，未验证。",
                        "Too many signatures; this one was not verified.",
                    ),
                )
            )
        embedded.sort(key=lambda item: item[1].signed_revision)
        # document time-stamps first: they are proofs of existence for earlier signatures
        for cand, emb in embedded:
            if emb.sig_object_type == "/DocTimeStamp":
                if self.deadline.passed:
                    self.reports.append(self._timeout_sig(cand.field_name))
                    continue
                try:
                    self.reports.append(await self._verify_doc_timestamp(cand, emb))
                except Exception as exc:
                    logger.info("time-stamp %s unreadable: %s", cand.field_name, exc)
                    self.reports.append(self._unreadable(cand, exc))
        for cand, emb in embedded:
            if emb.sig_object_type != "/DocTimeStamp":
                if self.deadline.passed:
                    self.reports.append(self._timeout_sig(cand.field_name))
                    continue
                try:
                    self.reports.append(await self._verify_signature(cand, emb))
                except Exception as exc:  # a signature pyhanko cannot even open: never a crash
                    logger.info("signature %s unreadable: %s", cand.field_name, exc)
                    self.reports.append(self._unreadable(cand, exc))
        self._summarise_last_signature()
        return self._finish()

    def _finish(self) -> VerificationReport:
        reports = tuple(sorted(self.reports, key=lambda r: (r.signed_revision or 0, r.field_name)))
        reports = self._with_positions(reports)
        indication: Indication
        sub: SubIndication | None
        if self.status != "ok" or not reports:
            indication, sub = Indication.INDETERMINATE, SubIndication.FORMAT_FAILURE
        else:
            indication, sub = overall_indication(reports)
            fatal = [f for f in self.doc_findings if f.code in _DOC_FATAL]
            if fatal and indication is not Indication.TOTAL_FAILED:
                assert MODIFIED is not None
                indication, sub = MODIFIED
        modified = any(f.code.startswith("modified-after-last") for f in self.doc_findings)
        doc = DocumentFindings(
            sha256=self.sha256,
            size=len(self.pdf),
            page_count=self.pages,
            revisions=self.revisions,
            signatures=len(reports),
            modified_after_last_signature=modified,
            modifications=tuple(self.doc_findings),
            status=self.status,
        )
        zh, en = _verdict(indication, reports, self.status, self.doc_findings)
        return VerificationReport(
            document=doc,
            signatures=reports,
            indication=indication,
            sub_indication=sub,
            verdict_zh=zh,
            verdict_en=en,
            validation_time=self.now,
        )

    def _with_positions(self, reports: tuple[SignatureReport, ...]) -> tuple[SignatureReport, ...]:
        """Each signature's widget rectangles and pages in the final revision (best effort:
        a page tree or widget that cannot be read leaves the positions empty)."""
        if self.reader is None or not reports:
            return reports
        try:
            pages = annotation_pages(self.reader)
        except Exception as exc:
            logger.info("page tree unreadable for seal positions: %s", exc)
            return reports
        fields = {c.field_name: c.field for c in self.candidates if c.hidden_since is None}
        out: list[SignatureReport] = []
        for report in reports:
            fld = fields.get(report.field_name)
            positions = widget_positions(fld, pages) if fld is not None else ()
            out.append(replace(report, positions=positions) if positions else report)
        return tuple(out)

    # ----------------------------------------------------------------- collection

    def _collect_candidates(self, reader: PdfFileReader) -> None:
        """Signature fields of the final revision, plus signatures only earlier revisions had."""
        final_refs: set[generic.Reference] = set()
        for name, sig_obj, fld in enumerate_sig_fields(reader, filled_status=True):
            ref = _ref_of(fld)
            if ref is not None:
                if ref in final_refs:
                    self.doc_findings.append(
                        _f(
                            "signature-reused",
                            f"签名 {name} 的签名字典被多个签名域共用。",
                            f"The signature dictionary of {name} is shared by several fields.",
                        )
                    )
                    continue
                final_refs.add(ref)
            del sig_obj
            self.candidates.append(_SigCandidate(field_name=str(name), field=fld, sig_ref=ref))
        assert self.revisions is not None
        last = self.revisions - 1
        seen_hidden: set[generic.Reference] = set()
        final_docmdp = _docmdp_ref(reader)
        for rev in range(last):
            if self.deadline.passed:
                break
            hist = reader.get_historical_resolver(rev)
            try:
                fields = list(enumerate_sig_fields(hist, filled_status=True))
            except Exception:  # noqa: S112 - an unreadable old revision is judged elsewhere
                continue
            for name, _sig_obj, fld in fields:
                ref = _ref_of(fld)
                if ref is None or ref in final_refs or ref in seen_hidden:
                    continue
                seen_hidden.add(ref)
                gone = _first_revision_without(reader, ref, start=rev + 1, last=last)
                self.candidates.append(
                    _SigCandidate(field_name=f"{name}", field=fld, sig_ref=ref, hidden_since=gone)
                )
            old_docmdp = _docmdp_ref(hist)
            if old_docmdp is not None and old_docmdp != final_docmdp:
                self.doc_findings.append(
                    _f(
                        "certification-removed",
                        f"第 {rev + 1} 版中的文档认证（DocMDP）在后续修订中被删除或替换。",
                        f"The document certification (DocMDP) present in revision {rev + 1} "
                        "was removed or replaced in a later revision.",
                    )
                )
                final_docmdp = old_docmdp  # report once

    def _read_dss(self, reader: PdfFileReader) -> None:
        try:
            dss = DocumentSecurityStore.read_dss(reader)
        except NoDSSFoundError:
            return
        except Exception as exc:
            self.doc_findings.append(
                _f(
                    "dss-unreadable",
                    f"文档安全存储（DSS）无法读取：{_short(exc)}",
                    f"The document security store (DSS) cannot be read: {_short(exc)}",
                )
            )
            return
        ocsps: list[bytes] = []
        crls: list[bytes] = []
        certs: list[asn1_x509.Certificate] = []
        try:
            for obj in dss.ocsps:
                ocsps.append(obj.get_object().read_data(DecodePurpose.OCSP_RESPONSE))
            for obj in dss.crls:
                crls.append(obj.get_object().read_data(DecodePurpose.CRL))
            certs.extend(dss.load_certs())
        except Exception as exc:
            logger.info("DSS entries unreadable: %s", exc)
        self.dss_material = RevocationMaterial(
            ocsps=tuple(o for o in ocsps if classify_revinfo(o) is RevinfoKind.OCSP),
            crls=tuple(c for c in crls if classify_revinfo(c) is RevinfoKind.CRL),
            certs=tuple(certs),
        )
        try:
            dss_ref = reader.root.raw_get("/DSS")
            if isinstance(dss_ref, generic.IndirectObject):
                self.dss_revision = reader.xrefs.get_last_change(dss_ref.reference)
            else:
                self.dss_revision = reader.xrefs.total_revisions - 1
        except Exception:
            self.dss_revision = None

    def _read_certification(self, reader: PdfFileReader) -> None:
        try:
            sig = reader.root["/Perms"]["/DocMDP"]
            perm = _docmdp_of(sig)
        except Exception:
            return
        if perm is not None:
            self.certified_allows_forms = perm.value >= MDPPerm.FILL_FORMS.value
            self.certified_allows_annotations = perm.value >= MDPPerm.ANNOTATE.value

    # ----------------------------------------------------------------- one signature

    def _unreadable(self, cand: _SigCandidate, exc: Exception) -> SignatureReport:
        acc = _Acc()
        acc.fail(
            SubIndication.FORMAT_FAILURE,
            _f(
                "signature-unreadable",
                "签名数据无法读取（/Contents 为空、被清零或不是 CMS 签名，或缺少 /ByteRange）："
                "这是伪造签名的典型特征。",
                "The signature value cannot be read (/Contents empty, zeroed or not a CMS "
                "signature, or /ByteRange missing): a hallmark of a forged signature. "
                f"({_short(exc)})",
            ),
        )
        if cand.hidden_since is not None:
            acc.apply(FindingClass.SIGNATURE_HIDDEN, _hidden_finding(cand))
        return _bare_report(cand.field_name, acc.indication, acc.sub, *acc.ordered())

    async def _verify_doc_timestamp(
        self, cand: _SigCandidate, emb: EmbeddedPdfSignature
    ) -> SignatureReport:
        acc = _Acc()
        tsa_vc = self._ts_context(emb)
        status: DocumentTimestampStatus | None = None
        try:
            status = await async_validate_pdf_timestamp(
                emb, validation_context=tsa_vc, diff_policy=DIFF_POLICY
            )
        except Exception as exc:
            acc.apply(FindingClass.PROCESSING_FAILED, _processing_failed(exc))
        coverage = _coverage(emb.coverage)
        mods = ModificationsAfter.NONE
        if status is not None:
            self._integrity(acc, status.intact, status.valid)
            mods = self._modifications(acc, emb, certification=None, is_timestamp=True)
            if not status.trusted:
                acc.indeterminate(
                    SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                    _f(
                        "tsa-untrusted",
                        "文档时间戳的签发机构（TSA）证书无法链接到受信任的根证书。",
                        "The certificate of the time-stamping authority does not chain to a "
                        "recognised trust anchor.",
                    ),
                )
        self._coverage_check(acc, emb)
        if cand.hidden_since is not None:
            acc.apply(FindingClass.SIGNATURE_HIDDEN, _hidden_finding(cand))
        ok = acc.indication is None
        ts_time = status.timestamp if status is not None else None
        if ts_time is not None:
            self.doc_timestamps.append(
                _DocTsRecord(revision=emb.signed_revision, time=ts_time, ok=ok)
            )
        if ok:
            acc.add(
                _f(
                    "doc-timestamp-ok",
                    "文档时间戳有效，证明此前的文档内容在该时间已存在。",
                    "The document time-stamp is valid: it proves the earlier revisions existed "
                    "at that time.",
                )
            )
        signer = _signer_info(emb.signer_cert) if _has_cert(emb) else None
        return SignatureReport(
            field_name=cand.field_name,
            kind=SignatureKind.DOCUMENT_TIMESTAMP,
            signer=signer,
            seal=None,
            claimed_signing_time=None,
            timestamp_time=ts_time,
            tsa=signer.summary if signer else None,
            pades_level=None,
            integrity=_integrity_of(status),
            chain=_chain_subjects(status.validation_path) if status else (),
            trust_anchor=_anchor_subject(status.validation_path) if status else None,
            trust_anchor_is_ours=self._anchor_is_ours(status.validation_path if status else None),
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

    async def _verify_signature(
        self, cand: _SigCandidate, emb: EmbeddedPdfSignature
    ) -> SignatureReport:
        acc = _Acc()
        for note in cand.notes:
            acc.add(note)
        subfilter = str(emb.sig_object.get("/SubFilter", ""))
        docmdp = _safe(lambda: emb.docmdp_level)
        is_certification = _is_certification(self.reader, cand.sig_ref) or (
            cand.hidden_since is not None and docmdp is not None
        )
        embedded_material = self.dss_material + _cms_revinfo(emb)
        other_certs = [*emb.other_embedded_certs, *embedded_material.certs]
        status: PdfSignatureStatus | None = None
        try:
            status = await async_validate_pdf_signature(
                emb,
                signer_validation_context=self.trust.validation_context(
                    moment=self.now, other_certs=other_certs, require_revocation=False
                ),
                ts_validation_context=self._ts_context(emb),
                diff_policy=DIFF_POLICY,
                key_usage_settings=KeyUsageConstraints(
                    key_usage={"digital_signature", "non_repudiation"},
                    match_all_key_usages=False,
                ),
            )
        except Exception as exc:
            if _is_network_failure(exc):
                acc.indeterminate(SubIndication.TRY_LATER, _network_finding(exc))
            else:
                acc.apply(FindingClass.PROCESSING_FAILED, _processing_failed(exc))

        if cand.hidden_since is not None:
            acc.apply(FindingClass.SIGNATURE_HIDDEN, _hidden_finding(cand))
        mods = ModificationsAfter.NONE
        ts_time: datetime | None = None
        tsa_name: str | None = None
        claimed: datetime | None = _safe(lambda: emb.self_reported_timestamp)
        if status is not None:
            self._integrity(acc, status.intact, status.valid)
            mods = self._modifications(
                acc, emb, certification=docmdp if is_certification else None, is_timestamp=False
            )
            claimed = status.signer_reported_dt or claimed
            tsv: TimestampSignatureStatus | None = status.timestamp_validity
            if tsv is not None:
                ts_time = tsv.timestamp
                tsa_name = _signer_info(tsv.signing_cert).summary
                if not (tsv.intact and tsv.valid):
                    acc.fail(
                        SubIndication.HASH_FAILURE,
                        _f(
                            "timestamp-broken",
                            "签名时间戳与签名不匹配或已被篡改。",
                            "The signature time-stamp does not match the signature or was "
                            "tampered with.",
                        ),
                    )
                    ts_time = None
                elif not tsv.trusted:
                    acc.add(
                        _f(
                            "timestamp-untrusted",
                            "签名时间戳的签发机构不受信任，不能作为签署时间的证明。",
                            "The time-stamping authority is not trusted; the time-stamp is not "
                            "accepted as proof of the signing time.",
                        )
                    )
                    ts_time = None
        self._coverage_check(acc, emb)
        if subfilter not in ("/ETSI.CAdES.detached", "/adbe.pkcs7.detached"):
            acc.fail(
                SubIndication.FORMAT_FAILURE,
                _f(
                    "unsupported-subfilter",
                    f"不支持的签名格式 {subfilter or '(无)'}。",
                    f"Unsupported signature format {subfilter or '(none)'}.",
                ),
            )

        # proof of existence: the signature time-stamp, else a later valid document time-stamp
        poe = ts_time
        if poe is None:
            later = [d for d in self.doc_timestamps if d.ok and d.revision > emb.signed_revision]
            if later:
                poe = min(d.time for d in later)
                acc.add(
                    _f(
                        "poe-doc-timestamp",
                        "签署时间由其后的文档时间戳证明。",
                        "The signing time is proven by a later document time-stamp.",
                    )
                )

        signer: SignerInfo | None = None
        seal: SealInfo | None = None
        cert_result = _CertAssessment()
        if _has_cert(emb):
            signer_cert = emb.signer_cert
            signer = _signer_info(signer_cert)
            if status is not None and status.intact and status.valid:
                cert_result = await self._assess_certificate(
                    acc,
                    signer_cert,
                    other_certs=other_certs,
                    embedded=embedded_material,
                    poe=poe,
                )
                if cert_result.anchor_ours and self.seal_lookup is not None:
                    seal = self.seal_lookup(_to_crypto(signer_cert))
                    if seal is not None and seal.status not in ("active", "ACTIVE"):
                        acc.add(
                            _f(
                                "seal-status",
                                f"印章当前状态：{seal.status}（不影响签署时的有效性）。",
                                f"The seal's current status is {seal.status} (this does not "
                                "change validity at signing time).",
                            )
                        )
        else:
            acc.indeterminate(
                SubIndication.NO_SIGNING_CERTIFICATE_FOUND,
                _f(
                    "no-signer-cert",
                    "签名中找不到签署者证书。",
                    "The signer's certificate is not in the signature.",
                ),
            )

        level = self._pades_level(
            subfilter=subfilter,
            has_ts=ts_time is not None,
            signed_revision=emb.signed_revision,
            embedded_leaf_revinfo=cert_result.embedded_revinfo_for_leaf,
        )
        indication = acc.indication or Indication.TOTAL_PASSED
        if indication is Indication.TOTAL_PASSED:
            acc.findings.insert(
                0,
                _f(
                    "signature-ok",
                    "签名完整有效，签署后文档未被篡改。",
                    "The signature is intact and valid; the document was not tampered with "
                    "after signing.",
                ),
            )
        return SignatureReport(
            field_name=cand.field_name,
            kind=SignatureKind.CERTIFICATION if is_certification else SignatureKind.APPROVAL,
            signer=signer,
            seal=seal,
            claimed_signing_time=claimed,
            timestamp_time=ts_time,
            tsa=tsa_name,
            pades_level=level,
            integrity=_integrity_of(status),
            chain=cert_result.chain,
            trust_anchor=cert_result.anchor,
            trust_anchor_is_ours=cert_result.anchor_ours,
            revocation=cert_result.revocation,
            coverage=_coverage(emb.coverage),
            modifications_after=mods,
            certification=docmdp.name if (is_certification and docmdp is not None) else None,
            signed_revision=emb.signed_revision,
            indication=indication,
            sub_indication=acc.sub,
            findings=acc.ordered(),
        )

    # ----------------------------------------------------------------- checks

    @staticmethod
    def _integrity(acc: _Acc, intact: bool, valid: bool) -> None:
        if not intact:
            acc.apply(
                FindingClass.DIGEST_MISMATCH,
                _f(
                    "digest-mismatch",
                    "签名覆盖的字节与签名时不一致：文档在签署后被改动（或 ByteRange 被改写）。",
                    "The signed bytes do not match the signature's digest: the document was "
                    "altered after signing (or its ByteRange was rewritten).",
                ),
            )
        elif not valid:
            acc.apply(
                FindingClass.SIGNATURE_INVALID,
                _f(
                    "signature-invalid",
                    "签名值无法用签署者证书的公钥验证通过。",
                    "The signature value does not verify with the signer's public key.",
                ),
            )

    @staticmethod
    def _coverage_check(acc: _Acc, emb: EmbeddedPdfSignature) -> None:
        level = emb.coverage
        if level is None:
            return
        if level < SignatureCoverageLevel.ENTIRE_REVISION:
            acc.fail(
                SubIndication.FORMAT_FAILURE,
                _f(
                    "coverage-anomalous",
                    "签名的字节范围（ByteRange）没有完整覆盖其所属的文档版本，或指向了别处："
                    "这是签名包装攻击的特征。",
                    "The signature's ByteRange does not cover its whole document revision or "
                    "points elsewhere: a hallmark of a signature-wrapping attack.",
                ),
            )

    def _modifications(
        self,
        acc: _Acc,
        emb: EmbeddedPdfSignature,
        *,
        certification: MDPPerm | None,
        is_timestamp: bool,
    ) -> ModificationsAfter:
        signed_end = _signed_end(emb)
        stray = [o for o in self.unaccounted if signed_end is None or o >= signed_end]
        if stray:
            acc.apply(FindingClass.UNACCOUNTED_BYTES, unaccounted_finding(stray))
            return ModificationsAfter.OTHER
        diff = emb.diff_result
        if diff is None:
            return ModificationsAfter.NONE
        if isinstance(diff, SuspiciousModification) or not isinstance(diff, DiffResult):
            if emb.coverage is not None and emb.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
                return ModificationsAfter.OTHER  # reported as a coverage problem
            acc.apply(
                FindingClass.CONTENT_CHANGED,
                _f(
                    "modified-after-signing",
                    f"签署后文档内容被修改（增量更新中改动了页面、对象或结构）：{_short(diff)}",
                    "The document content was changed after signing (an incremental update "
                    f"altered pages, objects or structure): {_short(diff)}",
                ),
            )
            return ModificationsAfter.OTHER
        level = diff.modification_level
        if level == ModificationLevel.OTHER:
            acc.apply(
                FindingClass.CONTENT_CHANGED,
                _f(
                    "modified-after-signing",
                    "签署后文档被以不允许的方式修改（例如页面内容、页面增删或签名外观被改写）。",
                    "The document was changed after signing in a way no signature allows "
                    "(e.g. page content, pages added or removed, or appearances overwritten).",
                ),
            )
            return ModificationsAfter.OTHER
        if certification is not None and level.value > certification.value:
            acc.apply(
                FindingClass.DOCMDP_VIOLATED,
                _f(
                    "docmdp-violated",
                    f"签署后的修改超出了认证签名允许的范围（{certification.name}）。",
                    "Changes after signing exceed what the certification signature allows "
                    f"({certification.name}).",
                ),
            )
        sig_fields = self._signature_field_names()
        changed = set(diff.changed_form_fields)
        non_sig = sorted(n for n in changed if n not in sig_fields)
        if level == ModificationLevel.ANNOTATIONS:
            self._annotations(acc, emb)
            return ModificationsAfter.ANNOTATIONS
        if level == ModificationLevel.FORM_FILLING:
            if non_sig:
                names = ", ".join(non_sig[:5])
                lock = _safe(lambda: emb.fieldmdp)
                unlocked = lock is not None and not any(lock.is_locked(n) for n in non_sig)
                if unlocked:
                    acc.apply(
                        FindingClass.FORM_FILLED_PERMITTED,
                        _f(
                            "form-filled-allowed",
                            f"签署后填写了表单域（{names}），签署者的字段锁定（SigFieldLock）"
                            "未锁定这些字段。",
                            f"Form fields were filled after signing ({names}); the signer's "
                            "field lock (SigFieldLock) leaves them open.",
                        ),
                    )
                elif self.certified_allows_forms and (
                    certification is None or certification.value >= MDPPerm.FILL_FORMS.value
                ):
                    acc.add(
                        _f(
                            "form-filled-allowed",
                            f"签署后填写了表单域（{names}），认证签名允许此类修改。",
                            f"Form fields were filled after signing ({names}); the "
                            "certification signature allows this.",
                        )
                    )
                else:
                    acc.indeterminate(
                        SubIndication.SIG_CONSTRAINTS_FAILURE,
                        _f(
                            "form-changed-after-signing",
                            f"签署后表单域的值被修改（{names}），签署者并未允许："
                            "页面显示的内容可能已不同于签署时。",
                            f"Form field values were changed after signing ({names}) without "
                            "the signer's permission: the page may no longer show what was "
                            "signed.",
                        ),
                    )
                return ModificationsAfter.FORM_FILLING
            acc.add(
                _f(
                    "later-signatures",
                    "签署后仅添加了其他签名。",
                    "Only further signatures were added after this one.",
                )
            )
            return ModificationsAfter.FORM_FILLING
        if level == ModificationLevel.LTA_UPDATES:
            acc.add(
                _f(
                    "ltv-updates",
                    "签署后仅添加了长期验证数据（DSS）或文档时间戳。",
                    "Only long-term validation data (DSS) or document time-stamps were added "
                    "after signing.",
                )
            )
        return ModificationsAfter.NONE

    def _annotations(self, acc: _Acc, emb: EmbeddedPdfSignature) -> None:
        """Annotations added after signing: reported, a failure where one covers signed
        content (seals/verification/annotations.py)."""
        assert self.reader is not None and self.revisions is not None
        signed_end = _signed_end(emb)
        signed_pdf = self.pdf[:signed_end] if signed_end is not None else None
        acc.apply(*judge_annotations(self.reader, emb.signed_revision, signed_pdf, self.pdf))

    def _signature_field_names(self) -> set[str]:
        return {c.field_name for c in self.candidates}

    def _ts_context(self, emb: EmbeddedPdfSignature) -> Any:
        material = self.dss_material + _cms_revinfo(emb)
        return self.trust.validation_context(
            moment=self.now,
            other_certs=[*emb.other_embedded_certs, *material.certs],
            revocation=material,
            require_revocation=False,
            fetcher_backend=self.backend,
        )

    def _anchor_is_ours(self, path: ValidationPath | None) -> bool:
        if path is None:
            return False
        try:
            anchor_cert = getattr(path.trust_anchor, "certificate", None)
            if anchor_cert is None:
                return False
            anchor = self.trust.anchor_for(anchor_cert)
        except Exception:
            return False
        return anchor is not None and anchor.ours

    def _pades_level(
        self,
        *,
        subfilter: str,
        has_ts: bool,
        signed_revision: int,
        embedded_leaf_revinfo: bool,
    ) -> str | None:
        if subfilter != "/ETSI.CAdES.detached":
            return None
        later_ts = [d for d in self.doc_timestamps if d.ok and d.revision > signed_revision]
        if not (has_ts or later_ts):
            return "B-B"
        if not (embedded_leaf_revinfo and self.dss_revision is not None):
            return "B-T"
        if later_ts:
            return "B-LTA"
        return "B-LT"

    async def _assess_certificate(
        self,
        acc: _Acc,
        cert: asn1_x509.Certificate,
        *,
        other_certs: list[asn1_x509.Certificate],
        embedded: RevocationMaterial,
        poe: datetime | None,
    ) -> _CertAssessment:
        result = _CertAssessment()
        moment = poe if poe is not None and poe <= self.now else self.now
        _key_usage_check(acc, cert)
        # 1. find a path to one of our anchors (no revocation yet)
        probe = self.trust.validation_context(
            moment=moment,
            other_certs=other_certs,
            require_revocation=False,
            fetcher_backend=self.backend,
        )
        try:
            paths = await probe.path_builder.async_build_paths(cert)
        except (PathBuildingError, Exception) as exc:
            logger.debug("no path: %s", exc)
            paths = []
        if not paths:
            acc.indeterminate(
                SubIndication.NO_CERTIFICATE_CHAIN_FOUND,
                _f(
                    "untrusted-ca",
                    "签署者证书不是由本平台或受认可的电子认证服务机构签发的，无法确认签署者身份。",
                    "The signer's certificate was not issued by this platform or by a "
                    "recognised certification authority; the signer cannot be confirmed.",
                ),
            )
            return result
        path = paths[0]
        result.chain = _chain_subjects(path)
        result.anchor = _anchor_subject(path)
        result.anchor_ours = self._anchor_is_ours(path)
        if self.trust.anchor_for(cert) is not None:
            outcome = assess_pinned(cert, moment=moment, poe=poe)
            for finding in outcome.findings:
                acc.add(finding)
            if outcome.failure is not None:
                (acc.fail if outcome.failure_is_total else acc.indeterminate)(*outcome.failure)
            result.revocation = outcome.revocation
            return result

        # 2. revocation material: ours from the service, others from the document
        material = embedded
        service = RevocationMaterial()
        source = RevocationSource.NONE
        leaf_service: RevinfoKind | None = None
        if result.anchor_ours and self.revocation_lookup is not None:
            certs = list(path.iter_certs(include_root=True))
            for issuer, subject in itertools.pairwise(certs):
                der = self.revocation_lookup(_to_crypto(issuer), _to_crypto(subject))
                if der is None:
                    continue
                kind = classify_revinfo(der)
                if kind is RevinfoKind.OCSP:
                    service = service + RevocationMaterial(ocsps=(der,))
                elif kind is RevinfoKind.CRL:
                    service = service + RevocationMaterial(crls=(der,))
                if subject.dump() == cert.dump():
                    leaf_service = kind
            material = material + service
        result.embedded_revinfo_for_leaf = _covers(embedded, cert)
        if leaf_service is RevinfoKind.OCSP:
            source = RevocationSource.SERVICE
        elif leaf_service is RevinfoKind.CRL:
            source = RevocationSource.CRL
        elif result.embedded_revinfo_for_leaf:
            source = RevocationSource.EMBEDDED_DSS

        # 3. validate the path at the proven signing time (or now), revocation required
        at_poe = await self._validate_at(cert, other_certs, material, moment)
        revoked_at: datetime | None = None
        if isinstance(at_poe, RevokedError):
            revoked_at = at_poe.revocation_dt
            ca = _is_ca_revocation(at_poe)
            if poe is not None and moment == poe:
                acc.fail(
                    SubIndication.REVOKED,
                    _f(
                        "revoked",
                        f"{'CA ' if ca else ''}证书在签署时间（{_fmt(poe)}）之前已于 "
                        f"{_fmt(revoked_at)} 被吊销。",
                        f"The {'CA' if ca else 'signer'} certificate was revoked on "
                        f"{_fmt(revoked_at)}, before the proven signing time {_fmt(poe)}.",
                    ),
                )
            else:
                acc.indeterminate(
                    SubIndication.REVOKED_CA_NO_POE if ca else SubIndication.REVOKED_NO_POE,
                    _f(
                        "revoked-no-poe",
                        f"证书已于 {_fmt(revoked_at)} 被吊销，且没有时间戳证明签名早于吊销时间。",
                        f"The certificate was revoked on {_fmt(revoked_at)} and no time-stamp "
                        "proves the signature was made before that.",
                    ),
                )
            result.revocation = RevocationInfo(
                status=RevocationStatus.REVOKED,
                source=source,
                revoked_at=revoked_at,
                checked_at=moment,
            )
            return result
        if isinstance(at_poe, ExpiredError | NotYetValidError):
            expired = isinstance(at_poe, ExpiredError)
            if poe is not None:
                acc.fail(
                    SubIndication.EXPIRED if expired else SubIndication.NOT_YET_VALID,
                    _f(
                        "cert-out-of-validity",
                        f"证书在签署时间（{_fmt(poe)}）{'已过期' if expired else '尚未生效'}。",
                        f"The certificate was {'expired' if expired else 'not yet valid'} at "
                        f"the proven signing time {_fmt(poe)}.",
                    ),
                )
            else:
                acc.indeterminate(
                    SubIndication.OUT_OF_BOUNDS_NO_POE,
                    _f(
                        "cert-out-of-validity-no-poe",
                        f"证书当前{'已过期' if expired else '尚未生效'}，"
                        "且没有时间戳证明签署时间。",
                        f"The certificate is {'expired' if expired else 'not yet valid'} now and "
                        "no time-stamp proves when the signature was made.",
                    ),
                )
            return result
        if isinstance(at_poe, InsufficientRevinfoError):
            # revoked only after the proven signing time? then the signature stands.
            later = None
            if poe is not None and moment < self.now:
                later = await self._validate_at(cert, other_certs, material, self.now)
            if isinstance(later, RevokedError) and poe is not None and later.revocation_dt > poe:
                acc.add(_revoked_later(later.revocation_dt, poe))
                result.revocation = RevocationInfo(
                    status=RevocationStatus.REVOKED_AFTER_SIGNING,
                    source=source,
                    revoked_at=later.revocation_dt,
                    checked_at=moment,
                )
                return result
            acc.indeterminate(
                SubIndication.TRY_LATER,
                _f(
                    "no-revocation-info",
                    "无法获得签署者证书在签署时间的吊销状态（文档中未嵌入，也无法从服务获取）。",
                    "The revocation status of the signer's certificate at the signing time is "
                    "not available (not embedded in the document, not obtainable).",
                ),
            )
            result.revocation = RevocationInfo(
                status=RevocationStatus.UNKNOWN, source=RevocationSource.NONE, checked_at=moment
            )
            return result
        if isinstance(at_poe, DisallowedAlgorithmError):
            acc.indeterminate(
                SubIndication.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
                _f(
                    "weak-algorithm",
                    "证书链使用了不再安全的算法。",
                    "The certificate chain uses an algorithm no longer considered secure.",
                ),
            )
            return result
        if isinstance(at_poe, Exception):
            acc.indeterminate(
                SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
                _f(
                    "chain-invalid",
                    f"证书链验证失败：{_short(at_poe)}",
                    f"The certificate chain does not validate: {_short(at_poe)}",
                ),
            )
            return result
        # good at the signing time; say so if it was revoked since
        status = RevocationStatus.GOOD
        if poe is not None and moment < self.now:
            # Today's status: for our own certificates the service's answer is authoritative;
            # a still-fresh "good" embedded at signing time must not hide a later revocation.
            current = service if leaf_service is not None else material
            later = await self._validate_at(cert, other_certs, current, self.now)
            if isinstance(later, RevokedError) and later.revocation_dt > poe:
                acc.add(_revoked_later(later.revocation_dt, poe))
                status = RevocationStatus.REVOKED_AFTER_SIGNING
                revoked_at = later.revocation_dt
        result.revocation = RevocationInfo(
            status=status, source=source, revoked_at=revoked_at, checked_at=moment
        )
        if result.anchor_ours:
            acc.add(
                _f(
                    "trusted-ours",
                    "签署者证书由本平台电子认证服务签发，证书链完整。",
                    "The signer's certificate was issued by this platform's CA; the chain is "
                    "complete.",
                )
            )
        else:
            acc.add(
                _f(
                    "trusted-recognised",
                    f"签署者证书由受认可的电子认证服务机构签发（{result.anchor}）。",
                    f"The signer's certificate was issued by a recognised CA ({result.anchor}).",
                )
            )
        return result

    async def _validate_at(
        self,
        cert: asn1_x509.Certificate,
        other_certs: list[asn1_x509.Certificate],
        material: RevocationMaterial,
        moment: datetime,
    ) -> ValidationPath | Exception:
        vc = self.trust.validation_context(
            moment=moment,
            other_certs=other_certs,
            revocation=material,
            require_revocation=True,
            fetcher_backend=self.backend,
        )
        validator = CertificateValidator(cert, other_certs, validation_context=vc)
        try:
            return await validator.async_validate_path()
        except (PathValidationError, PathBuildingError, InvalidCertificateError) as exc:
            return exc
        except ValidationError as exc:
            return exc
        except Exception as exc:
            logger.info("path validation failed unexpectedly: %s", exc)
            return exc

    def _summarise_last_signature(self) -> None:
        reports = [r for r in self.reports if r.signed_revision is not None]
        if not reports or self.revisions is None:
            return
        last = max(reports, key=lambda r: r.signed_revision or 0)
        if last.modifications_after is ModificationsAfter.NONE:
            if last.coverage is Coverage.ENTIRE_REVISION:
                self.doc_findings.append(
                    _f(
                        "ltv-after-last",
                        "最后一个签名之后仅添加了长期验证数据。",
                        "After the last signature only long-term validation data was added.",
                    )
                )
            return
        self.doc_findings.append(
            _f(
                f"modified-after-last-signature-{last.modifications_after.value}",
                "最后一个签名之后文档被修改："
                + {
                    ModificationsAfter.FORM_FILLING: "表单填写或新增签名。",
                    ModificationsAfter.ANNOTATIONS: "注释被添加或修改。",
                    ModificationsAfter.OTHER: "内容或结构被改动。",
                }.get(last.modifications_after, ""),
                "The document was changed after the last signature: "
                + {
                    ModificationsAfter.FORM_FILLING: "form filling or new signatures.",
                    ModificationsAfter.ANNOTATIONS: "annotations added or changed.",
                    ModificationsAfter.OTHER: "content or structure altered.",
                }.get(last.modifications_after, ""),
            )
        )


# --------------------------------------------------------------------------- helpers


def _bare_report(
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


def _signed_end(emb: EmbeddedPdfSignature) -> int | None:
    """Where the bytes a signature covers end (None when its ByteRange is unusable)."""
    try:
        values = [int(v) for v in emb.byte_range]
    except Exception:
        return None
    return values[2] + values[3] if len(values) == 4 else None


def _integrity_of(status: PdfSignatureStatus | DocumentTimestampStatus | None) -> bool | None:
    """True/false only when the digest was computed; None when validation never got there."""
    if status is None:
        return None
    return bool(status.intact and status.valid)


def _is_network_failure(exc: BaseException) -> bool:
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


def _network_finding(exc: BaseException) -> Finding:
    return _f(
        "network-unavailable",
        f"获取验证数据（OCSP/CRL/证书）时网络失败（{type(exc).__name__}），请稍后再试。",
        f"Fetching validation data (OCSP/CRL/certificates) failed on the network "
        f"({type(exc).__name__}); try again later.",
    )


def _revoked_later(revoked_at: datetime, poe: datetime) -> Finding:
    return _f(
        "revoked-after-signing",
        f"证书于 {_fmt(revoked_at)} 被吊销，晚于经时间戳证明的签署时间 {_fmt(poe)}，"
        "签名在签署时有效。",
        f"The certificate was revoked on {_fmt(revoked_at)}, after the proven signing time "
        f"{_fmt(poe)}; the signature was valid when made.",
    )


def _hidden_finding(cand: _SigCandidate) -> Finding:
    rev = (cand.hidden_since or 0) + 1
    return _f(
        "signature-hidden",
        f"此签名在第 {rev} 版中被从表单中移除或替换（隐藏签名攻击）：文档已被篡改。",
        f"This signature was unlinked from the form or replaced in revision {rev} "
        "(hidden-signature attack): the document was tampered with.",
    )


def _processing_failed(exc: Exception) -> Finding:
    return _f(
        "signature-malformed",
        f"签名结构不合规，无法验证：{_short(exc)}",
        f"The signature is malformed and cannot be verified: {_short(exc)}",
    )


def _key_usage_check(acc: _Acc, cert: asn1_x509.Certificate) -> None:
    try:
        usage = cert.key_usage_value
    except Exception:
        return
    if usage is None:
        return
    bits = set(usage.native)
    if not bits & {"digital_signature", "non_repudiation"}:
        acc.indeterminate(
            SubIndication.CHAIN_CONSTRAINTS_FAILURE,
            _f(
                "key-usage",
                "签署者证书的密钥用途不允许签名。",
                "The signer's certificate key usage does not allow signing.",
            ),
        )


def _is_ca_revocation(exc: RevokedError) -> bool:
    """Whether the revoked certificate is a CA in the path rather than the signer's own."""
    state = getattr(exc, "proc_state", None)
    try:
        return state is not None and not state.is_ee_cert
    except Exception:
        return False


def _covers(material: RevocationMaterial, cert: asn1_x509.Certificate) -> bool:
    """Whether embedded material names the certificate (OCSP by serial, CRL by issuer)."""
    from asn1crypto import crl as asn1_crl
    from asn1crypto import ocsp as asn1_ocsp

    serial = cert.serial_number
    issuer = cert.issuer
    for der in material.ocsps:
        try:
            basic = asn1_ocsp.OCSPResponse.load(der)["response_bytes"]["response"].parsed
            for single in basic["tbs_response_data"]["responses"]:
                if single["cert_id"]["serial_number"].native == serial:
                    return True
        except Exception:  # noqa: S112
            continue
    for der in material.crls:
        try:
            if asn1_crl.CertificateList.load(der)["tbs_cert_list"]["issuer"] == issuer:
                return True
        except Exception:  # noqa: S112
            continue
    return False


def _cms_revinfo(emb: EmbeddedPdfSignature) -> RevocationMaterial:
    """Revocation data in the CMS adbe-revocationInfoArchival signed attribute."""
    try:
        archival = find_unique_cms_attribute(
            emb.signer_info["signed_attrs"], "adobe_revocation_info_archival"
        )
    except Exception:
        return RevocationMaterial()
    try:
        return RevocationMaterial(
            ocsps=tuple(o.dump() for o in archival["ocsp"] or ()),
            crls=tuple(c.dump() for c in archival["crl"] or ()),
        )
    except Exception:
        return RevocationMaterial()


def _has_cert(emb: EmbeddedPdfSignature) -> bool:
    try:
        return emb.signer_cert is not None
    except Exception:
        return False


def _to_crypto(cert: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _signer_info(cert: asn1_x509.Certificate) -> SignerInfo:
    crypto = _to_crypto(cert)
    subject = crypto.subject

    def attr(oid: x509.ObjectIdentifier) -> str | None:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else None

    cn = attr(x509.NameOID.COMMON_NAME)
    org = attr(x509.NameOID.ORGANIZATION_NAME)
    org_id = attr(_ORGANIZATION_IDENTIFIER)
    serial_attr = attr(x509.NameOID.SERIAL_NUMBER)
    credit = org_id[len("NTRCN-") :] if org_id and org_id.startswith("NTRCN-") else None
    resident = (
        mask_resident_id(serial_attr[len("IDCCN-") :])
        if serial_attr and serial_attr.startswith("IDCCN-")
        else None
    )
    if org and credit:
        summary = f"{org}（统一社会信用代码 {credit}）"
        if cn and cn != org:
            summary = f"{cn} / {summary}"
    elif resident:
        summary = f"{cn or ''}（身份证 {resident}）"
    else:
        summary = cn or org or _masked_dn(crypto.subject)
    return SignerInfo(
        summary=summary,
        common_name=cn,
        organization=org,
        credit_code=credit,
        resident_id_masked=resident,
        certificate_sha256=hashlib.sha256(cert.dump()).hexdigest(),
        certificate_serial=format(crypto.serial_number, "x"),
        issuer=crypto.issuer.rfc4514_string(),
        not_before=_safe(lambda: crypto.not_valid_before_utc),
        not_after=_safe(lambda: crypto.not_valid_after_utc),
    )


_SHORT_NAMES = {
    x509.NameOID.COMMON_NAME: "CN",
    x509.NameOID.ORGANIZATION_NAME: "O",
    x509.NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    x509.NameOID.COUNTRY_NAME: "C",
    x509.NameOID.STATE_OR_PROVINCE_NAME: "ST",
    x509.NameOID.LOCALITY_NAME: "L",
    x509.NameOID.SERIAL_NUMBER: "serialNumber",
    _ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


def _masked_dn(name: x509.Name) -> str:
    """`CN=..., O=..., C=...` most specific first; resident ID numbers masked."""
    parts = []
    for attribute in reversed(list(name)):
        value = str(attribute.value)
        if attribute.oid == x509.NameOID.SERIAL_NUMBER and value.startswith("IDCCN-"):
            value = "IDCCN-" + mask_resident_id(value[6:])
        label = _SHORT_NAMES.get(attribute.oid, attribute.oid.dotted_string)
        parts.append(f"{label}={value}")
    return ", ".join(parts)


def _chain_subjects(path: ValidationPath | None) -> tuple[str, ...]:
    if path is None:
        return ()
    try:
        certs = list(path.iter_certs(include_root=True))
    except Exception:
        return ()
    out = []
    for cert in reversed(certs):
        out.append(_masked_dn(_to_crypto(cert).subject))
    return tuple(out)


def _anchor_subject(path: ValidationPath | None) -> str | None:
    if path is None:
        return None
    try:
        return _masked_dn(_to_crypto(path.trust_anchor.certificate).subject)  # type: ignore[attr-defined]
    except Exception:
        return None


def _coverage(level: SignatureCoverageLevel | None) -> Coverage:
    if level == SignatureCoverageLevel.ENTIRE_FILE:
        return Coverage.ENTIRE_FILE
    if level == SignatureCoverageLevel.ENTIRE_REVISION:
        return Coverage.ENTIRE_REVISION
    return Coverage.ANOMALOUS


def _ref_of(fld: Any) -> generic.Reference | None:
    try:
        if isinstance(fld, generic.IndirectObject):
            fld = fld.get_object()
        raw = fld.raw_get("/V")
    except Exception:
        return None
    return raw.reference if isinstance(raw, generic.IndirectObject) else None


def _docmdp_ref(handler: Any) -> generic.Reference | None:
    try:
        raw = handler.root["/Perms"].raw_get("/DocMDP")
    except Exception:
        return None
    return raw.reference if isinstance(raw, generic.IndirectObject) else None


def _docmdp_of(sig: Any) -> MDPPerm | None:
    try:
        for ref in sig["/Reference"]:
            ref = ref.get_object()
            if ref["/TransformMethod"] == "/DocMDP":
                return MDPPerm(ref["/TransformParams"].get("/P", 2))
    except Exception:
        return None
    return None


def _is_certification(reader: PdfFileReader | None, ref: generic.Reference | None) -> bool:
    return reader is not None and ref is not None and _docmdp_ref(reader) == ref


def _first_revision_without(
    reader: PdfFileReader, ref: generic.Reference, *, start: int, last: int
) -> int:
    for rev in range(start, last + 1):
        try:
            refs = {
                _ref_of(fld)
                for _n, _s, fld in enumerate_sig_fields(
                    reader.get_historical_resolver(rev), filled_status=True
                )
            }
        except Exception:
            return rev
        if ref not in refs:
            return rev
    return last


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        return None


def _short(exc: object, limit: int = 200) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if value else "?"


def _verdict(
    indication: Indication,
    reports: Iterable[SignatureReport],
    status: str,
    doc_findings: list[Finding],
) -> tuple[str, str]:
    reports = list(reports)
    if status != "ok" or not reports:
        first = doc_findings[0] if doc_findings else None
        zh = "无法验证：" + (first.zh if first else "文档无法处理。")
        en = "Cannot verify: " + (first.en if first else "the document cannot be processed.")
        return zh, en
    n = len(reports)
    if indication is Indication.TOTAL_PASSED:
        return (
            f"验证通过：全部 {n} 个签名有效，签署后文档未被篡改。",
            f"Valid: all {n} signature(s) are valid and the document was not altered after "
            "signing.",
        )
    bad = next((r for r in reports if r.indication is indication), None)
    if bad is None:  # decided by a document-level finding (e.g. a reused signature dictionary)
        first = next((f for f in doc_findings if f.code in _DOC_FATAL), doc_findings[0])
        return "验证未通过：" + first.zh, "Not valid: " + first.en
    reason = bad.findings[0] if bad.findings else None
    if indication is Indication.TOTAL_FAILED:
        return (
            f"验证失败：签名“{bad.field_name}”无效——{reason.zh if reason else ''}",
            f"INVALID: signature '{bad.field_name}' failed - {reason.en if reason else ''}",
        )
    return (
        f"无法确认：签名“{bad.field_name}”的有效性无法确定——{reason.zh if reason else ''}",
        f"Undetermined: signature '{bad.field_name}' cannot be confirmed - "
        f"{reason.en if reason else ''}",
    )
