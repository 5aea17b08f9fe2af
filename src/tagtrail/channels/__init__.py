"""GA4's default channel grouping and traffic-source derivation (pure code plus package data).

    >>> channel_for("google", "email")
    'Organic Search'
    >>> traffic_source("https://example.com/", "https://m.facebook.com/").channel
    'Organic Social'

docs/channels.md describes the rules, the rulesets and the data files.
"""

from __future__ import annotations

from tagtrail.channels.explain import ChannelExplanation, explain_channel
from tagtrail.channels.referrers import (
    ai_assistant_for,
    referrer_host,
    search_engine_for,
    social_network_for,
)
from tagtrail.channels.rules import (
    AI_ASSISTANT,
    CHANNELS,
    DEFAULT_RULESET,
    RULESET_CHANNELS,
    RULESET_VERSION,
    RULESET_VERSIONS,
    RULESETS,
    channel_for,
    channel_for_uncached,
    is_paid_medium,
    is_shopping_campaign,
)
from tagtrail.channels.sources import source_category
from tagtrail.channels.traffic import (
    GOOGLE_ADS_CLICK_IDS,
    INFERRED_CLICK_IDS,
    TrafficSource,
    traffic_source,
)

__all__ = [
    "AI_ASSISTANT",
    "CHANNELS",
    "DEFAULT_RULESET",
    "GOOGLE_ADS_CLICK_IDS",
    "INFERRED_CLICK_IDS",
    "RULESETS",
    "RULESET_CHANNELS",
    "RULESET_VERSION",
    "RULESET_VERSIONS",
    "ChannelExplanation",
    "TrafficSource",
    "ai_assistant_for",
    "channel_for",
    "channel_for_uncached",
    "explain_channel",
    "is_paid_medium",
    "is_shopping_campaign",
    "referrer_host",
    "search_engine_for",
    "social_network_for",
    "source_category",
    "traffic_source",
]
