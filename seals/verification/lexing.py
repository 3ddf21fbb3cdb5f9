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
it was the next 7% after the hex strings. `tests/verification/test_lexing.py` compares both
functions with pyhanko's on generated and hostile input.
"""

from __future__ import annotations

import binascii
import os
import re
from typing import Any

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.misc import PDF_DELIMITERS, PDF_WHITESPACE

__all__ = [
    "install",
    "pyhanko_read_hex_string",
    "pyhanko_read_until_delimiter",
    "read_hex_string",
    "read_until_delimiter",
]

pyhanko_read_hex_string = generic.read_hex_string_from_stream
pyhanko_read_until_delimiter = misc.read_until_delimiter
_TOKEN_END = re.compile(b"[" + re.escape(PDF_WHITESPACE + PDF_DELIMITERS) + b"]")
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


def install() -> None:
    """Make pyhanko's object parser use both functions (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
    generic.read_until_delimiter = read_until_delimiter
