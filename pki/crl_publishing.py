"""The CRL half of `pki.publication.Publisher`: each issuing CA's CRL, kept current in the
database (`CrlState`) so every instance hands out the same one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session

from pki import crl
from pki.errors import UnknownCaError
from pki.models import CaRecord, CrlState
from pki.profiles import CaName
from pki.sm2_ca import build_sm2_crl, is_sm2_ca

if TYPE_CHECKING:
    from pki.authority import Authority
    from pki.publication import PublicationPolicy

CRL_ISSUERS = (  # the CAs whose certificate and CRL are published under /pki/ca and /pki/crl
    CaName.ROOT,
    CaName.ORGANIZATION,
    CaName.PERSONAL,
    CaName.SM2_ROOT,
    CaName.SM2_ORGANIZATION,
    CaName.SM2_PERSONAL,
)


class CrlPublishing:
    """CRL issuing for `Publisher`, which provides the authority and the policy."""

    authority: Authority
    policy: PublicationPolicy

    def crl_issuers(self, session: Session) -> list[str]:
        """The CAs of `CRL_ISSUERS` that exist here (the SM2 ones only with the SM2 hierarchy)."""
        return [ca.value for ca in CRL_ISSUERS if session.get(CaRecord, ca) is not None]

    def current_crl(self, session: Session, ca: str) -> bytes:
        """The CA's current CRL; a new one is issued when the stored one nears nextUpdate."""
        stored = self.stored_crl(session, ca)
        return stored if stored is not None else self.refresh_crl(session, ca, unless_fresh=True)

    def stored_crl(self, session: Session, ca: str) -> bytes | None:
        """The stored CRL while it is fresh enough to hand out (None: issue a new one); reads
        only, so callers can try it without a write transaction."""
        name = self._crl_issuer(ca)
        state = session.get(CrlState, name)
        now = self.authority.clock()
        if (
            state is None
            or state.crl_der is None
            or state.next_update is None
            or state.next_update - now <= self.policy.crl_refresh_before
        ):
            return None
        return state.crl_der

    def refresh_crl(self, session: Session, ca: str, *, unless_fresh: bool = False) -> bytes:
        """Issue a new CRL now (after a revocation, in the revocation's transaction).

        With `unless_fresh` (a CRL found stale), the row lock is taken first and the stored
        CRL handed out if another instance issued a fresh one meanwhile: one new CRL, not one
        per instance that noticed.
        """
        name = self._crl_issuer(ca)
        state = session.get(
            CrlState, name, with_for_update=True, populate_existing=True
        ) or CrlState(ca_name=name)
        if unless_fresh and (fresh := self.stored_crl(session, ca)) is not None:
            return fresh
        now = self.authority.clock()
        entries = [
            crl.RevokedEntry(serial=r.serial, revoked_at=r.revoked_at, reason=r.reason)
            for r in self.authority.revoked_entries(session, name)
        ]
        if is_sm2_ca(name):
            der = self._sm2_crl(session, name, entries, state.crl_number + 1)
        else:
            der = crl.build_crl(
                issuer_cert=self.authority.ca_certificate(session, name),
                issuer_key=self.authority.ca_signer(session, name),
                entries=entries,
                number=state.crl_number + 1,
                this_update=now,
                next_update=now + self.policy.crl_validity,
            )
        state.crl_number += 1
        state.crl_der = der
        state.this_update = now
        state.next_update = now + self.policy.crl_validity
        session.add(state)
        session.flush()
        return der

    def _sm2_crl(
        self, session: Session, name: str, entries: list[crl.RevokedEntry], number: int
    ) -> bytes:
        now = self.authority.clock()
        if session.get(CaRecord, name) is None:
            raise UnknownCaError(f"CA {name!r} is not initialised")
        return build_sm2_crl(
            issuer_der=self.authority.ca_certificate(session, name).public_bytes(Encoding.DER),
            signer=self.authority.ca_signer(session, name),
            entries=[(e.serial, e.revoked_at, e.reason) for e in entries],
            number=number,
            this_update=now,
            next_update=now + self.policy.crl_validity,
        )

    def _crl_issuer(self, ca: str) -> str:
        if ca not in {c.value for c in CRL_ISSUERS}:
            raise UnknownCaError(f"no CRL is published for {ca!r}")
        return ca
