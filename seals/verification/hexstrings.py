"""PDF hexadecimal strings read in one pass instead of one byte at a time (issue 12).

pyhanko's `read_hex_string_from_stream` reads a hex string a byte per call, skipping
whitespace and comments between digits. A signature's /Contents is a hex string of 16 to 64
KB, and a verification reads it again in every revision the difference analysis looks at
(7 times for a 1-page B-LT seal): 14% of a verification's time went there.

`read_hex_string` reads up to the closing `>` with one `read`, drops the PDF whitespace and
decodes with `binascii`. Anything out of the ordinary - a comment (`%`) between the digits, a
character that is not a hex digit, no closing `>` - rewinds and lets pyhanko's own function read
it, so the result and the error are pyhanko's by construction; `tests/seals_verification/
test_hexstrings.py` compares both on generated and hostile input.
"""

from __future__ import annotations

import binascii
import os
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

__all__ = ["install", "pyhanko_read_hex_string", "read_hex_string"]

pyhanko_read_hex_string = generic.read_hex_string_from_stream
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


def install() -> None:
    """Make pyhanko's object parser use `read_hex_string` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
