"""Downloads: the one place a Content-Disposition header is written."""

from __future__ import annotations

import re
from urllib.parse import quote

_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')


def attachment(filename: str | None = None) -> dict[str, str]:
    """The header that makes a response a download named `filename` (RFC 6266): an ASCII
    ``filename`` for old clients (other characters become ``_``) and ``filename*`` in UTF-8
    (RFC 8187, formerly 5987), so a Chinese name such as 合同.pdf arrives intact."""
    if not filename:
        return {"Content-Disposition": "attachment"}
    fallback = _UNSAFE.sub("_", filename)
    encoded = quote(filename, safe="")
    return {
        "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    }
