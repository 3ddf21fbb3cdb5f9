"""Database engine and units of work: one session per request, committed at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, text
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


BUSY_TIMEOUT_SECONDS = 5.0
"""How long a statement waits for SQLite's write lock, a pool slot or a PostgreSQL connection
before the request is answered 503 (`database-unavailable`): never the 30 s that froze the
service; admission control keeps the queue behind the lock short enough to clear in time."""
POOL_SIZE = 10
POOL_OVERFLOW = 10


def make_engine(url: str, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and write-serialising transactions."""
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, "pool_timeout": busy_timeout}
    if not url.startswith("sqlite"):
        connect: dict[str, Any] = {}
        if "psycopg" in url:  # row and table locks wait as long as SQLite's busy timeout
            wait_ms = int(busy_timeout * 1000)
            connect = {
                "connect_timeout": max(1, round(busy_timeout)),
                "options": f"-c lock_timeout={wait_ms}",
            }
        return create_engine(url, pool_pre_ping=True, connect_args=connect, **pool)
    if ":memory:" in url or url.rstrip("/") in {"sqlite:", "sqlite:/"}:
        pool = {}  # in-memory databases use a single-connection pool
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": busy_timeout}, **pool
    )
    busy_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # Serialise writers up front: read-then-write transactions (audit chain, counters)
        # would otherwise race or fail with SQLITE_BUSY_SNAPSHOT. Long read-only work (public
        # verification) uses `reading(engine)` and must not hold the write lock.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {'DEFERRED' if mode == 'DEFERRED' else 'IMMEDIATE'}")

    return engine


def reading(engine: Engine) -> Engine:
    """The same engine for work that only reads: on SQLite its transactions do not take the
    write lock, so a slow verification never blocks signing. Made once per engine (it is
    asked for several times per request)."""
    kept: Engine | None = engine.__dict__.get(_READING)
    if kept is None:
        kept = engine.execution_options(sqlite_begin="DEFERRED")
        engine.__dict__[_READING] = kept  # on the engine: goes when the engine goes
    return kept


_READING = "_eseal_reading"


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session committed when the block ends normally and rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration (the only way the schema is made)."""
    from alembic import command  # alembic: only when migrating

    command.upgrade(alembic_config(url), "head")


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
