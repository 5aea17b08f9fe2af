"""SSRF guard: 40+ payloads reach nothing on a loopback canary when the guard is on."""

from __future__ import annotations

import anyio
import pytest
from loopback import Nginx, PyServer

from tagtrail.check import Blocked, Guard, address_problem, check_url
from tagtrail.check.guard import system_resolver

NAMES = {
    "evil.test": ["127.0.0.1"],
    "mixed.test": ["93.184.216.34", "127.0.0.1"],
    "meta.test": ["169.254.169.254"],
    "six.test": ["::1"],
    "shop.test": ["127.0.0.1"],
}


def resolver(host: str, port: int) -> list[str]:
    return NAMES[host] if host in NAMES else system_resolver(host, port)


def guard_for(canary: PyServer, *allowed: int) -> Guard:
    """The hosted policy, plus the canary's port (so only the address rules stop it)."""
    return Guard(
        ports=frozenset({80, 443, canary.port}),
        allow=[("127.0.0.1", port) for port in allowed],
        resolver=resolver,
    )


DIRECT = [
    "http://127.0.0.1:{c}/",
    "http://localhost:{c}/",
    "http://sub.localhost:{c}/",
    "http://2130706433:{c}/",
    "http://0x7f000001:{c}/",
    "http://0177.0.0.1:{c}/",
    "http://017700000001:{c}/",
    "http://127.1:{c}/",
    "http://0x7f.1:{c}/",
    "http://[::1]:{c}/",
    "http://[::ffff:127.0.0.1]:{c}/",
    "http://[::ffff:7f00:1]:{c}/",
    "http://[::7f00:1]:{c}/",
    "http://[64:ff9b::7f00:1]:{c}/",
    "http://[64:ff9b:1::1]:{c}/",
    "http://[2002:7f00:1::]:{c}/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]:{c}/",
    "http://0.0.0.0:{c}/",
    "http://0:{c}/",
    "http://[::]:{c}/",
    "http://10.0.0.1:{c}/",
    "http://172.16.0.1:{c}/",
    "http://192.168.1.1:{c}/",
    "http://100.64.0.1:{c}/",
    "http://198.18.0.1:{c}/",
    "http://255.255.255.255:{c}/",
    "http://224.0.0.1:{c}/",
    "http://[ff02::1]:{c}/",
    "http://[fd00::1]:{c}/",
    "http://[fe80::1]:{c}/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://169.254.43518/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00:ec2::254]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://evil.test:{c}/",
    "http://mixed.test:{c}/",
    "http://meta.test/",
    "http://six.test:{c}/",
    "http://127.0.0.1:22/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{c}/_HELO",
    "ftp://127.0.0.1:{c}/",
]
VIA_REDIRECT = [
    "http://127.0.0.1:{c}/",
    "http://169.254.169.254/",
    "http://evil.test:{c}/",
    "http://[::ffff:127.0.0.1]:{c}/",
    "http://2130706433:{c}/",
    "http://localhost:{c}/admin",
]


@pytest.mark.parametrize("payload", DIRECT)
def test_payload_reaches_nothing(payload: str, canary: PyServer) -> None:
    report = check_url(payload.format(c=canary.port), guard=guard_for(canary), timeout=3)
    error = report.hops[-1].error or ""
    assert error.startswith(("blocked:", "malformed URL", "unsupported scheme")), error
    assert not report.valid
    assert report.check("resolution").status == "fail"
    assert canary.connections == 0


@pytest.mark.parametrize("target", VIA_REDIRECT)
def test_redirect_from_allowed_origin_to_internal_is_stopped(
    target: str, canary: PyServer, origin: PyServer
) -> None:
    url = origin.url("/to?u=" + target.format(c=canary.port).replace("&", "%26"))
    report = check_url(url, guard=guard_for(canary, origin.port), timeout=3)
    assert report.hops[0].status == 302  # the allowed "public" origin answered
    assert len(report.hops) == 2
    assert (report.hops[1].error or "").startswith("blocked:")
    assert canary.connections == 0


def test_the_canary_counts_when_the_guard_is_off(canary: PyServer) -> None:
    """The same payloads do reach the canary without the guard, so zero above means blocked."""
    off = Guard(ports=None, private=True, resolver=resolver)
    for payload in ("http://2130706433:{c}/", "http://127.1:{c}/", "http://evil.test:{c}/"):
        report = check_url(payload.format(c=canary.port), guard=off)
        assert report.hops[0].status == 200
    assert canary.connections == 3


def test_metadata_is_blocked_even_without_a_guard() -> None:
    for url in (
        "http://169.254.169.254/",
        "http://metadata.google.internal/",
        "http://[fd00:ec2::254]/",
    ):
        report = check_url(url)
        assert "cloud metadata" in (report.hops[0].error or "")


def test_block_message_names_the_resolved_address(canary: PyServer) -> None:
    report = check_url(f"http://evil.test:{canary.port}/", guard=guard_for(canary))
    assert report.hops[0].error == (
        "blocked: evil.test resolves to 127.0.0.1: 127.0.0.1 is a loopback address"
    )


def test_guarded_tls_connects_to_vetted_ip_and_keeps_the_name(nginx: Nginx) -> None:
    """Pinned to 127.0.0.1, yet SNI and hostname verification still use shop.test."""
    guard = Guard(allow=[("127.0.0.1", nginx.https)], resolver=resolver)
    report = check_url(
        f"https://shop.test:{nginx.https}/landing/?utm_source=a&utm_medium=b&utm_campaign=c",
        guard=guard,
        ssl_context=nginx.ssl_context(),
    )
    tls = report.hops[0].tls
    assert report.hops[0].status == 200
    assert tls is not None and tls.cert_valid and tls.hostname_match
    assert report.valid


def test_hosted_guard_refuses_other_ports(canary: PyServer) -> None:
    report = check_url(f"http://93.184.216.34:{canary.port}/", guard=Guard())
    assert "port" in (report.hops[0].error or "")


@pytest.mark.parametrize(
    ("address", "words"),
    [
        ("127.0.0.1", "loopback"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("64:ff9b::a9fe:a9fe", "metadata"),
        ("2002:a00:1::", "private"),
        ("100.64.1.1", "CGNAT"),
        ("224.0.0.1", "multicast"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("64:ff9b::808:808", None),  # NAT64 of a public address is public
    ],
)
def test_address_rules(address: str, words: str | None) -> None:
    problem = address_problem(address)
    if words is None:
        assert problem is None
    else:
        assert problem is not None and words in problem


@pytest.mark.parametrize("host", ["0x7f.1", "2130706433", "0177.0.0.1", "127.1", "0xa9fea9fe"])
def test_numeric_hosts_are_read_as_browsers_read_them(host: str) -> None:
    """The guard judges the address a browser would reach, not what a resolver answers for
    the text (here one that maps every name to a public address)."""
    public = Guard(resolver=lambda _host, _port: ["93.184.216.34"])
    with pytest.raises(Blocked, match="loopback|metadata"):
        anyio.run(public.vet, host, 80)
    assert anyio.run(public.vet, "shop.example", 80) == ["93.184.216.34"]
