"""First-run set-up (``eseal init``): data folder, master key, schema, CA hierarchy, first
administrator."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from app.db import migrate, unit_of_work
from app.models import Person, UserAccount
from app.services import audit
from app.services.tenancy import create_account
from app.settings import Settings
from app.wiring import Services, build_services
from pki.hierarchy import HierarchyResult, ensure_hierarchy, ensure_sm2_hierarchy

ADMIN_USERNAME = "admin"
_INIT_LOCK = 0x65736561  # "esea": one initialiser at a time on a shared PostgreSQL


@contextmanager
def _one_initialiser(engine: Engine) -> Iterator[None]:
    """Several instances starting at once on one PostgreSQL take turns (an advisory lock),
    so the schema and the CA hierarchy are made once; SQLite serialises writers anyway."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _INIT_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _INIT_LOCK})
            conn.commit()


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
    password = None
    try:
        with _one_initialiser(services.engine):
            migrate(settings.resolved_database_url)
            password = _create_what_is_missing(settings, services, changed)
    finally:
        services.engine.dispose()
    return InitResult(changed=changed, admin_password=password)


def _create_what_is_missing(
    settings: Settings, services: Services, changed: list[str]
) -> str | None:
    """The CA hierarchies and the first administrator, when missing; their audit events."""
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
    return password


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
