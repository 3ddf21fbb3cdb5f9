"""Console sign-in: password check with throttling, session cookie, CSRF tokens.

Throttling (issue 10) never locks an owner out for good and never tells who exists:

- per client address: more than ``login_rate_per_minute`` failed sign-ins in a minute and
  the address waits (a 429 page that names no account);
- per account *and* address: after ``login_max_failures`` failures from one address, that
  address may not sign in to that account for ``login_lockout_minutes`` -- the owner, from
  their own address, is unaffected by somebody guessing elsewhere;
- wrong password, unknown user and a held-back account all get the same answer after the
  same argon2 work.

The counts live in the shared side store (``app.ratelimit_shared``), off the main database;
the main database only receives the audit events of known accounts.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import UserAccount
from app.ratelimit_shared import Throttles
from app.security import NewConsoleSession, hash_password, open_session, verify_password
from app.services import audit
from app.settings import Settings

SESSION_COOKIE = "eseal_session"
LOGIN_CSRF_COOKIE = "eseal_login_csrf"
WRONG = "用户名或密码错误 / Wrong username or password"
THROTTLED = (
    "登录失败次数过多，请稍后再试 / Too many failed sign-ins from this address; wait a minute"
)


@functools.cache
def _dummy_hash() -> str:
    """A real hash to check against when the username is unknown, so timing does not tell."""
    return hash_password(secrets.token_hex(16))


@dataclass(frozen=True)
class LoginOutcome:
    ok: bool
    message: str
    session: NewConsoleSession | None = None
    throttled: bool = False


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def sign_in(
    session: Session,
    *,
    settings: Settings,
    username: str,
    password: str,
    address: str = "unknown",
    throttles: Throttles | None = None,
) -> LoginOutcome:
    """Check a password under the throttles above. Known accounts are audited either way."""
    if throttles is not None and 0 < throttles.address.limit <= throttles.address.count(address):
        return LoginOutcome(False, THROTTLED, throttled=True)
    pair = f"{username}\n{address}"
    held_back = (
        throttles is not None and throttles.account.count(pair) >= settings.login_max_failures
    )
    account = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    matches = verify_password(account.password_hash if account else _dummy_hash(), password)
    if account is not None and matches and not held_back:
        if throttles is not None:
            throttles.account.reset(pair)
        opened = open_session(session, user=account, hours=settings.session_hours)
        _audit(session, account, "account.login", address)
        return LoginOutcome(True, "", opened)
    if throttles is not None:
        throttles.address.hit(address)
        if not held_back:
            throttles.account.hit(pair)
    if account is not None:
        action = "account.login_held_back" if held_back else "account.login_failed"
        if (
            not held_back
            and throttles is not None
            and throttles.account.count(pair) >= settings.login_max_failures
        ):
            action = "account.locked"  # for this address, for login_lockout_minutes
        _audit(session, account, action, address)
    return LoginOutcome(False, WRONG)


def _audit(session: Session, account: UserAccount, action: str, address: str) -> None:
    audit.record(
        session,
        actor=f"user:{account.id}",
        action=action,
        target_type="user",
        target_id=account.id,
        details={"address": address},
    )
