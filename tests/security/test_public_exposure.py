"""Finding 5 (public page) of issue 10: `/verify?d={id}` showed the page thumbnail of an
unsigned console draft. The public page now shows sealed documents only."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.console.conftest import csrf_of, make_console_org
from tests.support.documents import contract_pdf


def test_a_console_draft_is_not_shown_on_the_public_page(
    app: Any, client: TestClient, platform_key: str, signed_in: Any
) -> None:
    org = make_console_org(client, platform_key, "草稿公开测试有限公司")
    signer = signed_in(org.users["signer"])
    draft = contract_pdf(1, title="未签署的内部草稿", paragraphs=("保密内容",))
    page = signer.get("/console/sign")
    uploaded = signer.post(
        "/console/sign/upload",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("草稿.pdf", draft, "application/pdf")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    draft_id = uploaded.headers["location"].rstrip("/").split("/")[-1]
    assert signer.get(f"/console/documents/{draft_id}").status_code == 200  # it exists

    anonymous = TestClient(app)
    shown = anonymous.get(f"/verify?d={draft_id}")
    assert shown.status_code == 404
    assert "data:image/png" not in shown.text and "<img" not in shown.text.split("<main", 1)[-1]
    for kind in ("pdf", "json"):
        report = anonymous.get(f"/verify/report.{kind}?d={draft_id}")
        assert report.status_code == 404, kind
