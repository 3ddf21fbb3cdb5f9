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
from app.regions import DIGITS, RegionLevel
from app.security import Principal, Scope
from app.stat_counters import LOCAL_TZ, STATE, Metric

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
    """One figure: CSV line and the raw material of the JSON."""

    period: str
    region: str
    metric: str
    dim1: str
    dim2: str
    value: int


@dataclass
class Report:
    query: Query
    rows: list[Row]
    regions: list[Summary]
    totals: Summary

    def series(self, metric: str) -> list[tuple[str, int]]:
        """`metric` per period over every region (zeros included): what a chart draws."""
        sums: dict[str, int] = defaultdict(int)
        for row in self.rows:
            if row.metric == metric and row.period != STATE:
                sums[row.period] += row.value
        return [(p, sums.get(p, 0)) for p in self.query.periods()]

    def to_json(self) -> dict[str, object]:
        q = self.query
        return {
            "granularity": q.granularity.value,
            "from": q.start.isoformat(),
            "to": q.end.isoformat(),
            "timezone": "Asia/Shanghai",
            "level": q.level.value,
            "region": q.region or None,
            "periods": q.periods(),
            "totals": self.totals.to_json(),
            "regions": [r.to_json() for r in self.regions],
            "series": {m: dict(self.series(m)) for m in FLOWS},
            "rows": [r.__dict__ for r in self.rows],
        }

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["period", "region", "metric", "dim1", "dim2", "value"])
        for row in self.rows:
            writer.writerow([row.period, row.region, row.metric, row.dim1, row.dim2, row.value])
        return out.getvalue()


def statements(query: Query) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The two statements a report runs (the benchmark prints their plans)."""
    t = COUNTERS
    region = func.substr(t.c.division, 1, DIGITS[query.level]).label("region")
    width = 10 if query.granularity is Granularity.day else 7
    period = func.substr(t.c.period, 1, width).label("p")
    total = func.sum(t.c.value).label("value")
    flows = (
        sa.select(t.c.metric, period, region, t.c.dim1, t.c.dim2, total)
        .where(
            t.c.metric.in_(FLOWS),
            t.c.period >= query.start.isoformat(),
            t.c.period <= query.end.isoformat(),
        )
        .group_by(t.c.metric, period, region, t.c.dim1, t.c.dim2)
    )
    states = (
        sa.select(t.c.metric, region, t.c.dim1, t.c.dim2, total)
        .where(t.c.metric.in_(STATES), t.c.period == STATE)
        .group_by(t.c.metric, region, t.c.dim1, t.c.dim2)
    )
    if query.region:
        prefix = t.c.division.startswith(query.region, autoescape=True)
        flows, states = flows.where(prefix), states.where(prefix)
    return flows, states


def report(session: Session, *, principal: Principal, query: Query) -> Report:
    require_reader(principal)
    flows, states = statements(query)
    rows: list[Row] = []
    summaries: dict[str, Summary] = {}
    totals = Summary(region=query.region or "*")

    def summary(region: str) -> Summary:
        return summaries.setdefault(region, Summary(region=region))

    for metric, region, dim1, dim2, value in session.execute(states).all():
        rows.append(Row(STATE, region, metric, dim1, dim2, int(value)))
        for s in (summary(region), totals):
            _add_state(s, metric, dim1, dim2, int(value))
    for metric, period, region, dim1, dim2, value in session.execute(flows).all():
        rows.append(Row(period, region, metric, dim1, dim2, int(value)))
        for s in (summary(region), totals):
            _add_flow(s, metric, dim1, dim2, int(value))
    rows.sort(key=lambda r: (r.period != STATE, r.period, r.region, r.metric, r.dim1, r.dim2))
    return Report(
        query=query,
        rows=[r for r in rows if r.value],
        regions=[summaries[k] for k in sorted(summaries)],
        totals=totals,
    )


def _add_state(s: Summary, metric: str, dim1: str, dim2: str, value: int) -> None:
    if metric == Metric.ENTERPRISES:
        s.enterprises += value
    elif metric == Metric.ENTERPRISES_ACTIVE:
        s.enterprises_with_active_seal += value
    elif metric == Metric.SEALS and value:
        by_status = s.seals.setdefault(dim1, {})
        by_status[dim2] = by_status.get(dim2, 0) + value


def _add_flow(s: Summary, metric: str, dim1: str, dim2: str, value: int) -> None:
    if metric == Metric.ENTERPRISES:
        s.enterprises_registered += value
    elif metric == Metric.SEALS_MADE:
        s.seals_made += value
    elif metric == Metric.USES:
        s.seal_uses += value
        s.uses_by_kind[dim1] = s.uses_by_kind.get(dim1, 0) + value
        doc = dim2 or "-"
        s.uses_by_document_type[doc] = s.uses_by_document_type.get(doc, 0) + value
    elif metric == Metric.ENVELOPES:
        s.envelopes_completed += value
    elif metric == Metric.DELIVERIES_SENT:
        s.deliveries_sent += value
    elif metric == Metric.DELIVERIES_ACKNOWLEDGED:
        s.deliveries_acknowledged += value
    elif metric == Metric.VERIFICATIONS:
        s.verification_requests += value
