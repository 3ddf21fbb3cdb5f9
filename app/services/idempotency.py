"""Idempotency-Key: the first request sent with a key claims it in its own transaction and
binds its result to it when it commits; a retry gets that result again, and another request
under the same key is a conflict. Signing and envelope creation both claim here."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.errors import Conflict
from app.models import IdempotencyRecord


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


def first_document(record: IdempotencyRecord, fingerprint: str) -> str:
    """The document the key's first request produced, for a retry of the same request."""
    if record.request_sha256 != fingerprint:
        raise Conflict("this Idempotency-Key was already used for a different request")
    if record.document_id is None:
        raise Conflict("a request with this Idempotency-Key is still being processed")
    return record.document_id
