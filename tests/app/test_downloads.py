"""`attachment()`: one Content-Disposition for every download, read back by an independent
RFC 2231/8187 parser (the standard library's email package) as a browser would."""

from __future__ import annotations

from email.message import Message
from email.utils import collapse_rfc2231_value

import pytest

from app.downloads import attachment


def _parsed(header: str) -> Message:
    message = Message()
    message["Content-Disposition"] = header
    return message


def _names(header: str) -> tuple[str, str]:
    """(the plain ``filename``, the decoded ``filename*``): RFC 6266 has the second win."""
    params = _parsed(header).get_params(header="content-disposition", unquote=True) or []
    plain = [v for k, v in params if k == "filename" and isinstance(v, str)]
    extended = [v for k, v in params if k == "filename" and isinstance(v, tuple)]
    assert len(plain) == 1 and len(extended) == 1, params
    assert extended[0][0].lower() == "utf-8"
    return plain[0], collapse_rfc2231_value(extended[0])


@pytest.mark.parametrize(
    "name",
    ["合同.pdf", "验证报告-2026年.pdf", "report.json", 'odd "quoted" \\ name.pdf', "a b;c.pdf"],
)
def test_the_name_arrives_intact_and_the_fallback_is_plain_ascii(name: str) -> None:
    header = attachment(name)["Content-Disposition"]
    parsed = _parsed(header)
    assert parsed.get_content_disposition() == "attachment"
    fallback, full = _names(header)
    assert full == name
    header.encode("ascii")  # a header is ASCII: nothing raw leaks in
    assert fallback.isascii() and '"' not in fallback and "\\" not in fallback
    assert len(fallback) == len(name)
    assert fallback == name or not name.isascii() or '"' in name or "\\" in name


def test_no_name_is_a_plain_attachment() -> None:
    assert attachment() == {"Content-Disposition": "attachment"}
    assert _parsed(attachment()["Content-Disposition"]).get_filename() is None
