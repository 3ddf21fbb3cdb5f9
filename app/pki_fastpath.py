"""The PKI protocols' short way through the service: OCSP answers that are already signed and
time-stamps whose TSA key is already unlocked are answered here, as plain ASGI, before the
framework's routing, dependency solving and thread hand-off (which cost several times the
signature itself). Everything else -- a first request, an expired key cache, a nonce that
needs a status read, bad input -- goes on to the routes in app/protocols.py unchanged, which
answer the same bytes the slow way.

Sits inside the admission gate (the `pki` class still bounds what is in flight) and inside the
request-id, body-limit and security-header layers, so the answers carry the same headers.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.wiring import Services
from pki import ocsp
from pki.errors import OcspRequestError

log = logging.getLogger(__name__)

OCSP_PATH = "/pki/ocsp"
OCSP_GET_PREFIX = "/pki/ocsp/"
TSA_PATH = "/pki/tsa"
MAX_FAST_BODY = 64 * 1024
"""Larger bodies (never a real OCSP request or time-stamp query) go the long way."""


class PkiFastPath:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.publisher = services.publisher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/pki/"):
            await self.app(scope, receive, send)
            return
        method = scope.get("method")
        if method == "GET" and path.startswith(OCSP_GET_PREFIX):
            try:
                der = ocsp.decode_get_request(path[len(OCSP_GET_PREFIX) :])
            except OcspRequestError:
                der = b""
            answer = self.publisher.pre_produced_ocsp(der) if der else None
            if answer is not None:
                await _answer(send, answer, b"application/ocsp-response")
                return
            await self.app(scope, receive, send)
            return
        if method != "POST" or path not in (OCSP_PATH, TSA_PATH):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        answer, media = self._answer_from_memory(path, body) if body is not None else (None, b"")
        if answer is not None:
            await _answer(send, answer, media)
            return
        await self.app(scope, _replay(messages, receive), send)

    def _answer_from_memory(self, path: str, body: bytes) -> tuple[bytes | None, bytes]:
        try:
            if path == OCSP_PATH:
                return self.publisher.pre_produced_ocsp(body), b"application/ocsp-response"
            return self.publisher.timestamp_from_memory(body), b"application/timestamp-reply"
        except Exception:  # the routes below answer (and log) whatever went wrong here
            log.exception("PKI short path failed; answering the long way")
            return None, b""


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The request body (None when it is larger than MAX_FAST_BODY or the client left), and
    the messages read, to hand on unchanged."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > MAX_FAST_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _answer(send: Send, body: bytes, media_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", media_type),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
