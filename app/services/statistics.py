"""Figures for the administrating agency: per region and period, read from `stat_counter`.

Every figure is a sum over a handful of counter rows (an index range on metric, period and
division), never a scan of organizations, seals or uses. Periods are Asia/Shanghai days or
months; regions roll division codes up to city (4 digits) or province (2 digits).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func
from sqlmodel import Session

from app.errors import Forbidden, InvalidInput
from app.models_agency import StatCounter
from app.security import Principal, Scope
from app.services.regions import DIGITS, RegionLevel
from app.services.stat_counters import ALL, BROKEN_DOWN, STATE, Metric
from seals.report_text import LOCAL_TZ

MAX_DAYS = 400
MAX_MONTHS = 120
FLOWS = (
    Metric.ENTERPRISES,
    Metric.SEALS_MADE,
    Metric.USES,
    Metric.ENVELOPES,
    Metric.DELIVERIES_SENT,
    Metric.DELIVERIES_ACKNOWLEDGED,
    Metric.VERIFICATIONS,
)
STATES = (Metric.ENTERPRISES, Metric.ENTERPRISES_ACTIVE, Metric.SEALS)
COUNTERS: sa.Table = StatCounter.__table__  # type: ignore[attr-defined]


class Granularity(StrEnum):
    day = "day"
    month = "month"


def require_reader(principal: Principal) -> None:
    """The platform and registration authorities (agencies) read statistics."""
    if not (principal.is_platform or Scope.enterprises_register in principal.scopes):
        raise Forbidden("statistics need the scope 'enterprises:register' (an agency)")


@dataclass(frozen=True)
class Query:
    granularity: Granularity
    start: date
    end: date
    level: RegionLevel
    region: str = ""

    @classmethod
    def of(
        cls,
        *,
        granularity: Granularity,
        start: date | None,
        end: date | None,
        level: RegionLevel,
        region: str | None,
        today: date | None = None,
    ) -> Query:
        today = today or datetime.now(LOCAL_TZ).date()
        end = end or today
        if start is None and granularity is Granularity.month:
            year, month = (
                (end.year, end.month - 11) if end.month > 11 else (end.year - 1, end.month + 1)
            )
            start = date(year, month, 1)
        elif start is None:
            start = end - timedelta(days=29)
        if start > end:
            raise InvalidInput("'from' is after 'to'")
        if granularity is Granularity.day and (end - start).days >= MAX_DAYS:
            raise InvalidInput(f"a daily series spans at most {MAX_DAYS} days")
        if granularity is Granularity.month and _months(start, end) > MAX_MONTHS:
            raise InvalidInput(f"a monthly series spans at most {MAX_MONTHS} months")
        region = (region or "").strip()
        if region and (not region.isdigit() or len(region) not in (2, 4, 6)):
            raise InvalidInput("region is a division code of 2, 4 or 6 digits")
        if region and len(region) > DIGITS[level]:
            raise InvalidInput(f"a {level.value} roll-up cannot be filtered by {region}")
        return cls(granularity=granularity, start=start, end=end, level=level, region=region)

    def periods(self) -> list[str]:
        if self.granularity is Granularity.day:
            days = (self.end - self.start).days + 1
            return [(self.start + timedelta(days=i)).isoformat() for i in range(days)]
        out: list[str] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


@dataclass
class Summary:
    """One region's figures over the whole window (state figures are current)."""

    region: str
    enterprises: int = 0
    enterprises_with_active_seal: int = 0
    enterprises_registered: int = 0
    seals: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> status -> n
    seals_made: int = 0
    seal_uses: int = 0
    seals_made_by_kind: dict[str, int] = field(default_factory=dict)
    uses_by_kind: dict[str, int] = field(default_factory=dict)
    uses_by_document_type: dict[str, int] = field(default_factory=dict)
    envelopes_completed: int = 0
    deliveries_sent: int = 0
    deliveries_acknowledged: int = 0
    verification_requests: int = 0

    @property
    def distribution_rate(self) -> float | None:
        return _rate(self.enterprises_with_active_seal, self.enterprises)

    @property
    def delivery_rate(self) -> float | None:
        return _rate(self.deliveries_acknowledged, self.deliveries_sent)

    def to_json(self) -> dict[str, object]:
        return {
            "region": self.region,
            "enterprises": self.enterprises,
            "enterprises_with_active_seal": self.enterprises_with_active_seal,
            "distribution_rate": self.distribution_rate,
            "enterprises_registered": self.enterprises_registered,
            "seals": self.seals,
            "seals_made": self.seals_made,
            "seals_made_by_kind": self.seals_made_by_kind,
            "seal_uses": self.seal_uses,
            "uses_by_kind": self.uses_by_kind,
            "uses_by_document_type": self.uses_by_document_type,
            "envelopes_completed": self.envelopes_completed,
            "deliveries_sent": self.deliveries_sent,
            "deliveries_acknowledged": self.deliveries_acknowledged,
            "delivery_rate": self.delivery_rate,
            "verification_requests": self.verification_requests,
        }


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Row:
    """One figure of the CSV export."""

    period: str
    region: str
    metric: str
    dim1: str
    dim2: str
    value: int


@dataclass
class Report:
    query: Query
    series_by_metric: dict[str, dict[str, int]]
    regions: list[Summary]
    totals: Summary

    def series(self, metric: str) -> list[tuple[str, int]]:
        """`metric` per period over every region (zeros included): what a chart draws."""
        sums = self.series_by_metric.get(metric, {})
        return [(p, sums.get(p, 0)) for p in self.query.periods()]

    def to_json(self) -> dict[str, object]:
        q = self.query
        return {
            "granularity": q.granularity.value,
            "from": q.start.isoformat(),
            "to": q.end.isoformat(),
            "timezone": LOCAL_TZ.key,
            "level": q.level.value,
            "region": q.region or None,
            "periods": q.periods(),
            "totals": self.totals.to_json(),
            "regions": [r.to_json() for r in self.regions],
            "series": {m: dict(self.series(m)) for m in FLOWS},
        }


def _period_and_level(query: Query) -> sa.ColumnElement[bool]:
    t = COUNTERS
    return sa.and_(t.c.level == query.level.value, t.c.period.in_(query.periods()))


def _in_region(query: Query, statement: sa.Select[Any]) -> sa.Select[Any]:
    if not query.region:
        return statement
    return statement.where(COUNTERS.c.division.startswith(query.region, autoescape=True))


def statements(query: Query) -> dict[str, sa.Select[Any]]:
    """The statements a report runs (the benchmark prints their plans). Each reads one
    region level and the periods shown through the (metric, level, period, division) index;
    totals use the rows summed over breakdowns (dim1 '' or '*'), so their cost does not grow
    with the number of seal kinds and document types."""
    t = COUNTERS
    totals = (t.c.dim1 == "") | (t.c.dim1 == ALL)
    flows = sa.select(t.c.metric, t.c.period, t.c.division, t.c.value).where(
        t.c.metric.in_(FLOWS), _period_and_level(query), totals
    )
    states = sa.select(t.c.metric, t.c.division, t.c.dim1, t.c.dim2, t.c.value).where(
        t.c.metric.in_(STATES), t.c.level == query.level.value, t.c.period == STATE
    )
    # the breakdown of the whole selection: read at the coarsest level that answers it
    coarse = {2: RegionLevel.province, 4: RegionLevel.city, 6: RegionLevel.county}.get(
        len(query.region), RegionLevel.province
    )
    value = func.sum(t.c.value).label("value")
    breakdown = (
        sa.select(t.c.metric, t.c.dim1, t.c.dim2, value)
        .where(
            t.c.metric.in_(BROKEN_DOWN),
            t.c.level == coarse.value,
            t.c.period.in_(query.periods()),
            t.c.dim1 != ALL,
        )
        .group_by(t.c.metric, t.c.dim1, t.c.dim2)
    )  # kept per month only: a daily report has no breakdown
    return {
        "flows": _in_region(query, flows),
        "states": _in_region(query, states),
        "breakdown": _in_region(query, breakdown),
    }


def detail_statement(query: Query) -> sa.Select[Any]:
    """Every figure with its breakdown, per period and region (the CSV export)."""
    t = COUNTERS
    # monthly: the breakdown (its '*' totals left out); daily: the totals ('*') only exist
    shown = t.c.dim1 != ALL if query.granularity is Granularity.month else sa.true()
    flows = sa.select(t.c.period, t.c.division, t.c.metric, t.c.dim1, t.c.dim2, t.c.value).where(
        t.c.metric.in_(FLOWS), _period_and_level(query), shown
    )
    states = sa.select(t.c.period, t.c.division, t.c.metric, t.c.dim1, t.c.dim2, t.c.value).where(
        t.c.metric.in_(STATES), t.c.level == query.level.value, t.c.period == STATE
    )
    return sa.union_all(_in_region(query, states), _in_region(query, flows)).subquery().select()


def report(session: Session, *, principal: Principal, query: Query) -> Report:
    require_reader(principal)
    found = statements(query)
    summaries: dict[str, Summary] = {}
    totals = Summary(region=query.region or "*")
    series: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def summary(region: str) -> Summary:
        return summaries.setdefault(region, Summary(region=region))

    for metric, region, dim1, dim2, value in session.execute(found["states"]).all():
        for s in (summary(region), totals):
            _add_state(s, metric, dim1, dim2, int(value))
    for metric, period, region, value in session.execute(found["flows"]).all():
        series[metric][period] += int(value)
        for s in (summary(region), totals):
            _add_flow(s, metric, int(value))
    for metric, dim1, dim2, value in session.execute(found["breakdown"]).all():
        _add_breakdown(totals, metric, dim1, dim2, int(value))
    return Report(
        query=query,
        series_by_metric={m: dict(v) for m, v in series.items()},
        regions=[summaries[k] for k in sorted(summaries)],
        totals=totals,
    )


def export_csv(session: Session, *, principal: Principal, query: Query) -> str:
    """period, region, metric, dim1, dim2, value: current state first ('*'), then flows."""
    require_reader(principal)
    rows = [
        Row(period, region, metric, dim1, dim2, int(value))
        for period, region, metric, dim1, dim2, value in session.execute(
            detail_statement(query)
        ).all()
        if value
    ]
    rows.sort(key=lambda r: (r.period != STATE, r.period, r.region, r.metric, r.dim1, r.dim2))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["period", "region", "metric", "dim1", "dim2", "value"])
    for row in rows:
        writer.writerow([row.period, row.region, row.metric, row.dim1, row.dim2, row.value])
    return out.getvalue()


def _add_state(s: Summary, metric: str, dim1: str, dim2: str, value: int) -> None:
    if metric == Metric.ENTERPRISES:
        s.enterprises += value
    elif metric == Metric.ENTERPRISES_ACTIVE:
        s.enterprises_with_active_seal += value
    elif metric == Metric.SEALS and value:
        by_status = s.seals.setdefault(dim1, {})
        by_status[dim2] = by_status.get(dim2, 0) + value


FLOW_FIELDS = {
    Metric.ENTERPRISES: "enterprises_registered",
    Metric.SEALS_MADE: "seals_made",
    Metric.USES: "seal_uses",
    Metric.ENVELOPES: "envelopes_completed",
    Metric.DELIVERIES_SENT: "deliveries_sent",
    Metric.DELIVERIES_ACKNOWLEDGED: "deliveries_acknowledged",
    Metric.VERIFICATIONS: "verification_requests",
}


def _add_flow(s: Summary, metric: str, value: int) -> None:
    field_name = FLOW_FIELDS[metric]
    setattr(s, field_name, getattr(s, field_name) + value)


def _add_breakdown(s: Summary, metric: str, dim1: str, dim2: str, value: int) -> None:
    if metric == Metric.USES and value:
        s.uses_by_kind[dim1] = s.uses_by_kind.get(dim1, 0) + value
        doc = dim2 or "-"
        s.uses_by_document_type[doc] = s.uses_by_document_type.get(doc, 0) + value
    elif metric == Metric.SEALS_MADE and value:
        s.seals_made_by_kind[dim1] = s.seals_made_by_kind.get(dim1, 0) + value
