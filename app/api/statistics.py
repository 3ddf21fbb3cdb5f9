"""Statistics for the administrating agency: JSON or CSV, per region and period."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from app.access import needs
from app.deps import CurrentPrincipal, ServicesDep, SessionDep
from app.downloads import attachment
from app.security import Scope
from app.services import stat_counters, statistics
from app.services.regions import RegionLevel

router = APIRouter(prefix="/api/v1", tags=["statistics"])


@router.get(
    "/statistics",
    dependencies=needs(Scope.enterprises_register),
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
def get_statistics(
    session: SessionDep,
    services: ServicesDep,
    principal: CurrentPrincipal,
    granularity: statistics.Granularity = statistics.Granularity.month,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    level: RegionLevel = RegionLevel.province,
    region: Annotated[str | None, Query(max_length=6)] = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    """Enterprises, the distribution rate, seals by kind and status, uses by kind and
    document type, envelopes, deliveries (the delivery rate) and verification requests per
    region (province, city or county of the credit code) and per Asia/Shanghai day or month.
    Scope: `enterprises:register` (agencies) or `platform`."""
    statistics.require_reader(principal)
    # before the session's first read: what this process counted is in the figures
    stat_counters.verification_tally.flush(services.engine)
    query = statistics.Query.of(
        granularity=granularity, start=start, end=end, level=level, region=region
    )
    if format == "csv":
        name = f"eseal-statistics-{query.start}-{query.end}.csv"
        return Response(
            statistics.export_csv(session, principal=principal, query=query),
            media_type="text/csv; charset=utf-8",
            headers=attachment(name),
        )
    found = statistics.report(session, principal=principal, query=query)
    return JSONResponse(found.to_json())
