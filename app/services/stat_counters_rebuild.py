"""Recount the statistics counters from the acts themselves (one GROUP BY per figure).

For a database that had acts before the counters existed, after a bulk import that bypassed
the ORM (the benchmark's COPY), or to check the maintained counters: a rebuild must give the
very same figures. Verification requests leave no rows of their own, so their counters are
kept as they are. Asia/Shanghai has had no daylight saving time since 1991, so on SQLite its
day is the UTC instant plus eight hours.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session

from app.models import Organization
from app.models_agency import Delivery, StatCounter
from app.services.regions import DIGITS, RegionLevel
from app.services.stat_counters import ALL, BROKEN_DOWN, STATE, Metric
from seals.models import Seal, SealUsage
from seals.models_envelopes import Envelope
from seals.report_text import LOCAL_TZ

COLUMNS = ["metric", "level", "division", "period", "dim1", "dim2", "value"]
COUNTY = RegionLevel.county.value


def _t(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def _day(dialect: str, column: Any) -> Any:
    if dialect == "postgresql":
        return func.to_char(func.timezone(LOCAL_TZ.key, column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, "+8 hours")


def _selects(dialect: str) -> list[sa.Select[Any]]:
    o, s, u, e, d = (_t(m) for m in (Organization, Seal, SealUsage, Envelope, Delivery))
    div = func.substr(o.c.uscc, 3, 6)
    enterprise = o.c.kind == "enterprise"
    blank, state, count = sa.literal(""), sa.literal(STATE), func.count()

    def figure(metric: str, period: Any, dim1: Any, dim2: Any, source: Any) -> sa.Select[Any]:
        keys = [k for k in (div, period, dim1, dim2) if k is not blank and k is not state]
        return (
            sa.select(sa.literal(metric), sa.literal(COUNTY), div, period, dim1, dim2, count)
            .select_from(source)
            .group_by(*keys)
        )

    seals = s.join(o, o.c.id == s.c.organization_id)
    uses = u.join(s, s.c.id == u.c.seal_id).join(o, o.c.id == u.c.organization_id)
    envelopes = e.join(o, o.c.id == e.c.organization_id)
    deliveries = d.join(o, o.c.id == d.c.organization_id)
    return [
        figure(Metric.ENTERPRISES, _day(dialect, o.c.created_at), blank, blank, o).where(
            enterprise
        ),
        figure(Metric.ENTERPRISES, state, blank, blank, o).where(enterprise),
        figure(Metric.SEALS, state, s.c.kind, s.c.status, seals).where(enterprise),
        figure(Metric.SEALS_MADE, _day(dialect, s.c.created_at), s.c.kind, blank, seals).where(
            enterprise
        ),
        sa.select(
            sa.literal(Metric.ENTERPRISES_ACTIVE),
            sa.literal(COUNTY),
            div,
            state,
            blank,
            blank,
            func.count(sa.distinct(s.c.organization_id)),
        )
        .select_from(seals)
        .where(enterprise, s.c.status == "active")
        .group_by(div),
        figure(
            Metric.USES,
            _day(dialect, u.c.used_at),
            s.c.kind,
            func.coalesce(u.c.document_type, ""),
            uses,
        ).where(enterprise),
        figure(Metric.ENVELOPES, _day(dialect, e.c.finished_at), blank, blank, envelopes).where(
            enterprise, e.c.status == "completed"
        ),
        figure(Metric.DELIVERIES_SENT, _day(dialect, d.c.sent_at), blank, blank, deliveries),
        figure(
            Metric.DELIVERIES_ACKNOWLEDGED,
            _day(dialect, d.c.acknowledged_at),
            blank,
            blank,
            deliveries,
        ).where(d.c.status == "acknowledged"),
    ]


def rebuild(session: Session) -> None:
    """Replace every counter but the verification requests' by a recount, in the caller's
    transaction (run it when nothing else writes: acts during a rebuild would be lost)."""
    dialect = session.get_bind().dialect.name
    counters = _t(StatCounter)
    session.execute(sa.delete(counters).where(counters.c.metric != Metric.VERIFICATIONS))
    for select in _selects(dialect):
        session.execute(counters.insert().from_select(COLUMNS, select))
    for select in _roll_ups(counters):
        session.execute(counters.insert().from_select(COLUMNS, select))
    daily = func.length(counters.c.period) == 10
    session.execute(  # per day, broken-down flows keep only their total
        sa.delete(counters).where(counters.c.metric.in_(BROKEN_DOWN), daily, counters.c.dim1 != ALL)
    )


def _roll_ups(c: sa.Table) -> list[sa.Select[Any]]:
    """From the county/day rows: breakdown totals, county/month, then city and province for
    every period."""
    counted = sa.and_(c.c.level == COUNTY, c.c.metric != Metric.VERIFICATIONS)
    month = func.substr(c.c.period, 1, 7)
    star = sa.literal(ALL)
    totals = (
        sa.select(c.c.metric, c.c.level, c.c.division, c.c.period, star, star, func.sum(c.c.value))
        .where(counted, c.c.metric.in_(BROKEN_DOWN))
        .group_by(c.c.metric, c.c.level, c.c.division, c.c.period)
    )
    by_month = (
        sa.select(
            c.c.metric, c.c.level, c.c.division, month, c.c.dim1, c.c.dim2, func.sum(c.c.value)
        )
        .where(counted, c.c.period != STATE)
        .group_by(c.c.metric, c.c.level, c.c.division, month, c.c.dim1, c.c.dim2)
    )
    selects = [totals, by_month]
    for level in (RegionLevel.city, RegionLevel.province):
        region = func.substr(c.c.division, 1, DIGITS[level])
        selects.append(
            sa.select(
                c.c.metric,
                sa.literal(level.value),
                region,
                c.c.period,
                c.c.dim1,
                c.c.dim2,
                func.sum(c.c.value),
            )
            .where(counted)
            .group_by(c.c.metric, region, c.c.period, c.c.dim1, c.c.dim2)
        )
    return selects
