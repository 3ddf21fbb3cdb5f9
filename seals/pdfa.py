"""Keep a PDF/A document PDF/A when a seal is appended to it.

pyhanko's incremental writer, left to itself, (1) bumps the catalog /Version to 2.0 and
registers the ISO 32002 extension when the signing key is on an ISO 32002 curve (P-256 and
friends), although the header and the PDF/A-2 identification say PDF 1.7; and (2) replaces an
existing XMP packet it did not create with a fresh one (losing `pdfaid:part`/`conformance`)
while writing its own Producer into the Info dictionary. Either breaks PDF/A: the version must
match the part (PDF/A-2/3 are ISO 32000-1 based), and XMP and Info must agree.

`open_incremental_writer` returns a writer that behaves exactly like pyhanko's for ordinary
documents and, for a PDF/A input (XMP with pdfaid:part), leaves the version and extensions as
they were (ECDSA signatures in PDF 1.7 are PAdES, EN 319 142-1, conformant) and writes the same
Producer into Info as pyhanko writes into XMP (pyhanko keeps the XMP packet and its pdfaid
identification, updating ModifyDate/Producer in both).
"""

from __future__ import annotations

import re
from io import BytesIO
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR

_PDFAID = re.compile(rb"pdfaid:part\s*(?:=\s*['\"]|>)\s*([1-4])")


def pdfa_part(root: generic.DictionaryObject) -> int | None:
    """The PDF/A part declared in the catalog's XMP metadata, or None."""
    try:
        meta = root["/Metadata"]
        data = meta.data if isinstance(meta, generic.StreamObject) else b""
    except Exception:
        return None
    match = _PDFAID.search(data)
    return int(match.group(1)) if match else None


class _PdfaPreservingWriter(IncrementalPdfFileWriter):
    """pyhanko's writer, minus version bumps and metadata rewrites for PDF/A inputs."""

    pdfa: int | None = None

    def ensure_output_version(self, version: Any) -> None:
        if self.pdfa is None:
            super().ensure_output_version(version)

    def register_extension(self, ext: Any) -> None:
        if self.pdfa is None:
            super().register_extension(ext)

    def _update_meta(self) -> None:
        super()._update_meta()
        if self.pdfa is None or self._info is None:
            return
        # pyhanko writes "<old>; pyHanko x" into Info but "pyHanko x" into XMP, here and again
        # in the DSS revision it writes itself: make Info say what XMP says (pyhanko then
        # leaves Info alone, as it already names pyHanko).
        info = self._info.get_object()
        if str(info.get("/Producer", "")) != VENDOR:
            info[generic.NameObject("/Producer")] = generic.TextStringObject(VENDOR)
            self.mark_update(self._info)


def open_incremental_writer(pdf: bytes, *, strict: bool = True) -> IncrementalPdfFileWriter:
    writer = _PdfaPreservingWriter(BytesIO(pdf), strict=strict)
    writer.pdfa = pdfa_part(writer.prev.root) if not writer.prev.encrypted else None
    return writer
