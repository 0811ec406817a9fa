"""Who is the client: the peer address, or, behind a reverse proxy we trust, the address it forwards.

``TRUSTED_PROXIES`` (settings) lists the proxies' addresses and ranges. Everything that keys on a
client's address (the rate limits) goes through ``client_ip``; ``ProxyHeadersMiddleware`` drops the
forwarded headers of every other peer, so nothing downstream can be fooled by them either.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of the client that sent ``request``.

    The peer (``REMOTE_ADDR``) unless it is one of ``TRUSTED_PROXIES``: then ``X-Forwarded-For`` is
    read right to left, skipping the trusted proxies' own hops, and the first address not among them
    is the client (entries further left were written by the client itself and prove nothing). An
    entry that is not an address ends the walk at the last trusted hop, so a broken header can only
    ever group requests under the proxy, never let a client pick its own address.
    """
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    trusted = settings.TRUSTED_PROXIES
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hop = peer
    for entry in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        address = _parse_ip(entry)
        if address is None:
            return hop
        hop = str(address)
        if not any(address in net for net in trusted):
            return hop
    return hop


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    return _is_trusted(request.META.get("REMOTE_ADDR") or "", settings.TRUSTED_PROXIES)


def _is_trusted(value: str, trusted: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    address = _parse_ip(value)
    return address is not None and any(address in net for net in trusted)


def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from an X-Forwarded-For entry ("1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:443"), or None."""
    value = value.strip()
    if value.startswith("[") and "]" in value:
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # IPv4 with a port
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address
