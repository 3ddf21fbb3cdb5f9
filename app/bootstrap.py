"""First-run set-up (``eseal init``): data folder, master key, schema, first administrator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from app import audit
from app.db import make_engine, migrate, unit_of_work
from app.models import Person, UserAccount
from app.settings import Settings
from app.tenancy import create_account

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class InitResult:
    changed: list[str]
    admin_password: str | None  # shown once, only when the admin was created now

    @property
    def changed_anything(self) -> bool:
        return bool(self.changed)


def initialise(settings: Settings) -> InitResult:
    """Idempotent: a second run changes nothing and says so."""
    changed: list[str] = []
    if not settings.data_dir.exists():
        settings.data_dir.mkdir(parents=True)
        changed.append(f"created data folder {settings.data_dir}")
    migrate(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    password = None
    try:
        with unit_of_work(engine) as session:
            password = _ensure_admin(session)
            if password:
                changed.append(f"created platform administrator '{ADMIN_USERNAME}'")
    finally:
        engine.dispose()
    return InitResult(changed=changed, admin_password=password)


def _ensure_admin(session: Session) -> str | None:
    if session.exec(select(UserAccount.id).where(UserAccount.is_platform_admin)).first():
        return None
    person = Person(name="平台管理员")
    session.add(person)
    session.flush()
    password = secrets.token_urlsafe(15)
    account = create_account(
        session, person=person, username=ADMIN_USERNAME, password=password, platform_admin=True
    )
    audit.record(
        session,
        actor="operator:init",
        action="account.create",
        target_type="user",
        target_id=account.id,
        details={"username": ADMIN_USERNAME, "platform_admin": True},
    )
    return password
