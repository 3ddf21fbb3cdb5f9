"""The bilingual (Chinese/English) findings of a verification, and the verdict that sums them up.

Each finding has a stable `code`; the texts say what was found and why it matters. Fixed texts
are in `TEXTS` keyed by code (`finding(code)`); texts naming a field, a time or an error are
built by the functions here or where the check is made.
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


TEXTS: dict[str, tuple[str, str]] = {
    "ltv-updates": (
        "签署后仅添加了长期验证数据（DSS）或文档时间戳。",
        "Only long-term validation data (DSS) or document time-stamps were added after signing.",
    ),
    "later-signatures": (
        "签署后仅添加了其他签名。",
        "Only further signatures were added after this one.",
    ),
    "ltv-after-last": (
        "最后一个签名之后仅添加了长期验证数据。",
        "After the last signature only long-term validation data was added.",
    ),
    "tsa-untrusted": (
        "文档时间戳的签发机构（TSA）证书无法链接到受信任的根证书。",
        "The certificate of the time-stamping authority does not chain to a recognised trust "
        "anchor.",
    ),
    "doc-timestamp-ok": (
        "文档时间戳有效，证明此前的文档内容在该时间已存在。",
        "The document time-stamp is valid: it proves the earlier revisions existed at that time.",
    ),
    "timestamp-broken": (
        "签名时间戳与签名不匹配或已被篡改，已忽略：它不能证明签署时间。",
        "The signature time-stamp does not match the signature or was tampered with; it is "
        "ignored and proves no signing time.",
    ),
    "timestamp-untrusted": (
        "签名时间戳的签发机构不受信任，不能作为签署时间的证明。",
        "The time-stamping authority is not trusted; the time-stamp is not accepted as proof of "
        "the signing time.",
    ),
    "poe-doc-timestamp": (
        "签署时间由其后的文档时间戳证明。",
        "The signing time is proven by a later document time-stamp.",
    ),
    "no-signer-cert": (
        "签名中找不到签署者证书。",
        "The signer's certificate is not in the signature.",
    ),
    "signature-ok": (
        "签名完整有效，签署后文档未被篡改。",
        "The signature is intact and valid; the document was not tampered with after signing.",
    ),
    "digest-mismatch": (
        "签名覆盖的字节与签名时不一致：文档在签署后被改动（或 ByteRange 被改写）。",
        "The signed bytes do not match the signature's digest: the document was altered after "
        "signing (or its ByteRange was rewritten).",
    ),
    "signature-invalid": (
        "签名值无法用签署者证书的公钥验证通过。",
        "The signature value does not verify with the signer's public key.",
    ),
    "coverage-anomalous": (
        "签名的字节范围（ByteRange）没有完整覆盖其所属的文档版本，或指向了别处：这是签名包装攻击的特征。",
        "The signature's ByteRange does not cover its whole document revision or points elsewhere:"
        " a hallmark of a signature-wrapping attack.",
    ),
    "untrusted-ca": (
        "签署者证书不是由本平台或受认可的电子认证服务机构签发的，无法确认签署者身份。",
        "The signer's certificate was not issued by this platform or by a recognised certification"
        " authority; the signer cannot be confirmed.",
    ),
    "weak-algorithm": (
        "证书链使用了不再安全的算法。",
        "The certificate chain uses an algorithm no longer considered secure.",
    ),
    "no-revocation-info": (
        "无法获得签署者证书在签署时间的吊销状态（文档中未嵌入，也无法从服务获取）。",
        "The revocation status of the signer's certificate at the signing time is not available "
        "(not embedded in the document, not obtainable).",
    ),
    "trusted-ours": (
        "签署者证书由本平台电子认证服务签发，证书链完整。",
        "The signer's certificate was issued by this platform's CA; the chain is complete.",
    ),
    "key-usage": (
        "签署者证书的密钥用途不允许签名。",
        "The signer's certificate key usage does not allow signing.",
    ),
    "not-a-pdf": (
        "文件不是 PDF 文档。",
        "The file is not a PDF document.",
    ),
    "encrypted": (
        "PDF 文件已加密，无法验证其中的签名。",
        "The PDF is encrypted; its signatures cannot be verified.",
    ),
    "encrypted-open": (
        "PDF 文件已加密，但无需密码即可打开（用户密码为空），已照常验证其中的签名。",
        "The PDF is encrypted but opens without a password (empty user password); its "
        "signatures were verified as usual.",
    ),
    "no-signatures": (
        "文件中没有签名或印章。",
        "The document carries no signatures.",
    ),
    "too-many-signatures": (
        "签名数量超过上限，未验证。",
        "Too many signatures; this one was not verified.",
    ),
}
"""The fixed Chinese and English texts of the findings, keyed by code (findings whose
text names a field, a time or an error are built where they are found)."""


def finding(code: str) -> Finding:
    """The finding `code` with its fixed texts."""
    zh, en = TEXTS[code]
    return msg(code, zh, en)


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
