"""What a seal worker keeps between sealings (issue 12): per seal certificate the unlocked
`KeySigner` with its chain (and the pyhanko signer over it), the in-process time-stamper (so
pyhanko's size estimate reuses one dummy token), and for B-LT the validation material: the
pre-produced OCSP answer for the seal's own certificate, the root CRL and the certificates.

Nothing here decides whether a seal may be used: the service authorises every request afresh
from the database before it hands the worker a job, so a suspended seal or a withdrawn grant
is refused on the next request whatever is kept here. What is kept is retired

* when any certificate status changes (the shared status epoch, pki/status_epoch.py): a
  revoked certificate's key is dropped from memory at once, B-LT material re-read;
* after `IDENTITY_SECONDS` (keys) or `MATERIAL_SECONDS` (validation material, so a re-issued
  CRL is embedded within that time);
* when the TSA material the publisher caches is renewed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlmodel import Session

from app.sealing import signing_identity, timestamper, validation_material
from app.wiring import Services, per_services
from seals.signing import SigningIdentity, ValidationMaterial

if TYPE_CHECKING:
    from pki.timestamper import InProcessTimeStamper

T = TypeVar("T")
IDENTITY_SECONDS = 300.0
MATERIAL_SECONDS = 60.0
MAX_ENTRIES = 256


@dataclass(frozen=True, slots=True)
class _Kept(Generic[T]):
    value: T
    epoch: int
    until: float


class _Shelf(Generic[T]):
    """Values by key, each valid for one status epoch and a number of seconds."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: dict[tuple[str, ...], _Kept[T]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], epoch: int, make: Callable[[], T]) -> T:
        kept = self._items.get(key)
        now = time.monotonic()
        if kept is not None and kept.epoch == epoch and kept.until > now:
            return kept.value
        value = make()
        with self._lock:
            if len(self._items) >= MAX_ENTRIES:
                self._items.clear()
            self._items[key] = _Kept(value, epoch, now + self.seconds)
        return value


class SealWorkerCache:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._identities: _Shelf[SigningIdentity] = _Shelf(IDENTITY_SECONDS)
        self._material: _Shelf[ValidationMaterial] = _Shelf(MATERIAL_SECONDS)
        self._stampers: dict[bool, tuple[object, InProcessTimeStamper]] = {}

    def epoch(self) -> int:
        """Read before the session that reads anything the kept values are built from."""
        return self.services.publisher.status_epoch.current()

    def identity(
        self,
        session: Session,
        *,
        epoch: int,
        certificate_id: str,
        key_id: str,
        eseal: bytes | None = None,
    ) -> SigningIdentity:
        seal_data = hashlib.sha256(eseal).hexdigest() if eseal is not None else ""
        return self._identities.get(
            (certificate_id, key_id, seal_data),
            epoch,
            lambda: signing_identity(
                session, self.services, certificate_id=certificate_id, key_id=key_id, eseal=eseal
            ),
        )

    def timestamper(self, session: Session, *, sm2: bool = False) -> InProcessTimeStamper:
        """Our TSA (`sm2`: the SM2 one), the same stamper while its material is the same."""
        config = self.services.publisher.tsa_config(session, sm2=sm2)  # same object while kept
        kept = self._stampers.get(sm2)
        if kept is None or kept[0] is not config:
            kept = self._stampers[sm2] = (config, timestamper(session, self.services, sm2=sm2))
        return kept[1]

    def validation(
        self, session: Session, *, epoch: int, identity: SigningIdentity, issuer_ca: str
    ) -> ValidationMaterial:
        serial = format(identity.certificate.serial_number, "x")
        return self._material.get(
            (issuer_ca, serial),
            epoch,
            lambda: validation_material(
                session, self.services, identity=identity, issuer_ca=issuer_ca, epoch=epoch
            ),
        )


cache_for = per_services(SealWorkerCache)
"""The cache of this process's services (a seal worker builds its services once)."""
