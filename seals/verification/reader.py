"""Open a PDF for verification: strictly first, tolerantly where mainstream readers are.

pyhanko's strict mode refuses files that the PDF specification and every mainstream reader
accept: hybrid-reference files (signature validation refused outright), xref sections whose
declared sizes shrink from one revision to the next ("XRef section sizes must be
nondecreasing"), tables whose entries run past /Size, a startxref that needs a small
correction. Word and Acrobat write such files. Refusing them would call legitimate
documents damaged, so the verifier retries without strict mode and says it did (finding
`tolerant-parsing`, reported only).

Tolerance does not lower the bar for tampering: difference analysis still runs on every
revision the reader found, and `seals.verification.bytes` flags any object in the file that no
parsed cross-reference section accounts for.
"""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils.decode_limits import DecodeLimits
from pyhanko.pdf_utils.reader import PdfFileReader

from seals.reports import Finding


def open_reader(pdf: bytes, *, limits: DecodeLimits) -> tuple[PdfFileReader, Finding | None]:
    """A reader for `pdf`, and a finding when it had to be read tolerantly.

    Raises the strict reader's error when the tolerant reader cannot read the file either.
    """
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=True, decode_limits=limits)
        _touch(reader)
        if reader.encrypted or not reader.xrefs.hybrid_xrefs_present:
            return reader, None
        # Strict pyhanko refuses to validate any signature in a hybrid-reference file (a
        # classic table plus /XRefStm, as Word and Acrobat write them); ISO 32000-1 7.5.8.4
        # defines them and every mainstream reader opens them.
        raise ValueError("hybrid-reference file (classic xref table with /XRefStm)")
    except Exception as strict_error:
        reason = str(strict_error)[:200]
        try:
            reader = PdfFileReader(BytesIO(pdf), strict=False, decode_limits=limits)
            _touch(reader)
        except Exception:
            raise strict_error from None
    return reader, Finding(
        code="tolerant-parsing",
        zh=f"文件的交叉引用结构不完全符合严格解析的要求，已按主流阅读器的方式容错读取：{reason}",
        en="The file's cross-reference structure does not pass strict parsing; it was read "
        f"tolerantly, as mainstream readers do: {reason}",
    )


def _touch(reader: PdfFileReader) -> None:
    """Force what lazy parsing would otherwise defer (the catalog and revision count)."""
    if not reader.encrypted:
        _ = reader.root
        _ = reader.xrefs.total_revisions
