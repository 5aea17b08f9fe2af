"""IP network tables for the click rules: the shipped scanner list and operator deny lists.

A table is pre-parsed once into one dict per prefix length (network number → label), so a
look-up costs one shift and one dict probe per distinct prefix length (a handful), whatever the
number of networks. The shipped list is `tagtrail/data/scanner_networks.json` (provider →
CIDRs; where each range comes from is in `data/PROVENANCE.md`). It is a heuristic: a match is
a soft signal, never a verdict on its own.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Final

from tagtrail.clicks.privacy import parse_ip

__all__ = [
    "SCANNER_NETWORKS",
    "NetworkTable",
    "deny_table",
    "scanner_table",
]

_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _load() -> Mapping[str, tuple[str, ...]]:
    text = (files("tagtrail") / "data" / "scanner_networks.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):  # pragma: no cover - the file is checked by tests
        raise TypeError("tagtrail/data/scanner_networks.json is not a JSON object")
    return MappingProxyType({str(k): tuple(str(c) for c in v) for k, v in data.items()})


SCANNER_NETWORKS: Final = _load()


class NetworkTable:
    """Which labelled network holds an address (the most specific one), or None."""

    __slots__ = ("_v4", "_v6")

    def __init__(self, networks: Iterable[tuple[str, str]]) -> None:
        """`networks`: (CIDR, label) pairs; a bad CIDR raises ValueError (host bits allowed)."""
        v4: dict[int, dict[int, str]] = {}
        v6: dict[int, dict[int, str]] = {}
        for cidr, label in networks:
            network = ipaddress.ip_network(cidr.strip(), strict=False)
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
                mapped = network.network_address.ipv4_mapped
                if mapped is not None:  # ::ffff:a.b.c.d/1xx is an IPv4 network
                    network = ipaddress.IPv4Network((mapped, network.prefixlen - 96))
            tables = v4 if network.version == 4 else v6
            host_bits = network.max_prefixlen - network.prefixlen
            key = int(network.network_address) >> host_bits
            tables.setdefault(host_bits, {}).setdefault(key, label)
        self._v4 = tuple(sorted(v4.items()))
        self._v6 = tuple(sorted(v6.items()))

    def __bool__(self) -> bool:
        return bool(self._v4 or self._v6)

    def lookup(self, address: _Address) -> str | None:
        """The label of the most specific network holding `address` (already parsed)."""
        value = int(address)
        for host_bits, table in self._v4 if address.version == 4 else self._v6:
            label = table.get(value >> host_bits)
            if label is not None:
                return label
        return None

    def label_of(self, ip: str | None) -> str | None:
        """As `lookup`, for a raw address string (None when it is not an address)."""
        address = parse_ip(ip) if ip is not None else None
        return self.lookup(address) if address is not None else None


@lru_cache(maxsize=1)
def scanner_table() -> NetworkTable:
    """The shipped scanner networks, labelled by provider (`microsoft`, `proofpoint`, …)."""
    return NetworkTable(
        (cidr, provider) for provider, cidrs in SCANNER_NETWORKS.items() for cidr in cidrs
    )


@lru_cache(maxsize=64)
def deny_table(cidrs: tuple[str, ...]) -> NetworkTable:
    """An operator's deny list, parsed once per distinct tuple."""
    return NetworkTable((cidr, cidr) for cidr in cidrs)
