"""The SSRF guard: which addresses the checker may connect to (DESIGN §3, research §3 S1–S6).

The rules are applied to the *resolved* socket address, never to the text of the URL; a numeric
host (`2130706433`, `0x7f000001`, `127.1`) is first read as WHATWG does (127.0.0.1), so the
guard sees the address a browser would reach whatever the system resolver makes of it.
An address passes only if it is globally routable and not multicast, after unwrapping IPv4
carried inside IPv6 (IPv4-mapped, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`).
Cloud metadata endpoints are refused in every mode, even when the guard is off (S6).

`Guard.vet()` resolves once and returns the vetted addresses; the transport in `transport.py`
then connects to exactly those addresses (the name still goes in the Host header and TLS SNI),
so a second DNS answer cannot swap in an internal address (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import anyio.to_thread

from tagtrail.errors import Blocked
from tagtrail.links.urls import ipv4_host

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: A resolver takes (host, port) and returns IP address strings; it may raise OSError.
Resolver = Callable[[str, int], Sequence[str]]

SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = frozenset({80, 443})
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `getaddrinfo` gives for (host, port), in its order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]).split("%", 1)[0], None)
    return list(seen)


def _unwrap(ip: IPAddress) -> tuple[IPAddress, str | None]:
    """The IPv4 address carried inside an IPv6 one, and the wrapping's name."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ip, None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if ip in _IPV4_COMPAT and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "IPv4-compatible"
    return ip, None


def address_problem(address: str, *, metadata_only: bool = False) -> str | None:
    """Why the guard refuses `address` (an IP string), or None when it may be reached."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    inner, wrapping = _unwrap(ip)
    shown = str(ip) if wrapping is None else f"{ip} ({wrapping} {inner})"
    if ip in METADATA_ADDRESSES or inner in METADATA_ADDRESSES:
        return f"{shown} is a cloud metadata endpoint"
    if metadata_only:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return f"{shown} is in the local-use NAT64 prefix"
        if ip.teredo is not None:
            return f"{shown} is a Teredo address"
    for name, test in (
        ("unspecified", inner.is_unspecified),
        ("loopback", inner.is_loopback),
        ("link-local", inner.is_link_local),
        ("multicast", inner.is_multicast),
        ("private", inner.is_private),
        ("reserved", inner.is_reserved),
        ("shared (CGNAT)", inner in _CGNAT),
    ):
        if test:
            return f"{shown} is a {name} address"
    if not inner.is_global:
        return f"{shown} is not a public address"
    return None


def _numeric(host: str) -> str:
    """`host` as a browser reads it: a numeric IPv4 form (`0x7f.1`, `2130706433`) as the
    dotted address, so the rules below see 127.0.0.1 whatever the resolver makes of it."""
    try:
        return ipv4_host(host) or host
    except ValueError:
        return host


@dataclass(frozen=True, slots=True)
class Guard:
    """The SSRF policy applied at every hop.

    `Guard()` is the hosted policy: public addresses on ports 80/443 only. `allow` lists exact
    `(ip, port)` pairs reachable anyway (for loopback test fixtures), `ports` adds ports, and
    `resolver` replaces `getaddrinfo` (tests map names to loopback with it). `private=True`
    turns the address rules off except for metadata endpoints: that is the mode the checker
    runs in when no guard is given.
    """

    allow: Iterable[tuple[str, int]] = ()
    ports: frozenset[int] | None = DEFAULT_PORTS
    resolver: Resolver | None = None
    private: bool = False
    _allow: frozenset[tuple[IPAddress, int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        pairs = frozenset((ipaddress.ip_address(ip), int(port)) for ip, port in self.allow)
        object.__setattr__(self, "allow", tuple(sorted((str(i), p) for i, p in pairs)))
        object.__setattr__(self, "_allow", pairs)
        if self.ports is not None:
            object.__setattr__(self, "ports", frozenset(self.ports))

    @classmethod
    def off(cls) -> Guard:
        """No address rules except the metadata floor (the local CLI default)."""
        return cls(ports=None, private=True)

    def _port_ok(self, port: int) -> bool:
        return self.ports is None or port in self.ports or any(p == port for _, p in self._allow)

    def check_url(self, url: str) -> None:
        """S1 on the URL text: scheme, port, metadata and localhost names. Raises `Blocked`."""
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise Blocked(f"malformed URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise Blocked(f"scheme {scheme or '(none)'!r} is not allowed (only http and https)")
        try:
            host = _numeric((parts.hostname or "").rstrip(".").lower())
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise Blocked(f"invalid port: {exc}") from None
        if host in METADATA_HOSTS:
            raise Blocked(f"{host} is a cloud metadata endpoint")
        if self.private:
            return
        if host == "localhost" or host.endswith(".localhost"):
            raise Blocked(f"{host} is a loopback name")
        if not self._port_ok(port):
            raise Blocked(f"port {port} is not allowed (only {self._ports_text()})")

    def _ports_text(self) -> str:
        ports = sorted(self.ports or ())
        return ", ".join(str(p) for p in ports) or "none"

    def address_problem(self, address: str, port: int) -> str | None:
        """Why (address, port) is refused, or None."""
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address!r} is not an IP address"
        if (ip, port) in self._allow:
            return None
        problem = address_problem(address, metadata_only=self.private)
        if problem is None and not self._port_ok(port):
            return f"port {port} is not allowed (only {self._ports_text()})"
        if problem is None and self.ports is not None and port not in self.ports:
            return f"port {port} is only allowed for listed addresses"
        return problem

    async def vet(self, host: str, port: int) -> list[str]:
        """Resolve `host` once and return its addresses if every one may be reached (S2).

        Raises `Blocked` when any address is refused and `OSError` when resolution fails.
        """
        name = _numeric(host.strip("[]").rstrip(".").lower())
        if name in METADATA_HOSTS:
            raise Blocked(f"{name} is a cloud metadata endpoint")
        try:
            addresses = [str(ipaddress.ip_address(name.split("%", 1)[0]))]
        except ValueError:
            resolver = self.resolver or system_resolver
            addresses = list(await anyio.to_thread.run_sync(resolver, name, port))
        if not addresses:
            raise OSError(f"no address found for {name}")
        for address in addresses:
            problem = self.address_problem(address, port)
            if problem is not None:
                message = problem if address == name else f"{name} resolves to {address}: {problem}"
                logger.info("guard blocked %s:%s: %s", name, port, message)
                raise Blocked(message)
        return addresses
