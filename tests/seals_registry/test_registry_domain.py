"""The registry without HTTP: seal codes, the lifecycle table, expiry, PIN rules, policy
composition, lookup by certificate, and the seal binding in the certificate (pkilint)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session

from app.wiring import Services
from pki.authority import EnterpriseIdentity, seal_code_extension, seal_code_of
from seals import access
from seals.authorization import (
    ActiveSeal,
    AllOf,
    AnyOf,
    ApprovalGranted,
    Caller,
    CallerKind,
    HolderHasGrant,
    SealOwner,
)
from seals.codes import check_digit, is_valid_seal_code, new_seal_code, validate_seal_code
from seals.errors import (
    ApprovalRequiredError,
    IllegalTransitionError,
    NoGrantError,
    SealInputError,
    SealNotActiveError,
    SealNotFoundError,
)
from seals.kinds import SealKind
from seals.lifecycle import TRANSITIONS, SealAction, SealStatus, effective_status, next_status
from seals.pin import PinPolicy, validate_pin
from seals.registry import NewSeal, SealRegistry, UploadedImage
from seals.render import SealImageSpec
from tests.conftest import make_uscc
from tests.pki.conftest import run_tool, write_pem
from tests.seals_registry.util import sha

ORG = "f" * 32
CLIENT = Caller(CallerKind.CLIENT, "c" * 32)


@pytest.fixture()
def services(client: Any) -> Services:
    services: Services = client.app.state.services
    return services


@pytest.fixture()
def registry(services: Services) -> SealRegistry:
    return SealRegistry(authority=services.authority)


@pytest.fixture()
def db(services: Services) -> Iterator[Session]:
    """A session rolled back at the end: nothing of these tests stays in the shared DB."""
    with Session(services.engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


def _new(kind: SealKind = SealKind.CONTRACT, **fields: Any) -> NewSeal:
    name = "杭州青禾科技有限公司"
    return NewSeal(
        organization_id=ORG,
        kind=kind,
        identity=EnterpriseIdentity(name=name, uscc=make_uscc()),
        image=SealImageSpec(kind=kind, organization_name=name),
        dpi=72,
        **fields,
    )


# --- codes and lifecycle -------------------------------------------------------------------------


def test_seal_codes_are_13_digits_with_a_check_digit_catching_typos() -> None:
    assert check_digit("572") == "4"  # Damm's published example
    codes = {new_seal_code() for _ in range(200)}
    assert len(codes) == 200 and all(is_valid_seal_code(c) for c in codes)
    code = codes.pop()
    for i, digit in itertools.product(range(13), "0123456789"):
        if digit != code[i]:
            assert not is_valid_seal_code(code[:i] + digit + code[i + 1 :])
    for i in range(12):
        if code[i] != code[i + 1]:
            assert not is_valid_seal_code(code[:i] + code[i + 1] + code[i] + code[i + 2 :])
    assert validate_seal_code(f" {code} ") == code
    for bad in ("", "12345", "１２３４５６７８９０１２３", "abcdefghijklm", code[:-1] + "x"):
        with pytest.raises(SealInputError):
            validate_seal_code(bad)
    assert is_valid_seal_code("100000000000" + check_digit("100000000000"))


def test_the_lifecycle_table() -> None:
    assert next_status(SealStatus.PENDING, SealAction.ACTIVATE) is SealStatus.ACTIVE
    assert next_status(SealStatus.ACTIVE, SealAction.SUSPEND) is SealStatus.SUSPENDED
    assert next_status(SealStatus.SUSPENDED, SealAction.REACTIVATE) is SealStatus.ACTIVE
    for status in (SealStatus.PENDING, SealStatus.ACTIVE, SealStatus.SUSPENDED):
        assert next_status(status, SealAction.REVOKE) is SealStatus.REVOKED
        assert next_status(status, SealAction.EXPIRE) is SealStatus.EXPIRED
    allowed = set(TRANSITIONS)
    for status, action in itertools.product(SealStatus, SealAction):
        if (status, action) not in allowed:
            with pytest.raises(IllegalTransitionError) as refused:
                next_status(status, action)
            assert refused.value.code == "seal-illegal-transition"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert effective_status("active", valid_until=now, now=now) is SealStatus.EXPIRED
    assert effective_status("revoked", valid_until=now, now=now) is SealStatus.REVOKED
    assert effective_status("suspended", valid_until=now + timedelta(1), now=now) is (
        SealStatus.SUSPENDED
    )


def test_pin_rules() -> None:
    assert validate_pin("602913") == "602913"
    for bad in (
        "",
        "12345",
        "1234567890123",
        "12a456",
        "000000",
        "234567",
        "876543",
        "６０２９１３",
    ):
        with pytest.raises(SealInputError):
            validate_pin(bad)
    assert PinPolicy().max_failures == 5


# --- registry ----------------------------------------------------------------------------------


def test_create_checks_the_kind_against_owner_and_image(
    registry: SealRegistry, db: Session
) -> None:
    with pytest.raises(SealInputError, match="a person's identity"):
        registry.create(
            db,
            new=NewSeal(
                organization_id=ORG,
                kind=SealKind.PERSONAL,
                identity=EnterpriseIdentity(name="某公司", uscc=make_uscc()),
                image=SealImageSpec(kind=SealKind.PERSONAL, person_name="张伟"),
                person_id="p" * 32,
            ),
            created_by="t",
        )
    with pytest.raises(SealInputError, match="rendered, not uploaded"):
        registry.create(
            db,
            new=NewSeal(
                organization_id=ORG,
                kind=SealKind.CONTRACT,
                identity=EnterpriseIdentity(name="某公司", uscc=make_uscc()),
                image=UploadedImage(b"\x89PNG"),
            ),
            created_by="t",
        )
    with pytest.raises(SealInputError, match="another kind"):
        registry.create(
            db,
            new=NewSeal(
                organization_id=ORG,
                kind=SealKind.FINANCE,
                identity=EnterpriseIdentity(name="某公司", uscc=make_uscc()),
                image=SealImageSpec(kind=SealKind.CONTRACT, organization_name="某公司"),
            ),
            created_by="t",
        )


def test_find_by_certificate_matches_exactly(
    registry: SealRegistry, services: Services, db: Session
) -> None:
    seal = registry.create(db, new=_new(activate=True), created_by="t")
    issued = services.authority.get(db, seal.certificate_id)
    found = registry.find_by_certificate(db, issued.certificate)
    assert found is not None and found.code == seal.code
    assert registry.find_by_certificate(db, issued.der) == found
    assert services.authority.seal_code_of(issued.certificate) == seal.code
    # a self-made certificate claiming the same seal code finds nothing
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "伪造")])
    ext = seal_code_extension(seal.code, policy=services.authority.seal_policy)
    forged = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2025, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC))
        .add_extension(ext.value, critical=False)
        .sign(key, hashes.SHA256())
    )
    assert seal_code_of(forged, policy=services.authority.seal_policy) == seal.code
    assert registry.find_by_certificate(db, forged) is None
    assert registry.find_by_code(db, seal.code) == found


def test_expired_seals_are_refused_and_swept(
    registry: SealRegistry, services: Services, db: Session
) -> None:
    seal = registry.create(db, new=_new(activate=True, lifetime_days=1), created_by="t")
    access.create_grant(
        db,
        seal=registry.row(db, seal.id),
        grantee=CLIENT,
        limits=access.GrantLimits(),
        created_by="t",
        now=registry.clock(),
    )
    later = SealRegistry(authority=services.authority, clock=lambda: seal.valid_until)
    assert later.get(db, seal.id).status is SealStatus.EXPIRED
    with pytest.raises(SealNotActiveError, match="expired"):
        later.load_for_use(db, seal_id=seal.id, caller=CLIENT, document_sha256=sha("d"))
    with pytest.raises(IllegalTransitionError):
        later.transition(db, seal_id=seal.id, action=SealAction.SUSPEND)
    swept = later.expire_due(db)
    assert seal.id in {s.id for s in swept}
    assert later.row(db, seal.id).status == "expired"
    assert registry.get(db, seal.id).status is SealStatus.EXPIRED  # terminal once recorded


def test_policies_compose(registry: SealRegistry, db: Session) -> None:
    seal = registry.create(db, new=_new(activate=True, requires_approval=True), created_by="t")
    kwargs: dict[str, Any] = {"seal_id": seal.id, "caller": CLIENT, "document_sha256": sha("d")}

    # no grant, approval required: the default policy names the grant first
    with pytest.raises(NoGrantError):
        registry.load_for_use(db, **kwargs)
    # a custom policy: active, and either a grant or an approval
    either = AllOf(ActiveSeal(), AnyOf(HolderHasGrant(), ApprovalGranted()))
    with pytest.raises(NoGrantError) as refused:
        registry.load_for_use(db, policy=either, **kwargs)
    assert refused.value.extra["alternatives"] == ["seal-grant-missing", "seal-approval-required"]
    assert "requires an approved usage request" in refused.value.detail
    with pytest.raises(ApprovalRequiredError):
        registry.load_for_use(db, policy=ApprovalGranted(always=True), **kwargs)
    use = registry.load_for_use(db, policy=ActiveSeal(), **kwargs)
    assert use.evidence.grant_id is None and use.checks == ("seal active",)
    with pytest.raises(Exception, match="owner"):
        registry.load_for_use(db, policy=SealOwner(), **kwargs)
    with pytest.raises(SealNotFoundError):
        registry.load_for_use(db, organization_id="e" * 32, **kwargs)
    with pytest.raises(SealInputError):
        registry.load_for_use(db, **{**kwargs, "document_sha256": "abc"})
    with pytest.raises(SealInputError):
        registry.load_for_use(db, document_type="合同", **kwargs)


@pytest.mark.interop
def test_seal_certificates_lint_clean(
    registry: SealRegistry, services: Services, db: Session, tmp_path: Path
) -> None:
    seal = registry.create(db, new=_new(), created_by="t")
    leaf = write_pem(
        tmp_path / "seal.pem", services.authority.get(db, seal.certificate_id).certificate
    )
    issuer = write_pem(tmp_path / "ca.pem", services.authority.ca_certificate(db, "organization"))
    result = run_tool("lint_pkix_cert", "lint", "-s", "WARNING", leaf)
    assert result.returncode == 0 and result.stdout.strip() == "", result.stdout + result.stderr
    chain = run_tool("lint_pkix_signer_signee_cert_chain", "lint", issuer, leaf)
    assert chain.returncode == 0 and chain.stdout.strip() == "", chain.stdout + chain.stderr
