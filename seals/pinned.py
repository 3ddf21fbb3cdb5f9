"""Signers trusted directly: a relying party pinned the signer's own (self-signed, cA=false)
certificate as a trust anchor, as NSS, pyhanko and endesive allow.

No CA issues revocation status for such a certificate, so its revocation is "not applicable"
rather than "good": the relying party's pinning (and un-pinning) is the only status there is.
Its validity period still counts, at the proven signing time like any other certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import x509 as asn1_x509

from seals.reports import (
    Finding,
    RevocationInfo,
    RevocationSource,
    RevocationStatus,
    SubIndication,
)


@dataclass(frozen=True)
class PinnedOutcome:
    revocation: RevocationInfo
    findings: tuple[Finding, ...]
    failure: tuple[SubIndication, Finding] | None = None
    """A validity problem: TOTAL_FAILED when proven at a POE, else INDETERMINATE."""
    failure_is_total: bool = False


def assess_pinned(
    cert: asn1_x509.Certificate, *, moment: datetime, poe: datetime | None
) -> PinnedOutcome:
    """Judge a pinned signer's certificate at `moment` (the POE when there is one)."""
    revocation = RevocationInfo(
        status=RevocationStatus.NOT_APPLICABLE, source=RevocationSource.NONE, checked_at=moment
    )
    pinned = Finding(
        code="trusted-pinned",
        zh="签署者证书本身被直接信任（固定的签署者证书），不适用吊销检查。",
        en="The signer's own certificate is trusted directly (a pinned signer); revocation "
        "checking does not apply.",
    )
    validity = cert["tbs_certificate"]["validity"]
    not_before = validity["not_before"].native
    not_after = validity["not_after"].native
    if not_before <= moment <= not_after:
        return PinnedOutcome(revocation=revocation, findings=(pinned,))
    expired = moment > not_after
    if poe is not None:
        state_zh, state_en = ("已过期", "expired") if expired else ("尚未生效", "not yet valid")
        finding = Finding(
            code="cert-out-of-validity",
            zh=f"证书在签署时间{state_zh}。",
            en=f"The certificate was {state_en} at the proven signing time.",
        )
        sub = SubIndication.EXPIRED if expired else SubIndication.NOT_YET_VALID
        return PinnedOutcome(revocation, (pinned,), (sub, finding), failure_is_total=True)
    finding = Finding(
        code="cert-out-of-validity-no-poe",
        zh="证书当前不在有效期内，且没有时间戳证明签署时间。",
        en="The certificate is outside its validity period now and no time-stamp proves when "
        "the signature was made.",
    )
    return PinnedOutcome(revocation, (pinned,), (SubIndication.OUT_OF_BOUNDS_NO_POE, finding))
