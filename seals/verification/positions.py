"""Where signatures sit: pages of widget annotations and their rectangles (best effort), and
the page count - read from the final revision for the report's seal positions."""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from seals.reports import SealPosition, SignatureReport
from seals.verification.state import VerifierState

logger = logging.getLogger(__name__)
_MAX_PAGES_FOR_POSITIONS = 10_000
_MAX_WIDGETS_PER_FIELD = 2_000


def annotation_pages(reader: PdfFileReader) -> dict[generic.Reference, int]:
    """The page index (from 0) of every annotation referenced from a page's /Annots."""
    found: dict[generic.Reference, int] = {}
    seen: set[generic.Reference] = set()
    stack: list[Any] = [reader.root.raw_get("/Pages")]
    index = 0
    while stack and index < _MAX_PAGES_FOR_POSITIONS:
        raw = stack.pop()
        if isinstance(raw, generic.IndirectObject):
            if raw.reference in seen:
                continue
            seen.add(raw.reference)
        node = raw.get_object()
        if not isinstance(node, generic.DictionaryObject):
            continue
        kids = node.get("/Kids") if node.get("/Type") != "/Page" else None
        if isinstance(kids, generic.ArrayObject):
            stack.extend(reversed(list(kids)))
            continue
        annots = node.get("/Annots")
        if isinstance(annots, generic.ArrayObject):
            for annot in annots:
                if isinstance(annot, generic.IndirectObject):
                    found.setdefault(annot.reference, index)
        index += 1
    return found


def widget_positions(fld: Any, pages: dict[generic.Reference, int]) -> tuple[SealPosition, ...]:
    """The rectangles of the widget annotations of a signature field that sit on a page."""
    try:
        widgets: list[generic.IndirectObject] = []
        if isinstance(fld, generic.IndirectObject):
            widgets.append(fld)
        kids = fld.get_object().get("/Kids")
        if isinstance(kids, generic.ArrayObject):
            widgets.extend(k for k in kids if isinstance(k, generic.IndirectObject))
        positions: list[SealPosition] = []
        for widget in widgets[:_MAX_WIDGETS_PER_FIELD]:
            page = pages.get(widget.reference)
            if page is None:
                continue
            annotation = widget.get_object()
            if not isinstance(annotation, generic.DictionaryObject):
                continue
            rect = _rect_of(annotation.get("/Rect"))
            if rect is not None:
                positions.append(SealPosition(page=page, rect=rect))
        return tuple(sorted(positions, key=lambda p: (p.page, -p.rect[3], p.rect[0])))
    except Exception as exc:
        logger.info("signature widgets unreadable: %s", exc)
        return ()


def _rect_of(raw: Any) -> tuple[float, float, float, float] | None:
    if not isinstance(raw, generic.ArrayObject) or len(raw) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)) or x1 == x2 or y1 == y2:
        return None
    return (
        round(min(x1, x2), 2),
        round(min(y1, y2), 2),
        round(max(x1, x2), 2),
        round(max(y1, y2), 2),
    )


def page_count(reader: PdfFileReader) -> int | None:
    try:
        return int(reader.root["/Pages"]["/Count"])
    except Exception:
        return None


def with_positions(
    state: VerifierState, reports: tuple[SignatureReport, ...]
) -> tuple[SignatureReport, ...]:
    """Each signature's widget rectangles and pages in the final revision (best effort:
    a page tree or widget that cannot be read leaves the positions empty)."""
    if state.reader is None or not reports:
        return reports
    try:
        pages = annotation_pages(state.reader)
    except Exception as exc:
        logger.info("page tree unreadable for seal positions: %s", exc)
        return reports
    fields = {c.field_name: c.field for c in state.candidates if c.hidden_since is None}
    out: list[SignatureReport] = []
    for report in reports:
        fld = fields.get(report.field_name)
        positions = widget_positions(fld, pages) if fld is not None else ()
        out.append(replace(report, positions=positions) if positions else report)
    return tuple(out)
