"""Outbound requests made on behalf of a verification (OCSP, CRLs of recognised foreign CAs):
never to loopback, private, link-local or otherwise non-public addresses -- checked after
the name is resolved, so a hostile certificate cannot point the service at its own network
(SSRF) through DNS either. Hosts named in ``allowed_hosts`` (tests, a lab CA) are exempt.

Issuer certificates are never fetched (AIA chasing is off): a chain must reach a recognised
anchor from what the document and our trust store carry, so only such chains are ever
checked online (pyhanko checks revocation on a path it has already built to an anchor).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
from pyhanko_certvalidator.fetchers.api import FetchLimits


class RefusedDestination(aiohttp.ClientConnectionError):
    """The destination is not a public address (and not explicitly allowed)."""


def is_public(address: str) -> bool:
    return ipaddress.ip_address(address.split("%", 1)[0]).is_global


def check_destination(host: str, addresses: list[str], allowed: frozenset[str]) -> None:
    if host.lower() in allowed:
        return
    for address in addresses:
        if not is_public(address):
            raise RefusedDestination(f"{host} resolves to a non-public address ({address})")


class GuardedResolver(AbstractResolver):
    """aiohttp's threaded resolver, refusing names that resolve to non-public addresses."""

    def __init__(self, allowed: frozenset[str]) -> None:
        self.allowed = allowed
        self.inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        check_destination(host, [r["host"] for r in results], self.allowed)
        return results

    async def close(self) -> None:
        await self.inner.close()


def _literal_guard(allowed: frozenset[str]) -> aiohttp.TraceConfig:
    """Address literals skip the resolver: check them as each request starts."""

    async def refuse_literals(session: Any, context: Any, params: Any) -> None:
        host = (params.url.host or "").strip("[]")
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return  # a name: the resolver checks it
        check_destination(host, [host], allowed)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(refuse_literals)
    return trace


class GuardedFetcherBackend(AIOHttpFetcherBackend):
    """pyhanko's aiohttp fetchers over a session that only reaches public addresses."""

    def __init__(
        self, *, timeout_seconds: float, max_requests: int, allowed_hosts: frozenset[str]
    ) -> None:
        allowed = frozenset(h.lower() for h in allowed_hosts)
        self._own_session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(resolver=GuardedResolver(allowed)),
            trace_configs=[_literal_guard(allowed)],
            trust_env=False,  # no proxies from the environment
        )
        super().__init__(
            session=self._own_session,
            per_request_timeout=timeout_seconds,
            limits=FetchLimits(
                max_requests=max_requests, max_cert_requests=0, max_aia_urls_per_object=2
            ),
        )

    async def close(self) -> None:
        await self._own_session.close()
