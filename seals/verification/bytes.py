"""Every byte after a signed revision must belong to a revision the analysis parsed.

A strict reader follows the cross-reference chain; a viewer that finds the chain damaged
rebuilds it by scanning the file for `N G obj` headers and takes the last definition of each
object. An update appended after a signature with an EMPTY cross-reference section (new page
objects, then `xref` with no entries and a trailer) is invisible to the first and shown by the
second: difference analysis sees "no change" while a viewer shows new pages. So the verifier
also scans the bytes after the earliest signed revision for object headers that no
cross-reference section of any revision points at: each one is content that no revision the
analysis understood accounts for, and therefore a modification.
"""

from __future__ import annotations

import bisect
import re

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.xref import XRefSection

from seals.reports import Finding

_OBJ_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})[ \t\r\n\f\x00]+(\d{1,5})[ \t\r\n\f\x00]+obj\b")
"""What an object header is; `object_headers` finds the same matches without trying the
pattern at every digit of the file (binary streams are full of them: 4% of a verification)."""
_SPACE = frozenset(b" \t\r\n\f\x00")
_DIGIT = frozenset(b"0123456789")
_WORD = frozenset(b"0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def object_headers(pdf: bytes, after: int = 0) -> list[int]:
    """The start of every `_OBJ_HEADER` match at or after `after`, as `finditer` finds them.

    Each match ends at an `obj` keyword and is fixed by it: going back from the keyword, the
    whole run of white space (1 or more), the whole run of digits before it (1 to 5: a longer
    run leaves a digit where the pattern needs white space), the whole run of white space,
    the whole run of digits (1 to 10, nothing numeric before it). The regions walked back over
    hold only digits and white space, so two keywords never share one: linear in the file.
    """
    found: list[int] = []
    end = len(pdf)
    at = pdf.find(b"obj", after)
    while at != -1:
        if at + 3 == end or pdf[at + 3] not in _WORD:
            start = _header_start(pdf, at)
            if start is not None and start >= after:
                found.append(start)
        at = pdf.find(b"obj", at + 3)
    return found


def _header_start(pdf: bytes, keyword: int) -> int | None:
    i = keyword
    runs = ((_SPACE, 1, None), (_DIGIT, 1, 5), (_SPACE, 1, None), (_DIGIT, 1, 10))
    for chars, least, most in runs:
        j = i
        while j > 0 and pdf[j - 1] in chars:
            j -= 1
        if i - j < least or (most is not None and i - j > most):
            return None
        i = j
    return i


def _sections(reader: PdfFileReader) -> list[XRefSection]:
    """All cross-reference sections, hybrid (XRefStm) ones included."""
    sections: list[XRefSection] = []
    for rev in range(reader.xrefs.total_revisions):
        data = reader.xrefs.get_xref_data(rev)
        info = reader.xrefs.get_xref_container_info(rev)
        sections.append(XRefSection(info, data))
        if data.hybrid is not None:
            sections.append(data.hybrid)
    folded = getattr(reader, "linearization_main", None)  # seals.verification.linearized
    if folded is not None:
        sections.append(folded)
    return sections


def known_object_offsets(reader: PdfFileReader) -> list[int]:
    """Offsets of every object some cross-reference section points at (xref streams too)."""
    offsets: set[int] = set()
    for section in _sections(reader):
        offsets.update(offset for _gen, offset in section.xref_data.standard_xrefs.values())
        if section.meta_info.stream_ref is not None:
            offsets.add(section.meta_info.start_location)
    return sorted(offsets)


def unaccounted_objects(pdf: bytes, reader: PdfFileReader, *, after: int) -> list[int]:
    """Offsets (>= `after`) of object headers no cross-reference section accounts for.

    A header inside the body of a referenced object (e.g. in an uncompressed stream) is not
    counted: the body of a known object runs from its offset to the next `endobj`.
    """
    known = known_object_offsets(reader)
    known_set = set(known)
    found: list[int] = []
    for pos in object_headers(pdf, after):
        if pos in known_set:
            continue
        i = bisect.bisect_right(known, pos) - 1
        if i >= 0:
            start = known[i]
            end = pdf.find(b"endobj", start)
            if end != -1 and pos < end:
                continue
        found.append(pos)
    return found


def unaccounted_finding(offsets: list[int]) -> Finding:
    """The finding for objects after a signed revision that no revision accounts for."""
    return Finding(
        code="unaccounted-bytes-after-signing",
        zh=f"签署后追加了 {len(offsets)} 个交叉引用表未登记的对象"
        f"（首个位于字节 {offsets[0]}）：修复文件的阅读器会显示这些内容，"
        "它们不属于任何可验证的修订版本。",
        en=f"{len(offsets)} object(s) were appended after signing that no cross-reference "
        f"section lists (the first at byte {offsets[0]}): viewers that repair the file show "
        "them, yet they belong to no revision that can be verified.",
    )
