"""Revocation of the seal maker's certificate (the platform key that signed the SESeal).

A seal made with a revoked seal-making key proves nothing: whoever holds a compromised key
can make seals for anyone, with any creation date. So the maker's certificate is judged like
the signer's, from the same sources (revocation data embedded in the document, our own CA's
answer through `revocation_lookup`): revoked before the proven signing time fails, revoked
with no proof of when the seal was used is undetermined, and no revocation answer at all
leaves the signature INDETERMINATE, never passed.
"""

from __future__ import annotations

from datetime import datetime

from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    RevokedError,
)
from pyhanko_certvalidator.path import ValidationPath

from seals.reports import SubIndication
from seals.verification.findings import Acc, fmt, msg, short
from seals.verification.state import VerifierState
from seals.verification.trust import (
    Revinfo,
    anchor_is_ours,
    gather_revocation,
    is_ca_revocation,
    validate_at,
)


async def maker_revocation(
    state: VerifierState,
    acc: Acc,
    cert: asn1_x509.Certificate,
    path: ValidationPath,
    *,
    made: datetime,
    poe: datetime | None,
) -> None:
    """Judge the maker certificate's revocation at the proven signing time (or now); when the
    certificate has since left its validity, at the time it made the seal (`made`)."""
    revinfo = gather_revocation(
        state, cert, path, state.dss_material, anchor_ours=anchor_is_ours(state, path)
    )
    moment = poe if poe is not None and poe <= state.now else state.now
    outcome = await validate_at(state, cert, [], revinfo.material, moment)
    if isinstance(outcome, ExpiredError | NotYetValidError) and made < moment:
        moment = made
        outcome = await validate_at(state, cert, [], revinfo.material, moment)
    if isinstance(outcome, RevokedError):
        _revoked(acc, outcome, proven=poe is not None and moment == poe)
    elif isinstance(outcome, InsufficientRevinfoError):
        if not await _revoked_only_later(state, acc, cert, revinfo, poe, moment):
            acc.indeterminate(
                SubIndication.TRY_LATER,
                msg(
                    "ses-maker-no-revocation-info",
                    "无法获得制章者证书的吊销状态（文档中未嵌入，也无法从服务获取）："
                    "无法确认制章密钥未被吊销。",
                    "The revocation status of the seal maker's certificate is not available "
                    "(not embedded in the document, not obtainable): the seal-making key "
                    "cannot be confirmed as not revoked.",
                ),
            )
    elif isinstance(outcome, Exception):
        acc.indeterminate(
            SubIndication.CERTIFICATE_CHAIN_GENERAL_FAILURE,
            msg(
                "ses-maker-revocation-unchecked",
                f"制章者证书的吊销状态无法检查：{short(outcome)}",
                f"The revocation status of the seal maker's certificate cannot be checked: "
                f"{short(outcome)}",
            ),
        )
    else:
        await _revoked_only_later(state, acc, cert, revinfo, poe, moment)


def _revoked(acc: Acc, exc: RevokedError, *, proven: bool) -> None:
    """Revoked before a proven signing time fails; with no proof of time, undetermined."""
    revoked_at = exc.revocation_dt
    whose_zh, whose_en = (
        ("制章者的 CA 证书", "seal maker's CA")
        if is_ca_revocation(exc)
        else (
            "制章者证书",
            "seal maker's",
        )
    )
    if proven:
        acc.fail(
            SubIndication.REVOKED,
            msg(
                "ses-maker-revoked",
                f"{whose_zh}已于 {fmt(revoked_at)} 被吊销，早于经证明的签章时间：印章不可信。",
                f"The {whose_en} certificate was revoked on {fmt(revoked_at)}, before the "
                "proven signing time: the seal cannot be trusted.",
            ),
        )
        return
    acc.indeterminate(
        SubIndication.REVOKED_CA_NO_POE if is_ca_revocation(exc) else SubIndication.REVOKED_NO_POE,
        msg(
            "ses-maker-revoked-no-poe",
            f"{whose_zh}已于 {fmt(revoked_at)} 被吊销，且没有时间戳证明签章早于吊销时间。",
            f"The {whose_en} certificate was revoked on {fmt(revoked_at)} and no time-stamp "
            "proves the seal was used before that.",
        ),
    )


async def _revoked_only_later(
    state: VerifierState,
    acc: Acc,
    cert: asn1_x509.Certificate,
    revinfo: Revinfo,
    poe: datetime | None,
    moment: datetime,
) -> bool:
    """Whether today's data shows a revocation only after the proven signing time (said in a
    finding, not fatal); our own CA's answer is authoritative for today's status."""
    if poe is None or moment != poe or moment >= state.now:
        return False
    current = revinfo.service if revinfo.leaf_service is not None else revinfo.material
    later = await validate_at(state, cert, [], current, state.now)
    if not (isinstance(later, RevokedError) and later.revocation_dt > poe):
        return False
    acc.add(
        msg(
            "ses-maker-revoked-after-signing",
            f"制章者证书于 {fmt(later.revocation_dt)} 被吊销，晚于经时间戳证明的签章时间 "
            f"{fmt(poe)}，签章时印章有效。",
            f"The seal maker's certificate was revoked on {fmt(later.revocation_dt)}, after the "
            f"proven signing time {fmt(poe)}; the seal was valid when used.",
        )
    )
    return True
