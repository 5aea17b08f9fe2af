"""The store's tables as SQLAlchemy Core objects (the DDL itself is in migrations/)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()
_ID = BigInteger().with_variant(Integer(), "sqlite")

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("name", Text, nullable=False),
    Column("default_utm", Text, nullable=False),
    Column("identify", Boolean, nullable=False),
    Column("excluded_domains", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("global_holdout", Float, nullable=False, server_default="0"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id", Text, primary_key=True),  # the SHA-256 of the session id in the cookie
    Column("created_at", DateTime, nullable=False),
    Column("key_id", _ID, ForeignKey("api_keys.id"), nullable=False),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("default_utm", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("holdout", Float, nullable=False, server_default="0"),
)

links = Table(
    "links",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("code", Text, nullable=False, unique=True),
    Column("destination", Text, nullable=False),
    Column("campaign_id", _ID, ForeignKey("campaigns.id")),
    Column("utm", Text, nullable=False),
    Column("tags", Text, nullable=False),
    Column("forward_query", Boolean, nullable=False),
    Column("honeypot", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("expires_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

recipients = Table(
    "recipients",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("public_id", Text, nullable=False, unique=True),
    Column("kind", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

sends = Table(
    "sends",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("recipient_id", _ID, ForeignKey("recipients.id"), nullable=False),
    Column("campaign_id", _ID, ForeignKey("campaigns.id")),
    Column("message", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("sent_at", DateTime, nullable=False),
    Column("held_out", Boolean, nullable=False, server_default="false"),
)

clicks = Table(
    "clicks",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("link_id", _ID, ForeignKey("links.id"), nullable=False),
    Column("clicked_at", DateTime, nullable=False),
    Column("recipient_id", _ID, ForeignKey("recipients.id")),
    Column("ip", Text),
    Column("user_agent", Text, nullable=False),
    Column("referrer", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("is_bot", Boolean, nullable=False),
    Column("bot_reasons", Text, nullable=False),
    Column("visitor", Text, nullable=False),
    Column("identified", Boolean, nullable=False),
    Column("url", Text),  # a human click's landing URL (its touchpoint); NULL for a bot's
)

settings_versions = Table(
    "settings_versions",
    metadata,
    Column("name", Text, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Collection (issue 5, migrations/0002_collect.sql). The writer inserts into the first three with
# `ON CONFLICT DO NOTHING` (their unique index on workspace and message id de-duplicates).
_DEDUP = {"ignore_duplicates": True}

events = Table(
    "events",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("anonymous_id", Text),
    Column("user_id", Text),
    Column("previous_id", Text),
    Column("group_id", Text),
    Column("event", Text),
    Column("name", Text),
    Column("url", Text),
    Column("referrer", Text),
    Column("title", Text),
    Column("user_agent", Text),
    Column("ip", Text),
    Column("properties", Text, nullable=False),
    Column("traits", Text, nullable=False),
    Column("tp_kind", Text),
    Column("tp_source", Text),
    Column("tp_medium", Text),
    Column("tp_campaign", Text),
    Column("tp_content", Text),
    Column("tp_term", Text),
    Column("tp_channel", Text),
    Column("tp_click_id", Text),
    info=_DEDUP,
)

touchpoints = Table(
    "touchpoints",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("kind", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("medium", Text, nullable=False),
    Column("campaign", Text, nullable=False),
    Column("content", Text),
    Column("term", Text),
    Column("channel", Text, nullable=False),
    Column("click_id", Text),
    Column("referrer", Text),
    Column("url", Text),
    Column("anonymous_id", Text),
    Column("user_id", Text),
    Column("recipient", Text),
    Column("visitor", Text),
    info=_DEDUP,
)

identity_facts = Table(
    "identity_facts",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("message_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("anonymous_id", Text),
    Column("user_id", Text),
    Column("previous_id", Text),
    Column("recipient", Text),
    info=_DEDUP,
)

goals = Table(
    "goals",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("event", Text, nullable=False),
    Column("revenue", Text),
    Column("created_at", DateTime, nullable=False),
)

# Dashboard rollups (issue 7, migrations/0003_dashboard.sql), kept by tagtrail.store.rollups.
click_days = Table(
    "click_days",
    metadata,
    Column("link_id", _ID, primary_key=True),
    Column("day", Text, primary_key=True),
    Column("human", BigInteger, nullable=False),
    Column("bot", BigInteger, nullable=False),
    Column("changed", BigInteger, nullable=False),
)

link_visitors = Table(
    "link_visitors",
    metadata,
    Column("link_id", _ID, primary_key=True),
    Column("who", Text, primary_key=True),
    Column("recipient_id", _ID),
    Column("first_day", Text, nullable=False),
    Column("last_day", Text, nullable=False),
)

campaign_visitors = Table(
    "campaign_visitors",
    metadata,
    Column("campaign_id", _ID, primary_key=True),
    Column("who", Text, primary_key=True),
    Column("recipient_id", _ID),
    Column("first_day", Text, nullable=False),
    Column("last_day", Text, nullable=False),
)

link_uniques = Table(
    "link_uniques",
    metadata,
    Column("link_id", _ID, primary_key=True),
    Column("visitors", BigInteger, nullable=False),
)

campaign_uniques = Table(
    "campaign_uniques",
    metadata,
    Column("campaign_id", _ID, primary_key=True),
    Column("visitors", BigInteger, nullable=False),
)

rollup_marks = Table(
    "rollup_marks",
    metadata,
    Column("name", Text, primary_key=True),
    Column("mark", BigInteger, nullable=False),
)
