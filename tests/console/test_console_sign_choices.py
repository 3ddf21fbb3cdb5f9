"""The sign page offers only the seals the signer can use (a grant, or their own personal
seal), the 申请用印 form lists those of them that need approval, and a keyword placement can
be moved by an offset (a personal seal beside the company seal, not over it)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.console.conftest import (
    ConsoleOrg,
    csrf_of,
    grant_person,
    make_seal,
    upload_for_signing,
)

Login = Callable[[str], TestClient]


def _options(html: str, select_id: str) -> set[str]:
    block = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    return set(re.findall(r'<option value="([^"]+)"', block.group(1))) if block else set()


def _widget_x(pdf: bytes) -> float:
    reader = PdfFileReader(io.BytesIO(pdf))
    sig = reader.embedded_signatures[0]
    rect = sig.sig_field["/Kids"][0]["/Rect"] if "/Kids" in sig.sig_field else None
    rect = rect or sig.sig_field["/Rect"]
    return float(rect[0])


def test_only_usable_seals_are_offered_and_keyword_offsets_move_the_seal(
    client: TestClient, platform_key: str, console_org: ConsoleOrg, signed_in: Login
) -> None:
    granted = make_seal(client, platform_key, console_org.id, "青禾合同章（可用）")
    needs_approval = make_seal(
        client, platform_key, console_org.id, "青禾公章（需审批）", kind="official",
        requires_approval=True,
    )  # fmt: skip
    not_granted = make_seal(client, platform_key, console_org.id, "青禾财务章（无授权）")
    for seal in (granted, needs_approval):
        grant_person(client, platform_key, seal["id"], console_org.people["signer"])

    signer = signed_in(console_org.users["signer"])
    document_id = upload_for_signing(signer)
    form = signer.get(f"/console/sign/{document_id}").text
    offered = _options(form, "seal")
    assert granted["id"] in offered and needs_approval["id"] in offered
    assert not_granted["id"] not in offered
    assert _options(form, "req-seal") == {needs_approval["id"]}
    assert "青禾财务章（无授权）" in form and 'id="seals-without-grant"' in form

    def sign(**fields: str) -> bytes:
        page = signer.get(f"/console/sign/{document_id}").text
        done = signer.post(
            f"/console/sign/{document_id}",
            data={
                "csrf_token": csrf_of(page),
                "seal_id": granted["id"],
                "mode": "keyword",
                "keyword": "乙方（盖章）",
                "level": "B-B",
                **fields,
            },
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        signed_id = done.headers["location"].rsplit("/", 1)[1]
        return bytes(signer.get(f"/console/documents/{signed_id}/download").content)

    centred = _widget_x(sign())
    moved = _widget_x(sign(offset_x_mm="50"))
    assert abs((moved - centred) - 50 / 25.4 * 72) < 1.0  # 50 mm to the right, in points


def test_a_signer_without_grants_is_told_whom_to_ask(
    client: TestClient, platform_key: str, signed_in: Login
) -> None:
    from tests.console.conftest import make_console_org

    org = make_console_org(client, platform_key, "宁波某贸易有限公司")
    make_seal(client, platform_key, org.id, "宁波合同章")
    signer = signed_in(org.users["signer"])
    form = signer.get(f"/console/sign/{upload_for_signing(signer)}").text
    assert 'id="no-usable-seal"' in form and "印章管理员" in form
    assert _options(form, "seal") == set()
