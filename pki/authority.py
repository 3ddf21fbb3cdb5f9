"""The certificate authority: issue, revoke, renew and look up certificates over a `KeyStore`.

Every certificate (CA, TSA, OCSP, enterprise, personal) goes through `issue_with_profile`.
The caller owns the database transaction; methods only add and flush.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from asn1crypto import core as asn1
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from sqlmodel import Session

from pki.cert_der import CertificateDer
from pki.certificate_records import (
    CertificateLookups,
    IssuedCertificate,
    RevokedCertificate,
    store_issued,
)
from pki.errors import (
    AlreadyRevokedError,
    InvalidRequestError,
)
from pki.identifiers import validate_resident_id, validate_uscc
from pki.issuers import Issuers
from pki.keys import (
    KeyAlgorithm,
    KeySigner,
    KeyStore,
    PublicKey,
    algorithm_of,
    load_public_key,
    public_key_of,
    spki_of,
)
from pki.models import CertificateStatus, utc_now
from pki.names import split_name
from pki.profiles import (
    POLICY_OID,
    CertificateProfile,
    CertificateTemplate,
    ProfileName,
    ProfileSet,
    PublicationUrls,
    build_certificate,
    lifetime,
    new_serial_number,
)
from pki.sm2_ca import is_sm2_ca

Clock = Callable[[], datetime]

ORGANIZATION_IDENTIFIER_PREFIX = "NTRCN-"
"""ETSI EN 319 412-1 semantics: national trade register, China."""
PERSON_SERIAL_PREFIX = "IDCCN-"
"""ETSI EN 319 412-1 semantics: national identity card number, China."""
SEAL_CODE_ARC = 3
"""The seal-binding extension's OID is the certificate policy OID + '.3' (the TSA policy is
'.2'): a non-critical extension whose value is a UTF8String holding the seal code."""
_MAX_SEAL_CODE_CHARS = 64
_MAX_NAME_CHARS = 64  # ub-common-name / ub-organization-name (RFC 5280 appendix A)


@dataclass(frozen=True)
class EnterpriseIdentity:
    """A verified organisation: its registered name and unified social credit code."""

    name: str
    uscc: str


@dataclass(frozen=True)
class PersonIdentity:
    """A verified natural person: name and resident ID number."""

    name: str
    resident_id: str
    pseudonym: str | None = None
    """When set, the subject names the person by this pseudonym instead of surname/givenName
    (EN 319 412-2 NAT-4.2.4-1 allows either); CN carries it too."""


Identity = EnterpriseIdentity | PersonIdentity


def subject_for(identity: Identity) -> x509.Name:
    """The subject DN for a verified identity (identifiers validated here)."""
    name = _checked_name(identity.name)
    if isinstance(identity, EnterpriseIdentity):
        uscc = validate_uscc(identity.uscc)
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                x509.NameAttribute(
                    NameOID.ORGANIZATION_IDENTIFIER, ORGANIZATION_IDENTIFIER_PREFIX + uscc
                ),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
    resident_id = validate_resident_id(identity.resident_id)
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if identity.pseudonym is not None:
        name = _checked_name(identity.pseudonym)
        attributes.append(x509.NameAttribute(NameOID.PSEUDONYM, name))
    else:
        parts = split_name(name)
        surname = parts.surname if parts else name
        attributes.append(x509.NameAttribute(NameOID.SURNAME, surname))
        if parts is not None:
            attributes.append(x509.NameAttribute(NameOID.GIVEN_NAME, parts.given_name))
    attributes += [
        x509.NameAttribute(NameOID.SERIAL_NUMBER, PERSON_SERIAL_PREFIX + resident_id),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ]
    return x509.Name(attributes)


def identity_from_certificate(certificate: x509.Certificate) -> Identity:
    """Recover the identity from one of our enterprise or personal certificates."""
    subject = certificate.subject

    def one(oid: x509.ObjectIdentifier) -> str | None:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else None

    common_name = one(NameOID.COMMON_NAME)
    org_id = one(NameOID.ORGANIZATION_IDENTIFIER)
    person_serial = one(NameOID.SERIAL_NUMBER)
    if org_id and org_id.startswith(ORGANIZATION_IDENTIFIER_PREFIX):
        organization = one(NameOID.ORGANIZATION_NAME) or common_name or ""
        return EnterpriseIdentity(
            name=organization, uscc=org_id.removeprefix(ORGANIZATION_IDENTIFIER_PREFIX)
        )
    if person_serial and person_serial.startswith(PERSON_SERIAL_PREFIX) and common_name:
        return PersonIdentity(
            name=common_name, resident_id=person_serial.removeprefix(PERSON_SERIAL_PREFIX)
        )
    raise InvalidRequestError("the certificate carries no enterprise or person identity")


def seal_code_oid(policy: x509.ObjectIdentifier) -> x509.ObjectIdentifier:
    """The OID of the seal-binding extension under certificate policy `policy`."""
    return x509.ObjectIdentifier(f"{policy.dotted_string}.{SEAL_CODE_ARC}")


def seal_code_extension(
    seal_code: str, *, policy: x509.ObjectIdentifier
) -> x509.Extension[x509.UnrecognizedExtension]:
    """The non-critical extension binding a certificate to the seal with `seal_code`."""
    code = seal_code.strip()
    if not code or len(code) > _MAX_SEAL_CODE_CHARS or not code.isascii() or not code.isprintable():
        raise InvalidRequestError("a seal code is 1-64 printable ASCII characters")
    oid = seal_code_oid(policy)
    value = x509.UnrecognizedExtension(oid, asn1.UTF8String(code).dump())
    return x509.Extension(oid, False, value)


def seal_code_of(certificate: x509.Certificate, *, policy: x509.ObjectIdentifier) -> str | None:
    """The seal code a certificate is bound to (None when it carries no seal binding)."""
    try:
        ext = certificate.extensions.get_extension_for_oid(seal_code_oid(policy))
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):
        return None
    try:
        return str(asn1.UTF8String.load(value.value).native)
    except (ValueError, TypeError):
        return None


def _checked_name(value: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidRequestError("the name must not be empty")
    if len(name) > _MAX_NAME_CHARS:
        raise InvalidRequestError(
            f"the name has {len(name)} characters, at most {_MAX_NAME_CHARS} are allowed"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise InvalidRequestError("the name contains control characters")
    return name


def _csr_public_key(csr_data: bytes) -> PublicKey:
    """The public key of a CSR whose signature (proof of possession) verifies."""
    try:
        if csr_data.lstrip().startswith(b"-----BEGIN"):
            csr = x509.load_pem_x509_csr(csr_data)
        else:
            csr = x509.load_der_x509_csr(csr_data)
        key = csr.public_key()
        valid = csr.is_signature_valid
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidRequestError(
            f"the certificate signing request cannot be read: {exc}"
        ) from None
    if not valid:
        raise InvalidRequestError("the certificate signing request signature does not verify")
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1 | ec.SECP384R1):
            raise InvalidRequestError(f"curve {key.curve.name} is not accepted (P-256, P-384)")
        return key
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InvalidRequestError(f"RSA key of {key.key_size} bits is too small (>= 2048)")
        return key
    raise InvalidRequestError("only EC (P-256, P-384) and RSA keys are accepted")


class Authority(CertificateLookups):
    """Issues and manages certificates; CA keys come from `keystore`."""

    def __init__(
        self,
        *,
        keystore: KeyStore,
        base_url: str,
        clock: Clock = utc_now,
        profiles: ProfileSet | None = None,
    ) -> None:
        self.keystore = keystore
        self.urls = PublicationUrls(base_url)
        self.clock = clock
        self.profiles = profiles or ProfileSet()
        self.issuers = Issuers(self)

    # -- issuance -------------------------------------------------------------------------

    def issue(
        self,
        session: Session,
        *,
        identity: Identity,
        owner_org_id: str | None = None,
        owner_person_id: str | None = None,
        csr_pem: bytes | None = None,
        key_algorithm: KeyAlgorithm = KeyAlgorithm.EC_P256,
        lifetime_days: int | None = None,
        seal_code: str | None = None,
    ) -> IssuedCertificate:
        """Issue a signing certificate for a verified identity.

        Without `csr_pem` the key is generated in the key store; with it, only the CSR's
        public key is used (its signature must verify) and its subject/extensions are ignored.
        With `seal_code` the certificate carries the seal-binding extension (`seal_code_of`).
        `KeyAlgorithm.SM2` issues from the SM2 hierarchy (pki/sm2_authority.py).
        """
        from pki import issuance

        request = issuance.IssueRequest(
            identity=identity,
            owner_org_id=owner_org_id,
            owner_person_id=owner_person_id,
            csr_pem=csr_pem,
            key_algorithm=key_algorithm,
            lifetime_days=lifetime_days,
            seal_code=seal_code,
        )
        return issuance.record(self, session, issuance.prepare(self, session, request))

    @property
    def seal_policy(self) -> x509.ObjectIdentifier:
        """The policy OID under which seal bindings are written (the enterprise profile's)."""
        policies = self.profiles.enterprise.policies
        return policies[0] if policies else POLICY_OID

    def seal_code_of(self, certificate: x509.Certificate) -> str | None:
        """The seal code recorded in one of our certificates, if any."""
        return seal_code_of(certificate, policy=self.seal_policy)

    def issue_with_profile(
        self,
        session: Session,
        *,
        profile: CertificateProfile,
        subject: x509.Name,
        issuer_ca: str,
        key_id: str | None = None,
        public_key: PublicKey | None = None,
        self_signed: bool = False,
        lifetime_days: int | None = None,
        owner_org_id: str | None = None,
        owner_person_id: str | None = None,
        extra_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    ) -> IssuedCertificate:
        """The one issuance path: sign `subject`'s key under `profile` by CA `issuer_ca`.

        Give `key_id` (a key-store key) or `public_key` (CSR path). With `self_signed`, the
        certificate is signed by `key_id` itself and recorded as issued by `issuer_ca`.
        """
        if (key_id is None) == (public_key is None):
            raise InvalidRequestError("give exactly one of key_id and public_key")
        if self_signed and key_id is None:
            raise InvalidRequestError("a self-signed certificate needs a key-store key")
        if is_sm2_ca(issuer_ca):
            from pki import sm2_authority

            if key_id is None:
                sm2_authority.refuse_csr()
            return sm2_authority.issue_with_profile(
                self,
                session,
                profile=profile,
                subject=subject,
                issuer_ca=issuer_ca,
                key_id=key_id or "",
                self_signed=self_signed,
                lifetime_days=lifetime_days,
                owner_org_id=owner_org_id,
                owner_person_id=owner_person_id,
                extra_extensions=extra_extensions,
            )
        if public_key is not None:
            spki = spki_of(public_key)
        else:
            spki = self.keystore.public_key_info(session, key_id or "")
        certificate = self.certificate_for(
            session,
            profile=profile,
            subject=subject,
            issuer_ca=issuer_ca,
            spki=spki,
            self_signed_by=key_id if self_signed else None,
            lifetime_days=lifetime_days,
            extra_extensions=extra_extensions,
        )
        return store_issued(
            session,
            certificate,
            issuer_ca=issuer_ca,
            profile=profile,
            key_id=key_id,
            owner_org_id=owner_org_id,
            owner_person_id=owner_person_id,
            created_at=self.clock(),
        )

    def certificate_for(
        self,
        session: Session,
        *,
        profile: CertificateProfile,
        subject: x509.Name,
        issuer_ca: str,
        spki: bytes,
        self_signed_by: str | None = None,
        lifetime_days: int | None = None,
        extra_extensions: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    ) -> x509.Certificate:
        """The signed certificate for key `spki` (nothing stored; reads only): by CA
        `issuer_ca` from its kept DER template, or by key-store key `self_signed_by`."""
        now = self.clock().replace(microsecond=0)
        not_after = now + lifetime_or_error(profile, lifetime_days)
        template: CertificateDer | None = None
        if self_signed_by is not None:
            issuer_signer, issuer_name = self.keystore.signer(session, self_signed_by), subject
        else:
            issuer = self.issuers.current(session, issuer_ca)
            issuer.check_validity(now)
            issuer_signer, issuer_name = issuer.signer, issuer.certificate.subject
            not_after = min(not_after, issuer.certificate.not_valid_after_utc)
            template = issuer.template(profile, self.urls)
        full = CertificateTemplate(
            subject=subject,
            subject_public_key=spki,
            issuer_name=issuer_name,
            issuer_public_key=issuer_signer.public_key_info(),
            issuer_ca=issuer_ca,
            serial_number=new_serial_number(),
            not_before=now,
            not_after=not_after,
            urls=self.urls,
            self_signed=self_signed_by is not None,
            extra_extensions=extra_extensions,
        )
        return _signed(profile, full, template, issuer_signer)

    # -- lifecycle ------------------------------------------------------------------------

    def revoke(
        self,
        session: Session,
        *,
        certificate_id: str,
        reason: x509.ReasonFlags,
        when: datetime | None = None,
    ) -> RevokedCertificate:
        """Mark a certificate revoked (AlreadyRevokedError the second time)."""
        reason = x509.ReasonFlags(reason)
        if reason is x509.ReasonFlags.remove_from_crl:
            raise InvalidRequestError("removeFromCRL is only meaningful in delta CRLs")
        now = self.clock()
        revoked_at = (when or now).replace(microsecond=0)
        if revoked_at.tzinfo is None:
            raise InvalidRequestError("the revocation time must be timezone-aware")
        if revoked_at > now:
            raise InvalidRequestError("the revocation time must not be in the future")
        record = self._record(session, certificate_id)
        if record.status == CertificateStatus.REVOKED:
            raise AlreadyRevokedError(
                f"certificate {certificate_id} was already revoked at "
                f"{record.revoked_at.isoformat() if record.revoked_at else 'an unknown time'}",
                certificate_id=certificate_id,
            )
        record.status = CertificateStatus.REVOKED.value
        record.revoked_at = revoked_at
        record.revocation_reason = reason.value
        session.add(record)
        session.flush()
        return RevokedCertificate(
            certificate_id=record.id,
            serial_number=int(record.serial, 16),
            issuer_ca=record.issuer_ca,
            revoked_at=revoked_at,
            reason=reason,
        )

    def renew(
        self,
        session: Session,
        *,
        certificate_id: str,
        csr_pem: bytes | None = None,
        key_algorithm: KeyAlgorithm | None = None,
    ) -> IssuedCertificate:
        """Issue a successor with a new key and the same identity and owners.

        Service-held keys are replaced by a new key (same algorithm unless given); a
        certificate issued from a CSR needs a new CSR. The old record gets `replaced_by`.
        """
        old = self._record(session, certificate_id)
        if old.status == CertificateStatus.REVOKED:
            raise AlreadyRevokedError(
                f"certificate {certificate_id} is revoked and cannot be renewed",
                certificate_id=certificate_id,
            )
        if old.replaced_by:
            raise InvalidRequestError(
                f"certificate {certificate_id} was already renewed by {old.replaced_by}",
                certificate_id=certificate_id,
            )
        if old.profile not in (ProfileName.ENTERPRISE, ProfileName.PERSONAL):
            raise InvalidRequestError(f"certificates of profile {old.profile} are not renewed here")
        if old.key_id is None and csr_pem is None:
            raise InvalidRequestError("this certificate was issued from a CSR: send a new CSR")
        algorithm = key_algorithm
        if algorithm is None and is_sm2_ca(old.issuer_ca):
            algorithm = KeyAlgorithm.SM2
        if algorithm is None and old.key_id is not None:
            algorithm = algorithm_of(
                load_public_key(self.keystore.public_key_info(session, old.key_id))
            )
        identity = identity_from_certificate(x509.load_der_x509_certificate(old.der))
        profile = self.profiles.by_name(old.profile)
        days = (old.not_after - old.not_before) // timedelta(days=1)
        new = self.issue(
            session,
            identity=identity,
            owner_org_id=old.owner_org_id,
            owner_person_id=old.owner_person_id,
            csr_pem=csr_pem,
            key_algorithm=algorithm or KeyAlgorithm.EC_P256,
            lifetime_days=max(1, min(days, profile.max_lifetime_days)),
        )
        old.replaced_by = new.certificate_id
        session.add(old)
        session.flush()
        return new


def _signed(
    profile: CertificateProfile,
    full: CertificateTemplate,
    template: CertificateDer | None,
    signer: KeySigner,
) -> x509.Certificate:
    """`full` (subject key as DER) signed from the issuer's DER template when it has one, else
    by the full builder: the same bytes either way (tests/pki/test_cert_der.py)."""
    assert isinstance(full.subject_public_key, bytes)
    if template is not None:
        tbs = template.tbs(
            serial_number=full.serial_number,
            not_before=full.not_before,
            not_after=full.not_after,
            subject=full.subject,
            subject_spki=full.subject_public_key,
            extra_extensions=full.extra_extensions,
        )
        return x509.load_der_x509_certificate(template.sign(tbs))
    keyed = dataclasses.replace(
        full,
        subject_public_key=load_public_key(full.subject_public_key),
        issuer_public_key=public_key_of(signer),
    )
    return build_certificate(profile=profile, template=keyed, issuer=signer)


def lifetime_or_error(profile: CertificateProfile, days: int | None) -> timedelta:
    """`profiles.lifetime` with InvalidRequestError instead of ValueError."""
    try:
        return lifetime(profile, days)
    except ValueError as exc:
        raise InvalidRequestError(str(exc), profile=profile.name.value) from None
