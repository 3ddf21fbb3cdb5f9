"""The words of verification reports that must agree with each other, for the JSON, the PDF
report and the public page alike.

Three rules keep one story:

* a signature whose signed bytes no longer match (integrity lost) says so everywhere: its
  seal "cannot be identified from a broken signature" (not "not registered here"), its level
  "does not apply", and the document counts as changed after signing;
* a Chinese sentence never carries an untranslated library message: the English text moves to
  ``details`` and the Chinese says where to find it;
* status words (revoked, suspended, …) are shown in Chinese in Chinese text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from seals.kinds import KIND_SPECS, SealKind

if TYPE_CHECKING:  # reports.py imports this module to write its JSON
    from seals.reports import Finding, SignatureReport, VerificationReport

SEE_DETAILS_ZH = "（技术细节见英文说明）"


@dataclass(frozen=True)
class Label:
    """A row's name in a report: Chinese first, English second (the PDF prints both on one
    line, the public page sets the English smaller)."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} {self.en}".strip()


LABELS: dict[str, Label] = {
    "document": Label("文档", "Document"),
    "source": Label("来源", "Source"),
    "sha256": Label("SHA-256", ""),
    "size": Label("大小", "Size"),
    "status": Label("状态", "Status"),
    "pages": Label("页数", "Pages"),
    "revisions": Label("修订版本", "Revisions"),
    "signatures": Label("签名数", "Signatures"),
    "changed": Label("签署后修改", "Changed after signing"),
    "validation_time": Label("验证时间", "Validation time"),
    "signature": Label("签名", "Signature"),
    "indication": Label("结论", "Indication"),
    "signer": Label("签署人", "Signer"),
    "seal": Label("印章", "Seal"),
    "claimed_time": Label("声称签署时间", "Claimed signing time"),
    "timestamp": Label("时间戳", "Time-stamp"),
    "level": Label("级别", "Level"),
    "integrity": Label("完整性", "Integrity"),
    "trust_anchor": Label("信任锚", "Trust anchor"),
    "revocation": Label("吊销状态", "Revocation"),
    "coverage": Label("覆盖范围", "Coverage"),
    "changes_after": Label("签署后修改", "Changes after"),
    "certification": Label("认证签名", "Certification"),
    "on_pages": Label("位置", "On pages"),
}
"""Every row name of the verification report, for the PDF (`seals.report_pdf`) and the public
page (app/public/templates/verify.html) alike."""

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""The service's local time (Beijing time, no daylight saving since 1991): reports, the
console and the statistics' days all use this one zone."""


_INDICATION_LABELS: dict[str, tuple[str, str]] = {
    "TOTAL_PASSED": ("通过", "Passed"),
    "TOTAL_FAILED": ("失败", "Failed"),
    "INDETERMINATE": ("无法确定", "Indeterminate"),
}
_COVERAGE = {
    "ENTIRE_FILE": "整个文件 / entire file",
    "ENTIRE_REVISION": "整个修订版本 / entire revision",
    "ANOMALOUS": "异常 / anomalous",
}
_MODIFICATIONS = {
    "none": "无 / none",
    "form_filling": "填写表单或后续签名 / form filling or later signatures",
    "annotations": "添加注释 / annotations",
    "other": "其他修改 / other changes",
}
_REVOCATION = {
    "good": "未吊销 / not revoked",
    "revoked": "已吊销 / revoked",
    "revoked_after_signing": "签署后被吊销 / revoked after signing",
    "unknown": "未知 / unknown",
    "not_checked": "未检查 / not checked",
    "not_applicable": "不适用（直接信任的签署者证书）/ not applicable (pinned signer)",
}
_REVOCATION_SOURCE = {
    "embedded-dss": "文档内嵌验证数据 / embedded DSS",
    "service": "本平台 CA / our CA",
    "crl": "CRL",
    "none": "—",
}
_SEAL_STATUS = {
    "active": "有效 / active",
    "pending": "待启用 / pending",
    "suspended": "已暂停 / suspended",
    "revoked": "已注销 / revoked",
    "expired": "已过期 / expired",
}
_DOC_STATUS = {
    "ok": "可解析 / readable",
    "not_pdf": "不是 PDF / not a PDF",
    "damaged": "已损坏 / damaged",
    "encrypted": "已加密 / encrypted",
    "unsigned": "无签名 / unsigned",
    "timeout": "超时 / timed out",
}


_INTEGRITY: dict[bool | None, str] = {
    None: "未能计算 / not computed",
    True: "完好 / intact",
    False: "不完好 / not intact",
}


_NON_CJK_RUN = re.compile(r"[^\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+")
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[\s,;:'’()\[\]]+[A-Za-z0-9]{2,}){2,}")

SEAL_STATUS_ZH = {
    "active": "有效",
    "pending": "待启用",
    "suspended": "已暂停",
    "revoked": "已注销",
    "expired": "已过期",
}
_STATUS_WORD = re.compile(r"(状态[：:]\s*)(" + "|".join(SEAL_STATUS_ZH) + r")\b", re.IGNORECASE)


def split_library_text(zh: str) -> tuple[str, str | None]:
    """A Chinese sentence without embedded English library text, and that text (or None)."""
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        if _ENGLISH.search(run):
            found.append(run.strip(" ：:"))
            return SEE_DETAILS_ZH
        return run

    text = _NON_CJK_RUN.sub(replace, zh)
    text = text.replace("：" + SEE_DETAILS_ZH, SEE_DETAILS_ZH)
    text = _STATUS_WORD.sub(lambda m: m.group(1) + SEAL_STATUS_ZH[m.group(2).lower()], text)
    return text, ("; ".join(found) if found else None)


def finding_zh(finding: Finding) -> str:
    return split_library_text(finding.zh)[0]


def finding_json(finding: Finding) -> dict[str, str]:
    """A finding as JSON: Chinese for people, English, and any raw library text apart."""
    zh, details = split_library_text(finding.zh)
    out = {"code": finding.code, "zh": zh, "en": finding.en}
    if details:
        out["details"] = details
    return out


def broken(sig: SignatureReport) -> bool:
    """The signed bytes were altered: nothing else about the signature can be relied on.
    (`integrity` None means the digest was never computed: not known to be broken.)"""
    return sig.integrity is False


def seal_text(sig: SignatureReport, *, kind_label: str | None = None) -> str:
    if sig.seal is not None:
        status = SEAL_STATUS_ZH.get(sig.seal.status, sig.seal.status)
        kind = kind_label or sig.seal.kind
        return f"{sig.seal.code} · {kind} · {sig.seal.owner} · {status} / {sig.seal.status}"
    if broken(sig):
        return (
            "无法识别：签名已被破坏，不能据此确认印章"
            " / cannot be identified: the signature is broken"
        )
    return "非本平台登记的印章 / not a seal registered here"


def level_text(sig: SignatureReport) -> str:
    if broken(sig):
        return "不适用（签名无效） / not applicable (invalid signature)"
    return f"PAdES {sig.pades_level}" if sig.pades_level else "—"


def document_changed(report: VerificationReport) -> bool:
    """Changed after signing: after the last signature, or inside what a signature covers."""
    return report.document.modified_after_last_signature or any(
        broken(s) for s in report.signatures
    )


def document_changed_text(report: VerificationReport) -> str:
    if any(broken(s) for s in report.signatures):
        return "是：签名覆盖的内容已被改动 / yes: signed content was altered"
    return "是 / yes" if report.document.modified_after_last_signature else "否 / no"


def changes_after_text(sig: SignatureReport, default: str) -> str:
    if broken(sig):
        return "签名覆盖的内容已被改动 / the signed content itself was altered"
    return default


# --- values, in Chinese and English ---------------------------------------------------------


def indication_label(indication: str) -> tuple[str, str]:
    """The indication in Chinese and English words."""
    return _INDICATION_LABELS[indication]


def seal_kind_label(kind: str) -> str:
    """The Chinese name of a seal kind (the kind code itself when unknown)."""
    try:
        return KIND_SPECS[SealKind(kind)].label_zh
    except (ValueError, KeyError):
        return kind


def local_time(value: datetime | None, zone: tzinfo = LOCAL_TZ) -> str:
    """``2024-05-01 14:03:07 (UTC+08:00)``, or ``—``."""
    if value is None:
        return "—"
    local = value.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})"


def revocation_text(sig: SignatureReport, zone: tzinfo = LOCAL_TZ) -> str:
    """Revocation status, where it came from, and when the certificate was revoked."""
    text = _REVOCATION.get(sig.revocation.status.value, sig.revocation.status.value)
    source = _REVOCATION_SOURCE.get(sig.revocation.source.value, "")
    if source and source != "—":
        text += f" · {source}"
    if sig.revocation.revoked_at is not None:
        text += f" · 吊销于 revoked at {local_time(sig.revocation.revoked_at, zone)}"
    return text


def coverage_text(sig: SignatureReport) -> str:
    return _COVERAGE.get(sig.coverage.value, sig.coverage.value)


def modifications_text(sig: SignatureReport) -> str:
    said = _MODIFICATIONS.get(sig.modifications_after.value, sig.modifications_after.value)
    return changes_after_text(sig, said)


def seal_status_text(status: str) -> str:
    return _SEAL_STATUS.get(status, status)


def integrity_text(integrity: bool | None) -> str:
    return _INTEGRITY[integrity]


def trust_anchor_text(sig: SignatureReport) -> str:
    anchor = sig.trust_anchor or "未找到 / none found"
    if sig.trust_anchor and sig.trust_anchor_is_ours:
        anchor += "（本平台根 CA / our root）"
    return anchor


def document_status_text(status: str) -> str:
    return _DOC_STATUS.get(status, status)
