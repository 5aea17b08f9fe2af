"""Splitting and normalising the destination URL (DESIGN §4, "URL handling").

The URL is split by hand rather than with `urllib.parse` so that every query piece the builder
does not own is kept byte-for-byte, in its original order.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache

import idna

from tagtrail.links.issues import Issue, issue

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_BAD_AUTHORITY = re.compile(r"[\s\\%]")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# WHATWG's path percent-encode set: controls, space, " < > ` { } (and non-ASCII).
_PATH_UNSAFE = re.compile(r"[\x00-\x20\"<>`{}\x7f-\U0010ffff]")
# WHATWG's query and fragment percent-encode sets (controls, space, " < >, and ` in a
# fragment) plus every non-ASCII character: a browser sends `?q=日本` as `?q=%E6%97%A5%E6%9C%AC`
# and `\r\n` as `%0D%0A`, and an HTTP `Location` header can carry nothing else.
_QUERY_UNSAFE = re.compile(r"[\x00-\x20\"<>\x7f-\U0010ffff]")
_FRAGMENT_UNSAFE = re.compile(r"[\x00-\x20\"<>`\x7f-\U0010ffff]")
_ENCODED = "spaces, control and non-ASCII characters in the {part} were percent-encoded"
APP_STORE_HOSTS = frozenset({"play.google.com", "itunes.apple.com", "apps.apple.com"})


@dataclass(slots=True)
class SplitUrl:
    """A destination URL in pieces: the query as raw pieces, the fragment raw (None if absent)."""

    scheme: str
    host: str
    port: str
    path: str
    query: list[str]
    fragment: str | None
    issues: list[Issue] = field(default_factory=list)

    def origin(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}{self.path}"


def split_url(url: str) -> SplitUrl | Issue:
    """Split and normalise `url`; return the pieces or the error that stops the build."""
    raw = url.strip()
    match = _SCHEME.match(raw)
    rest = raw[match.end() :] if match else ""
    if match is None or "." in match.group(1) or rest[:1].isdigit():
        return _missing_scheme(raw)
    scheme = match.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        return issue(
            "E_SCHEME_UNSUPPORTED",
            "url",
            f"the scheme `{scheme}:` is not supported: campaign links must be http or https",
            "link to the web page itself, e.g. https://example.com/landing",
        )
    if not rest.startswith("//"):
        return _invalid(raw, "there is no `//host` after the scheme")
    rest = rest[2:]
    end = len(rest)
    for sep in "/?#":
        pos = rest.find(sep)
        if pos != -1 and pos < end:
            end = pos
    authority, rest = rest[:end], rest[end:]
    fragment: str | None = None
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    query: str | None = None
    if "?" in rest:
        rest, query = rest.split("?", 1)
    found: list[Issue] = []
    parsed = _authority(raw, authority, scheme, found)
    if isinstance(parsed, Issue):
        return parsed
    host, port = parsed
    if scheme != match.group(1):
        found.append(_url_normalized("the scheme was lower-cased"))
    path = rest or "/"
    if not rest:
        found.append(_url_normalized("an empty path became `/`"))
    if _PATH_UNSAFE.search(path):
        path = _PATH_UNSAFE.sub(_percent_encode, path)
        found.append(_url_normalized("spaces and non-ASCII characters in the path were encoded"))
    if query and _QUERY_UNSAFE.search(query):
        query = _QUERY_UNSAFE.sub(_percent_encode, query)
        found.append(_url_normalized(_ENCODED.format(part="query")))
    if fragment and _FRAGMENT_UNSAFE.search(fragment):
        fragment = _FRAGMENT_UNSAFE.sub(_percent_encode, fragment)
        found.append(_url_normalized(_ENCODED.format(part="fragment")))
    pieces = query.split("&") if query else []
    kept = [p for p in pieces if p]
    if len(kept) != len(pieces) or query == "":
        found.append(_url_normalized("empty query pieces were dropped"))
    return SplitUrl(scheme, host, port, path, kept, fragment, found)


def _authority(
    raw: str, authority: str, scheme: str, found: list[Issue]
) -> tuple[str, str] | Issue:
    if "@" in authority:
        return issue(
            "E_URL_CREDENTIALS",
            "url",
            "the URL carries a user name or password before `@`; it would leak in every click",
            "remove the `user:password@` part",
            fix=raw.replace(authority, authority.rsplit("@", 1)[1], 1),
        )
    if _BAD_AUTHORITY.search(authority):
        return _invalid(raw, "the host contains spaces, `\\` or `%`")
    host, port = authority, ""
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            return _invalid(raw, "an IPv6 address is missing its `]`")
        host, after = authority[: close + 1], authority[close + 1 :]
        if after and not after.startswith(":"):
            return _invalid(raw, "unexpected text after the IPv6 address")
        port = after[1:]
    elif ":" in authority:
        host, port = authority.rsplit(":", 1)
    if port and (not port.isdigit() or int(port) > 65535):
        return _invalid(raw, f"the port `{port}` is not a number from 0 to 65535")
    if authority.endswith(":"):
        found.append(_url_normalized("an empty port was removed"))
    elif port and port.lstrip("0") == _DEFAULT_PORTS[scheme]:
        found.append(_url_normalized(f"the default port :{port} was removed"))
        port = ""
    checked = _host(host)
    if checked is None:
        return _invalid(raw, f"`{host}` is not a valid host name" if host else "the host is empty")
    ascii_host, idn = checked
    if idn:
        found.append(
            issue(
                "I_IDN_ENCODED",
                "url",
                f"the host `{host}` was converted to `{ascii_host}` (IDNA)",
            )
        )
    elif ascii_host != host.lower():
        found.append(_url_normalized(f"the numeric host `{host}` was written as `{ascii_host}`"))
    elif ascii_host != host:
        found.append(_url_normalized("the host was lower-cased"))
    return ascii_host, port


@lru_cache(maxsize=16384)
def _host(host: str) -> tuple[str, bool] | None:
    """The host in lower-case ASCII (punycode for an IDN) and whether it was an IDN, or None."""
    if not host:
        return None
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return None
        return host.lower(), False
    idn = not host.isascii()
    if idn:
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    lowered = host.lower()
    try:
        numeric = ipv4_host(lowered)
    except ValueError:
        return None
    if numeric is not None:
        return numeric, idn
    labels = lowered[:-1].split(".") if lowered.endswith(".") else lowered.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return lowered, idn


def ipv4_host(host: str) -> str | None:
    """The dotted-decimal address of a host a browser reads as IPv4, or None for a name.

    WHATWG's IPv4 parser: a host whose last label is a number is an address, each label
    decimal, `0x` hex or `0`-prefixed octal, the last one filling the remaining bytes
    (`0x7f.1`, `2130706433`, `0177.0.0.1` and `127.1` are all 127.0.0.1). Raises ValueError
    for a host that ends in a number but is no valid address (`1.2.3.256`).

        >>> ipv4_host("0x7f.1"), ipv4_host("example.com")
        ('127.0.0.1', None)
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1]
    if not (last.isascii() and last.isdigit()) and _ipv4_number(last) is None:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise ValueError(f"{host} is not an IPv4 address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise ValueError(f"{host} is not an IPv4 address")
    address = values[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(values[:-1]))
    return str(ipaddress.IPv4Address(address))


def _ipv4_number(part: str) -> int | None:
    """One label of a WHATWG IPv4 host as a number (`0x` hex, leading-zero octal), or None."""
    if not part or not part.isascii():
        return None
    radix = 10
    if part[:2] in ("0x", "0X"):
        part, radix = part[2:], 16
    elif len(part) > 1 and part[0] == "0":
        part, radix = part[1:], 8
    if not part:
        return 0
    try:
        return int(part, radix) if part.isalnum() else None
    except ValueError:
        return None


def _percent_encode(match: re.Match[str]) -> str:
    """`%XX` for each UTF-8 byte of one character (a lone surrogate becomes U+FFFD, as in
    WHATWG's UTF-8 encode)."""
    char = match.group(0)
    if "\ud800" <= char <= "\udfff":
        char = "\ufffd"
    return "".join(f"%{b:02X}" for b in char.encode("utf-8"))


def _missing_scheme(raw: str) -> Issue:
    target = raw[2:] if raw.startswith("//") else raw
    return issue(
        "E_SCHEME_MISSING",
        "url",
        f"`{raw}` has no scheme, so browsers and GA4 cannot tell it is a web address",
        f"add https:// in front: https://{target}",
        fix=f"https://{target}",
    )


def _invalid(raw: str, why: str) -> Issue:
    return issue(
        "E_URL_INVALID", "url", f"`{raw}` is not a valid web address: {why}", "check the host part"
    )


def _url_normalized(what: str) -> Issue:
    return issue("I_URL_NORMALIZED", "url", f"{what}")
