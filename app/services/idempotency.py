"""Idempotency-Key: the first request sent with a key claims it in its own transaction and
binds its result to it when it commits; a retry gets that result again, and another request
under the same key is a conflict. Signing and envelope creation both claim here."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.errors import Conflict
from app.models import IdempotencyRecord, new_id


def held(session: Session, *, actor: str, key: str) -> IdempotencyRecord | None:
    """The record that holds `key` for `actor`, if any."""
    return session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == actor, IdempotencyRecord.key == key
        )
    ).first()


def claim(
    session: Session, *, actor: str, key: str, fingerprint: str
) -> tuple[IdempotencyRecord, bool]:
    """Reserve the key in this transaction: (our new record, True), or (the record of whoever
    holds it, False).

    A concurrent request with the same key blocks on the unique index until the first one
    commits (PostgreSQL) or waits for the write lock (SQLite), then sees its record.
    """
    existing = held(session, actor=actor, key=key)
    if existing is not None:
        return existing, False
    record = IdempotencyRecord(principal=actor, key=key, request_sha256=fingerprint)
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        again = held(session, actor=actor, key=key)
        assert again is not None  # the unique index refused ours: theirs is committed
        return again, False
    return record, True


def bind(session: Session, *, actor: str, key: str, fingerprint: str, document_id: str) -> bool:
    """Claim `key` for the document this transaction has just stored, in one statement: True
    when it is ours, False when another request holds it (then `held` names that one).

    ``INSERT ... ON CONFLICT DO NOTHING`` on the unique (principal, key): a concurrent holder
    still in flight makes it wait until that one commits (PostgreSQL) or cannot exist
    (SQLite: this transaction holds the write lock). The record is written complete, so a
    retry never sees a signing 'still being processed'."""
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    values = {
        "id": new_id(),
        "principal": actor,
        "key": key,
        "request_sha256": fingerprint,
        "document_id": document_id,
        "created_at": datetime.now(UTC),
    }
    # RETURNING, not rowcount: SQLAlchemy 2.1 on psycopg reports -1 for this INSERT
    inserted = connection.execute(_BIND_POSTGRES if postgres else _BIND_SQLITE, values)
    return inserted.first() is not None


_TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_BIND_POSTGRES = (
    postgresql.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["principal", "key"])
    .returning(_TABLE.c.id)
)
_BIND_SQLITE = (
    sqlite.insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["principal", "key"])
    .returning(_TABLE.c.id)
)


def first_document(record: IdempotencyRecord, fingerprint: str) -> str:
    """The document the key's first request produced, for a retry of the same request."""
    if record.request_sha256 != fingerprint:
        raise Conflict("this Idempotency-Key was already used for a different request")
    if record.document_id is None:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    return record.document_id
