"""Outbound URLs that others give us (experts' and departments' webhooks) must not reach inside.

``check_url`` refuses a URL that is not plain http(s), that carries credentials, or whose host
resolves to any address that is not globally routable: private, loopback, link-local,
multicast, reserved, unspecified, shared (CGNAT), or such an address embedded in IPv6
(IPv4-mapped, 6to4, Teredo, NAT64). Every address the host resolves to is checked, since a
client may connect to any of them. Numeric spellings (``http://2130706433/``, ``0x7f.1``) are
caught because the check is made on what the resolver returns, as the connection would be.

Loopback can be allowed for local tests, only explicitly (``JIKIMI_WEBHOOK_ALLOW_LOOPBACK=1``).

Errors::

    ValueError
     └── UnsafeURLError        raised when a URL must not be called; ``reason`` names the problem
          └── UnresolvedHostError  raised when the host does not resolve (which may pass)
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "CheckedURL",
    "Resolver",
    "UnresolvedHostError",
    "UnsafeURLError",
    "check_url",
    "loopback_allowed",
    "refusal",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port)`` → the addresses the host resolves to, as text; OSError if it does not."""

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class UnsafeURLError(ValueError):
    """Raised when a URL must not be called; ``reason`` says why without naming host or address."""

    def __init__(self, reason: str, *, host: str = "", address: str = "") -> None:
        message = f"host {host!r} {reason}" if host else reason
        super().__init__(f"{message} ({address})" if address else message)
        self.reason = reason


class UnresolvedHostError(UnsafeURLError):
    """Raised when the URL's host does not resolve (DNS may be down: trying later may help)."""


@dataclass(frozen=True)
class CheckedURL:
    """A URL that passed: its host and port, and the addresses it resolved to (all allowed)."""

    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


@cache
def loopback_allowed() -> bool:
    """``JIKIMI_WEBHOOK_ALLOW_LOOPBACK=1``: loopback receivers are allowed (tests only); read once."""
    return os.environ.get("JIKIMI_WEBHOOK_ALLOW_LOOPBACK", "") == "1"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``getaddrinfo`` gives for ``host`` (blocking)."""
    infos: list[tuple[Any, ...]] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def check_url(url: str, *, allow_loopback: bool = False, resolve: Resolver = system_resolver) -> CheckedURL:
    """``url``'s host and the addresses it resolves to, if every one may be called; else ``UnsafeURLError``.

    Blocking (it resolves the host): call it from a worker thread in async code.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURLError("is not a valid URL") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeURLError(f"scheme {parts.scheme!r} is not http or https")
    if "@" in parts.netloc:
        raise UnsafeURLError("the URL carries a user name or password")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURLError("the URL names no host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError):
        raise UnresolvedHostError("does not resolve", host=host) from None
    if not found:
        raise UnresolvedHostError("does not resolve", host=host)
    addresses = tuple(dict.fromkeys(ipaddress.ip_address(a.split("%", 1)[0]) for a in found))
    for address in addresses:
        kind = refusal(address, allow_loopback=allow_loopback)
        if kind:
            raise UnsafeURLError(f"resolves to {kind} address", host=host, address=str(address))
    return CheckedURL(parts.scheme, host, port, addresses)


def refusal(address: IPAddress, *, allow_loopback: bool = False) -> str:
    """What kind of address ``address`` is if it must not be called (``"a private"`` …), or ``""``."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = refusal(embedded, allow_loopback=allow_loopback)
            return f"an IPv6-embedded {inner.removeprefix('a ').removeprefix('an ')}" if inner else ""
    if address.is_loopback:  # first: ::1 is also in a reserved range
        return "" if allow_loopback else "a loopback"
    checks = (
        ("an unspecified", address.is_unspecified),
        ("a link-local", address.is_link_local),
        ("a multicast", address.is_multicast),
        ("a private", address.is_private),
        ("a reserved", address.is_reserved),
        ("a shared (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("a non-global", not address.is_global),
    )
    return next((kind for kind, refused in checks if refused), "")
