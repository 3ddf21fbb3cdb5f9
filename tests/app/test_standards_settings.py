"""Settings of issue 17 reach what they govern: ESEAL_QC_COMPLIANCE / ESEAL_QC_SSCD put the
QcCompliance / QcSSCD statements into issued seal certificates (off by default: the claim
would be untrue for a service that is not a qualified trust service), and ESEAL_PADES_VRI is
on by default."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography import x509

from app.bootstrap import initialise
from app.db import unit_of_work
from app.settings import Settings
from app.wiring import build_services
from pki.authority import EnterpriseIdentity
from pki.qcstatements import QC_COMPLIANCE, QC_SSCD, QC_STATEMENTS_OID, QC_TYPE, read_qc_statements


def _statements(settings: Settings) -> set[object]:
    initialise(settings)
    services = build_services(settings)
    with unit_of_work(services.engine) as session:
        issued = services.authority.issue(
            session, identity=EnterpriseIdentity(name="某某公司", uscc="91330106MA2B3C4D5D")
        )
    ext = issued.certificate.extensions.get_extension_for_oid(QC_STATEMENTS_OID).value
    assert isinstance(ext, x509.UnrecognizedExtension)
    return set(read_qc_statements(ext.value))


@pytest.mark.parametrize("qualified", [False, True])
def test_qc_settings_reach_the_seal_certificate(tmp_path: Path, qualified: bool) -> None:
    settings = Settings(data_dir=tmp_path, qc_compliance=qualified, qc_sscd=qualified)
    statements = _statements(settings)
    assert QC_TYPE in statements
    assert (QC_COMPLIANCE in statements) is qualified
    assert (QC_SSCD in statements) is qualified


def test_vri_is_on_by_default_and_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().pades_vri is True
    monkeypatch.setenv("ESEAL_PADES_VRI", "false")
    assert Settings().pades_vri is False


def test_an_https_pki_base_outside_production_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Production refuses it (test_pki_urls.py); a test or staging deployment may use it, but
    the operator is told at start that its certificates will carry https CRL/AIA URLs."""
    plain = Settings(data_dir=tmp_path / "plain", public_base_url="https://seal.example.gov.cn")
    with caplog.at_level(logging.WARNING, logger="app.wiring"):
        build_services(plain)
    assert not [r for r in caplog.records if "ESEAL_PKI_BASE_URL" in r.getMessage()]
    https = Settings(data_dir=tmp_path / "https", pki_base_url="https://pki.example.gov.cn")
    with caplog.at_level(logging.WARNING, logger="app.wiring"):
        build_services(https)
    warned = [r for r in caplog.records if "ESEAL_PKI_BASE_URL" in r.getMessage()]
    assert warned and "https://pki.example.gov.cn" in warned[0].getMessage()
