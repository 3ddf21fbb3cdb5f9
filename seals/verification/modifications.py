"""Changes after signing: diff analysis, form filling, annotations, unaccounted bytes."""

from __future__ import annotations

import logging

from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel, SuspiciousModification
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.validation import EmbeddedPdfSignature
from pyhanko.sign.validation.status import SignatureCoverageLevel

from seals.indications import FindingClass
from seals.reports import Coverage, ModificationsAfter, SubIndication
from seals.verification.annotations import judge_annotations
from seals.verification.bytes import unaccounted_finding
from seals.verification.findings import Acc, finding, msg, safe, short
from seals.verification.overlaps import overlap_finding
from seals.verification.state import VerifierState

logger = logging.getLogger(__name__)


def modifications(
    state: VerifierState,
    acc: Acc,
    emb: EmbeddedPdfSignature,
    *,
    certification: MDPPerm | None,
    is_timestamp: bool,
) -> ModificationsAfter:
    """What changed after `emb` was signed, judged against what its signer or the document's
    certification allowed; the level of the change is returned for the report."""
    overlapping = overlap_finding(state.reader, emb.signed_revision) if state.reader else None
    if overlapping is not None:
        acc.apply(FindingClass.ANNOTATIONS_OVERLAP, overlapping)
    signed_end = signed_end_of(emb)
    stray = [o for o in state.unaccounted if signed_end is None or o >= signed_end]
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
            msg(
                "modified-after-signing",
                f"签署后文档内容被修改（增量更新中改动了页面、对象或结构）：{short(diff)}",
                "The document content was changed after signing (an incremental update "
                f"altered pages, objects or structure): {short(diff)}",
            ),
        )
        return ModificationsAfter.OTHER
    level = diff.modification_level
    if level == ModificationLevel.OTHER:
        acc.apply(
            FindingClass.CONTENT_CHANGED,
            msg(
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
            msg(
                "docmdp-violated",
                f"签署后的修改超出了认证签名允许的范围（{certification.name}）。",
                "Changes after signing exceed what the certification signature allows "
                f"({certification.name}).",
            ),
        )
    sig_fields = signature_field_names(state)
    changed = set(diff.changed_form_fields)
    non_sig = sorted(n for n in changed if n not in sig_fields)
    if level == ModificationLevel.ANNOTATIONS:
        annotations_check(state, acc, emb)
        return ModificationsAfter.ANNOTATIONS
    if level == ModificationLevel.FORM_FILLING:
        return form_filling(state, acc, emb, non_sig, certification)
    if level == ModificationLevel.LTA_UPDATES:
        acc.add(finding("ltv-updates"))
    return ModificationsAfter.NONE


def form_filling(
    state: VerifierState,
    acc: Acc,
    emb: EmbeddedPdfSignature,
    non_sig: list[str],
    certification: MDPPerm | None,
) -> ModificationsAfter:
    """Form fields filled after signing: allowed by the signer's field lock or the document's
    certification, otherwise a shadow attack's hallmark (undetermined); or only new signatures."""
    if non_sig:
        names = ", ".join(non_sig[:5])
        lock = safe(lambda: emb.fieldmdp)
        unlocked = lock is not None and not any(lock.is_locked(n) for n in non_sig)
        if unlocked:
            acc.apply(
                FindingClass.FORM_FILLED_PERMITTED,
                msg(
                    "form-filled-allowed",
                    f"签署后填写了表单域（{names}），签署者的字段锁定（SigFieldLock）"
                    "未锁定这些字段。",
                    f"Form fields were filled after signing ({names}); the signer's "
                    "field lock (SigFieldLock) leaves them open.",
                ),
            )
        elif state.certified_allows_forms and (
            certification is None or certification.value >= MDPPerm.FILL_FORMS.value
        ):
            acc.add(
                msg(
                    "form-filled-allowed",
                    f"签署后填写了表单域（{names}），认证签名允许此类修改。",
                    f"Form fields were filled after signing ({names}); the "
                    "certification signature allows this.",
                )
            )
        else:
            acc.indeterminate(
                SubIndication.SIG_CONSTRAINTS_FAILURE,
                msg(
                    "form-changed-after-signing",
                    f"签署后表单域的值被修改（{names}），签署者并未允许："
                    "页面显示的内容可能已不同于签署时。",
                    f"Form field values were changed after signing ({names}) without "
                    "the signer's permission: the page may no longer show what was "
                    "signed.",
                ),
            )
        return ModificationsAfter.FORM_FILLING
    acc.add(finding("later-signatures"))
    return ModificationsAfter.FORM_FILLING


def annotations_check(state: VerifierState, acc: Acc, emb: EmbeddedPdfSignature) -> None:
    """Annotations added after signing: reported, a failure where one covers signed
    content (seals/verification/annotations.py)."""
    assert state.reader is not None and state.revisions is not None
    signed_end = signed_end_of(emb)
    signed_pdf = state.pdf[:signed_end] if signed_end is not None else None
    acc.apply(*judge_annotations(state.reader, emb.signed_revision, signed_pdf, state.pdf))


def signature_field_names(state: VerifierState) -> set[str]:
    return {c.field_name for c in state.candidates}


def summarise_last_signature(state: VerifierState) -> None:
    reports = [r for r in state.reports if r.signed_revision is not None]
    if not reports or state.revisions is None:
        return
    last = max(reports, key=lambda r: r.signed_revision or 0)
    if last.modifications_after is ModificationsAfter.NONE:
        if last.coverage is Coverage.ENTIRE_REVISION:
            state.doc_findings.append(finding("ltv-after-last"))
        return
    state.doc_findings.append(
        msg(
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


def signed_end_of(emb: EmbeddedPdfSignature) -> int | None:
    """Where the bytes a signature covers end (None when its ByteRange is unusable)."""
    try:
        values = [int(v) for v in emb.byte_range]
    except Exception:
        return None
    return values[2] + values[3] if len(values) == 4 else None
