"""TLS facts of a hop: protocol, certificate validity, hostname match and days to expiry.

The certificate is read from the connection itself (the `ssl_object` of httpx's network stream)
in DER form, which Python hands out even when verification was off, so a hop whose certificate
is invalid still says why and when it expires. The small DER reader below takes only what the
report needs (validity, subject alternative names, issuer common name).
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime

_OID_SAN = bytes.fromhex("551d11")  # 2.5.29.17 subjectAltName
_OID_CN = bytes.fromhex("550403")  # 2.5.4.3 commonName


@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What a hop's TLS connection looked like."""

    protocol: str | None
    cert_valid: bool
    hostname_match: bool | None
    days_to_expiry: int | None
    not_after: str | None
    issuer: str | None
    error: str | None

    def to_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "cert_valid": self.cert_valid,
            "hostname_match": self.hostname_match,
            "days_to_expiry": self.days_to_expiry,
            "not_after": self.not_after,
            "issuer": self.issuer,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class CertFacts:
    not_after: datetime
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    issuer_cn: str | None


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of value) of the DER element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER element")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    items = []
    pos = start
    while pos < end:
        item = _tlv(data, pos)
        items.append(item)
        pos = item[2]
    return items


def _time(tag: int, raw: bytes) -> datetime:
    text = raw.decode("ascii")
    fmt = "%y%m%d%H%M%SZ" if tag == 0x17 else "%Y%m%d%H%M%SZ"
    return datetime.strptime(text, fmt).replace(tzinfo=UTC)


def _common_name(data: bytes, start: int, end: int) -> str | None:
    for _, s_start, s_end in _children(data, start, end):  # SET OF AttributeTypeAndValue
        for _, a_start, a_end in _children(data, s_start, s_end):
            parts = _children(data, a_start, a_end)
            if len(parts) == 2 and data[parts[0][1] : parts[0][2]] == _OID_CN:
                return data[parts[1][1] : parts[1][2]].decode("utf-8", errors="replace")
    return None


def parse_certificate(der: bytes) -> CertFacts:
    """Validity end, subject alternative names and issuer CN of a DER certificate."""
    _, c_start, c_end = _tlv(der, 0)
    _, t_start, t_end = _children(der, c_start, c_end)[0]
    fields = _children(der, t_start, t_end)
    if fields and fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    issuer, validity = fields[2], fields[3]
    times = _children(der, validity[1], validity[2])
    not_after = _time(times[1][0], der[times[1][1] : times[1][2]])
    dns: list[str] = []
    ips: list[str] = []
    for tag, start, _end in fields[6:]:
        if tag != 0xA3:  # [3] extensions
            continue
        for _, e_start, e_end in _children(der, *_tlv(der, start)[1:]):
            parts = _children(der, e_start, e_end)
            if der[parts[0][1] : parts[0][2]] != _OID_SAN:
                continue
            _, s_start, s_end = _tlv(der, parts[-1][1])
            for g_tag, g_start, g_end in _children(der, s_start, s_end):
                if g_tag == 0x82:
                    dns.append(der[g_start:g_end].decode("ascii", errors="replace").lower())
                elif g_tag == 0x87:
                    ips.append(str(ipaddress.ip_address(der[g_start:g_end])))
    return CertFacts(
        not_after=not_after,
        dns_names=tuple(dns),
        ip_addresses=tuple(ips),
        issuer_cn=_common_name(der, issuer[1], issuer[2]),
    )


def hostname_matches(facts: CertFacts, hostname: str) -> bool:
    """RFC 6125 matching on subject alternative names (a wildcard covers one left-most label)."""
    host = hostname.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host.strip("[]"))) in facts.ip_addresses
    except ValueError:
        pass
    for name in facts.dns_names:
        if name == host:
            return True
        if name.startswith("*.") and "." in host:
            label, rest = host.split(".", 1)
            if label and rest == name[2:]:
                return True
    return False


def tls_info(
    ssl_object: ssl.SSLObject | None,
    hostname: str,
    *,
    now: datetime,
    error: str | None = None,
) -> TlsInfo:
    """The TLS facts of a connection; `error` is why verification failed, if it did."""
    if ssl_object is None:
        return TlsInfo(None, error is None, None, None, None, None, error)
    der = ssl_object.getpeercert(binary_form=True)
    facts = None
    if der:
        try:
            facts = parse_certificate(der)
        except (ValueError, IndexError, UnicodeDecodeError):
            facts = None
    if facts is None:
        return TlsInfo(ssl_object.version(), error is None, None, None, None, None, error)
    return TlsInfo(
        protocol=ssl_object.version(),
        cert_valid=error is None,
        hostname_match=hostname_matches(facts, hostname),
        days_to_expiry=(facts.not_after - now).days,
        not_after=facts.not_after.isoformat().replace("+00:00", "Z"),
        issuer=facts.issuer_cn,
        error=error,
    )
