"""Generators of the hostile PDFs from issue 11: each is small to upload and costly to parse or
render. Built here byte by byte (valid cross-reference tables), so no file is checked in."""

from __future__ import annotations

import re
import zlib


def build_pdf(objects: list[bytes], *, header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") -> bytes:
    """A PDF whose object i+1 is objects[i] and whose catalog is object 1."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def one_page(content: bytes = b"", *, media_box: str = "0 0 595 842", flate: bool = False) -> bytes:
    stream = zlib.compress(content, 9) if flate else content
    filter_ = b" /Filter /FlateDecode" if flate else b""
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [" + media_box.encode() + b"] "
            b"/Contents 4 0 R /Resources << >> >>",
            b"<< /Length %d%s >>\nstream\n" % (len(stream), filter_) + stream + b"\nendstream",
        ]
    )


def deflate_bomb(inflated_bytes: int) -> bytes:
    """One page whose content stream inflates to `inflated_bytes` (about 1000:1)."""
    chunk = zlib.compressobj(9)
    parts = [chunk.compress(b"0 0 m\n" * (1 << 16)) for _ in range(inflated_bytes // (6 << 16))]
    parts.append(chunk.flush())
    stream = b"".join(parts)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    return build_pdf(objects)


def huge_media_box() -> bytes:
    """A few hundred bytes: one page of 14400 pt x 14400 pt (5 m square, PDF's maximum)."""
    return one_page(b"0 0 m 14400 14400 l S", media_box="0 0 14400 14400")


def _last_xref_offset(pdf: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])


def _size(pdf: bytes) -> int:
    return max(int(m) for m in re.findall(rb"/Size\s+(\d+)", pdf))


def object_flood(pdf: bytes, count: int = 300_000) -> bytes:
    """`pdf` plus one incremental update of `count` small objects (a classic xref table)."""
    first = _size(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = []
    for number in range(first, first + count):
        offsets.append(len(out))
        out += b"%d 0 obj\n<< /A %d >>\nendobj\n" % (number, number)
    xref = len(out)
    out += b"xref\n%d %d\n" % (first, count)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    root = re.findall(rb"/Root\s+(\d+\s+\d+\s+R)", pdf)[-1]
    out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        first + count,
        root,
        _last_xref_offset(pdf),
        xref,
    )
    return bytes(out)


def object_stream_flood(pdf: bytes, streams: int = 10, per_stream: int = 100_000) -> bytes:
    """`pdf` plus one update of `streams` object streams holding `per_stream` objects each
    (a million small objects in a few megabytes)."""
    first = _size(pdf)
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = []
    number = first + streams
    for index in range(streams):
        table = bytearray()
        bodies = bytearray()
        for _ in range(per_stream):
            table += b"%d %d " % (number, len(bodies))
            bodies += b"<<>> "
            number += 1
        data = zlib.compress(bytes(table) + bytes(bodies), 1)
        offsets.append(len(out))
        out += (
            b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Length %d /Filter /FlateDecode >>\n"
            % (
                first + index,
                per_stream,
                len(table),
                len(data),
            )
        )
        out += b"stream\n" + data + b"\nendstream\nendobj\n"
    xref = len(out)
    out += b"xref\n%d %d\n" % (first, streams)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    root = re.findall(rb"/Root\s+(\d+\s+\d+\s+R)", pdf)[-1]
    out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
        first + streams,
        root,
        _last_xref_offset(pdf),
        xref,
    )
    return bytes(out)
