"""tagtrail: self-hosted campaign links and attribution.

The public API is re-exported here; everything else is an implementation detail.
"""

from __future__ import annotations

__version__ = "0.1.0"

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

__all__ = [
    "InvalidInput",
    "InvalidLink",
    "NotFound",
    "PolicyError",
    "RedirectError",
    "RedirectLoop",
    "StoreError",
    "TagtrailError",
    "TooManyRedirects",
    "__version__",
]
