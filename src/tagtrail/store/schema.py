"""The store's tables as SQLAlchemy Core objects (the DDL itself is in migrations/)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
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
    Column("address", Text),  # AES-GCM sealed email or phone (migrations/0009_messages.sql)
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

# Campaign messages (DESIGN §9, migrations/0009_messages.sql).
messages = Table(
    "messages",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("campaign_id", _ID, ForeignKey("campaigns.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("positions", Text, nullable=False),  # JSON: every link found, tracked or skipped
    Column("holdout", Float),
    Column("created_at", DateTime, nullable=False),
)

message_links = Table(
    "message_links",
    metadata,
    Column("message_id", _ID, ForeignKey("messages.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("link_id", _ID, ForeignKey("links.id"), nullable=False),
    Column("text", Text),
)

message_recipients = Table(
    "message_recipients",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("message_id", _ID, ForeignKey("messages.id"), nullable=False),
    Column("recipient_id", _ID, ForeignKey("recipients.id"), nullable=False),
    Column("code", Text, nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
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

# The identity mapping (migrations/0011_identity.sql), kept by tagtrail.store.identities.
identity_edges = Table(
    "identity_edges",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("anonymous_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("previous_id", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("cluster", BigInteger, nullable=False),
)

identity_nodes = Table(
    "identity_nodes",
    metadata,
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("id", Text, primary_key=True),
    Column("identity", Text, nullable=False),
    Column("cluster", BigInteger, nullable=False),
)

identity_conflicts = Table(
    "identity_conflicts",
    metadata,
    Column("id", _ID, primary_key=True),
    Column("workspace_id", _ID, ForeignKey("workspaces.id"), nullable=False),
    Column("cluster", BigInteger, nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("kind", Text, nullable=False),
    Column("conflict_id", Text, nullable=False),
    Column("kept", Text, nullable=False),
    Column("refused", Text, nullable=False),
    Column("fact", Text, nullable=False),
)

# The indexes and composite unique constraints the migrations make, declared here too so that the
# two descriptions of the store can be compared (tests/store/test_schema_drift.py).
campaigns.append_constraint(UniqueConstraint("workspace_id", "name"))
recipients.append_constraint(UniqueConstraint("workspace_id", "kind", "key"))
goals.append_constraint(UniqueConstraint("workspace_id", "event"))
message_recipients.append_constraint(UniqueConstraint("message_id", "recipient_id"))
Index("sends_recipient", sends.c.recipient_id, sends.c.sent_at)
Index("sends_campaign", sends.c.campaign_id, sends.c.recipient_id, sends.c.sent_at)
Index("clicks_link_time", clicks.c.link_id, clicks.c.clicked_at)
Index(
    "clicks_recipient",
    clicks.c.recipient_id,
    sqlite_where=clicks.c.recipient_id.is_not(None),
    postgresql_where=clicks.c.recipient_id.is_not(None),
)
Index("events_message", events.c.workspace_id, events.c.message_id, unique=True)
Index("events_user", events.c.workspace_id, events.c.user_id)
Index("touchpoints_message", touchpoints.c.workspace_id, touchpoints.c.message_id, unique=True)
Index(
    "identity_facts_message",
    identity_facts.c.workspace_id,
    identity_facts.c.message_id,
    identity_facts.c.kind,
    unique=True,
)
Index(
    "identity_edges_fact",
    identity_edges.c.workspace_id,
    identity_edges.c.kind,
    identity_edges.c.anonymous_id,
    identity_edges.c.user_id,
    identity_edges.c.previous_id,
    identity_edges.c.recipient,
    unique=True,
)
Index("identity_edges_cluster", identity_edges.c.workspace_id, identity_edges.c.cluster)
Index("identity_nodes_identity", identity_nodes.c.workspace_id, identity_nodes.c.identity)
Index("identity_nodes_cluster", identity_nodes.c.workspace_id, identity_nodes.c.cluster)
Index("identity_conflicts_cluster", identity_conflicts.c.workspace_id, identity_conflicts.c.cluster)
Index("events_anonymous", events.c.workspace_id, events.c.anonymous_id)
Index("touchpoints_user", touchpoints.c.workspace_id, touchpoints.c.user_id)
Index("touchpoints_anonymous", touchpoints.c.workspace_id, touchpoints.c.anonymous_id)
Index("touchpoints_recipient", touchpoints.c.workspace_id, touchpoints.c.recipient)
Index("click_days_day", click_days.c.day, click_days.c.changed)
Index("dashboard_sessions_created", dashboard_sessions.c.created_at)
