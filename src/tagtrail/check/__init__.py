"""The redirect-chain checker: does a link's UTM survive every hop? (I/O: httpx, DNS, TLS).

    >>> report = check_url("https://click.example.com/ls/abc?utm_source=intercom")
    >>> report.valid, [hop.status for hop in report.hops]

`check_url` / `check_many` block; `acheck_url` / `acheck_many` are their async cores. Pass a
`Guard` to refuse internal addresses (the hosted mode); without one, only cloud metadata
endpoints are refused.
"""

from __future__ import annotations

from tagtrail.check.guard import Guard, address_problem
from tagtrail.check.redirects import (
    Checker,
    acheck_many,
    acheck_url,
    check_many,
    check_url,
)
from tagtrail.check.results import CHECK_NAMES, Check, CheckReport, CheckStatus, Hop, RedirectKind
from tagtrail.check.tls import TlsInfo
from tagtrail.errors import Blocked

__all__ = [
    "CHECK_NAMES",
    "Blocked",
    "Check",
    "CheckReport",
    "CheckStatus",
    "Checker",
    "Guard",
    "Hop",
    "RedirectKind",
    "TlsInfo",
    "acheck_many",
    "acheck_url",
    "address_problem",
    "check_many",
    "check_url",
]
