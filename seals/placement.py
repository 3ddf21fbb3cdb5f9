"""Where a seal goes on a PDF: placement specs and their resolution to PDF rectangles.

Conventions (the ones Chinese e-seal APIs use):

* Pages are numbered from **1**.
* Lengths are **millimetres**.
* A `CoordinatePlacement`'s ``(x_mm, y_mm)`` is measured from the **top-left corner of the page
  as displayed** (its crop box, after ``/Rotate``), x to the right and y downwards, and names the
  **centre** of the seal. The centre, not a corner, because a seal is round: the caller thinks
  "stamp here", and the same point stays right whatever the seal's size.
* A `KeywordPlacement` centres the seal on the keyword's bounding box (found with PDFium's text
  search, so CJK text in Type0/CID fonts is found as well as Latin), shifted by
  ``offset_x_mm`` to the right and ``offset_y_mm`` downwards.
* A `CrossPagePlacement` is the riding seal (骑缝章): the seal image is cut into N vertical
  slices, slice *i* (from the left) sits against the right edge of the *i*-th page of the range,
  centred at ``y_mm`` from the top (default: the middle of each page).
* `InvisiblePlacement` puts no widget on any page.

Resolution maps display space to PDF user space for ``/Rotate`` 0, 90, 180 and 270 and for boxes
whose origin is not ``(0, 0)``; every seal rectangle must lie inside the page's crop box.

The result of resolution is a tuple of `SealWidget`: one rectangle in user space per page where
the seal (or a slice of it) shows, each with the part of the image it shows and the rotation
its appearance needs so the seal is upright on screen.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

from seals.errors import (
    DamagedPdfError,
    InvalidPlacementError,
    KeywordNotFoundError,
    PageOutOfRangeError,
    PlacementError,
    PlacementOutsidePageError,
    SigningError,
)

__all__ = [
    "MM_TO_PT",
    "CoordinatePlacement",
    "CrossPagePlacement",
    "InvalidPlacementError",
    "InvisiblePlacement",
    "KeywordHit",
    "KeywordNotFoundError",
    "KeywordPlacement",
    "LazyPageGeometries",
    "PageGeometry",
    "PageOutOfRangeError",
    "Placement",
    "PlacementError",
    "PlacementOutsidePageError",
    "Rect",
    "SealWidget",
    "SigningError",
    "find_keyword",
    "mm_to_pt",
    "page_geometries",
    "resolve_placement",
]

MM_TO_PT = 72.0 / 25.4
"""PDF user units (1/72 inch) per millimetre."""

# Rounding slack when checking that a rectangle lies inside a page (in points).
_EPSILON = 0.01

Occurrence = Literal["first", "last", "all"]


def mm_to_pt(value_mm: float) -> float:
    """Millimetres to PDF points."""
    return value_mm * MM_TO_PT


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True, slots=True)
class CoordinatePlacement:
    """Seal centred at ``(x_mm, y_mm)`` from the top-left corner of page ``page`` (1-based)."""

    page: int
    x_mm: float
    y_mm: float


@dataclass(frozen=True, slots=True)
class KeywordPlacement:
    """Seal centred on an occurrence of ``keyword`` in the document text.

    ``occurrence``: ``first`` / ``last`` in document order, or ``all`` (one seal image on every
    occurrence, all belonging to the same signature).
    """

    keyword: str
    occurrence: Occurrence = "first"
    offset_x_mm: float = 0.0
    offset_y_mm: float = 0.0


@dataclass(frozen=True, slots=True)
class CrossPagePlacement:
    """Riding seal over pages ``first_page..last_page`` (1-based, inclusive; default: all)."""

    first_page: int | None = None
    last_page: int | None = None
    y_mm: float | None = None


@dataclass(frozen=True, slots=True)
class InvisiblePlacement:
    """An invisible signature: no widget on any page."""


Placement = CoordinatePlacement | KeywordPlacement | CrossPagePlacement | InvisiblePlacement

_PLACEMENT_TYPES: dict[str, type] = {
    "coordinates": CoordinatePlacement,
    "keyword": KeywordPlacement,
    "cross_page": CrossPagePlacement,
    "invisible": InvisiblePlacement,
}


def placement_to_json(placement: Placement) -> dict[str, Any]:
    """The placement as stored (envelopes, bulk jobs): its fields and a ``type`` naming it,
    the same shape the API accepts."""
    kind = next(name for name, cls in _PLACEMENT_TYPES.items() if isinstance(placement, cls))
    fields = {f: getattr(placement, f) for f in getattr(placement, "__slots__", ())}
    return {"type": kind, **fields}


def placement_from_json(data: Mapping[str, Any] | str) -> Placement:
    """A stored placement (`placement_to_json`'s shape, or its JSON text) back as the domain
    value; `InvalidPlacementError` for an unknown type or fields. Bounds are checked where the
    placement is resolved against the document (`resolve_placement`)."""
    raw = json.loads(data) if isinstance(data, str) else dict(data)
    cls = _PLACEMENT_TYPES.get(str(raw.pop("type", "")))
    if cls is None:
        raise InvalidPlacementError(f"Unknown placement type in {data!r}.")
    try:
        placement: Placement = cls(**raw)
    except TypeError as exc:
        raise InvalidPlacementError(f"The placement's fields are not valid: {exc}.") from exc
    return placement


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True, slots=True)
class Rect:
    """An axis-aligned rectangle in PDF user space (points), ``left < right``, ``bottom < top``."""

    left: float
    bottom: float
    right: float
    top: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.top - self.bottom

    def contains(self, other: Rect) -> bool:
        return (
            other.left >= self.left - _EPSILON
            and other.bottom >= self.bottom - _EPSILON
            and other.right <= self.right + _EPSILON
            and other.top <= self.top + _EPSILON
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.left, self.bottom, self.right, self.top)

    @staticmethod
    def normalised(x1: float, y1: float, x2: float, y2: float) -> Rect:
        return Rect(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


@dataclass(frozen=True, slots=True)
class PageGeometry:
    """A page's visible area in user space (crop box clipped to the media box) and rotation."""

    index: int  # 0-based
    box: Rect
    rotate: int  # 0, 90, 180 or 270 (clockwise, as /Rotate)

    @property
    def display_width(self) -> float:
        """Width as displayed (points)."""
        return self.box.height if self.rotate in (90, 270) else self.box.width

    @property
    def display_height(self) -> float:
        return self.box.width if self.rotate in (90, 270) else self.box.height

    def to_user(self, dx: float, dy: float) -> tuple[float, float]:
        """Display point (points from the displayed top-left corner, y down) -> user space."""
        b = self.box
        if self.rotate == 90:
            return b.left + dy, b.bottom + dx
        if self.rotate == 180:
            return b.right - dx, b.bottom + dy
        if self.rotate == 270:
            return b.right - dy, b.top - dx
        return b.left + dx, b.top - dy

    def to_display(self, x: float, y: float) -> tuple[float, float]:
        """User-space point -> display point (inverse of `to_user`)."""
        b = self.box
        if self.rotate == 90:
            return y - b.bottom, x - b.left
        if self.rotate == 180:
            return b.right - x, y - b.bottom
        if self.rotate == 270:
            return b.top - y, b.right - x
        return x - b.left, b.top - y

    def display_rect_to_user(self, left: float, top: float, right: float, bottom: float) -> Rect:
        """A display-space rectangle (top-left origin, y down) -> user-space `Rect`."""
        x1, y1 = self.to_user(left, top)
        x2, y2 = self.to_user(right, bottom)
        return Rect.normalised(x1, y1, x2, y2)


@dataclass(frozen=True, slots=True)
class SealWidget:
    """One visible piece of a seal: where it goes and which vertical slice of the image it shows.

    ``slice_index``/``slice_count`` are ``0``/``1`` for a whole seal. ``rotate`` is the page's
    ``/Rotate``: the appearance is counter-rotated by it so the seal shows upright.
    """

    page_index: int  # 0-based
    rect: Rect
    rotate: int = 0
    slice_index: int = 0
    slice_count: int = 1


@dataclass(frozen=True, slots=True)
class KeywordHit:
    """One occurrence of a keyword: 0-based page and bounding box in user space."""

    page_index: int
    box: Rect


def _as_float(value: Any) -> float:
    return float(value)


def _box(raw: Any) -> Rect | None:
    if raw is None:
        return None
    values = [_as_float(v) for v in raw.get_object()]
    if len(values) != 4:
        return None
    return Rect.normalised(*values)


def _geometry(index: int, node: Any) -> PageGeometry:
    media = _box(node.attribute("/MediaBox"))
    if media is None:
        # ISO 32000 requires /MediaBox; A4 is what a Chinese document would have meant.
        media = Rect(0.0, 0.0, 595.28, 841.89)
    crop = _box(node.attribute("/CropBox")) or media
    clipped = Rect(
        max(crop.left, media.left),
        max(crop.bottom, media.bottom),
        min(crop.right, media.right),
        min(crop.top, media.top),
    )
    if clipped.width <= 0 or clipped.height <= 0:
        clipped = media
    rotate_raw = node.attribute("/Rotate")
    rotate = int(rotate_raw) % 360 if rotate_raw is not None else 0
    if rotate not in (0, 90, 180, 270):
        rotate = 0  # ISO 32000: must be a multiple of 90; viewers ignore anything else
    return PageGeometry(index=index, box=clipped, rotate=rotate)


def page_geometries(reader: Any) -> tuple[PageGeometry, ...]:
    """Visible area and rotation of every page of a pyhanko `PdfFileReader`.

    The crop box (inherited like every page attribute; default: the media box) is clipped to
    the media box, as ISO 32000-1 §14.11.2 says viewers do. One walk of the page tree
    (`seals.pagetree`), not one per page.
    """
    from seals.pagetree import iter_pages

    return tuple(_geometry(index, node) for index, node in enumerate(iter_pages(reader)))


class LazyPageGeometries(Sequence[PageGeometry]):
    """`page_geometries`, each page read when first asked for: its length is the page tree's
    /Count, page ``i`` reads the tree up to page ``i`` (an invisible seal reads no page, a
    seal on page 1 of a 100-page document one). A damaged tree found on the way is a
    `DamagedPdfError`, as it is for `page_geometries` when sealing."""

    def __init__(self, reader: Any) -> None:
        from seals.pagetree import iter_pages, page_count

        self._count = page_count(reader)
        self._walk = iter_pages(reader)
        self._read: list[PageGeometry] = []

    def __len__(self) -> int:
        return self._count

    def _upto(self, index: int) -> None:
        from pyhanko.pdf_utils.misc import PdfError

        try:
            while len(self._read) <= index:
                self._read.append(_geometry(len(self._read), next(self._walk)))
        except (PdfError, KeyError, ValueError, TypeError, StopIteration) as exc:
            raise DamagedPdfError(f"The PDF's pages cannot be read: {exc}") from exc

    @overload
    def __getitem__(self, index: int) -> PageGeometry: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PageGeometry]: ...
    def __getitem__(self, index: int | slice) -> PageGeometry | Sequence[PageGeometry]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(self._count)))
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        self._upto(index)
        return self._read[index]


# --------------------------------------------------------------------------- keyword search

# PDFium is not thread-safe (pypdfium2 documents this): serialise every use in this process.
PDFIUM_LOCK = threading.RLock()


def find_keyword(*, pdf: bytes, keyword: str) -> tuple[KeywordHit, ...]:
    """Every occurrence of ``keyword`` in the document, in page and reading order.

    Case-sensitive, text as PDFium extracts it (Unicode via the fonts' ToUnicode maps), so
    ``甲方（盖章）`` with full-width brackets differs from ``甲方(盖章)``. An occurrence that PDFium
    reports on several lines gets the union of its boxes.
    """
    import pypdfium2 as pdfium

    if not keyword.strip():
        raise InvalidPlacementError("The keyword is empty.")
    hits: list[KeywordHit] = []
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            for page_index in range(len(document)):
                page = document[page_index]
                textpage = page.get_textpage()
                try:
                    searcher = textpage.search(keyword, match_case=True)
                    try:
                        while (found := searcher.get_next()) is not None:
                            start, count = found
                            rects = [
                                textpage.get_rect(i)
                                for i in range(textpage.count_rects(start, count))
                            ]
                            rects = [r for r in rects if r[2] > r[0] and r[3] > r[1]]
                            if not rects:
                                continue
                            hits.append(
                                KeywordHit(
                                    page_index=page_index,
                                    box=Rect(
                                        min(r[0] for r in rects),
                                        min(r[1] for r in rects),
                                        max(r[2] for r in rects),
                                        max(r[3] for r in rects),
                                    ),
                                )
                            )
                    finally:
                        searcher.close()
                finally:
                    textpage.close()
                    page.close()
        finally:
            document.close()
    return tuple(hits)


# --------------------------------------------------------------------------- resolution


def _check_page(page: int, pages: Sequence[PageGeometry], what: str = "page") -> PageGeometry:
    if not 1 <= page <= len(pages):
        raise PageOutOfRangeError(
            f"{what} {page} is outside the document (pages 1..{len(pages)}).",
            page=page,
            page_count=len(pages),
        )
    return pages[page - 1]


def _centred_widget(
    geometry: PageGeometry, centre_x: float, centre_y: float, width: float, height: float
) -> SealWidget:
    """A whole seal of display size ``width`` x ``height`` centred on a display point."""
    rect = geometry.display_rect_to_user(
        centre_x - width / 2, centre_y - height / 2, centre_x + width / 2, centre_y + height / 2
    )
    if not geometry.box.contains(rect):
        raise PlacementOutsidePageError(
            f"A {width / MM_TO_PT:.1f} x {height / MM_TO_PT:.1f} mm seal centred at "
            f"({centre_x / MM_TO_PT:.1f}, {centre_y / MM_TO_PT:.1f}) mm does not fit on page "
            f"{geometry.index + 1} ({geometry.display_width / MM_TO_PT:.1f} x "
            f"{geometry.display_height / MM_TO_PT:.1f} mm).",
            page=geometry.index + 1,
        )
    return SealWidget(page_index=geometry.index, rect=rect, rotate=geometry.rotate)


def resolve_placement(
    *,
    placement: Placement,
    pages: Sequence[PageGeometry],
    seal_size_mm: tuple[float, float] | None,
    pdf: bytes | None = None,
) -> tuple[SealWidget, ...]:
    """Turn a placement into widget rectangles, or raise a `PlacementError`.

    ``seal_size_mm`` is the seal's physical (width, height); it is required for every visible
    placement. ``pdf`` (the document bytes) is required for `KeywordPlacement`.
    """
    if isinstance(placement, InvisiblePlacement):
        return ()
    if not pages:
        raise InvalidPlacementError("The document has no pages.")
    if seal_size_mm is None:
        raise InvalidPlacementError("A visible placement needs a seal appearance (image + size).")
    width_mm, height_mm = seal_size_mm
    if not (width_mm > 0 and height_mm > 0):
        raise InvalidPlacementError("The seal's width and height must be positive.")
    width, height = mm_to_pt(width_mm), mm_to_pt(height_mm)

    if isinstance(placement, CoordinatePlacement):
        geometry = _check_page(placement.page, pages)
        return (
            _centred_widget(
                geometry, mm_to_pt(placement.x_mm), mm_to_pt(placement.y_mm), width, height
            ),
        )

    if isinstance(placement, KeywordPlacement):
        return _keyword_widgets(placement, pages, pdf, width, height)
    if isinstance(placement, CrossPagePlacement):
        return _riding_widgets(placement, pages, width, height)
    raise InvalidPlacementError(f"Unknown placement {placement!r}.")


def _keyword_widgets(
    placement: KeywordPlacement,
    pages: Sequence[PageGeometry],
    pdf: bytes | None,
    width: float,
    height: float,
) -> tuple[SealWidget, ...]:
    """A widget centred on the keyword's first, last or every occurrence (plus the offset)."""
    if placement.occurrence not in ("first", "last", "all"):
        raise InvalidPlacementError(
            f"occurrence must be 'first', 'last' or 'all', not {placement.occurrence!r}."
        )
    if pdf is None:
        raise InvalidPlacementError("A keyword placement needs the document bytes.")
    hits = find_keyword(pdf=pdf, keyword=placement.keyword)
    if not hits:
        raise KeywordNotFoundError(
            f"The keyword {placement.keyword!r} does not occur in the document.",
            keyword=placement.keyword,
        )
    if placement.occurrence == "first":
        hits = hits[:1]
    elif placement.occurrence == "last":
        hits = hits[-1:]
    widgets = []
    for hit in hits:
        geometry = pages[hit.page_index]
        x1, y1 = geometry.to_display(hit.box.left, hit.box.bottom)
        x2, y2 = geometry.to_display(hit.box.right, hit.box.top)
        centre_x = (x1 + x2) / 2 + mm_to_pt(placement.offset_x_mm)
        centre_y = (y1 + y2) / 2 + mm_to_pt(placement.offset_y_mm)
        widgets.append(_centred_widget(geometry, centre_x, centre_y, width, height))
    return tuple(widgets)


def _riding_widgets(
    placement: CrossPagePlacement, pages: Sequence[PageGeometry], width: float, height: float
) -> tuple[SealWidget, ...]:
    """A riding seal (骑缝章): one slice of the seal at the right edge of each page."""
    first = placement.first_page if placement.first_page is not None else 1
    last = placement.last_page if placement.last_page is not None else len(pages)
    _check_page(first, pages, "first page")
    _check_page(last, pages, "last page")
    if last - first + 1 < 2:
        raise InvalidPlacementError(
            f"A cross-page (riding) seal needs at least two pages (got pages {first}..{last})."
        )
    count = last - first + 1
    slice_width = width / count
    widgets = []
    for slice_index, page_number in enumerate(range(first, last + 1)):
        geometry = pages[page_number - 1]
        centre_y = (
            mm_to_pt(placement.y_mm) if placement.y_mm is not None else geometry.display_height / 2
        )
        right = geometry.display_width
        rect = geometry.display_rect_to_user(
            right - slice_width, centre_y - height / 2, right, centre_y + height / 2
        )
        if not geometry.box.contains(rect):
            raise PlacementOutsidePageError(
                f"The riding seal at {centre_y / MM_TO_PT:.1f} mm from the top does not fit "
                f"on page {page_number}.",
                page=page_number,
            )
        widgets.append(
            SealWidget(
                page_index=geometry.index,
                rect=rect,
                rotate=geometry.rotate,
                slice_index=slice_index,
                slice_count=count,
            )
        )
    return tuple(widgets)
