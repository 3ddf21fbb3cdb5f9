"""The one place a wrong seal PIN is counted, whoever asked: the API, the console's forms
(signing, envelopes, changing the PIN) and envelopes all end here.

The PIN itself is checked by the seal registry (`SealRegistry._verify_pin`, which also refuses
a locked seal); a mismatch raises `WrongPinError`, the request's transaction rolls back, and
this module counts the failure in a unit of work of its own -- so the count, the lock and the
audit events survive the rollback, and no caller can forget them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.db import unit_of_work
from app.services import seals as seal_service
from app.wiring import Services
from seals.errors import WrongPinError
from seals.pin import PinFailure


def count_wrong_pin(services: Services, error: WrongPinError) -> PinFailure:
    """Count (and audit) one wrong PIN; lock the seal when the limit is reached."""
    with unit_of_work(services.engine) as session:
        return seal_service.record_pin_failure(session, services, error)


def refusal_detail(failure: PinFailure) -> str:
    """What the caller is told, from the counted state (never from before the count)."""
    if failure.locked_until is not None:
        return (
            "wrong PIN; too many failures: the seal is locked until "
            f"{failure.locked_until.isoformat()}"
        )
    return f"wrong PIN ({failure.attempts_left} attempts left before the seal locks)"


@dataclass(frozen=True)
class PinRefusal:
    """How a counted wrong PIN is answered, by the API and the console alike."""

    status: int  # 403, or 423 once this failure locked the seal
    code: str  # the problem type: wrong-pin, or seal-locked
    detail: str
    extra: dict[str, object]  # the error's own, with attempts_left and, once locked, locked_until
    failure: PinFailure


def refuse_wrong_pin(services: Services, error: WrongPinError) -> PinRefusal:
    """Count the wrong PIN (`count_wrong_pin`) and say how to answer it."""
    failure = count_wrong_pin(services, error)
    extra: dict[str, object] = {**error.extra, "attempts_left": failure.attempts_left}
    if failure.locked_until is None:
        return PinRefusal(403, error.code, refusal_detail(failure), extra, failure)
    extra["locked_until"] = failure.locked_until.isoformat()
    return PinRefusal(423, "seal-locked", refusal_detail(failure), extra, failure)
