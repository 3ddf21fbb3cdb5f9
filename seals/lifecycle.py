"""Seal lifecycle: the allowed transitions, as data.

    pending --activate--> active --suspend--> suspended --reactivate--> active
    pending | active | suspended --revoke--> revoked   (terminal)
    pending | active | suspended --expire--> expired   (terminal; at the end of validity)

A seal past its `valid_until` is *effectively* expired even before a sweep records it, so
reads and uses never depend on a background job.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from seals.errors import IllegalTransitionError


class SealStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


class SealAction(StrEnum):
    ACTIVATE = "activate"
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    REVOKE = "revoke"
    EXPIRE = "expire"


_LIVE = (SealStatus.PENDING, SealStatus.ACTIVE, SealStatus.SUSPENDED)

TRANSITIONS = MappingProxyType(
    {
        (SealStatus.PENDING, SealAction.ACTIVATE): SealStatus.ACTIVE,
        (SealStatus.ACTIVE, SealAction.SUSPEND): SealStatus.SUSPENDED,
        (SealStatus.SUSPENDED, SealAction.REACTIVATE): SealStatus.ACTIVE,
        **{(s, SealAction.REVOKE): SealStatus.REVOKED for s in _LIVE},
        **{(s, SealAction.EXPIRE): SealStatus.EXPIRED for s in _LIVE},
    }
)
TERMINAL = frozenset({SealStatus.REVOKED, SealStatus.EXPIRED})


def effective_status(status: str, *, valid_until: datetime, now: datetime) -> SealStatus:
    """The stored status, or `expired` once the validity period has ended."""
    current = SealStatus(status)
    if current not in TERMINAL and now >= valid_until:
        return SealStatus.EXPIRED
    return current


def next_status(current: SealStatus, action: SealAction) -> SealStatus:
    """Where `action` leads from `current`, or `IllegalTransitionError` (naming what is allowed)."""
    target = TRANSITIONS.get((current, action))
    if target is None:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is current)
        raise IllegalTransitionError(
            f"a {current.value} seal cannot be {_past(action)}"
            + (f" (allowed: {', '.join(allowed)})" if allowed else f" ({current.value} is final)"),
            status=current.value,
            action=action.value,
            allowed=allowed,
        )
    return target


def _past(action: SealAction) -> str:
    return {
        SealAction.ACTIVATE: "activated",
        SealAction.SUSPEND: "suspended",
        SealAction.REACTIVATE: "reactivated",
        SealAction.REVOKE: "revoked",
        SealAction.EXPIRE: "expired",
    }[action]
