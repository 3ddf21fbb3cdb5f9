"""One verification run from bytes to report: open, collect, verify each signature, sum up."""

from __future__ import annotations

import logging

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import EmbeddedPdfSignature

from seals.indications import MODIFIED
from seals.reports import (
    DocumentFindings,
    Finding,
    Indication,
    SignatureReport,
    SubIndication,
    VerificationReport,
    overall_indication,
)
from seals.verification.bytes import unaccounted_objects
from seals.verification.cms import detach_embedded_content, keep_the_signer_info_that_signed
from seals.verification.document import (
    DECODE_LIMITS,
    collect_candidates,
    read_certification,
    read_dss,
)
from seals.verification.findings import DOC_FATAL, finding, msg, short, verdict_text
from seals.verification.modifications import summarise_last_signature
from seals.verification.positions import page_count, with_positions
from seals.verification.reader import open_reader
from seals.verification.ses import SesEmbeddedSignature, open_ses, verify_ses_signature
from seals.verification.signature import (
    bare_report,
    unreadable,
    verify_doc_timestamp,
    verify_signature,
)
from seals.verification.signed_attrs import signed_attrs_in_der_order
from seals.verification.state import SigCandidate, VerifierState

logger = logging.getLogger(__name__)


MAX_SIGNATURES = 64


def opens_without_password(reader: PdfFileReader) -> bool:
    """An encrypted PDF whose user password is empty opens for anyone (viewers do so without
    asking), and its signatures can be verified: the signature values are never encrypted
    and the ByteRange digest covers the file's bytes as they are. EU DSS verifies them."""
    try:
        result = reader.decrypt(b"")
    except Exception:
        return False
    return result.status is not AuthStatus.FAILED


class EmbeddedSignature(EmbeddedPdfSignature):
    """pyhanko's embedded signature; a signature dictionary whose /SubFilter is
    /ETSI.RFC3161 is a document time-stamp whatever its /Type says (/Sig or none, as some
    PDFBox-based tools write it), the way EU DSS reads it: its /Contents is a time-stamp token
    over the byte range, validated as one - it names no signer, so it gains nothing."""

    @property
    def sig_object_type(self) -> generic.NameObject:
        if self.sig_object.get("/SubFilter") == "/ETSI.RFC3161":
            return generic.NameObject("/DocTimeStamp")
        return super().sig_object_type


class Verifier(VerifierState):
    """Runs the steps over the shared state; never raises for a bad document."""

    def _document_report(self, status: str, finding: Finding) -> VerificationReport:
        self.status = status
        self.doc_findings.append(finding)
        return self._finish()

    def timed_out_report(self) -> VerificationReport:
        self.doc_findings.append(
            msg(
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
        return bare_report(
            name,
            Indication.INDETERMINATE,
            SubIndication.GENERIC,
            msg(
                "time-limit",
                "验证超时，此签名未能完成验证。",
                "Verification of this signature did not finish within the time limit.",
            ),
        )

    async def run(self) -> VerificationReport:
        """Read the document, then verify every signature: a document that cannot be read
        gives a report saying why, never an exception."""
        unreadable_document = self._read()
        if unreadable_document is not None:
            return unreadable_document
        await self._verify_all(self._open_signatures())
        summarise_last_signature(self)
        return self._finish()

    def _read(self) -> VerificationReport | None:
        """Open the PDF and collect its signatures, DSS and certification; a report when the
        document is not a PDF, damaged, encrypted or unsigned."""
        if b"%PDF-" not in self.pdf[:1024]:
            return self._document_report(
                "not_pdf",
                finding("not-a-pdf"),
            )
        try:
            reader, tolerant = open_reader(self.pdf, limits=DECODE_LIMITS)
            if tolerant is not None:
                self.doc_findings.append(tolerant)
            encrypted = reader.encrypted and not opens_without_password(reader)
            if reader.encrypted and not encrypted:
                self.doc_findings.append(finding("encrypted-open"))
            if not encrypted:
                self.revisions = reader.xrefs.total_revisions
                self.pages = page_count(reader)
        except Exception as exc:
            logger.info("unreadable PDF: %s", exc)
            return self._document_report(
                "damaged",
                msg(
                    "damaged",
                    f"PDF 文件已损坏或结构不合规，无法解析：{short(exc)}",
                    f"The PDF is damaged or malformed and cannot be parsed: {short(exc)}",
                ),
            )
        if encrypted:
            return self._document_report(
                "encrypted",
                finding("encrypted"),
            )
        self.reader = reader
        try:
            self.unaccounted = unaccounted_objects(self.pdf, reader, after=0)
        except Exception as exc:  # an xref structure we cannot walk: counted as unknown bytes
            logger.info("cannot account for the objects of the PDF: %s", exc)
            self.unaccounted = [0]
        try:
            collect_candidates(self, reader)
        except Exception as exc:
            logger.info("cannot enumerate signature fields: %s", exc)
            return self._document_report(
                "damaged",
                msg(
                    "damaged",
                    f"无法读取 PDF 的表单与签名域：{short(exc)}",
                    f"The form and signature fields of the PDF cannot be read: {short(exc)}",
                ),
            )
        if not self.candidates:
            return self._document_report(
                "unsigned",
                finding("no-signatures"),
            )
        read_dss(self, reader)
        read_certification(self, reader)
        return None

    def _open_signatures(self) -> list[tuple[SigCandidate, EmbeddedPdfSignature]]:
        """The signatures pyhanko can open, in signing order; the others reported already."""
        reader = self.reader
        assert reader is not None
        embedded: list[tuple[SigCandidate, EmbeddedPdfSignature]] = []
        for cand in self.candidates[:MAX_SIGNATURES]:
            try:
                ses = open_ses(reader, cand)
                if ses is not None:  # a GB/T 38540 SES_Signature, not a CMS
                    embedded.append((cand, ses))
                    continue
                not_der = signed_attrs_in_der_order(cand.field)
                cand.notes.extend([not_der] if not_der is not None else [])
                several = keep_the_signer_info_that_signed(self.pdf, cand.field)
                cand.notes.extend([several] if several is not None else [])
                embedded_content = detach_embedded_content(self.pdf, cand.field)
                cand.notes.extend([embedded_content] if embedded_content is not None else [])
                emb = EmbeddedSignature(reader, cand.field, cand.field_name)
            except Exception as exc:
                self.reports.append(unreadable(self, cand, exc))
                continue
            embedded.append((cand, emb))
        for cand in self.candidates[MAX_SIGNATURES:]:
            self.reports.append(
                bare_report(
                    cand.field_name,
                    Indication.INDETERMINATE,
                    SubIndication.GENERIC,
                    finding("too-many-signatures"),
                )
            )
        embedded.sort(key=lambda item: item[1].signed_revision)
        return embedded

    async def _verify_all(self, embedded: list[tuple[SigCandidate, EmbeddedPdfSignature]]) -> None:
        # document time-stamps first: they are proofs of existence for earlier signatures
        for cand, emb in embedded:
            if emb.sig_object_type == "/DocTimeStamp":
                if self.deadline.passed:
                    self.reports.append(self._timeout_sig(cand.field_name))
                    continue
                try:
                    self.reports.append(await verify_doc_timestamp(self, cand, emb))
                except Exception as exc:
                    logger.info("time-stamp %s unreadable: %s", cand.field_name, exc)
                    self.reports.append(unreadable(self, cand, exc))
        for cand, emb in embedded:
            if emb.sig_object_type != "/DocTimeStamp":
                if self.deadline.passed:
                    self.reports.append(self._timeout_sig(cand.field_name))
                    continue
                try:
                    if isinstance(emb, SesEmbeddedSignature):
                        self.reports.append(await verify_ses_signature(self, cand, emb))
                        continue
                    self.reports.append(await verify_signature(self, cand, emb))
                except Exception as exc:  # a signature pyhanko cannot even open: never a crash
                    logger.info("signature %s unreadable: %s", cand.field_name, exc)
                    self.reports.append(unreadable(self, cand, exc))

    def _finish(self) -> VerificationReport:
        reports = tuple(sorted(self.reports, key=lambda r: (r.signed_revision or 0, r.field_name)))
        reports = with_positions(self, reports)
        indication: Indication
        sub: SubIndication | None
        if self.status != "ok" or not reports:
            indication, sub = Indication.INDETERMINATE, SubIndication.FORMAT_FAILURE
        else:
            indication, sub = overall_indication(reports)
            fatal = [f for f in self.doc_findings if f.code in DOC_FATAL]
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
        zh, en = verdict_text(indication, reports, self.status, self.doc_findings)
        return VerificationReport(
            document=doc,
            signatures=reports,
            indication=indication,
            sub_indication=sub,
            verdict_zh=zh,
            verdict_en=en,
            validation_time=self.now,
        )
