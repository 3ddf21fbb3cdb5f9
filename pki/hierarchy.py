"""Create the CA hierarchy once: root -> organization/personal issuing CAs, TSA, OCSP responders.

`ensure_hierarchy` is idempotent: it creates what is missing, re-issues TSA/OCSP certificates
that are about to expire, and otherwise does nothing (and says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlmodel import Session

from pki.authority import Authority
from pki.errors import InvalidRequestError, PkiError
from pki.keys import KeyAlgorithm
from pki.models import CaRecord, CertificateRecord
from pki.profiles import CaName, CertificateProfile


@dataclass(frozen=True)
class HierarchyConfig:
    """Names, algorithms and lifetimes of the authority's own certificates."""

    algorithm_family: Literal["ec", "rsa"] = "ec"
    issuing_curve: Literal[KeyAlgorithm.EC_P256, KeyAlgorithm.EC_P384] = KeyAlgorithm.EC_P384
    organization_name: str = "eseal"
    country: str = "CN"
    root_common_name: str = "eseal Root CA"
    organization_ca_common_name: str = "eseal Organization CA"
    personal_ca_common_name: str = "eseal Personal CA"
    tsa_common_name: str = "eseal Time-Stamping Authority"
    ocsp_organization_common_name: str = "eseal Organization CA OCSP Responder"
    ocsp_personal_common_name: str = "eseal Personal CA OCSP Responder"
    root_lifetime_days: int = 7305
    issuing_lifetime_days: int = 3653
    tsa_lifetime_days: int = 1826
    ocsp_lifetime_days: int = 365
    renew_before_days: int = 30
    """TSA and OCSP certificates expiring sooner than this are re-issued with a new key."""


@dataclass(frozen=True)
class HierarchyResult:
    """What `ensure_hierarchy` did."""

    created: bool
    created_cas: tuple[str, ...]
    renewed_cas: tuple[str, ...]

    @property
    def message(self) -> str:
        if not self.created and not self.renewed_cas:
            return "CA hierarchy already present; nothing created"
        parts = []
        if self.created_cas:
            parts.append("created " + ", ".join(self.created_cas))
        if self.renewed_cas:
            parts.append("renewed " + ", ".join(self.renewed_cas))
        return "; ".join(parts)


@dataclass(frozen=True)
class _Node:
    name: CaName
    issuer: CaName
    common_name: str
    profile: CertificateProfile
    algorithm: KeyAlgorithm
    lifetime_days: int
    renewable: bool = False


def _nodes(authority: Authority, config: HierarchyConfig) -> list[_Node]:
    rsa = config.algorithm_family == "rsa"
    root_alg = KeyAlgorithm.RSA_3072 if rsa else KeyAlgorithm.EC_P384
    alg = KeyAlgorithm.RSA_3072 if rsa else KeyAlgorithm(config.issuing_curve)
    p = authority.profiles
    return [
        _Node(CaName.ROOT, CaName.ROOT, config.root_common_name, p.root_ca, root_alg,
              config.root_lifetime_days),
        _Node(CaName.ORGANIZATION, CaName.ROOT, config.organization_ca_common_name,
              p.issuing_ca, alg, config.issuing_lifetime_days),
        _Node(CaName.PERSONAL, CaName.ROOT, config.personal_ca_common_name, p.issuing_ca, alg,
              config.issuing_lifetime_days),
        _Node(CaName.TSA, CaName.ROOT, config.tsa_common_name, p.tsa, alg,
              config.tsa_lifetime_days, renewable=True),
        _Node(CaName.OCSP_ORGANIZATION, CaName.ORGANIZATION,
              config.ocsp_organization_common_name, p.ocsp, alg, config.ocsp_lifetime_days,
              renewable=True),
        _Node(CaName.OCSP_PERSONAL, CaName.PERSONAL, config.ocsp_personal_common_name, p.ocsp,
              alg, config.ocsp_lifetime_days, renewable=True),
    ]  # fmt: skip


def _sm2_nodes(authority: Authority, config: HierarchyConfig) -> list[_Node]:
    """The SM2 hierarchy: same shape and lifetimes, SM2 keys, names "<org> SM2 ..."."""
    p, sm2, org = authority.profiles, KeyAlgorithm.SM2, config.organization_name
    return [
        _Node(CaName.SM2_ROOT, CaName.SM2_ROOT, f"{org} SM2 Root CA", p.root_ca, sm2,
              config.root_lifetime_days),
        _Node(CaName.SM2_ORGANIZATION, CaName.SM2_ROOT, f"{org} SM2 Organization CA",
              p.issuing_ca, sm2, config.issuing_lifetime_days),
        _Node(CaName.SM2_PERSONAL, CaName.SM2_ROOT, f"{org} SM2 Personal CA", p.issuing_ca,
              sm2, config.issuing_lifetime_days),
        _Node(CaName.SM2_TSA, CaName.SM2_ROOT, f"{org} SM2 Time-Stamping Authority", p.tsa, sm2,
              config.tsa_lifetime_days, renewable=True),
        _Node(CaName.SM2_OCSP_ORGANIZATION, CaName.SM2_ORGANIZATION,
              f"{org} SM2 Organization CA OCSP Responder", p.ocsp, sm2,
              config.ocsp_lifetime_days, renewable=True),
        _Node(CaName.SM2_OCSP_PERSONAL, CaName.SM2_PERSONAL,
              f"{org} SM2 Personal CA OCSP Responder", p.ocsp, sm2, config.ocsp_lifetime_days,
              renewable=True),
    ]  # fmt: skip


def _subject(config: HierarchyConfig, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, config.country),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, config.organization_name),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ensure_hierarchy(
    session: Session, *, authority: Authority, config: HierarchyConfig
) -> HierarchyResult:
    """Create the missing parts of the hierarchy in the caller's transaction."""
    if config.algorithm_family not in ("ec", "rsa"):
        raise InvalidRequestError(f"unknown algorithm family {config.algorithm_family!r}")
    return _ensure(session, authority, config, _nodes(authority, config))


def ensure_sm2_hierarchy(
    session: Session, *, authority: Authority, config: HierarchyConfig
) -> HierarchyResult:
    """The SM2 hierarchy beside the main one (GM/T 0015 certificates): created when missing,
    so `eseal init` adds it to an existing installation; TSA/OCSP renewed like the others."""
    return _ensure(session, authority, config, _sm2_nodes(authority, config))


def _ensure(
    session: Session, authority: Authority, config: HierarchyConfig, nodes: list[_Node]
) -> HierarchyResult:
    root = nodes[0].name
    existing = {node.name for node in nodes if session.get(CaRecord, node.name) is not None}
    if root not in existing and existing:
        raise PkiError(
            "the CA hierarchy is inconsistent: CAs exist without a root "
            f"({', '.join(sorted(existing))})"
        )
    created: list[str] = []
    renewed: list[str] = []
    now = authority.clock()
    for node in nodes:
        record = session.get(CaRecord, node.name)
        if record is not None:
            if not node.renewable:
                continue
            current = session.get(CertificateRecord, record.certificate_id)
            horizon = now + timedelta(days=config.renew_before_days)
            if current is not None and current.not_after > horizon:
                continue
        key_id = authority.keystore.create_key(
            session, algorithm=node.algorithm, label=f"ca {node.name}"
        )
        issued = authority.issue_with_profile(
            session,
            profile=node.profile,
            subject=_subject(config, node.common_name),
            issuer_ca=node.issuer,
            key_id=key_id,
            self_signed=node.name == node.issuer,
            lifetime_days=node.lifetime_days,
        )
        if record is None:
            session.add(
                CaRecord(name=node.name.value, certificate_id=issued.certificate_id, key_id=key_id)
            )
            created.append(node.name.value)
        else:
            record.certificate_id = issued.certificate_id
            record.key_id = key_id
            session.add(record)
            renewed.append(node.name.value)
        session.flush()
    return HierarchyResult(
        created=bool(created), created_cas=tuple(created), renewed_cas=tuple(renewed)
    )
