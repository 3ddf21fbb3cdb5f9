"""Statistics counters kept in the transaction of each act.

A session listener (`after_flush`) looks at the rows a flush wrote — new organizations,
seals and their status changes, seal uses, completed envelopes, deliveries — and upserts
`stat_counter` rows over the same connection, so a counter commits or rolls back with the
act it counts. Reading a figure then costs a few indexed rows whatever the number of acts.

Flow figures are counted on the Asia/Shanghai day of the act; state figures (seals by kind
and status, enterprises with at least one active seal) under the period '*'.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Session, col, func, select

from app.db import unit_of_work
from app.models import Organization, OrganizationKind
from app.models_agency import Delivery, StatCounter
from app.services.regions import DIGITS, UNKNOWN_DIVISION, division_of
from seals.authorization import SealUse, UsageReceipt, on_use
from seals.models import Seal, SealUsage
from seals.models_envelopes import Envelope
from seals.report_text import LOCAL_TZ

log = logging.getLogger("eseal.stat_counters")
STATE = "*"
ACTIVE = "active"
COMPLETED = "completed"
ACKNOWLEDGED = "acknowledged"

ALL = "*"
"""dim1 and dim2 of the rows that sum a broken-down flow over its breakdown: totals then read
one row per region and period, whatever the number of kinds and document types."""

Key = tuple[str, str, str, str, str]  # metric, division, period, dim1, dim2


class Metric:
    ENTERPRISES = "enterprises_registered"
    ENTERPRISES_ACTIVE = "enterprises_with_active_seal"
    SEALS = "seals"  # state: dim1 kind, dim2 status
    SEALS_MADE = "seals_made"  # flow: dim1 kind
    USES = "seal_uses"  # flow: dim1 kind, dim2 document type
    ENVELOPES = "envelopes_completed"
    DELIVERIES_SENT = "deliveries_sent"
    DELIVERIES_ACKNOWLEDGED = "deliveries_acknowledged"
    VERIFICATIONS = "verification_requests"


BROKEN_DOWN = (Metric.USES, Metric.SEALS_MADE)


def local_day(moment: datetime | None) -> str:
    """The Asia/Shanghai calendar day of a UTC instant (naive values are UTC)."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d")


def expand(deltas: Counter[Key]) -> Counter[tuple[str, ...]]:
    """Each county/day delta as the rows it changes: every region level, its day and month.
    Broken-down flows (uses by kind and document type, seals made by kind) keep their
    breakdown per month and only a total ('*') per day: days x counties x kinds x document
    types would otherwise outnumber the acts themselves."""
    rows: Counter[tuple[str, ...]] = Counter()
    for (metric, division, period, dim1, dim2), value in deltas.items():
        if not value:
            continue
        if period == STATE:
            cells = [(STATE, dim1, dim2)]
        elif metric in BROKEN_DOWN:
            month = period[:7]
            cells = [(period, ALL, ALL), (month, ALL, ALL), (month, dim1, dim2)]
        else:
            cells = [(period, dim1, dim2), (period[:7], dim1, dim2)]
        for level, digits in DIGITS.items():
            for when, d1, d2 in cells:
                rows[(metric, level.value, division[:digits], when, d1, d2)] += value
    return rows


def upsert(connection: sa.Connection, deltas: Counter[Key]) -> None:
    """Add `deltas` to the counters (insert or increment), on this connection."""
    names = ("metric", "level", "division", "period", "dim1", "dim2")
    rows = [
        dict(zip(names, k, strict=True)) | {"value": v}
        for k, v in sorted(expand(deltas).items())
        if v
    ]
    if not rows:
        return
    connection.execute(_upsert_statement(connection.dialect.name), rows)


_UPSERTS: dict[str, sa.Insert] = {}


def _upsert_statement(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT DO UPDATE value = value + excluded.value, built once per
    dialect (building it cost more than running it)."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        table = StatCounter.__table__  # type: ignore[attr-defined]
        names = ("metric", "level", "division", "period", "dim1", "dim2")
        insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
        statement = _UPSERTS[dialect] = insert.on_conflict_do_update(
            index_elements=list(names),
            set_={"value": table.c.value + insert.excluded.value},
        )
    return statement


def division_of_organization(connection: sa.Connection, organization_id: str) -> str:
    """The division an enterprise's acts are counted in ("" for agencies: not counted)."""
    row = connection.execute(
        sa.select(_ORGS.c.kind, _ORGS.c.uscc).where(_ORGS.c.id == organization_id)
    ).first()
    if row is None or row[0] != OrganizationKind.enterprise:
        return ""
    return division_of(row[1])


DIVISIONS = "eseal.stat_divisions"
"""`session.info` key: organization id -> statistics division, for a caller that read it."""


def _count_use(session: Session, use: SealUse, receipt: UsageReceipt) -> None:
    """Count one seal use (`SealUse.consume` writes it with Core statements, which the flush
    listener does not see), in the division the caller noted in `session.info` or else read
    now; an agency's uses are not counted."""
    connection = session.connection()
    organization_id = use.seal.organization_id
    known: dict[str, str] = session.info.get(DIVISIONS, {})
    division = known.get(organization_id)
    if division is None:
        division = division_of_organization(connection, organization_id)
    if division:
        day = local_day(receipt.used_at)
        key = (Metric.USES, division, day, use.seal.kind.value, receipt.document_type or "")
        upsert(connection, Counter({key: 1}))


_ORGS = Organization.__table__  # type: ignore[attr-defined]


def _division(session: OrmSession, organization_id: str, cache: dict[str, str | None]) -> str:
    """The enterprise's division; None-equivalent (skipped) for agencies."""
    if organization_id not in cache:
        org = session.get(Organization, organization_id)
        enterprise = org is not None and org.kind == OrganizationKind.enterprise
        cache[organization_id] = division_of(org.uscc) if org and enterprise else None
    return cache[organization_id] or ""


def _status_change(seal: Seal) -> tuple[str, str] | None:
    history = sa.inspect(seal).attrs.status.history
    if not history.deleted or not history.added:
        return None
    old, new = history.deleted[0], history.added[0]
    return (str(old), str(new)) if old != new else None


def _collect(session: OrmSession) -> tuple[Counter[Key], Counter[str]]:
    deltas: Counter[Key] = Counter()
    active_change: Counter[str] = Counter()  # organization id -> change in active seals
    divisions: dict[str, str | None] = {}
    for obj in session.new:
        if isinstance(obj, Organization) and obj.kind == OrganizationKind.enterprise:
            division = division_of(obj.uscc)
            divisions[obj.id] = division
            deltas[(Metric.ENTERPRISES, division, local_day(obj.created_at), "", "")] += 1
            deltas[(Metric.ENTERPRISES, division, STATE, "", "")] += 1
    for obj in session.new:
        if not isinstance(obj, Seal | SealUsage):
            continue
        division = _division(session, obj.organization_id, divisions)
        if not division:
            continue
        if isinstance(obj, Seal):
            deltas[(Metric.SEALS, division, STATE, obj.kind, obj.status)] += 1
            deltas[(Metric.SEALS_MADE, division, local_day(obj.created_at), obj.kind, "")] += 1
            if obj.status == ACTIVE:
                active_change[obj.organization_id] += 1
        else:
            seal = session.get(Seal, obj.seal_id)
            kind = seal.kind if seal is not None else ""
            day = local_day(obj.used_at)
            deltas[(Metric.USES, division, day, kind, obj.document_type or "")] += 1
    for obj in session.dirty:
        if isinstance(obj, Seal) and (change := _status_change(obj)):
            division = _division(session, obj.organization_id, divisions)
            if not division:
                continue
            deltas[(Metric.SEALS, division, STATE, obj.kind, change[0])] -= 1
            deltas[(Metric.SEALS, division, STATE, obj.kind, change[1])] += 1
            active_change[obj.organization_id] += (change[1] == ACTIVE) - (change[0] == ACTIVE)
        elif isinstance(obj, Envelope) and (finished := _envelope_completed(obj)):
            division = _division(session, obj.organization_id, divisions)
            if division:
                deltas[(Metric.ENVELOPES, division, local_day(finished), "", "")] += 1
    _deliveries(session, deltas)
    for org_id, moved in active_change.items():
        if moved:
            _enterprise_activity(session, org_id, moved, divisions, deltas)
    return deltas, active_change


def _deliveries(session: OrmSession, deltas: Counter[Key]) -> None:
    """Deliveries count in the sender's division, whatever kind of organization sends."""
    for obj in session.new:
        if isinstance(obj, Delivery):
            division = _sender_division(session, obj.organization_id)
            deltas[(Metric.DELIVERIES_SENT, division, local_day(obj.sent_at), "", "")] += 1
    for obj in session.dirty:
        if isinstance(obj, Delivery):
            history = sa.inspect(obj).attrs.status.history
            if history.added and history.added[0] == ACKNOWLEDGED:
                division = _sender_division(session, obj.organization_id)
                day = local_day(obj.acknowledged_at)
                deltas[(Metric.DELIVERIES_ACKNOWLEDGED, division, day, "", "")] += 1


def _sender_division(session: OrmSession, organization_id: str) -> str:
    org = session.get(Organization, organization_id)
    return division_of(org.uscc if org else None)


def _envelope_completed(envelope: Envelope) -> datetime | None:
    history = sa.inspect(envelope).attrs.status.history
    if history.added and history.added[0] == COMPLETED and COMPLETED not in history.deleted:
        return envelope.finished_at or datetime.now(UTC)
    return None


def _enterprise_activity(
    session: OrmSession,
    organization_id: str,
    change: int,
    divisions: dict[str, str | None],
    deltas: Counter[Key],
) -> None:
    """+1/-1 on 'enterprises with an active seal' when the flush moved the organization's
    count of active seals across zero (one indexed count, after the flush)."""
    # the organization's row lock orders concurrent flushes of its seals, so each one counts
    # the others' committed changes (READ COMMITTED) and the crossing is counted once
    session.execute(
        select(Organization.id).where(col(Organization.id) == organization_id).with_for_update()
    )
    now = session.execute(
        select(func.count())
        .select_from(Seal)
        .where(col(Seal.organization_id) == organization_id, col(Seal.status) == ACTIVE)
    ).scalar_one()
    before = now - change
    division = divisions.get(organization_id) or UNKNOWN_DIVISION
    if before <= 0 < now:
        deltas[(Metric.ENTERPRISES_ACTIVE, division, STATE, "", "")] += 1
    elif now <= 0 < before:
        deltas[(Metric.ENTERPRISES_ACTIVE, division, STATE, "", "")] -= 1


def _after_flush(session: OrmSession, _context: UOWTransaction) -> None:
    deltas, _ = _collect(session)
    if deltas:
        upsert(session.connection(), deltas)


def count_verification(session: Session, *, division: str = UNKNOWN_DIVISION, n: int = 1) -> None:
    """Count verification requests (acts that write no row of their own)."""
    key = (Metric.VERIFICATIONS, division, local_day(None), "", "")
    upsert(session.connection(), Counter({key: n}))


class VerificationTally:
    """Verification requests counted in memory and written at most every `interval` seconds.

    Verification is public and read-only: a write per request would put every anonymous
    check in the queue for SQLite's write lock that sealing needs (issue 11). The figure may
    lag by `interval` seconds in a running process; `flush` (statistics reads, shutdown)
    writes what is pending. A process killed with -9 loses at most that many seconds."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._pending: dict[sa.Engine, int] = {}  # per database (tests run several apps)
        self._last = time.monotonic()

    def add(self, engine: sa.Engine) -> None:
        with self._lock:
            self._pending[engine] = self._pending.get(engine, 0) + 1
            due = time.monotonic() - self._last >= self.interval
        if due:
            self.flush(engine)

    def flush(self, engine: sa.Engine) -> None:
        with self._lock:
            pending = self._pending.pop(engine, 0)
            self._last = time.monotonic()
        if not pending:
            return
        try:
            with unit_of_work(engine) as session:
                count_verification(session, n=pending)
        except Exception:
            with self._lock:  # kept for the next flush; statistics never fail a verification
                self._pending[engine] = self._pending.get(engine, 0) + pending
            log.warning("verification tally not written; kept for the next flush", exc_info=True)


verification_tally = VerificationTally()


_installed = False


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    global _installed
    if not _installed:
        event.listen(OrmSession, "after_flush", _after_flush)
        on_use(_count_use)
        _installed = True
