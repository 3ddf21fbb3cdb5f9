"""Logs are JSON with a request id, and never carry keys, passwords or full ID numbers."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.logs import JsonFormatter, redact
from tests.conftest import auth, make_resident_id


def test_redaction_of_secrets_and_id_numbers() -> None:
    rid = make_resident_id()
    line = redact(f"key esk_0123456789ab_SECRETSECRET Bearer abc.def id {rid} password=hunter2")
    assert "SECRETSECRET" not in line and "abc.def" not in line and "hunter2" not in line
    assert rid not in line and rid[:6] in line


def test_request_logs_are_json_without_secrets(
    client: TestClient, new_org: Any, org_key: Any, caplog: pytest.LogCaptureFixture
) -> None:
    org = new_org()
    key = org_key(org["id"])
    rid = make_resident_id()
    with caplog.at_level(logging.INFO):
        client.post(
            f"/api/v1/organizations/{org['id']}/members",
            json={"name": "日志人", "resident_id": rid, "roles": ["signer"]},
            headers={**auth(key), "X-Request-ID": "log-test-1"},
        )
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    parsed = [json.loads(line) for line in lines]
    access = [p for p in parsed if p["logger"] == "eseal.access"]
    assert access and access[-1]["request_id"] == "log-test-1"
    assert access[-1]["status"] == 201
    text = "\n".join(lines)
    assert key not in text and rid not in text
