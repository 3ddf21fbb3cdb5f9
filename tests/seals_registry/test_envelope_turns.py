"""Whose turn it is in an envelope and which transitions its status allows (`seals.envelopes`,
no database)."""

from __future__ import annotations

import pytest

from seals.envelopes import (
    EnvelopeAction,
    EnvelopeStateError,
    EnvelopeStatus,
    ParticipantStatus,
    Routing,
    next_status,
    whose_turn,
)
from seals.models_envelopes import EnvelopeParticipant


def _p(position: int, status: ParticipantStatus) -> EnvelopeParticipant:
    return EnvelopeParticipant(
        id=f"p{position}",
        envelope_id="e",
        position=position,
        organization_id="o",
        seal_id="s",
        placement="{}",
        level="B-B",
        status=status.value,
    )


def test_turns_and_transitions() -> None:
    waiting, signed = ParticipantStatus.WAITING, ParticipantStatus.SIGNED
    rows = [_p(2, waiting), _p(1, signed), _p(3, waiting)]
    assert whose_turn(Routing.SEQUENTIAL, rows) == ["p2"]
    assert whose_turn(Routing.PARALLEL, rows) == ["p2", "p3"]
    assert whose_turn(Routing.PARALLEL, [*rows, _p(4, ParticipantStatus.DECLINED)]) == []
    assert whose_turn(Routing.SEQUENTIAL, [_p(1, signed)]) == []
    assert next_status("draft", EnvelopeAction.SEND) is EnvelopeStatus.IN_PROGRESS
    assert next_status("in_progress", EnvelopeAction.COMPLETE) is EnvelopeStatus.COMPLETED
    for status in ("completed", "declined", "expired", "cancelled"):
        for action in EnvelopeAction:
            with pytest.raises(EnvelopeStateError):
                next_status(status, action)
    with pytest.raises(EnvelopeStateError):
        next_status("draft", EnvelopeAction.SIGN)
