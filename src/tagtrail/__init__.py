"""tagtrail: self-hosted campaign links and attribution.

The public API is re-exported here; everything else is an implementation detail.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tagtrail.channels import TrafficSource, channel_for, traffic_source
from tagtrail.check import CheckReport, check_url
from tagtrail.errors import (
    InvalidInput,
    InvalidLink,
    NotFound,
    PolicyError,
    RedirectError,
    RedirectLoop,
    StoreError,
    TagtrailError,
    TooManyRedirects,
)
from tagtrail.links import BuildResult, Issue, LintResult, NamingPolicy, build_link, lint_link

__all__ = [
    "BuildResult",
    "CheckReport",
    "InvalidInput",
    "InvalidLink",
    "Issue",
    "LintResult",
    "NamingPolicy",
    "NotFound",
    "PolicyError",
    "RedirectError",
    "RedirectLoop",
    "StoreError",
    "TagtrailError",
    "TooManyRedirects",
    "TrafficSource",
    "__version__",
    "build_link",
    "channel_for",
    "check_url",
    "lint_link",
    "traffic_source",
]
