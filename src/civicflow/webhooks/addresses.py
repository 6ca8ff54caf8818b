"""Where a delivery may go: public addresses only, unless the subscription allows private ones.

A subscription URL is chosen by whoever subscribes; without a check, the relay would
post from inside the district's network to any address it can reach: the database,
an admin port on 127.0.0.1, a cloud's metadata service at 169.254.169.254 (server-side
request forgery). So a subscription refuses, unless it was made with
``allow_private``, every address that is not globally routable: loopback, link-local
(metadata services), private, shared (100.64.0.0/10), multicast, reserved and
unspecified, in IPv4 and IPv6 (IPv4-mapped addresses as their IPv4 address).

A literal address or ``localhost`` is refused when the subscription is made; a host
name is resolved at each delivery, every address it resolves to is checked, and the
request goes to the address that was checked (the name still in the ``Host`` header
and in TLS), so that a name that resolves elsewhere the second time (DNS rebinding)
cannot slip past.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


class PrivateAddressError(Exception):
    """The URL's host is, or resolves to, an address a subscription may not reach."""


def is_public(address: Address) -> bool:
    """Whether ``address`` is globally routable (and not multicast)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def literal_problem(url: str) -> str | None:
    """Why the URL's host, a literal address or a local name, is not public; else None."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return f"{host} is this machine"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: resolved and checked at each delivery
    return None if is_public(address) else f"{host} is not a public address"


@dataclass(frozen=True)
class Pinned:
    """A URL to post to: the checked address in place of the name, and the name."""

    url: str
    host: str  # for the Host header and TLS (SNI and certificate)


def pinned(url: str) -> Pinned:
    """``url`` resolved, its addresses checked, and pinned to the first of them.

    Raises:
        PrivateAddressError: an address is not public, or the name does not resolve.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise PrivateAddressError(f"{host} does not resolve: {error}") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    for address in addresses:
        if not is_public(address):
            raise PrivateAddressError(
                f"{host} resolves to {address}, not a public address "
                "(a subscription made with allow_private may reach it)"
            )
    if not addresses:
        raise PrivateAddressError(f"{host} resolves to no address")
    first = addresses[0]
    shown = f"[{first}]" if first.version == 6 else str(first)
    netloc = f"{shown}:{parts.port}" if parts.port else shown
    return Pinned(urlunsplit(parts._replace(netloc=netloc)), parts.netloc.rsplit("@", 1)[-1])
