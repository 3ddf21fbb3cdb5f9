"""The audit log: filter by actor, target (seal), action and date; paginate; check the chain."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from fastapi import Form, Query
from fastapi.responses import Response

from app.access import console_needs
from app.console import audit_text, queries
from app.console.i18n import local_time, translator
from app.console.web import CtxDep, check_csrf, console_router, is_htmx, page, pager
from app.downloads import attachment
from app.security import Scope
from app.services import audit
from app.services.audit_export import MAX_EXPORT, render_export
from app.services.tenancy import require

router = console_router(prefix="/audit")

SIZE = 50
EXPORT_LIMIT = 10_000


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _log_page(
    ctx: CtxDep,
    where: queries.AuditFilter,
    page_number: int,
    chain: audit.ChainReport | None = None,
) -> Response:
    rows = queries.search_audit(
        ctx.session,
        principal=ctx.principal,
        where=where,
        offset=(page_number - 1) * SIZE,
        limit=SIZE + 1,
    )
    events, pages = pager(page_number, rows, SIZE)
    names = queries.actor_names(ctx.session, {e.actor for e in events})
    query = {
        "actor": where.actor,
        "target": where.target,
        "action": where.action,
        "date_from": where.date_from.isoformat() if where.date_from else "",
        "date_to": where.date_to.isoformat() if where.date_to else "",
    }
    describe = _describer(ctx.lang)
    return page(
        ctx,
        "audit.html",
        describe=describe,
        pretty_json=audit_text.pretty_json,
        events=events,
        pager=pages,
        names=names,
        where=where,
        query={k: v for k, v in query.items() if v},
        actions=queries.KNOWN_ACTIONS,
        chain=chain,
    )


def _describer(lang: str) -> Callable[[str | None], str]:
    t = translator(lang)

    def status(value: str) -> str:
        said = t(f"seal.status.{value}")
        return value if said == f"seal.status.{value}" else said

    return lambda details: audit_text.describe(details, lang=lang, status_label=status)


def _filter(
    actor: str, target: str, action: str, date_from: str, date_to: str
) -> queries.AuditFilter:
    return queries.AuditFilter(
        actor=actor.strip(),
        target=target.strip(),
        action=action.strip(),
        date_from=_parse_day(date_from),
        date_to=_parse_day(date_to),
    )


@router.get("/export.csv", dependencies=console_needs(Scope.audit_read))
def export(
    ctx: CtxDep,
    actor: Annotated[str, Query(max_length=120)] = "",
    target: Annotated[str, Query(max_length=80)] = "",
    action: Annotated[str, Query(max_length=80)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The filtered log as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese):
    one row per event with the readable sentence and the stored JSON."""
    where = _filter(actor, target, action, date_from, date_to)
    rows = queries.search_audit(
        ctx.session, principal=ctx.principal, where=where, offset=0, limit=EXPORT_LIMIT
    )
    names = queries.actor_names(ctx.session, {e.actor for e in rows})
    t = translator(ctx.lang)
    describe = _describer(ctx.lang)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [t("audit.seq"), t("audit.time"), t("audit.actor"), t("audit.action"),
         t("audit.target"), t("audit.details"), "JSON"]
    )  # fmt: skip
    for e in rows:
        writer.writerow(
            [e.seq, local_time(e.occurred_at, with_seconds=True), names.get(e.actor, e.actor),
             t("action." + e.action), f"{e.target_type}:{e.target_id}", describe(e.details),
             e.details or ""]
        )  # fmt: skip
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers=attachment("audit.csv"),
    )


@router.get("", dependencies=console_needs(Scope.audit_read))
def log(
    ctx: CtxDep,
    actor: Annotated[str, Query(max_length=120)] = "",
    target: Annotated[str, Query(max_length=80)] = "",
    action: Annotated[str, Query(max_length=80)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    page_number: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    return _log_page(ctx, _filter(actor, target, action, date_from, date_to), page_number)


@router.get("/export", dependencies=console_needs(Scope.audit_read))
def export_chain(
    ctx: CtxDep,
    format: Annotated[Literal["csv", "json"], Query()] = "csv",
    actor: Annotated[str, Query(max_length=120)] = "",
    target: Annotated[str, Query(max_length=80)] = "",
    action: Annotated[str, Query(max_length=80)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """The filtered events in their chain form (re-hashable), oldest first, up to the API's
    export limit; `export.csv` is the readable one."""
    where = _filter(actor, target, action, date_from, date_to)
    rows = queries.search_audit(
        ctx.session, principal=ctx.principal, where=where, offset=0, limit=MAX_EXPORT
    )
    body, media_type = render_export(sorted(rows, key=lambda e: e.seq), format)
    return Response(
        body,
        media_type=media_type,
        headers=attachment(f"audit-events.{format}"),
    )


@router.post("/verify", dependencies=console_needs(Scope.audit_read))
def check_chain(ctx: CtxDep, csrf_token: Annotated[str, Form(max_length=100)]) -> Response:
    """Walk the whole chain; htmx swaps in the result, a plain form gets the whole page."""
    check_csrf(ctx.user, csrf_token)
    require(ctx.principal, Scope.audit_read)
    report = audit.verify_chain(ctx.session)
    if is_htmx(ctx.request):
        return page(ctx, "_chain.html", chain=report)
    return _log_page(ctx, queries.AuditFilter(), 1, chain=report)
