"""Custom seal kinds: a hospital names 医保结算专用章, gets a seal of it in the standard
layout, and that seal is shown and verified under its own name (not 合同专用章)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.scenarios.helpers import sign
from tests.seals_registry.util import TEST_DPI, Org, make_org, problem_code
from tests.support.documents import contract_pdf


def _hospital(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key, name="杭州市第一人民医院")


def _kind(client: TestClient, org: Org, label: str) -> Any:
    return client.post(
        f"/api/v1/organizations/{org.id}/seal-kinds", json={"label": label}, headers=auth(org.admin)
    )


def test_a_settlement_seal_is_shown_and_verified_by_its_own_name(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, tmp_path: Path
) -> None:
    hospital = _hospital(client, new_org, org_key, platform_key)
    kind = _kind(client, hospital, "医保结算专用章")
    assert kind.status_code == 201, kind.text
    made = client.post(
        f"/api/v1/organizations/{hospital.id}/seal-kinds/{kind.json()['id']}/seals",
        json={"dpi": TEST_DPI},
        headers=auth(hospital.admin),
    )
    assert made.status_code == 201, made.text
    seal = made.json()
    assert (seal["kind"], seal["kind_label"]) == ("business", "医保结算专用章")
    assert seal["name"] == "杭州市第一人民医院医保结算专用章"
    activated = client.post(f"/api/v1/seals/{seal['id']}/activate", headers=auth(hospital.admin))
    assert activated.status_code == 200, activated.text
    listed = client.get(
        f"/api/v1/organizations/{hospital.id}/seal-kinds", headers=auth(hospital.admin)
    ).json()
    assert [k["label"] for k in listed] == ["医保结算专用章"]

    public = client.get(f"/api/v1/public/seals/{seal['code']}").json()
    assert public["kind_label"] == "医保结算专用章" and public["kind"] == "business"

    client_id, key = hospital.key("seals:read", "seals:use")
    hospital.grant(seal["id"], "client", client_id)
    signed = sign(client, key, seal["id"], contract_pdf(1), level="B-T")
    assert signed.status_code == 200, signed.text
    report = client.post("/api/v1/verify", content=signed.content).json()
    assert report["indication"] == "TOTAL_PASSED", report
    assert report["signatures"][0]["seal"]["kind_label"] == "医保结算专用章"
    page = client.post("/verify", files={"file": ("a.pdf", signed.content, "application/pdf")})
    assert page.status_code == 200 and "医保结算专用章" in page.text
    assert "合同专用章" not in page.text
    # the PDF report too (pdftotext comes with poppler-utils, which the tests install)
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is missing"
    report_pdf = client.post("/api/v1/verify?format=pdf", content=signed.content).content
    (tmp_path / "r.pdf").write_bytes(report_pdf)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "医保结算专用章" in text


def test_kind_names_are_checked_and_stay_within_their_organization(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str
) -> None:
    hospital = _hospital(client, new_org, org_key, platform_key)
    for label, status, code in (
        ("HR seal", 422, "invalid-input"),
        ("人事专用", 422, "invalid-input"),
        ("合同专用章", 409, "conflict"),
    ):
        response = _kind(client, hospital, label)
        assert response.status_code == status, (label, response.text)
        assert problem_code(response) == code
    assert _kind(client, hospital, "人事专用章").status_code == 201
    again = _kind(client, hospital, "人事专用章")
    assert again.status_code == 409
    kind_id = client.get(
        f"/api/v1/organizations/{hospital.id}/seal-kinds", headers=auth(hospital.admin)
    ).json()[0]["id"]
    other = make_org(client, new_org, org_key, platform_key, name="别的医院")
    stolen = client.post(
        f"/api/v1/organizations/{other.id}/seal-kinds/{kind_id}/seals",
        json={"dpi": TEST_DPI},
        headers=auth(other.admin),
    )
    assert stolen.status_code == 404
    peek = client.get(f"/api/v1/organizations/{hospital.id}/seal-kinds", headers=auth(other.admin))
    assert peek.status_code == 404
