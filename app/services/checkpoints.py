"""Checkpoints of the audit chain: its head and the RFC 9162 Merkle root over every event
hash, time-stamped by our TSA — periodically (setting ``audit_checkpoint_minutes``) and on
demand. The chain alone cannot show a cut-off or re-hashed tail; a checkpoint can: a chain
that now ends before the checkpoint's event, or holds another hash there, was changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from cryptography.hazmat.primitives.serialization import Encoding
from sqlmodel import Session, col, select

from app.db import unit_of_work
from app.models import AuditEvent
from app.models_policy import AuditCheckpoint
from app.services import audit
from app.wiring import Services
from pki import merkle
from pki.timestamp_tokens import TokenError, check_token, stamp
from seals.evidence import checkpoint_bytes

log = logging.getLogger("eseal.audit")


def _event_hashes(session: Session, upto: int | None = None) -> list[bytes]:
    query = select(AuditEvent.hash).order_by(col(AuditEvent.seq))
    if upto is not None:
        query = query.where(col(AuditEvent.seq) <= upto)
    return [bytes.fromhex(h) for h in session.exec(query).all()]


def latest(session: Session) -> AuditCheckpoint | None:
    return session.exec(
        select(AuditCheckpoint).order_by(col(AuditCheckpoint.seq).desc()).limit(1)
    ).first()


def create(session: Session, services: Services, *, actor: str) -> AuditCheckpoint:
    """Time-stamp the chain's current head (or return the last checkpoint if nothing was
    appended since)."""
    hashes = _event_hashes(session)
    last = latest(session)
    if last is not None and last.seq == len(hashes):
        return last
    root = merkle.root(hashes).hex()
    head = hashes[-1].hex() if hashes else audit.GENESIS_HASH
    token = stamp(
        checkpoint_bytes(seq=len(hashes), head_hash=head, merkle_root=root),
        config=services.publisher.tsa_config(session),
        now=services.authority.clock(),
    )
    checkpoint = AuditCheckpoint(
        seq=len(hashes),
        head_hash=head,
        merkle_root=root,
        timestamp_token=token,
        created_by=actor,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def inclusion_paths(
    session: Session, checkpoint: AuditCheckpoint, seqs: Sequence[int]
) -> dict[int, list[str]]:
    """RFC 9162 audit paths of the given events into the checkpoint's tree."""
    hashes = _event_hashes(session, upto=checkpoint.seq)
    return {
        seq: [p.hex() for p in merkle.inclusion_path(hashes, seq - 1)]
        for seq in seqs
        if 0 < seq <= checkpoint.seq
    }


@dataclass(frozen=True)
class CheckpointCheck:
    holds: bool
    checkpoint_seq: int | None
    checkpoint_at: str | None
    events: int
    reason: str | None = None


def verify(session: Session, services: Services) -> CheckpointCheck:
    """The chain checked link by link, then against its last checkpoint."""
    chain = audit.verify_chain(session)
    last = latest(session)
    at = last.created_at.isoformat() if last else None
    seq = last.seq if last else None
    if not chain.intact:
        return CheckpointCheck(False, seq, at, chain.events, chain.reason)
    if last is None:
        return CheckpointCheck(True, None, None, chain.events, "no checkpoint yet")
    if chain.events < last.seq:
        return CheckpointCheck(
            False,
            seq,
            at,
            chain.events,
            f"the chain ends at event {chain.events}, but the checkpoint of {at} covers "
            f"{last.seq} events: its tail was removed",
        )
    hashes = _event_hashes(session, upto=last.seq)
    head = hashes[-1].hex() if hashes else audit.GENESIS_HASH
    if head != last.head_hash:
        return CheckpointCheck(
            False, seq, at, chain.events, f"event {last.seq} is not the one checkpointed at {at}"
        )
    if merkle.root(hashes).hex() != last.merkle_root:
        return CheckpointCheck(
            False, seq, at, chain.events, f"events up to {last.seq} were rewritten since {at}"
        )
    try:
        check_token(
            last.timestamp_token,
            checkpoint_bytes(seq=last.seq, head_hash=last.head_hash, merkle_root=last.merkle_root),
            trust_roots=[
                services.authority.ca_certificate(session, "root").public_bytes(Encoding.DER)
            ],
        )
    except TokenError as exc:
        return CheckpointCheck(False, seq, at, chain.events, f"checkpoint time-stamp: {exc}")
    return CheckpointCheck(True, seq, at, chain.events)


def periodic_task(services: Services) -> Callable[[], object]:
    """The worker's task: a checkpoint when the last is older than the setting's interval
    (0 switches it off) and the chain grew since."""
    minutes = services.settings.audit_checkpoint_minutes

    def run() -> object:
        if minutes <= 0:
            return None
        with unit_of_work(services.engine) as session:
            last = latest(session)
            now = services.authority.clock()
            if last is not None and now - last.created_at < timedelta(minutes=minutes):
                return None
            made = create(session, services, actor="system:checkpoint")
            log.info("audit checkpoint", extra={"seq": made.seq})
            return made.seq

    return run
