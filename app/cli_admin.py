"""Operator actions run from the command line on the server itself (no HTTP): resetting a
console password when nobody can sign in any more."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlmodel import Session, col, select

from app.bootstrap import ADMIN_USERNAME
from app.models import ConsoleSession, UserAccount
from app.ratelimit_shared import Throttles
from app.security import hash_password
from app.services import audit
from app.settings import Settings
from app.wiring import limiter

MIN_PASSWORD_LENGTH = 12


class UnknownAccountError(LookupError):
    """No console account has that username."""


def reset_password(
    session: Session, *, username: str = ADMIN_USERNAME, password: str | None = None
) -> str:
    """Give `username` a new password (random unless given), lift a login lockout and end
    every open console session of the account, in one audited transaction. Returns the new
    password, for the operator to pass on once."""
    account = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    if account is None:
        raise UnknownAccountError(username)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    new_password = password or secrets.token_urlsafe(15)
    account.password_hash = hash_password(new_password)
    account.failed_logins = 0
    account.locked_until = None
    session.add(account)
    ended = session.execute(
        sa.delete(ConsoleSession).where(col(ConsoleSession.user_id) == account.id)
    )
    audit.record(
        session,
        actor="operator:cli",
        action="account.password_reset",
        target_type="user",
        target_id=account.id,
        details={
            "username": username,
            "sessions_ended": int(ended.rowcount or 0),  # type: ignore[attr-defined]
        },
    )
    return new_password


def forget_sign_in_failures(settings: Settings, username: str) -> None:
    """Lift the account's sign-in hold from every address (kept in the rate-limit file)."""
    throttles = Throttles.of(limiter(settings, bucket="login-address", limit=0), settings)
    throttles.account.reset_prefix(f"{username}\n")
