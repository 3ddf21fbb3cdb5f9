"""Fresh test databases: a SQLite file, or a new database on the PostgreSQL server named by
ESEAL_TEST_DATABASE_URL (CI runs the suite once on each)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("ESEAL_TEST_DATABASE_URL", "")


def on_postgres() -> bool:
    return POSTGRES_URL.startswith("postgresql")


def fresh_database_url(tmp_dir: Path) -> str:
    """A new, empty database; on PostgreSQL a uniquely named one on the configured server."""
    if not on_postgres():
        return f"sqlite:///{tmp_dir / f'eseal-{secrets.token_hex(4)}.db'}"
    base = make_url(POSTGRES_URL)
    name = f"eseal_test_{secrets.token_hex(6)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()
