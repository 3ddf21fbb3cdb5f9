"""Settings refuse insecure production; health and readiness endpoints."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app
from app.settings import Settings


def test_production_refuses_development_secrets() -> None:
    with pytest.raises(ValidationError, match="no master key configured"):
        Settings(environment="production", policy_oid="1.2.156.9999.1")
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(
            environment="production",
            master_key="A" * 44,
            policy_oid="1.2.156.9999.1",
            cookie_secure=False,
        )
    with pytest.raises(ValidationError, match="POLICY_OID"):
        Settings(
            environment="production",
            master_key="A" * 44,
            public_base_url="https://seal.example.gov.cn",
        )


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production",
        master_key="A" * 44,
        public_base_url="https://seal.example.gov.cn",
        policy_oid="1.2.156.9999.1",
    )
    assert settings.environment == "production"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("ESEAL_DATA_DIR", "/srv/eseal")
    monkeypatch.setenv("ESEAL_MAX_BODY_BYTES", "1234")
    settings = Settings()
    assert str(settings.data_dir) == "/srv/eseal"
    assert settings.max_body_bytes == 1234
    assert settings.resolved_database_url == "sqlite:////srv/eseal/eseal.db"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


def test_readiness_fails_when_the_database_is_unreachable(tmp_path: object) -> None:
    settings = Settings(
        data_dir=tmp_path,  # type: ignore[arg-type]
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    app = create_app(settings, migrate_on_start=False)
    with TestClient(app) as test_client:
        response = test_client.get("/readyz")
    assert response.status_code == 503
