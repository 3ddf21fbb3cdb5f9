"""The append-only, hash-chained audit log.

Each event's hash is SHA-256 over a canonical JSON encoding of its fields and the previous
event's hash; changing, removing or reordering any row breaks every link after it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import text
from sqlmodel import Session, col, select

from app.models import AuditEvent

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 0x65_73_65_61_6C  # "eseal": PostgreSQL advisory lock serialising appends


def canonical_bytes(
    *,
    seq: int,
    occurred_at: datetime,
    actor: str,
    organization_id: str | None,
    action: str,
    target_type: str,
    target_id: str,
    details: str,
    prev_hash: str,
) -> bytes:
    """The exact bytes hashed for one event (sorted keys, UTF-8, no whitespace)."""
    record = {
        "seq": seq,
        "occurred_at": occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "organization_id": organization_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(
        canonical_bytes(
            seq=event.seq,
            occurred_at=event.occurred_at,
            actor=event.actor,
            organization_id=event.organization_id,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            details=event.details,
            prev_hash=event.prev_hash,
        )
    ).hexdigest()


@dataclass(frozen=True)
class Appended:
    """The link an event became: its place in the chain and its hash."""

    seq: int
    hash: str


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    organization_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> Appended:
    """Append one event in the caller's transaction (it commits or rolls back with the act).

    After flushing what the caller has pending, two Core statements on the session's
    connection: the last link's seq and hash, then the insert. No ORM object per event
    (issue 12: building and flushing it cost more than the two statements)."""
    session.flush()  # the caller's pending rows first, as the event's own flush did
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    last = connection.execute(_LAST_LINK).first()
    row: dict[str, Any] = {
        "seq": (last[0] + 1) if last else 1,
        "occurred_at": datetime.now(UTC),
        "actor": actor,
        "organization_id": organization_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": json.dumps(
            details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ),
        "prev_hash": last[1] if last else GENESIS_HASH,
    }
    row["hash"] = hashlib.sha256(canonical_bytes(**row)).hexdigest()
    connection.execute(_INSERT, row)
    return Appended(seq=row["seq"], hash=row["hash"])


_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_INSERT = _AUDIT.insert()
_LAST_LINK = sa.select(_AUDIT.c.seq, _AUDIT.c.hash).order_by(_AUDIT.c.seq.desc()).limit(1)


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    events: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session, *, batch: int = 1000) -> ChainReport:
    """Walk the whole chain in order; name the first link that does not hold."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    after = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.seq) > after)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not rows:
            return ChainReport(intact=True, events=count)
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != expected_prev:
                return ChainReport(
                    False, count, event.seq, "previous-hash link does not match the event before"
                )
            if event_hash(event) != event.hash:
                return ChainReport(
                    False, count, event.seq, "event content does not match its recorded hash"
                )
            expected_prev = event.hash
            expected_seq += 1
            count += 1
            after = event.seq
