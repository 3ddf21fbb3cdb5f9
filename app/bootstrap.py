"""First-run set-up (``eseal init``): data folder, master key, schema, CA hierarchy, first
administrator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from app.db import migrate, unit_of_work
from app.models import Person, UserAccount
from app.services import audit
from app.services.tenancy import create_account
from app.settings import Settings
from app.wiring import build_services
from pki.hierarchy import HierarchyResult, ensure_hierarchy, ensure_sm2_hierarchy

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
        settings.data_dir.mkdir(mode=0o700, parents=True)
        changed.append(f"created data folder {settings.data_dir}")
    key_file = settings.resolved_master_key_file
    if settings.master_key is None and not key_file.exists():
        changed.append(f"created master key file {key_file} (mode 0600)")
    services = build_services(settings)
    migrate(settings.resolved_database_url)
    password = None
    try:
        with unit_of_work(services.engine) as session:
            results = [
                ensure_hierarchy(session, authority=services.authority, config=services.hierarchy)
            ]
            if settings.sm2_enabled:  # added to an existing installation on its next init
                results.append(
                    ensure_sm2_hierarchy(
                        session, authority=services.authority, config=services.hierarchy
                    )
                )
            for hierarchy in results:
                _record_hierarchy(session, hierarchy, changed)
            password = _ensure_admin(session)
            if password:
                changed.append(f"created platform administrator '{ADMIN_USERNAME}'")
    finally:
        services.engine.dispose()
    return InitResult(changed=changed, admin_password=password)


def _record_hierarchy(session: Session, hierarchy: HierarchyResult, changed: list[str]) -> None:
    if not (hierarchy.created or hierarchy.renewed_cas):
        return
    changed.append(hierarchy.message)
    for ca in (*hierarchy.created_cas, *hierarchy.renewed_cas):
        audit.record(
            session, actor="operator:init", action="ca.create", target_type="ca", target_id=ca
        )


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
