"""CRL, OCSP and CA-issuer URLs are plain http even when the service is public over https."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from pydantic import ValidationError

from app.bootstrap import initialise
from app.db import unit_of_work
from app.settings import Settings
from app.wiring import build_services
from pki.authority import EnterpriseIdentity
from pki.profiles import CaName


def _urls(cert: x509.Certificate) -> list[str]:
    urls = []
    for point in cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value:
        urls += [str(name.value) for name in point.full_name or []]
    access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    urls += [str(a.access_location.value) for a in access]
    return urls


def test_https_public_base_still_yields_http_pki_urls(tmp_path: Path) -> None:
    """`eseal init` and issuance with ESEAL_PUBLIC_BASE_URL=https://...: every published URL
    in the issuing CA and in a seal certificate is http:// on the same host."""
    settings = Settings(data_dir=tmp_path, public_base_url="https://seal.example.gov.cn")
    assert settings.resolved_pki_base_url == "http://seal.example.gov.cn"
    initialise(settings)
    services = build_services(settings)
    with unit_of_work(services.engine) as session:
        issued = services.authority.issue(
            session, identity=EnterpriseIdentity(name="某某公司", uscc="91330106MA2B3C4D5D")
        )
        issuing = services.authority.ca_certificate(session, CaName.ORGANIZATION)
    for cert in (issued.certificate, issuing):
        urls = _urls(cert)
        assert urls and all(u.startswith("http://seal.example.gov.cn/pki/") for u in urls), urls


def test_explicit_pki_base_and_production_refuses_https() -> None:
    explicit = Settings(
        public_base_url="https://seal.example.gov.cn", pki_base_url="http://pki.example.gov.cn"
    )
    assert explicit.resolved_pki_base_url == "http://pki.example.gov.cn"
    production = Settings(
        environment="production",
        master_key="A" * 44,
        policy_oid="1.2.156.9.1",
        public_base_url="https://x.example",
    )
    assert production.resolved_pki_base_url == "http://x.example"
    with pytest.raises(ValidationError, match="PKI_BASE_URL must be plain http"):
        Settings(
            environment="production",
            master_key="A" * 44,
            policy_oid="1.2.156.9.1",
            pki_base_url="https://pki.example.gov.cn",
        )
