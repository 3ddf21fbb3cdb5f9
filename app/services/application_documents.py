"""Supporting documents of seal applications: PDF, PNG or JPEG, recognised by their content
(never by the file name or the declared type), size-limited, stored by SHA-256. A PDF is
opened by PDFium in a bounded PDF worker (`page_count`), never in the service's process."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from app.errors import InvalidInput, PayloadTooLarge
from seals.errors import InvalidImageError
from seals.images import normalize_uploaded_image

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_DOCUMENTS = 8
PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


class UnsupportedDocument(InvalidInput):
    code = "unsupported-document"


class DocumentTooLarge(PayloadTooLarge):
    code = "document-too-large"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedDocument:
    filename: str
    media_type: str
    data: bytes


def safe_filename(name: str | None, media_type: str) -> str:
    """The last path part without control characters; a default when nothing is left."""
    base = _UNSAFE.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    return base[:200] or f"document.{media_type.rsplit('/', 1)[-1]}"


def check(
    upload: Upload, *, page_count: Callable[[bytes], int], max_bytes: int = MAX_DOCUMENT_BYTES
) -> CheckedDocument:
    """The document if it is a readable PDF, PNG or JPEG within the limit; else a problem
    naming the file and the reason. `page_count` opens a PDF (an `InvalidInput` when it
    cannot)."""
    data, name = upload.data, upload.filename or "document"
    if not data:
        raise UnsupportedDocument(f"{name}: the file is empty")
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"{name}: {len(data)} bytes; at most {max_bytes} bytes each")
    if data.startswith(b"%PDF-"):
        _check_pdf(name, data, page_count)
        media_type = PDF
    elif data.startswith((_PNG_MAGIC, _JPEG_MAGIC)):
        try:  # decodes with pixel limits: a truncated or bomb image is refused here
            normalize_uploaded_image(data, max_bytes=max_bytes)
        except InvalidImageError as exc:
            raise UnsupportedDocument(f"{name}: {exc}") from exc
        media_type = PNG if data.startswith(_PNG_MAGIC) else JPEG
    else:
        raise UnsupportedDocument(f"{name}: only PDF, PNG and JPEG documents are accepted")
    return CheckedDocument(
        filename=safe_filename(name, media_type), media_type=media_type, data=data
    )


def _check_pdf(name: str, data: bytes, page_count: Callable[[bytes], int]) -> None:
    try:
        pages = page_count(data)
    except InvalidInput as exc:
        raise UnsupportedDocument(f"{name}: not a readable PDF ({exc})") from exc
    if pages < 1:
        raise UnsupportedDocument(f"{name}: the PDF has no pages")
