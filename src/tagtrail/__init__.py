"""tagtrail: self-hosted campaign links and attribution.

The public API is re-exported here and imported on first use, so that `import tagtrail` (and
every CLI command) does not load the HTTP client, the checker or the store it does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tagtrail.channels import TrafficSource, channel_for, traffic_source
    from tagtrail.check import CheckReport, check_url
    from tagtrail.errors import (
        InvalidInput,
        InvalidLink,
        NotFound,
        PolicyError,
        RedirectError,
        StoreError,
        TagtrailError,
    )
    from tagtrail.links import BuildResult, Issue, LintResult, NamingPolicy, build_link, lint_link

_HOMES = {
    "BuildResult": "tagtrail.links",
    "CheckReport": "tagtrail.check",
    "InvalidInput": "tagtrail.errors",
    "InvalidLink": "tagtrail.errors",
    "Issue": "tagtrail.links",
    "LintResult": "tagtrail.links",
    "NamingPolicy": "tagtrail.links",
    "NotFound": "tagtrail.errors",
    "PolicyError": "tagtrail.errors",
    "RedirectError": "tagtrail.errors",
    "StoreError": "tagtrail.errors",
    "TagtrailError": "tagtrail.errors",
    "TrafficSource": "tagtrail.channels",
    "build_link": "tagtrail.links",
    "channel_for": "tagtrail.channels",
    "check_url": "tagtrail.check",
    "lint_link": "tagtrail.links",
    "traffic_source": "tagtrail.channels",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'tagtrail' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


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
    "StoreError",
    "TagtrailError",
    "TrafficSource",
    "__version__",
    "build_link",
    "channel_for",
    "check_url",
    "lint_link",
    "traffic_source",
]
