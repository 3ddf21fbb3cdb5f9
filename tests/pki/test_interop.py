"""Our certificates checked by tools we did not write: openssl verify and pkilint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from pki.authority import EnterpriseIdentity, PersonIdentity
from tests.pki.conftest import (
    FIXED_NOW,
    PkiFixture,
    build_pki,
    run_tool,
    write_pem,
)

pytestmark = pytest.mark.interop

ACME = EnterpriseIdentity(name="杭州某某科技有限公司", uscc="91330106MA2B3C4D5D")
ZHANG = PersonIdentity(name="张三", resident_id="330106198503121231")
CAS = ("root", "organization", "personal", "tsa", "ocsp-organization", "ocsp-personal")
CHAIN_PAIRS = [
    ("root", "root"),
    ("root", "organization"),
    ("root", "personal"),
    ("root", "tsa"),
    ("organization", "ocsp-organization"),
    ("personal", "ocsp-personal"),
    ("organization", "enterprise"),
    ("personal", "person"),
]
AT_TIME = str(int(FIXED_NOW.timestamp()) + 86400)
FINDING = re.compile(r"^\s+([\w.\-]+) \((FATAL|ERROR|WARNING|NOTICE|INFO)\)", re.MULTILINE)


@dataclass(frozen=True)
class Files:
    directory: Path

    def __getitem__(self, name: str) -> Path:
        return self.directory / f"{name}.pem"


def export(pki: PkiFixture, directory: Path) -> Files:
    with Session(pki.engine) as session:
        for name in CAS:
            write_pem(directory / f"{name}.pem", pki.authority.ca_certificate(session, name))
        enterprise = pki.authority.issue(session, identity=ACME)
        person = pki.authority.issue(session, identity=ZHANG)
        session.commit()
    write_pem(directory / "enterprise.pem", enterprise.certificate)
    write_pem(directory / "person.pem", person.certificate)
    return Files(directory)


@pytest.fixture(scope="module", params=["ec", "rsa"])
def files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Files:
    pki: PkiFixture = request.getfixturevalue("ec_pki" if request.param == "ec" else "rsa_pki")
    return export(pki, tmp_path_factory.mktemp(f"files-{request.param}"))


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Files:
    directory = tmp_path_factory.mktemp("foreign")
    return export(build_pki(directory, family="ec", name="Other"), directory)


def findings(output: str) -> set[str]:
    return {code for code, _ in FINDING.findall(output)}


@pytest.mark.parametrize(
    ("issuing", "leaf"), [("organization", "enterprise"), ("personal", "person")]
)
def test_openssl_verifies_leaf_chain(files: Files, issuing: str, leaf: str) -> None:
    result = run_tool(
        "openssl", "verify", "-attime", AT_TIME,
        "-CAfile", files["root"], "-untrusted", files[issuing], files[leaf],
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{files[leaf]}: OK"


@pytest.mark.parametrize(
    ("issuing", "leaf", "purpose"),
    [("root", "tsa", "timestampsign"), ("organization", "ocsp-organization", "ocsphelper")],
)
def test_openssl_accepts_service_certificates_for_their_purpose(
    files: Files, issuing: str, leaf: str, purpose: str
) -> None:
    result = run_tool(
        "openssl", "verify", "-attime", AT_TIME, "-purpose", purpose,
        "-CAfile", files["root"], "-untrusted", files[issuing], files[leaf],
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_certificate_from_another_root_fails(files: Files, foreign: Files) -> None:
    for root, issuing, leaf in (
        (files["root"], foreign["organization"], foreign["enterprise"]),
        (foreign["root"], files["organization"], files["enterprise"]),
    ):
        result = run_tool(
            "openssl", "verify", "-attime", AT_TIME,
            "-CAfile", root, "-untrusted", issuing, leaf,
        )  # fmt: skip
        assert result.returncode != 0
        assert "unable to get local issuer certificate" in result.stdout + result.stderr


@pytest.mark.parametrize("name", [*CAS, "enterprise", "person"])
def test_pkilint_pkix_clean(files: Files, name: str) -> None:
    result = run_tool("lint_pkix_cert", "lint", "-s", "WARNING", files[name])
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


@pytest.mark.parametrize(("issuer", "subject"), CHAIN_PAIRS)
def test_pkilint_chain_clean(files: Files, issuer: str, subject: str) -> None:
    result = run_tool("lint_pkix_signer_signee_cert_chain", "lint", files[issuer], files[subject])
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr


def test_etsi_profiles_differ_only_where_we_chose_to(files: Files) -> None:
    """EN 319 412 findings we accept deliberately (see pki/profiles.py)."""
    legal = run_tool(
        "lint_etsi_cert", "lint", "-t", "NCP-LEGAL-PERSON-CERTIFICATE", "-s", "WARNING",
        files["enterprise"],
    )  # fmt: skip
    # digitalSignature + nonRepudiation together: EN 319 412-2 prefers one of the two
    assert findings(legal.stdout) == {"etsi.en_319_412_2.nat-4.3.2-1.mixed_key_usage_setting"}
    natural = run_tool(
        "lint_etsi_cert", "lint", "-t", "NCP-NATURAL-PERSON-CERTIFICATE", "-s", "WARNING",
        files["person"],
    )  # fmt: skip
    # plus: no surname/givenName/pseudonym; a Chinese name is carried whole in CN
    assert findings(natural.stdout) == {
        "etsi.en_319_412_2.nat-4.3.2-1.mixed_key_usage_setting",
        "etsi.en_319_412_2.nat-4.2.4-1.required_attribute_missing",
    }
