"""The project's channel data, loaded once from `tagtrail/data/` (see its PROVENANCE.md).

* GA4's source-category list: lower-cased source -> `search`, `social`, `shopping` or `video`.
* Search-engine referrer host patterns -> the engine's short source name (`google`, `bing`, …).
  A pattern is a host (`duckduckgo.com`), a host with any public-suffix-like ending
  (`google.*`: `google.de`, `google.co.uk`) or any subdomain of a host (`*.search.yahoo.com`).
* Social-network hosts and AI-assistant hosts -> the network's or assistant's display name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.resources import files
from types import MappingProxyType
from typing import Final

__all__ = [
    "AI_ASSISTANT_HOSTS",
    "SEARCH_ENGINE_PATTERNS",
    "SOCIAL_HOSTS",
    "SOURCE_CATEGORIES",
    "source_category",
]


def _load(name: str) -> Mapping[str, str]:
    text = (files("tagtrail") / "data" / name).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):  # pragma: no cover - the files are checked by tests
        raise TypeError(f"tagtrail/data/{name} is not a JSON object")
    return MappingProxyType({str(k): str(v) for k, v in data.items()})


#: GA4's source categories: whole lower-cased source value -> category.
SOURCE_CATEGORIES: Final = _load("ga4_source_categories.json")
#: Search-engine host pattern -> source name reported with medium `organic`.
SEARCH_ENGINE_PATTERNS: Final = _load("search_engines.json")
#: Social-network host -> network name (Matomo's list; GA4 does not use it for channels).
SOCIAL_HOSTS: Final = _load("social_hosts.json")
#: AI-assistant host -> assistant name.
AI_ASSISTANT_HOSTS: Final = _load("ai_assistants.json")


def source_category(source: str | None) -> str | None:
    """GA4's category of `source` (matched as a whole, case-insensitively), or None."""
    if not source:
        return None
    return SOURCE_CATEGORIES.get(source.strip().lower())
