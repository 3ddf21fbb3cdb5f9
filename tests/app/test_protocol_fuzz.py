"""Random and truncated bodies to the protocol endpoints: always a protocol answer, never a 500."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pki.tsa import TimeStampResp

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(body=st.binary(max_size=600))
def test_ocsp_post_answers_everything(client: TestClient, body: bytes) -> None:
    from asn1crypto import ocsp

    response = client.post(
        "/pki/ocsp", content=body, headers={"content-type": "application/ocsp-request"}
    )
    assert response.status_code == 200
    assert ocsp.OCSPResponse.load(response.content)["response_status"].native in (
        "malformed_request",
        "unauthorized",
        "successful",
    )


@FUZZ
@given(path=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=200))
def test_ocsp_get_answers_every_path(client: TestClient, path: str) -> None:
    response = client.get("/pki/ocsp/" + path.replace("?", "").replace("#", "").lstrip("/"))
    assert response.status_code < 500


@FUZZ
@given(body=st.binary(max_size=600))
def test_tsa_answers_everything(client: TestClient, body: bytes) -> None:
    response = client.post(
        "/pki/tsa", content=body, headers={"content-type": "application/timestamp-query"}
    )
    assert response.status_code == 200
    assert TimeStampResp.load(response.content)["status"]["status"].native == "rejection"
