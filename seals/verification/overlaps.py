"""Annotations that overlap one another: a warning, as EU DSS gives it, never a failure.

DSS's PdfAnnotationOverlap check (`DefaultPdfDifferencesFinder.getAnnotationOverlaps`) looks
at every page of the document as it is now and notes the pages where the rectangles of two
annotations intersect (widgets included; a zero-size rectangle - an invisible signature - never
counts); its default validation policy has the check at WARN, so the signature's indication
is unchanged (DSS's pades-multiple-pages-annots-overlap.pdf: link annotations that touch on
several pages; DSS validates it with modifications "detected" and a warning). An annotation
laid over another can hide it - a link over a link, a seal over a field - which a relying
party may want to look at, but it changes none of the signed bytes.

We report the same, for each signature (finding `annotations-overlap`, class
ANNOTATIONS_OVERLAP, no effect on the indication), and say whether an annotation added after
that signature is among the overlapping ones. Annotations that paint over signed *page
content* are judged elsewhere (`annotations.py`: a failure unless their appearance leaves
the signed content as it was). Unlike DSS we leave out annotations a viewer does not show
(hidden or no-view flags, popups).
"""

from __future__ import annotations

import itertools
import logging
import weakref
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from seals.reports import Finding
from seals.verification.annotations import _pages

logger = logging.getLogger(__name__)

_HIDDEN = 1 << 1
_NO_VIEW = 1 << 5
MAX_ANNOTS_PER_PAGE = 500
"""More annotations than this on a page: only the first ones are compared (bounded work)."""
MAX_ANNOTS = 2000
"""Annotations read in the whole document; the pages after that are not examined (a warning
is all this check can give, and a hostile file must not buy unbounded work with it)."""

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Overlap:
    page: int  # 0-based
    refs: tuple[generic.Reference, generic.Reference]


_CACHE: weakref.WeakKeyDictionary[PdfFileReader, tuple[Overlap, ...]] = weakref.WeakKeyDictionary()


def _value(d: generic.DictionaryObject, key: str) -> generic.PdfObject | None:
    """`d[key]` resolved (a value may be an indirect object), None when absent."""
    value = d.get(key)
    return value.get_object() if isinstance(value, generic.IndirectObject) else value


def _shown_rect(annot: generic.PdfObject) -> Rect | None:
    """The annotation's rectangle when a viewer shows it and it has an area."""
    if not isinstance(annot, generic.DictionaryObject):
        return None
    if str(_value(annot, "/Subtype") or "") == "/Popup":
        return None
    flags = _value(annot, "/F")
    if isinstance(flags, int) and flags & (_HIDDEN | _NO_VIEW):
        return None
    raw = _value(annot, "/Rect")
    if not isinstance(raw, generic.ArrayObject) or len(raw) != 4:
        return None
    try:
        x1, y1, x2, y2 = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    rect = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    return rect if rect[0] < rect[2] and rect[1] < rect[3] else None


def _intersect(a: Rect, b: Rect) -> bool:
    """DSS's AnnotationBox.isOverlap: touching edges do not overlap."""
    return not (a[0] >= b[2] or b[0] >= a[2] or a[1] >= b[3] or b[1] >= a[3])


def overlaps(reader: PdfFileReader) -> tuple[Overlap, ...]:
    """Every pair of shown annotations whose rectangles intersect, page by page (final
    revision); computed once per reader."""
    cached = _CACHE.get(reader)
    if cached is not None:
        return cached
    found: list[Overlap] = []
    final = reader.get_historical_resolver(reader.xrefs.total_revisions - 1)
    budget = MAX_ANNOTS
    for index, page_ref in enumerate(_pages(final)):
        page = final(page_ref)
        annots = _value(page, "/Annots") if isinstance(page, generic.DictionaryObject) else None
        if not isinstance(annots, generic.ArrayObject):
            continue
        if budget <= 0:
            break
        take = min(len(annots), MAX_ANNOTS_PER_PAGE, budget)
        budget -= take
        shown: list[tuple[generic.Reference, Rect]] = []
        for raw in itertools.islice(annots, take):
            rect = _shown_rect(raw.get_object()) if raw is not None else None
            if rect is not None and isinstance(raw, generic.IndirectObject):
                shown.append((raw.reference, rect))
        for i, (ref_a, rect_a) in enumerate(shown):
            for ref_b, rect_b in shown[i + 1 :]:
                if _intersect(rect_a, rect_b):
                    found.append(Overlap(index, (ref_a, ref_b)))
    result = tuple(found)
    _CACHE[reader] = result
    return result


def overlap_finding(reader: PdfFileReader, signed_revision: int) -> Finding | None:
    """The warning for a signature of `signed_revision`, or None when nothing overlaps."""
    try:
        found = overlaps(reader)
        if not found:
            return None
        old = reader.get_historical_resolver(signed_revision)
        added = any(old.is_ref_unassignable(ref) for o in found for ref in o.refs)
    except Exception as exc:  # a warning only: an unreadable page tree is judged elsewhere
        logger.info("annotation overlap check failed: %s", exc)
        return None
    pages = ", ".join(str(p) for p in sorted({o.page + 1 for o in found})[:20])
    when_zh = "其中有签署后添加的注释" if added else "签署时即已存在"
    when_en = "including annotations added after signing" if added else "present when signed"
    return Finding(
        code="annotations-overlap",
        zh=f"第 {pages} 页上有相互重叠的注释（{when_zh}）：一个注释可能遮盖另一个；"
        "签署的内容未因此改变（提示，与 EU DSS 相同）。",
        en=f"Annotations overlap one another on page {pages} ({when_en}): one may hide "
        "another; the signed content is not changed by this (a warning, as EU DSS gives).",
    )
