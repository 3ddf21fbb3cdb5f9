"""The statistics dashboard for the administrating agency: key figures, per-period charts
(server-rendered SVG) and per-region tables, with the same figures as CSV."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from app.access import console_needs
from app.console.charts import bar_chart, rate_bars
from app.console.web import Ctx, CtxDep, console_router, page
from app.downloads import attachment
from app.security import Scope
from app.services import statistics
from app.services.regions import RegionLevel
from app.services.stat_counters import Metric
from seals.kinds import KIND_SPECS, SealKind

router = console_router(prefix="/statistics")

Granularity = Annotated[statistics.Granularity, Query()]
Start = Annotated[date | None, Query(alias="from")]
End = Annotated[date | None, Query(alias="to")]
Region = Annotated[str | None, Query(max_length=6)]


def _query(
    granularity: statistics.Granularity,
    start: date | None,
    end: date | None,
    level: RegionLevel,
    region: str | None,
) -> statistics.Query:
    return statistics.Query.of(
        granularity=granularity, start=start, end=end, level=level, region=region
    )


def _charts(ctx: Ctx, found: statistics.Report) -> dict[str, object]:
    t = ctx.t
    return {
        "uses": bar_chart(
            found.series(Metric.USES), title=t("stats.uses_chart"), chart_id="chart-uses"
        ),
        "registered": bar_chart(
            found.series(Metric.ENTERPRISES),
            title=t("stats.registered_chart"),
            chart_id="chart-registered",
        ),
        "deliveries": bar_chart(
            found.series(Metric.DELIVERIES_SENT),
            second=found.series(Metric.DELIVERIES_ACKNOWLEDGED),
            legend=(t("stats.sent_ack").split(" / ")[0], t("stats.sent_ack").split(" / ")[-1]),
            title=t("stats.delivery_chart"),
            chart_id="chart-deliveries",
        ),
        "rates": rate_bars(
            [(r.region, r.distribution_rate) for r in found.regions if r.enterprises],
            title=t("stats.rate_chart"),
            chart_id="chart-rates",
        ),
    }


def _kind_label(lang: str, kind: str) -> str:
    try:
        spec = KIND_SPECS[SealKind(kind)]
    except ValueError:
        return kind
    return spec.label_en if lang == "en" else spec.label_zh


@router.get("", dependencies=console_needs(Scope.enterprises_register))
def dashboard(
    ctx: CtxDep,
    granularity: Granularity = statistics.Granularity.day,
    start: Start = None,
    end: End = None,
    level: RegionLevel = RegionLevel.city,
    region: Region = None,
) -> Response:
    statistics.require_reader(ctx.principal)
    query = _query(granularity, start, end, level, region)
    found = statistics.report(ctx.session, principal=ctx.principal, query=query)
    return page(
        ctx,
        "statistics.html",
        active="statistics",
        query=query,
        report=found,
        totals=found.totals,
        charts=_charts(ctx, found),
        levels=list(RegionLevel),
        kind_label=lambda k: _kind_label(ctx.lang, k),
        percent=lambda r: "—" if r is None else f"{r * 100:.1f}%",
    )


@router.get(".csv", dependencies=console_needs(Scope.enterprises_register))
def dashboard_csv(
    ctx: CtxDep,
    granularity: Granularity = statistics.Granularity.day,
    start: Start = None,
    end: End = None,
    level: RegionLevel = RegionLevel.city,
    region: Region = None,
) -> Response:
    statistics.require_reader(ctx.principal)
    query = _query(granularity, start, end, level, region)
    text = statistics.export_csv(ctx.session, principal=ctx.principal, query=query)
    name = f"eseal-statistics-{query.start}-{query.end}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers=attachment(name),
    )
