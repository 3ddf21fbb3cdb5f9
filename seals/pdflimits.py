"""Caps on how complex a PDF may be before anyone parses or renders it.

A 19 MiB incremental update of 300,000 tiny objects, a million objects in object streams, a
2 MB file whose content inflates to 2 GiB, a page of 14400 pt x 14400 pt: each is a small
upload that costs gigabytes in pyhanko or PDFium. `check_structure` scans the raw bytes once
(regular expressions and zlib with an output budget; no object graph is built) and refuses
such files by naming the limit they exceed. It runs inside the bounded worker process, in
front of the real parse, which the worker's memory and CPU limits bound in any case.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass

from seals.errors import DocumentTooComplexError

_EOF = re.compile(rb"%%EOF")
_OBJ = re.compile(rb"(?<![0-9])[0-9]{1,10}\s+[0-9]{1,5}\s+obj\b")
"""An object header; `count_objects` counts its matches without running it (see there)."""
_OBJ_WORD = re.compile(rb"obj\b")
_SPACE = frozenset(b" \t\n\r\f\v")  # what \s matches in a bytes pattern
_DIGIT = frozenset(b"0123456789")
_OBJSTM_N = re.compile(
    rb"/Type\s*/ObjStm\b[^>]{0,400}?/N\s+([0-9]{1,12})|/N\s+([0-9]{1,12})[^>]{0,400}?/Type\s*/ObjStm\b"
)
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_BOX = re.compile(
    rb"/(?:MediaBox|CropBox)\s*\[\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)\s*\]"
)
_STREAM = re.compile(rb"stream\r?\n")
_ENDSTREAM = b"endstream"


@dataclass(frozen=True)
class PdfLimits:
    """What a document may contain; every figure is a setting (see app.settings)."""

    max_objects_per_revision: int = 100_000
    max_decompressed_bytes: int = 256 * 1024 * 1024
    max_pages: int = 2_000
    max_page_side_pt: float = 5_080.0  # 1.8 m; ISO A0 is 3370 pt tall
    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 30
    wall_seconds: float = 40.0


def _too_complex(limit: str, value: float, allowed: float, what: str) -> DocumentTooComplexError:
    return DocumentTooComplexError(
        f"the document exceeds the limit '{limit}' ({what}: {value:,.0f}, allowed: {allowed:,.0f})",
        limit=limit,
        value=value,
        allowed=allowed,
    )


def check_structure(pdf: bytes, limits: PdfLimits) -> None:
    """Raise `DocumentTooComplexError` when `pdf` exceeds a structural limit."""
    _check_objects(pdf, limits)
    _check_pages(pdf, limits)
    _check_decompressed(pdf, limits)


def _check_objects(pdf: bytes, limits: PdfLimits) -> None:
    start = 0
    ends = [m.end() for m in _EOF.finditer(pdf)] or [len(pdf)]
    if ends[-1] < len(pdf):
        ends.append(len(pdf))
    for end in ends:
        revision = pdf[start:end]
        count = count_objects(revision)
        for match in _OBJSTM_N.finditer(revision):
            count += int(match.group(1) or match.group(2))
        if count > limits.max_objects_per_revision:
            raise _too_complex(
                "max_objects_per_revision", count, limits.max_objects_per_revision, "objects"
            )
        start = end


def count_objects(data: bytes) -> int:
    """How many matches of `_OBJ` (`N G obj`) `data` has, found from each `obj` backwards.

    The same count as ``len(_OBJ.findall(data))`` (a header holds no other `obj`, so the
    matches cannot overlap, and each run of spaces or digits is taken whole: a number is
    bounded by spaces, the first one by a non-digit), but the regular expression tries a
    match at every byte: 4 ms for a 1-page document of 13 kB, 16 ms for 100 pages, in front
    of every seal and verification; this looks at each `obj` only (0.02 ms and 2.4 ms)."""
    count = 0
    for match in _OBJ_WORD.finditer(data):
        gap_end = match.start() - 1
        generation_end = _skip(data, gap_end, _SPACE)
        if generation_end == gap_end:
            continue
        space_end = _skip(data, generation_end, _DIGIT)
        if not 1 <= generation_end - space_end <= 5:
            continue
        number_end = _skip(data, space_end, _SPACE)
        if number_end == space_end:
            continue
        if 1 <= number_end - _skip(data, number_end, _DIGIT) <= 10:
            count += 1
    return count


def _skip(data: bytes, index: int, kinds: frozenset[int]) -> int:
    """The index of the first byte before `index` (inclusive) not in `kinds` (-1: none)."""
    while index >= 0 and data[index] in kinds:
        index -= 1
    return index


def _check_pages(pdf: bytes, limits: PdfLimits) -> None:
    pages = sum(1 for _ in _PAGE.finditer(pdf))
    if pages > limits.max_pages:
        raise _too_complex("max_pages", pages, limits.max_pages, "pages")
    for match in _BOX.finditer(pdf):
        try:
            x0, y0, x1, y1 = (float(v) for v in match.groups())
        except ValueError:
            continue
        side = max(abs(x1 - x0), abs(y1 - y0))
        if side > limits.max_page_side_pt:
            raise _too_complex("max_page_side_pt", side, limits.max_page_side_pt, "page side (pt)")


def _check_decompressed(pdf: bytes, limits: PdfLimits) -> None:
    """Inflate every stream that inflates, within one budget for the whole document."""
    budget = limits.max_decompressed_bytes
    used = 0
    position = 0
    while True:
        match = _STREAM.search(pdf, position)
        if match is None:
            return
        end = pdf.find(_ENDSTREAM, match.end())
        if end < 0:
            return
        position = end + len(_ENDSTREAM)
        used += _inflated_size(pdf, match.end(), end, budget - used + 1)
        if used > budget:
            raise _too_complex("max_decompressed_bytes", used, budget, "bytes after decompression")


_INFLATED: dict[bytes, int] = {}
"""SHA-256 of a stream's bytes -> how many bytes they inflate to, for streams read to their
end within the budget (the end of the zlib data, of the bytes, or a zlib error): the same
seal image, font and time-stamp certificates come in document after document (the seal
image's mask, 207 bytes inflating to 184 kB, was half of the 1 ms this check took per
verification). A pure function of the bytes (any other byte is another key); a budget below
the size gives the budget, as inflating would."""
MAX_INFLATED = 4096


def _inflated_size(pdf: bytes, start: int, end: int, cap: int) -> int:
    """How many bytes the zlib data at pdf[start:end] inflates to, counting at most `cap`."""
    key = hashlib.sha256(memoryview(pdf)[start:end]).digest()
    known = _INFLATED.get(key)
    if known is not None:
        return min(known, cap)
    size = _inflate(pdf, start, end, cap)
    if size < cap:  # not cut short by the budget: what any budget above `size` would give
        if len(_INFLATED) >= MAX_INFLATED:
            _INFLATED.clear()
        _INFLATED[key] = size
    return size


def _inflate(pdf: bytes, start: int, end: int, cap: int) -> int:
    inflater = zlib.decompressobj()
    size = 0
    chunk = 1 << 20
    data = memoryview(pdf)[start:end]
    try:
        for offset in range(0, len(data), chunk):
            piece: bytes = bytes(data[offset : offset + chunk])
            while piece and size < cap:
                out = inflater.decompress(piece, min(cap - size, 1 << 22))
                size += len(out)
                piece = inflater.unconsumed_tail
            if size >= cap or inflater.eof:
                return size
    except zlib.error:
        return size  # not deflate (or damaged): the parser will say so
    return size
