"""Fixtures for keys in a SoftHSM2 token: one token configuration per test session."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pki.pkcs11_store import Pkcs11Config
from tests.softhsm import USER_PIN, init_token, softhsm_conf, softhsm_module


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SoftHSM2 module, with SOFTHSM2_CONF pointing at this session's token folder."""
    module = softhsm_module()
    softhsm_conf(tmp_path_factory.mktemp("hsm"))
    return module


@pytest.fixture(scope="session")
def token(softhsm: Path) -> Pkcs11Config:
    """This session's token (SoftHSM lists its tokens once per process, at initialisation)."""
    label = f"t-{uuid.uuid4().hex[:12]}"
    init_token(label)
    return Pkcs11Config(module=softhsm, token_label=label, pin=USER_PIN)
