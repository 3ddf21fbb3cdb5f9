"""Page sizes and PNG thumbnails of a PDF, by PDFium (pypdfium2): run inside the PDF workers
(`app.pdfworker`), called through `app.pdfwork`, so the service process never opens PDFium."""

from __future__ import annotations

import contextlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

from app.errors import InvalidInput, NotFound
from seals.placement import PDFIUM_LOCK

THUMB_SCALE = 1.25  # 90 dpi: an A4 page is 744 x 1053 px, sharp at the shown size
PT_TO_MM = 25.4 / 72.0


@dataclass(frozen=True)
class PageInfo:
    number: int  # 1-based
    width_mm: float
    height_mm: float


def page_sizes(pdf: bytes) -> list[PageInfo]:
    """Every page's displayed size (crop box, after /Rotate) in millimetres."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as exc:
            raise InvalidInput("the PDF cannot be opened") from exc
        try:
            pages = []
            for index in range(len(document)):
                page = document[index]
                width, height = page.get_size()
                pages.append(PageInfo(index + 1, width * PT_TO_MM, height * PT_TO_MM))
                page.close()
            return pages
        finally:
            document.close()


class ThumbCache:
    """A small LRU of rendered pages, keyed by document hash and page number."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[str, int]) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key: tuple[str, int], value: bytes) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


thumbs = ThumbCache()


def page_png(pdf: bytes, *, sha256: str, number: int) -> bytes:
    """Page `number` (1-based) rendered as a PNG."""
    import pypdfium2 as pdfium

    cached = thumbs.get((sha256, number))
    if cached is not None:
        return cached
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            if not 1 <= number <= len(document):
                raise NotFound(f"page {number} not found")
            # Seals are signature widgets: drawn once forms are set up (else shown without).
            with contextlib.suppress(pdfium.PdfiumError, ValueError):
                document.init_forms()
            page = document[number - 1]
            bitmap = page.render(scale=THUMB_SCALE, may_draw_forms=True, draw_annots=True)
            image = bitmap.to_pil()
            page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False)
    png = out.getvalue()
    thumbs.put((sha256, number), png)
    return png
