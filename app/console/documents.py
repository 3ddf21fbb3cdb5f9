"""PDFs handled in the console: keeping an upload for its organization and rendering its pages
as PNG thumbnails on the server (PDFium through pypdfium2)."""

from __future__ import annotations

import contextlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlmodel import Session

from app import pdfwork
from app.errors import InvalidInput, NotFound
from app.models import StoredDocument
from app.sealing import granted_on
from app.security import Principal, Scope
from app.tenancy import require, visible_organization
from app.wiring import Services
from seals.placement import PDFIUM_LOCK

MAX_PAGES_SHOWN = 20
THUMB_SCALE = 1.25  # 90 dpi: an A4 page is 744 x 1053 px, sharp at the shown size
PT_TO_MM = 25.4 / 72.0


@dataclass(frozen=True)
class PageInfo:
    number: int  # 1-based
    width_mm: float
    height_mm: float


def store_upload(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    pdf: bytes,
    filename: str,
) -> StoredDocument:
    """Keep an uploaded PDF for the organization so its pages can be shown and sealed."""
    visible_organization(session, principal, organization_id)
    require(principal, Scope.seals_use)
    if not pdf.startswith(b"%PDF-"):
        raise InvalidInput("the file is not a PDF")
    pdfwork.page_sizes(services, pdf)  # refuses what PDFium cannot open (in a worker)
    document = StoredDocument(
        organization_id=organization_id,
        sha256=services.blobs.put(pdf),
        size=len(pdf),
        filename=(filename or "document.pdf")[:255],
        created_by=principal.actor,
    )
    session.add(document)
    session.flush()
    return document


def visible_document(
    session: Session, services: Services, *, principal: Principal, document_id: str
) -> tuple[StoredDocument, bytes]:
    document = session.get(StoredDocument, document_id)
    if document is None or (
        principal.organization_id != document.organization_id and not principal.is_platform
    ):
        raise NotFound(f"document {document_id} not found")
    # As in the API (app.sealing.visible_document), plus approvers, who decide on documents.
    if not (
        principal.has(Scope.documents_read)
        or principal.has(Scope.approvals_write)
        or document.created_by == principal.actor
        or granted_on(session, principal, document)
    ):
        raise NotFound(f"document {document_id} not found")
    return document, services.blobs.get(document.sha256)


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


class _ThumbCache:
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


_thumbs = _ThumbCache()


def page_png(pdf: bytes, *, sha256: str, number: int) -> bytes:
    """Page `number` (1-based) rendered as a PNG."""
    import pypdfium2 as pdfium

    cached = _thumbs.get((sha256, number))
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
    _thumbs.put((sha256, number), png)
    return png
