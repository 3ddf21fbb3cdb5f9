"""Electronic delivery (电子送达): an organization sends a stored (sealed) document to
another organization or to a person without an account (a one-time link); the recipient
opens it and acknowledges receipt.

Each state — sent, opened, acknowledged — is written as a canonical JSON record, time-stamped
by our own RFC 3161 TSA (the token covers the record's SHA-256) and audited against the
document, in the transaction of the act; the sender's webhook hears of it through the
webhook queue (`app.services.webhooks`). The link's token is shown once and stored as its SHA-256;
it expires, and acknowledging spends it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from asn1crypto import tsp
from sqlmodel import Session, col, select

from app.db import unit_of_work
from app.errors import Conflict, InvalidInput, NotFound
from app.models import Organization, StoredDocument
from app.models_agency import Delivery, DeliveryReceipt, DeliveryWebhook
from app.security import Principal, Scope
from app.services import audit, webhooks
from app.services.tenancy import require, visible_organization
from app.wiring import Services
from pki.errors import PkiError

READ_SCOPES = (Scope.envelopes_read, Scope.envelopes_write, Scope.seals_use)
MAX_DAYS = 90


class State(StrEnum):
    sent = "sent"
    opened = "opened"
    acknowledged = "acknowledged"


class LinkInvalid(NotFound):
    code = "delivery-link-invalid"


class DeliveryStateError(Conflict):
    code = "delivery-state"


@dataclass(frozen=True)
class Sent:
    delivery: Delivery
    token: str | None
    """The person's link token: shown once, never stored."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _may_read(principal: Principal) -> None:
    if not any(principal.has(s) for s in READ_SCOPES):
        require(principal, Scope.envelopes_read)


# --- sending ---------------------------------------------------------------------------------


def send(
    session: Session,
    services: Services,
    *,
    principal: Principal,
    organization_id: str,
    document_id: str,
    title: str,
    recipient_organization_id: str | None,
    recipient_name: str | None,
    expires_days: int,
    webhook_url: str | None,
    webhook_secret: str | None,
) -> Sent:
    visible_organization(session, principal, organization_id)
    require(principal, Scope.envelopes_write)
    document = session.get(StoredDocument, document_id)
    if document is None or document.organization_id != organization_id:
        raise NotFound(f"document {document_id} not found")
    title = title.strip()
    if not title or len(title) > 200:
        raise InvalidInput("a delivery has a title of 1 to 200 characters")
    if not 1 <= expires_days <= MAX_DAYS:
        raise InvalidInput(f"a delivery expires within 1 to {MAX_DAYS} days")
    token = None
    if recipient_organization_id is not None:
        recipient = session.get(Organization, recipient_organization_id)
        if recipient is None:
            raise NotFound(f"organization {recipient_organization_id} not found")
        name = recipient.name
    else:
        name = (recipient_name or "").strip()
        if not name or len(name) > 200:
            raise InvalidInput(
                "name the recipient (recipient_name) or give recipient_organization_id"
            )
        token = secrets.token_urlsafe(32)
    now = _now()
    delivery = Delivery(
        organization_id=organization_id,
        document_id=document.id,
        document_sha256=document.sha256,
        title=title,
        recipient_organization_id=recipient_organization_id,
        recipient_name=name,
        token_hash=token_hash(token) if token else None,
        expires_at=now + timedelta(days=expires_days),
        status=State.sent.value,
        sent_by=principal.actor,
        sent_at=now,
    )
    session.add(delivery)
    session.flush()
    if webhook_url:
        _subscribe(session, services, delivery, webhook_url, webhook_secret)
    _record(session, services, delivery, State.sent, actor=principal.actor, at=now)
    return Sent(delivery=delivery, token=token)


def _subscribe(
    session: Session, services: Services, delivery: Delivery, url: str, secret: str | None
) -> None:
    checked = webhooks.check_url(url, settings=services.settings)
    if secret is None or not webhooks.MIN_SECRET_LENGTH <= len(secret) <= 200:
        raise InvalidInput(
            f"a webhook needs a secret of {webhooks.MIN_SECRET_LENGTH} to 200 characters"
        )
    nonce, ciphertext = webhooks.secret_box(services.settings).seal(delivery.id, secret)
    session.add(
        DeliveryWebhook(
            delivery_id=delivery.id, url=checked, secret_nonce=nonce, secret_ciphertext=ciphertext
        )
    )
    session.flush()


# --- the evidence of each state -------------------------------------------------------------


def _record(
    session: Session,
    services: Services,
    delivery: Delivery,
    state: State,
    *,
    actor: str,
    at: datetime,
) -> DeliveryReceipt:
    """The state's canonical record, its RFC 3161 time-stamp, the audit event against the
    document and the webhook event — all in the caller's transaction."""
    record = json.dumps(
        {
            "delivery_id": delivery.id,
            "event": state.value,
            "at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "by": actor,
            "document_sha256": delivery.document_sha256,
            "sender_organization_id": delivery.organization_id,
            "recipient": delivery.recipient_name,
        },
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(record.encode()).digest()
    reply = _timestamp(session, services, digest)
    receipt = DeliveryReceipt(
        delivery_id=delivery.id, event=state.value, record=record, timestamp_reply=reply
    )
    session.add(receipt)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"delivery.{state.value}",
        target_type="document",
        target_id=delivery.document_id,
        organization_id=delivery.organization_id,
        details={
            "delivery_id": delivery.id,
            "recipient": delivery.recipient_name,
            "record_sha256": digest.hex(),
            "timestamp_reply_sha256": hashlib.sha256(reply).hexdigest(),
        },
    )
    webhooks.enqueue_for_delivery(
        session,
        delivery_id=delivery.id,
        event=f"delivery.{state.value}",
        data={
            "delivery_id": delivery.id,
            "document_id": delivery.document_id,
            "status": delivery.status,
            "record": json.loads(record),
        },
        now=at,
    )
    return receipt


def _timestamp(session: Session, services: Services, digest: bytes) -> bytes:
    """A TimeStampResp from our TSA, in process (no HTTP to ourselves)."""
    query = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": digest,
            },
            "nonce": int.from_bytes(secrets.token_bytes(8), "big"),
            "cert_req": True,
        }
    )
    reply = services.publisher.timestamp_response(session, query.dump())
    status = tsp.TimeStampResp.load(reply)["status"]["status"].native
    if status not in ("granted", "granted_with_mods"):
        raise PkiError(f"the time-stamp authority refused: {status}")
    return reply


# --- the recipient ---------------------------------------------------------------------------


def _transition(
    session: Session, services: Services, delivery: Delivery, state: State, *, actor: str
) -> Delivery:
    now = _now()
    if state is State.opened:
        if delivery.opened_at is not None:
            return delivery
        delivery.opened_at = now
        if delivery.status == State.sent:
            delivery.status = State.opened.value
    else:
        if delivery.acknowledged_at is not None:
            raise DeliveryStateError("receipt has already been acknowledged")
        if delivery.opened_at is None:
            _transition(session, services, delivery, State.opened, actor=actor)
        delivery.status, delivery.acknowledged_at = State.acknowledged.value, now
        delivery.acknowledged_by = actor
        delivery.token_hash = None  # the link is spent
    session.add(delivery)
    session.flush()
    _record(session, services, delivery, state, actor=actor, at=now)
    return delivery


def _record_opened(services: Services, delivery: Delivery, *, actor: str) -> Delivery:
    """Opening is a GET, whose session only reads (it never takes SQLite's write lock, and a
    write from a read snapshot fails at once when another writer got in first): the record
    of the opening is written in a short write transaction of its own."""
    if delivery.opened_at is not None:
        return delivery
    with unit_of_work(services.engine) as writing:
        current = writing.get(Delivery, delivery.id, with_for_update=True)
        assert current is not None  # found by the caller a moment ago; deliveries stay
        return _transition(writing, services, current, State.opened, actor=actor)


def for_recipient(
    session: Session, principal: Principal, delivery_id: str, *, lock: bool = True
) -> Delivery:
    """The delivery for its recipient; `lock` (the row, for a change in this session) is off
    for reads whose change is written in a transaction of its own."""
    delivery = session.get(Delivery, delivery_id, with_for_update=lock)
    if (
        delivery is None
        or delivery.recipient_organization_id is None
        or not (principal.may_act_for(delivery.recipient_organization_id))
    ):
        raise NotFound(f"delivery {delivery_id} not found")
    _may_read(principal)
    return delivery


def open_document(
    session: Session, services: Services, *, principal: Principal, delivery_id: str
) -> tuple[Delivery, bytes]:
    delivery = for_recipient(session, principal, delivery_id, lock=False)
    delivery = _record_opened(services, delivery, actor=principal.actor)
    return delivery, _document(session, services, delivery)


def acknowledge(
    session: Session, services: Services, *, principal: Principal, delivery_id: str
) -> Delivery:
    delivery = for_recipient(session, principal, delivery_id)
    return _transition(session, services, delivery, State.acknowledged, actor=principal.actor)


def _document(session: Session, services: Services, delivery: Delivery) -> bytes:
    document = session.get(StoredDocument, delivery.document_id)
    assert document is not None
    return services.blobs.get(document.sha256)


def by_token(session: Session, token: str, *, lock: bool = True) -> Delivery:
    """The delivery a link opens: unknown, spent and expired links are all refused alike."""
    query = select(Delivery).where(Delivery.token_hash == token_hash(token))
    delivery = session.exec(query.with_for_update() if lock else query).first()
    if delivery is None or delivery.expires_at <= _now():
        raise LinkInvalid("this delivery link is not valid (unknown, used or expired)")
    return delivery


def open_by_token(session: Session, services: Services, token: str) -> Delivery:
    delivery = by_token(session, token, lock=False)
    return _record_opened(services, delivery, actor=_link_actor(delivery))


def document_by_token(session: Session, services: Services, token: str) -> tuple[Delivery, bytes]:
    delivery = open_by_token(session, services, token)
    return delivery, _document(session, services, delivery)


def acknowledge_by_token(
    session: Session, services: Services, token: str, *, signed_name: str
) -> Delivery:
    delivery = by_token(session, token)
    name = signed_name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("type your name to acknowledge receipt")
    return _transition(
        session, services, delivery, State.acknowledged, actor=f"{_link_actor(delivery)}:{name}"
    )


def _link_actor(delivery: Delivery) -> str:
    return f"link:{delivery.id}"


# --- the sender and both sides --------------------------------------------------------------


def visible(session: Session, principal: Principal, delivery_id: str) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or not (
        principal.may_act_for(delivery.organization_id)
        or (
            delivery.recipient_organization_id is not None
            and principal.may_act_for(delivery.recipient_organization_id)
        )
    ):
        raise NotFound(f"delivery {delivery_id} not found")
    _may_read(principal)
    return delivery


def sent(
    session: Session,
    *,
    principal: Principal,
    organization_id: str,
    undelivered: bool,
    offset: int,
    limit: int,
) -> list[Delivery]:
    """The organization's deliveries, oldest unacknowledged first when `undelivered`."""
    visible_organization(session, principal, organization_id)
    _may_read(principal)
    query = select(Delivery).where(Delivery.organization_id == organization_id)
    if undelivered:
        query = query.where(Delivery.status != State.acknowledged.value).order_by(
            col(Delivery.sent_at)
        )
    else:
        query = query.order_by(col(Delivery.sent_at).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())


def received(
    session: Session, *, principal: Principal, organization_id: str, offset: int, limit: int
) -> list[Delivery]:
    visible_organization(session, principal, organization_id)
    _may_read(principal)
    return list(
        session.exec(
            select(Delivery)
            .where(Delivery.recipient_organization_id == organization_id)
            .order_by(col(Delivery.sent_at).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    )


def receipts(session: Session, delivery_id: str) -> list[DeliveryReceipt]:
    return list(
        session.exec(
            select(DeliveryReceipt)
            .where(DeliveryReceipt.delivery_id == delivery_id)
            .order_by(col(DeliveryReceipt.created_at), col(DeliveryReceipt.id))
        ).all()
    )


def receipt(
    session: Session, *, principal: Principal, delivery_id: str, event: str
) -> DeliveryReceipt:
    visible(session, principal, delivery_id)
    found = session.exec(
        select(DeliveryReceipt).where(
            DeliveryReceipt.delivery_id == delivery_id, DeliveryReceipt.event == event
        )
    ).first()
    if found is None:
        raise NotFound(f"no '{event}' record for delivery {delivery_id}")
    return found
