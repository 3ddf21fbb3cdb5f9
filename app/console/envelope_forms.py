"""The envelope create form of the console: its rows as typed, and the `EnvelopeCreate` they
make (the same model the API takes), refused with the field and row that are wrong."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from pydantic import ValidationError

from app.errors import InvalidInput
from app.schemas.envelopes import ENVELOPE_CREATE, EnvelopeCreate
from seals.report_text import LOCAL_TZ
from seals.signing import PadesLevel

MAX_FORM_ROWS = 20
PLACEMENT_TYPES = ("keyword", "coordinates", "cross_page")


@dataclass(frozen=True)
class FormRow:
    """One participant row of the create form, as typed (re-shown after a refusal)."""

    index: int
    organization_id: str = ""
    seal_id: str = ""
    label: str = ""
    placement: str = "keyword"
    keyword: str = ""
    page: str = ""
    x_mm: str = ""
    y_mm: str = ""
    level: str = PadesLevel.B_LT.value


def _number(text: str, what: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text.strip())
    except ValueError as exc:
        raise InvalidInput(f"{what} must be a number") from exc


def _placement(kind: str, keyword: str, page_text: str, x: str, y: str, position: int) -> Any:
    if kind == "keyword":
        return {"type": "keyword", "keyword": keyword.strip()}
    if kind == "coordinates":
        return {
            "type": "coordinates",
            "page": _number(page_text, f"participant {position}: the page", int),
            "x_mm": _number(x, f"participant {position}: x", float),
            "y_mm": _number(y, f"participant {position}: y", float),
        }
    if kind == "cross_page":
        return {"type": "cross_page"}
    raise InvalidInput(f"participant {position}: unknown placement {kind!r}")


def _column(values: list[str], index: int) -> str:
    return values[index] if index < len(values) else ""


def spec_from_form(
    *,
    title: str,
    routing: str,
    send: bool,
    expires_on: str,
    organization_ids: list[str],
    seal_ids: list[str],
    labels: list[str],
    placements: list[str],
    keywords: list[str],
    pages: list[str],
    xs: list[str],
    ys: list[str],
    levels: list[str],
) -> EnvelopeCreate:
    """The form's rows as the API's envelope request (rows left empty are skipped); the
    service then checks it exactly as it checks the API's."""
    participants: list[dict[str, Any]] = []
    for i in range(len(organization_ids)):
        org, seal = organization_ids[i].strip(), _column(seal_ids, i).strip()
        if not org and not seal:
            continue
        position = len(participants) + 1
        participants.append(
            {
                "organization_id": org,
                "seal_id": seal,
                "label": _column(labels, i).strip() or None,
                "placement": _placement(
                    _column(placements, i) or "keyword",
                    _column(keywords, i),
                    _column(pages, i),
                    _column(xs, i),
                    _column(ys, i),
                    position,
                ),
                "level": _column(levels, i) or PadesLevel.B_LT.value,
            }
        )
    if not participants:
        raise InvalidInput("add at least one participant (organization and seal)")
    expires_at = None
    if expires_on.strip():
        try:
            day = datetime.strptime(expires_on.strip(), "%Y-%m-%d").date()
        except ValueError as exc:
            raise InvalidInput("a date is written YYYY-MM-DD") from exc
        expires_at = datetime.combine(day, time.max, tzinfo=LOCAL_TZ).isoformat()
    raw = {
        "title": title.strip(),
        "routing": routing,
        "participants": participants,
        "expires_at": expires_at,
        "send": send,
    }
    try:
        return ENVELOPE_CREATE.validate_python(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(f"the envelope is not valid: {problems}") from exc
