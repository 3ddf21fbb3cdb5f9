"""PDF hexadecimal strings and names read in one pass instead of a byte at a time (issue 12).

pyhanko's `read_hex_string_from_stream` reads a hex string a byte per call, skipping
whitespace and comments between digits. A signature's /Contents is a hex string of 16 to 64
KB, and a verification reads it again in every revision the difference analysis looks at
(7 times for a 1-page B-LT seal): 14% of a verification's time went there.

`read_hex_string` reads up to the closing `>` with one `read`, drops the PDF whitespace and
decodes with `binascii`. Anything out of the ordinary - a comment (`%`) between the digits, a
character that is not a hex digit, no closing `>` - rewinds and lets pyhanko's own function read
it, so the result and the error are pyhanko's by construction.

`read_until_delimiter` (names, operators) finds the first PDF whitespace or delimiter in a
bulk read and seeks back to it, which is what pyhanko's loop of one-byte reads leaves behind;
it was the next 7% after the hex strings. `read_until_whitespace` (object headers: the
object and generation numbers) likewise, consuming the whitespace as pyhanko's does. Decoded
names (`#xx` escapes, one byte per step) are remembered per encoding: a name is immutable
and a document repeats a few dozen of them thousands of times; encodings pyhanko refuses
raise every time. `tests/verification/test_lexing.py` compares each with pyhanko's own on
generated and hostile input.
"""

from __future__ import annotations

import binascii
import os
import re
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE

__all__ = [
    "decode_name",
    "install",
    "pyhanko_decode_name",
    "pyhanko_read_hex_string",
    "pyhanko_read_until_delimiter",
    "pyhanko_read_until_whitespace",
    "read_hex_string",
    "read_until_delimiter",
    "read_until_whitespace",
]

pyhanko_read_hex_string = generic.read_hex_string_from_stream
pyhanko_read_until_delimiter = misc.read_until_delimiter
pyhanko_read_until_whitespace = misc.read_until_whitespace
pyhanko_decode_name = generic._decode_name
_TOKEN_END = re.compile(b"[" + re.escape(PDF_WHITESPACE + PDF_DELIMITERS) + b"]")
_WHITESPACE = re.compile(b"[" + re.escape(PDF_WHITESPACE) + b"]")
_NAMES: dict[bytes, generic.NameObject] = {}
MAX_NAMES = 4096
_NAME_CHUNK = 128
_HEX_DIGITS = b"0123456789abcdefABCDEF"
_CHUNK = 1 << 16


def read_hex_string(stream: Any) -> generic.ByteStringObject | generic.TextStringObject:
    """`generic.read_hex_string_from_stream`, the same result from a bulk read."""
    start = stream.tell()
    stream.read(1)  # the opening "<"
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:  # unterminated: pyhanko raises its own error
            stream.seek(start, os.SEEK_SET)
            return pyhanko_read_hex_string(stream)
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(end + 1 - len(chunk), os.SEEK_CUR)
            break
        parts.append(chunk)
    digits = b"".join(parts).translate(None, PDF_WHITESPACE)
    if digits.translate(None, _HEX_DIGITS):  # a comment or a stray character
        stream.seek(start, os.SEEK_SET)
        return pyhanko_read_hex_string(stream)
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def read_until_delimiter(stream: Any) -> bytes:
    """`misc.read_until_delimiter`: the bytes before the next whitespace or delimiter, the
    stream left at that byte (or at the end)."""
    start = stream.tell()
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_NAME_CHUNK)
        found = _TOKEN_END.search(chunk)
        if found is not None:
            parts.append(chunk[: found.start()])
            stream.seek(start + sum(len(p) for p in parts), os.SEEK_SET)
            return b"".join(parts)
        parts.append(chunk)
        if len(chunk) < _NAME_CHUNK:  # the end of the stream: nothing to step back over
            return b"".join(parts)


def read_until_whitespace(stream: Any, maxchars: int | None = None) -> bytes:
    """`misc.read_until_whitespace`: the bytes before the next whitespace, which is consumed
    (the stream is left after it, or at the end)."""
    if maxchars is not None:
        return pyhanko_read_until_whitespace(stream, maxchars)
    start = stream.tell()
    parts: list[bytes] = []
    while True:
        chunk = stream.read(_NAME_CHUNK)
        found = _WHITESPACE.search(chunk)
        if found is not None:
            parts.append(chunk[: found.start()])
            stream.seek(start + sum(len(p) for p in parts) + 1, os.SEEK_SET)
            return b"".join(parts)
        parts.append(chunk)
        if len(chunk) < _NAME_CHUNK:
            return b"".join(parts)


def decode_name(name_bytes: bytes) -> generic.NameObject:
    """`generic._decode_name`, remembered per encoding (errors are not remembered)."""
    known = _NAMES.get(name_bytes)
    if known is None:
        known = pyhanko_decode_name(name_bytes)
        if len(_NAMES) >= MAX_NAMES:
            _NAMES.clear()
        _NAMES[name_bytes] = known
    return known


def install() -> None:
    """Make pyhanko's object parser use these functions (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
    generic.read_until_delimiter = read_until_delimiter
    generic._decode_name = decode_name
    misc.read_until_whitespace = read_until_whitespace
