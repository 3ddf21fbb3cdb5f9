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
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # reports.py imports this module to write its JSON
    from seals.reports import Finding, SignatureReport, VerificationReport

SEE_DETAILS_ZH = "（技术细节见英文说明）"

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
