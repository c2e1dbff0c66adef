"""The client's address, the same for every counter that is kept per address (login lock-out, the
progress-query throttle) and in the request and security logs.

``X-Forwarded-For`` is anyone's to write: it is believed only when the direct peer (REMOTE_ADDR) is
one of our own proxies (``YIWANG_TRUSTED_PROXIES``, addresses or networks; empty = no proxy, the
header is ignored). Each trusted proxy appends the address it received the request from, so the
client is the right-most address that is not one of ours: whatever a client put further left is
its own claim and is never used.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def trusted_proxies() -> tuple[Network, ...]:
    """The configured proxy networks (a single address is a /32 or /128 network)."""
    return _networks(settings.YIWANG_TRUSTED_PROXIES)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The address of the client: REMOTE_ADDR, or behind our proxies the right-most untrusted address
    of X-Forwarded-For. A hop that is not an address stops the walk at the last good one."""
    peer = request.META.get("REMOTE_ADDR", "")
    networks = trusted_proxies()
    address = _parse(peer)
    if address is None or not networks or not _is_trusted(address, networks):
        return str(address) if address is not None else peer
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop_address = _parse(hop)
        if hop_address is None:
            break
        address = hop_address
        if not _is_trusted(address, networks):
            break
    return str(address)
