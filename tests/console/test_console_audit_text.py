"""Audit details read as sentences (seal code, status change, reason) with the stored JSON
behind a toggle, in Chinese or English; the filtered log exports as CSV that spreadsheet
programs open with the Chinese intact."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.console.conftest import ConsoleOrg, make_seal

Login = Callable[[str], TestClient]


def test_audit_details_are_sentences_with_the_json_behind_a_toggle(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, signed_in: Login
) -> None:
    seal = make_seal(client, platform_key, console_org.id, "青禾合同章（审计）")
    suspended = client.post(
        f"/api/v1/seals/{seal['id']}/suspend",
        json={"reason": "印章交接"},
        headers=auth(platform_key),
    )
    assert suspended.status_code == 200, suspended.text
    auditor = signed_in(console_org.users["auditor"])
    html = auditor.get(f"/console/audit?target={seal['id']}").text
    row = re.search(r'<tr data-action="seal.suspend">(.*?)</tr>', html, re.S)
    assert row, html[:3000]
    sentence = re.search(r'<span class="sentence">(.*?)</span>', row.group(1), re.S)
    assert sentence
    assert "状态 正常 → 已暂停" in sentence.group(1)
    said = sentence.group(1)
    assert f"印章编码：{seal['code']}" in said and "原因：印章交接" in said
    assert '<details class="raw">' in row.group(1) and "&#34;reason&#34;" in row.group(1)

    exported = auditor.get(f"/console/audit/export.csv?target={seal['id']}")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "序号" and rows[0][3] == "操作" and rows[0][6] == "JSON"
    suspend = [r for r in rows[1:] if "印章交接" in r[5]]
    assert suspend and '"reason"' in suspend[0][6]

    auditor.get("/console/?lang=en")
    english = auditor.get(f"/console/audit?target={seal['id']}").text
    assert "status Active → Suspended" in english and "reason: 印章交接" in english
    auditor.get("/console/?lang=zh-CN")
