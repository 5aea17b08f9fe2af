-- Collection (issue 5): events, touchpoints that are not events (short-link clicks, imported
-- journeys), identity facts that are not events (verified hints, imports), conversion goals.
-- Placeholders: {pk} an auto-numbered primary key, {ts} a UTC timestamp.

CREATE TABLE events (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    timestamp {ts} NOT NULL,
    received_at {ts} NOT NULL,
    anonymous_id TEXT,
    user_id TEXT,
    previous_id TEXT,
    group_id TEXT,
    event TEXT,
    name TEXT,
    url TEXT,
    referrer TEXT,
    title TEXT,
    user_agent TEXT,
    ip TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    traits TEXT NOT NULL DEFAULT '{}',
    tp_kind TEXT,
    tp_source TEXT,
    tp_medium TEXT,
    tp_campaign TEXT,
    tp_content TEXT,
    tp_term TEXT,
    tp_channel TEXT,
    tp_click_id TEXT
);
CREATE UNIQUE INDEX events_message ON events (workspace_id, message_id);
CREATE INDEX events_user ON events (workspace_id, user_id);

CREATE TABLE touchpoints (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    message_id TEXT NOT NULL,
    timestamp {ts} NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    medium TEXT NOT NULL,
    campaign TEXT NOT NULL,
    content TEXT,
    term TEXT,
    channel TEXT NOT NULL,
    click_id TEXT,
    referrer TEXT,
    url TEXT,
    anonymous_id TEXT,
    user_id TEXT,
    recipient TEXT,
    visitor TEXT
);
CREATE UNIQUE INDEX touchpoints_message ON touchpoints (workspace_id, message_id);

CREATE TABLE identity_facts (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    timestamp {ts} NOT NULL,
    anonymous_id TEXT,
    user_id TEXT,
    previous_id TEXT,
    recipient TEXT
);
CREATE UNIQUE INDEX identity_facts_message ON identity_facts (workspace_id, message_id, kind);

CREATE TABLE goals (
    id {pk},
    workspace_id BIGINT NOT NULL REFERENCES workspaces (id),
    event TEXT NOT NULL,
    revenue TEXT,
    created_at {ts} NOT NULL,
    UNIQUE (workspace_id, event)
);
