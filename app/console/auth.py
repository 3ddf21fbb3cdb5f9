"""Console sign-in: password check with lockout, session cookie, CSRF tokens."""

from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from app import audit
from app.models import UserAccount
from app.security import NewConsoleSession, hash_password, open_session, verify_password
from app.settings import Settings

SESSION_COOKIE = "eseal_session"
LOGIN_CSRF_COOKIE = "eseal_login_csrf"


@functools.cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown, so timing does not tell."""
    return hash_password(secrets.token_hex(16))


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    message: str
    session: NewConsoleSession | None = None


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def sign_in(session: Session, *, settings: Settings, username: str, password: str) -> LoginOutcome:
    """Check a password; lock the account after repeated failures. Audited either way."""
    now = datetime.now(UTC)
    account = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    if account is None:
        verify_password(_dummy_hash(), password)
        return LoginOutcome(False, "用户名或密码错误 / Wrong username or password")
    if account.locked_until is not None and account.locked_until > now:
        return LoginOutcome(False, "账户已锁定，请稍后再试 / Account locked, try again later")
    if not verify_password(account.password_hash, password):
        account.failed_logins += 1
        action = "account.login_failed"
        if account.failed_logins >= settings.login_max_failures:
            account.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
            account.failed_logins = 0
            action = "account.locked"
        session.add(account)
        audit.record(
            session,
            actor=f"user:{account.id}",
            action=action,
            target_type="user",
            target_id=account.id,
        )
        return LoginOutcome(False, "用户名或密码错误 / Wrong username or password")
    account.failed_logins = 0
    account.locked_until = None
    session.add(account)
    opened = open_session(session, user=account, hours=settings.session_hours)
    audit.record(
        session,
        actor=f"user:{account.id}",
        action="account.login",
        target_type="user",
        target_id=account.id,
    )
    return LoginOutcome(True, "", opened)
