"""Our certificates checked by tools we did not write: openssl verify and pkilint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import core as asn1core
from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlmodel import Session

from pki.authority import EnterpriseIdentity, PersonIdentity
from pki.profiles import ProfileSet
from pki.qcstatements import (
    PKIX_QC_SYNTAX_V2,
    QC_COMPLIANCE,
    QC_SSCD,
    QC_STATEMENTS_OID,
    QC_TYPE,
    QcType,
    Semantics,
    read_qc_statements,
)
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


ETSI_TYPES = {
    "enterprise": "NCP-LEGAL-PERSON-CERTIFICATE",
    "person": "NCP-NATURAL-PERSON-CERTIFICATE",
}
DEPLOYMENT_SPECIFIC: set[str] = set()
"""ETSI findings allowed because they depend on the deployment, not the profile (none here: the
test PKI publishes under a public-looking name; a 127.0.0.1 base would add
`etsi.en_319_412_2.gen-4.3.11-3.internal_domain_name`)."""


@pytest.mark.parametrize("name", ["enterprise", "person"])
def test_etsi_profiles_lint_clean(files: Files, name: str) -> None:
    """EN 319 412-2/-3/-5 (pkilint `lint_etsi_cert`): seal and personal profiles are clean."""
    result = run_tool(
        "lint_etsi_cert", "lint", "-t", ETSI_TYPES[name], "-s", "WARNING", files[name]
    )
    assert findings(result.stdout) <= DEPLOYMENT_SPECIFIC, result.stdout + result.stderr
    assert result.returncode == 0 or findings(result.stdout), result.stderr


def _issue_variants(tmp: Path) -> Files:
    """A PKI whose profiles claim qualified status and a QSCD, and a pseudonymous person."""
    pki = build_pki(
        tmp, family="ec", profiles=ProfileSet().with_qualified(compliance=True, sscd=True)
    )
    with Session(pki.engine) as session:
        seal = pki.authority.issue(session, identity=ACME)
        alias = PersonIdentity(name="张三", resident_id=ZHANG.resident_id, pseudonym="ZS-0001")
        person = pki.authority.issue(session, identity=alias)
        compound = PersonIdentity(name="欧阳修文", resident_id=ZHANG.resident_id)
        split = pki.authority.issue(session, identity=compound)
        session.commit()
    write_pem(tmp / "enterprise.pem", seal.certificate)
    write_pem(tmp / "person.pem", person.certificate)
    write_pem(tmp / "compound.pem", split.certificate)
    return Files(tmp)


def test_etsi_variants_lint_clean(tmp_path: Path) -> None:
    """A pseudonym instead of surname/givenName, a compound surname, and QcCompliance/QcSSCD
    switched on all stay clean under the same ETSI and PKIX linters."""
    variants = _issue_variants(tmp_path)
    for name, profile in [*ETSI_TYPES.items(), ("compound", ETSI_TYPES["person"])]:
        result = run_tool("lint_etsi_cert", "lint", "-t", profile, "-s", "WARNING", variants[name])
        assert findings(result.stdout) <= DEPLOYMENT_SPECIFIC, name + result.stdout
        pkix = run_tool("lint_pkix_cert", "lint", "-s", "WARNING", variants[name])
        assert pkix.returncode == 0 and pkix.stdout.strip() == "", name + pkix.stdout
    person = x509.load_pem_x509_certificate(variants["person"].read_bytes())
    assert [a.value for a in person.subject.get_attributes_for_oid(NameOID.PSEUDONYM)] == [
        "ZS-0001"
    ]
    assert not person.subject.get_attributes_for_oid(NameOID.SURNAME)
    compound = x509.load_pem_x509_certificate(variants["compound"].read_bytes())
    assert compound.subject.get_attributes_for_oid(NameOID.SURNAME)[0].value == "欧阳"
    assert compound.subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value == "修文"
    seal = x509.load_pem_x509_certificate(variants["enterprise"].read_bytes())
    qc = seal.extensions.get_extension_for_oid(QC_STATEMENTS_OID)
    assert not qc.critical
    assert isinstance(qc.value, x509.UnrecognizedExtension)
    assert set(read_qc_statements(qc.value.value)) == {
        QC_COMPLIANCE, QC_SSCD, QC_TYPE, PKIX_QC_SYNTAX_V2,
    }  # fmt: skip


def test_default_profiles_state_type_and_semantics_only(files: Files) -> None:
    """Out of the box nothing claims EU qualified status or a QSCD (that would be untrue); the
    seal says e-seal of a legal person, the person's e-signature of a natural person; both
    carry nonRepudiation alone."""
    expected = {
        "enterprise": (QcType.ESEAL, Semantics.LEGAL),
        "person": (QcType.ESIGN, Semantics.NATURAL),
    }
    for name, (qc_type, semantics) in expected.items():
        cert = x509.load_pem_x509_certificate(files[name].read_bytes())
        ext = cert.extensions.get_extension_for_oid(QC_STATEMENTS_OID).value
        assert isinstance(ext, x509.UnrecognizedExtension)
        statements = read_qc_statements(ext.value)
        assert set(statements) == {QC_TYPE, PKIX_QC_SYNTAX_V2}
        assert qc_type.value in _oids(statements[QC_TYPE])
        assert semantics.value in _oids(statements[PKIX_QC_SYNTAX_V2])
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.content_commitment and not usage.digital_signature


class _Oids(asn1core.SequenceOf):
    _child_spec = asn1core.ObjectIdentifier


def _oids(der: object) -> set[str]:
    """OIDs inside a statement info (QcType and SemanticsInformation are sequences of OIDs)."""
    assert isinstance(der, bytes)
    return {child.dotted for child in _Oids.load(der)}
