"""Finding 6 of issue 10: with network fetching on, an anonymous verification made the
service fetch URLs from an attacker's certificate -- loopback and link-local included --
although the chain reached no trusted anchor; webhooks could target loopback in development.

Replayed through POST /api/v1/verify against a listening loopback socket: nothing connects
unless the chain reaches a recognised anchor *and* the destination is public or explicitly
allowed (`outbound_allowed_hosts`, which the shared test settings use for 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.main import create_app
from seals.signing import PadesLevel
from tests.app.test_verify_api import BlackHole, _sign_with_foreign, build_foreign_ca
from tests.conftest import auth


@pytest.fixture(scope="module")
def contract() -> bytes:
    from seals.documents import make_document
    from seals.fonts import find_cjk_font

    font = find_cjk_font()
    return make_document(
        title="合同", paragraphs=["外省签章"], font_path=font.path, font_number=font.index, pages=1
    )


def _fetching(settings: Any, *allowed: str) -> TestClient:
    online = settings.model_copy(
        update={
            "verify_network_fetching": True,
            "verify_network_timeout_seconds": 1.0,
            "outbound_allowed_hosts": list(allowed),
        }
    )
    return TestClient(create_app(online, migrate_on_start=False))


def test_an_unrecognised_chain_fetches_nothing(
    client: TestClient, settings: Any, contract: bytes, tmp_path: Path
) -> None:
    hole = BlackHole()
    try:
        attacker = build_foreign_ca(tmp_path, f"http://127.0.0.1:{hole.port}")
        pdf = _sign_with_foreign(attacker, contract, level=PadesLevel.B_T)
        with _fetching(settings, "127.0.0.1") as fetching:  # even with loopback allowed
            report = fetching.post("/api/v1/verify", content=pdf).json()
        assert report["sub_indication"] == "NO_CERTIFICATE_CHAIN_FOUND", report
        assert hole.connections == []
    finally:
        hole.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_recognised_ca_at_a_private_address_is_not_fetched(
    client: TestClient, settings: Any, platform_key: str, contract: bytes, tmp_path: Path, host: str
) -> None:
    hole = BlackHole()
    try:
        foreign = build_foreign_ca(tmp_path, f"http://{host}:{hole.port}")
        pdf = _sign_with_foreign(foreign, contract, level=PadesLevel.B_T)
        with Session(foreign.engine) as session:
            root = foreign.authority.ca_certificate(session, "root").public_bytes(Encoding.PEM)
        added = client.post(
            "/api/v1/trust-anchors",
            json={"label": f"内网CA {host}", "certificate_pem": root.decode()},
            headers=auth(platform_key),
        ).json()
        try:
            with _fetching(settings) as fetching:  # nothing allowed: public addresses only
                report = fetching.post("/api/v1/verify", content=pdf)
            assert report.status_code == 200, report.text
            assert report.json()["indication"] == "INDETERMINATE"
            assert hole.connections == []
        finally:
            client.delete(f"/api/v1/trust-anchors/{added['id']}", headers=auth(platform_key))
    finally:
        hole.close()


def test_webhooks_cannot_target_private_addresses_in_development(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.errors import InvalidInput
    from app.services.webhooks import check_url

    settings = app.state.settings
    assert settings.environment == "development"
    monkeypatch.setattr(settings, "outbound_allowed_hosts", [])
    for url in (
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.0.0.8/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
    ):
        with pytest.raises(InvalidInput):
            check_url(url, settings=settings)
    assert check_url("http://erp.example.com/hooks", settings=settings)
