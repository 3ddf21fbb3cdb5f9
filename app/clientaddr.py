"""Who is at the other end: the peer address, or -- only when the peer is one of the proxies
listed in ``ESEAL_TRUSTED_PROXIES`` -- the first untrusted address in X-Forwarded-For, read
from the right (the left part is whatever the client chose to send).

Default: no proxy is trusted, so a client cannot pick a fresh address per request and slip
past a rate limit. ``eseal serve`` also tells uvicorn not to rewrite the peer itself
(``proxy_headers=False``): uvicorn's default trusts X-Forwarded-For from loopback.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=32)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    peer = request.client.host if request.client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, networks):
            return hop
    return peer
