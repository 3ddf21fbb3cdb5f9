"""What the CA publishes: CRLs (kept current in the database), OCSP answers and time-stamps,
built in process from the authority's records and keys."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as x509_ocsp
from sqlalchemy import event
from sqlmodel import Session

from pki import ocsp, tsa
from pki.authority import Authority
from pki.crl_publishing import CRL_ISSUERS, CrlPublishing
from pki.errors import UnknownCaError
from pki.models import CaRecord
from pki.ocsp_cache import PreProducedResponses, has_nonce, is_successful
from pki.profiles import POLICY_OID, CaName
from pki.sm2_ca import is_sm2_ca, ocsp_request
from pki.status_epoch import MemoryStatusEpoch, StatusEpoch

T = TypeVar("T")
OCSP_RESPONDERS = {
    CaName.ORGANIZATION: CaName.OCSP_ORGANIZATION,
    CaName.PERSONAL: CaName.OCSP_PERSONAL,
}
SM2_OCSP_RESPONDERS = {
    CaName.SM2_ORGANIZATION: CaName.SM2_OCSP_ORGANIZATION,
    CaName.SM2_PERSONAL: CaName.SM2_OCSP_PERSONAL,
}
"""Answered by the same /pki/ocsp endpoint when the SM2 hierarchy exists: the request's
CertID (issuer name and key hash) picks the CA."""


@dataclass(frozen=True)
class RevocationData:
    """Revocation evidence and extra certificates for embedding in a signed document."""

    ocsp_responses: tuple[bytes, ...]
    crls: tuple[bytes, ...]
    certificates: tuple[x509.Certificate, ...]


@dataclass(frozen=True)
class PublicationPolicy:
    crl_validity: timedelta = timedelta(days=1)
    crl_refresh_before: timedelta = timedelta(hours=6)
    ocsp_validity: timedelta = timedelta(hours=4)
    tsa_accuracy: timedelta = timedelta(seconds=1)
    tsa_policy_oid: str = f"{POLICY_OID.dotted_string}.2"
    material_ttl: timedelta = timedelta(seconds=60)
    ocsp_pre_produced_max_age: timedelta = timedelta(minutes=10)
    """How long a pre-produced OCSP response is handed out before it is signed anew (0: off)."""
    ocsp_pre_produced_entries: int = 10_000


class Publisher(CrlPublishing):
    """CRLs, OCSP responses and time-stamps of one authority.

    Responder and TSA material (certificate + unlocked key) is kept in memory for
    `policy.material_ttl`. OCSP answers to requests without a nonce are pre-produced
    (pki/ocsp_cache.py); `status_epoch` tells every process when a status changed.
    """

    def __init__(
        self,
        *,
        authority: Authority,
        policy: PublicationPolicy | None = None,
        status_epoch: StatusEpoch | None = None,
    ) -> None:
        self.authority = authority
        self.policy = policy or PublicationPolicy()
        self._lock = threading.Lock()
        self._material: dict[str, tuple[float, object]] = {}
        self.status_epoch = status_epoch or MemoryStatusEpoch()
        self.pre_produced = PreProducedResponses(
            epoch=self.status_epoch,
            max_age=self.policy.ocsp_pre_produced_max_age,
            max_entries=self.policy.ocsp_pre_produced_entries,
        )

    def after_revocation(self, session: Session, issuer_ca: str) -> None:
        """Revocation is visible in the CRL at once, and in OCSP as soon as it commits: the
        status epoch moves after the commit, which retires every pre-produced response."""
        if issuer_ca in CRL_ISSUERS:
            self.refresh_crl(session, issuer_ca)
        event.listen(session, "after_commit", self._status_changed, once=True)

    def _status_changed(self, _session: Session) -> None:
        self.status_epoch.bump()
        self.pre_produced.clear()

    # -- OCSP -----------------------------------------------------------------------------

    def pre_produced_ocsp(self, request_der: bytes) -> bytes | None:
        """The pre-produced answer to exactly this request while it is current (no session,
        no signature: what the OCSP endpoint tries before anything else)."""
        return self.pre_produced.get(request_der)

    def ocsp_response(
        self, session: Session, request_der: bytes, *, epoch: int | None = None
    ) -> bytes:
        """An OCSPResponse DER for any input (malformedRequest for garbage).

        `epoch`: the status epoch read before `session` first read anything; when given, an
        answer without a nonce about certificates we issued is kept as pre-produced.
        """
        kept = self.pre_produced.get(request_der)
        if kept is not None:
            return kept
        issuers = self._ocsp_issuers(session)
        looked_up: list[ocsp.CertStatus] = []

        def lookup(issuer_name: str, serial: int) -> ocsp.CertStatus:
            info = self.authority.lookup_status(session, issuer_ca=issuer_name, serial=serial)
            if info is None:
                status = ocsp.CertStatus.unknown()
            elif info.revoked_at is not None:
                status = ocsp.CertStatus.revoked(at=info.revoked_at, reason=info.reason)
            else:
                status = ocsp.CertStatus.good()
            looked_up.append(status)
            return status

        der = ocsp.respond(
            request_der,
            issuers=issuers,
            lookup=lookup,
            now=self.authority.clock(),
            validity=self.policy.ocsp_validity,
        )
        if (
            epoch is not None
            and looked_up
            and all(s.state is not ocsp.CertState.UNKNOWN for s in looked_up)
            and is_successful(der)
            and not has_nonce(request_der)
        ):
            self.pre_produced.put(request_der, der, epoch=epoch)
        return der

    def _ocsp_issuers(self, session: Session) -> list[ocsp.OcspIssuer]:
        def present(responders: dict[CaName, CaName]) -> bool:
            names = [name for pair in responders.items() for name in pair]
            return all(session.get(CaRecord, name) is not None for name in names)

        def load() -> list[ocsp.OcspIssuer]:
            if not present(OCSP_RESPONDERS):
                return []
            pairs = list(OCSP_RESPONDERS.items())
            if present(SM2_OCSP_RESPONDERS):
                pairs += SM2_OCSP_RESPONDERS.items()
            return [
                ocsp.OcspIssuer(
                    issuer_cert=self.authority.ca_certificate(session, ca),
                    responder_cert=self.authority.ca_certificate(session, responder),
                    responder_key=self.authority.ca_signer(session, responder),
                    name=ca,
                )
                for ca, responder in pairs
            ]

        return self._cached("ocsp", load)

    # -- time-stamps ----------------------------------------------------------------------

    def tsa_config(self, session: Session, *, sm2: bool = False) -> tsa.TsaConfig:
        """The TSA (`sm2`: the SM2 TSA, SM2-with-SM3 tokens with SM3 message digests)."""
        name, root = (CaName.SM2_TSA, CaName.SM2_ROOT) if sm2 else (CaName.TSA, CaName.ROOT)

        def load() -> tsa.TsaConfig:
            if session.get(CaRecord, name) is None:
                raise UnknownCaError(f"the time-stamping authority {name.value} is not initialised")
            return tsa.TsaConfig(
                cert=self.authority.ca_certificate(session, name),
                key=self.authority.ca_signer(session, name),
                chain=[self.authority.ca_certificate(session, root)],
                policy_oid=self.policy.tsa_policy_oid,
                accuracy=self.policy.tsa_accuracy,
            )

        return self._cached(name.value, load)

    def _cached(self, name: str, load: Callable[[], T]) -> T:
        """Signing material unlocked once per `material_ttl`: a renewed responder or TSA
        certificate is picked up within that time (the old one stays valid meanwhile)."""
        now = time.monotonic()
        with self._lock:
            hit = self._material.get(name)
        if hit is not None and hit[0] > now:
            return cast(T, hit[1])
        value = load()
        with self._lock:
            self._material[name] = (now + self.policy.material_ttl.total_seconds(), value)
        return value

    def _peek(self, name: str) -> object | None:
        """Material still cached, or None (then a session is needed to load it)."""
        hit = self._material.get(name)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def timestamp_from_memory(self, query_der: bytes) -> bytes | None:
        """`timestamp_response` without a session while the TSA material is cached; None when
        it must be loaded first."""
        config = self._peek(CaName.TSA.value)
        if not isinstance(config, tsa.TsaConfig):
            return None
        return tsa.respond(
            query_der, config=config, now=self.authority.clock(), serial=tsa.new_serial()
        )

    def timestamp_response(self, session: Session, query_der: bytes, *, sm2: bool = False) -> bytes:
        """A TimeStampResp DER for any input (rejection with failInfo for bad queries)."""
        return tsa.respond(
            query_der,
            config=self.tsa_config(session, sm2=sm2),
            now=self.authority.clock(),
            serial=tsa.new_serial(),
        )

    # -- validation data for signatures (B-LT) ---------------------------------------------

    def ocsp_for(
        self,
        session: Session,
        *,
        certificate: x509.Certificate,
        issuer_ca: str,
        epoch: int | None = None,
    ) -> bytes:
        """Our own responder's answer for one certificate, produced in process (no HTTP): the
        pre-produced one while current (`epoch` as for `ocsp_response`)."""
        if is_sm2_ca(issuer_ca):  # pyca cannot hash an SM2 issuer key for the CertID
            issuer = self.authority.ca_certificate(session, issuer_ca)
            request_der = ocsp_request(
                certificate.public_bytes(Encoding.DER), issuer.public_bytes(Encoding.DER)
            )
            return self.ocsp_response(session, request_der, epoch=epoch)
        request = (
            x509_ocsp.OCSPRequestBuilder()
            .add_certificate(
                certificate, self.authority.ca_certificate(session, issuer_ca), hashes.SHA256()
            )
            .build()
        )
        return self.ocsp_response(session, request.public_bytes(Encoding.DER), epoch=epoch)

    def revocation_data(
        self,
        session: Session,
        *,
        certificate: x509.Certificate,
        issuer_ca: str,
        epoch: int | None = None,
    ) -> RevocationData:
        """What a B-LT signature embeds: OCSP for the signer (pre-produced while current; see
        `ocsp_response` for `epoch`), the root CRL for the CAs above it and for the TSA, and
        the responder and TSA certificates (the SM2 ones for a certificate of the SM2
        hierarchy)."""
        sm2 = is_sm2_ca(issuer_ca)
        tsa_name, root = (CaName.SM2_TSA, CaName.SM2_ROOT) if sm2 else (CaName.TSA, CaName.ROOT)
        extra = [self.authority.ca_certificate(session, tsa_name)]
        responder = (SM2_OCSP_RESPONDERS if sm2 else OCSP_RESPONDERS).get(CaName(issuer_ca))
        if responder is not None:
            extra.append(self.authority.ca_certificate(session, responder))
        return RevocationData(
            ocsp_responses=(
                self.ocsp_for(session, certificate=certificate, issuer_ca=issuer_ca, epoch=epoch),
            ),
            crls=(self.current_crl(session, root),),
            certificates=tuple(extra),
        )

    def revocation_for(
        self, session: Session, *, issuer: x509.Certificate, certificate: x509.Certificate
    ) -> bytes | None:
        """Evidence for a certificate one of OUR CAs issued: OCSP from our responder for leaves
        of the issuing CAs, the root's CRL for what the root issued; None for anyone else's."""
        for ca in CRL_ISSUERS:
            if session.get(CaRecord, ca) is None:
                continue
            if self.authority.ca_certificate(session, ca) != issuer:
                continue
            if ca in OCSP_RESPONDERS or ca in SM2_OCSP_RESPONDERS:
                return self.ocsp_for(session, certificate=certificate, issuer_ca=ca)
            return self.current_crl(session, ca)
        return None

    def ca_certificate(self, session: Session, ca: str) -> x509.Certificate:
        if ca not in {c.value for c in CRL_ISSUERS} or session.get(CaRecord, ca) is None:
            raise UnknownCaError(f"no CA certificate is published as {ca!r}")
        return self.authority.ca_certificate(session, ca)
