"""Issuance in the SM2 hierarchy: the `Authority` delegates here for SM2 CAs and SM2 keys.

Same records (pki_certificate), same serials, owners and lifetimes as the ECDSA path; only
the encoding and the signature differ (pki/sm2_ca.py). Keys are created in the key store
(encrypted at rest) and sign through their `KeySigner`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography import x509
from sqlmodel import Session

from pki.certificate_records import store_issued
from pki.errors import InvalidRequestError, KeyStoreError, PkiError
from pki.identifiers import mask_resident_id, validate_resident_id, validate_uscc
from pki.keys import KeyAlgorithm, KeySigner
from pki.profiles import CaName, CertificateProfile, CertificateTemplate, new_serial_number
from pki.sm2_ca import (
    SM2_ISSUING_CA,
    build_sm2_certificate,
    certificate_spki,
    enterprise_extensions,
    gm_profiles,
    person_extensions,
)

if TYPE_CHECKING:
    from pki.authority import Authority, Identity, IssuedCertificate


def signer(authority: Authority, session: Session, key_id: str) -> KeySigner:
    """The signer of an SM2 key-store key (KeyStoreError for any other key)."""
    found = authority.keystore.signer(session, key_id)
    if found.algorithm is not KeyAlgorithm.SM2:
        raise KeyStoreError(f"key {key_id!r} is not an SM2 key", key_id=key_id)
    return found


def issue_identity(
    authority: Authority,
    session: Session,
    *,
    identity: Identity,
    owner_org_id: str | None,
    owner_person_id: str | None,
    lifetime_days: int | None,
    seal_code: str | None,
) -> IssuedCertificate:
    """An SM2 signing certificate for a verified identity, key generated in the key store."""
    from pki.authority import (
        EnterpriseIdentity,
        lifetime_or_error,
        seal_code_extension,
        subject_for,
    )

    subject = subject_for(identity)
    profiles = gm_profiles(authority.profiles)
    extra: tuple[tuple[x509.ExtensionType, bool], ...]
    if isinstance(identity, EnterpriseIdentity):
        profile, issuer_ca = profiles.enterprise, SM2_ISSUING_CA[CaName.ORGANIZATION]
        uscc = validate_uscc(identity.uscc)
        label = f"{profile.name} sm2 {uscc}"
        extra = enterprise_extensions(uscc)
    else:
        profile, issuer_ca = profiles.personal, SM2_ISSUING_CA[CaName.PERSONAL]
        label = f"{profile.name} sm2 {mask_resident_id(identity.resident_id)}"
        extra = person_extensions(validate_resident_id(identity.resident_id))
    lifetime_or_error(profile, lifetime_days)
    if seal_code is not None:
        ext = seal_code_extension(seal_code, policy=authority.seal_policy)
        extra = (*extra, (ext.value, ext.critical))
    authority._ca_record(session, issuer_ca)
    key_id = authority.keystore.create_key(session, algorithm=KeyAlgorithm.SM2, label=label)
    return issue_with_profile(
        authority,
        session,
        profile=profile,
        subject=subject,
        issuer_ca=issuer_ca,
        key_id=key_id,
        lifetime_days=lifetime_days,
        owner_org_id=owner_org_id,
        owner_person_id=owner_person_id,
        extra_extensions=extra,
    )


def issue_with_profile(
    authority: Authority,
    session: Session,
    *,
    profile: CertificateProfile,
    subject: x509.Name,
    issuer_ca: str,
    key_id: str,
    self_signed: bool = False,
    lifetime_days: int | None = None,
    owner_org_id: str | None = None,
    owner_person_id: str | None = None,
    extra_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> IssuedCertificate:
    """`Authority.issue_with_profile` for an SM2 issuer and an SM2 key-store key."""
    from pki.authority import lifetime_or_error

    subject_signer = signer(authority, session, key_id)
    now = authority.clock().replace(microsecond=0)
    not_after = now + lifetime_or_error(profile, lifetime_days)
    if self_signed:
        issuer_signer, issuer_name = subject_signer, subject
    else:
        ca = authority._ca_record(session, issuer_ca)
        issuer_der = authority._record(session, ca.certificate_id).der
        issuer_cert = x509.load_der_x509_certificate(issuer_der)
        if not issuer_cert.not_valid_before_utc <= now < issuer_cert.not_valid_after_utc:
            raise PkiError(f"CA {issuer_ca!r} is not within its validity period")
        issuer_signer, issuer_name = signer(authority, session, ca.key_id), issuer_cert.subject
        if issuer_signer.public_key_info() != certificate_spki(issuer_der):
            raise PkiError(f"the key of CA {issuer_ca!r} does not match its certificate")
        not_after = min(not_after, issuer_cert.not_valid_after_utc)
    template = CertificateTemplate(
        subject=subject,
        subject_public_key=subject_signer.public_key_info(),
        issuer_name=issuer_name,
        issuer_public_key=issuer_signer.public_key_info(),
        issuer_ca=issuer_ca,
        serial_number=new_serial_number(),
        not_before=now,
        not_after=not_after,
        urls=authority.urls,
        self_signed=self_signed,
        extra_extensions=extra_extensions,
    )
    der = build_sm2_certificate(profile=profile, template=template, signer=issuer_signer)
    return store_issued(
        session,
        x509.load_der_x509_certificate(der),
        issuer_ca=issuer_ca,
        profile=profile,
        key_id=key_id,
        owner_org_id=owner_org_id,
        owner_person_id=owner_person_id,
        created_at=authority.clock(),
    )


def refuse_csr() -> None:
    """SM2 certificates are issued for key-store keys only (pyca cannot read SM2 CSRs)."""
    raise InvalidRequestError("SM2 certificates are issued for keys held by the service only")
