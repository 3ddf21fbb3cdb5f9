"""Pages for what was API-only: a platform administrator registers an enterprise; a signer
generates one document from a template, or many as a bulk job whose page shows a progress
bar; an admin sees the webhook deliveries of the organization's envelopes."""

from __future__ import annotations

import io
import re
import secrets
import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader

from app.db import unit_of_work
from app.models import Person
from app.services.tenancy import create_account
from tests.conftest import auth, make_uscc
from tests.console.conftest import PASSWORD, ConsoleOrg, csrf_of, grant_person, make_seal

Login = Callable[[str], TestClient]


def test_a_platform_administrator_registers_an_enterprise(
    engine: Any, client: TestClient, platform_key: str, signed_in: Login
) -> None:
    username = f"platform-{secrets.token_hex(3)}"
    with unit_of_work(engine) as session:
        person = Person(name="平台管理员乙")
        session.add(person)
        session.flush()
        create_account(
            session, person=person, username=username, password=PASSWORD, platform_admin=True
        )
    admin = signed_in(username)
    home = admin.get("/console/").text
    assert 'href="/console/enterprises/new"' in home
    form = admin.get("/console/enterprises/new")
    assert form.status_code == 200 and 'id="enterprise-form"' in form.text
    uscc = make_uscc()
    done = admin.post(
        "/console/enterprises",
        data={
            "csrf_token": csrf_of(form.text),
            "name": "温州某电子科技有限公司",
            "uscc": uscc,
            "legal_representative": "林峰",
        },
    )
    assert done.status_code == 200, done.text
    assert "已登记：温州某电子科技有限公司" in done.text
    assert done.text.count("<tr><td>温州某电子科技有限公司") == 5  # the five standard seals
    org_id = re.search(r'name="organization_id" value="([0-9a-f]{32})"', done.text)
    assert org_id
    org = client.get(f"/api/v1/organizations/{org_id.group(1)}", headers=auth(platform_key))
    assert org.status_code == 200 and org.json()["uscc"] == uscc

    again = admin.post(
        "/console/enterprises",
        data={"csrf_token": csrf_of(form.text), "name": "重复", "uscc": uscc,
              "legal_representative": "林峰"},
    )  # fmt: skip
    assert again.status_code == 409 and "与现有数据冲突" in again.text


def test_templates_make_one_document_or_a_bulk_job_with_progress(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, signed_in: Login
) -> None:
    seal = make_seal(client, platform_key, console_org.id, "青禾合同章（模板）")
    grant_person(client, platform_key, seal["id"], console_org.people["signer"])
    signer = signed_in(console_org.users["signer"])
    page = signer.get("/console/templates?name=two-party-contract")
    assert page.status_code == 200 and "合同" in page.text and seal["id"] in page.text
    assert "电子投标保函" in page.text and "Electronic letter of guarantee" not in page.text
    sample = re.search(r'<textarea id="tpl-data"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert sample and "contract_number" in sample.group(1)

    one = signer.post(
        "/console/templates/generate",
        data={
            "csrf_token": csrf_of(page.text),
            "template": "two-party-contract",
            "seal_id": seal["id"],
            "data": sample.group(1).replace("&#34;", '"').replace("ZC-2026-0001", "ZC-T-1"),
        },
        follow_redirects=False,
    )
    assert one.status_code == 303, one.text
    document = one.headers["location"]
    assert document.startswith("/console/documents/")
    pdf = signer.get(f"{document}/download").content
    assert len(PdfFileReader(io.BytesIO(pdf)).embedded_signatures) == 1

    records = [
        {"title": "采购合同", "contract_number": f"ZC-T-{n}", "party_a": {"name": "甲单位"},
         "party_b": {"name": "乙单位"}, "clauses": ["条款。"], "signed_on": "2026-04-01"}
        for n in (2, 3)
    ]  # fmt: skip
    records.append({"title": "缺字段"})  # fails on its own, the others go on
    import json

    many = signer.post(
        "/console/templates/generate",
        data={
            "csrf_token": csrf_of(page.text),
            "template": "two-party-contract",
            "seal_id": seal["id"],
            "data": json.dumps(records, ensure_ascii=False),
        },
        follow_redirects=False,
    )
    assert many.status_code == 303, many.text
    job_url = many.headers["location"]
    assert job_url.startswith("/console/jobs/")
    deadline = time.monotonic() + 60
    while True:
        job = signer.get(job_url).text
        if 'data-status="completed"' in job or time.monotonic() > deadline:
            break
        assert '<meta http-equiv="refresh"' in job  # the page keeps itself current
        time.sleep(0.5)
    assert 'data-status="completed"' in job
    assert '<progress id="job-progress" max="3" value="3">' in job
    assert job.count("已盖章") == 2 and "失败" in job
    assert '<meta http-equiv="refresh"' not in job


def test_webhook_deliveries_page(console_org: ConsoleOrg, signed_in: Login) -> None:
    admin = signed_in(console_org.users["org_admin"])
    page = admin.get("/console/webhooks")
    assert page.status_code == 200 and 'id="deliveries"' in page.text
    assert "Webhook 通知尚未开放" not in page.text
    auditor = signed_in(console_org.users["auditor"])
    assert auditor.get("/console/webhooks").status_code == 403
