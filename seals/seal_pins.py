"""A personal seal's PIN: set, change, verify, count failures; part of
`seals.registry.SealRegistry` (the hashing and the failure counter are seals/pin.py)."""

from __future__ import annotations

from sqlmodel import Session

from seals import pin as pins
from seals.authorization import SealFacts
from seals.errors import (
    PinNotSetError,
    PinRequiredError,
    SealInputError,
    SealLockedError,
    WrongPinError,
)
from seals.kinds import SealKind
from seals.models import Seal
from seals.seal_lookups import SealLookups


class SealPins(SealLookups):
    """PIN handling over the seal rows; `SealRegistry` provides the PIN policy."""

    pin_policy: pins.PinPolicy

    def set_pin(
        self,
        session: Session,
        *,
        seal_id: str,
        organization_id: str | None,
        pin: str,
        current_pin: str | None,
    ) -> SealFacts:
        """Set (first time) or change (with the current PIN) a personal seal's PIN."""
        seal = self.row(session, seal_id, organization_id=organization_id)
        if SealKind(seal.kind) is not SealKind.PERSONAL:
            raise SealInputError("only personal seals have a PIN")
        if seal.pin_hash is not None:
            self._verify_pin(seal, current_pin, what="changing the PIN")
        seal.pin_hash = pins.hash_pin(pin)
        seal.pin_failures = 0
        seal.pin_locked_until = None
        session.add(seal)
        session.flush()
        return SealFacts.of(seal, now=self.clock())

    def record_pin_failure(self, session: Session, *, seal_id: str) -> pins.PinFailure:
        """Count a wrong PIN (in a transaction of its own; see `WrongPinError`)."""
        return pins.record_failure(
            session, seal_id=seal_id, now=self.clock(), policy=self.pin_policy
        )

    def _verify_pin(self, seal: Seal, pin: str | None, *, what: str) -> None:
        now = self.clock()
        if seal.pin_locked_until is not None and now < seal.pin_locked_until:
            raise SealLockedError(
                f"seal {seal.code} is locked after too many wrong PINs until "
                f"{seal.pin_locked_until.isoformat()}",
                locked_until=seal.pin_locked_until.isoformat(),
            )
        if seal.pin_hash is None:
            raise PinNotSetError(f"the owner of seal {seal.code} has not set a PIN yet")
        if not pin:
            raise PinRequiredError(f"{what} with seal {seal.code} needs its owner's PIN")
        if not pins.pin_matches(seal.pin_hash, pin):
            left = max(0, self.pin_policy.max_failures - seal.pin_failures - 1)
            raise WrongPinError(
                f"wrong PIN for seal {seal.code} ({left} attempts left before it locks)",
                seal_id=seal.id,
                attempts_left=left,
            )
