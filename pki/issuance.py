"""A signing certificate for a verified identity, in two steps: `prepare` reads and signs,
`record` writes.

`prepare` needs only reads (the issuing CA's record, through a read transaction of the
caller's choosing): it makes the new key and its encrypted record, and the signed
certificate. `record` adds the two rows to the caller's write transaction. A service can so
keep SQLite's write lock for the inserts and the commit instead of for key generation and
signing as well (issue 12: issuance held the lock for its whole request). Keys made in a
PKCS#11 token and SM2 issuance write while they work; for them `prepare` only checks the
request and `record` issues the certificate whole, as `Authority.issue` always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from sqlmodel import Session

from pki.certificate_records import IssuedCertificate, store_issued
from pki.identifiers import mask_resident_id
from pki.keys import KeyAlgorithm, PublicKey, SoftwareKeyStore, spki_of
from pki.models import KeyRecord
from pki.profiles import CaName, CertificateProfile

if TYPE_CHECKING:
    from pki.authority import Authority, Identity


@dataclass(frozen=True)
class IssueRequest:
    """What `Authority.issue` is asked for (see there)."""

    identity: Identity
    owner_org_id: str | None = None
    owner_person_id: str | None = None
    csr_pem: bytes | None = None
    key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256
    lifetime_days: int | None = None
    seal_code: str | None = None


@dataclass(frozen=True)
class PreparedCertificate:
    """A certificate signed outside the write transaction, and its new key's record; for
    `certificate` None (SM2, token keys) `record` issues it whole."""

    request: IssueRequest
    certificate: x509.Certificate | None = None
    key_record: KeyRecord | None = None
    issuer_ca: str = ""
    profile: CertificateProfile | None = None


def prepare(authority: Authority, session: Session, request: IssueRequest) -> PreparedCertificate:
    """Check `request`, and where the key store allows, make the key and sign (reads only)."""
    from pki.authority import EnterpriseIdentity, subject_for

    if KeyAlgorithm(request.key_algorithm) is KeyAlgorithm.SM2:
        from pki import sm2_authority

        if request.csr_pem is not None:
            sm2_authority.refuse_csr()
        return PreparedCertificate(request)
    identity = request.identity
    subject = subject_for(identity)
    if isinstance(identity, EnterpriseIdentity):
        profile, issuer_ca = authority.profiles.enterprise, CaName.ORGANIZATION
    else:
        profile, issuer_ca = authority.profiles.personal, CaName.PERSONAL
    extra = _checked(authority, profile, request)
    authority._ca_record(session, issuer_ca)  # no key is made for a missing hierarchy
    key_record: KeyRecord | None = None
    public_key: PublicKey | None = None
    if request.csr_pem is not None:
        from pki.authority import _csr_public_key

        public_key = _csr_public_key(request.csr_pem)
        spki = spki_of(public_key)
    elif isinstance(authority.keystore, SoftwareKeyStore):
        key_record, spki = authority.keystore.new_key_record(
            algorithm=request.key_algorithm, label=_label(profile, request)
        )
    else:
        return PreparedCertificate(request)
    certificate = authority.certificate_for(
        session,
        profile=profile,
        subject=subject,
        issuer_ca=issuer_ca,
        spki=spki,
        lifetime_days=request.lifetime_days,
        extra_extensions=extra,
    )
    return PreparedCertificate(request, certificate, key_record, issuer_ca, profile)


def record(
    authority: Authority, session: Session, prepared: PreparedCertificate
) -> IssuedCertificate:
    """Store what `prepare` made in the caller's (write) transaction, or issue it whole."""
    request = prepared.request
    if prepared.certificate is None or prepared.profile is None:
        return _issue_whole(authority, session, request)
    if prepared.key_record is not None:
        session.add(prepared.key_record)
    return store_issued(
        session,
        prepared.certificate,
        issuer_ca=prepared.issuer_ca,
        profile=prepared.profile,
        key_id=prepared.key_record.id if prepared.key_record is not None else None,
        owner_org_id=request.owner_org_id,
        owner_person_id=request.owner_person_id,
        created_at=authority.clock(),
    )


def _checked(
    authority: Authority, profile: CertificateProfile, request: IssueRequest
) -> tuple[tuple[x509.ExtensionType, bool], ...]:
    """The lifetime checked, and the seal-binding extension when a seal code is given."""
    from pki.authority import lifetime_or_error, seal_code_extension

    lifetime_or_error(profile, request.lifetime_days)
    if request.seal_code is None:
        return ()
    ext = seal_code_extension(request.seal_code, policy=authority.seal_policy)
    return ((ext.value, ext.critical),)


def _label(profile: CertificateProfile, request: IssueRequest) -> str:
    from pki.authority import EnterpriseIdentity

    identity = request.identity
    if isinstance(identity, EnterpriseIdentity):
        return f"{profile.name} {identity.uscc.strip().upper()}"
    return f"{profile.name} {mask_resident_id(identity.resident_id)}"


def _issue_whole(
    authority: Authority, session: Session, request: IssueRequest
) -> IssuedCertificate:
    """SM2 issuance and keys made in a token: the key is created (and written) here."""
    from pki.authority import EnterpriseIdentity, subject_for

    if KeyAlgorithm(request.key_algorithm) is KeyAlgorithm.SM2:
        from pki import sm2_authority

        return sm2_authority.issue_identity(
            authority,
            session,
            identity=request.identity,
            owner_org_id=request.owner_org_id,
            owner_person_id=request.owner_person_id,
            lifetime_days=request.lifetime_days,
            seal_code=request.seal_code,
        )
    if isinstance(request.identity, EnterpriseIdentity):
        profile, issuer_ca = authority.profiles.enterprise, CaName.ORGANIZATION
    else:
        profile, issuer_ca = authority.profiles.personal, CaName.PERSONAL
    key_id = authority.keystore.create_key(
        session, algorithm=request.key_algorithm, label=_label(profile, request)
    )
    return authority.issue_with_profile(
        session,
        profile=profile,
        subject=subject_for(request.identity),
        issuer_ca=issuer_ca,
        key_id=key_id,
        lifetime_days=request.lifetime_days,
        owner_org_id=request.owner_org_id,
        owner_person_id=request.owner_person_id,
        extra_extensions=_checked(authority, profile, request),
    )
