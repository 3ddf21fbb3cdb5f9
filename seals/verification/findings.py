"""The bilingual (Chinese/English) findings of a verification, and the verdict that sums them up.

Each finding has a stable `code`; the texts say what was found and why it matters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from seals.indications import INDICATIONS, FindingClass
from seals.reports import Finding, Indication, SignatureReport, SubIndication
from seals.verification.state import SigCandidate

logger = logging.getLogger(__name__)


DOC_FATAL = frozenset({"certification-removed", "signature-reused"})
"""Document-level findings that make the whole document fail even if every listed signature
passes (the evidence is a signature or certification the attacker took away)."""


def msg(code: str, zh: str, en: str) -> Finding:
    return Finding(code=code, zh=zh, en=en)


@dataclass
class Acc:
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


def network_finding(exc: BaseException) -> Finding:
    return msg(
        "network-unavailable",
        f"获取验证数据（OCSP/CRL/证书）时网络失败（{type(exc).__name__}），请稍后再试。",
        f"Fetching validation data (OCSP/CRL/certificates) failed on the network "
        f"({type(exc).__name__}); try again later.",
    )


def revoked_later(revoked_at: datetime, poe: datetime) -> Finding:
    return msg(
        "revoked-after-signing",
        f"证书于 {fmt(revoked_at)} 被吊销，晚于经时间戳证明的签署时间 {fmt(poe)}，"
        "签名在签署时有效。",
        f"The certificate was revoked on {fmt(revoked_at)}, after the proven signing time "
        f"{fmt(poe)}; the signature was valid when made.",
    )


def hidden_finding(cand: SigCandidate) -> Finding:
    rev = (cand.hidden_since or 0) + 1
    return msg(
        "signature-hidden",
        f"此签名在第 {rev} 版中被从表单中移除或替换（隐藏签名攻击）：文档已被篡改。",
        f"This signature was unlinked from the form or replaced in revision {rev} "
        "(hidden-signature attack): the document was tampered with.",
    )


def processing_failed(exc: Exception) -> Finding:
    return msg(
        "signature-malformed",
        f"签名结构不合规，无法验证：{short(exc)}",
        f"The signature is malformed and cannot be verified: {short(exc)}",
    )


def safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:
        return None


def short(exc: object, limit: int = 200) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if value else "?"


def verdict_text(
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
        first = next((f for f in doc_findings if f.code in DOC_FATAL), doc_findings[0])
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
