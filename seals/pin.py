"""Signing PINs of personal seals: the owner's consent at every use.

Stored only as an argon2id hash. Wrong PINs are counted; `max_failures` in a row lock the seal
for `lock_for`, after which the count starts again. Counting happens with an atomic UPDATE so
that concurrent guesses cannot slip past the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col

from seals.errors import SealInputError, SealNotFoundError
from seals.models import Seal

PIN_MIN_DIGITS = 6
PIN_MAX_DIGITS = 12
_hasher = PasswordHasher()


@dataclass(frozen=True)
class PinPolicy:
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class PinFailure:
    """The state after one wrong PIN was counted."""

    failures: int
    attempts_left: int
    locked_until: datetime | None


def validate_pin(pin: str) -> str:
    if not (pin.isascii() and pin.isdigit()) or not PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS:
        raise SealInputError(f"a PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits")
    if len(set(pin)) == 1 or pin in "01234567890123" or pin in "98765432109876":
        raise SealInputError("this PIN is too easy to guess (repeated or consecutive digits)")
    return pin


def hash_pin(pin: str) -> str:
    return _hasher.hash(validate_pin(pin))


def pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


def record_failure(
    session: Session, *, seal_id: str, now: datetime, policy: PinPolicy
) -> PinFailure:
    """Count one wrong PIN; lock the seal when the limit is reached (call in its own
    transaction: the refused request's transaction rolls back)."""
    bumped = session.execute(
        sa.update(Seal)
        .where(col(Seal.id) == seal_id)
        .values(pin_failures=col(Seal.pin_failures) + 1)
        .execution_options(synchronize_session=False)
    )
    if bumped.rowcount != 1:  # type: ignore[attr-defined]
        raise SealNotFoundError(f"seal {seal_id} not found")
    failures = session.execute(
        sa.select(col(Seal.pin_failures)).where(col(Seal.id) == seal_id)
    ).scalar_one()
    locked_until = None
    if failures >= policy.max_failures:
        locked_until = now + policy.lock_for
        session.execute(
            sa.update(Seal)
            .where(col(Seal.id) == seal_id)
            .values(pin_failures=0, pin_locked_until=locked_until)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    return PinFailure(
        failures=failures,
        attempts_left=max(0, policy.max_failures - failures),
        locked_until=locked_until,
    )


def reset_failures(session: Session, *, seal_id: str) -> None:
    session.execute(
        sa.update(Seal)
        .where(col(Seal.id) == seal_id)
        .values(pin_failures=0, pin_locked_until=None)
        .execution_options(synchronize_session=False)
    )
