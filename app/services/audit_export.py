"""Audit events as CSV or JSON: each row keeps its chain fields in the chain's own form, so
an exported row can be re-hashed and checked against the chain."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC

from app.models import AuditEvent

EXPORT_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "organization_id",
    "action",
    "target_type",
    "target_id",
    "details",
    "prev_hash",
    "hash",
)
MAX_EXPORT = 50_000
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def render_export(rows: list[AuditEvent], fmt: str) -> tuple[bytes, str]:
    records = [{f: getattr(r, f) for f in EXPORT_FIELDS} for r in rows]
    for record in records:  # the chain's own form, so each row can be re-hashed
        record["occurred_at"] = record["occurred_at"].astimezone(UTC).strftime(TIME_FORMAT)
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=1).encode(), "application/json"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    writer.writerows(records)
    # a BOM so spreadsheet programs read the Chinese text as UTF-8
    return ("\ufeff" + out.getvalue()).encode(), "text/csv; charset=utf-8"
