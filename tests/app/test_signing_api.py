"""Sealing PDFs through the HTTP API with registered seals: levels and placements, checked by
pdfsig, qpdf and our own verification endpoint; approvals, idempotency and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient

from tests.conftest import auth
from tests.seals_registry.util import Org, make_org, problem_code, sha
from tests.seals_signing.tools import (
    pdfsig_blocks,
    qpdf_check,
    red_pixels,
    render_page,
)

A4_MM = (210, 297)  # make_document's page size


@pytest.fixture(scope="module")
def nssdb(live_server: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An NSS database that trusts our root, as a relying party would set it up."""
    from cryptography import x509

    directory = tmp_path_factory.mktemp("nss")
    root = directory / "root.pem"
    root.write_bytes(
        x509.load_der_x509_certificate(
            httpx.get(f"{live_server}/pki/ca/root.crt").content
        ).public_bytes(Encoding.PEM)
    )
    for command in (
        ["certutil", "-N", "-d", f"sql:{directory}", "--empty-password"],
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{directory}",
            "-n",
            "eseal-root",
            "-t",
            "CT,C,C",
            "-i",
            str(root),
        ],
    ):
        subprocess.run(command, check=True, capture_output=True)
    return f"sql:{directory}"


@pytest.fixture()
def org(client: TestClient, new_org: Any, org_key: Any, platform_key: str) -> Org:
    return make_org(client, new_org, org_key, platform_key)


def _signer(org: Org, seal_id: str, **limits: Any) -> str:
    client_id, key = org.key("seals:read", "seals:use")
    org.grant(seal_id, "client", client_id, **limits)
    return key


def _sign(
    client: TestClient,
    key: str,
    seal_id: str,
    pdf: bytes,
    placement: dict[str, Any],
    level: str = "B-LT",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    return client.post(
        f"/api/v1/seals/{seal_id}/sign",
        files={"file": ("合同.pdf", pdf, "application/pdf")},
        data={"placement": json.dumps(placement, ensure_ascii=False), "level": level, **fields},
        headers={**auth(key), **(headers or {})},
    )


def _verify(client: TestClient, pdf: bytes) -> dict[str, Any]:
    response = client.post("/api/v1/verify", content=pdf)
    assert response.status_code == 200
    return dict(response.json())


@pytest.mark.interop
@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_each_level_is_accepted_by_pdfsig_qpdf_and_our_verifier(
    client: TestClient, org: Org, contract_pdf: bytes, nssdb: str, tmp_path: Path, level: str
) -> None:
    seal = org.seal("contract")
    key = _signer(org, seal["id"])
    response = _sign(
        client,
        key,
        seal["id"],
        contract_pdf,
        {"type": "coordinates", "page": 1, "x_mm": 150, "y_mm": 240},
        level=level,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    sealed = response.content
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)

    text = subprocess.run(
        ["pdfsig", "-nssdir", nssdb, str(path)], capture_output=True, text=True, timeout=60
    ).stdout
    blocks = pdfsig_blocks(text)
    assert "Signature Validation: Signature is Valid." in blocks[0], text
    assert "Certificate Validation: Certificate is Trusted." in blocks[0], text
    if level in ("B-B", "B-T"):
        assert "Total document signed" in blocks[-1], text
    assert qpdf_check(path).returncode == 0

    report = _verify(client, sealed)
    assert report["indication"] == "TOTAL_PASSED", report
    signature = report["signatures"][0]
    assert signature["pades_level"] == level
    assert signature["seal"]["code"] == seal["code"]
    assert signature["seal"]["status"] == "active"

    stored = client.get(
        f"/api/v1/documents/{response.headers['x-eseal-document-id']}", headers=auth(key)
    )
    assert stored.content == sealed


def test_keyword_and_riding_seals_land_where_asked(
    client: TestClient, org: Org, contract_pdf: bytes
) -> None:
    seal = org.seal("contract")
    key = _signer(org, seal["id"])
    first = _sign(
        client,
        key,
        seal["id"],
        contract_pdf,
        {"type": "keyword", "keyword": "乙方（盖章）"},
        level="B-T",
    )
    assert first.status_code == 200, first.text
    riding = _sign(client, key, seal["id"], first.content, {"type": "cross_page"}, level="B-T")
    assert riding.status_code == 200, riding.text
    for page in (0, 1):
        image = render_page(riding.content, page)
        edge = red_pixels(image, region_mm=(A4_MM[0] - 30, 0, A4_MM[0], A4_MM[1]))
        assert edge is not None and edge.count > 50, f"no riding seal slice on page {page + 1}"
    report = _verify(client, riding.content)
    assert report["indication"] == "TOTAL_PASSED", report
    assert len(report["signatures"]) == 2


def test_two_parties_seal_in_turn_and_both_stay_valid(
    client: TestClient, new_org: Any, org_key: Any, platform_key: str, contract_pdf: bytes
) -> None:
    buyer = make_org(client, new_org, org_key, platform_key, name="杭州市某采购中心")
    supplier = make_org(client, new_org, org_key, platform_key, name="深圳某建设有限公司")
    supplier_seal = supplier.seal("contract")
    buyer_seal = buyer.seal("contract")
    first = _sign(
        client,
        _signer(supplier, supplier_seal["id"]),
        supplier_seal["id"],
        contract_pdf,
        {"type": "keyword", "keyword": "乙方（盖章）"},
    )
    assert first.status_code == 200, first.text
    assert _verify(client, first.content)["indication"] == "TOTAL_PASSED"
    second = _sign(
        client,
        _signer(buyer, buyer_seal["id"]),
        buyer_seal["id"],
        first.content,
        {"type": "keyword", "keyword": "甲方（盖章）"},
    )
    assert second.status_code == 200, second.text
    report = _verify(client, second.content)
    assert report["indication"] == "TOTAL_PASSED", report
    owners = [s["seal"]["owner"] for s in report["signatures"]]
    assert owners == ["深圳某建设有限公司", "杭州市某采购中心"]


def test_certified_document_refuses_further_seals(
    client: TestClient, org: Org, contract_pdf: bytes
) -> None:
    seal = org.seal("official")
    key = _signer(org, seal["id"])
    certified = _sign(
        client,
        key,
        seal["id"],
        contract_pdf,
        {"type": "coordinates", "page": 1, "x_mm": 100, "y_mm": 100},
        level="B-T",
        certify="no-changes",
    )
    assert certified.status_code == 200, certified.text
    again = _sign(client, key, seal["id"], certified.content, {"type": "invisible"}, level="B-B")
    assert again.status_code == 409
    assert problem_code(again) == "document-locked"


def test_idempotent_retry_returns_the_first_result_and_spends_once(
    client: TestClient, org: Org, contract_pdf: bytes
) -> None:
    seal = org.seal("contract")
    key = _signer(org, seal["id"], max_uses=1)
    placement = {"type": "coordinates", "page": 1, "x_mm": 100, "y_mm": 100}
    headers = {"Idempotency-Key": "order-2026-0001"}
    first = _sign(client, key, seal["id"], contract_pdf, placement, level="B-T", headers=headers)
    retry = _sign(client, key, seal["id"], contract_pdf, placement, level="B-T", headers=headers)
    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.headers["x-eseal-document-id"] == first.headers["x-eseal-document-id"]
    other = _sign(
        client, key, seal["id"], contract_pdf, {"type": "invisible"}, level="B-T", headers=headers
    )
    assert other.status_code == 409
    fresh = _sign(client, key, seal["id"], contract_pdf, placement, level="B-T")
    assert fresh.status_code == 403 and problem_code(fresh) == "seal-grant-exhausted"


def test_a_retry_that_missed_the_first_result_when_it_read_still_spends_nothing(
    client: TestClient, org: Org, contract_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry read before the first request committed (as a concurrent duplicate does):
    it signs, then finds the key held when it records, and answers the first result
    without a second document or a second use."""
    import app.sealing_staged

    seal = org.seal("contract")
    key = _signer(org, seal["id"], max_uses=2)
    headers = {"Idempotency-Key": "order-2026-0002"}
    first = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, "B-B", headers)
    assert first.status_code == 200, first.text
    monkeypatch.setattr(app.sealing_staged, "replayed", lambda *_a, **_k: None)
    late = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, "B-B", headers)
    assert late.status_code == 200, late.text
    assert late.headers["idempotent-replayed"] == "true"
    assert late.headers["x-eseal-document-id"] == first.headers["x-eseal-document-id"]
    assert late.content == first.content
    shown = {"type": "coordinates", "page": 1, "x_mm": 100, "y_mm": 100}
    other = _sign(client, key, seal["id"], contract_pdf, shown, "B-B", headers)
    assert other.status_code == 409  # the same key for another request
    fresh = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, "B-B")
    assert fresh.status_code == 200, fresh.text  # the grant's second use was still there
    spent = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, "B-B")
    assert spent.status_code == 403 and problem_code(spent) == "seal-grant-exhausted"


def test_bad_input_is_refused_and_spends_no_approval(
    client: TestClient, org: Org, contract_pdf: bytes
) -> None:
    seal = org.seal("contract")
    client.patch(
        f"/api/v1/seals/{seal['id']}", json={"requires_approval": True}, headers=auth(org.admin)
    )
    signer_id, key = org.key("seals:read", "seals:use")
    org.grant(seal["id"], "client", signer_id)
    approver = org.admin

    missing = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"})
    assert missing.status_code == 403, missing.text
    assert "approv" in problem_code(missing)

    request = client.post(
        f"/api/v1/seals/{seal['id']}/usage-requests",
        json={"purpose": "采购合同盖章", "document_sha256": sha(contract_pdf), "copies": 2},
        headers=auth(key),
    )
    assert request.status_code == 201, request.text
    decided = client.post(
        f"/api/v1/usage-requests/{request.json()['id']}/approve",
        json={"note": "同意"},
        headers=auth(approver),
    )
    assert decided.status_code == 200, decided.text

    cases = [
        ({"type": "keyword", "keyword": "丙方（盖章）"}, 422, "keyword-not-found"),
        ({"type": "coordinates", "page": 9, "x_mm": 10, "y_mm": 10}, 422, "page-out-of-range"),
        ({"type": "coordinates", "page": 1, "x_mm": 1, "y_mm": 1}, 422, "placement-outside-page"),
        ({"type": "stamp-anywhere"}, 422, "invalid-input"),
    ]
    for placement, status, code in cases:
        refused = _sign(client, key, seal["id"], contract_pdf, placement)
        assert (refused.status_code, problem_code(refused)) == (status, code), refused.text
    not_pdf = client.post(
        f"/api/v1/seals/{seal['id']}/sign",
        files={"file": ("x.pdf", b"GIF89a not a pdf", "application/pdf")},
        data={"placement": '{"type": "invisible"}'},
        headers=auth(key),
    )
    assert not_pdf.status_code in (403, 422)  # a different document hash has no approval

    ok = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"})
    assert ok.status_code == 200, ok.text
    spent = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"})
    assert spent.status_code in (403, 409)


def test_not_a_pdf_with_a_plain_grant(client: TestClient, org: Org) -> None:
    seal = org.seal("contract")
    key = _signer(org, seal["id"], max_uses=1)
    for body, code in ((b"GIF89a", "not-a-pdf"), (b"%PDF-1.7\n garbage", "damaged-pdf")):
        response = client.post(
            f"/api/v1/seals/{seal['id']}/sign",
            files={"file": ("x.pdf", body, "application/pdf")},
            data={"placement": '{"type": "invisible"}'},
            headers=auth(key),
        )
        assert (response.status_code, problem_code(response)) == (422, code), response.text
    still = client.post(
        f"/api/v1/seals/{seal['id']}/use-check",
        json={"document_sha256": sha("any")},
        headers=auth(key),
    )
    assert still.status_code == 200, "a refused signing must not use up the grant"


def test_an_unsupported_signature_format_is_its_own_problem(
    client: TestClient, org: Org, contract_pdf: bytes
) -> None:
    seal = org.seal("contract")
    key = _signer(org, seal["id"], max_uses=1)
    refused = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, format="xades")
    assert (refused.status_code, problem_code(refused)) == (422, "unsupported-signature-format")
    assert "pades" in refused.json()["detail"] and "gbt38540" in refused.json()["detail"]
    pades = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, format="pades")
    assert pades.status_code == 200, "the refused request must not have used up the grant"


def test_another_organizations_seal_is_404(
    client: TestClient,
    org: Org,
    new_org: Any,
    org_key: Any,
    platform_key: str,
    contract_pdf: bytes,
) -> None:
    other = make_org(client, new_org, org_key, platform_key, name="别家公司")
    their_seal = other.seal("contract")
    _, my_key = org.key("seals:use")
    response = _sign(client, my_key, their_seal["id"], contract_pdf, {"type": "invisible"})
    assert response.status_code == 404


def test_every_use_is_audited(client: TestClient, org: Org, contract_pdf: bytes) -> None:
    seal = org.seal("finance")
    key = _signer(org, seal["id"])
    sealed = _sign(client, key, seal["id"], contract_pdf, {"type": "invisible"}, level="B-B")
    assert sealed.status_code == 200
    events = client.get(
        "/api/v1/audit/events",
        params={"action": "seal.use", "target_id": seal["id"]},
        headers=auth(org.admin),
    ).json()
    assert len(events) == 1
    details = json.loads(events[0]["details"])
    assert details["document_id"] == sealed.headers["x-eseal-document-id"]
    assert details["signed_sha256"] == sealed.headers["x-eseal-document-sha256"]


def test_personal_signature_needs_its_owners_pin(
    client: TestClient, org: Org, contract_pdf: bytes
) -> None:
    person = org.member("赵敏")
    seal = org.seal("personal", person_id=person)
    portal_id, portal = org.key("seals:use", "seals:write")
    org.grant(seal["id"], "client", portal_id)
    set_pin = client.put(
        f"/api/v1/seals/{seal['id']}/pin", json={"pin": "602913"}, headers=auth(portal)
    )
    assert set_pin.status_code == 200, set_pin.text
    placement = {"type": "coordinates", "page": 1, "x_mm": 60, "y_mm": 240}
    without = _sign(client, portal, seal["id"], contract_pdf, placement, level="B-T")
    assert (without.status_code, problem_code(without)) == (403, "seal-pin-required")
    wrong = _sign(client, portal, seal["id"], contract_pdf, placement, level="B-T", pin="000001")
    assert (wrong.status_code, problem_code(wrong)) == (403, "seal-pin-wrong")
    right = _sign(client, portal, seal["id"], contract_pdf, placement, level="B-T", pin="602913")
    assert right.status_code == 200, right.text
    report = _verify(client, right.content)
    assert report["indication"] == "TOTAL_PASSED", report
    signer = report["signatures"][0]["signer"]
    assert "*" in json.dumps(signer, ensure_ascii=False)  # the resident ID number is masked
    assert report["signatures"][0]["seal"]["owner"] == "赵*"


@pytest.mark.parametrize("level", ["B-T", "B-LT"])
def test_kept_signers_never_outlive_a_change_to_the_seal_grant_or_certificate(
    client: TestClient, org: Org, contract_pdf: bytes, level: str
) -> None:
    """The seal worker keeps the unlocked signer, time-stamper and B-LT material between
    sealings (issue 12); none of it may let a suspended seal, a withdrawn grant or a revoked
    certificate seal even once more."""
    seal = org.seal("contract")
    key = _signer(org, seal["id"])
    invisible = {"type": "invisible"}
    for _ in range(2):  # the second one is served from what the worker keeps
        assert _sign(client, key, seal["id"], contract_pdf, invisible, level).status_code == 200

    admin = auth(org.admin)
    assert client.post(f"/api/v1/seals/{seal['id']}/suspend", headers=admin).status_code == 200
    refused = _sign(client, key, seal["id"], contract_pdf, invisible, level)
    assert refused.status_code in (403, 409) and problem_code(refused) == "seal-not-active"
    assert client.post(f"/api/v1/seals/{seal['id']}/reactivate", headers=admin).status_code == 200
    again = _sign(client, key, seal["id"], contract_pdf, invisible, level)
    assert again.status_code == 200
    assert _verify(client, again.content)["indication"] == "TOTAL_PASSED"

    other = org.seal("finance")
    other_key = _signer(org, other["id"])
    assert _sign(client, other_key, other["id"], contract_pdf, invisible, level).status_code == 200
    grants = client.get(f"/api/v1/seals/{other['id']}/grants", headers=admin).json()
    for grant in grants:
        withdrawn = client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=admin)
        assert withdrawn.status_code == 200, withdrawn.text
    gone = _sign(client, other_key, other["id"], contract_pdf, invisible, level)
    assert gone.status_code == 403, gone.text

    revoked = client.post(
        f"/api/v1/seals/{seal['id']}/revoke", json={"reason": "测试吊销"}, headers=admin
    )
    assert revoked.status_code == 200, revoked.text
    after = _sign(client, key, seal["id"], contract_pdf, invisible, level)
    assert after.status_code in (403, 409), after.text
