"""Webhooks: signed JSON callbacks, queued in the database and delivered after commit.

An envelope step that ends the envelope queues a `WebhookDelivery` row in its own
transaction (`enqueue`); nothing leaves the process inside that transaction. A background
`Worker` (a thread started by the app's lifespan, woken after each commit that queued
something) claims due deliveries, POSTs them with a timeout and logs every attempt
(`WebhookAttempt`). A failed attempt is retried with exponential backoff until
`RetryPolicy.max_attempts`; then the delivery is `failed`. Because the queue is in the
database a restart loses nothing, and several processes may run workers: a claim takes the
row with `FOR UPDATE SKIP LOCKED` and leases it for the length of one attempt.

Receivers check `X-Eseal-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
envelope's webhook secret>`. The body carries its own `timestamp` (also sent as
`X-Eseal-Timestamp`), so a receiver can refuse stale replays; retries send the same body.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, event, func
from sqlmodel import Session, col, select

from app.db import unit_of_work
from app.errors import InvalidInput
from app.models_agency import DeliveryWebhook
from app.models_webhooks import EnvelopeWebhook, WebhookAttempt, WebhookDelivery
from app.settings import Settings

log = logging.getLogger("eseal.webhooks")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
SIGNATURE_HEADER = "X-Eseal-Signature"
TIMESTAMP_HEADER = "X-Eseal-Timestamp"
USER_AGENT = "eseal-webhooks/1"
MIN_SECRET_LENGTH = 16
QUEUED = "eseal.webhooks.queued"
_RESPONSE_READ_LIMIT = 64 * 1024
_LEASE_MARGIN_SECONDS = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n (1-based) that fails is retried after base * factor**(n-1), capped."""

    base_seconds: float = 10.0
    factor: float = 2.0
    max_delay_seconds: float = 3600.0
    max_attempts: int = 8
    timeout_seconds: float = 10.0

    def delay(self, attempt: int) -> float:
        return float(
            min(self.base_seconds * self.factor ** max(0, attempt - 1), self.max_delay_seconds)
        )


# --- secrets and signatures -----------------------------------------------------------------


class SecretBox:
    """AES-256-GCM under a key derived (HKDF-SHA256) from the master key; the envelope id is
    the associated data, so a ciphertext cannot be moved to another envelope."""

    def __init__(self, master_key: bytes) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"eseal/webhook-secrets/v1"
        ).derive(master_key)
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<hidden>)"

    def seal(self, envelope_id: str, secret: str) -> tuple[bytes, bytes]:
        nonce = os.urandom(12)
        return nonce, self._aead.encrypt(nonce, secret.encode(), envelope_id.encode())

    def open(self, envelope_id: str, nonce: bytes, ciphertext: bytes) -> bytes:
        try:
            return self._aead.decrypt(nonce, ciphertext, envelope_id.encode())
        except InvalidTag:
            raise ValueError("the webhook secret cannot be decrypted") from None


def secret_box(settings: Settings) -> SecretBox:
    from app.wiring import master_key

    return SecretBox(master_key(settings))


def signature(secret: bytes, body: bytes) -> str:
    """The `X-Eseal-Signature` value for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str) -> bool:
    """What a receiver does (constant-time comparison)."""
    return hmac.compare_digest(signature(secret, body), header)


# --- destinations ---------------------------------------------------------------------------


def _is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def check_url(url: str, *, settings: Settings) -> str:
    """A callback URL we are willing to call: http(s), a host, no credentials; in production
    https only and never a loopback, private or link-local address literal."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise InvalidInput(f"the webhook URL is not valid: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("the webhook URL must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise InvalidInput("the webhook URL must not carry credentials")
    if settings.environment == "production" and parts.scheme != "https":
        raise InvalidInput("webhook URLs must use https")
    host = parts.hostname
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    # In every environment (issue 10): only hosts named in outbound_allowed_hosts (tests, a
    # lab receiver) may be loopback/private; names are checked again after resolution.
    if host.lower() not in allowed_hosts(settings) and (
        host == "localhost" or (literal is not None and not literal.is_global)
    ):
        raise InvalidInput("webhook URLs must point to a public address")
    return text


def allowed_hosts(settings: Settings) -> frozenset[str]:
    return frozenset(h.lower() for h in getattr(settings, "outbound_allowed_hosts", ()))


def _resolve_public(host: str, port: int) -> None:
    """Production: refuse a host that resolves to a non-public address (SSRF)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        if not _is_public(str(info[4][0])):
            raise OSError(f"{host} resolves to a non-public address")


def http_post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float, public_only: bool
) -> int:
    """POST `body` to exactly `url` (no redirects, no proxies); the response status."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if public_only:
        _resolve_public(host, port)
    connection: HTTPConnection
    if parts.scheme == "https":
        connection = HTTPSConnection(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = HTTPConnection(host, port, timeout=timeout)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(_RESPONSE_READ_LIMIT)
        return int(response.status)
    finally:
        connection.close()


# --- queueing (inside the caller's transaction) -------------------------------------------


def subscribe(
    session: Session, box: SecretBox, *, envelope_id: str, url: str, secret: str
) -> EnvelopeWebhook:
    if not MIN_SECRET_LENGTH <= len(secret) <= 200:
        raise InvalidInput(f"the webhook secret has {MIN_SECRET_LENGTH} to 200 characters")
    nonce, ciphertext = box.seal(envelope_id, secret)
    row = EnvelopeWebhook(
        envelope_id=envelope_id, url=url, secret_nonce=nonce, secret_ciphertext=ciphertext
    )
    session.add(row)
    session.flush()
    return row


def enqueue(
    session: Session,
    *,
    envelope_id: str,
    event: str,
    data: dict[str, Any],
    now: datetime,
) -> WebhookDelivery | None:
    """Queue `event` for the envelope's webhook (None when it has none). The body is fixed
    here: every attempt sends (and signs) the same bytes."""
    hook = session.get(EnvelopeWebhook, envelope_id)
    return _queue(session, hook, event=event, data=data, now=now, envelope_id=envelope_id)


def enqueue_for_delivery(
    session: Session, *, delivery_id: str, event: str, data: dict[str, Any], now: datetime
) -> WebhookDelivery | None:
    """Queue `event` for an electronic delivery's webhook (None when it has none)."""
    hook = session.get(DeliveryWebhook, delivery_id)
    return _queue(session, hook, event=event, data=data, now=now, delivery_id=delivery_id)


def _queue(
    session: Session,
    hook: EnvelopeWebhook | DeliveryWebhook | None,
    *,
    event: str,
    data: dict[str, Any],
    now: datetime,
    envelope_id: str | None = None,
    delivery_id: str | None = None,
) -> WebhookDelivery | None:
    """A delivery of `event` to `hook` for its envelope or its electronic delivery, the body
    fixed now; None without a hook."""
    if hook is None:
        return None
    delivery = WebhookDelivery(
        envelope_id=envelope_id,
        delivery_id=delivery_id,
        event=event,
        url=hook.url,
        body="",
        status=PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    payload = {
        "id": delivery.id,
        "event": delivery.event,
        "timestamp": int(now.timestamp()),
        "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": data,
    }
    delivery.body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    session.add(delivery)
    session.flush()
    session.info[QUEUED] = True
    return delivery


def wake_after_commit(session: Session, wake: Callable[[], None]) -> None:
    """Call `wake` once this session commits, if it queued a delivery (the worker polls
    anyway; this only makes delivery immediate)."""

    def after_commit(committed: Session) -> None:
        if committed.info.pop(QUEUED, False):
            wake()

    event.listen(session, "after_commit", after_commit, once=True)


def deliveries(
    session: Session, envelope_id: str
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    rows = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.envelope_id == envelope_id)
        .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id))
    ).all()
    result = []
    for row in rows:
        attempts = session.exec(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == row.id)
            .order_by(col(WebhookAttempt.number))
        ).all()
        result.append((row, list(attempts)))
    return result


# --- delivery (outside any request transaction) ----------------------------------------------


def _subscription(session: Session, row: WebhookDelivery) -> tuple[str, bytes, bytes] | None:
    """(the id the secret is bound to, nonce, ciphertext) of an envelope's or a delivery's
    webhook."""
    hook: EnvelopeWebhook | DeliveryWebhook | None = None
    if row.envelope_id is not None:
        hook, owner = session.get(EnvelopeWebhook, row.envelope_id), row.envelope_id
    elif row.delivery_id is not None:
        hook, owner = session.get(DeliveryWebhook, row.delivery_id), row.delivery_id
    return (owner, hook.secret_nonce, hook.secret_ciphertext) if hook is not None else None


@dataclass(frozen=True)
class _Claimed:
    id: str
    envelope_id: str
    event: str
    url: str
    body: bytes
    secret: bytes
    timestamp: str


Transport = Callable[..., int]


class Sender:
    """Claims due deliveries, sends them, records each attempt; one pass per `run_once`."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        transport: Transport = http_post,
        batch: int = 20,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.transport = transport
        self.batch = batch
        self._box: SecretBox | None = None

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = secret_box(self.settings)
        return self._box

    def _claim(self) -> list[_Claimed]:
        now = self.clock()
        lease = timedelta(seconds=self.policy.timeout_seconds + _LEASE_MARGIN_SECONDS)
        claimed: list[_Claimed] = []
        with unit_of_work(self.engine) as session:
            due = session.exec(
                select(WebhookDelivery)
                .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
                .order_by(col(WebhookDelivery.next_attempt_at))
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            ).all()
            for row in due:
                hook = _subscription(session, row)
                if hook is None:  # pragma: no cover - rows are never deleted
                    row.status, row.last_error = FAILED, "the webhook is gone"
                    session.add(row)
                    continue
                try:
                    secret = self.box.open(*hook)
                except ValueError as exc:  # another master key: never deliverable
                    row.status, row.last_error = FAILED, str(exc)
                    session.add(row)
                    continue
                row.next_attempt_at = now + lease
                session.add(row)
                claimed.append(
                    _Claimed(
                        id=row.id,
                        envelope_id=row.envelope_id or row.delivery_id or "",
                        event=row.event,
                        url=row.url,
                        body=row.body.encode(),
                        secret=secret,
                        timestamp=str(json.loads(row.body)["timestamp"]),
                    )
                )
        return claimed

    def _attempt(self, job: _Claimed) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-Eseal-Event": job.event,
            "X-Eseal-Delivery": job.id,
            TIMESTAMP_HEADER: job.timestamp,
            SIGNATURE_HEADER: signature(job.secret, job.body),
        }
        started = self.clock()
        tick = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            status = self.transport(
                job.url,
                job.body,
                headers,
                timeout=self.policy.timeout_seconds,
                public_only=(urlsplit(job.url).hostname or "").lower()
                not in allowed_hosts(self.settings),
            )
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (OSError, ValueError) as exc:  # timeouts, refused connections, TLS, DNS
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.monotonic() - tick) * 1000)
        with unit_of_work(self.engine) as session:
            row = session.exec(
                select(WebhookDelivery).where(WebhookDelivery.id == job.id).with_for_update()
            ).one()
            row.attempts += 1
            session.add(
                WebhookAttempt(
                    delivery_id=row.id,
                    number=row.attempts,
                    started_at=started,
                    duration_ms=duration_ms,
                    status_code=status,
                    error=error,
                    succeeded=error is None,
                )
            )
            row.last_status_code = status
            row.last_error = error
            now = self.clock()
            if error is None:
                row.status = DELIVERED
                row.delivered_at = now
            elif row.attempts >= self.policy.max_attempts:
                row.status = FAILED
            else:
                row.next_attempt_at = now + timedelta(seconds=self.policy.delay(row.attempts))
            session.add(row)
        if error is not None:
            log.info("webhook delivery %s attempt failed: %s", job.id, error)

    def run_once(self) -> int:
        """Send every delivery due now; the number attempted."""
        jobs = self._claim()
        for job in jobs:
            self._attempt(job)
        return len(jobs)

    def next_due_in(self) -> float | None:
        """Seconds until the next pending delivery is due (None: nothing pending)."""
        with Session(self.engine) as session:
            due = session.exec(
                select(func.min(WebhookDelivery.next_attempt_at)).where(
                    WebhookDelivery.status == PENDING
                )
            ).one()
        if due is None:
            return None
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        return max(0.0, (due - self.clock()).total_seconds())


class Worker:
    """A daemon thread: periodic `tasks` (e.g. expiring envelopes), then webhook delivery;
    sleeps until the next delivery is due, the poll interval passes, or `wake()`."""

    def __init__(
        self,
        sender: Sender,
        *,
        tasks: Sequence[Callable[[], object]] = (),
        poll_seconds: float = 2.0,
    ) -> None:
        self.sender = sender
        self.tasks = tuple(tasks)
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._users = 0

    def start(self) -> None:
        """Start the thread (counted: an app whose lifespan is entered twice, as tests do,
        keeps one thread until the last `stop`)."""
        with self._guard:
            self._users += 1
            if self._thread is not None:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="eseal-webhooks", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        with self._guard:
            self._users = max(0, self._users - 1)
            if self._users or self._thread is None:
                return
            thread, self._thread = self._thread, None
            self._stop.set()
            self._wake.set()
        thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def run_once(self) -> int:
        for task in self.tasks:
            task()
        return self.sender.run_once()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            wait = self.poll_seconds
            try:
                if self.run_once():
                    continue
                due = self.sender.next_due_in()
                if due is not None:
                    wait = min(wait, max(due, 0.01))
            except Exception:  # keep the worker alive; the next pass retries
                log.exception("webhook worker pass failed")
            self._wake.wait(wait)
